//! Plugin trust: who published a plugin, and whether its files are still the
//! ones the user accepted.
//!
//! - **Signatures** are minisign's, so a publisher signs with the standard
//!   `minisign` tool: an archive `X.tar.gz` beside its `X.tar.gz.minisig`; a
//!   folder holding `SHA256SUMS` (the output of `sha256sum` over its files) and
//!   `SHA256SUMS.minisig`. A signature is checked against the publisher keys in
//!   `[plugins] trusted_keys`; one made by a trusted key that does not verify (a
//!   changed byte, another archive's signature) is refused, never merely shown.
//! - **Tamper detection**: the SHA-256 of every file of an installed plugin is
//!   recorded when the user accepts it; `diff` says what changed since.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

/// The checksum file a signed folder carries, and its signature.
pub const SUMS: &str = "SHA256SUMS";
pub const SUMS_SIG: &str = "SHA256SUMS.minisig";
/// The suffix of an archive's detached signature.
pub const SIG_SUFFIX: &str = ".minisig";
/// The signer recorded for plugins that ship with Pyra itself.
pub const BUNDLED: &str = "bundled";

/// Path inside a plugin folder (`/`-separated) → SHA-256 of its bytes.
pub type FileHashes = BTreeMap<String, String>;

/// Why a signature or a checksum list refuses a plugin, in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SignatureError(String);

impl From<String> for SignatureError {
    fn from(s: String) -> Self {
        Self(s)
    }
}

/// The publisher keys the user trusts, by publisher name.
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys(Vec<(String, minisign_verify::PublicKey)>);

/// A public key as `[plugins] trusted_keys` holds it: the `RW...` line of a
/// minisign `.pub` file, or the whole file's text.
pub fn parse_key(text: &str) -> Result<minisign_verify::PublicKey, SignatureError> {
    let text = text.trim();
    let parsed = if text.contains('\n') {
        minisign_verify::PublicKey::decode(text)
    } else {
        minisign_verify::PublicKey::from_base64(text)
    };
    parsed.map_err(|_| {
        SignatureError("is not a minisign public key (the line starting RW in the publisher's .pub file)".to_owned())
    })
}

impl TrustedKeys {
    /// Keys that do not parse are left out with a warning: config loading has
    /// already refused them, so this only happens to keys from elsewhere.
    pub fn new(keys: &BTreeMap<String, String>) -> Self {
        let mut out = Vec::new();
        for (publisher, text) in keys {
            match parse_key(text) {
                Ok(key) => out.push((publisher.clone(), key)),
                Err(e) => tracing::warn!(publisher = %publisher, "trusted key {e}; ignored"),
            }
        }
        Self(out)
    }
}

/// What a signature says about a plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signed {
    /// Signed by this trusted publisher, and it verifies.
    By(String),
    /// No signature came with it.
    Unsigned,
    /// Signed, but by a key the user does not trust (so it proves nothing).
    UnknownPublisher,
}

impl Signed {
    /// The publisher, if a trusted one vouches for it.
    pub fn publisher(&self) -> Option<&str> {
        match self {
            Signed::By(p) => Some(p),
            _ => None,
        }
    }

    /// How `plugin inspect` and `install` name it.
    pub fn describe(&self) -> String {
        match self {
            Signed::By(p) => format!("verified: signed by {p}"),
            Signed::Unsigned => "unverified: not signed".to_owned(),
            Signed::UnknownPublisher => "unverified: signed by a key that is not in [plugins] trusted_keys".to_owned(),
        }
    }
}

/// Checks `sig_text` (a `.minisig` file) over `bytes` against every trusted key.
/// `what` names the signed thing in errors.
pub fn verify(bytes: &[u8], sig_text: &str, keys: &TrustedKeys, what: &str) -> Result<Signed, SignatureError> {
    let signature = minisign_verify::Signature::decode(sig_text)
        .map_err(|e| format!("the signature of {what} is not a minisign signature ({e})"))?;
    for (publisher, key) in &keys.0 {
        match key.verify(bytes, &signature, false) {
            Ok(()) => return Ok(Signed::By(publisher.clone())),
            Err(minisign_verify::Error::UnexpectedKeyId) => continue,
            Err(minisign_verify::Error::UnexpectedAlgorithm) => {
                return Err(format!(
                    "the signature of {what} is in minisign's legacy format; the publisher should sign again with minisign 0.8 or later"
                )
                .into());
            }
            Err(_) => {
                return Err(format!(
                    "the signature by {publisher} does not match {what}: it was changed after it was signed, or the signature is another file's"
                )
                .into());
            }
        }
    }
    Ok(Signed::UnknownPublisher)
}

