//! Running one chat turn from the client: send `chat.send`, stream its events,
//! answer its approval requests, return its result.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use proto::codec::ServerMessage;
use proto::ipc::{
    ApprovalRequestParams, ApprovalRespond, ApprovalRespondParams, ChatCancel, ChatSend, ChatSendParams,
    ChatSendResult, SessionParams,
};

use crate::client::{Client, ClientError};

/// How a turn's approval requests are answered.
pub enum Approver {
    /// Ask on the terminal (`/dev/tty`), y/N/s.
    Terminal,
    /// No terminal: approve only the listed tools, deny the rest.
    Unattended(Vec<String>),
}

impl Approver {
    /// `Terminal` when there is one to ask on, else `Unattended` with `allow`.
    pub fn for_this_process(allow: Vec<String>) -> Self {
        if std::io::stdin().is_terminal() && std::fs::File::open("/dev/tty").is_ok() {
            Approver::Terminal
        } else {
            Approver::Unattended(allow)
        }
    }

    /// The decision and scope for `req`.
    fn decide(&self, req: &ApprovalRequestParams) -> (&'static str, &'static str) {
        match self {
            Approver::Unattended(allow) if allow.iter().any(|t| t == &req.tool) => ("approve", "once"),
            Approver::Unattended(_) => ("deny", "once"),
            Approver::Terminal => prompt(req),
        }
    }
}

/// Asks on the terminal; anything but y or s is a no.
fn prompt(req: &ApprovalRequestParams) -> (&'static str, &'static str) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let left = req.expires_at.saturating_sub(now);
    let args = serde_json::to_string_pretty(&req.args).unwrap_or_default();
    let mut tty = match std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty") {
        Ok(tty) => tty,
        Err(_) => return ("deny", "once"),
    };
    let _ = write!(
        tty,
        "\n\u{26a0} The assistant wants to run {}\n{args}\nAllow? [y]es / [N]o / [s]ession ({left}s left): ",
        req.tool
    );
    let _ = tty.flush();
    let mut answer = String::new();
    let _ = std::io::BufReader::new(&tty).read_line(&mut answer);
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => ("approve", "once"),
        "s" | "session" => ("approve", "session"),
        _ => ("deny", "once"),
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
                let answer = ApprovalRespondParams { id: req.id, decision: decision.into(), scope: Some(scope.into()) };
                client.start::<ApprovalRespond>(&answer)?;
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
