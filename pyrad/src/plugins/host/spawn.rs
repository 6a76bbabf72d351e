//! How a plugin's process is built: its command (pyrad itself with
//! `--sandbox-exec` when sandboxed), its environment (cleared to what the
//! manifest grants, vault references decrypted), its private data folder, and
//! the Landlock policy the sandbox applies.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::super::manifest::{EnvValue, Manifest, expand};
use super::super::process::Spawn;
use super::{Plugin, PluginError, PluginHost};

/// The file in a plugin's data folder that holds what `pyractl plugin setup` asked for.
pub(super) const CONFIG_FILE: &str = "config.json";

impl PluginHost {
    /// The process's environment: PATH and HOME, the granted variables, and the
    /// manifest's env with `${VAR}` expanded and vault references decrypted.
    pub(super) fn spawn_for(&self, plugin: &Plugin) -> Result<Spawn, PluginError> {
        let m = &plugin.manifest;
        let mut env: Vec<(String, String)> = Vec::new();
        for var in ["PATH", "HOME", "LANG", "TZ"].iter().map(|s| s.to_string()).chain(m.permissions.env.iter().cloned())
        {
            if let Ok(value) = std::env::var(&var) {
                env.push((var, value));
            }
        }
        for (var, raw) in &m.env {
            let value = match m.env_value(raw) {
                EnvValue::Literal(v) => v,
                EnvValue::Template(t) => expand(&t, |name| {
                    m.permissions.env.iter().any(|p| p == name).then(|| std::env::var(name).ok()).flatten()
                }),
                EnvValue::Vault(key) => {
                    use age::secrecy::ExposeSecret;
                    match self.vault.get(&key)? {
                        Some(secret) => secret.expose_secret().to_owned(),
                        None => return Err(PluginError::VaultKeyMissing { key, plugin: m.name.clone() }),
                    }
                }
            };
            env.retain(|(k, _)| k != var);
            env.push((var.clone(), value));
        }
        // Its own data folder, private, outside its (replaceable) plugin folder.
        let data = self.paths().data.join(&m.name);
        crate::security::modes::ensure_dir(&self.paths().data)?;
        crate::security::modes::ensure_dir(&data)?;
        env.push(("PYRA_PLUGIN_DATA".into(), data.display().to_string()));
        env.push(("PYRA_PLUGIN_CONFIG".into(), data.join(CONFIG_FILE).display().to_string()));
        // Its temporary files live in its data folder: /tmp may hold a PYRA_HOME.
        let tmp = data.join("tmp");
        crate::security::modes::ensure_dir(&tmp)?;
        env.push(("TMPDIR".into(), tmp.display().to_string()));
        // Python would write bytecode caches into the plugin's folder, which
        // tamper detection would then see as a change.
        env.push(("PYTHONDONTWRITEBYTECODE".into(), "1".into()));
        let sandbox = match &self.paths().sandbox {
            Some(_) if !self.sandboxed(&m.name) => {
                tracing::warn!(plugin = %m.name, "running without the sandbox: lowered in config.toml");
                false
            }
            Some(pyra_home) => {
                let policy = sandbox_policy(plugin, pyra_home, &data);
                tracing::debug!(plugin = %m.name, read = ?policy.read, write = ?policy.write, "sandbox");
                env.push((crate::sandbox::ENV.into(), serde_json::to_string(&policy)?));
                true
            }
            None => false,
        };
        // Sandboxed: pyrad itself starts, restricts itself, and becomes the plugin.
        let (command, args) = if sandbox {
            let me = std::env::current_exe().map_err(PluginError::CurrentExe)?;
            let mut args = vec![
                crate::sandbox::FLAG.to_owned(),
                "--".to_owned(),
                super::super::process::resolve_command(&m.command, &plugin.dir),
            ];
            args.extend(m.args.iter().cloned());
            (me.display().to_string(), args)
        } else {
            (m.command.clone(), m.args.clone())
        };
        Ok(Spawn {
            name: m.name.clone(),
            command,
            args,
            dir: plugin.dir.clone(),
            env,
            cpu_secs: Some(m.limits.cpu_secs),
            rlimits: Some(super::super::process::Rlimits::for_plugin(
                m.limits.processes,
                m.limits.file_mb,
                m.limits.open_files,
            )),
            cgroups: Vec::new(),
            output_per_sec: Some(m.limits.output_mb_per_sec * 1024 * 1024),
        })
    }
}

