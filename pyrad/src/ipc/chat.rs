//! The chat methods over the socket, as an adapter on [`crate::chat::Service`]:
//! `chat.send` runs a turn with this connection as its channel (events stream to
//! it in order, approvals are answered from it), plus `chat.cancel`,
//! `approval.respond|pending`, `sessions.*`, `audit.list` and `security.scan`.
//! Only the mapping of [`ChatError`] to JSON-RPC codes lives here.

use proto::encode_line;
use proto::ipc::{
    ApprovalDecided, ApprovalRequestParams, ApprovalRequested, ApprovalRespondParams, AuditRecord, CancelResult,
    ChatDelta, ChatSendParams, ChatSendResult, ChatTool, ChatWarning, DecidedParams, Decision, DeleteResult,
    DeltaParams, Event, Role, ScanParams, ScanResult, SessionDetail, SessionInfo, SessionMessage, TokenUsage,
    ToolEventParams, ToolUse, UndoResult, WarningParams,
};
use proto::rpc::{
    APPROVAL_REJECTED, CANCELLED, ErrorObject, INTERNAL_ERROR, INVALID_PARAMS, NOT_CONFIGURED, NOT_FOUND, Notification,
    PROVIDER_ERROR, SESSION_BUSY, TURN_LIMIT,
};
use proto::security::{ScanVerdict, ScanWarning};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::connection::Peer;
use crate::approval::{ApprovalRequest, RespondError};
use crate::chat::ChatError;
use crate::chat::turn::{Channel, ToolUpdate, TurnError};
use crate::daemon::Daemon;
use crate::security::injection;
use crate::store::SessionRow;

/// Maps a chat error to its JSON-RPC code; a failed turn names its session.
fn rpc_error(e: ChatError) -> ErrorObject {
    let code = match &e {
        ChatError::NotConfigured(_) => NOT_CONFIGURED,
        ChatError::NotFound(_) => NOT_FOUND,
        ChatError::Busy(_) => SESSION_BUSY,
        ChatError::Store(_) | ChatError::Internal(_) => INTERNAL_ERROR,
        ChatError::Turn { error, .. } => match error {
            TurnError::Llm(_) => PROVIDER_ERROR,
            TurnError::Cancelled => CANCELLED,
            TurnError::TooManyIterations(_) => TURN_LIMIT,
            TurnError::Store(_) => INTERNAL_ERROR,
        },
    };
    let error = ErrorObject::new(code, e.to_string());
    match &e {
        ChatError::Turn { session, .. } => error.with_data(json!({"session": session})),
        _ => error,
    }
}

/// The turn's view of a socket connection: events go out in order through a queue
/// that one task drains into the connection.
struct IpcChannel {
    origin: String,
    attended: bool,
    events: mpsc::UnboundedSender<Vec<u8>>,
}

impl IpcChannel {
    fn event<E: Event>(&self, params: &E::Params) {
        let params = serde_json::to_value(params).ok();
        let _ = self.events.send(encode_line(&Notification::new(E::NAME, params)));
    }
}

pub fn request_params(r: ApprovalRequest) -> ApprovalRequestParams {
    ApprovalRequestParams {
        id: r.id,
        session: r.session,
        tool: r.tool,
        args: r.args,
        args_sha256: r.args_sha256,
        expires_at: r.expires_at,
        reason: r.reason,
        warnings: r.warnings,
    }
}

