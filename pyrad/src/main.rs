//! `pyrad`, Pyra's daemon. Runs in the foreground (systemd, launchd or
//! `pyractl daemon start` put it in the background): bootstrap the home, load the
//! config, set up logging, take the instance lock, open the store, then serve
//! until SIGTERM, SIGINT or `daemon.shutdown`.

mod approval;
mod bots;
mod cgroup;
mod chat;
mod clock;
mod config;
mod daemon;
mod home;
mod instance;
mod ipc;
mod llm;
mod logfile;
mod logging;
mod memory;
mod memtrim;
mod notify;
mod plugins;
mod sandbox;
mod seal;
mod security;
mod store;
mod vault;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use crate::config::Config;
use crate::daemon::StopReason;

/// Exit codes, documented in docs/ARCHITECTURE.md and the unit file.
mod exit {
    /// A failure while running.
    pub const FAILURE: u8 = 1;
    /// Another pyrad holds this home.
    pub const ALREADY_RUNNING: u8 = 3;
    /// The home or the config cannot be used (EX_CONFIG); restarting will not help.
    pub const CONFIG: u8 = 78;
}

#[derive(Debug, Parser)]
#[command(name = "pyrad", version, about = "Pyra's daemon: run it in the foreground, talk to it with pyractl")]
struct Args {
    /// Pyra's home directory.
    #[arg(long, env = "PYRA_HOME", value_name = "DIR")]
    home: Option<PathBuf>,
}

fn main() -> ExitCode {
    // `pyrad --sandbox-exec -- <plugin command>`: restrict, then become the plugin.
    let raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if raw.get(1).is_some_and(|a| a == sandbox::FLAG) {
        sandbox::exec(&raw);
    }
    let args = Args::parse();
    memtrim::configure();
    // Everything pyrad creates is private to its user, whatever the caller's umask.
    // SAFETY: umask only changes this process's file-creation mask.
    unsafe { libc::umask(0o077) };

    let prepared = match prepare(&args) {
        Ok(prepared) => prepared,
        Err(Failure { code, error }) => {
            logging::fatal(&error);
            return ExitCode::from(code);
        }
    };

    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("pyrad: cannot start the async runtime: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    let (startup, lock) = prepared;
    let result = runtime.block_on(async { daemon::run(startup, shutdown_signal()?).await });
    lock.release();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            logging::fatal(&e);
            // The database or memory that cannot be used, found by `run` (before
            // READY, or just after it when the last clean stop sealed them).
            let unusable = e.downcast_ref::<daemon::Unusable>().is_some();
            ExitCode::from(if unusable { exit::CONFIG } else { exit::FAILURE })
        }
    }
}

struct Failure {
    code: u8,
    error: anyhow::Error,
}

fn fail(code: u8) -> impl FnOnce(anyhow::Error) -> Failure {
    move |error| Failure { code, error }
}

/// Everything before the runtime: home, config, logging, lock, socket path, vault.
fn prepare(args: &Args) -> Result<(daemon::Startup, instance::InstanceLock), Failure> {
    let mut phases = daemon::Phases::start();
    let root = args
        .home
        .clone()
        .or_else(home::default_root)
        .context("cannot tell where Pyra's home is: set PYRA_HOME or HOME")
        .map_err(fail(exit::CONFIG))?;
    let boot = home::bootstrap(&root).map_err(|e| fail(exit::CONFIG)(e.into()))?;
    let home = boot.home;
    phases.mark("home");
    let config = Config::load(&home.config_file(), std::env::vars()).map_err(|e| fail(exit::CONFIG)(e.into()))?;
    phases.mark("config");
    logging::cap_service_logs(&home.logs());
    let log_filter =
        logging::init(&config.daemon.log_level, &home.log_file(), config.daemon.log_max_mib.max(1) * 1024 * 1024)
            .map_err(fail(exit::CONFIG))?;
    if boot.first_setup {
        tracing::info!(home = %home.root.display(), "set up a new Pyra home");
    }
    for repair in &boot.repairs {
        tracing::warn!("{repair}");
    }
    phases.mark("logging");
    let socket = socket_path(&home, &config).map_err(fail(exit::CONFIG))?;
    let lock = instance::InstanceLock::acquire(&home.pid_file()).map_err(|e| match e {
        instance::InstanceError::Running { .. } => fail(exit::ALREADY_RUNNING)(e.into()),
        other => fail(exit::FAILURE)(other.into()),
    })?;
    phases.mark("lock");
    let (vault, vault_check) = vault::Vault::open_sealed(&home.vault(), &home.vault_seal())
        .context("while opening the vault")
        .map_err(fail(exit::CONFIG))?;
    phases.mark("vault");
    let vault = std::sync::Arc::new(vault);
    let sealed = store::Store::is_sealed(&home.database(), &home.database_seal());
    Ok((daemon::Startup { home, config, log_filter, sealed, vault_check, socket, vault, phases }, lock))
}

/// The socket path from config: empty means the default, relative is inside the
/// home (through the safe-path check), absolute must sit in a private directory.
fn socket_path(home: &home::Home, config: &Config) -> anyhow::Result<PathBuf> {
    let configured = &config.ipc.socket;
    if configured.as_os_str().is_empty() {
        return Ok(home.default_socket());
    }
    let path = if configured.is_absolute() {
        configured.clone()
    } else {
        let name = configured.to_str().context("ipc.socket is not valid UTF-8")?;
        security::safe_join(&home.root, name).context("ipc.socket")?
    };
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("/"));
    check_private_dir(parent).with_context(|| format!("ipc.socket {}", path.display()))?;
    Ok(path)
}

/// A socket's directory must be ours and closed to others; one we create is 0700.
fn check_private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    if std::fs::symlink_metadata(dir).is_err() {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    }
    let meta = std::fs::symlink_metadata(dir)?;
    let me = security::modes::euid();
    anyhow::ensure!(meta.is_dir(), "{} is not a directory", dir.display());
    anyhow::ensure!(meta.uid() == me, "{} is owned by uid {}, not {me}", dir.display(), meta.uid());
    anyhow::ensure!(
        meta.mode() & 0o077 == 0,
        "{} has mode {:04o}; the socket's directory must be closed to others (chmod 700)",
        dir.display(),
        meta.mode() & 0o7777
    );
    Ok(())
}

/// The one shutdown source for signals: the first SIGTERM or SIGINT. The handlers
/// are installed when this is called, before `READY=1` can be sent: a SIGTERM
/// that arrives right after start-up must stop pyrad cleanly, not kill it.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = StopReason>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => StopReason::Signal("SIGTERM"),
            _ = int.recv() => StopReason::Signal("SIGINT"),
        }
    })
}
