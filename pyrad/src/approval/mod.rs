//! The one approval policy every tool call passes. It decides from the tool's
//! own rule, the user's grants (session grants and plugin exemptions, both kept
//! in the store so they survive a restart), the injection scanner's taint on the
//! turn and whether anybody can be asked; when a person must answer, it holds the
//! call as a pending request for the conversation's origin, with that origin
//! kind's timeout (120 s by default: no answer is a denial). An answer binds to
//! the request id, the origin and the `args_sha256` the person was shown. Every
//! decision is written to the audit here, in one place.
//!
//! **Invariant:** only this module resumes a held tool call.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

pub use proto::ipc::{Answer, Decision, Scope};
use proto::security::ScanWarning;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

use crate::clock::unix_now;
use crate::store::{AuditRecord, Store, StoreError};

/// What the origin is shown and answers to.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalRequest {
    pub id: String,
    pub session: String,
    pub tool: String,
    pub args: Value,
    /// SHA-256 of the canonical JSON of `args`, so an answer is tied to exactly these arguments.
    pub args_sha256: String,
    /// Unix seconds after which the call is denied.
    pub expires_at: u64,
    /// Why it asks although a grant or exemption would have let it through.
    pub reason: Option<String>,
    /// What the scanner flagged in the turn so far.
    pub warnings: Vec<ScanWarning>,
}

/// A tool's own rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolRule {
    /// Reads only what the user already sees (memory list/read): never asks, unless the turn is tainted.
    Free,
    /// Asks every time, unless approved for the session.
    Ask,
    /// Declared read-only by its plugin: runs unasked once the user granted the plugin's exemptions.
    Exemptable { plugin: String, tool: String },
}

/// One tool call put to the policy.
pub struct Call<'a> {
    /// Who may answer: a connection, a room, a chat.
    pub origin: &'a str,
    /// The origin's kind, for its timeout: `ipc`, `matrix`, `telegram`, `schedule`.
    pub kind: &'a str,
    /// Whether a person is there to answer; if not, `unattended_allow` decides.
    pub attended: bool,
    pub session: &'a str,
    pub tool: &'a str,
    pub args: &'a Value,
    pub rule: ToolRule,
    /// Set once a flagged text entered the turn: every call asks, whatever the grants.
    pub taint: Option<&'a str>,
    /// The turn's warnings so far, shown with the request.
    pub warnings: &'a [ScanWarning],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RespondError {
    #[error("no pending approval {0:?}")]
    Unknown(String),
    #[error("approval {0:?} was already decided or has expired")]
    Decided(String),
    #[error("approval {0:?} belongs to another conversation")]
    WrongOrigin(String),
    #[error(
        "approval {0:?} was answered for other arguments than it holds (args_sha256 mismatch); nothing was decided"
    )]
    HashMismatch(String),
    #[error("cannot keep the grant: {0}")]
    Store(String),
}

/// Timeouts by origin kind.
#[derive(Debug, Clone)]
pub struct Timeouts {
    pub default: Duration,
    pub by_kind: BTreeMap<String, Duration>,
}

impl Timeouts {
    #[cfg(test)]
    pub fn uniform(default: Duration) -> Self {
        Self { default, by_kind: BTreeMap::new() }
    }

    fn of(&self, kind: &str) -> Duration {
        self.by_kind.get(kind).copied().unwrap_or(self.default)
    }
}

struct Pending {
    request: ApprovalRequest,
    /// Which connection or chat may answer.
    origin: String,
    /// When it was asked, to list pending requests oldest first.
    asked: std::time::Instant,
    reply: oneshot::Sender<(Answer, Scope)>,
}

/// Removes a pending request when its waiting call ends, however it ends.
struct Cleanup<'a> {
    gate: &'a ApprovalGate,
    id: &'a str,
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        if let Ok(mut map) = self.gate.pending.lock() {
            map.remove(self.id);
        }
        self.gate.remember(self.id);
    }
}

