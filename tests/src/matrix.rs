//! A real Matrix homeserver for the tests: Synapse (PyPI, in `tests/.venv-synapse`,
//! installed by `tests/setup.sh`) on a free loopback port with SQLite, only the
//! client listener, no federation, owned by a guard that kills it when dropped;
//! users registered with the shared-secret admin API (Synapse's own
//! `register_new_matrix_user`). [`MatrixUser`] is the person's side: a real
//! matrix-sdk client (end-to-end encryption included) that syncs in the
//! background and records every event it sees, decrypted where it can.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use matrix_sdk::config::SyncSettings;
use matrix_sdk::deserialized_responses::TimelineEventKind;
use matrix_sdk::ruma::api::client::room::create_room::v3::Request as CreateRoom;
use matrix_sdk::ruma::{OwnedRoomId, OwnedUserId};
use matrix_sdk::{Client, RoomState};
use serde_json::{Value, json};

/// The homeserver's name (users are `@name:pyra.test`).
pub const SERVER_NAME: &str = "pyra.test";
const START_TIMEOUT: Duration = Duration::from_secs(60);

fn venv() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv-synapse")
}

/// A running Synapse, killed and reaped when dropped (also when a test panics).
pub struct Synapse {
    child: Child,
    port: u16,
    secret: String,
    dir: tempfile::TempDir,
}

impl Synapse {
    pub fn start() -> Self {
        let python = venv().join("bin/python");
        assert!(python.is_file(), "{} is missing: run `bash tests/setup.sh` (make test does)", python.display());
        let dir = tempfile::Builder::new().prefix("synapse-").tempdir().expect("a temp dir");
        let port = free_port();
        let secret = random_hex(16);
        let d = dir.path().display();
        let limit = "{per_second: 1000, burst_count: 1000}";
        let config = format!(
            "server_name: \"{SERVER_NAME}\"
pid_file: {d}/homeserver.pid
listeners:
  - port: {port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: {d}/homeserver.db
log_config: {d}/log.yaml
media_store_path: {d}/media
registration_shared_secret: \"{secret}\"
report_stats: false
macaroon_secret_key: \"{mac}\"
form_secret: \"{form}\"
signing_key_path: {d}/signing.key
trusted_key_servers: []
suppress_key_server_warning: true
federation_domain_whitelist: []
enable_metrics: false
rc_message: {limit}
rc_registration: {limit}
rc_login:
  address: {limit}
  account: {limit}
  failed_attempts: {limit}
rc_joins:
  local: {limit}
  remote: {limit}
rc_invites:
  per_room: {limit}
  per_user: {limit}
  per_issuer: {limit}
rc_key_requests: {limit}
rc_3pid_validation: {limit}
",
            mac = random_hex(16),
            form = random_hex(16),
        );
        let log = format!(
            "version: 1
formatters:
  precise:
    format: '%(asctime)s %(name)s %(levelname)s %(message)s'
handlers:
  file:
    class: logging.FileHandler
    filename: {d}/homeserver.log
    formatter: precise
root:
  level: WARNING
  handlers: [file]
disable_existing_loggers: false
"
        );
        std::fs::write(dir.path().join("homeserver.yaml"), config).expect("write homeserver.yaml");
        std::fs::write(dir.path().join("log.yaml"), log).expect("write log.yaml");
        // An ed25519 signing key of our own (Synapse's format: algorithm, version, seed).
        let seed = {
            use std::io::Read;
            let mut bytes = [0u8; 32];
            std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)).expect("random bytes");
            base64_nopad(&bytes)
        };
        std::fs::write(dir.path().join("signing.key"), format!("ed25519 a_pyra {seed}\n")).expect("write the key");
        let child = spawn(dir.path());
        let mut synapse = Self { child, port, secret, dir };
        synapse.wait_listening();
        synapse
    }

    fn wait_listening(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        let port = self.port;
        let synapse = self;
        loop {
            if crate::telegram::http(port, "GET", "/_matrix/client/versions", None, b"", Duration::from_secs(2))
                .is_ok_and(|r| r.status == 200)
            {
                return;
            }
            if let Ok(Some(status)) = synapse.child.try_wait() {
                panic!("synapse exited before listening ({status}):\n{}", synapse.log());
            }
            assert!(Instant::now() < deadline, "synapse did not listen within {START_TIMEOUT:?}:\n{}", synapse.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        let read = |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        format!("{}{}", read("stderr.log"), read("homeserver.log"))
    }

    /// Registers `name` with `password` through the shared-secret admin API; returns the Matrix id.
    pub fn register(&self, name: &str, password: &str) -> String {
        let output = Command::new(venv().join("bin/register_new_matrix_user"))
            .args(["-u", name, "-p", password, "--no-admin", "-k", &self.secret])
            .arg(self.url())
            .stdin(Stdio::null())
            .output()
            .expect("run register_new_matrix_user");
        assert!(output.status.success(), "registering {name} failed: {output:?}");
        format!("@{name}:{SERVER_NAME}")
    }

    /// Stops the homeserver (the guard's drop does the same), for tests of a homeserver that is down.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the stopped homeserver again: same port, same database.
    pub fn restart(&mut self) {
        self.kill();
        self.child = spawn(self.dir.path());
        self.wait_listening();
    }
}

fn spawn(dir: &std::path::Path) -> Child {
    let stderr = std::fs::File::create(dir.join("stderr.log")).expect("create the log");
    Command::new(venv().join("bin/python"))
        .args(["-m", "synapse.app.homeserver", "-c"])
        .arg(dir.join("homeserver.yaml"))
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .process_group(0)
        .spawn()
        .expect("spawn synapse")
}

impl Drop for Synapse {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free loopback port")
}

fn random_hex(bytes: usize) -> String {
    use std::io::Read;
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut buf)).expect("random bytes");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

