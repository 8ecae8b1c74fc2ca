//! The REST side: every request is parsed, validated against the spec, recorded, then answered
//! by a scripted failure, the rate limiter or a Discord-shaped canned answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

use super::openapi::{Operation, Spec};
use super::{
    APP_ID, Bucket, Failure, GUILD_ID, Inner, InteractionState, RecordedRequest, Shared, TOKEN,
    bot_user, user_object,
};

const API_PREFIX: &str = "/api/v10";

#[derive(Clone)]
struct Ctx {
    shared: Arc<Shared>,
    spec: &'static Spec,
}

pub(crate) fn router(shared: Arc<Shared>, spec: &'static Spec) -> Router {
    Router::new()
        .fallback(handle)
        .with_state(Ctx { shared, spec })
}

/// What the fake answers: status, JSON body (None = empty), extra headers.
struct Answer {
    status: u16,
    body: Option<Value>,
    headers: Vec<(String, String)>,
}

impl Answer {
    fn json(status: u16, body: Value) -> Answer {
        Answer {
            status,
            body: Some(body),
            headers: Vec::new(),
        }
    }
    fn empty(status: u16) -> Answer {
        Answer {
            status,
            body: None,
            headers: Vec::new(),
        }
    }
    fn error(status: u16, code: i64, message: &str) -> Answer {
        Answer::json(status, json!({"code": code, "message": message}))
    }
}

/// The parts of a request the answer functions look at.
struct Incoming {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Value>,
    op: Option<Operation>,
}

impl Incoming {
    fn param(&self, name: &str) -> &str {
        self.op
            .as_ref()
            .and_then(|op| op.path_params.iter().find(|(n, _)| n == name))
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
    fn id_param(&self, name: &str) -> u64 {
        self.param(name).parse().unwrap_or(0)
    }
    fn query_flag(&self, name: &str) -> bool {
        self.query.iter().any(|(k, v)| k == name && v == "true")
    }
    fn body_field(&self, name: &str) -> Option<&Value> {
        self.body.as_ref().and_then(|b| b.get(name))
    }
}

async fn handle(
    State(ctx): State<Ctx>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let answer = process(&ctx, method.as_str(), &uri, &headers, &body);
    ctx.shared.changed.notify_waiters();
    into_response(answer)
}

fn process(ctx: &Ctx, method: &str, uri: &Uri, headers: &HeaderMap, raw_body: &[u8]) -> Answer {
    let header_list: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let content_type = header_list
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| v.clone());
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .filter(|(k, _)| !k.is_empty())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    let mut problems = Vec::new();
    let path = match uri.path().strip_prefix(API_PREFIX) {
        Some(p) => p.to_string(),
        None => {
            problems.push(format!("path {} is not under {API_PREFIX}", uri.path()));
            uri.path().to_string()
        }
    };
    let body = parse_body(raw_body, content_type.as_deref(), &mut problems);
    let op = ctx.spec.find(method, &path);
    let label = match &op {
        Some(op) => format!("{method} {}", op.template),
        None => {
            problems.push("no such route in Discord's API".to_string());
            format!("{method} {path}")
        }
    };
    if let Some(op) = &op {
        problems.extend(
            ctx.spec
                .check_request(op, &query, content_type.as_deref(), body.as_ref()),
        );
    }
    let auth = header_list
        .iter()
        .find(|(k, _)| k == "authorization")
        .map(|(_, v)| v.as_str());
    let incoming = Incoming {
        method: method.to_string(),
        path,
        query,
        body,
        op,
    };

