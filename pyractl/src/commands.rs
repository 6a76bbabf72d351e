//! The conversation, memory, vault, audit and setup commands.

use std::io::{IsTerminal, Read, Write};

use anyhow::{Context, bail};
use proto::ipc::{
    AuditList, BotsPassphrase, BotsReload, BotsStatus, ChatSendParams, ConfigureParams, Empty, ListParams, MemoryFile,
    MemoryList, MemoryLog, MemoryName, MemoryRead, MemoryRestore, MemoryRestoreParams, MemoryWrite, PassphraseParams,
    PluginCallParams, PluginInstallParams, PluginName, PluginSource, PluginsCall, PluginsConfigure, PluginsDisable,
    PluginsEnable, PluginsGrant, PluginsInspect, PluginsInstall, PluginsList, PluginsReload, PluginsRevoke,
    PluginsSetupInfo, PluginsUninstall, ScanParams, SecurityScan, SessionParams, SessionsDelete, SessionsGet,
    SessionsList, VaultDelete, VaultKey, VaultList, VaultSet, VaultSetParams,
};

use crate::cli::{BotsCommand, BotsSetup, MemoryCommand, PluginCommand, SessionsCommand, VaultCommand};
use crate::client::{Client, ClientError};
use crate::paths::Paths;
use crate::turn::{self, Approver};

fn connect(paths: &Paths) -> Result<Client, ClientError> {
    Client::connect(&paths.socket)
}

/// `pyractl ask`'s view: the answer on stdout as it comes; tool lines and
/// warnings on stderr when a person watches it.
struct AskView {
    /// Print the answer (not with `--json`).
    stream: bool,
    /// stderr is a terminal: tool lines go there.
    watched: bool,
}

