//! The daemon: [`Daemon`] is the cheap, cloneable handle on its state, and [`run`]
//! starts the components in order, serves until the one shutdown source fires,
//! then stops them in reverse order within a time limit.

use std::future::Future;
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::approval::{ApprovalGate, Timeouts};
use crate::chat;
use crate::clock::unix_now;
use crate::config::Config;
use crate::home::Home;
use crate::memory::Memory;
use crate::plugins::adapter::PluginHooks;
use crate::plugins::host::{HostPaths, PluginHost, search_paths};
use crate::store::Store;
use crate::vault::Vault;
use crate::{ipc, notify};

/// Why the daemon stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// SIGTERM or SIGINT.
    Signal(&'static str),
    /// A client called `daemon.shutdown`.
    Request,
}

impl StopReason {
    /// The `reason` of the `daemon.stopping` event.
    pub fn as_str(&self) -> &'static str {
        match self {
            StopReason::Signal(_) => "signal",
            StopReason::Request => "request",
        }
    }
}

/// Everything `run` needs, prepared by `main` before the runtime serves.
pub struct Startup {
    pub home: Home,
    pub config: Config,
    /// The log filter in force, for `daemon.status`.
    pub log_filter: String,
    pub store: Store,
    pub socket: PathBuf,
}

/// The daemon's shared state. Fields are read-mostly; counters are atomics.
pub struct DaemonState {
    pub home: Home,
    pub config: Config,
    pub socket: PathBuf,
    pub log_filter: String,
    pub store: Store,
    pub pid: u32,
    /// For uptime.
    pub started: Instant,
    /// Unix seconds, for `daemon.status`.
    pub started_at: u64,
    /// This run's row in `daemon_runs`, closed on a clean stop.
    pub run_id: i64,
    pub previous_run_clean: Option<bool>,
    pub schema_version: u32,
    /// Open client connections.
    pub connections: AtomicU32,
    /// Fired once, when the daemon starts to stop; every task watches it.
    pub stop: CancellationToken,
    /// Conversations for every channel: turns, approvals, sessions, audit.
    pub chat: Arc<chat::Service>,
    /// The user's memory files.
    pub memory: Memory,
    /// Secrets, decrypted only when used.
    pub vault: Arc<Vault>,
    /// Plugins: MCP servers run as child processes.
    pub plugins: Arc<PluginHost>,
    stop_reason: Mutex<Option<StopReason>>,
}

/// A cheap handle on the daemon; clone it into every task.
#[derive(Clone)]
pub struct Daemon(Arc<DaemonState>);

impl Deref for Daemon {
    type Target = DaemonState;
    fn deref(&self) -> &DaemonState {
        &self.0
    }
}

impl Daemon {
    /// Asks the daemon to stop; the first reason given wins.
    pub fn request_stop(&self, reason: StopReason) {
        if let Ok(mut slot) = self.stop_reason.lock() {
            slot.get_or_insert(reason);
        }
        self.stop.cancel();
    }

    pub fn stop_reason(&self) -> StopReason {
        self.stop_reason.lock().ok().and_then(|r| *r).unwrap_or(StopReason::Request)
    }

    pub fn connection_count(&self) -> u32 {
        self.connections.load(Ordering::Relaxed)
    }
}

