//! The SQLite store: one file, WAL, versioned migrations. Every SQL statement of newsdesk lives
//! under this module, one file per table group.

mod columns;
mod digests;
mod feeds;
mod gauges;
mod items;
mod lock;
mod migrations;
mod retention;
mod stories;
mod subscriptions;
mod summaries;
mod terms;

use std::path::Path;

use jiff::Timestamp;
use rusqlite::Connection;

pub use columns::{FeedOrigin, TextSource};
pub use digests::{ChannelState, DigestRecord, DigestStatus, DiscordPost, StoryOutlets};
pub use feeds::{FeedRow, FeedSpec, PollRecord, UnchangedPoll};
pub use gauges::Gauges;
pub use items::{ItemRow, MAX_TEXT_CHARS, NewItems, ProcessedItem, SearchHit};
pub use lock::{WriterLock, lock_path};
pub use stories::{BulkArticle, RelatedLink, StoryRow, StoryTerms};
pub use subscriptions::{CustomTopic, FeedRemoval, channel_topics, effective_topics};

pub use columns::{DigestId, FeedId, ItemId, StoryId};

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
    #[error(
        "the database {database} is in use by {holder}; stop it first or set another [storage] path \
         (search, related and feeds list work while it runs)"
    )]
    InUse { database: String, holder: String },
    #[error("cannot use the lock file {path}: {source}")]
    LockFile {
        path: String,
        source: std::io::Error,
    },
    #[error("there is no database at {path} yet: run `newsdesk poll` or `newsdesk run` first")]
    Missing { path: String },
    #[error(
        "database schema version {found} is older than this newsdesk's ({known}); run `newsdesk poll` \
         or start the daemon once to upgrade it"
    )]
    OlderSchema { found: i64, known: i64 },
    #[error("no {what} with id {id}")]
    NotFound { what: &'static str, id: i64 },
    #[error("cannot encode a query parameter: {0}")]
    Encode(#[from] serde_json::Error),
}

impl StoreError {
    /// A fault that passes by itself: a full disk, a busy or locked database, an I/O error.
    /// The daemon waits these out instead of stopping; nothing is lost meanwhile because every
    /// write is a transaction that either landed or did not.
    pub fn is_transient(&self) -> bool {
        use rusqlite::ErrorCode::*;
        let sqlite = match self {
            StoreError::Sqlite(e) | StoreError::Open { source: e, .. } => e,
            StoreError::Migration { source, .. } => source,
            // Only a full disk passes by itself; a permission error or a read-only file
            // system needs the operator.
            StoreError::LockFile { source, .. } => {
                return source.kind() == std::io::ErrorKind::StorageFull;
            }
            _ => return false,
        };
        matches!(
            sqlite.sqlite_error_code(),
            Some(DiskFull | SystemIoFailure | DatabaseBusy | DatabaseLocked | OutOfMemory)
        )
    }

    /// The fault in words, naming the database file: what an operator reads in the log.
    pub fn in_words(&self, database: &Path) -> String {
        use rusqlite::ErrorCode::*;
        let sqlite = match self {
            StoreError::Sqlite(e) | StoreError::Open { source: e, .. } => Some(e),
            StoreError::Migration { source, .. } => Some(source),
            _ => None,
        };
        let at = database.display();
        match sqlite.and_then(|e| e.sqlite_error_code()) {
            Some(DiskFull) => format!("disk full at {at} (or its size limit reached): {self}"),
            Some(SystemIoFailure) => {
                format!("disk I/O error at {at} (a full disk often shows as this): {self}")
            }
            Some(DatabaseBusy | DatabaseLocked) => format!("database busy at {at}: {self}"),
            Some(OutOfMemory) => format!("out of memory working on {at}: {self}"),
            _ => format!("{self} ({at})"),
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

pub struct Store {
    conn: Connection,
}

/// Prepared statements kept per connection. Processing an item runs a few dozen distinct
/// statements; with rusqlite's default of 16 they pushed each other out of the cache and
/// every item compiled most of its SQL again.
pub(crate) const STATEMENT_CACHE: usize = 128;

/// Settings every connection gets. The query planner's stability guarantee keeps a cached
/// statement's plan whatever its parameters: without it SQLite compiles a statement again
/// whenever a parameter's value could change the plan (a full-text query's LIMIT, a term
/// compared with a partial index's condition), and a statement taken from the cache has had
/// its parameters cleared, so such statements were compiled again on every use. Plans are
/// checked with parameters unbound (`query_plan` tests), which is what they now always are.
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
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
        configure(&conn)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut store = Store { conn };
        migrations::migrate(&mut store.conn)?;
        Ok(store)
    }

    /// Opens an existing database for reading only (no migrations, no lock): what `search`,
    /// `related` and `feeds list` use, so they work while a daemon writes.
    pub fn open_read_only(path: &Path) -> Result<Store> {
        if !path.exists() {
            return Err(StoreError::Missing {
                path: path.display().to_string(),
            });
        }
        let flags =
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|source| StoreError::Open {
            path: path.display().to_string(),
            source,
        })?;
        configure(&conn)?;
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let known = migrations::CURRENT_VERSION;
        if found > known {
            return Err(StoreError::NewerSchema { found, known });
        }
        if found < known {
            return Err(StoreError::OlderSchema { found, known });
        }
        Ok(Store { conn })
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
            Ok(value) => match self.conn.execute_batch("RELEASE atomically") {
                Ok(()) => Ok(value),
                Err(e) => {
                    // A failed commit (a full disk) must not leave the connection inside a
                    // transaction that nothing would ever commit.
                    if let Err(rollback) = self
                        .conn
                        .execute_batch("ROLLBACK TO atomically; RELEASE atomically")
                    {
                        tracing::warn!(error = %rollback, "rollback after a failed commit failed");
                    }
                    self.end_open_transaction();
                    Err(StoreError::from(e).into())
                }
            },
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

    /// Runs `f` in a savepoint of its own and catches a panic in it: what `f` wrote, and any
    /// savepoint it left open, is rolled back, and the panic's message is returned instead.
    /// One item's bug must not take the items stored beside it in a transaction down with it.
    pub fn catching_panics<T>(
        &mut self,
        f: impl FnOnce(&mut Store) -> T,
    ) -> Result<std::result::Result<T, String>> {
        self.conn.execute_batch("SAVEPOINT unwinding")?;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(self))) {
            Ok(value) => {
                self.conn.execute_batch("RELEASE unwinding")?;
                Ok(Ok(value))
            }
            Err(panic) => {
                // Rolling back to this savepoint cancels every savepoint opened after it.
                self.conn
                    .execute_batch("ROLLBACK TO unwinding; RELEASE unwinding")?;
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panicked".to_string());
                Ok(Err(message))
            }
        }
    }

    /// Rolls back a transaction left open by a failed commit. Every transaction of the store
    /// begins and ends inside one call, so between calls none may be open: one that is would
    /// swallow every later write (nested in it, never committed) until the process ends.
    pub fn end_open_transaction(&mut self) {
        if !self.conn.is_autocommit() {
            tracing::warn!("a transaction was left open by a failed commit; rolled back");
            if let Err(e) = self.conn.execute_batch("ROLLBACK") {
                tracing::error!(error = %e, "cannot roll back the open transaction");
            }
        }
    }

    /// Caps the database at about `max_bytes` (None: no cap beyond SQLite's own). A write that
    /// would grow it further fails as a full disk does, and the daemon waits it out the same
    /// way; the cap cannot be set below the current size.
    pub fn limit_size(&mut self, max_bytes: Option<u64>) -> Result<()> {
        let page_size: i64 = self.conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        // SQLite's own ceiling on pages.
        // 0 would only query the setting; 1 is raised to the current size by SQLite.
        let pages = max_bytes.map_or(4_294_967_294, |b| (b / page_size.max(1) as u64).max(1));
        self.conn
            .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))?;
        Ok(())
    }

    /// A second, read-only connection to this store's file (None for a store without a file).
    /// In WAL mode it reads the last committed state while this one writes, so readers never
    /// wait for the writer's transactions.
    pub fn reader(&self) -> Option<Store> {
        let path = self.conn.path().filter(|p| !p.is_empty())?;
        Store::open_read_only(Path::new(path))
            .inspect_err(|e| tracing::warn!(error = %e, "no separate read connection"))
            .ok()
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

/// A store in a fresh temp file (kept while the returned directory lives), for unit tests.
#[cfg(test)]
pub(crate) fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("desk.db")).expect("store");
    (dir, store)
}

