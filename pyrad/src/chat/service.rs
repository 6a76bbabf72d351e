//! The chat service: one way to hold a conversation, whatever the channel (the
//! socket, a Matrix room, a Telegram chat, later a schedule). It owns the store,
//! the approval gate, memory, the tools and hooks from outside (the plugins', as
//! [`ToolSource`] and [`Hooks`]: chat does not know who gives them), the HTTP
//! client and the running turns; a channel adapter only turns its input into
//! [`Service::send`] and maps [`ChatError`] to its own way of saying it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use proto::security::{ScanPoint, ScanWarning};
use tokio_util::sync::CancellationToken;

use super::builtin;
use super::hooks::Hooks;
use super::tools::ToolSource;
use super::turn::{Channel, TurnContext, TurnError, TurnLimits, TurnOutcome, run_turn, wrap_untrusted};
use crate::approval::{Answer, ApprovalGate, ApprovalRequest, Decision, RespondError, Scope};
use crate::clock::unix_now;
use crate::config::{ChatSection, ProviderSection};
use crate::llm::client::Endpoint;
use crate::llm::presets::{self, ResolveError};
use crate::memory::Memory;
use crate::security::injection;
use crate::store::{AuditRecord, SessionRow, Store, StoreError, StoredMessage};
use crate::vault::Vault;

/// How long a turn waits for plugins that are still starting.
const PLUGINS_SETTLE: std::time::Duration = std::time::Duration::from_secs(10);

/// Why a chat request failed, for the adapter to say in its own terms.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("{0}")]
    NotConfigured(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Busy(String),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
    /// The turn itself failed; the session it ran in is named.
    #[error("{error}")]
    Turn { session: String, error: TurnError },
}

impl From<ResolveError> for ChatError {
    fn from(e: ResolveError) -> Self {
        ChatError::NotConfigured(e.to_string())
    }
}

/// What the service reads from config.
#[derive(Debug, Clone)]
pub struct Settings {
    pub provider: ProviderSection,
    pub chat: ChatSection,
    /// `logs/`, for `security.log`.
    pub logs: PathBuf,
}

pub struct Service {
    store: Store,
    gate: Arc<ApprovalGate>,
    memory: Memory,
    /// Tools beyond the built-in ones, and their servers' instructions.
    tools: Arc<dyn ToolSource>,
    /// What extends each turn at its hook points.
    hooks: Arc<dyn Hooks>,
    vault: Arc<Vault>,
    /// Swapped whole by `config.reload`; a running turn keeps what it started with.
    settings: RwLock<Arc<Settings>>,
    /// Shared HTTP client for the providers (connection pool, TLS config), built
    /// on the first turn: TLS set-up costs start-up time and idle memory.
    http: OnceLock<reqwest::Client>,
    /// Running turns by session, to cancel them and to refuse a second one.
    turns: Mutex<HashMap<String, CancellationToken>>,
}

/// Removes a session's entry from the running turns when its turn ends, however it ends.
struct Running<'a> {
    turns: &'a Mutex<HashMap<String, CancellationToken>>,
    session: String,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if let Ok(mut turns) = self.turns.lock() {
            turns.remove(&self.session);
        }
    }
}

impl Service {
    pub fn new(
        store: Store,
        gate: Arc<ApprovalGate>,
        memory: Memory,
        tools: Arc<dyn ToolSource>,
        hooks: Arc<dyn Hooks>,
        vault: Arc<Vault>,
        settings: Settings,
    ) -> Self {
        Self {
            store,
            gate,
            memory,
            tools,
            hooks,
            vault,
            settings: RwLock::new(Arc::new(settings)),
            http: OnceLock::new(),
            turns: Mutex::default(),
        }
    }

    /// The approval gate every turn asks.
    pub fn gate(&self) -> &ApprovalGate {
        &self.gate
    }

