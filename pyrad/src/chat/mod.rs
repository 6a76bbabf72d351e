//! Conversations: the [`service::Service`] every channel talks to, the turn loop,
//! the tools a turn offers (built-in and plugin), history trimming.

pub mod builtin;
pub mod history;
pub mod service;
pub mod tools;
pub mod turn;

pub use service::{ChatError, Service};
