//! A Model Context Protocol client over a plugin's stdio: newline-delimited
//! JSON-RPC 2.0 using `proto`'s envelopes and line framing. Requests carry ids and
//! time out (with `notifications/cancelled`); the server's own requests (`ping`,
//! `roots/list`) are answered; `*/list_changed` notifications are passed on; a
//! server that writes garbage, floods or exits is reported, never trusted.
//!
//! Why not `rmcp`: Pyra needs every failure of a foreign process contained and
//! named (garbage lines, oversize lines, early exits, hangs), per-call timeouts
//! and cancellation, and its own `pyra/hook` extension; with `proto` already
//! holding the JSON-RPC envelope and framing, the client is ~300 lines we fully
//! control, against an SDK whose API has changed across releases.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proto::rpc::{ErrorObject, Id, Notification, Request, Response};
use proto::{LineBuffer, encode_line};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

/// The MCP revisions Pyra speaks, newest first.
pub const PROTOCOL_VERSIONS: &[&str] = &["2025-06-18", "2025-03-26", "2024-11-05"];
/// Longest line a plugin may write (a big tool result fits; a flood does not).
pub const MAX_LINE: usize = 8 << 20;
/// Undecodable lines tolerated before the plugin is cut off.
const GARBAGE_LIMIT: u32 = 10;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum McpError {
    #[error("no answer to {method} within {secs} s")]
    Timeout { method: String, secs: u64 },
    #[error("the plugin's connection closed: {0}")]
    Closed(String),
    #[error("the plugin answered {method} with error {code}: {message}")]
    Rpc { method: String, code: i64, message: String },
    #[error("the plugin broke the protocol: {0}")]
    Protocol(String),
}

/// What the server said about itself in `initialize`.
#[derive(Debug, Clone, Default)]
pub struct ServerInfo {
    pub protocol_version: String,
    pub name: String,
    pub version: String,
    /// Becomes a system-prompt addition.
    pub instructions: Option<String>,
}

/// A tool as the server lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct McpTool {
    pub name: String,
    pub description: String,
    pub input_schema: Value,
    /// `annotations.readOnlyHint`, as the server claims it.
    pub read_only: bool,
}

/// Notifications a host reacts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    ToolsChanged,
    PromptsChanged,
    ResourcesChanged,
    /// A `notifications/message` (MCP logging), as a log line.
    Log(String),
    /// The connection ended; the reason says how.
    Closed(String),
}

type Pending = Arc<Mutex<HashMap<i64, oneshot::Sender<Result<Value, McpError>>>>>;

pub struct McpClient {
    name: String,
    outbox: mpsc::Sender<Vec<u8>>,
    pending: Pending,
    next_id: AtomicI64,
    pub server: ServerInfo,
    /// Lines that were not JSON-RPC, for `plugin list`.
    pub garbage: Arc<AtomicU32>,
    /// Why the connection ended, once it has: later requests fail at once with it.
    closed: Arc<Mutex<Option<String>>>,
}

impl McpClient {
    /// Starts the reader and writer tasks, then performs the MCP handshake.
    pub async fn start(
        name: &str,
        input: impl AsyncWrite + Unpin + Send + 'static,
        output: impl AsyncRead + Unpin + Send + 'static,
        timeout: Duration,
    ) -> Result<(Self, mpsc::UnboundedReceiver<ServerEvent>), McpError> {
        let (tx, rx) = mpsc::channel::<Vec<u8>>(64);
        let (events_tx, events) = mpsc::unbounded_channel();
        let pending: Pending = Arc::default();
        let garbage = Arc::new(AtomicU32::new(0));
        let closed: Arc<Mutex<Option<String>>> = Arc::default();
        tokio::spawn(write_loop(input, rx));
        let reader = Reader { name: name.to_owned(), outbox: tx.clone(), pending: pending.clone(), events: events_tx };
        tokio::spawn(read_loop(reader, output, garbage.clone(), closed.clone()));
        let mut client = Self {
            name: name.to_owned(),
            outbox: tx,
            pending,
            next_id: AtomicI64::new(1),
            server: ServerInfo::default(),
            garbage,
            closed,
        };
        let init = client
            .request(
                "initialize",
                json!({
                    "protocolVersion": PROTOCOL_VERSIONS[0],
                    "capabilities": {"roots": {"listChanged": false}},
                    "clientInfo": {"name": "pyrad", "version": env!("CARGO_PKG_VERSION")},
                }),
                timeout,
            )
            .await?;
        let version = init.get("protocolVersion").and_then(Value::as_str).unwrap_or_default().to_owned();
        if !PROTOCOL_VERSIONS.contains(&version.as_str()) {
            return Err(McpError::Protocol(format!(
                "it speaks MCP {version:?}; Pyra speaks {}",
                PROTOCOL_VERSIONS.join(", ")
            )));
        }
        client.server = ServerInfo {
            protocol_version: version,
            name: init.pointer("/serverInfo/name").and_then(Value::as_str).unwrap_or_default().to_owned(),
            version: init.pointer("/serverInfo/version").and_then(Value::as_str).unwrap_or_default().to_owned(),
            instructions: init.get("instructions").and_then(Value::as_str).map(str::to_owned),
        };
        client.notify("notifications/initialized", None).await?;
        Ok((client, events))
    }

