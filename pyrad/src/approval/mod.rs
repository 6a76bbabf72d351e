//! The one approval gate every tool call passes: a pending request per call, sent
//! to the conversation's origin, answered with `approval.respond`, denied when
//! nobody answers in time or the origin goes away. Grants (`scope: session`)
//! let later calls of the same tool in the same session through.
//!
//! **Invariant:** only this module resumes a held tool call.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

/// What the origin is shown and answers to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRequest {
    pub id: String,
    pub session: String,
    pub tool: String,
    pub args: Value,
    /// SHA-256 of the canonical JSON of `args`, so an answer is tied to exactly these arguments.
    pub args_sha256: String,
    /// Unix seconds after which the call is denied.
    pub expires_at: u64,
}

/// How a held call was decided; recorded in the audit table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approved,
    Denied,
    TimedOut,
    /// A `scope: session` grant from earlier covered it.
    AutoByGrant,
    /// The origin disconnected or the turn was cancelled.
    Cancelled,
}

impl Decision {
    pub fn allows(self) -> bool {
        matches!(self, Decision::Approved | Decision::AutoByGrant)
    }
}

/// A person's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Approve,
    Deny,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    #[default]
    Once,
    /// Approve this tool for the rest of the session.
    Session,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RespondError {
    #[error("no pending approval {0:?}")]
    Unknown(String),
    #[error("approval {0:?} was already decided or has expired")]
    Decided(String),
    #[error("approval {0:?} belongs to another conversation")]
    WrongOrigin(String),
}

struct Pending {
    session: String,
    tool: String,
    /// Which connection or chat may answer.
    origin: String,
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
    timeout: Duration,
    pending: Mutex<HashMap<String, Pending>>,
    /// Ids decided recently, to tell "already decided" from "never existed".
    decided: Mutex<HashSet<String>>,
    /// (session, tool) pairs approved for the rest of the session.
    grants: Mutex<HashSet<(String, String)>>,
}

/// Canonical JSON (object keys sorted, as serde_json's map is) and its SHA-256.
pub fn args_sha256(args: &Value) -> String {
    let canonical = serde_json::to_vec(args).unwrap_or_default();
    Sha256::digest(&canonical).iter().map(|b| format!("{b:02x}")).collect()
}

impl ApprovalGate {
    pub fn new(timeout: Duration) -> Self {
        Self { timeout, pending: Mutex::default(), decided: Mutex::default(), grants: Mutex::default() }
    }

    /// Holds a tool call until `origin` answers, the timeout passes, or the origin
    /// is cancelled. `notify` gets the request to show; it is not called when a
    /// grant already covers the call.
    pub async fn request(
        &self,
        origin: &str,
        session: &str,
        tool: &str,
        args: &Value,
        notify: impl FnOnce(ApprovalRequest),
    ) -> Decision {
        let granted = self.grants.lock().is_ok_and(|g| g.contains(&(session.to_owned(), tool.to_owned())));
        if granted {
            return Decision::AutoByGrant;
        }
        let Ok(id) = crate::security::random_hex(12) else { return Decision::Denied };
        let (tx, rx) = oneshot::channel();
        let expires_at = SystemTime::now()
            .checked_add(self.timeout)
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        let pending = Pending { session: session.into(), tool: tool.into(), origin: origin.into(), reply: tx };
        if let Ok(mut map) = self.pending.lock() {
            map.insert(id.clone(), pending);
        }
        notify(ApprovalRequest {
            id: id.clone(),
            session: session.into(),
            tool: tool.into(),
            args: args.clone(),
            args_sha256: args_sha256(args),
            expires_at,
        });
        // If the turn is dropped while waiting (chat.cancel), the request goes too.
        let _cleanup = Cleanup { gate: self, id: &id };
        match tokio::time::timeout(self.timeout, rx).await {
            Ok(Ok((Answer::Approve, _))) => Decision::Approved,
            Ok(Ok((Answer::Deny, _))) => Decision::Denied,
            Ok(Err(_)) => Decision::Cancelled,
            Err(_) => Decision::TimedOut,
        }
    }

    /// An answer from `origin` for pending request `id`.
    pub fn respond(&self, origin: &str, id: &str, answer: Answer, scope: Scope) -> Result<(), RespondError> {
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
                Some(_) => map.remove(id),
            }
        };
        let Some(pending) = pending else { return Err(RespondError::Unknown(id.into())) };
        if answer == Answer::Approve
            && scope == Scope::Session
            && let Ok(mut grants) = self.grants.lock()
        {
            grants.insert((pending.session.clone(), pending.tool.clone()));
        }
        self.remember(id);
        pending.reply.send((answer, scope)).map_err(|_| RespondError::Decided(id.into()))
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

    /// Forgets the grants of a deleted or finished session.
    pub fn forget_session(&self, session: &str) {
        if let Ok(mut grants) = self.grants.lock() {
            grants.retain(|(s, _)| s != session);
        }
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

#[cfg(test)]
mod tests;
