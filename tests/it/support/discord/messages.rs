//! Messages: create (with `enforce_nonce` deduplication inside a window), list newest first,
//! get, edit, delete, and webhook executions and edits. Message objects are stored the way
//! Discord returns them when fetched (no `nonce`: Discord echoes it only on create).

use std::time::Instant;

use serde_json::{Value, json};

use super::rest::{Answer, Incoming, refuse, refuse_with};
use super::{APP_ID, GUILD_ID, Inner, bot_user, channels, limits, user_object};

/// A message created with a nonce, for `enforce_nonce` deduplication.
#[derive(Debug, Clone)]
pub(crate) struct NonceRecord {
    message_id: u64,
    at: Instant,
}

/// EPHEMERAL message flag: such messages are never listed in the channel.
const EPHEMERAL: u64 = 1 << 6;

/// Default `limit` of Get Channel Messages (message.mdx).
const DEFAULT_LIST_LIMIT: usize = 50;

/// A message object the way Discord returns it, built from a create/execute body.
pub(super) fn message_object(
    inner: &Inner,
    id: u64,
    channel_id: u64,
    author: Value,
    body: Option<&Value>,
) -> Value {
    let field = |name: &str| body.and_then(|b| b.get(name)).filter(|v| !v.is_null());
    let content = field("content")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let pings = pings(&content, field("allowed_mentions"));
    let embeds: Vec<Value> = field("embeds")
        .and_then(Value::as_array)
        .map(|list| list.iter().map(rich_embed).collect())
        .unwrap_or_default();
    json!({
        "id": id.to_string(), "channel_id": channel_id.to_string(), "author": author,
        "content": content, "timestamp": inner.timestamp(), "edited_timestamp": null,
        "tts": field("tts").and_then(Value::as_bool).unwrap_or(false),
        "mention_everyone": pings.everyone, "mentions": pings.users, "mention_roles": pings.roles,
        "attachments": [], "embeds": embeds, "reactions": [], "pinned": false, "type": 0,
        "flags": field("flags").cloned().unwrap_or(json!(0)),
        "components": field("components").cloned().unwrap_or(json!([])),
    })
}

fn rich_embed(embed: &Value) -> Value {
    let mut e = embed.clone();
    if e.get("type").is_none_or(Value::is_null) {
        e["type"] = json!("rich");
    }
    e
}

