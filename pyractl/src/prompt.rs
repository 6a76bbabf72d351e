//! The approval prompt on the terminal: one key answers (y, n, s, Enter for no,
//! Ctrl-C for no and cancel the turn), the countdown moves every second, and the
//! prompt is replaced by its outcome when it is answered, expires, or is settled
//! elsewhere (`approval.decided`) — so a late key is never taken as an answer.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::time::Duration;

use proto::codec::ServerMessage;
use proto::ipc::{Answer, ApprovalRequestParams, DecidedParams, Decision, Scope};

use crate::client::{Client, ClientError};

/// How a prompt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The person answered here.
    Answer(Answer, Scope),
    /// Ctrl-C: deny, and cancel the turn.
    Interrupted,
    /// Settled without an answer from here: elsewhere, by pyrad's timeout, or the turn ended.
    Settled(Decision),
}

/// The terminal in single-key mode (no echo, no line editing, Ctrl-C as a key)
/// for its lifetime.
struct KeyMode {
    fd: i32,
    saved: libc::termios,
}

impl KeyMode {
    fn new(fd: i32) -> Option<Self> {
        // SAFETY: tcgetattr/tcsetattr on an open tty fd, with termios we own.
        unsafe {
            let mut term: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(fd, &mut term) != 0 {
                return None;
            }
            let saved = term;
            term.c_lflag &= !(libc::ICANON | libc::ECHO | libc::ISIG);
            term.c_cc[libc::VMIN] = 0;
            term.c_cc[libc::VTIME] = 0;
            if libc::tcsetattr(fd, libc::TCSANOW, &term) != 0 {
                return None;
            }
            Some(KeyMode { fd, saved })
        }
    }
}

impl Drop for KeyMode {
    fn drop(&mut self) {
        // SAFETY: restores the settings read in `new` on the same fd.
        unsafe { libc::tcsetattr(self.fd, libc::TCSANOW, &self.saved) };
    }
}

/// Keys typed while an answer streams: kept, not echoed over the answer, and not
/// turned into a line by the terminal (Enter stays `\r`), so they reach the next
/// `you> ` prompt exactly as typed (rustyline reads what is pending). Ctrl-C still
/// interrupts. Held on standard input from a message's Enter to the next prompt.
pub struct TypeAhead {
    saved: Option<libc::termios>,
}

impl TypeAhead {
    /// Holds keys if standard input is a terminal; does nothing otherwise.
    pub fn hold() -> Self {
        // SAFETY: tcgetattr/tcsetattr on fd 0, with termios we own.
        unsafe {
            let mut term: libc::termios = std::mem::zeroed();
            if libc::isatty(0) != 1 || libc::tcgetattr(0, &mut term) != 0 {
                return Self { saved: None };
            }
            let saved = term;
            term.c_lflag &= !(libc::ICANON | libc::ECHO);
            term.c_iflag &= !libc::ICRNL;
            term.c_cc[libc::VMIN] = 1;
            term.c_cc[libc::VTIME] = 0;
            if libc::tcsetattr(0, libc::TCSANOW, &term) != 0 {
                return Self { saved: None };
            }
            Self { saved: Some(saved) }
        }
    }
}

impl Drop for TypeAhead {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            // SAFETY: restores the settings read in `hold` on the same fd.
            unsafe { libc::tcsetattr(0, libc::TCSANOW, saved) };
        }
    }
}

/// Keys typed ahead that an approval prompt took off the terminal so they could
/// not answer it; the next `you> ` prompt starts with them.
static TYPED_AHEAD: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

/// What was typed ahead and set aside by an approval prompt (empty if nothing).
pub fn take_typed_ahead() -> String {
    TYPED_AHEAD.lock().map(|mut t| std::mem::take(&mut *t)).unwrap_or_default()
}

/// Moves keys already pending on `fd` aside: a key typed for the next message
/// must never answer an approval that appeared under it.
fn set_aside_pending(fd: i32, tty: &mut std::fs::File) {
    let mut pending = Vec::new();
    while readable(fd, Duration::ZERO) {
        let mut buf = [0u8; 256];
        match tty.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
        }
    }
    if pending.is_empty() {
        return;
    }
    // Enter becomes a new line in the message: nothing typed ahead is sent unseen.
    let text: String = String::from_utf8_lossy(&pending)
        .chars()
        .map(|c| if c == '\r' { '\n' } else { c })
        .filter(|c| *c == '\n' || *c == '\t' || !c.is_control())
        .collect();
    if let Ok(mut kept) = TYPED_AHEAD.lock() {
        kept.push_str(&text);
    }
}

