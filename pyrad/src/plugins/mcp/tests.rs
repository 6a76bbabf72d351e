//! The MCP client against real servers (server-everything from npm,
//! mcp-server-time from PyPI) and against a fixture that misbehaves on demand.

use std::path::PathBuf;
use std::time::Duration;

use super::*;
use crate::plugins::process::{PluginProcess, Spawn};

const T: Duration = Duration::from_secs(20);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn spawn(name: &str, command: &str, args: &[String]) -> Spawn {
    let path = std::env::var("PATH").unwrap_or_default();
    Spawn {
        name: name.into(),
        command: command.into(),
        args: args.to_vec(),
        dir: std::env::temp_dir(),
        env: vec![("PATH".into(), path)],
        cpu_secs: None,
        rlimits: None,
        cgroups: Vec::new(),
        output_per_sec: None,
    }
}

type Connected = (PluginProcess, Result<(McpClient, mpsc::UnboundedReceiver<ServerEvent>), McpError>);

/// Starts a server and initializes it. Real servers get 30 s: a Python one importing
/// its libraries on two loaded cores took over 5 s in CI-like runs.
async fn connect(s: &Spawn, logs: &std::path::Path) -> Connected {
    connect_within(s, logs, Duration::from_secs(30)).await
}

async fn connect_within(s: &Spawn, logs: &std::path::Path, initialize: Duration) -> Connected {
    let (process, stdin, stdout) = PluginProcess::start(s, logs).expect("the plugin starts");
    let client = McpClient::start(&s.name, stdin, stdout, initialize).await;
    (process, client)
}