    let mut inner = ctx.shared.lock();
    inner
        .violations
        .extend(problems.iter().map(|p| format!("{label}: {p}")));
    let answer = if incoming.op.is_none() {
        Answer::error(404, 0, "404: Not Found")
    } else if !problems.is_empty() {
        invalid_form_body(&problems)
    } else if !auth_ok(ctx.spec, &incoming, auth) {
        Answer::error(401, 0, "401: Unauthorized")
    } else if let Some(failure) = take_failure(&mut inner, &incoming) {
        failure_answer(&failure)
    } else if let Some(limited) = rate_limit(&mut inner, &incoming, &label) {
        limited
    } else {
        let mut a = canned_answer(&mut inner, &incoming, &label);
        a.headers.extend(bucket_headers(&inner, &incoming));
        a
    };
    let at = inner.started.elapsed();
    inner.requests.push(RecordedRequest {
        method: incoming.method.clone(),
        path: incoming.path.clone(),
        template: incoming.op.as_ref().map(|o| o.template.clone()),
        query: incoming.query.clone(),
        headers: header_list,
        body: incoming.body.clone(),
        status: answer.status,
        at,
    });
    answer
}

/// Discord's answer to a body that fails validation: 400 with code 50035.
fn invalid_form_body(problems: &[String]) -> Answer {
    let errors: Vec<Value> = problems
        .iter()
        .map(|p| json!({"code": "FAKE_SPEC_MISMATCH", "message": p}))
        .collect();
    Answer::json(
        400,
        json!({"code": 50035, "message": "Invalid Form Body", "errors": {"_errors": errors}}),
    )
}

fn parse_body(raw: &[u8], content_type: Option<&str>, problems: &mut Vec<String>) -> Option<Value> {
    if raw.is_empty() {
        return None;
    }
    let boundary = content_type
        .filter(|c| c.starts_with("multipart/form-data"))
        .and_then(|c| c.split("boundary=").nth(1))
        .map(|b| b.trim_matches('"').to_string());
    let json = match &boundary {
        Some(boundary) => match payload_json(raw, boundary) {
            Ok(json) => json,
            Err(problem) => {
                problems.push(problem);
                return None;
            }
        },
        None => raw.to_vec(),
    };
    match serde_json::from_slice(&json) {
        Ok(v) => Some(v),
        Err(e) => {
            problems.push(format!("body is not JSON: {e}"));
            None
        }
    }
}

/// The `payload_json` part of a multipart body (serenity sends forum posts this way). Files are
/// not something newsdesk uploads, so any other part is a violation.
fn payload_json(raw: &[u8], boundary: &str) -> Result<Vec<u8>, String> {
    let text = String::from_utf8_lossy(raw);
    let delimiter = format!("--{boundary}");
    let mut payload = None;
    for part in text.split(delimiter.as_str()).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let Some((head, body)) = part.split_once("\r\n\r\n") else {
            return Err("multipart: a part without headers".into());
        };
        if !head.contains("name=\"payload_json\"") {
            return Err(format!("multipart: unexpected part {:?}", head.trim()));
        }
        payload = Some(
            body.strip_suffix("\r\n")
                .unwrap_or(body)
                .as_bytes()
                .to_vec(),
        );
    }
    payload.ok_or_else(|| "multipart: no payload_json part".into())
}

fn auth_ok(spec: &Spec, incoming: &Incoming, auth: Option<&str>) -> bool {
    let expected = format!("Bot {TOKEN}");
    match auth {
        Some(a) => a == expected,
        None => incoming
            .op
            .as_ref()
            .is_some_and(|op| spec.auth_optional(op)),
    }
}

fn take_failure(inner: &mut Inner, incoming: &Incoming) -> Option<Failure> {
    let template = incoming.op.as_ref().map(|o| o.template.as_str());
    let slot = inner.failures.iter_mut().find(|f| {
        f.remaining > 0
            && (f.method == "*" || f.method == incoming.method)
            && route_matches(&f.route, &incoming.path, template)
    })?;
    slot.remaining = slot.remaining.saturating_sub(1);
    Some(slot.failure.clone())
}

fn route_matches(route: &str, path: &str, template: Option<&str>) -> bool {
    if let Some(prefix) = route.strip_suffix("/*") {
        return path == prefix || path.starts_with(&format!("{prefix}/"));
    }
    route == path || Some(route) == template
}

