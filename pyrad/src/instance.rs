//! One daemon per home: an exclusive lock on `run/pyrad.pid`, which also holds
//! the running pid so a second start can name it.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    #[error("pyrad is already running for this home (pid {pid}); stop it with `pyractl daemon stop`")]
    Running { pid: String },
    #[error("cannot lock {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// Held for the daemon's lifetime; the lock goes with the file handle.
#[derive(Debug)]
pub struct InstanceLock {
    file: File,
    path: PathBuf,
}

impl InstanceLock {
    pub fn acquire(path: &Path) -> Result<Self, InstanceError> {
        use std::os::unix::fs::OpenOptionsExt;
        let io = |source| InstanceError::Io { path: path.to_owned(), source };
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim();
                let pid = if pid.is_empty() { "unknown".to_owned() } else { pid.to_owned() };
                return Err(InstanceError::Running { pid });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        // One write, no fsync: the pid only means something while this process
        // lives and holds the lock, and a machine that crashes takes both along.
        file.write_all(format!("{}\n", std::process::id()).as_bytes()).map_err(io)?;
        Ok(Self { file, path: path.to_owned() })
    }

    /// Removes the pid file on a clean stop; the lock is released with the handle.
    pub fn release(self) {
        let _ = std::fs::remove_file(&self.path);
        drop(self.file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pyrad.pid");
        let first = InstanceLock::acquire(&path).unwrap();
        let err = InstanceLock::acquire(&path).unwrap_err();
        assert_eq!(
            err.to_string().split("(pid ").nth(1).unwrap().split(')').next().unwrap(),
            std::process::id().to_string()
        );
        first.release();
        assert!(!path.exists());
        InstanceLock::acquire(&path).unwrap().release();
    }
}
