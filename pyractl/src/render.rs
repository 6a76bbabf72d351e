//! Human-readable output.

use proto::ipc::StatusResult;

/// `93.2` -> `1m 33s`.
pub fn duration(secs: f64) -> String {
    let total = secs.max(0.0) as u64;
    let (d, h, m, s) = (total / 86_400, total / 3_600 % 24, total / 60 % 60, total % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

pub fn status(s: &StatusResult) -> String {
    let section = |v: &Option<serde_json::Value>, none: &str| match v {
        Some(v) => v.to_string(),
        None => none.to_owned(),
    };
    let previous = match s.database.previous_run_clean {
        Some(true) => "stopped cleanly",
        Some(false) => "did NOT stop cleanly",
        None => "first run",
    };
    [
        format!("pyrad {} running (pid {}, up {})", s.version, s.pid, duration(s.uptime_secs)),
        format!("  home        {}", s.home),
        format!("  socket      {}", s.socket),
        format!("  clients     {}", s.connections),
        format!("  database    {} (schema {})", s.database.path, s.database.schema_version),
        format!("  last run    {previous}"),
        format!("  log level   {}", s.log_level),
        format!("  provider    {}", section(&s.provider, "not configured")),
        format!("  sessions    {}", section(&s.sessions, "none")),
        format!("  plugins     {}", section(&s.plugins, "none")),
        format!("  bots        {}", section(&s.bots, "none")),
    ]
    .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(0.4), "0s");
        assert_eq!(duration(93.2), "1m 33s");
        assert_eq!(duration(3_600.0 * 5.0 + 61.0), "5h 1m");
        assert_eq!(duration(86_400.0 * 2.0 + 3_600.0), "2d 1h");
    }
}
