//! Plugins in a real pyrad: MCP servers found in `$PYRA_HOME/plugins`, started in
//! order, their tools used in a chat turn through approval, and every kind of bad
//! plugin isolated and reported while pyrad keeps serving.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pyra_tests::*;
use serde_json::{Value, json};

const RULES: &str = r#"
version: 1
rules:
  - name: summed
    when:
      tool_result_contains: "5"
    respond:
      content: "Two and three make five."
  - name: add
    when:
      messages_contain: "add two and three"
    respond:
      tool_calls:
        - name: calc__add
          arguments: {a: 2, b: 3}
"#;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/misbehave.py")
}

/// Writes a plugin folder running the fixture in `mode`.
fn plugin(home: &Path, name: &str, mode: &str, extra: &str) {
    let dir = home.join("plugins").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = format!(
        "name = \"{name}\"\nversion = \"1.0.0\"\ncommand = \"python3\"\nargs = [{:?}, \"{mode}\"]\n{extra}\n[limits]\nmemory_mb = 64\ncpu_secs = 10\ncall_timeout_secs = 3\n",
        fixture().display().to_string()
    );
    std::fs::write(dir.join("plugin.toml"), manifest).unwrap();
}

fn plugins(client: &mut RawClient) -> Value {
    client.result("plugins.list", json!({}))
}

/// Polls `plugins.list` until `done` holds for it, and returns that list;
/// fails the test naming `what` if it does not within `TIMEOUT`.
fn wait_for(client: &mut RawClient, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let list = plugins(client);
        if done(&list) {
            return list;
        }
        assert!(Instant::now() < deadline, "{what}: {list}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The plugin `name` in a list, if it is listed.
fn listed<'a>(list: &'a Value, name: &str) -> Option<&'a Value> {
    list["plugins"].as_array()?.iter().find(|p| p["name"] == name)
}

/// Waits until no plugin is starting or merely discovered.
fn settled(client: &mut RawClient) -> Value {
    wait_for(client, "plugins did not settle", |list| {
        !list["plugins"].as_array().unwrap().iter().any(|p| p["state"] == "starting" || p["state"] == "discovered")
    })
}

fn find<'a>(list: &'a Value, name: &str) -> &'a Value {
    listed(list, name).unwrap_or_else(|| panic!("{name} not listed: {list}"))
}

