//! pyrad's life as a service: start-up, the home it creates, one instance per
//! home, stale sockets, signals, sd_notify, refusing other users, bad config.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use pyra_tests::*;
use serde_json::{Value, json};

#[test]
fn hello_and_status_describe_the_running_daemon() {
    let home = TestHome::new();
    let pyrad = Pyrad::start(&home);
    let mut client = RawClient::connect(&pyrad.socket);
    let hello = client.hello();
    let result = &hello["result"];
    assert_eq!(result["protocol"], "pyra");
    assert_eq!(result["version"], proto::PROTOCOL_VERSION);
    assert_eq!(result["pid"], pyrad.pid());
    assert!(result["daemon"].as_str().unwrap().starts_with("pyrad/"));
    assert!(result["features"].as_array().unwrap().contains(&json!("status")));

    let status = client.result("daemon.status", json!({}));
    assert_eq!(status["pid"], pyrad.pid());
    assert_eq!(status["home"], home.path().display().to_string());
    assert_eq!(status["socket"], home.socket().display().to_string());
    assert_eq!(status["connections"], 1);
    assert_eq!(status["database"]["schema_version"], 13);
    assert_eq!(status["database"]["previous_run_clean"], Value::Null);
    assert!(status["uptime_secs"].as_f64().unwrap() >= 0.0);
    for section in ["provider", "sessions", "plugins", "bots"] {
        assert!(status.get(section).is_some(), "status lacks {section}");
    }
    // The log says where the start's time went, step by step.
    let log = home.log();
    let ready = log.lines().find(|l| l.contains(" ready in ")).unwrap_or_else(|| panic!("{log}"));
    for step in ["home ", "config ", "store ", "vault ", "memory ", "bind "] {
        assert!(ready.contains(step), "{step:?} missing from {ready:?}");
    }
}

#[test]
fn every_file_and_directory_in_the_home_is_private() {
    let home = TestHome::new();
    let pyrad = Pyrad::start(&home);
    pyrad.client().result("daemon.status", json!({}));
    let root = home.path();
    for expected in [
        "config.toml",
        "logs/pyrad.log",
        "data/pyra.db",
        "data/pyra.db-wal",
        "run/pyrad.sock",
        "run/pyrad.pid",
        "vault/.vault_lock",
        "plugins",
        "memory",
    ] {
        assert!(root.join(expected).exists(), "{expected} missing");
    }
    let mut seen = 0;
    let mut stack = vec![root.clone()];
    while let Some(path) = stack.pop() {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let want = if meta.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            0o700
        } else if path.ends_with("vault/.vault_lock") || path.ends_with("vault/identity.txt") {
            0o400
        } else {
            0o600
        };
        assert_eq!(mode(&path), want, "{} has mode {:04o}", path.display(), mode(&path));
        seen += 1;
    }
    assert!(seen >= 15, "walked only {seen} entries");
}

#[test]
fn a_second_instance_exits_nonzero_naming_the_running_pid() {
    let home = TestHome::new();
    let pyrad = Pyrad::start(&home);
    let mut command = Pyrad::command(&home, &PyradOptions::default());
    command.env("PYRA_STDERR_LOG", "0");
    let output = run_with_timeout(command);
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("already running for this home (pid {})", pyrad.pid())), "{stderr}");
    // The first one is unharmed.
    pyrad.client().result("daemon.status", json!({}));
}

#[test]
fn a_stale_socket_left_by_a_crash_is_replaced() {
    let home = TestHome::new();
    let mut crashed = Pyrad::start(&home);
    crashed.signal(libc::SIGKILL);
    crashed.wait_exit();
    assert!(home.socket().exists(), "SIGKILL leaves the socket file behind");
    assert!(std::os::unix::net::UnixStream::connect(home.socket()).is_err(), "nobody listens on it");

    let pyrad = Pyrad::start(&home);
    let status = pyrad.client().result("daemon.status", json!({}));
    assert_eq!(status["pid"], pyrad.pid());
    assert_eq!(status["database"]["previous_run_clean"], false, "the crash is remembered");
    assert!(home.log().contains("replaced a stale socket"), "{}", home.log());
}

