//! Where a plugin stands: who vouches for it (a trusted publisher's signature,
//! Pyra itself for a bundled one, or only the user), whether its files are
//! still those the user accepted, and how it is confined. A plugin whose files
//! changed is `modified` and is not started until the user trusts it again.

use std::path::Path;

use super::super::trust::{self, Change, FileHashes};
use super::{Plugin, PluginError, PluginHost, State};

/// Who vouches for a plugin's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Signed by this publisher from `[plugins] trusted_keys`, and unchanged since.
    Verified(String),
    /// Ships with Pyra (`plugin install --bundled`).
    Bundled,
    /// Accepted by the user without a signature, or approved again after a change.
    Unverified,
    /// Its files changed since they were accepted: not started.
    Modified(Vec<Change>),
    /// In a development folder (`[plugins] paths`): not tracked.
    Dev,
}

impl Trust {
    pub fn word(&self) -> &'static str {
        match self {
            Trust::Verified(_) => "verified",
            Trust::Bundled => "bundled",
            Trust::Unverified => "unverified",
            Trust::Modified(_) => "modified",
            Trust::Dev => "dev",
        }
    }

    pub fn publisher(&self) -> Option<String> {
        match self {
            Trust::Verified(p) => Some(p.clone()),
            _ => None,
        }
    }
}

/// What `plugins.changes` answers: the differences, and the digest of the files
/// now, which `plugins.trust` must be given back.
pub struct Changes {
    pub changes: Vec<Change>,
    pub digest: String,
    pub signer: Option<String>,
}

impl PluginHost {
    /// Whether `dir` is an installed plugin (in `$PYRA_HOME/plugins`), as opposed to
    /// one in a development folder.
    pub(super) fn is_installed(&self, dir: &Path) -> bool {
        self.paths().search.first().is_some_and(|home| dir.parent() == Some(home.as_path()))
    }

    /// Sets `plugin`'s trust from its files and the store; one first seen (put in
    /// the folder by hand, or installed by a pyrad before tamper detection) is
    /// recorded as the user's, unverified.
    pub(super) fn evaluate(&self, plugin: &Plugin) {
        let name = &plugin.manifest.name;
        if !self.is_installed(&plugin.dir) {
            plugin.set_trust(Trust::Dev);
            return;
        }
        let now = match trust::hash_tree(&plugin.dir) {
            Ok(files) => files,
            Err(e) => {
                plugin.set_state(State::Failed(format!("cannot read its files: {e}")));
                return;
            }
        };
        let record = match self.store.plugin_files(name) {
            Ok(record) => record,
            Err(e) => {
                plugin.set_state(State::Failed(format!("cannot read what was accepted of it: {e}")));
                return;
            }
        };
        let Some(record) = record else {
            tracing::info!(plugin = %name, files = now.len(), "first sight of this plugin: its files are recorded as yours, unverified");
            if let Err(e) = self.store.record_files(name, None, &now, crate::clock::unix_now()) {
                tracing::warn!(plugin = %name, error = %e, "cannot record the plugin's files");
            }
            plugin.set_trust(Trust::Unverified);
            return;
        };
        let changes = trust::diff(&record.files, &now);
        if !changes.is_empty() {
            let summary = trust::summary(&changes);
            tracing::warn!(plugin = %name, changes = %summary, "plugin files changed since you accepted them; not starting it");
            crate::security::log_event(&self.security_log(), "plugin_modified", name, &summary);
            plugin.set_state(State::Modified(format!(
                "its files changed since you accepted them ({summary}); `pyractl plugin trust {name}` shows the changes"
            )));
            plugin.set_trust(Trust::Modified(changes));
            return;
        }
        plugin.set_trust(match record.signer.as_deref() {
            Some(trust::BUNDLED) => Trust::Bundled,
            Some(publisher) => Trust::Verified(publisher.to_owned()),
            None => Trust::Unverified,
        });
    }

    /// `logs/security.log`.
    pub(super) fn security_log(&self) -> std::path::PathBuf {
        self.paths().logs.parent().unwrap_or(&self.paths().logs).join("security.log")
    }

    /// The files of installed plugin `name` now, against those accepted.
    fn current(&self, name: &str) -> Result<(FileHashes, Option<crate::store::PluginFiles>), PluginError> {
        let dir = self.install_dir()?;
        let target = crate::security::safe_join(&dir, name)?;
        if !target.join(super::super::manifest::FILE).is_file() {
            if self.find(name).is_some() {
                return Err(PluginError::DevPlugin(name.to_owned()));
            }
            return Err(PluginError::NotInstalled { name: name.to_owned(), dir });
        }
        let now = trust::hash_tree(&target).map_err(|source| PluginError::File { path: target, source })?;
        Ok((now, self.store.plugin_files(name)?))
    }

