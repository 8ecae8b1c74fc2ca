//! Stories (one event, many items) and their Related links.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::{ItemId, Result, Store, StoreError, StoryId, ts_from_sql, ts_to_sql};

#[derive(Debug, Clone, PartialEq)]
pub struct StoryRow {
    pub id: StoryId,
    pub lead_item_id: ItemId,
    /// Publication time of the story's earliest item.
    pub published: Timestamp,
    /// Last time coverage was added.
    pub updated: Timestamp,
    pub announce: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RelatedLink {
    pub story_id: StoryId,
    pub score: f64,
}

impl Store {
    /// Opens a new story led by `item`.
    pub fn create_story(&mut self, item: ItemId) -> Result<StoryId> {
        let tx = self.conn.transaction()?;
        let (published, announce): (i64, bool) = tx.query_row(
            "SELECT published_at, announce FROM items WHERE id = ?1",
            [item],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        tx.execute(
            "INSERT INTO stories (lead_item_id, published_at, updated_at, announce) VALUES (?1, ?2, ?2, ?3)",
            params![item, published, announce],
        )?;
        let story = tx.last_insert_rowid();
        tx.execute(
            "UPDATE items SET story_id = ?2 WHERE id = ?1",
            params![item, story],
        )?;
        tx.commit()?;
        Ok(story)
    }

    /// Adds `item` to an existing story. An item published before the current lead becomes the
    /// lead (the story is headed by its earliest report); an announced item makes the story
    /// announceable.
    pub fn attach_to_story(&mut self, item: ItemId, story: StoryId) -> Result<()> {
        let tx = self.conn.transaction()?;
        let (published, announce): (i64, bool) = tx.query_row(
            "SELECT published_at, announce FROM items WHERE id = ?1",
            [item],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        tx.execute(
            "UPDATE items SET story_id = ?2 WHERE id = ?1",
            params![item, story],
        )?;
        tx.execute(
            "UPDATE stories SET
                 lead_item_id = CASE WHEN ?2 < published_at THEN ?3 ELSE lead_item_id END,
                 published_at = MIN(published_at, ?2),
                 updated_at = MAX(updated_at, ?2),
                 announce = MAX(announce, ?4)
             WHERE id = ?1",
            params![story, published, item, announce],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn story(&self, id: StoryId) -> Result<StoryRow> {
        self.conn
            .query_row(
                "SELECT id, lead_item_id, published_at, updated_at, announce FROM stories WHERE id = ?1",
                [id],
                |r| {
                    Ok(StoryRow {
                        id: r.get(0)?,
                        lead_item_id: r.get(1)?,
                        published: ts_from_sql(r.get(2)?),
                        updated: ts_from_sql(r.get(3)?),
                        announce: r.get(4)?,
                    })
                },
            )
            .optional()?
            .ok_or(StoreError::NotFound { what: "story", id })
    }

    /// Replaces a story's Related list (best first).
    pub fn set_related(&mut self, story: StoryId, related: &[RelatedLink]) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM story_related WHERE story_id = ?1", [story])?;
        for (rank, link) in related.iter().enumerate() {
            tx.execute(
                "INSERT INTO story_related (story_id, rank, related_story_id, score) VALUES (?1, ?2, ?3, ?4)",
                params![story, rank as i64, link.story_id, link.score],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn related_of(&self, story: StoryId) -> Result<Vec<RelatedLink>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT related_story_id, score FROM story_related WHERE story_id = ?1 ORDER BY rank",
        )?;
        let rows = stmt.query_map([story], |r| {
            Ok(RelatedLink {
                story_id: r.get(0)?,
                score: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Announceable stories not yet in any digest of `channel`, published at or after `since`,
    /// with at least one item matching one of `topics` (all stories when `topics` is empty);
    /// newest first.
    pub fn unposted_stories(
        &self,
        channel: &str,
        topics: &[String],
        since: Timestamp,
        limit: usize,
    ) -> Result<Vec<StoryRow>> {
        let topic_filter = if topics.is_empty() {
            String::new()
        } else {
            let marks = vec!["?"; topics.len()].join(", ");
            format!(
                " AND EXISTS (SELECT 1 FROM items i JOIN topic_matches t ON t.item_id = i.id
                      WHERE i.story_id = s.id AND t.topic IN ({marks}))"
            )
        };
        let sql = format!(
            "SELECT s.id, s.lead_item_id, s.published_at, s.updated_at, s.announce FROM stories s
             WHERE s.announce = 1 AND s.published_at >= ?
               AND NOT EXISTS (SELECT 1 FROM digest_stories ds JOIN digests d ON d.id = ds.digest_id
                               WHERE ds.story_id = s.id AND d.channel = ?)
               {topic_filter}
             ORDER BY s.published_at DESC, s.id DESC LIMIT ?"
        );
        let mut values: Vec<rusqlite::types::Value> =
            vec![ts_to_sql(since).into(), channel.to_string().into()];
        values.extend(topics.iter().map(|t| t.clone().into()));
        values.push((limit as i64).into());
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(values), |r| {
            Ok(StoryRow {
                id: r.get(0)?,
                lead_item_id: r.get(1)?,
                published: ts_from_sql(r.get(2)?),
                updated: ts_from_sql(r.get(3)?),
                announce: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn story_count(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM stories", [], |r| r.get(0))?)
    }
}
