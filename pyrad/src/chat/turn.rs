//! One turn of a conversation: the user's text in, the model streamed out to the
//! turn's channel, tool calls held at the approval gate, run, capped, audited and
//! fed back, up to a limit of rounds. Everything said is stored as it happens, so
//! a broken stream or a cancelled turn leaves the session consistent.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::history;
use super::tools::{ToolRegistry, cap_result};
use crate::approval::{ApprovalGate, ApprovalRequest, Decision};
use crate::daemon::unix_now;
use crate::llm::client::{Endpoint, stream};
use crate::llm::{ChatRequest, LlmError, Message, StreamEvent, ToolCall, Usage};
use crate::plugins::manifest::Hook;
use crate::store::{AuditEntry, NewMessage, Store, StoreError};

/// Where a turn came from, and where its output and approval prompts go back to.
pub trait Channel: Send + Sync {
    /// Who may answer this turn's approvals: a connection, a room, a chat.
    fn origin(&self) -> &str;
    /// The channel's name for the audit: `ipc`, `matrix:<room>`, `telegram:<chat>`.
    fn name(&self) -> &str;
    fn delta(&self, session: &str, turn: u32, text: &str);
    fn tool(&self, session: &str, turn: u32, call: &ToolCall, status: ToolStatus);
    fn approval(&self, request: ApprovalRequest);
}

/// A hook call's future.
pub type HookFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// The turn's hook points, implemented by the plugin host. Every method must
/// return promptly; a failing hook is the implementation's to log and skip.
pub trait Hooks: Send + Sync {
    /// Observation hooks: `session_resolved`, `message_received`, `pre_llm_call`,
    /// `post_llm_response`, `turn_completed`.
    fn observe(&self, hook: Hook, payload: Value) -> HookFuture<'_, ()>;
    /// `system_prompt_extend`, as a chain.
    fn extend_prompt(&self, prompt: String) -> HookFuture<'_, String>;
    /// `tool_registry_build`: the names of tools to hide from this turn.
    fn hidden_tools(&self, tools: Vec<String>) -> HookFuture<'_, Vec<String>>;
    /// `pre_tool_execute`: `Some(result)` answers instead of running the tool.
    fn before_tool(&self, session: &str, tool: &str, args: &Value) -> HookFuture<'_, Option<String>>;
    /// `post_tool_execute`: the result, possibly rewritten.
    fn after_tool(&self, session: &str, tool: &str, args: &Value, result: String) -> HookFuture<'_, String>;
}

/// Where a tool call stands, as the channel is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolStatus {
    AwaitingApproval,
    Running,
    Done,
    Failed,
    Denied,
}

/// Limits of a turn, from config.
#[derive(Debug, Clone)]
pub struct TurnLimits {
    /// Model calls per turn; the turn stops when the model still wants tools after this many.
    pub max_iterations: u32,
    /// Characters of a tool result the model sees.
    pub result_chars: usize,
    /// Tokens of history sent (system prompt included).
    pub context_tokens: u64,
    /// Tokens the model may answer with.
    pub max_tokens: u32,
}

impl Default for TurnLimits {
    fn default() -> Self {
        Self { max_iterations: 10, result_chars: 4000, context_tokens: 8_192, max_tokens: 4096 }
    }
}

/// Everything a turn needs besides its channel.
pub struct TurnContext {
    pub store: Store,
    pub gate: Arc<ApprovalGate>,
    pub http: reqwest::Client,
    pub endpoint: Endpoint,
    /// Read from the vault at call time; never kept longer than the call.
    pub api_key: Option<String>,
    pub model: String,
    pub system_prompt: String,
    pub tools: ToolRegistry,
    pub limits: TurnLimits,
    /// `logs/tool_executions.log`.
    pub audit_log: PathBuf,
    /// The plugins' hooks, if any plugin is loaded.
    pub hooks: Option<Arc<dyn Hooks>>,
}

/// A tool call as the turn's result reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolRecord {
    pub name: String,
    pub args: Value,
    pub decision: Decision,
    pub result: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TurnOutcome {
    pub session: String,
    pub turn: u32,
    pub text: String,
    pub usage: Usage,
    pub tools: Vec<ToolRecord>,
}

#[derive(Debug, thiserror::Error)]
pub enum TurnError {
    #[error("{0}")]
    Llm(LlmError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("the turn was cancelled")]
    Cancelled,
    #[error("stopped after {0} rounds of tool use (chat.max_tool_iterations); ask again to let the model go on")]
    TooManyIterations(u32),
}

