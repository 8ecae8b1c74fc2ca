//! The gateway side over ws://: HELLO, heartbeat ACK, IDENTIFY → READY, RESUME → RESUMED, and
//! dispatches pushed by tests (INTERACTION_CREATE fixtures with complete payloads).

use std::collections::HashSet;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::{
    APP_ID, CHANNEL_ID, GUILD_ID, GatewayFrame, Inner, InteractionState, Shared, TOKEN, USER_ID,
    bot_user, user_object,
};

/// serenity heartbeats at this interval; long enough that tests never see one beyond the first.
const HEARTBEAT_INTERVAL_MS: u64 = 41_250;

/// Something a test asks a live session to do.
#[derive(Debug, Clone)]
pub(crate) enum Command {
    Dispatch(String, Value),
    Reconnect,
}

pub(crate) struct GatewayState {
    pub(crate) url: String,
    /// Identified (or resumed) sessions that take dispatches.
    live: Vec<(u64, mpsc::UnboundedSender<Command>)>,
    /// Dispatches pushed while no session was live.
    pending: Vec<(String, Value)>,
    pub(crate) received: Vec<GatewayFrame>,
    connections: u64,
    session_ids: HashSet<String>,
}

impl GatewayState {
    pub(crate) fn new(url: String) -> GatewayState {
        GatewayState {
            url,
            live: Vec::new(),
            pending: Vec::new(),
            received: Vec::new(),
            connections: 0,
            session_ids: HashSet::new(),
        }
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(upgrade).with_state(shared)
}

async fn upgrade(State(shared): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| run_session(socket, shared))
}

pub(crate) fn dispatch(shared: &Shared, event: &str, data: Value) {
    let mut inner = shared.lock();
    let live: Vec<_> = inner
        .gateway
        .live
        .iter()
        .filter(|(_, tx)| !tx.is_closed())
        .cloned()
        .collect();
    let delivered = live
        .iter()
        .filter(|(_, tx)| {
            tx.send(Command::Dispatch(event.to_string(), data.clone()))
                .is_ok()
        })
        .count();
    if delivered == 0 {
        inner.gateway.pending.push((event.to_string(), data));
    }
}

pub(crate) fn broadcast(shared: &Shared, command: Command) {
    let inner = shared.lock();
    for (_, tx) in &inner.gateway.live {
        let _ = tx.send(command.clone());
    }
}

fn text(v: &Value) -> Message {
    Message::Text(v.to_string().into())
}

/// One WebSocket connection, from HELLO until either side closes.
async fn run_session(mut socket: WebSocket, shared: Arc<Shared>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Command>();
    let conn = {
        let mut inner = shared.lock();
        inner.gateway.connections += 1;
        inner.gateway.connections
    };
    let mut seq: u64 = 0;
    if socket.send(text(&json!({"op": 10, "s": null, "t": null, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}}))).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            frame = socket.recv() => {
                let Some(Ok(frame)) = frame else { break };
                let payload = match frame {
                    Message::Text(t) => serde_json::from_str::<Value>(t.as_str()).ok(),
                    Message::Binary(b) => serde_json::from_slice::<Value>(&b).ok(),
                    Message::Close(_) => break,
                    _ => continue,
                };
                let Some(payload) = payload else { continue };
                let replies = handle_frame(&shared, conn, &tx, &payload, &mut seq);
                shared.changed.notify_waiters();
                let mut closed = false;
                for reply in replies {
                    closed |= matches!(reply, Message::Close(_));
                    if socket.send(reply).await.is_err() { closed = true; }
                }
                if closed { break; }
            }
            command = rx.recv() => {
                let reply = match command {
                    Some(Command::Dispatch(t, d)) => {
                        seq += 1;
                        text(&json!({"op": 0, "s": seq, "t": t, "d": d}))
                    }
                    Some(Command::Reconnect) => text(&json!({"op": 7, "s": null, "t": null, "d": null})),
                    None => break,
                };
                if socket.send(reply).await.is_err() { break; }
            }
        }
    }
    shared.lock().gateway.live.retain(|(c, _)| *c != conn);
}

