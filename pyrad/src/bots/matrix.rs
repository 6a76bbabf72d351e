//! The Matrix bot (matrix-sdk, end-to-end encrypted): pyrad drives `/sync` itself
//! with a cursor it keeps in its own database, so the events of a sync are stored
//! in `bot_inbox` together with the cursor after them, keyed by event id. A crash
//! between the SDK's store and ours repeats the sync; the repeated events are
//! already stored and are not handled twice.
//!
//! One worker per room handles its messages in order; approval answers (a reply
//! `approve <code>`, `deny <code>`, `yes`, `no`, or a ✅ / ❌ reaction on the
//! prompt) are handled apart from chat traffic, never rate limited, and only from
//! the person who started the turn.
//!
//! The device and its keys live in `bots/matrix/` (0700) with the session in the
//! vault: a restart restores the same device. When the store is gone but a
//! password is known, the bot logs in as a new device rather than reuse a device
//! id whose keys it lost (the one-time-key conflict loop other bots fall into).

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use age::secrecy::ExposeSecret;
use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::config::SyncSettings;
use matrix_sdk::deserialized_responses::TimelineEventKind;
use matrix_sdk::ruma::api::error::ErrorKind;
use matrix_sdk::ruma::{OwnedEventId, OwnedRoomId, OwnedUserId};
use matrix_sdk::{Client, Room, RoomState};
use proto::ipc::{Answer, Decision, Scope};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::conversation::{self, BotChannel, Chat, Event, Workers, code, minutes};
use super::gate::{Admit, Gate};
use super::{BotState, format};
use crate::approval::ApprovalRequest;
use crate::chat::service::{ChatError, Service};
use crate::clock::unix_now;
use crate::store::{InboxRow, Store};
use crate::vault::Vault;

const BOT: &str = "matrix";
/// Matrix allows 64 KiB an event; a long answer is cut well below it.
const MAX_MESSAGE: usize = 16_000;
/// The vault entries of the Matrix bot.
use super::{MATRIX_ACCESS_TOKEN as ACCESS_TOKEN, MATRIX_PASSWORD as PASSWORD};
const SESSION: &str = "bot:matrix:session";
const STORE_KEY: &str = "bot:matrix:store_key";
/// Decided prompts remembered, so a late answer is told "already decided" rather than "no such code".
const DECIDED_KEPT: usize = 64;

#[derive(Clone)]
pub struct Settings {
    pub homeserver: String,
    pub user: String,
    /// The SDK's state and crypto stores (created 0700).
    pub store_dir: PathBuf,
    pub sync_timeout: Duration,
}

/// Why serving stopped.
enum Stop {
    Cancelled,
    /// The session is no longer valid (logged out elsewhere): log in again.
    Relogin(String),
}

/// Runs the bot until `stop`; failures are reported in `state` and retried with backoff.
pub async fn run(
    settings: Settings,
    service: Arc<Service>,
    gate: Arc<Gate>,
    store: Store,
    vault: Arc<Vault>,
    state: Arc<Mutex<BotState>>,
    stop: CancellationToken,
) {
    let report = |s: &str, reason: Option<String>, username: Option<String>| {
        if let Ok(mut st) = state.lock() {
            *st = BotState { state: s.into(), reason, username };
        }
    };
    let mut backoff = Duration::from_secs(1);
    loop {
        report("starting", None, None);
        let connected = tokio::select! {
            r = connect(&settings, &vault) => r,
            () = stop.cancelled() => {
                report("disabled", Some("stopped".into()), None);
                return;
            }
        };
        let failure = match connected {
            Ok((client, fresh_store)) => {
                backoff = Duration::from_secs(1);
                let me = client.user_id().map(ToString::to_string);
                tracing::info!(user = ?me, device = ?client.device_id(), "the Matrix bot is connected");
                report("connected", None, me.clone());
                let bot = Arc::new(Shared {
                    client: client.clone(),
                    me: client.user_id().map(ToOwned::to_owned),
                    service: service.clone(),
                    gate: gate.clone(),
                    store: store.clone(),
                    prompts: Mutex::new(HashMap::new()),
                    decided: Mutex::new(VecDeque::new()),
                    kept: Mutex::new(HashMap::new()),
                });
                match bot.serve(&settings, &state, me, fresh_store, &stop).await {
                    Stop::Cancelled => {
                        report("disabled", Some("stopped".into()), None);
                        return;
                    }
                    Stop::Relogin(why) => {
                        // The session is dead: forget it so the next connect logs in again.
                        if let Err(e) = vault.delete(SESSION) {
                            tracing::warn!(error = %e, "cannot forget the Matrix session");
                        }
                        why
                    }
                }
            }
            Err(e) => format!("{e:#}"),
        };
        tracing::warn!(error = %failure, retry_in = ?backoff, "the Matrix bot cannot connect");
        report("error", Some(failure), None);
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = stop.cancelled() => {
                report("disabled", Some("stopped".into()), None);
                return;
            }
        }
        backoff = (backoff * 2).min(Duration::from_secs(60));
    }
}

