//! Property tests of the line codec and of request parsing: fuzzing that runs on
//! stable Rust, inside `cargo test`. Each property states what must hold for any
//! input; proptest generates the inputs (random bytes, near-valid requests, chunked
//! streams, messages to encode) and shrinks a failure to a small example.
//!
//! The case counts keep the module to a few seconds in a debug build;
//! `PROPTEST_CASES=10000 cargo test -p pyra-proto fuzz` runs each property longer.

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use serde_json::{Map, Value, json};

use crate::codec::{ClientMessage, ServerMessage};
use crate::ipc::*;
use crate::rpc::*;
use crate::*;

/// Every method [`ClientRequest::parse`] knows.
const METHODS: &[&str] = &[
    Hello::NAME,
    DaemonStatus::NAME,
    DaemonShutdown::NAME,
    ChatSend::NAME,
    ChatCancel::NAME,
    ApprovalRespond::NAME,
    ApprovalPending::NAME,
    SecurityScan::NAME,
    SessionsList::NAME,
    SessionsGet::NAME,
    SessionsDelete::NAME,
    SessionsUndo::NAME,
    ProviderModels::NAME,
    ProviderCheck::NAME,
    ConfigReload::NAME,
    AuditList::NAME,
    MemoryList::NAME,
    MemoryRead::NAME,
    MemoryWrite::NAME,
    MemoryAppend::NAME,
    MemoryLog::NAME,
    MemoryRestore::NAME,
    VaultSet::NAME,
    VaultList::NAME,
    VaultDelete::NAME,
    BotsStatus::NAME,
    BotsReload::NAME,
    BotsPassphrase::NAME,
    PluginsList::NAME,
    PluginsCall::NAME,
    PluginsEnable::NAME,
    PluginsDisable::NAME,
    PluginsReload::NAME,
    PluginsInspect::NAME,
    PluginsInstall::NAME,
    PluginsUninstall::NAME,
    PluginsChanges::NAME,
    PluginsTrust::NAME,
    DaemonDoctor::NAME,
    SecurityAudit::NAME,
    PluginsGrant::NAME,
    PluginsRevoke::NAME,
    PluginsPrompts::NAME,
    PluginsPrompt::NAME,
    PluginsResources::NAME,
    PluginsResource::NAME,
    PluginsSetupInfo::NAME,
    PluginsConfigure::NAME,
];

/// The most an encoded error object may take, whatever the line it answers.
const ERROR_MAX_BYTES: usize = 8 * 1024;

/// Every event the daemon sends.
const EVENTS: &[&str] =
    &[DaemonStopping::NAME, ChatDelta::NAME, ChatTool::NAME, ChatWarning::NAME, ApprovalRequested::NAME];

/// Member names of the params structs, so random params often reach the typed decoding.
const FIELDS: &[&str] = &[
    "protocol",
    "version",
    "client",
    "session",
    "text",
    "attended",
    "id",
    "decision",
    "args_sha256",
    "scope",
    "texts",
    "limit",
    "name",
    "content",
    "key",
    "value",
    "passphrase",
    "tool",
    "args",
    "source",
    "sha256",
    "update",
    "uri",
    "values",
    "secrets",
    "arguments",
    "plugin",
];

/// Requests that `ClientRequest::parse` accepts, from `proto/golden/`.
const GOLDEN_REQUESTS: &[&str] = &[
    include_str!("../golden/approval.respond.request.json"),
    include_str!("../golden/chat.cancel.request.json"),
    include_str!("../golden/chat.send.request.json"),
    include_str!("../golden/daemon.shutdown.request.json"),
    include_str!("../golden/daemon.status.request.json"),
    include_str!("../golden/hello.request.json"),
    include_str!("../golden/plugins.call.request.json"),
    include_str!("../golden/plugins.install.request.json"),
    include_str!("../golden/security.scan.request.json"),
];

fn config(cases: u32) -> ProptestConfig {
    // `proptest!` passes this through `contextualize_config`, so PROPTEST_CASES
    // (and the other PROPTEST_* variables) still override it.
    ProptestConfig { cases, ..ProptestConfig::default() }
}

// ---------------------------------------------------------------------------
// Oracles: what must hold for any line.
// ---------------------------------------------------------------------------

/// The line as JSON, parsed independently of the codec; `None` when it is not UTF-8 JSON.
fn as_json(line: &[u8]) -> Option<Value> {
    serde_json::from_str(std::str::from_utf8(line).ok()?).ok()
}

/// An encoded line: newline-terminated, one line, valid JSON.
fn check_encoded(line: &[u8]) -> Result<Value, TestCaseError> {
    prop_assert_eq!(line.last(), Some(&b'\n'), "an encoded line ends with a newline");
    let body = &line[..line.len() - 1];
    prop_assert!(!body.contains(&b'\n'), "an encoded line holds no other newline");
    match as_json(body) {
        Some(v) => Ok(v),
        None => Err(TestCaseError::fail("an encoded line is not JSON")),
    }
}