impl turn::View for AskView {
    fn delta(&mut self, text: &str) {
        if self.stream {
            let mut out = std::io::stdout();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
    }

    fn tool(&mut self, t: &proto::ipc::ToolEventParams) {
        if self.watched
            && let Some(line) = turn::tool_summary(t, true)
        {
            eprintln!("{line}");
        }
    }

    fn note(&mut self, line: &str) {
        eprintln!("{line}");
    }
}

pub fn ask(
    paths: &Paths,
    text: Option<String>,
    session: Option<String>,
    model: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let text = match text {
        Some(text) => text,
        None => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).context("while reading the question from stdin")?;
            text
        }
    };
    if text.trim().is_empty() {
        bail!("nothing to ask: give the question as an argument or on stdin");
    }
    let approver = Approver::for_this_process();
    let mut client = connect(paths)?;
    // A session given by the start of its id is resolved first.
    let session = match session {
        Some(id) => Some(client.call::<SessionsGet>(&SessionParams { session: id })?.session.id),
        None => None,
    };
    let mut view = AskView { stream: !json, watched: std::io::stderr().is_terminal() };
    let params = ChatSendParams { session, text, attended: Some(approver.attended()), model };
    let result = turn::run(&mut client, &params, &approver, None, &mut view)?;
    if json {
        let out = serde_json::json!({
            "session": result.session,
            "turn": result.turn,
            "text": result.text,
            "tools": result.tools,
            "usage": result.usage,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else if !result.text.ends_with('\n') {
        println!();
    }
    Ok(())
}

/// `pyractl models`: what the provider offers, the one in use marked.
pub fn models(paths: &Paths, json: bool) -> anyhow::Result<()> {
    let list = connect(paths)?.call::<proto::ipc::ProviderModels>(&Empty)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    if list.models.is_empty() {
        println!("{} lists no models; any name it knows works with `ask -m NAME` or `/model NAME`", list.preset);
    }
    for m in &list.models {
        println!("{} {m}", if *m == list.current { "*" } else { " " });
    }
    if !list.models.is_empty() && !list.models.contains(&list.current) {
        println!("(in use: {}, which {} does not list)", list.current, list.preset);
    }
    Ok(())
}

/// `pyractl config reload`: pyrad re-reads config.toml; what applied, what waits for a restart.
pub fn config_reload(paths: &Paths) -> anyhow::Result<proto::ipc::ReloadResult> {
    let result = connect(paths)?.call::<proto::ipc::ConfigReload>(&Empty)?;
    Ok(result)
}

/// Prints a reload's outcome in words.
pub fn print_reload(result: &proto::ipc::ReloadResult) {
    if result.applied.is_empty() && result.need_restart.is_empty() {
        println!("config.toml reloaded: nothing changed");
    }
    if !result.applied.is_empty() {
        println!("config.toml reloaded: {} now in force", result.applied.join(", "));
    }
    for line in &result.need_restart {
        println!("not applied until pyrad restarts: {line}");
    }
}

pub fn audit(paths: &Paths, limit: u32, json: bool) -> anyhow::Result<()> {
    let entries = connect(paths)?.call::<AuditList>(&ListParams { limit: Some(limit) })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
        return Ok(());
    }
    if entries.is_empty() {
        println!("no tool calls yet");
        return Ok(());
    }
    println!(
        "{:<16}  {:<20} {:<18} {:<8} {:>7}  {:<8}  ARGUMENTS",
        "WHEN", "TOOL", "DECISION", "OUTCOME", "RAN", "SESSION"
    );
    for e in entries {
        let flagged = e.scan.map(|v| format!("  [flagged: {}]", v.reason())).unwrap_or_default();
        let args: String = e.args.chars().take(60).collect();
        let more = if e.args.chars().count() > 60 { "..." } else { "" };
        println!(
            "{:<16}  {:<20} {:<18} {:<8} {:>7}  {:<8}  {args}{more}{flagged}",
            crate::render::local_time(e.at),
            e.tool,
            e.decision.replace('_', " "),
            e.outcome,
            format!("{} ms", e.ran_ms),
            e.session.chars().take(8).collect::<String>(),
        );
    }
    Ok(())
}

/// `pyractl security scan`: the verdict on stdin; `--jsonl` one verdict per input line, in order.
/// Returns whether nothing was flagged.
pub fn scan(paths: &Paths, json: bool, jsonl: bool) -> anyhow::Result<bool> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).context("while reading the text to scan from stdin")?;
    let mut client = connect(paths)?;
    if !jsonl {
        let verdict = client
            .call::<SecurityScan>(&ScanParams { texts: vec![input] })?
            .verdicts
            .pop()
            .context("pyrad returned no verdict")?;
        if json {
            println!("{}", serde_json::to_string_pretty(&verdict)?);
        } else if verdict.flagged {
            println!("flagged: {} (score {:.2})", verdict.reason(), verdict.score);
            for f in &verdict.findings {
                println!(
                    "  {:<20} {:.2}  {:<28} bytes {}..{}  {:?}",
                    f.category.as_str(),
                    f.score,
                    f.rule,
                    f.start,
                    f.end,
                    f.excerpt
                );
            }
        } else {
            println!("not flagged (score {:.2})", verdict.score);
        }
        return Ok(!verdict.flagged);
    }
    let mut texts = Vec::new();
    for (n, line) in input.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(line).with_context(|| format!("line {}: not JSON", n + 1))?;
        let text = value
            .get("text")
            .and_then(|t| t.as_str())
            .with_context(|| format!("line {}: no string field \"text\"", n + 1))?;
        texts.push(text.to_owned());
    }
    let mut stdout = std::io::stdout().lock();
    let mut clean = true;
    // In batches: each request stays well under the 1 MiB line limit.
    let mut batch: Vec<String> = Vec::new();
    let mut size = 0;
    let mut flush = |batch: &mut Vec<String>, client: &mut Client| -> anyhow::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let result = client.call::<SecurityScan>(&ScanParams { texts: std::mem::take(batch) })?;
        for v in result.verdicts {
            clean &= !v.flagged;
            let line = serde_json::json!({"flagged": v.flagged, "categories": v.categories, "score": v.score, "findings": v.findings});
            writeln!(stdout, "{line}")?;
        }
        Ok(())
    };
    for text in texts {
        // JSON escaping can grow a text up to six times (invisible characters as \uXXXX).
        let cost = text.len() * 6 + 16;
        if cost > 900_000 {
            anyhow::bail!("a text of {} bytes is too long for one scan request", text.len());
        }
        if size + cost > 900_000 || batch.len() >= 1000 {
            flush(&mut batch, &mut client)?;
            size = 0;
        }
        size += cost;
        batch.push(text);
    }
    flush(&mut batch, &mut client)?;
    Ok(clean)
}

