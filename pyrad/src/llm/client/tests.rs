//! The HTTP side against a loopback server that misbehaves on cue: errors,
//! 429 with Retry-After, malformed SSE, a cut stream, a slow stream, a dead port.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;
use crate::llm::{Message, presets::Wire};

/// One canned answer of the fault server.
enum Canned {
    Status {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// SSE chunks, each after a pause; the connection closes after the last.
    Stream(Vec<(u64, String)>),
}

struct FaultServer {
    url: String,
    requests: Arc<AtomicUsize>,
    bodies: Arc<Mutex<Vec<String>>>,
}

async fn serve(script: Vec<Canned>) -> FaultServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let script = Arc::new(Mutex::new(VecDeque::from(script)));
    let (count, seen) = (requests.clone(), bodies.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (script, count, seen) = (script.clone(), count.clone(), seen.clone());
            tokio::spawn(async move {
                let body = read_request(&mut socket).await;
                count.fetch_add(1, Ordering::SeqCst);
                seen.lock().unwrap().push(body);
                let next = script.lock().unwrap().pop_front();
                match next {
                    Some(Canned::Status { status, headers, body }) => {
                        let mut head =
                            format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
                        for (k, v) in headers {
                            head.push_str(&format!("{k}: {v}\r\n"));
                        }
                        head.push_str("\r\n");
                        let _ = socket.write_all(head.as_bytes()).await;
                        let _ = socket.write_all(body.as_bytes()).await;
                    }
                    Some(Canned::Stream(chunks)) => {
                        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
                        let _ = socket.write_all(head.as_bytes()).await;
                        for (pause, chunk) in chunks {
                            tokio::time::sleep(Duration::from_millis(pause)).await;
                            if socket.write_all(chunk.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                    }
                    None => {}
                }
                let _ = socket.shutdown().await;
            });
        }
    });
    FaultServer { url, requests, bodies }
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> String {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = socket.read(&mut buf).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                // The head (lower-cased) and the body, separated by a blank line.
                return format!("{head}\n\n{}", String::from_utf8_lossy(&data[end + 4..end + 4 + length]));
            }
        }
    }
    String::new()
}

fn sse(value: serde_json::Value) -> String {
    format!("data: {value}\n\n")
}

