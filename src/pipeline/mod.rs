//! The desk's work on feeds and items, shared by the daemon, the CLI and the Discord commands:
//! `poll` fetches a feed, decodes and parses it and stores what is new; `process` turns each
//! stored item into article text, summary, story, Related and topics, each item all or nothing
//! (a few share a transaction, each in its own savepoint).

mod poll;
mod process;
#[cfg(test)]
mod query_plans;
mod retain;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use jiff::Timestamp;

use crate::config::{Config, FeedConfig};
use crate::fetch::schedule::PollPolicy;
use crate::fetch::{FetchSettings, Fetcher};
use crate::store::{FeedOrigin, FeedRow, FeedSpec, Store, StoreError, WriterLock};
use crate::summarize::SummaryOptions;
use crate::summarize::llm::LlmSummarizer;

pub use poll::{PollOutcome, PollSummary};
pub use process::MAX_ITEM_ATTEMPTS;
pub use retain::{Expired, RETAIN_BATCH};

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
    #[error("processing panicked: {0}")]
    Panicked(String),
}

impl PipelineError {
    /// A fault that passes by itself (a full disk, a busy database): worth waiting out.
    pub fn is_transient(&self) -> bool {
        match self {
            PipelineError::Store(e) => e.is_transient(),
            _ => false,
        }
    }
}

/// The whole desk: config, store and HTTP client, shared by the daemon, the CLI and the
/// Discord handlers.
pub struct Desk {
    pub config: Config,
    store: Mutex<Store>,
    /// A read-only connection for answering people (slash commands): it never waits for the
    /// writer's transactions, so a busy desk still answers within Discord's deadline.
    reader: Option<Mutex<Store>>,
    fetcher: Fetcher,
    policy: PollPolicy,
    llm: Option<LlmSummarizer>,
    /// Config feeds by resolved URL (the store knows feeds by URL).
    feed_configs: HashMap<String, usize>,
    /// What this desk did since it started (`/metrics`).
    metrics: crate::metrics::Metrics,
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
        let fetcher = Fetcher::new(FetchSettings::from(p))?;
        let policy = PollPolicy::from(p);
        let llm = config
            .summarizer
            .llm
            .clone()
            .map(|llm| LlmSummarizer::new(fetcher.client(), llm, config.summarizer.max_chars));
        let feed_configs = config
            .feeds
            .iter()
            .enumerate()
            .filter_map(|(i, f)| Some((config.feed_url(f).ok()?.to_string(), i)))
            .collect();
        let reader = store.reader().map(Mutex::new);
        Ok(Desk {
            config,
            reader,
            store: Mutex::new(store),
            fetcher,
            policy,
            llm,
            feed_configs,
            metrics: Default::default(),
            _lock: None,
        })
    }

    /// The store, for short synchronous work. Never hold it across an await.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll
        // back), so a poisoned lock is still usable.
        let mut store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        // Whatever the last holder's commit met (a full disk), no transaction outlives it.
        store.end_open_transaction();
        store
    }

    /// The store for reading only, beside the writer (falls back to the writer's connection
    /// when there is no second one). Never hold it across an await.
    pub fn reader(&self) -> MutexGuard<'_, Store> {
        match &self.reader {
            Some(reader) => reader.lock().unwrap_or_else(|p| p.into_inner()),
            None => self.store(),
        }
    }

    pub fn fetcher(&self) -> &Fetcher {
        &self.fetcher
    }

    /// Polls, fetch errors, items and posts counted since this desk opened.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.metrics
    }

    /// How summaries are made, wherever they are made: `[summarizer]`.
    pub fn summary_options(&self) -> SummaryOptions {
        SummaryOptions::from(&self.config.summarizer)
    }

    /// The config's entry for a stored feed (None for feeds added by commands or OPML).
    fn feed_config(&self, feed: &FeedRow) -> Option<&FeedConfig> {
        self.feed_configs
            .get(&feed.url)
            .and_then(|i| self.config.feeds.get(*i))
    }

    /// Whether a feed (and the article links in it) may reach loopback, private and link-local
    /// addresses. Config feeds say so in `[[feed]] allow_private`; feeds added from Discord
    /// follow `discord.allow_private_feed_urls`; imported ones what the import allowed.
    fn may_reach_private(&self, feed: &FeedRow) -> bool {
        match feed.origin {
            FeedOrigin::Config => self.feed_config(feed).is_some_and(|f| f.allow_private),
            FeedOrigin::Discord => {
                self.config.discord.allow_private_feed_urls || feed.allow_private
            }
            FeedOrigin::Import => feed.allow_private,
        }
    }
}