pub fn sessions(paths: &Paths, command: SessionsCommand) -> anyhow::Result<()> {
    let mut client = connect(paths)?;
    match command {
        SessionsCommand::List { limit, json } => {
            let list = client.call::<SessionsList>(&ListParams { limit: Some(limit) })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
                return Ok(());
            }
            if list.is_empty() {
                println!("no conversations yet; start one with `pyractl chat` or `pyractl ask \"...\"`");
                return Ok(());
            }
            println!(
                "{:<16}  {:<16}  {:>5}  {:<24}  {:<22}  {:>8}  TITLE",
                "ID", "LAST USED", "MSGS", "MODEL", "TOKENS", "COST"
            );
            for s in list {
                println!(
                    "{:<16}  {:<16}  {:>5}  {:<24}  {:<22}  {:>8}  {}",
                    s.id,
                    crate::render::local_time(s.updated_at),
                    s.messages,
                    format!("{}/{}", s.provider, s.model),
                    crate::render::tokens(&s.usage),
                    s.usage.cost_usd.map(crate::render::dollars).unwrap_or_else(|| "-".into()),
                    s.title
                );
            }
        }
        SessionsCommand::Show { id } => {
            let detail = client.call::<SessionsGet>(&SessionParams { session: id })?;
            let s = &detail.session;
            println!("{}  {}  ({}/{}, {})", s.id, s.title, s.provider, s.model, crate::render::usage(&s.usage));
            for m in detail.messages {
                let partial = if m.partial { " (cut off)" } else { "" };
                let who = match m.role {
                    proto::ipc::Role::User => "you",
                    proto::ipc::Role::Assistant => "pyra",
                    proto::ipc::Role::Tool => "tool",
                    proto::ipc::Role::System | proto::ipc::Role::Unknown => "other",
                };
                println!("[{} {}] {who}{partial}: {}", m.turn, crate::render::local_time(m.created_at), m.content);
            }
        }
        SessionsCommand::Delete { id } => {
            if client.call::<SessionsDelete>(&SessionParams { session: id.clone() })?.deleted {
                println!("deleted {id}");
            } else {
                // A prefix names a session but deletes nothing: say which one it is.
                match client.call::<SessionsGet>(&SessionParams { session: id.clone() }) {
                    Ok(d) => bail!("no session is called {id:?}; to delete {}, give its whole id", d.session.id),
                    Err(_) => bail!("no session {id:?}; `pyractl sessions list` shows them"),
                }
            }
        }
    }
    Ok(())
}

