//! Tool calls held for the person who started the conversation, over the socket,
//! with a real pyrad and a real fakellm: approve, deny, timeout, stale ids,
//! answers from another connection, and a disconnect while waiting.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use pyra_tests::*;
use serde_json::{Value, json};

const RULES: &str = r#"
version: 1
rules:
  - name: saved
    when:
      tool_result_contains: "appended to"
    respond:
      content: "Noted."
  - name: refused
    when:
      tool_result_contains: "denied"
    respond:
      content: "OK, not saved."
  - name: unanswered
    when:
      tool_result_contains: "timed out"
    respond:
      content: "No answer; not saved."
  - name: remember
    when:
      messages_contain: "remember that"
    respond:
      tool_calls:
        - name: memory__append
          arguments: {name: "user/profile.md", text: "Likes tea."}
"#;

fn start(home: &TestHome, llm: &FakeLlm, extra: &[(&str, &str)]) -> Pyrad {
    let mut options = llm.options();
    options.env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Pyrad::start_with(home, options)
}

/// Sends `chat.send` and returns the `approval.request` it raises.
fn ask(client: &mut RawClient, id: i64) -> Value {
    client.send(
        &json!({"jsonrpc": "2.0", "id": id, "method": "chat.send", "params": {"text": "remember that I like tea"}}),
    );
    loop {
        let msg = client.recv_message();
        assert!(msg.get("id").is_none(), "the turn ended without asking: {msg}");
        if msg["method"] == "approval.request" {
            return msg["params"].clone();
        }
    }
}

fn respond(client: &mut RawClient, request: &Value, decision: &str) -> Value {
    let (id, hash) = (&request["id"], &request["args_sha256"]);
    client.call("approval.respond", json!({"id": id, "decision": decision, "args_sha256": hash}))
}

fn finish(client: &mut RawClient, id: i64) -> (Vec<Value>, Value) {
    client.until_response(id)
}

#[test]
fn an_approved_call_runs_and_is_audited() {
    let llm = FakeLlm::start(RULES);
    let home = TestHome::new();
    let pyrad = start(&home, &llm, &[]);
    let mut client = pyrad.client();
    let request = ask(&mut client, 1);
    assert_eq!(request["tool"], "memory__append");
    assert_eq!(request["args"], json!({"name": "user/profile.md", "text": "Likes tea."}));
    assert_eq!(request["args_sha256"].as_str().unwrap().len(), 64);
    assert!(request["expires_at"].as_u64().unwrap() > 1_700_000_000);
    // approval.respond is answered while the turn goes on; read both in any order.
    client.send(&json!({"jsonrpc": "2.0", "id": 2, "method": "approval.respond",
        "params": {"id": request["id"], "decision": "approve", "args_sha256": request["args_sha256"]}}));
    let mut answered = false;
    let (events, response) = loop {
        let (events, msg) = finish(&mut client, if answered { 1 } else { 2 });
        if !answered {
            assert_eq!(msg["result"], json!({}), "{msg}");
            answered = true;
            continue;
        }
        break (events, msg);
    };
    assert_eq!(response["result"]["text"], "Noted.", "{response}");
    assert_eq!(response["result"]["tools"][0]["decision"], "approved");
    let statuses: Vec<&str> =
        events.iter().filter(|e| e["method"] == "chat.tool").map(|e| e["params"]["status"].as_str().unwrap()).collect();
    assert!(statuses.ends_with(&["running", "done"]), "{statuses:?}");
    assert_eq!(client.result("memory.read", json!({"name": "user/profile.md"}))["content"], "Likes tea.\n");
    let audit = client.result("audit.list", json!({"limit": 1}));
    assert_eq!((audit[0]["decision"].as_str(), audit[0]["outcome"].as_str()), (Some("approved"), Some("ok")));
    // A second answer to the same request is stale.
    assert_eq!(error_code(&respond(&mut client, &request, "approve")), Some(-32009));
}

