//! Answers each decoded method. New methods are added here and in `proto::ipc`.

use proto::ipc::{ClientRequest, DatabaseStatus, ShutdownResult, StatusResult};
use proto::rpc::{ErrorObject, INTERNAL_ERROR, INVALID_REQUEST};
use serde_json::Value;

use crate::daemon::Daemon;

/// What must happen after the response is on its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    None,
    Shutdown,
}

pub async fn dispatch(daemon: &Daemon, call: ClientRequest) -> Result<(Value, Effect), ErrorObject> {
    match call {
        ClientRequest::Hello(_) => Err(ErrorObject::new(INVALID_REQUEST, "hello was already answered")),
        ClientRequest::DaemonStatus => to_value(&status(daemon)).map(|v| (v, Effect::None)),
        ClientRequest::DaemonShutdown => {
            tracing::info!("shutdown requested over the socket");
            to_value(&ShutdownResult { pid: daemon.pid }).map(|v| (v, Effect::Shutdown))
        }
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
        provider: None,
        sessions: None,
        plugins: None,
        bots: None,
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value, ErrorObject> {
    serde_json::to_value(v).map_err(|e| ErrorObject::new(INTERNAL_ERROR, e.to_string()))
}