#[test]
fn a_plugin_tool_runs_in_a_chat_turn_through_approval() {
    let llm = FakeLlm::start(RULES);
    let home = TestHome::new();
    std::fs::create_dir_all(home.path().join("plugins")).unwrap();
    plugin(&home.path(), "calc", "good", "");
    let pyrad = Pyrad::start_with(&home, llm.options());
    let mut client = pyrad.client();
    let list = settled(&mut client);
    let calc = find(&list, "calc");
    assert_eq!(calc["state"], "active", "{calc}");
    assert_eq!(calc["tools"], json!(["calc__add", "calc__where", "calc__settings"]));

    client.send(&json!({"jsonrpc": "2.0", "id": 1, "method": "chat.send", "params": {"text": "add two and three"}}));
    let request = loop {
        let msg = client.recv_message();
        assert!(msg.get("id").is_none(), "the turn ended without asking: {msg}");
        if msg["method"] == "approval.request" {
            break msg["params"].clone();
        }
    };
    assert_eq!(request["tool"], "calc__add");
    client.send(&json!({"jsonrpc": "2.0", "id": 2, "method": "approval.respond", "params": {"id": request["id"], "decision": "approve", "args_sha256": request["args_sha256"]}}));
    let (_, answer) = client.until_response(1);
    assert_eq!(answer["result"]["text"], "Two and three make five.", "{answer}");
    assert_eq!(answer["result"]["tools"][0]["result"], "5");
    let calc = find(&plugins(&mut client), "calc").clone();
    assert_eq!(calc["calls"], 1);
    assert_eq!(calc["errors"], 0);
    assert_eq!(mode(&home.path().join("logs/plugins/calc.log")), 0o600);

    let mut command = std::process::Command::new(bin("pyractl"));
    command.env("PYRA_HOME", home.path()).args(["plugin", "list"]);
    let out = run_with_timeout(command);
    let table = String::from_utf8_lossy(&out.stdout);
    let row = table.lines().find(|l| l.starts_with("calc ")).unwrap_or_else(|| panic!("{table}"));
    assert!(row.contains("active") && row.contains("calc__add"), "{row}");
    let rss: f64 = row.split_whitespace().nth(6).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{table}"));
    assert!(rss > 1.0 && rss < 64.0, "the rss column: {table}");
    let mut command = std::process::Command::new(bin("pyractl"));
    command.env("PYRA_HOME", home.path()).args(["plugin", "info", "calc"]);
    let info = String::from_utf8_lossy(&run_with_timeout(command).stdout).into_owned();
    assert!(info.contains("misbehave 1.0 (MCP 2025-06-18)") && info.contains("calls     1"), "{info}");
    assert!(info.lines().any(|l| l.starts_with("  memory    ") && l.ends_with(" MiB")), "{info}");

    // The user can run a plugin tool directly; it is audited as theirs.
    let mut command = std::process::Command::new(bin("pyractl"));
    command.env("PYRA_HOME", home.path()).args(["plugin", "call", "calc__add", r#"{"a": 40, "b": 2}"#]);
    let out = run_with_timeout(command);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "42\n", "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(client.result("audit.list", json!({"limit": 1}))[0]["decision"], "by_user");
    let missing = client.call("plugins.call", json!({"tool": "calc__subtract", "args": {}}));
    assert_eq!(error_code(&missing), Some(-32008), "{missing}");
    assert!(find(&plugins(&mut client), "calc")["start_ms"].as_f64().unwrap() > 0.0);
}

#[test]
fn bad_plugins_are_isolated_and_reported() {
    let home = TestHome::new();
    let root = home.path();
    std::fs::create_dir_all(root.join("plugins/broken")).unwrap();
    std::fs::write(root.join("plugins/broken/plugin.toml"), "name = \"broken\"\nversion = \"one\"\ncommand = \"x\"\n")
        .unwrap();
    plugin(&root, "good", "good", "");
    plugin(&root, "quitter", "exit", "");
    plugin(&root, "hanger", "hang", "");
    plugin(&root, "babbler", "garbage", "");
    plugin(&root, "stranger", "version", "");
    plugin(&root, "chicken", "good", "depends = [\"egg\"]");
    plugin(&root, "egg", "good", "depends = [\"chicken\"]");
    plugin(&root, "orphan", "good", "depends = [\"nobody\"]");
    plugin(&root, "needs_quitter", "good", "depends = [\"quitter\"]");
    let pyrad = Pyrad::start(&home);
    let mut client = pyrad.client();
    let list = settled(&mut client);

    assert_eq!(find(&list, "good")["state"], "active");
    let reason = |name: &str| find(&list, name)["reason"].as_str().unwrap_or_default().to_owned();
    assert_eq!(find(&list, "quitter")["state"], "failed");
    assert!(reason("quitter").contains("exited"), "{}", reason("quitter"));
    assert!(reason("hanger").contains("no answer"), "{}", reason("hanger"));
    assert!(reason("stranger").contains("1999-01-01"), "{}", reason("stranger"));
    assert!(reason("chicken").contains("cycle"), "{}", reason("chicken"));
    assert!(reason("orphan").contains("\"nobody\""), "{}", reason("orphan"));
    assert_eq!(find(&list, "needs_quitter")["state"], "skipped");
    let invalid = list["invalid"].as_object().unwrap();
    let (folder, why) = invalid.iter().next().unwrap();
    assert!(folder.ends_with("plugins/broken") && why.as_str().unwrap().contains("plugin.toml:2:"), "{invalid:?}");

    // The babbler answered the handshake, then wrote garbage: cut off.
    assert!(reason("babbler").contains("not JSON-RPC"), "{}", reason("babbler"));

    // A plugin that dies while active is restarted, with a new process.
    let old_pid = find(&list, "good")["pid"].as_i64().unwrap() as i32;
    // SAFETY: killing the plugin process pyrad started for this test.
    unsafe { libc::kill(old_pid, libc::SIGKILL) };
    let list = wait_for(&mut client, "the killed plugin was not restarted", |list| {
        let good = find(list, "good");
        good["restarts"] == 1 && good["state"] == "active"
    });
    assert_ne!(find(&list, "good")["pid"].as_i64().unwrap() as i32, old_pid);
    let status = client.result("daemon.status", json!({}));
    assert_eq!(status["plugins"]["active"], 1, "{status}");
    assert_eq!(status["plugins"]["invalid"], 1);
}

const HOOK_RULES: &str = r#"
version: 1
rules:
  - name: refused
    when:
      tool_result_contains: "not allowed"
    respond:
      content: "The plugin refused."
  - name: checked
    when:
      tool_result_contains: "(checked)"
    respond:
      content: "Checked five."
  - name: big
    when:
      messages_contain: "add 99 and 1"
    respond:
      tool_calls:
        - name: calc__add
          arguments: {a: 99, b: 1}
  - name: add
    when:
      messages_contain: "add 2 and 3"
    respond:
      tool_calls:
        - name: calc__add
          arguments: {a: 2, b: 3}
"#;

#[test]
fn hooks_run_in_order_can_answer_for_a_tool_and_rewrite_results() {
    let llm = FakeLlm::start(HOOK_RULES);
    let home = TestHome::new();
    let log = home.scratch().join("hooks.log");
    // The sandbox opens only what exists next to PYRA_HOME when the plugin starts.
    std::fs::write(&log, "").unwrap();
    let hooks = "hooks = [\"tool_registry_build\", \"session_resolved\", \"system_prompt_extend\", \"pre_llm_call\", \"post_llm_response\", \"pre_tool_execute\", \"post_tool_execute\", \"turn_completed\", \"message_received\"]";
    let log_text = log.display().to_string();
    let extra = format!("{hooks}\n[env]\nHOOK_LOG = {log_text:?}\n[permissions]\nwrite = [{log_text:?}]");
    plugin(&home.path(), "calc", "good", &extra);
    // A plugin whose hooks never answer in time: skipped, the turn goes on.
    plugin(&home.path(), "sloth", "slowhook", "hooks = [\"system_prompt_extend\"]");
    let pyrad = Pyrad::start_with(&home, llm.options());
    let mut client = pyrad.client();
    settled(&mut client);

    client.send(&json!({"jsonrpc": "2.0", "id": 1, "method": "chat.send", "params": {"text": "add 2 and 3"}}));
    let request = loop {
        let msg = client.recv_message();
        assert!(msg.get("id").is_none(), "no approval asked: {msg}");
        if msg["method"] == "approval.request" {
            break msg["params"].clone();
        }
    };
    client.send(&json!({"jsonrpc": "2.0", "id": 2, "method": "approval.respond", "params": {"id": request["id"], "decision": "approve", "args_sha256": request["args_sha256"]}}));
    let (_, answer) = client.until_response(1);
    assert_eq!(answer["result"]["tools"][0]["result"], "5 (checked)", "post_tool_execute rewrote it: {answer}");
    assert_eq!(answer["result"]["text"], "Checked five.");
    let fired: Vec<String> = std::fs::read_to_string(&log).unwrap().lines().map(str::to_owned).collect();
    let expected = [
        "message_received",
        "session_resolved",
        "system_prompt_extend",
        "tool_registry_build",
        "pre_llm_call",
        "post_llm_response",
        "pre_tool_execute",
        "post_tool_execute",
        "pre_llm_call",
        "post_llm_response",
        "turn_completed",
    ];
    assert_eq!(fired, expected);

    // pre_tool_execute answers for the tool: no approval is asked, nothing runs.
    let (events, answer) = {
        client.send(&json!({"jsonrpc": "2.0", "id": 3, "method": "chat.send", "params": {"text": "add 99 and 1"}}));
        client.until_response(3)
    };
    assert!(events.iter().all(|e| e["method"] != "approval.request"), "{events:?}");
    assert_eq!(answer["result"]["text"], "The plugin refused.", "{answer}");
    assert_eq!(answer["result"]["tools"][0]["result"], "99 is not allowed here");
    let audit = client.result("audit.list", json!({"limit": 1}));
    assert_eq!(audit[0]["decision"], "answered_by_hook");
    assert!(
        home.log().contains("hook failed; skipped") && home.log().contains("plugin=sloth"),
        "the slow hook was logged"
    );
}

#[test]
fn the_worked_example_in_plugins_md_works_as_written() {
    let doc = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/PLUGINS.md")).unwrap();
    let code = doc.split("```python\n").nth(1).and_then(|rest| rest.split("```").next()).expect("a python block");
    let home = TestHome::new();
    let dir = home.path().join("plugins/notes");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("server.py"), code).unwrap();
    let notes = home.scratch().join("notes");
    // The sandbox opens only what exists next to PYRA_HOME when the plugin starts.
    std::fs::create_dir_all(&notes).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "name = \"notes\"\nversion = \"0.1.0\"\ncommand = \"python3\"\nargs = [\"server.py\"]\n[env]\nNOTES_DIR = {notes:?}\n[permissions]\nwrite = [{notes:?}]\n",
            notes = notes.display().to_string()
        ),
    )
    .unwrap();
    let pyrad = Pyrad::start(&home);
    let mut client = pyrad.client();
    let list = settled(&mut client);
    assert_eq!(find(&list, "notes")["tools"], json!(["notes__add", "notes__list"]), "{list}");
    assert_eq!(
        client.result("plugins.call", json!({"tool": "notes__add", "args": {"text": "buy tea"}}))["text"],
        "noted"
    );
    assert_eq!(client.result("plugins.call", json!({"tool": "notes__list", "args": {}}))["text"], "buy tea\n");
}

