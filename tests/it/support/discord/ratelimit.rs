//! Rate limits on the fake clock: Discord's global limit across routes (50 requests per second
//! for a bot, interaction endpoints exempt) and the per-route buckets advertised in
//! `X-RateLimit-*` headers. Going beyond either is a 429 and a violation: the first is a fixed,
//! documented figure, the second was announced in the headers the client ignored.

use std::time::Duration;

use super::rest::{Answer, Incoming, failure_answer};
use super::{Bucket, Failure, Inner};

/// The global limit first, then the request's bucket; None when the request may go ahead.
pub(super) fn check(inner: &mut Inner, incoming: &Incoming) -> Option<Answer> {
    global(inner, incoming).or_else(|| per_route(inner, incoming))
}

fn global(inner: &mut Inner, incoming: &Incoming) -> Option<Answer> {
    if incoming.is_interaction_endpoint() {
        return None;
    }
    let (limit, window) = inner.global_limit;
    let now = inner.now();
    let retry_after = inner
        .global_bucket
        .get_or_insert(Bucket::new(now))
        .take(now, limit, window)?;
    inner.violations.push(format!(
        "{}: beyond Discord's global rate limit ({limit} requests per {window:?})",
        incoming.label
    ));
    Some(failure_answer(&Failure::global_rate_limited(retry_after)))
}

/// Bucket per route template and its first (major) parameter, as Discord scopes limits.
fn bucket_key(incoming: &Incoming) -> String {
    let op = incoming.op.as_ref();
    let major = op
        .and_then(|o| o.path_params.first())
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    format!("{} {} {major}", incoming.method, incoming.template())
}

fn per_route(inner: &mut Inner, incoming: &Incoming) -> Option<Answer> {
    let (limit, window) = inner.rate_limit;
    let key = bucket_key(incoming);
    let now = inner.now();
    let retry_after = inner
        .buckets
        .entry(key)
        .or_insert(Bucket::new(now))
        .take(now, limit, window)?;
    inner.violations.push(format!(
        "{}: sent beyond the advertised rate limit ({limit} per {window:?})",
        incoming.label
    ));
    Some(failure_answer(&Failure::rate_limited(retry_after)))
}

pub(super) fn bucket_headers(inner: &Inner, incoming: &Incoming) -> Vec<(String, String)> {
    let (limit, window) = inner.rate_limit;
    let key = bucket_key(incoming);
    let Some(bucket) = inner.buckets.get(&key) else {
        return Vec::new();
    };
    let reset_after = window.saturating_sub(inner.now().duration_since(bucket.window_start));
    let reset_epoch = (inner.wall_now() + reset_after)
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
