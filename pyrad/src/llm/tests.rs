//! The wire formats against streams shaped exactly as the providers (and
//! fakellm, which the integration tests run) send them.

use serde_json::json;

use super::*;

fn request() -> ChatRequest {
    ChatRequest {
        model: "m".into(),
        system: "be brief".into(),
        messages: vec![
            Message::user("what time is it?"),
            Message::assistant(
                "",
                vec![
                    ToolCall { id: "c1".into(), name: "time__now".into(), arguments: "{\"tz\":\"UTC\"}".into() },
                    ToolCall { id: "c2".into(), name: "time__now".into(), arguments: "{}".into() },
                ],
            ),
            Message::tool_result("c1", "12:00"),
            Message::tool_result("c2", "13:00"),
        ],
        tools: vec![ToolSpec {
            name: "time__now".into(),
            description: "the time".into(),
            parameters: json!({"type": "object"}),
        }],
        max_tokens: 1024,
    }
}

/// Feeds OpenAI `data:` payloads through the parser into an assembler.
fn openai_stream(payloads: &[serde_json::Value]) -> Assembler {
    let mut asm = Assembler::default();
    for p in payloads {
        for e in openai::parse_data(&p.to_string()).unwrap() {
            asm.push(&e);
        }
    }
    for e in openai::parse_data("[DONE]").unwrap() {
        asm.push(&e);
    }
    asm
}

fn chunk(delta: serde_json::Value, finish: Option<&str>) -> serde_json::Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

#[test]
fn openai_body_carries_system_tools_and_tool_results() {
    let body = openai::request_body(&request());
    assert_eq!(body["stream"], true);
    assert_eq!(body["messages"][0], json!({"role": "system", "content": "be brief"}));
    assert_eq!(body["messages"][2]["tool_calls"][0]["function"]["arguments"], "{\"tz\":\"UTC\"}");
    assert_eq!(body["messages"][2]["content"], serde_json::Value::Null);
    assert_eq!(body["messages"][3], json!({"role": "tool", "tool_call_id": "c1", "content": "12:00"}));
    assert_eq!(body["tools"][0]["function"]["name"], "time__now");
}

#[test]
fn openai_text_streams_into_one_message() {
    let asm = openai_stream(&[
        chunk(json!({"role": "assistant"}), None),
        chunk(json!({"content": "Hello"}), None),
        chunk(json!({"content": " world"}), None),
        chunk(json!({}), Some("stop")),
        json!({"id": "x", "choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 3}}),
    ]);
    assert_eq!(asm.finish().unwrap(), Message::assistant("Hello world", vec![]));
    assert_eq!(asm.usage, Usage { input_tokens: 12, output_tokens: 3 });
    assert!(asm.done);
}

#[test]
fn openai_tool_call_fragments_assemble_per_index() {
    let asm = openai_stream(&[
        chunk(json!({"role": "assistant"}), None),
        chunk(
            json!({"tool_calls": [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "echo", "arguments": ""}}]}),
            None,
        ),
        chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"mess"}}]}), None),
        chunk(
            json!({"tool_calls": [{"index": 1, "id": "call_b", "type": "function", "function": {"name": "add", "arguments": ""}}]}),
            None,
        ),
        chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "age\": \"hi\"}"}}]}), None),
        chunk(json!({"tool_calls": [{"index": 1, "function": {"arguments": "{\"a\": 1}"}}]}), None),
        chunk(json!({}), Some("tool_calls")),
    ]);
    assert_eq!(asm.finish, Some(FinishReason::ToolCalls));
    assert_eq!(
        asm.tool_calls(),
        vec![
            ToolCall { id: "call_a".into(), name: "echo".into(), arguments: "{\"message\": \"hi\"}".into() },
            ToolCall { id: "call_b".into(), name: "add".into(), arguments: "{\"a\": 1}".into() },
        ]
    );
}

#[test]
fn a_cut_stream_keeps_the_partial_text_and_says_so() {
    let mut asm = Assembler::default();
    for e in openai::parse_data(&chunk(json!({"content": "Half an ans"}), None).to_string()).unwrap() {
        asm.push(&e);
    }
    assert_eq!(asm.finish(), Err(LlmError::Cut));
    assert_eq!(asm.text, "Half an ans");
}

