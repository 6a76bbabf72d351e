//! The file-mode policy for `PYRA_HOME`: directories 0700, files 0600, the vault
//! sentinel 0400. A loosened mode on something we own is repaired and reported; a
//! symlink, a wrong file type or another owner is refused.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub const DIR_MODE: u32 = 0o700;
pub const FILE_MODE: u32 = 0o600;
pub const SENTINEL_MODE: u32 = 0o400;

/// What kind of entry a path must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
}

/// A mode that was wrong and has been set right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    pub path: PathBuf,
    pub was: u32,
    pub now: u32,
}

impl std::fmt::Display for Repair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "repaired the mode of {}: was {:04o}, now {:04o}", self.path.display(), self.was, self.now)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ModeError {
    #[error("refusing {0}: it is a symlink; Pyra does not follow symlinks inside its home")]
    Symlink(PathBuf),
    #[error("refusing {path}: expected a {expected}, found something else")]
    WrongType { path: PathBuf, expected: &'static str },
    #[error("refusing {path}: owned by uid {owner}, but pyrad runs as uid {me}")]
    Owner { path: PathBuf, owner: u32, me: u32 },
    #[error("cannot inspect or repair {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// The effective uid of this process.
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Checks `path` is a `kind` we own, and sets its permission bits to `mode` if
/// they differ. Returns the repair made, if any.
pub fn enforce(path: &Path, kind: Kind, mode: u32) -> Result<Option<Repair>, ModeError> {
    let io = |source| ModeError::Io { path: path.to_owned(), source };
    let meta = std::fs::symlink_metadata(path).map_err(io)?;
    if meta.file_type().is_symlink() {
        return Err(ModeError::Symlink(path.to_owned()));
    }
    let type_ok = match kind {
        Kind::Dir => meta.is_dir(),
        Kind::File => meta.is_file(),
    };
    if !type_ok {
        let expected = if kind == Kind::Dir { "directory" } else { "regular file" };
        return Err(ModeError::WrongType { path: path.to_owned(), expected });
    }
    let me = euid();
    if meta.uid() != me {
        return Err(ModeError::Owner { path: path.to_owned(), owner: meta.uid(), me });
    }
    let was = meta.mode() & 0o7777;
    if was == mode {
        return Ok(None);
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(io)?;
    Ok(Some(Repair { path: path.to_owned(), was, now: mode }))
}

/// Creates directory `path` with mode 0700 if it is missing, then enforces the policy.
pub fn ensure_dir(path: &Path) -> Result<Option<Repair>, ModeError> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new().mode(DIR_MODE).create(path) {
        Ok(()) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => enforce(path, Kind::Dir, DIR_MODE),
        Err(source) => Err(ModeError::Io { path: path.to_owned(), source }),
    }
}

/// Writes `contents` to a new file at `path` with `mode`, failing if it exists.
pub fn create_file(path: &Path, contents: &[u8], mode: u32) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode_of(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().mode() & 0o7777
    }

    #[test]
    fn a_loosened_directory_is_repaired_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("d");
        std::fs::create_dir(&sub).unwrap();
        std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o755)).unwrap();
        let repair = ensure_dir(&sub).unwrap().expect("a repair");
        assert_eq!((repair.was, repair.now), (0o755, 0o700));
        assert_eq!(mode_of(&sub), 0o700);
        assert_eq!(ensure_dir(&sub).unwrap(), None);
    }

    #[test]
    fn a_symlink_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("l");
        std::os::unix::fs::symlink("/tmp", &link).unwrap();
        assert!(matches!(ensure_dir(&link), Err(ModeError::Symlink(_))));
    }

    #[test]
    fn a_file_where_a_directory_belongs_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        assert!(matches!(ensure_dir(&file), Err(ModeError::WrongType { .. })));
    }

    #[test]
    fn create_file_sets_the_mode_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        create_file(&file, b"one", 0o600).unwrap();
        assert_eq!(mode_of(&file), 0o600);
        assert!(create_file(&file, b"two", 0o600).is_err());
        assert_eq!(std::fs::read(&file).unwrap(), b"one");
    }
}
