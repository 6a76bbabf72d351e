//! LLM providers: the provider-neutral request and stream types, the presets
//! (pure data), and one module per wire format. A wire module turns a
//! [`ChatRequest`] into its HTTP body and its server-sent events back into
//! [`StreamEvent`]s; [`Assembler`] folds those into the assistant's message.

pub mod anthropic;
pub mod client;
pub mod openai;
pub mod presets;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
    /// The result of a tool call, answering `tool_call_id`.
    Tool,
}

/// A tool call the model asked for; `arguments` is JSON text as streamed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

/// One message of a conversation (the system prompt travels separately).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
    /// Calls an assistant message made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For a `Tool` message: the call it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl Message {
    pub fn user(text: impl Into<String>) -> Self {
        Self { role: Role::User, content: text.into(), tool_calls: Vec::new(), tool_call_id: None }
    }

    pub fn assistant(text: impl Into<String>, tool_calls: Vec<ToolCall>) -> Self {
        Self { role: Role::Assistant, content: text.into(), tool_calls, tool_call_id: None }
    }

    pub fn tool_result(call_id: impl Into<String>, content: impl Into<String>) -> Self {
        Self { role: Role::Tool, content: content.into(), tool_calls: Vec::new(), tool_call_id: Some(call_id.into()) }
    }
}

/// A tool offered to the model. Names must match `^[A-Za-z0-9_-]+$` for every provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    /// JSON Schema of the arguments.
    pub parameters: Value,
}

/// Everything one model call needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    pub model: String,
    pub system: String,
    pub messages: Vec<Message>,
    pub tools: Vec<ToolSpec>,
    pub max_tokens: u32,
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishReason {
    Stop,
    ToolCalls,
    /// The output token limit was reached.
    Length,
    Other(String),
}

/// Token counts as the provider reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// One step of a streamed answer, whatever the wire format.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    Text(String),
    /// A tool call begins; `index` keys its later argument fragments.
    ToolCallStart {
        index: usize,
        id: String,
        name: String,
    },
    ToolCallArgs {
        index: usize,
        fragment: String,
    },
    Usage(Usage),
    Finish(FinishReason),
    /// The stream is complete (OpenAI's `[DONE]`, Anthropic's `message_stop`).
    Done,
}

/// A provider failure, said in one line a person can act on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    #[error("the provider rejected the API key ({0}); set a new one with `pyractl setup`")]
    Auth(String),
    #[error("the provider does not know model {model:?} ({detail})")]
    UnknownModel { model: String, detail: String },
    #[error("the conversation is longer than the model's context window ({0})")]
    ContextOverflow(String),
    #[error("cannot reach {host}: {detail}")]
    Unreachable { host: String, detail: String },
    #[error("rate limited by the provider ({0})")]
    RateLimited(String),
    #[error("the provider failed with HTTP {status}: {detail}")]
    Server { status: u16, detail: String },
    #[error("the provider sent something Pyra cannot read: {0}")]
    Malformed(String),
    #[error("the provider reported an error mid-answer: {0}")]
    Stream(String),
    #[error("the answer was cut off before it finished")]
    Cut,
}

/// Folds stream events into the assistant's message, usage and finish reason.
#[derive(Debug, Default)]
pub struct Assembler {
    pub text: String,
    calls: BTreeMap<usize, ToolCall>,
    pub usage: Usage,
    pub finish: Option<FinishReason>,
    pub done: bool,
}

impl Assembler {
    pub fn push(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::Text(t) => self.text.push_str(t),
            StreamEvent::ToolCallStart { index, id, name } => {
                let call = self.calls.entry(*index).or_insert_with(|| ToolCall {
                    id: String::new(),
                    name: String::new(),
                    arguments: String::new(),
                });
                call.id.clone_from(id);
                call.name.clone_from(name);
            }
            StreamEvent::ToolCallArgs { index, fragment } => {
                self.calls
                    .entry(*index)
                    .or_insert_with(|| ToolCall { id: String::new(), name: String::new(), arguments: String::new() })
                    .arguments
                    .push_str(fragment);
            }
            StreamEvent::Usage(u) => {
                // Providers report input and output in separate events; keep the largest seen.
                self.usage.input_tokens = self.usage.input_tokens.max(u.input_tokens);
                self.usage.output_tokens = self.usage.output_tokens.max(u.output_tokens);
            }
            StreamEvent::Finish(reason) => self.finish = Some(reason.clone()),
            StreamEvent::Done => self.done = true,
        }
    }

    /// The tool calls, in the order the model made them.
    pub fn tool_calls(&self) -> Vec<ToolCall> {
        self.calls.values().cloned().collect()
    }

    /// The finished message, or [`LlmError::Cut`] if the stream ended early
    /// (the partial text stays readable in `self.text`).
    pub fn finish(&self) -> Result<Message, LlmError> {
        if self.finish.is_none() {
            return Err(LlmError::Cut);
        }
        Ok(Message::assistant(self.text.clone(), self.tool_calls()))
    }
}

/// Reads the text of a JSON error body (`{"error": {"message": ..}}` or `{"error": ".."}`).
pub fn error_detail(body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let message = parsed.as_ref().and_then(|v| {
        v.pointer("/error/message").or_else(|| v.get("error")).or_else(|| v.get("message")).and_then(Value::as_str)
    });
    let text = message.map_or_else(|| body.trim().to_owned(), str::to_owned);
    text.chars().take(300).collect()
}

/// Maps an HTTP error status and body to a one-line error.
pub fn classify_http_error(status: u16, body: &str, model: &str) -> LlmError {
    let detail = error_detail(body);
    let lower = body.to_ascii_lowercase();
    match status {
        401 | 403 => LlmError::Auth(detail),
        404 => LlmError::UnknownModel { model: model.to_owned(), detail },
        429 => LlmError::RateLimited(detail),
        400 | 413 | 422
            if ["context_length", "context length", "prompt is too long", "too many tokens", "maximum context"]
                .iter()
                .any(|needle| lower.contains(needle)) =>
        {
            LlmError::ContextOverflow(detail)
        }
        400 | 422 if lower.contains("model") && (lower.contains("not found") || lower.contains("does not exist")) => {
            LlmError::UnknownModel { model: model.to_owned(), detail }
        }
        _ => LlmError::Server { status, detail },
    }
}

#[cfg(test)]
mod fakellm_tests;
#[cfg(test)]
mod tests;