#[test]
fn malformed_and_error_chunks_are_errors() {
    assert!(matches!(openai::parse_data("{not json"), Err(LlmError::Malformed(_))));
    let err = openai::parse_data(r#"{"error": {"message": "overloaded"}}"#).unwrap_err();
    assert_eq!(err, LlmError::Stream("overloaded".into()));
}

#[test]
fn anthropic_body_merges_tool_results_and_parses_arguments() {
    let body = anthropic::request_body(&request());
    assert_eq!(body["system"], "be brief");
    assert_eq!(body["max_tokens"], 1024);
    assert_eq!(
        body["messages"][1]["content"][0],
        json!({"type": "tool_use", "id": "c1", "name": "time__now", "input": {"tz": "UTC"}})
    );
    let results = body["messages"][2]["content"].as_array().unwrap();
    assert_eq!(results.len(), 2, "both results in one user message");
    assert_eq!(results[1], json!({"type": "tool_result", "tool_use_id": "c2", "content": "13:00"}));
    assert_eq!(body["messages"].as_array().unwrap().len(), 3);
    assert_eq!(body["tools"][0]["input_schema"], json!({"type": "object"}));
}

#[test]
fn anthropic_events_assemble_text_and_tool_calls() {
    let events = [
        (
            "message_start",
            json!({"type": "message_start", "message": {"id": "msg_1", "usage": {"input_tokens": 20, "output_tokens": 1}}}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Let me"}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": " check."}}),
        ),
        ("content_block_stop", json!({"type": "content_block_stop", "index": 0})),
        ("ping", json!({"type": "ping"})),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "time__now", "input": {}}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"tz\": "}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "\"UTC\"}"}}),
        ),
        ("content_block_stop", json!({"type": "content_block_stop", "index": 1})),
        (
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 9}}),
        ),
        ("message_stop", json!({"type": "message_stop"})),
    ];
    let mut asm = Assembler::default();
    for (name, data) in events {
        for e in anthropic::parse_event(name, &data.to_string()).unwrap() {
            asm.push(&e);
        }
    }
    let message = asm.finish().unwrap();
    assert_eq!(message.content, "Let me check.");
    assert_eq!(
        message.tool_calls,
        vec![ToolCall { id: "toolu_1".into(), name: "time__now".into(), arguments: "{\"tz\": \"UTC\"}".into() }]
    );
    assert_eq!(asm.finish, Some(FinishReason::ToolCalls));
    assert_eq!(asm.usage, Usage { input_tokens: 20, output_tokens: 9 });
    assert!(asm.done);
}

#[test]
fn anthropic_error_events_are_errors() {
    let err = anthropic::parse_event(
        "error",
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    )
    .unwrap_err();
    assert_eq!(err, LlmError::Stream("Overloaded".into()));
}

#[test]
fn http_errors_become_one_line_explanations() {
    let openai_401 = r#"{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}"#;
    assert!(
        matches!(classify_http_error(401, openai_401, "m"), LlmError::Auth(d) if d == "Incorrect API key provided")
    );
    let overflow = r#"{"error": {"message": "This model's maximum context length is 8192 tokens", "code": "context_length_exceeded"}}"#;
    assert!(matches!(classify_http_error(400, overflow, "m"), LlmError::ContextOverflow(_)));
    let anthropic_long = r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#;
    assert!(matches!(classify_http_error(400, anthropic_long, "m"), LlmError::ContextOverflow(_)));
    let unknown = r#"{"error": {"message": "The model `gpt-9` does not exist", "code": "model_not_found"}}"#;
    assert!(matches!(classify_http_error(404, unknown, "gpt-9"), LlmError::UnknownModel { .. }));
    assert!(matches!(classify_http_error(400, unknown, "gpt-9"), LlmError::UnknownModel { .. }));
    assert!(matches!(classify_http_error(503, "upstream down", "m"), LlmError::Server { status: 503, .. }));
    let line = classify_http_error(401, openai_401, "m").to_string();
    assert!(!line.contains('\n') && line.contains("pyractl setup"), "{line}");
}

#[test]
fn every_preset_is_complete_and_unique() {
    let required = [
        "openai",
        "anthropic",
        "openrouter",
        "groq",
        "mistral",
        "deepseek",
        "together",
        "ollama",
        "lmstudio",
        "llamacpp",
        "vllm",
        "custom",
    ];
    for id in required {
        let preset = presets::find(id).unwrap_or_else(|| panic!("preset {id} missing"));
        assert!(preset.context_tokens >= 8_192, "{id}");
        assert!(preset.id == "custom" || preset.base_url.starts_with("http"), "{id}");
        assert!(preset.id == "custom" || !preset.default_model.is_empty(), "{id}");
    }
    assert_eq!(presets::PRESETS.len(), required.len());
    assert_eq!(presets::find("anthropic").map(|p| p.wire), Some(presets::Wire::Anthropic));
}

#[test]
fn list_prices_match_models_and_their_dated_snapshots_only() {
    let openai = presets::find("openai").unwrap();
    let mini = presets::list_price(openai, "gpt-4o-mini").unwrap();
    assert_eq!((mini.input, mini.output), (0.15, 0.60));
    // A dated snapshot costs what its model costs; a longer name is another model.
    assert_eq!(presets::list_price(openai, "gpt-4o-mini-2024-07-18"), Some(mini));
    assert_eq!(presets::list_price(openai, "gpt-4o").map(|p| p.input), Some(2.50));
    assert_eq!(presets::list_price(openai, "gpt-4o-audio-preview"), None);
    let anthropic = presets::find("anthropic").unwrap();
    assert_eq!(presets::list_price(anthropic, "claude-sonnet-4-5-20250929").map(|p| p.output), Some(15.0));
    assert_eq!(
        presets::list_price(presets::find("mistral").unwrap(), "mistral-small-latest").map(|p| p.input),
        Some(0.10)
    );
    // Local servers and unknown models: no price, so no cost is shown.
    assert_eq!(presets::list_price(presets::find("ollama").unwrap(), "llama3.2"), None);
    assert_eq!(presets::list_price(openai, "my-finetune"), None);
    // 1,000 in and 500 out of gpt-4o-mini: 0.00015 + 0.0003 dollars.
    assert!((mini.cost(1_000, 500) - 0.00045).abs() < 1e-12);
}

#[test]
fn every_cloud_preset_prices_its_default_model() {
    for preset in presets::PRESETS.iter().filter(|p| p.needs_key) {
        assert!(
            presets::list_price(preset, preset.default_model).is_some(),
            "{} has no price for its default model {}",
            preset.id,
            preset.default_model
        );
    }
}
