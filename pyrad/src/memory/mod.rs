//! Memory: Markdown files under `memory/` (`user/profile.md`, `context/`,
//! `knowledge/`). Every name goes through `safe_join`; every write is atomic,
//! keeps the previous content as a version in the store, and regenerates
//! `MEMORY_INDEX.md`. Nothing is silently lost: any version can be restored.

use std::path::{Path, PathBuf};

use crate::security::safe_path::{SafePathError, safe_join};
use crate::store::{Store, StoreError};

pub const INDEX: &str = "MEMORY_INDEX.md";
/// The folders a fresh memory starts with.
pub const FOLDERS: &[&str] = &["user", "context", "knowledge"];

#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    #[error(transparent)]
    Path(#[from] SafePathError),
    #[error("memory names end in .md: {0:?}")]
    NotMarkdown(String),
    #[error("{0} is generated; it cannot be written")]
    Generated(String),
    #[error("no memory named {0:?}")]
    Missing(String),
    #[error("no version {version} of {name:?}")]
    NoVersion { name: String, version: u32 },
    #[error("memory I/O on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A memory file and its size.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    pub name: String,
    pub bytes: u64,
}

/// Memory rooted at `root` (`$PYRA_HOME/memory`), versioned in `store`.
#[derive(Clone)]
pub struct Memory {
    root: PathBuf,
    store: Store,
    /// One writer at a time: a file and its log change together, and an append
    /// reads and writes as one step, so concurrent writers never lose an update.
    writing: std::sync::Arc<std::sync::Mutex<()>>,
}

impl Memory {
    /// Opens memory, creating the standard folders (0700) if missing.
    pub fn open(root: &Path, store: Store) -> Result<Self, MemoryError> {
        for folder in FOLDERS {
            let dir = root.join(folder);
            crate::security::modes::ensure_dir(&dir)
                .map_err(|e| MemoryError::Io { path: dir.clone(), source: std::io::Error::other(e.to_string()) })?;
        }
        let memory = Self { root: root.to_owned(), store, writing: Default::default() };
        memory.reconcile()?;
        Ok(memory)
    }

    /// Makes the version log agree with the files. A write puts the file in place
    /// first and logs it second, so after a crash the log can only be behind a file,
    /// never ahead of it: a file that differs from its last version is logged now.
    fn reconcile(&self) -> Result<(), MemoryError> {
        let now = crate::clock::unix_now();
        let mut changed = false;
        for entry in self.list()? {
            let Ok(on_disk) = self.read(&entry.name) else { continue };
            let latest = self.store.memory_latest(&entry.name)?;
            if latest.as_deref() != Some(on_disk.as_str()) {
                let version = self.store.memory_record(&entry.name, &on_disk, "found at start", now)?;
                if latest.is_some() {
                    tracing::warn!(
                        name = %entry.name,
                        version,
                        "a memory file differed from its last logged version (a write cut short, or an edit by hand); logged it as a new version"
                    );
                }
                changed = true;
            }
        }
        if changed || !self.root.join(INDEX).exists() {
            self.reindex()?;
        }
        Ok(())
    }

    fn path(&self, name: &str) -> Result<PathBuf, MemoryError> {
        if !name.ends_with(".md") {
            return Err(MemoryError::NotMarkdown(name.into()));
        }
        Ok(safe_join(&self.root, name)?)
    }