fn everything() -> Spawn {
    let index = repo().join("tests/npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    assert!(index.exists(), "{} is missing: run tests/setup.sh", index.display());
    spawn("everything", "node", &[index.display().to_string(), "stdio".into()])
}

fn misbehave(mode: &str) -> Spawn {
    let script = repo().join("tests/fixtures/misbehave.py");
    spawn("misbehave", "python3", &[script.display().to_string(), mode.into()])
}

#[tokio::test]
async fn server_everything_lists_calls_and_announces_changes() {
    let logs = tempfile::tempdir().unwrap();
    let (_process, client) = connect(&everything(), logs.path()).await;
    let (client, mut events) = client.unwrap();
    assert_eq!(client.server.protocol_version, "2025-06-18");
    let tools = client.list_tools(T).await.unwrap();
    let echo = tools.iter().find(|t| t.name == "echo").expect("echo is listed");
    assert_eq!(echo.input_schema["properties"]["message"]["type"], "string");
    assert_eq!(client.call_tool("echo", json!({"message": "hi"}), T).await.unwrap(), ("Echo: hi".into(), false));
    let (text, is_error) = client.call_tool("no_such_tool", json!({}), T).await.unwrap();
    assert!(is_error, "{text}");
    // Content the model cannot read is named, not dropped.
    let (image, _) = client.call_tool("get-tiny-image", json!({}), T).await.unwrap();
    assert!(image.contains("[image: image/png, about "), "{image}");
    let (links, _) = client.call_tool("get-resource-links", json!({"count": 2}), T).await.unwrap();
    assert!(links.matches("[resource link ").count() == 2, "{links}");
    client.ping(T).await.unwrap();
    // It sends tools/list_changed during start-up.
    assert_eq!(tokio::time::timeout(T, events.recv()).await.unwrap(), Some(ServerEvent::ToolsChanged));
}

#[tokio::test]
async fn mcp_server_time_from_pypi_works_as_is() {
    let bin = repo().join("tests/.venv/bin/mcp-server-time");
    assert!(bin.exists(), "{} is missing: run tests/setup.sh", bin.display());
    let logs = tempfile::tempdir().unwrap();
    let (_process, client) = connect(&spawn("time", &bin.display().to_string(), &[]), logs.path()).await;
    let (client, _events) = client.unwrap();
    let tools = client.list_tools(T).await.unwrap();
    assert!(tools.iter().any(|t| t.name == "get_current_time"), "{tools:?}");
    let (text, is_error) = client.call_tool("get_current_time", json!({"timezone": "UTC"}), T).await.unwrap();
    assert!(!is_error && text.contains("UTC"), "{text}");
    let err = client.call_tool("no_such_tool", json!({}), T).await.unwrap_err();
    assert!(matches!(err, McpError::Rpc { .. }), "{err:?}");
}

#[tokio::test]
async fn a_good_fixture_adds_and_its_instructions_are_kept() {
    let logs = tempfile::tempdir().unwrap();
    let (_process, client) = connect(&misbehave("good"), logs.path()).await;
    let (client, _) = client.unwrap();
    assert_eq!(client.server.instructions.as_deref(), Some("Use add to add numbers."));
    assert_eq!(client.call_tool("add", json!({"a": 2, "b": 3}), T).await.unwrap().0, "5");
}

#[tokio::test]
async fn misbehaving_servers_are_named_and_contained() {
    let logs = tempfile::tempdir().unwrap();
    let (_p, exit) = connect(&misbehave("exit"), logs.path()).await;
    assert!(matches!(exit.err(), Some(McpError::Closed(ref r)) if r.contains("exited")));

    let (_p, version) = connect(&misbehave("version"), logs.path()).await;
    let err = version.err().unwrap();
    assert!(matches!(err, McpError::Protocol(ref m) if m.contains("1999-01-01")), "{err:?}");

    let (_p, hang) = connect_within(&misbehave("hang"), logs.path(), Duration::from_secs(5)).await;
    assert!(matches!(hang.err(), Some(McpError::Timeout { .. })));

    let (_p, garbage) = connect(&misbehave("garbage"), logs.path()).await;
    let (client, mut events) = garbage.unwrap();
    let closed = tokio::time::timeout(T, events.recv()).await.unwrap();
    assert!(matches!(closed, Some(ServerEvent::Closed(ref r)) if r.contains("not JSON-RPC")), "{closed:?}");
    assert!(client.garbage.load(Ordering::Relaxed) >= 10);
    assert!(matches!(client.ping(T).await, Err(McpError::Closed(_))), "a closed plugin fails at once");

    let (_p, flood) = connect(&misbehave("flood"), logs.path()).await;
    let (_client, mut events) = flood.unwrap();
    let closed = tokio::time::timeout(T, events.recv()).await.unwrap();
    assert!(matches!(closed, Some(ServerEvent::Closed(ref r)) if r.contains("flooding")), "{closed:?}");

    let (_p, crash) = connect(&misbehave("crash"), logs.path()).await;
    let (client, _) = crash.unwrap();
    let err = client.call_tool("add", json!({"a": 1, "b": 1}), T).await.unwrap_err();
    assert!(matches!(err, McpError::Closed(ref r) if r.contains("exited")), "{err:?}");
}

#[tokio::test]
async fn a_dropped_process_is_killed_with_its_group() {
    let logs = tempfile::tempdir().unwrap();
    let (process, _client) = connect_within(&misbehave("hang"), logs.path(), Duration::from_secs(1)).await;
    let pid = process.pid().unwrap() as i32;
    drop(process);
    let deadline = std::time::Instant::now() + T;
    // SAFETY: signal 0 only probes; waitpid reaps if it is ours.
    while unsafe { libc::kill(pid, 0) } == 0 {
        unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) };
        assert!(std::time::Instant::now() < deadline, "the plugin outlived its guard");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn mcp_server_fetch_from_pypi_fetches_a_loopback_page() {
    let bin = repo().join("tests/.venv/bin/mcp-server-fetch");
    assert!(bin.exists(), "{} is missing: run tests/setup.sh", bin.display());
    // A page on loopback, served once per connection.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/tea.html", listener.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = vec![0u8; 8192];
            let _ = socket.read(&mut buf).await;
            let body = "<html><body><h1>Tea</h1><p>Green tea is steeped at 80 degrees.</p></body></html>";
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(reply.as_bytes()).await;
        }
    });
    let logs = tempfile::tempdir().unwrap();
    let args = ["--ignore-robots-txt".to_owned(), "--allow-private-ips".to_owned()];
    let (_process, client) = connect(&spawn("fetch", &bin.display().to_string(), &args), logs.path()).await;
    let (client, _events) = client.unwrap();
    let tools = client.list_tools(T).await.unwrap();
    assert!(tools.iter().any(|t| t.name == "fetch"), "{tools:?}");
    let (text, is_error) = client.call_tool("fetch", json!({"url": url}), T).await.unwrap();
    assert!(!is_error, "{text}");
    assert!(text.contains("Green tea is steeped at 80 degrees"), "{text}");
}