fn failure_answer(failure: &Failure) -> Answer {
    match failure {
        Failure::RateLimited {
            retry_after,
            global,
        } => {
            let mut a = Answer::json(
                429,
                json!({"message": "You are being rate limited.", "retry_after": retry_after, "global": global}),
            );
            a.headers
                .push(("retry-after".into(), retry_after.to_string()));
            a.headers.push((
                "x-ratelimit-scope".into(),
                if *global { "global" } else { "user" }.into(),
            ));
            if *global {
                a.headers.push(("x-ratelimit-global".into(), "true".into()));
            } else {
                a.headers.push(("x-ratelimit-limit".into(), "5".into()));
                a.headers.push(("x-ratelimit-remaining".into(), "0".into()));
                a.headers.push((
                    "x-ratelimit-reset-after".into(),
                    format!("{retry_after:.3}"),
                ));
            }
            a
        }
        Failure::Json {
            status,
            code,
            message,
        } => Answer::error(*status, *code, message),
        Failure::Status(status) => Answer {
            status: *status,
            body: None,
            headers: Vec::new(),
        },
    }
}

/// Bucket per route template and its first (major) parameter, as Discord scopes limits.
fn bucket_key(incoming: &Incoming) -> String {
    let op = incoming.op.as_ref();
    let template = op.map(|o| o.template.as_str()).unwrap_or("");
    let major = op
        .and_then(|o| o.path_params.first())
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    format!("{} {template} {major}", incoming.method)
}

fn rate_limit(inner: &mut Inner, incoming: &Incoming, label: &str) -> Option<Answer> {
    let (limit, window) = inner.rate_limit;
    let key = bucket_key(incoming);
    let now = Instant::now();
    let bucket = inner.buckets.entry(key).or_insert(Bucket {
        window_start: now,
        used: 0,
    });
    if now.duration_since(bucket.window_start) >= window {
        *bucket = Bucket {
            window_start: now,
            used: 0,
        };
    }
    bucket.used += 1;
    if bucket.used <= limit {
        return None;
    }
    let retry_after = window
        .saturating_sub(now.duration_since(bucket.window_start))
        .as_secs_f64();
    inner.violations.push(format!(
        "{label}: sent beyond the advertised rate limit ({limit} per {window:?})"
    ));
    Some(failure_answer(&Failure::rate_limited(retry_after)))
}

fn bucket_headers(inner: &Inner, incoming: &Incoming) -> Vec<(String, String)> {
    let (limit, window) = inner.rate_limit;
    let key = bucket_key(incoming);
    let Some(bucket) = inner.buckets.get(&key) else {
        return Vec::new();
    };
    let reset_after = window.saturating_sub(bucket.window_start.elapsed());
    let reset_at = std::time::SystemTime::now() + reset_after;
    let reset_epoch = reset_at
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs_f64();
    vec![
        ("x-ratelimit-limit".into(), limit.to_string()),
        (
            "x-ratelimit-remaining".into(),
            limit.saturating_sub(bucket.used).to_string(),
        ),
        ("x-ratelimit-reset".into(), format!("{reset_epoch:.3}")),
        (
            "x-ratelimit-reset-after".into(),
            format!("{:.3}", reset_after.as_secs_f64()),
        ),
        ("x-ratelimit-bucket".into(), format!("{:016x}", fnv(&key))),
    ]
}

