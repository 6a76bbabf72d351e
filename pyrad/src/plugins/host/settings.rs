//! A plugin's settings and trust: the fields its `config_schema` declares, the
//! values `pyractl plugin setup` gives (checked, written 0600, secrets to the
//! vault), and the approval exemptions the user grants it.

use std::sync::Arc;

use serde_json::Value;

use super::spawn::CONFIG_FILE;
use super::{PluginError, PluginHost};

impl PluginHost {
    /// The settings a plugin's `config_schema` declares.
    pub fn setup_fields(&self, name: &str) -> Result<Vec<proto::ipc::SetupField>, PluginError> {
        let plugin = self.plugin(name)?;
        let Some(schema) = &plugin.manifest.config_schema else { return Ok(Vec::new()) };
        let schema = serde_json::to_value(schema)?;
        let required: Vec<&str> =
            schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        let mut fields = Vec::new();
        for (key, spec) in schema.get("properties").and_then(Value::as_object).into_iter().flatten() {
            let secret = spec.get("format").and_then(Value::as_str) == Some("password")
                || spec.get("x-secret").and_then(Value::as_bool) == Some(true);
            fields.push(proto::ipc::SetupField {
                key: key.clone(),
                kind: spec.get("type").and_then(Value::as_str).unwrap_or("string").to_owned(),
                description: spec.get("description").and_then(Value::as_str).unwrap_or_default().to_owned(),
                required: required.contains(&key.as_str()),
                secret,
            });
        }
        Ok(fields)
    }

    /// Checks `values` against the plugin's schema, writes them to its config
    /// file (0600), puts `secrets` in the vault as `plugin:<name>:<key>`, and restarts it.
    pub async fn configure(
        self: &Arc<Self>,
        name: &str,
        values: serde_json::Map<String, Value>,
        secrets: std::collections::BTreeMap<String, String>,
    ) -> Result<(), PluginError> {
        let plugin = self.plugin(name)?;
        let fields = self.setup_fields(name)?;
        for key in values.keys().chain(secrets.keys()) {
            let field = fields
                .iter()
                .find(|f| &f.key == key)
                .ok_or_else(|| PluginError::NoSetting { plugin: name.to_owned(), key: key.clone() })?;
            if field.secret != secrets.contains_key(key) {
                return Err(PluginError::SecretKind { key: key.clone(), secret: field.secret });
            }
        }
        if let Some(schema) = &plugin.manifest.config_schema {
            let schema = serde_json::to_value(schema)?;
            let validator = jsonschema::validator_for(&schema).map_err(|e| PluginError::BadSchema(e.to_string()))?;
            // Secrets are checked for presence only; their values never leave this function.
            let mut instance = values.clone();
            for key in secrets.keys() {
                instance.insert(key.clone(), Value::String("secret".into()));
            }
            if let Some(error) = validator.iter_errors(&Value::Object(instance)).next() {
                return Err(PluginError::Invalid(format!("{}: {error}", error.instance_path())));
            }
        }
        let data = self.paths().data.join(name);
        crate::security::modes::ensure_dir(&self.paths().data)?;
        crate::security::modes::ensure_dir(&data)?;
        let text = serde_json::to_vec_pretty(&Value::Object(values))?;
        let path = data.join(CONFIG_FILE);
        let tmp = data.join(".config.json.tmp");
        {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)
                .map_err(|source| PluginError::File { path: tmp.clone(), source })?;
            file.write_all(&text).map_err(PluginError::Write)?;
        }
        std::fs::rename(&tmp, &path).map_err(|source| PluginError::File { path: path.clone(), source })?;
        for (key, value) in secrets {
            self.vault.set(&format!("plugin:{name}:{key}"), &value)?;
        }
        tracing::info!(plugin = %name, "plugin configured");
        self.refresh(&[name]).await;
        Ok(())
    }

    /// Grants (or with `false` revokes) the exemptions `name`'s manifest declares;
    /// returns the tools that now run without approval.
    pub fn grant_exemptions(&self, name: &str, grant: bool) -> Result<Vec<String>, PluginError> {
        let plugin = self.plugin(name)?;
        let tools = if grant { plugin.manifest.approval.exempt.clone() } else { Vec::new() };
        self.store.set_plugin_grants(name, &tools, crate::clock::unix_now())?;
        tracing::info!(plugin = %name, ?tools, "approval exemptions set");
        Ok(tools)
    }
}
