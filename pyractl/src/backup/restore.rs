//! `pyractl restore <FILE>`: puts back a database copy (a file starting with the
//! SQLite header, such as pyrad's `data/backups/pyra-*.db`) or an archive made by
//! `pyractl backup`, only while pyrad is stopped, and never deletes what it
//! replaces: a database goes aside to `data/pyra.db.replaced-<stamp>`, the home's
//! entries an archive replaces to `replaced-<stamp>/`.
//!
//! An archive is unpacked entry by entry into a staging folder inside the home
//! (every name through [`safe_join`], only files and folders, our own modes) and
//! its database checked; only then is the home touched, by renames.

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufReader, Read};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, bail};
use rusqlite::{Connection, OpenFlags};

use super::{
    DATABASE, DB_REPLACED_PREFIX, DB_RESTORING_PREFIX, FORMAT, MANIFEST, REPLACED_PREFIX, SQLITE_HEADER,
    STAGING_PREFIX, left_out, mode_for,
};
use crate::client::{Client, ClientError};
use crate::paths::Paths;
use crate::safe_path::safe_join;

/// What a file to restore is, by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Database,
    TarGz,
    Tar,
}

/// `pyractl restore <FILE>`.
pub fn restore(paths: &Paths, file: &Path) -> anyhow::Result<()> {
    super::private_umask();
    let file = std::path::absolute(file).with_context(|| format!("{}", file.display()))?;
    let kind = sniff(&file)?;
    let _lock = StartLock::take(paths)?;
    let stamp = super::stamp(super::unix_now(SystemTime::now()));
    match kind {
        Kind::Database => restore_database(&paths.home, &file, &stamp),
        Kind::TarGz | Kind::Tar => restore_archive(&paths.home, &file, kind, &stamp),
    }?;
    println!("start pyrad again with `pyractl daemon start`");
    Ok(())
}

fn sniff(file: &Path) -> anyhow::Result<Kind> {
    let mut head = Vec::with_capacity(512);
    File::open(file)
        .and_then(|f| f.take(512).read_to_end(&mut head))
        .with_context(|| format!("cannot read {}", file.display()))?;
    if head.starts_with(SQLITE_HEADER) {
        Ok(Kind::Database)
    } else if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Kind::TarGz)
    } else if head.get(257..262) == Some(b"ustar") {
        Ok(Kind::Tar)
    } else {
        bail!(
            "{} is neither a SQLite database (such as data/backups/pyra-*.db) nor an archive made by `pyractl backup`",
            file.display()
        )
    }
}

/// Proof that pyrad is not running on the home, held for the whole restore: the
/// lock pyrad itself takes on `run/pyrad.pid`, so no pyrad starts meanwhile.
struct StartLock {
    file: File,
    path: PathBuf,
}

impl StartLock {
    fn take(paths: &Paths) -> anyhow::Result<Self> {
        let stop_first = |pid: &str| {
            anyhow::anyhow!(
                "pyrad is running (pid {pid}) on {}; stop it first with `pyractl daemon stop`, then restore",
                paths.home.display()
            )
        };
        match Client::connect(&paths.socket) {
            Ok(client) => return Err(stop_first(&client.hello.pid.to_string())),
            Err(ClientError::NotRunning { .. }) => {}
            Err(ClientError::VersionMismatch(_)) => return Err(stop_first("unknown")),
            Err(e) => {
                return Err(anyhow::Error::new(e)
                    .context(format!("cannot tell whether pyrad runs (socket {})", paths.socket.display())));
            }
        }
        let run = paths.home.join("run");
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&run)
            .with_context(|| format!("cannot create {}", run.display()))?;
        let path = run.join("pyrad.pid");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(Self { file, path }),
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = (&file).read_to_string(&mut pid);
                let pid = pid.trim();
                Err(stop_first(if pid.is_empty() { "unknown" } else { pid }))
            }
            Err(std::fs::TryLockError::Error(e)) => {
                Err(anyhow::Error::new(e).context(format!("cannot lock {}", path.display())))
            }
        }
    }
}

impl Drop for StartLock {
    fn drop(&mut self) {
        // As pyrad does at a clean stop: the file goes, the lock with the handle.
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// Creates `path` (and missing parents) 0700, and sets it to 0700 if it existed.
fn private_dir(path: &Path) -> anyhow::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .and_then(|()| std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)))
        .with_context(|| format!("cannot create {}", path.display()))
}

