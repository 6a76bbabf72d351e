//! `PYRA_HOME` (default `~/.pyra`): its layout, and the bootstrap that creates it on
//! first start and checks it on every start (modes, owner, the vault sentinel).

use std::path::{Path, PathBuf};

use crate::config::DEFAULT_CONFIG_TOML;
use crate::security::modes::{self, FILE_MODE, Kind, ModeError, Repair, SENTINEL_MODE};

/// The text of the vault sentinel; its presence, not its content, is what counts.
const SENTINEL_TEXT: &str =
    "This file marks the Pyra vault as set up. Do not delete it: pyrad refuses to start without it.\n";

/// The directories under the home, each created 0700.
pub const DIRS: &[&str] = &["logs", "plugins", "memory", "run", "data", "vault"];

/// Paths of everything pyrad keeps under its home.
#[derive(Debug, Clone)]
pub struct Home {
    pub root: PathBuf,
}

impl Home {
    pub fn config_file(&self) -> PathBuf {
        self.root.join("config.toml")
    }
    pub fn logs(&self) -> PathBuf {
        self.root.join("logs")
    }
    pub fn log_file(&self) -> PathBuf {
        self.logs().join("pyrad.log")
    }
    pub fn memory(&self) -> PathBuf {
        self.root.join("memory")
    }
    pub fn run(&self) -> PathBuf {
        self.root.join("run")
    }
    pub fn default_socket(&self) -> PathBuf {
        self.run().join("pyrad.sock")
    }
    pub fn pid_file(&self) -> PathBuf {
        self.run().join("pyrad.pid")
    }
    pub fn database(&self) -> PathBuf {
        self.root.join("data").join("pyra.db")
    }
    /// How a clean stop left the database, checked (see `store::seal`).
    pub fn database_seal(&self) -> PathBuf {
        self.run().join("database.sealed")
    }
    /// How a clean stop left the vault's secrets file (see `seal`).
    pub fn vault_seal(&self) -> PathBuf {
        self.run().join("vault.sealed")
    }
    pub fn vault(&self) -> PathBuf {
        self.root.join("vault")
    }
    pub fn sentinel(&self) -> PathBuf {
        self.vault().join(".vault_lock")
    }
}

/// What bootstrapping found and did, reported once logging is up.
#[derive(Debug)]
pub struct Bootstrap {
    pub home: Home,
    /// Modes that were loosened and have been set right.
    pub repairs: Vec<Repair>,
    /// This start set the home up (the vault did not exist yet).
    pub first_setup: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    #[error(transparent)]
    Mode(#[from] ModeError),
    #[error(
        "the vault sentinel {0} is missing. This home was set up before, so the vault may have been \
         tampered with or partly deleted, and pyrad will not start on it. Check the vault directory; \
         if all is well, restore the sentinel with: (umask 077; echo pyra > {0}) && chmod 0400 {0}"
    )]
    SentinelMissing(PathBuf),
    #[error("cannot create {path}: {source}")]
    Create { path: PathBuf, source: std::io::Error },
}

/// The home to use: `$PYRA_HOME`, else `~/.pyra`.
pub fn default_root() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("PYRA_HOME").filter(|h| !h.is_empty()) {
        return Some(PathBuf::from(home));
    }
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".pyra"))
}

/// Creates what is missing under `root` and checks what exists.
pub fn bootstrap(root: &Path) -> Result<Bootstrap, HomeError> {
    let root = std::path::absolute(root).map_err(|source| HomeError::Create { path: root.into(), source })?;
    let home = Home { root };
    let mut repairs = Vec::new();
    let create_err = |path: &Path| {
        let path = path.to_owned();
        move |source| HomeError::Create { path, source }
    };

    if std::fs::symlink_metadata(&home.root).is_err() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(modes::DIR_MODE)
            .create(&home.root)
            .map_err(create_err(&home.root))?;
    }
    repairs.extend(modes::enforce(&home.root, Kind::Dir, modes::DIR_MODE)?);

    let first_setup = std::fs::symlink_metadata(home.vault()).is_err();
    for dir in DIRS {
        repairs.extend(modes::ensure_dir(&home.root.join(dir))?);
    }

    let sentinel = home.sentinel();
    match std::fs::symlink_metadata(&sentinel) {
        Ok(_) => repairs.extend(modes::enforce(&sentinel, Kind::File, SENTINEL_MODE)?),
        Err(_) if first_setup => {
            modes::create_file(&sentinel, SENTINEL_TEXT.as_bytes(), SENTINEL_MODE).map_err(create_err(&sentinel))?
        }
        Err(_) => return Err(HomeError::SentinelMissing(sentinel)),
    }

    let config = home.config_file();
    match std::fs::symlink_metadata(&config) {
        Ok(_) => repairs.extend(modes::enforce(&config, Kind::File, FILE_MODE)?),
        Err(_) => {
            modes::create_file(&config, DEFAULT_CONFIG_TOML.as_bytes(), FILE_MODE).map_err(create_err(&config))?
        }
    }

    // Files pyrad wrote earlier (logs, the database and its WAL, the vault's
    // secrets, memory files at any depth) keep 0600, their folders 0700; the vault's
    // identity and sentinel 0400.
    for dir in ["logs", "data", "run", "vault", "memory"] {
        repair_tree(&home.root.join(dir), &mut repairs)?;
    }
    Ok(Bootstrap { home, repairs, first_setup })
}

