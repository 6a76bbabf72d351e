//! What every bot does the same way with a chat: one worker per chat (its
//! messages handled in order, none skipped), the chat commands (`/new`,
//! `/sessions`, `/resume <id>`) and the current session each chat is in, kept in
//! `bot_state` as `<bot>:session:<chat>`.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use proto::ipc::Decision;
use proto::security::ScanWarning;
use tokio::sync::mpsc;

use crate::approval::ApprovalRequest;
use crate::chat::service::Service;
use crate::chat::turn::{Channel, ToolUpdate};
use crate::store::{InboxRow, Store};

/// What a turn tells its chat, in order.
pub enum Event {
    Delta(String),
    Approval(ApprovalRequest),
    Decided(String, Decision),
    Warning(ScanWarning),
    /// Sent by the bot itself when the turn's answer is stored.
    Finish(String),
}

/// One turn's channel of a bot: everything goes, in order, to the task that shows it in the chat.
pub struct BotChannel {
    pub bot: &'static str,
    /// `<bot>:<chat>`: who may answer the turn's approvals, and its audit name.
    pub origin: String,
    pub tx: mpsc::UnboundedSender<Event>,
}

impl Channel for BotChannel {
    fn origin(&self) -> &str {
        &self.origin
    }
    fn name(&self) -> &str {
        &self.origin
    }
    fn kind(&self) -> &str {
        self.bot
    }
    fn delta(&self, _session: &str, _turn: u32, text: &str) {
        let _ = self.tx.send(Event::Delta(text.to_owned()));
    }
    fn tool(&self, _session: &str, _turn: u32, _update: &ToolUpdate<'_>) {}
    fn approval(&self, request: ApprovalRequest) {
        let _ = self.tx.send(Event::Approval(request));
    }
    fn warning(&self, _session: &str, _turn: u32, warning: &ScanWarning) {
        let _ = self.tx.send(Event::Warning(warning.clone()));
    }
    fn decided(&self, request_id: &str, decision: Decision) {
        let _ = self.tx.send(Event::Decided(request_id.to_owned(), decision));
    }
}

/// The short code a prompt shows (the request id's first letters and digits, lower case).
pub fn code(id: &str) -> String {
    id.chars().filter(char::is_ascii_alphanumeric).take(6).collect::<String>().to_lowercase()
}

/// `1 minute`, `3 minutes` (rounded up), for lockout notices.
pub fn minutes(d: Duration) -> String {
    let m = d.as_secs().div_ceil(60);
    if m == 1 { "1 minute".into() } else { format!("{m} minutes") }
}

/// Each chat's worker, by chat id.
pub type Workers = HashMap<String, mpsc::UnboundedSender<InboxRow>>;

/// Hands a stored message to its chat's worker, started on first use with
/// `handle`, which the worker runs for each of the chat's messages in turn.
pub fn dispatch<F, Fut>(workers: &mut Workers, row: InboxRow, handle: impl FnOnce() -> F)
where
    F: Fn(InboxRow) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let chat = row.chat.clone();
    let tx = workers.entry(chat.clone()).or_insert_with(|| {
        let (tx, mut rx) = mpsc::unbounded_channel::<InboxRow>();
        let handle = handle();
        tokio::spawn(async move {
            while let Some(row) = rx.recv().await {
                handle(row).await;
            }
        });
        tx
    });
    if let Err(mpsc::error::SendError(row)) = tx.send(row) {
        tracing::warn!(chat, update = row.update_id, "a chat worker is gone; the message is handled after a restart");
    }
}

/// One chat of one bot: where its current session is kept and whose sessions are its own.
pub struct Chat<'a> {
    pub bot: &'a str,
    /// The chat's id (a Telegram chat id, a Matrix room id).
    pub id: &'a str,
    /// The chat's channel name, as its sessions record it: `<bot>:<chat>`.
    pub origin: &'a str,
}

impl Chat<'_> {
    fn key(&self) -> String {
        format!("{}:session:{}", self.bot, self.id)
    }

    /// The session the chat is in (`None`: the next message starts one).
    pub fn session(&self, store: &Store) -> Option<String> {
        store.bot_state(&self.key()).ok().flatten().filter(|s| !s.is_empty())
    }

    /// Remembers the session the chat's last turn ran in.
    pub fn remember(&self, store: &Store, session: &str) {
        if let Err(e) = store.set_bot_state(&self.key(), session) {
            tracing::error!(bot = self.bot, error = %e, "cannot remember the chat's conversation");
        }
    }

    /// The reply to `text` when it is a chat command, after doing what it says;
    /// `None` when it is not one.
    pub fn command(&self, service: &Service, store: &Store, text: &str) -> Option<String> {
        let mut words = text.split_whitespace();
        Some(match words.next().unwrap_or_default() {
            "/start" | "/new" => {
                self.remember(store, "");
                "New conversation.".into()
            }
            "/sessions" => {
                let list = match service.sessions(50) {
                    Ok(s) => s
                        .into_iter()
                        .filter(|s| s.channel == self.origin)
                        .take(10)
                        .map(|s| format!("{}  {}", s.id, if s.title.is_empty() { "(untitled)" } else { &s.title }))
                        .collect::<Vec<_>>(),
                    Err(e) => vec![format!("cannot list conversations: {e}")],
                };
                if list.is_empty() { "No conversations yet.".to_owned() } else { list.join("\n") }
            }
            "/resume" => {
                let id = words.next().unwrap_or_default();
                match service.session(id) {
                    Ok((s, _)) if s.channel == self.origin => match store.set_bot_state(&self.key(), id) {
                        Ok(()) => format!("Back in {id}."),
                        Err(e) => format!("cannot switch: {e}"),
                    },
                    _ => "No conversation here has that id; /sessions lists them.".into(),
                }
            }
            _ => return None,
        })
    }
}
