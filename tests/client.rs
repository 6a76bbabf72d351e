//! pyractl's conversation commands against a real pyrad and fakellm: setup, ask
//! (streamed, --json, stdin, unattended approvals), audit, sessions, memory, vault.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::io::Write;
use std::process::{Command, Stdio};

use pyra_tests::*;
use serde_json::Value;

const RULES: &str = r#"
version: 1
rules:
  - name: saved
    when:
      tool_result_contains: "appended to"
    respond:
      content: "Saved it."
  - name: refused
    when:
      tool_result_contains: "denied"
    respond:
      content: "Not saved."
  - name: remember
    when:
      messages_contain: "remember that"
    respond:
      tool_calls:
        - name: memory__append
          arguments: {name: "user/profile.md", text: "Likes tea."}
  - name: hello
    when:
      messages_contain: "hello"
    respond:
      content: "Hello from the model"
"#;

fn pyractl(home: &TestHome, args: &[&str], stdin: Option<&str>) -> (Option<i32>, String, String) {
    let mut command = Command::new(bin("pyractl"));
    command.env("PYRA_HOME", home.path()).env_remove("PYRA_SOCKET").env_remove("PYRA__IPC__SOCKET").args(args);
    command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(TIMEOUT) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            drop(PidGuard(Some(pid)));
            panic!("pyractl {args:?} timed out");
        }
    };
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `pyractl setup` against fakellm; returns a guard on the pyrad it started.
fn set_up(home: &TestHome, llm: &FakeLlm) -> PidGuard {
    let url = format!("{}/v1", llm.url);
    let (code, stdout, stderr) =
        pyractl(home, &["setup", "--provider", "custom", "--base-url", &url, "--model", "test-model"], None);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("pyrad started") && stdout.contains("ready"), "{stdout}");
    let pid: u32 = std::fs::read_to_string(home.path().join("run/pyrad.pid")).unwrap().trim().parse().unwrap();
    PidGuard(Some(pid))
}

#[test]
fn setup_keeps_the_config_comments_and_ask_answers() {
    let llm = FakeLlm::start(RULES);
    let home = TestHome::new();
    let _pyrad = set_up(&home, &llm);
    let config = std::fs::read_to_string(home.path().join("config.toml")).unwrap();
    assert!(config.contains("# Pyra daemon configuration") && config.contains("preset = \"custom\""), "{config}");
    assert_eq!(mode(&home.path().join("config.toml")), 0o600);

    let (code, stdout, stderr) = pyractl(&home, &["ask", "hello"], None);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, "Hello from the model\n");

    let (code, stdout, _) = pyractl(&home, &["ask", "--json"], Some("hello from a pipe"));
    assert_eq!(code, Some(0));
    let answer: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(answer["text"], "Hello from the model");
    assert!(answer["session"].as_str().unwrap().len() == 16);
    assert_eq!(answer["tools"], serde_json::json!([]));
    // The provider's usage fields, summed over the turn's model calls.
    assert!(answer["usage"]["input_tokens"].as_u64().unwrap() > 0, "{answer}");
    assert!(answer["usage"]["output_tokens"].as_u64().unwrap() > 0, "{answer}");
    // Nobody prices test-model: tokens only, no made-up cost.
    assert!(answer["usage"].get("cost_usd").is_none(), "{answer}");
    let session = answer["session"].as_str().unwrap().to_owned();

    // A header, then one row a session, with its tokens in words.
    let (_, listed, _) = pyractl(&home, &["sessions", "list"], None);
    let rows: Vec<&str> = listed.lines().collect();
    assert_eq!(rows.len(), 3, "{listed}");
    assert!(rows[0].starts_with("ID") && rows[0].contains("TOKENS") && rows[0].contains("COST"), "{listed}");
    assert!(rows[1].contains(" in / ") && rows[1].contains(" out"), "{listed}");

    // A unique prefix names a session; delete wants the whole id and says so.
    let (code, shown, err) = pyractl(&home, &["sessions", "show", &session[..6]], None);
    assert_eq!(code, Some(0), "{err}");
    assert!(shown.starts_with(&session) && shown.contains("you: hello"), "{shown}");
    let (code, _, err) = pyractl(&home, &["sessions", "delete", &session[..6]], None);
    assert_eq!(code, Some(1));
    assert!(err.contains(&format!("to delete {session}, give its whole id")), "{err}");
    let (code, _, err) = pyractl(&home, &["sessions", "delete", "nope"], None);
    assert_eq!(code, Some(1));
    assert_eq!(err.trim(), "pyractl: no session \"nope\"; `pyractl sessions list` shows them", "no JSON-RPC code");
    let (code, out, _) = pyractl(&home, &["sessions", "delete", &session], None);
    assert_eq!((code, out.trim()), (Some(0), format!("deleted {session}").as_str()));
}