pub fn memory(paths: &Paths, command: MemoryCommand) -> anyhow::Result<()> {
    let mut client = connect(paths)?;
    match command {
        MemoryCommand::List => {
            let files = client.call::<MemoryList>(&Empty)?;
            if files.is_empty() {
                println!("no memory files yet; Pyra writes them when you ask it to remember something");
            }
            for e in files {
                println!("{:>8}  {}", e.bytes, e.name);
            }
        }
        MemoryCommand::Show { name } => print!("{}", client.call::<MemoryRead>(&MemoryName { name })?.content),
        MemoryCommand::Log { name } => {
            let versions = client.call::<MemoryLog>(&MemoryName { name: name.clone() })?;
            if versions.is_empty() {
                println!("{name} has no versions yet");
                return Ok(());
            }
            println!("{:<8} {:<16}  {:<14} {:>8}", "VERSION", "WHEN", "BY", "BYTES");
            for v in versions {
                println!(
                    "{:<8} {:<16}  {:<14} {:>8}",
                    format!("v{}", v.version),
                    crate::render::local_time(v.at),
                    v.source,
                    v.bytes
                );
            }
        }
        MemoryCommand::Restore { name, number: version } => {
            let new = client.call::<MemoryRestore>(&MemoryRestoreParams { name: name.clone(), version })?.version;
            println!("restored {name} to version {version} (now version {new})");
        }
        MemoryCommand::Edit { name } => {
            let current = match client.call::<MemoryRead>(&MemoryName { name: name.clone() }) {
                Ok(file) => file.content,
                Err(ClientError::Rpc(e)) if e.code == proto::rpc::NOT_FOUND => String::new(),
                Err(e) => return Err(e.into()),
            };
            let dir = tempfile::Builder::new().prefix("pyra-memory-").tempdir()?;
            let path = dir.path().join(name.replace('/', "_"));
            std::fs::write(&path, &current)?;
            let editor = std::env::var("VISUAL").or_else(|_| std::env::var("EDITOR")).unwrap_or_else(|_| "vi".into());
            let status = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("{editor} \"$1\""))
                .arg("sh")
                .arg(&path)
                .status()
                .with_context(|| format!("cannot run {editor}"))?;
            if !status.success() {
                bail!("{editor} failed ({status}); {name} is unchanged");
            }
            let edited = std::fs::read_to_string(&path)?;
            if edited == current {
                println!("{name} unchanged");
                return Ok(());
            }
            let version = client.call::<MemoryWrite>(&MemoryFile { name: name.clone(), content: edited })?.version;
            println!("saved {name} (version {version}; `pyractl memory log {name}` lists the others)");
        }
    }
    Ok(())
}

pub fn vault(paths: &Paths, command: VaultCommand) -> anyhow::Result<()> {
    let mut client = connect(paths)?;
    match command {
        VaultCommand::Set { key } => {
            let value = read_secret(&format!("value for {key}: "))?;
            client.call::<VaultSet>(&VaultSetParams { key: key.clone(), value })?;
            println!("stored {key}");
        }
        VaultCommand::List => {
            let names = client.call::<VaultList>(&Empty)?;
            if names.is_empty() {
                println!("the vault holds no secrets");
            }
            for name in names {
                println!("{name}");
            }
        }
        VaultCommand::Delete { key } => {
            let deleted = client.call::<VaultDelete>(&VaultKey { key: key.clone() })?.deleted;
            println!("{}", if deleted { format!("deleted {key}") } else { format!("no secret named {key}") });
        }
    }
    Ok(())
}

pub fn bots(paths: &Paths, command: BotsCommand) -> anyhow::Result<()> {
    let states = match command {
        BotsCommand::Status { json } => {
            let states = connect(paths)?.call::<BotsStatus>(&Empty)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&states)?);
                return Ok(());
            }
            states
        }
        BotsCommand::Passphrase { stdin: _ } => {
            let passphrase = read_secret("passphrase (not echoed): ")?;
            let states = connect(paths)?.call::<BotsPassphrase>(&PassphraseParams { passphrase })?;
            println!("passphrase set");
            states
        }
        BotsCommand::Setup(BotsSetup::Telegram { token_stdin: _, allow, api_url }) => {
            let token = read_secret("bot token from @BotFather (not echoed): ")?;
            setup_bot(paths, "telegram", ("bot:telegram:token", token), |telegram| {
                telegram["allow"] = toml_edit::value(allow.iter().copied().collect::<toml_edit::Array>());
                if let Some(url) = &api_url {
                    telegram["api_url"] = toml_edit::value(url.as_str());
                }
            })?
        }
        BotsCommand::Setup(BotsSetup::Matrix { homeserver, user, password_stdin, access_token_stdin: _, allow }) => {
            if !user.starts_with('@') || !user.contains(':') {
                bail!("--user {user:?} is not a Matrix id: write it as @name:server");
            }
            if let Some(bad) = allow.iter().find(|a| !a.starts_with('@') || !a.contains(':')) {
                bail!("--allow {bad:?} is not a Matrix id: write it as @name:server");
            }
            let secret = if password_stdin {
                ("bot:matrix:password", read_secret("the bot account's password (not echoed): ")?)
            } else {
                ("bot:matrix:access_token", read_secret("the bot account's access token (not echoed): ")?)
            };
            let mut client = connect(paths)?;
            // One way to log in: the other is dropped. The session pyrad keeps stays
            // (the same device) unless the bot's user id changed.
            let other = if password_stdin { "bot:matrix:access_token" } else { "bot:matrix:password" };
            client.call::<VaultDelete>(&VaultKey { key: other.into() })?;
            drop(client);
            setup_bot(paths, "matrix", secret, |matrix| {
                matrix["homeserver"] = toml_edit::value(homeserver.trim_end_matches('/'));
                matrix["user"] = toml_edit::value(user.as_str());
                matrix["allow"] = toml_edit::value(allow.iter().map(String::as_str).collect::<toml_edit::Array>());
            })?
        }
    };
    for (name, s) in &states {
        println!("{name}: {}", crate::render::bot(s));
    }
    Ok(())
}

