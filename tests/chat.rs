//! Conversations over the socket with a real pyrad and a real fakellm: streamed
//! answers, sessions that survive a restart, cancel, and clear errors.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use pyra_tests::*;
use serde_json::{Value, json};

const RULES: &str = r#"
version: 1
rules:
  - name: slow
    when:
      messages_contain: "tell me a long story"
    respond:
      content: "Once upon a time there was a daemon that streamed one word at a time for a very long while and then some more words followed and more and more and more and more and more and more and more and more and more and more and more and more and more and more and more and more and more and more and more and more and more and more and more and more and more"
  - name: after_gadget
    when:
      tool_result_contains: "no tool named"
    respond:
      content: "I have no such gadget."
  - name: unknown_tool
    when:
      messages_contain: "use a gadget"
    respond:
      tool_calls:
        - name: gadget__spin
          arguments: {speed: 3}
  - name: hello
    when:
      messages_contain: "hello"
    respond:
      content: "Hello from the model"
"#;

fn start(home: &TestHome, llm: &FakeLlm) -> Pyrad {
    let mut options = llm.options();
    options.env.push(("PYRA__PROVIDER__MODEL".into(), "test-model".into()));
    Pyrad::start_with(home, options)
}

/// Sends `chat.send` and collects events until its response.
fn send(client: &mut RawClient, id: i64, params: Value) -> (Vec<Value>, Value) {
    client.send(&json!({"jsonrpc": "2.0", "id": id, "method": "chat.send", "params": params}));
    client.until_response(id)
}

#[test]
fn an_answer_streams_as_deltas_then_the_result() {
    let llm = FakeLlm::start(RULES);
    let home = TestHome::new();
    let pyrad = start(&home, &llm);
    let mut client = pyrad.client();
    let (events, response) = send(&mut client, 1, json!({"text": "hello"}));
    let result = &response["result"];
    assert_eq!(result["text"], "Hello from the model", "{response}");
    assert_eq!(result["turn"], 1);
    let session = result["session"].as_str().unwrap().to_owned();
    let deltas: Vec<&str> =
        events.iter().filter(|e| e["method"] == "chat.delta").map(|e| e["params"]["text"].as_str().unwrap()).collect();
    assert!(deltas.len() >= 3, "{events:?}");
    assert_eq!(deltas.concat(), "Hello from the model");
    assert!(events.iter().all(|e| e["params"]["session"] == session.as_str()));

    let (_, again) = send(&mut client, 2, json!({"session": session, "text": "hello again"}));
    assert_eq!(again["result"]["turn"], 2);
    let list = client.result("sessions.list", json!({}));
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["messages"], 4);
    assert_eq!(list[0]["title"], "hello");
}

