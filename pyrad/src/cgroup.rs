//! Hard limits on a plugin's processes through cgroups: a memory cap the kernel
//! enforces (its OOM killer acts inside the plugin's group only) and a cap on
//! its processes and threads (a fork bomb stops at it).
//!
//! - **cgroup v2**, where pyrad has a delegated subtree (systemd's `Delegate=yes`,
//!   or root on a v2-only machine): pyrad moves itself into `<own>/pyrad.<pid>`,
//!   enables `memory` and `pids` for the subtree, and gives each plugin
//!   `<own>/plugins.<pid>/<name>`.
//! - **cgroup v1**, where the `memory` and `pids` hierarchies are writable (root on
//!   a hybrid machine): `<own>/pyra.<pid>/<name>` in each.
//! - Otherwise there is none, and the plugin host falls back to its sampled
//!   memory check (`procfs.rs`, every 2 s), which says so.
//!
//! A plugin's process joins its groups itself, between fork and exec
//! (`process.rs`), so nothing it starts escapes them.

use std::ffi::CString;
use std::path::{Path, PathBuf};

/// Why pyrad has no cgroups for its plugins, or could not make one, in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CgroupError(String);

impl From<String> for CgroupError {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for CgroupError {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// The controllers pyrad needs.
const CONTROLLERS: [&str; 2] = ["memory", "pids"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// Where pyrad makes its plugins' groups.
#[derive(Debug)]
pub struct Cgroups {
    version: Version,
    /// v2: `[<own>/plugins.<pid>]`; v1: `[<memory>/pyra.<pid>, <pids>/pyra.<pid>]`.
    bases: Vec<PathBuf>,
}

impl Cgroups {
    /// Finds a cgroup tree pyrad may write, and prepares it; the error says why
    /// there is none, for `doctor` and the log.
    pub fn detect() -> Result<Self, CgroupError> {
        let own = std::fs::read_to_string("/proc/self/cgroup").map_err(|e| format!("/proc/self/cgroup: {e}"))?;
        let mounts =
            std::fs::read_to_string("/proc/self/mountinfo").map_err(|e| format!("/proc/self/mountinfo: {e}"))?;
        let v2 = match Self::v2(&own, &mounts) {
            Ok(found) => return Ok(found),
            Err(e) => e,
        };
        match Self::v1(&own, &mounts) {
            Ok(found) => Ok(found),
            Err(v1) => Err(format!("{v2}; {v1}").into()),
        }
    }

    fn v2(own: &str, mounts: &str) -> Result<Self, CgroupError> {
        let path = own.lines().find_map(|l| l.strip_prefix("0::")).ok_or("no cgroup v2 hierarchy")?;
        let mount = mount_point(mounts, "cgroup2", None).ok_or("cgroup v2 is not mounted")?;
        let own = mount.join(path.trim_start_matches('/'));
        let controllers = std::fs::read_to_string(own.join("cgroup.controllers")).unwrap_or_default();
        if let Some(missing) = CONTROLLERS.iter().find(|c| !controllers.split_whitespace().any(|have| have == **c)) {
            return Err(format!("cgroup v2 offers no {missing} controller to {}", own.display()).into());
        }
        if !writable(&own.join("cgroup.subtree_control")) || !writable(&own) {
            return Err(
                format!("cgroup v2: {} is not delegated to pyrad (systemd: Delegate=yes)", own.display()).into()
            );
        }
        let pid = std::process::id();
        clean_stale(&own, "plugins.");
        clean_stale(&own, "pyrad.");
        // No process may sit in a group that distributes controllers: pyrad moves
        // into a leaf of its own first.
        let me = own.join(format!("pyrad.{pid}"));
        make_dir(&me)?;
        write(&me.join("cgroup.procs"), &pid.to_string())?;
        let enable = "+memory +pids";
        write(&own.join("cgroup.subtree_control"), enable)
            .map_err(|e| format!("{e} (other processes share pyrad's cgroup)"))?;
        let base = own.join(format!("plugins.{pid}"));
        make_dir(&base)?;
        write(&base.join("cgroup.subtree_control"), enable)?;
        Ok(Self { version: Version::V2, bases: vec![base] })
    }

    fn v1(own: &str, mounts: &str) -> Result<Self, CgroupError> {
        let pid = std::process::id();
        let mut bases = Vec::new();
        for controller in CONTROLLERS {
            let path = own
                .lines()
                .find_map(|l| {
                    let mut parts = l.splitn(3, ':');
                    let (_, list, path) = (parts.next()?, parts.next()?, parts.next()?);
                    list.split(',').any(|c| c == controller).then_some(path)
                })
                .ok_or_else(|| format!("no cgroup v1 {controller} hierarchy"))?;
            let mount = mount_point(mounts, "cgroup", Some(controller))
                .ok_or_else(|| format!("cgroup v1 {controller} is not mounted"))?;
            let own = mount.join(path.trim_start_matches('/'));
            clean_stale(&own, "pyra.");
            let base = own.join(format!("pyra.{pid}"));
            make_dir(&base).map_err(|e| format!("cgroup v1 {controller}: {e}"))?;
            bases.push(base);
        }
        Ok(Self { version: Version::V1, bases })
    }

    /// In words, for `doctor` and `status`.
    pub fn describe(&self) -> String {
        let version = match self.version {
            Version::V1 => "cgroup v1",
            Version::V2 => "cgroup v2",
        };
        let at: Vec<String> = self.bases.iter().map(|b| b.display().to_string()).collect();
        format!("{version} at {}", at.join(" and "))
    }

    /// A fresh group for `plugin`, capped at `memory_mb` (no swap) and `processes`
    /// tasks. A group left by an earlier run of it is emptied and replaced.
    pub fn create(&self, plugin: &str, memory_mb: u64, processes: u64) -> Result<PluginCgroup, CgroupError> {
        let bytes = (memory_mb * 1024 * 1024).to_string();
        let dirs: Vec<PathBuf> = self.bases.iter().map(|b| b.join(plugin)).collect();
        let mut group = PluginCgroup { version: self.version, dirs, procs: Vec::new() };
        group.kill_all();
        group.remove();
        for dir in &group.dirs {
            make_dir(dir)?;
            let file = dir.join("cgroup.procs");
            let procs = CString::new(file.as_os_str().as_encoded_bytes()).map_err(|e| e.to_string())?;
            group.procs.push(procs);
        }
        match self.version {
            Version::V2 => {
                let dir = &group.dirs[0];
                write(&dir.join("memory.max"), &bytes)?;
                // Swap would turn the cap into a slow crawl; a missing file means no swap.
                let _ = write(&dir.join("memory.swap.max"), "0");
                write(&dir.join("pids.max"), &processes.to_string())?;
            }
            Version::V1 => {
                let (memory, pids) = (&group.dirs[0], &group.dirs[1]);
                write(&memory.join("memory.limit_in_bytes"), &bytes)?;
                let _ = write(&memory.join("memory.memsw.limit_in_bytes"), &bytes);
                write(&pids.join("pids.max"), &processes.to_string())?;
            }
        }
        Ok(group)
    }
}

impl Drop for Cgroups {
    fn drop(&mut self) {
        for base in &self.bases {
            if let Ok(entries) = std::fs::read_dir(base) {
                for entry in entries.flatten().filter(|e| e.path().is_dir()) {
                    let _ = std::fs::remove_dir(entry.path());
                }
            }
            let _ = std::fs::remove_dir(base);
        }
    }
}

/// One plugin's groups. Dropping it kills what is left in them and removes them.
#[derive(Debug)]
pub struct PluginCgroup {
    version: Version,
    dirs: Vec<PathBuf>,
    /// Each group's `cgroup.procs`, ready for the child to write between fork and exec.
    procs: Vec<CString>,
}

impl PluginCgroup {
    pub fn procs_files(&self) -> Vec<CString> {
        self.procs.clone()
    }

    /// How often the kernel's OOM killer has killed a process of this group.
    pub fn oom_kills(&self) -> u64 {
        let (file, key) = match self.version {
            Version::V2 => ("memory.events", "oom_kill"),
            Version::V1 => ("memory.oom_control", "oom_kill"),
        };
        counter(&self.dirs[0].join(file), key)
    }

    /// How often a fork or thread was refused at the process cap.
    pub fn pids_refused(&self) -> u64 {
        let dir = match self.version {
            Version::V2 => &self.dirs[0],
            Version::V1 => &self.dirs[1],
        };
        counter(&dir.join("pids.events"), "max")
    }

    /// Kills every process in the groups, including any that left the plugin's
    /// process group.
    pub fn kill_all(&self) {
        if self.version == Version::V2 && write(&self.dirs[0].join("cgroup.kill"), "1").is_ok() {
            return;
        }
        for dir in &self.dirs {
            let Ok(text) = std::fs::read_to_string(dir.join("cgroup.procs")) else { continue };
            for pid in text.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
                // SAFETY: a signal to a process of the plugin's own group.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }

    fn remove(&self) {
        for dir in &self.dirs {
            // A killed process leaves its group once reaped: a few short tries.
            for _ in 0..20 {
                match std::fs::remove_dir(dir) {
                    Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                        std::thread::sleep(std::time::Duration::from_millis(5));
                    }
                    _ => break,
                }
            }
        }
    }
}

impl Drop for PluginCgroup {
    fn drop(&mut self) {
        self.kill_all();
        self.remove();
    }
}

/// `key N` in a flat-keyed cgroup file; 0 if absent.
fn counter(path: &Path, key: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| text.lines().find_map(|l| l.strip_prefix(key).and_then(|rest| rest.trim().parse().ok())))
        .unwrap_or(0)
}

/// The mount point of a `fstype` filesystem (with `option` among its super options).
fn mount_point(mountinfo: &str, fstype: &str, option: Option<&str>) -> Option<PathBuf> {
    mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let mut right = right.split_whitespace();
        let (kind, _source, options) = (right.next()?, right.next()?, right.next().unwrap_or(""));
        if kind != fstype || option.is_some_and(|o| !options.split(',').any(|x| x == o)) {
            return None;
        }
        left.split_whitespace().nth(4).map(PathBuf::from)
    })
}

/// Removes groups an earlier pyrad left (`<prefix><pid>` of a process that is gone).
fn clean_stale(own: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(own) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(prefix).and_then(|p| p.parse::<u32>().ok()) else { continue };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        if let Ok(children) = std::fs::read_dir(entry.path()) {
            for child in children.flatten().filter(|c| c.path().is_dir()) {
                let _ = std::fs::remove_dir(child.path());
            }
        }
        let _ = std::fs::remove_dir(entry.path());
    }
}

