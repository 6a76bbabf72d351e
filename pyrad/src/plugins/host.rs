//! The plugin host: discovers plugin folders, validates their manifests, starts
//! them in dependency order, exposes their MCP tools as `plugin__tool`, restarts a
//! crashed plugin with bounded backoff, and reports each plugin's state. One bad
//! plugin is marked failed with its reason; the others and pyrad go on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proto::ipc::PluginInfo;
use serde_json::Value;

use super::manifest::{EnvValue, Hook, Manifest, expand};
use super::mcp::{McpClient, McpTool, ServerEvent};
use super::order::{Unplaced, order};
use super::process::{PluginProcess, Spawn};
use crate::chat::tools::{Tool, ToolRegistry, ToolResult};
use crate::llm::ToolSpec;
use crate::vault::Vault;

/// Crashes within `CRASH_WINDOW` after which a plugin stays failed.
const MAX_CRASHES: usize = 5;
const CRASH_WINDOW: Duration = Duration::from_secs(300);
const START_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Discovered,
    Starting,
    Active,
    Failed(String),
    Disabled,
    Skipped(String),
    Stopping,
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
        }
    }
}

struct Running {
    client: Arc<McpClient>,
    process: PluginProcess,
}

/// One plugin and everything known about it.
pub struct Plugin {
    pub manifest: Manifest,
    dir: PathBuf,
    state: Mutex<State>,
    running: tokio::sync::Mutex<Option<Running>>,
    tools: Mutex<Vec<McpTool>>,
    pid: Mutex<Option<u32>>,
    calls: AtomicU64,
    errors: AtomicU64,
    restarts: AtomicU64,
    /// Recent call latencies in ms, for the p50 shown in `plugin list`.
    latencies: Mutex<Vec<f64>>,
    crashes: Mutex<Vec<Instant>>,
    /// Spawn to tool list, last start.
    start_ms: Mutex<Option<f64>>,
    /// Why pyrad killed it, when it did (health check, memory limit): the crash reason.
    killed_for: Mutex<Option<String>>,
    /// Its folder's top-level entries when it was discovered: a change restarts it.
    stamp: Stamp,
}

impl Plugin {
    fn set_state(&self, state: State) {
        if let Ok(mut s) = self.state.lock() {
            *s = state;
        }
    }

    pub fn state(&self) -> State {
        self.state.lock().map(|s| s.clone()).unwrap_or(State::Failed("state lock poisoned".into()))
    }

    fn record(&self, started: Instant, ok: bool) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        if let Ok(mut l) = self.latencies.lock() {
            if l.len() >= 256 {
                l.remove(0);
            }
            l.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }

    /// Kills its process group for `why`, which becomes the crash reason; the
    /// watcher then restarts it with backoff.
    async fn kill(&self, why: String) {
        tracing::warn!(plugin = %self.manifest.name, reason = %why, "killing plugin");
        if let Ok(mut k) = self.killed_for.lock() {
            *k = Some(why);
        }
        if let Some(running) = self.running.lock().await.as_mut() {
            running.process.kill();
        }
    }

    /// Its figures; `rss` is resident bytes per process group (`procfs::rss_by_group`).
    fn report(&self, rss: &std::collections::HashMap<u32, u64>) -> PluginInfo {
        let (server, garbage_lines) = self
            .running
            .try_lock()
            .ok()
            .and_then(|r| {
                r.as_ref().map(|r| {
                    let s = &r.client.server;
                    (
                        format!("{} {} (MCP {})", s.name, s.version, s.protocol_version),
                        r.client.garbage.load(Ordering::Relaxed),
                    )
                })
            })
            .unwrap_or_default();
        let p50 = self.latencies.lock().ok().and_then(|l| {
            let mut v = l.clone();
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied()
        });
        let (state, reason) = self.state().parts();
        PluginInfo {
            name: self.manifest.name.clone(),
            version: self.manifest.version.to_string(),
            description: self.manifest.description.clone(),
            state: state.into(),
            reason,
            pid: self.pid.lock().ok().and_then(|p| *p),
            rss_mib: self
                .pid
                .lock()
                .ok()
                .and_then(|p| *p)
                .filter(|_| self.state() == State::Active)
                .and_then(|pid| rss.get(&pid))
                .map(|b| *b as f64 / (1024.0 * 1024.0)),
            tools: self
                .tools
                .lock()
                .map(|t| t.iter().map(|t| tool_name(&self.manifest.name, &t.name)).collect())
                .unwrap_or_default(),
            calls: self.calls.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            p50_ms: p50,
            restarts: self.restarts.load(Ordering::Relaxed),
            server,
            garbage_lines,
            start_ms: self.start_ms.lock().ok().and_then(|s| *s),
            exempt_declared: self.manifest.approval.exempt.clone(),
            exempt_granted: Vec::new(),
            installed_from: None,
            sha256: None,
        }
    }
}

/// A plugin folder's top-level entries: name, modification time, size.
pub type Stamp = Vec<(std::ffi::OsString, Option<std::time::SystemTime>, u64)>;

/// What changes when a plugin's manifest, program or scripts change. Caches a
/// run may write (`__pycache__`, `node_modules`, hidden entries) do not count.
fn folder_stamp(dir: &Path) -> Stamp {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Stamp = entries
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            !name.starts_with('.') && name != "__pycache__" && name != "node_modules"
        })
        .map(|e| {
            let meta = e.metadata().ok();
            (e.file_name(), meta.as_ref().and_then(|m| m.modified().ok()), meta.map_or(0, |m| m.len()))
        })
        .collect();
    out.sort();
    out
}