    async fn notify(&self, method: &str, params: Option<Value>) -> Result<(), McpError> {
        self.outbox
            .send(encode_line(&Notification::new(method, params)))
            .await
            .map_err(|_| McpError::Closed(format!("{} is gone", self.name)))
    }
}

/// A tool result as the model reads it: text parts as they are, embedded text
/// resources by their text, anything else named with its type and size (the
/// model cannot see images), and `structuredContent` as JSON when that is all.
fn content_text(result: &Value) -> String {
    let parts = result.get("content").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let str_at = |p: &Value, pointer: &str| p.pointer(pointer).and_then(Value::as_str).map(str::to_owned);
    let text: Vec<String> = parts
        .iter()
        .filter_map(|p| {
            let kind = p.get("type").and_then(Value::as_str)?;
            Some(match kind {
                "text" => str_at(p, "/text").unwrap_or_default(),
                "resource" => str_at(p, "/resource/text").unwrap_or_else(|| {
                    let uri = str_at(p, "/resource/uri").unwrap_or_default();
                    let size = str_at(p, "/resource/blob").map_or(0, |b| b.len() / 4 * 3);
                    format!("[resource {uri}: binary, about {size} bytes]")
                }),
                "resource_link" => format!(
                    "[resource link {}{}]",
                    str_at(p, "/uri").unwrap_or_default(),
                    str_at(p, "/name").map(|n| format!(" ({n})")).unwrap_or_default()
                ),
                other => {
                    let mime = str_at(p, "/mimeType").unwrap_or_else(|| "unknown type".into());
                    let size = str_at(p, "/data").map_or(0, |d| d.len() / 4 * 3);
                    format!("[{other}: {mime}, about {size} bytes, not shown]")
                }
            })
        })
        .collect();
    if text.is_empty()
        && let Some(structured) = result.get("structuredContent")
    {
        return structured.to_string();
    }
    text.join("\n")
}

/// `[mcp <level>] <logger>: <data>` for a plugin's log file.
fn log_line(params: Option<&Value>) -> String {
    let field = |k: &str| params.and_then(|p| p.get(k));
    let level = field("level").and_then(Value::as_str).unwrap_or("info");
    let logger = field("logger").and_then(Value::as_str).map(|l| format!("{l}: ")).unwrap_or_default();
    let data = match field("data") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    format!("[mcp {level}] {logger}{data}\n")
}

/// A request sent and not answered: dropped with a reason, it is forgotten and
/// the server gets `notifications/cancelled`.
struct Outstanding<'a> {
    client: &'a McpClient,
    id: i64,
    reason: Option<&'static str>,
}

impl Drop for Outstanding<'_> {
    fn drop(&mut self) {
        let Some(reason) = self.reason else { return };
        if let Ok(mut pending) = self.client.pending.lock() {
            pending.remove(&self.id);
        }
        let params = json!({"requestId": self.id, "reason": reason});
        // Not async in drop: if the outbox is full the server is busy or stuck,
        // and its answer, should it come, is ignored anyway.
        let _ = self.client.outbox.try_send(encode_line(&Notification::new("notifications/cancelled", Some(params))));
    }
}