/// Enables `[bots.<name>]` in config.toml (keeping its comments), sets its keys,
/// stores its secret in the vault and reloads the bots; waits briefly for the bot
/// to connect, so the answer says whether the credentials work.
fn setup_bot(
    paths: &Paths,
    name: &str,
    (key, secret): (&str, String),
    keys: impl FnOnce(&mut toml_edit::Table),
) -> anyhow::Result<std::collections::BTreeMap<String, proto::ipc::BotStatus>> {
    let mut client = connect(paths)?;
    write_config(paths, |doc| {
        let bots = doc.entry("bots").or_insert(toml_edit::table());
        let bots = bots.as_table_mut().context("[bots] in config.toml is not a table")?;
        bots.set_implicit(true);
        let bot = bots.entry(name).or_insert(toml_edit::table());
        let bot = bot.as_table_mut().with_context(|| format!("[bots.{name}] in config.toml is not a table"))?;
        bot["enabled"] = toml_edit::value(true);
        keys(bot);
        Ok(())
    })?;
    client.call::<VaultSet>(&VaultSetParams { key: key.into(), value: secret })?;
    client.call::<BotsReload>(&Empty)?;
    // A first Matrix login makes the device's keys and stores: allow it a minute.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let states = client.call::<BotsStatus>(&Empty)?;
        let settled = states.get(name).is_some_and(|s| s.state != "starting");
        if settled || std::time::Instant::now() > deadline {
            // Only the bot just set up: the others did not change.
            return Ok(states.into_iter().filter(|(n, _)| n == name).collect());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// A secret from stdin: one line, without echo when stdin is a terminal.
pub(crate) fn read_secret(prompt: &str) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let value = if stdin.is_terminal() {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
        let _echo = EchoOff::new();
        let mut line = String::new();
        stdin.read_line(&mut line)?;
        eprintln!();
        line
    } else {
        // One line, so other answers can follow on the same input.
        let mut line = String::new();
        stdin.read_line(&mut line)?;
        line
    };
    let value = value.trim_end_matches(['\n', '\r']).to_owned();
    if value.is_empty() {
        bail!("empty secret; nothing stored");
    }
    Ok(value)
}

/// Turns terminal echo off for its lifetime.
struct EchoOff(Option<libc::termios>);

impl EchoOff {
    fn new() -> Self {
        // SAFETY: tcgetattr/tcsetattr on stdin with a termios we own.
        unsafe {
            let mut term: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut term) != 0 {
                return EchoOff(None);
            }
            let saved = term;
            term.c_lflag &= !libc::ECHO;
            libc::tcsetattr(0, libc::TCSANOW, &term);
            EchoOff(Some(saved))
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(saved) = self.0 {
            // SAFETY: restores the settings read in `new`.
            unsafe { libc::tcsetattr(0, libc::TCSANOW, &saved) };
        }
    }
}

/// Edits config.toml in place (comments and other keys kept), written 0600 through a rename.
pub(crate) fn write_config(
    paths: &Paths,
    edit: impl FnOnce(&mut toml_edit::DocumentMut) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let path = paths.home.join("config.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut doc: toml_edit::DocumentMut =
        text.parse().with_context(|| format!("{} is not valid TOML", path.display()))?;
    edit(&mut doc)?;
    if let Some(dir) = path.parent() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    }
    let tmp = path.with_extension("toml.tmp");
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
        file.write_all(doc.to_string().as_bytes())?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, &path).with_context(|| format!("while writing {}", path.display()))
}

