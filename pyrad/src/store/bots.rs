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

    /// The offset to poll from (0 before the first message).
    pub fn bot_offset(&self, bot: &str) -> Result<i64, StoreError> {
        Ok(self.bot_state(&format!("{bot}:offset"))?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// Messages not yet done, oldest first.
    pub fn bot_unfinished(&self, bot: &str) -> Result<Vec<InboxRow>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT update_id, chat, sender, message_id, text, state, answer FROM bot_inbox
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
        }
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
