//! A plugin's process, owned: started in its own process group (so a Ctrl-C on
//! pyrad's terminal never reaches it), stderr copied into its capped log
//! (`log.rs`), environment limited to what the manifest grants, and the whole
//! group killed and reaped when the guard is dropped.

use std::ffi::CString;
use std::path::Path;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::io::{AsyncRead, ReadBuf};

use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// How to start a plugin, resolved from its manifest (secrets already decrypted).
#[derive(Clone)]
pub struct Spawn {
    pub name: String,
    /// The program; a relative path is taken inside `dir`.
    pub command: String,
    pub args: Vec<String>,
    /// The plugin's folder, its working directory.
    pub dir: std::path::PathBuf,
    /// The complete environment; nothing else of pyrad's is passed on.
    pub env: Vec<(String, String)>,
    /// CPU seconds the process may use in all (RLIMIT_CPU); it is killed past them.
    pub cpu_secs: Option<u64>,
    /// The other kernel limits; `None` for none (tests of the MCP client).
    pub rlimits: Option<Rlimits>,
    /// Each `cgroup.procs` the process joins before it execs (see `cgroup.rs`).
    pub cgroups: Vec<CString>,
    /// Bytes per second it may write to stdout and stderr together.
    pub output_per_sec: Option<u64>,
}

/// RLIMIT_NPROC, RLIMIT_FSIZE and RLIMIT_NOFILE, as set in the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rlimits {
    /// Processes of the user in all: what it runs now plus the plugin's allowance
    /// (the kernel counts per user, and ignores it for root).
    pub processes: u64,
    pub file_bytes: u64,
    pub open_files: u64,
}

impl Rlimits {
    /// The limits for a plugin allowed `processes` more processes than the user runs now.
    /// Each is kept within pyrad's own hard limit: a process may lower its
    /// limits, never raise them, and a plugin that cannot start helps nobody.
    pub fn for_plugin(processes: u64, file_mb: u64, open_files: u64) -> Self {
        Self {
            processes: (user_processes() + processes).min(hard_limit(libc::RLIMIT_NPROC)),
            file_bytes: (file_mb * 1024 * 1024).min(hard_limit(libc::RLIMIT_FSIZE)),
            open_files: open_files.min(hard_limit(libc::RLIMIT_NOFILE)),
        }
    }
}

/// The type of an rlimit's resource number, which differs by C library.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
type Resource = libc::__rlimit_resource_t;
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
type Resource = libc::c_int;

/// This process's hard limit for `resource` (`u64::MAX` when unlimited or unknown).
fn hard_limit(resource: Resource) -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(resource, &mut limit) } != 0 || limit.rlim_max == libc::RLIM_INFINITY {
        return u64::MAX;
    }
    #[allow(clippy::unnecessary_cast)] // rlim_t is u64 here, not on every C library
    let hard = limit.rlim_max as u64;
    hard
}

/// How many processes (and threads) the current user runs, from `/proc`.
fn user_processes() -> u64 {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0 };
    let mut count = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if entry.metadata().is_ok_and(|m| m.uid() == uid) {
            let threads = std::fs::read_dir(entry.path().join("task")).map_or(1, |t| t.count() as u64);
            count += threads;
        }
    }
    count
}

/// What a plugin wrote to stdout and stderr in the current second. Past its
/// allowance the meter trips: the process group is killed, and each metered
/// stream reads as failed with the reason.
pub struct OutputMeter {
    per_sec: u64,
    window: Mutex<(Instant, u64)>,
    tripped: AtomicBool,
    reason: Mutex<Option<String>>,
    pgid: AtomicI32,
    /// Bytes in all, for the figures.
    pub total: AtomicU64,
}

impl OutputMeter {
    pub fn new(per_sec: u64) -> Arc<Self> {
        Arc::new(Self {
            per_sec,
            window: Mutex::new((Instant::now(), 0)),
            tripped: AtomicBool::new(false),
            reason: Mutex::new(None),
            pgid: AtomicI32::new(0),
            total: AtomicU64::new(0),
        })
    }

    /// Counts `n` bytes from `stream`; false once tripped.
    fn take(&self, n: usize, stream: &str) -> bool {
        if self.tripped.load(Ordering::Relaxed) {
            return false;
        }
        self.total.fetch_add(n as u64, Ordering::Relaxed);
        let over = self.window.lock().is_ok_and(|mut w| {
            if w.0.elapsed().as_secs_f64() >= 1.0 {
                *w = (Instant::now(), 0);
            }
            w.1 += n as u64;
            w.1 > self.per_sec
        });
        if over {
            let mib = self.per_sec / (1024 * 1024);
            let why =
                format!("wrote more than {mib} MiB to {stream} within a second, over its output limit of {mib} MiB/s");
            if let Ok(mut r) = self.reason.lock() {
                r.get_or_insert(why);
            }
            self.tripped.store(true, Ordering::Relaxed);
            let pgid = self.pgid.load(Ordering::Relaxed);
            if pgid > 0 {
                // SAFETY: signalling the process group pyrad created for the plugin.
                unsafe { libc::kill(-pgid, libc::SIGKILL) };
            }
        }
        !over
    }

    /// Why it tripped, if it did.
    pub fn tripped(&self) -> Option<String> {
        self.reason.lock().ok().and_then(|r| r.clone())
    }
}

/// A stream counted by an [`OutputMeter`].
pub struct Metered<R> {
    inner: R,
    meter: Arc<OutputMeter>,
    stream: &'static str,
}