/// A response line: encodes within the limit, and the client side decodes it back unchanged.
fn check_response(response: &Response) -> Result<(), TestCaseError> {
    let line = encode_line(response);
    check_encoded(&line)?;
    prop_assert!(line.len() - 1 < MAX_LINE_BYTES, "an answer of {} bytes does not fit in a line", line.len() - 1);
    let decoded = decode_server_line(&line[..line.len() - 1]);
    prop_assert_eq!(decoded, Ok(ServerMessage::Response(response.clone())), "a response decodes back as itself");
    Ok(())
}

/// A decode error: the right code, and an answer that fits in a line.
fn check_error(e: &DecodeError) -> Result<(), TestCaseError> {
    let code = e.code();
    match e {
        DecodeError::NotUtf8(_) | DecodeError::NotJson(_) => prop_assert_eq!(code, PARSE_ERROR),
        _ => prop_assert_eq!(code, INVALID_REQUEST),
    }
    let response = e.to_response();
    match &response.outcome {
        Outcome::Error(error) => {
            prop_assert_eq!(error.code, code);
            check_error_size(error)?;
        }
        Outcome::Result(_) => return Err(TestCaseError::fail("a decode error answered with a result")),
    }
    // The id is answered, unless quoting it back would take half a line.
    let quoted = serde_json::to_string(&e.id()).unwrap_or_default();
    let expected_id = if quoted.len() <= MAX_LINE_BYTES / 2 { e.id() } else { None };
    prop_assert_eq!(&response.id, &expected_id, "the answer's id");
    check_response(&response)
}

/// An error object quotes at most a little of the peer's input, so its answer fits
/// in a line with any id that does.
fn check_error_size(error: &ErrorObject) -> Result<(), TestCaseError> {
    let size = serde_json::to_string(error).unwrap_or_default().len();
    let message = &error.message[..error.message.floor_char_boundary(300)];
    prop_assert!(size <= ERROR_MAX_BYTES, "an error object of {} bytes: {}…", size, message);
    Ok(())
}

/// The id a line carries, as the codec must read it: a string or an `i64`.
fn readable_id(line: &Option<Value>) -> Option<Id> {
    match line.as_ref()?.get("id")? {
        Value::String(s) => Some(Id::Str(s.clone())),
        Value::Number(n) => n.as_i64().map(Id::Num),
        _ => None,
    }
}

/// Whether `line` is a request or notification a client may send.
fn is_valid_client_message(line: &Option<Value>) -> bool {
    let Some(Value::Object(obj)) = line else { return false };
    obj.get("jsonrpc") == Some(&json!("2.0"))
        && matches!(obj.get("method"), Some(Value::String(_)))
        && matches!(obj.get("params"), None | Some(Value::Object(_) | Value::Array(_)))
        && (obj.get("id").is_none() || readable_id(line).is_some())
        && obj.keys().all(|k| matches!(k.as_str(), "jsonrpc" | "id" | "method" | "params"))
}

/// Decodes `line` as the daemon does and checks the result against the line's own
/// JSON: valid lines decode to exactly what they hold, the others to an error with
/// the right code and id. Returns the decoded message.
fn check_client_line(line: &[u8]) -> Result<Option<ClientMessage>, TestCaseError> {
    let json = as_json(line);
    match decode_client_line(line) {
        Ok(msg) => {
            prop_assert!(is_valid_client_message(&json), "accepted an invalid line");
            let encoded = match &msg {
                ClientMessage::Request(r) => encode_line(r),
                ClientMessage::Notification(n) => encode_line(n),
            };
            prop_assert_eq!(Some(check_encoded(&encoded)?), json, "the decoded message differs from the line");
            check_params(&msg)?;
            Ok(Some(msg))
        }
        Err(e) => {
            check_error(&e)?;
            prop_assert!(!is_valid_client_message(&json), "rejected a valid line: {}", e);
            prop_assert_eq!(e.code() == PARSE_ERROR, json.is_none(), "parse error iff not JSON: {}", e);
            let expected_id = match &json {
                Some(Value::Object(_)) => readable_id(&json),
                _ => None,
            };
            prop_assert_eq!(e.id(), expected_id, "the error answers the wrong id: {}", e);
            Ok(None)
        }
    }
}