/// Enforces the policy on everything under `dir`: folders 0700, files 0600, the
/// vault's identity and sentinel 0400. Symlinks and strangers are refused.
fn repair_tree(dir: &Path, repairs: &mut Vec<Repair>) -> Result<(), ModeError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            repairs.extend(modes::enforce(&path, Kind::Dir, modes::DIR_MODE)?);
            repair_tree(&path, repairs)?;
        } else if kind.is_file() {
            let name = entry.file_name();
            let read_only =
                dir.file_name().is_some_and(|d| d == "vault") && (name == ".vault_lock" || name == "identity.txt");
            repairs.extend(modes::enforce(&path, Kind::File, if read_only { SENTINEL_MODE } else { FILE_MODE })?);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path).unwrap().mode() & 0o7777
    }

    #[test]
    fn first_start_creates_the_tree_with_tight_modes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("home");
        let boot = bootstrap(&root).unwrap();
        assert!(boot.first_setup);
        assert!(boot.repairs.is_empty());
        assert_eq!(mode(&root), 0o700);
        for d in DIRS {
            assert_eq!(mode(&root.join(d)), 0o700, "{d}");
        }
        assert_eq!(mode(&boot.home.sentinel()), 0o400);
        assert_eq!(mode(&boot.home.config_file()), 0o600);
        assert_eq!(std::fs::read_to_string(boot.home.config_file()).unwrap(), DEFAULT_CONFIG_TOML);
        assert!(!bootstrap(&root).unwrap().first_setup);
    }

    #[test]
    fn a_missing_sentinel_after_setup_refuses_to_start() {
        let dir = tempfile::tempdir().unwrap();
        let boot = bootstrap(dir.path()).unwrap();
        std::fs::remove_file(boot.home.sentinel()).unwrap();
        let err = bootstrap(dir.path()).unwrap_err();
        assert!(matches!(err, HomeError::SentinelMissing(_)));
        assert!(err.to_string().contains("chmod 0400"), "{err}");
    }

    #[test]
    fn loosened_modes_are_repaired_and_listed() {
        let dir = tempfile::tempdir().unwrap();
        let boot = bootstrap(dir.path()).unwrap();
        let config = boot.home.config_file();
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(boot.home.logs(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let again = bootstrap(dir.path()).unwrap();
        let repaired: Vec<_> = again.repairs.iter().map(|r| (r.path.clone(), r.was)).collect();
        assert!(repaired.contains(&(config.clone(), 0o644)), "{repaired:?}");
        assert!(repaired.contains(&(boot.home.logs(), 0o755)), "{repaired:?}");
        assert_eq!(mode(&config), 0o600);
    }

    #[test]
    fn vault_and_memory_files_are_repaired_and_listed() {
        let dir = tempfile::tempdir().unwrap();
        let boot = bootstrap(dir.path()).unwrap();
        let secrets = boot.home.vault().join("secrets.age");
        let identity = boot.home.vault().join("identity.txt");
        let user = boot.home.memory().join("user");
        let profile = user.join("profile.md");
        std::fs::write(&secrets, b"x").unwrap();
        std::fs::write(&identity, b"x").unwrap();
        std::fs::create_dir(&user).unwrap();
        std::fs::write(&profile, b"x").unwrap();
        for (path, m) in [(&secrets, 0o644), (&identity, 0o644), (&user, 0o755), (&profile, 0o644)] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(m)).unwrap();
        }
        let again = bootstrap(dir.path()).unwrap();
        let repaired: Vec<_> = again.repairs.iter().map(|r| (r.path.clone(), r.was, r.now)).collect();
        for expected in
            [(secrets, 0o644, 0o600), (identity, 0o644, 0o400), (user, 0o755, 0o700), (profile, 0o644, 0o600)]
        {
            assert!(repaired.contains(&expected), "{expected:?} not in {repaired:?}");
            assert_eq!(mode(&expected.0), expected.2);
        }
        assert!(bootstrap(dir.path()).unwrap().repairs.is_empty());
    }

    #[test]
    fn a_symlinked_config_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let boot = bootstrap(dir.path()).unwrap();
        let elsewhere = dir.path().join("elsewhere.toml");
        std::fs::write(&elsewhere, "").unwrap();
        std::fs::remove_file(boot.home.config_file()).unwrap();
        std::os::unix::fs::symlink(&elsewhere, boot.home.config_file()).unwrap();
        assert!(matches!(bootstrap(dir.path()), Err(HomeError::Mode(ModeError::Symlink(_)))));
    }
}
