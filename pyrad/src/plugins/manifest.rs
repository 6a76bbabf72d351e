//! `plugin.toml`: what a plugin is, how to start it, what it may do. An invalid
//! manifest is refused with the file, line, column and what was expected, and
//! only that plugin is skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The file name of a manifest inside a plugin's folder.
pub const FILE: &str = "plugin.toml";

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Lower-case letters, digits, `-` and `_`; also the folder's name and the
    /// prefix of the plugin's tool names (`name__tool`).
    pub name: String,
    pub version: semver::Version,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub author: String,
    #[serde(default)]
    pub license: String,
    /// The program: a path relative to the plugin folder, or a name on PATH (`npx`, `python3`).
    pub command: String,
    #[serde(default)]
    pub args: Vec<String>,
    /// The pyrad versions this plugin works with, e.g. `>=0.1, <0.3`.
    #[serde(default = "any_version")]
    pub pyra: semver::VersionReq,
    /// Plugins that must be active before this one starts.
    #[serde(default)]
    pub depends: Vec<String>,
    /// Lower runs earlier among plugins with no dependency between them.
    #[serde(default = "default_priority")]
    pub priority: i32,
    #[serde(default)]
    pub approval: ApprovalPolicy,
    #[serde(default)]
    pub permissions: Permissions,
    #[serde(default)]
    pub limits: Limits,
    /// JSON Schema of the plugin's own config (`pyractl plugin setup` asks for it).
    #[serde(default)]
    pub config_schema: Option<toml::Table>,
    /// Environment for the process: literal values, `${VAR}` from pyrad's
    /// environment (listed in `permissions.env`), or `vault:<key>` (listed in `permissions.vault`).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Pyra's extension: the turn hooks this plugin wants `pyra/hook` requests for.
    #[serde(default)]
    pub hooks: Vec<Hook>,
}

/// The points of a turn a plugin can hook into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Hook {
    /// `{tools}` → `{remove?: [names]}`: hide tools from this turn.
    ToolRegistryBuild,
    /// `{session, channel}`: observe.
    SessionResolved,
    /// `{prompt}` → `{prompt}`: each plugin in order extends the previous result.
    SystemPromptExtend,
    /// `{session, turn, messages}`: observe.
    PreLlmCall,
    /// `{session, turn, text, tool_calls}`: observe.
    PostLlmResponse,
    /// `{session, tool, args}` → `{skip: true, result}` to answer instead of the tool.
    PreToolExecute,
    /// `{session, tool, args, result}` → `{result}` to rewrite it.
    PostToolExecute,
    /// `{session, turn, text}`: observe.
    TurnCompleted,
    /// `{channel, text}`: observe every incoming message.
    MessageReceived,
}

impl Hook {
    pub fn name(self) -> &'static str {
        match self {
            Hook::ToolRegistryBuild => "tool_registry_build",
            Hook::SessionResolved => "session_resolved",
            Hook::SystemPromptExtend => "system_prompt_extend",
            Hook::PreLlmCall => "pre_llm_call",
            Hook::PostLlmResponse => "post_llm_response",
            Hook::PreToolExecute => "pre_tool_execute",
            Hook::PostToolExecute => "post_tool_execute",
            Hook::TurnCompleted => "turn_completed",
            Hook::MessageReceived => "message_received",
        }
    }
}

fn any_version() -> semver::VersionReq {
    semver::VersionReq::STAR
}

fn default_priority() -> i32 {
    100
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalPolicy {
    /// Tools the plugin declares read-only. They still need approval until the
    /// user grants the exemption (`pyractl plugin enable` shows them).
    #[serde(default)]
    pub exempt: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Permissions {
    #[serde(default)]
    pub read: Vec<PathBuf>,
    #[serde(default)]
    pub write: Vec<PathBuf>,
    #[serde(default)]
    pub network: bool,
    /// Environment variables of pyrad the plugin may receive.
    #[serde(default)]
    pub env: Vec<String>,
    /// Vault keys the plugin may receive; its own are `plugin:<name>:<key>`.
    #[serde(default)]
    pub vault: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Memory of all its processes: a hard cap where pyrad has cgroups, else sampled.
    pub memory_mb: u64,
    /// CPU seconds in all (RLIMIT_CPU).
    pub cpu_secs: u64,
    pub call_timeout_secs: u64,
    /// Processes and threads at once (cgroup `pids.max`, and RLIMIT_NPROC above
    /// what the user already runs).
    pub processes: u64,
    /// The largest file it may write (RLIMIT_FSIZE).
    pub file_mb: u64,
    /// Open files at once (RLIMIT_NOFILE).
    pub open_files: u64,
    /// What it may write to stdout and stderr together in one second before it
    /// is cut off and restarted.
    pub output_mb_per_sec: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_mb: 512,
            cpu_secs: 600,
            call_timeout_secs: 60,
            processes: 256,
            file_mb: 1024,
            open_files: 1024,
            output_mb_per_sec: 16,
        }
    }
}

