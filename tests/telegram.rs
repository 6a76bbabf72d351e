//! The Telegram bot, driven as a person uses it: messages and button presses go
//! into a faithful fake of the Bot API (tests/fakes/telegram_bot_api.py), which
//! pyrad's teloxide client talks to unchanged; what the person would see is read
//! back from the fake's record of the chat.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::time::Duration;

use pyra_tests::telegram::FakeTelegram;
use pyra_tests::{FakeLlm, Pyrad, TestHome};
use serde_json::{Value, json};

const ADA: i64 = 4242;
const EVE: i64 = 6666;
const T: Duration = Duration::from_secs(20);

const RULES: &str = r#"
version: 1
rules:
  - name: noted
    when:
      tool_result_contains: "notes.md"
    respond:
      content: "Noted it."
  - name: refused
    when:
      tool_result_contains: "denied"
    respond:
      content: "I did not write it."
  - name: timed-out
    when:
      tool_result_contains: "timed out"
    respond:
      content: "Nobody answered, so I left it."
  - name: note
    when:
      messages_contain: "note"
    respond:
      tool_calls:
        - name: memory__append
          arguments: {"name": "notes.md", "text": "buy green tea"}
  - name: hello
    when:
      messages_contain: "hello"
    respond:
      content: "Hi **Ada** <3, tea & cake?"
"#;

/// pyrad with the Telegram bot pointed at the fake, allowing only Ada.
fn start(llm: &FakeLlm, telegram: &FakeTelegram, extra: &str) -> (TestHome, Pyrad) {
    start_with(llm, telegram, "", extra)
}

/// The same, with more `[bots]` keys and more config after `[bots.telegram]`.
fn start_with(llm: &FakeLlm, telegram: &FakeTelegram, bots: &str, extra: &str) -> (TestHome, Pyrad) {
    let home = TestHome::new();
    std::fs::create_dir_all(home.path()).unwrap();
    let config = format!(
        "[bots]\npassphrase_idle_secs = 3600\n{bots}\n[bots.telegram]\nenabled = true\nallow = [{ADA}]\napi_url = \"{}\"\nedit_interval_ms = 300\npoll_timeout_secs = 1\n{extra}",
        telegram.url()
    );
    std::fs::write(home.path().join("config.toml"), config).unwrap();
    let pyrad = Pyrad::start_with(&home, llm.options());
    let mut client = pyrad.client();
    client.result("vault.set", json!({"key": "bot:telegram:token", "value": telegram.token()}));
    client.result("bots.reload", json!({}));
    wait_connected(&pyrad);
    (home, pyrad)
}

