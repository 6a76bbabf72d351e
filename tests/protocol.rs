//! The protocol under abuse: a table of malformed and hostile inputs, each
//! answered as docs/PROTOCOL.md specifies, while another client keeps being served.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::io::Write;

use pyra_tests::*;
use serde_json::{Value, json};

/// What a case expects back, in order.
#[derive(Debug, Clone)]
enum Expect {
    /// An error response with this code and this id (`Value::Null` for none).
    Error(i64, Value),
    /// A successful response with this id.
    Ok(Value),
    /// A response with this id, either a result or a duplicate-id error.
    OkOrDuplicate(Value),
}

struct Case {
    name: &'static str,
    /// Say hello before sending `bytes`.
    greet: bool,
    bytes: Vec<u8>,
    /// Close our writing side after sending.
    half_close: bool,
    expect: Vec<Expect>,
    /// The daemon closes the connection afterwards; otherwise it must stay usable.
    closes: bool,
}

fn case(name: &'static str, greet: bool, bytes: impl Into<Vec<u8>>, expect: Vec<Expect>, closes: bool) -> Case {
    Case { name, greet, bytes: bytes.into(), half_close: false, expect, closes }
}

fn line(v: Value) -> Vec<u8> {
    let mut out = serde_json::to_vec(&v).unwrap();
    out.push(b'\n');
    out
}

fn hello_with(params: Value) -> Vec<u8> {
    line(json!({"jsonrpc": "2.0", "id": 1, "method": "hello", "params": params}))
}

