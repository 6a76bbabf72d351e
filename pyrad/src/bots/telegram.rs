//! The Telegram bot: long polling driven by pyrad (so the offset is ours to
//! commit), one worker per private chat (messages of a chat are handled in order,
//! none skipped), approval answers handled apart from chat traffic.
//!
//! An update is stored in `bot_inbox` together with the offset after it, before
//! anything else happens; a worker marks it answered when its turn is stored and
//! done when the answer is delivered. After a crash the unfinished ones are
//! handled again: a turn that ran is delivered, not run twice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proto::ipc::{Answer, Decision, Scope};
use teloxide::RequestError;
use teloxide::payloads::setters::*;
use teloxide::prelude::{Request, Requester};
use teloxide::types::{
    BotCommand, ChatAction, ChatId, InlineKeyboardButton, InlineKeyboardMarkup, MessageId, ParseMode, UpdateKind,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::conversation::{self, BotChannel, Chat, Event, Workers, code, minutes};
use super::gate::{Admit, Gate};
use super::{BotState, format};
use crate::approval::ApprovalRequest;
use crate::chat::service::{ChatError, Service};
use crate::clock::unix_now;
use crate::store::{InboxRow, Store};

const BOT: &str = "telegram";
/// Telegram's limit is 4096; a little room for what HTML escaping adds.
const MAX_MESSAGE: usize = 3800;

pub struct Settings {
    pub token: String,
    pub api_url: reqwest::Url,
    pub edit_interval: Duration,
    pub poll_timeout: u32,
}

type Bot = teloxide::Bot;

/// Runs the bot until `stop`; failures are reported in `state` and retried with backoff.
pub async fn run(
    settings: Settings,
    service: Arc<Service>,
    gate: Arc<Gate>,
    store: Store,
    state: Arc<Mutex<BotState>>,
    stop: CancellationToken,
) {
    let bot = teloxide::Bot::new(settings.token.clone()).set_api_url(settings.api_url.clone());
    let report = |s: &str, reason: Option<String>, username: Option<String>| {
        if let Ok(mut st) = state.lock() {
            *st = BotState { state: s.into(), reason, username };
        }
    };
    let stopped = || report("disabled", Some("stopped".into()), None);
    let mut backoff = Duration::from_secs(1);
    let me = loop {
        report("starting", None, None);
        match bot.get_me().send().await {
            Ok(me) => break me,
            Err(e) => {
                let reason = redact(&e.to_string(), &settings.token);
                tracing::warn!(error = %reason, retry_in = ?backoff, "the Telegram bot cannot connect");
                report("error", Some(reason), None);
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = stop.cancelled() => return stopped(),
                }
                backoff = (backoff * 2).min(Duration::from_secs(60));
            }
        }
    };
    let username = me.username.clone();
    tracing::info!(username = ?username, "the Telegram bot is connected");
    report("connected", None, username.clone());
    let commands = [
        BotCommand::new("new", "start a new conversation"),
        BotCommand::new("sessions", "list recent conversations"),
        BotCommand::new("resume", "go back to a conversation: /resume <id>"),
    ];
    if let Err(e) = bot.set_my_commands(commands).send().await {
        tracing::warn!(error = %clean(&e), "cannot set the Telegram bot's commands");
    }
    let shared = Arc::new(Shared {
        bot: bot.clone(),
        service,
        gate,
        store: store.clone(),
        edit_interval: settings.edit_interval,
        prompts: Mutex::new(HashMap::new()),
        for_session: Mutex::new(std::collections::HashSet::new()),
        kept: Mutex::new(HashMap::new()),
    });
    let mut workers = Workers::new();
    // What a previous run stored but did not finish.
    match store.bot_unfinished(BOT) {
        Ok(rows) => rows.into_iter().for_each(|row| dispatch(&shared, &mut workers, row, &stop)),
        Err(e) => tracing::error!(error = %clean(&e), "cannot read the Telegram inbox"),
    }
    let mut offset = store.bot_offset(BOT).unwrap_or(0);
    let mut backoff = Duration::from_secs(1);
    loop {
        let poll = bot
            .get_updates()
            .offset(i32::try_from(offset).unwrap_or(i32::MAX))
            .timeout(settings.poll_timeout)
            .allowed_updates([teloxide::types::AllowedUpdate::Message, teloxide::types::AllowedUpdate::CallbackQuery]);
        let updates = tokio::select! {
            r = poll.send() => r,
            () = stop.cancelled() => return stopped(),
        };
        let updates = match updates {
            Ok(u) => {
                backoff = Duration::from_secs(1);
                if state.lock().is_ok_and(|s| s.state != "connected") {
                    report("connected", None, username.clone());
                }
                u
            }
            Err(e) => {
                let wait = match &e {
                    RequestError::RetryAfter(s) => s.duration(),
                    _ => backoff,
                };
                let reason = redact(&e.to_string(), &settings.token);
                tracing::warn!(error = %reason, retry_in = ?wait, "polling Telegram failed");
                if !matches!(e, RequestError::RetryAfter(_)) {
                    report("error", Some(reason), username.clone());
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                }
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = stop.cancelled() => return stopped(),
                }
                continue;
            }
        };
        let mut rows = Vec::new();
        let mut next = offset;
        for update in updates {
            next = next.max(i64::from(update.id.0) + 1);
            match update.kind {
                UpdateKind::Message(m) => {
                    let Some(from) = m.from.as_ref() else { continue };
                    if !m.chat.is_private() {
                        tracing::info!(chat = m.chat.id.0, "a message outside a private chat was ignored");
                        continue;
                    }
                    let sender = from.id.0.to_string();
                    if !shared.gate.allows(&sender) {
                        tracing::info!(sender, "a Telegram message from a sender not on the allowlist was ignored");
                        continue;
                    }
                    let Some(text) = m.text() else { continue };
                    rows.push(InboxRow {
                        update_id: i64::from(update.id.0),
                        chat: m.chat.id.0.to_string(),
                        sender,
                        message_id: i64::from(m.id.0),
                        text: text.to_owned(),
                        state: "new".into(),
                        answer: None,
                        event_id: None,
                    });
                }
                UpdateKind::CallbackQuery(q) => {
                    let shared = shared.clone();
                    tokio::spawn(async move { shared.callback(q).await });
                }
                _ => {}
            }
        }
        if next == offset {
            continue;
        }
        // Stored with the offset after it, or not at all (then polled again). A
        // passphrase attempt is stored without its text: it is handled from memory.
        let stored: Vec<InboxRow> = rows
            .iter()
            .map(|r| InboxRow {
                text: if shared.gate.expects_passphrase(&r.sender) { String::new() } else { r.text.clone() },
                ..r.clone()
            })
            .collect();
        if let Err(e) = store.bot_receive(BOT, &stored, next, unix_now()) {
            tracing::error!(error = %clean(&e), "cannot store Telegram messages; they will be fetched again");
            tokio::time::sleep(backoff).await;
            continue;
        }
        offset = next;
        for row in rows {
            dispatch(&shared, &mut workers, row, &stop);
        }
    }
}

