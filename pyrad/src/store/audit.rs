//! The audit of tool executions: one row per call, whatever was decided.

use super::{Store, StoreError};
use rusqlite::params;

/// One audited call is a [`AuditRecord`], the same type `audit.list` answers with;
/// its `scan` is kept as JSON text in the table.
pub use proto::ipc::AuditRecord;

impl Store {
    /// The tools approved for the rest of `session`.
    pub fn session_grants(&self, session: &str) -> Result<Vec<String>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT tool FROM session_grants WHERE session_id = ?1 ORDER BY tool")?;
            let rows = stmt.query_map(params![session], |r| r.get(0))?;
            Ok(rows.collect::<Result<Vec<String>, _>>()?)
        })
    }

    pub fn add_session_grant(&self, session: &str, tool: &str, at: u64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT OR REPLACE INTO session_grants (session_id, tool, at) VALUES (?1, ?2, ?3)",
                params![session, tool, at as i64],
            )?;
            Ok(())
        })
    }

    pub fn record_audit(&self, e: &AuditRecord) -> Result<(), StoreError> {
        let scan = e.scan.as_ref().and_then(|v| serde_json::to_string(v).ok());
        self.with(|c| {
            c.execute(
                "INSERT INTO audit (at, session_id, channel, tool, args, decision, waited_ms, ran_ms, outcome, result, scan)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    e.at as i64,
                    e.session,
                    e.channel,
                    e.tool,
                    e.args,
                    e.decision,
                    e.waited_ms as i64,
                    e.ran_ms as i64,
                    e.outcome,
                    e.result,
                    scan
                ],
            )?;
            Ok(())
        })
    }

    /// The newest `limit` entries, newest first.
    pub fn audit(&self, limit: u32) -> Result<Vec<AuditRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT at, session_id, channel, tool, args, decision, waited_ms, ran_ms, outcome, result, scan
                 FROM audit ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map(params![limit], |r| {
                Ok(AuditRecord {
                    at: r.get::<_, i64>(0)? as u64,
                    session: r.get(1)?,
                    channel: r.get(2)?,
                    tool: r.get(3)?,
                    args: r.get(4)?,
                    decision: r.get(5)?,
                    waited_ms: r.get::<_, i64>(6)? as u64,
                    ran_ms: r.get::<_, i64>(7)? as u64,
                    outcome: r.get(8)?,
                    result: r.get(9)?,
                    scan: r.get::<_, Option<String>>(10)?.and_then(|s| serde_json::from_str(&s).ok()),
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_come_back_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("pyra.db")).unwrap();
        let entry = |tool: &str, at| AuditRecord {
            at,
            session: "s".into(),
            channel: "ipc".into(),
            tool: tool.into(),
            args: "{}".into(),
            decision: "denied".into(),
            waited_ms: 5,
            ran_ms: 0,
            outcome: "skipped".into(),
            result: "denied by the user".into(),
            scan: (tool == "b").then(|| proto::security::ScanVerdict {
                flagged: true,
                score: 0.9,
                categories: vec![proto::security::InjectionCategory::Hidden],
                findings: Vec::new(),
            }),
        };
        store.record_audit(&entry("a", 1)).unwrap();
        store.record_audit(&entry("b", 2)).unwrap();
        let back = store.audit(10).unwrap();
        assert_eq!(back, vec![entry("b", 2), entry("a", 1)]);
        assert_eq!(store.audit(1).unwrap().len(), 1);
    }
}
