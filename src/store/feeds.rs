//! Feeds: identity, HTTP validators, body hash, health and next poll time.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, Row, params};

use super::{FeedId, FeedOrigin, Result, Store, StoreError, opt_ts, ts_from_sql, ts_to_sql};
use crate::fetch::Validators;
use crate::fetch::schedule::FeedHealth;
use crate::model::FeedMeta;

/// A feed as the config (or a command) declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedSpec {
    pub name: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FeedRow {
    pub id: FeedId,
    pub name: String,
    pub url: String,
    pub origin: FeedOrigin,
    /// A feed added by a command or an import may reach private addresses (the one who added
    /// it said so). Config feeds follow their `[[feed]] allow_private` instead.
    pub allow_private: bool,
    pub active: bool,
    pub title: Option<String>,
    pub validators: Validators,
    pub body_hash: Option<String>,
    pub health: FeedHealth,
    pub last_attempt: Option<Timestamp>,
    pub next_fetch_at: Timestamp,
    /// True once the first successful fetch has been recorded.
    pub seeded: bool,
    pub item_count: i64,
}

/// What one poll attempt changes in a feed's row.
#[derive(Debug, Clone)]
pub enum PollRecord<'a> {
    Success {
        validators: &'a Validators,
        body_hash: Option<&'a str>,
        meta: Option<&'a FeedMeta>,
    },
    Failure,
}

const FEED_COLUMNS: &str = "f.id, f.name, f.url, f.origin, f.active, f.title, f.etag, f.last_modified, \
     f.body_hash, f.status, f.consecutive_failures, f.failing_since, f.last_error, f.last_success, \
     f.last_attempt, f.next_fetch_at, f.seeded, \
     (SELECT COUNT(*) FROM items i WHERE i.feed_id = f.id), f.allow_private";

fn feed_from_row(r: &Row<'_>) -> rusqlite::Result<FeedRow> {
    Ok(FeedRow {
        id: r.get(0)?,
        name: r.get(1)?,
        url: r.get(2)?,
        origin: r.get(3)?,
        active: r.get(4)?,
        title: r.get(5)?,
        validators: Validators {
            etag: r.get(6)?,
            last_modified: r.get(7)?,
        },
        body_hash: r.get(8)?,
        health: FeedHealth {
            status: r.get(9)?,
            consecutive_failures: r.get(10)?,
            failing_since: opt_ts(r.get(11)?),
            last_error: r.get(12)?,
            last_success: opt_ts(r.get(13)?),
        },
        last_attempt: opt_ts(r.get(14)?),
        next_fetch_at: ts_from_sql(r.get(15)?),
        seeded: r.get(16)?,
        item_count: r.get(17)?,
        allow_private: r.get(18)?,
    })
}

