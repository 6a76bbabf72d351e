//! `pyractl backup`: the home as one `.tar.gz`, while pyrad may be running. The
//! SQLite files under `data/` and `bots/` (pyra.db, the Matrix stores, plugins'
//! data) are copied with SQLite's online backup API into a private temp folder
//! and checked, so each is a consistent snapshot; their `-wal`, `-shm` and
//! `-journal` files are left out (the snapshot holds what they held). Everything
//! else is copied as it is, with the modes a restore gives it.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use rusqlite::{Connection, OpenFlags};

use super::{DATABASE, FORMAT, MANIFEST, holds_live_databases, human_size, is_sqlite, left_out, mode_for};
use crate::client::Client;
use crate::paths::Paths;

/// How long one database copy may wait on a writer holding its file locked.
const COPY_PATIENCE: Duration = Duration::from_secs(60);

/// `pyractl backup [--output FILE]`.
pub fn backup(paths: &Paths, output: Option<PathBuf>) -> anyhow::Result<()> {
    super::private_umask();
    let home = &paths.home;
    if !std::fs::symlink_metadata(home).is_ok_and(|m| m.is_dir()) {
        bail!("there is no Pyra home at {} (set PYRA_HOME or --home)", home.display());
    }
    let now = SystemTime::now();
    let secs = super::unix_now(now);
    let output = output.unwrap_or_else(|| PathBuf::from(format!("pyra-backup-{}.tar.gz", super::stamp(secs))));
    let output = std::path::absolute(&output).with_context(|| format!("output {}", output.display()))?;
    let running = Client::connect(&paths.socket).ok().map(|c| c.hello.pid);

    // create_new: an existing file is never overwritten, not even by a race.
    let file = match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&output) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!(
                "{} already exists; pyractl backup never overwrites a file (choose another --output)",
                output.display()
            )
        }
        Err(e) => return Err(e).with_context(|| format!("cannot create {}", output.display())),
    };
    let report = match write_archive(home, &output, file, secs, running) {
        Ok(report) => report,
        Err(e) => {
            // Only the file this run created is removed.
            let _ = std::fs::remove_file(&output);
            return Err(e.context(format!("no backup was written to {}", output.display())));
        }
    };
    for note in &report.notes {
        eprintln!("pyractl: note: {note}");
    }
    let size = std::fs::metadata(&output).map(|m| m.len()).unwrap_or(0);
    println!("{}", output.display());
    println!(
        "{} ({size} bytes): {} files, {} folders of {}; {} copied with SQLite's backup API{}",
        human_size(size),
        report.files,
        report.dirs,
        home.display(),
        if report.databases.is_empty() { "no database".to_owned() } else { report.databases.join(", ") },
        match running {
            Some(pid) => format!(" while pyrad ran (pid {pid})"),
            None => String::new(),
        }
    );
    println!("left out: run/, data/backups/ (pyrad's daily database copies) and the databases' -wal/-shm files");
    Ok(())
}

/// What went into the archive, for the summary.
#[derive(Default)]
struct Report {
    files: usize,
    dirs: usize,
    /// Databases copied with the backup API, relative to the home.
    databases: Vec<String>,
    /// What the user should know: entries left out, a copy that looked damaged.
    notes: Vec<String>,
}

fn write_archive(home: &Path, output: &Path, file: File, secs: u64, running: Option<u32>) -> anyhow::Result<Report> {
    let meta = file.metadata().context("while reading the new archive's metadata")?;
    let parent = output.parent().unwrap_or(Path::new("."));
    // The database copies are made next to the archive: that disk must hold it anyway.
    let scratch = tempfile::Builder::new()
        .prefix(".pyra-backup-")
        .tempdir_in(parent)
        .with_context(|| format!("while creating a temp folder in {}", parent.display()))?;
    let scratch_meta = std::fs::metadata(scratch.path()).context("while reading the temp folder's metadata")?;
    let encoder = flate2::write::GzEncoder::new(BufWriter::new(file), flate2::Compression::default());
    let mut walk = Walk {
        home,
        scratch: scratch.path(),
        ours: [(meta.dev(), meta.ino()), (scratch_meta.dev(), scratch_meta.ino())],
        builder: tar::Builder::new(encoder),
        report: Report::default(),
        copies: 0,
    };
    walk.manifest(home, secs, running)?;
    walk.dir(Path::new(""))?;
    let Walk { builder, report, .. } = walk;
    let file = builder
        .into_inner()
        .and_then(|gz| gz.finish())
        .and_then(|buffered| buffered.into_inner().map_err(|e| e.into_error()))
        .context("while finishing the archive")?;
    file.sync_all().context("while flushing the archive to disk")?;
    Ok(report)
}