/// The client, logged in: the stored session restored (same device), or a new
/// login by password or access token whose session is then stored.
/// The flag is true when the SDK's store is new (its first sync must carry full state).
async fn connect(settings: &Settings, vault: &Vault) -> anyhow::Result<(Client, bool)> {
    use anyhow::Context;
    let secret = |name: &str| -> anyhow::Result<Option<String>> {
        Ok(vault
            .get(name)
            .with_context(|| format!("while reading {name} from the vault"))?
            .map(|s| s.expose_secret().to_owned()))
    };
    let store_key = match secret(STORE_KEY)? {
        Some(k) => k,
        None => {
            let key = random_key().context("while making the Matrix store key")?;
            vault.set(STORE_KEY, &key).context("while keeping the Matrix store key")?;
            key
        }
    };
    let had_store = settings.store_dir.join("matrix-sdk-crypto.sqlite3").exists();
    let session: Option<MatrixSession> = secret(SESSION)?.and_then(|s| serde_json::from_str(&s).ok());
    let restore = session.filter(|s| had_store && s.meta.user_id.as_str() == settings.user);
    let password = secret(PASSWORD)?;
    let token = secret(ACCESS_TOKEN)?;
    if restore.is_none() && password.is_none() && token.is_none() {
        anyhow::bail!(
            "no password or access token: `pyractl bots setup matrix --password-stdin` stores it as {PASSWORD}"
        );
    }
    if restore.is_none() && had_store {
        // A store without its session (or of another user) holds keys of a device
        // this login will not be: start it afresh rather than fight over one-time keys.
        tracing::warn!(dir = %settings.store_dir.display(), "the Matrix store belongs to a session that is gone; starting a new device");
        std::fs::remove_dir_all(&settings.store_dir).context("while clearing the old Matrix store")?;
    }
    make_private_dir(&settings.store_dir)?;
    let client = Client::builder()
        .homeserver_url(&settings.homeserver)
        .sqlite_store(&settings.store_dir, Some(&store_key))
        .build()
        .await
        .with_context(|| format!("while opening the Matrix store for {}", settings.homeserver))?;
    if let Some(session) = restore {
        client.restore_session(session).await.context("while restoring the Matrix session")?;
        return match client.whoami().await {
            Ok(_) => Ok((client, false)),
            Err(e) if matches!(e.client_api_error_kind(), Some(ErrorKind::UnknownToken(_))) => {
                vault.delete(SESSION).context("while forgetting a dead Matrix session")?;
                anyhow::bail!("the Matrix session was logged out; logging in again ({e})")
            }
            Err(e) => Err(e).context("while checking the Matrix session"),
        };
    }
    if let Some(password) = password {
        client
            .matrix_auth()
            .login_username(&settings.user, &password)
            .initial_device_display_name("Pyra")
            .send()
            .await
            .with_context(|| format!("while logging in as {}", settings.user))?;
    } else if let Some(token) = token {
        let device = whoami_device(&settings.homeserver, &token).await?;
        let user_id = OwnedUserId::try_from(settings.user.as_str()).context("while reading [bots.matrix] user")?;
        let session = MatrixSession {
            meta: matrix_sdk::SessionMeta { user_id, device_id: device.into() },
            tokens: matrix_sdk::SessionTokens { access_token: token, refresh_token: None },
        };
        client.restore_session(session).await.context("while using the Matrix access token")?;
    } else {
        anyhow::bail!(
            "no password or access token: `pyractl bots setup matrix --password-stdin` stores it as {PASSWORD}"
        );
    }
    let session = client.matrix_auth().session().context("the Matrix login gave no session")?;
    vault.set(SESSION, &serde_json::to_string(&session)?).context("while keeping the Matrix session")?;
    Ok((client, true))
}

/// The device an access token belongs to (`/account/whoami`).
async fn whoami_device(homeserver: &str, token: &str) -> anyhow::Result<String> {
    use anyhow::Context;
    let url = format!("{}/_matrix/client/v3/account/whoami", homeserver.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .get(&url)
        .bearer_auth(token)
        .send()
        .await
        .context("while asking the homeserver whose access token this is")?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or_default();
    if !status.is_success() {
        anyhow::bail!("the homeserver refused the access token: {} {}", status, body["error"].as_str().unwrap_or(""));
    }
    body["device_id"]
        .as_str()
        .map(str::to_owned)
        .context("the access token has no device (log in with a password instead)")
}

fn random_key() -> std::io::Result<String> {
    use base64::Engine;
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes))
}

fn make_private_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    Ok(())
}

