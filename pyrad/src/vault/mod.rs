//! The vault: secrets (provider keys `provider:<preset>:api_key`, plugin
//! credentials `plugin:<name>:<key>`) encrypted at rest with age to an X25519
//! identity kept in `vault/identity.txt` (0400). Names and values are both inside
//! the ciphertext (`vault/secrets.age`, 0600). Values are decrypted only when a
//! caller asks for one, are never logged, and never leave the daemon over the
//! socket: only names are listed.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;

use age::secrecy::{ExposeSecret, SecretString};

use crate::seal::Check;
use crate::security::modes;

const IDENTITY: &str = "identity.txt";
const SECRETS: &str = "secrets.age";

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("vault key names are 1-128 letters, digits, '_', '-', '.', ':'; {0:?} is not")]
    BadName(String),
    #[error(
        "the vault identity {0} is missing but encrypted secrets exist; they cannot be read. \
         Restore the identity file from a backup, or move secrets.age away to start an empty vault"
    )]
    IdentityMissing(PathBuf),
    #[error(
        "the vault secrets file {0} is missing, but this vault was set up (its identity exists): the \
         secrets were deleted or moved. Restore it from a backup (`pyractl restore <file>`), or, to \
         start again with an empty vault, delete the identity.txt beside it as well"
    )]
    SecretsMissing(PathBuf),
    #[error("a vault value cannot be empty ({0:?})")]
    EmptyValue(String),
    #[error("the vault identity {0} is unreadable or damaged")]
    BadIdentity(PathBuf),
    #[error("the vault cannot be decrypted with its identity (damaged or replaced file {0})")]
    Decrypt(PathBuf),
    #[error("vault I/O on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the vault lock was poisoned")]
    Poisoned,
}

pub struct Vault {
    dir: PathBuf,
    identity: age::x25519::Identity,
    /// Serialises read-modify-write of the secrets file.
    lock: Mutex<()>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").field("dir", &self.dir).finish_non_exhaustive()
    }
}

/// The identity in `text` (read from `path`), once `path` has its 0400 mode.
fn read_identity(path: &Path, text: &str) -> Result<age::x25519::Identity, VaultError> {
    modes::enforce(path, modes::Kind::File, modes::SENTINEL_MODE)
        .map_err(|e| VaultError::Io { path: path.to_owned(), source: std::io::Error::other(e.to_string()) })?;
    age::x25519::Identity::from_str(text.trim()).map_err(|_| VaultError::BadIdentity(path.to_owned()))
}

fn check_name(name: &str) -> Result<(), VaultError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'));
    if ok { Ok(()) } else { Err(VaultError::BadName(name.into())) }
}