#[tokio::test]
async fn a_call_given_up_is_cancelled_at_the_server() {
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("server.log");
    let mut s = misbehave("slowtool");
    s.env.push(("HOOK_LOG".into(), log.display().to_string()));
    let (_process, client) = connect(&s, logs.path()).await;
    let (client, _events) = client.unwrap();
    let client = std::sync::Arc::new(client);

    // A caller that drops the call (a cancelled turn) ...
    let dropped = {
        let client = client.clone();
        tokio::spawn(async move { client.call_tool("add", json!({}), T).await })
    };
    // ... once the request is surely on its way.
    tokio::time::sleep(Duration::from_millis(300)).await;
    dropped.abort();
    // A caller that times out.
    let late = client.call_tool("add", json!({}), Duration::from_millis(300)).await;
    assert!(matches!(late, Err(McpError::Timeout { .. })), "{late:?}");

    let deadline = std::time::Instant::now() + T;
    loop {
        let seen = std::fs::read_to_string(&log).unwrap_or_default();
        if seen.contains("cancelled by the user") && seen.contains("timed out") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the server was not told: {seen:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(client.pending.lock().unwrap().is_empty(), "nothing is left waiting");
    client.ping(T).await.unwrap();
}

#[tokio::test]
async fn lists_follow_pages_and_a_server_that_pages_forever_is_cut_off() {
    let logs = tempfile::tempdir().unwrap();
    let (_process, client) = connect(&misbehave("paged"), logs.path()).await;
    let (client, _events) = client.unwrap();
    let names: Vec<String> = client.list_tools(T).await.unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["add", "where", "settings"]);

    let (_process, client) = connect(&misbehave("cursorloop"), logs.path()).await;
    let (client, _events) = client.unwrap();
    let err = client.list_tools(T).await.unwrap_err();
    assert!(matches!(err, McpError::Protocol(ref m) if m.contains("kept paging")), "{err}");
    client.ping(T).await.unwrap();
}

#[test]
fn tool_results_read_as_text_for_the_model() {
    let result = json!({"content": [
        {"type": "text", "text": "Here it is:"},
        {"type": "image", "data": "AAAAAAAA", "mimeType": "image/png"},
        {"type": "resource", "resource": {"uri": "file:///a.txt", "text": "inside a.txt"}},
        {"type": "resource", "resource": {"uri": "file:///b.bin", "blob": "AAAA"}},
        {"type": "resource_link", "uri": "file:///c.md", "name": "c"},
    ]});
    assert_eq!(
        content_text(&result),
        "Here it is:\n[image: image/png, about 6 bytes, not shown]\ninside a.txt\n\
         [resource file:///b.bin: binary, about 3 bytes]\n[resource link file:///c.md (c)]"
    );
    let structured = json!({"content": [], "structuredContent": {"temperature": 21}});
    assert_eq!(content_text(&structured), r#"{"temperature":21}"#);
    assert_eq!(content_text(&json!({})), "");
}
