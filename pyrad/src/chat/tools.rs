//! Tools the model may call: the trait every tool implements, the registry a
//! turn draws from, and [`ToolSource`], the tools from outside the daemon (the
//! plugins, adapted in `plugins::adapter`) as chat sees them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;

use crate::approval::ToolRule;
use crate::llm::ToolSpec;

/// What a tool call produced: text for the model, or an error the model is told about.
pub type ToolResult = Result<String, ToolError>;

/// Why a tool call failed, in words for the model (`the tool failed: …`) or the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ToolError(pub String);

impl From<crate::memory::MemoryError> for ToolError {
    fn from(e: crate::memory::MemoryError) -> Self {
        ToolError(e.to_string())
    }
}

/// A future a [`ToolSource`] returns.
pub type SourceFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Tools from outside the daemon, and what their servers ask the model to know.
pub trait ToolSource: Send + Sync {
    /// Adds the tools on offer now to a turn's registry.
    fn register_tools(&self, registry: &mut ToolRegistry);
    /// `(name, text)` for each server that asks the system prompt to carry its text.
    fn instructions(&self) -> SourceFuture<'_, Vec<(String, String)>>;
    /// Runs `tool` for the user directly (no approval): its text and whether that
    /// text is an error; `Err` when there is no such tool to run now.
    fn call_direct(&self, tool: &str, args: Value) -> SourceFuture<'_, Result<(String, bool), ToolError>>;
    /// Waits (at most `within`) for tools still starting, so a turn right after
    /// pyrad starts is offered every tool, not only the built-in ones.
    fn settle(&self, _within: std::time::Duration) -> SourceFuture<'_, ()> {
        Box::pin(async {})
    }
}

pub trait Tool: Send + Sync {
    fn spec(&self) -> ToolSpec;
    /// The tool's own approval rule; the gate weighs it with grants and taint. Defaults to asking.
    fn rule(&self) -> ToolRule {
        ToolRule::Ask
    }
    fn call(&self, args: Value) -> Pin<Box<dyn Future<Output = ToolResult> + Send + '_>>;
}

/// The tools offered in a turn, by name.
#[derive(Clone, Default)]
pub struct ToolRegistry {
    tools: Vec<Arc<dyn Tool>>,
}

impl ToolRegistry {
    pub fn add(&mut self, tool: Arc<dyn Tool>) {
        self.tools.push(tool);
    }

    pub fn specs(&self) -> Vec<ToolSpec> {
        self.tools.iter().map(|t| t.spec()).collect()
    }

    pub fn get(&self, name: &str) -> Option<Arc<dyn Tool>> {
        self.tools.iter().find(|t| t.spec().name == name).cloned()
    }
}

/// Cuts a result to `cap` characters, saying how much was left out.
pub fn cap_result(text: String, cap: usize) -> String {
    let total = text.chars().count();
    if total <= cap {
        return text;
    }
    let kept: String = text.chars().take(cap).collect();
    format!("{kept}\n[... result cut: {} of {total} characters not shown]", total - cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_results_are_cut_with_a_marker() {
        assert_eq!(cap_result("short".into(), 10), "short");
        let cut = cap_result("é".repeat(50), 10);
        assert!(cut.starts_with(&"é".repeat(10)));
        assert!(cut.ends_with("[... result cut: 40 of 50 characters not shown]"), "{cut}");
    }
}
