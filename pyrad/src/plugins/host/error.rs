//! Why a plugin operation failed. The messages are what the user reads (over the
//! socket, in `plugins.list` as a failed plugin's reason, or as a tool's error).

use std::path::PathBuf;

use super::super::install::InstallError;
use super::super::mcp::McpError;
use super::State;
use crate::security::modes::ModeError;
use crate::security::safe_path::SafePathError;
use crate::store::StoreError;
use crate::vault::VaultError;

#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("no plugin named {0:?}")]
    NotFound(String),
    #[error("no active plugin named {0:?}")]
    NotActive(String),
    /// A direct call to a plugin that is not active.
    #[error("plugin {name} is {state}{}", reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    Unavailable { name: String, state: &'static str, reason: Option<String> },
    /// A tool call to a plugin whose process is gone.
    #[error("plugin {name} is not running ({state:?})")]
    NotRunning { name: String, state: State },
    #[error("{0:?} is not plugin__tool")]
    NotPluginTool(String),
    #[error("plugin {plugin} has no tool {tool:?}")]
    NoTool { plugin: String, tool: String },
    #[error("{0}")]
    Mcp(#[from] McpError),

    // Starting.
    #[error("vault key {key:?} is not set; run `pyractl plugin setup {plugin}`")]
    VaultKeyMissing { key: String, plugin: String },
    #[error("cannot find pyrad itself: {0}")]
    CurrentExe(std::io::Error),
    #[error("cannot start {command:?}: {source}")]
    Start { command: String, source: std::io::Error },
    /// The MCP handshake failed; the plugin's log says more.
    #[error("{source} (see logs/plugins/{plugin}.log)")]
    Handshake { plugin: String, source: McpError },

    // Settings.
    #[error("{plugin} has no setting {key:?}")]
    NoSetting { plugin: String, key: String },
    #[error("{key} is {}", if *secret { "a secret (it goes to the vault)" } else { "not a secret" })]
    SecretKind { key: String, secret: bool },
    #[error("the plugin's config_schema is invalid: {0}")]
    BadSchema(String),
    /// The values do not match the schema: where, and why.
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: {source}")]
    File { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Write(std::io::Error),
    #[error("{0}")]
    Json(#[from] serde_json::Error),

    // Installing.
    #[error("no plugin folder configured")]
    NoInstallDir,
    #[error("{} changed since it was inspected (sha256 {sha256}); inspect it again", path.display())]
    Changed { path: PathBuf, sha256: String },
    #[error(
        "{name} is {signed}; install it only if you trust where it came from, with --allow-unsigned \
         (or add its publisher's key to [plugins] trusted_keys)"
    )]
    Unsigned { name: String, signed: String },
    #[error(
        "{name} {offered} is older than the installed {installed}; an old signed archive could be a replay. \
         Uninstall it first to go back"
    )]
    Downgrade { name: String, installed: String, offered: String },
    #[error("{name}'s files changed since you looked (now {digest}); run `pyractl plugin trust {name}` again")]
    TrustChanged { name: String, digest: String },
    #[error("{0} is in a development folder ([plugins] paths): its files are not tracked")]
    DevPlugin(String),
    #[error("no installed plugin named {name:?} in {}", dir.display())]
    NotInstalled { name: String, dir: PathBuf },
    #[error("cannot remove {}: {source}", path.display())]
    Remove { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Install(#[from] InstallError),
    #[error("{0}")]
    Path(#[from] SafePathError),

    // What pyrad's own parts said.
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Vault(#[from] VaultError),
    #[error("{0}")]
    Mode(#[from] ModeError),
}
