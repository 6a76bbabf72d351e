//! `pyractl backup` and `pyractl restore`: one archive of the whole home
//! (`create.rs`), and putting back either such an archive or a single database
//! copy such as pyrad's daily `data/backups/pyra-*.db` (`restore.rs`). What both
//! sides agree on lives here: the archive's manifest, the mode policy, which
//! paths an archive never holds, and how a SQLite file is recognised and checked.

mod create;
mod restore;

use std::path::{Component, Path};
use std::time::{Duration, SystemTime};

pub use create::backup;
pub use restore::restore;

/// The archive's first entry: what made it and when. Never extracted.
const MANIFEST: &str = "pyra-backup.toml";
/// The manifest format this pyractl writes and the newest it reads.
const FORMAT: i64 = 1;
/// The first 16 bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";
/// The live database, relative to the home.
const DATABASE: &str = "data/pyra.db";
/// Where `restore` sets aside what an archive replaces (`replaced-YYYYMMDD-HHMMSS/`).
const REPLACED_PREFIX: &str = "replaced-";
/// Where `restore` unpacks an archive before swapping it in.
const STAGING_PREFIX: &str = ".restore-";
/// What `restore` names a database it set aside (`pyra.db.replaced-YYYYMMDD-HHMMSS`).
const DB_REPLACED_PREFIX: &str = "pyra.db.replaced-";
/// A database copy being checked by `restore` before it goes into place.
const DB_RESTORING_PREFIX: &str = "pyra.db.restoring-";

/// Why a path of the home is never in an archive, or `None` if it belongs in one.
/// `rel` is relative to the home.
fn left_out(rel: &Path) -> Option<&'static str> {
    let parts: Vec<&std::ffi::OsStr> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part),
            _ => None,
        })
        .collect();
    let starts = |part: &std::ffi::OsStr, prefix: &str| part.to_str().is_some_and(|p| p.starts_with(prefix));
    match parts.as_slice() {
        [top, ..] if *top == "run" => Some("run/ holds the running daemon's socket, pid and marker"),
        [top, ..] if starts(top, REPLACED_PREFIX) || starts(top, STAGING_PREFIX) => {
            Some("what an earlier restore set aside")
        }
        [top] if *top == MANIFEST => Some("the name is the archive's own manifest"),
        [data, backups, ..] if *data == "data" && *backups == "backups" => {
            Some("data/backups/ holds pyrad's daily database copies")
        }
        [data, name] if *data == "data" && (starts(name, DB_REPLACED_PREFIX) || starts(name, DB_RESTORING_PREFIX)) => {
            Some("what an earlier restore set aside")
        }
        _ => None,
    }
}

/// The mode a restored (and archived) entry gets: folders 0700, files 0600, the
/// vault's identity and sentinel 0400, and a plugin's programs keep their
/// owner's execute bit (0700), as `pyractl plugin install` leaves them.
fn mode_for(rel: &Path, is_dir: bool, executable: bool) -> u32 {
    if is_dir {
        0o700
    } else if rel == Path::new("vault/identity.txt") || rel == Path::new("vault/.vault_lock") {
        0o400
    } else if executable && rel.starts_with("plugins") {
        0o700
    } else {
        0o600
    }
}

/// Whether the live databases are found under `rel` (pyra.db, the Matrix stores,
/// plugins' data): its SQLite files are copied with the backup API.
fn holds_live_databases(rel: &Path) -> bool {
    rel.starts_with("data") || rel.starts_with("bots")
}

/// Whether `path` starts with the SQLite header.
fn is_sqlite(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 16];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && &head == SQLITE_HEADER
}

// The same quick check pyrad runs at start.
#[path = "../../../pyrad/src/store/quick_check.rs"]
mod shared_check;
use shared_check::quick_check;

/// Seconds since the epoch.
fn unix_now(now: SystemTime) -> u64 {
    now.duration_since(SystemTime::UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs()
}

/// `YYYYMMDD-HHMMSS` in UTC, as pyrad names its daily backups.
fn stamp(secs: u64) -> String {
    crate::clock::utc_stamp(secs)
}

/// `bytes` for people: "812 bytes", "3.4 KiB", "12.0 MiB".
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Files this process creates are private to its user, whatever the shell's umask.
fn private_umask() {
    // SAFETY: umask has no preconditions and cannot fail.
    unsafe { libc::umask(0o077) };
}

#[cfg(test)]
mod tests;
