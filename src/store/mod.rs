//! The SQLite store: one file, WAL, versioned migrations. Every SQL statement of newsdesk lives
//! under this module, one file per table group.

mod digests;
mod feeds;
mod items;
mod migrations;
mod stories;
mod subscriptions;
mod summaries;
mod terms;

use std::path::Path;

use jiff::Timestamp;
use rusqlite::Connection;

pub use digests::{ChannelState, DigestRecord, DigestStatus, StoryOutlets};
pub use feeds::{FeedRow, FeedSpec, PollRecord};
pub use items::{ItemRow, MAX_TEXT_CHARS, NewItems, ProcessedItem, SearchHit};
pub use stories::{BulkArticle, RelatedLink, StoryRow, StoryTerms};
pub use subscriptions::{CustomTopic, FeedRemoval, channel_topics, effective_topics};

pub type FeedId = i64;
pub type ItemId = i64;
pub type StoryId = i64;
pub type DigestId = i64;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot open database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error(
        "database schema version {found} is newer than this newsdesk knows ({known}); upgrade newsdesk"
    )]
    NewerSchema { found: i64, known: i64 },
    #[error("migration to schema version {version} failed: {source}")]
    Migration {
        version: i64,
        source: rusqlite::Error,
    },
    #[error("no {what} with id {id}")]
    NotFound { what: &'static str, id: i64 },
    #[error("cannot encode a query parameter: {0}")]
    Encode(#[from] serde_json::Error),
}

pub type Result<T> = std::result::Result<T, StoreError>;

pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // A missing directory gives SQLite's opaque "unable to open"; create it instead.
            let _ = std::fs::create_dir_all(dir);
        }
        let conn = Connection::open(path).map_err(|source| StoreError::Open {
            path: path.display().to_string(),
            source,
        })?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut store = Store { conn };
        migrations::migrate(&mut store.conn)?;
        Ok(store)
    }

    /// Runs `f` as one transaction: its writes land together or not at all, and one commit
    /// costs less than one per write. Store methods that group writes nest as savepoints.
    pub fn atomically<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&mut Store) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.conn
            .execute_batch("SAVEPOINT atomically")
            .map_err(StoreError::from)?;
        match f(self) {
            Ok(value) => {
                self.conn
                    .execute_batch("RELEASE atomically")
                    .map_err(StoreError::from)?;
                Ok(value)
            }
            Err(e) => {
                if let Err(rollback) = self
                    .conn
                    .execute_batch("ROLLBACK TO atomically; RELEASE atomically")
                {
                    tracing::warn!(error = %rollback, "rollback failed");
                }
                Err(e)
            }
        }
    }

    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    pub fn journal_mode(&self) -> Result<String> {
        Ok(self
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))?)
    }
}

pub(crate) fn ts_to_sql(t: Timestamp) -> i64 {
    t.as_second()
}

pub(crate) fn ts_from_sql(secs: i64) -> Timestamp {
    Timestamp::from_second(secs).unwrap_or(Timestamp::UNIX_EPOCH)
}

pub(crate) fn opt_ts(secs: Option<i64>) -> Option<Timestamp> {
    secs.map(ts_from_sql)
}
