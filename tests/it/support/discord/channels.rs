//! Channels and threads: Get Channel, forum posts (Start Thread in Forum), forums that require
//! tags, and the gates that archived, locked and deleted threads put on posts and edits
//! (threads.mdx: "Sending a message will automatically unarchive the thread, unless the thread
//! has been locked"; users without MANAGE_THREADS cannot create or update messages in locked
//! threads; messages in archived threads cannot be edited).

use serde_json::{Value, json};

use super::openapi::Spec;
use super::rest::{Answer, Incoming, refuse, refuse_with};
use super::{GUILD_ID, Inner, bot_user, limits, messages};

/// REQUIRE_TAG channel flag (channel.mdx, Channel Flags).
const REQUIRE_TAG: u64 = 1 << 4;
/// Channel types (channel.mdx): GUILD_TEXT, PUBLIC_THREAD, GUILD_FORUM.
const GUILD_TEXT: u64 = 0;
const PUBLIC_THREAD: u64 = 11;
const GUILD_FORUM: u64 = 15;
/// Three days, Discord's default for forum posts' auto-archive.
const AUTO_ARCHIVE_MINUTES: u64 = 4320;

#[derive(Debug, Clone, Default)]
pub(crate) struct Forum {
    pub require_tag: bool,
    /// `available_tags` as (id, name).
    pub tags: Vec<(u64, String)>,
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ThreadState {
    pub archived: bool,
    pub locked: bool,
}

fn find_thread(inner: &Inner, id: u64) -> Option<&(u64, Value)> {
    let want = id.to_string();
    inner.threads.iter().find(|(_, t)| t["id"] == want.as_str())
}

/// Rewrites a stored thread's `thread_metadata` after its state changed.
pub(crate) fn sync_thread(inner: &mut Inner, id: u64) {
    let state = inner.thread_states.get(&id).copied().unwrap_or_default();
    let timestamp = inner.timestamp();
    let want = id.to_string();
    if let Some((_, thread)) = inner
        .threads
        .iter_mut()
        .find(|(_, t)| t["id"] == want.as_str())
    {
        thread["thread_metadata"]["archived"] = json!(state.archived);
        thread["thread_metadata"]["locked"] = json!(state.locked);
        thread["thread_metadata"]["archive_timestamp"] = json!(timestamp);
    }
}

/// Get Channel: a forum (type 15 with `flags` and `available_tags`), a thread the fake knows
/// (type 11 with `thread_metadata`), or a text channel.
pub(super) fn get_channel(inner: &mut Inner, incoming: &Incoming) -> Answer {
    let id = incoming.id_param("channel_id");
    if let Some((_, thread)) = find_thread(inner, id) {
        return Answer::json(200, thread.clone());
    }
    let mut channel = json!({
        "id": id.to_string(), "guild_id": GUILD_ID.to_string(), "name": format!("channel-{id}"),
        "position": 0, "parent_id": null, "permission_overwrites": [], "nsfw": false,
        "rate_limit_per_user": 0,
    });
    match inner.forums.get(&id) {
        Some(forum) => {
            let tags: Vec<Value> = forum
                .tags
                .iter()
                .map(|(tag, name)| {
                    json!({"id": tag.to_string(), "name": name, "moderated": false,
                        "emoji_id": null, "emoji_name": null})
                })
                .collect();
            channel["type"] = json!(GUILD_FORUM);
            channel["flags"] = json!(if forum.require_tag { REQUIRE_TAG } else { 0 });
            channel["available_tags"] = json!(tags);
            channel["default_auto_archive_duration"] = json!(AUTO_ARCHIVE_MINUTES);
            channel["default_reaction_emoji"] = Value::Null;
            channel["default_sort_order"] = Value::Null;
            channel["default_forum_layout"] = json!(0);
        }
        None => {
            channel["type"] = json!(GUILD_TEXT);
            channel["flags"] = json!(0);
            channel["topic"] = Value::Null;
            channel["last_message_id"] = inner
                .channels
                .get(&id)
                .and_then(|l| l.last())
                .map_or(Value::Null, |m| m["id"].clone());
        }
    }
    Answer::json(200, channel)
}

/// A forum refuses a post without a tag when it requires one (40067), and tags it does not
/// have (Discord documents no code for the latter; the fake answers 50035 on `applied_tags`).
pub(super) fn tags_refusal(
    inner: &mut Inner,
    forum_id: u64,
    applied: Option<&Value>,
    label: &str,
) -> Option<Answer> {
    let forum = inner.forums.get(&forum_id)?.clone();
    let applied: Vec<&str> = applied
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let unknown: Vec<limits::FormError> = applied
        .iter()
        .enumerate()
        .filter(|(_, id)| !forum.tags.iter().any(|(tag, _)| tag.to_string() == **id))
        .map(|(i, id)| limits::FormError {
            path: vec!["applied_tags".to_string(), i.to_string()],
            code: "UNKNOWN_TAG",
            message: format!("Unknown tag {id} in this forum"),
        })
        .collect();
    if !unknown.is_empty() {
        return Some(refuse(inner, label, &limits::Refusal::Form(unknown)));
    }
    if forum.require_tag && applied.is_empty() {
        return Some(refuse_with(
            inner,
            label,
            400,
            40067,
            "A tag is required to create a forum post in this channel",
        ));
    }
    None
}

/// Registers a new post (public thread) in `forum` and returns its thread object.
pub(super) fn new_post(
    inner: &mut Inner,
    forum: u64,
    id: u64,
    name: Value,
    applied: Option<&Value>,
) -> Value {
    let timestamp = inner.timestamp();
    let thread = json!({
        "id": id.to_string(), "type": PUBLIC_THREAD, "guild_id": GUILD_ID.to_string(),
        "parent_id": forum.to_string(), "name": name, "owner_id": bot_user()["id"].clone(),
        "last_message_id": id.to_string(), "message_count": 0, "member_count": 1,
        "rate_limit_per_user": 0, "flags": 0, "total_message_sent": 0,
        "applied_tags": applied.cloned().filter(|v| !v.is_null()).unwrap_or(json!([])),
        "thread_metadata": {
            "archived": false, "archive_timestamp": timestamp.clone(),
            "auto_archive_duration": AUTO_ARCHIVE_MINUTES, "locked": false,
            "create_timestamp": timestamp,
        },
    });
    inner.threads.push((forum, thread.clone()));
    inner.thread_states.insert(id, ThreadState::default());
    thread
}

/// Start Thread in Forum: the body must be a forum post (`name` and a starter `message`, the
/// message within message limits), tags as the forum requires. Only forums take posts here (a
/// thread without a message from a text channel is not something newsdesk does).
pub(super) fn create_thread(inner: &mut Inner, spec: &Spec, incoming: &Incoming) -> Answer {
    let forum = incoming.id_param("channel_id");
    if !inner.forums.contains_key(&forum) {
        return Answer::error(400, 50024, "Cannot execute action on this channel type");
    }
    let body = incoming.body.clone().unwrap_or(Value::Null);
    // The spec's request body is "forum post OR text thread"; a forum takes only the first.
    let problems: Vec<String> = spec
        .check_value("/components/schemas/CreateForumThreadRequest", &body)
        .into_iter()
        .map(|e| format!("body{e}"))
        .collect();
    if !problems.is_empty() {
        let label = &incoming.label;
        inner
            .violations
            .extend(problems.iter().map(|p| format!("{label}: forum post: {p}")));
        let errors: Vec<Value> = problems
            .iter()
            .map(|p| json!({"code": "FAKE_SPEC_MISMATCH", "message": p}))
            .collect();
        return Answer::json(
            400,
            json!({"code": 50035, "message": "Invalid Form Body", "errors": {"_errors": errors}}),
        );
    }
    let applied = body.get("applied_tags");
    if let Some(refused) = tags_refusal(inner, forum, applied, &incoming.label) {
        return refused;
    }
    let message_body = body.get("message").cloned().unwrap_or(Value::Null);
    let id = inner.snowflake();
    let mut message = messages::message_object(inner, id, id, bot_user(), Some(&message_body));
    message["guild_id"] = json!(GUILD_ID.to_string());
    inner.channels.entry(id).or_default().push(message.clone());
    let name = body.get("name").cloned().unwrap_or(json!(""));
    let mut thread = new_post(inner, forum, id, name, applied);
    thread["message"] = message;
    Answer::json(201, thread)
}

/// Before a new message in `channel`: a locked thread refuses (403 160005); an archived one is
/// unarchived by the message. Not violations: a moderator did it, the bot has to cope.
pub(super) fn post_gate(inner: &mut Inner, channel: u64) -> Option<Answer> {
    let state = inner.thread_states.get_mut(&channel)?;
    if state.locked {
        return Some(Answer::error(403, 160005, "Thread is locked"));
    }
    if state.archived {
        state.archived = false;
        sync_thread(inner, channel);
    }
    None
}

/// Before an edit in `channel`: locked → 403 160005, archived → 400 50083.
pub(super) fn edit_gate(inner: &Inner, channel: u64) -> Option<Answer> {
    let state = inner.thread_states.get(&channel)?;
    if state.locked {
        Some(Answer::error(403, 160005, "Thread is locked"))
    } else if state.archived {
        Some(Answer::error(400, 50083, "Thread is archived"))
    } else {
        None
    }
}

/// Before a deletion in `channel`: allowed in archived threads, but not in locked ones that are
/// also archived (threads.mdx, Locked Threads).
pub(super) fn delete_gate(inner: &Inner, channel: u64) -> Option<Answer> {
    let state = inner.thread_states.get(&channel)?;
    (state.locked && state.archived).then(|| Answer::error(403, 160005, "Thread is locked"))
}