pub fn plugin(paths: &Paths, command: PluginCommand) -> anyhow::Result<()> {
    match command {
        PluginCommand::List { json } => {
            let list = connect(paths)?.call::<PluginsList>(&Empty)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
                return Ok(());
            }
            if list.plugins.is_empty() && list.invalid.is_empty() {
                println!("no plugins in {}", paths.home.join("plugins").display());
            }
            println!(
                "{:<16} {:<9} {:<9} {:<10} {:<8} {:>7} {:>7} {:>5} {:>6} {:>8}  tools / reason",
                "name", "version", "state", "trust", "sandbox", "pid", "rss MiB", "calls", "errors", "p50 ms"
            );
            for p in &list.plugins {
                let pid = p.pid.map_or_else(|| "-".to_owned(), |p| p.to_string());
                let p50 = p.p50_ms.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"));
                let rss = p.rss_mib.map_or_else(|| "-".to_owned(), |m| format!("{m:.1}"));
                let detail = p.reason.clone().unwrap_or_else(|| p.tools.join(", "));
                println!(
                    "{:<16} {:<9} {:<9} {:<10} {:<8} {:>7} {:>7} {:>5} {:>6} {:>8}  {detail}",
                    p.name, p.version, p.state, p.trust, p.sandbox, pid, rss, p.calls, p.errors, p50
                );
            }
            for (folder, why) in &list.invalid {
                println!("invalid: {folder}: {why}");
            }
        }
        PluginCommand::Info { name } => {
            let list = connect(paths)?.call::<PluginsList>(&Empty)?;
            let p = list.plugins.iter().find(|p| p.name == name).with_context(|| format!("no plugin named {name}"))?;
            println!("{} {} — {}", p.name, p.version, p.description);
            println!("  state     {}{}", p.state, p.reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default());
            let publisher = p.publisher.as_ref().map(|x| format!(", signed by {x}")).unwrap_or_default();
            println!("  trust     {}{publisher}", p.trust);
            let cap = if p.memory_cap == "hard" { "a hard cap (cgroup)" } else { "sampled every 2 s" };
            println!("  sandbox   {} (memory: {cap})", p.sandbox);
            println!("  server    {}", p.server);
            println!("  pid       {}", p.pid.map_or_else(|| "-".to_owned(), |p| p.to_string()));
            println!("  memory    {}", p.rss_mib.map_or_else(|| "-".to_owned(), |m| format!("{m:.1} MiB")));
            println!("  tools     {}", p.tools.join(", "));
            println!("  read-only {} (granted: {})", p.exempt_declared.join(", "), p.exempt_granted.join(", "));
            println!(
                "  calls     {} ({} errors, {} restarts, {} garbage lines)",
                p.calls, p.errors, p.restarts, p.garbage_lines
            );
            println!("  log       {}", paths.home.join("logs/plugins").join(format!("{name}.log")).display());
        }
        PluginCommand::Call { tool, args } => {
            let args: serde_json::Value = serde_json::from_str(&args).context("arguments must be a JSON object")?;
            let result = connect(paths)?.call::<PluginsCall>(&PluginCallParams { tool, args })?;
            println!("{}", result.text);
            if result.is_error {
                bail!("the tool reported an error");
            }
        }
        PluginCommand::Install { source, bundled: false, yes, allow_unsigned } => {
            install(paths, &source, yes, false, allow_unsigned)?
        }
        PluginCommand::Install { source, bundled: true, yes, allow_unsigned } => {
            let name = source.to_string_lossy().into_owned();
            let folder = tempfile::Builder::new().prefix("pyra-bundled-").tempdir()?;
            let dir = folder.path().join(&name);
            std::fs::create_dir(&dir)?;
            std::fs::write(dir.join("plugin.toml"), bundled_manifest(&name)?)?;
            install(paths, &dir, yes, false, allow_unsigned)?;
        }
        PluginCommand::Update { source, yes, allow_unsigned } => install(paths, &source, yes, true, allow_unsigned)?,
        PluginCommand::Trust { name, yes } => crate::security::trust(paths, &name, yes)?,
        PluginCommand::Uninstall { name } => {
            connect(paths)?.call::<PluginsUninstall>(&PluginName { name: name.clone() })?;
            println!("uninstalled {name} (its data folder is kept)");
        }
        PluginCommand::Setup { name } => plugin_setup(paths, &name)?,
        PluginCommand::Grant { name } => {
            let tools = connect(paths)?.call::<PluginsGrant>(&PluginName { name: name.clone() })?;
            if tools.is_empty() {
                println!("{name} declares no read-only tools; every call still asks");
            } else {
                println!("these {name} tools now run without asking: {}", tools.join(", "));
            }
        }
        PluginCommand::Revoke { name } => {
            connect(paths)?.call::<PluginsRevoke>(&PluginName { name: name.clone() })?;
            println!("every {name} tool asks again");
        }
        PluginCommand::Enable { name } => {
            connect(paths)?.call::<PluginsEnable>(&PluginName { name: name.clone() })?;
            println!("enabled {name}");
        }
        PluginCommand::Disable { name } => {
            connect(paths)?.call::<PluginsDisable>(&PluginName { name: name.clone() })?;
            println!("disabled {name}");
        }
        PluginCommand::Reload => {
            connect(paths)?.call::<PluginsReload>(&Empty)?;
            println!("plugins reloaded");
        }
        PluginCommand::Logs { name, lines } => {
            if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_') {
                bail!("{name:?} is not a plugin name");
            }
            let path = paths.home.join("logs/plugins").join(format!("{name}.log"));
            let text = std::fs::read_to_string(&path).with_context(|| format!("no log at {}", path.display()))?;
            let all: Vec<&str> = text.lines().collect();
            for line in &all[all.len().saturating_sub(lines)..] {
                println!("{line}");
            }
        }
    }
    Ok(())
}