/// Waits until `name` is in `state`; returns its entry.
fn wait_state(client: &mut RawClient, name: &str, state: &str) -> Value {
    let list = wait_for(client, &format!("{name} never became {state}"), |list| {
        listed(list, name).is_some_and(|p| p["state"] == state)
    });
    find(&list, name).clone()
}

#[test]
fn plugins_can_be_disabled_enabled_and_added_without_a_restart() {
    let home = TestHome::new();
    plugin(&home.path(), "calc", "good", "");
    let mut pyrad = Pyrad::start(&home);
    let mut client = pyrad.client();
    wait_state(&mut client, "calc", "active");

    client.result("plugins.disable", json!({"name": "calc"}));
    wait_state(&mut client, "calc", "disabled");
    let refused = client.call("plugins.call", json!({"tool": "calc__add", "args": {"a": 1, "b": 1}}));
    assert!(refused["error"]["message"].as_str().unwrap().contains("plugin calc is disabled"), "{refused}");

    // Disabled stays disabled across a restart.
    pyrad.signal(libc::SIGTERM);
    assert_eq!(pyrad.wait_exit().code(), Some(0));
    let pyrad = Pyrad::start(&home);
    let mut client = pyrad.client();
    wait_state(&mut client, "calc", "disabled");
    client.result("plugins.enable", json!({"name": "calc"}));
    wait_state(&mut client, "calc", "active");
    assert_eq!(error_code(&client.call("plugins.enable", json!({"name": "nope"}))), Some(-32008));

    // A new folder is noticed and started by the watcher.
    plugin(&home.path(), "calc2", "good", "");
    let added = wait_state(&mut client, "calc2", "active");
    assert_eq!(added["tools"], json!(["calc2__add", "calc2__where", "calc2__settings"]));
}

