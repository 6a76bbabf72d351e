//! Security boundaries shared by every component: the one safe-path function and
//! the file-mode policy for everything under `PYRA_HOME`.

pub mod injection;
pub mod modes;
pub mod peer;
pub mod safe_path;

pub use safe_path::safe_join;

/// `bytes` random bytes from the kernel, as lower-case hex: ids nobody can guess.
pub fn random_hex(bytes: usize) -> std::io::Result<String> {
    use std::io::Read;
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// `logs/security.log` becomes `security.log.1` past this.
const SECURITY_LOG_CAP: u64 = 10 * 1024 * 1024;

/// One JSON line per flagged text in `logs/security.log` (0600, capped like every log):
/// where it was, what the scanner found, and the matched excerpts.
pub fn log_verdict(path: &std::path::Path, session: &str, channel: &str, warning: &proto::security::ScanWarning) {
    let line = serde_json::json!({
        "at": crate::clock::unix_now(),
        "session": session,
        "channel": channel,
        "point": warning.point,
        "source": warning.source,
        "score": warning.verdict.score,
        "categories": warning.verdict.categories,
        "findings": warning.verdict.findings,
    });
    append(path, &line);
}

/// One JSON line in `logs/security.log` for an event outside a turn: a plugin
/// stopped by its sandbox or limits, a plugin whose files changed.
pub fn log_event(path: &std::path::Path, kind: &str, plugin: &str, detail: &str) {
    let line = serde_json::json!({
        "at": crate::clock::unix_now(),
        "event": kind,
        "plugin": plugin,
        "detail": detail,
    });
    append(path, &line);
}

fn append(path: &std::path::Path, line: &serde_json::Value) {
    let written = crate::logfile::CappedLog::open(path, SECURITY_LOG_CAP)
        .and_then(|mut log| log.append(format!("{line}\n").as_bytes()));
    if let Err(e) = written {
        tracing::warn!(error = %e, path = %path.display(), "cannot append to the security log");
    }
}
