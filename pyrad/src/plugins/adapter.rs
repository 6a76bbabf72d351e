//! The plugin host as chat sees it. Chat defines [`ToolSource`], [`Tool`] and
//! [`Hooks`] and knows nothing of plugins; this file implements them on the host,
//! and `daemon.rs` hands the host to the chat service through them. Nothing else
//! in `plugins` imports `chat`.

use std::sync::Arc;

use serde_json::Value;

use super::host::{PluginHost, PluginTool};
use super::manifest::Hook;
use crate::approval::ToolRule;
use crate::chat::hooks::{HookFuture, Hooks, TurnEvent};
use crate::chat::tools::{SourceFuture, Tool, ToolError, ToolRegistry, ToolResult, ToolSource};
use crate::llm::ToolSpec;

impl ToolSource for PluginHost {
    fn register_tools(&self, registry: &mut ToolRegistry) {
        for tool in self.tools() {
            registry.add(Arc::new(tool));
        }
    }

    fn instructions(&self) -> SourceFuture<'_, Vec<(String, String)>> {
        Box::pin(PluginHost::instructions(self))
    }

    fn call_direct(&self, tool: &str, args: Value) -> SourceFuture<'_, Result<(String, bool), ToolError>> {
        let tool = tool.to_owned();
        Box::pin(async move { PluginHost::call_direct(self, &tool, args).await.map_err(|e| ToolError(e.to_string())) })
    }

    fn settle(&self, within: std::time::Duration) -> SourceFuture<'_, ()> {
        Box::pin(async move {
            let deadline = tokio::time::Instant::now() + within;
            while self.settling() && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        })
    }
}

/// A plugin's MCP tool, offered to the model as `plugin__tool`.
impl Tool for PluginTool {
    fn rule(&self) -> ToolRule {
        if self.exempt() {
            ToolRule::Exemptable { plugin: self.plugin().to_owned(), tool: self.name().to_owned() }
        } else {
            ToolRule::Ask
        }
    }

    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: self.full_name(),
            description: self.description().to_owned(),
            parameters: self.input_schema().clone(),
        }
    }

    fn call(&self, args: Value) -> std::pin::Pin<Box<dyn std::future::Future<Output = ToolResult> + Send + '_>> {
        Box::pin(async move {
            match self.run(args).await {
                Ok((text, false)) => Ok(text),
                Ok((text, true)) => Err(ToolError(text)),
                Err(e) => Err(ToolError(e.to_string())),
            }
        })
    }
}

/// The plugin hook a turn event is.
fn hook_of(event: TurnEvent) -> Hook {
    match event {
        TurnEvent::MessageReceived => Hook::MessageReceived,
        TurnEvent::SessionResolved => Hook::SessionResolved,
        TurnEvent::PreLlmCall => Hook::PreLlmCall,
        TurnEvent::PostLlmResponse => Hook::PostLlmResponse,
        TurnEvent::TurnCompleted => Hook::TurnCompleted,
    }
}

/// The turn's view of the plugins' hooks.
pub struct PluginHooks(pub Arc<PluginHost>);

impl Hooks for PluginHooks {
    fn observe(&self, event: TurnEvent, payload: Value) -> HookFuture<'_, ()> {
        let hook = hook_of(event);
        Box::pin(async move {
            if self.0.hooked(hook) {
                self.0.call_hook(hook, &payload).await;
            }
        })
    }

    fn extend_prompt(&self, prompt: String) -> HookFuture<'_, String> {
        Box::pin(async move {
            let out =
                self.0.call_chain(Hook::SystemPromptExtend, serde_json::json!({"prompt": prompt}), "prompt").await;
            out["prompt"].as_str().unwrap_or_default().to_owned()
        })
    }

    fn hidden_tools(&self, tools: Vec<String>) -> HookFuture<'_, Vec<String>> {
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

    fn before_tool(&self, session: &str, tool: &str, args: &Value) -> HookFuture<'_, Option<String>> {
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

    fn after_tool(&self, session: &str, tool: &str, args: &Value, result: String) -> HookFuture<'_, String> {
        let payload = serde_json::json!({"session": session, "tool": tool, "args": args, "result": result});
        Box::pin(async move {
            let out = self.0.call_chain(Hook::PostToolExecute, payload, "result").await;
            out["result"].as_str().unwrap_or_default().to_owned()
        })
    }
}
