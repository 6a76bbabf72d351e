//! `pyractl chat` driven through a pseudo-terminal as a person uses it: keys in,
//! screen text out, against a real pyrad and the provider fake
//! (`tests/fakes/provider.py`, fakellm plus the model list and usage).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::process::Command;

use pyra_tests::pty::Pty;
use pyra_tests::*;
use serde_json::{Value, json};

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
  - name: expired
    when:
      tool_result_contains: "not made"
    respond:
      content: "Not saved, nobody answered."
  - name: remember
    when:
      messages_contain: "remember that"
    respond:
      tool_calls:
        - name: memory__append
          arguments: {name: "user/profile.md", text: "Likes tea."}
  - name: update first
    when:
      messages_contain: "update my profile"
      turn: 1
    respond:
      tool_calls:
        - name: memory__write
          arguments: {name: "user/profile.md", content: "Likes tea.\nLikes green tea.\n"}
  - name: updated first
    when:
      turn: 2
      messages_contain: "update my profile"
    respond:
      content: "Updated."
  - name: update again
    when:
      messages_contain: "update my profile"
      turn: 3
    respond:
      tool_calls:
        - name: memory__write
          arguments: {name: "user/profile.md", content: "Likes tea.\nLikes oolong.\n"}
  - name: updated again
    when:
      turn: 4
      messages_contain: "update my profile"
    respond:
      content: "Updated again."
  - name: other model
    when:
      model_matches: "other-model"
    respond:
      content: "Answer from other-model."
  - name: table
    when:
      messages_contain: "show a table"
    respond:
      content: "Here:\n\n| Tea | Minutes |\n|---|---|\n| Green | 2 |\n| Black | 4 |\n\n> steep gently\n\nSee [the guide](https://tea.test/guide)."
  - name: lines
    when:
      messages_contain: "line one\nline two"
    respond:
      content: "Got two lines."
  - name: slow
    when:
      messages_contain: "slowly"
    respond:
      content: "There you are."
  - name: hello
    when:
      messages_contain: "hello"
    respond:
      content: "Hello from the model"
"#;

/// A home whose config.toml names the fake as its provider (in the file, not the
/// environment, so `config reload` can change it), with `extra` appended.
fn home_for(llm: &FakeLlm, extra: &str) -> TestHome {
    let home = TestHome::new();
    std::fs::create_dir_all(home.path()).unwrap();
    let config =
        format!("[provider]\npreset = \"custom\"\nbase_url = \"{}/v1\"\nmodel = \"test-model\"\n{extra}", llm.url);
    std::fs::write(home.path().join("config.toml"), config).unwrap();
    home
}

fn pyractl(home: &TestHome, args: &[&str]) -> Command {
    let mut command = Command::new(bin("pyractl"));
    command.env("PYRA_HOME", home.path()).env_remove("PYRA_SOCKET").env_remove("PYRA__IPC__SOCKET").args(args);
    command
}

fn chat(home: &TestHome, args: &[&str]) -> Pty {
    let mut all = vec!["chat"];
    all.extend_from_slice(args);
    let mut pty = Pty::spawn(pyractl(home, &all));
    pty.expect("you> ");
    pty
}

fn memory(pyrad: &Pyrad, name: &str) -> Option<String> {
    let mut client = pyrad.client();
    let response = client.call("memory.read", json!({"name": name}));
    response.get("result").map(|r| r["content"].as_str().unwrap().to_owned())
}

#[test]
fn the_approval_prompt_counts_down_expires_and_ignores_a_late_key() {
    let llm = FakeLlm::start(RULES);
    let home = home_for(&llm, "[approval]\ntimeouts = { ipc = 3 }\n");
    let pyrad = Pyrad::start(&home);
    let mut pty = chat(&home, &[]);
    pty.send("remember that I like tea\r");
    pty.expect("Pyra wants to run memory__append");
    pty.expect("text: Likes tea.");
    // The countdown moves: it starts at 3 or 2 and reaches 1.
    pty.expect("s left): ");
    pty.expect("(1s left): ");
    let expired = pty.expect("no answer in time: denied");
    assert!(!expired.contains("Allow?"), "the prompt was replaced: {expired:?}");
    // A key typed after the expiry is not an answer.
    pty.send("y");
    pty.expect("memory__append(name=\"user/profile.md\", text=\"Likes tea.\") not run");
    pty.expect("Not saved, nobody answered.");
    pty.expect("you> ");
    assert_eq!(memory(&pyrad, "user/profile.md"), None, "the late y ran the tool");
}

