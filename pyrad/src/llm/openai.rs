//! The OpenAI-compatible Chat Completions wire format (OpenAI, OpenRouter, Groq,
//! Mistral, DeepSeek, Together, Ollama, LM Studio, llama.cpp, vLLM): the request
//! body, and the `data:` chunks of its stream turned into [`StreamEvent`]s.

use serde_json::{Value, json};

use super::{ChatRequest, FinishReason, LlmError, Role, StreamEvent, Usage};

/// The request body for `POST {base_url}/chat/completions`, streaming.
pub fn request_body(req: &ChatRequest) -> Value {
    let mut messages = Vec::with_capacity(req.messages.len() + 1);
    if !req.system.is_empty() {
        messages.push(json!({"role": "system", "content": req.system}));
    }
    for m in &req.messages {
        messages.push(match m.role {
            Role::User => json!({"role": "user", "content": m.content}),
            Role::Tool => json!({"role": "tool", "tool_call_id": m.tool_call_id, "content": m.content}),
            Role::Assistant if m.tool_calls.is_empty() => json!({"role": "assistant", "content": m.content}),
            Role::Assistant => {
                let calls: Vec<Value> = m
                    .tool_calls
                    .iter()
                    .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
                    .collect();
                let content = if m.content.is_empty() { Value::Null } else { Value::String(m.content.clone()) };
                json!({"role": "assistant", "content": content, "tool_calls": calls})
            }
        });
    }
    let mut body = json!({
        "model": req.model,
        "messages": messages,
        "stream": true,
        "stream_options": {"include_usage": true},
        "max_tokens": req.max_tokens,
    });
    if !req.tools.is_empty() {
        body["tools"] = req
            .tools
            .iter()
            .map(|t| json!({"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}))
            .collect();
    }
    body
}

/// Decodes one SSE `data:` payload of a Chat Completions stream.
pub fn parse_data(data: &str) -> Result<Vec<StreamEvent>, LlmError> {
    let data = data.trim();
    if data == "[DONE]" {
        return Ok(vec![StreamEvent::Done]);
    }
    let chunk: Value = serde_json::from_str(data).map_err(|e| LlmError::Malformed(format!("{e}: {data:.120}")))?;
    if let Some(error) = chunk.get("error") {
        let message = error.get("message").and_then(Value::as_str).unwrap_or("unknown error");
        return Err(LlmError::Stream(message.to_owned()));
    }
    let mut events = Vec::new();
    if let Some(choice) = chunk.pointer("/choices/0") {
        let delta = &choice["delta"];
        if let Some(text) = delta.get("content").and_then(Value::as_str).filter(|t| !t.is_empty()) {
            events.push(StreamEvent::Text(text.to_owned()));
        }
        for call in delta.get("tool_calls").and_then(Value::as_array).into_iter().flatten() {
            let index = call.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
            let name = call.pointer("/function/name").and_then(Value::as_str);
            if let Some(name) = name {
                let id = call.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
                events.push(StreamEvent::ToolCallStart { index, id, name: name.to_owned() });
            }
            if let Some(args) = call.pointer("/function/arguments").and_then(Value::as_str).filter(|a| !a.is_empty()) {
                events.push(StreamEvent::ToolCallArgs { index, fragment: args.to_owned() });
            }
        }
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            events.push(StreamEvent::Finish(match reason {
                "stop" => FinishReason::Stop,
                "tool_calls" | "function_call" => FinishReason::ToolCalls,
                "length" => FinishReason::Length,
                other => FinishReason::Other(other.to_owned()),
            }));
        }
    }
    if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
        events.push(StreamEvent::Usage(Usage {
            input_tokens: usage.get("prompt_tokens").and_then(Value::as_u64).unwrap_or(0),
            output_tokens: usage.get("completion_tokens").and_then(Value::as_u64).unwrap_or(0),
        }));
    }
    Ok(events)
}
