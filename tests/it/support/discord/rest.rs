//! The REST side: every request is parsed, validated against the spec and Discord's documented
//! limits, recorded, then answered by a scripted failure, the rate limiter or a Discord-shaped
//! canned answer (messages.rs, channels.rs, interactions.rs).

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

use super::openapi::{Operation, Spec};
use super::{APP_ID, Failure, Inner, RecordedRequest, Shared, TOKEN, bot_user};
use super::{channels, interactions, limits, messages, ratelimit};

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
pub(super) struct Answer {
    pub status: u16,
    pub body: Option<Value>,
    pub headers: Vec<(String, String)>,
}

impl Answer {
    pub fn json(status: u16, body: Value) -> Answer {
        Answer {
            status,
            body: Some(body),
            headers: Vec::new(),
        }
    }
    pub fn empty(status: u16) -> Answer {
        Answer {
            status,
            body: None,
            headers: Vec::new(),
        }
    }
    pub fn error(status: u16, code: i64, message: &str) -> Answer {
        Answer::json(status, json!({"code": code, "message": message}))
    }
}

/// A refusal Discord makes because the client is wrong: answered with Discord's status and body
/// and recorded as a violation.
pub(super) fn refuse(inner: &mut Inner, label: &str, refusal: &limits::Refusal) -> Answer {
    inner
        .violations
        .extend(refusal.describe().iter().map(|p| format!("{label}: {p}")));
    Answer::json(refusal.status(), refusal.body())
}

/// [`refuse`] for an error without field details (e.g. 40067, 10062).
pub(super) fn refuse_with(
    inner: &mut Inner,
    label: &str,
    status: u16,
    code: i64,
    message: &str,
) -> Answer {
    inner.violations.push(format!(
        "{label}: Discord refuses with {status} {code} {message:?}"
    ));
    Answer::error(status, code, message)
}

/// The parts of a request the answer functions look at.
pub(super) struct Incoming {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
    pub op: Option<Operation>,
    /// `METHOD /template`, as violations name the operation.
    pub label: String,
}