/// Records the frame and returns what to send back.
fn handle_frame(
    shared: &Shared,
    conn: u64,
    tx: &mpsc::UnboundedSender<Command>,
    payload: &Value,
    seq: &mut u64,
) -> Vec<Message> {
    let op = payload
        .get("op")
        .and_then(Value::as_u64)
        .unwrap_or(u64::MAX);
    let d = payload.get("d").cloned().unwrap_or(Value::Null);
    let mut inner = shared.lock();
    inner.gateway.received.push(GatewayFrame {
        op,
        d: d.clone(),
        session: conn,
    });
    let token_ok = d.get("token").and_then(Value::as_str) == Some(format!("Bot {TOKEN}").as_str());
    match op {
        1 => vec![text(&json!({"op": 11, "s": null, "t": null, "d": null}))],
        2 if !token_ok => vec![close(4004, "Authentication failed.")],
        2 => {
            let session_id = format!("fake-session-{conn}");
            inner.gateway.session_ids.insert(session_id.clone());
            inner.gateway.live.push((conn, tx.clone()));
            let pending = take_pending(&mut inner);
            let url = inner.gateway.url.clone();
            let mut out = vec![dispatch_frame(
                seq,
                "READY",
                ready_payload(&session_id, &url),
            )];
            out.extend(pending.into_iter().map(|(t, d)| dispatch_frame(seq, &t, d)));
            out
        }
        6 => {
            let known = d
                .get("session_id")
                .and_then(Value::as_str)
                .is_some_and(|s| inner.gateway.session_ids.contains(s));
            if !token_ok || !known {
                return vec![text(&json!({"op": 9, "s": null, "t": null, "d": false}))];
            }
            *seq = d.get("seq").and_then(Value::as_u64).unwrap_or(*seq);
            inner.gateway.live.push((conn, tx.clone()));
            let pending = take_pending(&mut inner);
            let mut out = vec![dispatch_frame(
                seq,
                "RESUMED",
                json!({"_trace": ["fake-gateway"]}),
            )];
            out.extend(pending.into_iter().map(|(t, d)| dispatch_frame(seq, &t, d)));
            out
        }
        _ => Vec::new(),
    }
}

/// Dispatches queued while no session was live. An interaction's 3 s start when Discord
/// delivers it, so queued ones count from now.
fn take_pending(inner: &mut Inner) -> Vec<(String, Value)> {
    let pending = std::mem::take(&mut inner.gateway.pending);
    let now = inner.now();
    for (event, d) in &pending {
        if event == "INTERACTION_CREATE"
            && let Some(state) = d
                .get("token")
                .and_then(Value::as_str)
                .and_then(|t| inner.interactions.get_mut(t))
        {
            state.sent_at = now;
        }
    }
    pending
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.to_string().into(),
    }))
}

fn dispatch_frame(seq: &mut u64, event: &str, d: Value) -> Message {
    *seq += 1;
    text(&json!({"op": 0, "s": *seq, "t": event, "d": d}))
}

fn ready_payload(session_id: &str, url: &str) -> Value {
    let mut user = bot_user();
    user["verified"] = json!(true);
    user["mfa_enabled"] = json!(false);
    user["email"] = Value::Null;
    json!({
        "v": 10,
        "user": user,
        "guilds": [{"id": GUILD_ID.to_string(), "unavailable": true}],
        "session_id": session_id,
        "session_type": "normal",
        "resume_gateway_url": url,
        "shard": [0, 1],
        "application": {"id": APP_ID.to_string(), "flags": 0},
        "private_channels": [],
        "relationships": [],
        "presences": [],
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": ["rotterdam", "madrid"],
        "user_settings": {},
        "_trace": ["[\"fake-gateway\"]"],
    })
}

// ---- interaction fixtures -----------------------------------------------------------------