#[test]
fn sessions_survive_a_restart_and_can_be_resumed_and_deleted() {
    let llm = FakeLlm::start(RULES);
    let home = TestHome::new();
    let mut pyrad = start(&home, &llm);
    let (_, response) = send(&mut pyrad.client(), 1, json!({"text": "hello"}));
    let session = response["result"]["session"].as_str().unwrap().to_owned();
    pyrad.signal(libc::SIGTERM);
    assert_eq!(pyrad.wait_exit().code(), Some(0));

    let pyrad = start(&home, &llm);
    let mut client = pyrad.client();
    let detail = client.result("sessions.get", json!({"session": session}));
    let roles: Vec<&str> = detail["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, vec!["user", "assistant"]);
    assert_eq!(detail["messages"][1]["content"], "Hello from the model");
    let (_, resumed) = send(&mut client, 7, json!({"session": session, "text": "hello once more"}));
    assert_eq!(resumed["result"]["turn"], 2, "{resumed}");

    assert_eq!(client.result("sessions.delete", json!({"session": session}))["deleted"], true);
    let gone = client.call("sessions.get", json!({"session": session}));
    assert_eq!(error_code(&gone), Some(-32008), "{gone}");
}

#[test]
fn a_call_to_a_tool_that_does_not_exist_is_told_to_the_model_and_audited() {
    let llm = FakeLlm::start(RULES);
    let home = TestHome::new();
    let pyrad = start(&home, &llm);
    let mut client = pyrad.client();
    let (_, response) = send(&mut client, 1, json!({"text": "use a gadget"}));
    let result = &response["result"];
    assert_eq!(result["text"], "I have no such gadget.", "{response}");
    assert_eq!(result["tools"][0]["name"], "gadget__spin");
    assert_eq!(result["tools"][0]["args"], json!({"speed": 3}));
    let audit = client.result("audit.list", json!({}));
    assert_eq!(audit[0]["tool"], "gadget__spin");
    assert_eq!(audit[0]["outcome"], "skipped");
    assert_eq!(mode(&home.path().join("logs/tool_executions.log")), 0o600);
}

#[test]
fn chat_cancel_stops_a_running_turn_and_keeps_the_session_usable() {
    let llm = FakeLlm::start(RULES);
    let home = TestHome::new();
    let pyrad = start(&home, &llm);
    let mut client = pyrad.client();
    client.send(&json!({"jsonrpc": "2.0", "id": 1, "method": "chat.send", "params": {"text": "tell me a long story"}}));
    // Wait for the answer to start, then cancel from a second connection.
    let first = client.recv_message();
    assert_eq!(first["method"], "chat.delta", "{first}");
    let session = first["params"]["session"].as_str().unwrap().to_owned();
    let mut other = pyrad.client();
    assert_eq!(other.result("chat.cancel", json!({"session": session}))["cancelled"], true);
    let response = loop {
        let msg = client.recv_message();
        if msg.get("id") == Some(&json!(1)) {
            break msg;
        }
    };
    assert_eq!(error_code(&response), Some(-32007), "{response}");
    let (_, next) = send(&mut client, 2, json!({"session": session, "text": "hello"}));
    assert_eq!(next["result"]["turn"], 2, "the session takes the next turn: {next}");
}

#[test]
fn without_a_provider_chat_says_how_to_set_one_up() {
    let home = TestHome::new();
    let pyrad = Pyrad::start(&home);
    let mut client = pyrad.client();
    let response = client.call("chat.send", json!({"text": "hello"}));
    assert_eq!(error_code(&response), Some(-32006), "{response}");
    assert!(response["error"]["message"].as_str().unwrap().contains("pyractl setup"));
}

#[test]
fn an_unreachable_provider_is_a_clear_error_and_the_daemon_keeps_serving() {
    let home = TestHome::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let options = PyradOptions::custom_provider(&format!("http://127.0.0.1:{port}/v1"));
    let pyrad = Pyrad::start_with(&home, options);
    let mut client = pyrad.client();
    let response = client.call("chat.send", json!({"text": "hello"}));
    assert_eq!(error_code(&response), Some(-32010), "{response}");
    assert!(
        response["error"]["message"].as_str().unwrap().contains(&format!("cannot reach 127.0.0.1:{port}")),
        "{response}"
    );
    client.result("daemon.status", json!({}));
}

#[test]
fn approval_answers_for_unknown_ids_and_bad_decisions_are_rejected() {
    let home = TestHome::new();
    let pyrad = Pyrad::start(&home);
    let mut client = pyrad.client();
    let unknown = client.call("approval.respond", json!({"id": "nope", "decision": "approve", "args_sha256": "00"}));
    assert_eq!(error_code(&unknown), Some(-32009), "{unknown}");
    let bad = client.call("approval.respond", json!({"id": "nope", "decision": "maybe", "args_sha256": "00"}));
    assert_eq!(error_code(&bad), Some(-32602), "{bad}");
}

#[test]
fn a_turn_cut_by_a_crash_leaves_a_history_every_provider_accepts() {
    // The first rule sees the request after the crash: its second-to-last message
    // must be the note closing the unanswered turn, not a second user message.
    let rules = format!(
        r#"
version: 1
rules:
  - name: closed
    when:
      previous_message_contains: "no answer: this turn was interrupted"
    respond:
      content: "well-formed"
  - name: two_users_in_a_row
    when:
      previous_message_role: user
    respond:
      content: "two user messages in a row"
{}"#,
        RULES.split_once("rules:\n").unwrap().1
    );
    let llm = FakeLlm::start(&rules);
    let home = TestHome::new();
    let mut pyrad = start(&home, &llm);
    let mut client = pyrad.client();
    client.send(&json!({"jsonrpc": "2.0", "id": 1, "method": "chat.send", "params": {"text": "tell me a long story"}}));
    let first = client.recv_message();
    assert_eq!(first["method"], "chat.delta", "{first}");
    let session = first["params"]["session"].as_str().unwrap().to_owned();
    pyrad.signal(libc::SIGKILL);
    pyrad.wait_exit();

    let pyrad = start(&home, &llm);
    let mut client = pyrad.client();
    let (_, next) = send(&mut client, 2, json!({"session": session, "text": "are you there"}));
    assert_eq!(next["result"]["text"], "well-formed", "{next}");
    // The stored history is kept as it was: both questions, in order.
    let detail = client.result("sessions.get", json!({"session": session}));
    let users: Vec<&str> = detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["tell me a long story", "are you there"], "{detail}");
}