/// Reads a signature file, refusing anything larger than a signature can be.
fn read_signature(path: &Path) -> Result<Option<String>, SignatureError> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display()).into()),
        Ok(meta) if !meta.is_file() || meta.len() > 4096 => {
            return Err(format!("{} is not a minisign signature file", path.display()).into());
        }
        Ok(_) => {}
    }
    std::fs::read_to_string(path).map(Some).map_err(|e| format!("{}: {e}", path.display()).into())
}

/// The signature of an archive: `<archive>.minisig` beside it.
pub fn archive_signature(archive: &Path, bytes: &[u8], keys: &TrustedKeys) -> Result<Signed, SignatureError> {
    let mut sig = archive.as_os_str().to_owned();
    sig.push(SIG_SUFFIX);
    let what = archive.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    match read_signature(Path::new(&sig))? {
        None => Ok(Signed::Unsigned),
        Some(text) => verify(bytes, &text, keys, &what),
    }
}

/// The signature of a folder: its `SHA256SUMS.minisig` over its `SHA256SUMS`,
/// which must list exactly its other files (`files`, from `hash_tree`) with their hashes.
pub fn folder_signature(root: &Path, files: &FileHashes, keys: &TrustedKeys) -> Result<Signed, SignatureError> {
    let Some(text) = read_signature(&root.join(SUMS_SIG))? else { return Ok(Signed::Unsigned) };
    let sums = std::fs::read(root.join(SUMS)).map_err(|_| format!("{SUMS_SIG} came without the {SUMS} it signs"))?;
    let signed = verify(&sums, &text, keys, SUMS)?;
    let listed = parse_sums(&String::from_utf8_lossy(&sums))?;
    let actual: FileHashes =
        files.iter().filter(|(p, _)| *p != SUMS && *p != SUMS_SIG).map(|(p, h)| (p.clone(), h.clone())).collect();
    let changes = diff(&listed, &actual);
    if !changes.is_empty() {
        return Err(format!("the folder does not match its signed {SUMS}: {}", summary(&changes)).into());
    }
    Ok(signed)
}

/// `sha256sum` output: `<hex>  <path>` (or `<hex> *<path>`), `./` prefixes dropped.
fn parse_sums(text: &str) -> Result<FileHashes, SignatureError> {
    let mut out = FileHashes::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let (hash, path) = line
            .split_once(' ')
            .map(|(h, p)| (h, p.trim_start_matches([' ', '*'])))
            .filter(|(h, p)| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) && !p.is_empty())
            .ok_or_else(|| format!("{SUMS} line {} is not `<sha256>  <path>`", n + 1))?;
        out.insert(path.trim_start_matches("./").to_owned(), hash.to_ascii_lowercase());
    }
    Ok(out)
}

/// The SHA-256 of every file under `root`, by `/`-separated relative path. A
/// symlink is recorded as its target (never followed); other special files are
/// recorded by kind, so a swap of one for another is a change.
pub fn hash_tree(root: &Path) -> std::io::Result<FileHashes> {
    let mut out = FileHashes::new();
    walk(root, "", &mut out)?;
    Ok(out)
}

fn walk(dir: &Path, prefix: &str, out: &mut FileHashes) -> std::io::Result<()> {
    use std::io::Read;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&entry.path(), &format!("{name}/"), out)?;
        } else if kind.is_file() {
            let mut hasher = Sha256::new();
            let mut file = std::fs::File::open(entry.path())?;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
            }
            out.insert(name, hex(&hasher.finalize()));
        } else if kind.is_symlink() {
            let target = std::fs::read_link(entry.path())?;
            out.insert(name, format!("symlink:{}", target.display()));
        } else {
            out.insert(name, "special".to_owned());
        }
    }
    Ok(())
}

/// One difference between the accepted files and the files now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Added { path: String, now: String },
    Removed { path: String, was: String },
    Changed { path: String, was: String, now: String },
}