/// An approval prompt shown in a room.
#[derive(Clone)]
struct Prompt {
    request: String,
    code: String,
    room: OwnedRoomId,
    /// Who started the turn: the only one who may answer.
    requester: String,
    event: OwnedEventId,
    text: String,
    tool: String,
    args_sha256: String,
    /// Approved for the rest of the session: the edit says so.
    scoped: bool,
}

struct Shared {
    client: Client,
    me: Option<OwnedUserId>,
    service: Arc<Service>,
    gate: Arc<Gate>,
    store: Store,
    /// Live prompts by request id.
    prompts: Mutex<HashMap<String, Prompt>>,
    /// Codes of prompts decided lately, with the outcome's word.
    decided: Mutex<VecDeque<(String, &'static str)>>,
    /// The message that triggered a passphrase challenge, by sender, answered after the passphrase.
    kept: Mutex<HashMap<String, InboxRow>>,
}

/// What one timeline event of a sync is to the bot.
enum Inbound {
    Text { body: String },
    Reaction { key: String, target: String },
    Undecryptable,
}

impl Shared {
    async fn serve(
        self: &Arc<Self>,
        settings: &Settings,
        state: &Arc<Mutex<BotState>>,
        me: Option<String>,
        mut fresh_store: bool,
        stop: &CancellationToken,
    ) -> Stop {
        let report = |s: &str, reason: Option<String>| {
            if let Ok(mut st) = state.lock() {
                *st = BotState { state: s.into(), reason, username: me.clone() };
            }
        };
        let mut workers = Workers::new();
        match self.store.bot_unfinished(BOT) {
            Ok(rows) => rows.into_iter().for_each(|row| self.dispatch(&mut workers, row, stop)),
            Err(e) => tracing::error!(error = %e, "cannot read the Matrix inbox"),
        }
        let mut cursor = self.store.bot_cursor(BOT).ok().flatten();
        let mut backoff = Duration::from_secs(1);
        loop {
            let mut sync = SyncSettings::default().timeout(settings.sync_timeout);
            if let Some(c) = &cursor {
                // A new store knows no rooms yet: its first sync since our cursor brings their whole state.
                sync = sync.token(c.clone()).full_state(std::mem::take(&mut fresh_store));
            }
            let response = tokio::select! {
                r = self.client.sync_once(sync) => r,
                () = stop.cancelled() => return Stop::Cancelled,
            };
            let response = match response {
                Ok(r) => {
                    if backoff > Duration::from_secs(1) {
                        report("connected", None);
                        tracing::info!("the Matrix sync is back");
                    }
                    backoff = Duration::from_secs(1);
                    r
                }
                Err(e) => {
                    if matches!(e.client_api_error_kind(), Some(ErrorKind::UnknownToken(_))) {
                        return Stop::Relogin(format!("the homeserver no longer knows the session: {e}"));
                    }
                    // The sync loop is ours: a failed sync is reported and tried again.
                    tracing::warn!(error = %e, retry_in = ?backoff, "the Matrix sync failed");
                    report("error", Some(format!("sync failed: {e}")));
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        () = stop.cancelled() => return Stop::Cancelled,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                    continue;
                }
            };
            // The first sync of a new login brings old history: it is not answered.
            let first = cursor.is_none();
            for room_id in response.rooms.invited.keys() {
                if let Some(room) = self.client.get_room(room_id) {
                    let this = self.clone();
                    tokio::spawn(async move { this.invited(room).await });
                }
            }
            let mut rows = Vec::new();
            for (room_id, update) in &response.rooms.joined {
                for event in &update.timeline.events {
                    let Some((sender, event_id, inbound)) = self.read(event) else { continue };
                    if first {
                        continue;
                    }
                    if !self.gate.allows(&sender) {
                        tracing::info!(sender, "a Matrix message from a sender not on the allowlist was ignored");
                        continue;
                    }
                    match inbound {
                        Inbound::Undecryptable => {
                            let this = self.clone();
                            let room = room_id.clone();
                            tokio::spawn(async move { this.undecryptable(room, sender).await });
                        }
                        Inbound::Reaction { key, target } => {
                            let this = self.clone();
                            let room = room_id.clone();
                            tokio::spawn(async move { this.reaction(room, sender, key, target).await });
                        }
                        Inbound::Text { body } => {
                            if let Some(answer) = approval_words(&body)
                                && self.is_answer(room_id, &answer)
                            {
                                let this = self.clone();
                                let room = room_id.clone();
                                let event = event_id.clone();
                                tokio::spawn(async move { this.answer(room, sender, answer, Some(event)).await });
                                continue;
                            }
                            rows.push(InboxRow {
                                update_id: 0,
                                chat: room_id.to_string(),
                                sender,
                                message_id: 0,
                                text: body,
                                state: "new".into(),
                                answer: None,
                                event_id: Some(event_id.to_string()),
                            });
                        }
                    }
                }
            }
            // Stored with the cursor after them, or not at all (then synced again).
            // A passphrase attempt is stored without its text: it is handled from memory.
            let stored: Vec<InboxRow> = rows
                .iter()
                .map(|r| InboxRow {
                    text: if self.gate.expects_passphrase(&r.sender) { String::new() } else { r.text.clone() },
                    ..r.clone()
                })
                .collect();
            let fresh = match self.store.bot_receive_events(BOT, &stored, &response.next_batch, unix_now()) {
                Ok(fresh) => fresh,
                Err(e) => {
                    tracing::error!(error = %e, "cannot store Matrix messages; they will be synced again");
                    tokio::time::sleep(backoff).await;
                    continue;
                }
            };
            cursor = Some(response.next_batch);
            for row in fresh {
                let text = rows.iter().find(|r| r.event_id == row.event_id).map(|r| r.text.clone()).unwrap_or_default();
                self.dispatch(&mut workers, InboxRow { text, ..row }, stop);
            }
        }
    }