/// Stable opaque bucket id (FNV-1a), as Discord's are opaque hashes.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn canned_answer(inner: &mut Inner, incoming: &Incoming, label: &str) -> Answer {
    let template = incoming
        .op
        .as_ref()
        .map(|o| o.template.as_str())
        .unwrap_or("");
    match (incoming.method.as_str(), template) {
        ("GET", "/gateway") => Answer::json(200, json!({"url": inner.gateway.url.clone()})),
        ("GET", "/gateway/bot") => Answer::json(
            200,
            json!({"url": inner.gateway.url.clone(), "shards": 1, "session_start_limit":
                {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}}),
        ),
        ("GET", "/users/@me") => Answer::json(200, bot_user()),
        ("POST", "/channels/{channel_id}/messages") => create_channel_message(inner, incoming),
        ("POST", "/channels/{channel_id}/threads") => create_thread(inner, incoming),
        ("GET", "/channels/{channel_id}/messages/{message_id}") => {
            let (ch, id) = (
                incoming.id_param("channel_id"),
                incoming.id_param("message_id"),
            );
            match find_message(inner, ch, id) {
                Some(m) => Answer::json(200, m.clone()),
                None => Answer::error(404, 10008, "Unknown Message"),
            }
        }
        ("PATCH", "/channels/{channel_id}/messages/{message_id}") => {
            let (ch, id) = (
                incoming.id_param("channel_id"),
                incoming.id_param("message_id"),
            );
            edit_message(inner, ch, id, incoming.body.as_ref())
        }
        ("DELETE", "/channels/{channel_id}/messages/{message_id}") => {
            let (ch, id) = (
                incoming.id_param("channel_id"),
                incoming.id_param("message_id"),
            );
            delete_message(inner, ch, id)
        }
        ("POST", "/webhooks/{webhook_id}/{webhook_token}") => execute_webhook(inner, incoming),
        (_, "/webhooks/{webhook_id}/{webhook_token}/messages/@original") => {
            original_response(inner, incoming)
        }
        ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}") => {
            let id = incoming.id_param("message_id");
            match webhook_channel(inner, incoming) {
                Ok(ch) => edit_message(inner, ch, id, incoming.body.as_ref()),
                Err(a) => a,
            }
        }
        ("POST", "/interactions/{interaction_id}/{interaction_token}/callback") => {
            interaction_callback(inner, incoming)
        }
        ("PUT", "/applications/{application_id}/commands") => put_commands(inner, incoming, None),
        ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands") => {
            let guild = incoming.id_param("guild_id");
            put_commands(inner, incoming, Some(guild))
        }
        ("GET", "/applications/{application_id}/commands") => {
            Answer::json(200, Value::Array(inner.global_commands.clone()))
        }
        ("GET", "/applications/{application_id}/guilds/{guild_id}/commands") => {
            let cmds = inner
                .guild_commands
                .get(&incoming.id_param("guild_id"))
                .cloned()
                .unwrap_or_default();
            Answer::json(200, Value::Array(cmds))
        }
        ("POST", "/applications/{application_id}/commands") => post_command(inner, incoming, None),
        ("POST", "/applications/{application_id}/guilds/{guild_id}/commands") => {
            let guild = incoming.id_param("guild_id");
            post_command(inner, incoming, Some(guild))
        }
        _ => {
            inner.violations.push(format!(
                "{label}: the fake has no canned answer for this operation (extend rest.rs)"
            ));
            Answer::error(500, 0, "fake discord: operation not implemented")
        }
    }
}

fn now_rfc3339() -> String {
    jiff::Timestamp::now().to_string()
}

/// A message object the way Discord returns it, built from a create/execute body.
fn message_object(id: u64, channel_id: u64, author: Value, body: Option<&Value>) -> Value {
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
    let mut m = json!({
        "id": id.to_string(), "channel_id": channel_id.to_string(), "author": author,
        "content": content, "timestamp": now_rfc3339(), "edited_timestamp": null,
        "tts": field("tts").and_then(Value::as_bool).unwrap_or(false),
        "mention_everyone": pings.everyone, "mentions": pings.users, "mention_roles": pings.roles,
        "attachments": [], "embeds": embeds, "reactions": [], "pinned": false, "type": 0,
        "flags": field("flags").cloned().unwrap_or(json!(0)),
        "components": field("components").cloned().unwrap_or(json!([])),
    });
    if let Some(nonce) = field("nonce") {
        m["nonce"] = nonce.clone();
    }
    m
}

