//! One client connection: peer check, the `hello` handshake, then requests read
//! line by line and answered concurrently, responses and events written by one
//! writer task. A bad line hurts only its own connection.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use interprocess::local_socket::tokio::Stream;
use interprocess::local_socket::traits::StreamCommon;
use proto::codec::ClientMessage;
use proto::ipc::{ClientRequest, DaemonStopping, Event, Hello, HelloResult, Method, StoppingParams};
use proto::rpc::{ErrorObject, INVALID_REQUEST, Id, Notification, PERMISSION_DENIED, Response};
use proto::{
    DecodeError, LineBuffer, MAX_LINE_BYTES, PROTOCOL_NAME, PROTOCOL_VERSION, decode_client_line, encode_line,
};
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, BufWriter, WriteHalf};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::dispatch::{Effect, dispatch, is_instant};
use crate::daemon::{Daemon, StopReason};
use crate::security::modes::euid;

/// Whether the read loop goes on after a line.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    Close,
}

/// Serves one accepted connection to the end.
pub async fn serve(daemon: &Daemon, stream: Stream, id: u64, over_limit: bool, idle: super::idle::Handle) {
    let peer = stream.peer_creds();
    let (reader, writer) = tokio::io::split(stream);
    let outbox = Outbox(Arc::new(tokio::sync::Mutex::new(BufWriter::new(writer))));

    let me = euid();
    let plugin = peer.as_ref().ok().and_then(|c| c.pid()).and_then(crate::security::peer::plugin_peer);
    if let Some(why) = plugin {
        let pid = peer.as_ref().ok().and_then(|c| c.pid());
        tracing::warn!(conn = id, peer_pid = ?pid, "refused a connection from a plugin: {why}");
        if let Some(pid) = pid {
            let detail = format!("pid {pid} tried pyrad's control socket ({why})");
            crate::security::log_event(&daemon.security_log(), "plugin_socket", "", &detail);
        }
        let refusal = ErrorObject::new(PERMISSION_DENIED, "plugins may not use pyrad's control socket");
        outbox.send(&Response::err(None, refusal)).await;
        outbox.close().await;
        return;
    }
    match peer.as_ref().map(|c| (c.euid(), c.pid())) {
        Ok((Some(uid), pid)) if uid == me => {
            tracing::debug!(conn = id, ?pid, "connection accepted");
            if over_limit {
                tracing::warn!(conn = id, "too many connections; refusing one");
                let limit = daemon.ipc_settings().max_connections;
                let busy =
                    ErrorObject::new(proto::rpc::BUSY, format!("pyrad is serving its limit of {limit} connections"));
                outbox.send(&Response::err(None, busy)).await;
            } else {
                let mut conn = Connection::new(daemon.clone(), id, outbox.clone(), idle);
                conn.read_loop(reader).await;
                // Gone: its turns stop and its pending approvals are denied.
                conn.peer.gone.cancel();
                let cancelled = daemon.chat().origin_gone(&conn.peer.origin);
                if cancelled > 0 {
                    tracing::info!(conn = id, cancelled, "client left; its pending approvals are cancelled");
                }
                conn.requests.close();
                conn.requests.wait().await;
            }
        }
        other => {
            let (uid, pid) = match other {
                Ok((uid, pid)) => (uid, pid),
                Err(ref e) => {
                    tracing::warn!(conn = id, error = %e, "cannot read peer credentials");
                    (None, None)
                }
            };
            tracing::warn!(conn = id, peer_uid = ?uid, peer_pid = ?pid, "refused a connection from another user");
            let refusal = ErrorObject::new(PERMISSION_DENIED, format!("pyrad serves only its own user (uid {me})"));
            outbox.send(&Response::err(None, refusal)).await;
        }
    }
    outbox.close().await;
}

/// The writing half of a connection. Whoever has a line to send takes the lock,
/// writes the whole line and flushes, so lines never interleave mid-way and no
/// extra task sits between a response and the socket.
#[derive(Clone)]
pub(super) struct Outbox(Arc<tokio::sync::Mutex<BufWriter<WriteHalf<Stream>>>>);

impl Outbox {
    /// Writes `msg` as one line; a client that went away is not an error here.
    pub(super) async fn send<T: Serialize>(&self, msg: &T) {
        self.send_line(&encode_line(msg)).await;
    }

