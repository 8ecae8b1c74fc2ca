//! What this process did since it started, counted in memory for `/metrics` beside the store's
//! gauges: polls by outcome, fetch errors by kind, items processed, digest posts, and how long
//! polls and items took. Lock-free (atomics), so counting never holds up the work it counts.
//! The desk owns one ([`crate::pipeline::Desk::metrics`]); the web server beside the daemon
//! reads the same one. `newsdesk serve` alone has none worth showing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::fetch::FetchError;
use crate::pipeline::PollOutcome;

/// Seconds a feed poll takes (fetch, parse, store).
pub const POLL_BOUNDS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
/// Seconds an item's processing takes (summary, grouping, Related, topics).
pub const ITEM_BOUNDS: &[f64] = &[0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

/// A label set's name and the values it counts, in exposition order.
macro_rules! labelled {
    ($name:ident { $($variant:ident => $label:literal),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($variant),+ }
        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant),+];
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
        }
    };
}

labelled!(PollResult {
    Updated => "updated",
    Unchanged => "unchanged",
    Failed => "failed",
});

labelled!(FetchErrorKind {
    Timeout => "timeout",
    Http4xx => "http_4xx",
    Http5xx => "http_5xx",
    HttpOther => "http_other",
    Network => "network",
    TooLarge => "too_large",
    Refused => "refused",
    File => "file",
    BadUrl => "bad_url",
    Parse => "parse",
});

labelled!(Fetched {
    Feed => "feed",
    Page => "page",
});

labelled!(ItemResult {
    Processed => "processed",
    Failed => "failed",
});

labelled!(PostResult {
    Sent => "sent",
    PartlyRefused => "partly_refused",
    Failed => "failed",
    ChannelUnavailable => "channel_unavailable",
    Unauthorized => "unauthorized",
});

impl FetchErrorKind {
    pub fn of(error: &FetchError) -> FetchErrorKind {
        match error {
            FetchError::Timeout(_) => FetchErrorKind::Timeout,
            FetchError::Status { status, .. } => match status {
                400..=499 => FetchErrorKind::Http4xx,
                500..=599 => FetchErrorKind::Http5xx,
                _ => FetchErrorKind::HttpOther,
            },
            FetchError::Network(_) => FetchErrorKind::Network,
            FetchError::TooLarge { .. } => FetchErrorKind::TooLarge,
            FetchError::Refused(_) => FetchErrorKind::Refused,
            FetchError::File { .. } => FetchErrorKind::File,
            FetchError::UnsupportedUrl(_) => FetchErrorKind::BadUrl,
        }
    }
}

impl PollResult {
    pub fn of(outcome: &PollOutcome) -> PollResult {
        match outcome {
            PollOutcome::Updated { .. } => PollResult::Updated,
            PollOutcome::Unchanged => PollResult::Unchanged,
            PollOutcome::Failed { .. } => PollResult::Failed,
        }
    }
}

/// One counter per label value, indexed by the value's place in its `ALL`.
#[derive(Debug)]
struct Counters(Box<[AtomicU64]>);

impl Counters {
    fn new(n: usize) -> Counters {
        Counters((0..n).map(|_| AtomicU64::new(0)).collect())
    }

    fn add(&self, i: usize) {
        if let Some(c) = self.0.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn get(&self, i: usize) -> u64 {
        self.0.get(i).map_or(0, |c| c.load(Ordering::Relaxed))
    }
}

/// Observations per bucket (not cumulative: the exposition adds them up) and their sum.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    /// One per bound, then the +Inf bucket.
    buckets: Counters,
    sum_micros: AtomicU64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            buckets: Counters::new(bounds.len() + 1),
            sum_micros: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        let bucket = self
            .bounds
            .iter()
            .position(|&le| seconds <= le)
            .unwrap_or(self.bounds.len());
        self.buckets.add(bucket);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> HistogramCounts {
        HistogramCounts {
            bounds: self.bounds,
            buckets: (0..=self.bounds.len())
                .map(|i| self.buckets.get(i))
                .collect(),
            sum_seconds: self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }
}

/// A histogram at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramCounts {
    pub bounds: &'static [f64],
    /// Observations per bucket, not cumulative; the last is above every bound.
    pub buckets: Vec<u64>,
    pub sum_seconds: f64,
}

impl HistogramCounts {
    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }
}