/// SQLite's plan for `sql` (its parameters left unbound), one line per step: what the plan
/// tests of hot queries read, so a query that stops using its index fails a test.
#[cfg(test)]
pub(crate) fn query_plan(store: &Store, sql: &str) -> String {
    let mut stmt = store
        .conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .expect("plan prepared");
    let mut rows = stmt.raw_query();
    let mut lines = Vec::new();
    while let Some(row) = rows.next().expect("plan step") {
        lines.push(row.get::<_, String>(3).expect("plan detail"));
    }
    lines.join("\n")
}

/// Starts recording the text of every statement this store runs (tests of what the hot paths
/// ask SQLite); triggers' own steps are left out.
#[cfg(test)]
pub(crate) fn record_statements(
    store: &mut Store,
) -> std::sync::Arc<std::sync::Mutex<Vec<String>>> {
    use rusqlite::trace::{TraceEvent, TraceEventCodes};
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&seen);
    store
        .conn
        .trace_v2(
            TraceEventCodes::SQLITE_TRACE_STMT,
            Some(move |event: TraceEvent<'_>| {
                if let TraceEvent::Stmt(stmt, text) = event
                    && !text.starts_with("--")
                    && let Ok(mut seen) = sink.lock()
                {
                    seen.push(stmt.sql().into_owned());
                }
            }),
        )
        .expect("trace installed");
    seen
}