/// Runs one turn of `session`. Partial answers are stored, marked partial.
pub async fn run_turn(
    ctx: &TurnContext,
    session: &str,
    user_text: &str,
    channel: &dyn Channel,
    cancel: &CancellationToken,
) -> Result<TurnOutcome, TurnError> {
    let turn = ctx.store.last_turn(session)? + 1;
    if let Some(h) = &ctx.hooks {
        h.observe(Hook::MessageReceived, json!({"channel": channel.name(), "text": user_text})).await;
        h.observe(Hook::SessionResolved, json!({"session": session, "channel": channel.name()})).await;
    }
    let (system_prompt, hidden) = match &ctx.hooks {
        Some(h) => {
            let names = ctx.tools.specs().into_iter().map(|t| t.name).collect();
            (h.extend_prompt(ctx.system_prompt.clone()).await, h.hidden_tools(names).await)
        }
        None => (ctx.system_prompt.clone(), Vec::new()),
    };
    let tools: Vec<_> = ctx.tools.specs().into_iter().filter(|t| !hidden.contains(&t.name)).collect();
    let user = Message::user(user_text);
    ctx.store.append_messages(session, &[NewMessage { turn, message: &user, partial: false }], unix_now())?;
    let mut outcome =
        TurnOutcome { session: session.into(), turn, text: String::new(), usage: Usage::default(), tools: Vec::new() };

    for _round in 0..ctx.limits.max_iterations {
        let history: Vec<Message> = ctx.store.messages(session)?.into_iter().map(|m| m.message).collect();
        let system_tokens = history::estimate_tokens(&Message::user(system_prompt.as_str()));
        let start = history::trim_start(&history, system_tokens, ctx.limits.context_tokens);
        let request = ChatRequest {
            model: ctx.model.clone(),
            system: system_prompt.clone(),
            messages: history[start..].to_vec(),
            tools: tools.clone(),
            max_tokens: ctx.limits.max_tokens,
        };
        if let Some(h) = &ctx.hooks {
            h.observe(Hook::PreLlmCall, json!({"session": session, "turn": turn, "messages": request.messages.len()}))
                .await;
        }
        let call = stream(&ctx.http, &ctx.endpoint, ctx.api_key.as_deref(), &request, |event| {
            if let StreamEvent::Text(text) = event {
                channel.delta(session, turn, text);
            }
        });
        let streamed = tokio::select! {
            result = call => result,
            () = cancel.cancelled() => return Err(TurnError::Cancelled),
        };
        let asm = match streamed {
            Ok(asm) => asm,
            Err((error, partial)) => {
                if !partial.text.is_empty() {
                    let kept = Message::assistant(partial.text.clone(), Vec::new());
                    ctx.store.append_messages(
                        session,
                        &[NewMessage { turn, message: &kept, partial: true }],
                        unix_now(),
                    )?;
                }
                return Err(TurnError::Llm(error));
            }
        };
        ctx.store.add_usage(session, asm.usage)?;
        outcome.usage.input_tokens += asm.usage.input_tokens;
        outcome.usage.output_tokens += asm.usage.output_tokens;
        let answer = asm.finish().map_err(TurnError::Llm)?;
        ctx.store.append_messages(session, &[NewMessage { turn, message: &answer, partial: false }], unix_now())?;
        outcome.text.push_str(&answer.content);
        if let Some(h) = &ctx.hooks {
            let calls: Vec<&str> = answer.tool_calls.iter().map(|c| c.name.as_str()).collect();
            h.observe(
                Hook::PostLlmResponse,
                json!({"session": session, "turn": turn, "text": answer.content, "tool_calls": calls}),
            )
            .await;
        }
        if answer.tool_calls.is_empty() {
            if let Some(h) = &ctx.hooks {
                h.observe(Hook::TurnCompleted, json!({"session": session, "turn": turn, "text": outcome.text})).await;
            }
            return Ok(outcome);
        }
        for call in &answer.tool_calls {
            let (record, result) = execute(ctx, session, turn, call, channel, cancel, &hidden).await?;
            let message = Message::tool_result(call.id.clone(), result);
            ctx.store.append_messages(
                session,
                &[NewMessage { turn, message: &message, partial: false }],
                unix_now(),
            )?;
            outcome.tools.push(record);
        }
    }
    Err(TurnError::TooManyIterations(ctx.limits.max_iterations))
}

