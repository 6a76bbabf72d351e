//! A plugin's settings and trust: the fields its `config_schema` declares, the
//! values `pyractl plugin setup` gives (checked, written 0600, secrets to the
//! vault), and the approval exemptions the user grants it.

use std::sync::Arc;

use serde_json::Value;

use super::PluginHost;
use super::spawn::CONFIG_FILE;

impl PluginHost {
    /// The settings a plugin's `config_schema` declares.
    pub fn setup_fields(&self, name: &str) -> Result<Vec<proto::ipc::SetupField>, String> {
        let plugin = self.plugin(name)?;
        let Some(schema) = &plugin.manifest.config_schema else { return Ok(Vec::new()) };
        let schema = serde_json::to_value(schema).map_err(|e| e.to_string())?;
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
    ) -> Result<(), String> {
        let plugin = self.plugin(name)?;
        let fields = self.setup_fields(name)?;
        for key in values.keys().chain(secrets.keys()) {
            let field =
                fields.iter().find(|f| &f.key == key).ok_or_else(|| format!("{name} has no setting {key:?}"))?;
            if field.secret != secrets.contains_key(key) {
                let how = if field.secret { "a secret (it goes to the vault)" } else { "not a secret" };
                return Err(format!("{key} is {how}"));
            }
        }
        if let Some(schema) = &plugin.manifest.config_schema {
            let schema = serde_json::to_value(schema).map_err(|e| e.to_string())?;
            let validator = jsonschema::validator_for(&schema)
                .map_err(|e| format!("the plugin's config_schema is invalid: {e}"))?;
            // Secrets are checked for presence only; their values never leave this function.
            let mut instance = values.clone();
            for key in secrets.keys() {
                instance.insert(key.clone(), Value::String("secret".into()));
            }
            if let Some(error) = validator.iter_errors(&Value::Object(instance)).next() {
                return Err(format!("{}: {error}", error.instance_path()));
            }
        }
        let data = self.paths.data.join(name);
        crate::security::modes::ensure_dir(&self.paths.data).map_err(|e| e.to_string())?;
        crate::security::modes::ensure_dir(&data).map_err(|e| e.to_string())?;
        let text = serde_json::to_vec_pretty(&Value::Object(values)).map_err(|e| e.to_string())?;
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
                .map_err(|e| format!("{}: {e}", tmp.display()))?;
            file.write_all(&text).map_err(|e| e.to_string())?;
        }
        std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))?;
        for (key, value) in secrets {
            self.vault.set(&format!("plugin:{name}:{key}"), &value).map_err(|e| e.to_string())?;
        }
        tracing::info!(plugin = %name, "plugin configured");
        self.refresh(&[name]).await;
        Ok(())
    }

    /// Grants (or with `false` revokes) the exemptions `name`'s manifest declares;
    /// returns the tools that now run without approval.
    pub fn grant_exemptions(&self, name: &str, grant: bool) -> Result<Vec<String>, String> {
        let plugin = self.plugin(name)?;
        let tools = if grant { plugin.manifest.approval.exempt.clone() } else { Vec::new() };
        self.store.set_plugin_grants(name, &tools, crate::clock::unix_now()).map_err(|e| e.to_string())?;
        tracing::info!(plugin = %name, ?tools, "approval exemptions set");
        Ok(tools)
    }
}