    /// Sender, event id and meaning of one timeline event, if it is one the bot reads.
    fn read(
        &self,
        event: &matrix_sdk::deserialized_responses::TimelineEvent,
    ) -> Option<(String, OwnedEventId, Inbound)> {
        let sender = event.sender()?;
        if self.me.as_deref() == Some(&*sender) {
            return None;
        }
        let event_id = event.event_id()?;
        if let TimelineEventKind::UnableToDecrypt { utd_info, .. } = &event.kind {
            tracing::warn!(sender = %sender, event = %event_id, reason = ?utd_info.reason, "a Matrix event could not be decrypted; its key was requested");
            return Some((sender.to_string(), event_id, Inbound::Undecryptable));
        }
        let raw: Value = serde_json::from_str(event.raw().json().get()).ok()?;
        let content = &raw["content"];
        let inbound = match raw["type"].as_str()? {
            "m.room.message" => {
                // Edits of earlier messages are not new messages.
                if content["m.relates_to"]["rel_type"] == "m.replace" {
                    return None;
                }
                if !matches!(content["msgtype"].as_str(), Some("m.text" | "m.notice" | "m.emote")) {
                    return None;
                }
                Inbound::Text { body: strip_reply_fallback(content["body"].as_str()?) }
            }
            "m.reaction" => {
                let relates = &content["m.relates_to"];
                Inbound::Reaction {
                    key: relates["key"].as_str()?.to_owned(),
                    target: relates["event_id"].as_str()?.to_owned(),
                }
            }
            _ => return None,
        };
        Some((sender.to_string(), event_id, inbound))
    }

