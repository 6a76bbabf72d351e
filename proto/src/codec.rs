//! The line codec: one JSON object per line, UTF-8, at most [`MAX_LINE_BYTES`].
//! [`LineBuffer`] frames bytes into lines; [`decode_client_line`] and
//! [`decode_server_line`] turn a line into an envelope or a [`DecodeError`] that
//! knows its JSON-RPC error code. Nothing here touches a socket.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::rpc::{ErrorObject, INVALID_REQUEST, Id, Notification, PARSE_ERROR, Request, Response, V2, clip};

/// The longest line either side accepts, newline excluded: 1 MiB.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Serialises `msg` as one line, newline included.
pub fn encode_line<T: Serialize>(msg: &T) -> Vec<u8> {
    // Serialising our own wire types cannot fail: they hold no maps with
    // non-string keys and no types whose `Serialize` can error.
    let mut out = serde_json::to_vec(msg).expect("wire types always serialise to JSON");
    out.push(b'\n');
    out
}

/// Why a line could not be decoded, and what to answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error("line is not valid UTF-8 (first bad byte at offset {0})")]
    NotUtf8(usize),
    #[error("line is not JSON: {0}")]
    NotJson(String),
    #[error("batch requests are not supported: send one object per line")]
    Batch,
    #[error("expected a JSON object, got {0}")]
    NotObject(&'static str),
    #[error("invalid request: {reason}")]
    Invalid { id: Option<Id>, reason: String },
    #[error("line is longer than {limit} bytes")]
    TooLong { limit: usize },
}

impl DecodeError {
    /// The JSON-RPC code to answer with: -32700 when the line is not JSON, else -32600.
    pub fn code(&self) -> i32 {
        match self {
            DecodeError::NotUtf8(_) | DecodeError::NotJson(_) => PARSE_ERROR,
            _ => INVALID_REQUEST,
        }
    }

    /// The id to answer to, when the line carried a readable one.
    pub fn id(&self) -> Option<Id> {
        match self {
            DecodeError::Invalid { id, .. } => id.clone(),
            _ => None,
        }
    }

    pub fn to_error_object(&self) -> ErrorObject {
        let error = ErrorObject::new(self.code(), self.to_string());
        match self {
            DecodeError::TooLong { limit } => error.with_data(serde_json::json!({ "limit_bytes": limit })),
            _ => error,
        }
    }

    /// The complete error response for this line. An id too long to quote back
    /// within a line is answered as unreadable (`null`), so the answer always fits.
    pub fn to_response(&self) -> Response {
        let fits = |id: &Id| match id {
            Id::Num(_) => true,
            Id::Str(s) => serde_json::to_string(s).is_ok_and(|quoted| quoted.len() <= MAX_LINE_BYTES / 2),
        };
        Response::err(self.id().filter(fits), self.to_error_object())
    }
}

/// What a client may send: a request, or a notification (which is never answered).
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    Request(Request),
    Notification(Notification),
}

/// What a daemon sends: a response to a request, or an event.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerMessage {
    Response(Response),
    Notification(Notification),
}

/// Decodes one line sent by a client (newline already removed).
pub fn decode_client_line(line: &[u8]) -> Result<ClientMessage, DecodeError> {
    let mut obj = parse_object(line)?;
    let id = match obj.remove("id") {
        None => None,
        Some(v) => Some(parse_id(v)?),
    };
    let invalid = |reason: &str| DecodeError::Invalid { id: id.clone(), reason: reason.to_owned() };
    check_version(&obj).map_err(|r| invalid(&r))?;
    let method = match obj.remove("method") {
        Some(Value::String(m)) => m,
        Some(_) => return Err(invalid("\"method\" must be a string")),
        None if obj.contains_key("result") || obj.contains_key("error") => {
            return Err(invalid("expected a request, got a response"));
        }
        None => return Err(invalid("missing \"method\"")),
    };
    let params = match obj.remove("params") {
        None => None,
        Some(p @ (Value::Object(_) | Value::Array(_))) => Some(p),
        Some(_) => return Err(invalid("\"params\" must be an object or an array")),
    };
    if let Some(extra) = obj.keys().find(|k| k.as_str() != "jsonrpc") {
        return Err(invalid(&format!("unexpected member {:?}", clip(extra))));
    }
    Ok(match id {
        Some(id) => ClientMessage::Request(Request { jsonrpc: V2, id, method, params }),
        None => ClientMessage::Notification(Notification { jsonrpc: V2, method, params }),
    })
}

/// Decodes one line sent by the daemon (newline already removed).
pub fn decode_server_line(line: &[u8]) -> Result<ServerMessage, DecodeError> {
    let obj = parse_object(line)?;
    let id = obj.get("id").cloned().and_then(|v| serde_json::from_value::<Id>(v).ok());
    let value = Value::Object(obj);
    let invalid = |e: serde_json::Error| DecodeError::Invalid { id: id.clone(), reason: clip(&e.to_string()).into() };
    if value.get("method").is_some() {
        serde_json::from_value(value).map(ServerMessage::Notification).map_err(invalid)
    } else {
        serde_json::from_value(value).map(ServerMessage::Response).map_err(invalid)
    }
}