#[test]
fn a_denied_call_does_not_run_and_the_model_is_told() {
    let llm = FakeLlm::start(RULES);
    let home = TestHome::new();
    let pyrad = start(&home, &llm, &[]);
    let mut client = pyrad.client();
    let request = ask(&mut client, 1);
    client.send(&json!({"jsonrpc": "2.0", "id": 2, "method": "approval.respond",
        "params": {"id": request["id"], "decision": "deny", "args_sha256": request["args_sha256"]}}));
    let (_, first) = finish(&mut client, 2);
    assert_eq!(first["result"], json!({}));
    let (_, response) = finish(&mut client, 1);
    assert_eq!(response["result"]["text"], "OK, not saved.", "{response}");
    assert_eq!(response["result"]["tools"][0]["decision"], "denied");
    let missing = client.call("memory.read", json!({"name": "user/profile.md"}));
    assert_eq!(error_code(&missing), Some(-32008), "nothing was written: {missing}");
}

#[test]
fn no_answer_in_time_is_a_denial() {
    let llm = FakeLlm::start(RULES);
    let home = TestHome::new();
    let pyrad = start(&home, &llm, &[("PYRA__APPROVAL__TIMEOUT_SECS", "1")]);
    let mut client = pyrad.client();
    let request = ask(&mut client, 1);
    let (_, response) = finish(&mut client, 1);
    assert_eq!(response["result"]["text"], "No answer; not saved.", "{response}");
    assert_eq!(response["result"]["tools"][0]["decision"], "timed_out");
    let late = respond(&mut client, &request, "approve");
    assert_eq!(error_code(&late), Some(-32009), "{late}");
}

