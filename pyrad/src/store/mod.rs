//! The SQLite store (`data/pyra.db`): WAL mode, versioned migrations kept in
//! `PRAGMA user_version`, and the record of daemon runs (so a start knows whether
//! the run before it stopped cleanly).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};

use crate::seal::Check;

mod audit;
pub mod backup;
mod bots;
mod memory;
pub mod quick_check;
mod sessions;
pub use audit::AuditRecord;
pub use bots::InboxRow;
pub use sessions::{NewMessage, SessionRow, StoredMessage};

/// Each entry moves the schema one version up; never edit one that has shipped.
const MIGRATIONS: &[&str] = &[
    // 1: the runs of the daemon.
    "CREATE TABLE daemon_runs (
        id          INTEGER PRIMARY KEY,
        pid         INTEGER NOT NULL,
        version     TEXT    NOT NULL,
        started_at  INTEGER NOT NULL,
        stopped_at  INTEGER,
        clean       INTEGER NOT NULL DEFAULT 0
    );",
    // 2: chat sessions and their messages, with usage and the channel they live on.
    "CREATE TABLE sessions (
        id             TEXT    PRIMARY KEY,
        title          TEXT    NOT NULL DEFAULT '',
        provider       TEXT    NOT NULL,
        model          TEXT    NOT NULL,
        channel        TEXT    NOT NULL,
        created_at     INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL,
        input_tokens   INTEGER NOT NULL DEFAULT 0,
        output_tokens  INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE messages (
        id            INTEGER PRIMARY KEY,
        session_id    TEXT    NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        turn          INTEGER NOT NULL,
        role          TEXT    NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
        content       TEXT    NOT NULL,
        tool_calls    TEXT,
        tool_call_id  TEXT,
        partial       INTEGER NOT NULL DEFAULT 0,
        created_at    INTEGER NOT NULL
    );
    CREATE INDEX messages_by_session ON messages (session_id, id);",
    // 3: the audit of every tool execution: what, with which arguments, who decided, how it went.
    "CREATE TABLE audit (
        id           INTEGER PRIMARY KEY,
        at           INTEGER NOT NULL,
        session_id   TEXT    NOT NULL,
        channel      TEXT    NOT NULL,
        tool         TEXT    NOT NULL,
        args         TEXT    NOT NULL,
        decision     TEXT    NOT NULL,
        waited_ms    INTEGER NOT NULL,
        ran_ms       INTEGER NOT NULL,
        outcome      TEXT    NOT NULL,
        result       TEXT    NOT NULL
    );
    CREATE INDEX audit_by_time ON audit (at);",
    // 4: every version of every memory file, so no write loses anything.
    "CREATE TABLE memory_versions (
        name     TEXT    NOT NULL,
        version  INTEGER NOT NULL,
        at       INTEGER NOT NULL,
        source   TEXT    NOT NULL,
        content  TEXT    NOT NULL,
        PRIMARY KEY (name, version)
    );",
    // 5: plugins the user disabled.
    "CREATE TABLE plugin_settings (
        name     TEXT    PRIMARY KEY,
        enabled  INTEGER NOT NULL DEFAULT 1
    );",
    // 6: where an installed plugin came from and the SHA-256 the user confirmed.
    "ALTER TABLE plugin_settings ADD COLUMN source TEXT;
     ALTER TABLE plugin_settings ADD COLUMN sha256 TEXT;
     ALTER TABLE plugin_settings ADD COLUMN installed_at INTEGER;",
    // 7: read-only tools the user exempted from approval, per plugin.
    "CREATE TABLE plugin_grants (
        plugin  TEXT NOT NULL,
        tool    TEXT NOT NULL,
        at      INTEGER NOT NULL,
        PRIMARY KEY (plugin, tool)
    );",
    // 8: "approve for this session" grants survive a restart; the audit keeps the scanner's verdict.
    "CREATE TABLE session_grants (
        session_id TEXT    NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        tool       TEXT    NOT NULL,
        at         INTEGER NOT NULL,
        PRIMARY KEY (session_id, tool)
    );
    ALTER TABLE audit ADD COLUMN scan TEXT;",
    // 9: the bots. An inbound message is stored with the poll offset after it in one
    // transaction, so a crash or restart neither loses nor repeats one; `bot_state`
    // keeps offsets and each chat's current session.
    "CREATE TABLE bot_inbox (
        bot        TEXT    NOT NULL,
        update_id  INTEGER NOT NULL,
        chat       TEXT    NOT NULL,
        sender     TEXT    NOT NULL,
        message_id INTEGER NOT NULL,
        text       TEXT    NOT NULL,
        state      TEXT    NOT NULL DEFAULT 'new',
        answer     TEXT,
        at         INTEGER NOT NULL,
        PRIMARY KEY (bot, update_id)
    );
    CREATE TABLE bot_state (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );",
    // 10: Matrix events are keyed by their event id, so a sync repeated after a
    // crash stores (and answers) none twice.
    "ALTER TABLE bot_inbox ADD COLUMN event_id TEXT;
     CREATE UNIQUE INDEX bot_inbox_event ON bot_inbox (bot, event_id);",
    // 11: plugin trust. Who signed an installed plugin, and the SHA-256 of each of
    // its files as the user accepted them (JSON: path -> hash), for tamper detection.
    "ALTER TABLE plugin_settings ADD COLUMN signer TEXT;
     ALTER TABLE plugin_settings ADD COLUMN files TEXT;
     ALTER TABLE plugin_settings ADD COLUMN trusted_at INTEGER;",
    // 12: `/undo`. A turn taken out of a conversation stays stored, marked undone,
    // and is no longer sent to the model or counted.
    "ALTER TABLE messages ADD COLUMN undone INTEGER NOT NULL DEFAULT 0;",
    // 13: what a session's turns cost in US dollars, where the model's price is
    // known; NULL when no turn of it was priced.
    "ALTER TABLE sessions ADD COLUMN cost_usd REAL;",
];