/// The gate. Cheap to share behind an `Arc`.
pub struct ApprovalGate {
    store: Store,
    /// `[approval]`: the timeouts, and the tools approved without anybody asked
    /// when nobody can be (`unattended_allow`). Swapped whole by `config.reload`.
    policy: std::sync::RwLock<Arc<(Timeouts, Vec<String>)>>,
    /// `logs/tool_executions.log`.
    audit_log: PathBuf,
    pending: Mutex<HashMap<String, Pending>>,
    /// Ids decided recently, to tell "already decided" from "never existed".
    decided: Mutex<HashSet<String>>,
}

/// Canonical JSON (object keys sorted, as serde_json's map is) and its SHA-256.
pub fn args_sha256(args: &Value) -> String {
    let canonical = serde_json::to_vec(args).unwrap_or_default();
    Sha256::digest(&canonical).iter().map(|b| format!("{b:02x}")).collect()
}

impl ApprovalGate {
    pub fn new(store: Store, timeouts: Timeouts, unattended_allow: Vec<String>, audit_log: PathBuf) -> Self {
        Self {
            store,
            policy: std::sync::RwLock::new(Arc::new((timeouts, unattended_allow))),
            audit_log,
            pending: Mutex::default(),
            decided: Mutex::default(),
        }
    }

    /// The `[approval]` policy in force.
    fn policy(&self) -> Arc<(Timeouts, Vec<String>)> {
        match self.policy.read() {
            Ok(p) => p.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Applies a reloaded `[approval]`; requests already waiting keep their deadline.
    pub fn set_policy(&self, timeouts: Timeouts, unattended_allow: Vec<String>) {
        let policy = Arc::new((timeouts, unattended_allow));
        match self.policy.write() {
            Ok(mut p) => *p = policy,
            Err(poisoned) => *poisoned.into_inner() = policy,
        }
    }

    /// Decides `call`: by rule and grant when no person is needed, else by the
    /// origin's answer, its timeout, or its going away. `notify` gets the request
    /// to show; it is called only when a person is asked.
    pub async fn decide(&self, call: Call<'_>, notify: impl FnOnce(ApprovalRequest)) -> Decision {
        if call.taint.is_none() {
            match &call.rule {
                ToolRule::Free => return Decision::NotRequired,
                ToolRule::Exemptable { plugin, tool } => {
                    if self.store.plugin_grants(plugin).is_ok_and(|g| g.contains(tool)) {
                        return Decision::NotRequired;
                    }
                }
                ToolRule::Ask => {}
            }
            if self.store.session_grants(call.session).is_ok_and(|g| g.iter().any(|t| t == call.tool)) {
                return Decision::AutoByGrant;
            }
        }
        if !call.attended {
            let listed = self.policy().1.iter().any(|t| t == call.tool);
            return if listed && call.taint.is_none() {
                Decision::UnattendedAllowed
            } else {
                Decision::UnattendedDenied
            };
        }
        self.ask(call, notify).await
    }

    async fn ask(&self, call: Call<'_>, notify: impl FnOnce(ApprovalRequest)) -> Decision {
        let Ok(id) = crate::security::random_hex(12) else { return Decision::Denied };
        let timeout = self.policy().0.of(call.kind);
        let (tx, rx) = oneshot::channel();
        let expires_at = SystemTime::now()
            .checked_add(timeout)
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        let request = ApprovalRequest {
            id: id.clone(),
            session: call.session.into(),
            tool: call.tool.into(),
            args: call.args.clone(),
            args_sha256: args_sha256(call.args),
            expires_at,
            reason: call.taint.map(str::to_owned),
            warnings: call.warnings.to_vec(),
        };
        let pending = Pending {
            request: request.clone(),
            origin: call.origin.into(),
            asked: std::time::Instant::now(),
            reply: tx,
        };
        if let Ok(mut map) = self.pending.lock() {
            map.insert(id.clone(), pending);
        }
        notify(request);
        // If the turn is dropped while waiting (chat.cancel), the request goes too.
        let _cleanup = Cleanup { gate: self, id: &id };
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok((Answer::Approve, _))) => Decision::Approved,
            Ok(Ok((Answer::Deny, _))) => Decision::Denied,
            Ok(Err(_)) => Decision::Cancelled,
            Err(_) => Decision::TimedOut,
        }
    }