/// `dir/<prefix><stamp>`, or with `-2`, `-3` ... when that (or a sibling made
/// from it with one of `suffixes`) is taken: names that never collide.
fn unused(dir: &Path, prefix: &str, stamp: &str, suffixes: &[&str]) -> String {
    let taken = |name: &str| {
        suffixes
            .iter()
            .chain([&""])
            .any(|suffix| std::fs::symlink_metadata(dir.join(format!("{name}{suffix}"))).is_ok())
    };
    let mut name = format!("{prefix}{stamp}");
    let mut n = 1;
    while taken(&name) {
        n += 1;
        name = format!("{prefix}{stamp}-{n}");
    }
    name
}

/// Refuses the database at `path` unless it passes `PRAGMA quick_check` and is Pyra's.
fn check_database(path: &Path) -> anyhow::Result<()> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .with_context(|| format!("cannot open {}", path.display()))?;
    if let Some(problem) = super::quick_check(&conn) {
        bail!("it is damaged (quick check: {problem})");
    }
    let pyra: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'daemon_runs')",
            [],
            |r| r.get(0),
        )
        .with_context(|| format!("cannot read {}", path.display()))?;
    if !pyra {
        bail!("it is a SQLite database, but not Pyra's (it has no daemon_runs table)");
    }
    // Closing the last connection folds its WAL back and removes it.
    conn.close().map_err(|(_, e)| e).with_context(|| format!("cannot close {}", path.display()))
}

/// A database copy goes into `data/pyra.db`; the current one (and its -wal and
/// -shm) goes aside to `data/pyra.db.replaced-<stamp>`.
fn restore_database(home: &Path, file: &Path, stamp: &str) -> anyhow::Result<()> {
    let wal = sibling(file, "-wal");
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        bail!(
            "{} has a write-ahead log beside it ({}) that the copy would miss; \
             open it once with `sqlite3 {} 'PRAGMA wal_checkpoint'` to fold it in, then restore",
            file.display(),
            wal.display(),
            file.display()
        );
    }
    let data = home.join("data");
    private_dir(home)?;
    private_dir(&data)?;
    // The copy is checked where it will live, then renamed into place.
    let staged = data.join(unused(&data, DB_RESTORING_PREFIX, stamp, &["-wal", "-shm", "-journal"]));
    let copied = (|| -> anyhow::Result<()> {
        let mut from = File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
        let mut to = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&staged)
            .with_context(|| format!("cannot create {}", staged.display()))?;
        std::io::copy(&mut from, &mut to).with_context(|| format!("while copying {}", file.display()))?;
        to.sync_all().with_context(|| format!("while writing {}", staged.display()))?;
        check_database(&staged).with_context(|| format!("refusing to restore {}", file.display()))
    })();
    if let Err(e) = copied {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(sibling(&staged, suffix));
        }
        return Err(e);
    }
    let db = home.join(DATABASE);
    let aside = data.join(unused(&data, DB_REPLACED_PREFIX, stamp, &["-wal", "-shm"]));
    let mut undo = Vec::new();
    let swapped = (|| -> anyhow::Result<()> {
        for suffix in ["", "-wal", "-shm"] {
            let current = sibling(&db, suffix);
            if std::fs::symlink_metadata(&current).is_ok() {
                move_to(&current, &sibling(&aside, suffix), &mut undo)?;
            }
        }
        move_to(&staged, &db, &mut undo)
    })();
    if let Err(e) = swapped {
        let stuck = undo_moves(&undo);
        if stuck.is_empty() {
            let _ = std::fs::remove_file(&staged);
            return Err(e.context("the database was left as it was"));
        }
        return Err(e.context(format!("could not put these back: {}", stuck.join(", "))));
    }
    let moved: Vec<&PathBuf> = undo.iter().map(|(_, to)| to).filter(|to| **to != db).collect();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot set the mode of {}", db.display()))?;
    println!("restored {} from {}", db.display(), file.display());
    match moved.as_slice() {
        [] => println!("there was no database before it"),
        [first, rest @ ..] => {
            let rest: Vec<String> = rest.iter().map(|p| p.display().to_string()).collect();
            let also = if rest.is_empty() { String::new() } else { format!(" (with {})", rest.join(", ")) };
            println!("the database it replaced is kept at {}{also}", first.display());
        }
    }
    Ok(())
}

