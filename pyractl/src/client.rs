//! A blocking client for pyrad's control socket: connect, say hello, call typed
//! methods, collect events that arrive in between.

use std::collections::VecDeque;
use std::io::Read;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use proto::codec::ServerMessage;
use proto::ipc::{Hello, HelloParams, HelloResult, Method};
use proto::rpc::{ErrorObject, Id, Notification, Outcome, Request, VERSION_MISMATCH};
use proto::{LineBuffer, MAX_LINE_BYTES, PROTOCOL_NAME, PROTOCOL_VERSION, decode_server_line, encode_line};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("pyrad is not running ({reason} at {}); start it with `pyractl daemon start`", socket.display())]
    NotRunning { socket: PathBuf, reason: String },
    #[error("{0}")]
    VersionMismatch(String),
    /// pyrad refused or failed the call; its message is for people (the code is
    /// for scripts, in `--json` output and `.0.code`).
    #[error("{}", .0.message)]
    Rpc(ErrorObject),
    #[error("unexpected answer from pyrad: {0}")]
    Protocol(String),
    #[error("lost the connection to pyrad: {0}")]
    Io(std::io::Error),
}

impl From<std::io::Error> for ClientError {
    fn from(e: std::io::Error) -> Self {
        ClientError::Io(e)
    }
}

/// Writes all of `bytes` to the socket without raising SIGPIPE: pyractl lets
/// SIGPIPE end it when its stdout closes (`pyractl audit | head`), but a closed
/// socket is an error to report ("lost the connection"), not a reason to die.
fn send_all(stream: &UnixStream, mut bytes: &[u8]) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    #[cfg(target_os = "linux")]
    const FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
    #[cfg(not(target_os = "linux"))]
    const FLAGS: libc::c_int = 0; // SO_NOSIGPIPE is set on the socket in `connect`
    while !bytes.is_empty() {
        // SAFETY: send(2) reads `bytes.len()` bytes from a live slice on our own fd.
        let n = unsafe { libc::send(stream.as_raw_fd(), bytes.as_ptr().cast(), bytes.len(), FLAGS) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        bytes = &bytes[n as usize..];
    }
    Ok(())
}

