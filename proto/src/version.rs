//! The protocol's name and version, defined once, and the feature flags a daemon
//! announces in its `hello` result.

use serde::{Deserialize, Serialize};

/// The value of `protocol` in `hello`: anything else is a different protocol.
pub const PROTOCOL_NAME: &str = "pyra";

/// Bumped on every incompatible change of the wire format. Both sides must agree
/// exactly; a mismatch makes `pyractl` ask the user to restart `pyrad`.
pub const PROTOCOL_VERSION: u32 = 1;

/// Capabilities a daemon announces. Old clients keep working with newer daemons:
/// a feature they do not know decodes as [`Feature::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    /// `daemon.status`.
    Status,
    /// `daemon.shutdown`.
    Shutdown,
    /// Daemon-to-client notifications such as `daemon.stopping`.
    Events,
    /// `chat.send`, `chat.cancel`, `approval.respond`, `sessions.*`, `audit.list`.
    Chat,
    /// `memory.list|read|write|append|log|restore`.
    Memory,
    /// `vault.set|list|delete`.
    Vault,
    /// `plugins.*`.
    Plugins,
    /// `bots.status|reload|passphrase`, and `bots` in `daemon.status`.
    Bots,
    /// Messages longer than a line arrive as `rpc.chunk` notifications.
    Chunked,
    /// `plugins.changes|trust`, `daemon.doctor`, `security.audit`, and plugin trust
    /// and sandbox fields in `plugins.list` and `daemon.status`.
    Trust,
    /// `config.reload`, `provider.models`, `sessions.undo`, `chat.send` `model`,
    /// the `approval.decided` event and the outcome fields of `chat.tool`.
    Reload,
    /// A feature this build does not know.
    #[serde(other)]
    Unknown,
}

/// The features this build of the protocol defines (what a current daemon announces).
pub const FEATURES: &[Feature] = &[
    Feature::Status,
    Feature::Shutdown,
    Feature::Events,
    Feature::Chat,
    Feature::Memory,
    Feature::Vault,
    Feature::Plugins,
    Feature::Bots,
    Feature::Chunked,
    Feature::Trust,
    Feature::Reload,
];
