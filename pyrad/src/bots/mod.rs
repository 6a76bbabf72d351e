//! The messaging bots: each is one more adapter of `chat::Service`, with the
//! one [`gate::Gate`] in front of it. A bot that cannot start (no allowlist, no
//! token, a bad token, the service down) is reported with its reason in
//! `daemon.status`; pyrad and the other bots keep serving.

pub mod conversation;
pub mod format;
pub mod gate;
#[cfg(feature = "matrix")]
pub mod matrix;
#[cfg(feature = "telegram")]
pub mod telegram;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use age::secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;

use crate::chat::Service;
use crate::config::BotsSection;
use crate::store::Store;
use crate::vault::Vault;

/// The vault entry holding the bcrypt hash of the bots' passphrase.
pub const PASSPHRASE: &str = "bot:passphrase";
/// The vault entries the Matrix bot logs in with (one of the two).
pub const MATRIX_PASSWORD: &str = "bot:matrix:password";
pub const MATRIX_ACCESS_TOKEN: &str = "bot:matrix:access_token";
/// The vault entry holding the Telegram bot token.
pub const TELEGRAM_TOKEN: &str = "bot:telegram:token";

pub use proto::ipc::BotStatus as BotState;

/// Each bot's state, by name, for `daemon.status`, and the token that stops the
/// bots started last.
#[derive(Clone, Default)]
pub struct Bots {
    states: Arc<Mutex<BTreeMap<&'static str, SharedState>>>,
    running: Arc<Mutex<Option<CancellationToken>>>,
    /// Each bot's gate, kept across reloads.
    gates: Arc<Mutex<BTreeMap<&'static str, Arc<gate::Gate>>>>,
    /// The Matrix bot's task: a new one waits for the old one to end, so two never share its store.
    matrix_task: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

/// One bot's state, written by the bot, read by `daemon.status`.
pub type SharedState = Arc<Mutex<BotState>>;

fn state(state: &str, reason: Option<String>) -> BotState {
    BotState { state: state.into(), reason, username: None }
}

impl Bots {
    /// Each bot's state now.
    pub fn status(&self) -> BTreeMap<String, BotState> {
        let Ok(states) = self.states.lock() else { return BTreeMap::new() };
        states.iter().map(|(name, s)| ((*name).to_owned(), s.lock().map(|s| s.clone()).unwrap_or_default())).collect()
    }

    fn set(&self, name: &'static str, state: BotState) -> SharedState {
        let shared = Arc::new(Mutex::new(state));
        if let Ok(mut states) = self.states.lock() {
            states.insert(name, shared.clone());
        }
        shared
    }

    /// Starts the configured bots, stopping the ones started before; each runs
    /// until `stop` or the next start. `home` is PYRA_HOME (the Matrix store lives
    /// in `bots/matrix/` under it).
    pub fn start(&self, config: &BotsSection, deps: Deps, stop: &CancellationToken) {
        let stop = stop.child_token();
        if let Ok(mut running) = self.running.lock()
            && let Some(previous) = running.replace(stop.clone())
        {
            previous.cancel();
        }
        let passphrase_hash = match deps.vault.get(PASSPHRASE) {
            Ok(hash) => hash.map(|h| h.expose_secret().to_owned()),
            Err(e) => {
                tracing::error!(error = %e, "cannot read the bots' passphrase; the bots stay off");
                for name in ["matrix", "telegram"] {
                    self.set(name, state("error", Some(format!("cannot read the vault: {e}"))));
                }
                return;
            }
        };
        let gate = |bot: &'static str, allow: Vec<String>| {
            let settings = gate::GateSettings {
                allow,
                passphrase_hash: passphrase_hash.clone(),
                idle: Duration::from_secs(config.passphrase_idle_secs),
                messages_per_hour: config.messages_per_hour,
                injection: config.injection,
                refuse_score: config.refuse_score,
            };
            self.gate(bot, settings)
        };
        self.start_telegram(
            config,
            &deps,
            gate("telegram", config.telegram.allow.iter().map(i64::to_string).collect()),
            &stop,
        );
        self.start_matrix(config, &deps, gate("matrix", config.matrix.allow.clone()), &stop);
    }

    /// The bot's gate: the one it had when the settings did not change (a reload
    /// keeps who is unlocked, their lockouts and their hourly counts), else a new one
    /// (a new passphrase asks everyone again).
    fn gate(&self, bot: &'static str, settings: gate::GateSettings) -> Arc<gate::Gate> {
        let Ok(mut gates) = self.gates.lock() else { return Arc::new(gate::Gate::new(settings)) };
        if let Some(gate) = gates.get(bot)
            && *gate.settings() == settings
        {
            return gate.clone();
        }
        let gate = Arc::new(gate::Gate::new(settings));
        gates.insert(bot, gate.clone());
        gate
    }

