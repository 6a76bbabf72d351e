//! The `pyractl` <-> `pyrad` methods and events: each method is a type with its
//! name, params and result, so client and daemon cannot disagree on a shape.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::rpc::ErrorObject;
use crate::version::Feature;

/// A method: its wire name and the types of its params and result.
pub trait Method {
    const NAME: &'static str;
    type Params: Serialize + DeserializeOwned;
    type Result: Serialize + DeserializeOwned;
}

/// `hello`: the first request on every connection.
pub enum Hello {}
impl Method for Hello {
    const NAME: &'static str = "hello";
    type Params = HelloParams;
    type Result = HelloResult;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelloParams {
    /// Must be [`crate::PROTOCOL_NAME`].
    pub protocol: String,
    /// Must equal the daemon's [`crate::PROTOCOL_VERSION`].
    pub version: u32,
    /// Who is calling, for the log: for example `pyractl/0.1.0`.
    pub client: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HelloResult {
    pub protocol: String,
    pub version: u32,
    /// The daemon's name and version: `pyrad/0.1.0`.
    pub daemon: String,
    pub pid: u32,
    pub features: Vec<Feature>,
}

/// `daemon.status`: what the daemon is and how it is doing.
pub enum DaemonStatus {}
impl Method for DaemonStatus {
    const NAME: &'static str = "daemon.status";
    type Params = Empty;
    type Result = StatusResult;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusResult {
    /// `pyrad`'s crate version.
    pub version: String,
    pub protocol_version: u32,
    pub pid: u32,
    /// Seconds since the daemon started, with millisecond precision.
    pub uptime_secs: f64,
    /// Unix time (seconds) the daemon started.
    pub started_at: u64,
    /// The `PYRA_HOME` in use.
    pub home: String,
    /// The control socket's path.
    pub socket: String,
    /// Open client connections, this one included.
    pub connections: u32,
    /// The active log filter.
    pub log_level: String,
    pub database: DatabaseStatus,
    /// The chat provider; `null` until one is configured.
    #[serde(default)]
    pub provider: Option<Value>,
    /// Chat sessions; `null` while the daemon has no chat component.
    #[serde(default)]
    pub sessions: Option<Value>,
    /// Plugins; `null` while the daemon has no plugin host.
    #[serde(default)]
    pub plugins: Option<Value>,
    /// Matrix and Telegram bots; `null` while none is built in.
    #[serde(default)]
    pub bots: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseStatus {
    pub path: String,
    /// The migration the database is at.
    pub schema_version: u32,
    /// Whether the run before this one stopped cleanly (`null` on the first run).
    pub previous_run_clean: Option<bool>,
}

/// `daemon.shutdown`: stop gracefully. Answered before the daemon stops.
pub enum DaemonShutdown {}
impl Method for DaemonShutdown {
    const NAME: &'static str = "daemon.shutdown";
    type Params = Empty;
    type Result = ShutdownResult;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShutdownResult {
    /// The pid that is stopping, so a caller can wait for it to exit.
    pub pid: u32,
}

/// Params of a method that takes none: `{}`, `[]` or absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Empty;

impl Serialize for Empty {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        s.serialize_map(Some(0))?.end()
    }
}

impl<'de> Deserialize<'de> for Empty {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(Empty),
            Value::Object(m) if m.is_empty() => Ok(Empty),
            Value::Array(a) if a.is_empty() => Ok(Empty),
            other => Err(serde::de::Error::custom(format!("expected no params, got {other}"))),
        }
    }
}

/// Event `daemon.stopping`: the daemon is shutting down; sent to every open connection.
pub enum DaemonStopping {}
impl Event for DaemonStopping {
    const NAME: &'static str = "daemon.stopping";
    type Params = StoppingParams;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoppingParams {
    /// `signal`, `request` or `error`.
    pub reason: String,
}

/// A daemon-to-client notification: its name and the type of its params.
pub trait Event {
    const NAME: &'static str;
    type Params: Serialize + DeserializeOwned;
}

/// A request from a client, decoded into its method's params.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientRequest {
    Hello(HelloParams),
    DaemonStatus,
    DaemonShutdown,
}

impl ClientRequest {
    /// Decodes `params` for `method`: -32601 for an unknown method, -32602 for params that do not fit.
    pub fn parse(method: &str, params: Option<Value>) -> Result<Self, ErrorObject> {
        let params = params.unwrap_or(Value::Null);
        match method {
            Hello::NAME => params_of::<Hello>(params).map(ClientRequest::Hello),
            DaemonStatus::NAME => params_of::<DaemonStatus>(params).map(|Empty| ClientRequest::DaemonStatus),
            DaemonShutdown::NAME => params_of::<DaemonShutdown>(params).map(|Empty| ClientRequest::DaemonShutdown),
            other => Err(ErrorObject::method_not_found(other)),
        }
    }
}

fn params_of<M: Method>(params: Value) -> Result<M::Params, ErrorObject> {
    serde_json::from_value(params).map_err(|e| ErrorObject::invalid_params(M::NAME, e))
}
