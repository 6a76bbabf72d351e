//! Both wire formats against a real implementation of them: PyPI `fakellm`,
//! installed into `tests/.venv` by `tests/setup.sh` (which `make test` runs).

use super::client::{Endpoint, http_client, stream};
use super::presets::Wire;
use super::*;

const RULES: &str = r#"
version: 1
rules:
  # First match wins: the tool results' turn must win over the question.
  - name: summary
    when:
      tool_result_contains: "12:00"
    respond:
      content: "It is noon in UTC."
  - name: tools
    when:
      messages_contain: "what time"
    respond:
      tool_calls:
        - name: time__now
          arguments: {tz: "UTC"}
        - name: everything__echo
          arguments: {message: "hi"}
  - name: hello
    when:
      messages_contain: "hello"
    respond:
      content: "Hello from fakellm, streamed word by word"
"#;

fn request(messages: Vec<Message>) -> ChatRequest {
    ChatRequest {
        model: "test-model".into(),
        system: "You are Pyra.".into(),
        messages,
        tools: vec![
            ToolSpec {
                name: "time__now".into(),
                description: "the time".into(),
                parameters: serde_json::json!({"type": "object"}),
            },
            ToolSpec {
                name: "everything__echo".into(),
                description: "echo".into(),
                parameters: serde_json::json!({"type": "object"}),
            },
        ],
        max_tokens: 256,
    }
}

async fn run(endpoint: &Endpoint, req: &ChatRequest) -> (Assembler, usize) {
    let client = http_client(endpoint).unwrap();
    let mut deltas = 0;
    let asm = stream(&client, endpoint, Some("sk-not-used"), req, |e| {
        if matches!(e, StreamEvent::Text(_) | StreamEvent::ToolCallArgs { .. }) {
            deltas += 1;
        }
    })
    .await
    .map_err(|(e, _)| e)
    .unwrap();
    (asm, deltas)
}

async fn tool_round_trip(wire: Wire) {
    let server = pyra_tests::FakeLlm::start(RULES);
    let base = match wire {
        Wire::OpenAi => format!("{}/v1", server.url),
        Wire::Anthropic => server.url.clone(),
    };
    let endpoint = Endpoint::new(wire, base);

    let (asm, deltas) = run(&endpoint, &request(vec![Message::user("hello there")])).await;
    assert_eq!(asm.finish().unwrap().content, "Hello from fakellm, streamed word by word");
    assert!(deltas >= 5, "streamed in pieces, got {deltas}");

    let mut history = vec![Message::user("what time is it?")];
    let (asm, _) = run(&endpoint, &request(history.clone())).await;
    assert_eq!(asm.finish, Some(FinishReason::ToolCalls));
    let calls = asm.tool_calls();
    assert_eq!(calls.len(), 2, "two calls in one answer");
    assert_eq!(calls[0].name, "time__now");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&calls[0].arguments).unwrap(),
        serde_json::json!({"tz": "UTC"})
    );
    assert_eq!(calls[1].name, "everything__echo");
    assert!(!calls[0].id.is_empty() && calls[0].id != calls[1].id);

    history.push(asm.finish().unwrap());
    history.push(Message::tool_result(calls[0].id.clone(), "12:00"));
    history.push(Message::tool_result(calls[1].id.clone(), "hi"));
    let (asm, _) = run(&endpoint, &request(history)).await;
    assert_eq!(asm.finish().unwrap().content, "It is noon in UTC.");
}

#[tokio::test]
async fn openai_wire_streams_text_and_tool_calls_from_fakellm() {
    tool_round_trip(Wire::OpenAi).await;
}

#[tokio::test]
async fn anthropic_wire_streams_text_and_tool_calls_from_fakellm() {
    tool_round_trip(Wire::Anthropic).await;
}
