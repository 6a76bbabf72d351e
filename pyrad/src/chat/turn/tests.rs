//! Whole turns against a real fakellm: text, tools approved, denied, timed out,
//! cancelled while waiting, the round limit, and what is stored and audited.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::approval::{Answer, Scope, Timeouts};
use crate::chat::tools::Tool;
use crate::llm::ToolSpec;
use crate::llm::client::http_client;
use crate::llm::presets::Wire;
use pyra_tests::FakeLlm;

const RULES: &str = r#"
version: 1
rules:
  - name: after_time
    when:
      tool_result_contains: "12:00"
    respond:
      content: "It is noon."
  - name: after_denial
    when:
      tool_result_contains: "denied"
    respond:
      content: "Understood, I will not."
  - name: after_timeout
    when:
      tool_result_contains: "timed out"
    respond:
      content: "Nobody answered, so I did not check."
  - name: forever
    when:
      messages_contain: "loop forever"
    respond:
      tool_calls:
        - name: free__ping
          arguments: {}
  - name: time
    when:
      messages_contain: "what time"
    respond:
      tool_calls:
        - name: time__now
          arguments: {tz: "UTC"}
  - name: hello
    when:
      messages_contain: "hello"
    respond:
      content: "Hello there, friend"
"#;

/// A tool returning a fixed text.
struct Fixed {
    name: &'static str,
    text: &'static str,
    approval: bool,
}

impl Tool for Fixed {
    fn spec(&self) -> ToolSpec {
        ToolSpec { name: self.name.into(), description: "test".into(), parameters: json!({"type": "object"}) }
    }
    fn rule(&self) -> crate::approval::ToolRule {
        if self.approval { crate::approval::ToolRule::Ask } else { crate::approval::ToolRule::Free }
    }
    fn call(
        &self,
        _args: Value,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = crate::chat::tools::ToolResult> + Send + '_>> {
        Box::pin(async move { Ok(self.text.to_owned()) })
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Policy {
    Approve,
    Deny,
    Ignore,
}

/// A channel that records what it is told and answers approvals by policy.
struct Recorder {
    gate: Arc<ApprovalGate>,
    policy: Policy,
    deltas: Mutex<Vec<String>>,
    statuses: Mutex<Vec<(String, ToolStatus)>>,
    approvals: Mutex<Vec<ApprovalRequest>>,
    warnings: Mutex<Vec<ScanWarning>>,
}

impl Channel for Recorder {
    fn origin(&self) -> &str {
        "conn-test"
    }
    fn name(&self) -> &str {
        "ipc"
    }
    fn kind(&self) -> &str {
        "ipc"
    }
    fn warning(&self, _session: &str, _turn: u32, warning: &ScanWarning) {
        self.warnings.lock().unwrap().push(warning.clone());
    }
    fn delta(&self, _session: &str, _turn: u32, text: &str) {
        self.deltas.lock().unwrap().push(text.to_owned());
    }
    fn tool(&self, _session: &str, _turn: u32, update: &ToolUpdate<'_>) {
        self.statuses.lock().unwrap().push((update.call.name.clone(), update.status));
    }
    fn approval(&self, request: ApprovalRequest) {
        self.approvals.lock().unwrap().push(request.clone());
        let answer = match self.policy {
            Policy::Approve => Answer::Approve,
            Policy::Deny => Answer::Deny,
            Policy::Ignore => return,
        };
        let gate = self.gate.clone();
        // Answer from elsewhere, as a person would, after the request is pending.
        tokio::spawn(async move { gate.respond("conn-test", &request.id, &request.args_sha256, answer, Scope::Once) });
    }
}

struct Fixture {
    _server: FakeLlm,
    _dir: tempfile::TempDir,
    ctx: TurnContext,
    session: String,
}

fn fixture(approval_timeout: Duration) -> Fixture {
    let server = FakeLlm::start(RULES);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("pyra.db")).unwrap();
    // Anthropic's wire: fakellm reports usage there (its OpenAI stream has none).
    let endpoint = Endpoint::new(Wire::Anthropic, server.url.clone());
    let mut tools = ToolRegistry::default();
    tools.add(Arc::new(Fixed { name: "time__now", text: "12:00", approval: true }));
    tools.add(Arc::new(Fixed { name: "free__ping", text: "pong", approval: false }));
    let session = store.create_session("custom", "test-model", "ipc", 1).unwrap();
    let ctx = TurnContext {
        store: store.clone(),
        gate: Arc::new(ApprovalGate::new(
            store.clone(),
            Timeouts::uniform(approval_timeout),
            Vec::new(),
            dir.path().join("tool_executions.log"),
        )),
        http: http_client(&endpoint).unwrap(),
        endpoint,
        api_key: None,
        model: "test-model".into(),
        price: Some(crate::llm::presets::Price { input: 1.0, output: 2.0 }),
        system_prompt: "You are Pyra.".into(),
        tools,
        limits: TurnLimits { max_iterations: 3, ..TurnLimits::default() },
        hooks: None,
        security_log: dir.path().join("security.log"),
        warnings: Vec::new(),
    };
    Fixture { _server: server, _dir: dir, ctx, session }
}

fn recorder(ctx: &TurnContext, policy: Policy) -> Recorder {
    Recorder {
        gate: ctx.gate.clone(),
        policy,
        deltas: Mutex::default(),
        statuses: Mutex::default(),
        approvals: Mutex::default(),
        warnings: Mutex::default(),
    }
}

#[tokio::test]
async fn a_text_turn_streams_and_is_stored() {
    let f = fixture(Duration::from_secs(120));
    let channel = recorder(&f.ctx, Policy::Ignore);
    let out = run_turn(&f.ctx, &f.session, "hello", &channel, &CancellationToken::new()).await.unwrap();
    assert_eq!(out.text, "Hello there, friend");
    assert_eq!(out.turn, 1);
    assert!(channel.deltas.lock().unwrap().len() >= 3, "streamed in pieces");
    assert_eq!(channel.deltas.lock().unwrap().concat(), "Hello there, friend");
    let stored = f.ctx.store.messages(&f.session).unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1].message.content, "Hello there, friend");
    let row = f.ctx.store.session(&f.session).unwrap().unwrap();
    assert!(row.usage.output_tokens > 0);
    // $1 per million in, $2 per million out: the turn's cost and the session's agree.
    let cost = (out.usage.input_tokens as f64 + 2.0 * out.usage.output_tokens as f64) / 1e6;
    assert!((out.cost_usd.unwrap() - cost).abs() < 1e-12, "{:?} vs {cost}", out.cost_usd);
    assert!((row.cost_usd.unwrap() - cost).abs() < 1e-12);
}