/// Asks the kernel not to raise SIGPIPE for this socket (where send(2) has no flag for it).
#[cfg(not(target_os = "linux"))]
fn no_sigpipe(stream: &UnixStream) {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: setsockopt with a c_int we own, on our own fd.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_NOSIGPIPE,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// How long to wait for any one reply before giving up on pyrad.
const REPLY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

pub struct Client {
    stream: UnixStream,
    lines: LineBuffer,
    /// Joins a message that arrives as `rpc.chunk` notifications.
    chunks: proto::chunk::Joiner,
    next_id: i64,
    /// The daemon's answer to our hello.
    pub hello: HelloResult,
    /// Events that arrived while we waited for a response.
    pub events: VecDeque<Notification>,
}

impl Client {
    /// Connects and says hello; a missing or dead socket is [`ClientError::NotRunning`].
    pub fn connect(socket: &Path) -> Result<Self, ClientError> {
        let stream = UnixStream::connect(socket).map_err(|e| {
            use std::io::ErrorKind::*;
            match e.kind() {
                NotFound | ConnectionRefused => ClientError::NotRunning {
                    socket: socket.to_owned(),
                    reason: if e.kind() == NotFound { "no socket" } else { "nobody listening" }.into(),
                },
                _ => ClientError::Io(e),
            }
        })?;
        #[cfg(not(target_os = "linux"))]
        no_sigpipe(&stream);
        // A daemon that accepts but never answers must not hang the terminal.
        stream.set_read_timeout(Some(REPLY_TIMEOUT))?;
        let placeholder =
            HelloResult { protocol: String::new(), version: 0, daemon: String::new(), pid: 0, features: Vec::new() };
        let mut client = Client {
            stream,
            lines: LineBuffer::new(MAX_LINE_BYTES),
            chunks: proto::chunk::Joiner::new(0),
            next_id: 0,
            hello: placeholder,
            events: VecDeque::new(),
        };
        let params = HelloParams {
            protocol: PROTOCOL_NAME.into(),
            version: PROTOCOL_VERSION,
            client: concat!("pyractl/", env!("CARGO_PKG_VERSION")).into(),
        };
        client.hello = client.call::<Hello>(&params).map_err(|e| match e {
            ClientError::Rpc(err) if err.code == VERSION_MISMATCH => ClientError::VersionMismatch(err.message),
            other => other,
        })?;
        Ok(client)
    }

    /// Calls method `M` and waits for its response (at most the reply timeout).
    pub fn call<M: Method>(&mut self, params: &M::Params) -> Result<M::Result, ClientError> {
        self.call_inner::<M>(params).map_err(|e| match e {
            ClientError::Io(io)
                if matches!(io.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
            {
                ClientError::Protocol(format!(
                    "pyrad did not answer within {REPLY_TIMEOUT:?}; see its log, or restart it"
                ))
            }
            other => other,
        })
    }

    fn call_inner<M: Method>(&mut self, params: &M::Params) -> Result<M::Result, ClientError> {
        self.next_id += 1;
        let id = Id::Num(self.next_id);
        let params = serde_json::to_value(params).map_err(|e| ClientError::Protocol(e.to_string()))?;
        if let Err(e) = send_all(&self.stream, &encode_line(&Request::new(id.clone(), M::NAME, Some(params)))) {
            // pyrad may have refused the connection and closed it before we wrote:
            // its reason is still waiting to be read.
            if matches!(e.kind(), std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset)
                && let Ok(ServerMessage::Response(r)) = self.next_message()
                && let Outcome::Error(error) = r.outcome
            {
                return Err(ClientError::Rpc(error));
            }
            return Err(e.into());
        }
        loop {
            match self.next_message()? {
                ServerMessage::Notification(n) => self.events.push_back(n),
                ServerMessage::Response(r) if r.id.as_ref() == Some(&id) || r.id.is_none() => {
                    return match r.outcome {
                        Outcome::Result(v) => {
                            serde_json::from_value(v).map_err(|e| ClientError::Protocol(format!("{}: {e}", M::NAME)))
                        }
                        Outcome::Error(e) => Err(ClientError::Rpc(e)),
                    };
                }
                ServerMessage::Response(r) => {
                    return Err(ClientError::Protocol(format!("response for unknown id {:?}", r.id)));
                }
            }
        }
    }

    /// Sends a request for `M` without waiting; returns its id. Read the stream
    /// with [`Client::next_message`] and [`Client::result_of`].
    pub fn start<M: Method>(&mut self, params: &M::Params) -> Result<Id, ClientError> {
        self.next_id += 1;
        let id = Id::Num(self.next_id);
        let params = serde_json::to_value(params).map_err(|e| ClientError::Protocol(e.to_string()))?;
        send_all(&self.stream, &encode_line(&Request::new(id.clone(), M::NAME, Some(params))))?;
        Ok(id)
    }

    /// Decodes the outcome of a response as `M`'s result.
    pub fn result_of<M: Method>(outcome: Outcome) -> Result<M::Result, ClientError> {
        match outcome {
            Outcome::Result(v) => {
                serde_json::from_value(v).map_err(|e| ClientError::Protocol(format!("{}: {e}", M::NAME)))
            }
            Outcome::Error(e) => Err(ClientError::Rpc(e)),
        }
    }

    /// Waits without a reply timeout (a turn may wait minutes for an approval).
    pub fn set_patient(&mut self, patient: bool) -> Result<(), ClientError> {
        self.stream.set_read_timeout(if patient { None } else { Some(REPLY_TIMEOUT) })?;
        Ok(())
    }

    /// Like [`Client::next_message`], but gives up after `wait` with `None`.
    pub fn poll_message(&mut self, wait: std::time::Duration) -> Result<Option<ServerMessage>, ClientError> {
        self.stream.set_read_timeout(Some(wait))?;
        let result = self.next_message();
        self.stream.set_read_timeout(None)?;
        match result {
            Ok(msg) => Ok(Some(msg)),
            Err(ClientError::Io(e))
                if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    pub fn next_message(&mut self) -> Result<ServerMessage, ClientError> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some(line) = self.lines.next_line() {
                let line = line.map_err(|e| ClientError::Protocol(e.to_string()))?;
                let message = decode_server_line(&line).map_err(|e| ClientError::Protocol(e.to_string()))?;
                match message {
                    ServerMessage::Notification(n) if n.method == proto::chunk::METHOD => {
                        let joined = self.chunks.push(n.params).map_err(|e| ClientError::Protocol(e.to_string()))?;
                        if let Some(whole) = joined {
                            return decode_server_line(&whole).map_err(|e| ClientError::Protocol(e.to_string()));
                        }
                        continue;
                    }
                    other => return Ok(other),
                }
            }
            let n = match self.stream.read(&mut chunk) {
                Ok(n) => n,
                // Ctrl-C during a turn interrupts the read; the caller checks its flag.
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ClientError::Io(e)),
            };
            if n == 0 {
                return Err(ClientError::Io(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "pyrad closed the connection",
                )));
            }
            self.lines.extend(&chunk[..n]);
        }
    }
}
