//! Where pyrad's home and socket are, seen from the client: the same layers as
//! pyrad's config (flag, environment, `config.toml`, default).

use std::path::PathBuf;

use anyhow::Context;

#[derive(Debug, Clone)]
pub struct Paths {
    pub home: PathBuf,
    pub socket: PathBuf,
    /// The socket was chosen explicitly (flag or environment), so a pyrad we
    /// start must be told about it.
    pub socket_overridden: bool,
}

pub fn resolve(home: Option<PathBuf>, socket: Option<PathBuf>) -> anyhow::Result<Paths> {
    let from_env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let home = home.filter(|h| !h.as_os_str().is_empty()).or_else(|| from_env("PYRA_HOME"));
    let socket = socket.filter(|s| !s.as_os_str().is_empty()).or_else(|| from_env("PYRA_SOCKET"));
    let home = match home {
        Some(home) => home,
        None => PathBuf::from(std::env::var_os("HOME").context("cannot find Pyra's home: set PYRA_HOME or HOME")?)
            .join(".pyra"),
    };
    let home = std::path::absolute(&home).with_context(|| format!("home {}", home.display()))?;
    let (socket, socket_overridden) = match socket.filter(|s| !s.as_os_str().is_empty()) {
        Some(socket) => (socket, true),
        None => match std::env::var_os("PYRA__IPC__SOCKET").filter(|s| !s.is_empty()) {
            Some(socket) => (PathBuf::from(socket), true),
            None => (configured_socket(&home).unwrap_or_default(), false),
        },
    };
    let socket = if socket.as_os_str().is_empty() {
        home.join("run").join("pyrad.sock")
    } else if socket.is_relative() {
        home.join(socket)
    } else {
        socket
    };
    Ok(Paths { home, socket, socket_overridden })
}

/// `[section] key` from `config.toml`, if present (the file is read loosely:
/// pyrad itself validates it).
pub fn config_value(home: &std::path::Path, section: &str, key: &str) -> Option<toml::Value> {
    let text = std::fs::read_to_string(home.join("config.toml")).ok()?;
    let table: toml::Table = text.parse().ok()?;
    table.get(section)?.get(key).cloned()
}

/// `[ipc] socket` from `config.toml`, if the file has one. A file pyrad cannot
/// read would stop pyrad anyway; then the default is as good a guess as any.
fn configured_socket(home: &std::path::Path) -> Option<PathBuf> {
    config_value(home, "ipc", "socket")?.as_str().map(PathBuf::from)
}