#[tokio::test]
async fn an_approved_tool_runs_and_its_result_reaches_the_model() {
    let f = fixture(Duration::from_secs(120));
    let channel = recorder(&f.ctx, Policy::Approve);
    let out = run_turn(&f.ctx, &f.session, "what time is it?", &channel, &CancellationToken::new()).await.unwrap();
    assert_eq!(out.text, "It is noon.");
    assert_eq!(out.tools.len(), 1);
    assert_eq!(out.tools[0].decision, Decision::Approved);
    assert_eq!(out.tools[0].result, "12:00");
    assert_eq!(out.tools[0].args, json!({"tz": "UTC"}));
    let approvals = channel.approvals.lock().unwrap().clone();
    assert_eq!(approvals.len(), 1);
    assert_eq!(approvals[0].session, f.session);
    let statuses: Vec<ToolStatus> = channel.statuses.lock().unwrap().iter().map(|s| s.1).collect();
    assert_eq!(statuses, vec![ToolStatus::AwaitingApproval, ToolStatus::Running, ToolStatus::Done]);

    let audit = f.ctx.store.audit(10).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!((audit[0].decision.as_str(), audit[0].outcome.as_str()), ("approved", "ok"));
    let audit_log = f._dir.path().join("tool_executions.log");
    let log = std::fs::read_to_string(&audit_log).unwrap();
    assert!(log.contains("\"tool\":\"time__now\"") && log.contains("\"decision\":\"approved\""), "{log}");
    use std::os::unix::fs::MetadataExt;
    assert_eq!(std::fs::metadata(&audit_log).unwrap().mode() & 0o777, 0o600);
    // user, assistant(tool call), tool result, assistant(answer)
    assert_eq!(f.ctx.store.messages(&f.session).unwrap().len(), 4);
}

#[tokio::test]
async fn a_denied_tool_does_not_run_and_the_model_is_told() {
    let f = fixture(Duration::from_secs(120));
    let channel = recorder(&f.ctx, Policy::Deny);
    let out = run_turn(&f.ctx, &f.session, "what time is it?", &channel, &CancellationToken::new()).await.unwrap();
    assert_eq!(out.text, "Understood, I will not.");
    assert_eq!(out.tools[0].decision, Decision::Denied);
    assert_eq!(out.tools[0].result, "the user denied this tool call");
    let statuses: Vec<ToolStatus> = channel.statuses.lock().unwrap().iter().map(|s| s.1).collect();
    assert!(!statuses.contains(&ToolStatus::Running));
    assert_eq!(f.ctx.store.audit(1).unwrap()[0].outcome, "skipped");
}

