//! Fixtures for Pyra's integration tests: a temp `PYRA_HOME`, a real `pyrad`
//! owned by a guard that kills it even when a test fails, a raw line client for
//! speaking (and mis-speaking) the protocol, and a notify socket that records
//! what pyrad tells its service manager.

use std::io::{Read, Write};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proto::{LineBuffer, MAX_LINE_BYTES};
use serde_json::{Value, json};

pub mod matrix;
pub mod pty;
pub mod telegram;

/// How long any single wait in a test may take before it fails.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// A binary of this workspace, built next to the test executable.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    let dir = exe.parent().and_then(Path::parent).expect("tests run from target/<profile>/deps");
    let path = dir.join(name);
    assert!(path.is_file(), "{} is missing: run `cargo build --workspace` first (make test does)", path.display());
    path
}

/// A fresh, private `PYRA_HOME` inside a temp dir that is removed afterwards.
pub struct TestHome {
    dir: tempfile::TempDir,
}

impl Default for TestHome {
    fn default() -> Self {
        Self::new()
    }
}

impl TestHome {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new().prefix("pyra-").tempdir().expect("a temp dir");
        Self { dir }
    }

    /// The home itself (not yet created: pyrad creates it).
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// The temp dir around the home, for sockets and scratch files.
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }

    pub fn socket(&self) -> PathBuf {
        self.path().join("run/pyrad.sock")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path().join("logs/pyrad.log")).unwrap_or_default()
    }
}

/// Datagrams pyrad sent to `NOTIFY_SOCKET`, collected by a background thread.
#[derive(Clone)]
pub struct NotifyLog {
    path: PathBuf,
    messages: Arc<Mutex<Vec<String>>>,
}

impl NotifyLog {
    pub fn bind(dir: &Path) -> Self {
        let path = dir.join(format!("notify-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let socket = UnixDatagram::bind(&path).expect("bind the notify socket");
        let messages = Arc::new(Mutex::new(Vec::new()));
        let sink = messages.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 4096];
            while let Ok(n) = socket.recv(&mut buf) {
                sink.lock()
                    .expect("notify log lock")
                    .extend(String::from_utf8_lossy(&buf[..n]).lines().map(str::to_owned));
            }
        });
        Self { path, messages }
    }

    pub fn messages(&self) -> Vec<String> {
        self.messages.lock().expect("notify log lock").clone()
    }

    pub fn count(&self, line: &str) -> usize {
        self.messages().iter().filter(|m| *m == line).count()
    }

    /// Waits until `line` has been received `times` times.
    pub fn wait_for(&self, line: &str, times: usize) -> bool {
        let deadline = Instant::now() + TIMEOUT;
        while Instant::now() < deadline {
            if self.count(line) >= times {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }
}

/// A running `pyrad`, killed and reaped when dropped.
pub struct Pyrad {
    child: Option<Child>,
    pub home: PathBuf,
    pub socket: PathBuf,
    pub notify: NotifyLog,
}

/// How to start a `pyrad`.
#[derive(Default)]
pub struct PyradOptions {
    pub env: Vec<(String, String)>,
}

impl PyradOptions {
    /// pyrad talking to an OpenAI-compatible provider at `base_url` (the `custom`
    /// preset, which has no default model: pyrad never sends an empty one).
    pub fn custom_provider(base_url: &str) -> Self {
        Self {
            env: vec![
                ("PYRA__PROVIDER__PRESET".into(), "custom".into()),
                ("PYRA__PROVIDER__BASE_URL".into(), base_url.into()),
                ("PYRA__PROVIDER__MODEL".into(), "test-model".into()),
            ],
        }
    }
}

impl Pyrad {
    /// Starts pyrad on `home` and waits for `READY=1`.
    pub fn start(home: &TestHome) -> Self {
        Self::start_with(home, PyradOptions::default())
    }

    pub fn start_with(home: &TestHome, options: PyradOptions) -> Self {
        Self::start_under(home, options, &[])
    }

    /// Starts pyrad under `wrapper` and waits for `READY=1`.
    pub fn start_under(home: &TestHome, options: PyradOptions, wrapper: &[&str]) -> Self {
        let notify = NotifyLog::bind(home.scratch());
        let child = Self::command_under(home, &options, wrapper)
            .env("NOTIFY_SOCKET", &notify.path)
            .spawn()
            .expect("spawn pyrad");
        let mut pyrad = Pyrad { child: Some(child), home: home.path(), socket: home.socket(), notify };
        let deadline = Instant::now() + TIMEOUT;
        while pyrad.notify.count("READY=1") == 0 {
            if let Some(status) = pyrad.try_wait() {
                panic!("pyrad exited before READY=1 ({status}); log:\n{}", home.log());
            }
            assert!(Instant::now() < deadline, "pyrad did not send READY=1; log:\n{}", home.log());
            std::thread::sleep(Duration::from_millis(5));
        }
        pyrad
    }

    /// The command that starts pyrad on `home`, for tests that want its output.
    pub fn command(home: &TestHome, options: &PyradOptions) -> Command {
        Self::command_under(home, options, &[])
    }

    /// The same, run under `wrapper` (such as `nsenter -t <pid> -m --`).
    pub fn command_under(home: &TestHome, options: &PyradOptions, wrapper: &[&str]) -> Command {
        let mut command = match wrapper.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(bin("pyrad"));
                command
            }
            None => Command::new(bin("pyrad")),
        };
        command
            .env("PYRA_HOME", home.path())
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .env_remove("PYRA_LOG")
            .env_remove("PYRA_STDERR_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in &options.env {
            command.env(k, v);
        }
        command
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    pub fn signal(&self, signal: i32) {
        let pid = libc::pid_t::try_from(self.pid()).expect("pid fits");
        // SAFETY: sending a signal to our own child.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "kill({pid}, {signal})");
    }

    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.as_mut().and_then(|c| c.try_wait().expect("try_wait"))
    }

    /// Waits for pyrad to exit by itself.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.try_wait() {
                self.child = None;
                return status;
            }
            assert!(Instant::now() < deadline, "pyrad did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Connects and says hello.
    pub fn client(&self) -> RawClient {
        let mut client = RawClient::connect(&self.socket);
        let hello = client.hello();
        assert!(hello.get("result").is_some(), "hello failed: {hello}");
        client
    }
}

