//! Secrets: stored over the socket, used for the provider call, and found in
//! plaintext nowhere: no file under PYRA_HOME, no log line, no answer.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use pyra_tests::*;
use serde_json::json;

const SECRET: &str = "sk-pyra-test-7c1f0e93b2d84a56-do-not-leak";

/// A provider that answers only requests carrying `Bearer SECRET`, and records
/// the Authorization headers it saw.
fn keyed_provider() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(20) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut auth = String::new();
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("authorization:") {
                    auth = line[line.len() - v.len()..].trim().to_owned();
                }
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            record.lock().unwrap().push(auth.clone());
            let reply = if auth == format!("Bearer {SECRET}") {
                let chunk = |delta: serde_json::Value, finish: Option<&str>| {
                    format!("data: {}\n\n", json!({"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}))
                };
                let body = format!(
                    "{}{}data: [DONE]\n\n",
                    chunk(json!({"content": "Authenticated."}), None),
                    chunk(json!({}), Some("stop"))
                );
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            } else {
                let body = r#"{"error":{"message":"Incorrect API key provided"}}"#;
                format!(
                    "HTTP/1.1 401 Unauthorized\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            };
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    (url, seen)
}

fn files_containing(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            } else if entry.file_type().unwrap().is_file()
                && std::fs::read(&path).unwrap().windows(needle.len()).any(|w| w == needle)
            {
                hits.push(path.display().to_string());
            }
        }
    }
    hits
}

#[test]
fn a_provider_key_is_used_but_never_found_in_plaintext() {
    let (url, seen) = keyed_provider();
    let home = TestHome::new();
    let mut options = PyradOptions::custom_provider(&url);
    // Log everything pyrad and its HTTP stack would ever say.
    options.env.push(("PYRA_LOG".into(), "trace".into()));
    let mut pyrad = Pyrad::start_with(&home, options);
    let mut client = pyrad.client();

    // Without the key, the provider's refusal is a clear line.
    let refused = client.call("chat.send", json!({"text": "hi"}));
    assert_eq!(error_code(&refused), Some(-32010), "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("rejected the API key"), "{refused}");

    client.result("vault.set", json!({"key": "provider:custom:api_key", "value": SECRET}));
    let names = client.result("vault.list", json!({}));
    assert_eq!(names, json!(["provider:custom:api_key"]));
    let answer = client.call("chat.send", json!({"text": "hi"}));
    assert_eq!(answer["result"]["text"], "Authenticated.", "{answer}");
    assert_eq!(seen.lock().unwrap().last().unwrap(), &format!("Bearer {SECRET}"), "the key was sent to the provider");

    let status = client.result("daemon.status", json!({}));
    assert!(!status.to_string().contains(SECRET));
    pyrad.signal(libc::SIGTERM);
    assert_eq!(pyrad.wait_exit().code(), Some(0));

    assert!(home.log().len() > 1000, "trace logging was on");
    let hits = files_containing(&home.path(), SECRET.as_bytes());
    assert!(hits.is_empty(), "the secret is in plaintext in {hits:?}");
    let hits = files_containing(&home.path(), b"provider:custom:api_key");
    assert!(hits.is_empty(), "even the key's name is encrypted, found in {hits:?}");

    // And it is still there after a restart.
    let pyrad = Pyrad::start(&home);
    assert_eq!(pyrad.client().result("vault.list", json!({})), json!(["provider:custom:api_key"]));
}

#[test]
fn a_keyed_preset_without_a_key_says_how_to_add_one() {
    let home = TestHome::new();
    let options = PyradOptions { env: vec![("PYRA__PROVIDER__PRESET".into(), "openai".into())] };
    let pyrad = Pyrad::start_with(&home, options);
    let mut client = pyrad.client();
    let response = client.call("chat.send", json!({"text": "hi"}));
    assert_eq!(error_code(&response), Some(-32006), "{response}");
    assert!(response["error"]["message"].as_str().unwrap().contains("provider:openai:api_key"), "{response}");
    let bad = client.call("vault.set", json!({"key": "bad key", "value": "x"}));
    assert_eq!(error_code(&bad), Some(-32602), "{bad}");
    assert_eq!(client.result("vault.delete", json!({"key": "nothing"}))["deleted"], false);
}
