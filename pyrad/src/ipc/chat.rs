//! The chat methods over the socket: `chat.send` runs a turn with this connection
//! as its channel (events stream to it in order, approvals are answered from it),
//! plus `chat.cancel`, `approval.respond`, `sessions.*` and `audit.list`.

use proto::encode_line;
use proto::ipc::{
    ApprovalRequestParams, ApprovalRequested, ApprovalRespondParams, CancelResult, ChatDelta, ChatSendParams,
    ChatSendResult, ChatTool, DeleteResult, DeltaParams, Event, SessionDetail, SessionInfo, SessionMessage, TokenUsage,
    ToolEventParams, ToolUse,
};
use proto::rpc::{
    APPROVAL_REJECTED, CANCELLED, ErrorObject, INTERNAL_ERROR, INVALID_PARAMS, NOT_CONFIGURED, NOT_FOUND, Notification,
    PROVIDER_ERROR, SESSION_BUSY, TURN_LIMIT,
};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::connection::Peer;
use crate::approval::{Answer, ApprovalRequest, Scope};
use std::sync::Arc;

use crate::chat::builtin;
use crate::chat::turn::{Channel, ToolStatus, TurnContext, TurnError, TurnLimits, run_turn};
use crate::daemon::{Daemon, unix_now};
use crate::llm::ToolCall;
use crate::llm::client::Endpoint;
use crate::llm::presets;
use crate::plugins::host::PluginHooks;
use crate::store::{SessionRow, StoreError};

fn internal(e: impl std::fmt::Display) -> ErrorObject {
    ErrorObject::new(INTERNAL_ERROR, e.to_string())
}

/// The turn's view of a socket connection: events go out in order through a queue
/// that one task drains into the connection.
struct IpcChannel {
    origin: String,
    events: mpsc::UnboundedSender<Vec<u8>>,
}

impl IpcChannel {
    fn event<E: Event>(&self, params: &E::Params) {
        let params = serde_json::to_value(params).ok();
        let _ = self.events.send(encode_line(&Notification::new(E::NAME, params)));
    }
}