/// Holds one call at the gate, runs it if allowed, audits it, returns what the model sees.
async fn execute(
    ctx: &TurnContext,
    session: &str,
    turn: u32,
    call: &ToolCall,
    channel: &dyn Channel,
    cancel: &CancellationToken,
    hidden: &[String],
) -> Result<(ToolRecord, String), TurnError> {
    let args: Value = serde_json::from_str(&call.arguments).unwrap_or(Value::Null);
    let tool = ctx.tools.get(&call.name).filter(|_| !hidden.contains(&call.name));
    // A plugin's pre_tool_execute hook may answer in the tool's place: nothing runs.
    if tool.is_some()
        && let Some(h) = &ctx.hooks
        && let Some(result) = h.before_tool(session, &call.name, &args).await
    {
        let result = cap_result(result, ctx.limits.result_chars);
        let entry = AuditEntry {
            at: unix_now(),
            session: session.into(),
            channel: channel.name().into(),
            tool: call.name.clone(),
            args: call.arguments.clone(),
            decision: "answered_by_hook".into(),
            waited_ms: 0,
            ran_ms: 0,
            outcome: "skipped".into(),
            result: result.clone(),
        };
        ctx.store.record_audit(&entry)?;
        append_audit_log(&ctx.audit_log, &entry);
        return Ok((
            ToolRecord { name: call.name.clone(), args, decision: Decision::AutoByGrant, result: result.clone() },
            result,
        ));
    }
    let asked = Instant::now();
    let decision = match &tool {
        None => Decision::Denied,
        Some(t) if !t.needs_approval() => Decision::AutoByGrant,
        Some(_) => {
            channel.tool(session, turn, call, ToolStatus::AwaitingApproval);
            let wait = ctx.gate.request(channel.origin(), session, &call.name, &args, |r| channel.approval(r));
            // A cancel while waiting is still a decision, and is audited as one.
            tokio::select! {
                d = wait => d,
                () = cancel.cancelled() => Decision::Cancelled,
            }
        }
    };
    let waited_ms = asked.elapsed().as_millis() as u64;
    let decision_name = match (&tool, decision) {
        (Some(t), Decision::AutoByGrant) if !t.needs_approval() => "not_required".to_owned(),
        (_, d) => serde_json::to_value(d).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
    };
    let started = Instant::now();
    let (outcome, result) = match (&tool, decision.allows()) {
        (None, _) => ("skipped", format!("there is no tool named {:?}", call.name)),
        (Some(_), false) => {
            channel.tool(session, turn, call, ToolStatus::Denied);
            let why = match decision {
                Decision::TimedOut => {
                    "the approval request timed out: nobody answered in time, so the call was not made"
                }
                Decision::Cancelled => "the approval request was cancelled, so the call was not made",
                _ => "the user denied this tool call",
            };
            ("skipped", why.to_owned())
        }
        (Some(t), true) => {
            channel.tool(session, turn, call, ToolStatus::Running);
            let ran = tokio::select! {
                r = t.call(args.clone()) => r,
                () = cancel.cancelled() => return Err(TurnError::Cancelled),
            };
            let ran = match (ran, &ctx.hooks) {
                (Ok(text), Some(h)) => Ok(h.after_tool(session, &call.name, &args, text).await),
                (other, _) => other,
            };
            match ran {
                Ok(text) => {
                    channel.tool(session, turn, call, ToolStatus::Done);
                    ("ok", cap_result(text, ctx.limits.result_chars))
                }
                Err(error) => {
                    channel.tool(session, turn, call, ToolStatus::Failed);
                    ("error", cap_result(format!("the tool failed: {error}"), ctx.limits.result_chars))
                }
            }
        }
    };
    let ran_ms = if outcome == "skipped" { 0 } else { started.elapsed().as_millis() as u64 };
    let entry = AuditEntry {
        at: unix_now(),
        session: session.into(),
        channel: channel.name().into(),
        tool: call.name.clone(),
        args: call.arguments.clone(),
        decision: decision_name,
        waited_ms,
        ran_ms,
        outcome: outcome.into(),
        result: result.clone(),
    };
    ctx.store.record_audit(&entry)?;
    append_audit_log(&ctx.audit_log, &entry);
    if cancel.is_cancelled() {
        return Err(TurnError::Cancelled);
    }
    Ok((ToolRecord { name: call.name.clone(), args, decision, result: result.clone() }, result))
}

/// `logs/tool_executions.log` becomes `tool_executions.log.1` past this.
const AUDIT_LOG_CAP: u64 = 10 * 1024 * 1024;

/// One JSON line per execution in `logs/tool_executions.log` (0600).
pub(crate) fn append_audit_log(path: &std::path::Path, entry: &AuditEntry) {
    let line = match serde_json::to_string(entry) {
        Ok(line) => line + "\n",
        Err(e) => return tracing::warn!(error = %e, "cannot encode an audit entry"),
    };
    // Capped like every log (the `audit` table keeps the whole record).
    let written = crate::logfile::CappedLog::open(path, AUDIT_LOG_CAP).and_then(|mut log| log.append(line.as_bytes()));
    if let Err(e) = written {
        tracing::warn!(error = %e, path = %path.display(), "cannot append to the tool execution log");
    }
}

#[cfg(test)]
mod tests;