#[test]
fn a_stop_while_a_client_is_not_reading_keeps_the_partial_answer() {
    let llm = FakeLlm::start(RULES);
    let home = TestHome::new();
    let mut pyrad = start(&home, &llm);
    let mut client = pyrad.client();
    client.send(&json!({"jsonrpc": "2.0", "id": 1, "method": "chat.send", "params": {"text": "tell me a long story"}}));
    let first = client.recv_message();
    assert_eq!(first["method"], "chat.delta", "{first}");
    let session = first["params"]["session"].as_str().unwrap().to_owned();
    // The client now reads nothing more; pyrad is stopped mid-answer.
    let (code, out, err) = pyractl_with_input(&home, &["daemon", "stop"], "");
    assert_eq!(code, Some(0), "{out}{err}\n{}", home.log());
    assert_eq!(pyrad.wait_exit().code(), Some(0));
    drop(client);

    let pyrad = start(&home, &llm);
    let detail = pyrad.client().result("sessions.get", json!({"session": session}));
    let messages = detail["messages"].as_array().unwrap();
    let kept =
        messages.iter().find(|m| m["role"] == "assistant").unwrap_or_else(|| panic!("no partial kept: {detail}"));
    assert_eq!(kept["partial"], true, "{detail}");
    assert!(kept["content"].as_str().unwrap().starts_with("Once"), "{detail}");
}

#[test]
fn answers_and_stored_content_past_the_line_limit_stay_readable() {
    // One "word" of 1.5 MB: the answer, its delta and every read of it are over 1 MiB.
    let big = "y".repeat(1_500_000);
    let rules = format!(
        "version: 1\nrules:\n  - name: huge\n    when:\n      messages_contain: \"write a book\"\n    respond:\n      content: \"BEGIN {big} END\"\n"
    );
    let llm = FakeLlm::start(&rules);
    let home = TestHome::new();
    let pyrad = start(&home, &llm);

    let (code, out, err) = pyractl_with_input(&home, &["ask", "write a book"], "");
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains(&format!("BEGIN {big} END")), "pyractl ask printed {} bytes: {err}", out.len());

    let mut client = pyrad.client();
    let list = client.result("sessions.list", json!({}));
    let session = list[0]["id"].as_str().unwrap().to_owned();
    let detail = client.result("sessions.get", json!({"session": session}));
    assert_eq!(detail["messages"][1]["content"], format!("BEGIN {big} END"));
    assert!(client.chunked >= 1, "the read came chunked, every line within the limit");
    let (code, out, err) = pyractl_with_input(&home, &["sessions", "show", &session], "");
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains(&big), "sessions show printed {} bytes", out.len());

    // Two appends that each fit in a line make a file that does not.
    let part = "z".repeat(900_000);
    for _ in 0..2 {
        client.result("memory.append", json!({"name": "knowledge/big.md", "text": part}));
    }
    let (code, out, err) = pyractl_with_input(&home, &["memory", "show", "knowledge/big.md"], "");
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.matches(&part).count(), 2, "memory show printed {} bytes", out.len());
}