/// The sandbox of `plugin`: `PYRA_HOME` and the user's home hidden; its own
/// folders, its declared paths and its program's files (`grants.rs`) granted,
/// never anything inside `PYRA_HOME` but its own folders. A manifest `command`:
/// relative paths are inside the plugin folder, bare names are looked up on PATH.
fn sandbox_policy(plugin: &Plugin, pyra_home: &Path, data: &Path) -> crate::sandbox::Policy {
    use super::super::grants;
    use crate::sandbox::carve;
    let m = &plugin.manifest;
    let home = std::env::var_os("HOME").map(PathBuf::from).filter(|h| h.is_absolute() && h != Path::new("/"));
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let pyra_home = canonical(pyra_home);
    let mut hidden = vec![pyra_home.clone()];
    hidden.extend(home.as_deref().map(canonical));
    let command = super::super::process::resolve_command(&m.command, &plugin.dir);
    let program = grants::for_program(&command, &m.args, std::env::var("PATH").ok().as_deref(), home.as_deref());
    let keep_out = std::slice::from_ref(&pyra_home);
    let declared = |paths: &[PathBuf], kind: &str| -> Vec<PathBuf> {
        let mut out = Vec::new();
        for path in paths {
            let Some(full) = grants::expand_home(path, home.as_deref()) else { continue };
            let carved = carve(&full, keep_out);
            if carved.is_empty() {
                tracing::warn!(plugin = %m.name, path = %full.display(), "permissions.{kind}: missing or inside PYRA_HOME; not granted");
            }
            out.extend(carved);
        }
        out
    };
    let (config_read, config_write) = config_grants(m, data);
    let mut read = vec![plugin.dir.clone()];
    read.extend(declared(&m.permissions.read, "read"));
    read.extend(declared(&config_read, "read (from its settings)"));
    read.extend(program.read.iter().flat_map(|p| carve(p, keep_out)));
    let mut write = vec![data.to_path_buf()];
    write.extend(declared(&m.permissions.write, "write"));
    write.extend(declared(&config_write, "write (from its settings)"));
    write.extend(program.write.iter().flat_map(|p| carve(p, keep_out)));
    crate::sandbox::Policy { hidden, read, write, network: m.permissions.network }
}

/// Folders the user gave a plugin in its settings, where its `config_schema` marks
/// the setting `x-pyra-grant = "read"` or `"write"` (a `:`-separated string or a
/// list): the `files` plugin's roots. Read from its `config.json`.
fn config_grants(m: &Manifest, data: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let (mut read, mut write) = (Vec::new(), Vec::new());
    let Some(properties) = m.config_schema.as_ref().and_then(|s| s.get("properties")).and_then(|p| p.as_table()) else {
        return (read, write);
    };
    let config: serde_json::Map<String, Value> = std::fs::read(data.join(CONFIG_FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    for (key, property) in properties {
        let target = match property.get("x-pyra-grant").and_then(|g| g.as_str()) {
            Some("read") => &mut read,
            Some("write") => &mut write,
            _ => continue,
        };
        let paths: Vec<String> = match config.get(key) {
            Some(Value::String(s)) => s.split(':').map(str::to_owned).collect(),
            Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
            _ => continue,
        };
        // Only absolute or `~` paths, as in the manifest.
        target.extend(paths.iter().map(PathBuf::from).filter(|p| super::super::grants::is_grantable(p)));
    }
    (read, write)
}
