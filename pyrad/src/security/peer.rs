//! Who is on the other end of the control socket. The uid check keeps other
//! users out; this keeps pyrad's own plugins out. Landlock does not govern
//! connecting to a named Unix socket, so a sandboxed plugin could otherwise
//! reach `run/pyrad.sock` as the user and start turns, answer approvals or
//! trust itself. A peer is a plugin when it sits in one of pyrad's plugin
//! cgroups (which a plugin cannot leave), or descends from pyrad itself (pyrad
//! starts no other processes).

/// Why `pid` is one of this pyrad's plugins (or started by one), if it is.
pub fn plugin_peer(pid: i32) -> Option<&'static str> {
    let me = std::process::id();
    if let Ok(groups) = std::fs::read_to_string(format!("/proc/{pid}/cgroup")) {
        let (v1, v2) = (format!("/pyra.{me}/"), format!("/plugins.{me}/"));
        if groups.lines().any(|l| l.contains(&v1) || l.contains(&v2)) {
            return Some("it runs in a plugin's cgroup");
        }
    }
    let mut at = pid;
    for _ in 0..64 {
        let parent = parent_of(at)?;
        if parent == me as i32 {
            return Some("it was started by pyrad");
        }
        if parent <= 1 {
            return None;
        }
        at = parent;
    }
    None
}

/// The parent pid from `/proc/<pid>/stat` (the field after the `(comm)`).
fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    after.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_of_this_process_is_a_plugin_peer_and_a_stranger_is_not() {
        let mut child = std::process::Command::new("sleep").arg("5").spawn().unwrap();
        assert_eq!(plugin_peer(child.id() as i32), Some("it was started by pyrad"));
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(plugin_peer(1), None);
        assert_eq!(parent_of(std::process::id() as i32).map(|p| p > 0), Some(true));
    }
}