impl Drop for Pyrad {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Kills a process we did not spawn ourselves (a detached pyrad) when dropped.
pub struct PidGuard(pub Option<u32>);

impl Drop for PidGuard {
    fn drop(&mut self) {
        if let Some(pid) = self.0.and_then(|p| libc::pid_t::try_from(p).ok()) {
            // SAFETY: killing a pid the test itself caused to exist.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

/// A line client that sends whatever bytes a test wants and reads what comes back.
pub struct RawClient {
    pub stream: UnixStream,
    lines: LineBuffer,
    chunks: proto::chunk::Joiner,
    /// Messages that arrived chunked.
    pub chunked: usize,
    next_id: i64,
}

/// What a read from the daemon produced.
#[derive(Debug)]
pub enum Received {
    Message(Value),
    Closed,
}

impl RawClient {
    pub fn connect(socket: &Path) -> Self {
        let stream = UnixStream::connect(socket).unwrap_or_else(|e| panic!("connect {}: {e}", socket.display()));
        stream.set_read_timeout(Some(TIMEOUT)).expect("set a read timeout");
        // The limit pyrad must keep: a longer line fails the test.
        Self {
            stream,
            lines: LineBuffer::new(MAX_LINE_BYTES),
            chunks: proto::chunk::Joiner::new(0),
            chunked: 0,
            next_id: 1000,
        }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write to pyrad");
    }

    /// Sends bytes the daemon may refuse half-way (it closes on an oversize line).
    pub fn try_send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }

    pub fn send(&mut self, value: &Value) {
        let mut line = serde_json::to_vec(value).expect("json");
        line.push(b'\n');
        self.send_raw(&line);
    }

    /// The next message, or `Closed` at end of stream. Panics after [`TIMEOUT`].
    pub fn recv(&mut self) -> Received {
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            if let Some(line) = self.lines.next_line() {
                let line = line.expect("pyrad sent a line within the limit");
                let value: Value = serde_json::from_slice(&line)
                    .unwrap_or_else(|e| panic!("pyrad sent invalid JSON ({e}): {}", String::from_utf8_lossy(&line)));
                // A message longer than a line arrives in rpc.chunk notifications.
                if value["method"] == proto::chunk::METHOD {
                    match self.chunks.push(value.get("params").cloned()).expect("well-formed chunks") {
                        Some(whole) => {
                            self.chunked += 1;
                            let value = serde_json::from_slice(&whole).expect("a chunked message is JSON");
                            return Received::Message(value);
                        }
                        None => continue,
                    }
                }
                return Received::Message(value);
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return Received::Closed,
                Ok(n) => self.lines.extend(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Received::Closed,
                Err(e) => panic!("reading from pyrad: {e}"),
            }
        }
    }

    pub fn recv_message(&mut self) -> Value {
        match self.recv() {
            Received::Message(v) => v,
            Received::Closed => panic!("pyrad closed the connection"),
        }
    }

    /// True when the daemon closes the connection before sending anything else.
    pub fn is_closed(&mut self) -> bool {
        matches!(self.recv(), Received::Closed)
    }

    pub fn hello(&mut self) -> Value {
        self.send(&json!({"jsonrpc": "2.0", "id": 0, "method": "hello",
            "params": {"protocol": "pyra", "version": proto::PROTOCOL_VERSION, "client": "tests"}}));
        self.recv_message()
    }

    /// Calls `method` and returns the whole response (skipping events).
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let msg = self.recv_message();
            if msg.get("id") == Some(&json!(id)) {
                return msg;
            }
            assert!(msg.get("method").is_some(), "unexpected message while waiting for {id}: {msg}");
        }
    }

