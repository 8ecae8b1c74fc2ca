//! Interactions and application commands: the initial callback (within 3 s of the interaction,
//! else 10062), the original response and followups (token valid 15 min, else 10015), and
//! command registration (bulk overwrite, upsert). Deadlines run on the fake clock
//! (receiving-and-responding.mdx, Responding to an Interaction / Followup Messages).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::rest::{Answer, Incoming, refuse_with};
use super::{APP_ID, Inner, InteractionState, bot_user, messages};

/// Time to send the initial response.
pub const RESPONSE_DEADLINE: Duration = Duration::from_secs(3);
/// How long the interaction token takes followups and edits.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);

impl InteractionState {
    pub(crate) fn new(
        id: u64,
        channel_id: u64,
        guild_id: Option<u64>,
        user: Value,
        sent_at: Instant,
    ) -> InteractionState {
        InteractionState {
            id,
            channel_id,
            guild_id,
            user,
            sent_at,
            acknowledged: false,
            responses: Vec::new(),
            original_message_id: None,
        }
    }
}

/// Whether the interaction token still takes followups and edits.
pub(super) fn token_alive(inner: &Inner, state: &InteractionState) -> bool {
    inner.now().duration_since(state.sent_at) <= TOKEN_LIFETIME
}

pub(super) fn original_response(inner: &mut Inner, incoming: &Incoming) -> Answer {
    let token = incoming.param("webhook_token").to_string();
    if incoming.id_param("webhook_id") != APP_ID {
        return Answer::error(404, 10015, "Unknown Webhook");
    }
    let Some(state) = inner.interactions.get(&token).cloned() else {
        return Answer::error(401, 50027, "Invalid Webhook Token");
    };
    if !token_alive(inner, &state) {
        return refuse_with(inner, &incoming.label, 404, 10015, "Unknown Webhook");
    }
    let Some(message_id) = state.original_message_id else {
        // Editing before the callback: Discord has no original message yet.
        return Answer::error(404, 10008, "Unknown Message");
    };
    let answer = match incoming.method.as_str() {
        "GET" => match messages::find_message(inner, state.channel_id, message_id) {
            Some(m) => Answer::json(200, m.clone()),
            None => Answer::error(404, 10008, "Unknown Message"),
        },
        "PATCH" => messages::edit_message(inner, incoming, state.channel_id, message_id),
        "DELETE" => messages::delete_message(inner, state.channel_id, message_id),
        _ => Answer::error(405, 0, "405: Method Not Allowed"),
    };
    if incoming.method == "PATCH"
        && answer.status == 200
        && let Some(i) = inner.interactions.get_mut(&token)
    {
        i.responses
            .push(incoming.body.clone().unwrap_or(Value::Null));
    }
    answer
}

pub(super) fn interaction_callback(inner: &mut Inner, incoming: &Incoming) -> Answer {
    let token = incoming.param("interaction_token").to_string();
    let id = incoming.id_param("interaction_id");
    let Some(state) = inner
        .interactions
        .get(&token)
        .cloned()
        .filter(|s| s.id == id)
    else {
        return Answer::error(404, 10062, "Unknown interaction");
    };
    if state.acknowledged {
        return Answer::error(400, 40060, "Interaction has already been acknowledged.");
    }
    if inner.now().duration_since(state.sent_at) > RESPONSE_DEADLINE {
        return refuse_with(inner, &incoming.label, 404, 10062, "Unknown interaction");
    }
    let kind = incoming
        .body_field("type")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    // Types 4 (message) and 5 (deferred) create the original response message.
    let original = if kind == 4 || kind == 5 {
        let data = incoming.body_field("data").cloned();
        let mid = inner.snowflake();
        let mut message =
            messages::message_object(inner, mid, state.channel_id, bot_user(), data.as_ref());
        message["type"] = json!(20);
        let owner = state
            .guild_id
            .map_or_else(|| json!({}), |g| json!({"0": g.to_string()}));
        message["interaction_metadata"] = json!({"id": id.to_string(), "type": 2, "user": state.user.clone(), "authorizing_integration_owners": owner});
        if kind == 5 {
            // The "thinking" placeholder carries the LOADING flag (128).
            let flags = message["flags"].as_u64().unwrap_or(0) | 128;
            message["flags"] = json!(flags);
        }
        if let Some(g) = state.guild_id {
            message["guild_id"] = json!(g.to_string());
        }
        inner
            .channels
            .entry(state.channel_id)
            .or_default()
            .push(message);
        Some(mid)
    } else {
        None
    };
    if let Some(s) = inner.interactions.get_mut(&token) {
        s.acknowledged = true;
        s.original_message_id = original;
        s.responses
            .push(incoming.body.clone().unwrap_or(Value::Null));
    }
    Answer::empty(204)
}

fn command_object(inner: &mut Inner, cmd: &Value, guild: Option<u64>) -> Value {
    let mut c = cmd.clone();
    c["id"] = json!(inner.snowflake().to_string());
    c["application_id"] = json!(APP_ID.to_string());
    c["version"] = json!(inner.snowflake().to_string());
    if c.get("type").is_none_or(Value::is_null) {
        c["type"] = json!(1);
    }
    if c.get("description").is_none_or(Value::is_null) {
        c["description"] = json!("");
    }
    if let Some(g) = guild {
        c["guild_id"] = json!(g.to_string());
    }
    c
}

fn check_app(incoming: &Incoming) -> Option<Answer> {
    (incoming.id_param("application_id") != APP_ID)
        .then(|| Answer::error(403, 50001, "Missing Access"))
}

pub(super) fn put_commands(inner: &mut Inner, incoming: &Incoming, guild: Option<u64>) -> Answer {
    if let Some(a) = check_app(incoming) {
        return a;
    }
    let list: Vec<Value> = incoming
        .body
        .as_ref()
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let stored: Vec<Value> = list
        .iter()
        .map(|c| command_object(inner, c, guild))
        .collect();
    match guild {
        Some(g) => {
            inner.guild_commands.insert(g, stored.clone());
        }
        None => inner.global_commands = stored.clone(),
    }
    Answer::json(200, Value::Array(stored))
}

pub(super) fn post_command(inner: &mut Inner, incoming: &Incoming, guild: Option<u64>) -> Answer {
    if let Some(a) = check_app(incoming) {
        return a;
    }
    let Some(body) = incoming.body.clone() else {
        return Answer::error(400, 50035, "Invalid Form Body");
    };
    let stored = command_object(inner, &body, guild);
    let list = match guild {
        Some(g) => inner.guild_commands.entry(g).or_default(),
        None => &mut inner.global_commands,
    };
    // POST is an upsert by name.
    list.retain(|c| c.get("name") != stored.get("name"));
    list.push(stored.clone());
    Answer::json(201, stored)
}
