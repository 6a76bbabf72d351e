//! The one gate in front of every bot: who may talk to the assistant from a chat,
//! and how often. Both bots put each inbound text through [`Gate::admit`] and act
//! on its [`Admit`]; approval answers do not come through here (they are not
//! chat traffic and are never rate limited).
//!
//! In order: the sender allowlist (a stranger gets no answer at all), the
//! lockout after wrong passphrases, the bcrypt passphrase challenge (before a
//! sender's first conversation and again after an idle time), the per-sender
//! rate limit (`governor`), and the injection scanner.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use proto::security::ScanVerdict;

use crate::security::injection;

/// bcrypt's work factor for the passphrase; verification costs a few hundred ms.
pub const BCRYPT_COST: u32 = 12;
/// Wrong passphrases allowed before the first lockout.
const FREE_ATTEMPTS: u32 = 3;
/// The first lockout; each further wrong passphrase doubles it, up to a day.
const FIRST_LOCKOUT: Duration = Duration::from_secs(60);
const MAX_LOCKOUT: Duration = Duration::from_secs(24 * 3600);

/// What to do with an inbound text the scanner flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InjectionPolicy {
    /// Refuse texts scoring at least `refuse_score`; pass lower ones (the turn is tainted).
    Refuse,
    /// Pass every text; a flagged one taints its turn, so every tool call asks.
    Mark,
}

/// The gate's settings (the bot's allowlist comes with it).
#[derive(Debug, Clone, PartialEq)]
pub struct GateSettings {
    /// Sender ids allowed in: `@ada:example.org`, a Telegram user id.
    pub allow: Vec<String>,
    /// The bcrypt hash of the passphrase; `None` means no challenge.
    pub passphrase_hash: Option<String>,
    /// The passphrase is asked again after this long without a message.
    pub idle: Duration,
    pub messages_per_hour: u32,
    pub injection: InjectionPolicy,
    pub refuse_score: f64,
}

/// The gate's answer about one inbound text.
#[derive(Debug, Clone, PartialEq)]
pub enum Admit {
    /// Go on: hand `text` to the chat service.
    Pass { text: String },
    /// Not on the allowlist: say nothing at all.
    Stranger,
    /// Ask for the passphrase; the text is kept and handed on after a good one.
    Challenge,
    /// The passphrase was right; hand on the text that was kept, if any.
    Unlocked { kept: Option<String> },
    /// The passphrase was wrong; `locked_for` once the free attempts are spent.
    WrongPassphrase { locked_for: Option<Duration> },
    /// Locked out after wrong passphrases: `notice` is true once per lockout.
    Locked { remaining: Duration, notice: bool },
    /// Over the hourly limit: `notice` is true for the first refused message only.
    RateLimited { notice: bool },
    /// The scanner scored the text at or above the refusal score.
    Refused { verdict: ScanVerdict },
}

#[derive(Debug, Default)]
struct Sender {
    /// When the passphrase was last given or a message last passed.
    seen: Option<Instant>,
    /// A challenge was sent and the next text is the answer.
    challenged: bool,
    /// The text that triggered the challenge.
    kept: Option<String>,
    failures: u32,
    locked_until: Option<Instant>,
    lock_noticed: bool,
    limit_noticed: bool,
}

pub struct Gate {
    settings: GateSettings,
    senders: Mutex<HashMap<String, Sender>>,
    limiter: DefaultKeyedRateLimiter<String>,
}

impl Gate {
    pub fn new(settings: GateSettings) -> Self {
        let per_hour = NonZeroU32::new(settings.messages_per_hour.max(1)).unwrap_or(NonZeroU32::MIN);
        let limiter = RateLimiter::keyed(Quota::per_hour(per_hour));
        Self { settings, senders: Mutex::new(HashMap::new()), limiter }
    }

    pub fn settings(&self) -> &GateSettings {
        &self.settings
    }

    pub fn allows(&self, sender: &str) -> bool {
        self.settings.allow.iter().any(|a| a == sender)
    }

    /// Whether the next text from `sender` is a passphrase attempt (it is then never stored).
    pub fn expects_passphrase(&self, sender: &str) -> bool {
        self.settings.passphrase_hash.is_some()
            && self.lock().get(sender).is_some_and(|s| s.challenged || s.locked_until.is_some())
    }

