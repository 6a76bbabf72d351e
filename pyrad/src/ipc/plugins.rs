//! `plugins.*` over the socket, as an adapter on the plugin host
//! (`plugins.call` goes through the chat service, which audits it: see `chat.rs`).
//! Only the mapping of [`PluginError`] to JSON-RPC codes lives here.

use std::path::Path;

use proto::ipc::{
    ConfigureParams, Empty, FileChange, PluginChanges, PluginInspection, PluginInstallParams, PluginName,
    PluginTrustParams, PluginsListResult, PromptInfo, PromptParams, ResourceInfo, ResourceParams, SetupField,
    TextResult,
};
use proto::rpc::{ErrorObject, INVALID_PARAMS, NOT_FOUND};

use crate::daemon::Daemon;
use crate::plugins::host::{Changes, PluginError};

/// A plugin error with the code its method has always answered with: methods
/// that name an installed plugin say `NOT_FOUND`, those that take something new
/// (a source to install, settings) say `INVALID_PARAMS`, whatever the cause.
fn rpc_error(code: i32) -> impl FnOnce(PluginError) -> ErrorObject {
    move |e| ErrorObject::new(code, e.to_string())
}

pub fn list(daemon: &Daemon) -> PluginsListResult {
    let (plugins, invalid) = daemon.plugins().reports();
    PluginsListResult { plugins, invalid }
}

/// `plugins.enable` and `plugins.disable`.
pub async fn toggle(daemon: &Daemon, name: &str, enabled: bool) -> Result<Empty, ErrorObject> {
    daemon.plugins().set_enabled(name, enabled).await.map_err(rpc_error(NOT_FOUND))?;
    Ok(Empty)
}

pub async fn reload(daemon: &Daemon) -> Empty {
    daemon.plugins().reload().await;
    Empty
}

pub fn inspect(daemon: &Daemon, source: &str) -> Result<PluginInspection, ErrorObject> {
    let (staged, installed) = daemon.plugins().inspect(Path::new(source)).map_err(rpc_error(INVALID_PARAMS))?;
    let bundled = crate::plugins::host::is_bundled(&staged);
    let m = &staged.manifest;
    let p = &m.permissions;
    Ok(PluginInspection {
        name: m.name.clone(),
        version: m.version.to_string(),
        description: m.description.clone(),
        command: m.command.clone(),
        args: m.args.clone(),
        permissions: serde_json::json!({
            "read": p.read, "write": p.write, "network": p.network, "env": p.env, "vault": p.vault,
        }),
        hooks: m.hooks.iter().map(|h| h.name().to_owned()).collect(),
        sha256: staged.sha256.clone(),
        installed,
        trust: match staged.signed.publisher() {
            Some(_) => "verified",
            None if bundled => "bundled",
            None => "unverified",
        }
        .to_owned(),
        signature: if bundled && staged.signed.publisher().is_none() {
            "bundled: ships with Pyra".to_owned()
        } else {
            staged.signed.describe()
        },
        publisher: staged.signed.publisher().map(str::to_owned),
        files: u32::try_from(staged.files.len()).unwrap_or(u32::MAX),
    })
}

/// `plugins.changes`.
pub fn changes(daemon: &Daemon, name: &str) -> Result<PluginChanges, ErrorObject> {
    let c = daemon.plugins().changes(name).map_err(rpc_error(NOT_FOUND))?;
    Ok(to_wire(name, c))
}

/// `plugins.trust`.
pub async fn trust(daemon: &Daemon, p: PluginTrustParams) -> Result<PluginChanges, ErrorObject> {
    let c = daemon.plugins().trust(&p.name, &p.digest).await.map_err(rpc_error(INVALID_PARAMS))?;
    Ok(to_wire(&p.name, c))
}

fn to_wire(name: &str, c: Changes) -> PluginChanges {
    use crate::plugins::trust::Change;
    let changes = c
        .changes
        .iter()
        .map(|change| {
            let (was, now) = match change {
                Change::Added { now, .. } => (None, Some(now.clone())),
                Change::Removed { was, .. } => (Some(was.clone()), None),
                Change::Changed { was, now, .. } => (Some(was.clone()), Some(now.clone())),
            };
            FileChange { path: change.path().to_owned(), change: change.kind().to_owned(), was, now }
        })
        .collect();
    PluginChanges { name: name.to_owned(), changes, digest: c.digest, signer: c.signer }
}

pub async fn install(daemon: &Daemon, p: PluginInstallParams) -> Result<PluginName, ErrorObject> {
    let name = daemon
        .plugins()
        .install(Path::new(&p.source), &p.sha256, p.update, p.allow_unsigned)
        .await
        .map_err(rpc_error(INVALID_PARAMS))?;
    Ok(PluginName { name })
}

pub async fn uninstall(daemon: &Daemon, name: &str) -> Result<Empty, ErrorObject> {
    daemon.plugins().uninstall(name).await.map_err(rpc_error(NOT_FOUND))?;
    Ok(Empty)
}

/// `plugins.grant` (`true`) and `plugins.revoke`.
pub fn grant(daemon: &Daemon, name: &str, grant: bool) -> Result<Vec<String>, ErrorObject> {
    daemon.plugins().grant_exemptions(name, grant).map_err(rpc_error(NOT_FOUND))
}

pub async fn prompts(daemon: &Daemon) -> Vec<PromptInfo> {
    daemon.plugins().prompts().await
}

pub async fn prompt(daemon: &Daemon, p: PromptParams) -> Result<TextResult, ErrorObject> {
    let args = serde_json::to_value(&p.arguments).unwrap_or_default();
    let text = daemon.plugins().prompt(&p.plugin, &p.name, args).await.map_err(rpc_error(NOT_FOUND))?;
    Ok(TextResult { text })
}

pub async fn resources(daemon: &Daemon) -> Vec<ResourceInfo> {
    daemon.plugins().resources().await
}

pub async fn resource(daemon: &Daemon, p: ResourceParams) -> Result<TextResult, ErrorObject> {
    let text = daemon.plugins().resource(&p.plugin, &p.uri).await.map_err(rpc_error(NOT_FOUND))?;
    Ok(TextResult { text })
}

pub fn setup_info(daemon: &Daemon, name: &str) -> Result<Vec<SetupField>, ErrorObject> {
    daemon.plugins().setup_fields(name).map_err(rpc_error(NOT_FOUND))
}

pub async fn configure(daemon: &Daemon, p: ConfigureParams) -> Result<Empty, ErrorObject> {
    daemon.plugins().configure(&p.name, p.values, p.secrets).await.map_err(rpc_error(INVALID_PARAMS))?;
    Ok(Empty)
}