/// `path` with `suffix` appended to its file name (`pyra.db` + `-wal`).
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// What the archive says about itself.
struct Manifest {
    created: String,
    home: String,
}

fn restore_archive(home: &Path, file: &Path, kind: Kind, stamp: &str) -> anyhow::Result<()> {
    private_dir(home)?;
    let staging = home.join(unused(home, STAGING_PREFIX, stamp, &[]));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&staging)
        .with_context(|| format!("cannot create {}", staging.display()))?;
    let unpacked = unpack(file, kind, &staging).and_then(|manifest| {
        let db = staging.join(DATABASE);
        if std::fs::symlink_metadata(&db).is_ok() {
            check_database(&db).with_context(|| format!("refusing {}: its {DATABASE}", file.display()))?;
        }
        Ok(manifest)
    });
    let manifest = match unpacked {
        Ok(manifest) => manifest,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    let Swapped { restored, replaced, kept_backups } = swap(home, &staging, stamp)?;
    let names: Vec<String> = restored.iter().map(|n| n.to_string_lossy().into_owned()).collect();
    println!("restored {} from {} (made {} of {})", names.join(", "), file.display(), manifest.created, manifest.home);
    match replaced {
        Some(dir) => println!("what they replaced is kept in {}", dir.display()),
        None => println!("nothing was there before them"),
    }
    if kept_backups {
        println!("pyrad's daily database copies stay in {}", home.join("data/backups").display());
    }
    Ok(())
}

/// Unpacks the archive into `staging`, refusing it whole at the first entry
/// that is not a plain file or folder, names a path outside, or is never in a
/// backup (run/, data/backups/); a refused archive leaves nothing behind.
fn unpack(file: &Path, kind: Kind, staging: &Path) -> anyhow::Result<Manifest> {
    let reader = BufReader::new(File::open(file).with_context(|| format!("cannot read {}", file.display()))?);
    let reader: Box<dyn Read> =
        if kind == Kind::TarGz { Box::new(flate2::read::GzDecoder::new(reader)) } else { Box::new(reader) };
    let refuse = |what: String| anyhow::anyhow!("refusing {}: {what}; nothing was restored", file.display());
    let mut archive = tar::Archive::new(reader);
    let mut manifest = None;
    let entries = archive.entries().with_context(|| format!("cannot read the archive {}", file.display()))?;
    for entry in entries {
        let mut entry = entry.with_context(|| format!("cannot read the archive {}", file.display()))?;
        let name = entry.path().with_context(|| format!("an entry name in {}", file.display()))?.into_owned();
        let entry_type = entry.header().entry_type();
        if name == Path::new(MANIFEST) && entry_type.is_file() {
            manifest = Some(read_manifest(&mut entry).map_err(|e| refuse(format!("{e:#}")))?);
            continue;
        }
        if !(entry_type.is_file() || entry_type.is_dir()) {
            let what = match entry_type {
                tar::EntryType::Symlink => "a symlink",
                tar::EntryType::Link => "a hard link",
                tar::EntryType::Char | tar::EntryType::Block => "a device",
                tar::EntryType::Fifo => "a fifo",
                _ => "neither a file nor a folder",
            };
            return Err(refuse(format!("{} is {what}; a Pyra backup holds only files and folders", name.display())));
        }
        let text = name.to_str().ok_or_else(|| refuse(format!("{} is not a UTF-8 name", name.display())))?;
        let target = safe_join(staging, text).map_err(|e| refuse(format!("unsafe entry: {e}")))?;
        let rel = target.strip_prefix(staging).unwrap_or(&name).to_owned();
        if let Some(why) = left_out(&rel) {
            return Err(refuse(format!("{} is never in a backup ({why})", rel.display())));
        }
        if entry_type.is_dir() {
            private_dir(&target)?;
            continue;
        }
        if let Some(parent) = target.parent() {
            private_dir(parent)?;
        }
        let executable = entry.header().mode().is_ok_and(|m| m & 0o100 != 0);
        let mode = mode_for(&rel, false, executable);
        let mut out =
            std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&target).map_err(|e| match e
                .kind()
            {
                std::io::ErrorKind::AlreadyExists => refuse(format!("{} is in it twice", rel.display())),
                _ => anyhow::Error::new(e).context(format!("cannot create {}", target.display())),
            })?;
        std::io::copy(&mut entry, &mut out).with_context(|| format!("while unpacking {}", rel.display()))?;
        out.sync_all().with_context(|| format!("while writing {}", target.display()))?;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot set the mode of {}", target.display()))?;
    }
    manifest.ok_or_else(|| refuse(format!("it has no {MANIFEST}, so it was not made by `pyractl backup`")))
}

