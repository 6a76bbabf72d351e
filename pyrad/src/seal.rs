//! The seal of a clean stop. After its last write, a clean stop notes what a
//! file it knows to be sound looked like (device, inode, size, change and
//! modification times): the database once its WAL is folded back and the quick
//! check passed (`run/database.sealed`), the vault's secrets file, which this run
//! decrypted or wrote itself (`run/vault.sealed`). A start that finds a file
//! exactly so knows it is the one that was sound: it skips that file's check
//! before READY and runs it right after. Anything that wrote to the file since (a
//! crash, a restore, a tool, damage from outside) changes its change time, which
//! no program can set back, so the next start checks before READY as it always
//! did. A missing, unreadable or stale seal only means the check runs first.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Whether an open ran its check, or left it for just after READY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Done,
    /// The file is as a clean stop sealed it: check it soon, not now.
    Deferred,
}

/// What a file looked like: every field that a write to it changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Look {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Look {
    fn of(path: &Path) -> Option<Self> {
        let m = std::fs::symlink_metadata(path).ok()?;
        Some(Self {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        })
    }

    fn line(&self, note: u32) -> String {
        let Self { dev, ino, size, mtime, ctime } = self;
        format!("v1 {dev} {ino} {size} {} {} {} {} {note}\n", mtime.0, mtime.1, ctime.0, ctime.1)
    }

    /// The look and the note that goes with it.
    fn parse(text: &str) -> Option<(Self, u32)> {
        let mut words = text.split_whitespace();
        if words.next()? != "v1" {
            return None;
        }
        let mut n = || words.next()?.parse::<i64>().ok();
        let (dev, ino, size) = (n()?, n()?, n()?);
        let mtime = (n()?, n()?);
        let ctime = (n()?, n()?);
        let note = u32::try_from(n()?).ok()?;
        if words.next().is_some() {
            return None;
        }
        Some((Self { dev: dev as u64, ino: ino as u64, size: size as u64, mtime, ctime }, note))
    }
}

/// The note sealed with `file` (the database's schema version) when `file` is,
/// as far as the file system can tell, the file a clean stop sealed in `seal`,
/// with nothing in its `wal` (if it has one) beside it; else `None`.
pub fn intact(file: &Path, wal: Option<&Path>, seal: &Path) -> Option<u32> {
    if wal.is_some_and(|wal| std::fs::symlink_metadata(wal).is_ok_and(|m| m.len() > 0)) {
        return None;
    }
    let text = std::fs::read_to_string(seal).ok()?;
    let (sealed, note) = Look::parse(&text)?;
    (Look::of(file)? == sealed).then_some(note)
}

/// Notes how `file` looks now in `seal` (0600), with `note`, replacing any older seal.
pub fn write(file: &Path, seal: &Path, note: u32) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let look = Look::of(file).ok_or_else(|| std::io::Error::other(format!("cannot stat {}", file.display())))?;
    let tmp = seal.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
    file.write_all(look.line(note).as_bytes())?;
    drop(file);
    std::fs::rename(&tmp, seal)
}

/// Takes a seal away: the file it vouched for was found unsound.
pub fn remove(seal: &Path) {
    if let Err(e) = std::fs::remove_file(seal)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(seal = %seal.display(), error = %e, "cannot remove the seal");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_file_is_intact_until_it_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let (db, wal, seal) = (dir.path().join("a.db"), dir.path().join("a.db-wal"), dir.path().join("sealed"));
        std::fs::write(&db, b"pages").unwrap();
        assert_eq!(intact(&db, Some(&wal), &seal), None, "no seal yet");
        write(&db, &seal, 7).unwrap();
        assert_eq!(intact(&db, Some(&wal), &seal), Some(7));
        std::fs::write(&wal, b"frames").unwrap();
        assert_eq!(intact(&db, Some(&wal), &seal), None, "a WAL with frames is not what was sealed");
        std::fs::write(&wal, b"").unwrap();
        assert_eq!(intact(&db, Some(&wal), &seal), Some(7), "an empty WAL holds nothing");
        // The same bytes written again still change the change time.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&db, b"pages").unwrap();
        assert_eq!(intact(&db, Some(&wal), &seal), None, "a write since the seal");
    }

    #[test]
    fn a_replaced_file_or_a_garbled_seal_is_not_intact() {
        let dir = tempfile::tempdir().unwrap();
        let (db, wal, seal) = (dir.path().join("a.db"), dir.path().join("a.db-wal"), dir.path().join("sealed"));
        std::fs::write(&db, b"pages").unwrap();
        write(&db, &seal, 7).unwrap();
        let other = dir.path().join("b.db");
        std::fs::write(&other, b"pages").unwrap();
        std::fs::rename(&other, &db).unwrap();
        assert_eq!(intact(&db, Some(&wal), &seal), None, "another inode");
        write(&db, &seal, 7).unwrap();
        std::fs::write(&seal, b"v1 1 2 three").unwrap();
        assert_eq!(intact(&db, Some(&wal), &seal), None);
        std::fs::write(&seal, b"").unwrap();
        assert_eq!(intact(&db, Some(&wal), &seal), None);
    }
}
