//! Shell completion: the registration script `pyractl completions SHELL` prints,
//! and the names pyrad knows (sessions, plugins, memory files), asked for as the
//! person types. The shell runs `COMPLETE=<shell> pyractl -- <words>`; clap's
//! completion engine calls the candidate functions below.

use std::io::Write;

use clap_complete::CompletionCandidate;
use clap_complete::env::EnvCompleter;
use proto::ipc::{Empty, ListParams, MemoryList, PluginsList, SessionsList};

use crate::client::Client;

/// The variable the shell sets when it asks for completions.
pub const VAR: &str = "COMPLETE";

/// Answers the shell when it asks (`COMPLETE` set); returns otherwise.
pub fn answer_if_asked() {
    clap_complete::CompleteEnv::with_factory(<crate::cli::Cli as clap::CommandFactory>::command).var(VAR).complete();
}

/// The script that makes `shell` ask pyractl for completions.
pub fn registration(shell: clap_complete::Shell) -> anyhow::Result<Vec<u8>> {
    let completer: &dyn EnvCompleter = match shell {
        clap_complete::Shell::Bash => &clap_complete::env::Bash,
        clap_complete::Shell::Zsh => &clap_complete::env::Zsh,
        clap_complete::Shell::Fish => &clap_complete::env::Fish,
        clap_complete::Shell::Elvish => &clap_complete::env::Elvish,
        clap_complete::Shell::PowerShell => &clap_complete::env::Powershell,
        other => anyhow::bail!("no completions for {other}"),
    };
    // The shell calls this very binary back, wherever it is installed.
    let me = std::env::current_exe()?;
    let me = me.to_string_lossy();
    let mut script = Vec::new();
    completer.write_registration(VAR, "pyractl", "pyractl", &me, &mut script)?;
    Ok(script)
}

/// Writes to stdout; a reader that went away (`| head -1`) is no error.
pub fn print(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// A connection to pyrad found the way pyractl finds it (environment, config,
/// default), or nothing: completion never prints errors into the shell.
fn client() -> Option<Client> {
    let paths = crate::paths::resolve(None, None).ok()?;
    Client::connect(&paths.socket).ok()
}

pub fn sessions() -> Vec<CompletionCandidate> {
    let Some(mut client) = client() else { return Vec::new() };
    let list = client.call::<SessionsList>(&ListParams { limit: Some(50) }).unwrap_or_default();
    list.into_iter().map(|s| CompletionCandidate::new(s.id).help(Some(s.title.into()))).collect()
}

pub fn plugins() -> Vec<CompletionCandidate> {
    let Some(mut client) = client() else { return Vec::new() };
    let Ok(list) = client.call::<PluginsList>(&Empty) else { return Vec::new() };
    list.plugins.into_iter().map(|p| CompletionCandidate::new(p.name).help(Some(p.state.into()))).collect()
}

pub fn memory_files() -> Vec<CompletionCandidate> {
    let Some(mut client) = client() else { return Vec::new() };
    let list = client.call::<MemoryList>(&Empty).unwrap_or_default();
    list.into_iter().map(|m| CompletionCandidate::new(m.name)).collect()
}
