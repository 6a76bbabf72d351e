use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;

use super::*;

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    gate: Arc<ApprovalGate>,
}

fn gate_with(timeout: Duration, unattended_allow: &[&str]) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("pyra.db")).unwrap();
    for s in ["s1", "s2"] {
        // Grants belong to sessions that exist.
        let id = store.create_session("custom", "m", "ipc", 1).unwrap();
        store.with(|c| Ok(c.execute("UPDATE sessions SET id = ?1 WHERE id = ?2", [s, id.as_str()])?)).unwrap();
    }
    let gate = Arc::new(ApprovalGate::new(
        store.clone(),
        Timeouts::uniform(timeout),
        unattended_allow.iter().map(|s| s.to_string()).collect(),
        dir.path().join("tool_executions.log"),
    ));
    Fixture { _dir: dir, store, gate }
}

fn gate() -> Fixture {
    gate_with(Duration::from_secs(120), &[])
}

fn call<'a>(origin: &'a str, session: &'a str, tool: &'a str, args: &'a Value) -> Call<'a> {
    Call { origin, kind: "ipc", attended: true, session, tool, args, rule: ToolRule::Ask, taint: None, warnings: &[] }
}

/// Starts a held call on a task and returns its request (as the origin sees it).
async fn hold(
    gate: &Arc<ApprovalGate>,
    origin: &str,
    session: &str,
    tool: &str,
) -> (ApprovalRequest, tokio::task::JoinHandle<Decision>) {
    let (tx, rx) = oneshot::channel();
    let (gate, origin, session, tool) = (gate.clone(), origin.to_owned(), session.to_owned(), tool.to_owned());
    let task = tokio::spawn(async move {
        let args = json!({"b": 2, "a": 1});
        gate.decide(call(&origin, &session, &tool, &args), |r| {
            let _ = tx.send(r);
        })
        .await
    });
    (rx.await.expect("the request was shown"), task)
}

#[tokio::test]
async fn approve_lets_the_call_run() {
    let f = gate();
    let (req, task) = hold(&f.gate, "conn-1", "s1", "files__write").await;
    assert_eq!(req.tool, "files__write");
    assert_eq!(req.args_sha256, args_sha256(&json!({"a": 1, "b": 2})), "key order does not matter");
    assert_eq!(req.args_sha256.len(), 64);
    assert_eq!(f.gate.pending("conn-1"), vec![req.clone()], "listed as pending for its origin");
    assert!(f.gate.pending("conn-2").is_empty(), "and for no other");
    f.gate.respond("conn-1", &req.id, &req.args_sha256, Answer::Approve, Scope::Once).unwrap();
    assert_eq!(task.await.unwrap(), Decision::Approved);
    assert!(f.gate.pending("conn-1").is_empty());
}

#[tokio::test]
async fn an_answer_for_other_arguments_is_refused_and_the_request_stays() {
    let f = gate();
    let (req, task) = hold(&f.gate, "conn-1", "s1", "shell__run").await;
    let other = args_sha256(&json!({"cmd": "rm -rf ~"}));
    assert_eq!(
        f.gate.respond("conn-1", &req.id, &other, Answer::Approve, Scope::Once),
        Err(RespondError::HashMismatch(req.id.clone()))
    );
    assert_eq!(f.gate.pending("conn-1").len(), 1, "still waiting for a real answer");
    f.gate.respond("conn-1", &req.id, &req.args_sha256.to_uppercase(), Answer::Deny, Scope::Once).unwrap();
    assert_eq!(task.await.unwrap(), Decision::Denied);
}

#[tokio::test(start_paused = true)]
async fn no_answer_in_time_is_a_denial() {
    let f = gate();
    let (req, task) = hold(&f.gate, "conn-1", "s1", "shell__run").await;
    // Paused time: the runtime jumps to the timeout as soon as everything idles.
    assert_eq!(task.await.unwrap(), Decision::TimedOut);
    assert!(!Decision::TimedOut.allows());
    let late = f.gate.respond("conn-1", &req.id, &req.args_sha256, Answer::Approve, Scope::Once);
    assert_eq!(late, Err(RespondError::Decided(req.id)));
}