/// Serves until `shutdown` completes or a client asks to stop, then stops cleanly.
pub async fn run(startup: Startup, shutdown: impl Future<Output = StopReason>) -> anyhow::Result<()> {
    let Startup { home, config, log_filter, store, socket } = startup;
    let pid = std::process::id();
    let started_at = unix_now();
    let (run_id, previous_run_clean) = store.begin_run(pid, env!("CARGO_PKG_VERSION"), started_at)?;
    if previous_run_clean == Some(false) {
        tracing::warn!("the previous run of pyrad did not stop cleanly (crash or kill)");
    }
    let schema_version = store.schema_version()?;
    let vault = Arc::new(Vault::open(&home.vault()).context("while opening the vault")?);
    let plugin_paths = HostPaths {
        search: search_paths(&home.root.join("plugins"), &config.plugins.paths),
        logs: home.logs().join("plugins"),
        data: home.root.join("data").join("plugins"),
        sandbox: config.plugins.sandbox.then(|| home.root.clone()),
        health_every: Duration::from_secs(config.plugins.health_secs.max(1)),
    };
    let plugins = PluginHost::new(plugin_paths, vault.clone(), store.clone());
    let memory = Memory::open(&home.memory(), store.clone()).context("while opening memory")?;
    let timeouts = Timeouts {
        default: Duration::from_secs(config.approval.timeout_secs),
        by_kind: config.approval.timeouts.iter().map(|(k, v)| (k.clone(), Duration::from_secs(*v))).collect(),
    };
    let gate = Arc::new(ApprovalGate::new(
        store.clone(),
        timeouts,
        config.approval.unattended_allow.clone(),
        home.logs().join("tool_executions.log"),
    ));
    let settings =
        chat::service::Settings { provider: config.provider.clone(), chat: config.chat.clone(), logs: home.logs() };
    // The one place chat meets the plugins: the host, through chat's own traits.
    let chat = Arc::new(chat::Service::new(
        store.clone(),
        gate,
        memory.clone(),
        plugins.clone(),
        Arc::new(PluginHooks(plugins.clone())),
        vault.clone(),
        settings,
    ));
    let daemon = Daemon(Arc::new(DaemonState {
        home,
        config,
        socket,
        log_filter,
        store,
        pid,
        started: Instant::now(),
        started_at,
        run_id,
        previous_run_clean,
        schema_version,
        connections: AtomicU32::new(0),
        stop: CancellationToken::new(),
        chat,
        memory,
        vault,
        plugins,
        stop_reason: Mutex::new(None),
    }));

    let listener = ipc::bind(&daemon.socket)?;
    let summary = format!("serving on {}", daemon.socket.display());
    // Plugins are known (not started) before READY, so the first plugins.list is complete.
    daemon.plugins.discover().await;
    tracing::info!(pid, socket = %daemon.socket.display(), "pyrad {} ready", env!("CARGO_PKG_VERSION"));
    notify::ready(&summary);
    notify::spawn_watchdog(daemon.stop.clone());
    // Plugins start after READY: a slow one (npx fetching a package) must not hold up the daemon.
    let host = daemon.plugins.clone();
    let stop = daemon.stop.clone();
    tokio::spawn(async move {
        host.start_all().await;
        // A plugin folder added, removed or edited is picked up without a restart.
        host.watch(Duration::from_secs(2), stop).await;
    });

    let connections = TaskTracker::new();
    tokio::pin!(shutdown);
    tokio::select! {
        () = ipc::accept_loop(&listener, &daemon, &connections) => {}
        reason = &mut shutdown => daemon.request_stop(reason),
    }

    let reason = daemon.stop_reason();
    tracing::info!(?reason, "stopping");
    notify::stopping("stopping");
    daemon.stop.cancel();
    drop(listener);
    if let Err(e) = std::fs::remove_file(&daemon.socket)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(error = %e, "could not remove the socket file");
    }

    connections.close();
    let grace = Duration::from_secs(daemon.config.daemon.shutdown_timeout_secs);
    if tokio::time::timeout(grace, connections.wait()).await.is_err() {
        tracing::warn!(?grace, "in-flight requests did not finish in time; abandoning them");
    }

    if tokio::time::timeout(grace, daemon.plugins.stop_all()).await.is_err() {
        tracing::warn!("plugins did not stop in time; they are killed with pyrad");
    }

    let store = daemon.store.clone();
    let run_id = daemon.run_id;
    tokio::task::spawn_blocking(move || store.end_run(run_id, unix_now()))
        .await
        .context("while recording the clean stop")??;
    tracing::info!("pyrad stopped");
    Ok(())
}
