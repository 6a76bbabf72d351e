//! Versions of memory files: each write's content, numbered per file.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

impl Store {
    /// Records `content` as the next version of `name`; returns its number.
    pub fn memory_record(&self, name: &str, content: &str, source: &str, at: u64) -> Result<u32, StoreError> {
        self.with(|c| {
            let tx = c.transaction()?;
            let next: u32 = tx.query_row(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM memory_versions WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )?;
            tx.execute(
                "INSERT INTO memory_versions (name, version, at, source, content) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![name, next, at as i64, source, content],
            )?;
            tx.commit()?;
            Ok(next)
        })
    }

    /// (version, at, source, bytes), newest first.
    pub fn memory_versions(&self, name: &str) -> Result<Vec<(u32, u64, String, u64)>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT version, at, source, LENGTH(CAST(content AS BLOB)) FROM memory_versions
                 WHERE name = ?1 ORDER BY version DESC",
            )?;
            let rows = stmt.query_map(params![name], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)? as u64, r.get(2)?, r.get::<_, i64>(3)? as u64))
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    pub fn memory_version(&self, name: &str, version: u32) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT content FROM memory_versions WHERE name = ?1 AND version = ?2",
                params![name, version],
                |r| r.get(0),
            )
            .optional()?)
        })
    }

    pub fn memory_latest(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT content FROM memory_versions WHERE name = ?1 ORDER BY version DESC LIMIT 1",
                params![name],
                |r| r.get(0),
            )
            .optional()?)
        })
    }
}