#[test]
fn each_plugin_has_a_private_data_folder_and_a_cpu_limit() {
    let home = TestHome::new();
    plugin(&home.path(), "calc", "good", "");
    let dir = home.path().join("plugins/spinner");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "name = \"spinner\"\nversion = \"1.0.0\"\ncommand = \"python3\"\nargs = [{:?}, \"spin\"]\n[limits]\nmemory_mb = 64\ncpu_secs = 1\ncall_timeout_secs = 15\n",
            fixture().display().to_string()
        ),
    )
    .unwrap();
    let pyrad = Pyrad::start(&home);
    let mut client = pyrad.client();
    wait_state(&mut client, "calc", "active");
    wait_state(&mut client, "spinner", "active");

    let data = client.result("plugins.call", json!({"tool": "calc__where", "args": {}}));
    let expected = home.path().join("data/plugins/calc");
    assert_eq!(data["text"], expected.display().to_string());
    assert_eq!(mode(&expected), 0o700);

    // Burning CPU past its limit gets the plugin killed (the connection closes,
    // rather than the call timing out), then restarted.
    let burned = client.result("plugins.call", json!({"tool": "spinner__add", "args": {"a": 1, "b": 1}}));
    assert_eq!(burned["is_error"], true, "{burned}");
    assert!(burned["text"].as_str().unwrap().contains("closed"), "{burned}");
    wait_for(&mut client, "the spinner was not restarted", |list| find(list, "spinner")["restarts"] == 1);
    client.result("daemon.status", json!({}));
}

fn pyractl(home: &TestHome, args: &[&str]) -> (Option<i32>, String, String) {
    let mut command = std::process::Command::new(bin("pyractl"));
    command.env("PYRA_HOME", home.path()).args(args);
    let out = run_with_timeout(command);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn plugins_install_from_an_archive_after_confirmation_and_uninstall() {
    let home = TestHome::new();
    let pyrad = Pyrad::start(&home);
    let mut client = pyrad.client();
    // A plugin packed as notes-1.0/… in a .tar.gz, as a release would be.
    let src = home.scratch().join("src/notes-1.0");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::copy(fixture(), src.join("server.py")).unwrap();
    std::fs::write(
        src.join("plugin.toml"),
        "name = \"notes\"\nversion = \"1.0.0\"\ndescription = \"adds\"\ncommand = \"python3\"\nargs = [\"server.py\", \"good\"]\n[permissions]\nnetwork = true\n",
    )
    .unwrap();
    let archive = home.scratch().join("notes-1.0.tar.gz");
    let status = std::process::Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(home.scratch().join("src"))
        .arg("notes-1.0")
        .status()
        .unwrap();
    assert!(status.success());
    let archive = archive.display().to_string();

    let (code, _, stderr) = pyractl(&home, &["plugin", "install", "--allow-unsigned", &archive]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("--yes"), "no terminal, no silent install: {stderr}");
    let (code, _, stderr) = pyractl(&home, &["plugin", "install", "--yes", &archive]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("unverified") && stderr.contains("--allow-unsigned"), "unsigned: {stderr}");
    let (code, stdout, stderr) = pyractl(&home, &["plugin", "install", "--yes", "--allow-unsigned", &archive]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("network      true") && stdout.contains("sha256"), "permissions are shown: {stdout}");
    let sha = stdout.lines().find_map(|l| l.strip_prefix("  sha256       ")).unwrap().to_owned();
    let listed = wait_state(&mut client, "notes", "active");
    assert_eq!(listed["sha256"], sha.as_str());
    assert_eq!(listed["installed_from"], archive.as_str());
    assert_eq!(client.result("plugins.call", json!({"tool": "notes__add", "args": {"a": 1, "b": 2}}))["text"], "3");

    let (code, _, stderr) = pyractl(&home, &["plugin", "install", "--yes", "--allow-unsigned", &archive]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("already installed"), "{stderr}");
    let changed = client.call("plugins.install", json!({"source": archive, "sha256": "0".repeat(64), "update": true}));
    assert!(changed["error"]["message"].as_str().unwrap().contains("changed since it was inspected"), "{changed}");

    let (code, _, stderr) = pyractl(&home, &["plugin", "uninstall", "notes"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!home.path().join("plugins/notes").exists());
    assert!(home.path().join("data/plugins/notes").exists(), "its data is kept");
    let list = plugins(&mut client);
    assert!(list["plugins"].as_array().unwrap().iter().all(|p| p["name"] != "notes"), "{list}");
}

#[test]
fn a_declared_read_only_tool_skips_approval_only_once_granted() {
    let denied = "rules:\n  - name: denied\n    when:\n      tool_result_contains: \"denied\"\n    respond:\n      content: \"Not added.\"\n";
    let llm = FakeLlm::start(&RULES.replacen("rules:\n", denied, 1));
    let home = TestHome::new();
    plugin(&home.path(), "calc", "good", "[approval]\nexempt = [\"add\"]");
    let pyrad = Pyrad::start_with(&home, llm.options());
    let mut client = pyrad.client();
    let listed = wait_state(&mut client, "calc", "active");
    assert_eq!(listed["exempt_declared"], json!(["add"]));
    assert_eq!(listed["exempt_granted"], json!([]));

    // Declared is not enough: it still asks (denied here, so nothing runs).
    client.send(&json!({"jsonrpc": "2.0", "id": 1, "method": "chat.send", "params": {"text": "add two and three"}}));
    let request = loop {
        let msg = client.recv_message();
        assert!(msg.get("id").is_none(), "no approval asked before the grant: {msg}");
        if msg["method"] == "approval.request" {
            break msg["params"].clone();
        }
    };
    client.send(&json!({"jsonrpc": "2.0", "id": 2, "method": "approval.respond", "params": {"id": request["id"], "decision": "deny", "args_sha256": request["args_sha256"]}}));
    client.until_response(1);

    assert_eq!(client.result("plugins.grant", json!({"name": "calc"})), json!(["add"]));
    client.send(
        &json!({"jsonrpc": "2.0", "id": 3, "method": "chat.send", "params": {"text": "please add two and three"}}),
    );
    let (events, answer) = client.until_response(3);
    assert!(events.iter().all(|e| e["method"] != "approval.request"), "granted: no prompt: {events:?}");
    assert_eq!(answer["result"]["tools"][0]["result"], "5", "{answer}");
    assert_eq!(client.result("audit.list", json!({"limit": 1}))[0]["decision"], "not_required");

    assert_eq!(client.result("plugins.revoke", json!({"name": "calc"})), json!([]));
    assert_eq!(find(&plugins(&mut client), "calc")["exempt_granted"], json!([]));
}

#[test]
fn prompts_become_slash_commands_and_resources_can_be_attached() {
    let rules = "version: 1\nrules:\n  - name: attached\n    when:\n      messages_contain: \"Attached resource demo://\"\n    respond:\n      content: \"I read the attachment.\"\n  - name: prompt\n    when:\n      messages_contain: \"simple prompt without arguments\"\n    respond:\n      content: \"Prompt received.\"\n";
    let llm = FakeLlm::start(rules);
    let home = TestHome::new();
    let index = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    let dir = home.path().join("plugins/everything");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "name = \"everything\"\nversion = \"1.0.0\"\ncommand = \"node\"\nargs = [{:?}, \"stdio\"]\n",
            index.display().to_string()
        ),
    )
    .unwrap();
    let pyrad = Pyrad::start_with(&home, llm.options());
    let mut client = pyrad.client();
    wait_state(&mut client, "everything", "active");
    let prompts = client.result("plugins.prompts", json!({}));
    assert!(
        prompts.as_array().unwrap().iter().any(|p| p["plugin"] == "everything" && p["name"] == "simple-prompt"),
        "{prompts}"
    );
    let text = client.result(
        "plugins.prompt",
        json!({"plugin": "everything", "name": "args-prompt", "arguments": {"city": "Lyon"}}),
    );
    assert!(text["text"].as_str().unwrap().contains("Lyon"), "{text}");
    let resources = client.result("plugins.resources", json!({}));
    let uri = resources.as_array().unwrap()[0]["uri"].as_str().unwrap().to_owned();
    let body = client.result("plugins.resource", json!({"plugin": "everything", "uri": uri}));
    assert!(!body["text"].as_str().unwrap().is_empty());

    // In chat: a prompt runs as a slash command, a resource rides along with the next message.
    let mut command = std::process::Command::new(bin("pyractl"));
    command.env("PYRA_HOME", home.path()).arg("chat");
    command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    let _guard = PidGuard(Some(child.id()));
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "/everything:simple-prompt").unwrap();
        writeln!(stdin, "/attach everything {uri}").unwrap();
        writeln!(stdin, "what does it say?").unwrap();
        writeln!(stdin, "/quit").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Prompt received."), "{stdout}");
    assert!(stdout.contains("attached demo://"), "{stdout}");
    assert!(stdout.contains("I read the attachment."), "{stdout}");
}

