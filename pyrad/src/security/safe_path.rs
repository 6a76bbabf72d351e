//! The one function every path from outside goes through: [`safe_join`] takes a
//! root and a relative name and returns a path that stays under the root, with no
//! `..`, no absolute names and no symlink on the way.

use std::path::{Component, Path, PathBuf};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SafePathError {
    #[error("{0:?} is empty")]
    Empty(String),
    #[error("{0:?} is absolute; a name relative to {1} is expected")]
    Absolute(String, PathBuf),
    #[error("{0:?} leaves {1} (.. is not allowed)")]
    Traversal(String, PathBuf),
    #[error("{0:?} contains a NUL byte or an unsupported component")]
    Invalid(String),
    #[error("{name:?} passes through the symlink {link}")]
    Symlink { name: String, link: PathBuf },
}

/// Joins `name` under `root`, refusing absolute names, `..`, NUL bytes and any
/// existing symlink between `root` and the result (the last component included).
/// Components that do not exist yet are allowed: the result may be created.
pub fn safe_join(root: &Path, name: &str) -> Result<PathBuf, SafePathError> {
    if name.is_empty() {
        return Err(SafePathError::Empty(name.into()));
    }
    if name.contains('\0') {
        return Err(SafePathError::Invalid(name.into()));
    }
    let relative = Path::new(name);
    let mut out = root.to_path_buf();
    for component in relative.components() {
        match component {
            Component::Normal(part) => {
                out.push(part);
                match std::fs::symlink_metadata(&out) {
                    Ok(meta) if meta.file_type().is_symlink() => {
                        return Err(SafePathError::Symlink { name: name.into(), link: out });
                    }
                    _ => {}
                }
            }
            Component::CurDir => {}
            Component::ParentDir => return Err(SafePathError::Traversal(name.into(), root.into())),
            Component::RootDir | Component::Prefix(_) => {
                return Err(SafePathError::Absolute(name.into(), root.into()));
            }
        }
    }
    if out == root {
        return Err(SafePathError::Empty(name.into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_stay_under_the_root() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(safe_join(dir.path(), "a/b.md").unwrap(), dir.path().join("a/b.md"));
        assert_eq!(safe_join(dir.path(), "./a").unwrap(), dir.path().join("a"));
    }

    #[test]
    fn escapes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        assert!(matches!(safe_join(root, "../x"), Err(SafePathError::Traversal(..))));
        assert!(matches!(safe_join(root, "a/../../x"), Err(SafePathError::Traversal(..))));
        assert!(matches!(safe_join(root, "/etc/passwd"), Err(SafePathError::Absolute(..))));
        assert!(matches!(safe_join(root, ""), Err(SafePathError::Empty(_))));
        assert!(matches!(safe_join(root, "."), Err(SafePathError::Empty(_))));
        assert!(matches!(safe_join(root, "a\0b"), Err(SafePathError::Invalid(_))));
    }

    #[test]
    fn symlinks_are_refused_anywhere_on_the_way() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
        assert!(matches!(safe_join(dir.path(), "link"), Err(SafePathError::Symlink { .. })));
        assert!(matches!(safe_join(dir.path(), "link/secret"), Err(SafePathError::Symlink { .. })));
    }
}