impl Change {
    pub fn path(&self) -> &str {
        match self {
            Change::Added { path, .. } | Change::Removed { path, .. } | Change::Changed { path, .. } => path,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Change::Added { .. } => "added",
            Change::Removed { .. } => "removed",
            Change::Changed { .. } => "changed",
        }
    }
}

/// What differs between `was` and `now`, by path.
pub fn diff(was: &FileHashes, now: &FileHashes) -> Vec<Change> {
    let mut out = Vec::new();
    for (path, old) in was {
        match now.get(path) {
            None => out.push(Change::Removed { path: path.clone(), was: old.clone() }),
            Some(new) if new != old => {
                out.push(Change::Changed { path: path.clone(), was: old.clone(), now: new.clone() })
            }
            Some(_) => {}
        }
    }
    for (path, new) in now {
        if !was.contains_key(path) {
            out.push(Change::Added { path: path.clone(), now: new.clone() });
        }
    }
    out.sort_by(|a, b| a.path().cmp(b.path()));
    out
}

/// A few changes in words: `plugin.toml changed, run.py added and 3 more`.
pub fn summary(changes: &[Change]) -> String {
    let mut words: Vec<String> = changes.iter().take(3).map(|c| format!("{} {}", c.path(), c.kind())).collect();
    if changes.len() > 3 {
        words.push(format!("{} more", changes.len() - 3));
    }
    match words.len() {
        0 => "nothing changed".to_owned(),
        1 => words.remove(0),
        _ => {
            let last = words.pop().unwrap_or_default();
            format!("{} and {last}", words.join(", "))
        }
    }
}

/// One hash for a whole set of files, so a user's "yes" names exactly what they saw.
pub fn digest(files: &FileHashes) -> String {
    let mut hasher = Sha256::new();
    for (path, hash) in files {
        hasher.update(path.as_bytes());
        hasher.update([0]);
        hasher.update(hash.as_bytes());
        hasher.update([b'\n']);
    }
    hex(&hasher.finalize())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(pairs: &[(&str, &str)]) -> FileHashes {
        pairs.iter().map(|(p, h)| (p.to_string(), h.to_string())).collect()
    }

    #[test]
    fn a_diff_names_each_added_removed_and_changed_file() {
        let was = files(&[("a", "1"), ("b", "2"), ("c", "3")]);
        let now = files(&[("a", "1"), ("b", "9"), ("d", "4")]);
        let changes = diff(&was, &now);
        assert_eq!(
            changes,
            vec![
                Change::Changed { path: "b".into(), was: "2".into(), now: "9".into() },
                Change::Removed { path: "c".into(), was: "3".into() },
                Change::Added { path: "d".into(), now: "4".into() },
            ]
        );
        assert_eq!(summary(&changes), "b changed, c removed and d added");
        assert!(diff(&was, &was).is_empty());
        assert_ne!(digest(&was), digest(&now));
    }

    #[test]
    fn a_tree_is_hashed_file_by_file_and_a_symlink_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("lib")).unwrap();
        std::fs::write(dir.path().join("plugin.toml"), "x").unwrap();
        std::fs::write(dir.path().join("lib/run.py"), "print()").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("link")).unwrap();
        let tree = hash_tree(dir.path()).unwrap();
        assert_eq!(tree.keys().collect::<Vec<_>>(), ["lib/run.py", "link", "plugin.toml"]);
        assert_eq!(tree["plugin.toml"], hex(&Sha256::digest(b"x")));
        assert_eq!(tree["link"], "symlink:/etc/passwd");
    }

    #[test]
    fn checksum_files_parse_as_sha256sum_writes_them() {
        let h = "a".repeat(64);
        let sums = parse_sums(&format!("{h}  ./plugin.toml\n{h} *bin/x\n\n")).unwrap();
        assert_eq!(sums.keys().collect::<Vec<_>>(), ["bin/x", "plugin.toml"]);
        assert!(parse_sums("nothing here").is_err());
    }

    #[test]
    fn a_key_that_is_not_a_minisign_key_is_refused() {
        assert!(parse_key("RWQ not a key").is_err());
        let key = "RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3";
        assert!(parse_key(key).is_ok());
        assert!(parse_key(&format!("untrusted comment: minisign public key\n{key}\n")).is_ok());
    }
}