/// Inspects, shows what the plugin asks for, asks, then installs exactly that.
fn install(
    paths: &Paths,
    source: &std::path::Path,
    yes: bool,
    update: bool,
    allow_unsigned: bool,
) -> anyhow::Result<()> {
    let source = std::path::absolute(source)?.display().to_string();
    let mut client = connect(paths)?;
    let seen = client.call::<PluginsInspect>(&PluginSource { source: source.clone() })?;
    if seen.installed && !update {
        bail!("{} is already installed; use `pyractl plugin update {source}`", seen.name);
    }
    println!("{} {} — {}", seen.name, seen.version, seen.description);
    println!("  runs         {} {}", seen.command, seen.args.join(" "));
    let p = &seen.permissions;
    println!("  reads        {}", p["read"]);
    println!("  writes       {}", p["write"]);
    println!("  network      {}", p["network"]);
    println!("  environment  {}", p["env"]);
    println!("  vault keys   {}", p["vault"]);
    if !seen.hooks.is_empty() {
        println!("  hooks        {}", seen.hooks.join(", "));
    }
    println!("  sha256       {}", seen.sha256);
    println!("  files        {}", seen.files);
    println!("  publisher    {}", seen.signature);
    if seen.trust == "unverified" && !allow_unsigned {
        bail!(
            "{} is unverified: nobody you trust signed it. If you trust where it came from, run this again with \
             --allow-unsigned; it will be shown as unverified",
            seen.name
        );
    }
    if !yes && !confirm("Install it?", "to install without asking")? {
        println!("not installed");
        return Ok(());
    }
    let params = PluginInstallParams { source, sha256: seen.sha256, update, allow_unsigned };
    let name = client.call::<PluginsInstall>(&params)?.name;
    println!("{} {name}; `pyractl plugin list` shows it starting", if update { "updated" } else { "installed" });
    // What it still needs before its tools can work: say the next step now.
    if let Ok(fields) = client.call::<PluginsSetupInfo>(&PluginName { name: name.clone() })
        && !fields.is_empty()
    {
        let asks: Vec<String> =
            fields.iter().map(|f| if f.required { format!("{} (required)", f.key) } else { f.key.clone() }).collect();
        println!(
            "next: `pyractl plugin setup {name}` to set {}; until then its tools cannot do their work",
            asks.join(", ")
        );
    }
    Ok(())
}

