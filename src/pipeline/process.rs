//! Processing: each stored item becomes article text, a summary, a place in a story with its
//! Related list, and topic matches. One transaction per item, so a crash at any instant leaves
//! the item either untouched (and pending) or done. The CPU-heavy stages run on the blocking
//! pool so polls, deliveries and commands keep their threads.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use tokio::task::JoinSet;
use url::Url;

use super::{Desk, PipelineError};
use crate::config::FullText;
use crate::extract;
use crate::fetch::{FetchOutcome, Fetcher};
use crate::metrics::{FetchErrorKind, Fetched, ItemResult};
use crate::relate::{self, RelateSettings};
use crate::store::{FeedId, FeedRow, ItemId, ItemRow, ProcessedItem, TextSource};
use crate::summarize;
use crate::topics::TopicDoc;

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
        let mut pages = self.fetch_pages(&batch).await;
        for item in batch {
            let id = item.id;
            let retry_at = if item.failures + 1 >= MAX_ITEM_ATTEMPTS {
                now + SET_ASIDE_RETRY
            } else {
                now + ITEM_RETRY_AFTER * 2i32.pow(item.failures)
            };
            let page = pages.remove(&id).flatten();
            let started = std::time::Instant::now();
            let processed = self.process_item(item, page, now).await;
            match processed {
                Ok(()) => self.metrics.item(ItemResult::Processed, started.elapsed()),
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => {
                    self.metrics.item(ItemResult::Failed, started.elapsed());
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
        Ok(count)
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

    async fn process_item(
        self: &Arc<Self>,
        item: ItemRow,
        page: Option<String>,
        now: Timestamp,
    ) -> Result<(), PipelineError> {
        let feed_text = item.feed_text.trim();
        let (text, source) = match page {
            Some(page) if page.chars().count() > feed_text.chars().count() => {
                (page, TextSource::Page)
            }
            _ if !feed_text.is_empty() => (feed_text.to_string(), TextSource::Feed),
            _ => (String::new(), TextSource::Missing),
        };
        let opts = self.summary_options();
        // An LLM summary is a network call: made here, outside the blocking pool.
        let summary = match &self.llm {
            Some(llm) => {
                let extractive = || summarize::summarize(Some(&item.title), &text, opts);
                Some(
                    llm.summarize(&item.title, &text, &self.store, extractive)
                        .await
                        .0,
                )
            }
            None => None,
        };
        let desk = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            desk.finish_processing(&item, &text, source, summary, now)
        })
        .await
        .map_err(|e| PipelineError::Panicked(e.to_string()))?
    }

    /// Whether the item's feed requires topics (`require_topics`) and the item matched none:
    /// then it is stored and searchable but never posted.
    fn filtered_out(&self, item: &ItemRow, topics: &[String]) -> Result<bool, PipelineError> {
        let feed = self.store().feed(item.feed_id)?;
        Ok(self.feed_config(&feed).is_some_and(|config| {
            !config.require_topics.is_empty()
                && !config
                    .require_topics
                    .iter()
                    .any(|wanted| topics.iter().any(|t| t == wanted.get_ref()))
        }))
    }

    /// The CPU-bound rest of an item: summary (unless given), topics, story and Related, and
    /// the "processed" mark, the last three in one transaction.
    fn finish_processing(
        &self,
        item: &ItemRow,
        text: &str,
        source: TextSource,
        summary: Option<String>,
        now: Timestamp,
    ) -> Result<(), PipelineError> {
        let summary = summary.unwrap_or_else(|| {
            summarize::summarize(Some(&item.title), text, self.summary_options())
        });
        let gist = summarize::gist(Some(&item.title), text);
        let doc = TopicDoc::new(&item.title, text);
        // Config topics plus those added from Discord.
        let all_topics = crate::store::effective_topics(&self.config, &self.store());
        let topics: Vec<String> = all_topics
            .into_iter()
            .filter(|(_, query)| query.matches(&doc))
            .map(|(name, _)| name)
            .collect();
        let settings = RelateSettings::from(&self.config.related);
        let held_back = item.announce && self.filtered_out(item, &topics)?;
        // Grouping and "processed" land together: a crash between them would leave a story
        // naming an unprocessed item, and the retry would give the item a second story.
        self.store().atomically(|store| {
            if held_back {
                // Before grouping, so its story is not announced on its account.
                store.hold_back_item(item.id)?;
            }
            relate::relate_item(store, item, text, &settings)?;
            store.finish_item(
                item.id,
                &ProcessedItem {
                    text,
                    text_source: source,
                    summary: &summary,
                    gist: &gist,
                    topics: &topics,
                },
                now,
            )
        })?;
        Ok(())
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