fn rich_embed(embed: &Value) -> Value {
    let mut e = embed.clone();
    if e.get("type").is_none_or(Value::is_null) {
        e["type"] = json!("rich");
    }
    e
}

fn create_channel_message(inner: &mut Inner, incoming: &Incoming) -> Answer {
    let channel_id = incoming.id_param("channel_id");
    if inner.forums.contains(&channel_id) {
        return Answer::error(400, 50008, "Cannot send messages in a non-text channel");
    }
    if let Some(existing) = nonce_duplicate(inner, channel_id, incoming) {
        return Answer::json(200, existing);
    }
    let id = inner.snowflake();
    let mut message = message_object(id, channel_id, bot_user(), incoming.body.as_ref());
    message["guild_id"] = json!(GUILD_ID.to_string());
    inner
        .channels
        .entry(channel_id)
        .or_default()
        .push(message.clone());
    Answer::json(200, message)
}

/// A forum post: a public thread (type 11) in the forum whose starter message has the thread's
/// id. Only forums take posts here (a thread without a message from a text channel is not
/// something newsdesk does).
fn create_thread(inner: &mut Inner, incoming: &Incoming) -> Answer {
    let forum = incoming.id_param("channel_id");
    if !inner.forums.contains(&forum) {
        return Answer::error(400, 50024, "Cannot execute action on this channel type");
    }
    let Some(message_body) = incoming.body_field("message").cloned() else {
        return Answer::error(400, 50035, "Invalid Form Body");
    };
    let id = inner.snowflake();
    let mut message = message_object(id, id, bot_user(), Some(&message_body));
    message["guild_id"] = json!(GUILD_ID.to_string());
    inner.channels.entry(id).or_default().push(message.clone());
    let name = incoming.body_field("name").cloned().unwrap_or(json!(""));
    let thread = json!({
        "id": id.to_string(), "type": 11, "guild_id": GUILD_ID.to_string(),
        "parent_id": forum.to_string(), "name": name, "owner_id": bot_user()["id"].clone(),
        "last_message_id": id.to_string(), "message_count": 0, "member_count": 1,
        "rate_limit_per_user": 0, "flags": 0, "total_message_sent": 0, "message": message,
    });
    inner.threads.push((forum, thread.clone()));
    Answer::json(201, thread)
}

/// With `enforce_nonce`, Discord returns the earlier message with the same nonce (recent, same
/// author) instead of creating a new one.
fn nonce_duplicate(inner: &Inner, channel_id: u64, incoming: &Incoming) -> Option<Value> {
    if incoming
        .body_field("enforce_nonce")
        .and_then(Value::as_bool)
        != Some(true)
    {
        return None;
    }
    let nonce = incoming.body_field("nonce").filter(|n| !n.is_null())?;
    inner
        .channels
        .get(&channel_id)?
        .iter()
        .find(|m| m.get("nonce") == Some(nonce))
        .cloned()
}

fn find_message(inner: &Inner, channel_id: u64, id: u64) -> Option<&Value> {
    let want = id.to_string();
    inner
        .channels
        .get(&channel_id)?
        .iter()
        .find(|m| m["id"] == want.as_str())
}

fn edit_message(inner: &mut Inner, channel_id: u64, id: u64, body: Option<&Value>) -> Answer {
    let want = id.to_string();
    let Some(message) = inner
        .channels
        .get_mut(&channel_id)
        .and_then(|list| list.iter_mut().find(|m| m["id"] == want.as_str()))
    else {
        return Answer::error(404, 10008, "Unknown Message");
    };
    apply_edit(message, body);
    Answer::json(200, message.clone())
}

fn apply_edit(message: &mut Value, body: Option<&Value>) {
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
    message["edited_timestamp"] = json!(now_rfc3339());
}