fn parse_object(line: &[u8]) -> Result<Map<String, Value>, DecodeError> {
    let text = std::str::from_utf8(line).map_err(|e| DecodeError::NotUtf8(e.valid_up_to()))?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(obj)) => Ok(obj),
        Ok(Value::Array(_)) => Err(DecodeError::Batch),
        Ok(other) => Err(DecodeError::NotObject(kind_of(&other))),
        Err(e) => Err(DecodeError::NotJson(e.to_string())),
    }
}

fn parse_id(v: Value) -> Result<Id, DecodeError> {
    let bad = || DecodeError::Invalid { id: None, reason: "\"id\" must be a string or an integer".into() };
    match v {
        Value::String(s) => Ok(Id::Str(s)),
        Value::Number(n) => n.as_i64().map(Id::Num).ok_or_else(bad),
        _ => Err(bad()),
    }
}

fn check_version(obj: &Map<String, Value>) -> Result<(), String> {
    match obj.get("jsonrpc") {
        Some(Value::String(v)) if v == "2.0" => Ok(()),
        Some(other) => Err(format!("\"jsonrpc\" must be \"2.0\", got {}", clip(&other.to_string()))),
        None => Err("missing \"jsonrpc\": \"2.0\"".into()),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Frames a byte stream into lines of at most `max` bytes. Feed it with
/// [`LineBuffer::extend`], take lines with [`LineBuffer::next_line`], and at end of
/// input take a final unterminated line with [`LineBuffer::finish`]. Taking lines
/// until `None` before each `extend` keeps it to at most `max + 1` bytes plus the
/// bytes last given.
#[derive(Debug)]
pub struct LineBuffer {
    buf: Vec<u8>,
    /// Where the unconsumed bytes start; consumed bytes are dropped by the next `extend`.
    start: usize,
    /// How far past `start` we already looked for a newline.
    scanned: usize,
    max: usize,
    /// Inside a line already reported as too long: its bytes are dropped up to its newline.
    skipping: bool,
}

impl LineBuffer {
    pub fn new(max: usize) -> Self {
        Self { buf: Vec::with_capacity(8192), start: 0, scanned: 0, max, skipping: false }
    }

    pub fn extend(&mut self, bytes: &[u8]) {
        // Drop consumed bytes now, so the buffer holds one partial line plus `bytes`.
        // What moves is the partial line after the last newline taken: when lines
        // are taken until `None` between calls, each byte moves at most once.
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.scanned -= self.start;
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete line without its `\n` (and without a `\r` before it), or
    /// [`DecodeError::TooLong`] once a line is known to exceed the limit. Each
    /// oversize line is reported once and its bytes dropped up to its newline; the
    /// line after it comes through as usual.
    pub fn next_line(&mut self) -> Option<Result<Vec<u8>, DecodeError>> {
        loop {
            let from = self.scanned.max(self.start);
            let Some(pos) = self.buf[from..].iter().position(|&b| b == b'\n') else {
                self.scanned = self.buf.len();
                if self.skipping {
                    self.start = self.buf.len();
                    return None;
                }
                let pending = &self.buf[self.start..];
                // A `\r` at the end may be the first half of a `\r\n`, not part of the line.
                if pending.len() <= self.max + usize::from(pending.last() == Some(&b'\r')) {
                    return None;
                }
                self.start = self.buf.len();
                self.skipping = true;
                return Some(Err(DecodeError::TooLong { limit: self.max }));
            };
            let (start, end) = (self.start, from + pos);
            self.start = end + 1;
            self.scanned = self.start;
            if std::mem::take(&mut self.skipping) {
                continue;
            }
            let mut line = &self.buf[start..end];
            if let Some(stripped) = line.strip_suffix(b"\r") {
                line = stripped;
            }
            return Some(if line.len() > self.max {
                Err(DecodeError::TooLong { limit: self.max })
            } else {
                Ok(line.to_vec())
            });
        }
    }

    /// How many bytes the buffer holds, consumed or not: what the fuzz tests bound.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.buf.len()
    }

    /// At end of input: the last line if it had no newline, or `None`.
    pub fn finish(&mut self) -> Option<Result<Vec<u8>, DecodeError>> {
        let rest = &self.buf[self.start..];
        let out = match rest.len() {
            // The rest of a line already reported as too long.
            _ if std::mem::take(&mut self.skipping) => None,
            0 => None,
            n if n > self.max => Some(Err(DecodeError::TooLong { limit: self.max })),
            _ => Some(Ok(rest.to_vec())),
        };
        self.start = self.buf.len();
        self.scanned = self.start;
        out
    }
}
