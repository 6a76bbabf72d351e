//! JSON-RPC 2.0 envelopes: [`Request`], [`Notification`], [`Response`] and
//! [`ErrorObject`], with the standard error codes and Pyra's own server codes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Standard code: the line is not valid JSON (or not UTF-8).
pub const PARSE_ERROR: i32 = -32700;
/// Standard code: valid JSON, but not a valid request object.
pub const INVALID_REQUEST: i32 = -32600;
/// Standard code: the method does not exist.
pub const METHOD_NOT_FOUND: i32 = -32601;
/// Standard code: the params do not fit the method.
pub const INVALID_PARAMS: i32 = -32602;
/// Standard code: the daemon failed while handling a valid request.
pub const INTERNAL_ERROR: i32 = -32603;
/// Pyra: the peer runs under another uid; the connection is closed.
pub const PERMISSION_DENIED: i32 = -32000;
/// Pyra: the first request on a connection was not `hello`; the connection is closed.
pub const HANDSHAKE_REQUIRED: i32 = -32001;
/// Pyra: `hello` named another protocol or version; the connection is closed.
pub const VERSION_MISMATCH: i32 = -32002;
/// Pyra: the daemon is serving its limit of connections; this one is closed.
pub const BUSY: i32 = -32004;
/// Pyra: a turn is already running in that session.
pub const SESSION_BUSY: i32 = -32005;
/// Pyra: no LLM provider is configured (`pyractl setup`).
pub const NOT_CONFIGURED: i32 = -32006;
/// Pyra: the turn was cancelled (`chat.cancel`, a disconnect, or a stop).
pub const CANCELLED: i32 = -32007;
/// Pyra: no such session.
pub const NOT_FOUND: i32 = -32008;
/// Pyra: an `approval.respond` for an unknown, decided, expired or foreign request.
pub const APPROVAL_REJECTED: i32 = -32009;
/// Pyra: the provider failed (`data.partial_text` holds what was streamed before).
pub const PROVIDER_ERROR: i32 = -32010;
/// Pyra: the model kept asking for tools past `chat.max_tool_iterations`.
pub const TURN_LIMIT: i32 = -32011;

/// The `"jsonrpc": "2.0"` member, as a type so it cannot be forgotten or misspelt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct V2;

impl Serialize for V2 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("2.0")
    }
}

impl<'de> Deserialize<'de> for V2 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        if s == "2.0" { Ok(V2) } else { Err(serde::de::Error::custom(format!("expected \"2.0\", got {:?}", clip(&s)))) }
    }
}

/// A request id: JSON-RPC allows strings and numbers. Pyra rejects fractions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Id {
    Num(i64),
    Str(String),
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Id::Num(n) => write!(f, "{n}"),
            Id::Str(s) => write!(f, "{s:?}"),
        }
    }
}

/// A call that expects a [`Response`] carrying the same id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub jsonrpc: V2,
    pub id: Id,
    pub method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
}

impl Request {
    pub fn new(id: Id, method: impl Into<String>, params: Option<Value>) -> Self {
        Self { jsonrpc: V2, id, method: method.into(), params }
    }
}

/// A one-way message: no id, never answered. The daemon uses these for events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub jsonrpc: V2,
    pub method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
}

impl Notification {
    pub fn new(method: impl Into<String>, params: Option<Value>) -> Self {
        Self { jsonrpc: V2, method: method.into(), params }
    }
}

/// The answer to a [`Request`]. `id` is `null` only when the request's id could
/// not be read (a parse error, for example).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub jsonrpc: V2,
    pub id: Option<Id>,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Either member `result` or member `error`, never both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    #[serde(rename = "result")]
    Result(Value),
    #[serde(rename = "error")]
    Error(ErrorObject),
}

impl Response {
    pub fn ok(id: Id, result: Value) -> Self {
        Self { jsonrpc: V2, id: Some(id), outcome: Outcome::Result(result) }
    }

    pub fn err(id: Option<Id>, error: ErrorObject) -> Self {
        Self { jsonrpc: V2, id, outcome: Outcome::Error(error) }
    }
}

/// The `error` member of a failed [`Response`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{message} (code {code})")]
pub struct ErrorObject {
    pub code: i32,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl ErrorObject {
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), data: None }
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    pub fn method_not_found(method: &str) -> Self {
        Self::new(METHOD_NOT_FOUND, format!("unknown method {:?}", clip(method)))
    }

    pub fn invalid_params(method: &str, why: impl std::fmt::Display) -> Self {
        Self::new(INVALID_PARAMS, format!("invalid params for {}: {}", clip(method), clip(&why.to_string())))
    }
}

impl ErrorObject {
    /// The first request was not `hello`.
    pub fn handshake_required(method: &str) -> Self {
        Self::new(HANDSHAKE_REQUIRED, format!("the first request must be \"hello\", got {:?}", clip(method)))
    }

    /// `hello` asked for another protocol or version; `data` lets a client say which.
    pub fn version_mismatch(client_protocol: &str, client_version: u32) -> Self {
        Self::new(
            VERSION_MISMATCH,
            format!(
                "protocol mismatch: daemon speaks {}/{}, client speaks {client_protocol}/{client_version}; restart pyrad",
                crate::PROTOCOL_NAME,
                crate::PROTOCOL_VERSION
            ),
        )
        .with_data(serde_json::json!({
            "daemon_protocol": crate::PROTOCOL_NAME,
            "daemon_version": crate::PROTOCOL_VERSION,
        }))
    }
}

/// The most bytes of a peer's input that an error message quotes: the answer to a
/// line must fit in a line, and quoting (`Debug`, then JSON escapes) can make
/// input several times longer.
pub(crate) const QUOTE_MAX_BYTES: usize = 256;

/// `text` cut to at most [`QUOTE_MAX_BYTES`] (on a character boundary), marked
/// with `…` when cut: for quoting peer input in an error message.
pub(crate) fn clip(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= QUOTE_MAX_BYTES {
        return text.into();
    }
    format!("{}…", &text[..text.floor_char_boundary(QUOTE_MAX_BYTES)]).into()
}

/// A successful response borrowed from its parts, so a result is serialised once,
/// straight into its line (no intermediate `Value`).
#[derive(Serialize)]
struct ResultRef<'a, T: Serialize> {
    jsonrpc: V2,
    id: &'a Id,
    result: &'a T,
}

/// Encodes the line answering request `id` with `result` or `error`.
pub fn encode_reply<T: Serialize>(id: &Id, reply: Result<&T, ErrorObject>) -> Vec<u8> {
    match reply {
        Ok(result) => crate::encode_line(&ResultRef { jsonrpc: V2, id, result }),
        Err(error) => crate::encode_line(&Response::err(Some(id.clone()), error)),
    }
}