fn text_chunk(text: &str) -> String {
    sse(json!({"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]}))
}

fn stop_chunk() -> String {
    sse(json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
}

fn good_stream() -> Canned {
    Canned::Stream(vec![
        (0, text_chunk("Hi")),
        (0, text_chunk(" there")),
        (0, stop_chunk()),
        (0, "data: [DONE]\n\n".into()),
    ])
}

fn endpoint(url: &str) -> Endpoint {
    let mut e = Endpoint::new(Wire::OpenAi, format!("{url}/v1"));
    e.backoff = Duration::from_millis(10);
    e.read_timeout = Duration::from_secs(5);
    e
}

fn request() -> ChatRequest {
    ChatRequest {
        model: "m".into(),
        system: String::new(),
        messages: vec![Message::user("hi")],
        tools: vec![],
        max_tokens: 64,
    }
}

async fn call(endpoint: &Endpoint) -> (Result<Assembler, (LlmError, Assembler)>, Vec<StreamEvent>) {
    let client = http_client(endpoint).unwrap();
    let mut seen = Vec::new();
    let result = stream(&client, endpoint, Some("sk-test"), &request(), |e| seen.push(e.clone())).await;
    (result, seen)
}

#[tokio::test]
async fn a_good_stream_delivers_each_delta_as_it_comes() {
    let server = serve(vec![good_stream()]).await;
    let (result, seen) = call(&endpoint(&server.url)).await;
    let asm = result.map_err(|(e, _)| e).unwrap();
    assert_eq!(asm.text, "Hi there");
    assert_eq!(seen[0], StreamEvent::Text("Hi".into()));
    let request = server.bodies.lock().unwrap()[0].clone();
    assert!(request.contains("authorization: bearer sk-test"), "{request}");
    let body: serde_json::Value = serde_json::from_str(request.split("\n\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["stream"], true);
    assert_eq!(body["messages"][0]["content"], "hi");
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff() {
    let failing =
        |status| Canned::Status { status, headers: vec![], body: "{\"error\":{\"message\":\"boom\"}}".into() };
    let server = serve(vec![failing(500), failing(503), good_stream()]).await;
    let (result, _) = call(&endpoint(&server.url)).await;
    assert_eq!(result.map_err(|(e, _)| e).unwrap().text, "Hi there");
    assert_eq!(server.requests.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn retry_after_is_honoured_over_the_backoff() {
    let limited = Canned::Status {
        status: 429,
        headers: vec![("Retry-After", "0.05".into())],
        body: "{\"error\":{\"message\":\"slow down\"}}".into(),
    };
    let server = serve(vec![limited, good_stream()]).await;
    let mut e = endpoint(&server.url);
    // Without Retry-After the retry would wait 10 minutes and the timeout below would fire.
    e.backoff = Duration::from_secs(600);
    e.max_backoff = Duration::from_secs(600);
    let (result, _) = tokio::time::timeout(Duration::from_secs(30), call(&e)).await.expect("Retry-After was ignored");
    assert_eq!(result.map_err(|(e, _)| e).unwrap().text, "Hi there");
    assert_eq!(server.requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn giving_up_after_max_attempts_reports_the_last_error() {
    let limited =
        || Canned::Status { status: 429, headers: vec![], body: "{\"error\":{\"message\":\"quota\"}}".into() };
    let server = serve(vec![limited(), limited(), limited()]).await;
    let mut e = endpoint(&server.url);
    e.max_attempts = 3;
    let (result, _) = call(&e).await;
    assert!(matches!(result, Err((LlmError::RateLimited(ref d), _)) if d == "quota"), "{:?}", result.err());
    assert_eq!(server.requests.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_rejected_key_fails_at_once_with_a_clear_line() {
    let denied =
        Canned::Status { status: 401, headers: vec![], body: "{\"error\":{\"message\":\"Incorrect API key\"}}".into() };
    let server = serve(vec![denied, good_stream()]).await;
    let (result, _) = call(&endpoint(&server.url)).await;
    let (error, _) = result.err().unwrap();
    assert_eq!(error, LlmError::Auth("Incorrect API key".into()));
    assert_eq!(server.requests.load(Ordering::SeqCst), 1, "no retry on 401");
}

#[tokio::test]
async fn malformed_sse_is_an_error_that_keeps_what_came_before() {
    let server = serve(vec![Canned::Stream(vec![(0, text_chunk("Par")), (0, "data: {oops\n\n".into())])]).await;
    let (result, _) = call(&endpoint(&server.url)).await;
    let (error, partial) = result.err().unwrap();
    assert!(matches!(error, LlmError::Malformed(_)), "{error:?}");
    assert_eq!(partial.text, "Par");
}

#[tokio::test]
async fn a_cut_stream_is_reported_with_the_partial_answer() {
    let server = serve(vec![Canned::Stream(vec![(0, text_chunk("Half")), (0, text_chunk(" an answ"))])]).await;
    let (result, seen) = call(&endpoint(&server.url)).await;
    let (error, partial) = result.err().unwrap();
    assert_eq!(error, LlmError::Cut);
    assert_eq!(partial.text, "Half an answ");
    assert_eq!(seen.len(), 2);
}

#[tokio::test]
async fn a_slow_stream_is_followed_to_the_end() {
    let mut chunks: Vec<(u64, String)> = (0..8).map(|i| (40, text_chunk(&format!("w{i} ")))).collect();
    chunks.push((40, stop_chunk()));
    let server = serve(vec![Canned::Stream(chunks)]).await;
    let mut e = endpoint(&server.url);
    // Each gap is shorter than the read timeout; the whole stream is longer.
    e.read_timeout = Duration::from_millis(250);
    let (result, seen) = call(&e).await;
    let asm = result.map_err(|(e, _)| e).unwrap();
    assert_eq!(asm.text, "w0 w1 w2 w3 w4 w5 w6 w7 ");
    assert_eq!(seen.iter().filter(|e| matches!(e, StreamEvent::Text(_))).count(), 8);
}

#[tokio::test]
async fn a_stream_that_goes_silent_is_cut_by_the_read_timeout() {
    let server = serve(vec![Canned::Stream(vec![(0, text_chunk("Hello")), (60_000, stop_chunk())])]).await;
    let mut e = endpoint(&server.url);
    e.read_timeout = Duration::from_millis(200);
    let (result, _) = tokio::time::timeout(Duration::from_secs(30), call(&e)).await.expect("the read timeout fired");
    let (error, partial) = result.err().unwrap();
    assert_eq!(error, LlmError::Cut);
    assert_eq!(partial.text, "Hello");
}

#[tokio::test]
async fn an_unreachable_host_names_the_host() {
    // Bind and drop a listener to get a port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    let mut e = endpoint(&format!("http://127.0.0.1:{port}"));
    e.max_attempts = 2;
    let (result, _) = call(&e).await;
    let (error, _) = result.err().unwrap();
    assert!(matches!(&error, LlmError::Unreachable { host, .. } if host == &format!("127.0.0.1:{port}")), "{error:?}");
    assert!(!error.to_string().contains('\n'));
}

#[tokio::test]
async fn anthropic_calls_send_its_headers_and_read_its_events() {
    let events = [
        (
            "message_start",
            json!({"type": "message_start", "message": {"usage": {"input_tokens": 5, "output_tokens": 1}}}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Bonjour"}}),
        ),
        (
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}}),
        ),
        ("message_stop", json!({"type": "message_stop"})),
    ];
    let chunks = events.iter().map(|(name, data)| (0, format!("event: {name}\ndata: {data}\n\n"))).collect();
    let server = serve(vec![Canned::Stream(chunks)]).await;
    let mut e = endpoint(&server.url);
    e.wire = Wire::Anthropic;
    e.base_url = server.url.clone();
    let (result, _) = call(&e).await;
    let asm = result.map_err(|(e, _)| e).unwrap();
    assert_eq!(asm.text, "Bonjour");
    assert_eq!(asm.usage.input_tokens, 5);
    let request = server.bodies.lock().unwrap()[0].clone();
    assert!(request.starts_with("post /v1/messages "), "{request}");
    assert!(request.contains("x-api-key: sk-test") && request.contains("anthropic-version: 2023-06-01"), "{request}");
    assert!(!request.contains("authorization"), "{request}");
}

#[tokio::test]
async fn a_key_echoed_by_the_provider_never_reaches_the_error() {
    let body = "{\"error\":{\"message\":\"Incorrect API key provided: sk-test\"}}";
    let server = serve(vec![Canned::Status { status: 401, headers: vec![], body: body.into() }]).await;
    let (result, _) = call(&endpoint(&server.url)).await;
    let (error, _) = result.err().unwrap();
    let line = error.to_string();
    assert!(!line.contains("sk-test"), "{line}");
    assert!(line.contains("[redacted]"), "{line}");
}

#[tokio::test]
async fn an_empty_key_is_never_sent_as_an_empty_authorization_header() {
    for wire in [Wire::OpenAi, Wire::Anthropic] {
        for key in ["", "  "] {
            let server = serve(vec![good_stream()]).await;
            let mut endpoint = endpoint(&server.url);
            endpoint.wire = wire;
            let client = http_client(&endpoint).unwrap();
            let _ = stream(&client, &endpoint, Some(key), &request(), |_| {}).await;
            let request = server.bodies.lock().unwrap()[0].clone();
            let head = request.split("\n\n").next().unwrap();
            assert!(!head.contains("authorization:") && !head.contains("x-api-key:"), "{wire:?} {key:?}: {head}");
        }
    }
}
