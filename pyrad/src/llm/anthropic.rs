//! Anthropic's Messages API: the request body, and its typed stream events
//! (`message_start`, `content_block_*`, `message_delta`, `message_stop`, `error`)
//! turned into [`StreamEvent`]s.

use serde_json::{Value, json};

use super::{ChatRequest, FinishReason, LlmError, Role, StreamEvent, Usage};

/// The API version header Pyra speaks.
pub const API_VERSION: &str = "2023-06-01";

/// The request body for `POST {base_url}/v1/messages`, streaming. Consecutive tool
/// results become one user message, as the API requires.
pub fn request_body(req: &ChatRequest) -> Value {
    let mut messages: Vec<Value> = Vec::with_capacity(req.messages.len());
    for m in &req.messages {
        match m.role {
            Role::User => messages.push(json!({"role": "user", "content": m.content})),
            Role::Assistant => {
                let mut blocks = Vec::new();
                if !m.content.is_empty() {
                    blocks.push(json!({"type": "text", "text": m.content}));
                }
                for c in &m.tool_calls {
                    let input: Value = serde_json::from_str(&c.arguments).unwrap_or_else(|_| json!({}));
                    blocks.push(json!({"type": "tool_use", "id": c.id, "name": c.name, "input": input}));
                }
                messages.push(json!({"role": "assistant", "content": blocks}));
            }
            Role::Tool => {
                let block = json!({"type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.content});
                let merged = messages.last_mut().filter(|last| {
                    last["role"] == "user"
                        && last["content"].as_array().is_some_and(|c| c.iter().all(|b| b["type"] == "tool_result"))
                });
                match merged.and_then(|last| last["content"].as_array_mut()) {
                    Some(blocks) => blocks.push(block),
                    None => messages.push(json!({"role": "user", "content": [block]})),
                }
            }
        }
    }
    let mut body = json!({
        "model": req.model,
        "max_tokens": req.max_tokens,
        "stream": true,
        "messages": messages,
    });
    if !req.system.is_empty() {
        body["system"] = Value::String(req.system.clone());
    }
    if !req.tools.is_empty() {
        body["tools"] = req
            .tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters}))
            .collect();
    }
    body
}

/// Decodes one SSE event (`event:` name and `data:` payload).
pub fn parse_event(event: &str, data: &str) -> Result<Vec<StreamEvent>, LlmError> {
    let value: Value = serde_json::from_str(data).map_err(|e| LlmError::Malformed(format!("{e}: {data:.120}")))?;
    let kind = if event.is_empty() { value.get("type").and_then(Value::as_str).unwrap_or_default() } else { event };
    let index = value.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
    Ok(match kind {
        "message_start" => {
            let usage = &value["message"]["usage"];
            vec![StreamEvent::Usage(Usage {
                input_tokens: usage.get("input_tokens").and_then(Value::as_u64).unwrap_or(0),
                output_tokens: usage.get("output_tokens").and_then(Value::as_u64).unwrap_or(0),
            })]
        }
        "content_block_start" => {
            let block = &value["content_block"];
            match block.get("type").and_then(Value::as_str) {
                Some("tool_use") => vec![StreamEvent::ToolCallStart {
                    index,
                    id: block.get("id").and_then(Value::as_str).unwrap_or_default().to_owned(),
                    name: block.get("name").and_then(Value::as_str).unwrap_or_default().to_owned(),
                }],
                Some("text") => match block.get("text").and_then(Value::as_str).filter(|t| !t.is_empty()) {
                    Some(text) => vec![StreamEvent::Text(text.to_owned())],
                    None => vec![],
                },
                _ => vec![],
            }
        }
        "content_block_delta" => {
            let delta = &value["delta"];
            match delta.get("type").and_then(Value::as_str) {
                Some("text_delta") => {
                    vec![StreamEvent::Text(delta.get("text").and_then(Value::as_str).unwrap_or_default().to_owned())]
                }
                Some("input_json_delta") => vec![StreamEvent::ToolCallArgs {
                    index,
                    fragment: delta.get("partial_json").and_then(Value::as_str).unwrap_or_default().to_owned(),
                }],
                _ => vec![],
            }
        }
        "message_delta" => {
            let mut events = Vec::new();
            if let Some(reason) = value.pointer("/delta/stop_reason").and_then(Value::as_str) {
                events.push(StreamEvent::Finish(match reason {
                    "end_turn" | "stop_sequence" => FinishReason::Stop,
                    "tool_use" => FinishReason::ToolCalls,
                    "max_tokens" => FinishReason::Length,
                    other => FinishReason::Other(other.to_owned()),
                }));
            }
            if let Some(out) = value.pointer("/usage/output_tokens").and_then(Value::as_u64) {
                events.push(StreamEvent::Usage(Usage { input_tokens: 0, output_tokens: out }));
            }
            events
        }
        "message_stop" => vec![StreamEvent::Done],
        "error" => {
            let message = value.pointer("/error/message").and_then(Value::as_str).unwrap_or("unknown error");
            return Err(LlmError::Stream(message.to_owned()));
        }
        // ping, content_block_stop, and event types added after this was written.
        _ => vec![],
    })
}