/// The counts of one process.
#[derive(Debug)]
pub struct Metrics {
    polls: Counters,
    fetch_errors: Counters,
    items: Counters,
    posts: Counters,
    poll_time: Histogram,
    item_time: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            polls: Counters::new(PollResult::ALL.len()),
            fetch_errors: Counters::new(Fetched::ALL.len() * FetchErrorKind::ALL.len()),
            items: Counters::new(ItemResult::ALL.len()),
            posts: Counters::new(PostResult::ALL.len()),
            poll_time: Histogram::new(POLL_BOUNDS),
            item_time: Histogram::new(ITEM_BOUNDS),
        }
    }
}

fn index<T: PartialEq>(all: &[T], value: &T) -> usize {
    all.iter().position(|v| v == value).unwrap_or(usize::MAX)
}

impl Metrics {
    pub fn poll(&self, result: PollResult, took: Duration) {
        self.polls.add(index(PollResult::ALL, &result));
        self.poll_time.observe(took);
    }

    pub fn fetch_error(&self, what: Fetched, kind: FetchErrorKind) {
        let i = index(Fetched::ALL, &what) * FetchErrorKind::ALL.len()
            + index(FetchErrorKind::ALL, &kind);
        self.fetch_errors.add(i);
    }

    pub fn item(&self, result: ItemResult, took: Duration) {
        self.items.add(index(ItemResult::ALL, &result));
        self.item_time.observe(took);
    }

    pub fn post(&self, result: PostResult) {
        self.posts.add(index(PostResult::ALL, &result));
    }

    pub fn snapshot(&self) -> Counts {
        let mut fetch_errors = Vec::new();
        for (w, what) in Fetched::ALL.iter().enumerate() {
            for (k, kind) in FetchErrorKind::ALL.iter().enumerate() {
                let n = self.fetch_errors.get(w * FetchErrorKind::ALL.len() + k);
                fetch_errors.push((*what, *kind, n));
            }
        }
        Counts {
            polls: labelled_counts(PollResult::ALL, &self.polls),
            fetch_errors,
            items: labelled_counts(ItemResult::ALL, &self.items),
            posts: labelled_counts(PostResult::ALL, &self.posts),
            poll_time: self.poll_time.snapshot(),
            item_time: self.item_time.snapshot(),
        }
    }
}

fn labelled_counts<T: Copy>(all: &[T], counters: &Counters) -> Vec<(T, u64)> {
    all.iter()
        .enumerate()
        .map(|(i, v)| (*v, counters.get(i)))
        .collect()
}

/// [`Metrics`] at one moment, every label value present (zeros included, so a rate query
/// sees a series from the start).
#[derive(Debug, Clone, PartialEq)]
pub struct Counts {
    pub polls: Vec<(PollResult, u64)>,
    pub fetch_errors: Vec<(Fetched, FetchErrorKind, u64)>,
    pub items: Vec<(ItemResult, u64)>,
    pub posts: Vec<(PostResult, u64)>,
    pub poll_time: HistogramCounts,
    pub item_time: HistogramCounts,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_observation_lands_in_the_first_bucket_that_holds_it() {
        let h = Histogram::new(&[0.1, 1.0]);
        h.observe(Duration::from_millis(100));
        h.observe(Duration::from_millis(500));
        h.observe(Duration::from_secs(3));
        h.observe(Duration::from_secs(4));
        let counts = h.snapshot();
        assert_eq!(counts.buckets, [1, 1, 2]);
        assert_eq!(counts.count(), 4);
        assert!((counts.sum_seconds - 7.6).abs() < 1e-9, "{counts:?}");
    }

    #[test]
    fn each_label_value_counts_on_its_own() {
        let m = Metrics::default();
        m.poll(PollResult::Failed, Duration::ZERO);
        m.fetch_error(Fetched::Page, FetchErrorKind::Timeout);
        m.fetch_error(Fetched::Page, FetchErrorKind::Timeout);
        m.fetch_error(Fetched::Feed, FetchErrorKind::Parse);
        let c = m.snapshot();
        assert_eq!(
            c.polls,
            [
                (PollResult::Updated, 0),
                (PollResult::Unchanged, 0),
                (PollResult::Failed, 1)
            ]
        );
        let nonzero: Vec<_> = c.fetch_errors.iter().filter(|(_, _, n)| *n > 0).collect();
        assert_eq!(
            nonzero,
            [
                &(Fetched::Feed, FetchErrorKind::Parse, 1),
                &(Fetched::Page, FetchErrorKind::Timeout, 2)
            ]
        );
        assert_eq!(
            FetchErrorKind::of(&FetchError::Status {
                status: 503,
                retry_after: None
            }),
            FetchErrorKind::Http5xx
        );
    }
}
