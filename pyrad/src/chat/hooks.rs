//! The turn's hook points, as chat defines them: whoever extends a turn (the
//! plugins, through `plugins::adapter`) implements [`Hooks`]; chat knows nothing
//! of who that is.

use serde_json::Value;

/// A hook call's future.
pub type HookFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// A moment of a turn that hooks may observe (they cannot change it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnEvent {
    /// `{channel, text}`: a message came in.
    MessageReceived,
    /// `{session, channel}`: the turn's session is known.
    SessionResolved,
    /// `{session, turn, messages}`: the model is about to be called.
    PreLlmCall,
    /// `{session, turn, text, tool_calls}`: the model answered.
    PostLlmResponse,
    /// `{session, turn, text}`: the turn ended with an answer.
    TurnCompleted,
}

/// The turn's hook points. Every method must return promptly; a failing hook is
/// the implementation's to log and skip.
pub trait Hooks: Send + Sync {
    /// Observation hooks: the turn goes on whatever they do.
    fn observe(&self, event: TurnEvent, payload: Value) -> HookFuture<'_, ()>;
    /// `system_prompt_extend`, as a chain.
    fn extend_prompt(&self, prompt: String) -> HookFuture<'_, String>;
    /// `tool_registry_build`: the names of tools to hide from this turn.
    fn hidden_tools(&self, tools: Vec<String>) -> HookFuture<'_, Vec<String>>;
    /// `pre_tool_execute`: `Some(result)` answers instead of running the tool.
    fn before_tool(&self, session: &str, tool: &str, args: &Value) -> HookFuture<'_, Option<String>>;
    /// `post_tool_execute`: the result, possibly rewritten.
    fn after_tool(&self, session: &str, tool: &str, args: &Value, result: String) -> HookFuture<'_, String>;
}
