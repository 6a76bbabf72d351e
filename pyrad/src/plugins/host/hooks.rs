//! Hook dispatch (`pyra/hook`, Pyra's one extension to MCP): each active plugin
//! that declared a hook is called in plugin order, within a time limit; a failure
//! is logged with plugin and hook name and skipped.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::super::manifest::Hook;
use super::super::mcp::McpClient;
use super::{PluginHost, State};

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
        let (plugins, order) = self.plugins_in_order();
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
        self.registry
            .lock()
            .map(|r| r.plugins.values().any(|p| p.state() == State::Active && p.manifest.hooks.contains(&hook)))
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
