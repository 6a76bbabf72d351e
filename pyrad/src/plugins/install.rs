//! Installing a plugin from a folder, a `.tar.gz` or a `.zip`: everything is
//! first staged inside `plugins/.staging/` with every entry checked (no absolute
//! paths, no `..`, no symlinks or hard links, no devices, bounded count and size),
//! the manifest validated, its signature checked (`trust.rs`) and a SHA-256
//! taken, so the user can confirm exactly what will be installed before it is
//! moved into place.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::manifest::{FILE, Manifest};
use super::trust::{FileHashes, Signed, TrustedKeys};
use crate::security::safe_join;

const MAX_ENTRIES: usize = 10_000;
const MAX_BYTES: u64 = 200 << 20;

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{0}")]
    Refused(String),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Manifest(#[from] super::manifest::ManifestError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> InstallError + '_ {
    move |source| InstallError::Io { path: path.to_owned(), source }
}

fn refused(message: impl Into<String>) -> InstallError {
    InstallError::Refused(message.into())
}

/// A plugin unpacked and checked, waiting to be moved into place.
#[derive(Debug)]
pub struct Staged {
    /// The folder holding `plugin.toml`, inside the staging area.
    pub root: PathBuf,
    /// The staging folder to remove afterwards.
    pub area: PathBuf,
    pub manifest: Manifest,
    /// Of the archive's bytes, or of a folder's sorted paths and contents.
    pub sha256: String,
    /// Every file as it will be installed, for tamper detection.
    pub files: FileHashes,
    /// Who signed it, as far as the trusted keys tell.
    pub signed: Signed,
}

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.area);
    }
}

/// Unpacks `source` into a fresh folder under `staging` and checks it; a
/// signature that does not verify under a trusted key refuses it.
pub fn stage(source: &Path, staging: &Path, keys: &TrustedKeys) -> Result<Staged, InstallError> {
    crate::security::modes::ensure_dir(staging).map_err(|e| refused(e.to_string()))?;
    let area = staging.join(crate::security::random_hex(8).map_err(io(staging))?);
    std::fs::create_dir(&area).map_err(io(&area))?;
    let mut budget = Budget::default();
    let name = source.to_string_lossy().to_ascii_lowercase();
    // An archive's signature is over its bytes; a folder's is checked once staged.
    let (sha256, archive_signed) = if std::fs::symlink_metadata(source).map_err(io(source))?.is_dir() {
        let mut hasher = Sha256::new();
        copy_dir(source, &area, &mut budget, &mut hasher)?;
        (hex(&hasher.finalize()), None)
    } else if name.ends_with(".tar.gz") || name.ends_with(".tgz") || name.ends_with(".zip") {
        let bytes = std::fs::read(source).map_err(io(source))?;
        let signed = super::trust::archive_signature(source, &bytes, keys).map_err(|e| {
            let _ = std::fs::remove_dir_all(&area);
            refused(e.to_string())
        })?;
        if name.ends_with(".zip") {
            unzip(&bytes, &area, &mut budget)?;
        } else {
            untar(&bytes, &area, &mut budget)?;
        }
        (hex(&Sha256::digest(&bytes)), Some(signed))
    } else {
        let _ = std::fs::remove_dir_all(&area);
        return Err(refused(format!("{} is not a folder, a .tar.gz or a .zip", source.display())));
    };
    // The manifest is at the top, or inside the archive's one top-level folder.
    let root = if area.join(FILE).is_file() {
        area.clone()
    } else {
        let entries: Vec<PathBuf> = std::fs::read_dir(&area).map_err(io(&area))?.flatten().map(|e| e.path()).collect();
        match entries.as_slice() {
            [only] if only.join(FILE).is_file() => only.clone(),
            _ => {
                let _ = std::fs::remove_dir_all(&area);
                return Err(refused(format!("no {FILE} at the top of {}", source.display())));
            }
        }
    };
    let text = std::fs::read_to_string(root.join(FILE)).map_err(io(&root))?;
    let manifest = match Manifest::parse(&source.join(FILE), &text) {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&area);
            return Err(e.into());
        }
    };
    let checked = super::trust::hash_tree(&root).map_err(io(&root)).and_then(|files| {
        let signed = match archive_signed {
            Some(signed) => signed,
            None => super::trust::folder_signature(&root, &files, keys).map_err(|e| refused(e.to_string()))?,
        };
        Ok((files, signed))
    });
    let (files, signed) = match checked {
        Ok(checked) => checked,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&area);
            return Err(e);
        }
    };
    Ok(Staged { root, area, manifest, sha256, files, signed })
}

/// Moves a staged plugin to `plugins/<name>`; with `replace`, an installed one
/// of that name is replaced (its data folder is elsewhere and stays).
pub fn commit(staged: &Staged, plugins: &Path, replace: bool) -> Result<PathBuf, InstallError> {
    let target = safe_join(plugins, &staged.manifest.name).map_err(|e| refused(e.to_string()))?;
    if std::fs::symlink_metadata(&target).is_ok() {
        if !replace {
            return Err(refused(format!(
                "a plugin named {} is already installed; use update to replace it",
                staged.manifest.name
            )));
        }
        let old = staged.area.with_extension("old");
        std::fs::rename(&target, &old).map_err(io(&target))?;
        let _ = std::fs::remove_dir_all(&old);
    }
    std::fs::rename(&staged.root, &target).map_err(io(&target))?;
    Ok(target)
}