impl McpClient {
    /// Sends a request and waits for its answer; on timeout, or when the caller
    /// drops this future, the server is told to cancel.
    pub async fn request(&self, method: &str, params: Value, timeout: Duration) -> Result<Value, McpError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        if let Ok(mut pending) = self.pending.lock() {
            pending.insert(id, tx);
        }
        // The reader sets `closed` before it fails what is pending: checked after
        // inserting, nothing can wait on a connection that is gone.
        if let Some(reason) = self.closed.lock().ok().and_then(|c| c.clone()) {
            if let Ok(mut pending) = self.pending.lock() {
                pending.remove(&id);
            }
            return Err(McpError::Closed(reason));
        }
        let line = encode_line(&Request::new(Id::Num(id), method, Some(params)));
        if self.outbox.send(line).await.is_err() {
            return Err(McpError::Closed(format!("{} is gone", self.name)));
        }
        // From here on, a caller that gives up (a timeout, or a cancelled turn
        // dropping this future) tells the server to stop.
        let mut outstanding = Outstanding { client: self, id, reason: Some("cancelled by the user") };
        let answer = match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(answer)) => {
                outstanding.reason = None;
                answer
            }
            Ok(Err(_)) => {
                outstanding.reason = None;
                Err(McpError::Closed("the reader stopped".into()))
            }
            Err(_) => {
                outstanding.reason = Some("timed out");
                Err(McpError::Timeout { method: method.into(), secs: timeout.as_secs() })
            }
        };
        drop(outstanding);
        answer.map_err(|e| match e {
            McpError::Rpc { code, message, .. } => McpError::Rpc { method: method.into(), code, message },
            other => other,
        })
    }

    /// Every item of a paged list (`tools/list`, `prompts/list`, `resources/list`),
    /// following `nextCursor`. A server that pages on and on is cut off with an
    /// error rather than followed forever.
    async fn list_all(&self, method: &str, key: &str, timeout: Duration) -> Result<Vec<Value>, McpError> {
        const MAX_PAGES: usize = 100;
        const MAX_ITEMS: usize = 10_000;
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let params = match &cursor {
                Some(c) => json!({"cursor": c}),
                None => json!({}),
            };
            let mut page = self.request(method, params, timeout).await?;
            if let Some(Value::Array(found)) = page.get_mut(key).map(Value::take) {
                items.extend(found);
            }
            let next = page.get("nextCursor").and_then(Value::as_str).map(str::to_owned);
            if next.is_none() {
                return Ok(items);
            }
            if items.len() > MAX_ITEMS || next == cursor {
                break;
            }
            cursor = next;
        }
        Err(McpError::Protocol(format!(
            "{method}: the server kept paging (over {MAX_PAGES} pages, {MAX_ITEMS} items, or the same cursor twice)"
        )))
    }

    /// Every tool.
    pub async fn list_tools(&self, timeout: Duration) -> Result<Vec<McpTool>, McpError> {
        let tools = self.list_all("tools/list", "tools", timeout).await?;
        Ok(tools
            .iter()
            .filter_map(|t| {
                Some(McpTool {
                    name: t.get("name")?.as_str()?.to_owned(),
                    description: t.get("description").and_then(Value::as_str).unwrap_or_default().to_owned(),
                    input_schema: t.get("inputSchema").cloned().unwrap_or_else(|| json!({"type": "object"})),
                    read_only: t.pointer("/annotations/readOnlyHint").and_then(Value::as_bool).unwrap_or(false),
                })
            })
            .collect())
    }

    /// Calls a tool; returns its text content and whether the server flagged an error.
    pub async fn call_tool(&self, name: &str, args: Value, timeout: Duration) -> Result<(String, bool), McpError> {
        let result = self.request("tools/call", json!({"name": name, "arguments": args}), timeout).await?;
        let is_error = result.get("isError").and_then(Value::as_bool).unwrap_or(false);
        let text = content_text(&result);
        Ok((text, is_error))
    }

    /// Prompts, as `(name, description, [(argument, required)])`.
    pub async fn list_prompts(
        &self,
        timeout: Duration,
    ) -> Result<Vec<(String, String, Vec<(String, bool)>)>, McpError> {
        let prompts = self.list_all("prompts/list", "prompts", timeout).await?;
        Ok(prompts
            .iter()
            .filter_map(|p| {
                let name = p.get("name")?.as_str()?.to_owned();
                let description = p.get("description").and_then(Value::as_str).unwrap_or_default().to_owned();
                let args = p
                    .get("arguments")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|a| {
                        Some((
                            a.get("name")?.as_str()?.to_owned(),
                            a.get("required").and_then(Value::as_bool).unwrap_or(false),
                        ))
                    })
                    .collect();
                Some((name, description, args))
            })
            .collect())
    }

    /// A prompt's messages, as text to send in the user's place.
    pub async fn get_prompt(&self, name: &str, args: Value, timeout: Duration) -> Result<String, McpError> {
        let result = self.request("prompts/get", json!({"name": name, "arguments": args}), timeout).await?;
        Ok(result
            .get("messages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|m| m.pointer("/content/text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n\n"))
    }

    /// Resources, as `(uri, name, description)`.
    pub async fn list_resources(&self, timeout: Duration) -> Result<Vec<(String, String, String)>, McpError> {
        let resources = self.list_all("resources/list", "resources", timeout).await?;
        Ok(resources
            .iter()
            .filter_map(|r| {
                Some((
                    r.get("uri")?.as_str()?.to_owned(),
                    r.get("name").and_then(Value::as_str).unwrap_or_default().to_owned(),
                    r.get("description").and_then(Value::as_str).unwrap_or_default().to_owned(),
                ))
            })
            .collect())
    }

    /// A resource's text contents.
    pub async fn read_resource(&self, uri: &str, timeout: Duration) -> Result<String, McpError> {
        let result = self.request("resources/read", json!({"uri": uri}), timeout).await?;
        Ok(result
            .get("contents")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| c.get("text").and_then(Value::as_str).unwrap_or("[binary content]"))
            .collect::<Vec<_>>()
            .join("\n"))
    }

    pub async fn ping(&self, timeout: Duration) -> Result<(), McpError> {
        self.request("ping", json!({}), timeout).await.map(|_| ())
    }
}

