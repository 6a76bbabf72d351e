//! What the bots keep: inbound messages until they are answered, poll offsets,
//! and each chat's current session.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

/// An inbound message as stored before it is handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxRow {
    pub update_id: i64,
    pub chat: String,
    pub sender: String,
    pub message_id: i64,
    pub text: String,
    /// `new` (not handled yet), `answered` (the answer is in `answer`, not yet sent) or `done`.
    pub state: String,
    pub answer: Option<String>,
    /// The Matrix event id of the message (Matrix rows are keyed by it; `update_id`
    /// is then a local sequence). `None` for Telegram.
    pub event_id: Option<String>,
}

impl Store {
    /// Stores inbound messages and moves the bot's poll offset past them, in one
    /// transaction. A message stored before (the same update again) is kept as it was.
    pub fn bot_receive(&self, bot: &str, rows: &[InboxRow], next_offset: i64, at: u64) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.transaction()?;
            for r in rows {
                tx.execute(
                    "INSERT OR IGNORE INTO bot_inbox (bot, update_id, chat, sender, message_id, text, at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![bot, r.update_id, r.chat, r.sender, r.message_id, r.text, at as i64],
                )?;
            }
            put_state(&tx, &format!("{bot}:offset"), &next_offset.to_string())?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Stores inbound events keyed by their event id and moves the bot's sync
    /// cursor, in one transaction; returns the rows that were new, each with its
    /// local `update_id`. An event stored before (a sync repeated after a crash) is
    /// left as it was and not returned, so it is never handled twice.
    pub fn bot_receive_events(
        &self,
        bot: &str,
        rows: &[InboxRow],
        cursor: &str,
        at: u64,
    ) -> Result<Vec<InboxRow>, StoreError> {
        self.with(|c| {
            let tx = c.transaction()?;
            let mut fresh = Vec::new();
            for r in rows {
                let next: i64 = tx.query_row(
                    "SELECT COALESCE(MAX(update_id), 0) + 1 FROM bot_inbox WHERE bot = ?1",
                    params![bot],
                    |row| row.get(0),
                )?;
                let added = tx.execute(
                    "INSERT OR IGNORE INTO bot_inbox (bot, update_id, chat, sender, message_id, text, at, event_id)
                     VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?7)",
                    params![bot, next, r.chat, r.sender, r.text, at as i64, r.event_id],
                )?;
                if added == 1 {
                    fresh.push(InboxRow { update_id: next, ..r.clone() });
                }
            }
            put_state(&tx, &format!("{bot}:cursor"), cursor)?;
            tx.commit()?;
            Ok(fresh)
        })
    }

    /// The sync cursor stored with the last events (`None` before the first sync).
    pub fn bot_cursor(&self, bot: &str) -> Result<Option<String>, StoreError> {
        self.bot_state(&format!("{bot}:cursor"))
    }

    /// The offset to poll from (0 before the first message).
    pub fn bot_offset(&self, bot: &str) -> Result<i64, StoreError> {
        Ok(self.bot_state(&format!("{bot}:offset"))?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// Messages not yet done, oldest first.
    pub fn bot_unfinished(&self, bot: &str) -> Result<Vec<InboxRow>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT update_id, chat, sender, message_id, text, state, answer, event_id FROM bot_inbox
                 WHERE bot = ?1 AND state != 'done' ORDER BY update_id",
            )?;
            let rows = stmt.query_map(params![bot], |r| {
                Ok(InboxRow {
                    update_id: r.get(0)?,
                    chat: r.get(1)?,
                    sender: r.get(2)?,
                    message_id: r.get(3)?,
                    text: r.get(4)?,
                    state: r.get(5)?,
                    answer: r.get(6)?,
                    event_id: r.get(7)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// The turn for this message ran: its answer is kept until it is delivered.
    pub fn bot_answered(&self, bot: &str, update_id: i64, answer: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE bot_inbox SET state = 'answered', answer = ?3 WHERE bot = ?1 AND update_id = ?2",
                params![bot, update_id, answer],
            )?;
            Ok(())
        })
    }

    /// The message is handled; `redact` blanks its text (a passphrase is never kept).
    pub fn bot_done(&self, bot: &str, update_id: i64, redact: bool) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE bot_inbox SET state = 'done', answer = NULL,
                        text = CASE WHEN ?3 THEN '' ELSE text END
                 WHERE bot = ?1 AND update_id = ?2",
                params![bot, update_id, redact],
            )?;
            // Handled messages are kept a day for the record, then dropped.
            c.execute(
                "DELETE FROM bot_inbox WHERE bot = ?1 AND state = 'done' AND at < strftime('%s','now') - 86400",
                params![bot],
            )?;
            Ok(())
        })
    }

    pub fn bot_state(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            Ok(c.query_row("SELECT value FROM bot_state WHERE key = ?1", params![key], |r| r.get(0)).optional()?)
        })
    }

    pub fn set_bot_state(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.with(|c| put_state(c, key, value))
    }
}