    /// Decides about one text from `sender` at `now`.
    pub async fn admit(&self, sender: &str, text: &str, now: Instant) -> Admit {
        if !self.allows(sender) {
            tracing::info!(sender, "a message from a sender not on the allowlist was ignored");
            return Admit::Stranger;
        }
        if let Some(hash) = &self.settings.passphrase_hash {
            let challenged = {
                let mut senders = self.lock();
                let s = senders.entry(sender.to_owned()).or_default();
                if let Some(until) = s.locked_until {
                    if now < until {
                        let notice = !std::mem::replace(&mut s.lock_noticed, true);
                        return Admit::Locked { remaining: until - now, notice };
                    }
                    s.locked_until = None;
                }
                let fresh = s.seen.is_some_and(|seen| now.saturating_duration_since(seen) < self.settings.idle);
                if !fresh && !s.challenged {
                    s.challenged = true;
                    s.kept = Some(text.to_owned());
                    return Admit::Challenge;
                }
                s.challenged
            };
            if challenged {
                let good = verify(text, hash).await;
                let mut senders = self.lock();
                let s = senders.entry(sender.to_owned()).or_default();
                if good {
                    s.challenged = false;
                    s.failures = 0;
                    s.seen = Some(now);
                    tracing::info!(sender, "passphrase accepted");
                    return Admit::Unlocked { kept: s.kept.take() };
                }
                s.failures += 1;
                tracing::warn!(sender, failures = s.failures, "wrong passphrase");
                let locked_for = (s.failures >= FREE_ATTEMPTS).then(|| {
                    let doublings = (s.failures - FREE_ATTEMPTS).min(16);
                    (FIRST_LOCKOUT * 2u32.pow(doublings)).min(MAX_LOCKOUT)
                });
                if let Some(d) = locked_for {
                    s.locked_until = Some(now + d);
                    s.lock_noticed = true;
                }
                return Admit::WrongPassphrase { locked_for };
            }
        }
        if self.limiter.check_key(&sender.to_owned()).is_err() {
            let mut senders = self.lock();
            let s = senders.entry(sender.to_owned()).or_default();
            let notice = !std::mem::replace(&mut s.limit_noticed, true);
            tracing::warn!(sender, "a message over the hourly limit was refused");
            return Admit::RateLimited { notice };
        }
        {
            let mut senders = self.lock();
            let s = senders.entry(sender.to_owned()).or_default();
            s.seen = Some(now);
            s.limit_noticed = false;
        }
        let verdict = scan_off_runtime(text).await;
        if verdict.flagged
            && self.settings.injection == InjectionPolicy::Refuse
            && verdict.score >= self.settings.refuse_score
        {
            tracing::warn!(sender, score = verdict.score, reason = %verdict.reason(), "an inbound message was refused as a prompt injection");
            return Admit::Refused { verdict };
        }
        Admit::Pass { text: text.to_owned() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Sender>> {
        // A panic while holding the map leaves plain data behind: keep using it.
        self.senders.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Checks a passphrase against its bcrypt hash off the async runtime.
async fn verify(passphrase: &str, hash: &str) -> bool {
    let (passphrase, hash) = (passphrase.trim().to_owned(), hash.to_owned());
    tokio::task::spawn_blocking(move || bcrypt::verify(passphrase, &hash).unwrap_or(false)).await.unwrap_or(false)
}

async fn scan_off_runtime(text: &str) -> ScanVerdict {
    let text = text.to_owned();
    tokio::task::spawn_blocking(move || injection::scan(&text)).await.unwrap_or_default()
}

/// The bcrypt hash of a new passphrase (cost [`BCRYPT_COST`]), made off the async runtime.
pub async fn hash_passphrase(passphrase: &str) -> Result<String, bcrypt::BcryptError> {
    let passphrase = passphrase.trim().to_owned();
    tokio::task::spawn_blocking(move || bcrypt::hash(passphrase, BCRYPT_COST))
        .await
        .unwrap_or(Err(bcrypt::BcryptError::InvalidCost(String::from("the hashing task failed"))))
}

#[cfg(test)]
mod tests;