    /// Writes one message; one longer than a line goes as its `rpc.chunk`
    /// notifications, back to back under the lock so nothing comes between them.
    pub(super) async fn send_line(&self, line: &[u8]) {
        // Newline included; only a long message is copied into chunks.
        let framed = (line.len() > MAX_LINE_BYTES + 1).then(|| proto::chunk::frame(line.to_vec()));
        let mut writer = self.0.lock().await;
        match &framed {
            None => {
                if writer.write_all(line).await.is_err() {
                    return;
                }
            }
            Some(chunks) => {
                for chunk in chunks {
                    if writer.write_all(chunk).await.is_err() {
                        return;
                    }
                }
            }
        }
        let _ = writer.flush().await;
        if line.len() > crate::memtrim::LARGE {
            crate::memtrim::note_large();
        }
    }

    /// Flushes and half-closes: the client reads what was sent, then end of stream.
    async fn close(&self) {
        let mut writer = self.0.lock().await;
        let _ = writer.shutdown().await;
    }
}

/// What a method handler knows of the connection it serves.
#[derive(Clone)]
pub(super) struct Peer {
    /// Who may answer approvals raised by this connection's turns.
    pub origin: String,
    pub outbox: Outbox,
    /// Fired when the connection goes away: its turns stop.
    pub gone: CancellationToken,
}

struct Connection {
    daemon: Daemon,
    id: u64,
    outbox: Outbox,
    peer: Peer,
    /// Set by a successful `hello`; until then only `hello` is served.
    greeted: bool,
    /// Ids of requests still running, to refuse a duplicate.
    in_flight: Arc<Mutex<HashSet<Id>>>,
    /// Bounds the requests in flight; reading pauses while none is free.
    permits: Arc<Semaphore>,
    /// This connection's running requests, awaited before it closes.
    requests: TaskTracker,
    /// Its place among the connections, for closing idle ones to make room.
    idle: super::idle::Handle,
}

impl Connection {
    fn new(daemon: Daemon, id: u64, outbox: Outbox, idle: super::idle::Handle) -> Self {
        let permits = Arc::new(Semaphore::new(daemon.ipc_settings().max_in_flight.max(1)));
        let peer = Peer { origin: format!("ipc-{id}"), outbox: outbox.clone(), gone: daemon.child_token() };
        Self {
            daemon,
            id,
            outbox,
            peer,
            greeted: false,
            in_flight: Arc::default(),
            permits,
            requests: TaskTracker::new(),
            idle,
        }
    }

    async fn read_loop(&mut self, mut reader: impl AsyncRead + Unpin) {
        let mut lines = LineBuffer::new(MAX_LINE_BYTES);
        let mut chunk = vec![0u8; 16 * 1024];
        let hello_by =
            tokio::time::Instant::now() + std::time::Duration::from_secs(self.daemon.ipc_settings().hello_timeout_secs);
        let close = self.idle.close.clone();
        loop {
            while let Some(line) = lines.next_line() {
                if self.line(line).await == Flow::Close {
                    return;
                }
            }
            let read = tokio::select! {
                () = self.daemon.stopping() => {
                    if self.greeted {
                        let reason = self.daemon.stop_reason().as_str().to_owned();
                        self.event::<DaemonStopping>(&StoppingParams { reason }).await;
                    }
                    return;
                }
                () = tokio::time::sleep_until(hello_by), if !self.greeted => {
                    let secs = self.daemon.ipc_settings().hello_timeout_secs;
                    tracing::info!(conn = self.id, "closing a connection that sent no hello within {secs} s");
                    let error = ErrorObject::new(INVALID_REQUEST, format!("no hello within {secs} s; closing"));
                    self.outbox.send(&Response::err(None, error)).await;
                    return;
                }
                () = close.cancelled() => {
                    let error = ErrorObject::new(
                        proto::rpc::BUSY,
                        "closed: every connection slot was taken and this one was idle longest",
                    );
                    self.outbox.send(&Response::err(None, error)).await;
                    return;
                }
                read = reader.read(&mut chunk) => read,
            };
            self.idle.touch();
            match read {
                Ok(0) => {
                    // End of input: a last line without a newline still counts.
                    if let Some(line) = lines.finish() {
                        self.line(line).await;
                    }
                    return;
                }
                Ok(n) => lines.extend(&chunk[..n]),
                Err(e) => {
                    tracing::debug!(conn = self.id, error = %e, "read failed");
                    return;
                }
            }
        }
    }

