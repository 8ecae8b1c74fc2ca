//! Processing: each stored item becomes article text, a summary, a place in a story with its
//! Related list, and topic matches. Each item is all or nothing (a few items share a
//! transaction, each inside its own savepoint), so a crash at any instant leaves every item
//! either untouched (and pending) or done. The CPU-heavy stages run on the blocking
//! pool so polls, deliveries and commands keep their threads; the store-free ones of a batch's
//! items run there side by side, one per core, while the items reach the store in queue order.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use url::Url;

use super::{Desk, PipelineError};
use crate::config::FullText;
use crate::extract;
use crate::fetch::{FetchOutcome, Fetcher};
use crate::metrics::{FetchErrorKind, Fetched, ItemResult};
use crate::relate::{self, ItemTerms, RelateSettings};
use crate::store::{FeedId, FeedRow, ItemId, ItemRow, ProcessedItem, Store, TextSource};
use crate::summarize;
use crate::topics::{Query, TopicDoc};

/// Attempts at processing one item, spaced out, before it is set aside (logged, kept in the
/// store): an item that makes a stage fail every time must not hold up the items behind it.
pub const MAX_ITEM_ATTEMPTS: u32 = 3;
/// Wait before the second attempt at a failed item; doubled before the third.
const ITEM_RETRY_AFTER: SignedDuration = SignedDuration::from_mins(5);
/// A set-aside item is still tried once a day: whatever failed may have been fixed (an upgrade,
/// a page that came back), and a story is never given up for good.
const SET_ASIDE_RETRY: SignedDuration = SignedDuration::from_hours(24);
/// Items taken from the queue at a time; deliveries and commands get the store in between.
const BATCH: usize = 16;
/// Items stored per transaction. A commit writes every page its items touched (story rows,
/// index entries, document frequencies, the full-text index's segment), and items committed
/// together share many of those pages: at 1,000 feeds a round of 2,000 new items took 15.8 s
/// one item per transaction and 13.4–14.2 s eight at a time. Eight items are about 40 ms of
/// writing, all the store's other users wait at most. A crash loses the group's processing,
/// not its items: they are still pending.
pub(crate) const GROUP: usize = 8;

impl Desk {
    /// Processes every pending item. Returns the number of items processed or set aside.
    pub async fn process_pending(self: &Arc<Self>, now: Timestamp) -> Result<usize, PipelineError> {
        let mut done = 0;
        loop {
            let n = self.process_batch(BATCH, now).await?;
            if n == 0 {
                return Ok(done);
            }
            done += n;
        }
    }

    /// Processes up to `limit` pending items, oldest first. An item whose processing fails is
    /// counted and left for a later attempt; a transient fault (full disk, busy database) stops
    /// the batch and is returned, with the item still pending.
    ///
    /// Each item's store-free work (summary, gist, topics, its grouping terms) is prepared on
    /// the blocking pool, one item per core at a time, in queue order; meanwhile the prepared
    /// items take their turn at the store strictly in that order, [`GROUP`] per transaction,
    /// so every item is grouped against all the items before it, as one at a time would.
    pub async fn process_batch(
        self: &Arc<Self>,
        limit: usize,
        now: Timestamp,
    ) -> Result<usize, PipelineError> {
        let batch = self.store().pending_items(limit, now)?;
        let count = batch.len();
        if count == 0 {
            return Ok(0);
        }
        let pages = self.fetch_pages(&batch).await;
        let (mut preparing, mut feeder) = self.prepare_in_order(batch, pages);
        let mut group = Vec::with_capacity(GROUP);
        loop {
            let next = preparing.recv().await;
            let ended = next.is_none();
            group.extend(next);
            if group.len() == GROUP || (ended && !group.is_empty()) {
                self.store_group(std::mem::take(&mut group), now).await?;
            }
            if ended {
                break;
            }
        }
        // Only the LLM's code runs there outside the blocking pool: a panic in it is the
        // batch's, as it was when summaries were asked for in line.
        (&mut feeder.0)
            .await
            .map_err(|e| PipelineError::Panicked(e.to_string()))?;
        Ok(count)
    }

