//! The Matrix bot, driven as people use it: Ada (and Bob, and a stranger) are real
//! matrix-sdk clients of a real Synapse on loopback; pyrad's bot is another client
//! of the same homeserver. What they see is what their clients synced.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::time::Duration;

use pyra_tests::matrix::{MatrixUser, Seen, Synapse};
use pyra_tests::{FakeLlm, Pyrad, TestHome};
use serde_json::{Value, json};

const T: Duration = Duration::from_secs(30);
const BOT_PASSWORD: &str = "bot-pass-4d9f";

/// fakellm's rules see the whole conversation (and every tool result it has
/// seen), so later turns of a conversation get the first matching rule's answer:
/// the tests tell answers apart by the message they reply to.
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
  - name: other
    when:
      messages_contain: " "
    respond:
      content: "Understood."
"#;

/// The bot's answers to one message (replies to it).
fn answers_to<'a>(seen: &'a [Seen], bot: &str, event_id: &str) -> Vec<&'a Seen> {
    from_bot(seen, bot).into_iter().filter(|s| s.in_reply_to() == Some(event_id)).collect()
}

/// The homeserver with the bot's account, Ada and Bob (both allowed) and Eve (not).
struct World {
    synapse: Synapse,
    bot: String,
    ada: String,
    bob: String,
    eve: String,
}

impl World {
    fn new() -> Self {
        let synapse = Synapse::start();
        let bot = synapse.register("pyra", BOT_PASSWORD);
        let ada = synapse.register("ada", "ada-pass-1");
        let bob = synapse.register("bob", "bob-pass-1");
        let eve = synapse.register("eve", "eve-pass-1");
        Self { synapse, bot, ada, bob, eve }
    }

    fn user(&self, name: &str) -> MatrixUser {
        MatrixUser::login(&self.synapse, name, &format!("{name}-pass-1"))
    }

    /// A config.toml with the Matrix bot on, allowing Ada and Bob, and `extra` after it.
    fn config(&self, bots: &str, extra: &str) -> String {
        format!(
            "[bots]\npassphrase_idle_secs = 3600\n{bots}\n[bots.matrix]\nenabled = true\nhomeserver = \"{}\"\nuser = \"{}\"\nallow = [\"{}\", \"{}\"]\nsync_timeout_secs = 2\n{extra}",
            self.synapse.url(),
            self.bot,
            self.ada,
            self.bob
        )
    }

    /// pyrad with this config and the bot's password in the vault, connected.
    fn start(&self, llm: &FakeLlm, bots: &str, extra: &str) -> (TestHome, Pyrad) {
        self.start_with_secret(llm, bots, extra, ("bot:matrix:password", BOT_PASSWORD.to_owned()))
    }

    fn start_with_secret(&self, llm: &FakeLlm, bots: &str, extra: &str, secret: (&str, String)) -> (TestHome, Pyrad) {
        let home = TestHome::new();
        std::fs::create_dir_all(home.path()).unwrap();
        std::fs::write(home.path().join("config.toml"), self.config(bots, extra)).unwrap();
        let pyrad = Pyrad::start_with(&home, llm.options());
        pyrad.client().result("vault.set", json!({"key": secret.0, "value": secret.1}));
        pyrad.client().result("bots.reload", json!({}));
        wait_connected(&pyrad);
        (home, pyrad)
    }
}

