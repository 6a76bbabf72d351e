//! `daemon.doctor`: what pyrad can see wrong with the install, each finding with
//! its fix. Modes and owners under the home, plaintext secrets (in
//! `config.toml`, in plugin manifests, in memory files), sandbox support, plugins
//! that are unverified, modified, unsandboxed or fetch unpinned code at each
//! start, the provider and its key (one cheap call), and bots without a
//! passphrase. `pyractl doctor` adds the service unit, which only it knows.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::LazyLock;

use proto::ipc::{DoctorReport, Finding};
use regex::Regex;

use super::Daemon;

/// Values that look like a credential whatever their key is called.
static SECRET_VALUE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        \bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}   # OpenAI, Anthropic
      | \bgh[pousr]_[A-Za-z0-9]{30,}             # GitHub
      | \bxox[abprs]-[A-Za-z0-9-]{10,}           # Slack
      | \bAKIA[0-9A-Z]{16}\b                     # AWS access key id
      | \bAIza[0-9A-Za-z_-]{35}\b                # Google API key
      | \b[0-9]{8,10}:[A-Za-z0-9_-]{35}\b        # Telegram bot token
      | \bsyt_[A-Za-z0-9_=-]{20,}                # Matrix (Synapse) access token
      | -----BEGIN\ [A-Z ]*PRIVATE\ KEY-----",
    )
    .ok()
});

/// Key names that hold a credential.
static SECRET_NAME: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)(api_?key|token|secret|password|passphrase|credential)").ok());

fn looks_secret(value: &str) -> bool {
    SECRET_VALUE.as_ref().is_some_and(|r| r.is_match(value))
}

fn secret_name(name: &str) -> bool {
    SECRET_NAME.as_ref().is_some_and(|r| r.is_match(name))
}

fn finding(check: &str, severity: &str, what: impl Into<String>, fix: impl Into<String>) -> Finding {
    Finding { check: check.into(), severity: severity.into(), what: what.into(), fix: fix.into() }
}