/// Decodes `line` as a client does: never panics, errors are well formed, and a
/// decoded message encodes to a line that decodes to the same message.
fn check_server_line(line: &[u8]) -> Result<(), TestCaseError> {
    let json = as_json(line);
    match decode_server_line(line) {
        Ok(msg) => {
            prop_assert!(matches!(json, Some(Value::Object(_))), "accepted a line that is not a JSON object");
            let encoded = match &msg {
                ServerMessage::Response(r) => encode_line(r),
                ServerMessage::Notification(n) => encode_line(n),
            };
            check_encoded(&encoded)?;
            prop_assert_eq!(decode_server_line(&encoded[..encoded.len() - 1]), Ok(msg));
        }
        Err(e) => {
            check_error(&e)?;
            prop_assert_eq!(e.code() == PARSE_ERROR, json.is_none(), "parse error iff not JSON: {}", e);
            let expected_id = match &json {
                Some(Value::Object(_)) => readable_id(&json),
                _ => None,
            };
            prop_assert_eq!(e.id(), expected_id, "the error answers the wrong id: {}", e);
        }
    }
    Ok(())
}

/// The typed params of a decoded message: never panics, -32601 exactly for unknown
/// methods, -32602 otherwise, and the error object stays small.
fn check_params(msg: &ClientMessage) -> Result<(), TestCaseError> {
    let (id, method, params) = match msg {
        ClientMessage::Request(r) => (Some(r.id.clone()), &r.method, &r.params),
        ClientMessage::Notification(n) => (None, &n.method, &n.params),
    };
    let known = METHODS.contains(&method.as_str());
    match ClientRequest::parse(method, params.clone()) {
        Ok(_) => prop_assert!(known, "parsed params of unknown method {:?}", method),
        Err(error) => {
            check_error_size(&error)?;
            let expected = if known { INVALID_PARAMS } else { METHOD_NOT_FOUND };
            prop_assert_eq!(error.code, expected, "{}", error);
            check_response(&Response::err(id, error))?;
        }
    }
    // What the daemon answers a first request that is not `hello`.
    check_error_size(&ErrorObject::handshake_required(method))
}

// ---------------------------------------------------------------------------
// Generators.
// ---------------------------------------------------------------------------

const TRICKY_CHARS: &[char] = &['"', '\\', '\n', '\r', '\0', '\u{1f}', '\u{7f}', '\u{2028}', 'é', '💥', 'a', '/'];

/// Strings that stress JSON escaping: quotes, backslashes, control characters,
/// line and paragraph separators, non-ASCII, and ordinary names.
fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z_.]{0,12}",
        2 => any::<String>(),
        1 => prop::collection::vec(prop::sample::select(TRICKY_CHARS), 0..8).prop_map(|cs| cs.into_iter().collect()),
    ]
}

/// Any JSON value whose numbers survive a text round trip exactly.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Dyadic fractions: exact in binary, so their shortest text parses back exactly.
        (-4096i32..4096, 0u32..12).prop_map(|(m, e)| Value::from(f64::from(m) / f64::from(1u32 << e))),
        arb_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((arb_key(), inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![2 => prop::sample::select(FIELDS).prop_map(str::to_owned), 1 => arb_string()]
}

fn arb_object() -> impl Strategy<Value = Value> {
    prop::collection::vec((arb_key(), arb_json()), 0..5).prop_map(|kv| Value::Object(kv.into_iter().collect()))
}

fn arb_id() -> impl Strategy<Value = Id> {
    prop_oneof![any::<i64>().prop_map(Id::Num), arb_string().prop_map(Id::Str)]
}

/// The `id` member of a near-valid request: absent (a notification), readable, or not.
fn arb_id_member() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        2 => Just(None),
        4 => arb_id().prop_map(|id| Some(json!(id))),
        1 => prop_oneof![
            Just(Value::Null),
            Just(json!(1.5)),
            Just(json!(u64::MAX)),
            Just(json!(true)),
            Just(json!({"id": 1})),
            Just(json!([1])),
        ]
        .prop_map(Some),
    ]
}

fn arb_method() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => prop::sample::select(METHODS).prop_map(Value::from),
        2 => arb_string().prop_map(Value::String),
        1 => prop::sample::select(EVENTS).prop_map(Value::from),
        1 => prop_oneof![Just(Value::Null), Just(json!(7)), Just(json!(["hello"]))],
    ]
}

fn arb_params() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        2 => Just(None),
        5 => arb_object().prop_map(Some),
        1 => prop::collection::vec(arb_json(), 0..4).prop_map(|a| Some(Value::Array(a))),
        1 => arb_json().prop_map(Some),
    ]
}

fn arb_version() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        8 => Just(Some(json!("2.0"))),
        1 => prop_oneof![
            Just(None),
            Just(Some(json!("2"))),
            Just(Some(json!(2.0))),
            Just(Some(json!("1.0"))),
            Just(Some(json!(" 2.0"))),
            Just(Some(Value::Null)),
        ],
    ]
}

