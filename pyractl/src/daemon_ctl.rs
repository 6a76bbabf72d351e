//! `pyractl daemon start|stop|restart|status`: through the installed service when
//! there is one, else by spawning a detached pyrad and waiting for its `READY=1`.

use std::io::Read;
use std::os::unix::net::UnixDatagram;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use proto::ipc::{DaemonShutdown, DaemonStatus, Empty};

use crate::cli::Target;
use crate::client::{Client, ClientError};
use crate::paths::Paths;
use crate::service;

pub fn start(paths: &Paths, wait: Duration) -> anyhow::Result<()> {
    match Client::connect(&paths.socket) {
        Ok(client) => {
            println!("pyrad is already running (pid {})", client.hello.pid);
            return Ok(());
        }
        Err(ClientError::NotRunning { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let target = Target::native();
    if let Some(file) = service::installed(target).filter(|_| !paths.socket_overridden) {
        let argv: Vec<String> = match target {
            Target::Systemd => vec!["systemctl".into(), "--user".into(), "start".into(), service::UNIT_NAME.into()],
            Target::Launchd => {
                // SAFETY: getuid has no preconditions.
                let uid = unsafe { libc::getuid() };
                vec!["launchctl".into(), "kickstart".into(), format!("gui/{uid}/{}", service::LAUNCHD_LABEL)]
            }
        };
        let status =
            Command::new(&argv[0]).args(&argv[1..]).status().with_context(|| format!("cannot run {}", argv[0]))?;
        if !status.success() {
            bail!("`{}` failed ({status}); the service is installed at {}", argv.join(" "), file.display());
        }
        let client = wait_for_socket(paths, wait)?;
        println!("pyrad started by the service manager (pid {})", client.hello.pid);
        return Ok(());
    }
    let pid = spawn_detached(paths, wait)?;
    println!("pyrad started (pid {pid}); socket {}", paths.socket.display());
    Ok(())
}

/// Starts pyrad in its own session and waits for `READY=1` on a private notify socket.
fn spawn_detached(paths: &Paths, wait: Duration) -> anyhow::Result<u32> {
    let pyrad = pyrad_binary()?;
    let notify_dir = tempfile::Builder::new().prefix("pyractl-").tempdir().context("while creating a temp dir")?;
    let notify_path = notify_dir.path().join("notify");
    let notify = UnixDatagram::bind(&notify_path).context("while binding the notify socket")?;
    notify.set_read_timeout(Some(Duration::from_millis(50)))?;

    let mut command = Command::new(&pyrad);
    command
        .arg("--home")
        .arg(&paths.home)
        .env("NOTIFY_SOCKET", &notify_path)
        .env("PYRA_STDERR_LOG", "0")
        .env_remove("WATCHDOG_USEC")
        .env_remove("WATCHDOG_PID")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if paths.socket_overridden {
        command.env("PYRA__IPC__SOCKET", &paths.socket);
    }
    // SAFETY: setsid is async-signal-safe; it detaches pyrad from our terminal
    // and process group so Ctrl-C here never reaches it.
    unsafe {
        command.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().with_context(|| format!("cannot start {}", pyrad.display()))?;
    let deadline = Instant::now() + wait;
    let mut buf = [0u8; 4096];
    loop {
        if let Ok(n) = notify.recv(&mut buf)
            && String::from_utf8_lossy(&buf[..n]).lines().any(|l| l == "READY=1")
        {
            return Ok(child.id());
        }
        if let Some(status) = child.try_wait()? {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            let stderr = stderr.trim();
            bail!("pyrad exited during start-up ({status}){}{stderr}", if stderr.is_empty() { "" } else { ":\n" });
        }
        if Instant::now() > deadline {
            bail!(
                "pyrad (pid {}) did not become ready within {wait:?}; see {}/logs/pyrad.log",
                child.id(),
                paths.home.display()
            );
        }
    }
}

/// pyrad next to this pyractl, else on PATH.
fn pyrad_binary() -> anyhow::Result<PathBuf> {
    if let Ok(me) = std::env::current_exe()
        && let Some(sibling) = me.parent().map(|d| d.join("pyrad"))
        && sibling.is_file()
    {
        return Ok(sibling);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("pyrad"))
        .find(|candidate| candidate.is_file())
        .context("cannot find the pyrad binary next to pyractl or on PATH")
}

fn wait_for_socket(paths: &Paths, wait: Duration) -> anyhow::Result<Client> {
    let deadline = Instant::now() + wait;
    loop {
        match Client::connect(&paths.socket) {
            Ok(client) => return Ok(client),
            Err(ClientError::NotRunning { .. }) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Asks pyrad to stop and waits until its process is gone.
pub fn stop(paths: &Paths, wait: Duration) -> Result<u32, ClientError> {
    let mut client = Client::connect(&paths.socket)?;
    let pid = client.call::<DaemonShutdown>(&Empty)?.pid;
    let deadline = Instant::now() + wait;
    while process_alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if process_alive(pid) {
        return Err(ClientError::Protocol(format!("pyrad (pid {pid}) is still running after {wait:?}")));
    }
    Ok(pid)
}

fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    // SAFETY: reaping with WNOHANG never blocks; for a pid that is not our child it
    // fails with ECHILD. A pyrad we started ourselves (setup, restart) would
    // otherwise linger as a zombie that signal 0 still finds.
    unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) };
    // SAFETY: signal 0 only checks that the process exists.
    let exists = unsafe { libc::kill(pid, 0) == 0 };
    // A process that has exited but whose parent (a supervisor, a test) has not
    // reaped it yet is a zombie: it has stopped.
    exists && !is_zombie(pid)
}

fn is_zombie(pid: libc::pid_t) -> bool {
    // /proc/<pid>/stat: "pid (comm) S ...", the state after the last ')'.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit_once(')').map(|(_, rest)| rest.trim_start().starts_with('Z')))
        .unwrap_or(false)
}

/// One line on whether pyrad runs, and how it is installed.
pub fn status(paths: &Paths) -> Result<(), ClientError> {
    let installed = service::installed(Target::native());
    let install = match &installed {
        Some(path) => format!("service installed at {}", path.display()),
        None => "no service installed (`pyractl daemon install`)".into(),
    };
    let mut client = Client::connect(&paths.socket).inspect_err(|_| println!("{install}"))?;
    let status = client.call::<DaemonStatus>(&Empty)?;
    println!(
        "pyrad {} is running (pid {}, up {}); {install}",
        status.version,
        status.pid,
        crate::render::duration(status.uptime_secs)
    );
    Ok(())
}