#[tokio::test(start_paused = true)]
async fn each_origin_kind_has_its_own_timeout() {
    let mut timeouts = Timeouts::uniform(Duration::from_secs(120));
    timeouts.by_kind.insert("telegram".into(), Duration::from_secs(300));
    assert_eq!(timeouts.of("ipc"), Duration::from_secs(120));
    assert_eq!(timeouts.of("matrix"), Duration::from_secs(120), "a bot origin keeps the two-minute default");
    assert_eq!(timeouts.of("telegram"), Duration::from_secs(300));
    let f = gate();
    let started = tokio::time::Instant::now();
    let (req, task) = hold(&f.gate, "conn-1", "s1", "t").await;
    assert_eq!(task.await.unwrap(), Decision::TimedOut);
    assert_eq!(started.elapsed().as_secs(), 120);
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    assert!(req.expires_at >= now + 119 && req.expires_at <= now + 121, "expires_at says when");
}

#[tokio::test]
async fn stale_unknown_and_foreign_answers_are_rejected() {
    let f = gate();
    let nope = f.gate.respond("conn-1", "nope", "", Answer::Approve, Scope::Once);
    assert_eq!(nope, Err(RespondError::Unknown("nope".into())));
    let (req, task) = hold(&f.gate, "conn-1", "s1", "t").await;
    assert_eq!(
        f.gate.respond("conn-2", &req.id, &req.args_sha256, Answer::Approve, Scope::Once),
        Err(RespondError::WrongOrigin(req.id.clone())),
        "only the conversation's origin may answer"
    );
    f.gate.respond("conn-1", &req.id, &req.args_sha256, Answer::Deny, Scope::Once).unwrap();
    assert_eq!(task.await.unwrap(), Decision::Denied);
    let again = f.gate.respond("conn-1", &req.id, &req.args_sha256, Answer::Approve, Scope::Once);
    assert_eq!(again, Err(RespondError::Decided(req.id)));
}

#[tokio::test]
async fn a_vanished_origin_cancels_its_pending_calls_only() {
    let f = gate();
    let (_a, gone) = hold(&f.gate, "conn-1", "s1", "t").await;
    let (b, stays) = hold(&f.gate, "conn-2", "s2", "t").await;
    assert_eq!(f.gate.cancel_origin("conn-1"), 1);
    assert_eq!(gone.await.unwrap(), Decision::Cancelled);
    f.gate.respond("conn-2", &b.id, &b.args_sha256, Answer::Approve, Scope::Once).unwrap();
    assert_eq!(stays.await.unwrap(), Decision::Approved);
}

#[tokio::test]
async fn a_session_grant_is_kept_in_the_store_and_covers_that_tool_in_that_session() {
    let f = gate();
    let (req, task) = hold(&f.gate, "conn-1", "s1", "time__now").await;
    f.gate.respond("conn-1", &req.id, &req.args_sha256, Answer::Approve, Scope::Session).unwrap();
    assert_eq!(task.await.unwrap(), Decision::Approved);
    assert_eq!(f.store.session_grants("s1").unwrap(), vec!["time__now".to_owned()]);

    // A new gate on the same store (a restart) still honours it.
    let restarted = ApprovalGate::new(f.store.clone(), Timeouts::uniform(Duration::from_secs(120)), vec![], "x".into());
    let shown = AtomicBool::new(false);
    let args = json!({});
    let d = restarted.decide(call("conn-9", "s1", "time__now", &args), |_| shown.store(true, Ordering::SeqCst)).await;
    assert_eq!(d, Decision::AutoByGrant);
    assert!(!shown.load(Ordering::SeqCst), "no prompt for a granted call");

    // Another tool, or another session, still asks.
    let (other, task) = hold(&f.gate, "conn-1", "s1", "shell__run").await;
    f.gate.respond("conn-1", &other.id, &other.args_sha256, Answer::Deny, Scope::Once).unwrap();
    assert_eq!(task.await.unwrap(), Decision::Denied);
    let (elsewhere, task) = hold(&f.gate, "conn-1", "s2", "time__now").await;
    f.gate.respond("conn-1", &elsewhere.id, &elsewhere.args_sha256, Answer::Deny, Scope::Once).unwrap();
    assert_eq!(task.await.unwrap(), Decision::Denied);

    // Deleting the session deletes its grants.
    f.store.delete_session("s1").unwrap();
    assert!(f.store.session_grants("s1").unwrap().is_empty());
}

