//! A plugin's process, owned: started in its own process group (so a Ctrl-C on
//! pyrad's terminal never reaches it), stderr copied into its capped log
//! (`log.rs`), environment limited to what the manifest grants, and the whole
//! group killed and reaped when the guard is dropped.

use std::path::Path;
use std::process::Stdio;

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
}

impl PluginProcess {
    /// Starts the process; returns it with its stdin and stdout.
    pub fn start(spawn: &Spawn, log_dir: &Path) -> std::io::Result<(Self, ChildStdin, ChildStdout)> {
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
        if let Some(secs) = spawn.cpu_secs {
            // SAFETY: setrlimit is async-signal-safe and only touches the child.
            unsafe {
                command.pre_exec(move || {
                    let limit = libc::rlimit { rlim_cur: secs as libc::rlim_t, rlim_max: secs as libc::rlim_t + 1 };
                    if libc::setrlimit(libc::RLIMIT_CPU, &limit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let mut child = command.spawn()?;
        let pgid = child.id().and_then(|p| i32::try_from(p).ok()).unwrap_or(0);
        let stdin = child.stdin.take().ok_or_else(|| std::io::Error::other("no stdin pipe"))?;
        let stdout = child.stdout.take().ok_or_else(|| std::io::Error::other("no stdout pipe"))?;
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(super::log::pump(stderr, log.clone()));
        }
        Ok((Self { child, pgid, log }, stdin, stdout))
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
    }
}

impl Drop for PluginProcess {
    fn drop(&mut self) {
        self.kill();
        // Reap it so it does not linger as a zombie.
        let _ = self.child.try_wait();
    }
}
