//! Tracing to stderr (journald picks it up) and to `logs/pyrad.log` (0600,
//! rotated to `pyrad.log.1` past `daemon.log_max_mib`).

use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Whether log lines already reach stderr, so fatal errors need no second copy.
static STDERR_LOGGING: AtomicBool = AtomicBool::new(false);

/// Reports a fatal error once on stderr and once in the log file (when logging is up).
pub fn fatal(error: &anyhow::Error) {
    tracing::error!("{error:#}");
    if !STDERR_LOGGING.load(Ordering::Relaxed) {
        eprintln!("pyrad: {error:#}");
    }
}

/// The files a service manager without a journal (launchd) writes pyrad's
/// stdout and stderr to, which nothing else caps.
pub const SERVICE_LOGS: &[&str] = &["launchd.err.log", "launchd.out.log"];
/// Past this size a service log is cut to its last [`SERVICE_LOG_TAIL`] bytes.
pub const SERVICE_LOG_MAX: u64 = 1024 * 1024;
const SERVICE_LOG_TAIL: u64 = 64 * 1024;

/// Caps the service logs in `logs`: one past [`SERVICE_LOG_MAX`] keeps only its
/// last 64 KiB (the newest errors). Run at every start, so even a crash loop
/// cannot fill the disk. Truncating in place is safe with launchd's append mode.
pub fn cap_service_logs(logs: &Path) {
    use std::io::{Read, Seek, SeekFrom, Write};
    for name in SERVICE_LOGS {
        let path = logs.join(name);
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        if !meta.is_file() || meta.len() <= SERVICE_LOG_MAX {
            continue;
        }
        let result = (|| -> std::io::Result<()> {
            let mut file = std::fs::OpenOptions::new().read(true).write(true).open(&path)?;
            file.seek(SeekFrom::Start(meta.len() - SERVICE_LOG_TAIL))?;
            let mut tail = Vec::with_capacity(SERVICE_LOG_TAIL as usize);
            file.read_to_end(&mut tail)?;
            file.set_len(0)?;
            file.seek(SeekFrom::Start(0))?;
            writeln!(file, "[pyrad cut this file from {} bytes to its last {} bytes]", meta.len(), tail.len())?;
            file.write_all(&tail)
        })();
        if let Err(e) = result {
            eprintln!("pyrad: cannot cap {}: {e}", path.display());
        }
    }
}

/// Sets up logging; returns the filter in force (for `daemon.status`). `PYRA_LOG`
/// overrides `level`. `PYRA_STDERR_LOG=0` turns the stderr copy off (used when
/// `pyractl daemon start` detaches pyrad from its terminal).
pub fn init(level: &str, log_file: &Path, max_bytes: u64) -> anyhow::Result<String> {
    let filter_text = std::env::var("PYRA_LOG").ok().filter(|s| !s.is_empty()).unwrap_or_else(|| level.to_owned());
    let filter = EnvFilter::try_new(&filter_text).with_context(|| format!("invalid log filter {filter_text:?}"))?;

    let file = crate::logfile::CappedLog::open(log_file, max_bytes)
        .with_context(|| format!("while opening the log file {}", log_file.display()))?;
    let file_layer = tracing_subscriber::fmt::layer().with_ansi(false).with_writer(std::sync::Mutex::new(file));

    let stderr_wanted = std::env::var("PYRA_STDERR_LOG").map_or(true, |v| v != "0");
    // Under systemd, journald stamps each line itself.
    let under_journald = std::env::var_os("JOURNAL_STREAM").is_some();
    let stderr_layer = stderr_wanted.then(|| {
        let layer =
            tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(std::io::stderr().is_terminal());
        if under_journald { layer.without_time().boxed() } else { layer.boxed() }
    });

    let (filter, handle) = tracing_subscriber::reload::Layer::new(filter);
    let _ = FILTER.set(handle);
    tracing_subscriber::registry()
        .with(filter)
        .with(file_layer)
        .with(stderr_layer)
        .try_init()
        .context("while installing the tracing subscriber")?;
    STDERR_LOGGING.store(stderr_wanted, Ordering::Relaxed);
    Ok(filter_text)
}

use tracing_subscriber::Layer;

/// Changes the filter of the running subscriber (`config.reload`).
static FILTER: std::sync::OnceLock<tracing_subscriber::reload::Handle<EnvFilter, tracing_subscriber::Registry>> =
    std::sync::OnceLock::new();

/// Why the log level could not change live.
#[derive(Debug, thiserror::Error)]
pub enum LevelError {
    #[error("invalid log filter {0:?}: {1}")]
    Invalid(String, String),
    #[error("PYRA_LOG={0:?} is set in pyrad's environment and wins over config.toml")]
    Overridden(String),
    #[error("logging is not set up in this process")]
    NoSubscriber,
}

/// Applies `[daemon] log_level` from a reloaded config; returns the filter now in force.
pub fn set_level(level: &str) -> Result<String, LevelError> {
    if let Some(env) = std::env::var("PYRA_LOG").ok().filter(|s| !s.is_empty()) {
        return Err(LevelError::Overridden(env));
    }
    let filter = EnvFilter::try_new(level).map_err(|e| LevelError::Invalid(level.to_owned(), e.to_string()))?;
    let handle = FILTER.get().ok_or(LevelError::NoSubscriber)?;
    handle.reload(filter).map_err(|_| LevelError::NoSubscriber)?;
    Ok(level.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_log_past_its_cap_keeps_only_its_tail() {
        let dir = tempfile::tempdir().unwrap();
        let err = dir.path().join("launchd.err.log");
        let mut text = "old line\n".repeat((SERVICE_LOG_MAX / 9 + 10) as usize);
        text.push_str("the newest error\n");
        std::fs::write(&err, &text).unwrap();
        let small = dir.path().join("launchd.out.log");
        std::fs::write(&small, "a little\n").unwrap();
        cap_service_logs(dir.path());
        let after = std::fs::read_to_string(&err).unwrap();
        assert!(after.len() as u64 <= SERVICE_LOG_TAIL + 100, "{}", after.len());
        assert!(after.starts_with("[pyrad cut this file from") && after.ends_with("the newest error\n"));
        assert_eq!(std::fs::read_to_string(&small).unwrap(), "a little\n", "a small one is left alone");
    }
}
