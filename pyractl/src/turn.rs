//! Running one chat turn from the client: send `chat.send`, stream its events to
//! a [`View`], answer its approval requests, return its result.

use std::collections::VecDeque;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use proto::codec::ServerMessage;
use proto::ipc::{
    Answer, ApprovalRequestParams, ApprovalRespond, ApprovalRespondParams, ChatCancel, ChatSend, ChatSendParams,
    ChatSendResult, Decision, MemoryName, MemoryRead, Scope, SessionParams, ToolEventParams, ToolStatus, WarningParams,
};
use proto::security::{ScanPoint, ScanWarning};
use serde_json::Value;

use crate::client::{Client, ClientError};
use crate::prompt::{self, Outcome};

/// How a turn's approval requests are answered.
pub enum Approver {
    /// Ask on the terminal (`/dev/tty`): one key, a live countdown.
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
}

/// What a turn shows while it runs.
pub trait View {
    /// The next piece of the answer.
    fn delta(&mut self, text: &str);
    /// A tool call changed state.
    fn tool(&mut self, event: &ToolEventParams);
    /// A line for the person beside the answer (scanner warnings, late answers).
    fn note(&mut self, line: &str);
    /// Nothing has come yet, `waited` after the question went out.
    fn waiting(&mut self, _waited: Duration) {}
    /// Something else takes the terminal (an approval prompt): end any partial
    /// line or indicator first.
    fn pause(&mut self) {}
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

/// A call as one short line: `files__read(path="/home/me/notes.md")`.
pub fn call_line(name: &str, args: &Value) -> String {
    let inner = match args {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => format!("{:?}", first_line(s, 40)),
                    other => first_line(&other.to_string(), 40),
                };
                format!("{k}={v}")
            })
            .collect::<Vec<_>>()
            .join(", "),
        Value::Null => String::new(),
        other => first_line(&other.to_string(), 60),
    };
    format!("{name}({})", first_line(&inner, 100))
}

/// The first line of `text`, at most `max` characters, `…` when cut.
pub fn first_line(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or("");
    let cut = line.chars().count() > max || text.trim_end().contains('\n');
    let mut out: String = line.chars().take(max).collect();
    if cut {
        out.push('\u{2026}');
    }
    out
}

/// How a call came to run (or not), in words.
pub fn decision_words(decision: Decision) -> &'static str {
    match decision {
        Decision::Approved => "you approved",
        Decision::AutoByGrant => "under your session grant",
        Decision::NotRequired => "no approval needed",
        Decision::ByUser => "run by you",
        Decision::UnattendedAllowed => "allowed unattended ([approval] unattended_allow)",
        Decision::UnattendedDenied => "nobody to ask, so denied",
        Decision::Denied => "denied by you",
        Decision::TimedOut => "no answer in time",
        Decision::Cancelled => "cancelled",
        Decision::AnsweredByHook => "answered by a plugin hook",
        Decision::Unknown => "decided",
    }
}

/// What a call would do, for the approval prompt: for `memory__write` and
/// `files__write` a diff against the file as it is now; else the arguments,
/// strings shown as text rather than escaped JSON.
pub fn preview(client: &mut Client, req: &ApprovalRequestParams) -> String {
    let content = req.args.get("content").and_then(Value::as_str);
    let current = match (req.tool.as_str(), content) {
        ("memory__write", Some(_)) => {
            let name = req.args.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
            let now = client.call::<MemoryRead>(&MemoryName { name: name.clone() }).map(|f| f.content).ok();
            Some((name, now))
        }
        ("files__write", Some(_)) => {
            let path = req.args.get("path").and_then(Value::as_str).unwrap_or_default().to_owned();
            let now = std::path::Path::new(&path).is_absolute().then(|| std::fs::read_to_string(&path).ok()).flatten();
            Some((path, now))
        }
        _ => None,
    };
    match (current, content) {
        (Some((name, old)), Some(new)) => diff(&name, old.as_deref(), new),
        _ => arguments(&req.args),
    }
}

