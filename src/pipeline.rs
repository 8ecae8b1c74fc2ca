//! One poll of one feed, and the processing of newly stored items:
//! fetch → decode/parse → store → article text → summary → story and Related → topics.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use sha2::{Digest as _, Sha256};
use tokio::task::JoinSet;
use url::Url;

use crate::config::{Config, FullText};
use crate::extract;
use crate::fetch::schedule::{self, FeedStatus, PollPolicy};
use crate::fetch::{FetchOutcome, FetchSettings, Fetcher};
use crate::model::Entry;
use crate::parse;
use crate::relate::{self, RelateSettings};
use crate::store::{
    FeedId, FeedRow, FeedSpec, ItemRow, PollRecord, ProcessedItem, Store, StoreError, WriterLock,
};
use crate::summarize::llm::LlmSummarizer;
use crate::summarize::{self, SummaryOptions};
use crate::topics::TopicDoc;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start the HTTP client: {0}")]
    Client(#[from] crate::fetch::FetchError),
    #[error("invalid feed URL in config: {0}")]
    FeedUrl(String),
    #[error("Discord refused the bot token ({0}); check the token in the environment")]
    Unauthorized(String),
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

/// The whole desk: config, store and HTTP client, shared by the daemon, the CLI and (later)
/// the Discord handlers.
pub struct Desk {
    pub config: Config,
    store: Mutex<Store>,
    fetcher: Fetcher,
    policy: PollPolicy,
    llm: Option<LlmSummarizer>,
    /// Held by a desk that writes (see [`WriterLock`]); None for readers and tests.
    _lock: Option<WriterLock>,
}

impl Desk {
    /// Opens the store named by the config as its one writer and registers the config's feeds.
    /// Fails with [`StoreError::InUse`] while another process writes to the same database.
    pub fn open(config: Config, now: Timestamp) -> Result<Desk, PipelineError> {
        let path = config.storage_path();
        let lock = WriterLock::acquire(&path)?;
        let mut store = Store::open(&path)?;
        let mut specs = Vec::with_capacity(config.feeds.len());
        for feed in &config.feeds {
            let url = config.feed_url(feed).map_err(PipelineError::FeedUrl)?;
            specs.push(FeedSpec {
                name: feed.name.get_ref().clone(),
                url: url.to_string(),
            });
        }
        store.sync_config_feeds(&specs, now)?;
        let mut desk = Desk::with_store(config, store)?;
        desk._lock = Some(lock);
        Ok(desk)
    }

    /// Opens the store for reading only, beside a daemon that may be writing to it.
    pub fn open_read_only(config: Config) -> Result<Desk, PipelineError> {
        let store = Store::open_read_only(&config.storage_path())?;
        Desk::with_store(config, store)
    }

    /// A desk over an already opened store (tests, batch tools).
    pub fn with_store(config: Config, store: Store) -> Result<Desk, PipelineError> {
        let p = &config.polling;
        let fetcher = Fetcher::new(FetchSettings {
            timeout: p.timeout.get(),
            max_body_bytes: p.max_body_size,
            user_agent: p.user_agent.clone(),
            per_host_concurrency: p.per_host_concurrency,
            ..FetchSettings::default()
        })?;
        let policy = PollPolicy {
            interval: p.interval.get(),
            min_interval: p.min_interval.get(),
            max_interval: p.max_interval.get(),
            backoff_base: p.min_interval.get(),
            backoff_max: p.backoff_max.get(),
            dead_after: p.dead_after.get(),
        };
        let llm = config
            .summarizer
            .llm
            .clone()
            .map(|llm| LlmSummarizer::new(fetcher.client(), llm, config.summarizer.max_chars));
        Ok(Desk {
            config,
            store: Mutex::new(store),
            fetcher,
            policy,
            llm,
            _lock: None,
        })
    }

    /// The store, for short synchronous work. Never hold it across an await.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll
        // back), so a poisoned lock is still usable.
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn fetcher(&self) -> &Fetcher {
        &self.fetcher
    }

    fn feed_config(&self, url: &str) -> Option<&crate::config::FeedConfig> {
        self.config
            .feeds
            .iter()
            .find(|f| self.config.feed_url(f).is_ok_and(|u| u.as_str() == url))
    }

    /// Polls every due feed, `polling.concurrency` at a time. `on_done` is called after each feed
    /// (progress display).
    pub async fn poll_due(
        self: &Arc<Self>,
        now: Timestamp,
        on_done: &(dyn Fn(&FeedRow, &PollOutcome) + Sync),
    ) -> Result<PollSummary, PipelineError> {
        let due = self.store().due_feeds(now)?;
        let mut summary = PollSummary {
            feeds: due.len(),
            ..PollSummary::default()
        };
        let limit = Arc::new(tokio::sync::Semaphore::new(
            self.config.polling.concurrency.max(1),
        ));
        let mut tasks = JoinSet::new();
        for feed in due {
            let desk = Arc::clone(self);
            let limit = Arc::clone(&limit);
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await;
                let outcome = desk.poll_feed(&feed, now).await;
                (feed, outcome)
            });
        }
        while let Some(joined) = tasks.join_next().await {
            let Ok((feed, outcome)) = joined else {
                continue;
            };
            let outcome = outcome?;
            on_done(&feed, &outcome);
            match outcome {
                PollOutcome::Unchanged => summary.unchanged += 1,
                PollOutcome::Updated { new, announced } => {
                    summary.updated += 1;
                    summary.new_items += new;
                    summary.announced += announced;
                }
                PollOutcome::Failed { .. } => summary.failed += 1,
            }
        }
        Ok(summary)
    }

    /// Polls one feed and stores what is new. Fetch and parse failures are recorded in the
    /// feed's health (and returned as `Failed`), never lost or raised.
    pub async fn poll_feed(
        &self,
        feed: &FeedRow,
        now: Timestamp,
    ) -> Result<PollOutcome, PipelineError> {
        let feed_interval = self
            .feed_config(&feed.url)
            .and_then(|f| f.interval)
            .map(|d| d.get());
        let url = match Url::parse(&feed.url) {
            Ok(url) => url,
            Err(e) => return self.fail(feed, &format!("invalid URL: {e}"), None, now),
        };
        let fetched = match self.fetcher_for(feed).get(&url, &feed.validators).await {
            Ok(FetchOutcome::NotModified { hints }) => {
                let (health, next) =
                    schedule::after_success(&self.policy, feed_interval, &hints, None, now);
                let record = PollRecord::Success {
                    validators: &feed.validators,
                    body_hash: None,
                    meta: None,
                };
                self.store()
                    .record_poll(feed.id, record, &health, next, now)?;
                return Ok(PollOutcome::Unchanged);
            }
            Ok(FetchOutcome::Fetched(fetched)) => fetched,
            Err(e) => return self.fail(feed, &e.to_string(), e.retry_after(), now),
        };
        let hash = hex(&Sha256::digest(&fetched.body));
        if feed.body_hash.as_deref() == Some(hash.as_str()) {
            let (health, next) =
                schedule::after_success(&self.policy, feed_interval, &fetched.hints, None, now);
            let record = PollRecord::Success {
                validators: &fetched.validators,
                body_hash: Some(&hash),
                meta: None,
            };
            self.store()
                .record_poll(feed.id, record, &health, next, now)?;
            return Ok(PollOutcome::Unchanged);
        }
        let parsed = match parse::parse_feed(
            &fetched.body,
            fetched.content_type.as_deref(),
            Some(&fetched.final_url),
        ) {
            Ok(parsed) => parsed,
            Err(e) => return self.fail(feed, &e.to_string(), None, now),
        };
        let ttl = parsed
            .meta
            .ttl_minutes
            .map(|m| Duration::from_secs(u64::from(m) * 60));
        let (health, next) =
            schedule::after_success(&self.policy, feed_interval, &fetched.hints, ttl, now);
        let announce_all = feed.seeded || self.config.polling.announce_first_fetch;
        let max_age = self.config.polling.max_item_age;
        let oldest = (!max_age.is_zero()).then(|| now - max_age.as_span());
        let announce = |entry: &Entry| -> bool {
            announce_all
                && match (oldest, entry.published) {
                    (Some(oldest), Some(published)) => published >= oldest,
                    _ => true,
                }
        };
        let record = PollRecord::Success {
            validators: &fetched.validators,
            body_hash: Some(&hash),
            meta: Some(&parsed.meta),
        };
        let stored = self.store().store_fetched(
            feed.id,
            &feed.name,
            &parsed.entries,
            &announce,
            record,
            &health,
            next,
            now,
        )?;
        tracing::info!(feed = %feed.name, new = stored.ids.len(), announced = stored.announced, "feed updated");
        Ok(PollOutcome::Updated {
            new: stored.ids.len(),
            announced: stored.announced,
        })
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

    /// The fetcher for a feed and the pages it links to. Feeds added from Discord are not the
    /// operator's: they may only reach public addresses unless the config allows otherwise.
    fn fetcher_for(&self, feed: &FeedRow) -> Fetcher {
        if feed.origin == "discord" && !self.config.discord.allow_private_feed_urls {
            self.fetcher.public_only()
        } else {
            self.fetcher.clone()
        }
    }

    /// Processes every stored item that has not been processed yet: article text, summary,
    /// story, Related and topics. Returns the number of items processed.
    pub async fn process_pending(&self, now: Timestamp) -> Result<usize, PipelineError> {
        let mut done = 0;
        loop {
            let batch = self.store().pending_items(64)?;
            if batch.is_empty() {
                return Ok(done);
            }
            let pages = self.fetch_pages(&batch).await;
            for item in &batch {
                let page = pages.get(&item.id).cloned().flatten();
                self.process_item(item, page, now).await?;
                done += 1;
            }
        }
    }

    /// Where an item's text comes from, per the feed's `full_text` setting.
    fn needs_page(&self, item: &ItemRow, feed: &FeedRow) -> bool {
        let policy = self
            .feed_config(&feed.url)
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

    /// Fetches and extracts the article pages the batch needs, concurrently (the fetcher keeps
    /// per-host politeness). A page already extracted for another item is reused.
    async fn fetch_pages(&self, batch: &[ItemRow]) -> HashMap<i64, Option<String>> {
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
            // A page on this machine's disk only for a feed read from it (the offline demo):
            // a web feed cannot make newsdesk read local files.
            if url.starts_with("file:") && !feed.url.starts_with("file:") {
                tracing::warn!(feed = %feed.name, %url, "local file link in a web feed ignored");
                continue;
            }
            let cached = self
                .store()
                .item_by_url(&url)
                .ok()
                .flatten()
                .filter(|other| other.text_source.as_deref() == Some("page"))
                .and_then(|other| other.text);
            if let Some(text) = cached {
                out.insert(item.id, Some(text));
                continue;
            }
            let fetcher = self.fetcher_for(feed);
            let id = item.id;
            tasks.spawn(async move { (id, fetch_page_text(&fetcher, &url).await) });
        }
        while let Some(joined) = tasks.join_next().await {
            if let Ok((id, text)) = joined {
                out.insert(id, text);
            }
        }
        out
    }

    async fn process_item(
        &self,
        item: &ItemRow,
        page: Option<String>,
        now: Timestamp,
    ) -> Result<(), PipelineError> {
        let feed_text = item.feed_text.trim();
        let (text, source) = match page {
            Some(page) if page.chars().count() > feed_text.chars().count() => (page, "page"),
            _ if !feed_text.is_empty() => (feed_text.to_string(), "feed"),
            _ => (String::new(), "none"),
        };
        let opts = SummaryOptions {
            sentences: self.config.summarizer.sentences,
            max_chars: self.config.summarizer.max_chars,
        };
        let extractive = || summarize::summarize(Some(&item.title), &text, opts);
        let summary = match &self.llm {
            Some(llm) => {
                llm.summarize(&item.title, &text, &self.store, extractive)
                    .await
                    .0
            }
            None => extractive(),
        };
        let doc = TopicDoc::new(&item.title, &text);
        // Config topics plus those added from Discord.
        let all_topics = crate::store::effective_topics(&self.config, &self.store());
        let topics: Vec<String> = all_topics
            .into_iter()
            .filter(|(_, query)| query.matches(&doc))
            .map(|(name, _)| name)
            .collect();
        let settings = RelateSettings {
            group_window: self.config.related.group_window.get(),
            related_window: self.config.related.window.get(),
            max_related: self.config.related.max,
        };
        // Grouping and "processed" land together: a crash between them would leave a story
        // naming an unprocessed item, and the retry would give the item a second story.
        self.store().atomically(|store| {
            relate::relate_item(store, item, &text, &settings)?;
            store.finish_item(
                item.id,
                &ProcessedItem {
                    text: &text,
                    text_source: source,
                    summary: &summary,
                    topics: &topics,
                },
                now,
            )
        })?;
        Ok(())
    }

    /// Time until the next feed is due (None when there are no active feeds).
    pub fn next_poll_in(&self, now: Timestamp) -> Result<Option<SignedDuration>, PipelineError> {
        Ok(self.store().next_poll_at()?.map(|t| t.duration_since(now)))
    }
}

/// The extracted text of an article page, or None (logged) when it cannot be had.
async fn fetch_page_text(fetcher: &Fetcher, url: &str) -> Option<String> {
    let parsed = Url::parse(url).ok()?;
    match fetcher.get(&parsed, &Default::default()).await {
        Ok(FetchOutcome::Fetched(page)) => {
            let html = crate::charset::decode(
                &page.body,
                page.content_type.as_deref(),
                crate::charset::DocKind::Html,
            );
            match extract::extract(&html, Some(&page.final_url)) {
                Ok(found) => Some(found.text),
                Err(e) => {
                    tracing::debug!(%url, error = %e, "no article text in page");
                    None
                }
            }
        }
        Ok(FetchOutcome::NotModified { .. }) => None,
        Err(e) => {
            tracing::info!(%url, error = %e, "article page not fetched; using the feed's text");
            None
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