fn wait_connected(pyrad: &Pyrad) -> Value {
    let deadline = std::time::Instant::now() + T;
    loop {
        let status = pyrad.client().result("bots.status", json!({}));
        if status["telegram"]["state"] == "connected" {
            return status;
        }
        assert!(std::time::Instant::now() < deadline, "the bot did not connect: {status}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The bot's messages in a chat.
fn bot_messages(chat: &Value) -> Vec<Value> {
    chat["messages"].as_array().unwrap().iter().filter(|m| m["from_bot"] == true).cloned().collect()
}

/// Asks for a note (a call that needs approval) and returns the prompt with its buttons.
fn ask_for_a_note(telegram: &FakeTelegram) -> Value {
    telegram.send_text(ADA, "please take a note");
    let chat = telegram.wait_for(ADA, T, |chat| bot_messages(chat).iter().any(|m| !m["reply_markup"].is_null()));
    bot_messages(&chat).into_iter().find(|m| !m["reply_markup"].is_null()).unwrap()
}

#[test]
fn a_conversation_in_a_private_chat_and_a_stranger_gets_nothing() {
    let llm = FakeLlm::start(RULES);
    let telegram = FakeTelegram::start();
    let (_home, pyrad) = start(&llm, &telegram, "");
    let status = pyrad.client().result("daemon.status", json!({}));
    assert_eq!(status["bots"]["telegram"]["state"], "connected", "{status}");

    telegram.send_text(EVE, "hello");
    let asked = telegram.send_text(ADA, "hello");
    let chat = telegram.wait_for(ADA, T, |chat| {
        bot_messages(chat).iter().any(|m| m["text"].as_str().is_some_and(|t| t.contains("Hi Ada <3, tea & cake?")))
    });
    let answer = bot_messages(&chat).into_iter().last().unwrap();
    // Markdown went out as HTML: the bold is an entity, the < and & are text.
    assert_eq!(answer["parse_mode"], "HTML", "{answer}");
    assert!(answer["entities"].as_array().unwrap().iter().any(|e| e["type"] == "bold"), "{answer}");
    assert_eq!(answer["reply_to_message_id"], asked, "{answer}");
    // The stranger got no answer at all.
    assert!(bot_messages(&telegram.chat(EVE)).is_empty(), "{}", telegram.chat(EVE));
    // Typing was shown while the model worked.
    assert!(telegram.calls().iter().any(|c| c["method"] == "sendChatAction"), "no typing notice");
}

#[test]
fn a_tool_call_asks_in_the_chat_and_the_prompt_ends_as_its_outcome() {
    let llm = FakeLlm::start(RULES);
    let telegram = FakeTelegram::start();
    let (_home, _pyrad) = start(&llm, &telegram, "");
    let prompt = ask_for_a_note(&telegram);
    let text = prompt["text"].as_str().unwrap();
    assert!(text.contains("memory__append") && text.contains("buy green tea") && text.contains("s left"), "{text}");
    let buttons = &prompt["reply_markup"]["inline_keyboard"];
    let approve = buttons[0][0]["callback_data"].as_str().unwrap().to_owned();
    assert_eq!(buttons[0][0]["text"], "Approve");
    assert_eq!(buttons[0][1]["text"], "Deny");
    let id = prompt["message_id"].as_i64().unwrap();

    // Somebody else pressing the button is refused, and nothing is decided.
    telegram.press_in(EVE, ADA, id, &approve);
    // Ada approves.
    telegram.press(ADA, id, &approve);
    let chat = telegram.wait_for(ADA, T, |chat| {
        bot_messages(chat).iter().any(|m| m["text"].as_str().is_some_and(|t| t.contains("Noted it.")))
    });
    let prompt = chat["messages"].as_array().unwrap().iter().find(|m| m["message_id"] == id).unwrap().clone();
    assert!(prompt["text"].as_str().unwrap().contains("Approved"), "{prompt}");
    assert!(prompt["reply_markup"].is_null() || prompt["reply_markup"]["inline_keyboard"] == json!([]), "{prompt}");
    let answers: Vec<String> = chat["callback_answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["text"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(answers.iter().any(|a| a.contains("Only the person")), "{answers:?}");
    assert!(answers.iter().any(|a| a == "Approved."), "{answers:?}");
    // A second press of the same button is stale.
    telegram.press(ADA, id, &approve);
    let chat = telegram.wait_for(ADA, T, |chat| chat["callback_answers"].as_array().unwrap().len() >= 3);
    let last = chat["callback_answers"].as_array().unwrap().last().unwrap().clone();
    assert!(last["text"].as_str().unwrap().contains("already decided"), "{last}");
}

#[test]
fn an_unanswered_prompt_times_out_and_says_so() {
    let llm = FakeLlm::start(RULES);
    let telegram = FakeTelegram::start();
    let (_home, _pyrad) = start(&llm, &telegram, "\n[approval]\ntimeouts = { telegram = 2 }\n");
    telegram.send_text(ADA, "please take a note");
    let chat = telegram.wait_for(ADA, T, |chat| {
        bot_messages(chat)
            .iter()
            .any(|m| m["text"].as_str().is_some_and(|t| t.contains("Nobody answered, so I left it.")))
    });
    let prompt =
        bot_messages(&chat).into_iter().find(|m| m["text"].as_str().unwrap().contains("memory__append")).unwrap();
    assert!(prompt["text"].as_str().unwrap().contains("Timed out"), "{prompt}");
    assert!(prompt["reply_markup"].is_null() || prompt["reply_markup"]["inline_keyboard"] == json!([]), "{prompt}");
    assert!(
        bot_messages(&chat).iter().any(|m| m["text"].as_str().unwrap().contains("Nobody answered in time")),
        "{chat}"
    );
}

#[test]
fn the_passphrase_is_asked_first_and_never_kept() {
    let llm = FakeLlm::start(RULES);
    let telegram = FakeTelegram::start();
    let (home, pyrad) = start(&llm, &telegram, "");
    pyrad.client().result("bots.passphrase", json!({"passphrase": "correct horse battery"}));
    wait_connected(&pyrad);
    telegram.send_text(ADA, "hello");
    telegram
        .wait_for(ADA, T, |chat| bot_messages(chat).iter().any(|m| m["text"].as_str().unwrap().contains("passphrase")));
    let wrong = telegram.send_text(ADA, "wrong horse");
    telegram.wait_for(ADA, T, |chat| {
        bot_messages(chat).iter().any(|m| m["text"].as_str().unwrap().contains("Wrong passphrase"))
    });
    let right = telegram.send_text(ADA, "correct horse battery");
    // The kept first message is answered after the passphrase.
    let chat = telegram
        .wait_for(ADA, T, |chat| bot_messages(chat).iter().any(|m| m["text"].as_str().unwrap().contains("Hi Ada")));
    let deleted =
        |id: i64| chat["messages"].as_array().unwrap().iter().any(|m| m["message_id"] == id && m["deleted"] == true);
    assert!(deleted(wrong) && deleted(right), "passphrase attempts are deleted from the chat: {chat}");
    // Neither attempt is in pyrad's database or logs.
    drop(pyrad);
    let db = std::fs::read(home.path().join("data/pyra.db")).unwrap_or_default();
    let wal = std::fs::read(home.path().join("data/pyra.db-wal")).unwrap_or_default();
    assert!(!db.is_empty());
    for bytes in [&db, &wal] {
        assert!(!bytes.windows(13).any(|w| w == b"correct horse"), "the passphrase was stored");
    }
    assert!(!home.log().contains("correct horse"), "the passphrase was logged");
}

#[test]
fn a_message_sent_while_pyrad_is_down_is_answered_once_after_the_restart() {
    let llm = FakeLlm::start(RULES);
    let telegram = FakeTelegram::start();
    let (home, mut pyrad) = start(&llm, &telegram, "");
    telegram.send_text(ADA, "hello there");
    telegram.wait_for(ADA, T, |chat| bot_messages(chat).len() == 1);
    pyrad.signal(libc::SIGTERM);
    pyrad.wait_exit();
    let second = telegram.send_text(ADA, "hello again");
    let pyrad = Pyrad::start_with(&home, llm.options());
    wait_connected(&pyrad);
    let chat = telegram.wait_for(ADA, T, |chat| bot_messages(chat).iter().any(|m| m["reply_to_message_id"] == second));
    // Give a repeat every chance to show up: one more round trip through the bot.
    telegram.send_text(ADA, "hello, last one");
    let chat2 = telegram.wait_for(ADA, T, |chat| bot_messages(chat).len() >= 3);
    let answers = bot_messages(&chat2);
    assert_eq!(answers.len(), 3, "each message answered exactly once: {chat2}");
    assert_eq!(bot_messages(&chat).iter().filter(|m| m["reply_to_message_id"] == second).count(), 1);
    // And every update gets confirmed by the next poll.
    let deadline = std::time::Instant::now() + T;
    while !telegram.updates()["pending"].as_array().unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "{}", telegram.updates());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_429_is_waited_out_and_rejected_formatting_is_sent_as_plain_text() {
    let llm = FakeLlm::start(RULES);
    let telegram = FakeTelegram::start();
    let (_home, _pyrad) = start(&llm, &telegram, "");
    let full = |chat: &Value, text: &str| bot_messages(chat).iter().filter(|m| m["text"] == text).count();
    telegram.fail("sendMessage", "429", 1, json!({"retry_after": 1}));
    telegram.send_text(ADA, "hello");
    telegram.wait_for(ADA, T, |chat| full(chat, "Hi Ada <3, tea & cake?") == 1);
    let statuses: Vec<i64> = telegram.calls_of("sendMessage").iter().map(|c| c["status"].as_i64().unwrap()).collect();
    assert_eq!(statuses.first(), Some(&429), "{statuses:?}");

    // Telegram refuses the formatting (whether the answer is sent or edited into place).
    telegram.fail("sendMessage", "400-entities", 1, json!({}));
    telegram.fail("editMessageText", "400-entities", 1, json!({}));
    telegram.send_text(ADA, "hello once more");
    let chat = telegram.wait_for(ADA, T, |chat| full(chat, "Hi **Ada** <3, tea & cake?") == 1);
    let plain = bot_messages(&chat).into_iter().find(|m| m["text"] == "Hi **Ada** <3, tea & cake?").unwrap();
    assert!(plain["parse_mode"].is_null(), "the answer arrives, unformatted: {plain}");
}

#[test]
fn the_hourly_limit_answers_once_then_stays_quiet() {
    let llm = FakeLlm::start(RULES);
    let telegram = FakeTelegram::start();
    let (_home, _pyrad) = start_with(&llm, &telegram, "messages_per_hour = 2\n", "");
    for i in 0..4 {
        telegram.send_text(ADA, &format!("hello {i}"));
    }
    let chat = telegram.wait_for(ADA, T, |chat| {
        bot_messages(chat).iter().any(|m| m["text"].as_str().unwrap().contains("hourly message limit"))
    });
    // Let the fourth message through the worker too, then count.
    telegram.wait_for(ADA, T, |chat| chat["messages"].as_array().unwrap().len() >= 7);
    let texts: Vec<String> =
        bot_messages(&telegram.chat(ADA)).iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect();
    assert_eq!(texts.iter().filter(|t| t.contains("Hi Ada")).count(), 2, "{texts:?}");
    assert_eq!(texts.iter().filter(|t| t.contains("hourly message limit")).count(), 1, "{texts:?} {chat}");
}

#[test]
fn pyractl_connects_the_bot_without_a_restart_and_reports_a_bad_token() {
    let llm = FakeLlm::start(RULES);
    let telegram = FakeTelegram::start();
    let home = TestHome::new();
    let pyrad = Pyrad::start_with(&home, llm.options());
    let (code, out, err) = pyra_tests::pyractl_with_input(&home, &["bots", "status"], "");
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.trim(), "matrix: disabled\ntelegram: disabled");

    // A wrong token: an error with the reason, and the token shown nowhere.
    let wrong = "7000000001:AAWrongTokenWrongTokenWrongToken00";
    let url = telegram.url();
    let setup = ["bots", "setup", "telegram", "--token-stdin", "--allow", "4242", "--api-url", url.as_str()];
    let (code, out, err) = pyra_tests::pyractl_with_input(&home, &setup, &format!("{wrong}\n"));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("telegram: error") && out.contains("Invalid bot token"), "{out}");
    assert!(!out.contains(wrong) && !home.log().contains(wrong), "the token leaked: {out}");

    // The right one: connected, as the bot's username, and the config says so.
    let (code, out, err) = pyra_tests::pyractl_with_input(&home, &setup, &format!("{}\n", telegram.token()));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.trim(), "telegram: connected as @pyra_test_bot");
    let config = std::fs::read_to_string(home.path().join("config.toml")).unwrap();
    assert!(config.contains("[bots.telegram]") && config.contains("allow = [4242]"), "{config}");
    let (_, out, _) = pyra_tests::pyractl_with_input(&home, &["bots", "status", "--json"], "");
    let status: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(status["telegram"]["state"], "connected", "{status}");
    telegram.send_text(ADA, "hello");
    telegram.wait_for(ADA, T, |chat| bot_messages(chat).iter().any(|m| m["text"] == "Hi Ada <3, tea & cake?"));

    // A short passphrase is refused; a good one is asked for from then on.
    let (code, _, err) = pyra_tests::pyractl_with_input(&home, &["bots", "passphrase", "--stdin"], "short\n");
    assert_ne!(code, Some(0));
    assert!(err.contains("at least 8 characters"), "{err}");
    let (code, out, err) =
        pyra_tests::pyractl_with_input(&home, &["bots", "passphrase", "--stdin"], "tea and biscuits\n");
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("passphrase set"), "{out}");
    drop(pyrad);
}

