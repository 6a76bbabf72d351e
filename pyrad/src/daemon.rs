//! The daemon: [`Daemon`] is the cheap, cloneable handle on its state, and [`run`]
//! starts the components in order, serves until the one shutdown source fires,
//! then stops them in reverse order within a time limit.

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proto::ipc::{DatabaseStatus, StatusResult};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::approval::{ApprovalGate, Timeouts};
use crate::chat;
use crate::clock::unix_now;
use crate::config::{Config, IpcSection};
use crate::home::Home;

/// How long the injection scanner's rules stay compiled without a scan (env
/// `PYRA_SCANNER_IDLE_SECS` shortens it for the bench); it is checked every
/// 30 s, or sooner when the idle time is shorter.
static SCANNER_IDLE: std::sync::LazyLock<Duration> = std::sync::LazyLock::new(|| {
    let secs = std::env::var("PYRA_SCANNER_IDLE_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    Duration::from_secs(secs)
});
use crate::memory::Memory;
mod audit;
mod doctor;

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
    /// The check just after the start found the database damaged.
    Damaged,
}

impl StopReason {
    /// The `reason` of the `daemon.stopping` event.
    pub fn as_str(&self) -> &'static str {
        match self {
            StopReason::Signal(_) => "signal",
            StopReason::Request => "request",
            StopReason::Damaged => "damaged",
        }
    }
}

/// Everything `run` needs, prepared by `main` before the runtime serves.
/// How long each step of the start took, logged once pyrad is ready, so a slow
/// start says where its time went.
#[derive(Debug)]
pub struct Phases {
    begun: Instant,
    last: Instant,
    steps: Vec<(&'static str, Duration)>,
    /// When READY went out, and how many steps came before it.
    ready: Option<(Duration, usize)>,
}

impl Phases {
    pub fn start() -> Self {
        let now = Instant::now();
        Self { begun: now, last: now, steps: Vec::new(), ready: None }
    }

    /// Ends the step called `name` now.
    pub fn mark(&mut self, name: &'static str) {
        let now = Instant::now();
        self.steps.push((name, now - self.last));
        self.last = now;
    }

    /// READY was sent now: the steps after it are summed apart.
    fn ready(&mut self) {
        self.ready = Some((self.last - self.begun, self.steps.len()));
    }

    /// `4.2 ms (home 0.6, config 0.3, …)`, or when READY came before the last
    /// steps `1.2 ms (home …, bind 0.04), serving 0.9 ms later (store 0.5, …)`.
    fn summary(&self) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let list = |steps: &[(&str, Duration)]| {
            steps.iter().map(|(n, d)| format!("{n} {:.2}", ms(*d))).collect::<Vec<_>>().join(", ")
        };
        let total = self.last - self.begun;
        match self.ready {
            Some((at, n)) if n < self.steps.len() => format!(
                "{:.1} ms ({}), serving {:.1} ms later ({})",
                ms(at),
                list(&self.steps[..n]),
                ms(total - at),
                list(&self.steps[n..])
            ),
            _ => format!("{:.1} ms ({})", ms(total), list(&self.steps)),
        }
    }
}

pub struct Startup {
    pub home: Home,
    pub config: Config,
    /// The log filter in force, for `daemon.status`.
    pub log_filter: String,
    /// The database is as the last clean stop of this pyrad sealed it (see
    /// `seal`): nothing in opening it can refuse the start, so READY comes as
    /// soon as the socket is bound, and the database, memory and plugins open
    /// right after, while the first connections wait in the socket's backlog.
    pub sealed: bool,
    /// Whether the vault still needs its check (it was sealed): run after READY.
    pub vault_check: crate::seal::Check,
    pub socket: PathBuf,
    pub vault: Arc<Vault>,
    pub phases: Phases,
}