    /// An invite: joined when an allowlisted person sent it, declined otherwise.
    async fn invited(&self, room: Room) {
        if room.state() != RoomState::Invited {
            return;
        }
        let inviter = match room.invite_details().await {
            Ok(invite) => invite.inviter_id.to_string(),
            Err(e) => {
                tracing::warn!(room = %room.room_id(), error = %e, "cannot read a Matrix invite");
                return;
            }
        };
        if !self.gate.allows(&inviter) {
            tracing::info!(room = %room.room_id(), inviter, "an invite from a sender not on the allowlist was declined");
            if let Err(e) = room.leave().await {
                tracing::warn!(error = %e, "cannot decline a Matrix invite");
            }
            return;
        }
        // The homeserver may not yet know the invite it just sent us: try a few times.
        let mut wait = Duration::from_millis(500);
        for attempt in 1..=6 {
            match room.join().await {
                Ok(()) => {
                    tracing::info!(room = %room.room_id(), inviter, "joined a Matrix room");
                    return;
                }
                Err(e) if attempt < 6 => {
                    tracing::debug!(error = %e, attempt, "joining a Matrix room failed; trying again");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                Err(e) => tracing::warn!(room = %room.room_id(), error = %e, "cannot join a Matrix room"),
            }
        }
    }

    async fn undecryptable(&self, room: OwnedRoomId, sender: String) {
        let text = format!(
            "⚠️ I could not decrypt a message from {sender}: its key has not reached this device. \
             I have asked your devices for it; if I do not answer, please send the message again."
        );
        self.send_notice(&room, &text).await;
    }

    /// Hands a stored message to its room's worker.
    fn dispatch(self: &Arc<Self>, workers: &mut Workers, row: InboxRow, stop: &CancellationToken) {
        conversation::dispatch(workers, row, || {
            let (this, stop) = (self.clone(), stop.clone());
            move |row| {
                let (this, stop) = (this.clone(), stop.clone());
                async move { this.handle(row, &stop).await }
            }
        });
    }

    fn room(&self, id: &str) -> Option<Room> {
        let id = OwnedRoomId::try_from(id).ok()?;
        self.client.get_room(&id)
    }

    async fn handle(self: &Arc<Self>, row: InboxRow, stop: &CancellationToken) {
        let Some(room) = self.room(&row.chat) else {
            tracing::warn!(room = row.chat, "a message for a room the bot is not in was dropped");
            return self.done(&row, false);
        };
        let reply_to = row.event_id.as_deref().and_then(|e| OwnedEventId::try_from(e).ok());
        if row.state == "answered" {
            if let Some(answer) = &row.answer {
                self.deliver(&room, answer, reply_to.as_ref()).await;
            }
            return self.done(&row, false);
        }
        if row.text.trim().is_empty() {
            // A passphrase attempt from before a restart: its text was never stored.
            return self.done(&row, true);
        }
        match self.gate.admit(&row.sender, &row.text, Instant::now()).await {
            Admit::Stranger => self.done(&row, true),
            Admit::Challenge => {
                self.say(&room, "🔒 Send your passphrase to continue; your message is kept until then.").await;
                // Not done: kept in the inbox too, so a restart before the passphrase loses it not.
                if let Ok(mut kept) = self.kept.lock() {
                    kept.insert(row.sender.clone(), row);
                }
            }
            Admit::Unlocked { kept } => {
                if self.forget(&room, &row).await {
                    self.say(&room, "🔓 Unlocked.").await;
                } else {
                    self.say(&room, "🔓 Unlocked. I may not remove messages in this room: please delete your passphrase message from its history.").await;
                }
                if let Some(text) = kept {
                    // The answer replies to the kept message.
                    let stored = self.kept.lock().ok().and_then(|mut k| k.remove(&row.sender));
                    let kept_row = stored.unwrap_or_else(|| InboxRow { event_id: None, ..row.clone() });
                    self.turn(&room, &kept_row, &text, stop).await;
                }
            }
            Admit::WrongPassphrase { locked_for } => {
                self.forget(&room, &row).await;
                let text = match locked_for {
                    Some(d) => format!("Wrong passphrase. Locked for {}.", minutes(d)),
                    None => "Wrong passphrase.".into(),
                };
                self.say(&room, &text).await;
            }
            Admit::Locked { remaining, notice } => {
                self.forget(&room, &row).await;
                if notice {
                    self.say(&room, &format!("Locked after wrong passphrases; try again in {}.", minutes(remaining)))
                        .await;
                }
            }
            Admit::RateLimited { notice } => {
                if notice {
                    self.say(&room, "You have reached the hourly message limit; I will answer again later.").await;
                }
                self.done(&row, false);
            }
            Admit::Refused { verdict } => {
                let text = format!(
                    "⚠️ This message looks like a prompt injection ({}), so I did not pass it on.",
                    verdict.reason()
                );
                self.say(&room, &text).await;
                self.done(&row, false);
            }
            Admit::Pass { text } => self.turn(&room, &row, &text, stop).await,
        }
    }

    /// A passphrase attempt: redacted from the room (where the bot may) and never
    /// kept; false when it could not be redacted.
    async fn forget(&self, room: &Room, row: &InboxRow) -> bool {
        // A redaction the bot has no power for is accepted by some homeservers and
        // never applied: ask the power levels first.
        let may = match (&self.me, room.power_levels().await) {
            (Some(me), Ok(levels)) => levels.user_can_redact_event_of_other(me),
            _ => false,
        };
        let mut redacted = false;
        if may && let Some(event) = row.event_id.as_deref().and_then(|e| OwnedEventId::try_from(e).ok()) {
            match room.redact(&event, Some("passphrase"), None).await {
                Ok(_) => redacted = true,
                Err(e) => tracing::debug!(error = %e, "cannot redact a passphrase message"),
            }
        }
        self.done(row, true);
        redacted
    }

    fn done(&self, row: &InboxRow, redact: bool) {
        if let Err(e) = self.store.bot_done(BOT, row.update_id, redact) {
            tracing::error!(error = %e, "cannot mark a Matrix message handled");
        }
    }

    async fn turn(self: &Arc<Self>, room: &Room, row: &InboxRow, text: &str, stop: &CancellationToken) {
        let (id, origin) = (room.room_id().to_string(), channel_name(room));
        let conversation = Chat { bot: BOT, id: &id, origin: &origin };
        if let Some(reply) = conversation.command(&self.service, &self.store, text) {
            self.say(room, &reply).await;
            return self.done(row, false);
        }
        let session = conversation.session(&self.store);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let channel = BotChannel { bot: BOT, origin: origin.clone(), tx };
        // Prompts and outcomes are shown while the turn runs.
        let prompter = {
            let this = self.clone();
            let room = room.clone();
            let requester = row.sender.clone();
            tokio::spawn(async move {
                while let Some(event) = rx.recv().await {
                    match event {
                        Event::Approval(r) => this.prompt(&room, &requester, r).await,
                        Event::Decided(id, decision) => this.outcome(&id, decision).await,
                        // The answer is sent whole when the turn ends: deltas are not shown.
                        Event::Delta(_) | Event::Finish(_) => {}
                        Event::Warning(w) => {
                            let what =
                                format!("⚠️ {} looked like a prompt injection ({}).", w.source, w.verdict.reason());
                            this.send_notice(room.room_id(), &what).await;
                        }
                    }
                }
            })
        };
        let typing = Typing::start(room.clone());
        let result = self.service.send(&channel, session, text, stop.child_token()).await;
        typing.stop().await;
        drop(channel);
        if let Err(e) = prompter.await {
            tracing::error!(error = %e, "the Matrix prompt task failed");
        }
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
            tracing::error!(error = %e, "cannot keep a Matrix answer");
        }
        let reply_to = row.event_id.as_deref().and_then(|e| OwnedEventId::try_from(e).ok());
        self.deliver(room, &answer, reply_to.as_ref()).await;
        self.done(row, false);
    }

