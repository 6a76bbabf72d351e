//! The plugin host: discovers plugin folders, validates their manifests, starts
//! them in dependency order, exposes their MCP tools as `plugin__tool`, restarts a
//! crashed plugin with bounded backoff, and reports each plugin's state. One bad
//! plugin is marked failed with its reason; the others and pyrad go on.
//!
//! This file holds the registry (what the folders hold, in which order) and the
//! lifecycle of the whole set: start, reload, refresh, enable, disable, install,
//! uninstall, stop. One plugin's run (spawn to crash) is in `supervise.rs`, how its
//! process is built and sandboxed in `spawn.rs`, its tools in `tools.rs`, hook
//! dispatch in `hooks.rs`, its settings and exemptions in `settings.rs`, prompts
//! and resources in `catalog.rs`. The host knows nothing of chat:
//! `plugins::adapter` offers it to chat's traits.

mod catalog;
mod error;
mod hooks;
mod settings;
mod spawn;
mod supervise;
mod tools;
mod trust;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proto::ipc::PluginInfo;

use super::manifest::Manifest;
use super::mcp::{McpClient, McpTool};
use super::order::{Unplaced, order};
use super::process::PluginProcess;
use crate::vault::Vault;

pub use error::PluginError;
pub use tools::{PluginTool, tool_name};
pub use trust::{Changes, Trust, is_bundled};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Discovered,
    Starting,
    Active,
    Failed(String),
    Disabled,
    Skipped(String),
    Stopping,
    /// Its files changed since the user accepted them: not started.
    Modified(String),
}

impl State {
    /// The state's name and reason, as `plugins.list` shows them.
    pub fn parts(&self) -> (&'static str, Option<String>) {
        match self {
            State::Discovered => ("discovered", None),
            State::Starting => ("starting", None),
            State::Active => ("active", None),
            State::Failed(r) => ("failed", Some(r.clone())),
            State::Disabled => ("disabled", None),
            State::Skipped(r) => ("skipped", Some(r.clone())),
            State::Stopping => ("stopping", None),
            State::Modified(r) => ("modified", Some(r.clone())),
        }
    }
}

struct Running {
    client: Arc<McpClient>,
    process: PluginProcess,
}

/// What one run of the process reported, set together when it connects.
#[derive(Default)]
struct RunInfo {
    tools: Vec<McpTool>,
    pid: Option<u32>,
    /// Spawn to tool list, last start.
    start_ms: Option<f64>,
    /// Why pyrad killed it, when it did (health check, memory limit): the crash reason.
    killed_for: Option<String>,
    /// Forks and threads its cgroup refused at its process cap, as last reported.
    pids_refused: u64,
}

/// A plugin's figures across its runs, for `plugin list` and the restart backoff.
#[derive(Default)]
struct Figures {
    calls: u64,
    errors: u64,
    restarts: u64,
    /// Recent call latencies in ms, for the p50 shown in `plugin list`.
    latencies: Vec<f64>,
    /// When it crashed recently, for the crash limit.
    crashes: Vec<Instant>,
}

/// One plugin and everything known about it.
pub struct Plugin {
    pub manifest: Manifest,
    dir: PathBuf,
    state: Mutex<State>,
    /// The process and its client while it runs (async: stopping waits on the process).
    running: tokio::sync::Mutex<Option<Running>>,
    run: Mutex<RunInfo>,
    figures: Mutex<Figures>,
    /// Its folder's entries when it was discovered: a change restarts it.
    stamp: Stamp,
    /// Who vouches for its files (set when the folders are scanned).
    trust: Mutex<Trust>,
    /// `logs/security.log`, where a limit it hits is recorded.
    security_log: PathBuf,
}

impl Plugin {
    fn new(manifest: Manifest, dir: PathBuf, security_log: PathBuf) -> Self {
        let stamp = folder_stamp(&dir);
        Self {
            manifest,
            dir,
            state: Mutex::new(State::Discovered),
            running: tokio::sync::Mutex::new(None),
            run: Mutex::default(),
            figures: Mutex::default(),
            stamp,
            trust: Mutex::new(Trust::Dev),
            security_log,
        }
    }

    fn set_trust(&self, trust: Trust) {
        if let Ok(mut t) = self.trust.lock() {
            *t = trust;
        }
    }