/// How an environment value is produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    Literal(String),
    /// `vault:<key>`: decrypted when the process starts.
    Vault(String),
    /// A template with `${VAR}` references to pyrad's environment.
    Template(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ManifestError {
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{path}:{line}:{column}: {message}")]
    Invalid { path: PathBuf, line: usize, column: usize, message: String },
    #[error("{path}: {message}")]
    Rule { path: PathBuf, message: String },
}

fn valid_name(name: &str) -> bool {
    let first_ok = name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    first_ok
        && name.len() <= 32
        && !name.contains("__")
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

impl Manifest {
    /// Reads and validates `<dir>/plugin.toml`; the folder name must be the plugin's name.
    pub fn load(dir: &Path) -> Result<Self, ManifestError> {
        let path = dir.join(FILE);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| ManifestError::Read { path: path.clone(), message: e.to_string() })?;
        let manifest = Self::parse(&path, &text)?;
        let folder = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if folder != manifest.name {
            return Err(ManifestError::Rule {
                path,
                message: format!(
                    "the plugin is named {:?} but its folder is {folder:?}; they must match",
                    manifest.name
                ),
            });
        }
        Ok(manifest)
    }

    /// Parses and validates manifest text (`path` is for messages).
    pub fn parse(path: &Path, text: &str) -> Result<Self, ManifestError> {
        let manifest: Manifest = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map(|s| line_column(text, s.start)).unwrap_or((1, 1));
            ManifestError::Invalid { path: path.to_owned(), line, column, message: e.message().trim().to_owned() }
        })?;
        let rule = |message: String| ManifestError::Rule { path: path.to_owned(), message };
        if !valid_name(&manifest.name) {
            return Err(rule(format!(
                "name {:?}: use 1-32 lower-case letters, digits, '-' or '_' (no \"__\"), starting with a letter or digit",
                manifest.name
            )));
        }
        if manifest.command.trim().is_empty() {
            return Err(rule("command is empty".into()));
        }
        if let Some(dep) = manifest.depends.iter().find(|d| !valid_name(d) || **d == manifest.name) {
            return Err(rule(format!("depends: {dep:?} is not another plugin's name")));
        }
        for (kind, paths) in [("read", &manifest.permissions.read), ("write", &manifest.permissions.write)] {
            if let Some(bad) = paths.iter().find(|p| !super::grants::is_grantable(p)) {
                return Err(rule(format!(
                    "permissions.{kind}: {:?} must be an absolute path or start with ~/",
                    bad.display().to_string()
                )));
            }
        }
        let l = &manifest.limits;
        if [l.call_timeout_secs, l.memory_mb, l.processes, l.file_mb, l.open_files, l.output_mb_per_sec].contains(&0) {
            return Err(rule(
                "limits: call_timeout_secs, memory_mb, processes, file_mb, open_files and output_mb_per_sec must be above 0"
                    .into(),
            ));
        }
        for (var, value) in &manifest.env {
            match manifest.env_value(value) {
                EnvValue::Vault(key) if !manifest.permissions.vault.contains(&key) => {
                    return Err(rule(format!(
                        "env.{var} uses vault key {key:?}, which permissions.vault does not list"
                    )));
                }
                EnvValue::Template(template) => {
                    for name in template_vars(&template) {
                        if !manifest.permissions.env.contains(&name) {
                            return Err(rule(format!(
                                "env.{var} uses ${{{name}}}, which permissions.env does not list"
                            )));
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(manifest)
    }

    /// Whether this plugin supports pyrad `version`.
    pub fn supports(&self, version: &semver::Version) -> bool {
        self.pyra.matches(version)
    }

    pub fn env_value(&self, value: &str) -> EnvValue {
        if let Some(key) = value.strip_prefix("vault:") {
            EnvValue::Vault(key.to_owned())
        } else if value.contains("${") {
            EnvValue::Template(value.to_owned())
        } else {
            EnvValue::Literal(value.to_owned())
        }
    }
}

/// The `${VAR}` names in `template`.
pub fn template_vars(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                out.push(after[..end].to_owned());
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// Expands `${VAR}` with `lookup`; an unknown variable becomes empty.
pub fn expand(template: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                out.push_str(&lookup(&after[..end]).unwrap_or_default());
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(before.chars().count(), |nl| before[nl + 1..].chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "github"
version = "1.2.0"
description = "Issues and pull requests"
command = "npx"
args = ["-y", "@modelcontextprotocol/server-github"]
pyra = ">=0.1, <0.3"
depends = ["files"]
priority = 50

[approval]
exempt = ["list_issues"]

[permissions]
network = true
env = ["HOME"]
vault = ["plugin:github:token"]

[limits]
memory_mb = 256
cpu_secs = 60
call_timeout_secs = 30

[env]
GITHUB_TOKEN = "vault:plugin:github:token"
CACHE = "${HOME}/.cache/github"
MODE = "fast"
"#;

    fn parse(text: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(Path::new("/p/github/plugin.toml"), text)
    }

    #[test]
    fn a_complete_manifest_parses() {
        let m = parse(GOOD).unwrap();
        assert_eq!(m.version, semver::Version::new(1, 2, 0));
        assert!(m.supports(&semver::Version::new(0, 2, 5)));
        assert!(!m.supports(&semver::Version::new(0, 3, 0)));
        assert_eq!(m.env_value(&m.env["GITHUB_TOKEN"]), EnvValue::Vault("plugin:github:token".into()));
        assert_eq!(m.limits.call_timeout_secs, 30);
        assert_eq!(m.approval.exempt, vec!["list_issues"]);
    }

    #[test]
    fn defaults_fill_a_minimal_manifest() {
        let m = parse("name = \"time\"\nversion = \"0.1.0\"\ncommand = \"mcp-server-time\"\n").unwrap();
        assert_eq!(m.priority, 100);
        assert_eq!(m.limits, Limits::default());
        assert!(m.supports(&semver::Version::new(9, 0, 0)));
        assert!(m.permissions.vault.is_empty() && !m.permissions.network);
        let partial = parse("name = \"t\"\nversion = \"0.1.0\"\ncommand = \"c\"\n[limits]\ncall_timeout_secs = 5\n");
        let limits = partial.unwrap().limits;
        assert_eq!((limits.call_timeout_secs, limits.memory_mb), (5, Limits::default().memory_mb));
    }

    #[test]
    fn mistakes_are_named_precisely() {
        let cases: &[(&str, &str)] = &[
            ("name = \"x\"\nversion = \"1.0\"\ncommand = \"c\"\n", ":2:11:"),
            ("name = \"x\"\nversion = \"1.0.0\"\ncommand = \"c\"\ncolour = 1\n", ":4:1:"),
            ("name = \"x\"\nversion = \"1.0.0\"\n", "missing field `command`"),
            ("name = \"X Y\"\nversion = \"1.0.0\"\ncommand = \"c\"\n", "lower-case"),
            ("name = \"a__b\"\nversion = \"1.0.0\"\ncommand = \"c\"\n", "no \"__\""),
            ("name = \"x\"\nversion = \"1.0.0\"\ncommand = \" \"\n", "command is empty"),
            ("name = \"x\"\nversion = \"1.0.0\"\ncommand = \"c\"\npyra = \"not a range\"\n", ":4:8:"),
            ("name = \"x\"\nversion = \"1.0.0\"\ncommand = \"c\"\ndepends = [\"x\"]\n", "depends"),
            (
                "name = \"x\"\nversion = \"1.0.0\"\ncommand = \"c\"\n[env]\nT = \"vault:plugin:x:t\"\n",
                "permissions.vault",
            ),
            ("name = \"x\"\nversion = \"1.0.0\"\ncommand = \"c\"\n[env]\nP = \"${SECRET_THING}\"\n", "permissions.env"),
            (
                "name = \"x\"\nversion = \"1.0.0\"\ncommand = \"c\"\n[limits]\nmemory_mb = 0\ncpu_secs = 1\ncall_timeout_secs = 1\n",
                "limits",
            ),
            (
                "name = \"x\"\nversion = \"1.0.0\"\ncommand = \"c\"\n[permissions]\nwrite = [\"~/ok\", \"notes\"]\n",
                "permissions.write: \"notes\" must be an absolute path or start with ~/",
            ),
        ];
        for (text, expected) in cases {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.starts_with("/p/github/plugin.toml"), "{err}");
            assert!(err.contains(expected), "expected {expected:?} in {err:?}");
        }
    }

    #[test]
    fn the_folder_must_carry_the_plugins_name() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("other");
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join(FILE), GOOD).unwrap();
        let err = Manifest::load(&folder).unwrap_err().to_string();
        assert!(err.contains("folder is \"other\""), "{err}");
        let right = dir.path().join("github");
        std::fs::rename(&folder, &right).unwrap();
        assert_eq!(Manifest::load(&right).unwrap().name, "github");
    }

    #[test]
    fn templates_expand_only_what_is_looked_up() {
        assert_eq!(template_vars("${A}/x/${B}"), vec!["A", "B"]);
        let lookup = |name: &str| (name == "HOME").then(|| "/home/ada".to_owned());
        assert_eq!(expand("${HOME}/.cache:${NOPE}:${", lookup), "/home/ada/.cache::${");
    }
}