impl Channel for IpcChannel {
    fn origin(&self) -> &str {
        &self.origin
    }
    fn name(&self) -> &str {
        "ipc"
    }
    fn kind(&self) -> &str {
        "ipc"
    }
    fn attended(&self) -> bool {
        self.attended
    }
    fn delta(&self, session: &str, turn: u32, text: &str) {
        self.event::<ChatDelta>(&DeltaParams { session: session.into(), turn, text: text.into() });
    }
    fn tool(&self, session: &str, turn: u32, u: &ToolUpdate<'_>) {
        /// What a client folds into one line and opens on request.
        const RESULT_PREVIEW: usize = 2000;
        self.event::<ChatTool>(&ToolEventParams {
            session: session.into(),
            turn,
            call_id: u.call.id.clone(),
            name: u.call.name.clone(),
            args: serde_json::from_str(&u.call.arguments).unwrap_or(Value::Null),
            status: u.status,
            verdict: u.verdict.cloned(),
            decision: u.decision,
            ran_ms: u.ran_ms,
            result: u.result.map(|r| r.chars().take(RESULT_PREVIEW).collect()),
        });
    }
    fn decided(&self, request_id: &str, decision: Decision) {
        self.event::<ApprovalDecided>(&DecidedParams { id: request_id.into(), decision });
    }
    fn approval(&self, r: ApprovalRequest) {
        self.event::<ApprovalRequested>(&request_params(r));
    }
    fn warning(&self, session: &str, turn: u32, warning: &ScanWarning) {
        self.event::<ChatWarning>(&WarningParams { session: session.into(), turn, warning: warning.clone() });
    }
}

pub async fn send(daemon: &Daemon, peer: &Peer, params: ChatSendParams) -> Result<ChatSendResult, ErrorObject> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let outbox = peer.outbox.clone();
    let forward = tokio::spawn(async move {
        while let Some(line) = rx.recv().await {
            outbox.send_line(&line).await;
        }
    });
    let channel = IpcChannel { origin: peer.origin.clone(), attended: params.attended.unwrap_or(true), events: tx };
    let result = daemon
        .chat()
        .send_with_model(&channel, params.session, &params.text, params.model.as_deref(), peer.gone.child_token())
        .await;
    // Every event of the turn goes out before its result.
    drop(channel);
    let _ = forward.await;
    let out = result.map_err(rpc_error)?;
    Ok(ChatSendResult {
        session: out.session,
        turn: out.turn,
        text: out.text,
        usage: TokenUsage {
            input_tokens: out.usage.input_tokens,
            output_tokens: out.usage.output_tokens,
            cost_usd: out.cost_usd,
        },
        tools: out
            .tools
            .into_iter()
            .map(|t| ToolUse { name: t.name, args: t.args, decision: t.decision, result: t.result })
            .collect(),
        warnings: out.warnings,
    })
}

pub fn cancel(daemon: &Daemon, session: &str) -> Result<CancelResult, ErrorObject> {
    Ok(CancelResult { cancelled: daemon.chat().cancel(session) })
}

pub fn respond(daemon: &Daemon, peer: &Peer, p: ApprovalRespondParams) -> Result<(), ErrorObject> {
    let scope = p.scope.unwrap_or_default();
    daemon.chat().respond(&peer.origin, &p.id, &p.args_sha256, p.decision, scope).map_err(|e| {
        let code = if matches!(e, RespondError::Store(_)) { INTERNAL_ERROR } else { APPROVAL_REJECTED };
        ErrorObject::new(code, e.to_string())
    })
}

pub fn pending(daemon: &Daemon, peer: &Peer) -> Vec<ApprovalRequestParams> {
    daemon.chat().pending(&peer.origin).into_iter().map(request_params).collect()
}

/// `security.scan`: the scanner on texts the user gives, for scripts and evaluation.
pub fn scan(p: ScanParams) -> Result<ScanResult, ErrorObject> {
    if p.texts.len() > 1000 {
        return Err(ErrorObject::new(INVALID_PARAMS, "at most 1000 texts per security.scan"));
    }
    let started = std::time::Instant::now();
    let verdicts: Vec<ScanVerdict> = p.texts.iter().map(|t| injection::scan(t)).collect();
    Ok(ScanResult { verdicts, elapsed_us: started.elapsed().as_micros() as u64 })
}

fn info(row: SessionRow) -> SessionInfo {
    SessionInfo {
        id: row.id,
        title: row.title,
        provider: row.provider,
        model: row.model,
        channel: row.channel,
        created_at: row.created_at,
        updated_at: row.updated_at,
        messages: row.messages,
        usage: TokenUsage {
            input_tokens: row.usage.input_tokens,
            output_tokens: row.usage.output_tokens,
            cost_usd: row.cost_usd,
        },
    }
}