#[test]
fn sigterm_stops_cleanly_and_removes_the_socket() {
    let home = TestHome::new();
    let mut pyrad = Pyrad::start(&home);
    let mut client = pyrad.client();
    pyrad.signal(libc::SIGTERM);
    let event = client.recv_message();
    assert_eq!(event["method"], "daemon.stopping", "{event}");
    assert_eq!(event["params"]["reason"], "signal");
    assert!(client.is_closed());
    let status = pyrad.wait_exit();
    assert_eq!(status.code(), Some(0));
    assert!(!home.socket().exists(), "socket removed");
    assert!(!home.path().join("run/pyrad.pid").exists(), "pid file removed");
    assert!(pyrad.notify.wait_for("STOPPING=1", 1), "{:?}", pyrad.notify.messages());

    // The next start knows this run ended cleanly.
    let again = Pyrad::start(&home);
    assert_eq!(again.client().result("daemon.status", json!({}))["database"]["previous_run_clean"], true);
}

#[test]
fn daemon_shutdown_answers_then_exits_zero() {
    let home = TestHome::new();
    let mut pyrad = Pyrad::start(&home);
    let mut client = pyrad.client();
    let result = client.result("daemon.shutdown", json!({}));
    assert_eq!(result["pid"], pyrad.pid());
    assert_eq!(pyrad.wait_exit().code(), Some(0));
    assert!(!home.socket().exists());
}

#[test]
fn sd_notify_gets_ready_status_watchdog_and_stopping() {
    let home = TestHome::new();
    let options = PyradOptions { env: vec![("WATCHDOG_USEC".into(), "100000".into())] };
    let mut pyrad = Pyrad::start_with(&home, options);
    let messages = pyrad.notify.messages();
    let ready = messages.iter().position(|m| m == "READY=1").expect("READY=1");
    assert!(messages.iter().any(|m| m.starts_with("STATUS=serving on ")), "{messages:?}");
    assert!(pyrad.notify.wait_for("WATCHDOG=1", 3), "watchdog pings: {messages:?}");
    // READY=1 is sent only once the socket accepts.
    assert!(ready < messages.len());
    pyrad.client();
    pyrad.signal(libc::SIGINT);
    assert_eq!(pyrad.wait_exit().code(), Some(0));
    assert!(pyrad.notify.wait_for("STOPPING=1", 1));
    assert_eq!(pyrad.notify.count("READY=1"), 1);
}

#[test]
fn a_connection_from_another_uid_is_refused_and_logged() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: switching to another uid needs root (CI runs as root)");
        return;
    }
    let home = TestHome::new();
    let pyrad = Pyrad::start(&home);
    let mut bystander = pyrad.client();
    // `nobody` could not even reach a 0600 socket in a 0700 dir; give it
    // CAP_DAC_OVERRIDE so the peer-uid check itself is what stops it.
    let mut command = std::process::Command::new("setpriv");
    command
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .args(["--inh-caps=+dac_override", "--ambient-caps=+dac_override"])
        .arg(bin("pyractl"))
        .arg("--socket")
        .arg(&pyrad.socket)
        .args(["status", "--json"]);
    let output = run_with_timeout(command);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    // Words for people; the JSON-RPC code is for scripts, not the terminal.
    assert!(stderr.contains("serves only its own user") && !stderr.contains("code"), "{stderr}");
    assert!(home.log().contains("refused a connection from another user"), "{}", home.log());
    assert!(home.log().contains("peer_uid=Some(65534)"), "{}", home.log());
    bystander.result("daemon.status", json!({}));
}

