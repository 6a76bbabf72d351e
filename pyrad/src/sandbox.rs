//! The plugin sandbox, enforced by the kernel (Landlock). A plugin cannot read or
//! write anything under `PYRA_HOME` (the vault, the database, memory, the config,
//! other plugins' data) except its own plugin folder (read) and data folder
//! (read and write), and without `permissions.network` it cannot open or accept
//! TCP connections. The rest of the filesystem stays as the user's own rights
//! allow, so existing MCP servers (node, python, ...) run unchanged.
//!
//! pyrad applies it by starting `pyrad --sandbox-exec -- <command> <args>`: that
//! process is single-threaded, restricts itself, then `exec`s the plugin, which
//! inherits the restrictions for good.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, AccessNet, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus, path_beneath_rules,
};
use serde::{Deserialize, Serialize};

/// The environment variable that carries the policy to `--sandbox-exec`.
pub const ENV: &str = "PYRA_SANDBOX";
/// The first argument that makes `pyrad` a sandbox launcher.
pub const FLAG: &str = "--sandbox-exec";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Hidden from the plugin: `PYRA_HOME`.
    pub hidden: PathBuf,
    /// Readable inside `hidden` anyway: its plugin folder.
    pub read: Vec<PathBuf>,
    /// Readable and writable inside `hidden` anyway: its data folder.
    pub write: Vec<PathBuf>,
    pub network: bool,
}

/// Runs as `pyrad --sandbox-exec -- cmd args...`: restrict, then become the plugin.
pub fn exec(args: &[OsString]) -> ! {
    use std::os::unix::process::CommandExt;
    let command = args.iter().skip_while(|a| a.as_os_str() != "--").skip(1).cloned().collect::<Vec<_>>();
    let Some((program, rest)) = command.split_first() else {
        eprintln!("pyrad {FLAG}: no command after --");
        std::process::exit(126);
    };
    let policy = std::env::var(ENV).ok().and_then(|text| serde_json::from_str::<Policy>(&text).ok());
    let Some(policy) = policy else {
        eprintln!("pyrad {FLAG}: no valid {ENV} policy; refusing to start the plugin unsandboxed");
        std::process::exit(126);
    };
    match apply(&policy) {
        Ok(RulesetStatus::FullyEnforced) => {}
        Ok(status) => eprintln!("pyrad sandbox: the kernel enforces it only partly ({status:?})"),
        Err(e) => {
            eprintln!("pyrad sandbox: cannot restrict the plugin: {e}");
            std::process::exit(126);
        }
    }
    let error = std::process::Command::new(program).args(rest).env_remove(ENV).exec();
    eprintln!("pyrad sandbox: cannot start {}: {error}", program.to_string_lossy());
    std::process::exit(127);
}

/// Restricts this process (and what it execs) to `policy`.
pub fn apply(policy: &Policy) -> Result<RulesetStatus, landlock::RulesetError> {
    let abi = ABI::V4;
    let all = AccessFs::from_all(abi);
    let open = outside(&policy.hidden);
    let mut ruleset = Ruleset::default().handle_access(all)?;
    if !policy.network {
        // Handled with no port allowed: every TCP bind and connect is denied.
        ruleset = ruleset.handle_access(AccessNet::from_all(abi))?;
    }
    let status = ruleset
        .create()?
        .add_rules(path_beneath_rules(&open, all))?
        .add_rules(path_beneath_rules(&policy.read, AccessFs::from_read(abi)))?
        .add_rules(path_beneath_rules(&policy.write, all))?
        .restrict_self()?;
    Ok(status.ruleset)
}

/// Everything on the filesystem except `hidden`: at each level from `/` down to
/// `hidden`, every entry that does not lead to it.
pub fn outside(hidden: &Path) -> Vec<PathBuf> {
    let hidden = hidden.canonicalize().unwrap_or_else(|_| hidden.to_path_buf());
    let mut open = Vec::new();
    let mut level = PathBuf::from("/");
    for component in hidden.components().skip(1) {
        let next = level.join(component);
        if let Ok(entries) = std::fs::read_dir(&level) {
            open.extend(entries.flatten().map(|e| e.path()).filter(|p| *p != next));
        }
        level = next;
    }
    open
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_but_the_hidden_path_is_open() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("home/vault")).unwrap();
        std::fs::create_dir_all(root.join("other")).unwrap();
        std::fs::write(root.join("file"), "x").unwrap();
        let open = outside(&root.join("home"));
        assert!(open.contains(&root.join("other")) && open.contains(&root.join("file")));
        assert!(
            !open.iter().any(|p| p.starts_with(root.join("home")) || root.starts_with(p) && *p != root.join("other"))
        );
        assert!(open.contains(&PathBuf::from("/usr")) || !Path::new("/usr").exists());
        assert!(!open.contains(&PathBuf::from("/")));
    }
}
