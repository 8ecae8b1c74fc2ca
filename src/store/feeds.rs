//! Feeds: identity, HTTP validators, body hash, health and next poll time.

use std::collections::{HashMap, HashSet};

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

/// The poll of a feed that had nothing new, kept to be recorded with others in one
/// transaction ([`Store::record_unchanged_polls`]).
#[derive(Debug, Clone)]
pub struct UnchangedPoll {
    pub id: FeedId,
    pub validators: Validators,
    pub body_hash: Option<String>,
    pub health: FeedHealth,
    pub next: Timestamp,
}

const FEED_COLUMNS: &str = "f.id, f.name, f.url, f.origin, f.active, f.title, f.etag, f.last_modified, \
     f.body_hash, f.status, f.consecutive_failures, f.failing_since, f.last_error, f.last_success, \
     f.last_attempt, f.next_fetch_at, f.seeded, f.item_count, f.allow_private";

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
    /// commands (`origin != 'config'`) are left alone. Only rows that change are written: every
    /// start of a desk with thousands of feeds runs this.
    pub fn sync_config_feeds(&mut self, specs: &[FeedSpec], now: Timestamp) -> Result<()> {
        let tx = self.conn.savepoint()?;
        // url -> (id, name, active, origin)
        let mut known: HashMap<String, (FeedId, String, bool, FeedOrigin)> = tx
            .prepare("SELECT id, url, name, active, origin FROM feeds")?
            .query_map([], |r| {
                Ok((r.get(1)?, (r.get(0)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let wanted: HashSet<&str> = specs.iter().map(|s| s.url.as_str()).collect();
        for (url, (id, _, active, origin)) in &known {
            if *origin == FeedOrigin::Config && *active && !wanted.contains(url.as_str()) {
                tx.prepare_cached("UPDATE feeds SET active = 0 WHERE id = ?1")?
                    .execute([id])?;
            }
        }
        for spec in specs {
            let unchanged = known
                .get(&spec.url)
                .is_some_and(|(_, name, active, _)| *active && *name == spec.name);
            if unchanged {
                continue;
            }
            let (id, origin): (FeedId, FeedOrigin) = tx
                .prepare_cached(
                    "INSERT INTO feeds (url, name, origin, active, created_at) VALUES (?1, ?2, ?3, 1, ?4)
                     ON CONFLICT (url) DO UPDATE SET name = excluded.name, active = 1
                     RETURNING id, origin",
                )?
                .query_row(
                    params![spec.url, spec.name, FeedOrigin::Config, ts_to_sql(now)],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
            // A URL listed twice: the second finds the first.
            known.insert(spec.url.clone(), (id, spec.name.clone(), true, origin));
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

    /// Active feeds whose next poll time has come, earliest first, at most `limit` of them
    /// (None: all). The daemon asks after every poll, for the few it can start: that reads
    /// those few rows, however many feeds are due.
    pub fn due_feeds(&self, now: Timestamp, limit: Option<usize>) -> Result<Vec<FeedRow>> {
        let mut stmt = self.conn.prepare_cached(&due_sql())?;
        // SQLite reads a negative LIMIT as none.
        let limit = limit.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let rows = stmt.query_map(params![ts_to_sql(now), limit], feed_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One feed's row: read per item processed, so it costs one row whatever the feed holds.
    pub fn feed(&self, id: FeedId) -> Result<FeedRow> {
        self.conn
            .prepare_cached(&feed_sql())?
            .query_row([id], feed_from_row)
            .optional()?
            .ok_or(StoreError::NotFound {
                what: "feed",
                id: id.0,
            })
    }

    /// Earliest next poll time among active feeds other than `except` (feeds being polled now,
    /// whose stored time has passed).
    pub fn next_poll_at_except(&self, except: &[FeedId]) -> Result<Option<Timestamp>> {
        let secs: Option<i64> = self
            .conn
            .query_row(&next_poll_sql(except), [], |r| r.get(0))
            .optional()?;
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

    /// Records polls that found nothing new, all in one transaction: a warm round over
    /// thousands of feeds would otherwise spend most of its time committing.
    pub fn record_unchanged_polls(
        &mut self,
        polls: &[UnchangedPoll],
        now: Timestamp,
    ) -> Result<()> {
        let tx = self.conn.savepoint()?;
        for poll in polls {
            let record = PollRecord::Success {
                validators: &poll.validators,
                body_hash: poll.body_hash.as_deref(),
                meta: None,
            };
            record_poll_in(&tx, poll.id, record, &poll.health, poll.next, now)?;
        }
        tx.commit()?;
        Ok(())
    }
}

fn feed_sql() -> String {
    format!("SELECT {FEED_COLUMNS} FROM feeds f WHERE f.id = ?1")
}

/// Due feeds in schedule order, read from the `feeds_due` index in that order.
fn due_sql() -> String {
    format!(
        "SELECT {FEED_COLUMNS} FROM feeds f WHERE f.active = 1 AND f.next_fetch_at <= ?1
         ORDER BY f.next_fetch_at, f.id LIMIT ?2"
    )
}

/// The earliest poll time but those of `except`: the `feeds_due` index read from its start,
/// past at most the excepted feeds (where `MIN` with this filter would read every feed).
fn next_poll_sql(except: &[FeedId]) -> String {
    let list = except
        .iter()
        .map(FeedId::to_string)
        .collect::<Vec<_>>()
        .join(",");
    format!(
        "SELECT next_fetch_at FROM feeds WHERE active = 1 AND id NOT IN ({list})
         ORDER BY next_fetch_at LIMIT 1"
    )
}

pub(super) fn record_poll_in(
    conn: &rusqlite::Connection,
    id: FeedId,
    record: PollRecord<'_>,
    health: &FeedHealth,
    next: Timestamp,
    now: Timestamp,
) -> Result<()> {
    // Cached statements: every poll of every feed runs these.
    conn.prepare_cached(
        "UPDATE feeds SET status = ?2, consecutive_failures = ?3, failing_since = ?4, last_error = ?5,
             last_success = ?6, last_attempt = ?7, next_fetch_at = ?8 WHERE id = ?1",
    )?
    .execute(params![
            id,
            health.status,
            health.consecutive_failures,
            health.failing_since.map(ts_to_sql),
            health.last_error,
            health.last_success.map(ts_to_sql),
            ts_to_sql(now),
            ts_to_sql(next)
    ])?;
    if let PollRecord::Success {
        validators,
        body_hash,
        meta,
    } = record
    {
        conn.prepare_cached(
            "UPDATE feeds SET etag = ?2, last_modified = ?3, seeded = 1,
                 body_hash = COALESCE(?4, body_hash) WHERE id = ?1",
        )?
        .execute(params![
            id,
            validators.etag,
            validators.last_modified,
            body_hash
        ])?;
        if let Some(meta) = meta {
            conn.execute(
                "UPDATE feeds SET title = COALESCE(?2, title), site_url = COALESCE(?3, site_url) WHERE id = ?1",
                params![id, meta.title, meta.site_url],
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Entry;
    use crate::store::{query_plan, temp_store as store};

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).expect("time")
    }

    fn entry(key: &str) -> Entry {
        Entry {
            key: key.to_string(),
            url: None,
            title: key.to_string(),
            author: None,
            published: None,
            text: String::new(),
            content_html: None,
        }
    }

    /// The daemon reads the due feeds after every poll: a scan and sort of the whole feed
    /// list there made a round of polls cost the square of the feed count.
    #[test]
    fn due_feeds_are_read_from_the_schedule_index_in_its_order() {
        let (_dir, store) = store();
        let plan = query_plan(&store, &due_sql());
        assert_eq!(
            plan, "SEARCH f USING INDEX feeds_due (next_fetch_at<?)",
            "{plan}"
        );
        let plan = query_plan(&store, &next_poll_sql(&[FeedId(1), FeedId(2)]));
        assert_eq!(plan, "SCAN feeds USING COVERING INDEX feeds_due", "{plan}");
    }

    /// Counting a feed's items on each read of its row made the read per processed item grow
    /// with the feed's history.
    #[test]
    fn a_feed_row_is_one_row_read_and_its_item_count_is_kept() {
        let (_dir, mut store) = store();
        let plan = query_plan(&store, &feed_sql());
        assert_eq!(
            plan, "SEARCH f USING INTEGER PRIMARY KEY (rowid=?)",
            "{plan}"
        );
        let spec = |n: u32| FeedSpec {
            name: format!("F{n}"),
            url: format!("https://f{n}.example/feed"),
        };
        store
            .sync_config_feeds(&[spec(1), spec(2)], at(0))
            .expect("feeds");
        let ids: Vec<FeedId> = store.feeds().expect("feeds").iter().map(|f| f.id).collect();
        let entries = [entry("a"), entry("b"), entry("c")];
        store
            .store_entries(ids[0], "F1", &entries, &|_| true, at(10))
            .expect("stored");
        store
            .store_entries(ids[0], "F1", &entries[..1], &|_| true, at(20))
            .expect("known entry skipped");
        store
            .store_entries(ids[1], "F2", &entries[..2], &|_| true, at(10))
            .expect("stored");
        assert_eq!(store.feed(ids[0]).expect("feed").item_count, 3);
        assert_eq!(store.feed(ids[1]).expect("feed").item_count, 2);
    }

    /// Every start syncs the config's feeds: rewriting each row (and the index entries under
    /// it) made starting a desk of 10,000 feeds take a third of a second before any poll.
    #[test]
    fn syncing_the_same_feeds_again_writes_nothing_and_changes_are_still_applied() {
        let (_dir, mut store) = store();
        let spec = |n: u32, name: &str| FeedSpec {
            name: name.to_string(),
            url: format!("https://f{n}.example/feed"),
        };
        let specs: Vec<FeedSpec> = (0..50).map(|n| spec(n, &format!("F{n}"))).collect();
        store.sync_config_feeds(&specs, at(0)).expect("feeds");
        let before = store.conn.total_changes();
        store.sync_config_feeds(&specs, at(10)).expect("again");
        assert_eq!(store.conn.total_changes(), before, "rows written");

        // Renamed, dropped, added, and one listed twice.
        let mut changed = specs[..48].to_vec();
        changed[0].name = "Renamed".to_string();
        changed.push(spec(99, "New"));
        changed.push(spec(99, "New again"));
        store.sync_config_feeds(&changed, at(20)).expect("changed");
        let feeds = store.feeds().expect("feeds");
        let by_url = |n: u32| {
            let url = format!("https://f{n}.example/feed");
            feeds
                .iter()
                .find(|f| f.url == url)
                .cloned()
                .expect("stored")
        };
        assert_eq!(by_url(0).name, "Renamed");
        assert!(!by_url(48).active && !by_url(49).active);
        assert!(by_url(47).active);
        assert_eq!(by_url(99).name, "New again");
        assert_eq!(feeds.len(), 51);
        // And back: the dropped ones return.
        store.sync_config_feeds(&specs, at(30)).expect("back");
        assert!(
            store
                .feeds()
                .expect("feeds")
                .iter()
                .filter(|f| f.url.contains("f99"))
                .all(|f| !f.active)
        );
        assert_eq!(store.active_feeds().expect("feeds").len(), 50);
    }

    #[test]
    fn due_feeds_come_earliest_first_up_to_the_limit() {
        let (_dir, mut store) = store();
        let specs: Vec<FeedSpec> = (0..5)
            .map(|n| FeedSpec {
                name: format!("F{n}"),
                url: format!("https://f{n}.example/feed"),
            })
            .collect();
        store.sync_config_feeds(&specs, at(0)).expect("feeds");
        let ids: Vec<FeedId> = store.feeds().expect("feeds").iter().map(|f| f.id).collect();
        // Next polls at 50, 40, 30, 20 and 1,000 (not yet due at 100).
        for (id, next) in ids.iter().zip([50, 40, 30, 20, 1_000]) {
            store
                .record_poll(
                    *id,
                    PollRecord::Failure,
                    &FeedHealth::default(),
                    at(next),
                    at(0),
                )
                .expect("scheduled");
        }
        let due = |limit| -> Vec<FeedId> {
            let rows = store.due_feeds(at(100), limit).expect("due");
            rows.iter().map(|f| f.id).collect()
        };
        assert_eq!(due(None), [ids[3], ids[2], ids[1], ids[0]]);
        assert_eq!(due(Some(2)), [ids[3], ids[2]]);
        assert_eq!(
            store.next_poll_at_except(&[ids[3], ids[2]]).expect("next"),
            Some(at(40))
        );
    }
}
