//! Running one chat turn from the client: send `chat.send`, stream its events,
//! answer its approval requests, return its result.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use proto::codec::ServerMessage;
use proto::ipc::{
    Answer, ApprovalRequestParams, ApprovalRespond, ApprovalRespondParams, ChatCancel, ChatSend, ChatSendParams,
    ChatSendResult, Scope, SessionParams, ToolEventParams, WarningParams,
};
use proto::security::{ScanPoint, ScanWarning};

use crate::client::{Client, ClientError};

/// How a turn's approval requests are answered.
pub enum Approver {
    /// Ask on the terminal (`/dev/tty`), y/N/s.
    Terminal,
    /// No terminal: pyrad decides by its `[approval] unattended_allow`; nothing reaches us.
    Unattended,
}

impl Approver {
    /// `Terminal` when there is one to ask on, else `Unattended`.
    pub fn for_this_process() -> Self {
        if std::io::stdin().is_terminal() && std::fs::File::open("/dev/tty").is_ok() {
            Approver::Terminal
        } else {
            Approver::Unattended
        }
    }

    pub fn attended(&self) -> bool {
        matches!(self, Approver::Terminal)
    }

    /// The answer and scope for `req`.
    fn decide(&self, req: &ApprovalRequestParams) -> (Answer, Scope) {
        match self {
            // pyrad does not ask an unattended turn; should it, the answer is no.
            Approver::Unattended => (Answer::Deny, Scope::Once),
            Approver::Terminal => prompt(req),
        }
    }
}

/// A scanner warning as one line for people.
pub fn warning_line(w: &ScanWarning) -> String {
    let what = match w.point {
        ScanPoint::Inbound => "your message".to_owned(),
        ScanPoint::ToolArgs => format!("the arguments of {}", w.source),
        ScanPoint::ToolResult => format!("the result of {}", w.source),
        ScanPoint::Memory => format!("memory file {}", w.source),
        ScanPoint::Unknown => w.source.clone(),
    };
    let excerpt = w.verdict.findings.iter().max_by(|a, b| a.score.total_cmp(&b.score)).map(|f| f.excerpt.as_str());
    match excerpt {
        Some(e) => format!(
            "\u{26a0} possible prompt injection in {what} ({}, score {:.2}): \"{e}\"",
            w.verdict.reason(),
            w.verdict.score
        ),
        None => format!(
            "\u{26a0} possible prompt injection in {what} ({}, score {:.2})",
            w.verdict.reason(),
            w.verdict.score
        ),
    }
}

/// Asks on the terminal; anything but y or s is a no.
fn prompt(req: &ApprovalRequestParams) -> (Answer, Scope) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let left = req.expires_at.saturating_sub(now);
    let args = serde_json::to_string_pretty(&req.args).unwrap_or_default();
    let mut tty = match std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty") {
        Ok(tty) => tty,
        Err(_) => return (Answer::Deny, Scope::Once),
    };
    let mut text = format!("\n\u{26a0} The assistant wants to run {}\n{args}\n", req.tool);
    if let Some(reason) = &req.reason {
        text.push_str(&format!("Asking because {reason}.\n"));
    }
    for w in &req.warnings {
        text.push_str(&warning_line(w));
        text.push('\n');
    }
    let _ = write!(tty, "{text}Allow? [y]es / [N]o / [s]ession ({left}s left): ");
    let _ = tty.flush();
    let mut answer = String::new();
    let _ = std::io::BufReader::new(&tty).read_line(&mut answer);
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => (Answer::Approve, Scope::Once),
        "s" | "session" => (Answer::Approve, Scope::Session),
        _ => (Answer::Deny, Scope::Once),
    }
}

/// Runs one turn; `on_delta` gets each piece of the answer as it arrives. When
/// `interrupt` is set (Ctrl-C), the turn is cancelled with `chat.cancel`.
pub fn run(
    client: &mut Client,
    params: &ChatSendParams,
    approver: &Approver,
    interrupt: Option<&AtomicBool>,
    mut on_delta: impl FnMut(&str),
) -> Result<ChatSendResult, ClientError> {
    client.set_patient(true)?;
    let id = client.start::<ChatSend>(params)?;
    let mut session = params.session.clone();
    let mut cancel_asked = false;
    loop {
        let message = match interrupt {
            None => client.next_message()?,
            Some(flag) => {
                if flag.swap(false, Ordering::SeqCst) {
                    cancel_asked = true;
                }
                if cancel_asked && let Some(s) = session.clone() {
                    client.start::<ChatCancel>(&SessionParams { session: s })?;
                    cancel_asked = false;
                }
                match client.poll_message(Duration::from_millis(100))? {
                    Some(message) => message,
                    None => continue,
                }
            }
        };
        if let ServerMessage::Notification(n) = &message
            && session.is_none()
            && let Some(s) = n.params.as_ref().and_then(|p| p.get("session")).and_then(|s| s.as_str())
        {
            session = Some(s.to_owned());
        }
        match message {
            ServerMessage::Notification(n) if n.method == "chat.delta" => {
                if let Some(text) = n.params.as_ref().and_then(|p| p.get("text")).and_then(|t| t.as_str()) {
                    on_delta(text);
                }
            }
            ServerMessage::Notification(n) if n.method == "approval.request" => {
                let Some(req) = n.params.and_then(|p| serde_json::from_value::<ApprovalRequestParams>(p).ok()) else {
                    continue;
                };
                let (decision, scope) = approver.decide(&req);
                // The answer names the arguments it was given for.
                let answer =
                    ApprovalRespondParams { id: req.id, decision, args_sha256: req.args_sha256, scope: Some(scope) };
                client.start::<ApprovalRespond>(&answer)?;
            }
            ServerMessage::Notification(n) if n.method == "chat.warning" => {
                if let Some(w) = n.params.and_then(|p| serde_json::from_value::<WarningParams>(p).ok()) {
                    // Results are warned about with their chat.tool event; the rest here.
                    if w.warning.point != ScanPoint::ToolResult {
                        eprintln!("{}", warning_line(&w.warning));
                    }
                }
            }
            ServerMessage::Notification(n) if n.method == "chat.tool" => {
                if let Some(t) = n.params.and_then(|p| serde_json::from_value::<ToolEventParams>(p).ok())
                    && let Some(verdict) = t.verdict
                    && matches!(t.status, proto::ipc::ToolStatus::Done | proto::ipc::ToolStatus::Failed)
                {
                    let w = ScanWarning { point: ScanPoint::ToolResult, source: t.name, verdict };
                    eprintln!("{}", warning_line(&w));
                }
            }
            ServerMessage::Notification(_) => {}
            ServerMessage::Response(r) if r.id.as_ref() == Some(&id) => {
                client.set_patient(false)?;
                return Client::result_of::<ChatSend>(r.outcome);
            }
            // Answers to our approval.respond calls: an error means it came too late.
            ServerMessage::Response(r) => {
                if let proto::rpc::Outcome::Error(e) = r.outcome {
                    eprintln!("pyractl: approval not taken: {}", e.message);
                }
            }
        }
    }
}