/// Starts counting the virtual machine steps this store's statements take (in hundreds, so
/// about): how much of the store a call reads, whatever its statements.
#[cfg(test)]
pub(crate) fn count_vm_steps(store: &mut Store) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
    use std::sync::atomic::{AtomicU64, Ordering};
    const EVERY: u64 = 100;
    let steps = std::sync::Arc::new(AtomicU64::new(0));
    let sink = std::sync::Arc::clone(&steps);
    store
        .conn
        .progress_handler(
            EVERY as i32,
            Some(move || {
                sink.fetch_add(EVERY, Ordering::Relaxed);
                false
            }),
        )
        .expect("progress handler installed");
    steps
}

/// How many times the cached statement for `sql` was compiled again since it was first
/// prepared (0 for a statement not in the cache).
#[cfg(test)]
pub(crate) fn times_recompiled(store: &Store, sql: &str) -> i32 {
    store
        .conn
        .prepare_cached(sql)
        .map(|stmt| stmt.get_status(rusqlite::StatementStatus::RePrepare))
        .unwrap_or(0)
}

/// How many times the statement for `sql` in the cache has run (0 for one not in the cache).
#[cfg(test)]
pub(crate) fn times_run_cached(store: &Store, sql: &str) -> i32 {
    store
        .conn
        .prepare_cached(sql)
        .map(|stmt| stmt.get_status(rusqlite::StatementStatus::Run))
        .unwrap_or(0)
}