/// What the store remembers of a plugin's files (see `Store::plugin_files`).
#[derive(Debug, Clone, PartialEq)]
pub struct PluginFiles {
    /// The trusted publisher whose signature covered them, or `bundled`.
    pub signer: Option<String>,
    /// Path inside the plugin folder → SHA-256.
    pub files: std::collections::BTreeMap<String, String>,
    /// When the user accepted them (Unix seconds).
    pub at: u64,
}

/// The schema version this build migrates to.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error(
        "the database {path} is at schema version {found}, newer than this pyrad knows ({known}); \
         run the newer pyrad, or restore a backup"
    )]
    TooNew { path: PathBuf, found: u32, known: u32 },
    #[error("the database {path} is damaged ({detail}). pyrad will not start on it and has not changed it. {way_out}")]
    Damaged { path: PathBuf, detail: String, way_out: String },
    #[error(
        "the database {path} is damaged ({detail}), found by the check just after the start. \
         pyrad stops rather than work on it. {way_out}"
    )]
    DamagedAfterStart { path: PathBuf, detail: String, way_out: String },
    #[error("database migration to version {version} failed: {source}")]
    Migrate { version: u32, source: rusqlite::Error },
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("the database lock was poisoned by a panic")]
    Poisoned,
    #[error("{0} does not exist")]
    NotFound(String),
    #[error("{0}")]
    Io(String),
}

