//! The command line, declared with clap.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "pyractl", version, about = "Talk to pyrad, Pyra's daemon", propagate_version = true)]
pub struct Cli {
    /// Pyra's home directory.
    #[arg(long, global = true, env = "PYRA_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// The control socket (default: from config.toml, else $PYRA_HOME/run/pyrad.sock).
    #[arg(long, global = true, env = "PYRA_SOCKET", value_name = "PATH")]
    pub socket: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what pyrad is doing.
    Status {
        /// Print the daemon's status as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Start, stop and install the daemon.
    #[command(subcommand)]
    Daemon(DaemonCommand),
    /// Print shell completions.
    Completions { shell: clap_complete::Shell },
}

#[derive(Debug, Subcommand)]
pub enum DaemonCommand {
    /// Start pyrad: through the installed service, else as a detached process.
    Start {
        /// Seconds to wait for pyrad to become ready.
        #[arg(long, default_value_t = 15)]
        wait: u64,
    },
    /// Ask pyrad to stop and wait until it has.
    Stop {
        /// Seconds to wait for pyrad to exit.
        #[arg(long, default_value_t = 15)]
        wait: u64,
    },
    /// Stop pyrad if it runs, then start it.
    Restart {
        #[arg(long, default_value_t = 15)]
        wait: u64,
    },
    /// Say whether pyrad runs, and how it is installed.
    Status,
    /// Write the service file for this OS and enable it.
    Install {
        /// Print the service file instead of writing it.
        #[arg(long)]
        print: bool,
        /// Write the file but do not enable or start it.
        #[arg(long)]
        no_enable: bool,
        /// The service manager (default: this OS's).
        #[arg(long, value_enum)]
        target: Option<Target>,
    },
    /// Disable the service and remove its file.
    Uninstall {
        #[arg(long, value_enum)]
        target: Option<Target>,
    },
}

/// The service managers Pyra installs into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    Systemd,
    Launchd,
}

impl Target {
    pub fn native() -> Self {
        if cfg!(target_os = "macos") { Target::Launchd } else { Target::Systemd }
    }
}