/// An option value as Discord sends it in `data.options`; the type is taken from the JSON value
/// (string 3, integer 4, boolean 5, float 10).
pub fn opt(name: &str, value: impl Into<Value>) -> Value {
    let value = value.into();
    let kind = match &value {
        Value::Bool(_) => 5,
        Value::Number(n) if n.is_f64() => 10,
        Value::Number(_) => 4,
        _ => 3,
    };
    json!({"name": name, "type": kind, "value": value})
}

/// The string option the user is typing, for autocomplete interactions.
pub fn opt_focused(name: &str, partial: &str) -> Value {
    json!({"name": name, "type": 3, "value": partial, "focused": true})
}

/// A subcommand (type 1) with its options.
pub fn opt_sub(name: &str, options: Vec<Value>) -> Value {
    json!({"name": name, "type": 1, "options": options})
}

/// A subcommand group (type 2) with its subcommands.
pub fn opt_group(name: &str, subcommands: Vec<Value>) -> Value {
    json!({"name": name, "type": 2, "options": subcommands})
}

/// An INTERACTION_CREATE to send: a slash command (type 2) or an autocomplete (type 4).
#[derive(Debug, Clone)]
pub struct InteractionFixture {
    kind: u8,
    name: String,
    options: Vec<Value>,
    channel_id: u64,
    guild_id: Option<u64>,
    user_id: u64,
    user_name: String,
    member_permissions: u64,
    app_permissions: u64,
    locale: String,
}

impl InteractionFixture {
    /// `/name` run in [`CHANNEL_ID`] of [`GUILD_ID`] by [`USER_ID`] with no special permissions
    /// (VIEW_CHANNEL | SEND_MESSAGES | USE_APPLICATION_COMMANDS).
    pub fn command(name: &str) -> InteractionFixture {
        InteractionFixture {
            kind: 2,
            name: name.to_string(),
            options: Vec::new(),
            channel_id: CHANNEL_ID,
            guild_id: Some(GUILD_ID),
            user_id: USER_ID,
            user_name: "alice".to_string(),
            member_permissions: (1 << 10) | (1 << 11) | (1 << 31),
            app_permissions: (1 << 10) | (1 << 11) | (1 << 14),
            locale: "en-US".to_string(),
        }
    }

    /// Autocomplete request for `/name`; mark the typed option with [`opt_focused`].
    pub fn autocomplete(name: &str) -> InteractionFixture {
        InteractionFixture {
            kind: 4,
            ..InteractionFixture::command(name)
        }
    }

    pub fn option(mut self, option: Value) -> InteractionFixture {
        self.options.push(option);
        self
    }

    pub fn channel(mut self, channel_id: u64) -> InteractionFixture {
        self.channel_id = channel_id;
        self
    }

    pub fn guild(mut self, guild_id: u64) -> InteractionFixture {
        self.guild_id = Some(guild_id);
        self
    }

    /// Run in a DM with the bot: `user` instead of `member`, no guild.
    pub fn in_dm(mut self) -> InteractionFixture {
        self.guild_id = None;
        self
    }

    pub fn user(mut self, id: u64, name: &str) -> InteractionFixture {
        self.user_id = id;
        self.user_name = name.to_string();
        self
    }

    /// The invoking member's resolved permissions in the channel (a bitset, e.g. 1 << 5 for
    /// MANAGE_GUILD, 1 << 4 MANAGE_CHANNELS, 1 << 3 ADMINISTRATOR).
    pub fn member_permissions(mut self, bits: u64) -> InteractionFixture {
        self.member_permissions = bits;
        self
    }

    /// The bot's permissions in the channel.
    pub fn app_permissions(mut self, bits: u64) -> InteractionFixture {
        self.app_permissions = bits;
        self
    }

    pub fn locale(mut self, locale: &str) -> InteractionFixture {
        self.locale = locale.to_string();
        self
    }