/// Hands a stored message to its chat's worker.
fn dispatch(shared: &Arc<Shared>, workers: &mut Workers, row: InboxRow, stop: &CancellationToken) {
    conversation::dispatch(workers, row, || {
        let (shared, stop) = (shared.clone(), stop.clone());
        move |row| {
            let (shared, stop) = (shared.clone(), stop.clone());
            async move { shared.handle(row, &stop).await }
        }
    });
}

/// An approval prompt shown in a chat.
struct Prompt {
    chat: ChatId,
    message: MessageId,
    text: String,
    tool: String,
}

struct Shared {
    bot: Bot,
    service: Arc<Service>,
    gate: Arc<Gate>,
    store: Store,
    edit_interval: Duration,
    /// Live prompts by request id.
    prompts: Mutex<HashMap<String, Prompt>>,
    /// Requests approved for the rest of their session, so their prompt can say so.
    for_session: Mutex<std::collections::HashSet<String>>,
    /// The message that triggered a passphrase challenge, by sender, answered after the passphrase.
    kept: Mutex<HashMap<String, InboxRow>>,
}

impl Shared {
    async fn handle(self: &Arc<Self>, row: InboxRow, stop: &CancellationToken) {
        let chat = ChatId(row.chat.parse().unwrap_or_default());
        if row.state == "answered" {
            if let Some(answer) = &row.answer {
                self.deliver(chat, answer).await;
            }
            self.done(&row, false);
            return;
        }
        if row.text.trim().is_empty() {
            // A passphrase attempt from before a restart: its text was never stored.
            return self.done(&row, true);
        }
        let say = |text: String| {
            let this = self.clone();
            async move { this.send_plain(chat, &text).await }
        };
        match self.gate.admit(&row.sender, &row.text, Instant::now()).await {
            Admit::Stranger => self.done(&row, true),
            Admit::Challenge => {
                say("🔒 Send your passphrase to continue; your message is kept until then.".into()).await;
                // Not done: kept in the inbox too, so a restart before the passphrase loses it not.
                if let Ok(mut kept) = self.kept.lock() {
                    kept.insert(row.sender.clone(), row);
                }
            }
            Admit::Unlocked { kept } => {
                self.forget(chat, &row).await;
                say("🔓 Unlocked.".into()).await;
                if let Some(text) = kept {
                    // The answer replies to the kept message (the passphrase is deleted).
                    let stored = self.kept.lock().ok().and_then(|mut k| k.remove(&row.sender));
                    let kept_row = stored.unwrap_or_else(|| InboxRow { message_id: 0, ..row.clone() });
                    self.turn(chat, &kept_row, &text, stop).await;
                }
            }
            Admit::WrongPassphrase { locked_for } => {
                self.forget(chat, &row).await;
                let text = match locked_for {
                    Some(d) => format!("Wrong passphrase. Locked for {}.", minutes(d)),
                    None => "Wrong passphrase.".into(),
                };
                say(text).await;
            }
            Admit::Locked { remaining, notice } => {
                self.forget(chat, &row).await;
                if notice {
                    say(format!("Locked after wrong passphrases; try again in {}.", minutes(remaining))).await;
                }
            }
            Admit::RateLimited { notice } => {
                if notice {
                    say("You have reached the hourly message limit; I will answer again later.".into()).await;
                }
                self.done(&row, false);
            }
            Admit::Refused { verdict } => {
                say(format!(
                    "⚠️ This message looks like a prompt injection ({}), so I did not pass it on.",
                    verdict.reason()
                ))
                .await;
                self.done(&row, false);
            }
            Admit::Pass { text } => self.turn(chat, &row, &text, stop).await,
        }
    }