#[test]
fn ctrl_c_at_the_prompt_denies_and_cancels_the_turn() {
    let llm = FakeLlm::start(RULES);
    let home = home_for(&llm, "");
    let pyrad = Pyrad::start(&home);
    let mut pty = chat(&home, &[]);
    pty.send("remember that I like tea\r");
    pty.expect("Allow? [y]es / [N]o / [s]ession (");
    pty.send("\x03");
    pty.expect("denied (Ctrl-C); cancelling the turn");
    pty.expect("[cancelled]");
    pty.expect("you> ");
    assert_eq!(memory(&pyrad, "user/profile.md"), None);
    // The chat goes on.
    pty.send("/new\r");
    pty.expect("new conversation");
    pty.expect("you> ");
    pty.send("hello\r");
    pty.expect("Hello from the model");
}

#[test]
fn keys_typed_during_an_answer_wait_for_the_next_prompt_and_never_answer_an_approval() {
    let llm = FakeLlm::start(RULES);
    let home = home_for(&llm, "");
    let pyrad = Pyrad::start(&home);
    let mut pty = chat(&home, &[]);
    // A whole message typed while the answer is still coming: it is not echoed
    // over the answer, and its Enter sends it once the prompt is back.
    pty.send("please answer slowly\r");
    pty.expect("waiting for test-model");
    pty.send("hello\r");
    let answer = pty.expect("There you are.");
    assert!(!answer.contains("hello"), "typed-ahead keys were echoed over the answer: {answer:?}");
    pty.expect("you> hello");
    // (The fake answers the whole conversation, which says "slowly", the same way.)
    pty.expect("There you are.");
    pty.expect("you> ");

    // A "y" typed before an approval prompt appears is not its answer: it waits,
    // with the rest of what was typed, on the next prompt.
    pty.send("remember that I like tea, slowly\r");
    pty.expect("waiting for test-model");
    pty.send("yes pl");
    pty.expect("Allow? [y]es / [N]o / [s]ession (");
    let asked = pty.settle(std::time::Duration::from_millis(500));
    assert!(!asked.contains("allowed"), "a typed-ahead key answered the approval: {asked:?}");
    pty.send("n");
    pty.expect("denied");
    pty.expect("Not saved.");
    pty.expect("you> yes pl");
    assert_eq!(memory(&pyrad, "user/profile.md"), None, "the typed-ahead y ran the tool");
    pty.send("ease\r");
    pty.expect("you> ");
    let detail = pyrad.client().result("sessions.list", json!({}));
    let id = detail[0]["id"].as_str().unwrap().to_owned();
    let detail = pyrad.client().result("sessions.get", json!({"session": id}));
    let said: Vec<&str> = detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(said, ["please answer slowly", "hello", "remember that I like tea, slowly", "yes please"]);
}

#[test]
fn a_write_is_asked_as_a_diff_and_each_call_is_one_line() {
    let llm = FakeLlm::start(RULES);
    let home = home_for(&llm, "");
    let pyrad = Pyrad::start(&home);
    pyrad.client().result("memory.write", json!({"name": "user/profile.md", "content": "Likes tea.\n"}));
    let mut pty = chat(&home, &[]);
    pty.send("please update my profile\r");
    let asked = pty.expect("Allow?");
    assert!(asked.contains("user/profile.md, the changes:"), "{asked}");
    assert!(asked.contains("+Likes green tea."), "{asked}");
    assert!(!asked.contains("\\n"), "no escaped JSON string: {asked}");
    pty.send("s");
    pty.expect("allowed: memory__write runs without asking for the rest of this conversation");
    let line = pty.expect("you approved");
    assert!(
        line.contains("\u{2713} memory__write(content=\"Likes tea.\u{2026}\", name=\"user/profile.md\")"),
        "{line}"
    );
    pty.expect("Updated.");
    pty.expect("you> ");
    // The second write runs under the session grant, and says so.
    pty.send("now update my profile once more\r");
    let again = pty.expect("Updated again.");
    assert!(again.contains("under your session grant") && !again.contains("Allow?"), "{again}");
    assert_eq!(memory(&pyrad, "user/profile.md").as_deref(), Some("Likes tea.\nLikes oolong.\n"));
    pty.expect("you> ");
    pty.send("/tools\r");
    pty.expect("memory__write");
}

