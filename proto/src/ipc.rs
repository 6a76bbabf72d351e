//! The `pyractl` <-> `pyrad` methods and events: each method is a type with its
//! name, params and result, so client and daemon cannot disagree on a shape.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::rpc::ErrorObject;
use crate::security::{ScanVerdict, ScanWarning};
use crate::version::Feature;

/// A method: its wire name and the types of its params and result.
pub trait Method {
    const NAME: &'static str;
    type Params: Serialize + DeserializeOwned;
    type Result: Serialize + DeserializeOwned;
}

/// `hello`: the first request on every connection.
pub enum Hello {}
impl Method for Hello {
    const NAME: &'static str = "hello";
    type Params = HelloParams;
    type Result = HelloResult;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelloParams {
    /// Must be [`crate::PROTOCOL_NAME`].
    pub protocol: String,
    /// Must equal the daemon's [`crate::PROTOCOL_VERSION`].
    pub version: u32,
    /// Who is calling, for the log: for example `pyractl/0.1.0`.
    pub client: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HelloResult {
    pub protocol: String,
    pub version: u32,
    /// The daemon's name and version: `pyrad/0.1.0`.
    pub daemon: String,
    pub pid: u32,
    pub features: Vec<Feature>,
}

/// `daemon.status`: what the daemon is and how it is doing.
pub enum DaemonStatus {}
impl Method for DaemonStatus {
    const NAME: &'static str = "daemon.status";
    type Params = Empty;
    type Result = StatusResult;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusResult {
    /// `pyrad`'s crate version.
    pub version: String,
    pub protocol_version: u32,
    pub pid: u32,
    /// Seconds since the daemon started, with millisecond precision.
    pub uptime_secs: f64,
    /// Unix time (seconds) the daemon started.
    pub started_at: u64,
    /// The `PYRA_HOME` in use.
    pub home: String,
    /// The control socket's path.
    pub socket: String,
    /// Open client connections, this one included.
    pub connections: u32,
    /// The active log filter.
    pub log_level: String,
    pub database: DatabaseStatus,
    /// The chat provider; `null` until one is configured.
    #[serde(default)]
    pub provider: Option<Value>,
    /// Chat sessions; `null` while the daemon has no chat component.
    #[serde(default)]
    pub sessions: Option<Value>,
    /// Plugins by state; `null` while the daemon has no plugin host.
    #[serde(default)]
    pub plugins: Option<PluginCounts>,
    /// Each bot by name (`telegram`, `matrix`): `{state, reason?, username?}` with state
    /// `starting`, `connected`, `error` or `disabled`.
    #[serde(default)]
    pub bots: Option<std::collections::BTreeMap<String, BotStatus>>,
}

/// `daemon.status`'s plugin figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginCounts {
    pub total: u32,
    pub active: u32,
    pub failed: u32,
    /// Folders whose manifest could not be used.
    pub invalid: u32,
    /// Installed without a trusted publisher's signature.
    #[serde(default)]
    pub unverified: u32,
    /// Files changed since the user accepted them: not started.
    #[serde(default)]
    pub modified: u32,
    /// Running without the Landlock sandbox (lowered by the user, or off).
    #[serde(default)]
    pub unsandboxed: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseStatus {
    pub path: String,
    /// The migration the database is at.
    pub schema_version: u32,
    /// Whether the run before this one stopped cleanly (`null` on the first run).
    pub previous_run_clean: Option<bool>,
}

/// `daemon.shutdown`: stop gracefully. Answered before the daemon stops.
pub enum DaemonShutdown {}
impl Method for DaemonShutdown {
    const NAME: &'static str = "daemon.shutdown";
    type Params = Empty;
    type Result = ShutdownResult;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShutdownResult {
    /// The pid that is stopping, so a caller can wait for it to exit.
    pub pid: u32,
}

/// Params of a method that takes none: `{}`, `[]` or absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Empty;

impl Serialize for Empty {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        s.serialize_map(Some(0))?.end()
    }
}

impl<'de> Deserialize<'de> for Empty {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(Empty),
            Value::Object(m) if m.is_empty() => Ok(Empty),
            Value::Array(a) if a.is_empty() => Ok(Empty),
            other => Err(serde::de::Error::custom(format!("expected no params, got {other}"))),
        }
    }
}

/// Event `daemon.stopping`: the daemon is shutting down; sent to every open connection.
pub enum DaemonStopping {}
impl Event for DaemonStopping {
    const NAME: &'static str = "daemon.stopping";
    type Params = StoppingParams;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoppingParams {
    /// `signal`, `request` or `damaged` (the database, found just after the start).
    pub reason: String,
}

/// A daemon-to-client notification: its name and the type of its params.
pub trait Event {
    const NAME: &'static str;
    type Params: Serialize + DeserializeOwned;
}

/// `chat.send`: one turn. Streams `chat.delta`, `chat.tool` and `approval.request`
/// events to this connection; answers when the turn ends.
pub enum ChatSend {}
impl Method for ChatSend {
    const NAME: &'static str = "chat.send";
    type Params = ChatSendParams;
    type Result = ChatSendResult;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatSendParams {
    /// The session to continue; absent starts a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    pub text: String,
    /// `false` when nobody is there to answer approvals (a script, a pipe): pyrad
    /// then decides them by `[approval] unattended_allow`. Absent means attended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attended: Option<bool>,
    /// Use this model for the turn instead of `[provider] model` (the session then
    /// records it). Absent: the configured one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatSendResult {
    pub session: String,
    pub turn: u32,
    /// The assistant's whole answer for this turn.
    pub text: String,
    pub usage: TokenUsage,
    /// Tool calls made in this turn, in order.
    pub tools: Vec<ToolUse>,
    /// What the injection scanner flagged in this turn.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<ScanWarning>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// What these tokens cost in US dollars, when the model's price is known
    /// (`[provider] prices`, or the preset's list prices).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolUse {
    pub name: String,
    pub args: Value,
    pub decision: Decision,
    pub result: String,
}

/// How a tool call was decided; the same words are in the audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The person said yes.
    Approved,
    /// The person said no, or there is no such tool.
    Denied,
    /// Nobody answered in time.
    TimedOut,
    /// Approved earlier for the rest of the session.
    AutoByGrant,
    /// The turn was cancelled or its origin went away.
    Cancelled,
    /// The tool never asks (read-only built-ins, granted plugin exemptions).
    NotRequired,
    /// A plugin's `pre_tool_execute` hook answered; nothing ran.
    AnsweredByHook,
    /// The user ran the tool directly (`plugins.call`).
    ByUser,
    /// Nobody could be asked; `[approval] unattended_allow` lists the tool.
    UnattendedAllowed,
    /// Nobody could be asked, and the tool is not listed (or the turn is tainted).
    UnattendedDenied,
    #[serde(other)]
    Unknown,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approved => "approved",
            Decision::Denied => "denied",
            Decision::TimedOut => "timed_out",
            Decision::AutoByGrant => "auto_by_grant",
            Decision::Cancelled => "cancelled",
            Decision::NotRequired => "not_required",
            Decision::AnsweredByHook => "answered_by_hook",
            Decision::ByUser => "by_user",
            Decision::UnattendedAllowed => "unattended_allowed",
            Decision::UnattendedDenied => "unattended_denied",
            Decision::Unknown => "unknown",
        }
    }

