//! Answers each decoded method. New methods are added here and in `proto::ipc`.
//! Instant methods are answered on the connection's reader task; the rest (the
//! long turns of later issues) run as their own tasks so responses interleave.

use proto::Id;
use proto::ipc::{
    ClientRequest, DatabaseStatus, DeleteResult, Empty, PluginsListResult, ShutdownResult, StatusResult, TextResult,
};
use proto::rpc::{ErrorObject, INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, NOT_FOUND, encode_reply};

use super::connection::Peer;
use super::{chat, memory};
use crate::daemon::Daemon;
use crate::vault::VaultError;

/// What must happen after the response is on its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    None,
    Shutdown,
}

/// Whether `call` is answered without waiting on anything, so it can run inline
/// on the reader task (no task hop, the floor of the round trip).
pub fn is_instant(call: &ClientRequest) -> bool {
    !matches!(
        call,
        ClientRequest::ChatSend(_)
            | ClientRequest::PluginsCall(_)
            | ClientRequest::PluginsEnable(_)
            | ClientRequest::PluginsDisable(_)
            | ClientRequest::PluginsReload
            | ClientRequest::PluginsInstall(_)
            | ClientRequest::PluginsUninstall(_)
            | ClientRequest::PluginsPrompts
            | ClientRequest::PluginsPrompt(_)
            | ClientRequest::PluginsResources
            | ClientRequest::PluginsResource(_)
            | ClientRequest::PluginsConfigure(_)
            | ClientRequest::SecurityScan(_)
    )
}

/// Answers `call`, returning the encoded response line and what to do after sending it.
pub async fn dispatch(daemon: &Daemon, peer: &Peer, id: &Id, call: ClientRequest) -> (Vec<u8>, Effect) {
    match call {
        ClientRequest::Hello(_) => {
            let error = ErrorObject::new(INVALID_REQUEST, "hello was already answered on this connection");
            (encode_reply::<()>(id, Err(error)), Effect::None)
        }
        ClientRequest::DaemonStatus => (encode_reply(id, Ok(&status(daemon))), Effect::None),
        ClientRequest::DaemonShutdown => {
            tracing::info!("shutdown requested over the socket");
            (encode_reply(id, Ok(&ShutdownResult { pid: daemon.pid })), Effect::Shutdown)
        }
        ClientRequest::ChatSend(p) => (reply(id, chat::send(daemon, peer, p).await), Effect::None),
        ClientRequest::ChatCancel(p) => (reply(id, chat::cancel(daemon, &p.session)), Effect::None),
        ClientRequest::ApprovalRespond(p) => (reply(id, chat::respond(daemon, peer, p).map(|()| Empty)), Effect::None),
        ClientRequest::ApprovalPending => (reply(id, Ok::<_, ErrorObject>(chat::pending(daemon, peer))), Effect::None),
        ClientRequest::SecurityScan(p) => {
            // CPU-bound: off the runtime's workers.
            let scanned = tokio::task::spawn_blocking(move || chat::scan(p))
                .await
                .unwrap_or_else(|e| Err(ErrorObject::new(INTERNAL_ERROR, e.to_string())));
            (reply(id, scanned), Effect::None)
        }
        ClientRequest::SessionsList(p) => (reply(id, chat::list(daemon, p.limit)), Effect::None),
        ClientRequest::SessionsGet(p) => (reply(id, chat::get(daemon, &p.session)), Effect::None),
        ClientRequest::SessionsDelete(p) => (reply(id, chat::delete(daemon, &p.session)), Effect::None),
        ClientRequest::AuditList(p) => (reply(id, chat::audit(daemon, p.limit)), Effect::None),
        ClientRequest::MemoryList => (reply(id, memory::list(daemon)), Effect::None),
        ClientRequest::MemoryRead(p) => (reply(id, memory::read(daemon, p.name)), Effect::None),
        ClientRequest::MemoryWrite(p) => (reply(id, memory::write(daemon, p)), Effect::None),
        ClientRequest::MemoryAppend(p) => (reply(id, memory::append(daemon, &p.name, &p.text)), Effect::None),
        ClientRequest::MemoryLog(p) => (reply(id, memory::log(daemon, &p.name)), Effect::None),
        ClientRequest::MemoryRestore(p) => (reply(id, memory::restore(daemon, &p.name, p.version)), Effect::None),
        ClientRequest::VaultSet(p) => {
            (reply(id, vault_result(daemon.vault.set(&p.key, &p.value)).map(|()| Empty)), Effect::None)
        }
        ClientRequest::PluginsList => {
            let (plugins, invalid) = daemon.plugins.reports();
            (reply(id, Ok::<_, ErrorObject>(PluginsListResult { plugins, invalid })), Effect::None)
        }
        ClientRequest::PluginsCall(p) => (reply(id, chat::call_plugin(daemon, p).await), Effect::None),
        ClientRequest::PluginsEnable(p) => (reply(id, toggle(daemon, &p.name, true).await), Effect::None),
        ClientRequest::PluginsDisable(p) => (reply(id, toggle(daemon, &p.name, false).await), Effect::None),
        ClientRequest::PluginsReload => {
            daemon.plugins.reload().await;
            (reply(id, Ok::<_, ErrorObject>(Empty)), Effect::None)
        }
        ClientRequest::PluginsInspect(p) => (reply(id, inspect(daemon, &p.source)), Effect::None),
        ClientRequest::PluginsInstall(p) => {
            let done = daemon.plugins.install(std::path::Path::new(&p.source), &p.sha256, p.update).await;
            let done =
                done.map(|name| proto::ipc::PluginName { name }).map_err(|e| ErrorObject::new(INVALID_PARAMS, e));
            (reply(id, done), Effect::None)
        }
        ClientRequest::PluginsUninstall(p) => {
            let done =
                daemon.plugins.uninstall(&p.name).await.map(|()| Empty).map_err(|e| ErrorObject::new(NOT_FOUND, e));
            (reply(id, done), Effect::None)
        }
        ClientRequest::PluginsGrant(p) => {
            let done = daemon.plugins.grant_exemptions(&p.name, true).map_err(|e| ErrorObject::new(NOT_FOUND, e));
            (reply(id, done), Effect::None)
        }
        ClientRequest::PluginsRevoke(p) => {
            let done = daemon.plugins.grant_exemptions(&p.name, false).map_err(|e| ErrorObject::new(NOT_FOUND, e));
            (reply(id, done), Effect::None)
        }
        ClientRequest::PluginsPrompts => {
            (reply(id, Ok::<_, ErrorObject>(daemon.plugins.prompts().await)), Effect::None)
        }
        ClientRequest::PluginsPrompt(p) => {
            let args = serde_json::to_value(&p.arguments).unwrap_or_default();
            let text = daemon.plugins.prompt(&p.plugin, &p.name, args).await;
            (reply(id, text.map(|text| TextResult { text }).map_err(|e| ErrorObject::new(NOT_FOUND, e))), Effect::None)
        }
        ClientRequest::PluginsResources => {
            (reply(id, Ok::<_, ErrorObject>(daemon.plugins.resources().await)), Effect::None)
        }
        ClientRequest::PluginsResource(p) => {
            let text = daemon.plugins.resource(&p.plugin, &p.uri).await;
            (reply(id, text.map(|text| TextResult { text }).map_err(|e| ErrorObject::new(NOT_FOUND, e))), Effect::None)
        }
        ClientRequest::PluginsSetupInfo(p) => {
            (reply(id, daemon.plugins.setup_fields(&p.name).map_err(|e| ErrorObject::new(NOT_FOUND, e))), Effect::None)
        }
        ClientRequest::PluginsConfigure(p) => {
            let done = daemon.plugins.configure(&p.name, p.values, p.secrets).await;
            (reply(id, done.map(|()| Empty).map_err(|e| ErrorObject::new(INVALID_PARAMS, e))), Effect::None)
        }
        ClientRequest::VaultList => (reply(id, vault_result(daemon.vault.names())), Effect::None),
        ClientRequest::VaultDelete(p) => {
            let deleted = vault_result(daemon.vault.delete(&p.key)).map(|deleted| DeleteResult { deleted });
            (reply(id, deleted), Effect::None)
        }
    }
}

