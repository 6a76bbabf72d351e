//! The command line, declared with clap.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use clap_complete::ArgValueCandidates;

#[derive(Debug, Parser)]
#[command(name = "pyractl", version, about = "Talk to pyrad, Pyra's daemon", propagate_version = true)]
pub struct Cli {
    /// Pyra's home directory [default: $PYRA_HOME, else ~/.pyra].
    // The environment is read in `paths::resolve`, not by clap: clap would print
    // the option in every usage line as though it were required.
    #[arg(long, global = true, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// The control socket [default: $PYRA_SOCKET, else from config.toml, else <home>/run/pyrad.sock].
    #[arg(long, global = true, value_name = "PATH")]
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
    /// Print the completion script for a shell, such as `source <(pyractl completions bash)`.
    ///
    /// Session ids, plugin and memory names are completed by asking pyrad as you type.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Talk with Pyra in the terminal.
    Chat {
        /// Continue this session (its id, or the start of it).
        #[arg(long, value_name = "ID", add = ArgValueCandidates::new(crate::complete::sessions))]
        resume: Option<String>,
    },
    /// Ask once and print the answer (reads the question from stdin when piped).
    Ask {
        /// The question; absent means read stdin.
        text: Option<String>,
        /// Continue this session instead of starting one.
        #[arg(long, value_name = "ID", add = ArgValueCandidates::new(crate::complete::sessions))]
        session: Option<String>,
        /// Use this model for this question (see `pyractl models`).
        #[arg(long, short = 'm', value_name = "MODEL")]
        model: Option<String>,
        /// Print {session, turn, text, tools, usage} as JSON instead of streaming text.
        #[arg(long)]
        json: bool,
    },
    /// The models the provider offers (the one in use is marked *).
    Models {
        /// Print them as JSON.
        #[arg(long)]
        json: bool,
    },
    /// pyrad's configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Choose the LLM provider and model, and store its API key in the vault.
    Setup {
        /// A preset: openai, anthropic, openrouter, groq, mistral, deepseek, together,
        /// ollama, lmstudio, llamacpp, vllm, custom. Absent: ask interactively.
        #[arg(long)]
        provider: Option<String>,
        /// The model (default: the preset's own).
        #[arg(long)]
        model: Option<String>,
        /// The API's base URL, with http:// or https:// (needed for custom).
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
        /// Read the API key from standard input.
        #[arg(long)]
        api_key_stdin: bool,
    },
    /// Tool calls (and flagged texts), newest first.
    Audit {
        /// How many to show.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Print them as JSON (times as Unix seconds).
        #[arg(long)]
        json: bool,
    },
    /// Conversations.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// Your memory files.
    #[command(subcommand)]
    Memory(MemoryCommand),
    /// Secrets (names only are ever shown).
    #[command(subcommand)]
    Vault(VaultCommand),
    /// Plugins (MCP servers run by pyrad).
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// The prompt-injection scanner, and the security audit.
    #[command(subcommand)]
    Security(SecurityCommand),
    /// Check the install: modes, plaintext secrets, the sandbox, plugins, the
    /// provider, the service unit, the bots. Prints each finding with its fix;
    /// exits 1 when there is one.
    Doctor {
        /// Print the findings as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The messaging bots (Matrix, Telegram).
    #[command(subcommand)]
    Bots(BotsCommand),
    /// Write the whole home to one .tar.gz (works while pyrad runs).
    ///
    /// Left out: run/ (socket, pid, marker), data/backups/ (pyrad's daily
    /// database copies) and the databases' -wal/-shm files; the databases are
    /// copied with SQLite's online backup API.
    Backup {
        /// Where to write it (default: pyra-backup-YYYYMMDD-HHMMSS.tar.gz here, UTC); never overwritten.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Put back an archive from `pyractl backup`, or one database copy such as data/backups/pyra-*.db.
    ///
    /// pyrad must be stopped. Nothing is deleted: a database replaced goes to
    /// data/pyra.db.replaced-YYYYMMDD-HHMMSS, what an archive replaces to
    /// replaced-YYYYMMDD-HHMMSS/ in the home.
    Restore {
        /// The archive (.tar.gz) or SQLite database file.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Make pyrad read config.toml again and apply it without restarting (as
    /// SIGHUP and `systemctl --user reload pyrad` do); says what needs a restart.
    Reload,
}

#[derive(Debug, Subcommand)]
pub enum BotsCommand {
    /// Each bot's state: connected, error (with the reason) or disabled.
    Status {
        /// Print the states as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Set the passphrase the bots ask for, read from standard input.
    Passphrase {
        /// Read it from standard input (the only way; the flag says so in scripts).
        #[arg(long)]
        stdin: bool,
    },
    /// Connect a bot; takes effect without restarting pyrad.
    #[command(subcommand)]
    Setup(BotsSetup),
}

#[derive(Debug, Subcommand)]
pub enum BotsSetup {
    /// The Telegram bot: a token from @BotFather and the user ids allowed in.
    Telegram {
        /// Read the bot token from standard input (never from the command line).
        #[arg(long)]
        token_stdin: bool,
        /// A Telegram user id allowed to talk to the bot (repeat for more).
        #[arg(long = "allow", required = true)]
        allow: Vec<i64>,
        /// The Bot API's base URL (for a local Bot API server).
        #[arg(long)]
        api_url: Option<String>,
    },
    /// The Matrix bot: its account on a homeserver and the Matrix ids allowed in.
    Matrix {
        /// The homeserver's base URL, such as https://matrix.org.
        #[arg(long)]
        homeserver: String,
        /// The bot's own Matrix id, such as @pyra:matrix.org.
        #[arg(long)]
        user: String,
        /// Read the bot account's password from standard input (never from the command line).
        #[arg(long, conflicts_with = "access_token_stdin", required_unless_present = "access_token_stdin")]
        password_stdin: bool,
        /// Read an access token from standard input instead of a password.
        #[arg(long)]
        access_token_stdin: bool,
        /// A Matrix id allowed to talk to the bot and invite it (repeat for more).
        #[arg(long = "allow", required = true)]
        allow: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SecurityCommand {
    /// Scan text from standard input for prompt injection (exit 1 when flagged).
    Scan {
        /// Print the verdict as JSON.
        #[arg(long)]
        json: bool,
        /// Read one JSON object a line with a `text` field; write one verdict a line, in order.
        #[arg(long, conflicts_with = "json")]
        jsonl: bool,
    },
    /// Write security_audit.md in the home (readable by you alone): the doctor's
    /// findings, the security log, refused and flagged tool calls, broad grants,
    /// and memory files the scanner flags.
    Audit {
        /// Append a model's summary of those findings (it sees nothing else).
        #[arg(long)]
        ai: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Every plugin with its state, tools and figures.
    List {
        /// Print them as JSON.
        #[arg(long)]
        json: bool,
    },
    /// One plugin in detail.
    Info {
        /// The plugin's name, as `plugin list` shows it.
        #[arg(add = ArgValueCandidates::new(crate::complete::plugins))]
        name: String,
    },
    /// Run a plugin tool yourself (no model, so no approval; audited).
    Call {
        /// `plugin__tool`.
        tool: String,
        /// Arguments as a JSON object.
        #[arg(default_value = "{}")]
        args: String,
    },
    /// Install a plugin from a folder, a .tar.gz or a .zip (shows what it asks for first).
    Install {
        /// The folder or archive; with --bundled, one of: files, shell, web.
        source: std::path::PathBuf,
        /// Install one of the plugins that ship with Pyra.
        #[arg(long)]
        bundled: bool,
        /// Do not ask for confirmation (needed without a terminal).
        #[arg(long)]
        yes: bool,
        /// Install it though no publisher in [plugins] trusted_keys signed it.
        #[arg(long)]
        allow_unsigned: bool,
    },
    /// Replace an installed plugin with a newer folder or archive.
    Update {
        /// The folder or archive of the new version.
        source: std::path::PathBuf,
        /// Do not ask for confirmation (needed without a terminal).
        #[arg(long)]
        yes: bool,
        /// Install it though no publisher in [plugins] trusted_keys signed it.
        #[arg(long)]
        allow_unsigned: bool,
    },
    /// Show how a plugin's files changed since you accepted them, and accept them
    /// as they are now (a `modified` plugin then starts).
    Trust {
        /// The plugin's name.
        #[arg(add = ArgValueCandidates::new(crate::complete::plugins))]
        name: String,
        /// Accept without asking (needed without a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Stop a plugin and remove its folder (its data folder is kept).
    Uninstall {
        /// The plugin's name.
        #[arg(add = ArgValueCandidates::new(crate::complete::plugins))]
        name: String,
    },
    /// Answer the settings a plugin asks for (folders, keys); secrets go to the vault.
    /// Applied live: pyrad restarts the plugin alone.
    Setup {
        /// The plugin's name.
        #[arg(add = ArgValueCandidates::new(crate::complete::plugins))]
        name: String,
    },
    /// Let the tools the plugin declares read-only run without asking.
    Grant {
        /// The plugin's name.
        #[arg(add = ArgValueCandidates::new(crate::complete::plugins))]
        name: String,
    },
    /// Ask for every tool of the plugin again.
    Revoke {
        /// The plugin's name.
        #[arg(add = ArgValueCandidates::new(crate::complete::plugins))]
        name: String,
    },
    /// Start a disabled plugin again (remembered).
    Enable {
        /// The plugin's name.
        #[arg(add = ArgValueCandidates::new(crate::complete::plugins))]
        name: String,
    },
    /// Stop a plugin and keep it stopped (remembered).
    Disable {
        /// The plugin's name.
        #[arg(add = ArgValueCandidates::new(crate::complete::plugins))]
        name: String,
    },
    /// Stop every plugin and start what the plugin folders hold now.
    Reload,
    /// The plugin's stderr log.
    Logs {
        /// The plugin's name.
        #[arg(add = ArgValueCandidates::new(crate::complete::plugins))]
        name: String,
        /// Lines from the end.
        #[arg(long, default_value_t = 50)]
        lines: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// Conversations, most recently used first, with their tokens.
    List {
        /// How many to show.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Print them as JSON.
        #[arg(long)]
        json: bool,
    },
    /// A conversation's messages.
    Show {
        /// The session's id, or the start of it.
        #[arg(add = ArgValueCandidates::new(crate::complete::sessions))]
        id: String,
    },
    /// Delete a conversation and its messages (exit 1 when there is none).
    Delete {
        /// The session's whole id.
        #[arg(add = ArgValueCandidates::new(crate::complete::sessions))]
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum MemoryCommand {
    /// The memory files and their sizes.
    List,
    /// Print a memory file.
    Show {
        /// Such as `user/profile.md`.
        #[arg(add = ArgValueCandidates::new(crate::complete::memory_files))]
        name: String,
    },
    /// Edit in $EDITOR; the old content stays as a version.
    Edit {
        /// Such as `user/profile.md` (a new name makes a new file).
        #[arg(add = ArgValueCandidates::new(crate::complete::memory_files))]
        name: String,
    },
    /// A memory file's versions: when, by whom, how big.
    Log {
        /// Such as `user/profile.md`.
        #[arg(add = ArgValueCandidates::new(crate::complete::memory_files))]
        name: String,
    },
    /// Bring back an old version of a memory file (itself saved as a new version).
    Restore {
        /// Such as `user/profile.md`.
        #[arg(add = ArgValueCandidates::new(crate::complete::memory_files))]
        name: String,
        /// The version to bring back, as `memory log` shows it: `v3` or `3`.
        #[arg(value_name = "VERSION", value_parser = parse_version)]
        number: u32,
    },
}

/// `v3` or `3`, as `memory log` prints it.
fn parse_version(text: &str) -> Result<u32, String> {
    let digits = text.strip_prefix(['v', 'V']).unwrap_or(text);
    match digits.parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{text:?} is not a version; `pyractl memory log NAME` lists them (v1, v2, ...)")),
    }
}

#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// Store a secret, read from standard input (never from the command line).
    Set {
        /// Its name, such as `provider:openai:api_key`.
        key: String,
    },
    /// The secrets' names (never their values).
    List,
    /// Delete a secret.
    Delete {
        /// Its name, as `vault list` shows it.
        key: String,
    },
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
        /// Seconds to wait for each step.
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
        /// The service manager (default: this OS's).
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn versions_read_as_memory_log_prints_them() {
        assert_eq!(super::parse_version("v3"), Ok(3));
        assert_eq!(super::parse_version("12"), Ok(12));
        assert!(super::parse_version("v0").is_err());
        assert!(super::parse_version("three").unwrap_err().contains("memory log"));
    }

    /// Every command and argument says what it is for in `--help`.
    #[test]
    fn every_command_and_argument_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let builtin = matches!(arg.get_id().as_str(), "help" | "version");
                if !builtin && arg.get_help().is_none() {
                    missing.push(format!("{path} {}", arg.get_id()));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_name() == "help" {
                    continue;
                }
                if sub.get_about().is_none() {
                    missing.push(format!("{path} {}", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "pyractl", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:#?}");
    }
}