    /// A passphrase attempt: deleted from the chat and never kept.
    async fn forget(&self, chat: ChatId, row: &InboxRow) {
        let id = MessageId(i32::try_from(row.message_id).unwrap_or_default());
        if let Err(e) = self.bot.delete_message(chat, id).send().await {
            tracing::debug!(error = %clean(&e), "cannot delete a passphrase message");
        }
        self.done(row, true);
    }

    fn done(&self, row: &InboxRow, redact: bool) {
        if let Err(e) = self.store.bot_done(BOT, row.update_id, redact) {
            tracing::error!(error = %clean(&e), "cannot mark a Telegram message handled");
        }
    }

    async fn turn(self: &Arc<Self>, chat: ChatId, row: &InboxRow, text: &str, stop: &CancellationToken) {
        let (id, origin) = (chat.0.to_string(), channel_name(chat));
        let conversation = Chat { bot: BOT, id: &id, origin: &origin };
        if let Some(reply) = conversation.command(&self.service, &self.store, text) {
            self.send_plain(chat, &reply).await;
            return self.done(row, false);
        }
        let session = conversation.session(&self.store);
        let (tx, rx) = mpsc::unbounded_channel();
        let channel = BotChannel { bot: BOT, origin: channel_name(chat), tx };
        let streamer = tokio::spawn(self.clone().stream(chat, row.message_id, rx));
        let typing = tokio::spawn(typing(self.bot.clone(), chat));
        let result = self.service.send(&channel, session, text, stop.child_token()).await;
        typing.abort();
        let answer = match &result {
            Ok(outcome) => {
                conversation.remember(&self.store, &outcome.session);
                outcome.text.clone()
            }
            Err(ChatError::Turn { session, error }) => {
                conversation.remember(&self.store, session);
                format!("⚠️ {error}")
            }
            Err(e) => format!("⚠️ {e}"),
        };
        if let Err(e) = self.store.bot_answered(BOT, row.update_id, &answer) {
            tracing::error!(error = %clean(&e), "cannot keep a Telegram answer");
        }
        let _ = channel.tx.send(Event::Finish(answer));
        drop(channel);
        if let Err(e) = streamer.await {
            tracing::error!(error = %clean(&e), "the Telegram answer streamer failed");
        }
        self.done(row, false);
    }