    /// The answer as Matrix HTML, the first piece a reply to the message it answers.
    async fn deliver(&self, room: &Room, answer: &str, reply_to: Option<&OwnedEventId>) {
        for (i, piece) in format::split(answer, MAX_MESSAGE).iter().enumerate() {
            let mut content = json!({
                "msgtype": "m.text",
                "body": piece,
                "format": "org.matrix.custom.html",
                "formatted_body": format::to_matrix_html(piece),
            });
            if i == 0
                && let Some(event) = reply_to
            {
                content["m.relates_to"] = json!({"m.in_reply_to": {"event_id": event}});
            }
            if let Err(e) = send(room, content).await {
                tracing::error!(error = %e, "cannot deliver a Matrix answer");
            }
        }
    }

    async fn say(&self, room: &Room, text: &str) {
        if let Err(e) = send(room, json!({"msgtype": "m.notice", "body": text})).await {
            tracing::warn!(error = %e, "cannot send a Matrix message");
        }
    }

    async fn send_notice(&self, room: &matrix_sdk::ruma::RoomId, text: &str) {
        match self.client.get_room(room) {
            Some(room) => self.say(&room, text).await,
            None => tracing::warn!(room = %room, "cannot send to a room the bot is not in"),
        }
    }

    /// Shows an approval request; one that cannot be shown is denied at once.
    async fn prompt(&self, room: &Room, requester: &str, r: ApprovalRequest) {
        let mut args = serde_json::to_string_pretty(&r.args).unwrap_or_default();
        if args.chars().count() > 600 {
            args = args.chars().take(600).collect::<String>() + "…";
        }
        let code = code(&r.id);
        let left = r.expires_at.saturating_sub(unix_now());
        let mut text = format!("🔐 {requester}, may I run {}?\n{args}\n", r.tool);
        if let Some(reason) = &r.reason {
            text.push_str(&format!("⚠️ {reason}\n"));
        }
        for w in &r.warnings {
            text.push_str(&format!("⚠️ {} looked like a prompt injection ({})\n", w.source, w.verdict.reason()));
        }
        text.push_str(&format!(
            "Reply \"approve {code}\" or \"deny {code}\" (or react ✅ / ❌); \"session {code}\" approves it for this conversation. {left} s left."
        ));
        match send(room, json!({"msgtype": "m.text", "body": text})).await {
            Ok(event) => {
                let prompt = Prompt {
                    request: r.id.clone(),
                    code,
                    room: room.room_id().to_owned(),
                    requester: requester.to_owned(),
                    event,
                    text,
                    tool: r.tool.clone(),
                    args_sha256: r.args_sha256.clone(),
                    scoped: false,
                };
                if let Ok(mut p) = self.prompts.lock() {
                    p.insert(r.id.clone(), prompt);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, tool = r.tool, "cannot deliver an approval prompt; the call is denied");
                if let Err(e) =
                    self.service.respond(&channel_name(room), &r.id, &r.args_sha256, Answer::Deny, Scope::Once)
                {
                    tracing::warn!(error = %e, "cannot deny an undeliverable request");
                }
            }
        }
    }

