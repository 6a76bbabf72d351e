//! The fake Telegram Bot API itself, through raw HTTP, so that tests of Pyra's Telegram bot can trust
//! it: long polling, offsets, conflicts, Telegram's parse errors and entity offsets, edits,
//! callback queries, injected failures and authentication.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use pyra_tests::telegram::{FakeTelegram, HttpResponse, http};
use serde_json::{Value, json};

const ADA: i64 = 42;
const CONFLICT: &str =
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";
const NOT_MODIFIED: &str = "Bad Request: message is not modified: specified new message content and reply markup \
                            are exactly the same as a current content and reply markup of the message";

/// The `result` of a successful call.
fn ok(response: &HttpResponse) -> Value {
    let body = response.json();
    assert_eq!((response.status, &body["ok"]), (200, &json!(true)), "expected success: {body}");
    body["result"].clone()
}

/// The `(error_code, description)` of a failed call, checking the envelope on the way.
fn error(response: &HttpResponse) -> (u16, String) {
    let body = response.json();
    assert_eq!(body["ok"], json!(false), "expected an error: {body}");
    assert_eq!(body["error_code"], json!(response.status), "error_code is the HTTP status: {body}");
    (response.status, body["description"].as_str().unwrap().to_owned())
}

fn update_ids(updates: &Value) -> Vec<i64> {
    updates.as_array().unwrap().iter().map(|u| u["update_id"].as_i64().unwrap()).collect()
}

fn send(telegram: &FakeTelegram, params: Value) -> HttpResponse {
    telegram.api("sendMessage", params)
}

#[test]
fn get_me_describes_the_bot_and_method_names_ignore_case() {
    let telegram = FakeTelegram::start();
    let me = ok(&telegram.api("getMe", json!({})));
    assert_eq!(me["id"], json!(telegram.bot_id()));
    assert_eq!(me["is_bot"], json!(true));
    assert!(me["first_name"].is_string() && me["username"].is_string(), "{me}");
    for field in ["can_join_groups", "can_read_all_group_messages", "supports_inline_queries"] {
        assert!(me[field].is_boolean(), "{field} in {me}");
    }
    assert_eq!(ok(&telegram.api("GETME", json!({})))["id"], me["id"]);
    assert_eq!(telegram.calls_of("getMe").len(), 2, "both spellings are logged as getMe");
}

#[test]
fn a_wrong_token_is_unauthorized_and_an_unknown_method_not_found() {
    let telegram = FakeTelegram::start();
    let wrong = http(telegram.port(), "POST", "/bot7000000001:wrong/getMe", None, b"", Duration::from_secs(5)).unwrap();
    assert_eq!(error(&wrong), (401, "Unauthorized".to_owned()));
    assert_eq!(error(&telegram.api("sendCarrierPigeon", json!({}))), (404, "Not Found".to_owned()));
}

#[test]
fn a_long_poll_returns_as_soon_as_a_message_arrives() {
    let telegram = FakeTelegram::start();
    std::thread::scope(|s| {
        let poll = s.spawn(|| {
            let started = Instant::now();
            let response = telegram.api_with_timeout("getUpdates", json!({"timeout": 2}), Duration::from_secs(10));
            (started.elapsed(), ok(&response))
        });
        std::thread::sleep(Duration::from_millis(300));
        let message_id = telegram.send_text(ADA, "hello");
        let (elapsed, updates) = poll.join().unwrap();
        assert!(elapsed < Duration::from_millis(1500), "the poll waited {elapsed:?}");
        let message = &updates[0]["message"];
        assert_eq!((message["message_id"].as_i64(), message["text"].as_str()), (Some(message_id), Some("hello")));
        assert_eq!(message["from"]["id"], json!(ADA));
        assert_eq!(message["chat"], json!({"id": ADA, "first_name": "User42", "type": "private"}));
    });
}

#[test]
fn a_long_poll_without_updates_returns_nothing_after_its_timeout() {
    let telegram = FakeTelegram::start();
    let started = Instant::now();
    let updates = ok(&telegram.api_with_timeout("getUpdates", json!({"timeout": 1}), Duration::from_secs(10)));
    let elapsed = started.elapsed();
    assert_eq!(updates, json!([]));
    assert!(elapsed >= Duration::from_millis(950) && elapsed < Duration::from_secs(2), "the poll took {elapsed:?}");
}

