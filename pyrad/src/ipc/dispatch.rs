//! Answers each decoded method. New methods are added here and in `proto::ipc`.
//! Instant methods are answered on the connection's reader task; the rest (the
//! long turns of later issues) run as their own tasks so responses interleave.

use proto::Id;
use proto::ipc::{ClientRequest, DeleteResult, Empty, ShutdownResult};
use proto::rpc::{ErrorObject, INTERNAL_ERROR, INVALID_REQUEST, encode_reply};

use super::connection::Peer;
use super::{chat, memory, plugins};
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
            | ClientRequest::PluginsChanges(_)
            | ClientRequest::PluginsTrust(_)
            | ClientRequest::DaemonDoctor
            | ClientRequest::SecurityAudit(_)
            | ClientRequest::ProviderModels
            | ClientRequest::ProviderCheck
            | ClientRequest::ConfigReload
    )
}

/// Answers `call`, returning the encoded response line and what to do after sending it.
pub async fn dispatch(daemon: &Daemon, peer: &Peer, id: &Id, call: ClientRequest) -> (Vec<u8>, Effect) {
    match call {
        ClientRequest::Hello(_) => {
            let error = ErrorObject::new(INVALID_REQUEST, "hello was already answered on this connection");
            (encode_reply::<()>(id, Err(error)), Effect::None)
        }
        ClientRequest::DaemonStatus => (encode_reply(id, Ok(&daemon.status())), Effect::None),
        ClientRequest::DaemonShutdown => {
            tracing::info!("shutdown requested over the socket");
            (encode_reply(id, Ok(&ShutdownResult { pid: daemon.pid() })), Effect::Shutdown)
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
        ClientRequest::SessionsUndo(p) => (reply(id, chat::undo(daemon, &p.session)), Effect::None),
        ClientRequest::ProviderModels => (reply(id, chat::models(daemon).await), Effect::None),
        ClientRequest::ProviderCheck => (reply(id, chat::check(daemon).await), Effect::None),
        ClientRequest::ConfigReload => {
            let reloaded = daemon.reload_config().await.map_err(|e| {
                ErrorObject::new(proto::rpc::INVALID_PARAMS, format!("config.toml was not reloaded: {e}"))
            });
            (reply(id, reloaded), Effect::None)
        }
        ClientRequest::AuditList(p) => (reply(id, chat::audit(daemon, p.limit)), Effect::None),
        ClientRequest::MemoryList => (reply(id, memory::list(daemon)), Effect::None),
        ClientRequest::MemoryRead(p) => (reply(id, memory::read(daemon, p.name)), Effect::None),
        ClientRequest::MemoryWrite(p) => (reply(id, memory::write(daemon, p)), Effect::None),
        ClientRequest::MemoryAppend(p) => (reply(id, memory::append(daemon, &p.name, &p.text)), Effect::None),
        ClientRequest::MemoryLog(p) => (reply(id, memory::log(daemon, &p.name)), Effect::None),
        ClientRequest::MemoryRestore(p) => (reply(id, memory::restore(daemon, &p.name, p.version)), Effect::None),
        ClientRequest::VaultSet(p) => {
            (reply(id, vault_result(daemon.vault().set(&p.key, &p.value)).map(|()| Empty)), Effect::None)
        }
        ClientRequest::PluginsList => (reply(id, Ok::<_, ErrorObject>(plugins::list(daemon))), Effect::None),
        ClientRequest::PluginsCall(p) => (reply(id, chat::call_plugin(daemon, p).await), Effect::None),
        ClientRequest::PluginsEnable(p) => (reply(id, plugins::toggle(daemon, &p.name, true).await), Effect::None),
        ClientRequest::PluginsDisable(p) => (reply(id, plugins::toggle(daemon, &p.name, false).await), Effect::None),
        ClientRequest::PluginsReload => (reply(id, Ok::<_, ErrorObject>(plugins::reload(daemon).await)), Effect::None),
        ClientRequest::PluginsInspect(p) => (reply(id, plugins::inspect(daemon, &p.source)), Effect::None),
        ClientRequest::PluginsInstall(p) => (reply(id, plugins::install(daemon, p).await), Effect::None),
        ClientRequest::PluginsUninstall(p) => (reply(id, plugins::uninstall(daemon, &p.name).await), Effect::None),
        ClientRequest::PluginsChanges(p) => {
            // Hashing every file of a plugin: off the runtime's workers.
            let d = daemon.clone();
            let changes = tokio::task::spawn_blocking(move || plugins::changes(&d, &p.name))
                .await
                .unwrap_or_else(|e| Err(ErrorObject::new(INTERNAL_ERROR, e.to_string())));
            (reply(id, changes), Effect::None)
        }
        ClientRequest::PluginsTrust(p) => (reply(id, plugins::trust(daemon, p).await), Effect::None),
        ClientRequest::DaemonDoctor => (reply(id, Ok::<_, ErrorObject>(daemon.doctor().await)), Effect::None),
        ClientRequest::SecurityAudit(p) => {
            let written = daemon.security_audit(p).await.map_err(|e| ErrorObject::new(INTERNAL_ERROR, e.to_string()));
            (reply(id, written), Effect::None)
        }
        ClientRequest::PluginsGrant(p) => (reply(id, plugins::grant(daemon, &p.name, true)), Effect::None),
        ClientRequest::PluginsRevoke(p) => (reply(id, plugins::grant(daemon, &p.name, false)), Effect::None),
        ClientRequest::PluginsPrompts => {
            (reply(id, Ok::<_, ErrorObject>(plugins::prompts(daemon).await)), Effect::None)
        }
        ClientRequest::PluginsPrompt(p) => (reply(id, plugins::prompt(daemon, p).await), Effect::None),
        ClientRequest::PluginsResources => {
            (reply(id, Ok::<_, ErrorObject>(plugins::resources(daemon).await)), Effect::None)
        }
        ClientRequest::PluginsResource(p) => (reply(id, plugins::resource(daemon, p).await), Effect::None),
        ClientRequest::PluginsSetupInfo(p) => (reply(id, plugins::setup_info(daemon, &p.name)), Effect::None),
        ClientRequest::PluginsConfigure(p) => (reply(id, plugins::configure(daemon, p).await), Effect::None),
        ClientRequest::VaultList => (reply(id, vault_result(daemon.vault().names())), Effect::None),
        ClientRequest::BotsStatus => (reply(id, Ok::<_, ErrorObject>(daemon.bots())), Effect::None),
        ClientRequest::BotsReload => (reply(id, reload_bots(daemon)), Effect::None),
        ClientRequest::BotsPassphrase(p) if p.passphrase.trim().chars().count() < 8 => {
            let error = ErrorObject::new(proto::rpc::INVALID_PARAMS, "a passphrase needs at least 8 characters");
            (reply::<()>(id, Err(error)), Effect::None)
        }
        ClientRequest::BotsPassphrase(p) => {
            let set = match crate::bots::gate::hash_passphrase(&p.passphrase).await {
                Ok(hash) => vault_result(daemon.vault().set(crate::bots::PASSPHRASE, &hash)),
                Err(e) => Err(ErrorObject::new(INTERNAL_ERROR, format!("cannot hash the passphrase: {e}"))),
            };
            (reply(id, set.and_then(|()| reload_bots(daemon))), Effect::None)
        }
        ClientRequest::VaultDelete(p) => {
            let deleted = vault_result(daemon.vault().delete(&p.key)).map(|deleted| DeleteResult { deleted });
            (reply(id, deleted), Effect::None)
        }
    }
}

fn reload_bots(daemon: &Daemon) -> Result<std::collections::BTreeMap<String, crate::bots::BotState>, ErrorObject> {
    daemon.reload_bots().map_err(|e| ErrorObject::new(proto::rpc::INVALID_PARAMS, e.to_string()))
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