impl Daemon {
    /// Runs every check; the provider check makes one call of at most one token.
    pub async fn doctor(&self) -> DoctorReport {
        let d = &self.0;
        let root = d.home.root.clone();
        let mut findings = Vec::new();
        let mut checked = Vec::new();

        checked.push(format!("modes and owners under {}", root.display()));
        let walked = {
            let root = root.clone();
            tokio::task::spawn_blocking(move || {
                let mut out = Vec::new();
                modes(&root, &root, 0, &mut out);
                out
            })
            .await
            .unwrap_or_default()
        };
        findings.extend(walked);

        checked.push("plaintext secrets in config.toml".into());
        let config_file = d.home.config_file();
        let config = crate::config::Config::load(&config_file, std::env::vars());
        if let Ok(text) = std::fs::read_to_string(&config_file) {
            if let Ok(table) = text.parse::<toml::Table>() {
                let mut found = Vec::new();
                secrets_in_toml(&toml::Value::Table(table), "", &mut found);
                for key in found {
                    findings.push(finding(
                        "plaintext-secret",
                        "high",
                        format!("config.toml holds what looks like a secret in plain text at {key}"),
                        "move it to the vault (`pyractl vault set NAME --stdin`, or `pyractl setup` for a provider key) and delete it from config.toml",
                    ));
                }
            }
            // Comments too: a key pasted "for later" is on disk all the same.
            for (n, line) in text.lines().enumerate() {
                if line.trim_start().starts_with('#') && looks_secret(line) {
                    findings.push(finding(
                        "plaintext-secret",
                        "high",
                        format!("config.toml line {} holds what looks like a credential in a comment", n + 1),
                        "delete that line; keep the secret in the vault (`pyractl vault set NAME --stdin`)",
                    ));
                }
            }
        }

        checked.push("plaintext secrets in memory files".into());
        if let Ok(entries) = d.memory.list() {
            for entry in entries {
                if d.memory.read(&entry.name).is_ok_and(|text| looks_secret(&text)) {
                    findings.push(finding(
                        "plaintext-secret",
                        "high",
                        format!(
                            "memory/{} holds what looks like a credential; memory goes into every prompt",
                            entry.name
                        ),
                        format!("remove it (`pyractl memory write {}`) and keep it in the vault instead", entry.name),
                    ));
                }
            }
        }

        checked.push("sandbox support (Landlock, cgroups)".into());
        let (abi, cgroups) = d.plugins.sandbox_support();
        if abi < 1 {
            findings.push(finding(
                "landlock",
                "high",
                "this kernel offers no Landlock sandbox: sandboxed plugins are not started",
                "use Linux 5.13 or later with Landlock enabled (the kernel's lsm= list must include landlock)",
            ));
        }
        if let Err(why) = cgroups {
            findings.push(finding(
                "cgroups",
                "low",
                format!("plugins have no hard memory or process cap ({why}); their memory is sampled every 2 s"),
                "run pyrad under its systemd unit (`pyractl service install`), which delegates a cgroup (Delegate=yes)",
            ));
        }
        if config.as_ref().is_ok_and(|c| !c.plugins.sandbox) {
            findings.push(finding(
                "sandbox-off",
                "high",
                "[plugins] sandbox = false: every plugin can read the vault, the database and your home",
                "set [plugins] sandbox = true in config.toml",
            ));
        }

        checked.push("plugins: trust, sandbox, plaintext secrets, unpinned code".into());
        for (m, trust, sandbox) in d.plugins.manifests() {
            let name = &m.name;
            match trust.word() {
                "unverified" => findings.push(finding(
                    "plugin-unverified",
                    "medium",
                    format!("plugin {name} is unverified: no trusted publisher signed its files"),
                    format!("install a signed release (`pyractl plugin update`) with its publisher's key in [plugins] trusted_keys, or uninstall it (`pyractl plugin uninstall {name}`)"),
                )),
                "modified" => findings.push(finding(
                    "plugin-modified",
                    "high",
                    format!("plugin {name}'s files changed since you accepted them; it is not started"),
                    format!("review the changes with `pyractl plugin trust {name}`, or reinstall it"),
                )),
                _ => {}
            }
            if sandbox != "landlock" {
                findings.push(finding(
                    "plugin-unsandboxed",
                    "high",
                    format!("plugin {name} runs without the Landlock sandbox ({sandbox})"),
                    format!("remove [plugins.overrides.{name}] sandbox = \"none\" from config.toml once the kernel offers Landlock"),
                ));
            }
            for (var, value) in &m.env {
                let literal = matches!(m.env_value(value), crate::plugins::manifest::EnvValue::Literal(_));
                if literal && !value.is_empty() && (secret_name(var) || looks_secret(value)) {
                    findings.push(finding(
                        "plaintext-secret",
                        "high",
                        format!("plugin {name}'s manifest gives {var} a plaintext value that looks like a secret"),
                        format!("`pyractl vault set plugin:{name}:{var} --stdin`, then write {var} = \"vault:plugin:{name}:{var}\" and list it in permissions.vault"),
                    ));
                }
            }
            if let Some(what) = unpinned(&m.command, &m.args) {
                findings.push(finding(
                    "plugin-unpinned",
                    "medium",
                    format!("plugin {name} fetches {what} without a version at every start: whoever publishes it next runs here"),
                    format!("pin a version in its manifest's args ({what}@1.2.3 for npx, {what}==1.2.3 for uvx)"),
                ));
            }
        }

        if let Ok(config) = &config {
            checked.push("bots have a passphrase".into());
            let bots_on = config.bots.telegram.enabled || config.bots.matrix.enabled;
            if bots_on && d.vault.get(crate::bots::PASSPHRASE).ok().flatten().is_none() {
                findings.push(finding(
                    "bot-passphrase",
                    "high",
                    "a bot is enabled but no passphrase is set: it answers nobody until one is",
                    "`pyractl bots passphrase --stdin`",
                ));
            }
        }

        checked.push("the provider answers and accepts its key (one cheap call)".into());
        match d.chat.provider() {
            Err(e) => {
                findings.push(finding("provider", "medium", format!("no usable provider: {e}"), "`pyractl setup`"))
            }
            Ok(_) => {
                let call = d.chat.complete("Answer with one word.", "ping", 1);
                match tokio::time::timeout(std::time::Duration::from_secs(15), call).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => findings.push(finding(
                        "provider",
                        "high",
                        format!("the provider did not answer a test call: {e}"),
                        "check [provider] in config.toml and the key (`pyractl setup` asks for both again)",
                    )),
                    Err(_) => findings.push(finding(
                        "provider",
                        "high",
                        "the provider did not answer a test call within 15 s",
                        "check [provider] base_url and your network",
                    )),
                }
            }
        }
        DoctorReport { findings, checked }
    }
}

/// Modes and owners: nothing under the home is readable by others, nothing in
/// `plugins/` is writable by others, and everything is the user's.
fn modes(root: &Path, dir: &Path, depth: usize, out: &mut Vec<Finding>) {
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    let in_plugins = dir.strip_prefix(root).is_ok_and(|rel| rel.starts_with("plugins"));
    for entry in entries {
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        let shown = path.strip_prefix(root).unwrap_or(&path).display().to_string();
        if meta.file_type().is_symlink() {
            continue;
        }
        if meta.uid() != uid {
            out.push(finding(
                "owner",
                "high",
                format!("{shown} belongs to uid {}, not to you", meta.uid()),
                format!("chown {uid} {}", path.display()),
            ));
            continue;
        }
        let mode = meta.mode() & 0o777;
        let is_dir = meta.is_dir();
        let plugin_file = in_plugins || shown == "plugins";
        let bad = if plugin_file { mode & 0o022 != 0 } else { mode & 0o077 != 0 };
        if bad && !meta.file_type().is_socket_like() {
            let wanted = if is_dir { "700" } else { "600" };
            let (severity, how) = if mode & 0o002 != 0 {
                ("high", "writable by everyone")
            } else if mode & 0o004 != 0 {
                ("high", "readable by everyone")
            } else {
                ("medium", "open to your group")
            };
            let fix = if plugin_file {
                format!("chmod go-w {}", path.display())
            } else {
                format!("chmod {wanted} {}", path.display())
            };
            out.push(finding("modes", severity, format!("{shown} is {how} (mode {mode:03o})"), fix));
        }
        let deep = shown.contains("node_modules") || shown.contains("__pycache__");
        if is_dir && depth < 8 && !deep {
            modes(root, &path, depth + 1, out);
        }
    }
}