fn read_manifest(entry: &mut impl Read) -> anyhow::Result<Manifest> {
    let mut text = String::new();
    entry.take(64 * 1024).read_to_string(&mut text).context("its manifest is not text")?;
    let table: toml::Table = text.parse().context("its manifest is not TOML")?;
    let format = table.get("format").and_then(toml::Value::as_integer).context("its manifest has no format")?;
    if format > FORMAT {
        bail!("it is in backup format {format}, made by a newer pyractl (this one reads up to {FORMAT})");
    }
    let field = |key: &str| table.get(key).and_then(toml::Value::as_str).unwrap_or("?").to_owned();
    Ok(Manifest { created: field("created"), home: field("home") })
}

/// What a swap did.
struct Swapped {
    /// The home's top-level entries now from the archive.
    restored: Vec<OsString>,
    /// Where what they replaced went, if anything was there.
    replaced: Option<PathBuf>,
    /// The current data/backups/ was carried into the restored data/.
    kept_backups: bool,
}

/// Moves each top-level entry of `staging` into the home, what it replaces
/// aside into `replaced-<stamp>/`. pyrad's daily copies in `data/backups/`
/// (never in an archive) move into the restored `data/`. A failure puts back
/// what was already moved.
fn swap(home: &Path, staging: &Path, stamp: &str) -> anyhow::Result<Swapped> {
    let mut names: Vec<OsString> = std::fs::read_dir(staging)
        .with_context(|| format!("cannot read {}", staging.display()))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()
        .with_context(|| format!("cannot read {}", staging.display()))?;
    names.sort();
    let replaced = home.join(unused(home, REPLACED_PREFIX, stamp, &[]));
    let mut undo: Vec<(PathBuf, PathBuf)> = Vec::new();
    let result = (|| -> anyhow::Result<bool> {
        let mut kept_backups = false;
        let backups = home.join("data/backups");
        let staged_data = staging.join("data");
        if std::fs::symlink_metadata(&backups).is_ok_and(|m| m.is_dir()) && staged_data.is_dir() {
            move_to(&backups, &staged_data.join("backups"), &mut undo)?;
            kept_backups = true;
        }
        for name in &names {
            let current = home.join(name);
            if std::fs::symlink_metadata(&current).is_ok() {
                if !replaced.exists() {
                    std::fs::DirBuilder::new()
                        .mode(0o700)
                        .create(&replaced)
                        .with_context(|| format!("cannot create {}", replaced.display()))?;
                }
                move_to(&current, &replaced.join(name), &mut undo)?;
            }
            move_to(&staging.join(name), &current, &mut undo)?;
        }
        Ok(kept_backups)
    })();
    match result {
        Ok(kept_backups) => {
            // Empty now; kept (and harmless) if something unexpected is left in it.
            let _ = std::fs::remove_dir(staging);
            Ok(Swapped { restored: names, replaced: replaced.exists().then_some(replaced), kept_backups })
        }
        Err(e) => {
            let stuck = undo_moves(&undo);
            let _ = std::fs::remove_dir(&replaced);
            if stuck.is_empty() {
                // Only what was unpacked is left in the staging folder.
                let _ = std::fs::remove_dir_all(staging);
                Err(e.context("the home was left as it was"))
            } else {
                Err(e.context(format!("could not put these back: {}", stuck.join(", "))))
            }
        }
    }
}

/// Reverses `moves`, newest first; returns the ones that could not be undone.
fn undo_moves(moves: &[(PathBuf, PathBuf)]) -> Vec<String> {
    let mut stuck = Vec::new();
    for (from, to) in moves.iter().rev() {
        if std::fs::rename(to, from).is_err() {
            stuck.push(format!("{} (belongs at {})", to.display(), from.display()));
        }
    }
    stuck
}

/// Renames `from` to `to`, remembering it so a failure can undo it.
fn move_to(from: &Path, to: &Path, undo: &mut Vec<(PathBuf, PathBuf)>) -> anyhow::Result<()> {
    std::fs::rename(from, to).with_context(|| format!("cannot move {} to {}", from.display(), to.display()))?;
    undo.push((from.to_owned(), to.to_owned()));
    Ok(())
}