    /// Stores a group of prepared items in queue order, in one transaction (each item all or
    /// nothing inside it), then counts them and records their failures. An item that fails is
    /// left pending for a later attempt; a transient fault (full disk, busy database) ends the
    /// group there, commits the items before it and is returned.
    async fn store_group(
        self: &Arc<Self>,
        group: Vec<Preparing>,
        now: Timestamp,
    ) -> Result<(), PipelineError> {
        let mut outcomes = Vec::with_capacity(group.len());
        let mut prepared = Vec::with_capacity(group.len());
        for Preparing { id, failures, work } in group {
            match work.await {
                Ok(p) => prepared.push((id, failures, p)),
                Err(e) => outcomes.push(Outcome {
                    id,
                    failures,
                    result: Err(PipelineError::Panicked(e.to_string())),
                    took: Duration::ZERO,
                }),
            }
        }
        let desk = Arc::clone(self);
        let (committed, stored) = tokio::task::spawn_blocking(move || {
            let mut stored = Vec::with_capacity(prepared.len());
            let committed = desk.store().atomically(|store| {
                for (id, failures, p) in &prepared {
                    let started = std::time::Instant::now();
                    let result = match store.catching_panics(|s| desk.store_item(s, p, now)) {
                        Ok(Ok(result)) => result,
                        Ok(Err(panic)) => Err(PipelineError::Panicked(panic)),
                        Err(e) => Err(e.into()),
                    };
                    let transient = matches!(&result, Err(e) if e.is_transient());
                    stored.push(Outcome {
                        id: *id,
                        failures: *failures,
                        result,
                        took: p.took + started.elapsed(),
                    });
                    if transient {
                        break;
                    }
                }
                Ok::<_, PipelineError>(())
            });
            (committed, stored)
        })
        .await
        .map_err(|e| PipelineError::Panicked(e.to_string()))?;
        committed?;
        outcomes.extend(stored);
        for Outcome {
            id,
            failures,
            result,
            took,
        } in outcomes
        {
            match result {
                Ok(()) => self.metrics.item(ItemResult::Processed, took),
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => {
                    self.metrics.item(ItemResult::Failed, took);
                    let retry_at = if failures + 1 >= MAX_ITEM_ATTEMPTS {
                        now + SET_ASIDE_RETRY
                    } else {
                        now + ITEM_RETRY_AFTER * 2i32.pow(failures)
                    };
                    let error = e.to_string();
                    let failures = self.store().record_item_failure(id, &error, retry_at)?;
                    if failures >= MAX_ITEM_ATTEMPTS {
                        tracing::error!(item = %id, %error,
                            "item set aside after {failures} failed attempts; tried again daily");
                    } else {
                        tracing::warn!(item = %id, %error, failures, "item processing failed; will retry");
                    }
                }
            }
        }
        Ok(())
    }