/// Sets one `bot_state` key, inside whatever transaction `c` is in.
fn put_state(c: &rusqlite::Connection, key: &str, value: &str) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO bot_state (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(update_id: i64, text: &str) -> InboxRow {
        InboxRow {
            update_id,
            chat: "42".into(),
            sender: "42".into(),
            message_id: update_id * 10,
            text: text.into(),
            state: "new".into(),
            answer: None,
            event_id: None,
        }
    }

    fn event(id: &str, text: &str) -> InboxRow {
        InboxRow { update_id: 0, event_id: Some(id.into()), chat: "!room:hs".into(), ..row(0, text) }
    }

    #[test]
    fn matrix_events_are_stored_once_with_their_cursor() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("pyra.db")).unwrap();
        assert_eq!(store.bot_cursor("matrix").unwrap(), None);
        let now = crate::clock::unix_now();
        let fresh = store.bot_receive_events("matrix", &[event("$a", "one"), event("$b", "two")], "s1", now).unwrap();
        assert_eq!(fresh.iter().map(|r| (r.update_id, r.text.as_str())).collect::<Vec<_>>(), [(1, "one"), (2, "two")]);
        // The sync repeated after a crash: $b is not new, $c is.
        let fresh = store.bot_receive_events("matrix", &[event("$b", "two"), event("$c", "three")], "s2", now).unwrap();
        assert_eq!(fresh.iter().map(|r| (r.update_id, r.text.as_str())).collect::<Vec<_>>(), [(3, "three")]);
        assert_eq!(store.bot_cursor("matrix").unwrap().as_deref(), Some("s2"));
        let open = store.bot_unfinished("matrix").unwrap();
        assert_eq!(open.iter().map(|r| r.event_id.as_deref().unwrap()).collect::<Vec<_>>(), ["$a", "$b", "$c"]);
        // Telegram's rows (no event id) do not collide with each other.
        store.bot_receive("telegram", &[row(1, "x"), row(2, "y")], 3, now).unwrap();
        assert_eq!(store.bot_unfinished("telegram").unwrap().len(), 2);
    }

    #[test]
    fn inbound_messages_and_the_offset_are_kept_together_and_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("pyra.db")).unwrap();
        assert_eq!(store.bot_offset("telegram").unwrap(), 0);
        let now = crate::clock::unix_now();
        store.bot_receive("telegram", &[row(7, "one"), row(8, "two")], 9, now).unwrap();
        // The same updates again (the offset was not confirmed before a crash): nothing doubles.
        store.bot_receive("telegram", &[row(8, "two again")], 9, now).unwrap();
        assert_eq!(store.bot_offset("telegram").unwrap(), 9);
        let open = store.bot_unfinished("telegram").unwrap();
        assert_eq!(open.iter().map(|r| r.text.as_str()).collect::<Vec<_>>(), ["one", "two"]);
        store.bot_answered("telegram", 7, "the answer").unwrap();
        store.bot_done("telegram", 8, true).unwrap();
        let open = store.bot_unfinished("telegram").unwrap();
        assert_eq!(
            open,
            vec![InboxRow { state: "answered".into(), answer: Some("the answer".into()), ..row(7, "one") }]
        );
        let kept: String = store
            .with(|c| Ok(c.query_row("SELECT text FROM bot_inbox WHERE update_id = 8", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(kept, "", "a redacted message keeps no text");
        assert!(store.bot_unfinished("matrix").unwrap().is_empty());
    }
}
