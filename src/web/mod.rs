//! The web side: every story as a page, like the aggregator page newsdesk grew from, the
//! latest stories, and a health check for the operator. Off unless `[web] listen` is set;
//! `newsdesk serve` runs it alone on a database. It only reads: every request uses the desk's
//! read connection on the blocking pool.
//!
//! Routes: `/` (latest stories, `?page=N`), `/story/{id}`, `/topic/{name}` (and `.atom`),
//! `/channel/{name}.atom`, `/search?q=`, `/feeds` (feed health), `/healthz`, `/metrics`
//! (Prometheus); anything else is 404.
//! Every response carries a Content-Security-Policy that allows inline styles and nothing
//! else (no scripts, no images, no frames), and feed text is escaped ([`html`]).

pub mod atom;
pub mod html;
pub mod metrics;
pub mod pages;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use jiff::Timestamp;

use crate::pipeline::Desk;
use crate::present::{ViewSettings, story_view};
use crate::store::{StoreError, StoryId};

/// Stories per front page.
const PAGE_SIZE: usize = 20;
/// Pages beyond this are not served (a crawler walking `?page=` forever costs the store).
const MAX_PAGE: usize = 500;
/// Stories on a topic page, in a feed and in search results.
const LIST_SIZE: usize = 50;
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
                   form-action 'self'; frame-ancestors 'none'";

/// Whose work `/metrics` shows besides the store's gauges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// The desk works in this process (`run`): its counts ([`Desk::metrics`]) are shown.
    InProcess,
    /// The pages alone on a database another process writes (`serve`): gauges only.
    Elsewhere,
}

/// The routes over `desk` (its read connection).
pub fn router(desk: Arc<Desk>, activity: Activity) -> Router {
    Router::new()
        .route("/", get(front))
        .route("/story/{id}", get(story))
        .route("/topic/{name}", get(topic))
        .route("/channel/{name}", get(channel))
        .route("/search", get(search))
        .route("/feeds", get(feeds))
        .route("/healthz", get(healthz))
        .route(
            "/metrics",
            get(move |State(desk): State<Arc<Desk>>| metrics_text(desk, activity)),
        )
        .fallback(|| async { not_found() })
        .layer(axum::middleware::map_response(secure_headers))
        .with_state(desk)
}

/// Serves until `stop` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    desk: Arc<Desk>,
    activity: Activity,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(desk, activity))
        .with_graceful_shutdown(stop)
        .await
}

async fn secure_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// Runs store work on the blocking pool; a store error is a 500 that says so, logged.
async fn read<T: Send + 'static>(
    desk: Arc<Desk>,
    work: impl FnOnce(&Desk) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, Response> {
    let outcome = tokio::task::spawn_blocking(move || work(&desk)).await;
    match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(StoreError::NotFound { .. })) => Err(not_found()),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "web page: store read failed");
            Err((
                StatusCode::INTERNAL_SERVER_ERROR,
                "the news store could not be read",
            )
                .into_response())
        }
        Err(e) => {
            tracing::error!(error = %e, "web page: reader panicked");
            Err((StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response())
        }
    }
}

async fn front(State(desk): State<Arc<Desk>>, uri: Uri) -> Response {
    let page_no = page_of(&uri);
    if page_no > MAX_PAGE {
        return not_found();
    }
    let loaded = read(desk, move |desk| {
        let settings = ViewSettings::from(&desk.config).without_related();
        let store = desk.reader();
        let rows = store.story_page(PAGE_SIZE + 1, page_no * PAGE_SIZE)?;
        let more = rows.len() > PAGE_SIZE;
        let topics: Vec<String> = crate::store::effective_topics(&desk.config, &store)
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        let mut views = Vec::with_capacity(PAGE_SIZE);
        for row in rows.iter().take(PAGE_SIZE) {
            views.push(story_view(&store, row.id, &settings)?);
        }
        Ok((views, topics, more))
    })
    .await;
    match loaded {
        Ok((views, topics, more)) => {
            Html(pages::front_page(&views, &topics, page_no, more)).into_response()
        }
        Err(response) => response,
    }
}

/// `?page=N` (0 when absent or not a number).
fn page_of(uri: &Uri) -> usize {
    query_value(uri, "page")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The decoded value of `key` in the query string.
fn query_value(uri: &Uri, key: &str) -> Option<String> {
    let query = uri.query()?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Html(pages::not_found())).into_response()
}

fn atom_response(xml: String) -> Response {
    (
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        xml,
    )
        .into_response()
}

/// Views of the latest stories on any of `topics` (all stories when empty).
fn latest_on(desk: &Desk, topics: &[String]) -> Result<Vec<crate::present::StoryView>, StoreError> {
    let settings = ViewSettings::from(&desk.config).without_related();
    let store = desk.reader();
    let rows = store.latest_stories(topics, Timestamp::UNIX_EPOCH, LIST_SIZE)?;
    rows.iter()
        .map(|row| story_view(&store, row.id, &settings))
        .collect()
}

/// `/topic/{name}` as a page, `/topic/{name}.atom` as its feed.
async fn topic(
    State(desk): State<Arc<Desk>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (name, atom) = match name.strip_suffix(".atom") {
        Some(name) => (name.to_string(), true),
        None => (name, false),
    };
    let public_url = feed_base(&desk, &headers);
    let loaded = read(desk, move |desk| {
        let known = crate::store::effective_topics(&desk.config, &desk.reader());
        if !known.iter().any(|(t, _)| *t == name) {
            return Ok(None);
        }
        Ok(Some((latest_on(desk, std::slice::from_ref(&name))?, name)))
    })
    .await;
    match loaded {
        Ok(Some((views, name))) if atom => atom_response(atom::feed(
            &format!("newsdesk: {name}"),
            &format!("/topic/{name}.atom"),
            &views,
            public_url.as_deref(),
        )),
        Ok(Some((views, name))) => Html(pages::topic_page(&name, &views)).into_response(),
        Ok(None) => not_found(),
        Err(response) => response,
    }
}