fn wait_connected(pyrad: &Pyrad) -> Value {
    // A first login makes the device's keys and stores: slow on two busy cores.
    let deadline = std::time::Instant::now() + 2 * T;
    loop {
        let status = pyrad.client().result("bots.status", json!({}));
        if status["matrix"]["state"] == "connected" {
            return status;
        }
        assert!(std::time::Instant::now() < deadline, "the Matrix bot did not connect: {status}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The bot's messages (not edits) in what a user saw.
fn from_bot<'a>(seen: &'a [Seen], bot: &str) -> Vec<&'a Seen> {
    seen.iter().filter(|s| s.sender == bot && s.kind() == "m.room.message" && s.replaces().is_none()).collect()
}

fn said(seen: &[Seen], bot: &str, needle: &str) -> bool {
    from_bot(seen, bot).iter().any(|s| s.body().contains(needle))
}

/// The latest text of a message: its last edit's new content, or its own body.
fn current(seen: &[Seen], event_id: &str) -> String {
    seen.iter()
        .rfind(|s| s.replaces() == Some(event_id))
        .map(|e| e.event["content"]["m.new_content"]["body"].as_str().unwrap_or_default().to_owned())
        .or_else(|| seen.iter().find(|s| s.event_id == event_id).map(|s| s.body().to_owned()))
        .unwrap_or_default()
}

/// Ada's room with the bot in it (joined after her invite).
fn room_with_bot(world: &World, who: &MatrixUser, encrypted: bool) -> String {
    let room = who.create_room(&[&world.bot], encrypted);
    who.wait_joined(&room, &world.bot);
    room
}

/// The code a prompt shows, from its text: `approve <code>`.
fn code_of(prompt: &str) -> String {
    let at = prompt.find("\"approve ").unwrap() + "\"approve ".len();
    prompt[at..].chars().take_while(char::is_ascii_alphanumeric).collect()
}

#[test]
fn an_encrypted_conversation_both_ways_set_up_by_pyractl_and_strangers_get_nothing() {
    let world = World::new();
    let llm = FakeLlm::start(RULES);
    let home = TestHome::new();
    let pyrad = Pyrad::start_with(&home, llm.options());
    // Set up without a terminal and without a restart.
    let (code, out, err) = pyra_tests::pyractl_with_input(
        &home,
        &[
            "bots",
            "setup",
            "matrix",
            "--homeserver",
            &world.synapse.url(),
            "--user",
            &world.bot,
            "--password-stdin",
            "--allow",
            &world.ada,
        ],
        &format!("{BOT_PASSWORD}\n"),
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains(&format!("matrix: connected as {}", world.bot)), "{out}");
    assert!(!out.contains(BOT_PASSWORD) && !err.contains(BOT_PASSWORD));
    let store = home.path().join("bots/matrix");
    assert_eq!(pyra_tests::mode(&store), 0o700, "the Matrix store is private");

    let ada = world.user("ada");
    let room = room_with_bot(&world, &ada, true);
    assert!(ada.is_encrypted(&room));
    let asked = ada.send_text(&room, "hello there");
    let seen = ada.wait_for(&room, T, |seen| said(seen, &world.bot, "Hi **Ada**"));
    let answer = from_bot(&seen, &world.bot).into_iter().find(|s| s.body().contains("Hi **Ada**")).unwrap().clone();
    // Sent encrypted into the encrypted room, decrypted by Ada's client.
    assert!(answer.encrypted && !answer.undecryptable, "{answer:?}");
    // Markdown as Matrix HTML, the rest escaped, tied to the message it answers.
    assert_eq!(answer.event["content"]["format"], "org.matrix.custom.html");
    assert_eq!(answer.event["content"]["formatted_body"], "Hi <b>Ada</b> &lt;3, tea &amp; cake?");
    assert_eq!(answer.in_reply_to(), Some(asked.as_str()), "{answer:?}");
    // Every event the bot sent into this room was encrypted.
    assert!(
        seen.iter().filter(|s| s.sender == world.bot && s.kind().starts_with("m.room.message")).all(|s| s.encrypted)
    );
    // The typing notice was shown while the model worked and cleared after.
    let typing = |seen: &[Seen]| -> Vec<bool> {
        seen.iter()
            .filter(|s| s.kind() == "m.typing")
            .map(|s| s.event["content"]["user_ids"].as_array().unwrap().iter().any(|u| u == world.bot.as_str()))
            .collect()
    };
    assert!(typing(&seen).contains(&true), "no typing notice was seen");
    let seen = ada.wait_for(&room, T, |seen| typing(seen).last() == Some(&false));
    assert!(typing(&seen).last() == Some(&false));

    // Eve, not on the allowlist: her invite is declined, and in Ada's room she gets no answer.
    let eve = world.user("eve");
    let eves = eve.create_room(&[&world.bot], false);
    ada.invite(&room, &world.eve);
    eve.join(&room);
    eve.send_text(&room, "hello, I am Eve");
    eve.send_text(&eves, "hello from my room");
    // Ada's next message is answered; by then Eve's (sent earlier) would have been.
    let next = ada.send_text(&room, "and now?");
    let seen = ada.wait_for(&room, T, |seen| !answers_to(seen, &world.bot, &next).is_empty());
    let eves_hello = seen.iter().find(|s| s.body() == "hello, I am Eve").unwrap();
    assert!(answers_to(&seen, &world.bot, &eves_hello.event_id).is_empty(), "Eve was answered");
    assert_eq!(from_bot(&seen, &world.bot).len(), 2, "{seen:#?}");
    let eves_seen = eve.seen(&eves);
    assert!(
        !eves_seen.iter().any(|s| s.sender == world.bot && s.kind() == "m.room.message"),
        "the bot spoke in Eve's room: {eves_seen:#?}"
    );
    assert!(home.log().contains("declined"), "the declined invite is logged");
    drop(pyrad);
}

#[test]
fn approvals_are_answered_only_by_the_one_who_asked() {
    let world = World::new();
    let llm = FakeLlm::start(RULES);
    let (_home, _pyrad) = world.start(&llm, "", "");
    let ada = world.user("ada");
    let bob = world.user("bob");
    let room = room_with_bot(&world, &ada, false);
    ada.invite(&room, &world.bob);
    bob.join(&room);

    ada.send_text(&room, "please take a note");
    let seen = ada.wait_for(&room, T, |seen| said(seen, &world.bot, "memory__append"));
    let prompt = from_bot(&seen, &world.bot).into_iter().find(|s| s.body().contains("memory__append")).unwrap().clone();
    assert!(prompt.body().contains("buy green tea") && prompt.body().contains("s left"), "{}", prompt.body());
    let code = code_of(prompt.body());

    // Bob is allowed to talk to the bot, but this is Ada's request.
    bob.send_text(&room, &format!("approve {code}"));
    let seen = ada.wait_for(&room, T, |seen| said(seen, &world.bot, "Only @ada:pyra.test may answer"));
    assert!(!current(&seen, &prompt.event_id).contains("Approved"));
    // A mistyped code is refused with its reason.
    ada.send_text(&room, "approve zzz999");
    ada.wait_for(&room, T, |seen| said(seen, &world.bot, "No request here has the code zzz999"));
    // Ada reacts ✅: approved, the prompt edited to say so, the tool ran.
    ada.react(&room, &prompt.event_id, "✅");
    let seen = ada.wait_for(&room, T, |seen| said(seen, &world.bot, "Noted it."));
    assert!(current(&seen, &prompt.event_id).ends_with("✅ Approved"), "{}", current(&seen, &prompt.event_id));
    // Answering again is stale.
    ada.send_text(&room, &format!("approve {code}"));
    ada.wait_for(&room, T, |seen| said(seen, &world.bot, "already decided"));

    // In a new conversation, Ada denies the next one by reply.
    ada.send_text(&room, "/new");
    ada.wait_for(&room, T, |seen| said(seen, &world.bot, "New conversation."));
    ada.send_text(&room, "take another note");
    let seen = ada.wait_for(&room, T, |seen| {
        from_bot(seen, &world.bot).iter().filter(|s| s.body().contains("memory__append")).count() == 2
    });
    let second =
        from_bot(&seen, &world.bot).into_iter().rfind(|s| s.body().contains("memory__append")).unwrap().clone();
    ada.send_text(&room, &format!("deny {}", code_of(second.body())));
    let seen = ada.wait_for(&room, T, |seen| said(seen, &world.bot, "I did not write it."));
    assert!(current(&seen, &second.event_id).ends_with("❌ Denied"), "{}", current(&seen, &second.event_id));
}

#[test]
fn an_unanswered_prompt_times_out_and_says_so() {
    let world = World::new();
    let llm = FakeLlm::start(RULES);
    let (_home, _pyrad) = world.start(&llm, "", "\n[approval]\ntimeouts = { matrix = 2 }\n");
    let ada = world.user("ada");
    let room = room_with_bot(&world, &ada, false);
    ada.send_text(&room, "please take a note");
    let seen = ada.wait_for(&room, T, |seen| said(seen, &world.bot, "Nobody answered, so I left it."));
    let prompt = from_bot(&seen, &world.bot).into_iter().find(|s| s.body().contains("memory__append")).unwrap().clone();
    assert!(current(&seen, &prompt.event_id).ends_with("⏱ Timed out: not run"), "{}", current(&seen, &prompt.event_id));
    assert!(said(&seen, &world.bot, "Nobody answered in time, so memory__append was not run."));
}

#[test]
fn the_passphrase_is_asked_first_never_kept_and_wrong_ones_lock_out() {
    let world = World::new();
    let llm = FakeLlm::start(RULES);
    let (home, pyrad) = world.start(&llm, "", "");
    pyrad.client().result("bots.passphrase", json!({"passphrase": "correct horse battery"}));
    wait_connected(&pyrad);
    let ada = world.user("ada");
    let room = room_with_bot(&world, &ada, true);
    ada.send_text(&room, "hello");
    ada.wait_for(&room, T, |seen| said(seen, &world.bot, "Send your passphrase"));
    ada.send_text(&room, "wrong horse");
    ada.wait_for(&room, T, |seen| said(seen, &world.bot, "Wrong passphrase."));
    let right = ada.send_text(&room, "correct horse battery");
    // Unlocked, and the kept first message answered.
    let seen = ada.wait_for(&room, T, |seen| said(seen, &world.bot, "Hi **Ada**"));
    assert!(said(&seen, &world.bot, "Unlocked"));
    // The passphrase leaves the room's history: redacted by the bot where its
    // power level allows, or the bot asks Ada to delete it.
    let redacted = |seen: &[Seen]| {
        seen.iter().any(|s| {
            s.kind() == "m.room.redaction"
                && s.sender == world.bot
                && (s.event["redacts"] == right.as_str() || s.event["content"]["redacts"] == right.as_str())
        })
    };
    ada.wait_for(&room, T, |seen| redacted(seen) || said(seen, &world.bot, "delete your passphrase message"));

    // Bob guesses three times: locked out, told once, even the right one is refused then.
    let bob = world.user("bob");
    let bobs = room_with_bot(&world, &bob, false);
    bob.send_text(&bobs, "hello");
    bob.wait_for(&bobs, T, |seen| said(seen, &world.bot, "Send your passphrase"));
    for guess in ["one", "two", "three"] {
        bob.send_text(&bobs, guess);
    }
    // The lockout is told once, with the attempt that caused it; then even the right one gets nothing.
    bob.wait_for(&bobs, T, |seen| said(seen, &world.bot, "Locked for 1 minute"));
    bob.send_text(&bobs, "correct horse battery");
    bob.send_text(&bobs, "correct horse battery");
    let last = bob.send_text(&bobs, "hello?");
    bob.wait_for(&bobs, T, |seen| seen.iter().any(|s| s.event_id == last));
    std::thread::sleep(Duration::from_secs(3));
    let seen = bob.seen(&bobs);
    let told: Vec<&str> = from_bot(&seen, &world.bot).iter().map(|s| s.body()).collect();
    assert_eq!(told.iter().filter(|b| b.contains("Locked")).count(), 1, "{told:?}");
    assert!(!told.iter().any(|b| b.contains("Hi **Ada**") || b.contains("Unlocked")), "{told:?}");

    // No attempt is in pyrad's database or its log.
    drop(pyrad);
    for file in ["pyra.db", "pyra.db-wal"] {
        let bytes = std::fs::read(home.path().join(file)).unwrap_or_default();
        assert!(!bytes.windows(13).any(|w| w == b"correct horse"), "the passphrase was stored in {file}");
        assert!(!bytes.windows(11).any(|w| w == b"wrong horse"), "an attempt was stored in {file}");
    }
    assert!(!home.log().contains("correct horse"), "the passphrase was logged");
}

#[test]
fn the_hourly_limit_answers_once_and_approval_answers_do_not_count() {
    let world = World::new();
    let llm = FakeLlm::start(RULES);
    let (_home, _pyrad) = world.start(&llm, "messages_per_hour = 2", "");
    let ada = world.user("ada");
    let room = room_with_bot(&world, &ada, false);
    // Message 1 asks for a tool; the approval answer is not a message.
    ada.send_text(&room, "please take a note");
    let seen = ada.wait_for(&room, T, |seen| said(seen, &world.bot, "memory__append"));
    let prompt = from_bot(&seen, &world.bot).into_iter().find(|s| s.body().contains("memory__append")).unwrap().clone();
    ada.send_text(&room, &format!("approve {}", code_of(prompt.body())));
    ada.wait_for(&room, T, |seen| said(seen, &world.bot, "Noted it."));
    // Message 2 passes, 3 and 4 do not: one notice.
    let second = ada.send_text(&room, "hello");
    ada.wait_for(&room, T, |seen| !answers_to(seen, &world.bot, &second).is_empty());
    let third = ada.send_text(&room, "hello again");
    let fourth = ada.send_text(&room, "hello once more");
    ada.wait_for(&room, T, |seen| said(seen, &world.bot, "hourly message limit"));
    std::thread::sleep(Duration::from_secs(2));
    let seen = ada.seen(&room);
    assert_eq!(from_bot(&seen, &world.bot).iter().filter(|s| s.body().contains("hourly message limit")).count(), 1);
    assert!(answers_to(&seen, &world.bot, &third).is_empty() && answers_to(&seen, &world.bot, &fourth).is_empty());
}

#[test]
fn a_restart_loses_and_repeats_nothing_and_keeps_the_device() {
    let world = World::new();
    let llm = FakeLlm::start(RULES);
    let (home, pyrad) = world.start(&llm, "", "");
    // (The first login may itself start afresh: `bots.reload` after the password
    // is stored can cut short a login begun at start. Restarts are what is checked.)
    let set_up = home.log().len();
    let ada = world.user("ada");
    let room = room_with_bot(&world, &ada, true);
    ada.send_text(&room, "hello");
    ada.wait_for(&room, T, |seen| said(seen, &world.bot, "Hi **Ada**"));
    let session = pyrad.client().result("vault.list", json!({}));
    assert!(session.to_string().contains("bot:matrix:session"), "{session}");
    assert_eq!(ada.device_count(&world.bot), 1);

    // pyrad dies without a goodbye; Ada writes twice while it is down.
    pyrad.signal(libc::SIGKILL);
    drop(pyrad);
    let first = ada.send_text(&room, "first while you were away");
    let second = ada.send_text(&room, "second while you were away");
    let pyrad = Pyrad::start_with(&home, llm.options());
    wait_connected(&pyrad);
    let answered_once = |seen: &[Seen], id: &str| answers_to(seen, &world.bot, id).len() == 1;
    ada.wait_for(&room, T, |seen| answered_once(seen, &first) && answered_once(seen, &second));
    // One more restart, cleanly this time: nothing is answered again.
    drop(pyrad);
    let pyrad = Pyrad::start_with(&home, llm.options());
    wait_connected(&pyrad);
    let third = ada.send_text(&room, "and after that?");
    ada.wait_for(&room, T, |seen| answered_once(seen, &third));
    std::thread::sleep(Duration::from_secs(1));
    let seen_after = ada.seen(&room);
    for id in [&first, &second, &third] {
        assert!(answered_once(&seen_after, id), "{id} was not answered exactly once: {seen_after:#?}");
    }
    assert_eq!(from_bot(&seen_after, &world.bot).len(), 4, "{seen_after:#?}");
    // Every answer reached Ada encrypted and readable: the device and its keys were kept.
    assert!(from_bot(&seen_after, &world.bot).iter().all(|s| s.encrypted && !s.undecryptable));
    assert_eq!(ada.device_count(&world.bot), 1, "the bot made a new device on restart");
    assert!(!home.log()[set_up..].contains("starting a new device"), "{}", home.log());
    drop(pyrad);
}

#[test]
fn a_bot_without_an_allowlist_or_homeserver_is_reported_and_pyrad_keeps_serving() {
    let llm = FakeLlm::start(RULES);
    let home = TestHome::new();
    std::fs::create_dir_all(home.path()).unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        "[bots.matrix]\nenabled = true\nhomeserver = \"http://127.0.0.1:9\"\nuser = \"@pyra:pyra.test\"\nallow = []\n",
    )
    .unwrap();
    let pyrad = Pyrad::start_with(&home, llm.options());
    let status = pyrad.client().result("bots.status", json!({}));
    assert_eq!(status["matrix"]["state"], "error", "{status}");
    assert!(status["matrix"]["reason"].as_str().unwrap().contains("no allowlist"), "{status}");
    // With an allowlist, a homeserver that is not there is an error with its reason, retried.
    std::fs::write(
        home.path().join("config.toml"),
        "[bots.matrix]\nenabled = true\nhomeserver = \"http://127.0.0.1:9\"\nuser = \"@pyra:pyra.test\"\nallow = [\"@ada:pyra.test\"]\n",
    )
    .unwrap();
    pyrad.client().result("vault.set", json!({"key": "bot:matrix:password", "value": "x"}));
    pyrad.client().result("bots.reload", json!({}));
    let deadline = std::time::Instant::now() + T;
    let status = loop {
        let status = pyrad.client().result("bots.status", json!({}));
        if status["matrix"]["state"] == "error" {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "{status}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status["matrix"]["reason"].as_str().unwrap().contains("logging in"), "{status}");
    // The daemon answers as before.
    let daemon = pyrad.client().result("daemon.status", json!({}));
    assert_eq!(daemon["bots"]["matrix"]["state"], "error", "{daemon}");
}

#[test]
fn a_homeserver_that_goes_away_is_reported_and_the_sync_comes_back() {
    let mut world = World::new();
    let llm = FakeLlm::start(RULES);
    let (_home, pyrad) = world.start(&llm, "", "");
    let ada = world.user("ada");
    let room = room_with_bot(&world, &ada, true);
    ada.send_text(&room, "hello");
    ada.wait_for(&room, T, |seen| said(seen, &world.bot, "Hi **Ada**"));

    world.synapse.kill();
    let deadline = std::time::Instant::now() + T;
    let status = loop {
        let status = pyrad.client().result("bots.status", json!({}));
        if status["matrix"]["state"] == "error" {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "a dead homeserver was not reported: {status}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status["matrix"]["reason"].as_str().unwrap().contains("sync failed"), "{status}");
    // pyrad itself keeps serving.
    assert_eq!(pyrad.client().result("daemon.status", json!({}))["bots"]["matrix"]["state"], "error");

    world.synapse.restart();
    wait_connected(&pyrad);
    let asked = ada.send_text(&room, "are you back?");
    ada.wait_for(&room, T, |seen| !answers_to(seen, &world.bot, &asked).is_empty());
}

#[test]
fn an_event_the_bot_cannot_decrypt_is_reported_in_the_room_and_the_log() {
    let world = World::new();
    let llm = FakeLlm::start(RULES);
    // This bot logs in with an access token made elsewhere (its device comes from /whoami).
    let port: u16 = world.synapse.url().rsplit(':').next().unwrap().parse().unwrap();
    let body = json!({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "pyra"}, "password": BOT_PASSWORD});
    let login = pyra_tests::telegram::http(
        port,
        "POST",
        "/_matrix/client/v3/login",
        Some("application/json"),
        body.to_string().as_bytes(),
        T,
    )
    .unwrap();
    assert_eq!(login.status, 200, "{}", login.text());
    // Synapse answers chunked; the JSON is the one line of the body that is an object.
    let text = login.text();
    let json: Value = serde_json::from_str(text.lines().find(|l| l.starts_with('{')).unwrap()).unwrap();
    let token = json["access_token"].as_str().unwrap().to_owned();
    let (home, pyrad) = world.start_with_secret(&llm, "", "", ("bot:matrix:access_token", token.clone()));
    assert!(!home.log().contains(&token), "the access token was logged");
    let _ = &pyrad;
    let ada = world.user("ada");
    let room = room_with_bot(&world, &ada, false);
    // A Megolm event for a session the bot never received a key for.
    let content = json!({
        "algorithm": "m.megolm.v1.aes-sha2",
        "ciphertext": "AwgAEnACgAkLmt6qF84IK++J7UDH2Za1YVchHyprqTqsg2yyOwAtHaZTwyNg37afzg8f3r9IsN9r4RNFg7MaZencUJe4qvELiDiopUjy5wYVDAtqdBzer5bWRD9ldxp1FLgbQvBcjkkywYjCsmsq6+hArLd9oAQZnGKn/qLsK+5uNX3PaWzDRC9wZPQvWYYPCTov3jCwXKTPsLKIiTrcCXDqMvnn8m+T3zF/I2zqxg158tnUwWWIw51UO",
        "device_id": "RJYKSTBOIE",
        "sender_key": "IlRMeOPX2e0MurIyfWEucYBRVOEEUMrOHqn/8mLqMjA",
        "session_id": "X3lUlvLELLYxeTx4yOVu6UDpasGEVO0Jbu+QFnm0cKQ"
    });
    ada.send_event(&room, "m.room.encrypted", content);
    let seen = ada.wait_for(&room, T, |seen| said(seen, &world.bot, "could not decrypt a message from @ada:pyra.test"));
    assert!(said(&seen, &world.bot, "asked your devices for it"));
    assert!(home.log().contains("could not be decrypted"), "{}", home.log());
}
