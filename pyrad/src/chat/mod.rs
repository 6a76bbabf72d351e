//! Conversations: the [`service::Service`] every channel talks to, the turn loop,
//! the tools a turn offers (built-in, and through [`tools::ToolSource`] the
//! plugins'), the hook points ([`hooks::Hooks`]), history trimming. Chat defines
//! these traits and knows nothing of plugins: `plugins::adapter` implements them.

pub mod builtin;
pub mod history;
pub mod hooks;
pub mod service;
pub mod tools;
pub mod turn;

pub use service::{ChatError, Service};