/// A request object, valid most of the time: built from parts, or a golden
/// request with another id and some of its strings swapped.
fn arb_request_object() -> impl Strategy<Value = Map<String, Value>> {
    let built = (arb_version(), arb_id_member(), arb_method(), arb_params()).prop_map(|(v, id, method, params)| {
        let mut obj = Map::new();
        let members = [("jsonrpc", v), ("id", id), ("method", Some(method)), ("params", params)];
        for (k, v) in members {
            if let Some(v) = v {
                obj.insert(k.to_owned(), v);
            }
        }
        obj
    });
    // Golden requests reach the typed params most often: keep their shape, swap
    // some of their strings for others.
    let strings = prop::collection::vec(prop::option::of(arb_string()), 8);
    let golden = (prop::sample::select(GOLDEN_REQUESTS), arb_id_member(), strings).prop_map(|(text, id, strings)| {
        let mut obj: Map<String, Value> = serde_json::from_str(text).unwrap_or_default();
        match id {
            Some(id) => obj.insert("id".into(), id),
            None => obj.remove("id"),
        };
        if let Some(params) = obj.get_mut("params") {
            replace_strings(params, &mut strings.into_iter());
        }
        obj
    });
    prop_oneof![3 => built, 1 => golden]
}

/// Replaces string leaves of `v`, in order, by the `Some`s of `with`.
fn replace_strings(v: &mut Value, with: &mut impl Iterator<Item = Option<String>>) {
    match v {
        Value::String(s) => {
            if let Some(Some(other)) = with.next() {
                *s = other;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| replace_strings(item, with)),
        Value::Object(members) => members.values_mut().for_each(|member| replace_strings(member, with)),
        _ => {}
    }
}

/// How a near-valid line is damaged.
#[derive(Debug, Clone)]
enum Mutation {
    None,
    /// Cut the line short.
    Truncate(Index),
    /// XOR one byte with a non-zero mask (may break UTF-8).
    Flip(Index, u8),
    /// Insert one byte.
    Insert(Index, u8),
    /// Remove one of the line's double quotes.
    DropQuote(Index),
    /// Repeat a member with another value, after the first (JSON allows it; the last wins).
    Duplicate(String, Value),
    /// Add a member.
    Extra(String, Value),
    /// Remove a member.
    Remove(String),
    /// Wrap the params in arrays this deep (past serde_json's recursion limit of 128 too).
    NestParams(usize),
    /// Wrap the whole line in arrays this deep: a batch, or too deep to parse.
    NestLine(usize),
    /// Pad with whitespace, and sometimes trailing garbage.
    Pad(usize, &'static str),
}

fn arb_member_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(&["jsonrpc", "id", "method", "params"][..]).prop_map(str::to_owned),
        1 => prop::sample::select(&["result", "error"][..]).prop_map(str::to_owned),
        1 => arb_string(),
    ]
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => Just(Mutation::None),
        2 => any::<Index>().prop_map(Mutation::Truncate),
        2 => (any::<Index>(), 1u8..).prop_map(|(i, m)| Mutation::Flip(i, m)),
        1 => (any::<Index>(), prop::sample::select(&b"\"\\{}[],:0\x00\xff\xc3 "[..]))
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        2 => any::<Index>().prop_map(Mutation::DropQuote),
        2 => (arb_member_name(), arb_json()).prop_map(|(k, v)| Mutation::Duplicate(k, v)),
        1 => (arb_member_name(), arb_json()).prop_map(|(k, v)| Mutation::Extra(k, v)),
        1 => arb_member_name().prop_map(Mutation::Remove),
        1 => prop_oneof![1usize..8, 120usize..140].prop_map(Mutation::NestParams),
        1 => prop_oneof![1usize..4, 125usize..135].prop_map(Mutation::NestLine),
        1 => (0usize..64, prop::sample::select(&["", "x", "{}", "\0", "\r"][..]))
            .prop_map(|(n, t)| Mutation::Pad(n, t)),
    ]
}

