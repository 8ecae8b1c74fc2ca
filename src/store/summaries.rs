//! The cache of LLM summaries, keyed by a hash of everything that determines the answer.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::{Result, Store, ts_to_sql};

impl Store {
    /// The summary cached under `content_hash`, if any.
    pub fn cached_summary(&self, content_hash: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT summary FROM summary_cache WHERE content_hash = ?1",
                params![content_hash],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()?
            .flatten())
    }

    /// Stores (or replaces) the summary for `content_hash`.
    pub fn cache_summary(
        &self,
        content_hash: &str,
        model: &str,
        summary: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO summary_cache (content_hash, model, summary, created_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(content_hash) DO UPDATE SET
                model = excluded.model, summary = excluded.summary,
                created_at = excluded.created_at",
            params![content_hash, model, summary, ts_to_sql(now)],
        )?;
        Ok(())
    }

    /// Number of cached summaries (status output, tests).
    pub fn cached_summary_count(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM summary_cache", [], |r| r.get(0))?)
    }
}