    /// An answer from `origin` for pending request `id`, given for the arguments hashing to `args_sha256`.
    pub fn respond(
        &self,
        origin: &str,
        id: &str,
        args_sha256: &str,
        answer: Answer,
        scope: Scope,
    ) -> Result<(), RespondError> {
        let pending = {
            let mut map = self.pending.lock().map_err(|_| RespondError::Unknown(id.into()))?;
            match map.get(id) {
                None => {
                    let decided = self.decided.lock().is_ok_and(|d| d.contains(id));
                    return Err(if decided {
                        RespondError::Decided(id.into())
                    } else {
                        RespondError::Unknown(id.into())
                    });
                }
                Some(p) if p.origin != origin => return Err(RespondError::WrongOrigin(id.into())),
                // The request stays pending: the right answer may still come.
                Some(p) if !p.request.args_sha256.eq_ignore_ascii_case(args_sha256) => {
                    tracing::warn!(approval = id, tool = %p.request.tool, "an answer for other arguments was refused");
                    return Err(RespondError::HashMismatch(id.into()));
                }
                Some(_) => map.remove(id),
            }
        };
        let Some(pending) = pending else { return Err(RespondError::Unknown(id.into())) };
        if answer == Answer::Approve && scope == Scope::Session {
            self.store
                .add_session_grant(&pending.request.session, &pending.request.tool, unix_now())
                .map_err(|e| RespondError::Store(e.to_string()))?;
        }
        self.remember(id);
        pending.reply.send((answer, scope)).map_err(|_| RespondError::Decided(id.into()))
    }

    /// The requests `origin` may answer now, oldest first.
    pub fn pending(&self, origin: &str) -> Vec<ApprovalRequest> {
        let Ok(map) = self.pending.lock() else { return Vec::new() };
        let mut mine: Vec<&Pending> = map.values().filter(|p| p.origin == origin).collect();
        mine.sort_by_key(|p| p.asked);
        mine.into_iter().map(|p| p.request.clone()).collect()
    }

    /// Denies (as cancelled) every pending request of `origin`: it went away.
    pub fn cancel_origin(&self, origin: &str) -> usize {
        let Ok(mut map) = self.pending.lock() else { return 0 };
        let ids: Vec<String> = map.iter().filter(|(_, p)| p.origin == origin).map(|(id, _)| id.clone()).collect();
        for id in &ids {
            // Dropping the sender wakes the waiting call with `Cancelled`.
            map.remove(id);
        }
        ids.len()
    }

    /// Writes one audit record: the `audit` table and `logs/tool_executions.log`.
    pub fn audit(&self, entry: &AuditRecord) -> Result<(), StoreError> {
        self.store.record_audit(entry)?;
        append_audit_log(&self.audit_log, entry);
        Ok(())
    }

    fn remember(&self, id: &str) {
        if let Ok(mut decided) = self.decided.lock() {
            // Bounded: old ids only serve nicer error messages.
            if decided.len() > 10_000 {
                decided.clear();
            }
            decided.insert(id.to_owned());
        }
    }
}

/// `logs/tool_executions.log` becomes `tool_executions.log.1` past this.
const AUDIT_LOG_CAP: u64 = 10 * 1024 * 1024;

/// One JSON line per execution in `logs/tool_executions.log` (0600).
fn append_audit_log(path: &std::path::Path, entry: &AuditRecord) {
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
