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
