//! The web side: every story as a page, like the aggregator page newsdesk grew from, the
//! latest stories, and a health check for the operator. Off unless `[web] listen` is set;
//! `newsdesk serve` runs it alone on a database. It only reads: every request uses the desk's
//! read connection on the blocking pool.
//!
//! Routes: `/` (latest stories, `?page=N`), `/story/{id}`, `/healthz`; anything else is 404.
//! Every response carries a Content-Security-Policy that allows inline styles and nothing
//! else (no scripts, no images, no frames), and feed text is escaped ([`html`]).

pub mod html;
pub mod pages;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
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
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
                   form-action 'none'; frame-ancestors 'none'";

/// The routes over `desk` (its read connection).
pub fn router(desk: Arc<Desk>) -> Router {
    Router::new()
        .route("/", get(front))
        .route("/story/{id}", get(story))
        .route("/healthz", get(healthz))
        .fallback(|| async { (StatusCode::NOT_FOUND, Html(pages::not_found())) })
        .layer(axum::middleware::map_response(secure_headers))
        .with_state(desk)
}

/// Serves until `stop` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    desk: Arc<Desk>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(desk))
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
        Ok(Err(StoreError::NotFound { .. })) => {
            Err((StatusCode::NOT_FOUND, Html(pages::not_found())).into_response())
        }
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
        return (StatusCode::NOT_FOUND, Html(pages::not_found())).into_response();
    }
    let loaded = read(desk, move |desk| {
        let settings = ViewSettings::from(&desk.config).without_related();
        let store = desk.reader();
        let rows = store.story_page(PAGE_SIZE + 1, page_no * PAGE_SIZE)?;
        let more = rows.len() > PAGE_SIZE;
        let mut views = Vec::with_capacity(PAGE_SIZE);
        for row in rows.iter().take(PAGE_SIZE) {
            views.push(story_view(&store, row.id, &settings)?);
        }
        Ok((views, more))
    })
    .await;
    match loaded {
        Ok((views, more)) => Html(pages::front_page(&views, page_no, more)).into_response(),
        Err(response) => response,
    }
}

/// `?page=N` (0 when absent or not a number).
fn page_of(uri: &Uri) -> usize {
    uri.query()
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| pair.strip_prefix("page="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

async fn story(State(desk): State<Arc<Desk>>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return (StatusCode::NOT_FOUND, Html(pages::not_found())).into_response();
    };
    let loaded = read(desk, move |desk| {
        let settings = ViewSettings::from(&desk.config);
        story_view(&desk.reader(), StoryId(id), &settings)
    })
    .await;
    match loaded {
        Ok(view) => Html(pages::story_page(&view)).into_response(),
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