#[test]
fn approve_for_this_session_lets_the_next_call_through_without_asking() {
    let llm = FakeLlm::start(RULES);
    let telegram = FakeTelegram::start();
    let (_home, _pyrad) = start(&llm, &telegram, "");
    let prompt = ask_for_a_note(&telegram);
    let session_button = &prompt["reply_markup"]["inline_keyboard"][1][0];
    assert_eq!(session_button["text"], "Approve for this session");
    telegram.press(ADA, prompt["message_id"].as_i64().unwrap(), session_button["callback_data"].as_str().unwrap());
    telegram.wait_for(ADA, T, |chat| bot_messages(chat).iter().filter(|m| m["text"] == "Noted it.").count() == 1);
    // The same tool again in this conversation: no prompt this time.
    telegram.send_text(ADA, "one more note");
    let chat =
        telegram.wait_for(ADA, T, |chat| bot_messages(chat).iter().filter(|m| m["text"] == "Noted it.").count() == 2);
    let prompts = bot_messages(&chat).iter().filter(|m| m["text"].as_str().unwrap().contains("memory__append")).count();
    assert_eq!(prompts, 1, "{chat}");
    let edited =
        bot_messages(&chat).into_iter().find(|m| m["text"].as_str().unwrap().contains("memory__append")).unwrap();
    assert!(edited["text"].as_str().unwrap().contains("Approved for this session"), "{edited}");
}