fn to_text(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn mutate(mut obj: Map<String, Value>, mutation: &Mutation) -> Vec<u8> {
    match mutation {
        Mutation::Extra(k, v) => {
            obj.insert(k.clone(), v.clone());
        }
        Mutation::Remove(k) => {
            obj.remove(k);
        }
        Mutation::NestParams(depth) => {
            let mut params = obj.remove("params").unwrap_or(Value::Null);
            for _ in 0..*depth {
                params = Value::Array(vec![params]);
            }
            obj.insert("params".into(), params);
        }
        _ => {}
    }
    let mut line = to_text(&Value::Object(obj)).into_bytes();
    match mutation {
        Mutation::Truncate(i) => line.truncate(i.index(line.len())),
        Mutation::Flip(i, mask) => {
            let at = i.index(line.len());
            line[at] ^= mask;
        }
        Mutation::Insert(i, b) => {
            let at = i.index(line.len() + 1);
            line.insert(at, *b);
        }
        Mutation::DropQuote(i) => {
            let quotes: Vec<usize> = line.iter().enumerate().filter(|(_, b)| **b == b'"').map(|(i, _)| i).collect();
            if !quotes.is_empty() {
                line.remove(quotes[i.index(quotes.len())]);
            }
        }
        Mutation::Duplicate(k, v) => {
            // The line ends with '}'; `{}` stays an object with one member.
            line.pop();
            let sep = if line.len() > 1 { "," } else { "" };
            line.extend(format!("{sep}{}:{}}}", to_text(&json!(k)), to_text(v)).into_bytes());
        }
        Mutation::NestLine(depth) => {
            let mut nested = vec![b'['; *depth];
            nested.extend(line);
            nested.extend(vec![b']'; *depth]);
            line = nested;
        }
        Mutation::Pad(n, tail) => {
            let mut padded = vec![b' '; *n];
            padded.extend(line);
            padded.extend(b" \t".repeat(*n));
            padded.extend(tail.as_bytes());
            line = padded;
        }
        Mutation::None | Mutation::Extra(..) | Mutation::Remove(_) | Mutation::NestParams(_) => {}
    }
    line
}

/// Byte strings that look a little like JSON more often than uniform bytes do.
fn arb_bytes() -> impl Strategy<Value = Vec<u8>> {
    let tokens: Vec<&'static [u8]> = vec![
        b"{",
        b"}",
        b"[",
        b"]",
        b"\"",
        b":",
        b",",
        b"\\",
        b"\\u",
        b"\\ud800",
        b"0",
        b"-1",
        b"1e999",
        b"1.5",
        b"true",
        b"null",
        b" ",
        b"\r",
        b"\0",
        b"\xff",
        b"\xc3",
        b"\xe2\x80",
        b"\"jsonrpc\"",
        b"\"2.0\"",
        b"\"id\"",
        b"\"method\"",
        b"\"params\"",
        b"\"result\"",
        b"\"error\"",
        b"\"hello\"",
    ];
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        prop::collection::vec(prop::sample::select(tokens), 0..60).prop_map(|ts| ts.concat()),
    ]
}

/// Where a huge line puts its bulk.
#[derive(Debug, Clone, Copy)]
enum Bulk {
    /// Random bytes.
    Noise,
    /// The id string.
    Id,
    /// The method name.
    Method,
    /// The name of an unexpected member.
    MemberName,
    /// The value of `"jsonrpc"`.
    Version,
    /// A string where the params want another type.
    ParamValue,
    /// The name of an unknown params member.
    ParamName,
    /// A string with an invalid UTF-8 byte at its end.
    BadUtf8,
    /// A JSON string, not an object.
    BareString,
    /// Whitespace before a valid request.
    Whitespace,
}

/// A line of `len` bytes (or a few more) whose bulk is made of `fill`.
fn huge_line(bulk: Bulk, fill: &str, len: usize, seed: u64) -> Vec<u8> {
    // Each repetition of `fill` takes `unit` bytes once escaped in a JSON string.
    let unit = to_text(&json!(fill)).len() - 2;
    let filler = |overhead: usize| fill.repeat(len.saturating_sub(overhead) / unit);
    let line = match bulk {
        Bulk::Noise => {
            let mut x = seed | 1;
            return (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x.to_le_bytes()[0]
                })
                .collect();
        }
        Bulk::Id => json!({"jsonrpc": "2.1", "id": filler(40), "method": "x"}),
        Bulk::Method => json!({"jsonrpc": "2.0", "id": 1, "method": filler(40)}),
        Bulk::MemberName => {
            let mut obj = json!({"jsonrpc": "2.0", "id": 1, "method": "x"});
            obj[filler(50)] = json!(1);
            obj
        }
        Bulk::Version => json!({"jsonrpc": filler(40), "id": 1, "method": "x"}),
        Bulk::ParamValue => json!({"jsonrpc": "2.0", "id": 1, "method": "hello", "params": {"version": filler(70)}}),
        Bulk::ParamName => {
            let mut params = json!({"protocol": "pyra", "version": 1, "client": "c"});
            params[filler(120)] = json!(1);
            json!({"jsonrpc": "2.0", "id": 1, "method": "hello", "params": params})
        }
        Bulk::BadUtf8 => {
            let mut line = to_text(&json!({"jsonrpc": "2.0", "id": 1, "method": filler(40)})).into_bytes();
            line.insert(line.len() - 2, 0xff);
            return line;
        }
        Bulk::BareString => json!(filler(2)),
        Bulk::Whitespace => {
            let mut line = " ".repeat(len.saturating_sub(40)).into_bytes();
            line.extend(br#"{"jsonrpc":"2.0","id":1,"method":"x"}"#);
            return line;
        }
    };
    to_text(&line).into_bytes()
}