    /// What changed in `name`'s files since they were accepted.
    pub fn changes(&self, name: &str) -> Result<Changes, PluginError> {
        let (now, record) = self.current(name)?;
        let was = record.as_ref().map(|r| r.files.clone()).unwrap_or_default();
        Ok(Changes {
            changes: trust::diff(&was, &now),
            digest: trust::digest(&now),
            signer: record.and_then(|r| r.signer),
        })
    }

    /// Accepts `name`'s files as they are now, if they still have `digest` (what
    /// the user was shown), and starts it. A change drops the publisher's
    /// signature: the user, not the publisher, vouches for the new files.
    pub async fn trust(self: &std::sync::Arc<Self>, name: &str, digest: &str) -> Result<Changes, PluginError> {
        let (now, record) = self.current(name)?;
        let found = trust::digest(&now);
        if found != digest {
            return Err(PluginError::TrustChanged { name: name.to_owned(), digest: found });
        }
        let was = record.as_ref().map(|r| r.files.clone()).unwrap_or_default();
        let changes = trust::diff(&was, &now);
        let signer = if changes.is_empty() { record.and_then(|r| r.signer) } else { None };
        self.store.record_files(name, signer.as_deref(), &now, crate::clock::unix_now())?;
        tracing::info!(plugin = %name, changes = %trust::summary(&changes), "plugin files trusted again by the user");
        crate::security::log_event(&self.security_log(), "plugin_trusted", name, &trust::summary(&changes));
        self.refresh(&[name]).await;
        Ok(Changes { changes, digest: found, signer })
    }
}

/// Whether a staged plugin is one of Pyra's own: only a manifest, whose command
/// is a `pyra-<name>` program beside pyrad itself.
pub fn is_bundled(staged: &super::super::install::Staged) -> bool {
    let only_manifest = staged.files.len() == 1 && staged.files.contains_key(super::super::manifest::FILE);
    let command = Path::new(&staged.manifest.command);
    let beside_pyrad = std::env::current_exe()
        .and_then(|me| me.canonicalize())
        .ok()
        .and_then(|me| me.parent().map(Path::to_path_buf))
        .is_some_and(|dir| command.parent() == Some(dir.as_path()));
    let named = command.file_name().is_some_and(|n| n.to_string_lossy() == format!("pyra-{}", staged.manifest.name));
    only_manifest && beside_pyrad && named
}

impl PluginHost {
    /// Every known plugin's manifest, trust and confinement (for `doctor`).
    pub fn manifests(&self) -> Vec<(super::super::manifest::Manifest, Trust, &'static str)> {
        self.plugins().values().map(|p| (p.manifest.clone(), p.trust(), self.confinement(&p.manifest.name).0)).collect()
    }

    /// Plugins that may reach a lot, and why (for `security audit`): the whole
    /// home or filesystem, the network together with the home, secrets from the
    /// environment or the vault, tools exempted from approval.
    pub fn broad_grants(&self) -> Vec<(String, Vec<String>)> {
        let broad = |p: &Path| {
            let s = p.to_string_lossy();
            s == "/" || s == "~" || s == "~/" || std::env::var("HOME").is_ok_and(|h| s.trim_end_matches('/') == h)
        };
        let mut out = Vec::new();
        for plugin in self.plugins().values() {
            let m = &plugin.manifest;
            let p = &m.permissions;
            let mut why = Vec::new();
            if let Some(path) = p.write.iter().find(|x| broad(x)) {
                why.push(format!("may write all of {}", path.display()));
            }
            if let Some(path) = p.read.iter().find(|x| broad(x)) {
                why.push(format!("may read all of {}", path.display()));
                if p.network {
                    why.push("and may use the network, so it could send what it reads".to_owned());
                }
            }
            if self.confinement(&m.name).0 != "landlock" {
                why.push("runs without the sandbox: it reaches everything you do".to_owned());
            }
            if !p.env.is_empty() {
                why.push(format!("receives your environment variables {}", p.env.join(", ")));
            }
            let own = format!("plugin:{}:", m.name);
            let foreign: Vec<&String> = p.vault.iter().filter(|k| !k.starts_with(&own)).collect();
            if !foreign.is_empty() {
                why.push(format!(
                    "receives vault secrets {}",
                    foreign.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
                ));
            }
            let exempt = self.store.plugin_grants(&m.name).unwrap_or_default();
            if !exempt.is_empty() {
                why.push(format!("runs {} without asking", exempt.join(", ")));
            }
            if !why.is_empty() {
                out.push((m.name.clone(), why));
            }
        }
        out
    }
}
