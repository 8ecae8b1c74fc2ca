//! When to poll a feed next, and its health: ok → failing → dead.
//! STUB: to be completed (see helper brief).

use std::time::Duration;

use jiff::Timestamp;

use super::CacheHints;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollPolicy {
    /// Default interval between polls of a feed.
    pub interval: Duration,
    pub min_interval: Duration,
    pub max_interval: Duration,
    /// First retry delay after a failure; doubles per consecutive failure up to `backoff_max`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// A feed failing continuously for this long is dead (polled at `backoff_max` only).
    pub dead_after: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy {
            interval: Duration::from_secs(30 * 60),
            min_interval: Duration::from_secs(5 * 60),
            max_interval: Duration::from_secs(12 * 3600),
            backoff_base: Duration::from_secs(5 * 60),
            backoff_max: Duration::from_secs(12 * 3600),
            dead_after: Duration::from_secs(7 * 86_400),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedStatus {
    Ok,
    Failing,
    Dead,
}

impl FeedStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedStatus::Ok => "ok",
            FeedStatus::Failing => "failing",
            FeedStatus::Dead => "dead",
        }
    }
    pub fn parse(s: &str) -> FeedStatus {
        match s {
            "failing" => FeedStatus::Failing,
            "dead" => FeedStatus::Dead,
            _ => FeedStatus::Ok,
        }
    }
}

/// A feed's health as persisted in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedHealth {
    pub status: FeedStatus,
    pub consecutive_failures: u32,
    /// Start of the current run of failures.
    pub failing_since: Option<Timestamp>,
    pub last_error: Option<String>,
    pub last_success: Option<Timestamp>,
}

impl Default for FeedHealth {
    fn default() -> Self {
        FeedHealth {
            status: FeedStatus::Ok,
            consecutive_failures: 0,
            failing_since: None,
            last_error: None,
            last_success: None,
        }
    }
}

/// After a successful poll (200 or 304): health reset, next poll time.
/// `feed_interval` is the feed's own configured interval; `ttl` the feed's `<ttl>`.
pub fn after_success(
    policy: &PollPolicy,
    feed_interval: Option<Duration>,
    hints: &CacheHints,
    ttl: Option<Duration>,
    now: Timestamp,
) -> (FeedHealth, Timestamp) {
    let _ = (hints, ttl);
    let interval = feed_interval.unwrap_or(policy.interval);
    let next = now + jiff::SignedDuration::try_from(interval).unwrap_or(jiff::SignedDuration::ZERO);
    (
        FeedHealth {
            last_success: Some(now),
            ..FeedHealth::default()
        },
        next,
    )
}

/// After a failed poll: the new health and the next poll time (exponential backoff with a cap,
/// at least any Retry-After).
pub fn after_failure(
    policy: &PollPolicy,
    previous: &FeedHealth,
    error: &str,
    retry_after: Option<Duration>,
    now: Timestamp,
) -> (FeedHealth, Timestamp) {
    let _ = retry_after;
    let health = FeedHealth {
        status: FeedStatus::Failing,
        consecutive_failures: previous.consecutive_failures + 1,
        failing_since: previous.failing_since.or(Some(now)),
        last_error: Some(error.to_string()),
        last_success: previous.last_success,
    };
    let next = now + jiff::SignedDuration::try_from(policy.backoff_base).unwrap_or(jiff::SignedDuration::ZERO);
    (health, next)
}