    /// Streams one turn's answer: one message edited at most once per interval,
    /// then the final text as HTML (plain when Telegram rejects the entities),
    /// cut into more messages when long. Also shows and edits approval prompts.
    async fn stream(self: Arc<Self>, chat: ChatId, reply_to: i64, mut rx: mpsc::UnboundedReceiver<Event>) {
        let mut text = String::new();
        let mut live: Option<MessageId> = None;
        let mut shown = String::new();
        let mut last_edit = Instant::now() - self.edit_interval;
        let reply_to = MessageId(i32::try_from(reply_to).unwrap_or_default());
        loop {
            let wait = self.edit_interval.saturating_sub(last_edit.elapsed());
            let event = if text != shown && !text.trim().is_empty() {
                tokio::select! {
                    e = rx.recv() => e,
                    () = tokio::time::sleep(wait) => {
                        let preview = format::split(&text, MAX_MESSAGE).into_iter().next().unwrap_or_default();
                        live = self.show(chat, live, &preview, reply_to).await;
                        shown = text.clone();
                        last_edit = Instant::now();
                        continue;
                    }
                }
            } else {
                rx.recv().await
            };
            match event {
                Some(Event::Delta(d)) => text.push_str(&d),
                Some(Event::Approval(r)) => self.prompt(chat, r).await,
                Some(Event::Decided(id, decision)) => self.outcome(&id, decision).await,
                Some(Event::Warning(w)) => {
                    let what = format!("⚠️ {} looked like a prompt injection ({}).", w.source, w.verdict.reason());
                    self.send_plain(chat, &what).await;
                }
                Some(Event::Finish(answer)) => {
                    // The final edit keeps the pace too: a flood ban costs more than a second.
                    if live.is_some() {
                        tokio::time::sleep(self.edit_interval.saturating_sub(last_edit.elapsed())).await;
                    }
                    self.finish(chat, live, &answer, reply_to).await;
                    return;
                }
                None => return,
            }
        }
    }

    /// Sends or edits the live message with plain text.
    async fn show(&self, chat: ChatId, live: Option<MessageId>, text: &str, reply_to: MessageId) -> Option<MessageId> {
        match live {
            None => {
                let sent = retry(|| self.reply(chat, text, reply_to)).await;
                match sent {
                    Ok(m) => Some(m.id),
                    Err(e) => {
                        tracing::warn!(error = %clean(&e), "cannot send a Telegram message");
                        None
                    }
                }
            }
            Some(id) => {
                if let Err(e) = retry(|| self.bot.edit_message_text(chat, id, text)).await
                    && !matches!(e, RequestError::Api(teloxide::ApiError::MessageNotModified))
                {
                    tracing::warn!(error = %clean(&e), "cannot edit a Telegram message");
                }
                Some(id)
            }
        }
    }

    async fn finish(&self, chat: ChatId, live: Option<MessageId>, answer: &str, reply_to: MessageId) {
        let pieces = format::split(answer, MAX_MESSAGE);
        for (i, piece) in pieces.iter().enumerate() {
            let target = if i == 0 { live } else { None };
            self.send_formatted(chat, target, piece, reply_to).await;
        }
    }

    /// The whole answer, for a turn that ran before a restart.
    async fn deliver(&self, chat: ChatId, answer: &str) {
        for piece in format::split(answer, MAX_MESSAGE) {
            self.send_formatted(chat, None, &piece, MessageId(0)).await;
        }
    }

    /// One piece as HTML; if Telegram rejects the entities, the same piece as plain text.
    async fn send_formatted(&self, chat: ChatId, target: Option<MessageId>, piece: &str, reply_to: MessageId) {
        let html = format::to_html(piece);
        let first = match target {
            Some(id) => {
                retry(|| self.bot.edit_message_text(chat, id, &html).parse_mode(ParseMode::Html)).await.map(|_| ())
            }
            None => retry(|| self.reply(chat, &html, reply_to).parse_mode(ParseMode::Html)).await.map(|_| ()),
        };
        match first {
            Ok(()) | Err(RequestError::Api(teloxide::ApiError::MessageNotModified)) => {}
            Err(RequestError::Api(teloxide::ApiError::CantParseEntities(why))) => {
                tracing::warn!(error = %why, "Telegram rejected the formatting; sending plain text");
                let plain = match target {
                    Some(id) => retry(|| self.bot.edit_message_text(chat, id, piece)).await.map(|_| ()),
                    None => retry(|| self.bot.send_message(chat, piece)).await.map(|_| ()),
                };
                if let Err(e) = plain {
                    tracing::error!(error = %clean(&e), "cannot deliver a Telegram answer");
                }
            }
            Err(e) => tracing::error!(error = %clean(&e), "cannot deliver a Telegram answer"),
        }
    }