    /// Edits a prompt to its outcome; a timeout is also said in the room.
    async fn outcome(&self, id: &str, decision: Decision) {
        let Some(p) = self.prompts.lock().ok().and_then(|mut p| p.remove(id)) else { return };
        let word = match decision {
            Decision::Approved if p.scoped => "✅ Approved for this session",
            Decision::Approved => "✅ Approved",
            Decision::AutoByGrant => "✅ Approved for this session",
            Decision::TimedOut => "⏱ Timed out: not run",
            Decision::Cancelled => "✖ Cancelled",
            _ => "❌ Denied",
        };
        if let Ok(mut d) = self.decided.lock() {
            d.push_back((p.code.clone(), word));
            while d.len() > DECIDED_KEPT {
                d.pop_front();
            }
        }
        let head = p.text.rsplit_once('\n').map_or(p.text.as_str(), |(head, _)| head);
        let text = format!("{head}\n{word}");
        let Some(room) = self.client.get_room(&p.room) else { return };
        let edit = json!({
            "msgtype": "m.text",
            "body": format!("* {text}"),
            "m.new_content": {"msgtype": "m.text", "body": text},
            "m.relates_to": {"rel_type": "m.replace", "event_id": p.event},
        });
        if let Err(e) = send(&room, edit).await {
            tracing::warn!(error = %e, "cannot edit an approval prompt");
        }
        if decision == Decision::TimedOut {
            self.say(&room, &format!("Nobody answered in time, so {} was not run.", p.tool)).await;
        }
    }

    /// Whether a text of these words in this room is an approval answer rather than chat.
    fn is_answer(&self, room: &OwnedRoomId, words: &Words) -> bool {
        let live = self.prompts.lock().map(|p| p.values().filter(|p| &p.room == room).count()).unwrap_or(0);
        // With a code it is always an answer (perhaps a stale one); a bare yes/no only while a prompt waits.
        words.code.is_some() || live > 0
    }

    async fn reaction(&self, room: OwnedRoomId, sender: String, key: String, target: String) {
        let yes = matches!(key.trim_end_matches('\u{fe0f}'), "✅" | "👍" | "✔");
        let no = matches!(key.trim_end_matches('\u{fe0f}'), "❌" | "👎" | "✖");
        if !yes && !no {
            return;
        }
        let prompt = self.prompts.lock().ok().and_then(|p| p.values().find(|p| p.event.as_str() == target).cloned());
        let Some(prompt) = prompt else { return };
        let words = Words {
            answer: if yes { Answer::Approve } else { Answer::Deny },
            scope: Scope::Once,
            code: Some(prompt.code),
        };
        self.answer(room, sender, words, None).await;
    }

    /// An approval answer: only the person who started the turn may give it, once.
    async fn answer(&self, room: OwnedRoomId, sender: String, words: Words, event: Option<OwnedEventId>) {
        let reply = self.decide(&room, &sender, &words);
        if let Some(reply) = reply
            && let Some(room) = self.client.get_room(&room)
        {
            let mut content = json!({"msgtype": "m.notice", "body": reply});
            if let Some(event) = event {
                content["m.relates_to"] = json!({"m.in_reply_to": {"event_id": event}});
            }
            if let Err(e) = send(&room, content).await {
                tracing::warn!(error = %e, "cannot answer an approval reply");
            }
        }
    }