#[test]
fn a_streamed_answer_is_edited_no_more_often_than_the_interval() {
    // fakellm streams a word every 10 ms: 400 words take about 4 s.
    let story = (0..400).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
    let rules = format!(
        "version: 1\nrules:\n  - name: story\n    when:\n      messages_contain: \"story\"\n    respond:\n      content: \"{story}\"\n"
    );
    let llm = FakeLlm::start(&rules);
    let telegram = FakeTelegram::start();
    let (_home, _pyrad) = start(&llm, &telegram, "");
    telegram.send_text(ADA, "tell me a story");
    telegram.wait_for(ADA, T, |chat| {
        bot_messages(chat).iter().any(|m| m["text"].as_str().is_some_and(|t| t.ends_with("w399")))
    });
    let edits: Vec<f64> =
        telegram.calls_of("editMessageText").iter().map(|c| c["time"].as_f64().unwrap()).collect::<Vec<_>>();
    // Streamed: the live message was edited several times while the model wrote...
    assert!(edits.len() >= 3, "{} edits", edits.len());
    // ...never sooner than 300 ms (edit_interval_ms) after the one before, give or take
    // the network's jitter.
    let gaps: Vec<f64> = edits.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.iter().all(|g| *g >= 0.25), "edits closer than the interval: {gaps:?}");
    // One message for the whole answer: no flood of new ones.
    assert_eq!(telegram.calls_of("sendMessage").len(), 1);
}