#[test]
fn chat_keeps_the_message_when_pyrad_stops_and_reconnects_when_it_is_back() {
    let llm = FakeLlm::start(RULES);
    let home = home_for(&llm, "");
    let mut pyrad = Pyrad::start(&home);
    let mut pty = chat(&home, &[]);
    pty.send("hello\r");
    pty.expect("Hello from the model");
    pty.expect("you> ");
    pyrad.signal(libc::SIGTERM);
    pyrad.wait_exit();

    // pyrad comes back while the chat waits: the message goes out again.
    pty.send("hello again\r");
    pty.expect("[lost pyrad:");
    pty.expect("waiting for pyrad to come back");
    let mut pyrad = Pyrad::start(&home);
    pty.expect("reconnected to pyrad");
    pty.expect("sending your message again");
    pty.expect("Hello from the model");
    pty.expect("you> ");

    // Not back, and the person stops waiting: the message is on the next prompt.
    pyrad.signal(libc::SIGTERM);
    pyrad.wait_exit();
    pty.send("hello once more\r");
    pty.expect("waiting for pyrad to come back");
    pty.send("\x03");
    pty.expect("start it with `pyractl daemon start`");
    pty.expect("you> hello once more");
    let _pyrad = Pyrad::start(&home);
    pty.send("\r");
    pty.expect("reconnected to pyrad");
    pty.expect("Hello from the model");
}

#[test]
fn models_switch_per_chat_per_call_and_by_a_live_reload() {
    let llm = FakeLlm::start_offering(RULES, &["other-model", "test-model"]);
    let home = home_for(&llm, "");
    let pyrad = Pyrad::start(&home);
    let pid = pyrad.pid();

    let out = run_with_timeout(pyractl(&home, &["models"]));
    let listed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(listed, "  other-model\n* test-model\n", "{}", String::from_utf8_lossy(&out.stderr));
    let out = run_with_timeout(pyractl(&home, &["ask", "-m", "other-model", "hello"]));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Answer from other-model.\n");

    let mut pty = chat(&home, &[]);
    pty.send("/model\r");
    pty.expect("custom, model test-model at");
    pty.expect("you> ");
    pty.send("/model other-model\r");
    pty.expect("model other-model for the rest of this chat");
    pty.expect("you> ");
    pty.send("hello\r");
    pty.expect("Answer from other-model.");
    pty.expect("you> ");
    pty.send("/model default\r");
    pty.expect("back to the configured model");
    pty.expect("you> ");
    pty.send("hello\r");
    pty.expect("Hello from the model");
    pty.expect("you> ");

    // The config changes under the open chat; pyrad applies it without restarting.
    let path = home.path().join("config.toml");
    let config = std::fs::read_to_string(&path).unwrap().replace("test-model", "other-model");
    std::fs::write(&path, config).unwrap();
    let out = run_with_timeout(pyractl(&home, &["config", "reload"]));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "config.toml reloaded: provider now in force\n");
    pty.send("hello\r");
    pty.expect("Answer from other-model.");
    let status: Value = pyrad.client().result("daemon.status", json!({}));
    assert_eq!(status["pid"], pid, "pyrad restarted");
    assert_eq!(status["provider"]["model"], "other-model");
}

