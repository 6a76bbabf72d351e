//! Answers each decoded method. New methods are added here and in `proto::ipc`.
//! Instant methods are answered on the connection's reader task; the rest (the
//! long turns of later issues) run as their own tasks so responses interleave.

use proto::Id;
use proto::ipc::{ClientRequest, DatabaseStatus, ShutdownResult, StatusResult};
use proto::rpc::{ErrorObject, INVALID_REQUEST, encode_reply};

use crate::daemon::Daemon;

/// What must happen after the response is on its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    None,
    Shutdown,
}

/// Whether `call` is answered without waiting on anything, so it can run inline
/// on the reader task (no task hop, the floor of the round trip).
pub fn is_instant(call: &ClientRequest) -> bool {
    match call {
        ClientRequest::Hello(_) | ClientRequest::DaemonStatus | ClientRequest::DaemonShutdown => true,
    }
}

/// Answers `call`, returning the encoded response line and what to do after sending it.
pub async fn dispatch(daemon: &Daemon, id: &Id, call: ClientRequest) -> (Vec<u8>, Effect) {
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