    pub fn trust(&self) -> Trust {
        self.trust.lock().map(|t| t.clone()).unwrap_or(Trust::Unverified)
    }

    fn set_state(&self, state: State) {
        if let Ok(mut s) = self.state.lock() {
            *s = state;
        }
    }

    pub fn state(&self) -> State {
        self.state.lock().map(|s| s.clone()).unwrap_or(State::Failed("state lock poisoned".into()))
    }

    /// `f` on what its current run reported; `None` if the lock is poisoned.
    fn with_run<T>(&self, f: impl FnOnce(&mut RunInfo) -> T) -> Option<T> {
        self.run.lock().ok().map(|mut r| f(&mut r))
    }

    /// `f` on its figures; `None` if the lock is poisoned.
    fn with_figures<T>(&self, f: impl FnOnce(&mut Figures) -> T) -> Option<T> {
        self.figures.lock().ok().map(|mut r| f(&mut r))
    }

    fn pid(&self) -> Option<u32> {
        self.with_run(|r| r.pid).flatten()
    }

    fn tools(&self) -> Vec<McpTool> {
        self.with_run(|r| r.tools.clone()).unwrap_or_default()
    }

    fn record(&self, started: Instant, ok: bool) {
        self.with_figures(|f| {
            f.calls += 1;
            if !ok {
                f.errors += 1;
            }
            if f.latencies.len() >= 256 {
                f.latencies.remove(0);
            }
            f.latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        });
    }

    /// Its figures; `rss` is resident bytes per process group (`procfs::rss_by_group`);
    /// `confinement` is how the host confines it (`PluginHost::confinement`).
    fn report(&self, rss: &std::collections::HashMap<u32, u64>, confinement: (&str, &str)) -> PluginInfo {
        let (server, garbage_lines) = self
            .running
            .try_lock()
            .ok()
            .and_then(|r| {
                r.as_ref().map(|r| {
                    let s = &r.client.server;
                    (
                        format!("{} {} (MCP {})", s.name, s.version, s.protocol_version),
                        r.client.garbage.load(std::sync::atomic::Ordering::Relaxed),
                    )
                })
            })
            .unwrap_or_default();
        let (calls, errors, restarts, p50) = self
            .with_figures(|f| {
                let mut v = f.latencies.clone();
                v.sort_by(f64::total_cmp);
                (f.calls, f.errors, f.restarts, v.get(v.len() / 2).copied())
            })
            .unwrap_or_default();
        let (pid, tools, start_ms) = self
            .with_run(|r| {
                let tools = r.tools.iter().map(|t| tool_name(&self.manifest.name, &t.name)).collect();
                (r.pid, tools, r.start_ms)
            })
            .unwrap_or_default();
        let (state, reason) = self.state().parts();
        PluginInfo {
            name: self.manifest.name.clone(),
            version: self.manifest.version.to_string(),
            description: self.manifest.description.clone(),
            state: state.into(),
            reason,
            pid,
            rss_mib: pid
                .filter(|_| self.state() == State::Active)
                .and_then(|pid| rss.get(&pid))
                .map(|b| *b as f64 / (1024.0 * 1024.0)),
            tools,
            calls,
            errors,
            p50_ms: p50,
            restarts,
            server,
            garbage_lines,
            start_ms,
            exempt_declared: self.manifest.approval.exempt.clone(),
            exempt_granted: Vec::new(),
            installed_from: None,
            sha256: None,
            trust: self.trust().word().to_owned(),
            publisher: self.trust().publisher(),
            sandbox: confinement.0.to_owned(),
            memory_cap: confinement.1.to_owned(),
        }
    }
}

/// A plugin folder's entries: path, modification time, size.
pub type Stamp = Vec<(PathBuf, Option<std::time::SystemTime>, u64)>;

/// What changes when a plugin's manifest, program or scripts change, at any
/// depth. Caches a run may write (`__pycache__`, `node_modules`, hidden entries)
/// are not walked: the watcher stays cheap, and tamper detection hashes
/// everything when the plugin next starts.
fn folder_stamp(dir: &Path) -> Stamp {
    let mut out = Stamp::new();
    stamp_into(dir, &mut out, 0);
    out.sort();
    out
}

