//! `pyractl`, the thin client for pyrad: status, daemon control, service
//! installation, completions. Exit codes: 0 ok, 1 failure, 2 usage,
//! 3 pyrad not running, 4 protocol mismatch (restart pyrad).

mod backup;
mod chat;
mod cli;
mod client;
mod commands;
mod complete;
mod daemon_ctl;
mod exit;
mod paths;
mod prompt;
mod render;
// The one safe-path function, shared with pyrad (a client cannot link to the
// daemon's binary, so the same file is compiled into both).
#[path = "../../pyrad/src/security/safe_path.rs"]
mod safe_path;
// The UTC stamps of backup names, shared with pyrad the same way.
#[path = "../../pyrad/src/clock.rs"]
#[allow(dead_code)] // pyractl uses only utc_stamp
mod clock;
mod security;
mod service;
mod setup;
// The provider presets, shared with pyrad the same way (one table of what each
// provider needs), so setup checks answers as pyrad will read them.
#[path = "../../pyrad/src/llm/presets.rs"]
#[allow(dead_code)] // pyractl needs the table, not the resolution
mod presets;
mod turn;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use proto::ipc::{DaemonStatus, Empty};

use crate::cli::{Cli, Command, DaemonCommand, Target};
use crate::client::{Client, ClientError};

fn main() -> ExitCode {
    // Like every Unix tool, stop quietly when the reader of our output goes away
    // (`pyractl audit | head`). The socket to pyrad is written with MSG_NOSIGNAL,
    // so a pyrad that went away is still reported, not silently fatal.
    // SAFETY: setting a signal's disposition to the default, before any thread starts.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    complete::answer_if_asked();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pyractl: {e:#}");
            let code = match e.downcast_ref::<ClientError>() {
                Some(ClientError::NotRunning { .. }) => exit::NOT_RUNNING,
                Some(ClientError::VersionMismatch(_)) => exit::VERSION_MISMATCH,
                _ => exit::FAILURE,
            };
            ExitCode::from(code)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Completions { shell } = cli.command {
        return complete::print(&complete::registration(shell)?);
    }
    let paths = paths::resolve(cli.home, cli.socket)?;
    match cli.command {
        Command::Status { json } => {
            let status = Client::connect(&paths.socket)?.call::<DaemonStatus>(&Empty)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                println!("{}", render::status(&status));
            }
        }
        Command::Daemon(command) => daemon(command, &paths)?,
        Command::Completions { .. } => {}
        Command::Chat { resume } => chat::run(&paths, resume)?,
        Command::Ask { text, session, model, json } => commands::ask(&paths, text, session, model, json)?,
        Command::Models { json } => commands::models(&paths, json)?,
        Command::Config(cli::ConfigCommand::Reload) => commands::print_reload(&commands::config_reload(&paths)?),
        Command::Setup { provider, model, base_url, api_key_stdin } => {
            setup::setup(&paths, provider, model, base_url, api_key_stdin)?
        }
        Command::Audit { limit, json } => commands::audit(&paths, limit, json)?,
        Command::Sessions(command) => commands::sessions(&paths, command)?,
        Command::Memory(command) => commands::memory(&paths, command)?,
        Command::Vault(command) => commands::vault(&paths, command)?,
        Command::Bots(command) => commands::bots(&paths, command)?,
        Command::Backup { output } => backup::backup(&paths, output)?,
        Command::Restore { file } => backup::restore(&paths, &file)?,
        Command::Plugin(command) => commands::plugin(&paths, command)?,
        Command::Security(cli::SecurityCommand::Scan { json, jsonl }) => {
            if !commands::scan(&paths, json, jsonl)? {
                std::process::exit(1);
            }
        }
        Command::Security(cli::SecurityCommand::Audit { ai }) => security::audit(&paths, ai)?,
        Command::Doctor { json } => {
            if !security::doctor(&paths, json)? {
                std::process::exit(1);
            }
        }
    }
    Ok(())
}

fn daemon(command: DaemonCommand, paths: &paths::Paths) -> anyhow::Result<()> {
    match command {
        DaemonCommand::Start { wait } => daemon_ctl::start(paths, Duration::from_secs(wait))?,
        DaemonCommand::Stop { wait } => {
            let pid = daemon_ctl::stop(paths, Duration::from_secs(wait))?;
            println!("pyrad stopped (pid {pid})");
        }
        DaemonCommand::Restart { wait } => {
            match daemon_ctl::stop(paths, Duration::from_secs(wait)) {
                Ok(pid) => println!("pyrad stopped (pid {pid})"),
                Err(ClientError::NotRunning { .. }) => {}
                Err(e) => return Err(e.into()),
            }
            daemon_ctl::start(paths, Duration::from_secs(wait))?;
        }
        DaemonCommand::Status => daemon_ctl::status(paths)?,
        DaemonCommand::Install { print, no_enable, target } => {
            let target = target.unwrap_or_else(Target::native);
            let pyrad = std::env::current_exe()
                .ok()
                .and_then(|me| me.parent().map(|d| d.join("pyrad")))
                .filter(|p| p.is_file())
                .context("cannot find pyrad next to pyractl; install both into the same directory")?;
            let pyrad = std::fs::canonicalize(&pyrad).with_context(|| format!("{}", pyrad.display()))?;
            if print {
                print!("{}", service::render(target, &pyrad, &paths.home)?);
            } else {
                service::install(target, &pyrad, &paths.home, !no_enable)?;
            }
        }
        DaemonCommand::Uninstall { target } => service::uninstall(target.unwrap_or_else(Target::native))?,
    }
    Ok(())
}
