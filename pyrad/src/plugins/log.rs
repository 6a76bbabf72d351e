//! A plugin's log, `logs/plugins/<name>.log` (0600): its stderr and its MCP log
//! messages. Capped: past [`CAP`] bytes the file becomes `<name>.log.1` (the
//! previous one is dropped) and a new one starts, so a chatty plugin cannot fill
//! the disk. pyrad reads the plugin's stderr itself, so a write that fails (a full
//! disk) loses log text but never blocks or breaks the plugin.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::io::AsyncReadExt;

/// Bytes per file; with the one rotated file a plugin keeps at most twice this.
pub const CAP: u64 = 5 * 1024 * 1024;

pub struct PluginLog {
    path: PathBuf,
    file: Option<File>,
    size: u64,
    cap: u64,
}

pub type SharedLog = Arc<Mutex<PluginLog>>;

impl PluginLog {
    pub fn open(dir: &Path, name: &str, cap: u64) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{name}.log"));
        let file = open(&path)?;
        let size = file.metadata()?.len();
        Ok(Self { path, file: Some(file), size, cap })
    }

    /// Appends `bytes`, rotating first if they would take the file past its cap.
    pub fn write(&mut self, bytes: &[u8]) {
        if self.size > 0 && self.size + bytes.len() as u64 > self.cap {
            self.rotate();
        }
        // A single write over the cap is cut: the file never grows past it.
        let room = usize::try_from(self.cap.saturating_sub(self.size)).unwrap_or(usize::MAX);
        let bytes = &bytes[..bytes.len().min(room)];
        if let Some(file) = self.file.as_mut()
            && file.write_all(bytes).is_ok()
        {
            self.size += bytes.len() as u64;
        }
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

/// Copies a plugin's stderr into its log until the pipe closes.
pub async fn pump(mut stderr: impl tokio::io::AsyncRead + Unpin, log: SharedLog) {
    let mut buf = vec![0; 16 * 1024];
    loop {
        match stderr.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if let Ok(mut log) = log.lock() {
                    log.write(&buf[..n]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_log_rotates_at_its_cap_and_stays_private() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = PluginLog::open(dir.path(), "p", 100).unwrap();
        for i in 0..30 {
            log.write(format!("line {i:02}\n").as_bytes());
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
        log.write(&[b'x'; 500]);
        assert_eq!(std::fs::metadata(dir.path().join("p.log")).unwrap().len(), 100);
    }

    /// The number of the first line in `text` ("line NN").
    fn current_first(text: &str) -> u32 {
        text.lines().next().unwrap()[5..].parse().unwrap()
    }
}