impl Channel for IpcChannel {
    fn origin(&self) -> &str {
        &self.origin
    }
    fn name(&self) -> &str {
        "ipc"
    }
    fn delta(&self, session: &str, turn: u32, text: &str) {
        self.event::<ChatDelta>(&DeltaParams { session: session.into(), turn, text: text.into() });
    }
    fn tool(&self, session: &str, turn: u32, call: &ToolCall, status: ToolStatus) {
        let status = serde_json::to_value(status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        self.event::<ChatTool>(&ToolEventParams {
            session: session.into(),
            turn,
            call_id: call.id.clone(),
            name: call.name.clone(),
            args: serde_json::from_str(&call.arguments).unwrap_or(Value::Null),
            status,
        });
    }
    fn approval(&self, r: ApprovalRequest) {
        self.event::<ApprovalRequested>(&ApprovalRequestParams {
            id: r.id,
            session: r.session,
            tool: r.tool,
            args: r.args,
            args_sha256: r.args_sha256,
            expires_at: r.expires_at,
        });
    }
}

/// Builds what a turn needs from the config in force.
async fn turn_context(daemon: &Daemon) -> Result<(TurnContext, &'static str), ErrorObject> {
    let cfg = &daemon.config;
    let not_configured = || {
        ErrorObject::new(
            NOT_CONFIGURED,
            "no LLM provider is configured; run `pyractl setup` or set [provider] in config.toml",
        )
    };
    if cfg.provider.preset.is_empty() {
        return Err(not_configured());
    }
    let preset = presets::find(&cfg.provider.preset).ok_or_else(|| {
        ErrorObject::new(NOT_CONFIGURED, format!("unknown provider preset {:?} in config.toml", cfg.provider.preset))
    })?;
    let base_url = if cfg.provider.base_url.is_empty() { preset.base_url } else { cfg.provider.base_url.as_str() };
    if base_url.is_empty() {
        return Err(ErrorObject::new(NOT_CONFIGURED, "provider preset custom needs [provider] base_url"));
    }
    let model = if cfg.provider.model.is_empty() { preset.default_model } else { cfg.provider.model.as_str() };
    let context_tokens =
        if cfg.provider.context_tokens == 0 { u64::from(preset.context_tokens) } else { cfg.provider.context_tokens };
    // Decrypted now, for this turn only; keyless presets simply have none.
    let key_name = format!("provider:{}:api_key", preset.id);
    let api_key = daemon
        .vault
        .get(&key_name)
        .map_err(|e| ErrorObject::new(INTERNAL_ERROR, e.to_string()))?
        .map(|secret| age::secrecy::ExposeSecret::expose_secret(&secret).to_owned());
    if api_key.is_none() && preset.needs_key {
        return Err(ErrorObject::new(
            NOT_CONFIGURED,
            format!("no API key for {}: run `pyractl setup` or `pyractl vault set {key_name}`", preset.name),
        ));
    }
    let mut tools = builtin::registry(&daemon.memory);
    daemon.plugins.register_tools(&mut tools);
    let ctx = TurnContext {
        store: daemon.store.clone(),
        gate: daemon.gate.clone(),
        http: daemon.http().map_err(|e| ErrorObject::new(INTERNAL_ERROR, e.to_string()))?,
        endpoint: Endpoint::new(preset.wire, base_url),
        api_key,
        model: model.to_owned(),
        system_prompt: system_prompt(daemon).await,
        tools,
        limits: TurnLimits {
            max_iterations: cfg.chat.max_tool_iterations.max(1),
            result_chars: cfg.chat.result_chars,
            context_tokens,
            max_tokens: cfg.provider.max_tokens,
        },
        audit_log: daemon.home.logs().join("tool_executions.log"),
        hooks: Some(Arc::new(PluginHooks(daemon.plugins.clone()))),
    };
    Ok((ctx, preset.id))
}

/// Base prompt, then what the user's memory says (within its budget), then what
/// each plugin's server asks the model to know.
async fn system_prompt(daemon: &Daemon) -> String {
    let mut prompt = daemon.config.chat.system_prompt.clone();
    let memory = builtin::memory_context(&daemon.memory, daemon.config.chat.memory_chars);
    if !memory.is_empty() {
        prompt.push_str("\n\n");
        prompt.push_str(&memory);
    }
    for (plugin, text) in daemon.plugins.instructions().await {
        prompt.push_str(&format!("\n\n## Plugin {plugin}\n{text}"));
    }
    prompt
}

pub async fn send(daemon: &Daemon, peer: &Peer, params: ChatSendParams) -> Result<ChatSendResult, ErrorObject> {
    let (ctx, preset) = turn_context(daemon).await?;
    let session = match params.session {
        Some(id) => {
            daemon.store.session(&id).map_err(internal)?.ok_or_else(|| missing(&id))?;
            id
        }
        None => daemon.store.create_session(preset, &ctx.model, "ipc", unix_now()).map_err(internal)?,
    };
    let cancel = peer.gone.child_token();
    {
        let mut turns = daemon.turns.lock().map_err(internal)?;
        if turns.contains_key(&session) {
            return Err(ErrorObject::new(SESSION_BUSY, format!("a turn is already running in session {session}")));
        }
        turns.insert(session.clone(), cancel.clone());
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let outbox = peer.outbox.clone();
    let forward = tokio::spawn(async move {
        while let Some(line) = rx.recv().await {
            outbox.send_line(&line).await;
        }
    });
    let channel = IpcChannel { origin: peer.origin.clone(), events: tx };
    let result = run_turn(&ctx, &session, &params.text, &channel, &cancel).await;
    if let Ok(mut turns) = daemon.turns.lock() {
        turns.remove(&session);
    }
    // Every event of the turn goes out before its result.
    drop(channel);
    let _ = forward.await;
    match result {
        Ok(out) => Ok(ChatSendResult {
            session: out.session,
            turn: out.turn,
            text: out.text,
            usage: TokenUsage { input_tokens: out.usage.input_tokens, output_tokens: out.usage.output_tokens },
            tools: out
                .tools
                .into_iter()
                .map(|t| ToolUse {
                    name: t.name,
                    args: t.args,
                    decision: serde_json::to_value(t.decision)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    result: t.result,
                })
                .collect(),
        }),
        Err(e) => {
            let code = match &e {
                TurnError::Llm(_) => PROVIDER_ERROR,
                TurnError::Cancelled => CANCELLED,
                TurnError::TooManyIterations(_) => TURN_LIMIT,
                TurnError::Store(_) => INTERNAL_ERROR,
            };
            Err(ErrorObject::new(code, e.to_string()).with_data(json!({"session": session})))
        }
    }
}

fn missing(id: &str) -> ErrorObject {
    ErrorObject::new(NOT_FOUND, format!("no session {id:?}"))
}

pub fn cancel(daemon: &Daemon, session: &str) -> Result<CancelResult, ErrorObject> {
    let token = daemon.turns.lock().map_err(internal)?.get(session).cloned();
    if let Some(token) = &token {
        token.cancel();
    }
    Ok(CancelResult { cancelled: token.is_some() })
}

pub fn respond(daemon: &Daemon, peer: &Peer, p: ApprovalRespondParams) -> Result<(), ErrorObject> {
    let answer = match p.decision.as_str() {
        "approve" => Answer::Approve,
        "deny" => Answer::Deny,
        other => {
            return Err(ErrorObject::new(INVALID_PARAMS, format!("decision must be approve or deny, not {other:?}")));
        }
    };
    let scope = match p.scope.as_deref() {
        None | Some("once") => Scope::Once,
        Some("session") => Scope::Session,
        Some(other) => {
            return Err(ErrorObject::new(INVALID_PARAMS, format!("scope must be once or session, not {other:?}")));
        }
    };
    daemon
        .gate
        .respond(&peer.origin, &p.id, answer, scope)
        .map_err(|e| ErrorObject::new(APPROVAL_REJECTED, e.to_string()))
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
        usage: TokenUsage { input_tokens: row.usage.input_tokens, output_tokens: row.usage.output_tokens },
    }
}

pub fn list(daemon: &Daemon, limit: Option<u32>) -> Result<Vec<SessionInfo>, ErrorObject> {
    Ok(daemon.store.sessions(limit.unwrap_or(50)).map_err(internal)?.into_iter().map(info).collect())
}

pub fn get(daemon: &Daemon, id: &str) -> Result<SessionDetail, ErrorObject> {
    let row = daemon.store.session(id).map_err(internal)?.ok_or_else(|| missing(id))?;
    let messages = daemon
        .store
        .messages(id)
        .map_err(internal)?
        .into_iter()
        .map(|m| SessionMessage {
            turn: m.turn,
            role: serde_json::to_value(m.message.role)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
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
    if daemon.turns.lock().map_err(internal)?.contains_key(id) {
        return Err(ErrorObject::new(SESSION_BUSY, format!("session {id} has a turn running; cancel it first")));
    }
    let deleted = daemon.store.delete_session(id).map_err(|e: StoreError| internal(e))?;
    daemon.gate.forget_session(id);
    Ok(DeleteResult { deleted })
}

pub fn audit(daemon: &Daemon, limit: Option<u32>) -> Result<Vec<Value>, ErrorObject> {
    let entries = daemon.store.audit(limit.unwrap_or(50)).map_err(internal)?;
    Ok(entries.into_iter().filter_map(|e| serde_json::to_value(e).ok()).collect())
}

/// `plugins.call`: the user runs a plugin tool; audited as `by_user`.
pub async fn call_plugin(
    daemon: &Daemon,
    p: proto::ipc::PluginCallParams,
) -> Result<proto::ipc::PluginCallResult, ErrorObject> {
    let started = std::time::Instant::now();
    let outcome = daemon.plugins.call_direct(&p.tool, p.args.clone()).await;
    let (text, is_error, status) = match &outcome {
        Ok((text, false)) => (text.clone(), false, "ok"),
        Ok((text, true)) => (text.clone(), true, "error"),
        Err(e) => (e.clone(), true, "error"),
    };
    let entry = crate::store::AuditEntry {
        at: unix_now(),
        session: String::new(),
        channel: "ipc".into(),
        tool: p.tool.clone(),
        args: p.args.to_string(),
        decision: "by_user".into(),
        waited_ms: 0,
        ran_ms: started.elapsed().as_millis() as u64,
        outcome: status.into(),
        result: text.chars().take(daemon.config.chat.result_chars).collect(),
    };
    daemon.store.record_audit(&entry).map_err(internal)?;
    crate::chat::turn::append_audit_log(&daemon.home.logs().join("tool_executions.log"), &entry);
    match outcome {
        Err(e) => Err(ErrorObject::new(NOT_FOUND, e)),
        Ok(_) => Ok(proto::ipc::PluginCallResult { text, is_error }),
    }
}
