//! A plugin's log, `logs/plugins/<name>.log`: its stderr, which pyrad reads
//! itself (so a slow or full disk never blocks the plugin), and its MCP log
//! messages. Capped at [`CAP`] with one rotated file (`crate::logfile`).

use std::path::Path;
use std::sync::{Arc, Mutex};

use tokio::io::AsyncReadExt;

use crate::logfile::CappedLog;

/// Bytes per file; with the one rotated file a plugin keeps at most twice this.
pub const CAP: u64 = 5 * 1024 * 1024;

pub type SharedLog = Arc<Mutex<CappedLog>>;

/// Opens (creating `dir`) the log of plugin `name`.
pub fn open(dir: &Path, name: &str) -> std::io::Result<SharedLog> {
    std::fs::create_dir_all(dir)?;
    Ok(Arc::new(Mutex::new(CappedLog::open(&dir.join(format!("{name}.log")), CAP)?)))
}

/// Copies a plugin's stderr into its log until the pipe closes.
pub async fn pump(mut stderr: impl tokio::io::AsyncRead + Unpin, log: SharedLog) {
    let mut buf = vec![0; 16 * 1024];
    loop {
        match stderr.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if let Ok(mut log) = log.lock() {
                    let _ = log.append(&buf[..n]);
                }
            }
        }
    }
}