fn arb_bulk() -> impl Strategy<Value = Bulk> {
    prop::sample::select(vec![
        Bulk::Noise,
        Bulk::Id,
        Bulk::Method,
        Bulk::MemberName,
        Bulk::Version,
        Bulk::ParamValue,
        Bulk::ParamName,
        Bulk::BadUtf8,
        Bulk::BareString,
        Bulk::Whitespace,
    ])
}

// ---------------------------------------------------------------------------
// LineBuffer.
// ---------------------------------------------------------------------------

/// A stream for a `LineBuffer` of limit `max`: lines (each ended by `\n` or
/// `\r\n`), an unterminated tail, and where the reads split it.
#[derive(Debug, Clone)]
struct Stream {
    max: usize,
    lines: Vec<(Vec<u8>, bool)>,
    tail: Vec<u8>,
    cuts: Vec<Index>,
}

fn arb_stream() -> impl Strategy<Value = Stream> {
    (0usize..24).prop_flat_map(|max| {
        // Lengths cluster around the limit, where the off-by-ones live.
        let len = prop_oneof![0..=max + 2, max.saturating_sub(1)..=max + 2, 0..=3 * max + 3];
        let content =
            len.prop_flat_map(|n| prop::collection::vec(prop::sample::select(b"ab\r\r{\"\0\xff".to_vec()), n..=n));
        (
            Just(max),
            prop::collection::vec((content.clone(), any::<bool>()), 0..10),
            prop_oneof![Just(Vec::new()), content],
            prop::collection::vec(any::<Index>(), 0..16),
        )
            .prop_map(|(max, lines, tail, cuts)| Stream { max, lines, tail, cuts })
    })
}

impl Stream {
    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (content, crlf) in &self.lines {
            out.extend(content);
            out.extend(if *crlf { &b"\r\n"[..] } else { b"\n" });
        }
        out.extend(&self.tail);
        out
    }

    /// What a `LineBuffer` must yield: each line without its `\n` and one `\r`
    /// before it, then the tail as it is; every line over the limit as one error.
    fn expected(&self) -> Vec<Result<Vec<u8>, DecodeError>> {
        let too_long = DecodeError::TooLong { limit: self.max };
        let mut out: Vec<_> = self
            .lines
            .iter()
            .map(|(content, crlf)| {
                let line = if *crlf { &content[..] } else { content.strip_suffix(b"\r").unwrap_or(content) };
                if line.len() > self.max { Err(too_long.clone()) } else { Ok(line.to_vec()) }
            })
            .collect();
        if !self.tail.is_empty() {
            out.push(if self.tail.len() > self.max { Err(too_long) } else { Ok(self.tail.clone()) });
        }
        out
    }

    fn chunks(&self) -> Vec<Vec<u8>> {
        let bytes = self.bytes();
        let mut cuts: Vec<usize> = self.cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        cuts.push(0);
        cuts.push(bytes.len());
        cuts.sort_unstable();
        cuts.dedup();
        cuts.windows(2).map(|w| bytes[w[0]..w[1]].to_vec()).collect()
    }
}

// ---------------------------------------------------------------------------
// Properties.
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(4096))]

    /// 1. Any bytes: decoding never panics, and every error is answered with a
    ///    well-formed JSON-RPC error that fits in a line.
    #[test]
    fn arbitrary_bytes_decode_or_fail_cleanly(line in arb_bytes()) {
        check_client_line(&line)?;
        check_server_line(&line)?;
    }
}

