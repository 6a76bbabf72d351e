//! An append-only log file (0600) with a size cap: past it the file becomes
//! `<file>.1` (the previous one is dropped) and a new one starts, so a log
//! never fills the disk. A write that fails (a full disk) loses that text and
//! nothing else. Used for `logs/pyrad.log` and each plugin's log.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

pub struct CappedLog {
    path: PathBuf,
    file: Option<File>,
    size: u64,
    cap: u64,
}

impl CappedLog {
    pub fn open(path: &Path, cap: u64) -> std::io::Result<Self> {
        let path = path.to_path_buf();
        let file = open(&path)?;
        let size = file.metadata()?.len();
        Ok(Self { path, file: Some(file), size, cap })
    }

    /// Appends `bytes`, rotating first if they would take the file past its cap.
    /// On an error (a full disk) the text is lost; the log stays usable.
    pub fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.size > 0 && self.size + bytes.len() as u64 > self.cap {
            self.rotate();
        }
        // A single write over the cap is cut: the file never grows past it.
        let room = usize::try_from(self.cap.saturating_sub(self.size)).unwrap_or(usize::MAX);
        let bytes = &bytes[..bytes.len().min(room)];
        let file = self.file.as_mut().ok_or_else(|| std::io::Error::other("the log file could not be reopened"))?;
        file.write_all(bytes)?;
        self.size += bytes.len() as u64;
        Ok(())
    }

    fn rotate(&mut self) {
        self.file = None;
        let mut old = self.path.clone().into_os_string();
        old.push(".1");
        let _ = std::fs::rename(&self.path, &old);
        self.file = open(&self.path).ok();
        self.size = 0;
    }
}

fn open(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)
}

impl Write for CappedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // Logging must not fail the code that logs: the text is dropped instead.
        let _ = self.append(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_log_rotates_at_its_cap_and_stays_private() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = CappedLog::open(&dir.path().join("p.log"), 100).unwrap();
        for i in 0..30 {
            log.append(format!("line {i:02}\n").as_bytes()).unwrap();
        }
        let current = std::fs::read_to_string(dir.path().join("p.log")).unwrap();
        let previous = std::fs::read_to_string(dir.path().join("p.log.1")).unwrap();
        assert!(current.len() <= 100 && previous.len() <= 100, "{current:?} {previous:?}");
        assert!(current.ends_with("line 29\n") && previous.ends_with(&format!("{}\n", current_first(&current) - 1)));
        for name in ["p.log", "p.log.1"] {
            let mode = std::fs::metadata(dir.path().join(name)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
        // One write bigger than the cap is cut to it.
        log.append(&[b'x'; 500]).unwrap();
        assert_eq!(std::fs::metadata(dir.path().join("p.log")).unwrap().len(), 100);
    }

    /// The number of the first line in `text` ("line NN").
    fn current_first(text: &str) -> u32 {
        text.lines().next().unwrap()[5..].parse().unwrap()
    }
}
