//! A fake Discord on 127.0.0.1 that serenity's real client talks to.
//!
//! - REST over HTTPS for `discord.com` with a certificate made at start: [`FakeDiscord::http`]
//!   builds a serenity `Http` whose reqwest client resolves `discord.com` to the fake and trusts
//!   that certificate, so serenity's own rate limiter runs unmodified.
//! - Every request is checked against Discord's published OpenAPI spec (route, path and query
//!   parameters, JSON body); mismatches and unknown routes land in [`FakeDiscord::violations`].
//! - Discord's documented limits the spec leaves out ([`limits`]): message and embed sizes, empty
//!   messages, embed URL schemes, command naming and options; refused with Discord's codes.
//! - Discord-shaped answers: increasing snowflakes, message objects and listings, `X-RateLimit-*`
//!   headers and the global limit, scripted failures ([`Failure`]) per route, nonce
//!   deduplication within a window, forums with required tags, archived/locked/deleted threads,
//!   interaction deadlines (3 s to answer, 15 min for follow-ups).
//! - A clock the test can move ([`FakeDiscord::advance`]) for every time-based rule.
//! - A gateway over ws:// (`GET /gateway` points at it): HELLO, heartbeat ACK, IDENTIFY → READY,
//!   RESUME → RESUMED, and dispatches pushed by the test ([`FakeDiscord::send_interaction`]).

mod channels;
mod gateway;
mod interactions;
pub mod limits;
mod messages;
pub mod openapi;
mod ratelimit;
mod rest;
mod tls;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};
use serenity::http::{Http, HttpBuilder};
use serenity::model::id::ApplicationId;
use tokio::sync::Notify;

// Re-exported for tests; not every test binary module uses every helper.
#[allow(unused_imports)]
pub use gateway::{InteractionFixture, SentInteraction, opt, opt_focused, opt_group, opt_sub};

/// Bot token the fake accepts (serenity sends it as `Bot <TOKEN>`).
pub const TOKEN: &str = "fake-bot-token";
/// The bot application's id (also the bot user's id, as on Discord).
pub const APP_ID: u64 = 1_100_000_000_000_000_001;
/// The bot user's id.
pub const BOT_USER_ID: u64 = APP_ID;
/// The bot user's name.
pub const BOT_NAME: &str = "newsdesk";
/// The guild the bot is in, and the default guild of interactions.
pub const GUILD_ID: u64 = 1_200_000_000_000_000_002;
/// Default channel of interactions.
pub const CHANNEL_ID: u64 = 1_300_000_000_000_000_003;
/// Default user who runs slash commands.
pub const USER_ID: u64 = 1_400_000_000_000_000_004;

/// Discord epoch (2015-01-01) in Unix milliseconds, for snowflakes.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// How long `enforce_nonce` deduplicates by default. Discord says only "a few minutes"
/// (message.mdx, Create Message; change log 2024-02-12) and publishes no figure; two minutes is
/// the shortest reading, so a client relying on a longer window is caught.
pub const DEFAULT_NONCE_WINDOW: Duration = Duration::from_secs(120);

/// Discord's global limit for a bot: 50 requests per second across routes (rate-limits.mdx,
/// Global Rate Limit). Interaction endpoints are exempt.
pub const GLOBAL_RATE_LIMIT: (u32, Duration) = (50, Duration::from_secs(1));

/// A scripted error answer for a route. Build with the constructors; the fake formats the body
/// and headers as Discord does.
#[derive(Debug, Clone)]
pub enum Failure {
    /// 429 with `{message, retry_after, global}`, `Retry-After` and `X-RateLimit-*` headers
    /// (`X-RateLimit-Global` when `global`).
    RateLimited { retry_after: f64, global: bool },
    /// Any status with a Discord JSON error `{code, message}`.
    Json {
        status: u16,
        code: i64,
        message: String,
    },
    /// A bare status with a non-JSON body (as a load balancer's 502 looks).
    Status(u16),
}

