//! `pyractl backup` and `pyractl restore` against real daemons: an archive made
//! while pyrad runs brings memory, the vault and the database back; a daily
//! database copy revives a damaged database; restore waits for pyrad to stop;
//! archives with unsafe entries are refused whole; modes come back tight.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pyra_tests::*;
use serde_json::json;

fn pyractl(home: &TestHome, args: &[&str]) -> (Option<i32>, String, String) {
    pyractl_with_input(home, args, "")
}

/// pyractl with extra environment and a working directory of the test's choosing.
fn pyractl_in(home: &TestHome, cwd: &Path, env: &[(&str, &str)], args: &[&str]) -> (Option<i32>, String, String) {
    let mut command = Command::new(bin("pyractl"));
    command.env("PYRA_HOME", home.path()).env_remove("PYRA_SOCKET").current_dir(cwd).args(args);
    for (k, v) in env {
        command.env(k, v);
    }
    let out = run_with_timeout(command);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn stop(mut pyrad: Pyrad) {
    pyrad.signal(libc::SIGTERM);
    assert_eq!(pyrad.wait_exit().code(), Some(0));
}

/// pyrad's daily database copies, waiting for the first one (made just after READY).
fn daily_backups(home: &TestHome) -> Vec<PathBuf> {
    let dir = home.path().join("data/backups");
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "db")).collect())
            .unwrap_or_default();
        if !found.is_empty() {
            found.sort();
            return found;
        }
        assert!(Instant::now() < deadline, "pyrad made no daily backup");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every path under `root` (relative), sorted.