/// `plugin__tool`, with anything a provider would refuse replaced by `_`.
pub fn tool_name(plugin: &str, tool: &str) -> String {
    let clean: String =
        tool.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect();
    format!("{plugin}__{clean}")
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
}

pub struct PluginHost {
    paths: HostPaths,
    vault: Arc<Vault>,
    store: crate::store::Store,
    /// Serialises start, reload and stop.
    lifecycle: tokio::sync::Mutex<()>,
    plugins: Mutex<BTreeMap<String, Arc<Plugin>>>,
    /// Start order (dependencies, priority, name): hooks run in it too.
    order: Mutex<Vec<String>>,
    /// Manifests that failed to load: folder → reason.
    invalid: Mutex<BTreeMap<String, String>>,
}

impl PluginHost {
    pub fn new(paths: HostPaths, vault: Arc<Vault>, store: crate::store::Store) -> Arc<Self> {
        Arc::new(Self {
            paths,
            vault,
            store,
            lifecycle: tokio::sync::Mutex::new(()),
            plugins: Mutex::default(),
            order: Mutex::default(),
            invalid: Mutex::default(),
        })
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
        let old = self.plugins.lock().map(|p| p.clone()).unwrap_or_default();
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
    pub async fn set_enabled(self: &Arc<Self>, name: &str, enabled: bool) -> Result<(), String> {
        let known = self.plugins.lock().map(|p| p.contains_key(name)).unwrap_or(false);
        if !known {
            return Err(format!("no plugin named {name:?}"));
        }
        self.store.set_plugin_enabled(name, enabled).map_err(|e| e.to_string())?;
        self.refresh(&[]).await;
        Ok(())
    }

    /// A cheap summary of the plugin folders: what changes when a plugin is added,
    /// removed or its manifest edited.
    pub fn fingerprint(&self) -> Vec<(PathBuf, Stamp)> {
        let mut out = Vec::new();
        for root in &self.paths.search {
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

    /// Kills every active plugin whose process group holds more resident memory
    /// than its `limits.memory_mb`; its watcher restarts it like any crash.
    async fn enforce_memory(&self) {
        let active: Vec<Arc<Plugin>> = self
            .plugins
            .lock()
            .map(|p| p.values().filter(|p| p.state() == State::Active).cloned().collect())
            .unwrap_or_default();
        if active.is_empty() {
            return;
        }
        let groups = super::procfs::rss_by_group();
        for plugin in active {
            let Some(pid) = plugin.pid.lock().ok().and_then(|p| *p) else { continue };
            let Some(&bytes) = groups.get(&pid) else { continue };
            let limit = plugin.manifest.limits.memory_mb;
            if bytes > limit * 1024 * 1024 {
                let why = format!("used {} MiB, over its memory limit of {limit} MiB", bytes / (1024 * 1024));
                plugin.kill(why).await;
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
        if let Ok(mut plugins) = self.plugins.lock() {
            plugins.clone_from(found);
        }
        if let Ok(mut o) = self.order.lock() {
            *o = ordered.to_vec();
        }
        if let Ok(mut i) = self.invalid.lock() {
            *i = invalid;
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
        for root in &self.paths.search {
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
                        let plugin = Arc::new(Plugin {
                            manifest: m.clone(),
                            dir: dir.clone(),
                            state: Mutex::new(State::Discovered),
                            running: tokio::sync::Mutex::new(None),
                            tools: Mutex::default(),
                            pid: Mutex::default(),
                            calls: AtomicU64::new(0),
                            errors: AtomicU64::new(0),
                            restarts: AtomicU64::new(0),
                            latencies: Mutex::default(),
                            crashes: Mutex::default(),
                            start_ms: Mutex::default(),
                            killed_for: Mutex::default(),
                            stamp: folder_stamp(&dir),
                        });
                        found.insert(m.name.clone(), plugin);
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
            if disabled.contains(&plugin.manifest.name) {
                plugin.set_state(State::Disabled);
                continue;
            }
            if !plugin.manifest.supports(&pyra) {
                plugin.set_state(State::Failed(format!("supports pyra {}, this is {pyra}", plugin.manifest.pyra)));
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

    /// Starts one plugin and watches it; a crash is restarted with backoff.
    /// (Boxed: a restart launches again from inside the watcher.)
    fn launch(self: Arc<Self>, plugin: Arc<Plugin>) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        Box::pin(async move {
            plugin.set_state(State::Starting);
            let name = plugin.manifest.name.clone();
            let started = self.connect(&plugin).await;
            let mut events = match started {
                Ok(events) => events,
                Err(reason) => {
                    tracing::warn!(plugin = %name, %reason, "plugin failed to start");
                    plugin.set_state(State::Failed(reason));
                    return;
                }
            };
            plugin.set_state(State::Active);
            let tools = plugin.tools.lock().map(|t| t.len()).unwrap_or(0);
            tracing::info!(plugin = %name, tools, "plugin active");
            tokio::spawn(health_check(plugin.clone(), self.paths.health_every));
            let host = self.clone();
            let log = plugin.running.lock().await.as_ref().map(|r| r.process.log.clone());
            tokio::spawn(async move {
                while let Some(event) = events.recv().await {
                    match event {
                        ServerEvent::ToolsChanged => host.refresh_tools(&plugin).await,
                        ServerEvent::Log(line) => {
                            if let Some(mut log) = log.as_ref().and_then(|l| l.lock().ok()) {
                                let _ = log.append(line.as_bytes());
                            }
                        }
                        ServerEvent::PromptsChanged | ServerEvent::ResourcesChanged => {}
                        ServerEvent::Closed(reason) => {
                            if plugin.state() == State::Stopping || plugin.state() == State::Disabled {
                                return;
                            }
                            host.crashed(plugin.clone(), reason).await;
                            return;
                        }
                    }
                }
            });
        })
    }

    async fn crashed(self: Arc<Self>, plugin: Arc<Plugin>, reason: String) {
        let name = plugin.manifest.name.clone();
        let reason = plugin.killed_for.lock().ok().and_then(|mut k| k.take()).unwrap_or(reason);
        *plugin.running.lock().await = None;
        let recent = {
            let Ok(mut crashes) = plugin.crashes.lock() else { return };
            crashes.retain(|t| t.elapsed() < CRASH_WINDOW);
            crashes.push(Instant::now());
            crashes.len()
        };
        if recent >= MAX_CRASHES {
            let why = format!("crashed {recent} times in {} minutes; last: {reason}", CRASH_WINDOW.as_secs() / 60);
            tracing::error!(plugin = %name, "{why}; giving up");
            plugin.set_state(State::Failed(why));
            return;
        }
        let backoff = Duration::from_millis(500 * (1 << (recent - 1).min(6)));
        tracing::warn!(plugin = %name, %reason, ?backoff, "plugin stopped; restarting");
        plugin.set_state(State::Failed(format!("{reason}; restarting")));
        plugin.restarts.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(backoff).await;
        // A reload or a stop during the backoff replaced or stopped it: nothing to restart.
        let current =
            self.plugins.lock().ok().and_then(|p| p.get(&name).cloned()).is_some_and(|p| Arc::ptr_eq(&p, &plugin));
        if !current || matches!(plugin.state(), State::Stopping | State::Disabled) {
            return;
        }
        self.launch(plugin).await;
    }

    /// Spawns the process, performs the handshake and lists the tools.
    async fn connect(&self, plugin: &Arc<Plugin>) -> Result<tokio::sync::mpsc::UnboundedReceiver<ServerEvent>, String> {
        let spawn = self.spawn_for(plugin)?;
        let begun = Instant::now();
        let (process, stdin, stdout) = PluginProcess::start(&spawn, &self.paths.logs)
            .map_err(|e| format!("cannot start {:?}: {e}", spawn.command))?;
        let pid = process.pid();
        // The plugin's own call timeout bounds its start too, up to a ceiling.
        let timeout = Duration::from_secs(plugin.manifest.limits.call_timeout_secs).min(START_TIMEOUT);
        let (client, events) = McpClient::start(&plugin.manifest.name, stdin, stdout, timeout)
            .await
            .map_err(|e| format!("{e} (see logs/plugins/{}.log)", plugin.manifest.name))?;
        let tools = client.list_tools(timeout).await.map_err(|e| e.to_string())?;
        if let Ok(mut t) = plugin.tools.lock() {
            *t = tools;
        }
        if let Ok(mut p) = plugin.pid.lock() {
            *p = pid;
        }
        if let Ok(mut s) = plugin.start_ms.lock() {
            *s = Some(begun.elapsed().as_secs_f64() * 1000.0);
        }
        *plugin.running.lock().await = Some(Running { client: Arc::new(client), process });
        Ok(events)
    }

    async fn refresh_tools(&self, plugin: &Arc<Plugin>) {
        let client = plugin.running.lock().await.as_ref().map(|r| r.client.clone());
        let Some(client) = client else { return };
        match client.list_tools(START_TIMEOUT).await {
            Ok(tools) => {
                if let Ok(mut t) = plugin.tools.lock() {
                    *t = tools;
                }
            }
            Err(e) => tracing::warn!(plugin = %plugin.manifest.name, error = %e, "cannot refresh the tool list"),
        }
    }

    /// The process's environment: PATH and HOME, the granted variables, and the
    /// manifest's env with `${VAR}` expanded and vault references decrypted.
    fn spawn_for(&self, plugin: &Plugin) -> Result<Spawn, String> {
        let m = &plugin.manifest;
        let mut env: Vec<(String, String)> = Vec::new();
        for var in ["PATH", "HOME", "LANG", "TZ"].iter().map(|s| s.to_string()).chain(m.permissions.env.iter().cloned())
        {
            if let Ok(value) = std::env::var(&var) {
                env.push((var, value));
            }
        }
        for (var, raw) in &m.env {
            let value = match m.env_value(raw) {
                EnvValue::Literal(v) => v,
                EnvValue::Template(t) => expand(&t, |name| {
                    m.permissions.env.iter().any(|p| p == name).then(|| std::env::var(name).ok()).flatten()
                }),
                EnvValue::Vault(key) => {
                    use age::secrecy::ExposeSecret;
                    match self.vault.get(&key) {
                        Ok(Some(secret)) => secret.expose_secret().to_owned(),
                        Ok(None) => {
                            return Err(format!("vault key {key:?} is not set; run `pyractl plugin setup {}`", m.name));
                        }
                        Err(e) => return Err(e.to_string()),
                    }
                }
            };
            env.retain(|(k, _)| k != var);
            env.push((var.clone(), value));
        }
        // Its own data folder, private, outside its (replaceable) plugin folder.
        let data = self.paths.data.join(&m.name);
        crate::security::modes::ensure_dir(&self.paths.data).map_err(|e| e.to_string())?;
        crate::security::modes::ensure_dir(&data).map_err(|e| e.to_string())?;
        env.push(("PYRA_PLUGIN_DATA".into(), data.display().to_string()));
        env.push(("PYRA_PLUGIN_CONFIG".into(), data.join(CONFIG_FILE).display().to_string()));
        // Its temporary files live in its data folder: /tmp may hold a PYRA_HOME.
        let tmp = data.join("tmp");
        crate::security::modes::ensure_dir(&tmp).map_err(|e| e.to_string())?;
        env.push(("TMPDIR".into(), tmp.display().to_string()));
        let sandbox = match &self.paths.sandbox {
            Some(pyra_home) => {
                let policy = sandbox_policy(plugin, pyra_home, &data);
                tracing::debug!(plugin = %m.name, read = ?policy.read, write = ?policy.write, "sandbox");
                env.push((crate::sandbox::ENV.into(), serde_json::to_string(&policy).map_err(|e| e.to_string())?));
                true
            }
            None => false,
        };
        // Sandboxed: pyrad itself starts, restricts itself, and becomes the plugin.
        let (command, args) = if sandbox {
            let me = std::env::current_exe().map_err(|e| format!("cannot find pyrad itself: {e}"))?;
            let mut args = vec![
                crate::sandbox::FLAG.to_owned(),
                "--".to_owned(),
                super::process::resolve_command(&m.command, &plugin.dir),
            ];
            args.extend(m.args.iter().cloned());
            (me.display().to_string(), args)
        } else {
            (m.command.clone(), m.args.clone())
        };
        Ok(Spawn {
            name: m.name.clone(),
            command,
            args,
            dir: plugin.dir.clone(),
            env,
            cpu_secs: Some(m.limits.cpu_secs),
        })
    }

    /// `(total, active, failed, invalid folders)`, cheaply: for `daemon.status`.
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let (mut total, mut active, mut failed) = (0, 0, 0);
        if let Ok(plugins) = self.plugins.lock() {
            for plugin in plugins.values() {
                total += 1;
                match plugin.state() {
                    State::Active => active += 1,
                    State::Failed(_) => failed += 1,
                    _ => {}
                }
            }
        }
        (total, active, failed, self.invalid.lock().map(|i| i.len()).unwrap_or(0))
    }

    /// Every plugin's report, in start order, then the ones left out, then invalid folders.
    pub fn reports(&self) -> (Vec<PluginInfo>, BTreeMap<String, String>) {
        let plugins = self.plugins.lock().map(|p| p.clone()).unwrap_or_default();
        let order = self.order.lock().map(|o| o.clone()).unwrap_or_default();
        // One pass over /proc for all of them, and none if nothing runs.
        let rss = if plugins.values().any(|p| p.state() == State::Active) {
            super::procfs::rss_by_group()
        } else {
            std::collections::HashMap::new()
        };
        let mut out: Vec<PluginInfo> = order.iter().filter_map(|n| plugins.get(n)).map(|p| p.report(&rss)).collect();
        out.extend(plugins.iter().filter(|(n, _)| !order.contains(n)).map(|(_, p)| p.report(&rss)));
        for info in &mut out {
            info.exempt_granted = self.store.plugin_grants(&info.name).unwrap_or_default();
            if let Ok(Some((source, sha256))) = self.store.plugin_install(&info.name) {
                info.installed_from = Some(source);
                info.sha256 = Some(sha256);
            }
        }
        (out, self.invalid.lock().map(|i| i.clone()).unwrap_or_default())
    }

    /// Adds every active plugin's tools to `registry`. A tool declared read-only
    /// (`[approval] exempt`) is exemptable; the approval gate checks the user's grant.
    pub fn register_tools(&self, registry: &mut ToolRegistry) {
        let plugins = self.plugins.lock().map(|p| p.clone()).unwrap_or_default();
        for plugin in plugins.values().filter(|p| p.state() == State::Active) {
            let tools = plugin.tools.lock().map(|t| t.clone()).unwrap_or_default();
            for tool in tools {
                let exempt = plugin.manifest.approval.exempt.contains(&tool.name);
                registry.add(Arc::new(PluginTool { plugin: plugin.clone(), tool, exempt }));
            }
        }
    }

    /// Grants (or with `false` revokes) the exemptions `name`'s manifest declares;
    /// returns the tools that now run without approval.
    pub fn grant_exemptions(&self, name: &str, grant: bool) -> Result<Vec<String>, String> {
        let plugin = self.plugins.lock().ok().and_then(|p| p.get(name).cloned());
        let plugin = plugin.ok_or_else(|| format!("no plugin named {name:?}"))?;
        let tools = if grant { plugin.manifest.approval.exempt.clone() } else { Vec::new() };
        self.store.set_plugin_grants(name, &tools, crate::clock::unix_now()).map_err(|e| e.to_string())?;
        tracing::info!(plugin = %name, ?tools, "approval exemptions set");
        Ok(tools)
    }

    /// Runs `plugin__tool` for the user directly; returns its text and error flag.
    pub async fn call_direct(&self, full_name: &str, args: Value) -> Result<(String, bool), String> {
        let (plugin_name, tool) =
            full_name.split_once("__").ok_or_else(|| format!("{full_name:?} is not plugin__tool"))?;
        let plugin = self.plugins.lock().ok().and_then(|p| p.get(plugin_name).cloned());
        let plugin = plugin.ok_or_else(|| format!("no plugin named {plugin_name:?}"))?;
        if plugin.state() != State::Active {
            let (state, reason) = plugin.state().parts();
            return Err(format!(
                "plugin {plugin_name} is {state}{}",
                reason.map(|r| format!(": {r}")).unwrap_or_default()
            ));
        }
        let known = plugin
            .tools
            .lock()
            .map(|t| t.iter().find(|t| tool_name(plugin_name, &t.name) == full_name).cloned())
            .ok()
            .flatten();
        let Some(tool) = known else { return Err(format!("plugin {plugin_name} has no tool {tool:?}")) };
        // Lookup failures are errors; a failed call is a result flagged as one.
        Ok(PluginTool { plugin, tool, exempt: false }.run(args).await.unwrap_or_else(|e| (e, true)))
    }

    /// Where plugins are installed: the first search folder (`$PYRA_HOME/plugins`).
    fn install_dir(&self) -> Result<PathBuf, String> {
        self.paths.search.first().cloned().ok_or_else(|| "no plugin folder configured".to_owned())
    }

    /// Unpacks and checks `source` (see `install::stage`) and describes it.
    pub fn inspect(&self, source: &Path) -> Result<(super::install::Staged, bool), String> {
        let dir = self.install_dir()?;
        let staged = super::install::stage(source, &dir.join(".staging")).map_err(|e| e.to_string())?;
        let installed = dir.join(&staged.manifest.name).exists();
        Ok((staged, installed))
    }

    /// Installs `source` if it still hashes to `sha256`, then starts it (an update restarts it).
    pub async fn install(self: &Arc<Self>, source: &Path, sha256: &str, update: bool) -> Result<String, String> {
        let (staged, _) = self.inspect(source)?;
        if staged.sha256 != sha256 {
            return Err(format!(
                "{} changed since it was inspected (sha256 {}); inspect it again",
                source.display(),
                staged.sha256
            ));
        }
        let dir = self.install_dir()?;
        let name = staged.manifest.name.clone();
        let _lifecycle = self.lifecycle.lock().await;
        super::install::commit(&staged, &dir, update).map_err(|e| e.to_string())?;
        // New code, new trust: exemptions are granted again after an update.
        let _ = self.store.set_plugin_grants(&name, &[], crate::clock::unix_now());
        self.store
            .record_install(&name, &source.display().to_string(), sha256, crate::clock::unix_now())
            .map_err(|e| e.to_string())?;
        drop(_lifecycle);
        tracing::info!(plugin = %name, sha256, source = %source.display(), "plugin installed");
        self.refresh(&[]).await;
        Ok(name)
    }

    /// Stops a plugin, removes its folder (not its data); what depends on it stops too.
    pub async fn uninstall(self: &Arc<Self>, name: &str) -> Result<(), String> {
        let dir = self.install_dir()?;
        let target = crate::security::safe_join(&dir, name).map_err(|e| e.to_string())?;
        if !target.join(super::manifest::FILE).is_file() {
            return Err(format!("no installed plugin named {name:?} in {}", dir.display()));
        }
        {
            let _lifecycle = self.lifecycle.lock().await;
            let plugin = self.plugins.lock().ok().and_then(|p| p.get(name).cloned());
            if let Some(plugin) = plugin {
                self.stop_one(&plugin).await;
            }
            std::fs::remove_dir_all(&target).map_err(|e| format!("cannot remove {}: {e}", target.display()))?;
            let _ = self.store.forget_plugin(name);
        }
        tracing::info!(plugin = %name, "plugin uninstalled");
        self.refresh(&[]).await;
        Ok(())
    }

    /// The active plugins' clients, in plugin order.
    async fn active_clients(&self) -> Vec<(String, Arc<McpClient>, Duration)> {
        let plugins = self.plugins.lock().map(|p| p.clone()).unwrap_or_default();
        let order = self.order.lock().map(|o| o.clone()).unwrap_or_default();
        let mut out = Vec::new();
        for name in order {
            let Some(plugin) = plugins.get(&name) else { continue };
            if plugin.state() != State::Active {
                continue;
            }
            if let Some(running) = plugin.running.lock().await.as_ref() {
                out.push((name, running.client.clone(), Duration::from_secs(plugin.manifest.limits.call_timeout_secs)));
            }
        }
        out
    }

    async fn client_of(&self, name: &str) -> Result<(Arc<McpClient>, Duration), String> {
        self.active_clients()
            .await
            .into_iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, c, t)| (c, t))
            .ok_or_else(|| format!("no active plugin named {name:?}"))
    }

    /// Every active plugin's prompts (plugins without the capability are skipped).
    pub async fn prompts(&self) -> Vec<proto::ipc::PromptInfo> {
        let mut out = Vec::new();
        for (plugin, client, timeout) in self.active_clients().await {
            if let Ok(prompts) = client.list_prompts(timeout).await {
                for (name, description, arguments) in prompts {
                    out.push(proto::ipc::PromptInfo { plugin: plugin.clone(), name, description, arguments });
                }
            }
        }
        out
    }

    pub async fn prompt(&self, plugin: &str, name: &str, args: Value) -> Result<String, String> {
        let (client, timeout) = self.client_of(plugin).await?;
        client.get_prompt(name, args, timeout).await.map_err(|e| e.to_string())
    }

    /// Every active plugin's resources.
    pub async fn resources(&self) -> Vec<proto::ipc::ResourceInfo> {
        let mut out = Vec::new();
        for (plugin, client, timeout) in self.active_clients().await {
            if let Ok(resources) = client.list_resources(timeout).await {
                for (uri, name, description) in resources {
                    out.push(proto::ipc::ResourceInfo { plugin: plugin.clone(), uri, name, description });
                }
            }
        }
        out
    }

    pub async fn resource(&self, plugin: &str, uri: &str) -> Result<String, String> {
        let (client, timeout) = self.client_of(plugin).await?;
        client.read_resource(uri, timeout).await.map_err(|e| e.to_string())
    }

    /// The servers' `instructions`, for the system prompt.
    pub async fn instructions(&self) -> Vec<(String, String)> {
        let plugins = self.plugins.lock().map(|p| p.clone()).unwrap_or_default();
        let mut out = Vec::new();
        for (name, plugin) in plugins {
            if let Some(running) = plugin.running.lock().await.as_ref()
                && let Some(text) = &running.client.server.instructions
            {
                out.push((name, text.clone()));
            }
        }
        out
    }

    /// Stops every plugin (closing stdin first, then killing the group).
    pub async fn stop_all(&self) {
        let _lifecycle = self.lifecycle.lock().await;
        self.stop_all_locked().await;
    }

    async fn stop_all_locked(&self) {
        let plugins = self.plugins.lock().map(|p| p.clone()).unwrap_or_default();
        for plugin in plugins.values() {
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

/// Pings an active plugin now and then; one that does not answer within its call
/// timeout is killed, which its watcher sees as a crash and restarts.
/// One loop per run of the process: it ends when that run does, so a plugin
/// restarted within one interval is not pinged twice over.
async fn health_check(plugin: Arc<Plugin>, every: Duration) {
    // Weak: holding the client would keep its stdin open when pyrad stops the plugin.
    let Some(run) = plugin.running.lock().await.as_ref().map(|r| Arc::downgrade(&r.client)) else { return };
    loop {
        tokio::time::sleep(every).await;
        if plugin.state() != State::Active {
            return;
        }
        let client = plugin.running.lock().await.as_ref().map(|r| r.client.clone());
        let Some(client) = client.filter(|c| std::ptr::eq(Arc::as_ptr(c), run.as_ptr())) else { return };
        let timeout = Duration::from_secs(plugin.manifest.limits.call_timeout_secs);
        if let Err(e) = client.ping(timeout).await {
            plugin.kill(format!("failed its health check: {e}")).await;
            return;
        }
    }
}

/// A plugin's MCP tool, offered to the model as `plugin__tool`.
struct PluginTool {
    plugin: Arc<Plugin>,
    tool: McpTool,
    /// Declared read-only (`[approval] exempt`): runs unasked once the user granted it (the gate checks).
    exempt: bool,
}

impl PluginTool {
    /// One call with the plugin's timeout; counted in its figures.
    async fn run(&self, args: Value) -> Result<(String, bool), String> {
        let client = self.plugin.running.lock().await.as_ref().map(|r| r.client.clone());
        let Some(client) = client else {
            return Err(format!("plugin {} is not running ({:?})", self.plugin.manifest.name, self.plugin.state()));
        };
        let timeout = Duration::from_secs(self.plugin.manifest.limits.call_timeout_secs);
        let started = Instant::now();
        let result = client.call_tool(&self.tool.name, args, timeout).await;
        self.plugin.record(started, matches!(result, Ok((_, false))));
        result.map_err(|e| e.to_string())
    }
}

impl Tool for PluginTool {
    fn rule(&self) -> crate::approval::ToolRule {
        if self.exempt {
            crate::approval::ToolRule::Exemptable {
                plugin: self.plugin.manifest.name.clone(),
                tool: self.tool.name.clone(),
            }
        } else {
            crate::approval::ToolRule::Ask
        }
    }

    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: tool_name(&self.plugin.manifest.name, &self.tool.name),
            description: self.tool.description.clone(),
            parameters: self.tool.input_schema.clone(),
        }
    }

    fn call(&self, args: Value) -> std::pin::Pin<Box<dyn std::future::Future<Output = ToolResult> + Send + '_>> {
        Box::pin(async move {
            match self.run(args).await? {
                (text, false) => Ok(text),
                (text, true) => Err(text),
            }
        })
    }
}

/// A manifest `command`: relative paths are inside the plugin folder, bare names are looked up on PATH by exec.
/// The sandbox of `plugin`: `PYRA_HOME` and the user's home hidden; its own
/// folders, its declared paths and its program's files (`grants.rs`) granted,
/// never anything inside `PYRA_HOME` but its own folders.
fn sandbox_policy(plugin: &Plugin, pyra_home: &Path, data: &Path) -> crate::sandbox::Policy {
    use crate::sandbox::carve;
    let m = &plugin.manifest;
    let home = std::env::var_os("HOME").map(PathBuf::from).filter(|h| h.is_absolute() && h != Path::new("/"));
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let pyra_home = canonical(pyra_home);
    let mut hidden = vec![pyra_home.clone()];
    hidden.extend(home.as_deref().map(canonical));
    let command = super::process::resolve_command(&m.command, &plugin.dir);
    let program = super::grants::for_program(&command, &m.args, std::env::var("PATH").ok().as_deref(), home.as_deref());
    let keep_out = std::slice::from_ref(&pyra_home);
    let declared = |paths: &[PathBuf], kind: &str| -> Vec<PathBuf> {
        let mut out = Vec::new();
        for path in paths {
            let Some(full) = super::grants::expand_home(path, home.as_deref()) else { continue };
            let carved = carve(&full, keep_out);
            if carved.is_empty() {
                tracing::warn!(plugin = %m.name, path = %full.display(), "permissions.{kind}: missing or inside PYRA_HOME; not granted");
            }
            out.extend(carved);
        }
        out
    };
    let (config_read, config_write) = config_grants(m, data);
    let mut read = vec![plugin.dir.clone()];
    read.extend(declared(&m.permissions.read, "read"));
    read.extend(declared(&config_read, "read (from its settings)"));
    read.extend(program.read.iter().flat_map(|p| carve(p, keep_out)));
    let mut write = vec![data.to_path_buf()];
    write.extend(declared(&m.permissions.write, "write"));
    write.extend(declared(&config_write, "write (from its settings)"));
    write.extend(program.write.iter().flat_map(|p| carve(p, keep_out)));
    crate::sandbox::Policy { hidden, read, write, network: m.permissions.network }
}

/// Folders the user gave a plugin in its settings, where its `config_schema` marks
/// the setting `x-pyra-grant = "read"` or `"write"` (a `:`-separated string or a
/// list): the `files` plugin's roots. Read from its `config.json`.
fn config_grants(m: &super::manifest::Manifest, data: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let (mut read, mut write) = (Vec::new(), Vec::new());
    let Some(properties) = m.config_schema.as_ref().and_then(|s| s.get("properties")).and_then(|p| p.as_table()) else {
        return (read, write);
    };
    let config: serde_json::Map<String, Value> = std::fs::read(data.join(CONFIG_FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    for (key, property) in properties {
        let target = match property.get("x-pyra-grant").and_then(|g| g.as_str()) {
            Some("read") => &mut read,
            Some("write") => &mut write,
            _ => continue,
        };
        let paths: Vec<String> = match config.get(key) {
            Some(Value::String(s)) => s.split(':').map(str::to_owned).collect(),
            Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
            _ => continue,
        };
        // Only absolute or `~` paths, as in the manifest.
        target.extend(paths.iter().map(PathBuf::from).filter(|p| super::grants::is_grantable(p)));
    }
    (read, write)
}

/// The plugin folders pyrad searches: its own, then the configured extras.
pub fn search_paths(home_plugins: &Path, extra: &[PathBuf]) -> Vec<PathBuf> {
    std::iter::once(home_plugins.to_owned()).chain(extra.iter().cloned()).collect()
}

/// The file in a plugin's data folder that holds what `pyractl plugin setup` asked for.
const CONFIG_FILE: &str = "config.json";

impl PluginHost {
    fn plugin(&self, name: &str) -> Result<Arc<Plugin>, String> {
        self.plugins.lock().ok().and_then(|p| p.get(name).cloned()).ok_or_else(|| format!("no plugin named {name:?}"))
    }

    /// The settings a plugin's `config_schema` declares.
    pub fn setup_fields(&self, name: &str) -> Result<Vec<proto::ipc::SetupField>, String> {
        let plugin = self.plugin(name)?;
        let Some(schema) = &plugin.manifest.config_schema else { return Ok(Vec::new()) };
        let schema = serde_json::to_value(schema).map_err(|e| e.to_string())?;
        let required: Vec<&str> =
            schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        let mut fields = Vec::new();
        for (key, spec) in schema.get("properties").and_then(Value::as_object).into_iter().flatten() {
            let secret = spec.get("format").and_then(Value::as_str) == Some("password")
                || spec.get("x-secret").and_then(Value::as_bool) == Some(true);
            fields.push(proto::ipc::SetupField {
                key: key.clone(),
                kind: spec.get("type").and_then(Value::as_str).unwrap_or("string").to_owned(),
                description: spec.get("description").and_then(Value::as_str).unwrap_or_default().to_owned(),
                required: required.contains(&key.as_str()),
                secret,
            });
        }
        Ok(fields)
    }

    /// Checks `values` against the plugin's schema, writes them to its config
    /// file (0600), puts `secrets` in the vault as `plugin:<name>:<key>`, and restarts it.
    pub async fn configure(
        self: &Arc<Self>,
        name: &str,
        values: serde_json::Map<String, Value>,
        secrets: std::collections::BTreeMap<String, String>,
    ) -> Result<(), String> {
        let plugin = self.plugin(name)?;
        let fields = self.setup_fields(name)?;
        for key in values.keys().chain(secrets.keys()) {
            let field =
                fields.iter().find(|f| &f.key == key).ok_or_else(|| format!("{name} has no setting {key:?}"))?;
            if field.secret != secrets.contains_key(key) {
                let how = if field.secret { "a secret (it goes to the vault)" } else { "not a secret" };
                return Err(format!("{key} is {how}"));
            }
        }
        if let Some(schema) = &plugin.manifest.config_schema {
            let schema = serde_json::to_value(schema).map_err(|e| e.to_string())?;
            let validator = jsonschema::validator_for(&schema)
                .map_err(|e| format!("the plugin's config_schema is invalid: {e}"))?;
            // Secrets are checked for presence only; their values never leave this function.
            let mut instance = values.clone();
            for key in secrets.keys() {
                instance.insert(key.clone(), Value::String("secret".into()));
            }
            if let Some(error) = validator.iter_errors(&Value::Object(instance)).next() {
                return Err(format!("{}: {error}", error.instance_path()));
            }
        }
        let data = self.paths.data.join(name);
        crate::security::modes::ensure_dir(&self.paths.data).map_err(|e| e.to_string())?;
        crate::security::modes::ensure_dir(&data).map_err(|e| e.to_string())?;
        let text = serde_json::to_vec_pretty(&Value::Object(values)).map_err(|e| e.to_string())?;
        let path = data.join(CONFIG_FILE);
        let tmp = data.join(".config.json.tmp");
        {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)
                .map_err(|e| format!("{}: {e}", tmp.display()))?;
            file.write_all(&text).map_err(|e| e.to_string())?;
        }
        std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))?;
        for (key, value) in secrets {
            self.vault.set(&format!("plugin:{name}:{key}"), &value).map_err(|e| e.to_string())?;
        }
        tracing::info!(plugin = %name, "plugin configured");
        self.refresh(&[name]).await;
        Ok(())
    }
}

/// How long one hook call may take before it is skipped.
const HOOK_TIMEOUT: Duration = Duration::from_secs(5);

impl PluginHost {
    /// Calls `hook` on every active plugin that declared it, in plugin order, and
    /// returns each answer. A hook that fails or times out is logged with plugin
    /// and hook name and skipped; the turn goes on.
    pub async fn call_hook(&self, hook: Hook, payload: &Value) -> Vec<(String, Value)> {
        let mut answers = Vec::new();
        for (name, client, timeout) in self.hook_clients(hook).await {
            if let Some(answer) = hook_request(&name, &client, hook, payload, timeout).await {
                answers.push((name, answer));
            }
        }
        answers
    }

    /// Calls `hook` as a chain: each plugin in order gets the payload with `key`
    /// as the previous plugin left it, and may replace `key` in its answer.
    pub async fn call_chain(&self, hook: Hook, mut payload: Value, key: &str) -> Value {
        for (name, client, timeout) in self.hook_clients(hook).await {
            if let Some(answer) = hook_request(&name, &client, hook, &payload, timeout).await
                && let Some(value) = answer.get(key).filter(|v| v.is_string())
            {
                payload[key] = value.clone();
            }
        }
        payload
    }

    /// The active plugins that declared `hook`, in plugin order, with their
    /// clients and hook timeouts.
    async fn hook_clients(&self, hook: Hook) -> Vec<(String, Arc<McpClient>, Duration)> {
        if !self.hooked(hook) {
            return Vec::new();
        }
        let plugins = self.plugins.lock().map(|p| p.clone()).unwrap_or_default();
        let order = self.order.lock().map(|o| o.clone()).unwrap_or_default();
        let mut out = Vec::new();
        for name in order {
            let Some(plugin) = plugins.get(&name) else { continue };
            if plugin.state() != State::Active || !plugin.manifest.hooks.contains(&hook) {
                continue;
            }
            if let Some(running) = plugin.running.lock().await.as_ref() {
                let timeout = Duration::from_secs(plugin.manifest.limits.call_timeout_secs).min(HOOK_TIMEOUT);
                out.push((name, running.client.clone(), timeout));
            }
        }
        out
    }

    /// Whether any active plugin declared `hook` (to skip building payloads for nobody).
    pub fn hooked(&self, hook: Hook) -> bool {
        self.plugins
            .lock()
            .map(|p| p.values().any(|p| p.state() == State::Active && p.manifest.hooks.contains(&hook)))
            .unwrap_or(false)
    }
}

/// One `pyra/hook` request; a failure is logged with plugin and hook and yields `None`.
async fn hook_request(name: &str, client: &McpClient, hook: Hook, payload: &Value, timeout: Duration) -> Option<Value> {
    let params = serde_json::json!({"hook": hook.name(), "payload": payload});
    match client.request("pyra/hook", params, timeout).await {
        Ok(answer) => Some(answer),
        Err(e) => {
            tracing::warn!(plugin = %name, hook = hook.name(), error = %e, "hook failed; skipped");
            None
        }
    }
}

/// The turn's view of the plugins' hooks.
pub struct PluginHooks(pub Arc<PluginHost>);

impl crate::chat::turn::Hooks for PluginHooks {
    fn observe(&self, hook: Hook, payload: Value) -> crate::chat::turn::HookFuture<'_, ()> {
        Box::pin(async move {
            if self.0.hooked(hook) {
                self.0.call_hook(hook, &payload).await;
            }
        })
    }

    fn extend_prompt(&self, prompt: String) -> crate::chat::turn::HookFuture<'_, String> {
        Box::pin(async move {
            let out =
                self.0.call_chain(Hook::SystemPromptExtend, serde_json::json!({"prompt": prompt}), "prompt").await;
            out["prompt"].as_str().unwrap_or_default().to_owned()
        })
    }

    fn hidden_tools(&self, tools: Vec<String>) -> crate::chat::turn::HookFuture<'_, Vec<String>> {
        Box::pin(async move {
            if !self.0.hooked(Hook::ToolRegistryBuild) {
                return Vec::new();
            }
            let answers = self.0.call_hook(Hook::ToolRegistryBuild, &serde_json::json!({"tools": tools})).await;
            answers
                .iter()
                .flat_map(|(_, a)| a.get("remove").and_then(Value::as_array).cloned().unwrap_or_default())
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
    }

    fn before_tool(
        &self,
        session: &str,
        tool: &str,
        args: &Value,
    ) -> crate::chat::turn::HookFuture<'_, Option<String>> {
        let payload = serde_json::json!({"session": session, "tool": tool, "args": args});
        Box::pin(async move {
            if !self.0.hooked(Hook::PreToolExecute) {
                return None;
            }
            for (_, answer) in self.0.call_hook(Hook::PreToolExecute, &payload).await {
                if answer.get("skip").and_then(Value::as_bool) == Some(true) {
                    return Some(
                        answer.get("result").and_then(Value::as_str).unwrap_or("skipped by a plugin").to_owned(),
                    );
                }
            }
            None
        })
    }

    fn after_tool(
        &self,
        session: &str,
        tool: &str,
        args: &Value,
        result: String,
    ) -> crate::chat::turn::HookFuture<'_, String> {
        let payload = serde_json::json!({"session": session, "tool": tool, "args": args, "result": result});
        Box::pin(async move {
            let out = self.0.call_chain(Hook::PostToolExecute, payload, "result").await;
            out["result"].as_str().unwrap_or_default().to_owned()
        })
    }
}
