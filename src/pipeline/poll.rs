//! Polling: fetch a feed (conditionally), decode and parse it, store the entries it has not
//! seen, and record the feed's health and next poll time.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::task::JoinSet;
use url::Url;

use super::{Desk, PipelineError};
use crate::fetch::schedule::{self, FeedHealth, FeedStatus};
use crate::fetch::{CacheHints, FetchOutcome, Fetcher, Validators};
use crate::metrics::{FetchErrorKind, Fetched, PollResult};
use crate::model::{Entry, ParsedFeed};
use crate::parse;
use crate::store::{FeedOrigin, FeedRow, NewItems, PollRecord, UnchangedPoll};

/// Entries stored per transaction: a feed with 100,000 entries must not hold the store for
/// seconds while digests wait.
const STORE_CHUNK: usize = 500;

/// Unchanged feeds recorded per transaction by [`Desk::poll_feeds`]. Losing such records to a
/// crash costs only a repeated conditional request, so they wait for company; the batch stays
/// small enough that the store is never held for long.
const UNCHANGED_BATCH: usize = 256;

/// A poll whose unchanged outcome may not be in the store yet.
enum Polled {
    Done(PollOutcome),
    Unchanged(UnchangedPoll),
}

/// What one poll of one feed did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollOutcome {
    /// 304, or the same bytes as last time: nothing parsed.
    Unchanged,
    /// Parsed and stored: `new` items, of which `announced` may appear in digests.
    Updated {
        new: usize,
        announced: usize,
    },
    Failed {
        error: String,
        status: FeedStatus,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollSummary {
    pub feeds: usize,
    pub unchanged: usize,
    pub updated: usize,
    pub failed: usize,
    pub new_items: usize,
    pub announced: usize,
}

impl PollSummary {
    fn add(&mut self, outcome: &PollOutcome) {
        self.feeds += 1;
        match outcome {
            PollOutcome::Unchanged => self.unchanged += 1,
            PollOutcome::Updated { new, announced } => {
                self.updated += 1;
                self.new_items += new;
                self.announced += announced;
            }
            PollOutcome::Failed { .. } => self.failed += 1,
        }
    }
}

impl Desk {
    /// Polls every due feed, `polling.concurrency` at a time. `on_done` is called after each
    /// feed (progress display).
    pub async fn poll_due(
        self: &Arc<Self>,
        now: Timestamp,
        on_done: &(dyn Fn(&FeedRow, &PollOutcome) + Sync),
    ) -> Result<PollSummary, PipelineError> {
        let due = self.store().due_feeds(now, None)?;
        self.poll_feeds(due, now, on_done).await
    }

    /// Polls `feeds`, `polling.concurrency` at a time. Unchanged feeds are recorded
    /// [`UNCHANGED_BATCH`] per transaction.
    pub async fn poll_feeds(
        self: &Arc<Self>,
        feeds: Vec<FeedRow>,
        now: Timestamp,
        on_done: &(dyn Fn(&FeedRow, &PollOutcome) + Sync),
    ) -> Result<PollSummary, PipelineError> {
        let mut summary = PollSummary::default();
        let mut unchanged = Vec::new();
        let limit = self.config.polling.concurrency.max(1);
        let mut tasks = JoinSet::new();
        let mut queue = feeds.into_iter();
        loop {
            while tasks.len() < limit {
                let Some(feed) = queue.next() else { break };
                let desk = Arc::clone(self);
                tasks.spawn(async move {
                    let polled = desk.poll_feed_counted(&feed, now).await;
                    (feed, polled)
                });
            }
            let Some(joined) = tasks.join_next().await else {
                self.store().record_unchanged_polls(&unchanged, now)?;
                return Ok(summary);
            };
            let Ok((feed, polled)) = joined else {
                continue;
            };
            let outcome = match polled {
                Ok(Polled::Done(outcome)) => outcome,
                Ok(Polled::Unchanged(poll)) => {
                    unchanged.push(poll);
                    if unchanged.len() >= UNCHANGED_BATCH {
                        self.store().record_unchanged_polls(&unchanged, now)?;
                        unchanged.clear();
                    }
                    PollOutcome::Unchanged
                }
                Err(e) => {
                    // The store failed: what is waiting would most likely fail too, and
                    // is only fetched again if lost.
                    let _ = self.store().record_unchanged_polls(&unchanged, now);
                    return Err(e);
                }
            };
            on_done(&feed, &outcome);
            summary.add(&outcome);
        }
    }

    /// Polls one feed and stores what is new. Fetch and parse failures are recorded in the
    /// feed's health (and returned as `Failed`), never lost or raised; store failures are
    /// raised, and leave the feed to be fetched again. Counted in [`Desk::metrics`].
    pub async fn poll_feed(
        &self,
        feed: &FeedRow,
        now: Timestamp,
    ) -> Result<PollOutcome, PipelineError> {
        match self.poll_feed_counted(feed, now).await? {
            Polled::Done(outcome) => Ok(outcome),
            Polled::Unchanged(poll) => {
                self.store()
                    .record_unchanged_polls(std::slice::from_ref(&poll), now)?;
                Ok(PollOutcome::Unchanged)
            }
        }
    }

    /// [`Desk::poll_feed`] but for recording an unchanged outcome, which is left to the caller.
    async fn poll_feed_counted(
        &self,
        feed: &FeedRow,
        now: Timestamp,
    ) -> Result<Polled, PipelineError> {
        let started = std::time::Instant::now();
        let polled = self.poll_feed_uncounted(feed, now).await;
        if let Ok(polled) = &polled {
            let result = match polled {
                Polled::Done(outcome) => PollResult::of(outcome),
                Polled::Unchanged(_) => PollResult::of(&PollOutcome::Unchanged),
            };
            self.metrics.poll(result, started.elapsed());
        }
        polled
    }

    async fn poll_feed_uncounted(
        &self,
        feed: &FeedRow,
        now: Timestamp,
    ) -> Result<Polled, PipelineError> {
        let fetch_failed = |kind| self.metrics.fetch_error(Fetched::Feed, kind);
        let url = match Url::parse(&feed.url) {
            Ok(url) => url,
            Err(e) => {
                fetch_failed(FetchErrorKind::BadUrl);
                return self
                    .fail(feed, &format!("invalid URL: {e}"), None, now)
                    .map(Polled::Done);
            }
        };
        let fetched = match self.feed_fetcher(feed).get(&url, &feed.validators).await {
            Ok(FetchOutcome::NotModified { hints }) => {
                return Ok(self.unchanged(feed, &feed.validators, None, &hints, now));
            }
            Ok(FetchOutcome::Fetched(fetched)) => fetched,
            Err(e) => {
                fetch_failed(FetchErrorKind::of(&e));
                return self
                    .fail(feed, &e.to_string(), e.retry_after(), now)
                    .map(Polled::Done);
            }
        };
        let hash = crate::hash::sha256_hex([&fetched.body]);
        if feed.body_hash.as_deref() == Some(hash.as_str()) {
            let validators = &fetched.validators;
            return Ok(self.unchanged(feed, validators, Some(&hash), &fetched.hints, now));
        }
        let content_type = fetched.content_type.clone();
        let base = fetched.final_url.clone();
        let parsed = match parse_off_thread(fetched.body, content_type, base).await {
            Ok(parsed) => parsed,
            Err(e) => {
                fetch_failed(FetchErrorKind::Parse);
                return self.fail(feed, &e, None, now).map(Polled::Done);
            }
        };
        let ttl = parsed
            .meta
            .ttl_minutes
            .map(|m| Duration::from_secs(u64::from(m) * 60));
        let interval = self.feed_interval(feed);
        let (health, next) =
            schedule::after_success(&self.policy, interval, &fetched.hints, ttl, now);
        let record = PollRecord::Success {
            validators: &fetched.validators,
            body_hash: Some(&hash),
            meta: Some(&parsed.meta),
        };
        let stored = self
            .store_new_entries(feed, &parsed.entries, record, &health, next, now)
            .await?;
        tracing::info!(feed = %feed.name, new = stored.ids.len(), announced = stored.announced, "feed updated");
        Ok(Polled::Done(PollOutcome::Updated {
            new: stored.ids.len(),
            announced: stored.announced,
        }))
    }

    /// The feed's own `[[feed]] interval`, if it has one.
    fn feed_interval(&self, feed: &FeedRow) -> Option<Duration> {
        self.feed_config(feed)
            .and_then(|f| f.interval)
            .map(|d| d.get())
    }

    /// A poll that found nothing new (304, or the same bytes as last time), to be recorded.
    fn unchanged(
        &self,
        feed: &FeedRow,
        validators: &Validators,
        body_hash: Option<&str>,
        hints: &CacheHints,
        now: Timestamp,
    ) -> Polled {
        let interval = self.feed_interval(feed);
        let (health, next) = schedule::after_success(&self.policy, interval, hints, None, now);
        Polled::Unchanged(UnchangedPoll {
            id: feed.id,
            validators: validators.clone(),
            body_hash: body_hash.map(str::to_string),
            health,
            next,
        })
    }

    /// Which new entries may appear in digests: none of a feed's first fetch (unless
    /// `announce_first_fetch`), none older than `max_item_age`.
    fn announce_rule(&self, feed: &FeedRow, now: Timestamp) -> impl Fn(&Entry) -> bool + use<> {
        let announce_all = feed.seeded || self.config.polling.announce_first_fetch;
        let max_age = self.config.polling.max_item_age;
        let oldest = (!max_age.is_zero()).then(|| now - max_age.as_span());
        move |entry: &Entry| -> bool {
            announce_all
                && match (oldest, entry.published) {
                    (Some(oldest), Some(published)) => published >= oldest,
                    _ => true,
                }
        }
    }

    /// Stores the entries not seen before (announced per [`Desk::announce_rule`]),
    /// [`STORE_CHUNK`] per transaction, and the poll's `record` with its `health` and `next`
    /// poll time.
    async fn store_new_entries(
        &self,
        feed: &FeedRow,
        entries: &[Entry],
        record: PollRecord<'_>,
        health: &FeedHealth,
        next: Timestamp,
        now: Timestamp,
    ) -> Result<NewItems, PipelineError> {
        let announce = self.announce_rule(feed, now);
        let mut chunks = entries.chunks(STORE_CHUNK).peekable();
        if chunks.peek().is_none() {
            self.store()
                .record_poll(feed.id, record, health, next, now)?;
            return Ok(NewItems::default());
        }
        // Every chunk but the last commits on its own; the poll (validators, body hash) is
        // recorded with the last, so a crash midway fetches the document again and the
        // entries already stored are recognised and skipped.
        let mut stored = NewItems::default();
        while let Some(chunk) = chunks.next() {
            let more = if chunks.peek().is_some() {
                self.store()
                    .store_entries(feed.id, &feed.name, chunk, &announce, now)?
            } else {
                self.store().store_fetched(
                    feed.id,
                    &feed.name,
                    chunk,
                    &announce,
                    record.clone(),
                    health,
                    next,
                    now,
                )?
            };
            stored.ids.extend(more.ids);
            stored.announced += more.announced;
            // Let deliveries and commands have the store between chunks.
            tokio::task::yield_now().await;
        }
        Ok(stored)
    }

    fn fail(
        &self,
        feed: &FeedRow,
        error: &str,
        retry_after: Option<Duration>,
        now: Timestamp,
    ) -> Result<PollOutcome, PipelineError> {
        let (health, next) =
            schedule::after_failure(&self.policy, &feed.health, error, retry_after, now);
        tracing::warn!(feed = %feed.name, url = %feed.url, status = health.status.as_str(), %error, "feed poll failed");
        self.store()
            .record_poll(feed.id, PollRecord::Failure, &health, next, now)?;
        Ok(PollOutcome::Failed {
            error: error.to_string(),
            status: health.status,
        })
    }

    /// The fetcher for a feed document. The operator's own config feeds may reach any
    /// address; feeds added from Discord or imported from a file are third-party input and
    /// reach only public addresses unless allowed otherwise.
    fn feed_fetcher(&self, feed: &FeedRow) -> Fetcher {
        if feed.origin == FeedOrigin::Config || self.may_reach_private(feed) {
            self.fetcher.clone()
        } else {
            self.fetcher.public_only()
        }
    }
}

/// Parses a feed document on the blocking pool: parsing is CPU work (a big feed takes a
/// while), kept off the async threads.
async fn parse_off_thread(
    body: Vec<u8>,
    content_type: Option<String>,
    base: Url,
) -> Result<ParsedFeed, String> {
    tokio::task::spawn_blocking(move || {
        parse::parse_feed(&body, content_type.as_deref(), Some(&base)).map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|e| Err(format!("parsing panicked: {e}")))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::config::Config;
    use crate::store::count_commits;

    /// A warm round over thousands of feeds spent most of its time committing one
    /// transaction per unchanged feed.
    #[tokio::test]
    async fn a_round_of_unchanged_feeds_is_recorded_in_a_few_transactions() {
        let dir = tempfile::tempdir().expect("temp dir");
        let feeds = UNCHANGED_BATCH + 44;
        let mut text = String::from("[storage]\npath = \"desk.db\"\n");
        for n in 0..feeds {
            let xml = format!(
                r#"<?xml version="1.0"?><rss version="2.0"><channel><title>F{n}</title>
                <item><title>Item {n}</title><guid>g{n}</guid></item></channel></rss>"#
            );
            std::fs::write(dir.path().join(format!("{n}.xml")), xml).expect("feed file");
            text.push_str(&format!(
                "[[feed]]\nname = \"F{n}\"\nurl = \"file:{n}.xml\"\n"
            ));
        }
        let config = Config::from_str_at(&text, &dir.path().join("desk.toml")).expect("config");
        let now = Timestamp::from_second(1_795_000_000).expect("time");
        let desk = Arc::new(Desk::open(config, now).expect("desk"));
        let rows = desk.store().active_feeds().expect("feeds");
        let first = desk.poll_feeds(rows, now, &|_, _| {}).await.expect("first");
        assert_eq!(first.updated, feeds);

        let rows = desk.store().active_feeds().expect("feeds");
        let commits = count_commits(&mut desk.store());
        let later = now + jiff::SignedDuration::from_hours(2);
        let warm = desk
            .poll_feeds(rows, later, &|_, _| {})
            .await
            .expect("warm");
        assert_eq!(warm.unchanged, feeds);
        assert_eq!(commits.load(Ordering::Relaxed), 2);
        // Every feed's poll is recorded: none is due again before its interval.
        assert!(desk.store().due_feeds(later, None).expect("due").is_empty());
        let polled = desk.store().active_feeds().expect("feeds");
        assert!(polled.iter().all(|f| f.last_attempt == Some(later)));
    }
}