    /// Starts preparing the batch's items, in order, at most one per core at a time: the
    /// receiver yields each item's preparation in queue order. LLM summaries (network calls)
    /// are asked for one item after another, as before, ahead of each item's preparation.
    fn prepare_in_order(
        self: &Arc<Self>,
        batch: Vec<ItemRow>,
        mut pages: HashMap<ItemId, Option<String>>,
    ) -> (mpsc::Receiver<Preparing>, Feeder) {
        let (sender, receiver) = mpsc::channel(batch.len().max(1));
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let slots = Arc::new(Semaphore::new(cores));
        // The topics in force for the whole batch (config plus those added from Discord).
        let topics = Arc::new(crate::store::effective_topics(&self.config, &self.store()));
        let desk = Arc::clone(self);
        let feeder = tokio::spawn(async move {
            for item in batch {
                let started = std::time::Instant::now();
                let (id, failures) = (item.id, item.failures);
                let (text, source) = article_text(&item, pages.remove(&id).flatten());
                let summary = desk.llm_summary(&item, &text).await;
                let asked = started.elapsed();
                let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
                    return;
                };
                let (desk, topics) = (Arc::clone(&desk), Arc::clone(&topics));
                let work = tokio::task::spawn_blocking(move || {
                    let started = std::time::Instant::now();
                    let mut prepared = desk.prepare(item, text, source, summary, &topics);
                    prepared.took = asked + started.elapsed();
                    drop(slot);
                    prepared
                });
                let next = Preparing { id, failures, work };
                if sender.send(next).await.is_err() {
                    // The batch stopped at a fault: nothing more to prepare.
                    return;
                }
            }
        });
        (receiver, Feeder(feeder))
    }

    /// Where an item's text comes from, per the feed's `full_text` setting.
    fn needs_page(&self, item: &ItemRow, feed: &FeedRow) -> bool {
        let policy = self
            .feed_config(feed)
            .map(|f| f.full_text)
            .unwrap_or_default();
        item.url.is_some()
            && match policy {
                FullText::Never => false,
                FullText::Always => true,
                FullText::Auto => {
                    item.feed_text.chars().count() < self.config.polling.full_text_min_chars
                }
            }
    }

    /// The fetcher for the pages a feed links to: third-party URLs, so only public addresses
    /// are reached unless the operator opted the feed in. `None` when the link may not be
    /// followed at all.
    fn page_fetcher(&self, feed: &FeedRow, link: &str) -> Option<Fetcher> {
        // A page on this machine's disk only for a feed read from it (the offline demo): a web
        // feed cannot make newsdesk read local files.
        if link.starts_with("file:") {
            return feed.url.starts_with("file:").then(|| self.fetcher.clone());
        }
        Some(if self.may_reach_private(feed) {
            self.fetcher.clone()
        } else {
            self.fetcher.public_only()
        })
    }

    /// Fetches and extracts the article pages the batch needs, concurrently (the fetcher keeps
    /// per-host politeness). A page already extracted for another item is reused.
    async fn fetch_pages(&self, batch: &[ItemRow]) -> HashMap<ItemId, Option<String>> {
        let mut out = HashMap::new();
        let mut feeds: HashMap<FeedId, Option<FeedRow>> = HashMap::new();
        let mut tasks = JoinSet::new();
        for item in batch {
            let Some(url) = item.url.clone() else {
                continue;
            };
            let Some(feed) = feeds
                .entry(item.feed_id)
                .or_insert_with(|| self.store().feed(item.feed_id).ok())
                .as_ref()
            else {
                continue;
            };
            if !self.needs_page(item, feed) {
                continue;
            }
            let Some(fetcher) = self.page_fetcher(feed, &url) else {
                tracing::warn!(feed = %feed.name, %url, "local file link in a web feed ignored");
                continue;
            };
            let cached = self
                .store()
                .item_by_url(&url)
                .ok()
                .flatten()
                .filter(|other| other.text_source == Some(TextSource::Page))
                .and_then(|other| other.text);
            if let Some(text) = cached {
                out.insert(item.id, Some(text));
                continue;
            }
            let id = item.id;
            tasks.spawn(async move { (id, fetch_page_text(&fetcher, &url).await) });
        }
        while let Some(joined) = tasks.join_next().await {
            if let Ok((id, text)) = joined {
                let text = text.unwrap_or_else(|kind| {
                    self.metrics.fetch_error(Fetched::Page, kind);
                    None
                });
                out.insert(id, text);
            }
        }
        out
    }

    /// The LLM's summary of the item, when one is configured (a network call, made here
    /// outside the blocking pool); None leaves the extractive summary to [`Desk::prepare`].
    async fn llm_summary(&self, item: &ItemRow, text: &str) -> Option<String> {
        let llm = self.llm.as_ref()?;
        let opts = self.summary_options();
        let extractive = || summarize::summarize(Some(&item.title), text, opts);
        Some(
            llm.summarize(&item.title, text, &self.store, extractive)
                .await
                .0,
        )
    }

    /// Whether the item's feed requires topics (`require_topics`) and the item matched none:
    /// then it is stored and searchable but never posted.
    fn filtered_out(
        &self,
        store: &Store,
        item: &ItemRow,
        topics: &[String],
    ) -> Result<bool, PipelineError> {
        let feed = store.feed(item.feed_id)?;
        Ok(self.feed_config(&feed).is_some_and(|config| {
            !config.require_topics.is_empty()
                && !config
                    .require_topics
                    .iter()
                    .any(|wanted| topics.iter().any(|t| t == wanted.get_ref()))
        }))
    }

    /// The store-free, CPU-bound part of an item: summary (unless given), gist, topics and
    /// the terms grouping reads. Same item, same result, whenever and wherever it runs.
    fn prepare(
        &self,
        item: ItemRow,
        text: String,
        source: TextSource,
        summary: Option<String>,
        topics: &[(String, Query)],
    ) -> Prepared {
        let summary = summary.unwrap_or_else(|| {
            summarize::summarize(Some(&item.title), &text, self.summary_options())
        });
        let gist = summarize::gist(Some(&item.title), &text);
        let doc = TopicDoc::new(&item.title, &text);
        let topics = topics
            .iter()
            .filter(|(_, query)| query.matches(&doc))
            .map(|(name, _)| name.clone())
            .collect();
        let terms = ItemTerms::new(&item.title, &text);
        Prepared {
            item,
            text,
            source,
            summary,
            gist,
            topics,
            terms,
            took: Duration::ZERO,
        }
    }

    /// The store's part of an item: story and Related, and the "processed" mark, in one
    /// transaction.
    fn store_item(
        &self,
        store: &mut Store,
        p: &Prepared,
        now: Timestamp,
    ) -> Result<(), PipelineError> {
        let settings = RelateSettings::from(&self.config.related);
        let held_back = p.item.announce && self.filtered_out(store, &p.item, &p.topics)?;
        // Grouping and "processed" land together: a crash between them would leave a story
        // naming an unprocessed item, and the retry would give the item a second story.
        store.atomically(|store| {
            if held_back {
                // Before grouping, so its story is not announced on its account.
                store.hold_back_item(p.item.id)?;
            }
            relate::relate_prepared(store, &p.item, &p.terms, &settings)?;
            store.finish_item(
                p.item.id,
                &ProcessedItem {
                    text: &p.text,
                    text_source: p.source,
                    summary: &p.summary,
                    gist: &p.gist,
                    topics: &p.topics,
                },
                now,
            )
        })?;
        Ok(())
    }
}