    /// The complete payload, as Discord sends it.
    pub fn to_json(&self, id: u64, token: &str, command_id: u64) -> Value {
        let user = user_object(self.user_id, &self.user_name);
        let mut data = json!({"id": command_id.to_string(), "name": self.name, "type": 1});
        if !self.options.is_empty() {
            data["options"] = json!(self.options);
        }
        let mut payload = json!({
            "id": id.to_string(),
            "application_id": APP_ID.to_string(),
            "type": self.kind,
            "token": token,
            "data": data,
            "channel_id": self.channel_id.to_string(),
            "version": 1,
            "app_permissions": self.app_permissions.to_string(),
            "locale": self.locale,
            "entitlements": [],
            "attachment_size_limit": 26_214_400,
        });
        match self.guild_id {
            Some(guild) => {
                payload["guild_id"] = json!(guild.to_string());
                payload["guild_locale"] = json!("en-US");
                payload["context"] = json!(0);
                payload["authorizing_integration_owners"] = json!({"0": guild.to_string()});
                payload["channel"] = json!({
                    "id": self.channel_id.to_string(), "type": 0, "name": "news", "guild_id": guild.to_string(),
                    "parent_id": null, "position": 0, "permissions": self.member_permissions.to_string(),
                    "flags": 0, "nsfw": false, "topic": null, "last_message_id": null, "rate_limit_per_user": 0,
                });
                payload["member"] = json!({
                    "user": user, "roles": [], "joined_at": "2024-01-01T00:00:00.000000+00:00",
                    "premium_since": null, "deaf": false, "mute": false, "flags": 0, "pending": false,
                    "nick": null, "avatar": null, "communication_disabled_until": null,
                    "permissions": self.member_permissions.to_string(),
                });
            }
            None => {
                payload["context"] = json!(1);
                payload["authorizing_integration_owners"] = json!({"0": USER_ID.to_string()});
                payload["channel"] = json!({"id": self.channel_id.to_string(), "type": 1, "flags": 0, "last_message_id": null});
                payload["user"] = user;
            }
        }
        payload
    }
}

/// An interaction the fake sent; its id and token address the bot's responses.
#[derive(Debug, Clone)]
pub struct SentInteraction {
    pub id: u64,
    pub token: String,
    pub channel_id: u64,
}

impl SentInteraction {
    /// `/interactions/{id}/{token}/callback`.
    pub fn callback_path(&self) -> String {
        format!("/interactions/{}/{}/callback", self.id, self.token)
    }

    /// `/webhooks/{APP_ID}/{token}/messages/@original` (edits after a deferral).
    pub fn original_path(&self) -> String {
        format!("/webhooks/{APP_ID}/{}/messages/@original", self.token)
    }

    /// `/webhooks/{APP_ID}/{token}` (followups).
    pub fn followup_path(&self) -> String {
        format!("/webhooks/{APP_ID}/{}", self.token)
    }
}

pub(crate) fn send_interaction(shared: &Shared, fixture: InteractionFixture) -> SentInteraction {
    let (payload, sent) = {
        let mut inner = shared.lock();
        let id = inner.snowflake();
        let user = user_object(fixture.user_id, &fixture.user_name);
        let now = inner.now();
        let token = format!("aW50ZXJhY3Rpb246{id}");
        let registered = fixture
            .guild_id
            .and_then(|g| inner.guild_commands.get(&g))
            .into_iter()
            .flatten()
            .chain(inner.global_commands.iter())
            .find(|c| c.get("name").and_then(Value::as_str) == Some(fixture.name.as_str()))
            .and_then(|c| c.get("id").and_then(Value::as_str))
            .and_then(|s| s.parse().ok());
        let command_id = match registered {
            Some(c) => c,
            None => inner.snowflake(),
        };
        inner.interactions.insert(
            token.clone(),
            InteractionState::new(id, fixture.channel_id, fixture.guild_id, user, now),
        );
        let sent = SentInteraction {
            id,
            token: token.clone(),
            channel_id: fixture.channel_id,
        };
        (fixture.to_json(id, &token, command_id), sent)
    };
    dispatch(shared, "INTERACTION_CREATE", payload);
    sent
}
