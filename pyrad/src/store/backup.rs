//! Online backups of the database: SQLite's backup API copies a consistent
//! snapshot while pyrad keeps serving. A daily one goes to `data/backups/`
//! (`pyra-YYYYMMDD-HHMMSS.db`, 0600), and the last [`KEEP`] are kept.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, OpenFlags};

use super::StoreError;

/// Daily backups kept.
pub const KEEP: usize = 7;
const PREFIX: &str = "pyra-";
const SUFFIX: &str = ".db";

/// The backups folder of the database at `db`.
pub fn dir(db: &Path) -> PathBuf {
    db.parent().unwrap_or(Path::new(".")).join("backups")
}

/// The backups in `dir`, oldest first (their names sort by time).
pub fn list(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(SUFFIX) && !n.contains(".tmp"))
        })
        .collect();
    found.sort();
    found
}

/// The newest backup in `dir`.
pub fn latest(dir: &Path) -> Option<PathBuf> {
    list(dir).pop()
}

/// Whether the newest backup in `dir` is older than `every` (or there is none).
pub fn due(dir: &Path, every: Duration) -> bool {
    let age = latest(dir)
        .and_then(|p| std::fs::metadata(p).ok())
        .and_then(|m| m.modified().ok())
        .and_then(|t| SystemTime::now().duration_since(t).ok());
    age.is_none_or(|age| age >= every)
}

/// Copies the database at `db` to `dest` with the backup API, through a
/// connection of its own so the daemon's is never held for long. The copy is
/// written beside `dest` and renamed into place, 0600, and checked.
pub fn copy(db: &Path, dest: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::OpenOptionsExt;
    let io = |e: std::io::Error| StoreError::Io(format!("backup to {}: {e}", dest.display()));
    let mut tmp_name = dest.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let _ = std::fs::remove_file(&tmp);
    // Created 0600 before SQLite opens it, so the copy is never readable by others.
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp).map_err(io)?;
    let result = (|| -> Result<(), String> {
        let sql = |e: rusqlite::Error| e.to_string();
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let src = Connection::open_with_flags(db, flags).map_err(sql)?;
        let mut dst = Connection::open(&tmp).map_err(sql)?;
        {
            let backup = rusqlite::backup::Backup::new(&src, &mut dst).map_err(sql)?;
            backup.run_to_completion(512, Duration::from_millis(5), None).map_err(sql)?;
        }
        let ok: String = dst.query_row("PRAGMA quick_check", [], |r| r.get(0)).map_err(sql)?;
        if ok != "ok" {
            return Err(format!("the copy failed its check: {ok}"));
        }
        dst.close().map_err(|(_, e)| e.to_string())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(StoreError::Io(format!("backup to {}: {e}", dest.display())));
    }
    std::fs::File::open(&tmp).and_then(|f| f.sync_all()).map_err(io)?;
    std::fs::rename(&tmp, dest).map_err(io)
}

/// Makes today's backup in `dir` and prunes all but the newest [`KEEP`]; returns its path.
pub fn daily(db: &Path, dir: &Path, now: SystemTime) -> Result<PathBuf, StoreError> {
    crate::security::modes::ensure_dir(dir).map_err(|e| StoreError::Io(e.to_string()))?;
    let secs = now.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_secs();
    let dest = dir.join(format!("{PREFIX}{}{SUFFIX}", crate::clock::utc_stamp(secs)));
    copy(db, &dest)?;
    let all = list(dir);
    for old in all.iter().take(all.len().saturating_sub(KEEP)) {
        if let Err(e) = std::fs::remove_file(old) {
            tracing::warn!(path = %old.display(), error = %e, "could not prune an old backup");
        }
    }
    Ok(dest)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;
    use crate::store::Store;

    #[test]
    fn a_daily_backup_is_a_sound_private_copy_and_seven_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("pyra.db");
        let store = Store::open(&db).unwrap();
        store.begin_run(1, "t", 1).unwrap();
        let backups = super::dir(&db);
        let day = Duration::from_secs(86_400);
        assert!(due(&backups, day));
        let mut made = Vec::new();
        for i in 0..9u64 {
            made.push(daily(&db, &backups, SystemTime::UNIX_EPOCH + day * (20_000 + i as u32)).unwrap());
        }
        assert!(!due(&backups, day));
        let kept = list(&backups);
        assert_eq!(kept, made[2..].to_vec(), "the newest seven are kept");
        let newest = latest(&backups).unwrap();
        assert_eq!(std::fs::metadata(&newest).unwrap().mode() & 0o777, 0o600);
        let copy = Store::open(&newest).unwrap();
        let runs: i64 = copy.with(|c| Ok(c.query_row("SELECT count(*) FROM daemon_runs", [], |r| r.get(0))?)).unwrap();
        assert_eq!(runs, 1);
    }
}