fn writable(path: &Path) -> bool {
    let Ok(c) = CString::new(path.as_os_str().as_encoded_bytes()) else { return false };
    // SAFETY: a NUL-terminated path.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

fn make_dir(path: &Path) -> Result<(), CgroupError> {
    match std::fs::create_dir(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(format!("cannot create {}: {e}", path.display()).into()),
    }
}

fn write(path: &Path, value: &str) -> Result<(), CgroupError> {
    std::fs::write(path, value).map_err(|e| format!("cannot write {value:?} to {}: {e}", path.display()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_points_are_found_by_type_and_controller() {
        let info = "25 1 0:23 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n\
                    26 25 0:24 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n\
                    30 25 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n\
                    31 25 0:29 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n";
        assert_eq!(mount_point(info, "cgroup2", None), Some(PathBuf::from("/sys/fs/cgroup/unified")));
        assert_eq!(mount_point(info, "cgroup", Some("pids")), Some(PathBuf::from("/sys/fs/cgroup/pids")));
        assert_eq!(mount_point(info, "cgroup", Some("cpu")), None);
    }

    /// The v2 set-up and a plugin's group, on a folder standing in for a
    /// delegated cgroup (the files a cgroupfs would have, as plain files).
    #[test]
    fn a_delegated_v2_subtree_is_prepared_and_a_plugin_group_gets_its_caps() {
        let fs = tempfile::tempdir().unwrap();
        let own = fs.path().join("user.slice/pyrad.service");
        std::fs::create_dir_all(&own).unwrap();
        std::fs::write(own.join("cgroup.controllers"), "cpu memory pids\n").unwrap();
        std::fs::write(own.join("cgroup.subtree_control"), "").unwrap();
        let mounts = format!("26 25 0:24 / {} rw - cgroup2 cgroup2 rw\n", fs.path().display());
        let cgroups = Cgroups::v2("0::/user.slice/pyrad.service\n", &mounts).unwrap();
        let pid = std::process::id();
        assert_eq!(std::fs::read_to_string(own.join(format!("pyrad.{pid}/cgroup.procs"))).unwrap(), pid.to_string());
        assert_eq!(std::fs::read_to_string(own.join("cgroup.subtree_control")).unwrap(), "+memory +pids");
        let base = own.join(format!("plugins.{pid}"));
        assert_eq!(std::fs::read_to_string(base.join("cgroup.subtree_control")).unwrap(), "+memory +pids");
        assert!(cgroups.describe().starts_with("cgroup v2 at "));

        let group = cgroups.create("notes", 64, 32).unwrap();
        let dir = base.join("notes");
        assert_eq!(std::fs::read_to_string(dir.join("memory.max")).unwrap(), (64u64 << 20).to_string());
        assert_eq!(std::fs::read_to_string(dir.join("memory.swap.max")).unwrap(), "0");
        assert_eq!(std::fs::read_to_string(dir.join("pids.max")).unwrap(), "32");
        assert_eq!(group.procs_files(), vec![CString::new(dir.join("cgroup.procs").display().to_string()).unwrap()]);
        std::fs::write(dir.join("memory.events"), "oom 1\noom_kill 1\n").unwrap();
        std::fs::write(dir.join("pids.events"), "max 7\n").unwrap();
        assert_eq!((group.oom_kills(), group.pids_refused()), (1, 7));

        // Without the controllers, or without delegation, there is none, and the reason says which.
        std::fs::write(own.join("cgroup.controllers"), "cpu\n").unwrap();
        let err = Cgroups::v2("0::/user.slice/pyrad.service\n", &mounts).unwrap_err().to_string();
        assert!(err.contains("no memory controller"), "{err}");
        assert!(Cgroups::v2("0::/x\n", "").unwrap_err().to_string().contains("not mounted"));
    }

    #[test]
    fn counters_are_read_by_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("memory.events");
        std::fs::write(&file, "low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n").unwrap();
        assert_eq!(counter(&file, "oom_kill"), 2);
        assert_eq!(counter(&file, "max"), 3);
        assert_eq!(counter(&dir.path().join("missing"), "max"), 0);
    }
}