    /// A message answering `reply_to` (none when it is 0), sent even if that message is gone.
    fn reply(&self, chat: ChatId, text: &str, reply_to: MessageId) -> <Bot as Requester>::SendMessage {
        let req = self.bot.send_message(chat, text);
        if reply_to.0 == 0 {
            return req;
        }
        req.reply_parameters(teloxide::types::ReplyParameters::new(reply_to).allow_sending_without_reply())
    }

    async fn send_plain(&self, chat: ChatId, text: &str) {
        if let Err(e) = retry(|| self.bot.send_message(chat, text)).await {
            tracing::warn!(error = %clean(&e), "cannot send a Telegram message");
        }
    }

    /// Shows an approval request with its buttons; one that cannot be shown is denied at once.
    async fn prompt(&self, chat: ChatId, r: ApprovalRequest) {
        let mut args = serde_json::to_string_pretty(&r.args).unwrap_or_default();
        if args.chars().count() > 600 {
            args = args.chars().take(600).collect::<String>() + "…";
        }
        let left = r.expires_at.saturating_sub(unix_now());
        let mut text = format!("🔐 Run {}?\n{}\n", r.tool, args);
        if let Some(reason) = &r.reason {
            text.push_str(&format!("⚠️ {reason}\n"));
        }
        for w in &r.warnings {
            text.push_str(&format!("⚠️ {} looked like a prompt injection ({})\n", w.source, w.verdict.reason()));
        }
        text.push_str(&format!("Code {} · {} s left", code(&r.id), left));
        let keyboard = InlineKeyboardMarkup::new([
            vec![
                InlineKeyboardButton::callback("Approve", format!("a|{}", r.id)),
                InlineKeyboardButton::callback("Deny", format!("d|{}", r.id)),
            ],
            vec![InlineKeyboardButton::callback("Approve for this session", format!("s|{}", r.id))],
        ]);
        match retry(|| self.bot.send_message(chat, &text).reply_markup(keyboard.clone())).await {
            Ok(m) => {
                if let Ok(mut p) = self.prompts.lock() {
                    p.insert(r.id.clone(), Prompt { chat, message: m.id, text, tool: r.tool.clone() });
                }
            }
            Err(e) => {
                tracing::error!(error = %clean(&e), tool = r.tool, "cannot deliver an approval prompt; the call is denied");
                let origin = channel_name(chat);
                if let Err(e) = self.service.respond(&origin, &r.id, &r.args_sha256, Answer::Deny, Scope::Once) {
                    tracing::warn!(error = %clean(&e), "cannot deny an undeliverable request");
                }
            }
        }
    }

    /// Edits a prompt to its outcome, buttons gone; a timeout is also said in the chat.
    async fn outcome(&self, id: &str, decision: Decision) {
        let Some(p) = self.prompts.lock().ok().and_then(|mut p| p.remove(id)) else { return };
        let scoped = self.for_session.lock().is_ok_and(|mut s| s.remove(id));
        let word = match decision {
            Decision::Approved if scoped => "✅ Approved for this session",
            Decision::Approved => "✅ Approved",
            Decision::AutoByGrant => "✅ Approved for this session",
            Decision::TimedOut => "⏱ Timed out: not run",
            Decision::Cancelled => "✖ Cancelled",
            _ => "❌ Denied",
        };
        let text = format!("{}\n{word}", p.text.rsplit_once('\n').map_or(p.text.as_str(), |(head, _)| head));
        if let Err(e) = retry(|| self.bot.edit_message_text(p.chat, p.message, &text)).await {
            tracing::warn!(error = %clean(&e), "cannot edit an approval prompt");
        }
        if decision == Decision::TimedOut {
            self.send_plain(p.chat, &format!("Nobody answered in time, so {} was not run.", p.tool)).await;
        }
    }