    /// Every memory file, sorted by name (the index excluded).
    pub fn list(&self) -> Result<Vec<Entry>, MemoryError> {
        let mut out = Vec::new();
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            let entries = std::fs::read_dir(&dir).map_err(|source| MemoryError::Io { path: dir.clone(), source })?;
            for entry in entries.flatten() {
                let Ok(kind) = entry.file_type() else { continue };
                let path = entry.path();
                // Symlinks are never followed, in either direction.
                if kind.is_dir() {
                    stack.push(path);
                } else if kind.is_file() && path.extension().is_some_and(|e| e == "md") {
                    let Ok(rel) = path.strip_prefix(&self.root) else { continue };
                    let name = rel.to_string_lossy().into_owned();
                    if name != INDEX {
                        let bytes = entry.metadata().map_or(0, |m| m.len());
                        out.push(Entry { name, bytes });
                    }
                }
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    pub fn read(&self, name: &str) -> Result<String, MemoryError> {
        let path = if name == INDEX { self.root.join(INDEX) } else { self.path(name)? };
        std::fs::read_to_string(&path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => MemoryError::Missing(name.into()),
            _ => MemoryError::Io { path, source },
        })
    }

    /// Replaces `name` with `content`; `source` says who wrote it (`user`, `tool`, `restore`).
    pub fn write(&self, name: &str, content: &str, source: &str) -> Result<u32, MemoryError> {
        let _one = self.writing.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.write_locked(name, content, source)
    }

    fn write_locked(&self, name: &str, content: &str, source: &str) -> Result<u32, MemoryError> {
        if name == INDEX {
            return Err(MemoryError::Generated(INDEX.into()));
        }
        let path = self.path(name)?;
        let now = crate::clock::unix_now();
        // A file changed by hand since Pyra last wrote it is kept as a version first.
        match std::fs::read_to_string(&path) {
            Ok(on_disk) if self.store.memory_latest(name)?.as_deref() != Some(on_disk.as_str()) => {
                self.store.memory_record(name, &on_disk, "found on disk", now)?;
            }
            _ => {}
        }
        if let Some(parent) = path.parent() {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(crate::security::modes::DIR_MODE)
                .create(parent)
                .map_err(|source| MemoryError::Io { path: parent.to_owned(), source })?;
        }
        // The file first, the log second: a crash between them leaves the log
        // behind the file, which `reconcile` repairs at the next start; never a
        // logged version that no file ever held.
        atomic_write(&path, content)?;
        let version = self.store.memory_record(name, content, source, now)?;
        self.reindex()?;
        Ok(version)
    }

    /// Appends `text` to `name` (created if missing), on a new line.
    pub fn append(&self, name: &str, text: &str, source: &str) -> Result<u32, MemoryError> {
        let _one = self.writing.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = match self.read(name) {
            Ok(current) => current,
            Err(MemoryError::Missing(_)) => String::new(),
            Err(e) => return Err(e),
        };
        let joined = if current.is_empty() || current.ends_with('\n') {
            format!("{current}{text}\n")
        } else {
            format!("{current}\n{text}\n")
        };
        self.write_locked(name, &joined, source)
    }

    /// Versions of `name`, newest first: (version, unix time, source, bytes).
    pub fn log(&self, name: &str) -> Result<Vec<(u32, u64, String, u64)>, MemoryError> {
        self.path(name)?;
        Ok(self.store.memory_versions(name)?)
    }

    /// Writes version `version` of `name` back (itself a new version).
    pub fn restore(&self, name: &str, version: u32) -> Result<u32, MemoryError> {
        let content = self
            .store
            .memory_version(name, version)?
            .ok_or_else(|| MemoryError::NoVersion { name: name.into(), version })?;
        self.write(name, &content, "restore")
    }

    /// `MEMORY_INDEX.md`: every file with its first heading or line.
    fn reindex(&self) -> Result<(), MemoryError> {
        let mut index = String::from("# Memory index\n\nGenerated by Pyra on every change; do not edit.\n\n");
        for entry in self.list()? {
            let summary = self
                .read(&entry.name)
                .ok()
                .and_then(|text| {
                    text.lines()
                        .map(str::trim)
                        .find(|l| !l.is_empty())
                        .map(|l| l.trim_start_matches('#').trim().to_owned())
                })
                .unwrap_or_default();
            let summary: String = summary.chars().take(80).collect();
            index.push_str(&format!(
                "- `{}` ({} bytes){}\n",
                entry.name,
                entry.bytes,
                if summary.is_empty() { String::new() } else { format!(": {summary}") }
            ));
        }
        atomic_write(&self.root.join(INDEX), &index)
    }
}

/// Writes through a temp file and a rename, so a crash leaves the old or the new file, never half.
fn atomic_write(path: &Path, content: &str) -> Result<(), MemoryError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let io = |source| MemoryError::Io { path: path.to_owned(), source };
    let tmp = path.with_extension("md.tmp");
    let mut file =
        std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp).map_err(io)?;
    file.write_all(content.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

#[cfg(test)]
mod tests;