/// Vault errors name the file or the key, never a value.
fn vault_result<T>(r: Result<T, VaultError>) -> Result<T, ErrorObject> {
    r.map_err(|e| match e {
        VaultError::BadName(_) => ErrorObject::new(proto::rpc::INVALID_PARAMS, e.to_string()),
        other => ErrorObject::new(INTERNAL_ERROR, other.to_string()),
    })
}

fn reply<T: serde::Serialize>(id: &Id, result: Result<T, ErrorObject>) -> Vec<u8> {
    match result {
        Ok(value) => encode_reply(id, Ok(&value)),
        Err(e) => encode_reply::<()>(id, Err(e)),
    }
}

fn status(daemon: &Daemon) -> StatusResult {
    StatusResult {
        version: env!("CARGO_PKG_VERSION").into(),
        protocol_version: proto::PROTOCOL_VERSION,
        pid: daemon.pid,
        uptime_secs: (daemon.started.elapsed().as_millis() as f64) / 1000.0,
        started_at: daemon.started_at,
        home: daemon.home.root.display().to_string(),
        socket: daemon.socket.display().to_string(),
        connections: daemon.connection_count(),
        log_level: daemon.log_filter.clone(),
        database: DatabaseStatus {
            path: daemon.store.path().display().to_string(),
            schema_version: daemon.schema_version,
            previous_run_clean: daemon.previous_run_clean,
        },
        provider: provider(daemon),
        sessions: None,
        plugins: Some(plugin_summary(daemon)),
        bots: None,
    }
}

/// The configured provider, or `None` when none is.
fn provider(daemon: &Daemon) -> Option<serde_json::Value> {
    let p = &daemon.config.provider;
    if p.preset.is_empty() {
        return None;
    }
    Some(match daemon.chat.provider() {
        Ok(r) => serde_json::json!({"preset": p.preset, "model": r.model, "base_url": r.base_url}),
        Err(_) => serde_json::json!({"preset": p.preset, "model": p.model, "base_url": p.base_url}),
    })
}

/// `{total, active, failed, invalid}` for `daemon.status`.
fn plugin_summary(daemon: &Daemon) -> proto::ipc::PluginCounts {
    let (total, active, failed, invalid) = daemon.plugins.counts();
    let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    proto::ipc::PluginCounts { total: n(total), active: n(active), failed: n(failed), invalid: n(invalid) }
}

async fn toggle(daemon: &Daemon, name: &str, enabled: bool) -> Result<Empty, ErrorObject> {
    daemon
        .plugins
        .set_enabled(name, enabled)
        .await
        .map(|()| Empty)
        .map_err(|e| ErrorObject::new(proto::rpc::NOT_FOUND, e))
}

fn inspect(daemon: &Daemon, source: &str) -> Result<proto::ipc::PluginInspection, ErrorObject> {
    let (staged, installed) =
        daemon.plugins.inspect(std::path::Path::new(source)).map_err(|e| ErrorObject::new(INVALID_PARAMS, e))?;
    let m = &staged.manifest;
    let p = &m.permissions;
    Ok(proto::ipc::PluginInspection {
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
    })
}