#[tokio::test]
async fn taint_makes_free_granted_and_exempt_calls_ask_and_says_why() {
    let f = gate();
    f.store.add_session_grant("s1", "time__now", 1).unwrap();
    f.store.set_plugin_grants("files", &["read".to_owned()], 1).unwrap();
    let args = json!({"path": "/tmp"});
    let untainted = [
        (ToolRule::Free, "memory__read", Decision::NotRequired),
        (ToolRule::Ask, "time__now", Decision::AutoByGrant),
        (ToolRule::Exemptable { plugin: "files".into(), tool: "read".into() }, "files__read", Decision::NotRequired),
    ];
    for (rule, tool, expected) in untainted {
        let d = f.gate.decide(Call { rule: rule.clone(), ..call("c", "s1", tool, &args) }, |_| panic!("asked")).await;
        assert_eq!(d, expected, "{tool}");
        let (tx, rx) = oneshot::channel();
        let gate = f.gate.clone();
        let args = args.clone();
        let task = tokio::spawn(async move {
            let tainted = Call {
                rule,
                taint: Some("a result of web__fetch looked like a prompt injection"),
                ..call("c", "s1", tool, &args)
            };
            gate.decide(tainted, |r| {
                let _ = tx.send(r);
            })
            .await
        });
        let req = rx.await.expect("a tainted turn asks");
        assert_eq!(req.reason.as_deref(), Some("a result of web__fetch looked like a prompt injection"));
        f.gate.respond("c", &req.id, &req.args_sha256, Answer::Deny, Scope::Once).unwrap();
        assert_eq!(task.await.unwrap(), Decision::Denied);
    }
    // Declared exempt but never granted: asks.
    let (tx, rx) = oneshot::channel();
    let gate = f.gate.clone();
    let task = tokio::spawn(async move {
        let args = json!({});
        let rule = ToolRule::Exemptable { plugin: "files".into(), tool: "search".into() };
        gate.decide(Call { rule, ..call("c", "s1", "files__search", &args) }, |r| {
            let _ = tx.send(r);
        })
        .await
    });
    let req = rx.await.unwrap();
    f.gate.respond("c", &req.id, &req.args_sha256, Answer::Approve, Scope::Once).unwrap();
    assert_eq!(task.await.unwrap(), Decision::Approved);
}

#[tokio::test]
async fn unattended_turns_are_decided_by_the_allow_list_unless_tainted() {
    let f = gate_with(Duration::from_secs(120), &["memory__append"]);
    let args = json!({});
    let unattended = |tool, taint| Call { attended: false, taint, ..call("c", "s1", tool, &args) };
    let ask = |_| panic!("nobody is there to ask");
    assert_eq!(f.gate.decide(unattended("memory__append", None), ask).await, Decision::UnattendedAllowed);
    assert_eq!(f.gate.decide(unattended("shell__run", None), ask).await, Decision::UnattendedDenied);
    assert_eq!(f.gate.decide(unattended("memory__append", Some("flagged")), ask).await, Decision::UnattendedDenied);
    assert!(!Decision::UnattendedDenied.allows() && Decision::UnattendedAllowed.allows());
}

#[tokio::test]
async fn a_dropped_wait_leaves_nothing_pending() {
    let f = gate();
    let (req, task) = hold(&f.gate, "conn-1", "s1", "t").await;
    task.abort();
    let _ = task.await;
    let late = f.gate.respond("conn-1", &req.id, &req.args_sha256, Answer::Approve, Scope::Once);
    assert_eq!(late, Err(RespondError::Decided(req.id)));
    assert_eq!(f.gate.cancel_origin("conn-1"), 0);
}