fn stamp_into(dir: &Path, out: &mut Stamp, depth: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "__pycache__" || name == "node_modules" || out.len() > 10_000 {
            continue;
        }
        let meta = entry.metadata().ok();
        out.push((entry.path(), meta.as_ref().and_then(|m| m.modified().ok()), meta.as_ref().map_or(0, |m| m.len())));
        if depth < 16 && meta.is_some_and(|m| m.is_dir()) {
            stamp_into(&entry.path(), out, depth + 1);
        }
    }
}

/// Where the host finds and keeps things.
#[derive(Clone)]
pub struct HostPaths {
    /// `$PYRA_HOME/plugins` and the extra `plugin_paths` from config.
    pub search: Vec<PathBuf>,
    /// `$PYRA_HOME/logs/plugins`.
    pub logs: PathBuf,
    /// `$PYRA_HOME/data/plugins`: one private folder per plugin.
    pub data: PathBuf,
    /// Sandbox plugins so they cannot touch this folder (`PYRA_HOME`); `None` turns the sandbox off.
    pub sandbox: Option<PathBuf>,
    /// How often an active plugin is pinged; one that does not answer is restarted.
    pub health_every: Duration,
    /// The publishers whose signatures count (`[plugins] trusted_keys`).
    pub trusted_keys: super::trust::TrustedKeys,
    /// Plugins the user runs without a sandbox (`[plugins.overrides.NAME] sandbox = "none"`).
    pub unsandboxed: std::collections::BTreeSet<String>,
    /// The Landlock ABI the kernel offers (0: none).
    pub landlock_abi: i32,
    /// Where plugins get hard memory and process caps; `Err` says why there are none.
    pub cgroups: Result<Arc<crate::cgroup::Cgroups>, crate::cgroup::CgroupError>,
}

/// What the folders held at the last scan, published together.
#[derive(Default)]
struct Registry {
    plugins: BTreeMap<String, Arc<Plugin>>,
    /// Start order (dependencies, priority, name): hooks run in it too.
    order: Vec<String>,
    /// Manifests that failed to load: folder → reason.
    invalid: BTreeMap<String, String>,
}

pub struct PluginHost {
    /// Swapped whole by `config.reload` (then every plugin restarts on it).
    paths: std::sync::RwLock<Arc<HostPaths>>,
    vault: Arc<Vault>,
    store: crate::store::Store,
    /// Serialises start, reload and stop.
    lifecycle: tokio::sync::Mutex<()>,
    registry: Mutex<Registry>,
}

impl PluginHost {
    pub fn new(paths: HostPaths, vault: Arc<Vault>, store: crate::store::Store) -> Arc<Self> {
        Arc::new(Self {
            paths: std::sync::RwLock::new(Arc::new(paths)),
            vault,
            store,
            lifecycle: tokio::sync::Mutex::new(()),
            registry: Mutex::default(),
        })
    }

