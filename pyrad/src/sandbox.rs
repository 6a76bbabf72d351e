//! The plugin sandbox, enforced by the kernel (Landlock).
//!
//! - **Hidden**: `PYRA_HOME` (the vault, the database, memory, the config, other
//!   plugins) and the user's home directory. Inside them a plugin reaches only what
//!   it is granted: its plugin folder (read), its data folder (read and write),
//!   the paths its manifest declares in `permissions.read` / `permissions.write`,
//!   and what it needs to run at all (see `host.rs`: the program's own folder, an
//!   `npx`/`uvx` cache). A grant never opens `PYRA_HOME`.
//! - **Read-only**: the rest of the filesystem (`/usr`, `/etc`, ...), so node,
//!   python and their libraries work unchanged.
//! - **Writable**: only the data folder, `/dev` and `permissions.write`.
//! - **Network**: without `permissions.network` no TCP connect or bind.
//! - **Scope**: no signals to processes outside the sandbox, no abstract Unix
//!   sockets outside it (Landlock ABI 6). Named Unix sockets are not Landlock's:
//!   pyrad refuses its own plugins on its control socket (`security/peer.rs`).
//!
//! pyrad applies it by starting `pyrad --sandbox-exec -- <command> <args>`: that
//! process is single-threaded, restricts itself, then `exec`s the plugin, which
//! inherits the restrictions for good.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, AccessNet, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope,
    path_beneath_rules,
};
use serde::{Deserialize, Serialize};

/// The environment variable that carries the policy to `--sandbox-exec`.
pub const ENV: &str = "PYRA_SANDBOX";
/// The first argument that makes `pyrad` a sandbox launcher.
pub const FLAG: &str = "--sandbox-exec";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Hidden from the plugin: `PYRA_HOME` and the user's home.
    pub hidden: Vec<PathBuf>,
    /// Readable (and executable) even if hidden.
    pub read: Vec<PathBuf>,
    /// Readable and writable even if hidden.
    pub write: Vec<PathBuf>,
    pub network: bool,
}

/// The environment variable that stands in for the kernel's Landlock ABI
/// version: `0` makes pyrad act as on a kernel without Landlock (to try that
/// path on a machine that has it).
pub const ABI_ENV: &str = "PYRA_LANDLOCK_ABI";

/// The Landlock ABI version the kernel offers; 0 if none (too old, or disabled).
pub fn landlock_abi() -> i32 {
    if let Some(v) = std::env::var(ABI_ENV).ok().and_then(|v| v.trim().parse().ok()) {
        return v;
    }
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: the documented version query: no ruleset, size 0, the version flag.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    i32::try_from(v).unwrap_or(0).max(0)
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
    let open = carve(Path::new("/"), &policy.hidden);
    // Scoped (Landlock ABI 6, where the kernel has it): no signal to a process
    // outside the sandbox (pyrad, the user's programs) and no connection to an
    // abstract Unix socket outside it.
    let mut ruleset = Ruleset::default().handle_access(all)?.scope(Scope::from_all(ABI::V6))?;
    if !policy.network {
        // Handled with no port allowed: every TCP bind and connect is denied.
        ruleset = ruleset.handle_access(AccessNet::from_all(abi))?;
    }
    let status = ruleset
        .create()?
        .add_rules(path_beneath_rules(&open, AccessFs::from_read(abi)))?
        // Devices: /dev/null, /dev/tty, /dev/shm; the kernel's own rights still apply.
        .add_rules(path_beneath_rules(["/dev"], all))?
        .add_rules(path_beneath_rules(&policy.read, AccessFs::from_read(abi)))?
        .add_rules(path_beneath_rules(&policy.write, all))?
        .restrict_self()?;
    Ok(status.ruleset)
}

/// `path` without what lies in `hidden`: `[path]` if it holds none of them,
/// nothing if it is inside one, else (for an ancestor of a hidden path) the same
/// for each of its entries. So `carve("/", [home])` is every entry at each level
/// from `/` down to `home` that does not lead to it. `hidden` must be canonical;
/// `path` is resolved first, so a symlink cannot lead back into a hidden path.
/// A path that does not exist yields nothing.
pub fn carve(path: &Path, hidden: &[PathBuf]) -> Vec<PathBuf> {
    let Ok(path) = path.canonicalize() else { return Vec::new() };
    let path = path.as_path();
    if hidden.iter().any(|h| path.starts_with(h)) {
        return Vec::new();
    }
    if !hidden.iter().any(|h| h.starts_with(path)) {
        return vec![path.to_path_buf()];
    }
    let Ok(entries) = std::fs::read_dir(path) else { return Vec::new() };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    entries.iter().flat_map(|e| carve(e, hidden)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carving_leaves_out_every_hidden_path_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        for d in ["home/ada/.pyra/vault", "home/ada/code", "home/bob", "opt"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::write(root.join("file"), "x").unwrap();
        let home = root.join("home/ada");
        let pyra = root.join("home/ada/.pyra");
        let mut open = carve(&root, &[home.clone(), pyra.clone()]);
        open.sort();
        assert_eq!(open, vec![root.join("file"), root.join("home/bob"), root.join("opt")]);
        // A grant of the whole home keeps PYRA_HOME out.
        assert_eq!(carve(&home, std::slice::from_ref(&pyra)), vec![home.join("code")]);
        assert!(carve(&pyra.join("vault"), std::slice::from_ref(&pyra)).is_empty());
        assert_eq!(carve(&root.join("opt"), std::slice::from_ref(&pyra)), vec![root.join("opt")]);
        // A symlink that leads into a hidden path is followed, and carved.
        std::os::unix::fs::symlink(&pyra, root.join("opt/back-door")).unwrap();
        std::os::unix::fs::symlink(root.join("home"), root.join("up")).unwrap();
        assert!(carve(&root.join("opt/back-door"), std::slice::from_ref(&pyra)).is_empty());
        let mut up = carve(&root.join("up"), std::slice::from_ref(&pyra));
        up.sort();
        assert_eq!(up, vec![home.join("code"), root.join("home/bob")]);
        assert!(carve(&root.join("missing"), &[pyra]).is_empty());
        let all = carve(Path::new("/"), std::slice::from_ref(&root));
        assert!(all.contains(&PathBuf::from("/usr")) || !Path::new("/usr").exists());
        assert!(!all.iter().any(|p| p.starts_with(&root) || *p == Path::new("/")));
    }
}
