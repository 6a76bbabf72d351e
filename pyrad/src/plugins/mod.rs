//! Plugins: standalone programs speaking MCP over stdio, described by a
//! `plugin.toml`: the manifest, the MCP client, the process guard, the host
//! (lifecycle, tools, hooks), installation, and the adapter that offers the host
//! to chat's traits.

pub mod adapter;
pub mod grants;
pub mod host;
pub mod install;
pub mod log;
pub mod manifest;
pub mod mcp;
pub mod order;
pub mod process;
pub mod procfs;
pub mod trust;
