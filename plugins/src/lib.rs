//! The smallest useful MCP server over stdio, shared by Pyra's bundled plugins:
//! read one JSON-RPC message per line, answer `initialize`, `tools/list`,
//! `tools/call` and `ping`, refuse the rest. A plugin supplies its tools.
//! Standard output carries protocol lines only; diagnostics go to stderr.

use std::io::{BufRead, Write};

use serde_json::{Value, json};

/// A tool's body: arguments in, text out (an `Err` is reported with `isError`).
pub type Run = Box<dyn Fn(&Value) -> Result<String, String>>;

/// One tool: its name, description, JSON Schema, whether it only reads, and its body.
pub struct ToolDef {
    pub name: &'static str,
    pub description: &'static str,
    pub schema: Value,
    pub read_only: bool,
    pub run: Run,
}

/// Serves `tools` on stdin/stdout until stdin closes.
pub fn serve(name: &str, instructions: &str, tools: Vec<ToolDef>) {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let Ok(message) = serde_json::from_str::<Value>(&line) else {
            eprintln!("{name}: ignoring a line that is not JSON");
            continue;
        };
        let Some(id) = message.get("id").cloned() else { continue };
        let method = message.get("method").and_then(Value::as_str).unwrap_or_default();
        let result = match method {
            "initialize" => Ok(json!({
                "protocolVersion": message.pointer("/params/protocolVersion").cloned().unwrap_or(json!("2025-06-18")),
                "capabilities": {"tools": {}},
                "serverInfo": {"name": name, "version": env!("CARGO_PKG_VERSION")},
                "instructions": instructions,
            })),
            "tools/list" => Ok(json!({"tools": tools.iter().map(|t| json!({
                "name": t.name,
                "description": t.description,
                "inputSchema": t.schema,
                "annotations": {"readOnlyHint": t.read_only},
            })).collect::<Vec<_>>()})),
            "tools/call" => {
                let tool = message.pointer("/params/name").and_then(Value::as_str).unwrap_or_default();
                let args = message.pointer("/params/arguments").cloned().unwrap_or(json!({}));
                let outcome = match tools.iter().find(|t| t.name == tool) {
                    Some(t) => (t.run)(&args),
                    None => Err(format!("unknown tool {tool:?}")),
                };
                let (text, is_error) = match outcome {
                    Ok(text) => (text, false),
                    Err(text) => (text, true),
                };
                Ok(json!({"content": [{"type": "text", "text": text}], "isError": is_error}))
            }
            "ping" => Ok(json!({})),
            other => Err(json!({"code": -32601, "message": format!("{name} does not offer {other}")})),
        };
        let reply = match result {
            Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
            Err(error) => json!({"jsonrpc": "2.0", "id": id, "error": error}),
        };
        if writeln!(stdout, "{reply}").and_then(|()| stdout.flush()).is_err() {
            break;
        }
    }
}

/// A required string argument.
pub fn arg<'a>(args: &'a Value, key: &str) -> Result<&'a str, String> {
    args.get(key).and_then(Value::as_str).ok_or_else(|| format!("missing string argument {key:?}"))
}

/// Cuts `text` to `cap` characters with a marker.
pub fn cap(text: String, cap: usize) -> String {
    let total = text.chars().count();
    if total <= cap {
        return text;
    }
    let kept: String = text.chars().take(cap).collect();
    format!("{kept}\n[... {} more characters not shown]", total - cap)
}