impl Incoming {
    pub fn template(&self) -> &str {
        self.op.as_ref().map(|o| o.template.as_str()).unwrap_or("")
    }
    pub fn param(&self, name: &str) -> &str {
        self.op
            .as_ref()
            .and_then(|op| op.path_params.iter().find(|(n, _)| n == name))
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
    pub fn id_param(&self, name: &str) -> u64 {
        self.param(name).parse().unwrap_or(0)
    }
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn query_flag(&self, name: &str) -> bool {
        self.query_value(name) == Some("true")
    }
    pub fn query_id(&self, name: &str) -> Option<u64> {
        self.query_value(name).and_then(|v| v.parse().ok())
    }
    pub fn body_field(&self, name: &str) -> Option<&Value> {
        self.body.as_ref().and_then(|b| b.get(name))
    }
    /// Interaction endpoints: callbacks and the interaction's webhook (followups, @original).
    /// Discord exempts them from the global rate limit.
    pub fn is_interaction_endpoint(&self) -> bool {
        let template = self.template();
        template.starts_with("/interactions/")
            || (template.starts_with("/webhooks/{webhook_id}/{webhook_token}")
                && self.id_param("webhook_id") == APP_ID)
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
        label,
    };
    let beyond_spec = if problems.is_empty() {
        limits::check_request(method, incoming.template(), incoming.body.as_ref())
    } else {
        None
    };

    let mut inner = ctx.shared.lock();
    let label = incoming.label.as_str();
    inner
        .violations
        .extend(problems.iter().map(|p| format!("{label}: {p}")));
    let answer = if incoming.op.is_none() {
        Answer::error(404, 0, "404: Not Found")
    } else if !problems.is_empty() {
        invalid_form_body(&problems)
    } else if let Some(refusal) = &beyond_spec {
        refuse(&mut inner, label, refusal)
    } else if !auth_ok(ctx.spec, &incoming, auth) {
        Answer::error(401, 0, "401: Unauthorized")
    } else if let Some(failure) = take_failure(&mut inner, &incoming) {
        failure_answer(&failure)
    } else if let Some(limited) = ratelimit::check(&mut inner, &incoming) {
        limited
    } else {
        let mut a = canned_answer(&mut inner, ctx.spec, &incoming);
        a.headers
            .extend(ratelimit::bucket_headers(&inner, &incoming));
        a
    };
    let at = inner.now().saturating_duration_since(inner.started);
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
    let interaction = incoming.is_interaction_endpoint();
    let slot = inner.failures.iter_mut().find(|f| {
        f.remaining > 0
            && (f.method == "*" || f.method == incoming.method)
            && (if f.route == "*" {
                // A storm on every route spares interaction endpoints, as the global limit does.
                !interaction
            } else {
                route_matches(&f.route, &incoming.path, template)
            })
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

pub(super) fn failure_answer(failure: &Failure) -> Answer {
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

fn canned_answer(inner: &mut Inner, spec: &Spec, incoming: &Incoming) -> Answer {
    match (incoming.method.as_str(), incoming.template()) {
        ("GET", "/gateway") => Answer::json(200, json!({"url": inner.gateway.url.clone()})),
        ("GET", "/gateway/bot") => Answer::json(
            200,
            json!({"url": inner.gateway.url.clone(), "shards": 1, "session_start_limit":
                {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}}),
        ),
        ("GET", "/users/@me") => Answer::json(200, bot_user()),
        ("GET", "/channels/{channel_id}") => channels::get_channel(inner, incoming),
        ("POST", "/channels/{channel_id}/messages") => {
            messages::create_channel_message(inner, incoming)
        }
        ("GET", "/channels/{channel_id}/messages") => messages::list_messages(inner, incoming),
        ("POST", "/channels/{channel_id}/threads") => {
            channels::create_thread(inner, spec, incoming)
        }
        ("GET", "/channels/{channel_id}/messages/{message_id}") => {
            let (ch, id) = (
                incoming.id_param("channel_id"),
                incoming.id_param("message_id"),
            );
            match messages::find_message(inner, ch, id) {
                Some(m) => Answer::json(200, m.clone()),
                None => Answer::error(404, 10008, "Unknown Message"),
            }
        }
        ("PATCH", "/channels/{channel_id}/messages/{message_id}") => {
            let (ch, id) = (
                incoming.id_param("channel_id"),
                incoming.id_param("message_id"),
            );
            match channels::edit_gate(inner, ch) {
                Some(refused) => refused,
                None => messages::edit_message(inner, incoming, ch, id),
            }
        }
        ("DELETE", "/channels/{channel_id}/messages/{message_id}") => {
            let (ch, id) = (
                incoming.id_param("channel_id"),
                incoming.id_param("message_id"),
            );
            match channels::delete_gate(inner, ch) {
                Some(refused) => refused,
                None => messages::delete_message(inner, ch, id),
            }
        }
        ("POST", "/webhooks/{webhook_id}/{webhook_token}") => {
            messages::execute_webhook(inner, incoming)
        }
        ("GET", "/webhooks/{webhook_id}/{webhook_token}") => messages::get_webhook(inner, incoming),
        (_, "/webhooks/{webhook_id}/{webhook_token}/messages/@original") => {
            interactions::original_response(inner, incoming)
        }
        ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}") => {
            messages::edit_webhook_message(inner, incoming)
        }
        ("POST", "/interactions/{interaction_id}/{interaction_token}/callback") => {
            interactions::interaction_callback(inner, incoming)
        }
        ("PUT", "/applications/{application_id}/commands") => {
            interactions::put_commands(inner, incoming, None)
        }
        ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands") => {
            let guild = incoming.id_param("guild_id");
            interactions::put_commands(inner, incoming, Some(guild))
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
        ("POST", "/applications/{application_id}/commands") => {
            interactions::post_command(inner, incoming, None)
        }
        ("POST", "/applications/{application_id}/guilds/{guild_id}/commands") => {
            let guild = incoming.id_param("guild_id");
            interactions::post_command(inner, incoming, Some(guild))
        }
        _ => {
            inner.violations.push(format!(
                "{}: the fake has no canned answer for this operation (extend rest.rs)",
                incoming.label
            ));
            Answer::error(500, 0, "fake discord: operation not implemented")
        }
    }
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