impl Vault {
    /// Opens the vault in `dir`, creating its identity on first use.
    pub fn open(dir: &Path) -> Result<Self, VaultError> {
        let identity_path = dir.join(IDENTITY);
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| VaultError::Io { path, source }
        };
        let identity = match std::fs::read_to_string(&identity_path) {
            Ok(text) => read_identity(&identity_path, &text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if dir.join(SECRETS).exists() {
                    return Err(VaultError::IdentityMissing(identity_path));
                }
                let identity = age::x25519::Identity::generate();
                // The secrets file first (an empty vault), then the identity: from
                // the moment the identity exists, a missing secrets file is a loss.
                let vault = Self { dir: dir.to_owned(), identity, lock: Mutex::new(()) };
                vault.save(&BTreeMap::new())?;
                let text = format!("{}\n", vault.identity.to_string().expose_secret());
                modes::create_file(&identity_path, text.as_bytes(), modes::SENTINEL_MODE)
                    .map_err(io(&identity_path))?;
                return Ok(vault);
            }
            Err(e) => return Err(io(&identity_path)(e)),
        };
        let vault = Self { dir: dir.to_owned(), identity, lock: Mutex::new(()) };
        vault.load()?;
        Ok(vault)
    }

    /// As [`open`](Self::open), but a secrets file that a clean stop sealed in
    /// `seal` and that nothing changed since (see [`crate::seal`]) is not
    /// decrypted now: the second value says so, and the caller runs
    /// [`check`](Self::check) soon after. The identity is always read now.
    pub fn open_sealed(dir: &Path, seal: &Path) -> Result<(Self, Check), VaultError> {
        let identity_path = dir.join(IDENTITY);
        if crate::seal::intact(&dir.join(SECRETS), None, seal).is_none() || !identity_path.exists() {
            return Ok((Self::open(dir)?, Check::Done));
        }
        let text = std::fs::read_to_string(&identity_path)
            .map_err(|source| VaultError::Io { path: identity_path.clone(), source })?;
        let identity = read_identity(&identity_path, &text)?;
        Ok((Self { dir: dir.to_owned(), identity, lock: Mutex::new(()) }, Check::Deferred))
    }

    /// Whether the secrets decrypt with the identity, as an open checks.
    pub fn check(&self) -> Result<(), VaultError> {
        self.load().map(drop)
    }

    /// At a clean stop: notes the secrets file as this run leaves it (decrypted
    /// at the start or written since), so the next start can skip decrypting it.
    pub fn seal(&self, seal: &Path) -> std::io::Result<()> {
        let _writing = self.lock.lock().map_err(|_| std::io::Error::other("the vault lock was poisoned"))?;
        crate::seal::write(&self.dir.join(SECRETS), seal, 0)
    }

    fn load(&self) -> Result<BTreeMap<String, String>, VaultError> {
        let path = self.dir.join(SECRETS);
        let ciphertext = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(VaultError::SecretsMissing(path)),
            Err(source) => return Err(VaultError::Io { path, source }),
        };
        let plaintext = age::decrypt(&self.identity, &ciphertext).map_err(|_| VaultError::Decrypt(path.clone()))?;
        serde_json::from_slice(&plaintext).map_err(|_| VaultError::Decrypt(path))
    }

    fn save(&self, secrets: &BTreeMap<String, String>) -> Result<(), VaultError> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = self.dir.join(SECRETS);
        let io = |source| VaultError::Io { path: path.clone(), source };
        let plaintext = serde_json::to_vec(secrets).map_err(|e| io(std::io::Error::other(e)))?;
        let ciphertext =
            age::encrypt(&self.identity.to_public(), &plaintext).map_err(|e| io(std::io::Error::other(e)))?;
        let tmp = self.dir.join("secrets.age.tmp");
        let mut file =
            std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp).map_err(io)?;
        file.write_all(&ciphertext).map_err(io)?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)
    }

    pub fn set(&self, name: &str, value: &str) -> Result<(), VaultError> {
        check_name(name)?;
        if value.is_empty() {
            return Err(VaultError::EmptyValue(name.to_owned()));
        }
        let _guard = self.lock.lock().map_err(|_| VaultError::Poisoned)?;
        let mut secrets = self.load()?;
        secrets.insert(name.to_owned(), value.to_owned());
        self.save(&secrets)
    }

    /// The value of `name`, decrypted now; keep it no longer than needed.
    pub fn get(&self, name: &str) -> Result<Option<SecretString>, VaultError> {
        let _guard = self.lock.lock().map_err(|_| VaultError::Poisoned)?;
        Ok(self.load()?.remove(name).map(SecretString::from))
    }

    /// The names only.
    pub fn names(&self) -> Result<Vec<String>, VaultError> {
        let _guard = self.lock.lock().map_err(|_| VaultError::Poisoned)?;
        Ok(self.load()?.into_keys().collect())
    }

    pub fn delete(&self, name: &str) -> Result<bool, VaultError> {
        let _guard = self.lock.lock().map_err(|_| VaultError::Poisoned)?;
        let mut secrets = self.load()?;
        let existed = secrets.remove(name).is_some();
        if existed {
            self.save(&secrets)?;
        }
        Ok(existed)
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;

    const SECRET: &str = "sk-live-4f9a0c1b2d3e-very-secret";

    fn grep_dir(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
        let mut hits = Vec::new();
        let mut stack = vec![dir.to_owned()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if std::fs::read(&p).unwrap().windows(needle.len()).any(|w| w == needle) {
                    hits.push(p);
                }
            }
        }
        hits
    }

    #[test]
    fn secrets_round_trip_and_are_ciphertext_at_rest() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path()).unwrap();
        vault.set("provider:openai:api_key", SECRET).unwrap();
        vault.set("plugin:github:token", "ghp_x").unwrap();
        assert_eq!(vault.get("provider:openai:api_key").unwrap().unwrap().expose_secret(), SECRET);
        assert_eq!(vault.names().unwrap(), vec!["plugin:github:token", "provider:openai:api_key"]);
        assert!(grep_dir(dir.path(), SECRET.as_bytes()).is_empty(), "plaintext on disk");
        assert!(grep_dir(dir.path(), b"provider:openai").is_empty(), "names are encrypted too");
        assert_eq!(std::fs::metadata(dir.path().join(IDENTITY)).unwrap().mode() & 0o777, 0o400);
        assert_eq!(std::fs::metadata(dir.path().join(SECRETS)).unwrap().mode() & 0o777, 0o600);

        let reopened = Vault::open(dir.path()).unwrap();
        assert!(reopened.delete("plugin:github:token").unwrap());
        assert!(!reopened.delete("plugin:github:token").unwrap());
        assert_eq!(reopened.names().unwrap(), vec!["provider:openai:api_key"]);
    }

    #[test]
    fn a_lost_identity_is_refused_rather_than_replaced() {
        let dir = tempfile::tempdir().unwrap();
        Vault::open(dir.path()).unwrap().set("k", "v").unwrap();
        std::fs::remove_file(dir.path().join(IDENTITY)).unwrap();
        assert!(matches!(Vault::open(dir.path()), Err(VaultError::IdentityMissing(_))));
        assert!(dir.path().join(SECRETS).exists(), "the secrets were kept");
    }

    #[test]
    fn a_damaged_secrets_file_is_an_error_not_an_empty_vault() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path()).unwrap();
        vault.set("k", "v").unwrap();
        std::fs::write(dir.path().join(SECRETS), b"garbage").unwrap();
        assert!(matches!(vault.names(), Err(VaultError::Decrypt(_))));
        assert!(matches!(vault.set("k2", "v"), Err(VaultError::Decrypt(_))), "no overwrite of a damaged vault");
    }

    #[test]
    fn a_deleted_secrets_file_is_an_error_not_an_empty_vault() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path()).unwrap();
        assert!(dir.path().join(SECRETS).exists(), "a new vault has its (empty) secrets file");
        assert_eq!(vault.names().unwrap(), Vec::<String>::new());
        vault.set("provider:openai:api_key", SECRET).unwrap();
        std::fs::remove_file(dir.path().join(SECRETS)).unwrap();
        assert!(matches!(vault.get("provider:openai:api_key"), Err(VaultError::SecretsMissing(_))));
        assert!(matches!(vault.set("k", "v"), Err(VaultError::SecretsMissing(_))), "no silent new vault");
        let err = Vault::open(dir.path()).unwrap_err();
        assert!(matches!(err, VaultError::SecretsMissing(_)), "{err}");
        assert!(err.to_string().contains("pyractl restore"), "{err}");
        // The way out it names: without the identity too, a new empty vault starts.
        std::fs::remove_file(dir.path().join(IDENTITY)).unwrap();
        assert_eq!(Vault::open(dir.path()).unwrap().names().unwrap(), Vec::<String>::new());
    }

    #[test]
    fn an_empty_value_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path()).unwrap();
        assert!(matches!(vault.set("provider:openai:api_key", ""), Err(VaultError::EmptyValue(_))));
        assert_eq!(vault.get("provider:openai:api_key").unwrap().map(|s| s.expose_secret().to_owned()), None);
    }

    #[test]
    fn names_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path()).unwrap();
        assert!(matches!(vault.set("bad name", "v"), Err(VaultError::BadName(_))));
        assert!(matches!(vault.set("", "v"), Err(VaultError::BadName(_))));
    }
}