/// A shared handle on the database. Calls block: run them off the async threads.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (or creates) the database and migrates it to [`SCHEMA_VERSION`],
    /// after a quick check of what is there.
    #[cfg(test)]
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_sealed(path, None).map(|(store, _)| store)
    }

    /// As [`open`](Self::open), but a database that a clean stop sealed in
    /// `seal` and that nothing changed since (see [`crate::seal`]) is not checked
    /// again now: the second value says so, and the caller runs
    /// [`check`](Self::check) soon after.
    pub fn open_sealed(path: &Path, seal: Option<&Path>) -> Result<(Self, Check), StoreError> {
        let open_err = |source| StoreError::Open { path: path.to_owned(), source };
        let damaged = |detail: String| StoreError::Damaged {
            path: path.to_owned(),
            detail,
            way_out: way_out(path, &backup::latest(&backup::dir(path))),
        };
        // A database truncated to nothing would open as a new, empty one: refused,
        // unless its WAL still holds the pages.
        let len = |p: &Path| std::fs::metadata(p).map(|m| m.len()).ok();
        if len(path) == Some(0) && len(&wal_path(path)).unwrap_or(0) == 0 {
            return Err(damaged("it is empty, 0 bytes".into()));
        }
        let mut conn = Connection::open(path).map_err(open_err)?;
        // A file that is not SQLite, or one from a newer pyrad, is refused here,
        // before anything is written to it.
        let found: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(open_err)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew { path: path.to_owned(), found, known: SCHEMA_VERSION });
        }
        // Damage inside (a torn or overwritten page) is found now, not on the
        // first query that happens to touch it; unless this is the very file a
        // clean stop checked and sealed, and no migration is due.
        let sealed = seal.and_then(|seal| crate::seal::intact(path, Some(&wal_path(path)), seal)) == Some(found)
            && found == SCHEMA_VERSION;
        let check = if sealed {
            Check::Deferred
        } else {
            if let Some(problem) = quick_check::quick_check(&conn) {
                return Err(damaged(format!("quick check: {problem}")));
            }
            Check::Done
        };
        conn.pragma_update(None, "journal_mode", "WAL").map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(open_err)?;
        migrate(&mut conn, found)?;
        Ok((Self { conn: Arc::new(Mutex::new(conn)), path: path.to_owned() }, check))
    }

    /// Whether the database at `path` is as a clean stop of this pyrad sealed
    /// it in `seal` (same schema version): then opening it cannot fail on what
    /// the start checks, and pyrad may say READY before it opens it.
    pub fn is_sealed(path: &Path, seal: &Path) -> bool {
        crate::seal::intact(path, Some(&wal_path(path)), seal) == Some(SCHEMA_VERSION)
    }

    /// The quick check, on a connection of its own (read-only) so the store
    /// serves meanwhile: `Err(Damaged)` names the way out, as a refused start does.
    pub fn check(&self) -> Result<(), StoreError> {
        let path = &self.path;
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|source| StoreError::Open { path: path.clone(), source })?;
        match quick_check::quick_check(&conn) {
            None => Ok(()),
            Some(problem) => Err(StoreError::DamagedAfterStart {
                path: path.clone(),
                detail: format!("quick check: {problem}"),
                way_out: way_out(path, &backup::latest(&backup::dir(path))),
            }),
        }
    }

    /// After a clean stop's last write: checks the database and seals it in
    /// `seal`, so the next start can skip the check before READY.
    pub fn seal(&self, seal: &Path) -> Result<(), StoreError> {
        self.with(|c| {
            c.pragma_update(None, "wal_checkpoint", "TRUNCATE")?;
            if let Some(problem) = quick_check::quick_check(c) {
                return Err(StoreError::Io(format!("not sealed, the quick check failed: {problem}")));
            }
            let version: u32 = c.pragma_query_value(None, "user_version", |r| r.get(0))?;
            crate::seal::write(&self.path, seal, version)
                .map_err(|e| StoreError::Io(format!("cannot seal the database: {e}")))
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        f(&mut conn)
    }

    /// Drops SQLite's page cache (it refills on demand): after a large read, the
    /// pages of one big row should not stay resident.
    pub fn shrink_memory(&self) -> Result<(), StoreError> {
        self.with(|c| Ok(c.execute_batch("PRAGMA shrink_memory")?))
    }

    pub fn schema_version(&self) -> Result<u32, StoreError> {
        self.with(|c| Ok(c.pragma_query_value(None, "user_version", |r| r.get(0))?))
    }

    /// Whether the last recorded run stopped cleanly (`None`: none recorded yet).
    pub fn last_run_clean(&self) -> Result<Option<bool>, StoreError> {
        self.with(|c| {
            Ok(c.query_row("SELECT clean FROM daemon_runs ORDER BY id DESC LIMIT 1", [], |r| r.get(0)).optional()?)
        })
    }

    /// Records the start of a run; returns its id and whether the previous run
    /// stopped cleanly (`None` on the first run).
    pub fn begin_run(&self, pid: u32, version: &str, now: u64) -> Result<(i64, Option<bool>), StoreError> {
        self.with(|c| {
            let previous: Option<bool> =
                c.query_row("SELECT clean FROM daemon_runs ORDER BY id DESC LIMIT 1", [], |r| r.get(0)).optional()?;
            c.execute(
                "INSERT INTO daemon_runs (pid, version, started_at) VALUES (?1, ?2, ?3)",
                params![pid, version, now as i64],
            )?;
            Ok((c.last_insert_rowid(), previous))
        })
    }

    /// Plugins the user disabled.
    pub fn disabled_plugins(&self) -> Result<Vec<String>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT name FROM plugin_settings WHERE enabled = 0 ORDER BY name")?;
            let names = stmt.query_map([], |r| r.get(0))?;
            Ok(names.collect::<Result<Vec<String>, _>>()?)
        })
    }

    pub fn set_plugin_enabled(&self, name: &str, enabled: bool) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO plugin_settings (name, enabled) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET enabled = excluded.enabled",
                params![name, enabled],
            )?;
            Ok(())
        })
    }

    /// Records an installation (enabled, with its source and hash).
    pub fn record_install(&self, name: &str, source: &str, sha256: &str, at: u64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO plugin_settings (name, enabled, source, sha256, installed_at) VALUES (?1, 1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO UPDATE SET source = excluded.source, sha256 = excluded.sha256,
                 installed_at = excluded.installed_at",
                params![name, source, sha256, at as i64],
            )?;
            Ok(())
        })
    }

    /// Records the files of `name` as the user accepted them, and who vouched
    /// for them (`None`: nobody, the user accepted them unverified).
    pub fn record_files(
        &self,
        name: &str,
        signer: Option<&str>,
        files: &std::collections::BTreeMap<String, String>,
        at: u64,
    ) -> Result<(), StoreError> {
        let files = serde_json::to_string(files).map_err(|e| StoreError::Io(e.to_string()))?;
        self.with(|c| {
            c.execute(
                "INSERT INTO plugin_settings (name, enabled, signer, files, trusted_at) VALUES (?1, 1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO UPDATE SET signer = excluded.signer, files = excluded.files,
                 trusted_at = excluded.trusted_at",
                params![name, signer, files, at as i64],
            )?;
            Ok(())
        })
    }

    /// The files of `name` as last accepted, and who signed them; `None` if never recorded.
    pub fn plugin_files(&self, name: &str) -> Result<Option<PluginFiles>, StoreError> {
        let row: Option<(Option<String>, String, Option<i64>)> = self.with(|c| {
            Ok(c.query_row(
                "SELECT signer, files, trusted_at FROM plugin_settings WHERE name = ?1 AND files IS NOT NULL",
                params![name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?)
        })?;
        let Some((signer, files, at)) = row else { return Ok(None) };
        let files = serde_json::from_str(&files).map_err(|e| StoreError::Io(format!("plugin {name} files: {e}")))?;
        Ok(Some(PluginFiles { signer, files, at: at.unwrap_or(0) as u64 }))
    }

    /// (source, sha256) of an installed plugin.
    pub fn plugin_install(&self, name: &str) -> Result<Option<(String, String)>, StoreError> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT source, sha256 FROM plugin_settings WHERE name = ?1 AND sha256 IS NOT NULL",
                params![name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
        })
    }

    pub fn forget_plugin(&self, name: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute("DELETE FROM plugin_settings WHERE name = ?1", params![name])?;
            c.execute("DELETE FROM plugin_grants WHERE plugin = ?1", params![name])?;
            Ok(())
        })
    }

    /// Replaces the tools of `plugin` that run without approval.
    pub fn set_plugin_grants(&self, plugin: &str, tools: &[String], at: u64) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM plugin_grants WHERE plugin = ?1", params![plugin])?;
            for tool in tools {
                tx.execute(
                    "INSERT INTO plugin_grants (plugin, tool, at) VALUES (?1, ?2, ?3)",
                    params![plugin, tool, at as i64],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    pub fn plugin_grants(&self, plugin: &str) -> Result<Vec<String>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT tool FROM plugin_grants WHERE plugin = ?1 ORDER BY tool")?;
            let tools = stmt.query_map(params![plugin], |r| r.get(0))?;
            Ok(tools.collect::<Result<Vec<String>, _>>()?)
        })
    }

    /// Marks run `id` as stopped cleanly at `now`.
    pub fn end_run(&self, id: i64, now: u64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute("UPDATE daemon_runs SET stopped_at = ?1, clean = 1 WHERE id = ?2", params![now as i64, id])?;
            // Fold the WAL back so the database file alone is complete at rest.
            c.pragma_update(None, "wal_checkpoint", "TRUNCATE")?;
            Ok(())
        })
    }
}

