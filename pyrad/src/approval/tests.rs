use std::sync::Arc;

use serde_json::json;

use super::*;

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
        gate.request(&origin, &session, &tool, &json!({"b": 2, "a": 1}), |r| {
            let _ = tx.send(r);
        })
        .await
    });
    (rx.await.expect("the request was shown"), task)
}

#[tokio::test]
async fn approve_lets_the_call_run() {
    let gate = Arc::new(ApprovalGate::new(Duration::from_secs(120)));
    let (req, task) = hold(&gate, "conn-1", "s1", "files__write").await;
    assert_eq!(req.tool, "files__write");
    assert_eq!(req.args_sha256, args_sha256(&json!({"a": 1, "b": 2})), "key order does not matter");
    assert_eq!(req.args_sha256.len(), 64);
    gate.respond("conn-1", &req.id, Answer::Approve, Scope::Once).unwrap();
    assert_eq!(task.await.unwrap(), Decision::Approved);
}

#[tokio::test]
async fn deny_refuses_the_call() {
    let gate = Arc::new(ApprovalGate::new(Duration::from_secs(120)));
    let (req, task) = hold(&gate, "conn-1", "s1", "shell__run").await;
    gate.respond("conn-1", &req.id, Answer::Deny, Scope::Once).unwrap();
    assert_eq!(task.await.unwrap(), Decision::Denied);
}

#[tokio::test(start_paused = true)]
async fn no_answer_in_time_is_a_denial() {
    let gate = Arc::new(ApprovalGate::new(Duration::from_secs(120)));
    let (req, task) = hold(&gate, "conn-1", "s1", "shell__run").await;
    // Paused time: the runtime jumps to the timeout as soon as everything idles.
    assert_eq!(task.await.unwrap(), Decision::TimedOut);
    assert!(!Decision::TimedOut.allows());
    assert_eq!(gate.respond("conn-1", &req.id, Answer::Approve, Scope::Once), Err(RespondError::Decided(req.id)));
}

#[tokio::test]
async fn stale_unknown_and_foreign_answers_are_rejected() {
    let gate = Arc::new(ApprovalGate::new(Duration::from_secs(120)));
    assert_eq!(gate.respond("conn-1", "nope", Answer::Approve, Scope::Once), Err(RespondError::Unknown("nope".into())));
    let (req, task) = hold(&gate, "conn-1", "s1", "t").await;
    assert_eq!(
        gate.respond("conn-2", &req.id, Answer::Approve, Scope::Once),
        Err(RespondError::WrongOrigin(req.id.clone())),
        "only the conversation's origin may answer"
    );
    gate.respond("conn-1", &req.id, Answer::Deny, Scope::Once).unwrap();
    assert_eq!(task.await.unwrap(), Decision::Denied);
    assert_eq!(gate.respond("conn-1", &req.id, Answer::Approve, Scope::Once), Err(RespondError::Decided(req.id)));
}

#[tokio::test]
async fn a_vanished_origin_cancels_its_pending_calls_only() {
    let gate = Arc::new(ApprovalGate::new(Duration::from_secs(120)));
    let (_a, gone) = hold(&gate, "conn-1", "s1", "t").await;
    let (b, stays) = hold(&gate, "conn-2", "s2", "t").await;
    assert_eq!(gate.cancel_origin("conn-1"), 1);
    assert_eq!(gone.await.unwrap(), Decision::Cancelled);
    gate.respond("conn-2", &b.id, Answer::Approve, Scope::Once).unwrap();
    assert_eq!(stays.await.unwrap(), Decision::Approved);
}

#[tokio::test]
async fn a_session_grant_covers_later_calls_of_that_tool_in_that_session() {
    let gate = Arc::new(ApprovalGate::new(Duration::from_secs(120)));
    let (req, task) = hold(&gate, "conn-1", "s1", "time__now").await;
    gate.respond("conn-1", &req.id, Answer::Approve, Scope::Session).unwrap();
    assert_eq!(task.await.unwrap(), Decision::Approved);

    let shown = std::sync::atomic::AtomicBool::new(false);
    let d = gate
        .request("conn-1", "s1", "time__now", &json!({}), |_| shown.store(true, std::sync::atomic::Ordering::SeqCst))
        .await;
    assert_eq!(d, Decision::AutoByGrant);
    assert!(!shown.load(std::sync::atomic::Ordering::SeqCst), "no prompt for a granted call");

    // Another tool, or another session, still asks.
    let (other, task) = hold(&gate, "conn-1", "s1", "shell__run").await;
    gate.respond("conn-1", &other.id, Answer::Deny, Scope::Once).unwrap();
    assert_eq!(task.await.unwrap(), Decision::Denied);
    let (elsewhere, task) = hold(&gate, "conn-1", "s2", "time__now").await;
    gate.respond("conn-1", &elsewhere.id, Answer::Deny, Scope::Once).unwrap();
    assert_eq!(task.await.unwrap(), Decision::Denied);

    gate.forget_session("s1");
    let (again, task) = hold(&gate, "conn-1", "s1", "time__now").await;
    gate.respond("conn-1", &again.id, Answer::Deny, Scope::Once).unwrap();
    assert_eq!(task.await.unwrap(), Decision::Denied);
}

#[tokio::test]
async fn a_dropped_wait_leaves_nothing_pending() {
    let gate = Arc::new(ApprovalGate::new(Duration::from_secs(120)));
    let (req, task) = hold(&gate, "conn-1", "s1", "t").await;
    task.abort();
    let _ = task.await;
    assert_eq!(gate.respond("conn-1", &req.id, Answer::Approve, Scope::Once), Err(RespondError::Decided(req.id)));
    assert_eq!(gate.cancel_origin("conn-1"), 0);
}