/// The task that starts the batch's preparations. Stopped when the batch ends early, however
/// it ends (a transient fault, a shutdown cutting processing off): the items behind stay
/// pending, and nothing more is prepared or asked of the LLM for them.
struct Feeder(tokio::task::JoinHandle<()>);

impl Drop for Feeder {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// An item on its way to the store: its preparation, running or done.
struct Preparing {
    id: ItemId,
    failures: u32,
    work: tokio::task::JoinHandle<Prepared>,
}

/// How storing one item of a group went.
struct Outcome {
    id: ItemId,
    failures: u32,
    result: Result<(), PipelineError>,
    /// Time spent on the item (its preparation and its writing, not the waits).
    took: Duration,
}

/// An item's store-free results, waiting for its turn at the store.
struct Prepared {
    item: ItemRow,
    text: String,
    source: TextSource,
    summary: String,
    gist: String,
    topics: Vec<String>,
    terms: ItemTerms,
    /// Time spent on the item so far (its LLM summary and its preparation, not the waits).
    took: Duration,
}

/// The item's text and where it came from: the article page when it says more than the feed.
fn article_text(item: &ItemRow, page: Option<String>) -> (String, TextSource) {
    let feed_text = item.feed_text.trim();
    match page {
        Some(page) if page.chars().count() > feed_text.chars().count() => (page, TextSource::Page),
        _ if !feed_text.is_empty() => (feed_text.to_string(), TextSource::Feed),
        _ => (String::new(), TextSource::Missing),
    }
}

/// The extracted text of an article page, or None (logged) when it has none; the kind of error
/// when the page could not be fetched. Extraction is CPU work: it runs on the blocking pool.
async fn fetch_page_text(fetcher: &Fetcher, url: &str) -> Result<Option<String>, FetchErrorKind> {
    let parsed = Url::parse(url).map_err(|_| FetchErrorKind::BadUrl)?;
    match fetcher.get(&parsed, &Default::default()).await {
        Ok(FetchOutcome::Fetched(page)) => {
            let url = url.to_string();
            // PDFs, images and other binaries are refused by their bytes, not parsed as HTML.
            let extracted = tokio::task::spawn_blocking(move || {
                extract::extract_bytes(
                    &page.body,
                    page.content_type.as_deref(),
                    Some(&page.final_url),
                )
                .map(|found| found.text)
            })
            .await;
            match extracted {
                Ok(Ok(text)) => Ok(Some(text)),
                Ok(Err(e)) => {
                    tracing::debug!(%url, error = %e, "no article text in page");
                    Err(FetchErrorKind::Parse)
                }
                Err(e) => {
                    tracing::warn!(%url, error = %e, "article extraction panicked");
                    Err(FetchErrorKind::Parse)
                }
            }
        }
        Ok(FetchOutcome::NotModified { .. }) => Ok(None),
        Err(e) => {
            tracing::info!(%url, error = %e, "article page not fetched; using the feed's text");
            Err(FetchErrorKind::of(&e))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::config::Config;
    use crate::store::count_commits;

    /// Each item's own commit wrote out every page it touched; at 1,000 feeds that was the
    /// largest cost of a round of new items after grouping itself.
    #[tokio::test]
    async fn a_batch_of_items_is_stored_in_a_few_transactions_and_each_is_processed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let items: String = (0..BATCH)
            .map(|n| {
                format!(
                    "<item><title>Council {n} votes on harbour ferry route {n}</title>\
                     <guid>g{n}</guid><pubDate>Fri, 20 Nov 2026 {:02}:00:00 GMT</pubDate>\
                     <description>The council of district {n} voted on the ferry route, \
                     the budget and the timetable for next year.</description></item>",
                    n % 24
                )
            })
            .collect();
        let xml = format!(
            r#"<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{items}</channel></rss>"#
        );
        std::fs::write(dir.path().join("f.xml"), xml).expect("feed file");
        let text = "[storage]\npath = \"desk.db\"\n[[feed]]\nname = \"F\"\nurl = \"file:f.xml\"\n";
        let config = Config::from_str_at(text, &dir.path().join("desk.toml")).expect("config");
        let now = Timestamp::from_second(1_795_000_000).expect("time");
        let desk = Arc::new(Desk::open(config, now).expect("desk"));
        let rows = desk.store().active_feeds().expect("feeds");
        desk.poll_feeds(rows, now, &|_, _| {}).await.expect("poll");

        let commits = count_commits(&mut desk.store());
        assert_eq!(desk.process_pending(now).await.expect("processed"), BATCH);
        assert_eq!(
            commits.load(Ordering::Relaxed),
            (BATCH / GROUP) as u64,
            "one commit per group of {GROUP} items"
        );
        assert!(
            desk.store()
                .pending_items(BATCH, now)
                .expect("queue")
                .is_empty()
        );
        for id in 1..=BATCH as i64 {
            let item = desk.store().item(ItemId(id)).expect("item");
            assert!(
                item.processed.is_some() && item.story_id.is_some(),
                "{item:?}"
            );
        }
    }
}
