//! What the active plugins' servers offer besides tools: prompts, resources and
//! `instructions` for the system prompt.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::super::mcp::McpClient;
use super::{PluginError, PluginHost, State};

impl PluginHost {
    /// The active plugins' clients, in plugin order.
    async fn active_clients(&self) -> Vec<(String, Arc<McpClient>, Duration)> {
        let (plugins, order) = self.plugins_in_order();
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

    async fn client_of(&self, name: &str) -> Result<(Arc<McpClient>, Duration), PluginError> {
        self.active_clients()
            .await
            .into_iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, c, t)| (c, t))
            .ok_or_else(|| PluginError::NotActive(name.to_owned()))
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

    pub async fn prompt(&self, plugin: &str, name: &str, args: Value) -> Result<String, PluginError> {
        let (client, timeout) = self.client_of(plugin).await?;
        Ok(client.get_prompt(name, args, timeout).await?)
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

    pub async fn resource(&self, plugin: &str, uri: &str) -> Result<String, PluginError> {
        let (client, timeout) = self.client_of(plugin).await?;
        Ok(client.read_resource(uri, timeout).await?)
    }

    /// The servers' `instructions`, for the system prompt.
    pub async fn instructions(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (name, plugin) in self.plugins() {
            if let Some(running) = plugin.running.lock().await.as_ref()
                && let Some(text) = &running.client.server.instructions
            {
                out.push((name, text.clone()));
            }
        }
        out
    }
}