async fn write_loop(mut input: impl AsyncWrite + Unpin, mut rx: mpsc::Receiver<Vec<u8>>) {
    while let Some(line) = rx.recv().await {
        if input.write_all(&line).await.is_err() || input.flush().await.is_err() {
            return;
        }
    }
    // Closing stdin asks a well-behaved server to exit.
    let _ = input.shutdown().await;
}

/// What the reader task needs to answer and route messages.
struct Reader {
    name: String,
    outbox: mpsc::Sender<Vec<u8>>,
    pending: Pending,
    events: mpsc::UnboundedSender<ServerEvent>,
}

async fn read_loop(
    r: Reader,
    mut output: impl AsyncRead + Unpin,
    garbage: Arc<AtomicU32>,
    closed: Arc<Mutex<Option<String>>>,
) {
    let Reader { name, outbox, pending, events } = r;
    let mut lines = LineBuffer::new(MAX_LINE);
    let mut chunk = vec![0u8; 64 * 1024];
    let reason = 'outer: loop {
        while let Some(line) = lines.next_line() {
            let line = match line {
                Ok(line) => line,
                Err(_) => break 'outer format!("wrote a line over {} MiB (flooding)", MAX_LINE >> 20),
            };
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Value>(&line) {
                Ok(message) if message.is_object() => handle(message, &outbox, &pending, &events).await,
                _ => {
                    let count = garbage.fetch_add(1, Ordering::Relaxed) + 1;
                    tracing::warn!(plugin = %name, line = %String::from_utf8_lossy(&line[..line.len().min(120)]), "plugin wrote a line that is not JSON-RPC");
                    if count >= GARBAGE_LIMIT {
                        break 'outer format!("wrote {count} lines that are not JSON-RPC");
                    }
                }
            }
        }
        match output.read(&mut chunk).await {
            Ok(0) => break "exited (its stdout closed)".to_owned(),
            Ok(n) => lines.extend(&chunk[..n]),
            Err(e) => break format!("its stdout failed: {e}"),
        }
    };
    if let Ok(mut c) = closed.lock() {
        *c = Some(reason.clone());
    }
    if let Ok(mut pending) = pending.lock() {
        for (_, waiter) in pending.drain() {
            let _ = waiter.send(Err(McpError::Closed(reason.clone())));
        }
    }
    let _ = events.send(ServerEvent::Closed(reason));
}

/// One message from the server: a response, a request of its own, or a notification.
async fn handle(
    message: Value,
    outbox: &mpsc::Sender<Vec<u8>>,
    pending: &Pending,
    events: &mpsc::UnboundedSender<ServerEvent>,
) {
    let method = message.get("method").and_then(Value::as_str);
    let id = message.get("id").cloned();
    match (method, id) {
        (None, Some(id)) => {
            let Some(id) = id.as_i64() else { return };
            let waiter = pending.lock().ok().and_then(|mut p| p.remove(&id));
            let Some(waiter) = waiter else { return };
            let answer = match (message.get("result"), message.get("error")) {
                (Some(result), _) => Ok(result.clone()),
                (None, Some(error)) => Err(McpError::Rpc {
                    method: String::new(),
                    code: error.get("code").and_then(Value::as_i64).unwrap_or(0),
                    message: error.get("message").and_then(Value::as_str).unwrap_or_default().to_owned(),
                }),
                (None, None) => Err(McpError::Protocol("a response with neither result nor error".into())),
            };
            let _ = waiter.send(answer);
        }
        (Some(method), Some(id)) => {
            // The server's own requests: answer the ones a host must, refuse the rest.
            let Ok(id) = serde_json::from_value::<Id>(id) else { return };
            let reply = match method {
                "ping" => Response::ok(id, json!({})),
                "roots/list" => Response::ok(id, json!({"roots": []})),
                other => Response::err(Some(id), ErrorObject::method_not_found(other)),
            };
            let _ = outbox.send(encode_line(&reply)).await;
        }
        (Some(method), None) => {
            let event = match method {
                "notifications/tools/list_changed" => Some(ServerEvent::ToolsChanged),
                "notifications/prompts/list_changed" => Some(ServerEvent::PromptsChanged),
                "notifications/resources/list_changed" => Some(ServerEvent::ResourcesChanged),
                "notifications/message" => Some(ServerEvent::Log(log_line(message.get("params")))),
                _ => None,
            };
            if let Some(event) = event {
                let _ = events.send(event);
            }
        }
        (None, None) => {}
    }
}

#[cfg(test)]
mod tests;