#[test]
fn an_offset_confirms_and_forgets_every_earlier_update() {
    let telegram = FakeTelegram::start();
    telegram.send_text(ADA, "one");
    telegram.send_text(ADA, "two");
    let first = update_ids(&ok(&telegram.api("getUpdates", json!({}))));
    assert_eq!(first.len(), 2);
    assert_eq!(first[1], first[0] + 1);

    // Without an offset nothing is confirmed. (Telegram answers a repeat of the same offset within
    // 0.5 s with one update at most, so wait a little first.)
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(update_ids(&ok(&telegram.api("getUpdates", json!({})))), first);

    assert_eq!(update_ids(&ok(&telegram.api("getUpdates", json!({"offset": first[1]})))), [first[1]]);
    assert_eq!(telegram.updates()["pending"], json!([first[1]]));
    assert_eq!(telegram.updates()["confirmed_below"], json!(first[1]));

    assert_eq!(ok(&telegram.api("getUpdates", json!({"offset": first[1] + 1}))), json!([]));
    assert_eq!(telegram.updates()["pending"], json!([]));
}

#[test]
fn a_negative_offset_keeps_only_the_last_updates() {
    let telegram = FakeTelegram::start();
    for text in ["one", "two", "three"] {
        telegram.send_text(ADA, text);
    }
    let last = ok(&telegram.api("getUpdates", json!({"offset": -1})));
    assert_eq!(last.as_array().unwrap().len(), 1);
    assert_eq!(last[0]["message"]["text"], "three");
    assert_eq!(telegram.updates()["pending"], json!(update_ids(&last)));
}

#[test]
fn a_second_long_poll_ends_the_first_with_409() {
    let telegram = FakeTelegram::start();
    std::thread::scope(|s| {
        let first = s.spawn(|| {
            let response = telegram.api_with_timeout("getUpdates", json!({"timeout": 2}), Duration::from_secs(10));
            (Instant::now(), response)
        });
        std::thread::sleep(Duration::from_millis(300));
        let second_started = Instant::now();
        let second = telegram.api_with_timeout("getUpdates", json!({"timeout": 1}), Duration::from_secs(10));
        let second_took = second_started.elapsed();
        let (first_ended, first) = first.join().unwrap();

        // As on Telegram, the newer poll wins: the one already waiting is answered with 409 at once.
        assert_eq!(error(&first), (409, CONFLICT.to_owned()));
        assert!(first_ended.duration_since(second_started) < Duration::from_millis(500));
        assert_eq!(ok(&second), json!([]));
        // Telegram also stretches a poll that repeats the previous offset within 3 s to 3 s.
        assert!(second_took >= Duration::from_millis(2900), "the second poll took {second_took:?}");
    });
}

#[test]
fn markdown_v2_refuses_an_unescaped_reserved_character() {
    let telegram = FakeTelegram::start();
    telegram.send_text(ADA, "hi");
    let sent = send(&telegram, json!({"chat_id": ADA, "text": "Done. *Really*", "parse_mode": "MarkdownV2"}));
    let expected =
        "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'";
    assert_eq!(error(&sent), (400, expected.to_owned()));
    assert!(telegram.bot_messages(ADA).is_empty(), "a refused message is not stored");
    let escaped = ok(&send(&telegram, json!({"chat_id": ADA, "text": "Done\\. *Really*", "parse_mode": "MarkdownV2"})));
    assert_eq!(escaped["text"], "Done. Really");
}

#[test]
fn markdown_v2_reports_an_unclosed_entity_at_its_byte_offset() {
    let telegram = FakeTelegram::start();
    telegram.send_text(ADA, "hi");
    // "é" takes two bytes, so the '*' starts at byte 7 (and at UTF-16 offset 6).
    let sent = send(&telegram, json!({"chat_id": ADA, "text": "héllo *world", "parse_mode": "MarkdownV2"}));
    let expected = "Bad Request: can't parse entities: Can't find end of Bold entity at byte offset 7";
    assert_eq!(error(&sent), (400, expected.to_owned()));
    let italic = send(&telegram, json!({"chat_id": ADA, "text": "_open", "parse_mode": "MarkdownV2"}));
    assert!(error(&italic).1.ends_with("Can't find end of Italic entity at byte offset 0"));
}