#[tokio::test]
async fn an_unanswered_approval_times_out_as_a_denial() {
    let f = fixture(Duration::from_millis(200));
    let channel = recorder(&f.ctx, Policy::Ignore);
    let out = run_turn(&f.ctx, &f.session, "what time is it?", &channel, &CancellationToken::new()).await.unwrap();
    assert_eq!(out.tools[0].decision, Decision::TimedOut);
    assert_eq!(out.text, "Nobody answered, so I did not check.");
    assert_eq!(f.ctx.store.audit(1).unwrap()[0].decision, "timed_out");
}

#[tokio::test]
async fn cancelling_while_waiting_for_approval_ends_the_turn_cleanly() {
    let f = fixture(Duration::from_secs(120));
    let channel = recorder(&f.ctx, Policy::Ignore);
    let cancel = CancellationToken::new();
    let stopper = cancel.clone();
    let gate = f.ctx.gate.clone();
    let turn = run_turn(&f.ctx, &f.session, "what time is it?", &channel, &cancel);
    let watcher = async {
        while channel.approvals.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        stopper.cancel();
    };
    let (result, ()) = tokio::join!(turn, watcher);
    assert!(matches!(result, Err(TurnError::Cancelled)), "{result:?}");
    let id = channel.approvals.lock().unwrap()[0].id.clone();
    let hash = channel.approvals.lock().unwrap()[0].args_sha256.clone();
    assert!(gate.respond("conn-test", &id, &hash, Answer::Approve, Scope::Once).is_err(), "nothing left pending");
    // What was said so far is stored: the question and the model's tool call.
    assert_eq!(f.ctx.store.messages(&f.session).unwrap().len(), 2);
    let audit = f.ctx.store.audit(10).unwrap();
    assert_eq!((audit.len(), audit[0].decision.as_str()), (1, "cancelled"), "the held call is audited as cancelled");
}

#[tokio::test]
async fn the_round_limit_stops_a_model_that_never_finishes() {
    let f = fixture(Duration::from_secs(120));
    let channel = recorder(&f.ctx, Policy::Ignore);
    let result = run_turn(&f.ctx, &f.session, "loop forever", &channel, &CancellationToken::new()).await;
    assert!(matches!(result, Err(TurnError::TooManyIterations(3))), "{result:?}");
    assert!(result.unwrap_err().to_string().contains("max_tool_iterations"));
    let audit = f.ctx.store.audit(10).unwrap();
    assert_eq!(audit.len(), 3);
    assert!(audit.iter().all(|a| a.decision == "not_required" && a.outcome == "ok"));
    assert!(channel.approvals.lock().unwrap().is_empty(), "a tool that needs no approval is not asked about");
}

#[tokio::test]
async fn a_stream_cut_mid_answer_keeps_the_partial_answer_marked() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = vec![0u8; 65536];
            let _ = socket.read(&mut buf).await;
            let chunk =
                json!({"choices": [{"index": 0, "delta": {"content": "The answer is forty"}, "finish_reason": null}]});
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\ndata: {chunk}\n\n"
            );
            let _ = socket.write_all(reply.as_bytes()).await;
            // Then the connection drops, mid-answer.
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("pyra.db")).unwrap();
    let endpoint = Endpoint::new(Wire::OpenAi, url);
    let session = store.create_session("custom", "m", "ipc", 1).unwrap();
    let ctx = TurnContext {
        store: store.clone(),
        gate: Arc::new(ApprovalGate::new(
            store.clone(),
            Timeouts::uniform(Duration::from_secs(120)),
            Vec::new(),
            dir.path().join("tool_executions.log"),
        )),
        http: http_client(&endpoint).unwrap(),
        endpoint,
        api_key: None,
        model: "m".into(),
        price: None,
        system_prompt: String::new(),
        tools: ToolRegistry::default(),
        limits: TurnLimits::default(),
        hooks: None,
        security_log: dir.path().join("security.log"),
        warnings: Vec::new(),
    };
    let channel = recorder(&ctx, Policy::Ignore);
    let result = run_turn(&ctx, &session, "what is the answer?", &channel, &CancellationToken::new()).await;
    assert!(matches!(result, Err(TurnError::Llm(LlmError::Cut))), "{result:?}");
    assert_eq!(channel.deltas.lock().unwrap().concat(), "The answer is forty");
    let stored = ctx.store.messages(&session).unwrap();
    assert_eq!(stored.len(), 2, "question and partial answer");
    assert!(stored[1].partial);
    assert_eq!(stored[1].message.content, "The answer is forty");
    // The session goes on: the next turn is number 2.
    assert_eq!(ctx.store.last_turn(&session).unwrap(), 1);
}