impl Failure {
    pub fn rate_limited(retry_after: f64) -> Failure {
        Failure::RateLimited {
            retry_after,
            global: false,
        }
    }
    pub fn global_rate_limited(retry_after: f64) -> Failure {
        Failure::RateLimited {
            retry_after,
            global: true,
        }
    }
    /// 403 `{code: 50013, "Missing Permissions"}`.
    pub fn missing_permissions() -> Failure {
        Failure::json(403, 50013, "Missing Permissions")
    }
    /// 403 `{code: 50001, "Missing Access"}`.
    pub fn missing_access() -> Failure {
        Failure::json(403, 50001, "Missing Access")
    }
    /// 404 `{code: 10003, "Unknown Channel"}`.
    pub fn unknown_channel() -> Failure {
        Failure::json(404, 10003, "Unknown Channel")
    }
    /// 404 `{code: 10015, "Unknown Webhook"}`.
    pub fn unknown_webhook() -> Failure {
        Failure::json(404, 10015, "Unknown Webhook")
    }
    /// 401 `{code: 0, "401: Unauthorized"}`.
    pub fn unauthorized() -> Failure {
        Failure::json(401, 0, "401: Unauthorized")
    }
    /// A 5xx with Discord's JSON shape (`code` 0; 130000 for 503 "API resource overloaded").
    pub fn server_error(status: u16) -> Failure {
        let code = if status == 503 { 130000 } else { 0 };
        Failure::json(status, code, &format!("{status}: Server Error"))
    }
    pub fn json(status: u16, code: i64, message: &str) -> Failure {
        Failure::Json {
            status,
            code,
            message: message.to_string(),
        }
    }
}

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    /// Concrete path without `/api/v10`, e.g. `/channels/6000/messages`.
    pub path: String,
    /// Spec template it matched, e.g. `/channels/{channel_id}/messages` (None: unknown route).
    pub template: Option<String>,
    /// Decoded query pairs (serenity's leading `&` yields no empty pair).
    pub query: Vec<(String, String)>,
    /// Header names lower-case.
    pub headers: Vec<(String, String)>,
    /// JSON body, if any.
    pub body: Option<Value>,
    /// Status the fake answered with.
    pub status: u16,
    /// When it arrived, relative to the fake's start.
    pub at: Duration,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// True when `route` is this request's concrete path or its spec template.
    pub fn is(&self, method: &str, route: &str) -> bool {
        self.method.eq_ignore_ascii_case(method)
            && (self.path == route || self.template.as_deref() == Some(route))
    }
}

/// One frame the bot sent over the gateway (op and payload).
#[derive(Debug, Clone)]
pub struct GatewayFrame {
    pub op: u64,
    pub d: Value,
    pub session: u64,
}

struct ScriptedFailure {
    method: String,
    route: String,
    failure: Failure,
    remaining: usize,
}

#[derive(Debug, Clone)]
struct Webhook {
    token: String,
    channel_id: u64,
}

#[derive(Debug, Clone)]
struct InteractionState {
    id: u64,
    channel_id: u64,
    guild_id: Option<u64>,
    /// The invoking user's object.
    user: Value,
    /// When Discord sent it (fake clock): 3 s to answer, 15 min for follow-ups and edits.
    sent_at: Instant,
    acknowledged: bool,
    /// Callback bodies, edits and followups in arrival order.
    responses: Vec<Value>,
    original_message_id: Option<u64>,
}

#[derive(Debug, Clone)]
struct Bucket {
    window_start: Instant,
    used: u32,
}

impl Bucket {
    fn new(now: Instant) -> Bucket {
        Bucket {
            window_start: now,
            used: 0,
        }
    }

    /// Counts one request at `now` in a fixed window of `limit` per `window`: None when it is
    /// allowed, else the seconds until the window opens again.
    fn take(&mut self, now: Instant, limit: u32, window: Duration) -> Option<f64> {
        if now.duration_since(self.window_start) >= window {
            *self = Bucket::new(now);
        }
        self.used += 1;
        (self.used > limit).then(|| {
            window
                .saturating_sub(now.duration_since(self.window_start))
                .as_secs_f64()
        })
    }
}

