//! A local HTTP server for tests (127.0.0.1, random port): canned responses per path, automatic
//! 304s for matching validators, delays, trickled / chunked / gzip bodies, and a record of what
//! clients sent and how many requests overlapped.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;

/// A canned response. Build with [`Resp::ok`], [`Resp::status`] or [`Resp::redirect`], then chain.
#[derive(Debug, Clone)]
pub struct Resp {
    status: u16,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
    etag: Option<String>,
    last_modified: Option<String>,
    delay: Option<Duration>,
    trickle: Option<Trickle>,
    gzip: bool,
    chunked: bool,
}

#[derive(Debug, Clone)]
struct Trickle {
    chunk: Vec<u8>,
    every: Duration,
    count: usize,
}

impl Resp {
    /// 200 with `body`.
    pub fn ok(body: impl Into<Vec<u8>>) -> Resp {
        Resp::status(200).body(body)
    }

    /// Any status with an empty body (add one with [`Resp::body`]).
    pub fn status(code: u16) -> Resp {
        Resp {
            status: code,
            body: Vec::new(),
            headers: Vec::new(),
            etag: None,
            last_modified: None,
            delay: None,
            trickle: None,
            gzip: false,
            chunked: false,
        }
    }

    /// A redirect (301/302/303/307/308) to `to`: a path on this server ("/b") or a full URL.
    pub fn redirect(code: u16, to: &str) -> Resp {
        Resp::status(code).header("location", to)
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Resp {
        self.body = body.into();
        self
    }

    /// Any response header (repeatable).
    pub fn header(mut self, name: &str, value: &str) -> Resp {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn content_type(self, content_type: &str) -> Resp {
        self.header("content-type", content_type)
    }

    /// Sends `ETag`; a request whose If-None-Match matches gets a 304. Quotes are added when
    /// `tag` has none (`v1` becomes `"v1"`).
    pub fn etag(mut self, tag: &str) -> Resp {
        let tag = if tag.starts_with('"') || tag.starts_with("W/") {
            tag.to_string()
        } else {
            format!("\"{tag}\"")
        };
        self.etag = Some(tag);
        self
    }

    /// Sends `Last-Modified` (an HTTP date such as "Wed, 21 Oct 2015 07:28:00 GMT"); a request
    /// with If-Modified-Since at or after it (and no If-None-Match) gets a 304.
    pub fn last_modified(mut self, http_date: &str) -> Resp {
        self.last_modified = Some(http_date.to_string());
        self
    }

    /// Waits this long before sending the status line and headers.
    pub fn delay(mut self, delay: Duration) -> Resp {
        self.delay = Some(delay);
        self
    }

    /// Replaces the body with `count` copies of `chunk`, one every `every` (first one after
    /// `every`), sent chunked without Content-Length.
    pub fn slow_body(mut self, chunk: impl Into<Vec<u8>>, every: Duration, count: usize) -> Resp {
        self.trickle = Some(Trickle {
            chunk: chunk.into(),
            every,
            count,
        });
        self
    }

    /// Sends the body chunked, without Content-Length.
    pub fn chunked(mut self) -> Resp {
        self.chunked = true;
        self
    }

    /// Gzip-encodes the body and sends `Content-Encoding: gzip` (regardless of Accept-Encoding).
    pub fn gzip(mut self) -> Resp {
        self.gzip = true;
        self
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    /// Path and query as requested.
    pub uri: String,
    /// Header names are lowercase.
    pub headers: Vec<(String, String)>,
}

impl RecordedRequest {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Inner {
    routes: HashMap<String, Resp>,
    requests: HashMap<String, Vec<RecordedRequest>>,
    in_flight: HashMap<String, usize>,
    max_in_flight: HashMap<String, usize>,
    total_in_flight: usize,
    total_max_in_flight: usize,
}

#[derive(Default)]
struct Shared(Mutex<Inner>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test thread must not take every later assertion down with it.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The running server; stops when dropped.
pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    pub async fn start() -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind test server");
        let addr = listener.local_addr().expect("test server address");
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestServer { addr, shared, task }
    }

    /// `http://127.0.0.1:PORT` + `path` (a leading '/' is added if missing).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with('/') {
            format!("http://{}{}", self.addr, path)
        } else {
            format!("http://{}/{}", self.addr, path)
        }
    }

    /// `url(path)` parsed.
    pub fn parsed_url(&self, path: &str) -> url::Url {
        url::Url::parse(&self.url(path)).expect("test server URL")
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Registers or replaces the response for `path` (path only, or path with "?query" to
    /// match that exact query first). Unregistered paths answer 404.
    pub fn route(&self, path: &str, resp: Resp) {
        self.shared.lock().routes.insert(path.to_string(), resp);
    }

    /// Removes a route (it answers 404 again).
    pub fn unroute(&self, path: &str) {
        self.shared.lock().routes.remove(path);
    }

    /// Requests received for `path` (query ignored), including 404s and 304s.
    pub fn hits(&self, path: &str) -> usize {
        self.shared.lock().requests.get(path).map_or(0, Vec::len)
    }

    pub fn requests(&self, path: &str) -> Vec<RecordedRequest> {
        self.shared
            .lock()
            .requests
            .get(path)
            .cloned()
            .unwrap_or_default()
    }

    /// Most requests for `path` that were being handled at once (from arrival until the
    /// headers were sent, so including any `delay`).
    pub fn max_in_flight(&self, path: &str) -> usize {
        self.shared
            .lock()
            .max_in_flight
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// Like [`TestServer::max_in_flight`], over all paths.
    pub fn total_max_in_flight(&self) -> usize {
        self.shared.lock().total_max_in_flight
    }
}

/// Decrements the in-flight counters even if the handler future is dropped mid-delay
/// (the client gave up).
struct InFlight {
    shared: Arc<Shared>,
    path: String,
}

impl InFlight {
    fn enter(shared: &Arc<Shared>, path: &str) -> InFlight {
        let mut inner = shared.lock();
        let now = {
            let count = inner.in_flight.entry(path.to_string()).or_insert(0);
            *count += 1;
            *count
        };
        let max = inner.max_in_flight.entry(path.to_string()).or_insert(0);
        *max = (*max).max(now);
        inner.total_in_flight += 1;
        inner.total_max_in_flight = inner.total_max_in_flight.max(inner.total_in_flight);
        InFlight {
            shared: Arc::clone(shared),
            path: path.to_string(),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut inner = self.shared.lock();
        if let Some(count) = inner.in_flight.get_mut(&self.path) {
            *count = count.saturating_sub(1);
        }
        inner.total_in_flight = inner.total_in_flight.saturating_sub(1);
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    let full = request
        .uri()
        .path_and_query()
        .map_or_else(|| path.clone(), |pq| pq.as_str().to_string());
    let recorded = RecordedRequest {
        method: request.method().to_string(),
        uri: full.clone(),
        headers: request
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
    };
    let route = {
        let mut inner = shared.lock();
        inner
            .requests
            .entry(path.clone())
            .or_default()
            .push(recorded.clone());
        inner
            .routes
            .get(&full)
            .or_else(|| inner.routes.get(&path))
            .cloned()
    };
    let _in_flight = InFlight::enter(&shared, &path);
    let Some(resp) = route else {
        return plain(404, Body::from("not found"));
    };
    if let Some(delay) = resp.delay {
        tokio::time::sleep(delay).await;
    }
    if not_modified(&resp, &recorded) {
        return build(&resp, 304, Body::empty(), false);
    }
    respond(&resp)
}

fn not_modified(resp: &Resp, request: &RecordedRequest) -> bool {
    if let Some(if_none_match) = request.header("if-none-match") {
        let Some(etag) = &resp.etag else {
            return false;
        };
        return if_none_match
            .split(',')
            .map(str::trim)
            .any(|candidate| candidate == "*" || weak_eq(candidate, etag));
    }
    match (request.header("if-modified-since"), &resp.last_modified) {
        (Some(since), Some(modified)) => {
            since == modified
                || matches!(
                    (parse_http_date(since), parse_http_date(modified)),
                    (Some(since), Some(modified)) if since >= modified
                )
        }
        _ => false,
    }
}

fn weak_eq(a: &str, b: &str) -> bool {
    a.trim_start_matches("W/") == b.trim_start_matches("W/")
}

fn parse_http_date(s: &str) -> Option<jiff::Timestamp> {
    jiff::fmt::rfc2822::parse(s).ok().map(|z| z.timestamp())
}

fn respond(resp: &Resp) -> Response {
    if let Some(trickle) = &resp.trickle {
        let body = SlowBody::new(trickle.chunk.clone(), trickle.every, trickle.count);
        return build(resp, resp.status, Body::new(body), false);
    }
    let bytes = if resp.gzip {
        gzip_stored(&resp.body)
    } else {
        resp.body.clone()
    };
    let body = if resp.chunked {
        Body::new(SlowBody::new(bytes, Duration::ZERO, 1))
    } else {
        Body::from(bytes)
    };
    build(resp, resp.status, body, resp.gzip)
}

fn build(resp: &Resp, status: u16, body: Body, gzip: bool) -> Response {
    let mut response = plain(status, body);
    let headers = response.headers_mut();
    let mut add = |name: &str, value: &str| {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.append(name, value);
        }
    };
    for (name, value) in &resp.headers {
        add(name, value);
    }
    if let Some(etag) = &resp.etag {
        add("etag", etag);
    }
    if let Some(modified) = &resp.last_modified {
        add("last-modified", modified);
    }
    if gzip {
        add("content-encoding", "gzip");
    }
    response
}

fn plain(status: u16, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    if status == 404 {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    }
    response
}

/// A body sent as `count` copies of `chunk`, one every `every`, with unknown length (chunked).
struct SlowBody {
    chunk: Bytes,
    remaining: usize,
    every: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl SlowBody {
    fn new(chunk: Vec<u8>, every: Duration, count: usize) -> SlowBody {
        SlowBody {
            chunk: Bytes::from(chunk),
            remaining: count,
            every,
            sleep: Box::pin(tokio::time::sleep(every)),
        }
    }
}

impl http_body::Body for SlowBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        if self.sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.remaining -= 1;
        let next = tokio::time::Instant::now() + self.every;
        self.sleep.as_mut().reset(next);
        Poll::Ready(Some(Ok(http_body::Frame::data(self.chunk.clone()))))
    }
}

/// Gzip with "stored" (uncompressed) deflate blocks: valid for any decoder, no codec crate.
pub fn gzip_stored(data: &[u8]) -> Vec<u8> {
    const MAX_BLOCK: usize = 65_535;
    // Magic, deflate, no flags, no mtime, no extra flags, unknown OS.
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let blocks: Vec<&[u8]> = if data.is_empty() {
        vec![&[]]
    } else {
        data.chunks(MAX_BLOCK).collect()
    };
    let last_index = blocks.len() - 1;
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i == last_index));
        let len = u16::try_from(block.len()).expect("block fits u16");
        out.extend(len.to_le_bytes());
        out.extend((!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend(crc32(data).to_le_bytes());
    // ISIZE is the length modulo 2^32 by definition.
    out.extend((data.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