fn message_id(message: &Value) -> u64 {
    message["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The nonce of a create body as a map key (its JSON text: `"a"` and `1` differ).
fn nonce_key(incoming: &Incoming) -> Option<String> {
    incoming
        .body_field("nonce")
        .filter(|n| !n.is_null())
        .map(Value::to_string)
}

/// The create answer: the stored message plus the `nonce` Discord echoes on create.
fn with_nonce(mut message: Value, incoming: &Incoming) -> Value {
    if let Some(nonce) = incoming.body_field("nonce").filter(|n| !n.is_null()) {
        message["nonce"] = nonce.clone();
    }
    message
}

pub(super) fn create_channel_message(inner: &mut Inner, incoming: &Incoming) -> Answer {
    let channel_id = incoming.id_param("channel_id");
    if inner.forums.contains_key(&channel_id) {
        return Answer::error(400, 50008, "Cannot send messages in a non-text channel");
    }
    if let Some(refused) = channels::post_gate(inner, channel_id) {
        return refused;
    }
    let enforce = incoming
        .body_field("enforce_nonce")
        .and_then(Value::as_bool)
        == Some(true);
    let key = nonce_key(incoming).map(|n| (channel_id, n));
    if enforce
        && let Some(record) = key.as_ref().and_then(|k| inner.nonces.get(k))
        && inner.now().duration_since(record.at) < inner.nonce_window
    {
        // Within the window Discord returns the earlier message, and does not recreate one
        // that was deleted since (discord-api-docs PR #6647).
        return match find_message(inner, channel_id, record.message_id) {
            Some(m) => Answer::json(200, with_nonce(m.clone(), incoming)),
            None => Answer::error(404, 10008, "Unknown Message"),
        };
    }
    let id = inner.snowflake();
    let mut message = message_object(inner, id, channel_id, bot_user(), incoming.body.as_ref());
    message["guild_id"] = json!(GUILD_ID.to_string());
    if let Some(key) = key {
        let at = inner.now();
        inner.nonces.insert(key, NonceRecord { message_id: id, at });
    }
    inner
        .channels
        .entry(channel_id)
        .or_default()
        .push(message.clone());
    Answer::json(200, with_nonce(message, incoming))
}

/// Get Channel Messages: newest first, `limit` (default 50) with one of `before`, `after` or
/// `around`. Ephemeral interaction replies are not part of the channel.
pub(super) fn list_messages(inner: &mut Inner, incoming: &Incoming) -> Answer {
    let anchors: Vec<(&str, u64)> = ["before", "after", "around"]
        .into_iter()
        .filter_map(|k| incoming.query_id(k).map(|v| (k, v)))
        .collect();
    if anchors.len() > 1 {
        // message.mdx: "The before, after, and around parameters are mutually exclusive".
        let refusal = limits::Refusal::Form(vec![limits::FormError {
            path: vec![anchors[1].0.to_string()],
            code: "BASE_TYPE_INVALID",
            message: "before, after and around are mutually exclusive".to_string(),
        }]);
        return refuse(inner, &incoming.label, &refusal);
    }
    let limit = incoming
        .query_value("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(DEFAULT_LIST_LIMIT);
    let mut list: Vec<&Value> = inner
        .channels
        .get(&incoming.id_param("channel_id"))
        .map(|l| {
            l.iter()
                .filter(|m| m["flags"].as_u64().unwrap_or(0) & EPHEMERAL == 0)
                .collect()
        })
        .unwrap_or_default();
    list.sort_by_key(|m| message_id(m));
    let picked: Vec<&Value> = match anchors.first() {
        Some(("after", after)) => list
            .into_iter()
            .filter(|m| message_id(m) > *after)
            .take(limit)
            .collect(),
        Some(("before", before)) => {
            let older: Vec<&Value> = list
                .into_iter()
                .filter(|m| message_id(m) < *before)
                .collect();
            older[older.len().saturating_sub(limit)..].to_vec()
        }
        Some((_, around)) => {
            let pos = list.partition_point(|m| message_id(m) < *around);
            let start = pos.saturating_sub(limit / 2);
            list.into_iter().skip(start).take(limit).collect()
        }
        None => list[list.len().saturating_sub(limit)..].to_vec(),
    };
    let newest_first: Vec<Value> = picked.into_iter().rev().cloned().collect();
    Answer::json(200, Value::Array(newest_first))
}

pub(super) fn find_message(inner: &Inner, channel_id: u64, id: u64) -> Option<&Value> {
    let want = id.to_string();
    inner
        .channels
        .get(&channel_id)?
        .iter()
        .find(|m| m["id"] == want.as_str())
}

pub(super) fn edit_message(
    inner: &mut Inner,
    incoming: &Incoming,
    channel_id: u64,
    id: u64,
) -> Answer {
    let want = id.to_string();
    let timestamp = inner.timestamp();
    let Some(message) = inner
        .channels
        .get_mut(&channel_id)
        .and_then(|list| list.iter_mut().find(|m| m["id"] == want.as_str()))
    else {
        return Answer::error(404, 10008, "Unknown Message");
    };
    let mut edited = message.clone();
    apply_edit(&mut edited, incoming.body.as_ref(), timestamp);
    let touches_content = ["content", "embeds", "components"]
        .iter()
        .any(|k| incoming.body_field(k).is_some());
    if touches_content && limits::is_empty_message(&edited) {
        return refuse(inner, &incoming.label, &limits::Refusal::Empty);
    }
    *message = edited;
    Answer::json(200, message.clone())
}

fn apply_edit(message: &mut Value, body: Option<&Value>, timestamp: String) {
    let Some(fields) = body.and_then(Value::as_object) else {
        return;
    };
    for (key, value) in fields {
        match key.as_str() {
            "content" => {
                let content = value.as_str().unwrap_or("").to_string();
                let pings = pings(&content, fields.get("allowed_mentions"));
                message["content"] = json!(content);
                message["mention_everyone"] = json!(pings.everyone);
                message["mentions"] = pings.users;
                message["mention_roles"] = pings.roles;
            }
            "embeds" => {
                let embeds: Vec<Value> = value
                    .as_array()
                    .map(|l| l.iter().map(rich_embed).collect())
                    .unwrap_or_default();
                message["embeds"] = json!(embeds);
            }
            "components" | "flags" => message[key.as_str()] = value.clone(),
            _ => {}
        }
    }
    message["edited_timestamp"] = json!(timestamp);
}

pub(super) fn delete_message(inner: &mut Inner, channel_id: u64, id: u64) -> Answer {
    let want = id.to_string();
    let Some(list) = inner.channels.get_mut(&channel_id) else {
        return Answer::error(404, 10008, "Unknown Message");
    };
    let before = list.len();
    list.retain(|m| m["id"] != want.as_str());
    if list.len() == before {
        Answer::error(404, 10008, "Unknown Message")
    } else {
        Answer::empty(204)
    }
}

/// The channel a webhook (or an interaction's followup webhook) posts into.
fn webhook_channel(inner: &mut Inner, incoming: &Incoming) -> Result<u64, Answer> {
    let (id, token) = (
        incoming.id_param("webhook_id"),
        incoming.param("webhook_token"),
    );
    if id == APP_ID {
        return match inner.interactions.get(token).cloned() {
            Some(i) if !super::interactions::token_alive(inner, &i) => Err(refuse_with(
                inner,
                &incoming.label,
                404,
                10015,
                "Unknown Webhook",
            )),
            Some(i) if i.acknowledged => Ok(i.channel_id),
            Some(_) => Err(Answer::error(404, 10015, "Unknown Webhook")),
            None => Err(Answer::error(401, 50027, "Invalid Webhook Token")),
        };
    }
    match inner.webhooks.get(&id) {
        Some(w) if w.token == token => Ok(w.channel_id),
        Some(_) => Err(Answer::error(401, 50027, "Invalid Webhook Token")),
        None => Err(Answer::error(404, 10015, "Unknown Webhook")),
    }
}

/// Where a webhook message goes: `?thread_id=`, a new forum post (`thread_name`), or the
/// webhook's channel; true when it opened a new post.
fn webhook_target(
    inner: &mut Inner,
    incoming: &Incoming,
    channel_id: u64,
) -> Result<(u64, bool), Answer> {
    let thread = incoming.query_id("thread_id");
    let thread_name = incoming.body_field("thread_name").filter(|v| !v.is_null());
    let is_forum = inner.forums.contains_key(&channel_id);
    let label = &incoming.label;
    match (thread, thread_name) {
        (Some(_), Some(_)) if is_forum => Err(refuse_with(
            inner,
            label,
            400,
            220002,
            "Webhooks posted to forum channels cannot have both a thread_name and thread_id",
        )),
        (Some(thread), _) => {
            if inner.deleted.contains(&thread) {
                return Err(Answer::error(404, 10003, "Unknown Channel"));
            }
            match channels::post_gate(inner, thread) {
                Some(refused) => Err(refused),
                None => Ok((thread, false)),
            }
        }
        (None, Some(_)) if !is_forum => Err(refuse_with(
            inner,
            label,
            400,
            220003,
            "Webhooks can only create threads in forum channels",
        )),
        (None, Some(name)) => {
            let applied = incoming.body_field("applied_tags");
            if let Some(refused) = channels::tags_refusal(inner, channel_id, applied, label) {
                return Err(refused);
            }
            let id = inner.snowflake();
            let (name, applied) = (name.clone(), applied.cloned());
            channels::new_post(inner, channel_id, id, name, applied.as_ref());
            Ok((id, true))
        }
        (None, None) if is_forum => Err(Answer::error(
            400,
            220001,
            "Webhooks posted to forum channels must have a thread_name or thread_id",
        )),
        (None, None) => Ok((channel_id, false)),
    }
}

/// Get Webhook with Token: the webhook object without its user (webhook.mdx).
pub(super) fn get_webhook(inner: &mut Inner, incoming: &Incoming) -> Answer {
    let channel_id = match webhook_channel(inner, incoming) {
        Ok(ch) => ch,
        Err(a) => return a,
    };
    let id = incoming.id_param("webhook_id");
    Answer::json(
        200,
        json!({
            "id": id.to_string(), "type": 1, "guild_id": GUILD_ID.to_string(),
            "channel_id": channel_id.to_string(), "name": "newsdesk", "avatar": null,
            "application_id": null, "token": incoming.param("webhook_token"),
        }),
    )
}

pub(super) fn execute_webhook(inner: &mut Inner, incoming: &Incoming) -> Answer {
    let channel_id = match webhook_channel(inner, incoming) {
        Ok(ch) => ch,
        Err(a) => return a,
    };
    let webhook_id = incoming.id_param("webhook_id");
    let is_followup = webhook_id == APP_ID;
    let author = if is_followup {
        bot_user()
    } else {
        let name = incoming
            .body_field("username")
            .and_then(Value::as_str)
            .unwrap_or("Captain Hook");
        let mut u = user_object(webhook_id, name);
        u["bot"] = json!(true);
        u
    };
    let (channel_id, new_post) = match webhook_target(inner, incoming, channel_id) {
        Ok(target) => target,
        Err(a) => return a,
    };
    // A new forum post's starter message has the thread's id.
    let id = if new_post {
        channel_id
    } else {
        inner.snowflake()
    };
    let mut message = message_object(inner, id, channel_id, author, incoming.body.as_ref());
    if !is_followup {
        message["webhook_id"] = json!(webhook_id.to_string());
    }
    inner
        .channels
        .entry(channel_id)
        .or_default()
        .push(message.clone());
    if is_followup && let Some(i) = inner.interactions.get_mut(incoming.param("webhook_token")) {
        i.responses
            .push(incoming.body.clone().unwrap_or(Value::Null));
    }
    // Without `wait=true` Discord answers 204 and no message object.
    if is_followup || incoming.query_flag("wait") {
        Answer::json(200, message)
    } else {
        Answer::empty(204)
    }
}

/// Edit Webhook Message (`?thread_id=` for a message in a thread).
pub(super) fn edit_webhook_message(inner: &mut Inner, incoming: &Incoming) -> Answer {
    let channel_id = match webhook_channel(inner, incoming) {
        Ok(ch) => ch,
        Err(a) => return a,
    };
    let channel_id = incoming.query_id("thread_id").unwrap_or(channel_id);
    if inner.deleted.contains(&channel_id) {
        return Answer::error(404, 10003, "Unknown Channel");
    }
    if let Some(refused) = channels::edit_gate(inner, channel_id) {
        return refused;
    }
    edit_message(inner, incoming, channel_id, incoming.id_param("message_id"))
}

/// Who a message pings, following `allowed_mentions` (absent = Discord parses everything).
pub(crate) struct Pings {
    pub everyone: bool,
    pub users: Value,
    pub roles: Value,
}

pub(crate) fn pings(content: &str, allowed: Option<&Value>) -> Pings {
    let parse: Vec<&str> = match allowed {
        None => vec!["users", "roles", "everyone"],
        Some(a) => a
            .get("parse")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default(),
    };
    let listed = |key: &str, id: &str| {
        allowed
            .and_then(|a| a.get(key))
            .and_then(Value::as_array)
            .is_some_and(|l| l.iter().any(|v| v.as_str() == Some(id)))
    };
    let everyone =
        parse.contains(&"everyone") && (content.contains("@everyone") || content.contains("@here"));
    let (mut users, mut roles) = (Vec::new(), Vec::new());
    let re = regex::Regex::new(r"<@([!&]?)(\d+)>").unwrap_or_else(|e| panic!("mention regex: {e}"));
    for cap in re.captures_iter(content) {
        let (sigil, id) = (
            cap.get(1).map_or("", |m| m.as_str()),
            cap.get(2).map_or("", |m| m.as_str()),
        );
        if sigil == "&" {
            if parse.contains(&"roles") || listed("roles", id) {
                roles.push(json!(id));
            }
        } else if parse.contains(&"users") || listed("users", id) {
            users.push(user_object(id.parse().unwrap_or(0), "someone"));
        }
    }
    Pings {
        everyone,
        users: Value::Array(users),
        roles: Value::Array(roles),
    }
}