    /// Whether the call runs.
    pub fn allows(self) -> bool {
        matches!(
            self,
            Decision::Approved
                | Decision::AutoByGrant
                | Decision::NotRequired
                | Decision::ByUser
                | Decision::UnattendedAllowed
        )
    }
}

/// A person's answer to an approval request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Approve,
    Deny,
}

/// How far an approval reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// This call only.
    #[default]
    Once,
    /// This tool for the rest of the session (kept across restarts).
    Session,
}

/// Where a tool call stands, as the channel is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolStatus {
    AwaitingApproval,
    Running,
    Done,
    Failed,
    Denied,
    #[serde(other)]
    Unknown,
}

/// `chat.cancel`: stop the running turn of a session.
pub enum ChatCancel {}
impl Method for ChatCancel {
    const NAME: &'static str = "chat.cancel";
    type Params = SessionParams;
    type Result = CancelResult;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionParams {
    pub session: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelResult {
    /// Whether a turn was running.
    pub cancelled: bool,
}

/// `approval.respond`: answer an `approval.request`.
pub enum ApprovalRespond {}
impl Method for ApprovalRespond {
    const NAME: &'static str = "approval.respond";
    type Params = ApprovalRespondParams;
    type Result = Empty;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRespondParams {
    pub id: String,
    pub decision: Answer,
    /// The `args_sha256` of the request the person was shown: an answer binds to
    /// exactly those arguments, and a mismatch is refused (-32009).
    pub args_sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
}

/// `approval.pending`: the requests this connection may answer, oldest first.
pub enum ApprovalPending {}
impl Method for ApprovalPending {
    const NAME: &'static str = "approval.pending";
    type Params = Empty;
    type Result = Vec<ApprovalRequestParams>;
}

/// `security.scan`: the injection scanner's verdict on each text, in order.
pub enum SecurityScan {}
impl Method for SecurityScan {
    const NAME: &'static str = "security.scan";
    type Params = ScanParams;
    type Result = ScanResult;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanParams {
    /// At most 1,000 texts; the request line itself is limited to 1 MiB.
    pub texts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanResult {
    pub verdicts: Vec<ScanVerdict>,
    /// Time pyrad spent scanning, in microseconds (not counting the socket).
    pub elapsed_us: u64,
}

/// `sessions.list`: sessions, most recently used first.
pub enum SessionsList {}
impl Method for SessionsList {
    const NAME: &'static str = "sessions.list";
    type Params = ListParams;
    type Result = Vec<SessionInfo>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// At most this many (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: String,
    pub title: String,
    pub provider: String,
    pub model: String,
    pub channel: String,
    pub created_at: u64,
    pub updated_at: u64,
    pub messages: u64,
    pub usage: TokenUsage,
}

/// `sessions.get`: a session with its messages.
pub enum SessionsGet {}
impl Method for SessionsGet {
    const NAME: &'static str = "sessions.get";
    type Params = SessionParams;
    type Result = SessionDetail;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionDetail {
    pub session: SessionInfo,
    pub messages: Vec<SessionMessage>,
}

/// Who said a message of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    /// The result of a tool call, answering `tool_call_id`.
    Tool,
    /// A role this side does not know (a newer peer's).
    #[serde(other)]
    Unknown,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
            Role::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionMessage {
    pub turn: u32,
    pub role: Role,
    pub content: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// The stream broke before this answer finished.
    #[serde(default)]
    pub partial: bool,
    pub created_at: u64,
}

/// `sessions.undo`: take the last turn out of the conversation (the model no
/// longer sees it); the store keeps it, marked undone.
pub enum SessionsUndo {}
impl Method for SessionsUndo {
    const NAME: &'static str = "sessions.undo";
    type Params = SessionParams;
    type Result = UndoResult;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UndoResult {
    /// The turn taken out.
    pub turn: u32,
    /// What the user said in it (for `/retry` to ask again).
    pub text: String,
    /// Messages marked undone (the question, tool calls, the answer).
    pub messages: u32,
}

/// `provider.models`: the models the configured provider offers (its `/models`).
pub enum ProviderModels {}
impl Method for ProviderModels {
    const NAME: &'static str = "provider.models";
    type Params = Empty;
    type Result = ModelsResult;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelsResult {
    /// The preset in force.
    pub preset: String,
    /// The model `chat.send` uses without `model`.
    pub current: String,
    /// Model ids, sorted.
    pub models: Vec<String>,
}

/// `provider.check`: one cheap call (one token, no tools, no history) to the
/// configured provider, to tell a working set-up from a broken one.
pub enum ProviderCheck {}
impl Method for ProviderCheck {
    const NAME: &'static str = "provider.check";
    type Params = Empty;
    type Result = CheckResult;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub preset: String,
    pub model: String,
    pub base_url: String,
    /// How long the call took, in milliseconds.
    pub ms: u64,
}

/// `config.reload`: read `config.toml` again and apply what can change live.
pub enum ConfigReload {}
impl Method for ConfigReload {
    const NAME: &'static str = "config.reload";
    type Params = Empty;
    type Result = ReloadResult;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReloadResult {
    /// Sections that changed and now apply (`provider`, `chat`, `approval`, `plugins`, `bots`, `log`).
    pub applied: Vec<String>,
    /// Settings that changed but apply only after a restart, with why.
    pub need_restart: Vec<String>,
}

/// `sessions.delete`.
pub enum SessionsDelete {}
impl Method for SessionsDelete {
    const NAME: &'static str = "sessions.delete";
    type Params = SessionParams;
    type Result = DeleteResult;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeleteResult {
    pub deleted: bool,
}

/// `audit.list`: tool executions, newest first.
pub enum AuditList {}
impl Method for AuditList {
    const NAME: &'static str = "audit.list";
    type Params = ListParams;
    type Result = Vec<AuditRecord>;
}

/// One tool execution (or a flagged text) in the audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Unix seconds.
    pub at: u64,
    pub session: String,
    /// `ipc`, `matrix:<room>`, `telegram:<chat>`.
    pub channel: String,
    /// The tool, or `inbound` / `memory:<file>` for a flagged text that was no tool call.
    pub tool: String,
    /// The arguments as JSON text.
    pub args: String,
    /// A [`Decision`]'s word, or `flagged` for a flagged text.
    pub decision: String,
    pub waited_ms: u64,
    pub ran_ms: u64,
    /// `ok`, `error`, `skipped` or `warned`.
    pub outcome: String,
    pub result: String,
    /// The scanner's verdict, when it flagged the arguments or the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan: Option<ScanVerdict>,
}

/// Event `chat.delta`: a piece of the answer.
pub enum ChatDelta {}
impl Event for ChatDelta {
    const NAME: &'static str = "chat.delta";
    type Params = DeltaParams;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeltaParams {
    pub session: String,
    pub turn: u32,
    pub text: String,
}

/// Event `chat.tool`: a tool call changed state.
pub enum ChatTool {}
impl Event for ChatTool {
    const NAME: &'static str = "chat.tool";
    type Params = ToolEventParams;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolEventParams {
    pub session: String,
    pub turn: u32,
    pub call_id: String,
    pub name: String,
    pub args: Value,
    pub status: ToolStatus,
    /// The scanner's verdict on the result (with `done`/`failed`) or the arguments, when flagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<ScanVerdict>,
    /// How the call was decided (with `running` and `denied`): asked and approved,
    /// a session grant, no approval needed, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// How long the tool ran, in milliseconds (with `done` and `failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ran_ms: Option<u64>,
    /// The start of the result's text (with `done` and `failed`), at most 2,000
    /// characters, for the channel to show folded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
}

/// Event `approval.decided`: an approval request this connection was shown is
/// settled (answered here or elsewhere, timed out, cancelled), so its prompt goes.
pub enum ApprovalDecided {}
impl Event for ApprovalDecided {
    const NAME: &'static str = "approval.decided";
    type Params = DecidedParams;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecidedParams {
    pub id: String,
    pub decision: Decision,
}

/// Event `chat.warning`: the scanner flagged a text of this turn.
pub enum ChatWarning {}
impl Event for ChatWarning {
    const NAME: &'static str = "chat.warning";
    type Params = WarningParams;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarningParams {
    pub session: String,
    pub turn: u32,
    #[serde(flatten)]
    pub warning: ScanWarning,
}

/// Event `approval.request`: a tool call waits for this connection's yes or no.
pub enum ApprovalRequested {}
impl Event for ApprovalRequested {
    const NAME: &'static str = "approval.request";
    type Params = ApprovalRequestParams;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRequestParams {
    pub id: String,
    pub session: String,
    pub tool: String,
    pub args: Value,
    pub args_sha256: String,
    /// Unix seconds; no answer by then is a denial.
    pub expires_at: u64,
    /// Why this call asks although a grant or exemption would have let it through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What the scanner flagged in this turn so far, for the person to weigh.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<ScanWarning>,
}

/// `memory.list`: the memory files.
pub enum MemoryList {}
impl Method for MemoryList {
    const NAME: &'static str = "memory.list";
    type Params = Empty;
    type Result = Vec<MemoryEntry>;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryEntry {
    pub name: String,
    pub bytes: u64,
}

/// `memory.read`.
pub enum MemoryRead {}
impl Method for MemoryRead {
    const NAME: &'static str = "memory.read";
    type Params = MemoryName;
    type Result = MemoryFile;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryName {
    /// Relative, ending in `.md`: `user/profile.md`.
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryFile {
    pub name: String,
    pub content: String,
}

/// `memory.write`: replace a file (the old content stays as a version).
pub enum MemoryWrite {}
impl Method for MemoryWrite {
    const NAME: &'static str = "memory.write";
    type Params = MemoryFile;
    type Result = MemoryVersion;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryVersion {
    pub version: u32,
}

/// `memory.append`: add a line.
pub enum MemoryAppend {}
impl Method for MemoryAppend {
    const NAME: &'static str = "memory.append";
    type Params = MemoryAppendParams;
    type Result = MemoryVersion;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryAppendParams {
    pub name: String,
    pub text: String,
}

/// `memory.log`: a file's versions, newest first.
pub enum MemoryLog {}
impl Method for MemoryLog {
    const NAME: &'static str = "memory.log";
    type Params = MemoryName;
    type Result = Vec<MemoryLogEntry>;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryLogEntry {
    pub version: u32,
    pub at: u64,
    /// `user`, `tool`, `restore` or `found on disk` (a hand edit kept before an overwrite).
    pub source: String,
    pub bytes: u64,
}

/// `memory.restore`: write an old version back (itself a new version).
pub enum MemoryRestore {}
impl Method for MemoryRestore {
    const NAME: &'static str = "memory.restore";
    type Params = MemoryRestoreParams;
    type Result = MemoryVersion;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryRestoreParams {
    pub name: String,
    pub version: u32,
}

/// `vault.set`: store a secret. The value travels to the daemon only; nothing
/// ever sends a value back.
pub enum VaultSet {}
impl Method for VaultSet {
    const NAME: &'static str = "vault.set";
    type Params = VaultSetParams;
    type Result = Empty;
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultSetParams {
    /// `provider:<preset>:api_key`, `plugin:<name>:<key>`, ...
    pub key: String,
    pub value: String,
}

impl std::fmt::Debug for VaultSetParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultSetParams").field("key", &self.key).field("value", &"[redacted]").finish()
    }
}

/// `bots.status`: each bot's state by name.
pub enum BotsStatus {}
impl Method for BotsStatus {
    const NAME: &'static str = "bots.status";
    type Params = Empty;
    type Result = std::collections::BTreeMap<String, BotStatus>;
}

/// `bots.reload`: read `[bots]` from config.toml and the bots' secrets from the
/// vault again, and restart the bots (a running turn finishes first in its chat).
pub enum BotsReload {}
impl Method for BotsReload {
    const NAME: &'static str = "bots.reload";
    type Params = Empty;
    type Result = std::collections::BTreeMap<String, BotStatus>;
}

/// `bots.passphrase`: set the passphrase the bots ask for (kept as a bcrypt hash,
/// cost 12, in the vault); the bots are restarted with it.
pub enum BotsPassphrase {}
impl Method for BotsPassphrase {
    const NAME: &'static str = "bots.passphrase";
    type Params = PassphraseParams;
    type Result = std::collections::BTreeMap<String, BotStatus>;
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PassphraseParams {
    pub passphrase: String,
}

impl std::fmt::Debug for PassphraseParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassphraseParams").field("passphrase", &"[redacted]").finish()
    }
}

/// One bot's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotStatus {
    /// `starting`, `connected`, `error`, `disabled`.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// `vault.list`: the names of the stored secrets, never their values.
pub enum VaultList {}
impl Method for VaultList {
    const NAME: &'static str = "vault.list";
    type Params = Empty;
    type Result = Vec<String>;
}

/// `vault.delete`.
pub enum VaultDelete {}
impl Method for VaultDelete {
    const NAME: &'static str = "vault.delete";
    type Params = VaultKey;
    type Result = DeleteResult;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultKey {
    pub key: String,
}

/// `plugins.list`: every plugin with its state, tools and figures.
pub enum PluginsList {}
impl Method for PluginsList {
    const NAME: &'static str = "plugins.list";
    type Params = Empty;
    type Result = PluginsListResult;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginsListResult {
    /// In start order (dependencies, priority, name), then the ones left out.
    pub plugins: Vec<PluginInfo>,
    /// Folders whose manifest could not be used: folder → why.
    pub invalid: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    /// `discovered`, `starting`, `active`, `failed`, `disabled`, `skipped`, `stopping`.
    pub state: String,
    /// Why it failed or was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub pid: Option<u32>,
    /// Resident memory of its process, in MiB, while active.
    #[serde(default)]
    pub rss_mib: Option<f64>,
    /// Its tools as the model sees them: `plugin__tool`.
    pub tools: Vec<String>,
    pub calls: u64,
    pub errors: u64,
    pub p50_ms: Option<f64>,
    pub restarts: u64,
    /// What the server says it is: `name version (MCP revision)`; empty until started.
    #[serde(default)]
    pub server: String,
    /// Lines it wrote that were not JSON-RPC.
    #[serde(default)]
    pub garbage_lines: u32,
    /// Milliseconds from spawning the process to its tool list (the last start).
    #[serde(default)]
    pub start_ms: Option<f64>,
    /// Tools it declares read-only, and those the user granted to run without asking.
    #[serde(default)]
    pub exempt_declared: Vec<String>,
    #[serde(default)]
    pub exempt_granted: Vec<String>,
    /// Where `plugins.install` took it from, and the SHA-256 the user confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Who vouches for its files: `verified` (a trusted publisher signed them),
    /// `bundled` (ships with Pyra), `unverified` (only the user), `modified`
    /// (changed since accepted: not started), `dev` (a development folder).
    #[serde(default)]
    pub trust: String,
    /// The trusted publisher, when `verified`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// `landlock`, `none` (the user lowered it) or `off` (`[plugins] sandbox = false`).
    #[serde(default)]
    pub sandbox: String,
    /// `hard` (a cgroup cap the kernel enforces) or `sampled` (checked every 2 s).
    #[serde(default)]
    pub memory_cap: String,
}

/// `plugins.call`: the user runs a plugin tool directly (no model involved, so no
/// approval: the user is the one acting). Audited as `by_user`.
pub enum PluginsCall {}
impl Method for PluginsCall {
    const NAME: &'static str = "plugins.call";
    type Params = PluginCallParams;
    type Result = PluginCallResult;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginCallParams {
    /// `plugin__tool`.
    pub tool: String,
    #[serde(default)]
    pub args: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginCallResult {
    pub text: String,
    /// The server flagged the result as an error.
    pub is_error: bool,
}

/// `plugins.enable` / `plugins.disable`: remembered across restarts; plugins reload.
pub enum PluginsEnable {}
impl Method for PluginsEnable {
    const NAME: &'static str = "plugins.enable";
    type Params = PluginName;
    type Result = Empty;
}

pub enum PluginsDisable {}
impl Method for PluginsDisable {
    const NAME: &'static str = "plugins.disable";
    type Params = PluginName;
    type Result = Empty;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginName {
    pub name: String,
}

/// `plugins.reload`: stop every plugin and start what the folders hold now.
pub enum PluginsReload {}
impl Method for PluginsReload {
    const NAME: &'static str = "plugins.reload";
    type Params = Empty;
    type Result = Empty;
}

/// `plugins.inspect`: unpack and check a plugin without installing it, so the
/// user can see what it asks for.
pub enum PluginsInspect {}
impl Method for PluginsInspect {
    const NAME: &'static str = "plugins.inspect";
    type Params = PluginSource;
    type Result = PluginInspection;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginSource {
    /// An absolute path: a folder, a `.tar.gz` or a `.zip`.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginInspection {
    pub name: String,
    pub version: String,
    pub description: String,
    pub command: String,
    pub args: Vec<String>,
    /// What it may touch: `read`, `write`, `network`, `env`, `vault`.
    pub permissions: Value,
    pub hooks: Vec<String>,
    pub sha256: String,
    /// A plugin of that name is already installed (so this is an update).
    pub installed: bool,
    /// `verified`, `bundled` or `unverified`; a bad signature is an error instead.
    #[serde(default)]
    pub trust: String,
    /// What the signature says, in words.
    #[serde(default)]
    pub signature: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// How many files it holds.
    #[serde(default)]
    pub files: u32,
}

/// `plugins.install`: install what `plugins.inspect` showed; `sha256` must match.
pub enum PluginsInstall {}
impl Method for PluginsInstall {
    const NAME: &'static str = "plugins.install";
    type Params = PluginInstallParams;
    type Result = PluginName;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginInstallParams {
    pub source: String,
    /// The hash the user confirmed: a source that changed since is refused.
    pub sha256: String,
    /// Replace an installed plugin of the same name.
    #[serde(default)]
    pub update: bool,
    /// Install it though no trusted publisher signed it.
    #[serde(default)]
    pub allow_unsigned: bool,
}

/// `daemon.doctor`: what pyrad finds unsafe or broken in the install, each
/// finding with its fix. `pyractl doctor` adds what only the client can see.
pub enum DaemonDoctor {}
impl Method for DaemonDoctor {
    const NAME: &'static str = "daemon.doctor";
    type Params = Empty;
    type Result = DoctorReport;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorReport {
    pub findings: Vec<Finding>,
    /// What was checked, in words, so a clean report says what it covered.
    pub checked: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// A stable name for the check: `modes`, `plaintext-secret`, `plugin-unverified`, ...
    pub check: String,
    /// `high`, `medium` or `low`.
    pub severity: String,
    /// What is wrong, and where.
    pub what: String,
    /// What to do about it.
    pub fix: String,
}

/// `security.audit`: writes `security_audit.md` (0600) in the home: the doctor's
/// findings, the security log's suspicious entries, the audit table's denied,
/// timed-out and flagged calls and those run under grants, plugins with broad
/// grants, and memory files the scanner flags. With `ai`, a model summarises
/// only those findings (no tools, memory or history); the summary is appended, marked.
pub enum SecurityAudit {}
impl Method for SecurityAudit {
    const NAME: &'static str = "security.audit";
    type Params = AuditParams;
    type Result = AuditReport;
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    #[serde(default)]
    pub ai: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    /// Where the report was written.
    pub path: String,
    /// Findings in it, in all.
    pub findings: u32,
    /// Whether a model's summary was appended (with `ai`).
    pub summarized: bool,
}

/// `plugins.changes`: how an installed plugin's files differ from those the
/// user accepted (what `plugin trust` shows before asking).
pub enum PluginsChanges {}
impl Method for PluginsChanges {
    const NAME: &'static str = "plugins.changes";
    type Params = PluginName;
    type Result = PluginChanges;
}

/// `plugins.trust`: accept an installed plugin's files as they are now, if they
/// still have `digest` (what the user was shown); a `modified` plugin then starts.
pub enum PluginsTrust {}
impl Method for PluginsTrust {
    const NAME: &'static str = "plugins.trust";
    type Params = PluginTrustParams;
    type Result = PluginChanges;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginTrustParams {
    pub name: String,
    pub digest: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginChanges {
    pub name: String,
    /// Each file added, removed or changed, by path.
    pub changes: Vec<FileChange>,
    /// The SHA-256 of the file list now: what `plugins.trust` is given back.
    pub digest: String,
    /// The publisher who signed the files as accepted, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    pub path: String,
    /// `added`, `removed` or `changed`.
    pub change: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub was: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now: Option<String>,
}

/// `plugins.uninstall`: stop it and remove its folder (its data folder stays).
pub enum PluginsUninstall {}
impl Method for PluginsUninstall {
    const NAME: &'static str = "plugins.uninstall";
    type Params = PluginName;
    type Result = Empty;
}

/// `plugins.grant` / `plugins.revoke`: let the tools a plugin declares read-only
/// (`[approval] exempt`) run without asking, or ask again. Result: the exempt tools now.
pub enum PluginsGrant {}
impl Method for PluginsGrant {
    const NAME: &'static str = "plugins.grant";
    type Params = PluginName;
    type Result = Vec<String>;
}

pub enum PluginsRevoke {}
impl Method for PluginsRevoke {
    const NAME: &'static str = "plugins.revoke";
    type Params = PluginName;
    type Result = Vec<String>;
}

/// `plugins.prompts`: every active plugin's MCP prompts, which chat offers as
/// slash commands `/<plugin>:<prompt>`.
pub enum PluginsPrompts {}
impl Method for PluginsPrompts {
    const NAME: &'static str = "plugins.prompts";
    type Params = Empty;
    type Result = Vec<PromptInfo>;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptInfo {
    pub plugin: String,
    pub name: String,
    pub description: String,
    /// `(name, required)`.
    pub arguments: Vec<(String, bool)>,
}

/// `plugins.prompt`: a prompt's text, with its arguments filled in.
pub enum PluginsPrompt {}
impl Method for PluginsPrompt {
    const NAME: &'static str = "plugins.prompt";
    type Params = PromptParams;
    type Result = TextResult;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptParams {
    pub plugin: String,
    pub name: String,
    #[serde(default)]
    pub arguments: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextResult {
    pub text: String,
}

/// `plugins.resources`: every active plugin's MCP resources, which a user can attach.
pub enum PluginsResources {}
impl Method for PluginsResources {
    const NAME: &'static str = "plugins.resources";
    type Params = Empty;
    type Result = Vec<ResourceInfo>;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceInfo {
    pub plugin: String,
    pub uri: String,
    pub name: String,
    pub description: String,
}

/// `plugins.resource`: a resource's text.
pub enum PluginsResource {}
impl Method for PluginsResource {
    const NAME: &'static str = "plugins.resource";
    type Params = ResourceParams;
    type Result = TextResult;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceParams {
    pub plugin: String,
    pub uri: String,
}

/// `plugins.setup_info`: the settings a plugin declares in its `config_schema`.
pub enum PluginsSetupInfo {}
impl Method for PluginsSetupInfo {
    const NAME: &'static str = "plugins.setup_info";
    type Params = PluginName;
    type Result = Vec<SetupField>;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupField {
    pub key: String,
    /// The JSON Schema type: `string`, `integer`, `number`, `boolean`.
    pub kind: String,
    pub description: String,
    pub required: bool,
    /// `format: password` or `x-secret: true`: stored in the vault as `plugin:<name>:<key>`.
    pub secret: bool,
}

/// `plugins.configure`: store a plugin's settings (checked against its schema)
/// and secrets (into the vault), then reload it.
pub enum PluginsConfigure {}
impl Method for PluginsConfigure {
    const NAME: &'static str = "plugins.configure";
    type Params = ConfigureParams;
    type Result = Empty;
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigureParams {
    pub name: String,
    #[serde(default)]
    pub values: serde_json::Map<String, Value>,
    #[serde(default)]
    pub secrets: std::collections::BTreeMap<String, String>,
}

impl std::fmt::Debug for ConfigureParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secrets: Vec<&String> = self.secrets.keys().collect();
        f.debug_struct("ConfigureParams")
            .field("name", &self.name)
            .field("values", &self.values)
            .field("secrets", &secrets)
            .finish()
    }
}

/// A request from a client, decoded into its method's params.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientRequest {
    Hello(HelloParams),
    DaemonStatus,
    DaemonShutdown,
    ChatSend(ChatSendParams),
    ChatCancel(SessionParams),
    ApprovalRespond(ApprovalRespondParams),
    ApprovalPending,
    SecurityScan(ScanParams),
    SessionsList(ListParams),
    SessionsGet(SessionParams),
    SessionsDelete(SessionParams),
    SessionsUndo(SessionParams),
    ProviderModels,
    ProviderCheck,
    ConfigReload,
    AuditList(ListParams),
    MemoryList,
    MemoryRead(MemoryName),
    MemoryWrite(MemoryFile),
    MemoryAppend(MemoryAppendParams),
    MemoryLog(MemoryName),
    MemoryRestore(MemoryRestoreParams),
    VaultSet(VaultSetParams),
    VaultList,
    VaultDelete(VaultKey),
    BotsStatus,
    BotsReload,
    BotsPassphrase(PassphraseParams),
    PluginsList,
    PluginsCall(PluginCallParams),
    PluginsEnable(PluginName),
    PluginsDisable(PluginName),
    PluginsReload,
    PluginsInspect(PluginSource),
    PluginsInstall(PluginInstallParams),
    PluginsUninstall(PluginName),
    PluginsChanges(PluginName),
    PluginsTrust(PluginTrustParams),
    DaemonDoctor,
    SecurityAudit(AuditParams),
    PluginsGrant(PluginName),
    PluginsRevoke(PluginName),
    PluginsPrompts,
    PluginsPrompt(PromptParams),
    PluginsResources,
    PluginsResource(ResourceParams),
    PluginsSetupInfo(PluginName),
    PluginsConfigure(ConfigureParams),
}

impl ClientRequest {
    /// Decodes `params` for `method`: -32601 for an unknown method, -32602 for params that do not fit.
    pub fn parse(method: &str, params: Option<Value>) -> Result<Self, ErrorObject> {
        let params = params.unwrap_or(Value::Null);
        match method {
            Hello::NAME => params_of::<Hello>(params).map(ClientRequest::Hello),
            DaemonStatus::NAME => params_of::<DaemonStatus>(params).map(|Empty| ClientRequest::DaemonStatus),
            DaemonShutdown::NAME => params_of::<DaemonShutdown>(params).map(|Empty| ClientRequest::DaemonShutdown),
            ChatSend::NAME => params_of::<ChatSend>(params).map(ClientRequest::ChatSend),
            ChatCancel::NAME => params_of::<ChatCancel>(params).map(ClientRequest::ChatCancel),
            ApprovalRespond::NAME => params_of::<ApprovalRespond>(params).map(ClientRequest::ApprovalRespond),
            ApprovalPending::NAME => params_of::<ApprovalPending>(params).map(|Empty| ClientRequest::ApprovalPending),
            SecurityScan::NAME => params_of::<SecurityScan>(params).map(ClientRequest::SecurityScan),
            SessionsList::NAME => params_of::<SessionsList>(with_default(params)).map(ClientRequest::SessionsList),
            SessionsGet::NAME => params_of::<SessionsGet>(params).map(ClientRequest::SessionsGet),
            SessionsDelete::NAME => params_of::<SessionsDelete>(params).map(ClientRequest::SessionsDelete),
            SessionsUndo::NAME => params_of::<SessionsUndo>(params).map(ClientRequest::SessionsUndo),
            ProviderModels::NAME => params_of::<ProviderModels>(params).map(|Empty| ClientRequest::ProviderModels),
            ProviderCheck::NAME => params_of::<ProviderCheck>(params).map(|Empty| ClientRequest::ProviderCheck),
            ConfigReload::NAME => params_of::<ConfigReload>(params).map(|Empty| ClientRequest::ConfigReload),
            AuditList::NAME => params_of::<AuditList>(with_default(params)).map(ClientRequest::AuditList),
            MemoryList::NAME => params_of::<MemoryList>(params).map(|Empty| ClientRequest::MemoryList),
            MemoryRead::NAME => params_of::<MemoryRead>(params).map(ClientRequest::MemoryRead),
            MemoryWrite::NAME => params_of::<MemoryWrite>(params).map(ClientRequest::MemoryWrite),
            MemoryAppend::NAME => params_of::<MemoryAppend>(params).map(ClientRequest::MemoryAppend),
            MemoryLog::NAME => params_of::<MemoryLog>(params).map(ClientRequest::MemoryLog),
            MemoryRestore::NAME => params_of::<MemoryRestore>(params).map(ClientRequest::MemoryRestore),
            VaultSet::NAME => params_of::<VaultSet>(params).map(ClientRequest::VaultSet),
            VaultList::NAME => params_of::<VaultList>(params).map(|Empty| ClientRequest::VaultList),
            VaultDelete::NAME => params_of::<VaultDelete>(params).map(ClientRequest::VaultDelete),
            BotsStatus::NAME => params_of::<BotsStatus>(params).map(|Empty| ClientRequest::BotsStatus),
            BotsReload::NAME => params_of::<BotsReload>(params).map(|Empty| ClientRequest::BotsReload),
            BotsPassphrase::NAME => params_of::<BotsPassphrase>(params).map(ClientRequest::BotsPassphrase),
            PluginsList::NAME => params_of::<PluginsList>(params).map(|Empty| ClientRequest::PluginsList),
            PluginsCall::NAME => params_of::<PluginsCall>(params).map(ClientRequest::PluginsCall),
            PluginsEnable::NAME => params_of::<PluginsEnable>(params).map(ClientRequest::PluginsEnable),
            PluginsDisable::NAME => params_of::<PluginsDisable>(params).map(ClientRequest::PluginsDisable),
            PluginsReload::NAME => params_of::<PluginsReload>(params).map(|Empty| ClientRequest::PluginsReload),
            PluginsInspect::NAME => params_of::<PluginsInspect>(params).map(ClientRequest::PluginsInspect),
            PluginsInstall::NAME => params_of::<PluginsInstall>(params).map(ClientRequest::PluginsInstall),
            PluginsUninstall::NAME => params_of::<PluginsUninstall>(params).map(ClientRequest::PluginsUninstall),
            PluginsChanges::NAME => params_of::<PluginsChanges>(params).map(ClientRequest::PluginsChanges),
            PluginsTrust::NAME => params_of::<PluginsTrust>(params).map(ClientRequest::PluginsTrust),
            DaemonDoctor::NAME => params_of::<DaemonDoctor>(params).map(|Empty| ClientRequest::DaemonDoctor),
            SecurityAudit::NAME => params_of::<SecurityAudit>(with_default(params)).map(ClientRequest::SecurityAudit),
            PluginsGrant::NAME => params_of::<PluginsGrant>(params).map(ClientRequest::PluginsGrant),
            PluginsRevoke::NAME => params_of::<PluginsRevoke>(params).map(ClientRequest::PluginsRevoke),
            PluginsPrompts::NAME => params_of::<PluginsPrompts>(params).map(|Empty| ClientRequest::PluginsPrompts),
            PluginsPrompt::NAME => params_of::<PluginsPrompt>(params).map(ClientRequest::PluginsPrompt),
            PluginsResources::NAME => {
                params_of::<PluginsResources>(params).map(|Empty| ClientRequest::PluginsResources)
            }
            PluginsResource::NAME => params_of::<PluginsResource>(params).map(ClientRequest::PluginsResource),
            PluginsSetupInfo::NAME => params_of::<PluginsSetupInfo>(params).map(ClientRequest::PluginsSetupInfo),
            PluginsConfigure::NAME => params_of::<PluginsConfigure>(params).map(ClientRequest::PluginsConfigure),
            other => Err(ErrorObject::method_not_found(other)),
        }
    }
}

/// Absent params mean "all defaults" for methods whose params are all optional.
fn with_default(params: Value) -> Value {
    if params.is_null() { Value::Object(serde_json::Map::new()) } else { params }
}

fn params_of<M: Method>(params: Value) -> Result<M::Params, ErrorObject> {
    serde_json::from_value(params).map_err(|e| ErrorObject::invalid_params(M::NAME, e))
}
