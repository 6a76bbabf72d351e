//! One plugin's run, from spawn to crash: the handshake and tool list, the
//! watcher that restarts a crashed plugin with bounded backoff, the health ping,
//! and the memory limit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::super::mcp::{McpClient, ServerEvent};
use super::super::process::PluginProcess;
use super::{Plugin, PluginError, PluginHost, Running, State};

/// Crashes within `CRASH_WINDOW` after which a plugin stays failed.
const MAX_CRASHES: usize = 5;
const CRASH_WINDOW: Duration = Duration::from_secs(300);
pub(super) const START_TIMEOUT: Duration = Duration::from_secs(30);

impl Plugin {
    /// Kills its process group for `why`, which becomes the crash reason; the
    /// watcher then restarts it with backoff.
    async fn kill(&self, why: String) {
        tracing::warn!(plugin = %self.manifest.name, reason = %why, "killing plugin");
        self.with_run(|r| r.killed_for = Some(why));
        if let Some(running) = self.running.lock().await.as_mut() {
            running.process.kill();
        }
    }
}

impl PluginHost {
    /// Kills every active plugin whose process group holds more resident memory
    /// than its `limits.memory_mb`; its watcher restarts it like any crash.
    pub(super) async fn enforce_memory(&self) {
        let active: Vec<Arc<Plugin>> = self.plugins().into_values().filter(|p| p.state() == State::Active).collect();
        if active.is_empty() {
            return;
        }
        let groups = super::super::procfs::rss_by_group();
        for plugin in active {
            // A plugin in a cgroup has a hard cap the kernel enforces.
            if plugin.running.lock().await.as_ref().is_some_and(|r| r.process.cgroup.is_some()) {
                continue;
            }
            let Some(pid) = plugin.pid() else { continue };
            let Some(&bytes) = groups.get(&pid) else { continue };
            let limit = plugin.manifest.limits.memory_mb;
            if bytes > limit * 1024 * 1024 {
                let why = format!("used {} MiB, over its memory limit of {limit} MiB", bytes / (1024 * 1024));
                plugin.kill(why).await;
            }
        }
    }

