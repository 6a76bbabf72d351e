//! Plugins: standalone programs speaking MCP over stdio, described by a
//! `plugin.toml`. So far: the manifest and its validation; the MCP host, the
//! lifecycle and the registry come next (issue 4).

pub mod host;
pub mod install;
pub mod manifest;
pub mod mcp;
pub mod order;
pub mod process;