#[test]
fn markdown_v2_entities_are_counted_in_utf16_code_units() {
    let telegram = FakeTelegram::start();
    telegram.send_text(ADA, "hi");
    let text = "😀 *bold* _it_ and __u__ `c\\`ode` [link](https://example.com/a\\)b)";
    let message = ok(&send(&telegram, json!({"chat_id": ADA, "text": text, "parse_mode": "MarkdownV2"})));
    assert_eq!(message["text"], "😀 bold it and u c`ode link");
    assert_eq!(
        message["entities"],
        json!([
            {"offset": 3, "length": 4, "type": "bold"},
            {"offset": 8, "length": 2, "type": "italic"},
            {"offset": 15, "length": 1, "type": "underline"},
            {"offset": 17, "length": 5, "type": "code"},
            {"offset": 23, "length": 4, "type": "text_link", "url": "https://example.com/a)b"},
        ])
    );
    let stored = &telegram.bot_messages(ADA)[0];
    assert_eq!((&stored["parse_mode"], &stored["source_text"]), (&json!("MarkdownV2"), &json!(text)));
}

#[test]
fn html_refuses_an_unsupported_tag_and_an_unclosed_one() {
    let telegram = FakeTelegram::start();
    telegram.send_text(ADA, "hi");
    let blink = send(&telegram, json!({"chat_id": ADA, "text": "<b>ok</b> <blink>no</blink>", "parse_mode": "HTML"}));
    let expected = "Bad Request: can't parse entities: Unsupported start tag \"blink\" at byte offset 10";
    assert_eq!(error(&blink), (400, expected.to_owned()));
    let unclosed = send(&telegram, json!({"chat_id": ADA, "text": "<b>bold", "parse_mode": "HTML"}));
    let expected = "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"";
    assert_eq!(error(&unclosed), (400, expected.to_owned()));
    let fine =
        ok(&send(&telegram, json!({"chat_id": ADA, "text": "<b>1 &lt; 2</b> &amp; <i>so</i>", "parse_mode": "HTML"})));
    assert_eq!(fine["text"], "1 < 2 & so");
    assert_eq!(
        fine["entities"],
        json!([{"offset": 0, "length": 5, "type": "bold"}, {"offset": 8, "length": 2, "type": "italic"}])
    );
}