impl<R> Metered<R> {
    pub fn new(inner: R, meter: Arc<OutputMeter>, stream: &'static str) -> Self {
        Self { inner, meter, stream }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for Metered<R> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let n = buf.filled().len() - before;
            if n > 0 && !self.meter.take(n, self.stream) {
                let why = self.meter.tripped().unwrap_or_default();
                return Poll::Ready(Err(std::io::Error::other(why)));
            }
        }
        polled
    }
}

impl std::fmt::Debug for Spawn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The environment may hold secrets: names only.
        let names: Vec<&str> = self.env.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Spawn")
            .field("name", &self.name)
            .field("command", &self.command)
            .field("args", &self.args)
            .field("env", &names)
            .finish()
    }
}

/// The program to run: a relative path (`./server`, `bin/x`) is inside the
/// plugin's folder `dir`; a bare name is looked up on `PATH` at exec.
pub fn resolve_command(command: &str, dir: &Path) -> String {
    if command.contains('/') && !command.starts_with('/') {
        dir.join(command).display().to_string()
    } else {
        command.to_owned()
    }
}

/// A running plugin process. Dropping it kills its process group.
pub struct PluginProcess {
    child: Child,
    pgid: i32,
    /// Its log: stderr goes there, and so do its MCP log messages.
    pub log: super::log::SharedLog,
    /// What it writes, against its output limit.
    pub meter: Arc<OutputMeter>,
    /// Its cgroups, where pyrad has them; dropped (emptied, removed) after the process.
    pub cgroup: Option<crate::cgroup::PluginCgroup>,
}

/// A plugin's stdout as pyrad reads it: metered.
pub type PluginStdout = Metered<ChildStdout>;

impl PluginProcess {
    /// Starts the process; returns it with its stdin and (metered) stdout.
    pub fn start(spawn: &Spawn, log_dir: &Path) -> std::io::Result<(Self, ChildStdin, PluginStdout)> {
        let log = super::log::open(log_dir, &spawn.name)?;
        let mut command = Command::new(resolve_command(&spawn.command, &spawn.dir));
        command
            .args(&spawn.args)
            .current_dir(&spawn.dir)
            .env_clear()
            .envs(spawn.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let (cpu, rlimits, cgroups) = (spawn.cpu_secs, spawn.rlimits, spawn.cgroups.clone());
        // SAFETY: between fork and exec only async-signal-safe calls (open,
        // write, close, setrlimit) on data prepared before the fork.
        unsafe {
            command.pre_exec(move || {
                // Its cgroups first, so everything it starts is inside them.
                for procs in &cgroups {
                    let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                    if fd < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    let wrote = libc::write(fd, b"0".as_ptr().cast(), 1);
                    libc::close(fd);
                    if wrote != 1 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                let set = |resource: Resource, soft: u64, hard: u64| {
                    let limit = libc::rlimit { rlim_cur: soft as libc::rlim_t, rlim_max: hard as libc::rlim_t };
                    if libc::setrlimit(resource, &limit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                };
                if let Some(secs) = cpu {
                    set(libc::RLIMIT_CPU, secs, secs + 1)?;
                }
                if let Some(r) = rlimits {
                    set(libc::RLIMIT_NPROC, r.processes, r.processes)?;
                    set(libc::RLIMIT_FSIZE, r.file_bytes, r.file_bytes)?;
                    set(libc::RLIMIT_NOFILE, r.open_files, r.open_files)?;
                }
                Ok(())
            });
        }
        let meter = OutputMeter::new(spawn.output_per_sec.unwrap_or(u64::MAX));
        let mut child = command.spawn()?;
        let pgid = child.id().and_then(|p| i32::try_from(p).ok()).unwrap_or(0);
        meter.pgid.store(pgid, Ordering::Relaxed);
        let stdin = child.stdin.take().ok_or_else(|| std::io::Error::other("no stdin pipe"))?;
        let stdout = child.stdout.take().ok_or_else(|| std::io::Error::other("no stdout pipe"))?;
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(super::log::pump(Metered::new(stderr, meter.clone(), "stderr"), log.clone()));
        }
        let stdout = Metered::new(stdout, meter.clone(), "stdout");
        Ok((Self { child, pgid, log, meter, cgroup: None }, stdin, stdout))
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Waits for it to exit.
    pub async fn wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.wait().await.ok()
    }

    /// Kills the whole process group now (children a plugin started included).
    pub fn kill(&mut self) {
        if self.pgid > 0 {
            // SAFETY: signalling a process group we created.
            unsafe { libc::kill(-self.pgid, libc::SIGKILL) };
        }
        let _ = self.child.start_kill();
        // What left the process group (setsid) is still in its cgroup.
        if let Some(cgroup) = &self.cgroup {
            cgroup.kill_all();
        }
    }
}

impl Drop for PluginProcess {
    fn drop(&mut self) {
        self.kill();
        // Reap it so it does not linger as a zombie.
        let _ = self.child.try_wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plugin_s_limits_never_exceed_pyrad_s_own_hard_limits() {
        let huge = Rlimits::for_plugin(u64::MAX / 4, u64::MAX / (4 << 20), u64::MAX / 4);
        assert!(huge.open_files <= hard_limit(libc::RLIMIT_NOFILE));
        assert!(huge.open_files < u64::MAX / 4, "RLIMIT_NOFILE always has a finite hard limit");
        let small = Rlimits::for_plugin(8, 64, 256);
        assert_eq!((small.file_bytes, small.open_files), (64 << 20, 256.min(hard_limit(libc::RLIMIT_NOFILE))));
        assert!(small.processes >= 8, "the user's own processes come on top");
    }
}