#[test]
fn undo_retry_and_multiline_input() {
    let llm = FakeLlm::start(RULES);
    let home = home_for(&llm, "");
    let pyrad = Pyrad::start(&home);
    let mut pty = chat(&home, &[]);
    pty.send("hello\r");
    pty.expect("Hello from the model");
    pty.expect("you> ");
    // Ctrl-J starts a new line (Alt-Enter too, when Esc and Enter come together);
    // Enter sends both.
    pty.send("line one\nline two\r");
    pty.expect("Got two lines.");
    pty.expect("you> ");
    let sessions = pyrad.client().result("sessions.list", json!({}));
    let id = sessions[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(sessions[0]["messages"], 4);

    pty.send("/undo\r");
    pty.expect("took out your last question and its answer");
    pty.expect("line one");
    pty.expect("you> ");
    let detail = pyrad.client().result("sessions.get", json!({"session": id}));
    assert_eq!(detail["messages"].as_array().unwrap().len(), 2, "{detail}");

    pty.send("/retry\r");
    pty.expect("asking again: hello");
    pty.expect("Hello from the model");
    pty.expect("you> ");
    let detail = pyrad.client().result("sessions.get", json!({"session": id}));
    let said: Vec<&str> =
        detail["messages"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap()).collect();
    assert_eq!(said, ["hello", "Hello from the model"], "the retried turn replaced the first");

    // A backslash at the end of a line goes on too.
    pty.send("/new\r");
    pty.expect("new conversation");
    pty.expect("you> ");
    pty.send("line one\\\r");
    pty.expect("...> ");
    pty.send("line two\r");
    pty.expect("Got two lines.");
}

#[test]
fn answers_render_markdown_wait_visibly_and_resume_with_a_recap() {
    let llm = FakeLlm::start(RULES);
    // A price for the test model: each answer shows its cost beside its tokens.
    let home = home_for(&llm, "prices = { \"test-model\" = [2.0, 4.0] }\n");
    let pyrad = Pyrad::start(&home);
    let mut pty = chat(&home, &[]);
    pty.send("/memory\r");
    pty.expect("no memory files yet");
    pty.expect("you> ");
    pty.send("/prompts\r");
    pty.expect("no plugin offers prompts");
    pty.expect("you> ");
    pty.send("/resources\r");
    pty.expect("no plugin offers resources");
    pty.expect("you> ");
    pty.send("please answer slowly\r");
    pty.expect("waiting for test-model");
    pty.expect("There you are.");
    // Tokens from the provider's usage fields, then a blank line before the prompt.
    let after = pty.expect("you> ");
    assert!(after.contains(" in / ") && after.contains(" out tokens \u{b7} $0.0"), "{after:?}");
    assert!(after.contains("\n\n"), "a blank line before the prompt: {after:?}");
    pty.send("show a table\r");
    let shown = pty.expect("you> ");
    assert!(shown.contains("Tea    Minutes"), "{shown}");
    assert!(shown.contains("Green  2"), "{shown}");
    assert!(!shown.contains("|---|"), "{shown}");
    assert!(shown.contains("\u{2502} steep gently"), "{shown}");
    assert!(shown.contains("See the guide (https://tea.test/guide)."), "{shown}");
    pty.send("/status\r");
    pty.expect("this chat");
    pty.expect("you> ");
    pty.send("\x04");
    assert_eq!(pty.wait_exit(), Some(0));

    let sessions = pyrad.client().result("sessions.list", json!({}));
    let id = sessions[0]["id"].as_str().unwrap().to_owned();
    assert!(sessions[0]["usage"]["input_tokens"].as_u64().unwrap() > 0, "{sessions}");
    // The session's cost is its tokens at the configured price, $2 in and $4 out per million.
    let usage = &sessions[0]["usage"];
    let expected =
        (usage["input_tokens"].as_f64().unwrap() * 2.0 + usage["output_tokens"].as_f64().unwrap() * 4.0) / 1e6;
    assert!((usage["cost_usd"].as_f64().unwrap() - expected).abs() < 1e-9, "{usage}");
    let status = pyrad.client().result("daemon.status", json!({}));
    assert_eq!(status["provider"]["price"], json!({"input": 2.0, "output": 4.0, "source": "config"}), "{status}");
    let mut pty = Pty::spawn(pyractl(&home, &["chat", "--resume", &id[..5]]));
    let recap = pty.expect("last: you: show a table");
    assert!(recap.contains("tokens \u{b7} $0.0"), "{recap}");
    pty.expect("you> ");

    // An id that names nothing fails at once, before anything is typed.
    let mut pty = Pty::spawn(pyractl(&home, &["chat", "--resume", "nope"]));
    pty.expect("no session \"nope\"");
    assert_eq!(pty.wait_exit(), Some(1));
    drop(pyrad);
}

/// pyrad as `pyractl setup` started it, killed at the end of the test.
fn started_pyrad(home: &TestHome) -> PidGuard {
    let pid = std::fs::read_to_string(home.path().join("run/pyrad.pid")).unwrap().trim().parse().unwrap();
    PidGuard(Some(pid))
}

#[test]
fn the_setup_wizard_checks_each_answer_as_it_is_given() {
    let llm = FakeLlm::start_offering(RULES, &["other-model", "test-model"]);
    let home = TestHome::new();
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut pty = Pty::spawn(pyractl(&home, &["setup"]));
    pty.expect("Provider: ");
    pty.send("nope\r");
    pty.expect("unknown provider \"nope\"; one of: openai, anthropic");
    pty.expect("Provider: ");
    pty.send("custom\r");
    pty.expect("Base URL of the API");
    let schemeless = llm.url.trim_start_matches("http://");
    pty.send(&format!("{schemeless}/v1\r"));
    pty.expect("has no http:// or https://");
    pty.send(&format!("http://127.0.0.1:{dead}/v1\r"));
    pty.expect(&format!("nothing answers at 127.0.0.1:{dead}"));
    pty.send(&format!("{}/v1\r", llm.url));
    pty.expect("Does it need an API key? [y/N] ");
    pty.send("\r");
    pty.expect("offers: other-model, test-model");
    pty.expect("Model: ");
    pty.send("test-model\r");
    pty.expect("checked: ");
    pty.expect("ready: try `pyractl chat`");
    assert_eq!(pty.wait_exit(), Some(0));
    let _pyrad = started_pyrad(&home);
    let pid = std::fs::read_to_string(home.path().join("run/pyrad.pid")).unwrap();

    // A re-run offers what is set as the defaults, and reloads pyrad instead of restarting it.
    let mut pty = Pty::spawn(pyractl(&home, &["setup"]));
    pty.expect("Provider [custom]: ");
    pty.send("\r");
    pty.expect(&format!("[{}/v1]: ", llm.url));
    pty.send("\r");
    pty.expect("[y/N] ");
    pty.send("\r");
    pty.expect("Model [test-model]: ");
    pty.send("other-model\r");
    pty.expect("ready");
    assert_eq!(pty.wait_exit(), Some(0));
    assert_eq!(std::fs::read_to_string(home.path().join("run/pyrad.pid")).unwrap(), pid, "setup restarted pyrad");
    let out = run_with_timeout(pyractl(&home, &["ask", "hello"]));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Answer from other-model.\n");
}

#[test]
fn setup_ends_with_a_test_call_that_says_what_failed() {
    // A provider that refuses the key, as OpenAI answers a wrong one.
    let port = refusing_provider(8);
    let home = TestHome::new();
    let url = format!("http://127.0.0.1:{port}/v1");
    let out = run_with_timeout(pyractl(&home, &["setup", "--provider", "custom", "--base-url", &url, "--model", "m1"]));
    let _pyrad = started_pyrad(&home);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the test call failed") && stderr.contains("key"), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("ready"));
    // The config is kept, so one thing can be fixed.
    let config = std::fs::read_to_string(home.path().join("config.toml")).unwrap();
    assert!(config.contains(&format!("base_url = \"{url}\"")) && config.contains("model = \"m1\""), "{config}");

    // Flags are checked before anything is written: no scheme, custom without a URL.
    let out = run_with_timeout(pyractl(&home, &["setup", "--provider", "custom", "--base-url", "127.0.0.1:9/v1"]));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no http:// or https://"));
    let out = run_with_timeout(pyractl(&home, &["setup", "--provider", "custom"]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("custom needs a base URL") && !stderr.contains("--base-url"), "{stderr}");
    let config_after = std::fs::read_to_string(home.path().join("config.toml")).unwrap();
    assert_eq!(config, config_after, "a refused answer changed the config");
}

/// Right after pyrad starts, its plugins are still starting: the first question
/// waits for them (briefly) and is offered their tools, not only the built-in ones.
#[test]
fn the_first_question_after_a_start_is_offered_the_plugins_tools() {
    let rules = r#"
version: 1
rules:
  - name: sees files
    when:
      tools_include: "files__list"
    respond:
      content: "I see the files tools."
  - name: blind
    when:
      messages_contain: "which tools"
    respond:
      content: "Only the memory tools."
"#;
    let llm = FakeLlm::start(rules);
    let home = home_for(&llm, "");
    let mut pyrad = Pyrad::start(&home);
    let out = run_with_timeout(pyractl(&home, &["plugin", "install", "--bundled", "files", "--yes"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    pyrad.signal(libc::SIGTERM);
    pyrad.wait_exit();
    let _pyrad = Pyrad::start(&home);
    let out = run_with_timeout(pyractl(&home, &["ask", "which tools do you have?"]));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "I see the files tools.\n");
}