/// Where a feed's links point: `[web] public_url`, else the address the reader asked for (its
/// `Host`, when it is a plain host name or address), so Atom ids and links stay absolute.
fn feed_base(desk: &Desk, headers: &HeaderMap) -> Option<String> {
    if let Some(url) = &desk.config.web.public_url {
        return Some(url.clone());
    }
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let plain = !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    plain.then(|| format!("http://{host}"))
}

/// `/channel/{name}.atom`: the stories a configured channel follows, as a feed.
async fn channel(
    State(desk): State<Arc<Desk>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(name) = name.strip_suffix(".atom").map(str::to_string) else {
        return not_found();
    };
    let public_url = feed_base(&desk, &headers);
    let loaded = read(desk, move |desk| {
        if !desk
            .config
            .channels
            .iter()
            .any(|c| *c.name.get_ref() == name)
        {
            return Ok(None);
        }
        let topics = crate::store::channel_topics(&desk.config, &desk.reader(), &name);
        Ok(Some((latest_on(desk, &topics)?, name)))
    })
    .await;
    match loaded {
        Ok(Some((views, name))) => atom_response(atom::feed(
            &format!("newsdesk: #{name}"),
            &format!("/channel/{name}.atom"),
            &views,
            public_url.as_deref(),
        )),
        Ok(None) => not_found(),
        Err(response) => response,
    }
}

/// `/search?q=words`: the same search as the CLI and `/search`.
async fn search(State(desk): State<Arc<Desk>>, uri: Uri) -> Response {
    let query: String = query_value(&uri, "q")
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect();
    let words = query.clone();
    let loaded = read(desk, move |desk| {
        let settings = ViewSettings::from(&desk.config).without_related();
        let store = desk.reader();
        let found = match crate::lookup::search_stories(&store, &words, None, LIST_SIZE) {
            Ok(found) => found,
            Err(crate::lookup::LookupError::NoWords) => Vec::new(),
            Err(crate::lookup::LookupError::Store(e)) => return Err(e),
        };
        found
            .into_iter()
            .map(|id| story_view(&store, id, &settings))
            .collect::<Result<Vec<_>, _>>()
    })
    .await;
    match loaded {
        Ok(views) => Html(pages::search_page(&query, &views)).into_response(),
        Err(response) => response,
    }
}

/// `/feeds`: every active feed's health, for the operator.
async fn feeds(State(desk): State<Arc<Desk>>) -> Response {
    match read(desk, |desk| desk.reader().active_feeds()).await {
        Ok(feeds) => Html(pages::feeds_page(&feeds)).into_response(),
        Err(response) => response,
    }
}

async fn story(State(desk): State<Arc<Desk>>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return not_found();
    };
    let loaded = read(desk, move |desk| {
        let settings = ViewSettings::from(&desk.config);
        let store = desk.reader();
        let view = story_view(&store, StoryId(id), &settings)?;
        let discussion = store
            .first_discord_post(StoryId(id))?
            .map(|post| post.url());
        Ok((view, discussion))
    })
    .await;
    match loaded {
        Ok((view, discussion)) => {
            Html(pages::story_page(&view, discussion.as_deref())).into_response()
        }
        Err(response) => response,
    }
}

/// 200 when the store answers and a feed was polled recently (within the longest poll
/// interval plus a margin); 503 with the reason otherwise.
async fn healthz(State(desk): State<Arc<Desk>>) -> Response {
    let checked = read(desk, |desk| {
        let feeds = desk.reader().active_feeds()?;
        let last = feeds.iter().filter_map(|f| f.last_attempt).max();
        // A margin of ten minutes beyond the longest interval: a poll cycle itself takes time.
        let limit = desk.config.polling.max_interval.0 + std::time::Duration::from_secs(600);
        let limit = jiff::SignedDuration::try_from(limit).unwrap_or(jiff::SignedDuration::MAX);
        Ok((feeds.len(), last, limit))
    })
    .await;
    let (feeds, last, limit) = match checked {
        Ok(found) => found,
        Err(_) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "unhealthy: the store does not answer\n",
            )
                .into_response();
        }
    };
    let recent = |t: Timestamp| Timestamp::now().duration_since(t) <= limit;
    match last {
        _ if feeds == 0 => (StatusCode::OK, "ok: no feeds configured\n").into_response(),
        Some(t) if recent(t) => (StatusCode::OK, format!("ok: last poll {t}\n")).into_response(),
        Some(t) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("unhealthy: no feed polled since {t}\n"),
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "unhealthy: no feed polled yet\n",
        )
            .into_response(),
    }
}

/// `/metrics`: the store's counts, and the process's when the desk works here, in the
/// Prometheus text format.
async fn metrics_text(desk: Arc<Desk>, activity: Activity) -> Response {
    let counts = (activity == Activity::InProcess).then(|| desk.metrics().snapshot());
    let read_gauges = |desk: &Desk| desk.reader().gauges(crate::pipeline::MAX_ITEM_ATTEMPTS);
    match read(desk, read_gauges).await {
        Ok(gauges) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            metrics::render(&gauges, counts.as_ref()),
        )
            .into_response(),
        Err(response) => response,
    }
}
