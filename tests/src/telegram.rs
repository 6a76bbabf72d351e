//! A fake Telegram Bot API (`tests/fakes/telegram_bot_api.py`) on a free loopback port, owned by a
//! guard that kills it when dropped, with helpers that play the user's side through its `/_fake/`
//! control API, and a minimal HTTP/1.1 client (the tests crate has no HTTP client dependency).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The token the fake accepts unless a test chooses another (shaped like a real one: bot id, colon,
/// 35 characters).
pub const TOKEN: &str = "7000000001:AAFakeTokenForPyraTestsOnly_0123456";

/// How long the fake may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a control call may take (none of them waits on anything).
const CONTROL_TIMEOUT: Duration = Duration::from_secs(10);

/// The interpreter behind `python3`. A version manager's `python3` is often a shell script that
/// keeps running as the interpreter's parent; killing that script would leave the fake behind.
fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let output = Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .stderr(Stdio::inherit())
            .output()
            .expect("python3 runs (the fake Telegram needs Python 3.11 or later)");
        let path = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        assert!(path.is_file(), "python3 did not name its executable: {output:?}");
        path
    })
}

/// A running fake Bot API, killed and reaped when dropped (also when a test panics).
pub struct FakeTelegram {
    child: Child,
    port: u16,
    token: String,
    /// Holds the port file and the fake's stderr log, shown when a helper panics.
    dir: tempfile::TempDir,
}

impl FakeTelegram {
    /// Starts the fake with [`TOKEN`] and waits until it listens.
    pub fn start() -> Self {
        Self::start_with_token(TOKEN)
    }