#[test]
fn a_dropped_connection_loses_no_reply_and_sends_none_twice() {
    let llm = FakeLlm::start(RULES);
    let telegram = FakeTelegram::start();
    let (_home, _pyrad) = start(&llm, &telegram, "");
    // The first sendMessage's connection is reset before any answer.
    telegram.fail("sendMessage", "drop", 1, json!({}));
    let asked = telegram.send_text(ADA, "hello");
    let chat = telegram.wait_for(ADA, T, |chat| {
        bot_messages(chat).iter().any(|m| m["text"].as_str().is_some_and(|t| t.contains("Hi Ada")))
    });
    let answers: Vec<Value> = bot_messages(&chat).into_iter().filter(|m| m["reply_to_message_id"] == asked).collect();
    assert_eq!(answers.len(), 1, "{chat}");
    assert!(telegram.calls_of("sendMessage").iter().any(|c| c["injected"] == "drop"), "the failure was not injected");
}

#[test]
fn a_prompt_that_cannot_be_delivered_denies_the_call_at_once() {
    let llm = FakeLlm::start(RULES);
    let telegram = FakeTelegram::start();
    // A long timeout: only an immediate denial answers within the test's wait.
    let (_home, pyrad) = start(&llm, &telegram, "\n[approval]\ntimeouts = { telegram = 600 }\n");
    let refusal = json!({"error_code": 403, "description": "Forbidden: bot was blocked by the user"});
    telegram.fail("sendMessage", "error", 1, refusal);
    telegram.send_text(ADA, "please take a note");
    telegram.wait_for(ADA, T, |chat| {
        bot_messages(chat).iter().any(|m| m["text"].as_str().is_some_and(|t| t.contains("I did not write it.")))
    });
    let audit = pyrad.client().result("audit.list", json!({"limit": 1}));
    assert_eq!(audit[0]["tool"], "memory__append", "{audit}");
    assert_eq!(audit[0]["decision"], "denied", "{audit}");
    assert!(!bot_messages(&telegram.chat(ADA)).iter().any(|m| !m["reply_markup"].is_null()), "a prompt was shown");
}

