//! The active plugins' MCP tools (offered to the model as `plugin__tool` by
//! `plugins::adapter`): each call bounded by the plugin's timeout and counted in
//! its figures; and the user's direct call (`plugins.call`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::super::mcp::McpTool;
use super::{Plugin, PluginError, PluginHost, State};

/// `plugin__tool`, with anything a provider would refuse replaced by `_`.
pub fn tool_name(plugin: &str, tool: &str) -> String {
    let clean: String =
        tool.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect();
    format!("{plugin}__{clean}")
}

impl PluginHost {
    /// Every active plugin's tools. A tool declared read-only (`[approval] exempt`)
    /// is exemptable; the approval gate checks the user's grant.
    pub fn tools(&self) -> Vec<PluginTool> {
        let mut out = Vec::new();
        for plugin in self.plugins().values().filter(|p| p.state() == State::Active) {
            for tool in plugin.tools() {
                let exempt = plugin.manifest.approval.exempt.contains(&tool.name);
                out.push(PluginTool { plugin: plugin.clone(), tool, exempt });
            }
        }
        out
    }

    /// Runs `plugin__tool` for the user directly; returns its text and error flag.
    pub async fn call_direct(&self, full_name: &str, args: Value) -> Result<(String, bool), PluginError> {
        let (plugin_name, tool) =
            full_name.split_once("__").ok_or_else(|| PluginError::NotPluginTool(full_name.to_owned()))?;
        let plugin = self.plugin(plugin_name)?;
        if plugin.state() != State::Active {
            let (state, reason) = plugin.state().parts();
            return Err(PluginError::Unavailable { name: plugin_name.to_owned(), state, reason });
        }
        let known = plugin.tools().into_iter().find(|t| tool_name(plugin_name, &t.name) == full_name);
        let Some(tool) = known else {
            return Err(PluginError::NoTool { plugin: plugin_name.to_owned(), tool: tool.to_owned() });
        };
        // Lookup failures are errors; a failed call is a result flagged as one.
        Ok(PluginTool { plugin, tool, exempt: false }.run(args).await.unwrap_or_else(|e| (e.to_string(), true)))
    }
}

/// A plugin's MCP tool, offered to the model as `plugin__tool`.
pub struct PluginTool {
    plugin: Arc<Plugin>,
    tool: McpTool,
    /// Declared read-only (`[approval] exempt`): runs unasked once the user granted it (the gate checks).
    exempt: bool,
}

impl PluginTool {
    pub fn plugin(&self) -> &str {
        &self.plugin.manifest.name
    }

    /// The tool's name on its server.
    pub fn name(&self) -> &str {
        &self.tool.name
    }

    /// `plugin__tool`.
    pub fn full_name(&self) -> String {
        tool_name(&self.plugin.manifest.name, &self.tool.name)
    }

    pub fn description(&self) -> &str {
        &self.tool.description
    }

    /// Its arguments' JSON schema.
    pub fn input_schema(&self) -> &Value {
        &self.tool.input_schema
    }

    /// Declared read-only by its plugin (`[approval] exempt`).
    pub fn exempt(&self) -> bool {
        self.exempt
    }

    /// One call with the plugin's timeout; counted in its figures.
    pub async fn run(&self, args: Value) -> Result<(String, bool), PluginError> {
        let client = self.plugin.running.lock().await.as_ref().map(|r| r.client.clone());
        let Some(client) = client else {
            return Err(PluginError::NotRunning {
                name: self.plugin.manifest.name.clone(),
                state: self.plugin.state(),
            });
        };
        let timeout = Duration::from_secs(self.plugin.manifest.limits.call_timeout_secs);
        let started = Instant::now();
        let result = client.call_tool(&self.tool.name, args, timeout).await;
        self.plugin.record(started, matches!(result, Ok((_, false))));
        self.report_process_cap().await;
        Ok(result?)
    }

    /// Records it when the plugin's cgroup refused forks or threads at its cap
    /// during the call (a fork bomb stops there; the plugin itself runs on).
    async fn report_process_cap(&self) {
        let refused =
            self.plugin.running.lock().await.as_ref().and_then(|r| r.process.cgroup.as_ref().map(|c| c.pids_refused()));
        let Some(refused) = refused else { return };
        let before = self.plugin.with_run(|r| std::mem::replace(&mut r.pids_refused, refused)).unwrap_or(refused);
        if refused > before {
            let m = &self.plugin.manifest;
            let detail = format!(
                "{} forks or threads refused at its cap of {} processes (in {})",
                refused - before,
                m.limits.processes,
                self.full_name()
            );
            tracing::warn!(plugin = %m.name, "{detail}");
            crate::security::log_event(&self.plugin.security_log, "plugin_limit", &m.name, &detail);
        }
    }
}