    pub fn start_with_token(token: &str) -> Self {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fakes/telegram_bot_api.py");
        let dir = tempfile::Builder::new().prefix("fake-telegram-").tempdir().expect("a temp dir");
        let port_file = dir.path().join("port");
        let log = std::fs::File::create(dir.path().join("stderr.log")).expect("create the fake's log");
        let child = Command::new(python())
            .arg(&script)
            .args(["--token", token, "--exit-with-parent", "--quiet-control", "--port-file"])
            .arg(&port_file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn python3 {}: {e}", script.display()));
        // The guard exists before the wait, so a fake that never listens is still killed.
        let mut fake = Self { child, port: 0, token: token.to_owned(), dir };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(port) = std::fs::read_to_string(&port_file).ok().and_then(|s| s.trim().parse().ok()) {
                fake.port = port;
                return fake;
            }
            if let Ok(Some(status)) = fake.child.try_wait() {
                panic!("the fake Telegram exited before listening ({status}); its log:\n{}", fake.log());
            }
            assert!(
                Instant::now() < deadline,
                "the fake Telegram did not listen within {START_TIMEOUT:?}:\n{}",
                fake.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The base URL for teloxide's `Bot::set_api_url`: teloxide appends the path segments
    /// `bot<token>` and `<method>` to it, so the path must be `/`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The bot's user id (the number before the colon in the token, as on Telegram).
    pub fn bot_id(&self) -> i64 {
        self.token.split(':').next().and_then(|id| id.parse().ok()).expect("the token starts with the bot id")
    }

    /// What the fake wrote to stderr so far (one line per request).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    /// Calls a Bot API method as a bot would (POST, JSON body) and returns the raw answer.
    pub fn api(&self, method: &str, params: Value) -> HttpResponse {
        self.api_with_timeout(method, params, CONTROL_TIMEOUT)
    }

    /// [`Self::api`] for calls that may wait (long polls, injected delays).
    pub fn api_with_timeout(&self, method: &str, params: Value, timeout: Duration) -> HttpResponse {
        let path = format!("/bot{}/{method}", self.token);
        let body = serde_json::to_vec(&params).expect("params serialise");
        http(self.port, "POST", &path, Some("application/json"), &body, timeout)
            .unwrap_or_else(|e| panic!("{method}: {e}; the fake's log:\n{}", self.log()))
    }

    /// A user writes `text` to the bot in their private chat; returns the new message's id.
    pub fn send_text(&self, user_id: i64, text: &str) -> i64 {
        let sent = self.send_message(json!({"user": {"id": user_id}, "text": text}));
        sent["message_id"].as_i64().expect("the fake returns message_id")
    }

    /// A user message with every option of `POST /_fake/message` (`user` with `first_name` and
    /// `username`, `chat_id`, `reply_to`); returns `{"update_id", "message_id"}`.
    pub fn send_message(&self, body: Value) -> Value {
        self.control("POST", "/_fake/message", &body)
    }

    /// A user presses the inline button with callback `data` under the bot's message
    /// `message_id`; returns the callback query's id.
    /// The button may be one the bot has since edited away (a client that has not caught up), but
    /// the message must have had it.
    pub fn press(&self, user_id: i64, message_id: i64, data: &str) -> String {
        self.press_in(user_id, user_id, message_id, data)
    }

    /// [`Self::press`] by `user_id` under a message in chat `chat_id` (someone else's chat).
    pub fn press_in(&self, user_id: i64, chat_id: i64, message_id: i64, data: &str) -> String {
        let body = json!({"user": {"id": user_id}, "chat_id": chat_id, "message_id": message_id, "data": data});
        let pressed = self.control("POST", "/_fake/callback", &body);
        pressed["callback_query_id"].as_str().expect("the fake returns callback_query_id").to_owned()
    }

    /// Everything in a chat: `messages` (user's and bot's, in order, each with `text`, `entities`,
    /// `parse_mode`, `reply_markup`, `edits`, `deleted`, ...), `actions`, `callback_answers`.
    /// A chat nobody has written in yet has `"known": false` and no messages.
    pub fn chat(&self, chat_id: i64) -> Value {
        self.control("GET", &format!("/_fake/chat/{chat_id}"), &Value::Null)
    }

    /// The bot's messages in a chat that are not deleted.
    pub fn bot_messages(&self, chat_id: i64) -> Vec<Value> {
        let chat = self.chat(chat_id);
        let messages = chat["messages"].as_array().cloned().unwrap_or_default();
        messages.into_iter().filter(|m| m["from_bot"] == json!(true) && m["deleted"] == json!(false)).collect()
    }

    /// Every Bot API call so far: `method` (canonical spelling), `params`, `status` (0 for a
    /// dropped connection, null while in progress), `time` and `finished` (unix seconds).
    pub fn calls(&self) -> Vec<Value> {
        match self.control("GET", "/_fake/calls", &Value::Null) {
            Value::Array(calls) => calls,
            other => panic!("/_fake/calls answered {other}"),
        }
    }

    /// The calls of one method.
    pub fn calls_of(&self, method: &str) -> Vec<Value> {
        self.calls().into_iter().filter(|c| c["method"] == method).collect()
    }

    /// `{"pending": [update ids not yet confirmed], "confirmed_below": N, "next_update_id": N}`.
    pub fn updates(&self) -> Value {
        self.control("GET", "/_fake/updates", &Value::Null)
    }

    /// Makes the next `times` calls of `method` fail as `kind` says: `"429"` (with `retry_after`
    /// in `extra`), `"400-entities"` (only calls with a parse_mode), `"500"`, `"drop"` (the
    /// connection closes without an answer), `"delay"` (`seconds` in `extra`, then a normal
    /// answer) or `"error"` (`error_code` and `description` in `extra`).
    pub fn fail(&self, method: &str, kind: &str, times: u32, extra: Value) {
        let mut body = json!({"method": method, "kind": kind, "times": times});
        if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
            body.extend(extra);
        }
        self.control("POST", "/_fake/fail", &body);
    }

    /// Forgets chats, updates, calls, failures and commands; the bot stays the same.
    pub fn reset(&self) {
        self.control("POST", "/_fake/reset", &json!({}));
    }

    /// Polls [`Self::chat`] every 50 ms until `predicate` holds and returns that state; panics
    /// with the last state after `timeout`.
    pub fn wait_for(&self, chat_id: i64, timeout: Duration, predicate: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let chat = self.chat(chat_id);
            if predicate(&chat) {
                return chat;
            }
            if Instant::now() >= deadline {
                let state = serde_json::to_string_pretty(&chat).unwrap_or_default();
                panic!(
                    "chat {chat_id} did not reach the expected state within {timeout:?}; last state:\n{state}\nthe fake's log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// One control call; panics unless it succeeds.
    fn control(&self, verb: &str, path: &str, body: &Value) -> Value {
        let bytes = if body.is_null() { Vec::new() } else { serde_json::to_vec(body).expect("body serialises") };
        let response = http(self.port, verb, path, Some("application/json"), &bytes, CONTROL_TIMEOUT)
            .unwrap_or_else(|e| panic!("{verb} {path}: {e}; the fake's log:\n{}", self.log()));
        assert_eq!(response.status, 200, "{verb} {path} {body}: {}", response.text());
        response.json()
    }
}

impl Drop for FakeTelegram {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP answer.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics (showing it) when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// Sends one HTTP/1.1 request to 127.0.0.1:`port` (`Connection: close`) and reads the answer.
/// A connection closed without an answer is an `UnexpectedEof` error.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
    timeout: Duration,
) -> std::io::Result<HttpResponse> {
    use std::io::{Error, ErrorKind};

    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    if let Some(content_type) = content_type.filter(|_| !body.is_empty()) {
        request.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(request.as_bytes())?;
    stream.write_all(body)?;

    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    if raw.is_empty() {
        return Err(Error::new(ErrorKind::UnexpectedEof, "the connection closed without an HTTP response"));
    }
    let malformed = |what: &str| Error::new(ErrorKind::InvalidData, format!("malformed HTTP response ({what})"));
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| malformed("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| malformed(status_line))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[head_end + 4..].to_vec();
    if let Some(length) = headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()) {
        if body.len() < length {
            return Err(malformed("body shorter than Content-Length"));
        }
        body.truncate(length);
    }
    Ok(HttpResponse { status, headers, body })
}