    /// A button press: only the person of this private chat may answer, once.
    async fn callback(&self, q: teloxide::types::CallbackQuery) {
        let reply = self.answer(&q);
        if let Err(e) = self.bot.answer_callback_query(q.id.clone()).text(reply).send().await {
            tracing::warn!(error = %clean(&e), "cannot answer a Telegram button press");
        }
    }

    fn answer(&self, q: &teloxide::types::CallbackQuery) -> String {
        let Some(message) = &q.message else { return "This prompt is no longer available.".into() };
        let chat = message.chat().id;
        let sender = q.from.id.0.to_string();
        if !self.gate.allows(&sender) || sender != chat.0.to_string() {
            tracing::warn!(sender, "a button press from someone else than the person asked was refused");
            return "Only the person who started this conversation may answer.".into();
        }
        let Some((kind, id)) = q.data.as_deref().and_then(|d| d.split_once('|')) else {
            return "This button is not mine.".into();
        };
        let (answer, scope) = match kind {
            "a" => (Answer::Approve, Scope::Once),
            "s" => (Answer::Approve, Scope::Session),
            "d" => (Answer::Deny, Scope::Once),
            _ => return "This button is not mine.".into(),
        };
        let origin = channel_name(chat);
        let Some(request) = self.service.pending(&origin).into_iter().find(|r| r.id == id) else {
            return "This request was already decided or has expired.".into();
        };
        if scope == Scope::Session
            && let Ok(mut s) = self.for_session.lock()
        {
            s.insert(id.to_owned());
        }
        match self.service.respond(&origin, id, &request.args_sha256, answer, scope) {
            Ok(()) if answer == Answer::Approve => "Approved.".into(),
            Ok(()) => "Denied.".into(),
            Err(e) => {
                if let Ok(mut s) = self.for_session.lock() {
                    s.remove(id);
                }
                format!("Not taken: {e}")
            }
        }
    }
}

/// `sendChatAction` every 4 s (Telegram shows it for 5) until aborted.
async fn typing(bot: Bot, chat: ChatId) {
    loop {
        if let Err(e) = bot.send_chat_action(chat, ChatAction::Typing).send().await {
            tracing::debug!(error = %clean(&e), "cannot send a typing notice");
        }
        tokio::time::sleep(Duration::from_secs(4)).await;
    }
}

/// Sends a request again on a network error (with backoff) or a 429 (after its retry_after).
async fn retry<R, F>(make: F) -> Result<teloxide::requests::Output<R>, RequestError>
where
    R: Request<Err = RequestError>,
    F: Fn() -> R,
{
    let mut backoff = Duration::from_millis(500);
    let mut attempt = 0;
    loop {
        attempt += 1;
        match make().send().await {
            Ok(v) => return Ok(v),
            Err(RequestError::RetryAfter(s)) if attempt < 5 => tokio::time::sleep(s.duration()).await,
            Err(RequestError::Network(_) | RequestError::Io(_)) if attempt < 5 => {
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
            Err(e) => return Err(e),
        }
    }
}

fn channel_name(chat: ChatId) -> String {
    format!("{BOT}:{}", chat.0)
}

/// An error text with the token (which teloxide puts in URLs) cut out.
fn redact(text: &str, token: &str) -> String {
    let text = if token.is_empty() { text.to_owned() } else { text.replace(token, "<token>") };
    clean(&text)
}

static TOKEN_SHAPE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"\d{5,}:[A-Za-z0-9_-]{20,}").expect("the token pattern is valid (tested)")
});

/// Anything shaped like a bot token cut out of an error's text (reqwest puts the
/// request URL, `/bot<token>/<method>`, into its errors).
fn clean(e: &impl std::fmt::Display) -> String {
    TOKEN_SHAPE.replace_all(&e.to_string(), "<token>").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_reach_an_error_text() {
        let e = "error sending request for url (https://api.telegram.org/bot7000000001:AAFakeTokenForPyraTestsOnly_0123456/getMe)";
        assert_eq!(clean(&e), "error sending request for url (https://api.telegram.org/bot<token>/getMe)");
        assert_eq!(redact("short secret abc in text", "abc"), "short secret <token> in text");
        assert_eq!(code("3f2a-9b71-0000"), "3f2a9b");
        assert_eq!(minutes(Duration::from_secs(61)), "2 minutes");
    }
}