#[test]
fn an_edit_that_changes_nothing_is_refused_and_one_that_does_is_kept() {
    let telegram = FakeTelegram::start();
    telegram.send_text(ADA, "hi");
    let keyboard = json!({"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]});
    let sent = ok(&send(&telegram, json!({"chat_id": ADA, "text": "Thinking", "reply_markup": keyboard})));
    let id = sent["message_id"].clone();

    let same = telegram.api(
        "editMessageText",
        json!({"chat_id": ADA, "message_id": id, "text": "Thinking", "reply_markup": keyboard}),
    );
    assert_eq!(error(&same), (400, NOT_MODIFIED.to_owned()));

    let edited = ok(&telegram
        .api("editMessageText", json!({"chat_id": ADA, "message_id": id, "text": "Done", "reply_markup": keyboard})));
    assert_eq!(edited["text"], "Done");
    assert!(edited["edit_date"].is_i64());
    let stored = &telegram.bot_messages(ADA)[0];
    assert_eq!((&stored["text"], &stored["edits"]), (&json!("Done"), &json!(["Thinking"])));

    let missing = telegram.api("editMessageText", json!({"chat_id": ADA, "message_id": 999, "text": "x"}));
    assert_eq!(error(&missing), (400, "Bad Request: message to edit not found".to_owned()));
}

#[test]
fn a_callback_query_can_be_answered_once() {
    let telegram = FakeTelegram::start();
    telegram.send_text(ADA, "hi");
    let keyboard = json!({"inline_keyboard": [[{"text": "Allow", "callback_data": "allow:7"}]]});
    let sent = ok(&send(&telegram, json!({"chat_id": ADA, "text": "Run it?", "reply_markup": keyboard})));
    let query_id = telegram.press(ADA, sent["message_id"].as_i64().unwrap(), "allow:7");

    let updates = ok(&telegram.api("getUpdates", json!({"offset": -1})));
    let query = &updates[0]["callback_query"];
    assert_eq!((&query["id"], &query["data"]), (&json!(query_id), &json!("allow:7")));
    assert_eq!(query["message"]["reply_markup"], keyboard);
    assert!(query["chat_instance"].is_string());

    ok(&telegram.api("answerCallbackQuery", json!({"callback_query_id": query_id, "text": "Allowed"})));
    let again = telegram.api("answerCallbackQuery", json!({"callback_query_id": query_id}));
    let expected = "Bad Request: query is too old and response timeout expired or query ID is invalid";
    assert_eq!(error(&again), (400, expected.to_owned()));
    let answers = &telegram.chat(ADA)["callback_answers"];
    assert_eq!((answers.as_array().unwrap().len(), &answers[0]["text"]), (1, &json!("Allowed")));
}

#[test]
fn an_injected_429_carries_retry_after_and_then_the_call_succeeds() {
    let telegram = FakeTelegram::start();
    telegram.send_text(ADA, "hi");
    telegram.fail("sendMessage", "429", 1, json!({"retry_after": 2}));
    let limited = send(&telegram, json!({"chat_id": ADA, "text": "one"}));
    assert_eq!(error(&limited), (429, "Too Many Requests: retry after 2".to_owned()));
    assert_eq!(limited.json()["parameters"], json!({"retry_after": 2}));
    assert_eq!(limited.header("retry-after"), Some("2"));
    assert!(telegram.bot_messages(ADA).is_empty(), "a failed call has no effect");

    ok(&send(&telegram, json!({"chat_id": ADA, "text": "one"})));
    assert_eq!(telegram.bot_messages(ADA).len(), 1);
    let statuses: Vec<_> = telegram.calls_of("sendMessage").iter().map(|c| c["status"].clone()).collect();
    assert_eq!(statuses, [json!(429), json!(200)]);
}

#[test]
fn an_injected_entities_error_only_hits_calls_with_a_parse_mode() {
    let telegram = FakeTelegram::start();
    telegram.send_text(ADA, "hi");
    telegram.fail("sendMessage", "400-entities", 1, json!({}));
    ok(&send(&telegram, json!({"chat_id": ADA, "text": "plain"})));
    let formatted = send(&telegram, json!({"chat_id": ADA, "text": "*bold*", "parse_mode": "MarkdownV2"}));
    let (status, description) = error(&formatted);
    assert!(status == 400 && description.starts_with("Bad Request: can't parse entities: "), "{description}");
    ok(&send(&telegram, json!({"chat_id": ADA, "text": "*bold*", "parse_mode": "MarkdownV2"})));
}

#[test]
fn a_dropped_call_closes_the_connection_without_an_answer() {
    let telegram = FakeTelegram::start();
    telegram.send_text(ADA, "hi");
    telegram.fail("sendMessage", "drop", 1, json!({}));
    let body = serde_json::to_vec(&json!({"chat_id": ADA, "text": "lost"})).unwrap();
    let path = format!("/bot{}/sendMessage", telegram.token());
    let dropped = http(telegram.port(), "POST", &path, Some("application/json"), &body, Duration::from_secs(5));
    assert_eq!(dropped.unwrap_err().kind(), std::io::ErrorKind::UnexpectedEof);
    assert!(telegram.bot_messages(ADA).is_empty());
    assert_eq!(telegram.calls_of("sendMessage")[0]["status"], json!(0));
    ok(&send(&telegram, json!({"chat_id": ADA, "text": "kept"})));
}

#[test]
fn an_injected_delay_answers_normally_afterwards() {
    let telegram = FakeTelegram::start();
    telegram.send_text(ADA, "hi");
    telegram.fail("sendChatAction", "delay", 1, json!({"seconds": 0.5}));
    let started = Instant::now();
    ok(&telegram.api("sendChatAction", json!({"chat_id": ADA, "action": "typing"})));
    assert!(started.elapsed() >= Duration::from_millis(450));
    let chat = telegram
        .wait_for(ADA, Duration::from_secs(2), |chat| chat["actions"].as_array().is_some_and(|a| !a.is_empty()));
    assert_eq!(chat["actions"][0]["action"], "typing");
}

#[test]
fn bad_requests_get_telegrams_descriptions() {
    let telegram = FakeTelegram::start();
    let check = |params: Value, method: &str, expected: &str| {
        assert_eq!(error(&telegram.api(method, params.clone())), (400, expected.to_owned()), "{method} {params}");
    };
    check(json!({"chat_id": ADA, "text": "x"}), "sendMessage", "Bad Request: chat not found");
    telegram.send_text(ADA, "hi");
    check(json!({"text": "x"}), "sendMessage", "Bad Request: chat_id is empty");
    check(json!({"chat_id": ADA}), "sendMessage", "Bad Request: message text is empty");
    check(json!({"chat_id": ADA, "text": "x".repeat(4097)}), "sendMessage", "Bad Request: message is too long");
    let long_data = json!({"inline_keyboard": [[{"text": "A", "callback_data": "d".repeat(65)}]]});
    check(
        json!({"chat_id": ADA, "text": "x", "reply_markup": long_data}),
        "sendMessage",
        "Bad Request: BUTTON_DATA_INVALID",
    );
    check(
        json!({"chat_id": ADA, "action": "dancing"}),
        "sendChatAction",
        "Bad Request: wrong parameter action in request",
    );
    assert!(telegram.bot_messages(ADA).is_empty());
    ok(&telegram.api("sendMessage", json!({"chat_id": ADA, "text": "x".repeat(4096)})));
}

#[test]
fn json_parameters_may_come_as_text_in_a_form_or_multipart_body() {
    let telegram = FakeTelegram::start();
    telegram.send_text(ADA, "hi");
    let path = format!("/bot{}/sendMessage", telegram.token());
    let keyboard = r#"{"inline_keyboard":[[{"text":"A","callback_data":"a"}]]}"#;
    let form =
        format!("chat_id={ADA}&text=from+a+form&reply_markup={}", keyboard.replace('"', "%22").replace(':', "%3A"));
    let response = http(
        telegram.port(),
        "POST",
        &path,
        Some("application/x-www-form-urlencoded"),
        form.as_bytes(),
        Duration::from_secs(5),
    )
    .unwrap();
    assert_eq!(ok(&response)["reply_markup"]["inline_keyboard"][0][0]["callback_data"], "a");

    let multipart = format!(
        "--b\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n{ADA}\r\n\
         --b\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n*two* lines\nhere\r\n\
         --b\r\nContent-Disposition: form-data; name=\"parse_mode\"\r\n\r\nMarkdownV2\r\n--b--\r\n"
    );
    let response = http(
        telegram.port(),
        "POST",
        &path,
        Some("multipart/form-data; boundary=b"),
        multipart.as_bytes(),
        Duration::from_secs(5),
    )
    .unwrap();
    let message = ok(&response);
    assert_eq!((&message["text"], &message["entities"][0]["type"]), (&json!("two lines\nhere"), &json!("bold")));
    let logged = &telegram.calls_of("sendMessage")[0]["params"]["reply_markup"];
    assert!(logged.is_object(), "the calls log shows JSON parameters decoded: {logged}");
}

#[test]
fn reset_forgets_chats_calls_and_updates() {
    let telegram = FakeTelegram::start();
    telegram.send_text(ADA, "hi");
    ok(&send(&telegram, json!({"chat_id": ADA, "text": "hello"})));
    telegram.reset();
    assert_eq!(telegram.chat(ADA)["known"], json!(false));
    assert!(telegram.calls().is_empty());
    assert_eq!(telegram.updates()["pending"], json!([]));
    assert_eq!(error(&send(&telegram, json!({"chat_id": ADA, "text": "x"}))).1, "Bad Request: chat not found");
}

#[test]
fn a_press_needs_a_button_the_message_has_or_had() {
    let telegram = FakeTelegram::start();
    telegram.send_text(ADA, "hi");
    let keyboard = json!({"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]});
    let id =
        ok(&send(&telegram, json!({"chat_id": ADA, "text": "Ready?", "reply_markup": keyboard})))["message_id"].clone();
    ok(&telegram.api("editMessageText", json!({"chat_id": ADA, "message_id": id, "text": "Gone"})));
    // A client that has not caught up with the edit can still press the old button.
    telegram.press(ADA, id.as_i64().unwrap(), "go");
    let body = serde_json::to_vec(&json!({"user": {"id": ADA}, "message_id": id, "data": "never"})).unwrap();
    let refused =
        http(telegram.port(), "POST", "/_fake/callback", Some("application/json"), &body, Duration::from_secs(5))
            .unwrap();
    assert_eq!(refused.status, 400, "{}", refused.text());
}