pub fn list(daemon: &Daemon, limit: Option<u32>) -> Result<Vec<SessionInfo>, ErrorObject> {
    Ok(daemon.chat().sessions(limit.unwrap_or(50)).map_err(rpc_error)?.into_iter().map(info).collect())
}

/// A stored message's role on the wire.
fn role(role: crate::llm::Role) -> Role {
    match role {
        crate::llm::Role::User => Role::User,
        crate::llm::Role::Assistant => Role::Assistant,
        crate::llm::Role::Tool => Role::Tool,
    }
}

pub fn get(daemon: &Daemon, id: &str) -> Result<SessionDetail, ErrorObject> {
    let (row, messages) = daemon.chat().session(id).map_err(rpc_error)?;
    let messages = messages
        .into_iter()
        .map(|m| SessionMessage {
            turn: m.turn,
            role: role(m.message.role),
            content: m.message.content,
            tool_calls: m.message.tool_calls.iter().filter_map(|c| serde_json::to_value(c).ok()).collect(),
            tool_call_id: m.message.tool_call_id,
            partial: m.partial,
            created_at: m.created_at,
        })
        .collect();
    Ok(SessionDetail { session: info(row), messages })
}

pub fn delete(daemon: &Daemon, id: &str) -> Result<DeleteResult, ErrorObject> {
    Ok(DeleteResult { deleted: daemon.chat().delete(id).map_err(rpc_error)? })
}

pub fn undo(daemon: &Daemon, id: &str) -> Result<UndoResult, ErrorObject> {
    let (turn, text, messages) = daemon.chat().undo(id).map_err(rpc_error)?;
    Ok(UndoResult { turn, text, messages })
}

pub async fn models(daemon: &Daemon) -> Result<proto::ipc::ModelsResult, ErrorObject> {
    let (preset, current, models) = daemon.chat().models().await.map_err(|e| match e {
        ChatError::Internal(text) => ErrorObject::new(PROVIDER_ERROR, text),
        other => rpc_error(other),
    })?;
    Ok(proto::ipc::ModelsResult { preset, current, models })
}

/// `provider.check`: one call of one token, at most 15 s.
pub async fn check(daemon: &Daemon) -> Result<proto::ipc::CheckResult, ErrorObject> {
    let provider = daemon.chat().provider().map_err(|e| ErrorObject::new(NOT_CONFIGURED, e.to_string()))?;
    let started = std::time::Instant::now();
    let call = daemon.chat().complete("Answer with one word.", "ping", 1);
    match tokio::time::timeout(std::time::Duration::from_secs(15), call).await {
        Ok(Ok((model, _))) => Ok(proto::ipc::CheckResult {
            preset: provider.preset.id.into(),
            model,
            base_url: provider.base_url,
            ms: started.elapsed().as_millis() as u64,
        }),
        Ok(Err(ChatError::Internal(text))) => Err(ErrorObject::new(PROVIDER_ERROR, text)),
        Ok(Err(other)) => Err(rpc_error(other)),
        Err(_) => Err(ErrorObject::new(PROVIDER_ERROR, format!("{} did not answer within 15 s", provider.base_url))),
    }
}

pub fn audit(daemon: &Daemon, limit: Option<u32>) -> Result<Vec<AuditRecord>, ErrorObject> {
    daemon.chat().audit(limit.unwrap_or(50)).map_err(rpc_error)
}

/// `plugins.call`: the user runs a plugin tool; audited as `by_user`.
pub async fn call_plugin(
    daemon: &Daemon,
    p: proto::ipc::PluginCallParams,
) -> Result<proto::ipc::PluginCallResult, ErrorObject> {
    let (text, is_error) = daemon.chat().call_plugin("ipc", &p.tool, p.args).await.map_err(rpc_error)?;
    Ok(proto::ipc::PluginCallResult { text, is_error })
}