fn wal_path(path: &Path) -> PathBuf {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

/// What to do about a damaged database: the newest backup, if there is one.
fn way_out(path: &Path, latest: &Option<PathBuf>) -> String {
    match latest {
        Some(backup) => format!(
            "Restore the last good backup with: pyractl restore {} (the damaged file is kept beside it)",
            backup.display()
        ),
        None => format!(
            "There is no backup of it yet. Move it away to start with an empty database \
             (`sqlite3 {} .recover` may save part of it)",
            path.display()
        ),
    }
}

fn migrate(conn: &mut Connection, found: u32) -> Result<(), StoreError> {
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = index as u32 + 1;
        let tx = conn.transaction().map_err(|source| StoreError::Migrate { version, source })?;
        tx.execute_batch(sql).map_err(|source| StoreError::Migrate { version, source })?;
        tx.pragma_update(None, "user_version", version).map_err(|source| StoreError::Migrate { version, source })?;
        tx.commit().map_err(|source| StoreError::Migrate { version, source })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_is_migrated_and_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("pyra.db")).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let mode: String = store.with(|c| Ok(c.pragma_query_value(None, "journal_mode", |r| r.get(0))?)).unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn runs_remember_whether_the_last_one_stopped_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pyra.db");
        let store = Store::open(&path).unwrap();
        assert_eq!(store.last_run_clean().unwrap(), None);
        let (first, previous) = store.begin_run(1, "0.1.0", 100).unwrap();
        assert_eq!(store.last_run_clean().unwrap(), Some(false), "running, so not stopped cleanly yet");
        assert_eq!(previous, None);
        store.end_run(first, 200).unwrap();
        let (_crashed, previous) = store.begin_run(2, "0.1.0", 300).unwrap();
        assert_eq!(previous, Some(true));
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.begin_run(3, "0.1.0", 400).unwrap().1, Some(false));
    }

    #[test]
    fn a_clean_stop_seals_the_database_and_the_next_open_checks_it_later() {
        let dir = tempfile::tempdir().unwrap();
        let (path, seal) = (dir.path().join("pyra.db"), dir.path().join("database.sealed"));
        let (store, check) = Store::open_sealed(&path, Some(&seal)).unwrap();
        assert_eq!(check, Check::Done, "a new database has no seal");
        let (run, _) = store.begin_run(1, "0.1.0", 100).unwrap();
        store.end_run(run, 200).unwrap();
        store.seal(&seal).unwrap();
        drop(store);
        // Closing the last connection must leave the file as it was sealed.
        let (store, check) = Store::open_sealed(&path, Some(&seal)).unwrap();
        assert_eq!(check, Check::Deferred);
        store.check().unwrap();
        // A write that reaches the file (a checkpoint) breaks the seal.
        store.begin_run(2, "0.1.0", 300).unwrap();
        store.with(|c| Ok(c.pragma_update(None, "wal_checkpoint", "TRUNCATE")?)).unwrap();
        drop(store);
        assert_eq!(Store::open_sealed(&path, Some(&seal)).unwrap().1, Check::Done);
    }

    #[test]
    fn a_crash_leaves_a_wal_and_the_seal_no_longer_holds() {
        let dir = tempfile::tempdir().unwrap();
        let (path, seal) = (dir.path().join("pyra.db"), dir.path().join("database.sealed"));
        let (store, _) = Store::open_sealed(&path, Some(&seal)).unwrap();
        store.seal(&seal).unwrap();
        store.begin_run(1, "0.1.0", 100).unwrap();
        // A second connection keeps the WAL as a killed pyrad leaves it.
        let (_other, check) = Store::open_sealed(&path, Some(&seal)).unwrap();
        assert_eq!(check, Check::Done, "frames in the WAL");
    }

    #[test]
    fn damage_the_seal_did_not_see_is_found_by_the_later_check() {
        let dir = tempfile::tempdir().unwrap();
        let (path, seal) = (dir.path().join("pyra.db"), dir.path().join("database.sealed"));
        let (store, _) = Store::open_sealed(&path, Some(&seal)).unwrap();
        store
            .with(|c| {
                c.execute_batch(
                    "CREATE TABLE filler (x TEXT); CREATE INDEX filler_x ON filler (x);
                     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
                     INSERT INTO filler SELECT printf('%0200d', i) FROM n;",
                )?;
                Ok(c.pragma_update(None, "wal_checkpoint", "TRUNCATE")?)
            })
            .unwrap();
        drop(store);
        let mut bytes = std::fs::read(&path).unwrap();
        let page = u16::from_be_bytes([bytes[16], bytes[17]]) as usize;
        for (i, b) in bytes[page * 3..page * 4].iter_mut().enumerate() {
            *b = (i * 7 % 251) as u8;
        }
        std::fs::write(&path, bytes).unwrap();
        // As if the damage came from below the file system: the seal matches it.
        crate::seal::write(&path, &seal, SCHEMA_VERSION).unwrap();
        let (store, check) = Store::open_sealed(&path, Some(&seal)).unwrap();
        assert_eq!(check, Check::Deferred);
        let err = store.check().unwrap_err();
        assert!(matches!(err, StoreError::DamagedAfterStart { .. }), "{err}");
        assert!(err.to_string().contains("pyrad stops rather than work on it"), "{err}");
        // Without the seal, the same file is refused at the open.
        std::fs::remove_file(&seal).unwrap();
        assert!(matches!(Store::open_sealed(&path, Some(&seal)), Err(StoreError::Damaged { .. })));
    }

    #[test]
    fn a_database_from_the_future_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pyra.db");
        Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        let before = std::fs::read(&path).unwrap();
        assert!(matches!(Store::open(&path), Err(StoreError::TooNew { found: 99, .. })));
        assert!(std::fs::read(&path).unwrap() == before, "the file was modified");
    }

    #[test]
    fn a_file_that_is_not_sqlite_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pyra.db");
        let garbage = vec![0x42u8; 8192];
        std::fs::write(&path, &garbage).unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(err.to_string().contains("not a database"), "{err}");
        assert!(std::fs::read(&path).unwrap() == garbage, "the file was modified");
    }
}
