//! Configuration in layers: built-in defaults, then `config.toml`, then
//! `PYRA__SECTION__KEY` environment variables. Each section is a struct with
//! `Default`; unknown keys and wrong types are errors that name the file, line and
//! column (or the variable) and what was expected.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The environment prefix of the third layer: `PYRA__DAEMON__LOG_LEVEL=debug`.
pub const ENV_PREFIX: &str = "PYRA__";

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub daemon: DaemonSection,
    pub ipc: IpcSection,
    pub provider: ProviderSection,
    pub chat: ChatSection,
    pub approval: ApprovalSection,
    pub plugins: PluginsSection,
    pub bots: BotsSection,
}

/// The messaging bots and the gate in front of them. Credentials live in the vault
/// (`bot:telegram:token`, `bot:passphrase` is the bcrypt hash of the passphrase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BotsSection {
    /// The passphrase is asked again after this many seconds without a message.
    #[serde(deserialize_with = "range::int::<_, _, 60, 2592000>")]
    pub passphrase_idle_secs: u64,
    /// Messages a sender may send an hour (approval answers do not count).
    #[serde(deserialize_with = "range::int::<_, _, 1, 100000>")]
    pub messages_per_hour: u32,
    /// `refuse` (texts the scanner scores at least `refuse_score`) or `mark` (pass, tainted).
    pub injection: crate::bots::gate::InjectionPolicy,
    #[serde(deserialize_with = "range::unit")]
    pub refuse_score: f64,
    pub telegram: TelegramSection,
    pub matrix: MatrixSection,
}