#[test]
fn setup_checks_settings_against_the_schema_and_puts_secrets_in_the_vault() {
    let home = TestHome::new();
    let extra = r#"[permissions]
vault = ["plugin:calc:token"]
[env]
TOKEN = "vault:plugin:calc:token"
[config_schema]
type = "object"
required = ["city", "token"]
[config_schema.properties.city]
type = "string"
description = "Where you live"
[config_schema.properties.days]
type = "integer"
[config_schema.properties.token]
type = "string"
format = "password"
"#;
    plugin(&home.path(), "calc", "good", extra);
    let pyrad = Pyrad::start(&home);
    let mut client = pyrad.client();
    // Without its token the plugin cannot start, and says how to fix it.
    let waiting = wait_state(&mut client, "calc", "failed");
    assert!(waiting["reason"].as_str().unwrap().contains("pyractl plugin setup calc"), "{waiting}");

    let fields = client.result("plugins.setup_info", json!({"name": "calc"}));
    let token = fields.as_array().unwrap().iter().find(|f| f["key"] == "token").unwrap();
    assert_eq!((token["secret"].as_bool(), token["required"].as_bool()), (Some(true), Some(true)));

    let wrong = client.call(
        "plugins.configure",
        json!({"name": "calc", "values": {"city": "Lyon", "days": "three"}, "secrets": {"token": "t0k"}}),
    );
    assert_eq!(error_code(&wrong), Some(-32602), "{wrong}");
    assert!(wrong["error"]["message"].as_str().unwrap().contains("days"), "{wrong}");
    let leaked = client.call("plugins.configure", json!({"name": "calc", "values": {"city": "Lyon", "token": "t0k"}}));
    assert!(leaked["error"]["message"].as_str().unwrap().contains("token is a secret"), "{leaked}");

    // Through pyractl, as a person would: answers on stdin, the secret without echo.
    let mut command = std::process::Command::new(bin("pyractl"));
    command.env("PYRA_HOME", home.path()).args(["plugin", "setup", "calc"]);
    command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    let _guard = PidGuard(Some(child.id()));
    {
        use std::io::Write;
        // Fields come sorted: city, days, token.
        child.stdin.take().unwrap().write_all(b"Lyon\n3\nsecret-t0k\n").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("secret-t0k"));

    wait_state(&mut client, "calc", "active");
    let seen: Value = serde_json::from_str(
        client.result("plugins.call", json!({"tool": "calc__settings", "args": {}}))["text"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(seen["config"], json!({"city": "Lyon", "days": 3}));
    assert_eq!(seen["token"], "secret-t0k", "the plugin gets its secret through the env mapping");
    assert_eq!(mode(&home.path().join("data/plugins/calc/config.json")), 0o600);
    let config = std::fs::read_to_string(home.path().join("data/plugins/calc/config.json")).unwrap();
    assert!(!config.contains("secret-t0k"), "secrets stay in the vault");
    assert_eq!(client.result("vault.list", json!({})), json!(["plugin:calc:token"]));
}

fn install_bundled(home: &TestHome, name: &str) -> String {
    let (code, stdout, stderr) = pyractl(home, &["plugin", "install", "--bundled", name, "--yes"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("publisher    bundled: ships with Pyra"), "no --allow-unsigned for Pyra's own: {stdout}");
    stdout
}

fn call(client: &mut RawClient, tool: &str, args: Value) -> Value {
    client.result("plugins.call", json!({"tool": tool, "args": args}))
}

#[test]
fn the_bundled_files_plugin_stays_inside_its_roots() {
    let home = TestHome::new();
    let pyrad = Pyrad::start(&home);
    let mut client = pyrad.client();
    let installed = install_bundled(&home, "files");
    // The next step is said at once: without roots its tools can do nothing.
    assert!(installed.contains("next: `pyractl plugin setup files` to set roots (required)"), "{installed}");
    let failed = wait_state(&mut client, "files", "active");
    assert_eq!(failed["exempt_declared"], json!(["list", "read", "search"]));
    let root = home.scratch().join("docs");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("tea.md"), "Green tea\nBlack tea\n").unwrap();
    std::fs::write(root.join("sub/coffee.md"), "No tea here? Tea!\n").unwrap();
    std::os::unix::fs::symlink("/etc", root.join("escape")).unwrap();

    let none = call(&mut client, "files__list", json!({"path": root}));
    assert!(none["text"].as_str().unwrap().contains("no roots granted"), "{none}");
    client.result("plugins.configure", json!({"name": "files", "values": {"roots": root.display().to_string()}}));
    wait_state(&mut client, "files", "active");

    assert_eq!(call(&mut client, "files__list", json!({"path": root}))["text"], "escape@\nsub/\ntea.md");
    assert_eq!(
        call(&mut client, "files__read", json!({"path": root.join("tea.md")}))["text"],
        "Green tea\nBlack tea\n"
    );
    let hits = call(&mut client, "files__search", json!({"path": root, "pattern": "TEA"}))["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(hits.lines().count(), 3, "{hits}");
    let wrote = call(&mut client, "files__write", json!({"path": root.join("new.md"), "content": "hello"}));
    assert_eq!(wrote["is_error"], false, "{wrote}");
    assert_eq!(std::fs::read_to_string(root.join("new.md")).unwrap(), "hello");
    for outside in [
        json!({"path": "/etc/hostname"}),
        json!({"path": root.join("escape/hostname")}),
        json!({"path": root.join("../outside.md")}),
    ] {
        let refused = call(&mut client, "files__read", outside.clone());
        assert_eq!(refused["is_error"], true, "{outside}: {refused}");
    }
    let refused = call(&mut client, "files__write", json!({"path": home.scratch().join("x.md"), "content": "no"}));
    assert!(refused["text"].as_str().unwrap().contains("outside the granted roots"), "{refused}");
    assert!(!home.scratch().join("x.md").exists());
}

#[test]
fn the_bundled_shell_plugin_runs_with_a_timeout_and_the_web_plugin_fetches() {
    let home = TestHome::new();
    let pyrad = Pyrad::start(&home);
    let mut client = pyrad.client();
    install_bundled(&home, "shell");
    install_bundled(&home, "web");
    wait_state(&mut client, "shell", "active");
    wait_state(&mut client, "web", "active");

    let ran = call(&mut client, "shell__run", json!({"command": "echo hi; echo oops >&2"}));
    assert_eq!(ran["text"], "hi\n\n[stderr]\noops\n", "{ran}");
    let failed = call(&mut client, "shell__run", json!({"command": "exit 3"}));
    assert!(failed["is_error"] == true && failed["text"].as_str().unwrap().contains("exit status: 3"), "{failed}");
    let slow = call(&mut client, "shell__run", json!({"command": "sleep 30", "timeout_secs": 1}));
    assert!(slow["text"].as_str().unwrap().contains("timed out after 1 s"), "{slow}");

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/page", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for stream in listener.incoming().take(2) {
            let mut stream = stream.unwrap();
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let body = "<html><body><h1>Tea guide</h1><p>Steep <b>green</b> tea at 80 degrees.</p></body></html>";
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    let page = call(&mut client, "web__fetch", json!({"url": url}));
    let text = page["text"].as_str().unwrap();
    assert!(text.contains("Tea guide") && text.contains("green") && !text.contains("<b>"), "{page}");
    let refused = call(&mut client, "web__fetch", json!({"url": "file:///etc/passwd"}));
    assert_eq!(refused["is_error"], true);
}

#[test]
fn the_rust_example_in_plugins_md_is_a_working_plugin() {
    let doc = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/PLUGINS.md")).unwrap();
    let code = doc.split("```rust\n").nth(1).and_then(|rest| rest.split("```").next()).unwrap();
    let example =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../plugins/examples/shout.rs"))
            .unwrap();
    assert!(example.ends_with(code), "plugins/examples/shout.rs must be the doc's example");
    let binary = bin("examples/shout");
    let home = TestHome::new();
    let dir = home.path().join("plugins/shout");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!("name = \"shout\"\nversion = \"0.1.0\"\ncommand = {:?}\n", binary.display().to_string()),
    )
    .unwrap();
    let pyrad = Pyrad::start(&home);
    let mut client = pyrad.client();
    wait_state(&mut client, "shout", "active");
    assert_eq!(call(&mut client, "shout__shout", json!({"text": "green tea"}))["text"], "GREEN TEA");
}

#[test]
fn the_sandbox_hides_pyra_home_and_tcp_unless_granted() {
    let home = TestHome::new();
    plugin(&home.path(), "snoop", "snoop", "");
    plugin(&home.path(), "caller", "snoop", "[permissions]\nnetwork = true");
    let public = home.scratch().join("public.txt");
    std::fs::write(&public, "anyone may read this").unwrap();
    let pyrad = Pyrad::start(&home);
    let mut client = pyrad.client();
    wait_state(&mut client, "snoop", "active");
    wait_state(&mut client, "caller", "active");

    let peek = |client: &mut RawClient, path: &Path| {
        call(client, "snoop__peek", json!({"path": path}))["text"].as_str().unwrap().to_owned()
    };
    assert_eq!(peek(&mut client, &public), "anyone may read this");
    assert!(
        peek(&mut client, &home.path().join("plugins/snoop/plugin.toml")).contains("name = \"snoop\""),
        "its own folder"
    );
    for secret in ["vault/identity.txt", "config.toml", "data/pyra.db", "plugins/caller/plugin.toml"] {
        let seen = peek(&mut client, &home.path().join(secret));
        assert_eq!(seen, "error: Permission denied", "{secret} must be hidden from plugins");
    }
    let wrote = call(&mut client, "snoop__where", json!({}));
    assert!(wrote["text"].as_str().unwrap().ends_with("data/plugins/snoop"));

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || for _ in listener.incoming().take(2) {});
    assert_eq!(call(&mut client, "snoop__dial", json!({"port": port}))["text"], "error: Permission denied");
    assert_eq!(call(&mut client, "caller__dial", json!({"port": port}))["text"], "connected");
}

#[test]
fn a_plugin_that_stops_answering_pings_is_restarted() {
    let home = TestHome::new();
    plugin(&home.path(), "deaf", "deaf", "");
    let options = PyradOptions { env: vec![("PYRA__PLUGINS__HEALTH_SECS".into(), "1".into())] };
    let pyrad = Pyrad::start_with(&home, options);
    let mut client = pyrad.client();
    let first = wait_state(&mut client, "deaf", "active");
    assert!(first["rss_mib"].as_f64().unwrap() > 1.0, "{first}");
    wait_for(&mut client, "a plugin that ignores pings was never restarted", |list| {
        find(list, "deaf")["restarts"].as_u64().unwrap() > 0
    });
    assert!(home.log().contains("failed its health check"), "{}", home.log());
}

#[test]
fn a_plugin_over_its_memory_limit_is_killed_and_restarted() {
    let home = TestHome::new();
    // The fixture manifest allows 64 MiB; the hog holds 200 MiB on its first call.
    plugin(&home.path(), "hog", "hog", "");
    let pyrad = Pyrad::start(&home);
    let mut client = pyrad.client();
    let before = wait_state(&mut client, "hog", "active");
    assert!(before["rss_mib"].as_f64().unwrap() < 64.0, "{before}");
    let answer = client.result("plugins.call", json!({"tool": "hog__add", "args": {"a": 1, "b": 1}}));
    assert_eq!(answer["is_error"], true, "{answer}");
    wait_for(&mut client, "the hog was never killed", |list| find(list, "hog")["restarts"] != 0);
    // A hard cap where pyrad has cgroups (the kernel kills it), else the sampled check.
    let log = home.log();
    assert!(log.contains("over its memory limit of 64 MiB") || log.contains("over its memory cap of 64 MiB"), "{log}");
    wait_state(&mut client, "hog", "active");
    client.result("daemon.status", json!({}));
}

#[test]
fn the_sandbox_hides_the_home_folder_and_confines_writes_to_what_is_declared() {
    let home = TestHome::new();
    // A user's home folder of its own, with a secret and a folder to share.
    let ada = home.scratch().join("ada");
    std::fs::create_dir_all(ada.join(".ssh")).unwrap();
    std::fs::create_dir_all(ada.join("shared")).unwrap();
    std::fs::write(ada.join(".ssh/id_ed25519"), "PRIVATE KEY").unwrap();
    std::fs::write(ada.join("shared/readme.txt"), "shared with plugins").unwrap();
    let out = home.scratch().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(home.scratch().join("public.txt"), "public").unwrap();
    // The system's python: a pyenv shim would look for its versions in the fake home.
    let python = ["/usr/bin/python3", "/bin/python3"].into_iter().find(|p| Path::new(p).exists()).unwrap();
    let manifest = |name: &str, permissions: &str| {
        let dir = home.path().join("plugins").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let text = format!(
            "name = {name:?}\nversion = \"1.0.0\"\ncommand = {python:?}\nargs = [{:?}, \"snoop\"]\n[permissions]\n{permissions}\n",
            fixture().display().to_string()
        );
        std::fs::write(dir.join("plugin.toml"), text).unwrap();
    };
    manifest("snoop", "");
    manifest("trusted", &format!("read = [\"~/shared\"]\nwrite = [{:?}]", out.display().to_string()));
    let options = PyradOptions { env: vec![("HOME".into(), ada.display().to_string())] };
    let pyrad = Pyrad::start_with(&home, options);
    let mut client = pyrad.client();
    wait_state(&mut client, "snoop", "active");
    wait_state(&mut client, "trusted", "active");
    let text = |client: &mut RawClient, tool: &str, path: &Path| {
        call(client, tool, json!({"path": path}))["text"].as_str().unwrap().to_owned()
    };
    let denied = "error: Permission denied";

    // Reading: the home folder is hidden but for what is declared; the rest is open.
    assert_eq!(text(&mut client, "snoop__peek", &ada.join(".ssh/id_ed25519")), denied);
    assert_eq!(text(&mut client, "snoop__peek", &ada.join("shared/readme.txt")), denied);
    assert_eq!(text(&mut client, "trusted__peek", &ada.join("shared/readme.txt")), "shared with plugins");
    assert_eq!(text(&mut client, "trusted__peek", &ada.join(".ssh/id_ed25519")), denied);
    assert_eq!(text(&mut client, "snoop__peek", &home.scratch().join("public.txt")), "public");

    // Writing: only its data folder and what is declared writable.
    assert_eq!(text(&mut client, "snoop__scribble", &out.join("a.txt")), denied);
    assert!(!out.join("a.txt").exists());
    assert_eq!(text(&mut client, "trusted__scribble", &out.join("b.txt")), "written");
    assert_eq!(std::fs::read_to_string(out.join("b.txt")).unwrap(), "scribbled");
    assert_eq!(text(&mut client, "trusted__scribble", &ada.join("shared/c.txt")), denied, "read grant is read-only");
    let data = home.path().join("data/plugins/snoop");
    assert_eq!(text(&mut client, "snoop__scribble", &data.join("mine.txt")), "written");
    assert_eq!(text(&mut client, "snoop__scribble", &home.path().join("data/plugins/trusted/x")), denied);
}

#[test]
fn a_changed_plugin_folder_restarts_only_that_plugin_and_its_dependents() {
    let home = TestHome::new();
    // Development folders ([plugins] paths): a change restarts the plugin (an
    // installed one would be marked modified instead; see tests/trust.rs).
    let dev = home.scratch().join("dev");
    plugin(&dev, "alpha", "good", "");
    plugin(&dev, "beta", "good", "depends = [\"alpha\"]");
    plugin(&dev, "gamma", "good", "");
    std::fs::create_dir_all(home.path()).unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        format!("[plugins]\npaths = [{:?}]\n", dev.join("plugins").display().to_string()),
    )
    .unwrap();
    let pyrad = Pyrad::start(&home);
    let mut client = pyrad.client();
    let pid = |client: &mut RawClient, name: &str| wait_state(client, name, "active")["pid"].as_u64().unwrap();
    let (alpha, beta, gamma) = (pid(&mut client, "alpha"), pid(&mut client, "beta"), pid(&mut client, "gamma"));
    assert_eq!(call(&mut client, "gamma__add", json!({"a": 1, "b": 2}))["text"], "3");

    // A new script in alpha's folder: alpha restarts, and beta, which depends on it.
    std::fs::write(dev.join("plugins/alpha/helper.py"), "# a helper\n").unwrap();
    wait_for(&mut client, "alpha and beta were not restarted", |list| {
        let restarted = |name: &str, old: u64| {
            let p = find(list, name);
            p["state"] == "active" && p["pid"].as_u64() != Some(old)
        };
        restarted("alpha", alpha) && restarted("beta", beta)
    });
    let kept = find(&plugins(&mut client), "gamma").clone();
    assert_eq!((kept["pid"].as_u64(), kept["calls"].as_u64()), (Some(gamma), Some(1)), "gamma kept running: {kept}");

    // Disabling gamma touches neither alpha nor beta.
    let (alpha, beta) = (pid(&mut client, "alpha"), pid(&mut client, "beta"));
    client.result("plugins.disable", json!({"name": "gamma"}));
    assert_eq!(find(&plugins(&mut client), "gamma")["state"], "disabled");
    assert_eq!((pid(&mut client, "alpha"), pid(&mut client, "beta")), (alpha, beta));
    assert!(home.log().contains("plugins refreshed"), "{}", home.log());
}