/// The daemon's shared state: private, reached through [`Daemon`]'s methods.
/// Fields are read-mostly; counters are atomics.
struct DaemonState {
    home: Home,
    /// The config in force; `config.reload` swaps it whole.
    config: std::sync::RwLock<Arc<Config>>,
    /// `[ipc]` as the socket was bound (it changes only with a restart).
    ipc: IpcSection,
    /// Serialises reloads.
    reloading: tokio::sync::Mutex<()>,
    socket: PathBuf,
    /// The log filter in force, for `daemon.status`.
    log_filter: Mutex<String>,
    store: Store,
    pid: u32,
    /// For uptime.
    started: Instant,
    /// Unix seconds, for `daemon.status`.
    started_at: u64,
    previous_run_clean: Option<bool>,
    schema_version: u32,
    /// Open client connections.
    connections: AtomicU32,
    /// Fired once, when the daemon starts to stop; every task watches it.
    stop: CancellationToken,
    /// Conversations for every channel: turns, approvals, sessions, audit.
    chat: Arc<chat::Service>,
    /// The user's memory files.
    memory: Memory,
    /// Secrets, decrypted only when used.
    vault: Arc<Vault>,
    /// Plugins: MCP servers run as child processes.
    plugins: Arc<PluginHost>,
    bots: crate::bots::Bots,
    stop_reason: Mutex<Option<StopReason>>,
    /// Why pyrad stops with an error (what the check just after the start found).
    failure: Mutex<Option<Unusable>>,
}

/// A cheap handle on the daemon; clone it into every task. The channels (`ipc`)
/// reach the services they adapt through it: [`chat`](Daemon::chat),
/// [`plugins`](Daemon::plugins), [`memory`](Daemon::memory), [`vault`](Daemon::vault).
#[derive(Clone)]
pub struct Daemon(Arc<DaemonState>);

/// Counts one open connection until it is dropped.
pub struct ConnectionCount(Daemon);

