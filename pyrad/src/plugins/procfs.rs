//! Resident memory of plugin process groups, read from `/proc` (Linux). Elsewhere
//! every figure is `None`: shown as `-` and the memory limit is not enforced.

use std::collections::HashMap;

/// Resident bytes per process group, over every process this user can see.
/// One pass over `/proc`: a plugin's children (npx starting node) count too.
pub fn rss_by_group() -> HashMap<u32, u64> {
    let mut groups = HashMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else { return groups };
    let page = page_size();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().filter(|n| n.bytes().all(|b| b.is_ascii_digit())) else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        if let Some((pgrp, pages)) = parse_stat(&stat) {
            *groups.entry(pgrp).or_insert(0) += pages * page;
        }
    }
    groups
}

/// `(pgrp, rss in pages)` from a `/proc/<pid>/stat` line. The command name is in
/// parentheses and may hold spaces and parentheses, so fields count from the last `)`.
fn parse_stat(stat: &str) -> Option<(u32, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state(3) ppid(4) pgrp(5) ... rss(24), numbered as in proc(5).
    let pgrp = fields.get(2)?.parse().ok()?;
    let rss = fields.get(21)?.parse().ok()?;
    Some((pgrp, rss))
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).ok().filter(|s| *s > 0).unwrap_or(4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_count_from_the_last_parenthesis() {
        let line = "4242 (a (b) c) S 1 4240 4240 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123 4096000 777 18446744073709551615 0";
        assert_eq!(parse_stat(line), Some((4240, 777)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn this_process_is_counted_in_its_group() {
        // SAFETY: getpgrp has no preconditions.
        let pgrp = u32::try_from(unsafe { libc::getpgrp() }).unwrap();
        let bytes = rss_by_group()[&pgrp];
        assert!(bytes > 1024 * 1024, "{bytes}");
    }
}