/// The walk over the home, writing each entry as it goes.
struct Walk<'a, W: Write> {
    home: &'a Path,
    /// A private temp folder for database copies.
    scratch: &'a Path,
    /// The archive being written and the temp folder (device, inode), so a
    /// backup made inside the home does not try to include them.
    ours: [(u64, u64); 2],
    builder: tar::Builder<W>,
    report: Report,
    /// Database copies made so far, to name the next one.
    copies: usize,
}

impl<W: Write> Walk<'_, W> {
    fn manifest(&mut self, home: &Path, secs: u64, running: Option<u32>) -> anyhow::Result<()> {
        let mut table = toml::Table::new();
        table.insert("format".into(), FORMAT.into());
        table.insert("created".into(), format!("{} UTC", super::stamp(secs)).into());
        table.insert("created_unix".into(), i64::try_from(secs).unwrap_or(i64::MAX).into());
        table.insert("pyractl".into(), env!("CARGO_PKG_VERSION").into());
        table.insert("home".into(), home.display().to_string().into());
        table.insert("pyrad_was_running".into(), running.is_some().into());
        let text = toml::to_string(&table).context("while writing the manifest")?;
        let mut header = header(tar::EntryType::Regular, 0o600, secs);
        header.set_size(text.len() as u64);
        self.builder.append_data(&mut header, MANIFEST, text.as_bytes()).context("while writing the manifest")?;
        Ok(())
    }

    /// Archives the folder `rel` (relative to the home; empty for the home itself).
    fn dir(&mut self, rel: &Path) -> anyhow::Result<()> {
        let dir = self.home.join(rel);
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .collect::<Result<_, _>>()
            .with_context(|| format!("cannot read {}", dir.display()))?;
        // Sorted, so a database comes before its -wal and -shm.
        entries.sort_by_key(|e| e.file_name());
        let mut snapshots: HashSet<std::ffi::OsString> = HashSet::new();
        for entry in entries {
            let name = entry.file_name();
            let rel = rel.join(&name);
            let path = self.home.join(&rel);
            if left_out(&rel).is_some() {
                continue;
            }
            let meta = match std::fs::symlink_metadata(&path) {
                Ok(meta) => meta,
                // Gone since the listing (a temp file renamed into place): nothing to keep.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
            };
            if self.ours.contains(&(meta.dev(), meta.ino())) {
                continue;
            }
            let kind = meta.file_type();
            if kind.is_dir() {
                let mut header = header(tar::EntryType::Directory, mode_for(&rel, true, false), mtime(&meta));
                self.builder
                    .append_data(&mut header, &rel, std::io::empty())
                    .with_context(|| format!("while archiving {}", rel.display()))?;
                self.report.dirs += 1;
                self.dir(&rel)?;
            } else if kind.is_file() {
                if is_sqlite_side_file(&name, &snapshots) {
                    continue;
                }
                if holds_live_databases(&rel) && is_sqlite(&path) && self.database(&rel)? {
                    snapshots.insert(name);
                } else {
                    self.file(&rel, &meta)?;
                }
            } else if kind.is_symlink() {
                self.report.notes.push(format!("left out {}: a symlink (Pyra's home holds none)", rel.display()));
            } else {
                self.report.notes.push(format!("left out {}: neither a file nor a folder", rel.display()));
            }
        }
        Ok(())
    }

    /// Copies the file at `rel` as it is.
    fn file(&mut self, rel: &Path, meta: &std::fs::Metadata) -> anyhow::Result<()> {
        let path = self.home.join(rel);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        // The size when opened is what goes in: a log that grows meanwhile is cut
        // there, one that shrinks is padded (and said so) to keep the archive whole.
        let size = file.metadata().map(|m| m.len()).with_context(|| format!("cannot read {}", path.display()))?;
        let executable = meta.mode() & 0o100 != 0;
        let mut header = header(tar::EntryType::Regular, mode_for(rel, false, executable), mtime(meta));
        header.set_size(size);
        let mut reader = Exactly { inner: file.take(size), left: size, short: false };
        self.builder
            .append_data(&mut header, rel, &mut reader)
            .with_context(|| format!("while archiving {}", rel.display()))?;
        if reader.short {
            self.report.notes.push(format!("{} shrank while it was read; its copy is padded", rel.display()));
        }
        self.report.files += 1;
        Ok(())
    }

    /// Copies the SQLite database at `rel` with the backup API. Returns false
    /// when that failed for a database other than pyra.db, which is then copied
    /// as it is (with its -wal) instead; pyra.db must be copied whole and sound.
    fn database(&mut self, rel: &Path) -> anyhow::Result<bool> {
        let path = self.home.join(rel);
        self.copies += 1;
        let copy = self.scratch.join(format!("{}.db", self.copies));
        let is_main = rel == Path::new(DATABASE);
        let problem = match snapshot(&path, &copy) {
            Ok(problem) => problem,
            Err(e) if is_main => return Err(e.context(format!("cannot copy {}", path.display()))),
            Err(e) => {
                let _ = std::fs::remove_file(&copy);
                self.report
                    .notes
                    .push(format!("{}: the backup API failed ({e:#}); copied as it is, with its -wal", rel.display()));
                return Ok(false);
            }
        };
        if let Some(problem) = problem {
            let _ = std::fs::remove_file(&copy);
            if is_main {
                bail!(
                    "{} is damaged (quick check: {problem}); restore a sound copy first, \
                     such as the newest of {}",
                    path.display(),
                    self.home.join("data/backups").display()
                );
            }
            self.report.notes.push(format!("{} looks damaged (quick check: {problem}); kept as found", rel.display()));
        }
        let file = File::open(&copy).with_context(|| format!("cannot read the copy of {}", rel.display()))?;
        let meta = file.metadata().with_context(|| format!("cannot read the copy of {}", rel.display()))?;
        let mut header = header(tar::EntryType::Regular, mode_for(rel, false, false), mtime(&meta));
        header.set_size(meta.len());
        self.builder
            .append_data(&mut header, rel, file.take(meta.len()))
            .with_context(|| format!("while archiving {}", rel.display()))?;
        std::fs::remove_file(&copy).with_context(|| format!("cannot remove {}", copy.display()))?;
        self.report.files += 1;
        self.report.databases.push(rel.display().to_string());
        Ok(true)
    }
}