    fn start_telegram(&self, config: &BotsSection, deps: &Deps, gate: Arc<gate::Gate>, stop: &CancellationToken) {
        let telegram = &config.telegram;
        if !telegram.enabled {
            self.set("telegram", state("disabled", None));
            return;
        }
        if telegram.allow.is_empty() {
            tracing::error!("the Telegram bot has no allowlist ([bots.telegram] allow); it does not start");
            self.set("telegram", state("error", Some("no allowlist: set [bots.telegram] allow".into())));
            return;
        }
        #[cfg(feature = "telegram")]
        {
            let token = match deps.vault.get(TELEGRAM_TOKEN) {
                Ok(Some(t)) => t.expose_secret().to_owned(),
                Ok(None) => {
                    let reason =
                        format!("no token: `pyractl bots setup telegram --token-stdin` stores it as {TELEGRAM_TOKEN}");
                    self.set("telegram", state("error", Some(reason)));
                    return;
                }
                Err(e) => {
                    self.set("telegram", state("error", Some(format!("cannot read the vault: {e}"))));
                    return;
                }
            };
            let api_url = match reqwest::Url::parse(&telegram.api_url) {
                Ok(u) => u,
                Err(e) => {
                    let reason = format!("[bots.telegram] api_url {:?}: {e}", telegram.api_url);
                    self.set("telegram", state("error", Some(reason)));
                    return;
                }
            };
            let state = self.set("telegram", state("starting", None));
            let settings = telegram::Settings {
                token,
                api_url,
                edit_interval: Duration::from_millis(telegram.edit_interval_ms),
                poll_timeout: telegram.poll_timeout_secs.min(15),
            };
            let Deps { service, store, .. } = deps.clone();
            tokio::spawn(telegram::run(settings, service, gate, store, state, stop.clone()));
        }
        #[cfg(not(feature = "telegram"))]
        {
            let _ = (gate, deps, stop);
            self.set("telegram", state("error", Some("this pyrad was built without the telegram feature".into())));
        }
    }

    fn start_matrix(&self, config: &BotsSection, deps: &Deps, gate: Arc<gate::Gate>, stop: &CancellationToken) {
        let matrix = &config.matrix;
        if !matrix.enabled {
            self.set("matrix", state("disabled", None));
            return;
        }
        if matrix.allow.is_empty() {
            tracing::error!("the Matrix bot has no allowlist ([bots.matrix] allow); it does not start");
            self.set("matrix", state("error", Some("no allowlist: set [bots.matrix] allow".into())));
            return;
        }
        if let Err(e) = reqwest::Url::parse(&matrix.homeserver) {
            let reason = format!("[bots.matrix] homeserver {:?}: {e}", matrix.homeserver);
            self.set("matrix", state("error", Some(reason)));
            return;
        }
        if !matrix.user.starts_with('@') || !matrix.user.contains(':') {
            let reason = format!("[bots.matrix] user {:?} is not a Matrix id (@name:server)", matrix.user);
            self.set("matrix", state("error", Some(reason)));
            return;
        }
        #[cfg(feature = "matrix")]
        {
            let state = self.set("matrix", state("starting", None));
            let settings = matrix::Settings {
                homeserver: matrix.homeserver.clone(),
                user: matrix.user.clone(),
                store_dir: deps.home.join("bots").join("matrix"),
                sync_timeout: Duration::from_secs(u64::from(matrix.sync_timeout_secs.clamp(1, 120))),
            };
            let Deps { service, store, vault, .. } = deps.clone();
            let stop = stop.clone();
            let Ok(mut task) = self.matrix_task.lock() else { return };
            let previous = task.take();
            *task = Some(tokio::spawn(async move {
                if let Some(previous) = previous {
                    // Cancelled by the new start's token; it ends at its next await.
                    let _ = previous.await;
                }
                // Watched: a bot that panics is reported and started again; it never takes pyrad down.
                loop {
                    let run = matrix::run(
                        settings.clone(),
                        service.clone(),
                        gate.clone(),
                        store.clone(),
                        vault.clone(),
                        state.clone(),
                        stop.clone(),
                    );
                    match tokio::spawn(run).await {
                        Ok(()) => return,
                        Err(e) => {
                            tracing::error!(error = %e, "the Matrix bot crashed; starting it again");
                            if let Ok(mut s) = state.lock() {
                                *s = self::state("error", Some(format!("crashed: {e}; starting again")));
                            }
                        }
                    }
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(5)) => {}
                        () = stop.cancelled() => return,
                    }
                }
            }));
        }
        #[cfg(not(feature = "matrix"))]
        {
            let _ = (gate, deps, stop);
            self.set("matrix", state("error", Some("this pyrad was built without the matrix feature".into())));
        }
    }
}

/// What the bots are built from.
#[derive(Clone)]
pub struct Deps {
    pub service: Arc<Service>,
    pub vault: Arc<Vault>,
    pub store: Store,
    /// PYRA_HOME.
    pub home: PathBuf,
}