proptest! {
    #![proptest_config(config(2048))]

    /// 2. Near-valid requests: valid ones decode to exactly their id, method and
    ///    params; damaged ones fail with the right code and id; typed params
    ///    parsing never panics and answers -32601 or -32602.
    #[test]
    fn near_valid_requests_decode_exactly(obj in arb_request_object(), mutation in arb_mutation()) {
        let valid = is_valid_client_message(&Some(Value::Object(obj.clone())));
        let line = mutate(obj.clone(), &mutation);
        let decoded = check_client_line(&line)?;
        check_server_line(&line)?;
        if valid && matches!(mutation, Mutation::None) {
            let id = obj.get("id").map(|id| serde_json::from_value::<Id>(id.clone()));
            match (decoded, id) {
                (Some(ClientMessage::Request(r)), Some(Ok(id))) => {
                    prop_assert_eq!(r.id, id);
                    prop_assert_eq!(Some(&Value::String(r.method)), obj.get("method"));
                }
                (Some(ClientMessage::Notification(n)), None) => {
                    prop_assert_eq!(Some(&Value::String(n.method)), obj.get("method"));
                }
                (other, id) => {
                    return Err(TestCaseError::fail(format!("a valid line with id {id:?} decoded as {other:?}")));
                }
            }
        }
    }

    /// 3. LineBuffer: however the stream is split into reads, it yields exactly the
    ///    lines put in, in order; an oversize line is one error, after which the
    ///    next line comes through; and the buffer never holds more than the limit
    ///    plus the read it was just given (plus one byte: a `\r` that may end a line).
    #[test]
    fn line_buffer_yields_exactly_the_lines(stream in arb_stream()) {
        let total = stream.bytes().len();
        let mut buf = LineBuffer::new(stream.max);
        let mut got = Vec::new();
        for chunk in stream.chunks() {
            buf.extend(&chunk);
            let bound = stream.max + 1 + chunk.len();
            prop_assert!(buf.held() <= bound, "holds {} bytes, over {}", buf.held(), bound);
            let mut calls = 0;
            while let Some(line) = buf.next_line() {
                got.push(line);
                calls += 1;
                prop_assert!(calls <= total + 1, "next_line keeps answering without new input: {:?}", got.last());
            }
            prop_assert!(buf.held() <= bound, "holds {} bytes, over {}", buf.held(), bound);
        }
        got.extend(buf.finish());
        prop_assert_eq!(buf.finish(), None);
        prop_assert_eq!(buf.next_line(), None);
        prop_assert_eq!(got, stream.expected());
    }
}

proptest! {
    #![proptest_config(config(512))]

    /// 4. Encoding: any request, notification or response is one line that
    ///    decodes back to itself.
    #[test]
    fn encoded_messages_round_trip(
        id in arb_id(),
        method in arb_string(),
        params in prop_oneof![
            Just(None),
            arb_object().prop_map(Some),
            prop::collection::vec(arb_json(), 0..3).prop_map(|a| Some(Value::Array(a))),
        ],
        result in arb_json(),
        error in (any::<i32>(), arb_string(), prop_oneof![Just(None), arb_object().prop_map(Some)]),
        null_id in any::<bool>(),
    ) {
        let request = Request::new(id.clone(), method.clone(), params.clone());
        let line = encode_line(&request);
        check_encoded(&line)?;
        prop_assert_eq!(decode_client_line(&line[..line.len() - 1]), Ok(ClientMessage::Request(request)));

        let notification = Notification::new(method, params);
        let line = encode_line(&notification);
        check_encoded(&line)?;
        let body = &line[..line.len() - 1];
        prop_assert_eq!(decode_client_line(body), Ok(ClientMessage::Notification(notification.clone())));
        prop_assert_eq!(decode_server_line(body), Ok(ServerMessage::Notification(notification)));

        check_response(&Response::ok(id.clone(), result))?;
        let (code, message, data) = error;
        let error = ErrorObject { code, message, data };
        check_response(&Response::err((!null_id).then_some(id), error))?;
    }
}

proptest! {
    // Long lines are slow to build and parse in a debug build: fewer cases, most
    // of them long enough to show an error quoting its input, some at the limit.
    #![proptest_config(config(48))]

    /// 1b. Long lines, their bulk where an error message might quote it: every
    ///     error object stays small, and every answer fits in a line.
    #[test]
    fn long_lines_get_answers_that_fit(
        bulk in arb_bulk(),
        fill in prop::sample::select(&["a", "\"", "\\", "\u{1}", "é", "\u{2028}"][..]),
        len in prop_oneof![
            3 => 4 * ERROR_MAX_BYTES..8 * ERROR_MAX_BYTES,
            1 => MAX_LINE_BYTES - 256..MAX_LINE_BYTES + 64,
        ],
        seed in any::<u64>(),
    ) {
        let line = huge_line(bulk, fill, len, seed);
        check_client_line(&line)?;
        check_server_line(&line)?;
    }
}

#[test]
fn the_method_list_is_complete() {
    let mut names = METHODS.to_vec();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), METHODS.len(), "a method is listed twice");
    for method in METHODS {
        if let Err(e) = ClientRequest::parse(method, Some(json!({"no such member": true}))) {
            assert_eq!(e.code, INVALID_PARAMS, "{method}: {e}");
        }
    }
    // Not a method: events, and near misses.
    for method in EVENTS.iter().chain(&["", "Hello", "hello ", "daemon.status.", "plugins"]) {
        let e = ClientRequest::parse(method, None).expect_err(method);
        assert_eq!(e.code, METHOD_NOT_FOUND, "{method}: {e}");
    }
}