    /// The settings in force.
    pub fn settings(&self) -> Arc<Settings> {
        match self.settings.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Applies new settings from a reloaded config; the next turn uses them.
    pub fn set_settings(&self, settings: Settings) {
        match self.settings.write() {
            Ok(mut s) => *s = Arc::new(settings),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(settings),
        }
    }

    /// The provider HTTP client, built on first use (timeouts are the endpoint defaults).
    fn http(&self) -> Result<reqwest::Client, ChatError> {
        if let Some(client) = self.http.get() {
            return Ok(client.clone());
        }
        let defaults = Endpoint::new(presets::Wire::OpenAi, "");
        let client = crate::llm::client::http_client(&defaults).map_err(|e| ChatError::Internal(e.to_string()))?;
        Ok(self.http.get_or_init(|| client).clone())
    }

    /// The provider in force, as `daemon.status` shows it.
    pub fn provider(&self) -> Result<presets::Resolved, ResolveError> {
        let settings = self.settings();
        let p = &settings.provider;
        presets::resolve(&p.preset, &p.base_url, &p.model, p.context_tokens)
    }

    /// Builds what a turn needs from the config in force; `model` overrides the configured one.
    /// `plugins`: offer the plugins' tools (waiting briefly for those still starting).
    async fn context(&self, model: Option<&str>, plugins: bool) -> Result<(TurnContext, &'static str), ChatError> {
        let settings = self.settings();
        let mut provider = self.provider()?;
        if let Some(model) = model.map(str::trim).filter(|m| !m.is_empty()) {
            provider.model = model.to_owned();
        }
        if provider.model.is_empty() {
            return Err(ChatError::NotConfigured(format!(
                "no model: {} has no default, so set [provider] model in config.toml or run `pyractl setup`",
                provider.preset.name
            )));
        }
        let preset = provider.preset;
        let api_key = self.api_key(preset)?;
        let mut tools = builtin::registry(&self.memory);
        if plugins {
            // Right after a start the plugins are still starting: wait briefly for them.
            self.tools.settle(PLUGINS_SETTLE).await;
            self.tools.register_tools(&mut tools);
        }
        let (system_prompt, warnings) = self.system_prompt(&settings).await;
        let chat = &settings.chat;
        let ctx = TurnContext {
            store: self.store.clone(),
            gate: self.gate.clone(),
            http: self.http()?,
            endpoint: Endpoint::new(preset.wire, provider.base_url),
            api_key,
            price: settings.provider.price(preset, &provider.model),
            model: provider.model,
            system_prompt,
            tools,
            limits: TurnLimits {
                max_iterations: chat.max_tool_iterations.max(1),
                result_chars: chat.result_chars,
                context_tokens: provider.context_tokens,
                max_tokens: settings.provider.max_tokens,
            },
            hooks: Some(self.hooks.clone()),
            security_log: settings.logs.join("security.log"),
            warnings,
        };
        Ok((ctx, preset.id))
    }

    /// The preset's API key, decrypted now for this one use; keyless presets
    /// simply have none, a preset that needs one and has none is an error.
    fn api_key(&self, preset: &presets::Preset) -> Result<Option<String>, ChatError> {
        let key_name = format!("provider:{}:api_key", preset.id);
        let api_key = self
            .vault
            .get(&key_name)
            .map_err(|e| ChatError::Internal(e.to_string()))?
            .map(|secret| age::secrecy::ExposeSecret::expose_secret(&secret).trim().to_owned())
            .filter(|key| !key.is_empty());
        if api_key.is_none() && preset.needs_key {
            return Err(ChatError::NotConfigured(format!(
                "no API key for {}: run `pyractl setup` or `pyractl vault set {key_name}`",
                preset.name
            )));
        }
        Ok(api_key)
    }

    /// Base prompt, then what the user's memory says (within its budget; scanned,
    /// and fenced as untrusted data when flagged), then what each plugin's server
    /// asks the model to know.
    async fn system_prompt(&self, settings: &Settings) -> (String, Vec<ScanWarning>) {
        let chat = &settings.chat;
        let mut prompt = chat.system_prompt.clone();
        let mut warnings = Vec::new();
        // Each file is read once: what is scanned is what enters the prompt.
        let files: Vec<(&str, String)> =
            builtin::MEMORY_IN_PROMPT.iter().filter_map(|name| Some((*name, self.memory.read(name).ok()?))).collect();
        for (name, text) in &files {
            let verdict = injection::scan(text);
            if verdict.flagged {
                warnings.push(ScanWarning { point: ScanPoint::Memory, source: (*name).to_owned(), verdict });
            }
        }
        let memory = builtin::memory_context(&files, chat.memory_chars);
        if !memory.is_empty() {
            prompt.push_str("\n\n");
            match warnings.first() {
                Some(w) => prompt.push_str(&wrap_untrusted("the user's memory files", &w.verdict, &memory)),
                None => prompt.push_str(&memory),
            }
        }
        for (plugin, text) in self.tools.instructions().await {
            prompt.push_str(&format!("\n\n## Plugin {plugin}\n{text}"));
        }
        (prompt, warnings)
    }

    /// Runs one turn in `session` (a new one when `None`) with `channel` as its
    /// origin. A second turn in a session that has one running is refused.
    pub async fn send(
        &self,
        channel: &dyn Channel,
        session: Option<String>,
        text: &str,
        cancel: CancellationToken,
    ) -> Result<TurnOutcome, ChatError> {
        self.send_with_model(channel, session, text, None, cancel).await
    }

    /// [`Service::send`] with `model` instead of the configured one (the session records it).
    pub async fn send_with_model(
        &self,
        channel: &dyn Channel,
        session: Option<String>,
        text: &str,
        model: Option<&str>,
        cancel: CancellationToken,
    ) -> Result<TurnOutcome, ChatError> {
        let (ctx, preset) = self.context(model, true).await?;
        let session = match session {
            Some(id) => {
                let row = self.store.session(&id)?.ok_or_else(|| missing(&id))?;
                if (row.provider.as_str(), row.model.as_str()) != (preset, ctx.model.as_str()) {
                    self.store.set_session_model(&id, preset, &ctx.model)?;
                }
                id
            }
            None => self.store.create_session(preset, &ctx.model, channel.name(), unix_now())?,
        };
        let _running = {
            let mut turns = self.turns.lock().map_err(|e| ChatError::Internal(e.to_string()))?;
            if turns.contains_key(&session) {
                return Err(ChatError::Busy(format!("a turn is already running in session {session}")));
            }
            turns.insert(session.clone(), cancel.clone());
            Running { turns: &self.turns, session: session.clone() }
        };
        run_turn(&ctx, &session, text, channel, &cancel).await.map_err(|error| ChatError::Turn { session, error })
    }

    /// Cancels the running turn of `session`; whether one was running.
    pub fn cancel(&self, session: &str) -> bool {
        let token = self.turns.lock().ok().and_then(|t| t.get(session).cloned());
        if let Some(token) = &token {
            token.cancel();
        }
        token.is_some()
    }

    /// The approval requests `origin` may answer now.
    pub fn pending(&self, origin: &str) -> Vec<ApprovalRequest> {
        self.gate.pending(origin)
    }

    pub fn respond(
        &self,
        origin: &str,
        id: &str,
        args_sha256: &str,
        answer: Answer,
        scope: Scope,
    ) -> Result<(), RespondError> {
        self.gate.respond(origin, id, args_sha256, answer, scope)
    }

    /// `origin` went away: its pending approvals are denied as cancelled.
    pub fn origin_gone(&self, origin: &str) -> usize {
        self.gate.cancel_origin(origin)
    }

    pub fn sessions(&self, limit: u32) -> Result<Vec<SessionRow>, ChatError> {
        Ok(self.store.sessions(limit)?)
    }

    /// The session `id` names: the whole id, or a prefix only one session's id has.
    pub fn resolve(&self, id: &str) -> Result<String, ChatError> {
        let mut found = self.store.sessions_starting(id, 6)?;
        match found.len() {
            0 => Err(missing(id)),
            1 => Ok(found.remove(0)),
            _ => Err(ChatError::NotFound(format!(
                "{id:?} starts more than one session id ({}{}); give more of it",
                found[..found.len().min(5)].join(", "),
                if found.len() > 5 { ", ..." } else { "" }
            ))),
        }
    }

    /// A session and its messages; `id` may be a unique prefix.
    pub fn session(&self, id: &str) -> Result<(SessionRow, Vec<StoredMessage>), ChatError> {
        let id = self.resolve(id)?;
        let row = self.store.session(&id)?.ok_or_else(|| missing(&id))?;
        Ok((row, self.store.messages(&id)?))
    }

    /// Takes the last turn out of `session` (kept in the store, marked undone);
    /// refused while a turn runs in it.
    pub fn undo(&self, session: &str) -> Result<(u32, String, u32), ChatError> {
        let id = self.resolve(session)?;
        if self.turns.lock().map_err(|e| ChatError::Internal(e.to_string()))?.contains_key(&id) {
            return Err(ChatError::Busy(format!("session {id} has a turn running; cancel it first")));
        }
        self.store.undo_last_turn(&id)?.ok_or_else(|| ChatError::NotFound(format!("session {id} has no turn to undo")))
    }

    /// The models the provider offers, from its `/models`, sorted.
    pub async fn models(&self) -> Result<(String, String, Vec<String>), ChatError> {
        let provider = self.provider()?;
        let api_key = self.api_key(provider.preset)?;
        let endpoint = Endpoint::new(provider.preset.wire, provider.base_url.clone());
        let mut models = crate::llm::client::list_models(&self.http()?, &endpoint, api_key.as_deref())
            .await
            .map_err(|e| ChatError::Internal(e.to_string()))?;
        models.sort();
        Ok((provider.preset.id.to_owned(), provider.model, models))
    }

    /// Deletes a session with its messages and grants; refused while its turn runs.
    /// `id` must be whole: a prefix deletes nothing.
    pub fn delete(&self, id: &str) -> Result<bool, ChatError> {
        if self.turns.lock().map_err(|e| ChatError::Internal(e.to_string()))?.contains_key(id) {
            return Err(ChatError::Busy(format!("session {id} has a turn running; cancel it first")));
        }
        Ok(self.store.delete_session(id)?)
    }

    pub fn audit(&self, limit: u32) -> Result<Vec<AuditRecord>, ChatError> {
        Ok(self.store.audit(limit)?)
    }

    /// One answer from the provider to `text` alone: no tools, no memory, no
    /// history, the given system prompt, at most `max_tokens`. `doctor` uses it
    /// (one token) to check the provider and its key; `security audit --ai` to
    /// summarise findings it is given.
    pub async fn complete(&self, system: &str, text: &str, max_tokens: u32) -> Result<(String, String), ChatError> {
        let (ctx, _) = self.context(None, false).await?;
        let request = crate::llm::ChatRequest {
            model: ctx.model.clone(),
            system: system.to_owned(),
            messages: vec![crate::llm::Message::user(text)],
            tools: Vec::new(),
            max_tokens,
        };
        let mut endpoint = ctx.endpoint.clone();
        endpoint.max_attempts = 1;
        match crate::llm::client::stream(&ctx.http, &endpoint, ctx.api_key.as_deref(), &request, |_| {}).await {
            Ok(answer) => Ok((ctx.model, answer.text)),
            Err((e, _)) => Err(ChatError::Internal(e.to_string())),
        }
    }

    /// The user runs a plugin tool directly: no approval (the user is acting), audited `by_user`.
    pub async fn call_plugin(
        &self,
        channel: &str,
        tool: &str,
        args: serde_json::Value,
    ) -> Result<(String, bool), ChatError> {
        let started = std::time::Instant::now();
        let outcome = self.tools.call_direct(tool, args.clone()).await;
        let (text, status) = match &outcome {
            Ok((text, false)) => (text.clone(), "ok"),
            Ok((text, true)) => (text.clone(), "error"),
            Err(e) => (e.to_string(), "error"),
        };
        self.gate.audit(&AuditRecord {
            at: unix_now(),
            session: String::new(),
            channel: channel.into(),
            tool: tool.into(),
            args: args.to_string(),
            decision: Decision::ByUser.as_str().into(),
            waited_ms: 0,
            ran_ms: started.elapsed().as_millis() as u64,
            outcome: status.into(),
            result: text.chars().take(self.settings().chat.result_chars).collect(),
            scan: None,
        })?;
        outcome.map_err(|e| ChatError::NotFound(e.to_string()))
    }
}

fn missing(id: &str) -> ChatError {
    ChatError::NotFound(format!("no session {id:?}"))
}
