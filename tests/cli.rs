//! pyractl against a real pyrad: status, daemon control, service files,
//! completions, and the one-line answers when pyrad is not there.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::os::unix::net::UnixListener;
use std::process::Command;

use pyra_tests::*;
use serde_json::{Value, json};

fn pyractl(home: &TestHome) -> Command {
    let mut command = Command::new(bin("pyractl"));
    command.env("PYRA_HOME", home.path()).env_remove("PYRA_SOCKET").env_remove("PYRA__IPC__SOCKET");
    command
}

fn run(mut command: Command, args: &[&str]) -> (Option<i32>, String, String) {
    command.args(args);
    let out = run_with_timeout(command);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_command_says_when_pyrad_is_not_running() {
    let home = TestHome::new();
    for args in [&["status"][..], &["status", "--json"], &["daemon", "stop"], &["daemon", "status"]] {
        let (code, _, stderr) = run(pyractl(&home), args);
        assert_eq!(code, Some(3), "{args:?}: {stderr}");
        let line = stderr.trim_end();
        assert_eq!(line.lines().count(), 1, "{args:?}: one line, got {line:?}");
        assert!(line.contains("pyrad is not running") && line.contains("pyractl daemon start"), "{args:?}: {line}");
    }
}

#[test]
fn status_shows_the_daemon_for_people_and_for_scripts() {
    let home = TestHome::new();
    let pyrad = Pyrad::start(&home);
    let (code, stdout, stderr) = run(pyractl(&home), &["status", "--json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let status: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(status["pid"], pyrad.pid());
    assert_eq!(status["home"], home.path().display().to_string());

    let (code, stdout, _) = run(pyractl(&home), &["status"]);
    assert_eq!(code, Some(0));
    assert!(
        stdout.starts_with(&format!("pyrad {} running (pid {}", env!("CARGO_PKG_VERSION"), pyrad.pid())),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("socket      {}", home.socket().display())), "{stdout}");
}

#[test]
fn daemon_start_detaches_pyrad_and_stop_ends_it() {
    let home = TestHome::new();
    let (code, stdout, stderr) = run(pyractl(&home), &["daemon", "start"]);
    assert_eq!(code, Some(0), "{stderr}");
    let pid: u32 = stdout.split("(pid ").nth(1).and_then(|s| s.split(')').next()).unwrap().parse().unwrap();
    let _guard = PidGuard(Some(pid));
    assert!(stdout.contains("pyrad started"), "{stdout}");

    let (code, stdout, _) = run(pyractl(&home), &["daemon", "start"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains(&format!("already running (pid {pid})")), "{stdout}");

    let (code, stdout, _) = run(pyractl(&home), &["daemon", "status"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains(&format!("is running (pid {pid}")), "{stdout}");

    let (code, stdout, stderr) = run(pyractl(&home), &["daemon", "restart"]);
    assert_eq!(code, Some(0), "{stderr}");
    let new_pid: u32 = stdout.split("started (pid ").nth(1).and_then(|s| s.split(')').next()).unwrap().parse().unwrap();
    let _guard2 = PidGuard(Some(new_pid));
    assert_ne!(new_pid, pid);

    let (code, stdout, stderr) = run(pyractl(&home), &["daemon", "stop"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains(&format!("pyrad stopped (pid {new_pid})")), "{stdout}");
    assert!(!home.socket().exists());
    assert!(process_ended(new_pid), "pyrad is gone");
}

#[test]
fn daemon_start_reports_why_pyrad_could_not_start() {
    let home = TestHome::new();
    std::fs::create_dir_all(home.path()).unwrap();
    std::fs::write(home.path().join("config.toml"), "[daemon]\nlog_level = 5\n").unwrap();
    let (code, _, stderr) = run(pyractl(&home), &["daemon", "start"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("pyrad exited during start-up") && stderr.contains("config.toml:2:13"), "{stderr}");
}

#[test]
fn a_protocol_mismatch_says_restart_pyrad() {
    let home = TestHome::new();
    // A daemon of another protocol version, answering hello the way pyrad does.
    let socket = home.scratch().join("old.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    std::thread::spawn(move || {
        use std::io::{BufRead, BufReader, Write};
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut hello = String::new();
        reader.read_line(&mut hello).unwrap();
        let hello: Value = serde_json::from_str(&hello).unwrap();
        let error = proto::ErrorObject::version_mismatch("pyra", hello["params"]["version"].as_u64().unwrap() as u32);
        let mut reply = serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": hello["id"], "error": error})).unwrap();
        reply.push(b'\n');
        (&stream).write_all(&reply).unwrap();
    });
    let mut command = pyractl(&home);
    command.arg("--socket").arg(&socket);
    let (code, _, stderr) = run(command, &["status"]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(stderr.contains("restart pyrad"), "{stderr}");
}

#[test]
fn the_generated_unit_passes_systemd_analyze_verify() {
    let home = TestHome::new();
    let (code, unit, stderr) = run(pyractl(&home), &["daemon", "install", "--print", "--target", "systemd"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(unit.contains(&format!("ExecStart=\"{}\"", std::fs::canonicalize(bin("pyrad")).unwrap().display())));
    let dir = home.scratch().join("units");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("pyrad.service");
    std::fs::write(&path, &unit).unwrap();
    let runtime = home.scratch().join("xdg-runtime");
    std::fs::create_dir_all(&runtime).unwrap();
    let mut verify = Command::new("systemd-analyze");
    verify.env("XDG_RUNTIME_DIR", &runtime).args(["--user", "verify"]).arg(&path);
    let out = run_with_timeout(verify);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "systemd-analyze verify failed: {stderr}");
    // verify exits 0 on some mistakes and only warns: any output is a finding.
    assert!(stderr.trim().is_empty(), "systemd-analyze verify warned: {stderr}");

    // The check can fail: a broken unit is reported.
    std::fs::write(&path, unit.replace("Type=notify", "Type=notifyy")).unwrap();
    let mut verify = Command::new("systemd-analyze");
    verify.env("XDG_RUNTIME_DIR", &runtime).args(["--user", "verify"]).arg(&path);
    let out = run_with_timeout(verify);
    assert!(!String::from_utf8_lossy(&out.stderr).trim().is_empty(), "a broken unit passed verify");
}

#[test]
fn the_generated_plist_parses() {
    let home = TestHome::new();
    let (code, xml, stderr) = run(pyractl(&home), &["daemon", "install", "--print", "--target", "launchd"]);
    assert_eq!(code, Some(0), "{stderr}");
    let value = plist::Value::from_reader_xml(xml.as_bytes()).unwrap();
    let dict = value.as_dictionary().unwrap();
    assert_eq!(dict.get("Label").and_then(|v| v.as_string()), Some("dev.pyra.pyrad"));
    assert_eq!(dict.get("RunAtLoad").and_then(|v| v.as_boolean()), Some(true));
    assert!(dict.get("KeepAlive").is_some());
    let stdout_path = dict.get("StandardOutPath").and_then(|v| v.as_string()).unwrap();
    assert_eq!(stdout_path, home.path().join("logs/launchd.out.log").display().to_string());
}

#[test]
fn install_writes_the_unit_and_uninstall_removes_it() {
    let home = TestHome::new();
    let config = home.scratch().join("xdg-config");
    let mut command = pyractl(&home);
    command.env("XDG_CONFIG_HOME", &config);
    let (code, stdout, stderr) = run(command, &["daemon", "install", "--no-enable", "--target", "systemd"]);
    assert_eq!(code, Some(0), "{stderr}");
    let unit = config.join("systemd/user/pyrad.service");
    assert!(stdout.contains(&unit.display().to_string()), "{stdout}");
    let text = std::fs::read_to_string(&unit).unwrap();
    assert!(text.contains(&format!("Environment=\"PYRA_HOME={}\"", home.path().display())), "{text}");

    let mut command = pyractl(&home);
    command.env("XDG_CONFIG_HOME", &config);
    let (code, stdout, stderr) = run(command, &["daemon", "uninstall", "--target", "systemd"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("removed"), "{stdout}");
    assert!(!unit.exists());
}

#[test]
fn completions_are_printed_for_each_shell() {
    let home = TestHome::new();
    for shell in ["bash", "zsh", "fish"] {
        let (code, stdout, stderr) = run(pyractl(&home), &["completions", shell]);
        assert_eq!(code, Some(0), "{shell}: {stderr}");
        // The script calls this pyractl back to complete as the person types.
        let me = bin("pyractl");
        assert!(stdout.contains(&*me.to_string_lossy()) && stdout.contains("COMPLETE"), "{shell}: {stdout}");
    }
    // A reader that stops early is no error (it panicked with exit 101).
    let mut command = pyractl(&home);
    command.args(["completions", "bash"]).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(!matches!(out.status.code(), Some(101)), "{out:?}");
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `--home` comes from PYRA_HOME when not given: usage lines must not show it as
/// though it had to be typed.
#[test]
fn usage_lines_do_not_show_home_as_required() {
    let home = TestHome::new();
    let (code, _, stderr) = run(pyractl(&home), &["plugin", "setup"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("Usage: pyractl plugin setup <NAME>"), "{stderr}");
    assert!(!stderr.contains("--home"), "{stderr}");
}

/// Completing in a real bash with the script pyractl prints: subcommands, and
/// the names only pyrad knows (a session id, a plugin, a memory file).
#[test]
fn bash_completes_commands_and_the_names_pyrad_knows() {
    let home = TestHome::new();
    let _pyrad = Pyrad::start(&home);
    let mut client = RawClient::connect(&home.socket());
    client.hello();
    client.result("memory.write", json!({"name": "knowledge/tea.md", "content": "Green.\n"}));
    let (_, script, _) = run(pyractl(&home), &["completions", "bash"]);
    let script_path = home.scratch().join("pyractl.bash");
    std::fs::write(&script_path, script).unwrap();
    let complete = |words: &[&str]| -> Vec<String> {
        let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        let program = format!(
            "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; COMP_TYPE=9; \
             _clap_complete_pyractl pyractl '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script_path.display(),
            quoted.join(" "),
            words.len() - 1,
            words[words.len() - 1],
            words[words.len() - 2],
        );
        let mut command = Command::new("bash");
        command.env("PYRA_HOME", home.path()).env_remove("PYRA_SOCKET").args(["--norc", "-c", &program]);
        let out = run_with_timeout(command);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).lines().map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()).collect()
    };
    let commands = complete(&["pyractl", "sess"]);
    assert_eq!(commands, ["sessions"], "{commands:?}");
    let files = complete(&["pyractl", "memory", "show", ""]);
    assert!(files.contains(&"knowledge/tea.md".to_owned()), "{files:?}");
    let plugins = complete(&["pyractl", "plugin", "info", ""]);
    // The bundled plugins are not installed in a new home: nothing to offer, and no error.
    assert!(plugins.iter().all(|p| !p.contains("error")), "{plugins:?}");
}