impl Store {
    /// Makes the stored feed list match the config: new feeds are added (due now), renamed feeds
    /// renamed, feeds gone from the config deactivated (their items stay). Feeds added by
    /// commands (`origin != 'config'`) are left alone.
    pub fn sync_config_feeds(&mut self, specs: &[FeedSpec], now: Timestamp) -> Result<()> {
        let tx = self.conn.savepoint()?;
        tx.execute(
            "UPDATE feeds SET active = 0 WHERE origin = ?1",
            [FeedOrigin::Config],
        )?;
        for spec in specs {
            tx.execute(
                "INSERT INTO feeds (url, name, origin, active, created_at) VALUES (?1, ?2, ?3, 1, ?4)
                 ON CONFLICT (url) DO UPDATE SET name = excluded.name, active = 1",
                params![spec.url, spec.name, FeedOrigin::Config, ts_to_sql(now)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Adds a feed from a command; returns its id (existing id if the URL is known).
    pub fn add_feed(
        &mut self,
        spec: &FeedSpec,
        origin: FeedOrigin,
        now: Timestamp,
    ) -> Result<FeedId> {
        self.conn.execute(
            "INSERT INTO feeds (url, name, origin, active, created_at) VALUES (?1, ?2, ?3, 1, ?4)
             ON CONFLICT (url) DO UPDATE SET active = 1",
            params![spec.url, spec.name, origin, ts_to_sql(now)],
        )?;
        Ok(self
            .conn
            .query_row("SELECT id FROM feeds WHERE url = ?1", [&spec.url], |r| {
                r.get(0)
            })?)
    }

    /// Lets a feed added by a command or an import reach private addresses (or not).
    pub fn set_feed_allow_private(&mut self, id: FeedId, allow: bool) -> Result<()> {
        self.conn.execute(
            "UPDATE feeds SET allow_private = ?2 WHERE id = ?1",
            params![id, allow],
        )?;
        Ok(())
    }

    pub fn feeds(&self) -> Result<Vec<FeedRow>> {
        let sql = format!("SELECT {FEED_COLUMNS} FROM feeds f ORDER BY f.name");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], feed_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn active_feeds(&self) -> Result<Vec<FeedRow>> {
        Ok(self.feeds()?.into_iter().filter(|f| f.active).collect())
    }

    /// Active feeds whose next poll time has come, earliest first.
    pub fn due_feeds(&self, now: Timestamp) -> Result<Vec<FeedRow>> {
        let sql = format!(
            "SELECT {FEED_COLUMNS} FROM feeds f WHERE f.active = 1 AND f.next_fetch_at <= ?1 ORDER BY f.next_fetch_at, f.id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([ts_to_sql(now)], feed_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn feed(&self, id: FeedId) -> Result<FeedRow> {
        let sql = format!("SELECT {FEED_COLUMNS} FROM feeds f WHERE f.id = ?1");
        self.conn
            .query_row(&sql, [id], feed_from_row)
            .optional()?
            .ok_or(StoreError::NotFound {
                what: "feed",
                id: id.0,
            })
    }

    /// Earliest next poll time among active feeds other than `except` (feeds being polled now,
    /// whose stored time has passed).
    pub fn next_poll_at_except(&self, except: &[FeedId]) -> Result<Option<Timestamp>> {
        let list = except
            .iter()
            .map(FeedId::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let secs: Option<i64> = self.conn.query_row(
            &format!(
                "SELECT MIN(next_fetch_at) FROM feeds WHERE active = 1 AND id NOT IN ({list})"
            ),
            [],
            |r| r.get(0),
        )?;
        Ok(opt_ts(secs))
    }

    /// Records the outcome of one poll: health, validators and the next poll time.
    pub fn record_poll(
        &mut self,
        id: FeedId,
        record: PollRecord<'_>,
        health: &FeedHealth,
        next: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        let tx = self.conn.savepoint()?;
        record_poll_in(&tx, id, record, health, next, now)?;
        tx.commit()?;
        Ok(())
    }
}

pub(super) fn record_poll_in(
    conn: &rusqlite::Connection,
    id: FeedId,
    record: PollRecord<'_>,
    health: &FeedHealth,
    next: Timestamp,
    now: Timestamp,
) -> Result<()> {
    conn.execute(
        "UPDATE feeds SET status = ?2, consecutive_failures = ?3, failing_since = ?4, last_error = ?5,
             last_success = ?6, last_attempt = ?7, next_fetch_at = ?8 WHERE id = ?1",
        params![
            id,
            health.status,
            health.consecutive_failures,
            health.failing_since.map(ts_to_sql),
            health.last_error,
            health.last_success.map(ts_to_sql),
            ts_to_sql(now),
            ts_to_sql(next)
        ],
    )?;
    if let PollRecord::Success {
        validators,
        body_hash,
        meta,
    } = record
    {
        conn.execute(
            "UPDATE feeds SET etag = ?2, last_modified = ?3, seeded = 1,
                 body_hash = COALESCE(?4, body_hash) WHERE id = ?1",
            params![id, validators.etag, validators.last_modified, body_hash],
        )?;
        if let Some(meta) = meta {
            conn.execute(
                "UPDATE feeds SET title = COALESCE(?2, title), site_url = COALESCE(?3, site_url) WHERE id = ?1",
                params![id, meta.title, meta.site_url],
            )?;
        }
    }
    Ok(())
}