fn tree(root: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            out.push(path.strip_prefix(root).unwrap().to_owned());
            if entry.file_type().unwrap().is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// Folders 0700, files 0600, the vault's identity and sentinel 0400, no symlinks.
fn assert_private_modes(home: &Path) {
    assert_eq!(mode(home), 0o700, "the home");
    for rel in tree(home) {
        let path = home.join(&rel);
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let want = if meta.is_dir() {
            0o700
        } else if rel.ends_with("vault/identity.txt") || rel.ends_with("vault/.vault_lock") {
            0o400
        } else {
            assert!(meta.is_file(), "{} is neither a file nor a folder", rel.display());
            0o600
        };
        assert_eq!(mode(&path), want, "{}: {:o}", rel.display(), mode(&path));
        // SAFETY: geteuid has no preconditions.
        assert_eq!(meta.uid(), unsafe { libc::geteuid() }, "{}", rel.display());
    }
}

/// The entry names of a .tar.gz, by the system's tar.
fn archive_names(archive: &Path) -> Vec<String> {
    let out = Command::new("tar").arg("-tzf").arg(archive).output().unwrap();
    assert!(out.status.success(), "tar -t: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| l.trim_end_matches('/').to_owned()).collect()
}

fn top_level(home: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(home).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn a_backup_made_while_pyrad_runs_brings_memory_vault_and_database_back() {
    let home = TestHome::new();
    let pyrad = Pyrad::start(&home);
    let mut c = pyrad.client();
    c.result("memory.write", json!({"name": "knowledge/tea.md", "content": "Green.\n"}));
    c.result("memory.write", json!({"name": "knowledge/tea.md", "content": "Green, no sugar.\n"}));
    let (code, _, stderr) = pyractl_with_input(&home, &["vault", "set", "backup_test"], "s3cret\n");
    assert_eq!(code, Some(0), "{stderr}");
    let daily = daily_backups(&home);

    let archive = home.scratch().join("home.tar.gz");
    let (code, stdout, stderr) = pyractl(&home, &["backup", "--output", archive.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.lines().next(), Some(archive.to_str().unwrap()), "{stdout}");
    assert!(stdout.contains("data/pyra.db copied with SQLite's backup API while pyrad ran"), "{stdout}");
    assert_eq!(mode(&archive), 0o600);
    let names = archive_names(&archive);
    for name in ["pyra-backup.toml", "config.toml", "data/pyra.db", "vault/identity.txt", "memory/knowledge/tea.md"] {
        assert!(names.iter().any(|n| n == name), "{name} is in the archive: {names:?}");
    }
    for name in &names {
        assert!(!name.starts_with("run") && !name.starts_with("data/backups"), "{name} is left out");
        assert!(!name.ends_with("-wal") && !name.ends_with("-shm"), "{name} is left out");
    }

    // Changes after the backup, then a loss that stops pyrad from starting.
    c.result("memory.write", json!({"name": "knowledge/tea.md", "content": "Forgotten.\n"}));
    assert_eq!(c.result("vault.delete", json!({"key": "backup_test"}))["deleted"], true);
    drop(c);
    stop(pyrad);
    std::fs::remove_file(home.path().join("vault/secrets.age")).unwrap();

    let (code, stdout, stderr) = pyractl(&home, &["restore", archive.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("config.toml, data, logs, memory, plugins, vault"), "{stdout}");
    assert_private_modes(&home.path());
    let replaced: Vec<String> = top_level(&home.path()).into_iter().filter(|n| n.starts_with("replaced-")).collect();
    assert_eq!(replaced.len(), 1, "{:?}", top_level(&home.path()));
    let replaced = home.path().join(&replaced[0]);
    assert!(stdout.contains(&replaced.display().to_string()), "{stdout}");
    assert_eq!(std::fs::read_to_string(replaced.join("memory/knowledge/tea.md")).unwrap(), "Forgotten.\n");
    assert_eq!(daily_backups(&home), daily, "pyrad's daily copies stay in data/backups");
    assert!(!home.path().join("run/pyrad.pid").exists(), "restore let go of pyrad's lock");

    let pyrad = Pyrad::start(&home);
    let mut c = pyrad.client();
    assert_eq!(c.result("memory.read", json!({"name": "knowledge/tea.md"}))["content"], "Green, no sugar.\n");
    let log = c.result("memory.log", json!({"name": "knowledge/tea.md"}));
    assert_eq!(log.as_array().unwrap().len(), 2, "the database's versions as they were: {log}");
    assert_eq!(c.result("vault.list", json!({})), json!(["backup_test"]));
}

#[test]
fn an_archive_restores_into_a_home_that_does_not_exist_yet() {
    let old = TestHome::new();
    let pyrad = Pyrad::start(&old);
    pyrad.client().result("memory.write", json!({"name": "user/profile.md", "content": "Likes tea.\n"}));
    let archive = old.scratch().join("old.tar.gz");
    let (code, _, stderr) = pyractl(&old, &["backup", "-o", archive.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    stop(pyrad);

    let new = TestHome::new();
    assert!(!new.path().exists());
    let (code, stdout, stderr) = pyractl(&new, &["restore", archive.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("nothing was there before them"), "{stdout}");
    assert_private_modes(&new.path());
    let pyrad = Pyrad::start(&new);
    let content = pyrad.client().result("memory.read", json!({"name": "user/profile.md"}))["content"].clone();
    assert_eq!(content, "Likes tea.\n");
}

#[test]
fn the_daily_copy_pyrad_names_restores_a_damaged_database_and_pyrad_starts_again() {
    let home = TestHome::new();
    let pyrad = Pyrad::start(&home);
    daily_backups(&home);
    stop(pyrad);
    let db = home.path().join("data/pyra.db");
    damage_inner_page(&db);
    let damaged = std::fs::read(&db).unwrap();

    let mut command = Pyrad::command(&home, &PyradOptions::default());
    command.env("PYRA_STDERR_LOG", "0");
    let out = run_with_timeout(command);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    // The way out pyrad prints is the command to run.
    let named = stderr.split("pyractl restore ").nth(1).and_then(|s| s.split(" (").next()).unwrap().to_owned();
    assert!(named.contains("data/backups/pyra-"), "{stderr}");

    // A damaged copy is refused, and the database stays as it was.
    let copy = home.scratch().join("damaged.db");
    std::fs::write(&copy, &damaged).unwrap();
    let (code, _, stderr) = pyractl(&home, &["restore", copy.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("damaged"), "{stderr}");
    assert_eq!(std::fs::read(&db).unwrap(), damaged);
    assert!(!top_level(&home.path().join("data")).iter().any(|n| n.contains("restoring")));

    let (code, stdout, stderr) = pyractl(&home, &["restore", &named]);
    assert_eq!(code, Some(0), "{stderr}");
    let aside: Vec<String> =
        top_level(&home.path().join("data")).into_iter().filter(|n| n.starts_with("pyra.db.replaced-")).collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    let aside = home.path().join("data").join(&aside[0]);
    assert!(stdout.contains(&aside.display().to_string()), "{stdout}");
    assert_eq!(std::fs::read(&aside).unwrap(), damaged, "the damaged database is kept");
    assert_eq!(std::fs::read(&db).unwrap(), std::fs::read(&named).unwrap());
    assert_private_modes(&home.path());

    let pyrad = Pyrad::start(&home);
    assert!(pyrad.client().result("daemon.status", json!({})).get("pid").is_some());
}

#[test]
fn restore_refuses_while_pyrad_runs_and_changes_nothing() {
    let home = TestHome::new();
    let pyrad = Pyrad::start(&home);
    let daily = daily_backups(&home);
    let archive = home.scratch().join("home.tar.gz");
    let (code, _, stderr) = pyractl(&home, &["backup", "-o", archive.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    let before = tree(&home.path());
    let pid = pyrad.pid().to_string();

    for file in [archive.to_str().unwrap(), daily[0].to_str().unwrap()] {
        let (code, _, stderr) = pyractl(&home, &["restore", file]);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stderr.contains("pyractl daemon stop") && stderr.contains(&pid), "{stderr}");
    }
    // Found by pyrad's own lock too, when the socket is not where pyractl looks.
    let elsewhere = home.scratch().join("no.sock");
    let (code, _, stderr) = pyractl_in(
        &home,
        home.scratch(),
        &[("PYRA_SOCKET", elsewhere.to_str().unwrap())],
        &["restore", archive.to_str().unwrap()],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("pyractl daemon stop") && stderr.contains(&pid), "{stderr}");

    assert_eq!(tree(&home.path()), before);
    assert!(pyrad.client().result("daemon.status", json!({})).get("pid").is_some(), "pyrad still serves");
}

/// One ustar entry, written by hand so a test can say anything a hostile archive says.
fn tar_entry(out: &mut Vec<u8>, name: &str, kind: u8, link: &str, data: &[u8]) {
    assert!(name.len() < 100 && link.len() < 100);
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..108].copy_from_slice(b"0000600\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    h[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
    h[136..148].copy_from_slice(b"00000000000\0");
    h[156] = kind;
    h[157..157 + link.len()].copy_from_slice(link.as_bytes());
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

#[test]
fn archives_with_unsafe_entries_are_refused_whole_and_nothing_is_written() {
    let home = TestHome::new();
    stop(Pyrad::start(&home));
    let before = tree(&home.path());
    let config = std::fs::read(home.path().join("config.toml")).unwrap();
    let outside = home.scratch().join("evil");
    let manifest = b"format = 1\ncreated = \"20250101-000000 UTC\"\nhome = \"/x\"\n";
    let cases: Vec<(&str, &str, u8, String)> = vec![
        ("a parent entry", "../evil", b'0', String::new()),
        ("a parent entry deeper down", "memory/../../evil", b'0', String::new()),
        ("an absolute entry", outside.to_str().unwrap(), b'0', String::new()),
        ("a symlink", "memory/link", b'2', outside.display().to_string()),
        ("a hard link", "memory/hard", b'1', "config.toml".into()),
        ("a device", "memory/tty", b'3', String::new()),
        ("a fifo", "memory/pipe", b'6', String::new()),
        ("the run folder", "run/pyrad.pid", b'0', String::new()),
    ];
    let expected = [
        ".. is not allowed",
        ".. is not allowed",
        "is absolute",
        "is a symlink",
        "is a hard link",
        "is a device",
        "is a fifo",
    ];
    for (i, (what, name, kind, link)) in cases.iter().enumerate() {
        let mut tar = Vec::new();
        tar_entry(&mut tar, "pyra-backup.toml", b'0', "", manifest);
        tar_entry(&mut tar, "config.toml", b'0', "", b"# from the archive\n");
        tar_entry(&mut tar, "memory/ok.md", b'0', "", b"fine\n");
        tar_entry(&mut tar, name, *kind, link, if *kind == b'0' { b"evil\n" } else { b"" });
        tar.extend_from_slice(&[0u8; 1024]);
        let file = home.scratch().join(format!("bad-{i}.tar"));
        std::fs::write(&file, &tar).unwrap();
        let (code, _, stderr) = pyractl(&home, &["restore", file.to_str().unwrap()]);
        assert_eq!(code, Some(1), "{what}: {stderr}");
        assert!(stderr.contains("nothing was restored"), "{what}: {stderr}");
        let word = expected.get(i).copied().unwrap_or("never in a backup");
        assert!(stderr.contains(word), "{what}: {stderr}");
        assert!(!outside.exists(), "{what}: something was written outside the home");
        assert_eq!(tree(&home.path()), before, "{what}: the home is unchanged");
        assert_eq!(std::fs::read(home.path().join("config.toml")).unwrap(), config);
    }

    // An archive without the manifest is not a Pyra backup.
    let mut tar = Vec::new();
    tar_entry(&mut tar, "config.toml", b'0', "", b"# from the archive\n");
    tar.extend_from_slice(&[0u8; 1024]);
    let file = home.scratch().join("plain.tar");
    std::fs::write(&file, &tar).unwrap();
    let (code, _, stderr) = pyractl(&home, &["restore", file.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("not made by `pyractl backup`"), "{stderr}");
    assert_eq!(tree(&home.path()), before);

    // Nor is any other file.
    let file = home.scratch().join("notes.txt");
    std::fs::write(&file, "hello").unwrap();
    let (code, _, stderr) = pyractl(&home, &["restore", file.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("neither a SQLite database"), "{stderr}");
}

#[test]
fn a_backup_is_named_by_date_in_the_current_folder_and_never_overwrites() {
    let home = TestHome::new();
    stop(Pyrad::start(&home));
    let cwd = home.scratch().join("out");
    std::fs::create_dir(&cwd).unwrap();
    let (code, stdout, stderr) = pyractl_in(&home, &cwd, &[], &["backup"]);
    assert_eq!(code, Some(0), "{stderr}");
    let made = top_level(&cwd);
    assert_eq!(made.len(), 1, "one archive and no temp files left: {made:?}");
    let name = &made[0];
    let stamp = name.strip_prefix("pyra-backup-").and_then(|s| s.strip_suffix(".tar.gz")).unwrap();
    assert!(stamp.len() == 15 && stamp.as_bytes()[8] == b'-', "{name}");
    assert_eq!(stdout.lines().next().unwrap(), cwd.join(name).display().to_string());
    assert_eq!(mode(&cwd.join(name)), 0o600);
    assert!(!stdout.contains("while pyrad ran"), "{stdout}");

    let taken = cwd.join("taken.tar.gz");
    std::fs::write(&taken, "keep me").unwrap();
    let (code, _, stderr) = pyractl_in(&home, &cwd, &[], &["backup", "--output", "taken.tar.gz"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("already exists"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&taken).unwrap(), "keep me");
}

/// A writer that keeps its last commit in the WAL (as a busy Matrix store
/// does) while the backup runs: the copy must hold it.
#[test]
fn a_bot_store_busy_in_another_process_is_copied_with_what_its_wal_holds() {
    let home = TestHome::new();
    stop(Pyrad::start(&home));
    let store = home.path().join("bots/matrix");
    std::fs::create_dir_all(&store).unwrap();
    let db = store.join("matrix-sdk-state.sqlite3");
    let script = "import sqlite3, sys\n\
        c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
        c.execute('PRAGMA journal_mode=WAL'); c.execute('PRAGMA wal_autocheckpoint=0')\n\
        c.execute('CREATE TABLE kv (k TEXT, v TEXT)'); c.execute(\"INSERT INTO kv VALUES ('room', 'kept')\")\n\
        print('ready', flush=True); sys.stdin.readline()\n";
    let mut writer = Command::new("python3")
        .args(["-c", script])
        .arg(&db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(writer.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready");
    assert!(std::fs::metadata(store.join("matrix-sdk-state.sqlite3-wal")).unwrap().len() > 0);

    let archive = home.scratch().join("home.tar.gz");
    let (code, stdout, stderr) = pyractl(&home, &["backup", "-o", archive.to_str().unwrap()]);
    writer.stdin.take().unwrap().write_all(b"\n").unwrap();
    writer.wait().unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("bots/matrix/matrix-sdk-state.sqlite3"), "{stdout}");
    let names = archive_names(&archive);
    assert!(!names.iter().any(|n| n.contains("sqlite3-wal") || n.contains("sqlite3-shm")), "{names:?}");

    let out = home.scratch().join("unpacked");
    std::fs::create_dir(&out).unwrap();
    let status = Command::new("tar").arg("-xzf").arg(&archive).arg("-C").arg(&out).status().unwrap();
    assert!(status.success());
    let copy = out.join("bots/matrix/matrix-sdk-state.sqlite3");
    let read = Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT v FROM kv').fetchone()[0])",
        ])
        .arg(&copy)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&read.stdout).trim(), "kept", "{}", String::from_utf8_lossy(&read.stderr));
}