#[test]
fn ask_without_a_terminal_denies_tools_unless_config_allows_them() {
    let llm = FakeLlm::start(RULES);
    let home = TestHome::new();
    let mut pyrad = set_up(&home, &llm);
    let (code, stdout, stderr) = pyractl(&home, &["ask", "--json", "remember that I like tea"], None);
    assert_eq!(code, Some(0), "{stderr}");
    let answer: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(answer["text"], "Not saved.");
    assert_eq!(answer["tools"][0]["decision"], "unattended_denied");

    // pyrad decides unattended turns, from its own config.
    let path = home.path().join("config.toml");
    let config = std::fs::read_to_string(&path)
        .unwrap()
        .replace("unattended_allow = []", "unattended_allow = [\"memory__append\"]");
    std::fs::write(&path, config).unwrap();
    let (code, _, stderr) = pyractl(&home, &["daemon", "restart"], None);
    assert_eq!(code, Some(0), "{stderr}");
    let pid: u32 = std::fs::read_to_string(home.path().join("run/pyrad.pid")).unwrap().trim().parse().unwrap();
    pyrad.0 = Some(pid);
    // Another wording: fakellm keys conversations by their first message.
    let (_, stdout, _) = pyractl(&home, &["ask", "--json", "remember that I like green tea"], None);
    let answer: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(answer["text"], "Saved it.", "{answer}");
    assert_eq!(answer["tools"][0]["decision"], "unattended_allowed");

    let (_, audit, _) = pyractl(&home, &["audit"], None);
    let lines: Vec<&str> = audit.lines().collect();
    assert_eq!(lines.len(), 3, "{audit}");
    assert!(lines[0].starts_with("WHEN") && lines[0].contains("DECISION"), "a header row: {audit}");
    assert!(lines[1].contains("unattended allowed") && lines[1].contains("memory__append"), "{audit}");
    assert!(lines[2].contains("unattended denied"), "{audit}");
    // Local times of today (hh:mm:ss), not Unix seconds.
    let when = lines[1].split_whitespace().next().unwrap();
    assert!(when.len() == 8 && when.as_bytes()[2] == b':', "{audit}");
    let (_, shown, _) = pyractl(&home, &["memory", "show", "user/profile.md"], None);
    assert_eq!(shown, "Likes tea.\n");
}

#[test]
fn memory_and_vault_commands_work_and_never_print_a_secret() {
    let home = TestHome::new();
    let _pyrad = Pyrad::start(&home);
    let mut client = RawClient::connect(&home.socket());
    client.hello();
    client.result("memory.write", serde_json::json!({"name": "knowledge/tea.md", "content": "Green tea.\n"}));

    let editor = home.scratch().join("editor.sh");
    std::fs::write(&editor, "#!/bin/sh\nsed -i 's/Green/Black/' \"$1\"\n").unwrap();
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut command = Command::new(bin("pyractl"));
    command.env("PYRA_HOME", home.path()).env("EDITOR", &editor).env_remove("VISUAL").args([
        "memory",
        "edit",
        "knowledge/tea.md",
    ]);
    let out = run_with_timeout(command);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (_, shown, _) = pyractl(&home, &["memory", "show", "knowledge/tea.md"], None);
    assert_eq!(shown, "Black tea.\n");
    let (_, log, _) = pyractl(&home, &["memory", "log", "knowledge/tea.md"], None);
    // A header, then v2 and v1; the version is given back as it was printed.
    assert_eq!(log.lines().count(), 3, "{log}");
    assert!(log.lines().nth(2).unwrap().starts_with("v1 "), "{log}");
    let (code, _, err) = pyractl(&home, &["memory", "restore", "knowledge/tea.md", "v1"], None);
    assert_eq!(code, Some(0), "{err}");
    let (_, shown, _) = pyractl(&home, &["memory", "show", "knowledge/tea.md"], None);
    assert_eq!(shown, "Green tea.\n");

    let secret = "sk-client-test-0f0e0d0c0b0a";
    let (code, stdout, stderr) =
        pyractl(&home, &["vault", "set", "provider:openai:api_key"], Some(&format!("{secret}\n")));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stdout.contains(secret) && !stderr.contains(secret));
    let (_, names, _) = pyractl(&home, &["vault", "list"], None);
    assert_eq!(names, "provider:openai:api_key\n");
    let (_, deleted, _) = pyractl(&home, &["vault", "delete", "provider:openai:api_key"], None);
    assert!(deleted.starts_with("deleted"), "{deleted}");
}

#[test]
fn chat_streams_answers_runs_slash_commands_and_ctrl_c_cancels_only_the_turn() {
    // The story rule goes first: the session's earlier "hello" would match the hello rule.
    let story = format!(
        "rules:\n  - name: story\n    when:\n      messages_contain: \"long story\"\n    respond:\n      content: \"{}\"\n",
        "word ".repeat(400).trim_end()
    );
    let rules = RULES.replacen("rules:\n", &story, 1);
    let llm = FakeLlm::start(&rules);
    let home = TestHome::new();
    let _pyrad = set_up(&home, &llm);
    let mut child = Command::new(bin("pyractl"))
        .env("PYRA_HOME", home.path())
        .arg("chat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _guard = PidGuard(Some(child.id()));
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let wait_for = |needle: &str| -> String {
        loop {
            let line = rx.recv_timeout(TIMEOUT).unwrap_or_else(|_| panic!("no line containing {needle:?}"));
            if line.contains(needle) {
                return line;
            }
        }
    };

    writeln!(stdin, "hello").unwrap();
    wait_for("Hello from the model");
    writeln!(stdin, "/sessions").unwrap();
    wait_for("msgs");
    writeln!(stdin, "/model").unwrap();
    wait_for("test-model");

    writeln!(stdin, "tell me a long story").unwrap();
    stdin.flush().unwrap();
    // Piped output is plain text: the story arrives without newlines, so wait a
    // moment for it to start, then press Ctrl-C.
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    // Still alive: it takes the next command.
    let _ = writeln!(stdin, "/quit");
    drop(stdin);
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "chat exited with {status}: {stderr}");
    assert!(stderr.contains("[cancelled]"), "Ctrl-C cancelled the turn, not the client: {stderr}");
}
