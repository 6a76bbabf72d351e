//! What every bot does the same way with a chat: the chat commands (`/new`,
//! `/sessions`, `/resume <id>`) and the current session each chat is in, kept in
//! `bot_state` as `<bot>:session:<chat>`.

use crate::chat::service::Service;
use crate::store::Store;

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