/// Counts entries and bytes so an archive bomb is refused, not unpacked.
#[derive(Default)]
struct Budget {
    entries: usize,
    bytes: u64,
}

impl Budget {
    fn take(&mut self, bytes: u64) -> Result<(), InstallError> {
        self.entries += 1;
        self.bytes += bytes;
        if self.entries > MAX_ENTRIES {
            return Err(refused(format!("more than {MAX_ENTRIES} entries")));
        }
        if self.bytes > MAX_BYTES {
            return Err(refused(format!("more than {} MiB unpacked", MAX_BYTES >> 20)));
        }
        Ok(())
    }
}

/// A relative entry name made safe, or a refusal naming it.
fn entry_path(area: &Path, name: &str) -> Result<PathBuf, InstallError> {
    safe_join(area, name.trim_end_matches('/')).map_err(|e| refused(format!("unsafe entry: {e}")))
}

fn write_file(path: &Path, mut reader: impl Read, budget: &mut Budget, executable: bool) -> Result<(), InstallError> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let mode = if executable { 0o700 } else { 0o600 };
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(path).map_err(io(path))?;
    // Copy in bounded pieces: the declared size of an entry is not trusted.
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            return Ok(());
        }
        budget.bytes += n as u64;
        if budget.bytes > MAX_BYTES {
            return Err(refused(format!("more than {} MiB unpacked", MAX_BYTES >> 20)));
        }
        std::io::Write::write_all(&mut file, &buf[..n]).map_err(io(path))?;
    }
}

fn copy_dir(from: &Path, to: &Path, budget: &mut Budget, hasher: &mut Sha256) -> Result<(), InstallError> {
    let mut entries: Vec<_> = std::fs::read_dir(from).map_err(io(from))?.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let meta = std::fs::symlink_metadata(entry.path()).map_err(io(from))?;
        let name = entry.file_name();
        let target = to.join(&name);
        budget.take(0)?;
        if meta.file_type().is_symlink() {
            return Err(refused(format!("{} is a symlink; plugins may not contain symlinks", entry.path().display())));
        } else if meta.is_dir() {
            std::fs::create_dir(&target).map_err(io(&target))?;
            hasher.update(format!("dir {}\n", name.to_string_lossy()));
            copy_dir(&entry.path(), &target, budget, hasher)?;
        } else if meta.is_file() {
            use std::os::unix::fs::PermissionsExt;
            let bytes = std::fs::read(entry.path()).map_err(io(from))?;
            hasher.update(format!("file {} {}\n", name.to_string_lossy(), bytes.len()));
            hasher.update(&bytes);
            write_file(&target, bytes.as_slice(), budget, meta.permissions().mode() & 0o111 != 0)?;
        } else {
            return Err(refused(format!("{} is not a file or folder", entry.path().display())));
        }
    }
    Ok(())
}

fn untar(bytes: &[u8], area: &Path, budget: &mut Budget) -> Result<(), InstallError> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let entries = archive.entries().map_err(io(area))?;
    for entry in entries {
        let entry = entry.map_err(io(area))?;
        let kind = entry.header().entry_type();
        let name = entry.path().map_err(io(area))?.to_string_lossy().into_owned();
        budget.take(0)?;
        let path = entry_path(area, &name)?;
        if kind.is_dir() {
            std::fs::create_dir_all(&path).map_err(io(&path))?;
        } else if kind.is_file() {
            let executable = entry.header().mode().is_ok_and(|m| m & 0o111 != 0);
            write_file(&path, entry, budget, executable)?;
        } else {
            return Err(refused(format!("{name}: links and special files are not allowed in a plugin")));
        }
    }
    Ok(())
}

fn unzip(bytes: &[u8], area: &Path, budget: &mut Budget) -> Result<(), InstallError> {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| refused(format!("not a zip: {e}")))?;
    for i in 0..archive.len() {
        let file = archive.by_index(i).map_err(|e| refused(format!("zip entry {i}: {e}")))?;
        let name = file.name().map_err(|e| refused(format!("zip entry {i}: {e}")))?.into_owned();
        budget.take(0)?;
        if file.is_symlink() {
            return Err(refused(format!("{name}: symlinks are not allowed in a plugin")));
        }
        let path = entry_path(area, &name)?;
        if file.is_dir() {
            std::fs::create_dir_all(&path).map_err(io(&path))?;
        } else {
            let executable = file.unix_mode().is_some_and(|m| m & 0o111 != 0);
            write_file(&path, file, budget, executable)?;
        }
    }
    Ok(())
}

use super::trust::hex;

#[cfg(test)]
mod tests;