#[test]
fn the_golden_requests_parse() {
    for text in GOLDEN_REQUESTS {
        let line = serde_json::to_vec(&serde_json::from_str::<Value>(text).unwrap()).unwrap();
        match decode_client_line(&line) {
            Ok(ClientMessage::Request(r)) => {
                ClientRequest::parse(&r.method, r.params).unwrap();
            }
            other => panic!("{text}: {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------
// What the properties found, pinned as plain tests.
// ---------------------------------------------------------------------------

/// A `\r\n` line of exactly `max` bytes whose `\n` came in the next read was
/// reported as too long: the `\r` was counted as part of the line.
#[test]
fn a_crlf_line_at_the_limit_split_before_its_newline_fits() {
    let mut buf = LineBuffer::new(4);
    buf.extend(b"1234\r");
    assert_eq!(buf.next_line(), None);
    buf.extend(b"\nabcd\r");
    assert_eq!(buf.next_line(), Some(Ok(b"1234".to_vec())));
    assert_eq!(buf.next_line(), None);
    buf.extend(b"e\n");
    assert_eq!(buf.next_line(), Some(Err(DecodeError::TooLong { limit: 4 })));
    assert_eq!(buf.next_line(), None);
}

/// An oversize line still arriving was reported as too long on every call, and
/// kept in full: the buffer grew with each read.
#[test]
fn an_oversize_line_is_reported_once_and_dropped() {
    let mut buf = LineBuffer::new(4);
    buf.extend(b"123456");
    assert_eq!(buf.next_line(), Some(Err(DecodeError::TooLong { limit: 4 })));
    assert_eq!(buf.next_line(), None);
    for _ in 0..100 {
        buf.extend(&[b'x'; 1000]);
        assert!(buf.held() <= 4 + 1 + 1000, "holds {} bytes", buf.held());
        assert_eq!(buf.next_line(), None);
    }
    buf.extend(b"78\nok\n");
    assert_eq!(buf.next_line(), Some(Ok(b"ok".to_vec())));
    assert_eq!(buf.next_line(), None);
    assert_eq!(buf.finish(), None);

    // Cut off by the end of input: reported once, not again by `finish`.
    buf.extend(b"123456");
    assert_eq!(buf.next_line(), Some(Err(DecodeError::TooLong { limit: 4 })));
    buf.extend(b"789");
    assert_eq!(buf.finish(), None);
}

/// Error messages quoted the offending input whole, escaped twice (`Debug`, then
/// JSON): a line within the limit got an answer up to three times over it.
#[test]
fn errors_quote_little_of_a_long_line() {
    let long = "\"\u{2028}".repeat(100_000);
    let line = |v: Value| serde_json::to_vec(&v).unwrap();
    let decode_errors = [
        decode_client_line(&line(json!({"jsonrpc": "2.0", "id": 1, "method": "x", &long: 1}))).unwrap_err(),
        decode_client_line(&line(json!({"jsonrpc": long, "id": 1, "method": "x"}))).unwrap_err(),
        decode_server_line(&line(json!({"jsonrpc": long, "id": 1, "result": 1}))).unwrap_err(),
        decode_server_line(&line(json!({"jsonrpc": "2.0", "id": 1, "error": {"code": long}}))).unwrap_err(),
    ];
    for e in &decode_errors {
        let size = serde_json::to_string(&e.to_error_object()).unwrap().len();
        assert!(size <= ERROR_MAX_BYTES, "{size} bytes");
    }
    let errors = [
        ClientRequest::parse(&long, None).unwrap_err(),
        ClientRequest::parse(Hello::NAME, Some(json!({"version": long}))).unwrap_err(),
        ClientRequest::parse(Hello::NAME, Some(json!({&long: 1}))).unwrap_err(),
        ErrorObject::handshake_required(&long),
    ];
    for error in &errors {
        let size = serde_json::to_string(error).unwrap().len();
        assert!(size <= ERROR_MAX_BYTES, "{size} bytes");
    }
}

/// An invalid request whose id filled the line was answered with that id, in an
/// answer longer than a line.
#[test]
fn an_id_too_long_to_quote_back_is_answered_as_null() {
    let id = "x".repeat(MAX_LINE_BYTES - 64);
    let line = serde_json::to_vec(&json!({"jsonrpc": "1.0", "id": id, "method": "hello"})).unwrap();
    assert!(line.len() <= MAX_LINE_BYTES);
    let e = decode_client_line(&line).unwrap_err();
    assert_eq!(e.id(), Some(Id::Str(id)));
    let answer = e.to_response();
    assert_eq!(answer.id, None);
    assert!(encode_line(&answer).len() <= MAX_LINE_BYTES);

    let line = br#"{"jsonrpc": "1.0", "id": "short", "method": "hello"}"#;
    assert_eq!(decode_client_line(line).unwrap_err().to_response().id, Some(Id::Str("short".into())));
}
