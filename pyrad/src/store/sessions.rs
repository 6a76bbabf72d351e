//! Chat sessions and their messages in SQLite: create, append (tool calls and
//! results included), read back in order, list, delete, and add usage.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::llm::{Message, Role, ToolCall, Usage};

/// A session as listed and shown.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub id: String,
    pub title: String,
    pub provider: String,
    pub model: String,
    /// Where the conversation happens: `ipc`, `matrix:<room>`, `telegram:<chat>`.
    pub channel: String,
    pub created_at: u64,
    pub updated_at: u64,
    pub usage: Usage,
    /// US dollars, when at least one turn's model had a known price.
    pub cost_usd: Option<f64>,
    pub messages: u64,
}

/// A message to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage<'a> {
    pub turn: u32,
    pub message: &'a Message,
    /// The stream broke before this answer finished; what came is kept.
    pub partial: bool,
}

/// A message as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMessage {
    pub turn: u32,
    pub message: Message,
    pub partial: bool,
    pub created_at: u64,
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    }
}

fn role_of(name: &str) -> Role {
    match name {
        "assistant" => Role::Assistant,
        "tool" => Role::Tool,
        _ => Role::User,
    }
}

impl Store {
    pub fn create_session(&self, provider: &str, model: &str, channel: &str, now: u64) -> Result<String, StoreError> {
        let id = crate::security::random_hex(8).map_err(|e| StoreError::Io(format!("reading /dev/urandom: {e}")))?;
        self.with(|c| {
            c.execute(
                "INSERT INTO sessions (id, provider, model, channel, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                params![id, provider, model, channel, now as i64],
            )?;
            Ok(())
        })?;
        Ok(id)
    }