fn start_failure(home: &TestHome, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let options = PyradOptions { env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() };
    let mut command = Pyrad::command(home, &options);
    command.env("PYRA_STDERR_LOG", "0");
    let output = run_with_timeout(command);
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

fn set_up(home: &TestHome) {
    let mut pyrad = Pyrad::start(home);
    pyrad.signal(libc::SIGTERM);
    assert_eq!(pyrad.wait_exit().code(), Some(0));
}

#[test]
fn a_bad_config_stops_start_up_with_file_line_and_column() {
    let home = TestHome::new();
    set_up(&home);
    let config = home.path().join("config.toml");
    let original = std::fs::read_to_string(&config).unwrap();

    std::fs::write(&config, "[daemon]\nlog_level = \"info\nx").unwrap();
    let (code, stderr) = start_failure(&home, &[]);
    assert_eq!(code, Some(78));
    assert!(stderr.contains(&format!("{}:3:", config.display())), "{stderr}");

    std::fs::write(&config, "[ipc]\nmax_conections = 3\n").unwrap();
    let (code, stderr) = start_failure(&home, &[]);
    assert_eq!(code, Some(78));
    assert!(stderr.contains(":2:1:") && stderr.contains("max_conections") && stderr.contains("expected"), "{stderr}");

    std::fs::write(&config, "[ipc]\nmax_connections = \"many\"\n").unwrap();
    let (code, stderr) = start_failure(&home, &[]);
    assert_eq!(code, Some(78));
    assert!(stderr.contains(":2:19:") && stderr.contains("expected usize"), "{stderr}");

    // A value of the right type that makes no sense: a daemon nobody could reach.
    std::fs::write(&config, "[ipc]\nmax_connections = 0\n").unwrap();
    let (code, stderr) = start_failure(&home, &[]);
    assert_eq!(code, Some(78));
    assert!(stderr.contains(":2:19:") && stderr.contains("must be from 1 to 65536"), "{stderr}");
    std::fs::write(&config, "[approval]\ntimeout_secs = 0\n").unwrap();
    let (code, stderr) = start_failure(&home, &[]);
    assert_eq!(code, Some(78));
    assert!(stderr.contains(":2:16:") && stderr.contains("out of range"), "{stderr}");

    std::fs::write(&config, &original).unwrap();
    let (code, stderr) = start_failure(&home, &[("PYRA__DAEMON__SHUTDOWN_TIMEOUT_SECS", "soon")]);
    assert_eq!(code, Some(78));
    assert!(stderr.contains("PYRA__DAEMON__SHUTDOWN_TIMEOUT_SECS"), "{stderr}");
}

#[test]
fn the_environment_layer_overrides_the_file() {
    let home = TestHome::new();
    let options = PyradOptions { env: vec![("PYRA__DAEMON__LOG_LEVEL".into(), "debug".into())] };
    let mut pyrad = Pyrad::start_with(&home, options);
    assert_eq!(pyrad.client().result("daemon.status", json!({}))["log_level"], "debug");
    pyrad.signal(libc::SIGTERM);
    pyrad.wait_exit();

    // PYRA_LOG wins over both.
    let options = PyradOptions {
        env: vec![("PYRA__DAEMON__LOG_LEVEL".into(), "debug".into()), ("PYRA_LOG".into(), "warn".into())],
    };
    let pyrad = Pyrad::start_with(&home, options);
    assert_eq!(pyrad.client().result("daemon.status", json!({}))["log_level"], "warn");
}

#[test]
fn loosened_modes_are_repaired_and_reported() {
    let home = TestHome::new();
    set_up(&home);
    let root = home.path();
    std::fs::set_permissions(root.join("config.toml"), std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(root.join("logs"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(root.join("data/pyra.db"), std::fs::Permissions::from_mode(0o666)).unwrap();
    std::fs::set_permissions(root.join("vault/secrets.age"), std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(root.join("memory/notes.md"), "kept").unwrap();
    std::fs::set_permissions(root.join("memory/notes.md"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let _pyrad = Pyrad::start(&home);
    assert_eq!(mode(&root.join("vault/secrets.age")), 0o600);
    assert_eq!(mode(&root.join("memory/notes.md")), 0o600);
    assert_eq!(mode(&root.join("config.toml")), 0o600);
    assert_eq!(mode(&root.join("logs")), 0o700);
    assert_eq!(mode(&root.join("data/pyra.db")), 0o600);
    let log = home.log();
    assert!(
        log.contains(&format!("repaired the mode of {}: was 0644, now 0600", root.join("config.toml").display())),
        "{log}"
    );
    assert!(log.contains("was 0755, now 0700"), "{log}");
    for file in ["vault/secrets.age", "memory/notes.md"] {
        let line = format!("repaired the mode of {}: was 0644, now 0600", root.join(file).display());
        assert!(log.contains(&line), "{file}: {log}");
    }
}

#[test]
fn a_deleted_vault_secrets_file_refuses_to_start_rather_than_start_empty() {
    let home = TestHome::new();
    set_up(&home);
    let secrets = home.path().join("vault/secrets.age");
    assert!(secrets.exists(), "a set-up vault has its secrets file");
    std::fs::remove_file(&secrets).unwrap();
    let (code, stderr) = start_failure(&home, &[]);
    assert_eq!(code, Some(78), "{stderr}");
    assert!(stderr.contains(&secrets.display().to_string()) && stderr.contains("is missing"), "{stderr}");
    assert!(stderr.contains("pyractl restore"), "{stderr}");
    assert!(!secrets.exists(), "no empty vault was put in its place");
}

#[test]
fn a_missing_vault_sentinel_refuses_to_start() {
    let home = TestHome::new();
    set_up(&home);
    std::fs::remove_file(home.path().join("vault/.vault_lock")).unwrap();
    let (code, stderr) = start_failure(&home, &[]);
    assert_eq!(code, Some(78));
    assert!(stderr.contains("vault sentinel") && stderr.contains("chmod 0400"), "{stderr}");
}

#[test]
fn a_symlinked_home_entry_is_refused() {
    let home = TestHome::new();
    set_up(&home);
    let logs = home.path().join("logs");
    std::fs::remove_dir_all(&logs).unwrap();
    std::os::unix::fs::symlink(home.scratch(), &logs).unwrap();
    let (code, stderr) = start_failure(&home, &[]);
    assert_eq!(code, Some(78));
    assert!(stderr.contains("is a symlink"), "{stderr}");
}

#[test]
fn a_corrupt_database_refuses_to_start_and_is_kept() {
    let home = TestHome::new();
    set_up(&home);
    let db = home.path().join("data/pyra.db");
    let garbage = b"definitely not sqlite, but somebody's data".repeat(200);
    std::fs::write(&db, &garbage).unwrap();
    let (code, stderr) = start_failure(&home, &[]);
    assert_eq!(code, Some(78));
    assert!(stderr.contains(&db.display().to_string()) && stderr.contains("not a database"), "{stderr}");
    assert!(std::fs::read(&db).unwrap() == garbage, "the database file was changed");
}

#[test]
fn a_relative_socket_path_that_escapes_the_home_is_refused() {
    let home = TestHome::new();
    let (code, stderr) = start_failure(&home, &[("PYRA__IPC__SOCKET", "../elsewhere.sock")]);
    assert_eq!(code, Some(78));
    assert!(stderr.contains("leaves"), "{stderr}");
    assert!(!Path::new(&home.scratch().join("elsewhere.sock")).exists());
}

#[test]
fn a_configured_socket_in_a_private_dir_is_used() {
    let home = TestHome::new();
    let socket = home.scratch().join("sock/p.sock");
    let options = PyradOptions { env: vec![("PYRA__IPC__SOCKET".into(), socket.display().to_string())] };
    let pyrad = Pyrad::start_with(&home, options);
    assert_eq!(mode(&socket), 0o600);
    assert_eq!(mode(socket.parent().unwrap()), 0o700);
    let status = RawClient::connect(&socket).result_after_hello();
    assert_eq!(status["socket"], socket.display().to_string());
    drop(pyrad);
}

trait AfterHello {
    fn result_after_hello(self) -> Value;
}

impl AfterHello for RawClient {
    fn result_after_hello(mut self) -> Value {
        self.hello();
        self.result("daemon.status", json!({}))
    }
}

#[test]
fn a_sigterm_right_after_ready_still_stops_cleanly() {
    // READY=1 promises the daemon is fully up, its signal handling included.
    let home = TestHome::new();
    // The race it guards against is a few microseconds wide: try often.
    for _ in 0..150 {
        let mut pyrad = Pyrad::start(&home);
        pyrad.signal(libc::SIGTERM);
        assert_eq!(pyrad.wait_exit().code(), Some(0), "killed by the signal instead of stopping");
    }
}

#[test]
fn pyrad_log_is_rotated_past_its_cap() {
    let home = TestHome::new();
    let options = PyradOptions {
        env: vec![("PYRA_LOG".into(), "debug".into()), ("PYRA__DAEMON__LOG_MAX_MIB".into(), "1".into())],
    };
    let pyrad = Pyrad::start_with(&home, options);
    let mut client = pyrad.client();
    // Each ignored notification is logged with its method name: 3 MiB of log.
    let method = "x".repeat(100 * 1024);
    for _ in 0..30 {
        client.send(&json!({"jsonrpc": "2.0", "method": method}));
    }
    client.result("daemon.status", json!({}));
    let log = home.path().join("logs/pyrad.log");
    let rotated = home.path().join("logs/pyrad.log.1");
    for file in [&log, &rotated] {
        let meta = std::fs::metadata(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(meta.len() <= 1024 * 1024, "{}: {} bytes", file.display(), meta.len());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{}", file.display());
    }
    assert!(std::fs::metadata(&rotated).unwrap().len() > 512 * 1024);
}

#[test]
fn a_start_that_failed_before_serving_is_no_unclean_stop() {
    let home = TestHome::new();
    set_up(&home);
    // A start that fails late (the vault, after the database was opened).
    let secrets = home.path().join("vault/secrets.age");
    let aside = home.scratch().join("secrets.age");
    std::fs::rename(&secrets, &aside).unwrap();
    let (code, _) = start_failure(&home, &[]);
    assert_eq!(code, Some(78));
    std::fs::rename(&aside, &secrets).unwrap();

    let pyrad = Pyrad::start(&home);
    let status = pyrad.client().result("daemon.status", json!({}));
    assert_eq!(status["database"]["previous_run_clean"], true, "{status}");
    assert!(!home.log().contains("did not stop cleanly"), "{}", home.log());
}

#[test]
fn a_damaged_database_is_found_at_start_and_the_backup_named() {
    let home = TestHome::new();
    set_up(&home);
    let db = home.path().join("data/pyra.db");
    let backups: Vec<_> = std::fs::read_dir(home.path().join("data/backups")).unwrap().flatten().collect();
    assert_eq!(backups.len(), 1, "the first run made a backup");
    let backup = backups[0].path();
    damage_inner_page(&db);
    let damaged = std::fs::read(&db).unwrap();
    let (code, stderr) = start_failure(&home, &[]);
    assert_eq!(code, Some(78), "{stderr}");
    assert!(stderr.contains(&db.display().to_string()) && stderr.contains("is damaged"), "{stderr}");
    assert!(stderr.contains(&format!("pyractl restore {}", backup.display())), "{stderr}");
    assert_eq!(std::fs::read(&db).unwrap(), damaged, "the damaged file is kept as it was");
}

/// Writes `seal` as a clean stop would have for `file` as it is now: the damage
/// the tests make then looks like damage from below the file system, which no
/// change time shows.
fn forge_seal(file: &Path, seal: &Path, note: u32) {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(file).unwrap();
    let (dev, ino, size) = (m.dev(), m.ino(), m.size());
    let line =
        format!("v1 {dev} {ino} {size} {} {} {} {} {note}\n", m.mtime(), m.mtime_nsec(), m.ctime(), m.ctime_nsec());
    std::fs::write(seal, line).unwrap();
}

/// The last " ready in " line of the log.
fn ready_line(home: &TestHome) -> String {
    let log = home.log();
    log.lines().rev().find(|l| l.contains(" ready in ")).map(str::to_owned).unwrap_or_else(|| panic!("{log}"))
}

#[test]
fn after_a_clean_stop_pyrad_is_ready_before_it_opens_the_database_and_after_a_crash_it_is_not() {
    let home = TestHome::new();
    set_up(&home);
    let (db_seal, vault_seal) = (home.path().join("run/database.sealed"), home.path().join("run/vault.sealed"));
    assert!(db_seal.exists() && vault_seal.exists(), "a clean stop seals the database and the vault");
    assert_eq!(mode(&db_seal), 0o600);
    let pyrad = Pyrad::start(&home);
    let status = pyrad.client().result("daemon.status", json!({}));
    assert_eq!(status["database"]["previous_run_clean"], true, "{status}");
    assert_eq!(status["database"]["schema_version"], 13, "{status}");
    let ready = ready_line(&home);
    let (before, after) = ready.split_once(", serving ").unwrap_or_else(|| panic!("READY came last: {ready}"));
    assert!(before.contains("bind ") && !before.contains("store "), "{ready}");
    assert!(after.contains("store ") && after.contains("memory ") && after.contains("plugins "), "{ready}");
    // A kill once the run has written (its row in the WAL) leaves the seal
    // stale: the next start checks and opens everything before READY.
    let wal = home.path().join("data/pyra.db-wal");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) == 0 {
        assert!(std::time::Instant::now() < deadline, "the run never wrote its row");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    pyrad.signal(libc::SIGKILL);
    drop(pyrad);
    let pyrad = Pyrad::start(&home);
    let status = pyrad.client().result("daemon.status", json!({}));
    assert_eq!(status["database"]["previous_run_clean"], false, "{status}");
    let ready = ready_line(&home);
    assert!(!ready.contains(", serving ") && ready.contains("store "), "{ready}");
}

#[test]
fn damage_beneath_the_seal_is_found_just_after_ready_and_refused_before_ready_next_time() {
    let home = TestHome::new();
    set_up(&home);
    let db = home.path().join("data/pyra.db");
    let seal = home.path().join("run/database.sealed");
    damage_inner_page(&db);
    forge_seal(&db, &seal, 13);
    let mut pyrad = Pyrad::start(&home);
    assert_eq!(pyrad.wait_exit().code(), Some(78), "{}", home.log());
    let log = home.log();
    assert!(log.contains("is damaged") && log.contains("found by the check just after the start"), "{log}");
    assert!(!seal.exists(), "the seal that vouched for it is gone");
    let (code, stderr) = start_failure(&home, &[]);
    assert_eq!(code, Some(78), "{stderr}");
    assert!(stderr.contains("is damaged") && stderr.contains("pyrad will not start on it"), "{stderr}");
}

#[test]
fn a_vault_that_no_longer_decrypts_beneath_its_seal_stops_pyrad_just_after_ready() {
    let home = TestHome::new();
    set_up(&home);
    let secrets = home.path().join("vault/secrets.age");
    let seal = home.path().join("run/vault.sealed");
    std::fs::write(&secrets, b"age-encryption.org/v1\n-> X25519 garbage\n").unwrap();
    forge_seal(&secrets, &seal, 0);
    let mut pyrad = Pyrad::start(&home);
    assert_eq!(pyrad.wait_exit().code(), Some(78), "{}", home.log());
    let log = home.log();
    assert!(log.contains("cannot be decrypted") && log.contains("found by the check just after the start"), "{log}");
    assert!(!seal.exists(), "the seal that vouched for it is gone");
    let (code, stderr) = start_failure(&home, &[]);
    assert_eq!(code, Some(78), "{stderr}");
    assert!(stderr.contains("cannot be decrypted"), "{stderr}");
}

#[test]
fn an_empty_database_file_is_refused_not_recreated() {
    let home = TestHome::new();
    set_up(&home);
    let db = home.path().join("data/pyra.db");
    std::fs::write(&db, b"").unwrap();
    let (code, stderr) = start_failure(&home, &[]);
    assert_eq!(code, Some(78), "{stderr}");
    assert!(stderr.contains("is damaged (it is empty, 0 bytes)"), "{stderr}");
    assert_eq!(std::fs::metadata(&db).unwrap().len(), 0);
}

/// A private mount namespace with a small tmpfs over `dir`, held open by a
/// sleeping process (killed on drop). `None` where this machine cannot make one.
struct SmallDisk {
    holder: std::process::Child,
}

impl SmallDisk {
    fn over(dir: &Path, size: &str) -> Option<Self> {
        let script =
            format!("mount -t tmpfs -o size={size},mode=0700 pyra-test \"$1\" && echo ready && exec sleep 300");
        let mut holder = std::process::Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c", &script, "sh"])
            .arg(dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let mut ready = String::new();
        use std::io::BufRead;
        std::io::BufReader::new(holder.stdout.take()?).read_line(&mut ready).ok()?;
        if ready.trim() != "ready" {
            let _ = holder.kill();
            let _ = holder.wait();
            return None;
        }
        Some(Self { holder })
    }

    /// `path` as the processes in the namespace see it.
    fn inside(&self, path: &Path) -> std::path::PathBuf {
        Path::new(&format!("/proc/{}/root", self.holder.id())).join(path.strip_prefix("/").unwrap())
    }

    fn wrapper(&self) -> Vec<String> {
        vec!["nsenter".into(), "-t".into(), self.holder.id().to_string(), "-m".into(), "--".into()]
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

#[test]
fn a_clean_stop_on_a_full_disk_is_still_known_as_clean() {
    let home = TestHome::new();
    set_up(&home);
    let data = home.path().join("data");
    let saved = home.scratch().join("data");
    std::fs::rename(&data, &saved).unwrap();
    std::fs::create_dir(&data).unwrap();
    let Some(disk) = SmallDisk::over(&data, "4m") else {
        eprintln!("SKIPPED: this machine cannot mount a private tmpfs (unshare --mount needs root or user namespaces)");
        return;
    };
    // The database moves onto the small disk, with its backups: a backup due at
    // start would race the filling below for the last free bytes.
    for entry in std::fs::read_dir(&saved).unwrap().flatten() {
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), disk.inside(&data.join(entry.file_name()))).unwrap();
        }
    }
    let backups = data.join("backups");
    std::fs::create_dir(disk.inside(&backups)).unwrap();
    for entry in std::fs::read_dir(saved.join("backups")).unwrap().flatten() {
        std::fs::copy(entry.path(), disk.inside(&backups.join(entry.file_name()))).unwrap();
    }
    let wrapper = disk.wrapper();
    let wrapper: Vec<&str> = wrapper.iter().map(String::as_str).collect();
    let mut pyrad = Pyrad::start_under(&home, PyradOptions::default(), &wrapper);
    pyrad.client().result("daemon.status", json!({}));
    // Fill the disk to the last byte.
    let filler = disk.inside(&data.join("filler"));
    let mut file = std::fs::File::create(&filler).unwrap();
    let block = vec![0u8; 64 * 1024];
    use std::io::Write;
    while file.write_all(&block).is_ok() {}
    let _ = file.sync_all();
    drop(file);
    pyrad.signal(libc::SIGTERM);
    assert_eq!(pyrad.wait_exit().code(), Some(0), "a full disk does not make a clean stop fail: {}", home.log());
    assert!(home.log().contains("could not record the clean stop in the database"), "{}", home.log());

    // Space is freed; the next start knows the last run stopped cleanly.
    std::fs::remove_file(&filler).unwrap();
    let pyrad = Pyrad::start_under(&home, PyradOptions::default(), &wrapper);
    let status = pyrad.client().result("daemon.status", json!({}));
    assert_eq!(status["database"]["previous_run_clean"], true, "{status}");
    let log = home.log();
    assert!(!log.contains("did not stop cleanly"), "{log}");
}

/// SIGHUP (the unit's ExecReload) applies an edited config.toml live: same pid,
/// `RELOADING=1` then `READY=1` for the service manager, and a config that does
/// not load changes nothing.
#[test]
fn sighup_reloads_the_config_without_a_restart() {
    let home = TestHome::new();
    let mut pyrad = Pyrad::start(&home);
    let pid = pyrad.pid();
    let path = home.path().join("config.toml");
    let original = std::fs::read_to_string(&path).unwrap();
    let edited = original
        .replace("preset = \"\"", "preset = \"ollama\"")
        .replace("model = \"\"", "model = \"llama3.2\"")
        .replace("unattended_allow = []", "unattended_allow = [\"memory__list\"]");
    assert_ne!(edited, original);
    std::fs::write(&path, &edited).unwrap();
    pyrad.signal(libc::SIGHUP);
    assert!(pyrad.notify.wait_for("READY=1", 2), "{:?}", pyrad.notify.messages());
    let messages = pyrad.notify.messages();
    let reloading = messages.iter().position(|m| m == "RELOADING=1").expect("RELOADING=1");
    assert!(messages[reloading + 1..].iter().any(|m| m.starts_with("MONOTONIC_USEC=")), "{messages:?}");
    assert!(messages.iter().rposition(|m| m == "READY=1").unwrap() > reloading);
    let status = pyrad.client().result("daemon.status", json!({}));
    assert_eq!(status["pid"], pid);
    assert_eq!(status["provider"]["preset"], "ollama");
    assert_eq!(status["provider"]["model"], "llama3.2");
    assert!(home.log().contains("configuration reloaded"), "{}", home.log());

    // Over the socket: the reply names what applied and what waits for a restart.
    let more = edited
        .replace("max_connections = 256", "max_connections = 7")
        .replace("log_level = \"info\"", "log_level = \"debug\"");
    std::fs::write(&path, more).unwrap();
    let reply = pyrad.client().result("config.reload", json!({}));
    assert_eq!(reply["applied"], json!(["log_level"]), "{reply}");
    assert!(reply["need_restart"][0].as_str().unwrap().starts_with("[ipc]"), "{reply}");
    assert_eq!(pyrad.client().result("daemon.status", json!({}))["log_level"], "debug");

    // A broken file changes nothing and says why; pyrad serves on.
    std::fs::write(&path, "[provider\npreset = \"openai\"\n").unwrap();
    let refused = pyrad.client().call("config.reload", json!({}));
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("config.toml was not reloaded") && message.contains("config.toml:1:"), "{refused}");
    pyrad.signal(libc::SIGHUP);
    assert!(pyrad.notify.wait_for("READY=1", 4), "{:?}", pyrad.notify.messages());
    let status = pyrad.client().result("daemon.status", json!({}));
    assert_eq!(
        (status["pid"].as_u64(), status["provider"]["model"].as_str()),
        (Some(u64::from(pid)), Some("llama3.2"))
    );
    pyrad.signal(libc::SIGTERM);
    assert_eq!(pyrad.wait_exit().code(), Some(0));
}