/// Whether `fd` has input within `wait`.
fn readable(fd: i32, wait: Duration) -> bool {
    let mut poll = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // SAFETY: poll(2) on one pollfd we own.
    let n = unsafe { libc::poll(&mut poll, 1, wait.as_millis() as libc::c_int) };
    n > 0 && poll.revents & libc::POLLIN != 0
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The words for a decision made without this prompt.
pub fn settled_words(decision: Decision) -> &'static str {
    match decision {
        Decision::Approved => "approved elsewhere",
        Decision::Denied => "denied elsewhere",
        Decision::TimedOut => "no answer in time: denied",
        Decision::Cancelled => "cancelled",
        _ => "settled elsewhere",
    }
}

/// Asks about `req` on the terminal. `preview` is what the call would do, ready
/// to print. Messages from pyrad that arrive meanwhile are kept in `queue`, in order.
pub fn ask(
    client: &mut Client,
    req: &ApprovalRequestParams,
    preview: &str,
    queue: &mut VecDeque<ServerMessage>,
) -> Result<Outcome, ClientError> {
    let mut tty = match std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty") {
        Ok(tty) => tty,
        Err(_) => return Ok(Outcome::Answer(Answer::Deny, Scope::Once)),
    };
    let mut text = format!("\n\u{26a0} Pyra wants to run {}\n{preview}", req.tool);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    if let Some(reason) = &req.reason {
        text.push_str(&format!("Asking because {reason}.\n"));
    }
    for w in &req.warnings {
        text.push_str(&crate::turn::warning_line(w));
        text.push('\n');
    }
    let _ = tty.write_all(text.as_bytes());
    let fd = tty.as_raw_fd();
    let _keys = KeyMode::new(fd);
    set_aside_pending(fd, &mut tty);
    let mut shown_left = u64::MAX;
    let outcome = loop {
        let left = req.expires_at.saturating_sub(now());
        if left == 0 {
            break Outcome::Settled(Decision::TimedOut);
        }
        if left != shown_left {
            shown_left = left;
            let _ = write!(tty, "\r\x1b[2KAllow? [y]es / [N]o / [s]ession ({left}s left): ");
            let _ = tty.flush();
        }
        if readable(fd, Duration::from_millis(200)) {
            let mut keys = [0u8; 16];
            let n = tty.read(&mut keys).unwrap_or(0);
            let answer = keys[..n].iter().find_map(|key| match key {
                b'y' | b'Y' => Some(Outcome::Answer(Answer::Approve, Scope::Once)),
                b's' | b'S' => Some(Outcome::Answer(Answer::Approve, Scope::Session)),
                b'n' | b'N' | b'\r' | b'\n' | 0x04 => Some(Outcome::Answer(Answer::Deny, Scope::Once)),
                0x03 => Some(Outcome::Interrupted),
                _ => None,
            });
            if let Some(answer) = answer {
                break answer;
            }
        }
        // pyrad may settle it first: answered by another client, timed out, the turn cancelled.
        if let Some(message) = client.poll_message(Duration::from_millis(1))? {
            if let ServerMessage::Notification(n) = &message
                && n.method == "approval.decided"
                && let Some(d) = n.params.clone().and_then(|p| serde_json::from_value::<DecidedParams>(p).ok())
                && d.id == req.id
            {
                break Outcome::Settled(d.decision);
            }
            let turn_ended = matches!(message, ServerMessage::Response(_));
            queue.push_back(message);
            if turn_ended {
                break Outcome::Settled(Decision::Cancelled);
            }
        }
    };
    let words = match outcome {
        Outcome::Answer(Answer::Approve, Scope::Once) => "\u{2713} allowed once".to_owned(),
        Outcome::Answer(Answer::Approve, Scope::Session) => {
            format!("\u{2713} allowed: {} runs without asking for the rest of this conversation", req.tool)
        }
        Outcome::Answer(Answer::Deny, _) => "\u{2717} denied".to_owned(),
        Outcome::Interrupted => "\u{2717} denied (Ctrl-C); cancelling the turn".to_owned(),
        Outcome::Settled(decision) if decision.allows() => format!("\u{2713} {}", settled_words(decision)),
        Outcome::Settled(decision) => format!("\u{2717} {}", settled_words(decision)),
    };
    let _ = writeln!(tty, "\r\x1b[2K{words}");
    Ok(outcome)
}