struct Inner {
    started: Instant,
    /// How far the test moved the clock ahead of real time.
    offset: Duration,
    last_snowflake: u64,
    requests: Vec<RecordedRequest>,
    violations: Vec<String>,
    failures: Vec<ScriptedFailure>,
    /// Messages per channel id, in posting order (edits applied, deletions removed).
    channels: HashMap<u64, Vec<Value>>,
    webhooks: HashMap<u64, Webhook>,
    /// Forum channels (made with [`FakeDiscord::add_forum`]) and the threads (posts) opened in
    /// them, as (forum id, thread object), in order.
    forums: HashMap<u64, channels::Forum>,
    threads: Vec<(u64, Value)>,
    /// Archived/locked state of threads (forum posts, or any id a test archived or locked).
    thread_states: HashMap<u64, channels::ThreadState>,
    /// Channels and threads deleted by the test.
    deleted: HashSet<u64>,
    /// `enforce_nonce` records by (channel, nonce) and how long they count.
    nonces: HashMap<(u64, String), messages::NonceRecord>,
    nonce_window: Duration,
    /// Interactions sent to the bot, by token.
    interactions: HashMap<String, InteractionState>,
    global_commands: Vec<Value>,
    guild_commands: HashMap<u64, Vec<Value>>,
    buckets: HashMap<String, Bucket>,
    rate_limit: (u32, Duration),
    global_limit: (u32, Duration),
    global_bucket: Option<Bucket>,
    gateway: gateway::GatewayState,
}

impl Inner {
    /// The fake clock: real time plus what the test advanced.
    fn now(&self) -> Instant {
        Instant::now() + self.offset
    }

    /// Wall-clock time on the fake clock (snowflakes, timestamps).
    fn wall_now(&self) -> SystemTime {
        SystemTime::now() + self.offset
    }

    /// RFC 3339 timestamp on the fake clock.
    fn timestamp(&self) -> String {
        jiff::Timestamp::try_from(self.wall_now())
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_string()
    }

    /// A fresh snowflake: Discord layout (ms since the Discord epoch << 22), strictly increasing.
    fn snowflake(&mut self) -> u64 {
        let now_ms = self
            .wall_now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(DISCORD_EPOCH_MS);
        let candidate = now_ms.saturating_sub(DISCORD_EPOCH_MS) << 22;
        self.last_snowflake = candidate.max(self.last_snowflake + 1);
        self.last_snowflake
    }
}