fn base64_nopad(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// One event a [`MatrixUser`] saw in a room.
#[derive(Debug, Clone)]
pub struct Seen {
    pub room: String,
    pub sender: String,
    pub event_id: String,
    /// The event's (decrypted) JSON.
    pub event: Value,
    /// It came encrypted (and was decrypted).
    pub encrypted: bool,
    /// It came encrypted and could not be decrypted.
    pub undecryptable: bool,
}

impl Seen {
    pub fn kind(&self) -> &str {
        self.event["type"].as_str().unwrap_or_default()
    }
    pub fn body(&self) -> &str {
        self.event["content"]["body"].as_str().unwrap_or_default()
    }
    /// The event this one edits, if it is an edit.
    pub fn replaces(&self) -> Option<&str> {
        let r = &self.event["content"]["m.relates_to"];
        (r["rel_type"] == "m.replace").then(|| r["event_id"].as_str()).flatten()
    }
    pub fn in_reply_to(&self) -> Option<&str> {
        self.event["content"]["m.relates_to"]["m.in_reply_to"]["event_id"].as_str()
    }
}

/// A person on the homeserver: a matrix-sdk client with its own runtime, syncing
/// in the background. Its methods block, so tests read as the person's steps.
pub struct MatrixUser {
    pub id: String,
    rt: tokio::runtime::Runtime,
    client: Client,
    seen: Arc<Mutex<Vec<Seen>>>,
    sync: tokio::task::JoinHandle<()>,
}

impl MatrixUser {
    pub fn login(synapse: &Synapse, name: &str, password: &str) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
        let client = rt.block_on(async {
            let client = Client::builder().homeserver_url(synapse.url()).build().await.expect("a matrix client");
            client.matrix_auth().login_username(name, password).send().await.expect("log in");
            client.sync_once(SyncSettings::default()).await.expect("the first sync");
            client
        });
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sync = rt.spawn(record(client.clone(), seen.clone()));
        let id = client.user_id().expect("logged in").to_string();
        Self { id, rt, client, seen, sync }
    }

    /// Creates a room and invites `invite`; `encrypted` turns on Megolm from the start.
    pub fn create_room(&self, invite: &[&str], encrypted: bool) -> String {
        self.rt.block_on(async {
            let mut request = CreateRoom::new();
            request.invite = invite.iter().map(|u| OwnedUserId::try_from(*u).expect("a user id")).collect();
            request.is_direct = invite.len() == 1;
            if encrypted {
                let state = json!({"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}});
                request.initial_state = vec![serde_json::from_value(state).expect("an initial state event")];
            }
            let room = self.client.create_room(request).await.expect("create a room");
            room.room_id().to_string()
        })
    }

    /// Invites another user to a room of ours.
    pub fn invite(&self, room: &str, user: &str) {
        self.rt.block_on(async {
            let room = self.room(room);
            room.invite_user_by_id(&OwnedUserId::try_from(user).expect("a user id")).await.expect("invite");
        });
    }

    /// Joins a room we were invited to (waits for the invite to arrive).
    pub fn join(&self, room: &str) {
        let deadline = Instant::now() + crate::TIMEOUT;
        loop {
            let joined = self.rt.block_on(async {
                let id = OwnedRoomId::try_from(room).expect("a room id");
                match self.client.get_room(&id) {
                    Some(r) if r.state() == RoomState::Invited => r.join().await.is_ok(),
                    Some(r) => r.state() == RoomState::Joined,
                    None => false,
                }
            });
            if joined {
                return;
            }
            assert!(Instant::now() < deadline, "{} could not join {room}", self.id);
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn room(&self, room: &str) -> matrix_sdk::Room {
        let id = OwnedRoomId::try_from(room).expect("a room id");
        self.client.get_room(&id).unwrap_or_else(|| panic!("{} is not in {room}", self.id))
    }

    /// Waits until `user` has joined `room` (as this user sees it).
    pub fn wait_joined(&self, room: &str, user: &str) {
        let deadline = Instant::now() + crate::TIMEOUT;
        loop {
            let joined =
                self.rt.block_on(async {
                    let room = self.room(room);
                    let user = OwnedUserId::try_from(user).expect("a user id");
                    room.get_member_no_sync(&user).await.ok().flatten().is_some_and(|m| {
                        *m.membership() == matrix_sdk::ruma::events::room::member::MembershipState::Join
                    })
                });
            if joined {
                return;
            }
            assert!(Instant::now() < deadline, "{user} did not join {room}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends a text message; returns its event id.
    pub fn send_text(&self, room: &str, text: &str) -> String {
        self.send(room, json!({"msgtype": "m.text", "body": text}))
    }

    /// Sends an `m.room.message` with this content; returns its event id.
    pub fn send(&self, room: &str, content: Value) -> String {
        self.rt.block_on(async {
            let room = self.room(room);
            room.send_raw("m.room.message", content).await.expect("send a message").response.event_id.to_string()
        })
    }

    /// Sends an event of any type as it is (not encrypted by this client); returns its id.
    pub fn send_event(&self, room: &str, kind: &str, content: Value) -> String {
        self.rt.block_on(async {
            let room = self.room(room);
            room.send_raw(kind, content).await.expect("send an event").response.event_id.to_string()
        })
    }

    /// Reacts to an event with `key` (an emoji).
    pub fn react(&self, room: &str, event_id: &str, key: &str) {
        self.rt.block_on(async {
            let room = self.room(room);
            let content = json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}});
            room.send_raw("m.reaction", content).await.expect("send a reaction");
        });
    }

    /// Everything seen in `room` so far.
    pub fn seen(&self, room: &str) -> Vec<Seen> {
        self.seen.lock().expect("the record").iter().filter(|s| s.room == room).cloned().collect()
    }

    /// What `sender` sent in `room`.
    pub fn from(&self, room: &str, sender: &str) -> Vec<Seen> {
        self.seen(room).into_iter().filter(|s| s.sender == sender).collect()
    }

    /// Waits until `check` holds for the events seen in `room`; returns them.
    pub fn wait_for(&self, room: &str, timeout: Duration, check: impl Fn(&[Seen]) -> bool) -> Vec<Seen> {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = self.seen(room);
            if check(&seen) {
                return seen;
            }
            assert!(Instant::now() < deadline, "timed out in {room}; {} saw:\n{:#?}", self.id, seen);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the room is encrypted, as this user's client knows it.
    pub fn is_encrypted(&self, room: &str) -> bool {
        self.rt.block_on(async { self.room(room).latest_encryption_state().await.is_ok_and(|s| s.is_encrypted()) })
    }

    /// How many devices `user` has, as this user's client knows them.
    pub fn device_count(&self, user: &str) -> usize {
        self.rt.block_on(async {
            let user = OwnedUserId::try_from(user).expect("a user id");
            let devices = self.client.encryption().get_user_devices(&user).await.expect("the devices");
            devices.devices().count()
        })
    }
}

impl Drop for MatrixUser {
    fn drop(&mut self) {
        self.sync.abort();
    }
}

/// Syncs until aborted, recording every timeline event of every joined room.
async fn record(client: Client, seen: Arc<Mutex<Vec<Seen>>>) {
    loop {
        let response = match client.sync_once(SyncSettings::default().timeout(Duration::from_secs(5))).await {
            Ok(r) => r,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let mut record = seen.lock().expect("the record");
        for (room, update) in &response.rooms.joined {
            for raw in &update.ephemeral {
                let Ok(value) = serde_json::from_str::<Value>(raw.json().get()) else { continue };
                if value["type"] == "m.typing" {
                    record.push(Seen {
                        room: room.to_string(),
                        sender: String::new(),
                        event_id: String::new(),
                        event: value,
                        encrypted: false,
                        undecryptable: false,
                    });
                }
            }
            for event in &update.timeline.events {
                let (encrypted, undecryptable) = match &event.kind {
                    TimelineEventKind::Decrypted(_) => (true, false),
                    TimelineEventKind::UnableToDecrypt { .. } => (true, true),
                    TimelineEventKind::PlainText { .. } => (false, false),
                };
                let Ok(value) = serde_json::from_str::<Value>(event.raw().json().get()) else { continue };
                record.push(Seen {
                    room: room.to_string(),
                    sender: value["sender"].as_str().unwrap_or_default().to_owned(),
                    event_id: value["event_id"].as_str().unwrap_or_default().to_owned(),
                    event: value,
                    encrypted,
                    undecryptable,
                });
            }
        }
    }
}
