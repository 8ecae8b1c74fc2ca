//! What the store holds, counted for monitoring (`/metrics`): one read of a few aggregates.

use super::{Result, Store};

/// Counts at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gauges {
    /// Active feeds per health status ("ok", "failing", "dead").
    pub feeds_by_status: Vec<(String, i64)>,
    pub items: i64,
    /// Items not yet processed (the processor's queue), of which `items_set_aside` failed
    /// repeatedly and wait for a later retry.
    pub items_pending: i64,
    pub items_set_aside: i64,
    pub stories: i64,
    /// Digests per status ("pending", "sent", …).
    pub digests_by_status: Vec<(String, i64)>,
    /// Discord messages recorded as posted.
    pub messages_posted: i64,
    /// Stories dropped after Discord refused them twice.
    pub stories_dropped: i64,
    pub channels_paused: i64,
    /// Database file size: pages × page size.
    pub database_bytes: i64,
}

impl Store {
    /// The counts; an unprocessed item counts as set aside once it failed `set_aside_after`
    /// times (the processor's policy, `pipeline::MAX_ITEM_ATTEMPTS`).
    pub fn gauges(&self, set_aside_after: u32) -> Result<Gauges> {
        let count = |sql: &str| -> Result<i64> { Ok(self.conn.query_row(sql, [], |r| r.get(0))?) };
        let grouped = |sql: &str| -> Result<Vec<(String, i64)>> {
            let mut stmt = self.conn.prepare(sql)?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        };
        Ok(Gauges {
            feeds_by_status: grouped(
                "SELECT status, COUNT(*) FROM feeds WHERE active = 1 GROUP BY status ORDER BY status",
            )?,
            items: count("SELECT COUNT(*) FROM items")?,
            items_pending: count("SELECT COUNT(*) FROM items WHERE processed_at IS NULL")?,
            items_set_aside: self.conn.query_row(
                "SELECT COUNT(*) FROM items WHERE processed_at IS NULL AND failures >= ?1",
                [set_aside_after],
                |r| r.get(0),
            )?,
            stories: count("SELECT COUNT(*) FROM stories")?,
            digests_by_status: grouped(
                "SELECT status, COUNT(*) FROM digests GROUP BY status ORDER BY status",
            )?,
            messages_posted: count("SELECT COUNT(*) FROM digest_messages")?,
            stories_dropped: count("SELECT COUNT(*) FROM story_refusals WHERE dropped = 1")?,
            channels_paused: count(
                "SELECT COUNT(*) FROM channel_state WHERE paused_reason IS NOT NULL",
            )?,
            database_bytes: count(
                "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            )?,
        })
    }
}