    /// Applies an answer; returns what to tell the person when it is refused.
    fn decide(&self, room: &OwnedRoomId, sender: &str, words: &Words) -> Option<String> {
        let live: Vec<Prompt> =
            self.prompts.lock().map(|p| p.values().filter(|p| &p.room == room).cloned().collect()).unwrap_or_default();
        let prompt = match &words.code {
            Some(code) => match live.iter().find(|p| p.code.eq_ignore_ascii_case(code)) {
                Some(p) => p.clone(),
                None => {
                    let decided = self
                        .decided
                        .lock()
                        .ok()
                        .and_then(|d| d.iter().find(|(c, _)| c.eq_ignore_ascii_case(code)).map(|(_, w)| *w));
                    return Some(match decided {
                        Some(word) => format!("That request was already decided ({word})."),
                        None => format!("No request here has the code {code}: check it and answer again."),
                    });
                }
            },
            None => match live.as_slice() {
                [one] => one.clone(),
                [] => return None,
                _ => {
                    return Some(
                        "Several requests are waiting: answer with their code, as in \"approve <code>\".".into(),
                    );
                }
            },
        };
        if prompt.requester != sender {
            tracing::warn!(
                sender,
                requester = prompt.requester,
                "an approval answer from someone else than the person asked was refused"
            );
            return Some(format!("Only {} may answer this request.", prompt.requester));
        }
        let origin = format!("{BOT}:{room}");
        if !self.service.pending(&origin).iter().any(|r| r.id == prompt.request) {
            return Some("That request was already decided or has expired.".into());
        }
        // Marked before answering: the outcome's edit may run before respond returns.
        let scoped = words.scope == Scope::Session;
        self.mark_scoped(&prompt.request, scoped);
        match self.service.respond(&origin, &prompt.request, &prompt.args_sha256, words.answer, words.scope) {
            Ok(()) => None,
            Err(e) => {
                self.mark_scoped(&prompt.request, false);
                Some(format!("Not taken: {e}"))
            }
        }
    }
}

impl Shared {
    fn mark_scoped(&self, request: &str, scoped: bool) {
        if let Ok(mut p) = self.prompts.lock()
            && let Some(p) = p.get_mut(request)
        {
            p.scoped = scoped;
        }
    }
}

/// An approval answer read from a text.
#[derive(Debug, Clone, PartialEq)]
struct Words {
    answer: Answer,
    scope: Scope,
    code: Option<String>,
}

/// `approve <code>`, `deny <code>`, `session <code>`, `yes`, `no` (any case, with
/// or without the code) as an answer; anything else is chat.
fn approval_words(text: &str) -> Option<Words> {
    let lower = text.trim().trim_end_matches(['.', '!']).to_lowercase();
    let mut parts = lower.split_whitespace();
    let (answer, scope) = match parts.next()? {
        "approve" | "yes" | "y" | "ok" => (Answer::Approve, Scope::Once),
        "session" | "always" => (Answer::Approve, Scope::Session),
        "deny" | "no" | "n" => (Answer::Deny, Scope::Once),
        _ => return None,
    };
    let code = match parts.next() {
        Some(c) if c.len() <= 12 && c.chars().all(|c| c.is_ascii_alphanumeric()) => Some(c.to_owned()),
        Some(_) => return None,
        None => None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(Words { answer, scope, code })
}

/// A reply's body without the quoted fallback (`> <@ada> ...` lines) clients put first.
fn strip_reply_fallback(body: &str) -> String {
    if !body.starts_with("> ") {
        return body.to_owned();
    }
    body.lines().skip_while(|l| l.starts_with('>')).skip_while(|l| l.trim().is_empty()).collect::<Vec<_>>().join("\n")
}

/// Sends one `m.room.message` (encrypted in an encrypted room: the SDK encrypts
/// whatever is sent to one, so no path sends plaintext there).
async fn send(room: &Room, content: Value) -> Result<OwnedEventId, matrix_sdk::Error> {
    let mut wait = Duration::from_millis(500);
    let mut attempt = 0;
    loop {
        attempt += 1;
        match room.send_raw("m.room.message", content.clone()).await {
            Ok(r) => return Ok(r.response.event_id),
            Err(e) if attempt < 4 && is_transient(&e) => {
                tracing::debug!(error = %e, attempt, "sending to Matrix failed; trying again");
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Network errors and rate limits are worth another try; a refusal is not.
fn is_transient(e: &matrix_sdk::Error) -> bool {
    match e {
        matrix_sdk::Error::Http(h) => {
            h.client_api_error_kind().is_none_or(|k| matches!(k, ErrorKind::LimitExceeded(_)))
        }
        _ => false,
    }
}

/// The typing notice while the model works, renewed until stopped and always cleared.
struct Typing {
    room: Room,
    task: tokio::task::JoinHandle<()>,
}

impl Typing {
    fn start(room: Room) -> Self {
        let r = room.clone();
        let task = tokio::spawn(async move {
            loop {
                if let Err(e) = r.typing_notice(true).await {
                    tracing::debug!(error = %e, "cannot send a typing notice");
                }
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
        });
        Self { room, task }
    }

    async fn stop(self) {
        self.task.abort();
        if let Err(e) = self.room.typing_notice(false).await {
            tracing::debug!(error = %e, "cannot clear the typing notice");
        }
    }
}

impl Drop for Typing {
    fn drop(&mut self) {
        // A turn that panicked or was dropped still clears its notice.
        if !self.task.is_finished() {
            self.task.abort();
            let room = self.room.clone();
            tokio::spawn(async move {
                let _ = room.typing_notice(false).await;
            });
        }
    }
}

fn channel_name(room: &Room) -> String {
    format!("{BOT}:{}", room.room_id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approval_answers_are_read_and_chat_is_left_alone() {
        let w = |a, s, c: Option<&str>| Some(Words { answer: a, scope: s, code: c.map(str::to_owned) });
        assert_eq!(approval_words("approve 3f2a9b"), w(Answer::Approve, Scope::Once, Some("3f2a9b")));
        assert_eq!(approval_words("Deny 3F2A9B."), w(Answer::Deny, Scope::Once, Some("3f2a9b")));
        assert_eq!(approval_words("yes"), w(Answer::Approve, Scope::Once, None));
        assert_eq!(approval_words(" no! "), w(Answer::Deny, Scope::Once, None));
        assert_eq!(approval_words("session abc123"), w(Answer::Approve, Scope::Session, Some("abc123")));
        assert_eq!(approval_words("yes please write the note"), None);
        assert_eq!(approval_words("no way, José"), None);
        assert_eq!(approval_words("hello"), None);
    }

    #[test]
    fn a_reply_is_read_without_its_quoted_fallback() {
        assert_eq!(strip_reply_fallback("> <@pyra:hs> Run it?\n> more\n\napprove abc"), "approve abc");
        assert_eq!(strip_reply_fallback("plain"), "plain");
        assert_eq!(code("3F2a-9b71-0000"), "3f2a9b");
    }
}