impl Default for BotsSection {
    fn default() -> Self {
        Self {
            passphrase_idle_secs: 12 * 3600,
            messages_per_hour: 20,
            injection: crate::bots::gate::InjectionPolicy::Refuse,
            refuse_score: 0.8,
            telegram: TelegramSection::default(),
            matrix: MatrixSection::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelegramSection {
    pub enabled: bool,
    /// Telegram user ids that may talk to the bot; it refuses to start without one.
    pub allow: Vec<i64>,
    /// The Bot API's base URL.
    pub api_url: String,
    /// A streamed answer is edited at most this often.
    #[serde(deserialize_with = "range::int::<_, _, 100, 60000>")]
    pub edit_interval_ms: u64,
    /// Seconds a getUpdates long poll waits (the HTTP client allows 17).
    #[serde(deserialize_with = "range::int::<_, _, 1, 15>")]
    pub poll_timeout_secs: u32,
}

impl Default for TelegramSection {
    fn default() -> Self {
        Self {
            enabled: false,
            allow: Vec::new(),
            api_url: "https://api.telegram.org/".into(),
            edit_interval_ms: 1000,
            poll_timeout_secs: 10,
        }
    }
}

/// The Matrix bot. Its password (`bot:matrix:password`) or access token
/// (`bot:matrix:access_token`) is in the vault, with the session pyrad keeps
/// (`bot:matrix:session`) and the key of its encrypted store (`bot:matrix:store_key`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatrixSection {
    pub enabled: bool,
    /// The homeserver's base URL.
    pub homeserver: String,
    /// The bot's own Matrix id.
    pub user: String,
    /// Matrix ids that may talk to the bot and invite it; it refuses to start without one.
    pub allow: Vec<String>,
    /// Seconds one /sync long poll waits for events.
    #[serde(deserialize_with = "range::int::<_, _, 1, 120>")]
    pub sync_timeout_secs: u32,
}

impl Default for MatrixSection {
    fn default() -> Self {
        Self {
            enabled: false,
            homeserver: String::new(),
            user: String::new(),
            allow: Vec::new(),
            sync_timeout_secs: 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PluginsSection {
    /// Folders searched for plugins besides `$PYRA_HOME/plugins`.
    pub paths: Vec<PathBuf>,
    /// Run plugins in the kernel sandbox (no access to PYRA_HOME, TCP only if granted).
    pub sandbox: bool,
    /// Seconds between health pings of an active plugin.
    #[serde(deserialize_with = "range::int::<_, _, 1, 86400>")]
    pub health_secs: u64,
    /// Publishers whose minisign signatures you trust: name → public key.
    #[serde(deserialize_with = "trusted_keys")]
    pub trusted_keys: std::collections::BTreeMap<String, String>,
    /// Per plugin, what you lowered from the default: `[plugins.overrides.NAME]`.
    pub overrides: std::collections::BTreeMap<String, PluginOverride>,
}

impl Default for PluginsSection {
    fn default() -> Self {
        Self {
            paths: Vec::new(),
            sandbox: true,
            health_secs: 30,
            trusted_keys: Default::default(),
            overrides: Default::default(),
        }
    }
}

impl PluginsSection {
    /// Whether the user lowered `plugin`'s sandbox to none.
    pub fn unsandboxed(&self, plugin: &str) -> bool {
        self.overrides.get(plugin).is_some_and(|o| o.sandbox == SandboxLevel::None)
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PluginOverride {
    pub sandbox: SandboxLevel,
}

/// How a plugin is confined: `landlock` (the default) or `none`, which only the
/// user can choose, for a plugin on a kernel without Landlock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SandboxLevel {
    #[default]
    Landlock,
    None,
}

/// `[plugins] trusted_keys`: every key must be a minisign public key.
fn trusted_keys<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<std::collections::BTreeMap<String, String>, D::Error> {
    use serde::de::Error as _;
    let keys = std::collections::BTreeMap::<String, String>::deserialize(d)?;
    for (publisher, key) in &keys {
        crate::plugins::trust::parse_key(key).map_err(|e| D::Error::custom(format!("the key of {publisher:?} {e}")))?;
    }
    Ok(keys)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderSection {
    /// A preset id (`openai`, `anthropic`, `ollama`, `custom`, ...); empty means none configured.
    pub preset: String,
    /// The model; empty means the preset's default.
    pub model: String,
    /// Overrides the preset's URL; required for `custom`.
    pub base_url: String,
    /// Tokens of history sent; 0 means the preset's budget.
    #[serde(deserialize_with = "range::int::<_, _, 0, 100000000>")]
    pub context_tokens: u64,
    /// Tokens the model may answer with.
    #[serde(deserialize_with = "range::int::<_, _, 1, 10000000>")]
    pub max_tokens: u32,
    /// US dollars per million tokens in and out, by model: `{ "gpt-4o-mini" = [0.15, 0.60] }`.
    /// Overrides the preset's list prices; a model priced nowhere shows no cost.
    #[serde(deserialize_with = "prices")]
    pub prices: std::collections::BTreeMap<String, [f64; 2]>,
}

impl ProviderSection {
    /// The price of `model` on `preset`: this section's, else the preset's list price.
    pub fn price(&self, preset: &crate::llm::presets::Preset, model: &str) -> Option<crate::llm::presets::Price> {
        self.price_and_source(preset, model).map(|(price, _)| price)
    }

    /// The price and where it comes from: `config`, or the list prices' date.
    pub fn price_and_source(
        &self,
        preset: &crate::llm::presets::Preset,
        model: &str,
    ) -> Option<(crate::llm::presets::Price, String)> {
        use crate::llm::presets::{PRICES_AS_OF, Price, list_price};
        match self.prices.get(model) {
            Some(&[input, output]) => Some((Price { input, output }, "config".to_owned())),
            None => list_price(preset, model).map(|p| (p, format!("list price as of {PRICES_AS_OF}"))),
        }
    }
}

/// Prices are two numbers, neither negative.
fn prices<'de, D: serde::Deserializer<'de>>(d: D) -> Result<std::collections::BTreeMap<String, [f64; 2]>, D::Error> {
    use serde::de::Error as _;
    let prices = std::collections::BTreeMap::<String, [f64; 2]>::deserialize(d)?;
    for (model, pair) in &prices {
        if pair.iter().any(|p| !p.is_finite() || *p < 0.0) {
            return Err(D::Error::custom(format!(
                "the price of {model:?} must be two dollar amounts per million tokens, in and out, such as [0.15, 0.60]"
            )));
        }
    }
    Ok(prices)
}

impl Default for ProviderSection {
    fn default() -> Self {
        Self {
            preset: String::new(),
            model: String::new(),
            base_url: String::new(),
            context_tokens: 0,
            max_tokens: 4096,
            prices: Default::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChatSection {
    /// Model calls in one turn before Pyra stops a model that keeps asking for tools.
    #[serde(deserialize_with = "range::int::<_, _, 1, 1000>")]
    pub max_tool_iterations: u32,
    /// Characters of a tool result the model sees; the rest is cut with a marker.
    #[serde(deserialize_with = "range::int::<_, _, 100, 10000000>")]
    pub result_chars: usize,
    /// The base of every system prompt.
    pub system_prompt: String,
    /// Characters of memory (profile and index) added to the system prompt.
    #[serde(deserialize_with = "range::int::<_, _, 0, 10000000>")]
    pub memory_chars: usize,
}

impl Default for ChatSection {
    fn default() -> Self {
        Self {
            max_tool_iterations: 10,
            result_chars: 4000,
            system_prompt: "You are Pyra, a personal assistant running on the user's own machine. \
                            Every tool call you make is shown to the user for approval."
                .into(),
            memory_chars: 4000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApprovalSection {
    /// Seconds a tool call waits for a yes or no before it counts as denied.
    #[serde(deserialize_with = "range::int::<_, _, 1, 86400>")]
    pub timeout_secs: u64,
    /// The same, per kind of origin (`ipc`, `matrix`, `telegram`, `schedule`); unlisted kinds use `timeout_secs`.
    #[serde(deserialize_with = "range::timeouts")]
    pub timeouts: std::collections::BTreeMap<String, u64>,
    /// Tools pyrad approves in a turn nobody can answer for (`pyractl ask` without
    /// a terminal, later schedules), unless the scanner tainted the turn.
    pub unattended_allow: Vec<String>,
}

impl Default for ApprovalSection {
    fn default() -> Self {
        Self { timeout_secs: 120, timeouts: std::collections::BTreeMap::new(), unattended_allow: Vec::new() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DaemonSection {
    /// A tracing filter (`info`, `debug`, `pyrad=debug,info`). `PYRA_LOG` wins over it.
    pub log_level: String,
    /// `logs/pyrad.log` is rotated to `pyrad.log.1` past this many MiB.
    #[serde(deserialize_with = "range::int::<_, _, 1, 10240>")]
    pub log_max_mib: u64,
    /// How long in-flight requests may run on after a stop is asked for.
    #[serde(deserialize_with = "range::int::<_, _, 1, 3600>")]
    pub shutdown_timeout_secs: u64,
}

impl Default for DaemonSection {
    fn default() -> Self {
        Self { log_level: "info".into(), log_max_mib: 10, shutdown_timeout_secs: 5 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IpcSection {
    /// The control socket. Empty means `$PYRA_HOME/run/pyrad.sock`; a relative
    /// path is taken inside `PYRA_HOME`.
    pub socket: PathBuf,
    /// Connections served at once; more are told the daemon is busy and closed.
    #[serde(deserialize_with = "range::int::<_, _, 1, 65536>")]
    pub max_connections: usize,
    /// Requests one connection may have in flight; reading pauses beyond it.
    #[serde(deserialize_with = "range::int::<_, _, 1, 4096>")]
    pub max_in_flight: usize,
    /// Seconds a new connection has to say hello before it is closed.
    #[serde(deserialize_with = "range::int::<_, _, 1, 300>")]
    pub hello_timeout_secs: u64,
}

impl Default for IpcSection {
    fn default() -> Self {
        Self { socket: PathBuf::new(), max_connections: 256, max_in_flight: 32, hello_timeout_secs: 10 }
    }
}

/// The `config.toml` written on first start: every key, commented, at its default.
pub const DEFAULT_CONFIG_TOML: &str = r#"# Pyra daemon configuration.
#
# Every key is shown at its default. Values here override the defaults, and
# environment variables PYRA__<SECTION>__<KEY> override this file, for example
# PYRA__DAEMON__LOG_LEVEL=debug. Unknown keys are errors: pyrad will not start.

[daemon]
# Log filter for stderr and logs/pyrad.log: error, warn, info, debug, trace, or
# per-module directives such as "pyrad=debug,info". PYRA_LOG overrides it.
log_level = "info"
# logs/pyrad.log becomes logs/pyrad.log.1 (replacing the previous one) past this
# many MiB, so the log never fills the disk.
# Range: 1 to 10240.
log_max_mib = 10
# Seconds that in-flight requests may run on after SIGTERM or daemon.shutdown.
# Range: 1 to 3600.
shutdown_timeout_secs = 5

[ipc]
# Path of the control socket. Empty means $PYRA_HOME/run/pyrad.sock. A relative
# path is taken inside PYRA_HOME; an absolute one must be in a directory only you
# can enter (mode 0700).
socket = ""
# Client connections served at once.
# Range: 1 to 65536.
max_connections = 256
# Requests one connection may have in flight at once.
# Range: 1 to 4096.
max_in_flight = 32
# Seconds a new connection has to say hello before it is closed. When every
# connection slot is taken, the connection idle longest with nothing in flight
# is closed to make room for a new one.
# Range: 1 to 300.
hello_timeout_secs = 10

[provider]
# The LLM provider: openai, anthropic, openrouter, groq, mistral, deepseek,
# together, ollama, lmstudio, llamacpp, vllm or custom. Empty: none configured.
preset = ""
# The model. Empty means the preset's default model.
model = ""
# Overrides the preset's URL; required for custom (any OpenAI-compatible API).
base_url = ""
# Tokens of history sent with each request; 0 means the preset's budget.
# Range: 0 to 100000000.
context_tokens = 0
# Tokens the model may answer with.
# Range: 1 to 10000000.
max_tokens = 4096
# Prices in US dollars per million tokens, in and out, by model, for the cost
# shown beside the tokens. Pyra knows the list prices of the cloud presets'
# well-known models (as of 2025-10); a price here overrides them. A model priced
# nowhere shows tokens only. Example: { "gpt-4o-mini" = [0.15, 0.60] }.
prices = {}

[chat]
# Model calls in one turn before Pyra stops a model that keeps asking for tools.
# Range: 1 to 1000.
max_tool_iterations = 10
# Characters of a tool result the model sees; longer results are cut with a marker.
# Range: 100 to 10000000.
result_chars = 4000
# The base of every system prompt.
system_prompt = "You are Pyra, a personal assistant running on the user's own machine. Every tool call you make is shown to the user for approval."
# Characters of memory (user/profile.md and MEMORY_INDEX.md) added to the system prompt.
# Range: 0 to 10000000.
memory_chars = 4000

[approval]
# Seconds a tool call waits for your yes or no before it counts as denied.
# Range: 1 to 86400 (a day).
timeout_secs = 120
# Tools pyrad approves in a turn that nobody can answer for (`pyractl ask` run
# from a script or a pipe); every other call is denied there, and so is every
# call in a turn where the injection scanner flagged something. Example: ["memory__append"].
unattended_allow = []
# A different wait per kind of origin (ipc, matrix, telegram, schedule), in
# seconds; unlisted kinds wait timeout_secs. Example: { telegram = 300 }.
# Range: each 1 to 86400.
timeouts = {}

[plugins]
# Folders searched for plugins besides $PYRA_HOME/plugins; each plugin is a
# folder holding a plugin.toml.
paths = []
# Run each plugin in a kernel sandbox (Landlock): it cannot read or write
# anything in PYRA_HOME but its own folders, and cannot use TCP unless its
# manifest grants `permissions.network`.
sandbox = true
# Seconds between health pings; a plugin that does not answer one within its
# call timeout is restarted.
# Range: 1 to 86400.
health_secs = 30
# Publishers whose plugins you trust, each with its minisign public key (the
# line starting RW in its .pub file). `pyractl plugin install` checks an
# archive's X.tar.gz.minisig, or a folder's SHA256SUMS.minisig, against these;
# anything else installs only with --allow-unsigned and is shown unverified.
# Example: { "Ada Lovelace" = "RWQ..." }.
trusted_keys = {}
# What you lowered for one plugin. On a kernel without Landlock a plugin is not
# started unless you write, for it:
#   [plugins.overrides.NAME]
#   sandbox = "none"
overrides = {}

[bots]
# The Telegram and Matrix bots share this gate. The passphrase they ask for is
# set with `pyractl bots passphrase --stdin` (kept as a bcrypt hash in the vault).
# Seconds without a message after which the passphrase is asked again.
# Range: 60 to 2592000 (30 days).
passphrase_idle_secs = 43200
# Messages one sender may send an hour; answers to approval prompts do not count.
# Range: 1 to 100000.
messages_per_hour = 20
# What happens to an incoming message the injection scanner flags: "refuse"
# refuses it when it scores at least refuse_score (and passes lower ones with
# their turn tainted, so every tool call asks); "mark" passes them all, tainted.
injection = "refuse"
# The score (0 to 1) from which a flagged message is refused.
# Range: 0 to 1.
refuse_score = 0.8

[bots.telegram]
# Run the Telegram bot (`pyractl bots setup telegram --token-stdin --allow <id>`
# sets this, the allowlist and the token in the vault).
enabled = false
# Telegram user ids that may talk to the bot; it does not start without one.
allow = []
# The Bot API's base URL.
api_url = "https://api.telegram.org/"
# A streamed answer is edited at most once per this many milliseconds.
# Range: 100 to 60000.
edit_interval_ms = 1000
# Seconds one getUpdates long poll waits for a message (at most 15).
# Range: 1 to 15.
poll_timeout_secs = 10

[bots.matrix]
# Run the Matrix bot (`pyractl bots setup matrix --homeserver <url> --user
# <@bot:server> --password-stdin --allow <@you:server>` sets these and puts the
# password in the vault). Encrypted rooms are supported; the bot's device and
# keys are kept under bots/matrix/ across restarts.
enabled = false
# The homeserver's base URL, such as "https://matrix.org".
homeserver = ""
# The bot's own Matrix id, such as "@pyra:matrix.org".
user = ""
# Matrix ids that may talk to the bot and invite it; it does not start without one.
allow = []
# Seconds one /sync long poll waits for events.
# Range: 1 to 120.
sync_timeout_secs = 30
"#;

/// A configuration that cannot be used, said so a person can fix it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}:{column}: {message}")]
    File { path: PathBuf, line: usize, column: usize, message: String },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
}

impl Config {
    /// Loads `path` (absent means defaults) and applies `env` on top.
    pub fn load(path: &Path, env: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(ConfigError::Read { path: path.to_owned(), source });
            }
        };
        Self::parse(path, &text, env)
    }

    /// Parses `text` (the contents of `path`) and applies `env` on top.
    pub fn parse(
        path: &Path,
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        // The file alone first, so its mistakes are reported with line and column.
        let file_error = |e: toml::de::Error| {
            let (line, column) = e.span().map(|s| line_column(text, s.start)).unwrap_or((1, 1));
            ConfigError::File { path: path.to_owned(), line, column, message: e.message().trim().to_owned() }
        };
        let config: Config = toml::from_str(text).map_err(file_error)?;
        let overrides: Vec<(String, String)> = env.into_iter().filter(|(var, _)| var.starts_with(ENV_PREFIX)).collect();
        if overrides.is_empty() {
            return Ok(config);
        }
        let mut table = toml::Table::try_from(&config).map_err(|e| ConfigError::File {
            path: path.to_owned(),
            line: 1,
            column: 1,
            message: e.to_string(),
        })?;
        for (var, value) in overrides {
            let Some(rest) = var.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let env_error = |message: String| ConfigError::Env { var: var.clone(), message };
            let Some((section, key)) = rest.split_once("__") else {
                return Err(env_error("expected PYRA__<SECTION>__<KEY>".into()));
            };
            let (section, key) = (section.to_ascii_lowercase(), key.to_ascii_lowercase());
            let Some(toml::Value::Table(fields)) = table.get_mut(&section) else {
                return Err(env_error(format!("unknown section [{section}]")));
            };
            let Some(slot) = fields.get_mut(&key) else {
                return Err(env_error(format!("unknown key {key:?} in [{section}]")));
            };
            *slot = env_value(&value, slot);
            // Check each variable on its own so an error names the right one.
            table.clone().try_into::<Config>().map_err(|e| env_error(e.message().trim().to_owned()))?;
        }
        table.try_into().map_err(|e: toml::de::Error| ConfigError::Env {
            var: ENV_PREFIX.to_owned() + "*",
            message: e.message().trim().to_owned(),
        })
    }
}

/// An environment value as TOML: numbers and booleans where the key wants them,
/// everything else as a string.
fn env_value(raw: &str, current: &toml::Value) -> toml::Value {
    let parsed = format!("v = {raw}").parse::<toml::Table>().ok().and_then(|mut t| t.remove("v"));
    match (current, parsed) {
        (toml::Value::String(_), _) | (_, None) => toml::Value::String(raw.to_owned()),
        (_, Some(v)) => v,
    }
}

/// 1-based line and column of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(before.chars().count(), |nl| before[nl + 1..].chars().count()) + 1;
    (line, column)
}

/// Ranges of numeric keys, checked while deserializing so a value out of range is
/// reported like a type error: with file, line and column, or the variable's name.
mod range {
    use std::collections::BTreeMap;
    use std::fmt::Display;

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer};

    /// An integer in `LO..=HI`.
    pub fn int<'de, D, T, const LO: i64, const HI: i64>(d: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de> + TryInto<i64> + Copy + Display,
    {
        let value = T::deserialize(d)?;
        check::<T, D::Error>(value, LO, HI)
    }

    fn check<T: TryInto<i64> + Copy + Display, E: serde::de::Error>(value: T, lo: i64, hi: i64) -> Result<T, E> {
        match value.try_into() {
            Ok(v) if (lo..=hi).contains(&v) => Ok(value),
            _ => Err(E::custom(format!("{value} is out of range: must be from {lo} to {hi}"))),
        }
    }

    /// A score from 0 to 1.
    pub fn unit<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        let value = f64::deserialize(d)?;
        if (0.0..=1.0).contains(&value) {
            Ok(value)
        } else {
            Err(D::Error::custom(format!("{value} is out of range: must be from 0 to 1")))
        }
    }

    /// `approval.timeouts`: every wait from 1 second to a day, like `timeout_secs`.
    pub fn timeouts<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, u64>, D::Error> {
        let map = BTreeMap::<String, u64>::deserialize(d)?;
        for (kind, secs) in &map {
            check::<u64, D::Error>(*secs, 1, 86400).map_err(|e| D::Error::custom(format!("{kind}: {e}")))?;
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests;