pub(crate) struct Shared {
    inner: Mutex<Inner>,
    /// Woken on every request and gateway frame, for the `wait_*` helpers.
    changed: Notify,
    gateway_url: String,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test thread must not hide the record from the next assertion.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The running fake. Cheap to clone; servers live as long as the test's runtime.
#[derive(Clone)]
pub struct FakeDiscord {
    shared: Arc<Shared>,
    rest_addr: SocketAddr,
    plain_addr: SocketAddr,
    cert_der: Arc<Vec<u8>>,
}

impl FakeDiscord {
    /// Starts REST (HTTPS) and gateway (ws://) servers on 127.0.0.1 and loads the spec.
    pub async fn start() -> FakeDiscord {
        let spec = openapi::spec();
        let cert = tls::TestCert::generate();
        let rest_listener = tls::TlsListener::bind(&cert).await;
        let rest_addr = rest_listener.addr();
        let gw_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("binding the gateway listener: {e}"));
        let gw_addr = gw_listener
            .local_addr()
            .unwrap_or_else(|e| panic!("gateway local_addr: {e}"));
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                started: Instant::now(),
                offset: Duration::ZERO,
                last_snowflake: 0,
                requests: Vec::new(),
                violations: Vec::new(),
                failures: Vec::new(),
                channels: HashMap::new(),
                webhooks: HashMap::new(),
                forums: HashMap::new(),
                threads: Vec::new(),
                thread_states: HashMap::new(),
                deleted: HashSet::new(),
                nonces: HashMap::new(),
                nonce_window: DEFAULT_NONCE_WINDOW,
                interactions: HashMap::new(),
                global_commands: Vec::new(),
                guild_commands: HashMap::new(),
                buckets: HashMap::new(),
                rate_limit: (1000, Duration::from_secs(1)),
                global_limit: GLOBAL_RATE_LIMIT,
                global_bucket: None,
                gateway: gateway::GatewayState::new(format!("ws://{gw_addr}")),
            }),
            changed: Notify::new(),
            gateway_url: format!("ws://{gw_addr}"),
        });
        let rest_app = rest::router(shared.clone(), spec);
        // The same API over plain HTTP: what a `[discord] api_base` pointed at 127.0.0.1 (a
        // proxy in front of Discord) reaches, e.g. from the real binary in a child process.
        let plain_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("binding the plain REST listener: {e}"));
        let plain_addr = plain_listener
            .local_addr()
            .unwrap_or_else(|e| panic!("plain REST local_addr: {e}"));
        let plain_app = rest_app.clone();
        tokio::spawn(async move {
            let _ = axum::serve(plain_listener, plain_app).await;
        });
        tokio::spawn(async move {
            let _ = axum::serve(rest_listener, rest_app).await;
        });
        let gw_app = gateway::router(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(gw_listener, gw_app).await;
        });
        FakeDiscord {
            shared,
            rest_addr,
            plain_addr,
            cert_der: Arc::new(cert.cert_der),
        }
    }

    /// `http://127.0.0.1:PORT`: the REST API without TLS, for `[discord] api_base`.
    pub fn plain_base(&self) -> String {
        format!("http://{}", self.plain_addr)
    }

    /// Where the HTTPS REST API listens (what `discord.com` resolves to).
    pub fn rest_addr(&self) -> SocketAddr {
        self.rest_addr
    }

    /// The `ws://127.0.0.1:PORT` URL `GET /gateway` hands out.
    pub fn gateway_url(&self) -> &str {
        &self.shared.gateway_url
    }

    /// DER of the fake's certificate for `discord.com`.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// A reqwest client (rustls) that resolves `discord.com` to the fake and trusts its cert.
    pub fn reqwest_client(&self) -> reqwest::Client {
        let cert = reqwest::Certificate::from_der(&self.cert_der)
            .unwrap_or_else(|e| panic!("test certificate rejected by reqwest: {e}"));
        reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(cert)
            .resolve(tls::DISCORD_HOST, self.rest_addr)
            .build()
            .unwrap_or_else(|e| panic!("building the reqwest client: {e}"))
    }

    /// `HttpBuilder::new(TOKEN).client(self.reqwest_client()).application_id(APP_ID)`; the
    /// rate limiter stays on. Chain more settings before `.build()`.
    pub fn http_builder(&self) -> HttpBuilder {
        HttpBuilder::new(TOKEN)
            .client(self.reqwest_client())
            .application_id(ApplicationId::new(APP_ID))
    }

    /// A serenity `Http` talking to this fake, with serenity's rate limiter on.
    /// The webhook client the bot uses, talking to this fake.
    pub fn webhooks(&self) -> newsdesk::discord::webhook::WebhookClient {
        newsdesk::discord::webhook::WebhookClient::new(self.reqwest_client(), "https://discord.com")
    }

    pub fn http(&self) -> Http {
        self.http_builder().build()
    }

    // ---- scripting -------------------------------------------------------------------------

    /// Answers the next `times` requests for `method` + `route` with `failure`. `route` is a
    /// concrete path (`/channels/6000/messages`) or a spec template
    /// (`/channels/{channel_id}/messages`). Use `usize::MAX` for "always".
    pub fn fail(&self, method: &str, route: &str, failure: Failure, times: usize) {
        self.shared.lock().failures.push(ScriptedFailure {
            method: method.to_ascii_uppercase(),
            route: route.to_string(),
            failure,
            remaining: times,
        });
    }

    /// [`FakeDiscord::fail`] once.
    pub fn fail_next(&self, method: &str, route: &str, failure: Failure) {
        self.fail(method, route, failure, 1);
    }

    /// Every request under `/channels/{channel_id}` (any method) answers 404 10003 from now on,
    /// and so do webhook posts with `?thread_id=` naming it.
    pub fn delete_channel(&self, channel_id: u64) {
        let mut inner = self.shared.lock();
        inner.channels.remove(&channel_id);
        inner.deleted.insert(channel_id);
        inner.failures.push(ScriptedFailure {
            method: "*".to_string(),
            route: format!("/channels/{channel_id}/*"),
            failure: Failure::unknown_channel(),
            remaining: usize::MAX,
        });
    }

    /// Makes `channel_id` a forum channel: it takes posts (threads), not messages.
    pub fn add_forum(&self, channel_id: u64) {
        self.add_forum_with_tags(channel_id, &[], false);
    }

    /// A forum with these `available_tags` (id, name). With `require_tag` (the channel's
    /// REQUIRE_TAG flag, 1 << 4) a post without `applied_tags` is refused with 40067.
    pub fn add_forum_with_tags(&self, channel_id: u64, tags: &[(u64, &str)], require_tag: bool) {
        self.shared.lock().forums.insert(
            channel_id,
            channels::Forum {
                require_tag,
                tags: tags.iter().map(|(id, n)| (*id, n.to_string())).collect(),
            },
        );
    }

    /// A moderator deleted the thread: requests for it (and webhook posts into it) answer
    /// 404 10003 from now on.
    pub fn delete_thread(&self, thread_id: u64) {
        self.shared
            .lock()
            .threads
            .retain(|(_, t)| t["id"] != thread_id.to_string().as_str());
        self.delete_channel(thread_id);
    }

    /// The thread was archived: edits in it answer 400 50083; a new message (bot or webhook)
    /// unarchives it, as Discord does for threads that are not locked.
    pub fn archive_thread(&self, thread_id: u64) {
        let mut inner = self.shared.lock();
        inner.thread_states.entry(thread_id).or_default().archived = true;
        channels::sync_thread(&mut inner, thread_id);
    }

    /// A moderator locked the thread: the bot (without MANAGE_THREADS) can neither post nor
    /// edit in it; both answer 403 160005.
    pub fn lock_thread(&self, thread_id: u64) {
        let mut inner = self.shared.lock();
        inner.thread_states.entry(thread_id).or_default().locked = true;
        channels::sync_thread(&mut inner, thread_id);
    }

    /// Moves the fake's clock forward: interaction deadlines, the nonce window, rate-limit
    /// windows, snowflakes and timestamps all follow it.
    pub fn advance(&self, by: Duration) {
        self.shared.lock().offset += by;
    }

    /// How long `enforce_nonce` deduplicates (default [`DEFAULT_NONCE_WINDOW`]).
    pub fn set_nonce_window(&self, window: Duration) {
        self.shared.lock().nonce_window = window;
    }

    /// The global limit across routes (default [`GLOBAL_RATE_LIMIT`]). Going beyond it is a
    /// 429 with `X-RateLimit-Global` and a violation.
    pub fn set_global_rate_limit(&self, limit: u32, window: Duration) {
        self.shared.lock().global_limit = (limit, window);
    }

    /// The next `times` requests to any route except interaction endpoints answer a global 429
    /// (`X-RateLimit-Global: true`, `X-RateLimit-Scope: global`), as when other traffic of the
    /// bot used up the global limit. Not a violation.
    pub fn global_rate_limit_storm(&self, retry_after: f64, times: usize) {
        self.fail("*", "*", Failure::global_rate_limited(retry_after), times);
    }

    /// Posts opened in a forum channel (thread objects as returned), in order.
    pub fn forum_posts(&self, forum_id: u64) -> Vec<Value> {
        self.shared
            .lock()
            .threads
            .iter()
            .filter(|(forum, _)| *forum == forum_id)
            .map(|(_, thread)| thread.clone())
            .collect()
    }

    /// Drops scripted failures not yet used up.
    pub fn clear_failures(&self) {
        self.shared.lock().failures.clear();
    }

    /// Per-bucket limit advertised in `X-RateLimit-*` (default 1000 per 1 s). A client that
    /// sends more than `limit` in one window gets a 429 **and** a violation, as it ignored the
    /// headers.
    pub fn set_rate_limit(&self, limit: u32, window: Duration) {
        self.shared.lock().rate_limit = (limit, window);
    }

    /// Makes webhook `id` with `token` exist; its messages go to `channel_id`.
    pub fn add_webhook(&self, id: u64, token: &str, channel_id: u64) {
        self.shared.lock().webhooks.insert(
            id,
            Webhook {
                token: token.to_string(),
                channel_id,
            },
        );
    }

    // ---- records ---------------------------------------------------------------------------

    /// Every REST request so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// Requests for `method` + `route` (concrete path or template).
    pub fn requests_to(&self, method: &str, route: &str) -> Vec<RecordedRequest> {
        self.shared
            .lock()
            .requests
            .iter()
            .filter(|r| r.is(method, route))
            .cloned()
            .collect()
    }

    /// Every spec mismatch, unknown route and misuse seen so far.
    pub fn violations(&self) -> Vec<String> {
        self.shared.lock().violations.clone()
    }

    /// Panics listing all violations, if there are any.
    pub fn assert_no_violations(&self) {
        let v = self.violations();
        assert!(
            v.is_empty(),
            "fake Discord recorded {} violation(s):\n{}",
            v.len(),
            v.join("\n")
        );
    }

    /// Current messages of a channel (as Discord would return them), oldest first.
    pub fn messages(&self, channel_id: u64) -> Vec<Value> {
        self.shared
            .lock()
            .channels
            .get(&channel_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Global commands as last registered (with ids).
    pub fn global_commands(&self) -> Vec<Value> {
        self.shared.lock().global_commands.clone()
    }

    /// Guild commands as last registered (with ids).
    pub fn guild_commands(&self, guild_id: u64) -> Vec<Value> {
        self.shared
            .lock()
            .guild_commands
            .get(&guild_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Callback bodies, original-response edits and followups for one interaction, in order.
    pub fn interaction_responses(&self, sent: &SentInteraction) -> Vec<Value> {
        self.shared
            .lock()
            .interactions
            .get(&sent.token)
            .map(|i| i.responses.clone())
            .unwrap_or_default()
    }

    /// Frames the bot sent over the gateway (IDENTIFY, RESUME, heartbeats …).
    pub fn gateway_frames(&self) -> Vec<GatewayFrame> {
        self.shared.lock().gateway.received.clone()
    }

    // ---- waiting ---------------------------------------------------------------------------

    /// Waits until `check` returns Some (re-checked on every request/frame); panics after `timeout`.
    pub async fn wait_until<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut(&FakeDiscord) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(v) = check(self) {
                return v;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let seen: Vec<String> = self
                    .requests()
                    .iter()
                    .map(|r| format!("{} {} -> {}", r.method, r.path, r.status))
                    .collect();
                panic!(
                    "timed out after {timeout:?} waiting for {what}; requests so far:\n{}",
                    seen.join("\n")
                );
            }
        }
    }

    /// Waits for at least `count` requests to `method` + `route`; returns them all.
    pub async fn wait_for_requests(
        &self,
        method: &str,
        route: &str,
        count: usize,
        timeout: Duration,
    ) -> Vec<RecordedRequest> {
        let what = format!("{count} x {method} {route}");
        self.wait_until(&what, timeout, |f| {
            let found = f.requests_to(method, route);
            (found.len() >= count).then_some(found)
        })
        .await
    }

    /// Waits for the bot's callback to an interaction; returns its body.
    pub async fn wait_for_callback(&self, sent: &SentInteraction, timeout: Duration) -> Value {
        let route = sent.callback_path();
        let mut found = self.wait_for_requests("POST", &route, 1, timeout).await;
        found.remove(0).body.unwrap_or(Value::Null)
    }

    /// Waits until a shard has identified (or resumed) and READY was sent; returns IDENTIFY's `d`.
    pub async fn wait_for_ready(&self, timeout: Duration) -> Value {
        self.wait_until("gateway IDENTIFY", timeout, |f| {
            f.gateway_frames()
                .into_iter()
                .find(|fr| fr.op == 2)
                .map(|fr| fr.d)
        })
        .await
    }

    // ---- gateway ---------------------------------------------------------------------------

    /// Pushes a dispatch (`op 0`, event name `t`, payload `d`) to connected, identified shards;
    /// queued until one identifies.
    pub fn dispatch(&self, event: &str, data: Value) {
        gateway::dispatch(&self.shared, event, data);
    }

    /// Sends INTERACTION_CREATE built from `fixture`; the interaction becomes known to REST.
    pub fn send_interaction(&self, fixture: InteractionFixture) -> SentInteraction {
        gateway::send_interaction(&self.shared, fixture)
    }

    /// Asks connected shards to reconnect (op 7); serenity answers with RESUME.
    pub fn request_reconnect(&self) {
        gateway::broadcast(&self.shared, gateway::Command::Reconnect);
    }

    /// Number of gateway sessions that identified so far.
    pub fn identify_count(&self) -> usize {
        self.gateway_frames().iter().filter(|f| f.op == 2).count()
    }
}

/// `json!` of the bot's user object.
pub(crate) fn bot_user() -> Value {
    json!({
        "id": BOT_USER_ID.to_string(), "username": BOT_NAME, "discriminator": "0",
        "global_name": null, "avatar": null, "bot": true, "flags": 0, "public_flags": 0,
        "primary_guild": null
    })
}

/// `json!` of a plain user object.
pub(crate) fn user_object(id: u64, name: &str) -> Value {
    json!({
        "id": id.to_string(), "username": name, "discriminator": "0", "global_name": name,
        "avatar": null, "public_flags": 0, "flags": 0, "primary_guild": null
    })
}