/// Starts counting the transactions this store commits.
#[cfg(test)]
pub(crate) fn count_commits(store: &mut Store) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
    use std::sync::atomic::{AtomicU64, Ordering};
    let commits = std::sync::Arc::new(AtomicU64::new(0));
    let sink = std::sync::Arc::clone(&commits);
    store
        .conn
        .commit_hook(Some(move || {
            sink.fetch_add(1, Ordering::Relaxed);
            false
        }))
        .expect("commit hook installed");
    commits
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A panic while one item of a group is written undoes that item's writes, the savepoints
    /// it left open included, and the group's other writes still commit.
    #[test]
    fn a_panic_inside_a_transaction_rolls_back_only_its_own_writes() {
        let (_dir, mut store) = temp_store();
        store
            .atomically(|store| {
                store.add_document_terms(["before"])?;
                let caught = store.catching_panics(|store| {
                    let _ = store.atomically(|store| -> std::result::Result<(), StoreError> {
                        store.add_document_terms(["inside"])?;
                        panic!("a bug in one item");
                    });
                })?;
                assert_eq!(caught, Err("a bug in one item".to_string()));
                store.add_document_terms(["after"])
            })
            .expect("the group commits");
        let df = store
            .document_frequencies(["before", "inside", "after"])
            .expect("read");
        assert_eq!((df["before"], df["inside"], df["after"]), (1, 0, 1));
        assert_eq!(store.document_count().expect("count"), 2);
    }

    #[test]
    fn a_failed_commit_leaves_no_open_transaction() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = Store::open(&dir.path().join("desk.db")).expect("store");
        // A foreign key checked only at commit stands in for any failure there.
        store
            .conn
            .pragma_update(None, "defer_foreign_keys", true)
            .expect("pragma");
        let failed: Result<()> = store.atomically(|s| {
            s.conn.execute(
                "INSERT INTO items (feed_id, key, title, outlet, published_at, first_seen_at,
                     feed_text, announce)
                 VALUES (999, 'k', 't', 'o', 0, 0, '', 0)",
                [],
            )?;
            Ok(())
        });
        assert!(failed.is_err());
        assert!(store.conn.is_autocommit(), "left inside a transaction");
    }

    #[test]
    fn an_unknown_stored_feed_status_is_an_error_not_a_healthy_feed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = Store::open(&dir.path().join("desk.db")).expect("store");
        let spec = FeedSpec {
            name: "F".into(),
            url: "https://f.example/feed".into(),
        };
        store
            .sync_config_feeds(&[spec], Timestamp::UNIX_EPOCH)
            .expect("feed");
        store
            .conn
            .execute("UPDATE feeds SET status = 'snoozing'", [])
            .expect("status written");
        let err = store.feeds().expect_err("an unknown status is refused");
        assert!(
            matches!(
                err,
                StoreError::Sqlite(rusqlite::Error::FromSqlConversionFailure(..))
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("\"snoozing\""), "{err}");
    }

    #[test]
    fn a_transaction_left_open_is_rolled_back_before_the_next_use() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = Store::open(&dir.path().join("desk.db")).expect("store");
        // As a commit that failed on a full disk leaves it: begun, never ended.
        store
            .conn
            .execute_batch(
                "BEGIN; INSERT INTO custom_topics (name, query, created_at) VALUES ('a', 'x', 0);",
            )
            .expect("open transaction");
        store.end_open_transaction();
        assert!(store.conn.is_autocommit());
        store
            .conn
            .execute(
                "INSERT INTO custom_topics (name, query, created_at) VALUES ('b', 'y', 0)",
                [],
            )
            .expect("a later write");
        let other = Connection::open(dir.path().join("desk.db")).expect("second connection");
        let names: String = other
            .query_row("SELECT group_concat(name) FROM custom_topics", [], |r| {
                r.get(0)
            })
            .expect("names");
        assert_eq!(
            names, "b",
            "the later write committed, the half-done one did not"
        );
    }

    #[test]
    fn a_full_database_is_a_transient_fault_told_in_words() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("desk.db");
        let mut store = Store::open(&path).expect("store");
        store.limit_size(Some(0)).expect("cap at the current size");
        let filler = "x".repeat(1024 * 1024);
        let full = store
            .conn
            .execute(
                "INSERT INTO custom_topics (name, query, created_at) VALUES ('a', ?1, 0)",
                [&filler],
            )
            .map_err(StoreError::from)
            .expect_err("no room left");
        assert!(full.is_transient(), "{full}");
        let words = full.in_words(&path);
        assert!(
            words.starts_with(&format!("disk full at {}", path.display())),
            "{words}"
        );
        store.limit_size(None).expect("cap lifted");
        store
            .conn
            .execute(
                "INSERT INTO custom_topics (name, query, created_at) VALUES ('a', ?1, 0)",
                [&filler],
            )
            .expect("room again");
    }
}