/// Whether `name` is the -wal, -shm or -journal of a database in the same
/// folder that was copied with the backup API (so its content is in the copy).
fn is_sqlite_side_file(name: &std::ffi::OsStr, snapshots: &HashSet<std::ffi::OsString>) -> bool {
    let Some(name) = name.to_str() else { return false };
    ["-wal", "-shm", "-journal"]
        .iter()
        .filter_map(|suffix| name.strip_suffix(suffix))
        .any(|db| snapshots.contains(std::ffi::OsStr::new(db)))
}

/// A consistent copy of the database at `src` into the new file `dst`, made
/// with SQLite's online backup API through a read-only connection (WAL lets it
/// read while pyrad writes). Returns what `quick_check` found wrong with the copy.
fn snapshot(src: &Path, dst: &Path) -> anyhow::Result<Option<String>> {
    // Created 0600 before SQLite opens it.
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(dst)?;
    let source = Connection::open_with_flags(src, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    source.busy_timeout(Duration::from_secs(5))?;
    let mut copy = Connection::open(dst)?;
    {
        let backup = rusqlite::backup::Backup::new(&source, &mut copy)?;
        let deadline = Instant::now() + COPY_PATIENCE;
        loop {
            use rusqlite::backup::StepResult;
            match backup.step(1024)? {
                StepResult::Done => break,
                StepResult::More => {}
                // A writer holds the file; wait a little, but not for ever.
                _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                _ => bail!("the database stayed locked for {COPY_PATIENCE:?}"),
            }
        }
    }
    let problem = super::quick_check(&copy);
    copy.close().map_err(|(_, e)| e)?;
    drop(source);
    Ok(problem)
}

/// A tar header for an entry of `kind` with `mode` and `mtime`.
fn header(kind: tar::EntryType, mode: u32, mtime: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_mtime(mtime);
    header.set_size(0);
    header
}

fn mtime(meta: &std::fs::Metadata) -> u64 {
    u64::try_from(meta.mtime()).unwrap_or(0)
}

/// Reads exactly `left` bytes: the inner reader's, then zeros if it ends early
/// (a tar entry must be as long as its header says).
struct Exactly<R> {
    inner: R,
    left: u64,
    /// The inner reader ended early and zeros were added.
    short: bool,
}

impl<R: Read> Read for Exactly<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let mut n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            self.short = true;
            buf[..want].fill(0);
            n = want;
        }
        self.left -= n as u64;
        Ok(n)
    }
}