/// A unified diff of `old` → `new`, coloured on a terminal, at most 60 lines.
pub fn diff(name: &str, old: Option<&str>, new: &str) -> String {
    const MAX_LINES: usize = 60;
    let color = std::io::stdout().is_terminal();
    let (red, green, cyan, reset) =
        if color { ("\x1b[31m", "\x1b[32m", "\x1b[36m", "\x1b[0m") } else { ("", "", "", "") };
    let header = match old {
        None => format!("{name} (a new file, {} lines):\n", new.lines().count()),
        Some(_) => format!("{name}, the changes:\n"),
    };
    let old = old.unwrap_or("");
    if old == new {
        return format!("{header}  (no change: the content is the same)\n");
    }
    let diff = similar::TextDiff::from_lines(old, new);
    let text = diff.unified_diff().context_radius(2).to_string();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = header;
    for line in lines.iter().take(MAX_LINES) {
        let painted = match line.as_bytes().first() {
            Some(b'+') => format!("{green}{line}{reset}"),
            Some(b'-') => format!("{red}{line}{reset}"),
            Some(b'@') => format!("{cyan}{line}{reset}"),
            _ => (*line).to_owned(),
        };
        out.push_str(&painted);
        out.push('\n');
    }
    if lines.len() > MAX_LINES {
        out.push_str(&format!("... {} more lines of changes\n", lines.len() - MAX_LINES));
    }
    out
}

/// Arguments one a line, `key: value`, long texts indented below their key.
fn arguments(args: &Value) -> String {
    let Value::Object(map) = args else {
        return format!("{args}\n");
    };
    let mut out = String::new();
    for (k, v) in map {
        match v {
            Value::String(s) if s.contains('\n') => {
                out.push_str(&format!("  {k}:\n"));
                let lines: Vec<&str> = s.lines().collect();
                for line in lines.iter().take(20) {
                    out.push_str(&format!("    {line}\n"));
                }
                if lines.len() > 20 {
                    out.push_str(&format!("    ... {} more lines\n", lines.len() - 20));
                }
            }
            Value::String(s) => out.push_str(&format!("  {k}: {s}\n")),
            other => out.push_str(&format!("  {k}: {other}\n")),
        }
    }
    if out.is_empty() {
        out.push_str("  (no arguments)\n");
    }
    out
}

/// Runs one turn. When `interrupt` is set (Ctrl-C while the answer streams),
/// the turn is cancelled with `chat.cancel`.
pub fn run(
    client: &mut Client,
    params: &ChatSendParams,
    approver: &Approver,
    interrupt: Option<&AtomicBool>,
    view: &mut dyn View,
) -> Result<ChatSendResult, ClientError> {
    client.set_patient(true)?;
    let id = client.start::<ChatSend>(params)?;
    let mut session = params.session.clone();
    let mut cancel_asked = false;
    let sent = Instant::now();
    let mut quiet = true;
    // What arrived while an approval prompt had the terminal, in order.
    let mut queue: VecDeque<ServerMessage> = VecDeque::new();
    loop {
        if let Some(flag) = interrupt
            && flag.swap(false, Ordering::SeqCst)
        {
            cancel_asked = true;
        }
        if cancel_asked && let Some(s) = session.clone() {
            client.start::<ChatCancel>(&SessionParams { session: s })?;
            cancel_asked = false;
        }
        let message = match queue.pop_front() {
            Some(message) => message,
            None => match client.poll_message(Duration::from_millis(100))? {
                Some(message) => message,
                None => {
                    if quiet {
                        view.waiting(sent.elapsed());
                    }
                    continue;
                }
            },
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
                    quiet = false;
                    view.delta(text);
                }
            }
            ServerMessage::Notification(n) if n.method == "approval.request" => {
                let Some(req) = n.params.and_then(|p| serde_json::from_value::<ApprovalRequestParams>(p).ok()) else {
                    continue;
                };
                quiet = false;
                view.pause();
                let outcome = match approver {
                    // pyrad does not ask an unattended turn; should it, the answer is no.
                    Approver::Unattended => Outcome::Answer(Answer::Deny, Scope::Once),
                    Approver::Terminal => {
                        let shown = preview(client, &req);
                        prompt::ask(client, &req, &shown, &mut queue)?
                    }
                };
                let (decision, scope) = match outcome {
                    Outcome::Answer(answer, scope) => (answer, scope),
                    Outcome::Interrupted => {
                        cancel_asked = true;
                        (Answer::Deny, Scope::Once)
                    }
                    Outcome::Settled(_) => continue,
                };
                // The answer names the arguments it was given for.
                let answer =
                    ApprovalRespondParams { id: req.id, decision, args_sha256: req.args_sha256, scope: Some(scope) };
                client.start::<ApprovalRespond>(&answer)?;
            }
            ServerMessage::Notification(n) if n.method == "chat.warning" => {
                if let Some(w) = n.params.and_then(|p| serde_json::from_value::<WarningParams>(p).ok()) {
                    // Results are warned about with their chat.tool event; the rest here.
                    if w.warning.point != ScanPoint::ToolResult {
                        view.note(&warning_line(&w.warning));
                    }
                }
            }
            ServerMessage::Notification(n) if n.method == "chat.tool" => {
                if let Some(t) = n.params.and_then(|p| serde_json::from_value::<ToolEventParams>(p).ok()) {
                    quiet = false;
                    view.tool(&t);
                    if let Some(verdict) = &t.verdict
                        && matches!(t.status, ToolStatus::Done | ToolStatus::Failed)
                    {
                        let w = ScanWarning { point: ScanPoint::ToolResult, source: t.name, verdict: verdict.clone() };
                        view.note(&warning_line(&w));
                    }
                }
            }
            ServerMessage::Notification(_) => {}
            ServerMessage::Response(r) if r.id.as_ref() == Some(&id) => {
                client.set_patient(false)?;
                return Client::result_of::<ChatSend>(r.outcome);
            }
            // Answers to our approval.respond and chat.cancel calls: an error means it came too late.
            ServerMessage::Response(r) => {
                if let proto::rpc::Outcome::Error(e) = r.outcome {
                    view.note(&format!("(your answer was not taken: {})", e.message));
                }
            }
        }
    }
}