fn delete_message(inner: &mut Inner, channel_id: u64, id: u64) -> Answer {
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
fn webhook_channel(inner: &Inner, incoming: &Incoming) -> Result<u64, Answer> {
    let (id, token) = (
        incoming.id_param("webhook_id"),
        incoming.param("webhook_token"),
    );
    if id == APP_ID {
        return match inner.interactions.get(token) {
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

fn execute_webhook(inner: &mut Inner, incoming: &Incoming) -> Answer {
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
    // A forum's webhook must open a post (thread_name) or post in one (?thread_id=).
    let thread = incoming
        .query
        .iter()
        .find(|(k, _)| k == "thread_id")
        .and_then(|(_, v)| v.parse::<u64>().ok());
    let thread_name = incoming.body_field("thread_name").filter(|v| !v.is_null());
    let id = inner.snowflake();
    let channel_id = if inner.forums.contains(&channel_id) {
        match (thread, thread_name) {
            (Some(thread), _) => thread,
            (None, Some(name)) => {
                let post = json!({"id": id.to_string(), "type": 11, "guild_id": GUILD_ID.to_string(),
                    "parent_id": channel_id.to_string(), "name": name.clone()});
                inner.threads.push((channel_id, post));
                id
            }
            (None, None) => {
                return Answer::error(
                    400,
                    220001,
                    "Webhooks posted to forum channels must have a thread_name or thread_id",
                );
            }
        }
    } else {
        channel_id
    };
    let mut message = message_object(id, channel_id, author, incoming.body.as_ref());
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

fn original_response(inner: &mut Inner, incoming: &Incoming) -> Answer {
    let token = incoming.param("webhook_token").to_string();
    if incoming.id_param("webhook_id") != APP_ID {
        return Answer::error(404, 10015, "Unknown Webhook");
    }
    let Some(state) = inner.interactions.get(&token).cloned() else {
        return Answer::error(401, 50027, "Invalid Webhook Token");
    };
    let Some(message_id) = state.original_message_id else {
        // Editing before the callback: Discord has no original message yet.
        return Answer::error(404, 10008, "Unknown Message");
    };
    let answer = match incoming.method.as_str() {
        "GET" => match find_message(inner, state.channel_id, message_id) {
            Some(m) => Answer::json(200, m.clone()),
            None => Answer::error(404, 10008, "Unknown Message"),
        },
        "PATCH" => edit_message(inner, state.channel_id, message_id, incoming.body.as_ref()),
        "DELETE" => delete_message(inner, state.channel_id, message_id),
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

fn interaction_callback(inner: &mut Inner, incoming: &Incoming) -> Answer {
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
    let kind = incoming
        .body_field("type")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    // Types 4 (message) and 5 (deferred) create the original response message.
    let original = if kind == 4 || kind == 5 {
        let data = incoming.body_field("data").cloned();
        let mid = inner.snowflake();
        let mut message = message_object(mid, state.channel_id, bot_user(), data.as_ref());
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

fn put_commands(inner: &mut Inner, incoming: &Incoming, guild: Option<u64>) -> Answer {
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

fn post_command(inner: &mut Inner, incoming: &Incoming, guild: Option<u64>) -> Answer {
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

fn into_response(answer: Answer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = Response::builder().status(status);
    let body = match &answer.body {
        Some(v) => {
            builder = builder.header("content-type", "application/json");
            Body::from(v.to_string())
        }
        None if answer.status >= 500 => Body::from("upstream error"),
        None => Body::empty(),
    };
    for (k, v) in &answer.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder
        .body(body)
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

impl InteractionState {
    pub(crate) fn new(
        id: u64,
        channel_id: u64,
        guild_id: Option<u64>,
        user: Value,
    ) -> InteractionState {
        InteractionState {
            id,
            channel_id,
            guild_id,
            user,
            acknowledged: false,
            responses: Vec::new(),
            original_message_id: None,
        }
    }
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