    /// Reads until the response to `id`; returns what came before it and the response.
    pub fn until_response(&mut self, id: i64) -> (Vec<Value>, Value) {
        let mut before = Vec::new();
        loop {
            let msg = self.recv_message();
            if msg.get("id") == Some(&json!(id)) {
                return (before, msg);
            }
            before.push(msg);
        }
    }

    /// Calls `method` and returns its `result`, failing on an error.
    pub fn result(&mut self, method: &str, params: Value) -> Value {
        let response = self.call(method, params);
        response.get("result").cloned().unwrap_or_else(|| panic!("{method} failed: {response}"))
    }
}

/// The error code of a response, if it is an error.
pub fn error_code(response: &Value) -> Option<i64> {
    response.pointer("/error/code").and_then(Value::as_i64)
}

/// The permission bits of a path (without following a symlink).
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).mode() & 0o7777
}

/// Runs a command to completion with a time limit, killing it if it overstays.
pub fn run_with_timeout(mut command: Command) -> std::process::Output {
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = command.spawn().expect("spawn");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(TIMEOUT) {
        Ok(output) => output.expect("output"),
        Err(_) => {
            drop(PidGuard(Some(pid)));
            panic!("command {command:?} timed out");
        }
    }
}

/// A real fakellm server (PyPI, installed into `tests/.venv` by `tests/setup.sh`)
/// on a free loopback port, killed when dropped.
pub struct FakeLlm {
    child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl FakeLlm {
    /// Options that make pyrad use this fake as its provider.
    pub fn options(&self) -> PyradOptions {
        PyradOptions::custom_provider(&format!("{}/v1", self.url))
    }

    /// Starts fakellm with `rules` (its YAML config) and waits until it listens.
    pub fn start(rules: &str) -> Self {
        Self::start_offering(rules, &[])
    }

    /// The same, with `models` in its `GET /v1/models` (see `tests/fakes/provider.py`,
    /// which adds that and the usage chunk of OpenAI streams to fakellm).
    pub fn start_offering(rules: &str, models: &[&str]) -> Self {
        let tests = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let python = tests.join(".venv/bin/python");
        assert!(python.exists(), "{} is missing: run tests/setup.sh (make test does)", python.display());
        let dir = tempfile::tempdir().expect("a temp dir");
        let config = dir.path().join("fakellm.yaml");
        std::fs::write(&config, rules).expect("write the fakellm rules");
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let child = Command::new(python)
            .arg(tests.join("fakes/provider.py"))
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--models", &models.join(","), "--config"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn fakellm");
        let server = Self { child, url: format!("http://127.0.0.1:{port}"), _dir: dir };
        let deadline = Instant::now() + TIMEOUT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "fakellm did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback provider that answers every request as OpenAI answers a wrong key
/// (401, `invalid_api_key`), `requests` times; its port.
pub fn refusing_provider(requests: usize) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("its address").port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten().take(requests) {
            let mut buf = [0u8; 65536];
            let _ = stream.read(&mut buf);
            let body = r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

/// Runs pyractl on `home` with `stdin` as its input: (exit code, stdout, stderr),
/// killed if it has not finished within a minute.
pub fn pyractl_with_input(home: &TestHome, args: &[&str], stdin: &str) -> (Option<i32>, String, String) {
    use std::io::Write;
    let mut command = Command::new(bin("pyractl"));
    command.env("PYRA_HOME", home.path()).args(args);
    command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn pyractl");
    let mut input = child.stdin.take().expect("pyractl's stdin");
    let text = stdin.to_owned();
    std::thread::spawn(move || {
        let _ = input.write_all(text.as_bytes());
    });
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    // Output is drained while it runs (a full pipe would stall it).
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(out) => out.expect("pyractl's output"),
        Err(_) => {
            drop(PidGuard(Some(pid)));
            panic!("pyractl {args:?} did not finish");
        }
    };
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Whether process `pid` has ended: gone, or a zombie nobody has reaped yet
/// (a detached pyrad's parent is init, which reaps in its own time).
pub fn process_ended(pid: u32) -> bool {
    // SAFETY: signal 0 only probes.
    if unsafe { libc::kill(pid as i32, 0) } != 0 {
        return true;
    }
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit_once(')').map(|(_, rest)| rest.trim_start().starts_with('Z')))
        .unwrap_or(true)
}

/// Overwrites one page in the middle of the SQLite database at `db` with garbage,
/// as a torn write or a bad sector would.
pub fn damage_inner_page(db: &Path) {
    let mut bytes = std::fs::read(db).expect("read the database");
    let page = u16::from_be_bytes([bytes[16], bytes[17]]) as usize;
    assert!(bytes.len() >= page * 6, "the database has inner pages ({} bytes)", bytes.len());
    for (i, b) in bytes[page * 3..page * 4].iter_mut().enumerate() {
        *b = (i * 7 % 251) as u8;
    }
    std::fs::write(db, bytes).expect("write the database");
}
