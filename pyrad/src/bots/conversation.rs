//! What every bot does the same way with a chat: one worker per chat (its
//! messages handled in order, none skipped), the chat commands (`/new`,
//! `/sessions`, `/resume <id>`) and the current session each chat is in, kept in
//! `bot_state` as `<bot>:session:<chat>`.

use std::collections::HashMap;
use std::future::Future;

use tokio::sync::mpsc;

use crate::chat::service::Service;
use crate::store::{InboxRow, Store};

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