trait SocketLike {
    fn is_socket_like(&self) -> bool;
}

impl SocketLike for std::fs::FileType {
    fn is_socket_like(&self) -> bool {
        use std::os::unix::fs::FileTypeExt;
        self.is_socket() || self.is_fifo()
    }
}

/// `a.b.c` of every string in `value` that looks like a secret (by its key's
/// name or its shape). Vault references and empty strings are not secrets.
fn secrets_in_toml(value: &toml::Value, at: &str, out: &mut Vec<String>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let path = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
                secrets_in_toml(v, &path, out);
            }
        }
        toml::Value::Array(a) => {
            for v in a {
                secrets_in_toml(v, at, out);
            }
        }
        toml::Value::String(s) => {
            let last = at.rsplit('.').next().unwrap_or(at);
            let named = secret_name(last) && !s.is_empty() && !s.starts_with("vault:");
            if named || looks_secret(s) {
                out.push(at.to_owned());
            }
        }
        _ => {}
    }
}

/// The package a plugin command fetches afresh at each start without a version:
/// `npx -y pkg`, `bunx pkg`, `pnpm dlx pkg`, `uvx pkg`, `pipx run pkg`.
pub fn unpinned(command: &str, args: &[String]) -> Option<String> {
    let program = Path::new(command).file_name()?.to_string_lossy().into_owned();
    let mut args = args.iter().map(String::as_str).peekable();
    let python = match program.as_str() {
        "npx" | "bunx" => false,
        "uvx" => true,
        "pnpm" | "pipx" => {
            let sub = args.find(|a| !a.starts_with('-'))?;
            if !matches!(sub, "dlx" | "run") {
                return None;
            }
            program == "pipx"
        }
        _ => return None,
    };
    // The first word that is not an option (options with a value: --from, -p, --package).
    let mut package = None;
    while let Some(arg) = args.next() {
        if matches!(arg, "--from" | "-p" | "--package" | "--python" | "--with") {
            let value = args.next()?;
            if matches!(arg, "--from" | "-p" | "--package") {
                package = Some(value);
                break;
            }
            continue;
        }
        if !arg.starts_with('-') {
            package = Some(arg);
            break;
        }
    }
    let package = package?;
    let pinned = if python {
        package.contains("==") || package.contains('@')
    } else {
        // `@scope/name@1.2.3`: a version is an `@` after the first character.
        package[1..].contains('@')
    };
    (!pinned).then(|| package.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn unpinned_packages_are_named_and_pinned_ones_pass() {
        assert_eq!(
            unpinned("npx", &args(&["-y", "@modelcontextprotocol/server-everything"])).as_deref(),
            Some("@modelcontextprotocol/server-everything")
        );
        assert_eq!(unpinned("npx", &args(&["-y", "@modelcontextprotocol/server-everything@2025.1.1", "stdio"])), None);
        assert_eq!(unpinned("/usr/bin/uvx", &args(&["mcp-server-time"])).as_deref(), Some("mcp-server-time"));
        assert_eq!(unpinned("uvx", &args(&["mcp-server-time==2026.10.19"])), None);
        assert_eq!(unpinned("uvx", &args(&["--from", "mcp-server-fetch@1.0", "mcp-server-fetch"])), None);
        assert_eq!(unpinned("pipx", &args(&["run", "cowsay"])).as_deref(), Some("cowsay"));
        assert_eq!(unpinned("python3", &args(&["server.py"])), None);
        assert_eq!(unpinned("node", &args(&["dist/index.js"])), None);
    }

    #[test]
    fn secrets_are_found_by_name_and_by_shape_but_not_vault_references() {
        let table: toml::Table = toml::from_str(
            "[provider]\napi_key = \"abc\"\nmodel = \"gpt\"\n[bots.telegram]\nnote = \"123456789:AAEhBP0av28hM1qD5w7Ubh5M1qD5w7Ubh5M\"\n[x]\ntoken = \"vault:t\"\nempty_token = \"\"\n",
        )
        .unwrap();
        let mut found = Vec::new();
        secrets_in_toml(&toml::Value::Table(table), "", &mut found);
        assert_eq!(found, vec!["bots.telegram.note", "provider.api_key"]);
    }
}