fn cases() -> Vec<Case> {
    use Expect::*;
    let null = Value::Null;
    let status = |id: i64| line(json!({"jsonrpc": "2.0", "id": id, "method": "daemon.status"}));
    let mut two_mib = vec![b'x'; 2 << 20];
    two_mib.push(b'\n');
    let deep = format!("{}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let mut duplicate = status(5);
    duplicate.extend(status(5));
    let mut many = Vec::new();
    for id in 0..50 {
        many.extend(status(100 + id));
    }
    let mut cases = vec![
        case(
            "invalid UTF-8",
            true,
            b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\xfe\"}\n".to_vec(),
            vec![Error(-32700, null.clone())],
            false,
        ),
        case(
            "truncated JSON",
            true,
            b"{\"jsonrpc\":\"2.0\",\"id\":1,\n".to_vec(),
            vec![Error(-32700, null.clone())],
            false,
        ),
        case("plain garbage", true, b"hello there\n".to_vec(), vec![Error(-32700, null.clone())], false),
        case("NUL bytes", true, b"\0\0{\"jsonrpc\":\"2.0\"}\0\n".to_vec(), vec![Error(-32700, null.clone())], false),
        case("deep nesting", true, deep.into_bytes(), vec![Error(-32700, null.clone())], false),
        case(
            "a JSON array (batch)",
            true,
            b"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"daemon.status\"}]\n".to_vec(),
            vec![Error(-32600, null.clone())],
            false,
        ),
        case("a bare number", true, b"42\n".to_vec(), vec![Error(-32600, null.clone())], false),
        case(
            "missing jsonrpc",
            true,
            line(json!({"id": 7, "method": "daemon.status"})),
            vec![Error(-32600, json!(7))],
            false,
        ),
        case(
            "jsonrpc 1.0",
            true,
            line(json!({"jsonrpc": "1.0", "id": 8, "method": "daemon.status"})),
            vec![Error(-32600, json!(8))],
            false,
        ),
        case(
            "method of the wrong type",
            true,
            line(json!({"jsonrpc": "2.0", "id": 9, "method": ["daemon.status"]})),
            vec![Error(-32600, json!(9))],
            false,
        ),
        case(
            "id of the wrong type",
            true,
            line(json!({"jsonrpc": "2.0", "id": {"n": 1}, "method": "daemon.status"})),
            vec![Error(-32600, null.clone())],
            false,
        ),
        case(
            "params of the wrong type",
            true,
            line(json!({"jsonrpc": "2.0", "id": 10, "method": "daemon.status", "params": 3})),
            vec![Error(-32600, json!(10))],
            false,
        ),
        case(
            "a response instead of a request",
            true,
            line(json!({"jsonrpc": "2.0", "id": 11, "result": {}})),
            vec![Error(-32600, json!(11))],
            false,
        ),
        case(
            "unknown method",
            true,
            line(json!({"jsonrpc": "2.0", "id": 12, "method": "daemon.explode"})),
            vec![Error(-32601, json!(12))],
            false,
        ),
        case(
            "bad params",
            true,
            line(json!({"jsonrpc": "2.0", "id": 13, "method": "daemon.status", "params": {"verbose": true}})),
            vec![Error(-32602, json!(13))],
            false,
        ),
        case(
            "a second hello",
            true,
            hello_with(json!({"protocol": "pyra", "version": 1, "client": "t"})),
            vec![Error(-32600, json!(1))],
            false,
        ),
        case("duplicate ids", true, duplicate, vec![OkOrDuplicate(json!(5)), OkOrDuplicate(json!(5))], false),
        case(
            "string id echoed",
            true,
            line(json!({"jsonrpc": "2.0", "id": "abc", "method": "daemon.status"})),
            vec![Ok(json!("abc"))],
            false,
        ),
        case(
            "blank lines and CRLF",
            true,
            b"\n  \r\n{\"jsonrpc\":\"2.0\",\"id\":14,\"method\":\"daemon.status\"}\r\n".to_vec(),
            vec![Ok(json!(14))],
            false,
        ),
        case("a 2 MiB line", true, two_mib, vec![Error(-32600, null.clone())], true),
        case("a request before hello", false, status(15), vec![Error(-32001, json!(15))], true),
        case(
            "a notification before hello",
            false,
            line(json!({"jsonrpc": "2.0", "method": "daemon.status"})),
            vec![Error(-32001, null.clone())],
            true,
        ),
        case(
            "hello with another version",
            false,
            hello_with(json!({"protocol": "pyra", "version": 999, "client": "t"})),
            vec![Error(-32002, json!(1))],
            true,
        ),
        case(
            "hello with another protocol",
            false,
            hello_with(json!({"protocol": "lsp", "version": 1, "client": "t"})),
            vec![Error(-32002, json!(1))],
            true,
        ),
        case(
            "hello without params",
            false,
            line(json!({"jsonrpc": "2.0", "id": 1, "method": "hello"})),
            vec![Error(-32602, json!(1))],
            true,
        ),
        case("a parse error before hello", false, b"{oops\n".to_vec(), vec![Error(-32700, null.clone())], false),
    ];
    let mut many_expect = Vec::new();
    for id in 0..50 {
        many_expect.push(Ok(json!(100 + id)));
    }
    cases.push(case("50 requests in flight at once", true, many, many_expect, false));
    let mut eof = case(
        "EOF without a newline",
        true,
        b"{\"jsonrpc\":\"2.0\",\"id\":16,\"method\":\"daemon.status\"}".to_vec(),
        vec![Ok(json!(16))],
        true,
    );
    eof.half_close = true;
    cases.push(eof);
    cases
}

fn check_response(case: &str, got: &Value, expect: &Expect) {
    assert_eq!(got["jsonrpc"], "2.0", "{case}: {got}");
    match expect {
        Expect::Error(code, id) => {
            assert_eq!(error_code(got), Some(*code), "{case}: {got}");
            assert_eq!(&got["id"], id, "{case}: {got}");
            assert!(got["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{case}: no message");
        }
        Expect::Ok(id) => {
            assert_eq!(&got["id"], id, "{case}: {got}");
            assert!(got.get("result").is_some(), "{case}: {got}");
        }
        Expect::OkOrDuplicate(id) => {
            assert_eq!(&got["id"], id, "{case}: {got}");
            assert!(got.get("result").is_some() || error_code(got) == Some(-32600), "{case}: {got}");
        }
    }
}

#[test]
fn malformed_inputs_are_answered_as_specified_while_others_are_served() {
    let home = TestHome::new();
    let pyrad = Pyrad::start(&home);
    let mut bystander = pyrad.client();
    let cases = cases();
    assert!(cases.len() >= 20);
    for case in cases {
        let mut client = RawClient::connect(&pyrad.socket);
        if case.greet {
            assert!(client.hello().get("result").is_some(), "{}: hello", case.name);
        }
        if let Err(e) = client.try_send_raw(&case.bytes) {
            assert!(case.closes, "{}: write failed on a connection that should stay open: {e}", case.name);
        }
        if case.half_close {
            client.stream.shutdown(std::net::Shutdown::Write).unwrap();
        }
        let mut got: Vec<Value> = (0..case.expect.len()).map(|_| client.recv_message()).collect();
        // Concurrent responses may come in any order; match them by id.
        if case.expect.iter().all(|e| matches!(e, Expect::Ok(_))) {
            got.sort_by_key(|v| v["id"].to_string());
        }
        let mut expect = case.expect.clone();
        if expect.iter().all(|e| matches!(e, Expect::Ok(_))) {
            expect.sort_by_key(|e| match e {
                Expect::Ok(id) => id.to_string(),
                _ => String::new(),
            });
        }
        for (got, expect) in got.iter().zip(&expect) {
            check_response(case.name, got, expect);
        }
        if case.closes {
            assert!(client.is_closed(), "{}: the connection should close", case.name);
        } else {
            let after = client.call("daemon.status", json!({}));
            if case.greet {
                assert!(after.get("result").is_some(), "{}: connection not usable after: {after}", case.name);
            } else {
                // Not greeted yet: the follow-up is a request before hello.
                assert_eq!(error_code(&after), Some(-32001), "{}: {after}", case.name);
            }
        }
        let status = bystander.result("daemon.status", json!({}));
        assert_eq!(status["pid"], pyrad.pid(), "{}: the bystander was not served", case.name);
    }
}

#[test]
fn responses_interleave_across_many_connections() {
    let home = TestHome::new();
    let pyrad = Pyrad::start(&home);
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let socket = pyrad.socket.clone();
            std::thread::spawn(move || {
                let mut client = RawClient::connect(&socket);
                client.hello();
                for _ in 0..50 {
                    client.result("daemon.status", json!({}));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a client thread failed");
    }
}

#[test]
fn when_every_slot_is_taken_the_longest_idle_connection_makes_room() {
    let home = TestHome::new();
    let options = PyradOptions { env: vec![("PYRA__IPC__MAX_CONNECTIONS".into(), "2".into())] };
    let pyrad = Pyrad::start_with(&home, options);
    let mut a = pyrad.client();
    std::thread::sleep(std::time::Duration::from_millis(50));
    let mut b = pyrad.client();
    b.result("daemon.status", json!({}));
    // A third client is served; the one quiet longest (a) is told why and closed.
    let mut c = pyrad.client();
    c.result("daemon.status", json!({}));
    let told = a.recv_message();
    assert_eq!(error_code(&told), Some(-32004), "{told}");
    assert!(told["error"]["message"].as_str().unwrap().contains("idle longest"), "{told}");
    assert!(a.is_closed());
    b.result("daemon.status", json!({}));
}

#[test]
fn connections_that_never_say_hello_are_closed_and_cannot_lock_pyractl_out() {
    let home = TestHome::new();
    let options = PyradOptions {
        env: vec![
            ("PYRA__IPC__MAX_CONNECTIONS".into(), "4".into()),
            ("PYRA__IPC__HELLO_TIMEOUT_SECS".into(), "1".into()),
        ],
    };
    let pyrad = Pyrad::start_with(&home, options);
    let mut silent: Vec<RawClient> = (0..4).map(|_| RawClient::connect(&pyrad.socket)).collect();
    for client in &mut silent {
        let told = client.recv_message();
        assert!(told["error"]["message"].as_str().unwrap().contains("no hello within 1 s"), "{told}");
        assert!(client.is_closed());
    }
    let (code, out, err) = pyractl_with_input(&home, &["status"], "");
    assert_eq!(code, Some(0), "{out}{err}");
}

#[test]
fn a_client_that_vanishes_mid_request_does_not_hurt_the_daemon() {
    let home = TestHome::new();
    let pyrad = Pyrad::start(&home);
    for _ in 0..20 {
        let mut client = pyrad.client();
        let mut burst = Vec::new();
        for id in 0..100 {
            burst.extend(line(json!({"jsonrpc": "2.0", "id": id, "method": "daemon.status"})));
        }
        client.stream.write_all(&burst).unwrap();
        drop(client);
    }
    pyrad.client().result("daemon.status", json!({}));
}