impl Drop for ConnectionCount {
    fn drop(&mut self) {
        self.0.0.connections.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Daemon {
    /// Asks the daemon to stop; the first reason given wins.
    pub fn request_stop(&self, reason: StopReason) {
        if let Ok(mut slot) = self.0.stop_reason.lock() {
            slot.get_or_insert(reason);
        }
        self.0.stop.cancel();
    }

    pub fn stop_reason(&self) -> StopReason {
        self.0.stop_reason.lock().ok().and_then(|r| *r).unwrap_or(StopReason::Request)
    }

    /// Completes when the daemon starts to stop.
    pub async fn stopping(&self) {
        self.0.stop.cancelled().await;
    }

    /// A token cancelled when the daemon stops (or sooner, by its holder: that
    /// does not stop the daemon).
    pub fn child_token(&self) -> CancellationToken {
        self.0.stop.child_token()
    }

    pub fn pid(&self) -> u32 {
        self.0.pid
    }

    /// The `[ipc]` settings: connection and in-flight limits.
    pub fn ipc_settings(&self) -> &IpcSection {
        &self.0.ipc
    }

    /// Counts a new connection; also whether it is over `ipc.max_connections`.
    pub fn count_connection(&self) -> (ConnectionCount, bool) {
        let before = self.0.connections.fetch_add(1, Ordering::Relaxed) as usize;
        (ConnectionCount(self.clone()), before >= self.0.ipc.max_connections)
    }

    pub fn connection_count(&self) -> u32 {
        self.0.connections.load(Ordering::Relaxed)
    }

    pub fn chat(&self) -> &chat::Service {
        &self.0.chat
    }

    pub fn plugins(&self) -> &Arc<PluginHost> {
        &self.0.plugins
    }

    pub fn memory(&self) -> &Memory {
        &self.0.memory
    }

    pub fn vault(&self) -> &Vault {
        &self.0.vault
    }

    /// `logs/security.log`.
    pub fn security_log(&self) -> PathBuf {
        self.0.home.logs().join("security.log")
    }

    /// Each bot's state.
    pub fn bots(&self) -> std::collections::BTreeMap<String, crate::bots::BotState> {
        self.0.bots.status()
    }

    fn bot_deps(&self) -> crate::bots::Deps {
        let d = &self.0;
        crate::bots::Deps {
            service: d.chat.clone(),
            vault: d.vault.clone(),
            store: d.store.clone(),
            home: d.home.root.clone(),
        }
    }

    /// The config in force.
    pub fn config(&self) -> Arc<Config> {
        match self.0.config.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reads `[bots]` from config.toml (and the environment) and the vault again, and restarts the bots.
    pub fn reload_bots(
        &self,
    ) -> Result<std::collections::BTreeMap<String, crate::bots::BotState>, crate::config::ConfigError> {
        let d = &self.0;
        let config = crate::config::Config::load(&d.home.config_file(), std::env::vars())?;
        d.bots.start(&config.bots, self.bot_deps(), &d.stop);
        Ok(d.bots.status())
    }

    /// Reads config.toml (and the environment) again and applies what changed:
    /// provider, chat, approval, plugins, bots and the log level live; what needs
    /// a restart is named. A config that does not load changes nothing.
    pub async fn reload_config(&self) -> Result<proto::ipc::ReloadResult, crate::config::ConfigError> {
        let d = &self.0;
        let _one_at_a_time = d.reloading.lock().await;
        notify::reloading();
        let result = self.apply_config().await;
        notify::ready(&format!("serving on {}", d.socket.display()));
        if let Err(e) = &result {
            tracing::warn!(error = %e, "the configuration was not reloaded; the one in force stays");
        }
        result
    }

    async fn apply_config(&self) -> Result<proto::ipc::ReloadResult, crate::config::ConfigError> {
        let d = &self.0;
        let new = crate::config::Config::load(&d.home.config_file(), std::env::vars())?;
        let old = self.config();
        let mut applied = Vec::new();
        let mut need_restart = Vec::new();
        if new.provider != old.provider || new.chat != old.chat {
            d.chat.set_settings(chat::service::Settings {
                provider: new.provider.clone(),
                chat: new.chat.clone(),
                logs: d.home.logs(),
            });
            for (changed, name) in [(new.provider != old.provider, "provider"), (new.chat != old.chat, "chat")] {
                if changed {
                    applied.push(name.to_owned());
                }
            }
        }
        if new.approval != old.approval {
            d.chat.gate().set_policy(approval_timeouts(&new), new.approval.unattended_allow.clone());
            applied.push("approval".to_owned());
        }
        if new.bots != old.bots {
            d.bots.start(&new.bots, self.bot_deps(), &d.stop);
            applied.push("bots".to_owned());
        }
        if new.daemon.log_level != old.daemon.log_level {
            match crate::logging::set_level(&new.daemon.log_level) {
                Ok(level) => {
                    if let Ok(mut filter) = d.log_filter.lock() {
                        *filter = level;
                    }
                    applied.push("log_level".to_owned());
                }
                Err(e) => need_restart.push(format!("[daemon] log_level: {e}")),
            }
        }
        if new.daemon.log_max_mib != old.daemon.log_max_mib {
            need_restart.push("[daemon] log_max_mib: the log file is opened at start".to_owned());
        }
        if new.ipc != d.ipc {
            need_restart.push("[ipc]: the socket and its limits are set when it is bound".to_owned());
        }
        let plugins_changed = new.plugins != old.plugins;
        let shutdown_changed = new.daemon.shutdown_timeout_secs != old.daemon.shutdown_timeout_secs;
        if shutdown_changed {
            applied.push("shutdown_timeout".to_owned());
        }
        match d.config.write() {
            Ok(mut c) => *c = Arc::new(new),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(new),
        }
        if plugins_changed {
            let current = d.plugins.paths();
            let paths = host_paths(&d.home, &self.config(), current.landlock_abi, current.cgroups.clone());
            d.plugins.reconfigure(paths).await;
            applied.push("plugins".to_owned());
        }
        tracing::info!(applied = ?applied, need_restart = ?need_restart, "configuration reloaded");
        Ok(proto::ipc::ReloadResult { applied, need_restart })
    }

    /// What `daemon.status` answers.
    pub fn status(&self) -> StatusResult {
        let d = &self.0;
        StatusResult {
            version: env!("CARGO_PKG_VERSION").into(),
            protocol_version: proto::PROTOCOL_VERSION,
            pid: d.pid,
            uptime_secs: (d.started.elapsed().as_millis() as f64) / 1000.0,
            started_at: d.started_at,
            home: d.home.root.display().to_string(),
            socket: d.socket.display().to_string(),
            connections: self.connection_count(),
            log_level: d.log_filter.lock().map(|f| f.clone()).unwrap_or_default(),
            database: DatabaseStatus {
                path: d.store.path().display().to_string(),
                schema_version: d.schema_version,
                previous_run_clean: d.previous_run_clean,
            },
            provider: self.provider(),
            sessions: None,
            plugins: Some(d.plugins.counts()),
            bots: Some(d.bots.status()),
        }
    }

    /// The configured provider, or `None` when none is.
    fn provider(&self) -> Option<serde_json::Value> {
        let config = self.config();
        let p = &config.provider;
        if p.preset.is_empty() {
            return None;
        }
        Some(match self.0.chat.provider() {
            Ok(r) => {
                let mut out = serde_json::json!({"preset": p.preset, "model": r.model, "base_url": r.base_url});
                if let Some((price, source)) = p.price_and_source(r.preset, &r.model) {
                    out["price"] = serde_json::json!({"input": price.input, "output": price.output, "source": source});
                }
                out
            }
            Err(_) => serde_json::json!({"preset": p.preset, "model": p.model, "base_url": p.base_url}),
        })
    }
}

/// The database, the vault or memory cannot be used (exit 78): found while
/// starting, or by the checks just after READY when the last clean stop sealed
/// them; either way pyrad does not serve on it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unusable(String);

impl Daemon {
    /// The checks a sealed database and vault skipped before READY (see
    /// `seal`). What fails takes its seal away, so the next start checks first
    /// and refuses there.
    fn deferred_checks(&self, [store, vault]: [crate::seal::Check; 2]) -> Result<(), Unusable> {
        use crate::seal::Check::Deferred;
        let took = Instant::now();
        if store == Deferred
            && let Err(e) = self.0.store.check()
        {
            crate::seal::remove(&self.0.home.database_seal());
            return Err(Unusable(e.to_string()));
        }
        if vault == Deferred
            && let Err(e) = self.0.vault.check()
        {
            crate::seal::remove(&self.0.home.vault_seal());
            return Err(Unusable(format!("{e}, found by the check just after the start; pyrad stops")));
        }
        if store == Deferred || vault == Deferred {
            tracing::debug!(
                took_us = took.elapsed().as_micros() as u64,
                database = store == Deferred,
                vault = vault == Deferred,
                "what the last clean stop sealed passed its checks after READY"
            );
        }
        Ok(())
    }
}

/// How plugins are found and run, from `config` (the kernel's sandbox and the
/// cgroups are probed once, at start).
fn host_paths(
    home: &Home,
    config: &Config,
    landlock_abi: i32,
    cgroups: Result<Arc<crate::cgroup::Cgroups>, crate::cgroup::CgroupError>,
) -> HostPaths {
    HostPaths {
        search: search_paths(&home.root.join("plugins"), &config.plugins.paths),
        logs: home.logs().join("plugins"),
        data: home.root.join("data").join("plugins"),
        sandbox: config.plugins.sandbox.then(|| home.root.clone()),
        health_every: Duration::from_secs(config.plugins.health_secs.max(1)),
        trusted_keys: crate::plugins::trust::TrustedKeys::new(&config.plugins.trusted_keys),
        unsandboxed: config.plugins.overrides.keys().filter(|n| config.plugins.unsandboxed(n)).cloned().collect(),
        landlock_abi,
        cgroups,
    }
}

/// `[approval]` timeouts.
fn approval_timeouts(config: &Config) -> Timeouts {
    Timeouts {
        default: Duration::from_secs(config.approval.timeout_secs),
        by_kind: config.approval.timeouts.iter().map(|(k, v)| (k.clone(), Duration::from_secs(*v))).collect(),
    }
}

/// The file that marks a run in progress (`run/pyrad.running`).
const RUNNING_MARKER: &str = "pyrad.running";
/// How often the database is backed up.
const BACKUP_EVERY: Duration = Duration::from_secs(24 * 3600);

/// Serves until `shutdown` completes or a client asks to stop, then stops cleanly.
pub async fn run(startup: Startup, shutdown: impl Future<Output = StopReason>) -> anyhow::Result<()> {
    let Startup { home, config, log_filter, sealed, vault_check, socket, vault, mut phases } = startup;
    phases.mark("runtime");
    let pid = std::process::id();
    let started_at = unix_now();
    let summary = format!("serving on {}", socket.display());
    // A sealed start says READY once the socket is bound: what follows cannot
    // refuse it, and a client that connects meanwhile waits in the backlog.
    let early = if sealed {
        let listener = ipc::bind(&socket)?;
        phases.mark("bind");
        notify::ready(&summary);
        phases.ready();
        Some(listener)
    } else {
        None
    };
    let (store, db_check) = crate::store::Store::open_sealed(&home.database(), Some(&home.database_seal()))
        .map_err(|e| Unusable(e.to_string()))?;
    phases.mark("store");
    let memory =
        Memory::open(&home.memory(), store.clone()).map_err(|e| Unusable(format!("while opening memory: {e}")))?;
    phases.mark("memory");
    let checks = [db_check, vault_check];
    let schema_version = store.schema_version()?;
    // The cgroups are probed after READY, once, before the first plugin starts
    // (below): a third of the start's work on a cgroup v1 host, and READY does not
    // need them. (Probe once only: a second `Cgroups` of this pid would remove the
    // first one's groups when dropped.)
    let plugin_paths = host_paths(
        &home,
        &config,
        crate::sandbox::landlock_abi(),
        Err(crate::cgroup::CgroupError::from("not probed yet")),
    );
    let plugins = PluginHost::new(plugin_paths, vault.clone(), store.clone());
    let timeouts = approval_timeouts(&config);
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
    // Everything that can refuse a start is done; only now is this a run. A run is
    // marked by `run/pyrad.running`, removed at a clean stop: an unlink needs no free
    // space, so a clean stop on a full disk is still known as clean, and a start
    // that failed before this point leaves no false "did not stop cleanly".
    phases.mark("services");
    let listener = match early {
        Some(listener) => listener,
        None => {
            let listener = ipc::bind(&socket)?;
            phases.mark("bind");
            listener
        }
    };
    let running = home.run().join(RUNNING_MARKER);
    let crashed = std::fs::symlink_metadata(&running).is_ok();
    let previous_run = store.last_run_clean()?;
    let previous_run_clean = if crashed { Some(false) } else { previous_run.map(|_| true) };
    if crashed {
        tracing::warn!("the previous run of pyrad did not stop cleanly (crash or kill)");
    }
    let mark = || {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file =
            std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&running)?;
        writeln!(file, "{pid}")
    };
    if let Err(e) = mark() {
        tracing::warn!(path = %running.display(), error = %e, "cannot mark the run; a crash of it will not be noticed");
    }
    let daemon = Daemon(Arc::new(DaemonState {
        home,
        ipc: config.ipc.clone(),
        config: std::sync::RwLock::new(Arc::new(config)),
        reloading: tokio::sync::Mutex::new(()),
        socket,
        log_filter: Mutex::new(log_filter),
        store,
        pid,
        started: Instant::now(),
        started_at,
        previous_run_clean,
        schema_version,
        connections: AtomicU32::new(0),
        stop: CancellationToken::new(),
        chat,
        memory,
        vault,
        plugins,
        bots: crate::bots::Bots::default(),
        stop_reason: Mutex::new(None),
        failure: Mutex::new(None),
    }));

    let state = &daemon.0;
    // Plugins are known (not started) before the first connection is served, so
    // the first plugins.list is complete.
    state.plugins.discover().await;
    phases.mark("plugins");
    if !sealed {
        notify::ready(&summary);
        phases.mark("ready");
        phases.ready();
    }
    tracing::info!(
        pid,
        socket = %state.socket.display(),
        "pyrad {} ready in {}",
        env!("CARGO_PKG_VERSION"),
        phases.summary()
    );
    notify::spawn_watchdog(state.stop.clone());
    // This run's row in `daemon_runs` (closed on a clean stop) is written after
    // READY: the first write to the database syncs its log, and READY need not wait.
    // Before it, the quick check of a database that a clean stop sealed: damage
    // found then stops pyrad as it would have refused the start.
    let store = state.store.clone();
    let checker = daemon.clone();
    let this_run = tokio::task::spawn_blocking(move || {
        if let Err(found) = checker.deferred_checks(checks) {
            tracing::error!("{found}");
            if let Ok(mut slot) = checker.0.failure.lock() {
                *slot = Some(found);
            }
            checker.request_stop(StopReason::Damaged);
            return Err(crate::store::StoreError::Io("not recorded: the check after the start failed".into()));
        }
        let recorded = store.begin_run(pid, env!("CARGO_PKG_VERSION"), started_at).map(|r| r.0);
        if let Err(e) = &recorded {
            tracing::warn!(error = %e, "could not record this run in the database; pyrad serves on");
        }
        recorded
    });
    // SIGHUP (the unit's ExecReload) reloads the configuration, as `config.reload` does.
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(mut hup) => {
            let daemon = daemon.clone();
            let stop = state.stop.clone();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        got = hup.recv() => if got.is_none() { return },
                        () = stop.cancelled() => return,
                    }
                    tracing::info!("SIGHUP: reloading the configuration");
                    let _ = daemon.reload_config().await;
                }
            });
        }
        Err(e) => tracing::warn!(error = %e, "cannot handle SIGHUP; `pyractl config reload` still works"),
    }
    // The bots connect after READY too; one that fails is reported and retried, never fatal.
    let deps = crate::bots::Deps {
        service: state.chat.clone(),
        vault: state.vault.clone(),
        store: state.store.clone(),
        home: state.home.root.clone(),
    };
    state.bots.start(&daemon.config().bots, deps, &state.stop);
    // The scanner's compiled rules (tens of MB once warm) are dropped after five
    // quiet minutes and built again on the next scan (about 120 ms).
    let stop = state.stop.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = tokio::time::sleep((*SCANNER_IDLE).min(Duration::from_secs(30))) => {}
                () = stop.cancelled() => return,
            }
            let released =
                tokio::task::spawn_blocking(|| crate::security::injection::release_if_idle(*SCANNER_IDLE)).await;
            if matches!(released, Ok(true)) {
                tracing::debug!("released the idle injection scanner's rules");
            }
        }
    });
    // Memory is given back after large messages (see memtrim.rs).
    let stop = state.stop.clone();
    let store = state.store.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(2)) => {}
                () = stop.cancelled() => return,
            }
            if !crate::memtrim::take_noted() {
                continue;
            }
            let store = store.clone();
            let _ = tokio::task::spawn_blocking(move || {
                let before = Instant::now();
                if let Err(e) = store.shrink_memory() {
                    tracing::debug!(error = %e, "could not shrink SQLite's cache");
                }
                crate::memtrim::trim();
                tracing::debug!(
                    took_us = before.elapsed().as_micros() as u64,
                    "gave memory back after a large message"
                );
            })
            .await;
        }
    });
    // A daily online backup of the database; the last seven are kept.
    let store = state.store.clone();
    let stop = state.stop.clone();
    tokio::spawn(async move {
        let db = store.path().to_owned();
        let dir = crate::store::backup::dir(&db);
        loop {
            if crate::store::backup::due(&dir, BACKUP_EVERY) {
                let (db, dir) = (db.clone(), dir.clone());
                let made = tokio::task::spawn_blocking(move || {
                    crate::store::backup::daily(&db, &dir, std::time::SystemTime::now())
                })
                .await;
                match made {
                    Ok(Ok(path)) => tracing::info!(path = %path.display(), "backed up the database"),
                    Ok(Err(e)) => tracing::warn!(error = %e, "the daily database backup failed; retrying in an hour"),
                    Err(e) => tracing::warn!(error = %e, "the daily database backup failed; retrying in an hour"),
                }
                // The copy's pages and the second connection were heap: give them back.
                crate::memtrim::note_large();
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(3600)) => {}
                () = stop.cancelled() => return,
            }
        }
    });
    // Plugins start after READY: a slow one (npx fetching a package) must not hold up the daemon.
    // So are the cgroups probed (and, under systemd, pyrad moved into its leaf): a
    // few file reads and writes that the first plugin needs and READY does not.
    let host = state.plugins.clone();
    let stop = state.stop.clone();
    tokio::spawn(async move {
        let probed = tokio::task::spawn_blocking(|| crate::cgroup::Cgroups::detect().map(Arc::new)).await;
        let cgroups = probed.unwrap_or_else(|e| Err(crate::cgroup::CgroupError::from(e.to_string())));
        match &cgroups {
            Ok(c) => tracing::info!(cgroups = %c.describe(), "plugins get hard memory and process caps"),
            Err(why) => tracing::info!(%why, "no cgroups for plugins: their memory is sampled every 2 s instead"),
        }
        host.set_cgroups(cgroups);
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
    state.stop.cancel();
    drop(listener);
    if let Err(e) = std::fs::remove_file(&state.socket)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(error = %e, "could not remove the socket file");
    }

    connections.close();
    let grace = Duration::from_secs(daemon.config().daemon.shutdown_timeout_secs);
    if tokio::time::timeout(grace, connections.wait()).await.is_err() {
        tracing::warn!(?grace, "in-flight requests did not finish in time; abandoning them");
    }

    if tokio::time::timeout(grace, state.plugins.stop_all()).await.is_err() {
        tracing::warn!("plugins did not stop in time; they are killed with pyrad");
    }

    // The marker goes first: its removal needs no free space. The record in the
    // database is history; if it cannot be written (a full disk), the stop was
    // still clean and nothing is lost, so it is a warning.
    let running = state.home.run().join(RUNNING_MARKER);
    if let Err(e) = std::fs::remove_file(&running)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %running.display(), error = %e, "cannot remove the run marker");
    }
    if let Some(failure) = state.failure.lock().ok().and_then(|mut f| f.take()) {
        return Err(failure.into());
    }
    // The clean stop's record, then the seals: the checked database and the
    // vault as this stop leaves them, so the next start need not check them
    // before READY.
    let store = state.store.clone();
    let sealer = daemon.clone();
    let ended = match this_run.await {
        Ok(Ok(run_id)) => tokio::task::spawn_blocking(move || {
            store.end_run(run_id, unix_now())?;
            let home = &sealer.0.home;
            if let Err(e) = store.seal(&home.database_seal()) {
                tracing::debug!(error = %e, "the database is not sealed; the next start checks it first");
            }
            if let Err(e) = sealer.0.vault.seal(&home.vault_seal()) {
                tracing::debug!(error = %e, "the vault is not sealed; the next start checks it first");
            }
            Ok::<_, crate::store::StoreError>(())
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string())),
        Ok(Err(e)) => Err(format!("this run was never recorded: {e}")),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = ended {
        tracing::warn!(error = %e, "could not record the clean stop in the database");
    }
    tracing::info!("pyrad stopped");
    Ok(())
}