    /// Appends messages of one turn atomically; the first user message names the session.
    pub fn append_messages(&self, session: &str, messages: &[NewMessage<'_>], now: u64) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.transaction()?;
            for m in messages {
                let calls = if m.message.tool_calls.is_empty() {
                    None
                } else {
                    Some(serde_json::to_string(&m.message.tool_calls).map_err(|e| StoreError::Io(e.to_string()))?)
                };
                tx.execute(
                    "INSERT INTO messages (session_id, turn, role, content, tool_calls, tool_call_id, partial, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        session,
                        m.turn,
                        role_name(m.message.role),
                        m.message.content,
                        calls,
                        m.message.tool_call_id,
                        m.partial,
                        now as i64
                    ],
                )?;
                if m.message.role == Role::User {
                    let title: String = m.message.content.chars().take(60).collect();
                    tx.execute("UPDATE sessions SET title = ?1 WHERE id = ?2 AND title = ''", params![title, session])?;
                }
            }
            let changed = tx.execute("UPDATE sessions SET updated_at = ?1 WHERE id = ?2", params![now as i64, session])?;
            if changed == 0 {
                return Err(StoreError::NotFound(format!("session {session}")));
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Adds a model call's tokens, and its cost when the model's price is known.
    pub fn add_usage(&self, session: &str, usage: Usage, cost_usd: Option<f64>) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE sessions SET input_tokens = input_tokens + ?1, output_tokens = output_tokens + ?2,
                        cost_usd = CASE WHEN ?4 IS NULL THEN cost_usd ELSE IFNULL(cost_usd, 0) + ?4 END
                 WHERE id = ?3",
                params![usage.input_tokens as i64, usage.output_tokens as i64, session, cost_usd],
            )?;
            Ok(())
        })
    }

    /// All messages of a session, oldest first.
    pub fn messages(&self, session: &str) -> Result<Vec<StoredMessage>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT turn, role, content, tool_calls, tool_call_id, partial, created_at
                 FROM messages WHERE session_id = ?1 AND undone = 0 ORDER BY id",
            )?;
            let rows = stmt.query_map(params![session], |r| {
                let calls: Option<String> = r.get(3)?;
                let role: String = r.get(1)?;
                Ok((
                    r.get::<_, u32>(0)?,
                    role,
                    r.get::<_, String>(2)?,
                    calls,
                    r.get(4)?,
                    r.get(5)?,
                    r.get::<_, i64>(6)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (turn, role, content, calls, tool_call_id, partial, created_at) = row?;
                let tool_calls: Vec<ToolCall> = match calls {
                    Some(json) => serde_json::from_str(&json)
                        .map_err(|e| StoreError::Io(format!("stored tool calls of session {session}: {e}")))?,
                    None => Vec::new(),
                };
                let message = Message { role: role_of(&role), content, tool_calls, tool_call_id };
                out.push(StoredMessage { turn, message, partial, created_at: created_at as u64 });
            }
            Ok(out)
        })
    }

    /// The ids of sessions whose id starts with `prefix` (at most `limit`); an
    /// exact id comes alone.
    pub fn sessions_starting(&self, prefix: &str, limit: u32) -> Result<Vec<String>, StoreError> {
        if self.session(prefix)?.is_some() {
            return Ok(vec![prefix.to_owned()]);
        }
        // Ids are lowercase hex: anything else matches nothing, and no LIKE escaping is needed.
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(Vec::new());
        }
        let pattern = format!("{}%", prefix.to_ascii_lowercase());
        self.with(|c| {
            let mut stmt = c.prepare("SELECT id FROM sessions WHERE id LIKE ?1 ORDER BY updated_at DESC LIMIT ?2")?;
            let rows = stmt.query_map(params![pattern, limit], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    pub fn session(&self, id: &str) -> Result<Option<SessionRow>, StoreError> {
        Ok(self.query_sessions("WHERE s.id = ?1", params![id])?.pop())
    }

    /// Sessions, most recently used first.
    pub fn sessions(&self, limit: u32) -> Result<Vec<SessionRow>, StoreError> {
        self.query_sessions("ORDER BY s.updated_at DESC, s.rowid DESC LIMIT ?1", params![limit])
    }

    fn query_sessions(&self, tail: &str, args: impl rusqlite::Params) -> Result<Vec<SessionRow>, StoreError> {
        self.with(|c| {
            let sql = format!(
                "SELECT s.id, s.title, s.provider, s.model, s.channel, s.created_at, s.updated_at,
                        s.input_tokens, s.output_tokens,
                        (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id AND m.undone = 0),
                        s.cost_usd
                 FROM sessions s {tail}"
            );
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt.query_map(args, |r| {
                Ok(SessionRow {
                    id: r.get(0)?,
                    title: r.get(1)?,
                    provider: r.get(2)?,
                    model: r.get(3)?,
                    channel: r.get(4)?,
                    created_at: r.get::<_, i64>(5)? as u64,
                    updated_at: r.get::<_, i64>(6)? as u64,
                    usage: Usage {
                        input_tokens: r.get::<_, i64>(7)? as u64,
                        output_tokens: r.get::<_, i64>(8)? as u64,
                    },
                    messages: r.get::<_, i64>(9)? as u64,
                    cost_usd: r.get(10)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Marks the last turn that is not undone as undone: (its number, what the
    /// user said in it, how many messages), or `None` when nothing is left.
    pub fn undo_last_turn(&self, session: &str) -> Result<Option<(u32, String, u32)>, StoreError> {
        self.with(|c| {
            let tx = c.transaction()?;
            let turn: Option<u32> = tx.query_row(
                "SELECT MAX(turn) FROM messages WHERE session_id = ?1 AND undone = 0",
                params![session],
                |r| r.get(0),
            )?;
            let Some(turn) = turn else { return Ok(None) };
            let text: String = tx
                .query_row(
                    "SELECT content FROM messages WHERE session_id = ?1 AND turn = ?2 AND role = 'user' ORDER BY id LIMIT 1",
                    params![session, turn],
                    |r| r.get(0),
                )
                .optional()?
                .unwrap_or_default();
            let marked = tx.execute(
                "UPDATE messages SET undone = 1 WHERE session_id = ?1 AND turn = ?2 AND undone = 0",
                params![session, turn],
            )?;
            tx.commit()?;
            Ok(Some((turn, text, marked as u32)))
        })
    }

    /// Records the provider and model a session's latest turn used.
    pub fn set_session_model(&self, session: &str, provider: &str, model: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE sessions SET provider = ?1, model = ?2 WHERE id = ?3",
                params![provider, model, session],
            )?;
            Ok(())
        })
    }

    /// Deletes a session and its messages; false if there was none.
    pub fn delete_session(&self, id: &str) -> Result<bool, StoreError> {
        self.with(|c| Ok(c.execute("DELETE FROM sessions WHERE id = ?1", params![id])? > 0))
    }

    /// The highest turn number of a session (0 when it has none).
    pub fn last_turn(&self, session: &str) -> Result<u32, StoreError> {
        self.with(|c| {
            Ok(c.query_row("SELECT MAX(turn) FROM messages WHERE session_id = ?1", params![session], |r| {
                r.get::<_, Option<u32>>(0)
            })
            .optional()?
            .flatten()
            .unwrap_or(0))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::ToolCall;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("pyra.db")).unwrap();
        (dir, store)
    }

    #[test]
    fn a_conversation_with_tool_calls_survives_a_reopen() {
        let (dir, store) = store();
        let id = store.create_session("openai", "gpt-4o-mini", "ipc", 10).unwrap();
        let call = ToolCall { id: "c1".into(), name: "time__now".into(), arguments: "{}".into() };
        let turn = [
            Message::user("what time is it?"),
            Message::assistant("", vec![call.clone()]),
            Message::tool_result("c1", "12:00"),
            Message::assistant("Noon.", vec![]),
        ];
        let rows: Vec<_> = turn.iter().map(|m| NewMessage { turn: 1, message: m, partial: false }).collect();
        store.append_messages(&id, &rows, 20).unwrap();
        store.add_usage(&id, Usage { input_tokens: 30, output_tokens: 5 }, None).unwrap();
        assert_eq!(store.session(&id).unwrap().unwrap().cost_usd, None, "nothing priced yet");
        store.add_usage(&id, Usage::default(), Some(0.25)).unwrap();
        store.add_usage(&id, Usage::default(), None).unwrap();
        store.add_usage(&id, Usage::default(), Some(0.5)).unwrap();
        assert_eq!(store.session(&id).unwrap().unwrap().cost_usd, Some(0.75));
        drop(store);

        let store = Store::open(&dir.path().join("pyra.db")).unwrap();
        let back: Vec<Message> = store.messages(&id).unwrap().into_iter().map(|m| m.message).collect();
        assert_eq!(back, turn);
        let row = store.session(&id).unwrap().unwrap();
        assert_eq!(row.title, "what time is it?");
        assert_eq!(row.messages, 4);
        assert_eq!(row.usage, Usage { input_tokens: 30, output_tokens: 5 });
        assert_eq!(row.updated_at, 20);
        assert_eq!(store.last_turn(&id).unwrap(), 1);
    }

    #[test]
    fn an_undone_turn_is_kept_but_no_longer_in_the_conversation() {
        let (_dir, store) = store();
        let id = store.create_session("p", "m", "ipc", 1).unwrap();
        for (turn, q, a) in [(1, "first?", "One."), (2, "second?", "Two.")] {
            let (q, a) = (Message::user(q), Message::assistant(a, vec![]));
            let rows =
                [NewMessage { turn, message: &q, partial: false }, NewMessage { turn, message: &a, partial: false }];
            store.append_messages(&id, &rows, 2).unwrap();
        }
        assert_eq!(store.undo_last_turn(&id).unwrap(), Some((2, "second?".to_owned(), 2)));
        let left: Vec<String> = store.messages(&id).unwrap().into_iter().map(|m| m.message.content).collect();
        assert_eq!(left, ["first?", "One."]);
        assert_eq!(store.session(&id).unwrap().unwrap().messages, 2);
        // Still stored, marked; and turn numbers go on past it.
        let kept: u32 = store
            .with(|c| Ok(c.query_row("SELECT COUNT(*) FROM messages WHERE undone = 1", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(kept, 2);
        assert_eq!(store.last_turn(&id).unwrap(), 2);
        assert_eq!(store.undo_last_turn(&id).unwrap(), Some((1, "first?".to_owned(), 2)));
        assert_eq!(store.undo_last_turn(&id).unwrap(), None);
        // A prefix names a session; anything but hex names none.
        assert_eq!(store.sessions_starting(&id[..4], 5).unwrap(), std::slice::from_ref(&id));
        assert!(store.sessions_starting("zz'%", 5).unwrap().is_empty());
    }

    #[test]
    fn a_partial_answer_is_kept_and_marked() {
        let (_dir, store) = store();
        let id = store.create_session("anthropic", "claude", "ipc", 1).unwrap();
        let cut = Message::assistant("Half an ans", vec![]);
        store.append_messages(&id, &[NewMessage { turn: 1, message: &cut, partial: true }], 2).unwrap();
        let stored = store.messages(&id).unwrap();
        assert!(stored[0].partial);
        assert_eq!(stored[0].message.content, "Half an ans");
    }

    #[test]
    fn sessions_list_newest_first_and_delete_cascades() {
        let (_dir, store) = store();
        let old = store.create_session("p", "m", "ipc", 1).unwrap();
        let new = store.create_session("p", "m", "telegram:42", 5).unwrap();
        let hi = Message::user("hi");
        store.append_messages(&old, &[NewMessage { turn: 1, message: &hi, partial: false }], 2).unwrap();
        let ids: Vec<_> = store.sessions(10).unwrap().into_iter().map(|s| s.id).collect();
        assert_eq!(ids, vec![new.clone(), old.clone()]);
        assert!(store.delete_session(&old).unwrap());
        assert!(!store.delete_session(&old).unwrap());
        assert!(store.messages(&old).unwrap().is_empty());
        assert!(store.session(&old).unwrap().is_none());
    }

    #[test]
    fn appending_to_a_missing_session_fails_and_writes_nothing() {
        let (_dir, store) = store();
        let hi = Message::user("hi");
        let err = store.append_messages("nope", &[NewMessage { turn: 1, message: &hi, partial: false }], 1);
        assert!(matches!(err, Err(StoreError::NotFound(_)) | Err(StoreError::Sql(_))), "{err:?}");
        assert!(store.messages("nope").unwrap().is_empty());
    }
}