    /// Starts one plugin and watches it; a crash is restarted with backoff.
    /// (Boxed: a restart launches again from inside the watcher.)
    pub(super) fn launch(
        self: Arc<Self>,
        plugin: Arc<Plugin>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        Box::pin(async move {
            plugin.set_state(State::Starting);
            let name = plugin.manifest.name.clone();
            let started = self.connect(&plugin).await;
            let mut events = match started {
                Ok(events) => events,
                Err(e) => {
                    let reason = e.to_string();
                    tracing::warn!(plugin = %name, %reason, "plugin failed to start");
                    plugin.set_state(State::Failed(reason));
                    return;
                }
            };
            plugin.set_state(State::Active);
            let tools = plugin.with_run(|r| r.tools.len()).unwrap_or(0);
            tracing::info!(plugin = %name, tools, "plugin active");
            tokio::spawn(health_check(plugin.clone(), self.paths().health_every));
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
        let running = plugin.running.lock().await.take();
        let limit = match running {
            Some(mut running) => self.limit_hit(&plugin, &mut running).await,
            None => None,
        };
        if let Some(why) = &limit {
            crate::security::log_event(&self.security_log(), "plugin_stopped", &name, why);
        }
        let reason = plugin.with_run(|r| r.killed_for.take()).flatten().or(limit).unwrap_or(reason);
        let recent = plugin.with_figures(|f| {
            f.crashes.retain(|t| t.elapsed() < CRASH_WINDOW);
            f.crashes.push(Instant::now());
            f.crashes.len()
        });
        let Some(recent) = recent else { return };
        if recent >= MAX_CRASHES {
            let why = format!("crashed {recent} times in {} minutes; last: {reason}", CRASH_WINDOW.as_secs() / 60);
            tracing::error!(plugin = %name, "{why}; giving up");
            plugin.set_state(State::Failed(why));
            return;
        }
        let backoff = Duration::from_millis(500 * (1 << (recent - 1).min(6)));
        tracing::warn!(plugin = %name, %reason, ?backoff, "plugin stopped; restarting");
        plugin.set_state(State::Failed(format!("{reason}; restarting")));
        plugin.with_figures(|f| f.restarts += 1);
        tokio::time::sleep(backoff).await;
        // A reload or a stop during the backoff replaced or stopped it: nothing to restart.
        let current = self.find(&name).is_some_and(|p| Arc::ptr_eq(&p, &plugin));
        if !current || matches!(plugin.state(), State::Stopping | State::Disabled) {
            return;
        }
        self.launch(plugin).await;
    }

    /// Which of its limits stopped a plugin's run, if one did: its output meter, its
    /// cgroup's OOM killer, or a signal from an rlimit. Waits briefly for the exit.
    async fn limit_hit(&self, plugin: &Plugin, running: &mut Running) -> Option<String> {
        use std::os::unix::process::ExitStatusExt;
        let l = &plugin.manifest.limits;
        if let Some(why) = running.process.meter.tripped() {
            return Some(why);
        }
        let status = tokio::time::timeout(Duration::from_secs(2), running.process.wait()).await.ok().flatten();
        if running.process.cgroup.as_ref().is_some_and(|c| c.oom_kills() > 0) {
            return Some(format!("killed by the kernel: over its memory cap of {} MiB (cgroup)", l.memory_mb));
        }
        match status.and_then(|s| s.signal()) {
            Some(libc::SIGXFSZ) => {
                Some(format!("killed: it wrote a file past its limit of {} MiB (file_mb)", l.file_mb))
            }
            Some(libc::SIGXCPU) => Some(format!("killed: it used up its {} CPU seconds (cpu_secs)", l.cpu_secs)),
            _ if running.process.cgroup.as_ref().is_some_and(|c| c.pids_refused() > 0) => {
                Some(format!("stopped at its cap of {} processes and threads", l.processes))
            }
            _ => None,
        }
    }

    /// Spawns the process, performs the handshake and lists the tools.
    async fn connect(
        &self,
        plugin: &Arc<Plugin>,
    ) -> Result<tokio::sync::mpsc::UnboundedReceiver<ServerEvent>, PluginError> {
        let mut spawn = self.spawn_for(plugin)?;
        let l = &plugin.manifest.limits;
        // Its cgroup, where pyrad has them: a hard memory cap and a process cap.
        let cgroup = match &self.paths().cgroups {
            Ok(cgroups) => match cgroups.create(&plugin.manifest.name, l.memory_mb, l.processes) {
                Ok(group) => Some(group),
                Err(e) => {
                    tracing::warn!(plugin = %plugin.manifest.name, error = %e, "no cgroup for this plugin; its memory is sampled");
                    None
                }
            },
            Err(_) => None,
        };
        spawn.cgroups = cgroup.as_ref().map(|c| c.procs_files()).unwrap_or_default();
        let begun = Instant::now();
        let (mut process, stdin, stdout) = PluginProcess::start(&spawn, &self.paths().logs)
            .map_err(|source| PluginError::Start { command: spawn.command.clone(), source })?;
        process.cgroup = cgroup;
        let pid = process.pid();
        // The plugin's own call timeout bounds its start too, up to a ceiling.
        let timeout = Duration::from_secs(plugin.manifest.limits.call_timeout_secs).min(START_TIMEOUT);
        let (client, events) = McpClient::start(&plugin.manifest.name, stdin, stdout, timeout)
            .await
            .map_err(|source| PluginError::Handshake { plugin: plugin.manifest.name.clone(), source })?;
        let tools = client.list_tools(timeout).await?;
        plugin.with_run(|r| {
            r.tools = tools;
            r.pid = pid;
            r.start_ms = Some(begun.elapsed().as_secs_f64() * 1000.0);
        });
        *plugin.running.lock().await = Some(Running { client: Arc::new(client), process });
        Ok(events)
    }

    async fn refresh_tools(&self, plugin: &Arc<Plugin>) {
        let client = plugin.running.lock().await.as_ref().map(|r| r.client.clone());
        let Some(client) = client else { return };
        match client.list_tools(START_TIMEOUT).await {
            Ok(tools) => {
                plugin.with_run(|r| r.tools = tools);
            }
            Err(e) => tracing::warn!(plugin = %plugin.manifest.name, error = %e, "cannot refresh the tool list"),
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