#[test]
fn only_the_asking_connection_may_answer() {
    let llm = FakeLlm::start(RULES);
    let home = TestHome::new();
    let pyrad = start(&home, &llm, &[]);
    let mut owner = pyrad.client();
    let request = ask(&mut owner, 1);
    let id = request["id"].as_str().unwrap();
    let mut stranger = pyrad.client();
    let refused = respond(&mut stranger, &request, "approve");
    assert_eq!(error_code(&refused), Some(-32009), "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("another conversation"));
    owner.send(&json!({"jsonrpc": "2.0", "id": 2, "method": "approval.respond",
            "params": {"id": id, "decision": "deny", "args_sha256": request["args_sha256"]}}));
    let (_, response) = finish(&mut owner, 1);
    assert_eq!(response["result"]["tools"][0]["decision"], "denied");
}

#[test]
fn a_disconnect_while_waiting_cancels_the_call() {
    let llm = FakeLlm::start(RULES);
    let home = TestHome::new();
    let pyrad = start(&home, &llm, &[]);
    let mut leaver = pyrad.client();
    ask(&mut leaver, 1);
    drop(leaver);
    let mut client = pyrad.client();
    let deadline = Instant::now() + TIMEOUT;
    let entry = loop {
        let audit = client.result("audit.list", json!({}));
        if let Some(entry) = audit.as_array().unwrap().first() {
            break entry.clone();
        }
        assert!(Instant::now() < deadline, "the held call was never settled");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(entry["decision"], "cancelled", "{entry}");
    assert_eq!(entry["outcome"], "skipped");
    assert_eq!(error_code(&client.call("memory.read", json!({"name": "user/profile.md"}))), Some(-32008));
}

#[test]
fn memory_is_readable_editable_and_versioned_over_the_socket() {
    let home = TestHome::new();
    let pyrad = Pyrad::start(&home);
    let mut c = pyrad.client();
    assert_eq!(
        c.result("memory.write", json!({"name": "knowledge/tea.md", "content": "# Tea\nGreen.\n"}))["version"],
        1
    );
    assert_eq!(c.result("memory.append", json!({"name": "knowledge/tea.md", "text": "Oolong."}))["version"], 2);
    assert_eq!(c.result("memory.read", json!({"name": "knowledge/tea.md"}))["content"], "# Tea\nGreen.\nOolong.\n");
    let listed = c.result("memory.list", json!({}));
    assert_eq!(listed[0]["name"], "knowledge/tea.md");
    let index = c.result("memory.read", json!({"name": "MEMORY_INDEX.md"}));
    assert!(index["content"].as_str().unwrap().contains("knowledge/tea.md"));
    let log = c.result("memory.log", json!({"name": "knowledge/tea.md"}));
    assert_eq!(log.as_array().unwrap().len(), 2);
    assert_eq!(c.result("memory.restore", json!({"name": "knowledge/tea.md", "version": 1}))["version"], 3);
    assert_eq!(c.result("memory.read", json!({"name": "knowledge/tea.md"}))["content"], "# Tea\nGreen.\n");
    for bad in ["../config.md", "/etc/x.md", "notes.txt"] {
        let refused = c.call("memory.write", json!({"name": bad, "content": "x"}));
        assert_eq!(error_code(&refused), Some(-32602), "{bad}: {refused}");
    }
    assert_eq!(mode(&home.path().join("memory/knowledge/tea.md")), 0o600);
}

#[test]
fn an_answer_for_other_arguments_is_refused_and_the_request_stays_pending() {
    let llm = FakeLlm::start(RULES);
    let home = TestHome::new();
    let pyrad = start(&home, &llm, &[]);
    let mut client = pyrad.client();
    let request = ask(&mut client, 1);
    let forged = json!({"id": request["id"], "decision": "approve", "args_sha256": "ab".repeat(32)});
    let refused = client.call("approval.respond", forged);
    assert_eq!(error_code(&refused), Some(-32009), "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("args_sha256 mismatch"), "{refused}");
    let missing = client.call("approval.respond", json!({"id": request["id"], "decision": "approve"}));
    assert_eq!(error_code(&missing), Some(-32602), "the hash is required: {missing}");
    // Still pending for this connection, and for nobody else.
    let pending = client.result("approval.pending", json!({}));
    assert_eq!(pending.as_array().unwrap().len(), 1, "{pending}");
    assert_eq!(pending[0]["id"], request["id"]);
    assert_eq!(pending[0]["args_sha256"], request["args_sha256"]);
    assert_eq!(pyrad.client().result("approval.pending", json!({})), json!([]));
    client.send(&json!({"jsonrpc": "2.0", "id": 2, "method": "approval.respond",
        "params": {"id": request["id"], "decision": "deny", "args_sha256": request["args_sha256"]}}));
    let (_, response) = finish(&mut client, 1);
    assert_eq!(response["result"]["tools"][0]["decision"], "denied", "{response}");
    assert_eq!(client.result("approval.pending", json!({})), json!([]));
}

#[test]
fn a_session_grant_survives_a_restart() {
    // "again" asks for the tool right after the user's message (fakellm's "previous" is the one before the last).
    let rules = RULES.replace(
        "rules:\n",
        "rules:\n  - name: again\n    when:\n      messages_contain: \"remember it again\"\n      previous_message_role: assistant\n      previous_message_contains: \"noted\"\n    respond:\n      tool_calls:\n        - name: memory__append\n          arguments: {name: \"user/profile.md\", text: \"Likes tea a lot.\"}\n",
    );
    let llm = FakeLlm::start(&rules);
    let home = TestHome::new();
    let mut pyrad = start(&home, &llm, &[]);
    let mut client = pyrad.client();
    let request = ask(&mut client, 1);
    client.send(&json!({"jsonrpc": "2.0", "id": 2, "method": "approval.respond",
        "params": {"id": request["id"], "decision": "approve", "scope": "session", "args_sha256": request["args_sha256"]}}));
    let (_, response) = finish(&mut client, 1);
    let session = response["result"]["session"].as_str().unwrap().to_owned();
    assert_eq!(response["result"]["tools"][0]["decision"], "approved", "{response}");
    drop(client);
    pyrad.signal(libc::SIGTERM);
    assert!(pyrad.wait_exit().success());

    let pyrad = start(&home, &llm, &[]);
    let mut client = pyrad.client();
    client.send(&json!({"jsonrpc": "2.0", "id": 3, "method": "chat.send",
        "params": {"session": session, "text": "please remember it again"}}));
    let (events, response) = finish(&mut client, 3);
    assert!(events.iter().all(|e| e["method"] != "approval.request"), "no prompt after the restart: {events:?}");
    assert_eq!(response["result"]["tools"][0]["decision"], "auto_by_grant", "{response}");
    assert_eq!(
        client.result("memory.read", json!({"name": "user/profile.md"}))["content"],
        "Likes tea.\nLikes tea a lot.\n"
    );
    // A new session has no grant (other words: fakellm keys conversations by their first message).
    client.send(
        &json!({"jsonrpc": "2.0", "id": 4, "method": "chat.send", "params": {"text": "remember that I like coffee"}}),
    );
    loop {
        let msg = client.recv_message();
        assert!(msg.get("id").is_none(), "a new session must ask: {msg}");
        if msg["method"] == "approval.request" {
            assert_eq!(msg["params"]["tool"], "memory__append");
            break;
        }
    }
}