    async fn line(&mut self, line: Result<Vec<u8>, DecodeError>) -> Flow {
        let line = match line {
            Ok(line) => line,
            Err(too_long) => {
                tracing::warn!(conn = self.id, "closing a connection that sent an oversize line");
                self.outbox.send(&too_long.to_response()).await;
                return Flow::Close;
            }
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            return Flow::Continue;
        }
        match decode_client_line(&line) {
            Err(e) => {
                tracing::debug!(conn = self.id, error = %e, "undecodable line");
                self.outbox.send(&e.to_response()).await;
                Flow::Continue
            }
            Ok(ClientMessage::Notification(n)) if !self.greeted => {
                self.outbox.send(&Response::err(None, ErrorObject::handshake_required(&n.method))).await;
                Flow::Close
            }
            Ok(ClientMessage::Notification(n)) => {
                tracing::debug!(conn = self.id, method = %n.method, "ignoring a client notification");
                Flow::Continue
            }
            Ok(ClientMessage::Request(req)) if !self.greeted => self.hello(req).await,
            Ok(ClientMessage::Request(req)) => {
                self.request(req).await;
                Flow::Continue
            }
        }
    }

    async fn hello(&mut self, req: proto::Request) -> Flow {
        if req.method != Hello::NAME {
            self.outbox.send(&Response::err(Some(req.id), ErrorObject::handshake_required(&req.method))).await;
            return Flow::Close;
        }
        let params = match ClientRequest::parse(&req.method, req.params) {
            Ok(ClientRequest::Hello(params)) => params,
            Ok(other) => {
                let error = ErrorObject::new(proto::rpc::INTERNAL_ERROR, format!("hello decoded as {other:?}"));
                self.outbox.send(&Response::err(Some(req.id), error)).await;
                return Flow::Close;
            }
            Err(e) => {
                self.outbox.send(&Response::err(Some(req.id), e)).await;
                return Flow::Close;
            }
        };
        if params.protocol != PROTOCOL_NAME || params.version != PROTOCOL_VERSION {
            tracing::warn!(conn = self.id, client = %params.client, version = params.version, "protocol mismatch");
            let error = ErrorObject::version_mismatch(&params.protocol, params.version);
            self.outbox.send(&Response::err(Some(req.id), error)).await;
            return Flow::Close;
        }
        tracing::debug!(conn = self.id, client = %params.client, "hello");
        self.greeted = true;
        let result = HelloResult {
            protocol: PROTOCOL_NAME.into(),
            version: PROTOCOL_VERSION,
            daemon: concat!("pyrad/", env!("CARGO_PKG_VERSION")).into(),
            pid: self.daemon.pid(),
            features: proto::version::FEATURES.to_vec(),
        };
        self.outbox.send_line(&proto::rpc::encode_reply(&req.id, Ok(&result))).await;
        Flow::Continue
    }

    async fn request(&mut self, req: proto::Request) {
        let call = match ClientRequest::parse(&req.method, req.params) {
            Ok(call) => call,
            Err(e) => return self.outbox.send(&Response::err(Some(req.id), e)).await,
        };
        if is_instant(&call) {
            let (line, effect) = dispatch(&self.daemon, &self.peer, &req.id, call).await;
            self.outbox.send_line(&line).await;
            return after(&self.daemon, effect);
        }
        let fresh = self.in_flight.lock().map(|mut ids| ids.insert(req.id.clone())).unwrap_or(false);
        if !fresh {
            let error =
                ErrorObject::new(INVALID_REQUEST, format!("id {} is already in flight on this connection", req.id));
            return self.outbox.send(&Response::err(Some(req.id), error)).await;
        }
        let Ok(permit) = self.permits.clone().acquire_owned().await else { return };
        let busy = self.idle.busy();
        let (daemon, outbox, in_flight, peer) =
            (self.daemon.clone(), self.outbox.clone(), self.in_flight.clone(), self.peer.clone());
        self.requests.spawn(async move {
            let (line, effect) = dispatch(&daemon, &peer, &req.id, call).await;
            outbox.send_line(&line).await;
            if let Ok(mut ids) = in_flight.lock() {
                ids.remove(&req.id);
            }
            drop(permit);
            drop(busy);
            after(&daemon, effect);
        });
    }

    async fn event<E: Event>(&self, params: &E::Params) {
        let params = serde_json::to_value(params).ok();
        self.outbox.send(&Notification::new(E::NAME, params)).await;
    }
}

/// Carries out what a method asked for once its response is sent.
fn after(daemon: &Daemon, effect: Effect) {
    if effect == Effect::Shutdown {
        daemon.request_stop(StopReason::Request);
    }
}
