//! When to poll a feed next, and its health: ok → failing → dead.
//! Pure functions: the caller passes the current time in.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::CacheHints;
use crate::config::PollingConfig;

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

impl From<&PollingConfig> for PollPolicy {
    fn from(p: &PollingConfig) -> Self {
        PollPolicy {
            interval: p.interval.get(),
            min_interval: p.min_interval.get(),
            max_interval: p.max_interval.get(),
            // A failing feed is first retried as soon as any feed may be polled again.
            backoff_base: p.min_interval.get(),
            backoff_max: p.backoff_max.get(),
            dead_after: p.dead_after.get(),
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
    /// None for a name that is no status (the store refuses it rather than guess).
    pub fn parse(s: &str) -> Option<FeedStatus> {
        [FeedStatus::Ok, FeedStatus::Failing, FeedStatus::Dead]
            .into_iter()
            .find(|status| status.as_str() == s)
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
///
/// The server and the feed may only slow us down (max-age, `<ttl>`, Retry-After are lower
/// bounds), and the result stays within `[min_interval, max_interval]`.
pub fn after_success(
    policy: &PollPolicy,
    feed_interval: Option<Duration>,
    hints: &CacheHints,
    ttl: Option<Duration>,
    now: Timestamp,
) -> (FeedHealth, Timestamp) {
    let base = feed_interval.unwrap_or(policy.interval);
    let interval = [ttl, hints.max_age, hints.retry_after]
        .into_iter()
        .flatten()
        .fold(base, Duration::max);
    let interval = clamp(interval, policy.min_interval, policy.max_interval);
    let health = FeedHealth {
        last_success: Some(now),
        ..FeedHealth::default()
    };
    (health, later(now, interval))
}

/// After a failed poll: the new health and the next poll time (exponential backoff with a cap,
/// at least any Retry-After).
///
/// A feed is dead once it has been failing for `dead_after`, however few polls that took; it is
/// still polled every `backoff_max` so it can come back.
pub fn after_failure(
    policy: &PollPolicy,
    previous: &FeedHealth,
    error: &str,
    retry_after: Option<Duration>,
    now: Timestamp,
) -> (FeedHealth, Timestamp) {
    let failures = previous.consecutive_failures.saturating_add(1);
    let failing_since = match previous.failing_since {
        Some(since) if previous.consecutive_failures > 0 => since,
        _ => now,
    };
    let dead = failing_for(failing_since, now) >= policy.dead_after;
    let backoff = if dead {
        policy.backoff_max
    } else {
        backoff(policy, failures)
    };
    // Honour Retry-After, but a hostile or broken server cannot park the feed forever.
    let ceiling = policy.backoff_max.max(policy.max_interval);
    let delay = retry_after.map_or(backoff, |wait| backoff.max(wait.min(ceiling)));
    let health = FeedHealth {
        status: if dead {
            FeedStatus::Dead
        } else {
            FeedStatus::Failing
        },
        consecutive_failures: failures,
        failing_since: Some(failing_since),
        last_error: Some(error.to_string()),
        last_success: previous.last_success,
    };
    (health, later(now, delay))
}

/// `backoff_base * 2^(failures-1)`, capped at `backoff_max`.
fn backoff(policy: &PollPolicy, failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1);
    let factor = 2u32.checked_pow(doublings).unwrap_or(u32::MAX);
    policy
        .backoff_base
        .checked_mul(factor)
        .unwrap_or(Duration::MAX)
        .min(policy.backoff_max)
}

fn failing_for(since: Timestamp, now: Timestamp) -> Duration {
    Duration::try_from(now.duration_since(since)).unwrap_or(Duration::ZERO)
}

/// Like `Ord::clamp` but never panics on a misconfigured `min > max` (max wins).
fn clamp(value: Duration, min: Duration, max: Duration) -> Duration {
    value.max(min).min(max)
}

fn later(now: Timestamp, delay: Duration) -> Timestamp {
    SignedDuration::try_from(delay)
        .ok()
        .and_then(|d| now.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60;
    const HOUR: u64 = 3600;

    fn policy() -> PollPolicy {
        PollPolicy {
            interval: Duration::from_secs(30 * MIN),
            min_interval: Duration::from_secs(5 * MIN),
            max_interval: Duration::from_secs(12 * HOUR),
            backoff_base: Duration::from_secs(5 * MIN),
            backoff_max: Duration::from_secs(6 * HOUR),
            dead_after: Duration::from_secs(7 * 24 * HOUR),
        }
    }

    fn t0() -> Timestamp {
        Timestamp::from_second(1_700_000_000).unwrap()
    }

    fn secs(from: Timestamp, to: Timestamp) -> i64 {
        to.duration_since(from).as_secs()
    }

    fn hints(max_age: Option<u64>, retry_after: Option<u64>) -> CacheHints {
        CacheHints {
            max_age: max_age.map(Duration::from_secs),
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn success_uses_policy_interval_or_feed_interval() {
        let now = t0();
        let (health, next) = after_success(&policy(), None, &hints(None, None), None, now);
        assert_eq!(secs(now, next), 30 * 60);
        assert_eq!(health.status, FeedStatus::Ok);
        assert_eq!(health.last_success, Some(now));
        let feed = Some(Duration::from_secs(10 * MIN));
        let (_, next) = after_success(&policy(), feed, &hints(None, None), None, now);
        assert_eq!(secs(now, next), 10 * 60);
    }

    #[test]
    fn success_takes_the_largest_of_ttl_max_age_and_retry_after() {
        let now = t0();
        let ttl = Some(Duration::from_secs(HOUR));
        let (_, next) = after_success(&policy(), None, &hints(None, None), ttl, now);
        assert_eq!(secs(now, next), 3600);
        let (_, next) = after_success(&policy(), None, &hints(Some(2 * HOUR), None), ttl, now);
        assert_eq!(secs(now, next), 7200);
        let (_, next) = after_success(&policy(), None, &hints(Some(60), Some(3 * HOUR)), ttl, now);
        assert_eq!(secs(now, next), 3 * 3600);
        // Hints never make us poll faster than the base interval.
        let (_, next) = after_success(&policy(), None, &hints(Some(0), None), None, now);
        assert_eq!(secs(now, next), 30 * 60);
    }

    #[test]
    fn success_interval_is_clamped() {
        let now = t0();
        let tiny = Some(Duration::from_secs(10));
        let (_, next) = after_success(&policy(), tiny, &hints(None, None), None, now);
        assert_eq!(secs(now, next), 5 * 60);
        let (_, next) = after_success(
            &policy(),
            None,
            &hints(Some(30 * 24 * HOUR), None),
            None,
            now,
        );
        assert_eq!(secs(now, next), 12 * 3600);
    }

    #[test]
    fn failure_backoff_doubles_from_base() {
        let p = policy();
        let mut health = FeedHealth::default();
        let mut now = t0();
        let mut delays = Vec::new();
        for _ in 0..4 {
            let (h, next) = after_failure(&p, &health, "boom", None, now);
            delays.push(secs(now, next));
            health = h;
            now = next;
        }
        assert_eq!(delays, vec![300, 600, 1200, 2400]);
        assert_eq!(health.consecutive_failures, 4);
        assert_eq!(health.status, FeedStatus::Failing);
        assert_eq!(health.failing_since, Some(t0()));
        assert_eq!(health.last_error.as_deref(), Some("boom"));
    }

    #[test]
    fn failure_backoff_is_capped() {
        let p = policy();
        let previous = FeedHealth {
            status: FeedStatus::Failing,
            consecutive_failures: 40,
            failing_since: Some(t0()),
            ..FeedHealth::default()
        };
        let now = t0() + SignedDuration::from_hours(1);
        let (health, next) = after_failure(&p, &previous, "boom", None, now);
        assert_eq!(secs(now, next), 6 * 3600);
        assert_eq!(health.consecutive_failures, 41);
        assert_eq!(health.failing_since, Some(t0()));
        // Even absurd failure counts do not overflow.
        let previous = FeedHealth {
            consecutive_failures: u32::MAX,
            ..previous
        };
        let (health, next) = after_failure(&p, &previous, "boom", None, now);
        assert_eq!(secs(now, next), 6 * 3600);
        assert_eq!(health.consecutive_failures, u32::MAX);
    }

    #[test]
    fn failure_honours_retry_after_within_the_ceiling() {
        let p = policy();
        let now = t0();
        let fresh = FeedHealth::default();
        let (_, next) = after_failure(&p, &fresh, "429", Some(Duration::from_secs(1200)), now);
        assert_eq!(secs(now, next), 1200);
        // A shorter Retry-After does not shorten the backoff.
        let (_, next) = after_failure(&p, &fresh, "429", Some(Duration::from_secs(10)), now);
        assert_eq!(secs(now, next), 300);
        // A huge one is limited to max(backoff_max, max_interval) = 12 h.
        let week = Some(Duration::from_secs(7 * 24 * HOUR));
        let (_, next) = after_failure(&p, &fresh, "503", week, now);
        assert_eq!(secs(now, next), 12 * 3600);
    }

    #[test]
    fn dead_after_a_span_of_failures_not_a_count() {
        let p = policy();
        // Many failures in a short span: still only failing.
        let mut health = FeedHealth::default();
        let mut now = t0();
        for _ in 0..20 {
            let (h, _) = after_failure(&p, &health, "boom", None, now);
            health = h;
            now += SignedDuration::from_mins(1);
        }
        assert_eq!(health.status, FeedStatus::Failing);
        // Two failures a week apart: dead, and retried at backoff_max.
        let (first, _) = after_failure(&p, &FeedHealth::default(), "boom", None, t0());
        let week_later = t0() + SignedDuration::from_hours(7 * 24);
        let (second, next) = after_failure(&p, &first, "boom", None, week_later);
        assert_eq!(second.status, FeedStatus::Dead);
        assert_eq!(second.consecutive_failures, 2);
        assert_eq!(secs(week_later, next), 6 * 3600);
        // Just short of the span: not dead yet.
        let almost = week_later - SignedDuration::from_secs(1);
        let (second, _) = after_failure(&p, &first, "boom", None, almost);
        assert_eq!(second.status, FeedStatus::Failing);
    }

    #[test]
    fn success_recovers_a_dead_feed() {
        let p = policy();
        let (first, _) = after_failure(&p, &FeedHealth::default(), "gone", None, t0());
        let (dead, _) = after_failure(
            &p,
            &first,
            "gone",
            None,
            t0() + SignedDuration::from_hours(8 * 24),
        );
        let now = t0() + SignedDuration::from_hours(10 * 24);
        let (health, _) = after_success(&p, None, &CacheHints::default(), None, now);
        assert_eq!(dead.status, FeedStatus::Dead);
        assert_eq!(health.status, FeedStatus::Ok);
        assert_eq!(health.consecutive_failures, 0);
        assert_eq!(health.failing_since, None);
        assert_eq!(health.last_error, None);
        // The next failure starts a new run.
        let later_now = now + SignedDuration::from_hours(1);
        let (again, next) = after_failure(&p, &health, "boom", None, later_now);
        assert_eq!(again.status, FeedStatus::Failing);
        assert_eq!(again.failing_since, Some(later_now));
        assert_eq!(secs(later_now, next), 300);
        assert_eq!(again.last_success, Some(now));
    }

    #[test]
    fn status_round_trips_through_text() {
        for status in [FeedStatus::Ok, FeedStatus::Failing, FeedStatus::Dead] {
            assert_eq!(FeedStatus::parse(status.as_str()), Some(status));
        }
    }
}