/// The one line that says how a finished call went, and its folded result.
pub fn tool_summary(t: &ToolEventParams, color: bool) -> Option<String> {
    let (dim, red, green, reset) =
        if color { ("\x1b[2m", "\x1b[31m", "\x1b[32m", "\x1b[0m") } else { ("", "", "", "") };
    let call = call_line(&t.name, &t.args);
    let ran = t.ran_ms.map(|ms| format!(" \u{b7} {ms} ms")).unwrap_or_default();
    let how = t.decision.map(|d| format!(" \u{b7} {}", decision_words(d))).unwrap_or_default();
    let result = t.result.as_deref().unwrap_or("");
    let lines = result.lines().count();
    let fold = if lines > 1 { format!(" ({lines} lines; /tools shows them)") } else { String::new() };
    Some(match t.status {
        ToolStatus::Done => {
            let mut line = format!("{green}\u{2713}{reset} {call}{dim}{ran}{how}{reset}");
            if !result.trim().is_empty() {
                line.push_str(&format!("\n  {dim}\u{21b3} {}{fold}{reset}", first_line(result, 100)));
            }
            line
        }
        ToolStatus::Failed => {
            format!("{red}\u{2717}{reset} {call} failed{dim}{ran}{how}{reset}: {}", first_line(result, 100))
        }
        ToolStatus::Denied => format!("{red}\u{2298}{reset} {call} not run{dim}{how}{reset}"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_and_results_fold_to_one_line() {
        let args = serde_json::json!({"path": "/home/me/notes.md", "content": "line one\nline two"});
        assert_eq!(call_line("files__write", &args), "files__write(content=\"line one…\", path=\"/home/me/notes.md\")");
        let mut t = ToolEventParams {
            session: "s".into(),
            turn: 1,
            call_id: "c".into(),
            name: "time__now".into(),
            args: serde_json::json!({}),
            status: ToolStatus::Done,
            verdict: None,
            decision: Some(Decision::AutoByGrant),
            ran_ms: Some(12),
            result: Some("12:00\nUTC".into()),
        };
        assert_eq!(
            tool_summary(&t, false).unwrap(),
            "\u{2713} time__now() \u{b7} 12 ms \u{b7} under your session grant\n  \u{21b3} 12:00\u{2026} (2 lines; /tools shows them)"
        );
        t.status = ToolStatus::Denied;
        t.decision = Some(Decision::TimedOut);
        assert_eq!(tool_summary(&t, false).unwrap(), "\u{2298} time__now() not run \u{b7} no answer in time");
        t.status = ToolStatus::Running;
        assert!(tool_summary(&t, false).is_none());
    }

    #[test]
    fn a_write_is_shown_as_a_diff() {
        let shown = diff("notes.md", Some("a\nb\nc\n"), "a\nB\nc\n");
        assert!(shown.contains("-b\n") && shown.contains("+B\n"), "{shown}");
        assert!(!shown.contains("\\n"), "no escaped JSON: {shown}");
        assert!(diff("new.md", None, "x\ny\n").starts_with("new.md (a new file, 2 lines)"));
        assert!(diff("same.md", Some("x\n"), "x\n").contains("no change"));
        let args = serde_json::json!({"command": "ls -l", "script": "one\ntwo"});
        assert_eq!(arguments(&args), "  command: ls -l\n  script:\n    one\n    two\n");
    }
}