#[test]
fn a_plugin_log_is_capped_and_rotated_and_takes_its_mcp_log_messages() {
    let home = TestHome::new();
    plugin(&home.path(), "chatty", "chatty", "");
    let pyrad = Pyrad::start(&home);
    let mut client = pyrad.client();
    wait_state(&mut client, "chatty", "active");
    let log = home.path().join("logs/plugins/chatty.log");
    let rotated = home.path().join("logs/plugins/chatty.log.1");
    // 12 MiB written; at most 5 MiB in each of the two files.
    // (stderr and the MCP message come through different pipes: either may land first)
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let read = |f: &Path| std::fs::read_to_string(f).unwrap_or_default();
        let (now, before) = (read(&log), read(&rotated));
        if now.contains("012287 e") && (now.clone() + before.as_str()).contains("[mcp warning] chatty: all done") {
            break;
        }
        assert!(Instant::now() < deadline, "the last stderr line or the MCP log message never reached the log");
        std::thread::sleep(Duration::from_millis(50));
    }
    for file in [&log, &rotated] {
        let len = std::fs::metadata(file).unwrap().len();
        assert!(len <= 5 * 1024 * 1024 && len > 1024 * 1024, "{}: {len}", file.display());
        assert_eq!(mode(file), 0o600);
    }
    assert_eq!(call(&mut client, "chatty__add", json!({"a": 1, "b": 1}))["text"], "2");
    assert!(!home.log().contains("all done"), "plugin log messages stay out of pyrad's own log");
}