    /// Where plugins are and how they run, as configured now.
    pub fn paths(&self) -> Arc<HostPaths> {
        match self.paths.read() {
            Ok(p) => p.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Sets where plugins get their cgroups (probed once, after READY).
    pub fn set_cgroups(&self, cgroups: Result<Arc<crate::cgroup::Cgroups>, crate::cgroup::CgroupError>) {
        let mut paths = (*self.paths()).clone();
        paths.cgroups = cgroups;
        match self.paths.write() {
            Ok(mut p) => *p = Arc::new(paths),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(paths),
        }
    }

    /// Applies a reloaded `[plugins]`: every plugin restarts on it.
    pub async fn reconfigure(self: &Arc<Self>, paths: HostPaths) {
        match self.paths.write() {
            Ok(mut p) => *p = Arc::new(paths),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(paths),
        }
        self.reload().await;
    }

    /// Every known plugin by name.
    fn plugins(&self) -> BTreeMap<String, Arc<Plugin>> {
        self.registry.lock().map(|r| r.plugins.clone()).unwrap_or_default()
    }

    /// Every known plugin, and the start order.
    fn plugins_in_order(&self) -> (BTreeMap<String, Arc<Plugin>>, Vec<String>) {
        self.registry.lock().map(|r| (r.plugins.clone(), r.order.clone())).unwrap_or_default()
    }

    fn find(&self, name: &str) -> Option<Arc<Plugin>> {
        self.registry.lock().ok().and_then(|r| r.plugins.get(name).cloned())
    }

    fn plugin(&self, name: &str) -> Result<Arc<Plugin>, PluginError> {
        self.find(name).ok_or_else(|| PluginError::NotFound(name.to_owned()))
    }

    /// Finds every plugin folder, loads the valid manifests and starts the plugins in order.
    pub async fn start_all(self: &Arc<Self>) {
        let _lifecycle = self.lifecycle.lock().await;
        self.start_all_locked().await;
    }

    /// Stops every plugin and starts what the folders hold now.
    pub async fn reload(self: &Arc<Self>) {
        let _lifecycle = self.lifecycle.lock().await;
        self.stop_all_locked().await;
        self.start_all_locked().await;
    }

    /// Reads the folders again and restarts only what changed: plugins added,
    /// removed, edited (manifest or any top-level file), enabled or disabled, the
    /// ones in `also`, and whatever depends on any of those. The others keep
    /// running, with their state and figures.
    pub async fn refresh(self: &Arc<Self>, also: &[&str]) {
        let _lifecycle = self.lifecycle.lock().await;
        let old = self.plugins();
        let (mut found, ordered, invalid) = self.scan();
        let mut restart: BTreeMap<String, bool> = BTreeMap::new();
        for name in &ordered {
            let Some(new) = found.get(name) else { continue };
            let unchanged = old.get(name).is_some_and(|o| {
                o.manifest == new.manifest
                    && o.dir == new.dir
                    && o.stamp == new.stamp
                    && matches!(o.state(), State::Active | State::Starting)
            });
            let dependency_restarted = new.manifest.depends.iter().any(|d| restart.get(d).copied().unwrap_or(true));
            restart.insert(name.clone(), !unchanged || also.contains(&name.as_str()) || dependency_restarted);
        }
        // Stop what goes away or restarts; keep the rest as they run.
        for (name, plugin) in &old {
            if restart.get(name).copied().unwrap_or(true) {
                self.stop_one(plugin).await;
            } else if let Some(kept) = found.get_mut(name) {
                *kept = plugin.clone();
            }
        }
        let kept: Vec<&String> = restart.iter().filter(|(_, r)| !**r).map(|(n, _)| n).collect();
        tracing::info!(kept = ?kept, "plugins refreshed");
        self.publish(&found, &ordered, invalid);
        self.launch_in_order(&found, &ordered, |name| restart.get(name).copied().unwrap_or(true)).await;
    }

    /// Enables or disables a plugin (remembered across restarts); only it (and
    /// what depends on it) stops or starts.
    pub async fn set_enabled(self: &Arc<Self>, name: &str, enabled: bool) -> Result<(), PluginError> {
        self.plugin(name)?;
        self.store.set_plugin_enabled(name, enabled)?;
        self.refresh(&[]).await;
        Ok(())
    }

    /// A cheap summary of the plugin folders: what changes when a plugin is added,
    /// removed or its manifest edited.
    pub fn fingerprint(&self) -> Vec<(PathBuf, Stamp)> {
        let mut out = Vec::new();
        for root in &self.paths().search {
            let Ok(entries) = std::fs::read_dir(root) else { continue };
            for entry in entries.flatten() {
                out.push((entry.path(), folder_stamp(&entry.path())));
            }
        }
        out.sort();
        out
    }

    /// Reloads when the plugin folders change, until `stop` fires.
    pub async fn watch(self: Arc<Self>, every: Duration, stop: tokio_util::sync::CancellationToken) {
        let mut last = self.fingerprint();
        loop {
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = stop.cancelled() => return,
            }
            self.enforce_memory().await;
            let now = self.fingerprint();
            if now != last {
                tracing::info!("plugin folders changed; restarting what changed");
                last = now;
                self.refresh(&[]).await;
            }
        }
    }

    /// Reads every plugin folder and publishes what it found (as `discovered`,
    /// `disabled`, `failed` or `skipped`) without starting anything: pyrad does
    /// this before `READY=1`, so `plugins.list` is complete from the first request.
    pub async fn discover(self: &Arc<Self>) {
        let _lifecycle = self.lifecycle.lock().await;
        let (found, ordered, invalid) = self.scan();
        self.publish(&found, &ordered, invalid);
    }

    async fn start_all_locked(self: &Arc<Self>) {
        let (found, ordered, invalid) = self.scan();
        self.publish(&found, &ordered, invalid);
        self.launch_in_order(&found, &ordered, |_| true).await;
    }

    /// Makes `found` the plugins `plugins.list`, tools and hooks see.
    fn publish(&self, found: &BTreeMap<String, Arc<Plugin>>, ordered: &[String], invalid: BTreeMap<String, String>) {
        if let Ok(mut r) = self.registry.lock() {
            r.plugins.clone_from(found);
            r.order = ordered.to_vec();
            r.invalid = invalid;
        }
    }

    /// Starts, in dependency order, the plugins `start` picks.
    async fn launch_in_order(
        self: &Arc<Self>,
        found: &BTreeMap<String, Arc<Plugin>>,
        ordered: &[String],
        start: impl Fn(&str) -> bool,
    ) {
        for name in ordered {
            let Some(plugin) = found.get(name).cloned() else { continue };
            if !start(name) {
                continue;
            }
            // A dependency that failed to start takes its dependents down with it.
            let failed_dep =
                plugin.manifest.depends.iter().find(|d| found.get(*d).is_some_and(|p| p.state() != State::Active));
            if let Some(dep) = failed_dep {
                plugin.set_state(State::Skipped(format!("depends on {dep:?}, which is not active")));
                continue;
            }
            self.clone().launch(plugin).await;
        }
    }

    /// The plugins the folders hold now (fresh, not started), the start order of
    /// those that can start, and the folders that could not be used.
    #[allow(clippy::type_complexity)]
    fn scan(&self) -> (BTreeMap<String, Arc<Plugin>>, Vec<String>, BTreeMap<String, String>) {
        let mut found: BTreeMap<String, Arc<Plugin>> = BTreeMap::new();
        let mut invalid = BTreeMap::new();
        for root in &self.paths().search {
            let Ok(entries) = std::fs::read_dir(root) else { continue };
            let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            dirs.sort();
            for dir in dirs {
                // Plugin folders are never followed through symlinks.
                let Ok(meta) = std::fs::symlink_metadata(&dir) else { continue };
                if !meta.is_dir() {
                    continue;
                }
                let folder = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                if folder.starts_with('.') {
                    continue;
                }
                match Manifest::load(&dir) {
                    Ok(m) if found.contains_key(&m.name) => {
                        invalid
                            .insert(dir.display().to_string(), format!("another plugin is already named {:?}", m.name));
                    }
                    Ok(m) => {
                        let plugin = Plugin::new(m, dir.clone(), self.security_log());
                        found.insert(plugin.manifest.name.clone(), Arc::new(plugin));
                    }
                    Err(e) => {
                        tracing::warn!(plugin = %folder, error = %e, "invalid plugin manifest; skipping it");
                        invalid.insert(dir.display().to_string(), e.to_string());
                    }
                }
            }
        }
        let pyra = semver::Version::parse(env!("CARGO_PKG_VERSION")).unwrap_or(semver::Version::new(0, 0, 0));
        let disabled = self.store.disabled_plugins().unwrap_or_default();
        for plugin in found.values() {
            let name = &plugin.manifest.name;
            self.evaluate(plugin);
            if matches!(plugin.state(), State::Modified(_) | State::Failed(_)) {
                continue;
            }
            if disabled.contains(name) {
                plugin.set_state(State::Disabled);
                continue;
            }
            if !plugin.manifest.supports(&pyra) {
                plugin.set_state(State::Failed(format!("supports pyra {}, this is {pyra}", plugin.manifest.pyra)));
                continue;
            }
            if self.sandboxed(name) && self.paths().landlock_abi < 1 {
                plugin.set_state(State::Failed(format!(
                    "this kernel offers no Landlock sandbox, so it is not started; to run it unsandboxed anyway, \
                     add to config.toml: [plugins.overrides.{name}] sandbox = \"none\""
                )));
            }
        }
        let graph = found
            .iter()
            .filter(|(_, p)| p.state() == State::Discovered)
            .map(|(n, p)| (n.clone(), (p.manifest.priority, p.manifest.depends.clone())))
            .collect();
        let (ordered, left) = order(&graph);
        for (name, why) in left {
            if let Some(p) = found.get(&name) {
                p.set_state(State::Skipped(match why {
                    Unplaced::Missing(dep) => format!("depends on {dep:?}, which is not installed or not loadable"),
                    Unplaced::Cycle(cycle) => format!("dependency cycle: {}", cycle.join(" -> ")),
                    Unplaced::Skipped(dep) => format!("depends on {dep:?}, which was skipped"),
                }));
            }
        }
        (found, ordered, invalid)
    }

    /// Whether `name` runs in the Landlock sandbox (the default) or the user lowered it.
    pub(super) fn sandboxed(&self, name: &str) -> bool {
        self.paths().sandbox.is_some() && !self.paths().unsandboxed.contains(name)
    }

    /// How `name` is confined: `landlock`, `none` (lowered by the user) or `off`
    /// (the sandbox is off for all); and whether its memory cap is `hard` (cgroup)
    /// or `sampled`.
    pub fn confinement(&self, name: &str) -> (&'static str, &'static str) {
        let sandbox = if self.paths().sandbox.is_none() {
            "off"
        } else if self.paths().unsandboxed.contains(name) {
            "none"
        } else {
            "landlock"
        };
        (sandbox, if self.paths().cgroups.is_ok() { "hard" } else { "sampled" })
    }

    /// The Landlock ABI and the cgroups the host works with, for `doctor`.
    pub fn sandbox_support(&self) -> (i32, Result<String, crate::cgroup::CgroupError>) {
        (self.paths().landlock_abi, self.paths().cgroups.as_ref().map(|c| c.describe()).map_err(Clone::clone))
    }

    /// Plugin figures, cheaply: for `daemon.status`.
    /// Whether a plugin is still on its way to running (found, not yet started or
    /// answering): a turn now would not see its tools.
    pub fn settling(&self) -> bool {
        self.plugins().values().any(|p| matches!(p.state(), State::Discovered | State::Starting))
    }

    pub fn counts(&self) -> proto::ipc::PluginCounts {
        let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        let mut c = proto::ipc::PluginCounts::default();
        let Ok(registry) = self.registry.lock() else { return c };
        for plugin in registry.plugins.values() {
            c.total += 1;
            match plugin.state() {
                State::Active => c.active += 1,
                State::Failed(_) => c.failed += 1,
                State::Modified(_) => c.modified += 1,
                _ => {}
            }
            if plugin.trust() == Trust::Unverified {
                c.unverified += 1;
            }
            if self.confinement(&plugin.manifest.name).0 != "landlock" {
                c.unsandboxed += 1;
            }
        }
        c.invalid = n(registry.invalid.len());
        c
    }

    /// Every plugin's report, in start order, then the ones left out, then invalid folders.
    pub fn reports(&self) -> (Vec<PluginInfo>, BTreeMap<String, String>) {
        let (plugins, order) = self.plugins_in_order();
        // One pass over /proc for all of them, and none if nothing runs.
        let rss = if plugins.values().any(|p| p.state() == State::Active) {
            super::procfs::rss_by_group()
        } else {
            std::collections::HashMap::new()
        };
        let report = |p: &Arc<Plugin>| p.report(&rss, self.confinement(&p.manifest.name));
        let mut out: Vec<PluginInfo> = order.iter().filter_map(|n| plugins.get(n)).map(report).collect();
        out.extend(plugins.iter().filter(|(n, _)| !order.contains(n)).map(|(_, p)| report(p)));
        for info in &mut out {
            info.exempt_granted = self.store.plugin_grants(&info.name).unwrap_or_default();
            if let Ok(Some((source, sha256))) = self.store.plugin_install(&info.name) {
                info.installed_from = Some(source);
                info.sha256 = Some(sha256);
            }
        }
        (out, self.registry.lock().map(|r| r.invalid.clone()).unwrap_or_default())
    }

    /// Where plugins are installed: the first search folder (`$PYRA_HOME/plugins`).
    fn install_dir(&self) -> Result<PathBuf, PluginError> {
        self.paths().search.first().cloned().ok_or(PluginError::NoInstallDir)
    }

    /// Unpacks and checks `source` (see `install::stage`) and describes it.
    pub fn inspect(&self, source: &Path) -> Result<(super::install::Staged, bool), PluginError> {
        let dir = self.install_dir()?;
        let staged = super::install::stage(source, &dir.join(".staging"), &self.paths().trusted_keys)?;
        let installed = dir.join(&staged.manifest.name).exists();
        Ok((staged, installed))
    }

    /// Installs `source` if it still hashes to `sha256`, then starts it (an update
    /// restarts it). Unless a trusted publisher signed it (or it is bundled), it
    /// installs only with `allow_unsigned`; an update never goes to an older version.
    pub async fn install(
        self: &Arc<Self>,
        source: &Path,
        sha256: &str,
        update: bool,
        allow_unsigned: bool,
    ) -> Result<String, PluginError> {
        let (staged, _) = self.inspect(source)?;
        if staged.sha256 != sha256 {
            return Err(PluginError::Changed { path: source.to_owned(), sha256: staged.sha256.clone() });
        }
        let name = staged.manifest.name.clone();
        let bundled = trust::is_bundled(&staged);
        let signer = match staged.signed.publisher() {
            Some(p) => Some(p.to_owned()),
            None if bundled => Some(super::trust::BUNDLED.to_owned()),
            None if allow_unsigned => None,
            None => return Err(PluginError::Unsigned { name, signed: staged.signed.describe() }),
        };
        let installed = self.find(&name).filter(|p| self.is_installed(&p.dir));
        if let Some(installed) = installed.filter(|p| update && staged.manifest.version < p.manifest.version) {
            return Err(PluginError::Downgrade {
                name,
                installed: installed.manifest.version.to_string(),
                offered: staged.manifest.version.to_string(),
            });
        }
        let dir = self.install_dir()?;
        let _lifecycle = self.lifecycle.lock().await;
        super::install::commit(&staged, &dir, update)?;
        // New code, new trust: exemptions are granted again after an update.
        let _ = self.store.set_plugin_grants(&name, &[], crate::clock::unix_now());
        self.store.record_install(&name, &source.display().to_string(), sha256, crate::clock::unix_now())?;
        self.store.record_files(&name, signer.as_deref(), &staged.files, crate::clock::unix_now())?;
        drop(_lifecycle);
        tracing::info!(plugin = %name, sha256, source = %source.display(), "plugin installed");
        self.refresh(&[]).await;
        Ok(name)
    }

    /// Stops a plugin, removes its folder (not its data); what depends on it stops too.
    pub async fn uninstall(self: &Arc<Self>, name: &str) -> Result<(), PluginError> {
        let dir = self.install_dir()?;
        let target = crate::security::safe_join(&dir, name)?;
        if !target.join(super::manifest::FILE).is_file() {
            return Err(PluginError::NotInstalled { name: name.to_owned(), dir });
        }
        {
            let _lifecycle = self.lifecycle.lock().await;
            if let Some(plugin) = self.find(name) {
                self.stop_one(&plugin).await;
            }
            std::fs::remove_dir_all(&target).map_err(|source| PluginError::Remove { path: target.clone(), source })?;
            let _ = self.store.forget_plugin(name);
        }
        tracing::info!(plugin = %name, "plugin uninstalled");
        self.refresh(&[]).await;
        Ok(())
    }

    /// Stops every plugin (closing stdin first, then killing the group).
    pub async fn stop_all(&self) {
        let _lifecycle = self.lifecycle.lock().await;
        self.stop_all_locked().await;
    }

    async fn stop_all_locked(&self) {
        for plugin in self.plugins().values() {
            self.stop_one(plugin).await;
        }
    }

    async fn stop_one(&self, plugin: &Plugin) {
        if plugin.state() != State::Disabled {
            plugin.set_state(State::Stopping);
        }
        if let Some(mut running) = plugin.running.lock().await.take() {
            drop(running.client);
            // A moment to exit on its own after stdin closes, then the kill.
            let _ = tokio::time::timeout(Duration::from_millis(500), running.process.wait()).await;
        }
    }
}

/// The plugin folders pyrad searches: its own, then the configured extras.
pub fn search_paths(home_plugins: &Path, extra: &[PathBuf]) -> Vec<PathBuf> {
    std::iter::once(home_plugins.to_owned()).chain(extra.iter().cloned()).collect()
}