#[test]
fn new_sessions_and_resume_work_in_the_chat() {
    let llm = FakeLlm::start(RULES);
    let telegram = FakeTelegram::start();
    let (_home, pyrad) = start(&llm, &telegram, "");
    let said = |needle: &'static str| {
        move |chat: &Value| bot_messages(chat).iter().any(|m| m["text"].as_str().is_some_and(|t| t.contains(needle)))
    };
    telegram.send_text(ADA, "hello");
    telegram.wait_for(ADA, T, |chat| bot_messages(chat).len() == 1);
    let sessions = || pyrad.client().result("sessions.list", json!({}));
    let first = sessions()[0]["id"].as_str().unwrap().to_owned();
    telegram.send_text(ADA, "/new");
    telegram.wait_for(ADA, T, said("New conversation."));
    telegram.send_text(ADA, "hello in a new one");
    telegram.wait_for(ADA, T, |chat| bot_messages(chat).len() == 3);
    assert_eq!(sessions().as_array().unwrap().len(), 2, "{}", sessions());
    telegram.send_text(ADA, "/sessions");
    let chat = telegram.wait_for(ADA, T, |chat| bot_messages(chat).len() == 4);
    let listed = bot_messages(&chat).last().unwrap()["text"].as_str().unwrap().to_owned();
    assert!(listed.contains(&first) && listed.lines().count() == 2, "{listed}");
    telegram.send_text(ADA, &format!("/resume {first}"));
    telegram.wait_for(ADA, T, said("Back in"));
    telegram.send_text(ADA, "hello from the first one");
    // The resumed conversation gets the message and its answer.
    let deadline = std::time::Instant::now() + T;
    loop {
        let list = sessions();
        let count = |id: &str| list.as_array().unwrap().iter().find(|s| s["id"] == id).unwrap()["messages"].clone();
        if count(&first) == 4 {
            assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the resumed conversation did not get the message: {list}");
        std::thread::sleep(Duration::from_millis(50));
    }
    // An id from elsewhere is refused.
    telegram.send_text(ADA, "/resume 00000000-nothing");
    telegram.wait_for(ADA, T, said("No conversation here has that id"));
}

#[test]
fn a_message_kept_for_the_passphrase_survives_a_restart() {
    let llm = FakeLlm::start(RULES);
    let telegram = FakeTelegram::start();
    let (home, mut pyrad) = start(&llm, &telegram, "");
    pyrad.client().result("bots.passphrase", json!({"passphrase": "correct horse battery"}));
    wait_connected(&pyrad);
    let asked = telegram.send_text(ADA, "hello");
    let challenges = |chat: &Value| {
        bot_messages(chat).iter().filter(|m| m["text"].as_str().unwrap().contains("Send your passphrase")).count()
    };
    telegram.wait_for(ADA, T, |chat| challenges(chat) == 1);
    pyrad.signal(libc::SIGTERM);
    pyrad.wait_exit();
    let pyrad = Pyrad::start_with(&home, llm.options());
    wait_connected(&pyrad);
    // The kept message is still there: the new pyrad asks again, then answers it.
    telegram.wait_for(ADA, T, |chat| challenges(chat) == 2);
    telegram.send_text(ADA, "correct horse battery");
    let chat = telegram.wait_for(ADA, T, |chat| {
        bot_messages(chat).iter().any(|m| m["text"].as_str().is_some_and(|t| t.contains("Hi Ada")))
    });
    let answer = bot_messages(&chat).into_iter().find(|m| m["text"].as_str().unwrap().contains("Hi Ada")).unwrap();
    assert_eq!(answer["reply_to_message_id"], asked, "the answer replies to the kept message: {answer}");
    drop(pyrad);
}

#[test]
fn a_reload_keeps_who_is_unlocked_and_a_new_passphrase_asks_again() {
    let llm = FakeLlm::start(RULES);
    let telegram = FakeTelegram::start();
    let (_home, pyrad) = start(&llm, &telegram, "");
    pyrad.client().result("bots.passphrase", json!({"passphrase": "correct horse battery"}));
    wait_connected(&pyrad);
    let challenges = |chat: &Value| {
        bot_messages(chat).iter().filter(|m| m["text"].as_str().unwrap().contains("Send your passphrase")).count()
    };
    telegram.send_text(ADA, "hello");
    telegram.wait_for(ADA, T, |chat| challenges(chat) == 1);
    telegram.send_text(ADA, "correct horse battery");
    telegram.wait_for(ADA, T, |chat| bot_messages(chat).iter().any(|m| m["text"].as_str().unwrap().contains("Hi Ada")));
    // A reload with the same settings: Ada stays unlocked.
    pyrad.client().result("bots.reload", json!({}));
    wait_connected(&pyrad);
    let again = telegram.send_text(ADA, "hello again");
    let chat = telegram.wait_for(ADA, T, |chat| bot_messages(chat).iter().any(|m| m["reply_to_message_id"] == again));
    assert_eq!(challenges(&chat), 1, "a reload asked for the passphrase again: {chat}");
    // A new passphrase asks everyone again.
    pyrad.client().result("bots.passphrase", json!({"passphrase": "a brand new phrase"}));
    wait_connected(&pyrad);
    telegram.send_text(ADA, "hello once more");
    telegram.wait_for(ADA, T, |chat| challenges(chat) == 2);
}