/// Asks `question` with a [y/N] on the terminal; without one, fails saying
/// that `--yes` does it `without_asking`.
pub(crate) fn confirm(question: &str, without_asking: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to confirm on: add --yes {without_asking}");
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(answer.trim().eq_ignore_ascii_case("y"))
}

/// Asks for each setting the plugin declares (secrets without echo) and sends them.
fn plugin_setup(paths: &Paths, name: &str) -> anyhow::Result<()> {
    let mut client = connect(paths)?;
    let fields = client.call::<PluginsSetupInfo>(&PluginName { name: name.to_owned() })?;
    if fields.is_empty() {
        println!("{name} declares no settings");
        return Ok(());
    }
    let mut values = serde_json::Map::new();
    let mut secrets = std::collections::BTreeMap::new();
    for field in fields {
        let label = format!(
            "{}{} ({}){}: ",
            field.key,
            if field.required { "" } else { " [optional]" },
            field.kind,
            if field.description.is_empty() { String::new() } else { format!(" - {}", field.description) }
        );
        let answer: Option<String> = if field.secret {
            read_secret(&label).ok()
        } else {
            eprint!("{label}");
            std::io::stderr().flush()?;
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            Some(line.trim().to_owned()).filter(|l| !l.is_empty())
        };
        let Some(answer) = answer else { continue };
        if field.secret {
            secrets.insert(field.key, answer);
        } else {
            let value = match field.kind.as_str() {
                "integer" | "number" | "boolean" => {
                    serde_json::from_str(&answer).unwrap_or(serde_json::Value::String(answer))
                }
                _ => serde_json::Value::String(answer),
            };
            values.insert(field.key, value);
        }
    }
    client.call::<PluginsConfigure>(&ConfigureParams { name: name.to_owned(), values, secrets })?;
    println!("{name} configured and restarted");
    Ok(())
}

/// The manifest of a plugin that ships with Pyra; its binary sits next to pyractl.
fn bundled_manifest(name: &str) -> anyhow::Result<String> {
    let dir = std::env::current_exe()?.parent().map(std::path::Path::to_path_buf).context("pyractl has no folder")?;
    let binary = std::fs::canonicalize(dir.join(format!("pyra-{name}")))
        .with_context(|| format!("no bundled plugin {name:?} next to pyractl (files, shell, web)"))?;
    let command = format!("command = {:?}\n", binary.display().to_string());
    let version = env!("CARGO_PKG_VERSION");
    Ok(match name {
        "files" => format!(
            "name = \"files\"\nversion = \"{version}\"\ndescription = \"List, read and search files under folders you grant; write them with your approval\"\n{command}\n[approval]\nexempt = [\"list\", \"read\", \"search\"]\n\n[config_schema]\ntype = \"object\"\nrequired = [\"roots\"]\n[config_schema.properties.roots]\ntype = \"string\"\ndescription = \"Folders it may use, separated by ':'\"\nx-pyra-grant = \"write\"\n"
        ),
        "shell" => format!(
            "name = \"shell\"\nversion = \"{version}\"\ndescription = \"Run shell commands, each after your approval, with a timeout and an output cap\"\n{command}\n[permissions]\nread = [\"~\"]\nwrite = [\"~\"]\n\n[limits]\nmemory_mb = 512\ncpu_secs = 3600\ncall_timeout_secs = 660\n"
        ),
        "web" => format!(
            "name = \"web\"\nversion = \"{version}\"\ndescription = \"Fetch a web page as Markdown\"\n{command}\n[approval]\nexempt = [\"fetch\"]\n\n[permissions]\nnetwork = true\n"
        ),
        other => bail!("no bundled plugin {other:?}: files, shell or web"),
    })
}
