//! Stories (one event, many items) and their Related links.

use jiff::{SignedDuration, Timestamp};
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

/// A story's accumulated term weights (its centroid) with what grouping needs to know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoryTerms {
    pub story_id: StoryId,
    /// Serialized weights, owned by the relate module's format.
    pub terms: String,
    pub norm: f64,
    /// Corpus size when the centroid (its stored frequencies and `norm`) was written.
    pub norm_docs: i64,
    /// Items merged into the centroid.
    pub items: i64,
    pub published: Timestamp,
    pub updated: Timestamp,
}

/// One synthetic article for [`Store::bulk_fill`] (benchmarks): stored, indexed and grouped
/// without running the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkArticle {
    pub title: String,
    pub text: String,
    pub published: Timestamp,
    /// Index into the `stories` argument of [`Store::bulk_fill`].
    pub story: usize,
}

fn story_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoryRow> {
    Ok(StoryRow {
        id: r.get(0)?,
        lead_item_id: r.get(1)?,
        published: ts_from_sql(r.get(2)?),
        updated: ts_from_sql(r.get(3)?),
        announce: r.get(4)?,
    })
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RelatedLink {
    pub story_id: StoryId,
    pub score: f64,
}

/// The query of [`Store::stories_matching`]: parameters `since`, the channel (when
/// `unposted`), one per topic, then the limit. It walks `stories_published` newest first and
/// stops at the limit, so a digest or a page does not sort every story ever stored.
fn stories_matching_sql(topics: usize, unposted: bool) -> String {
    let mut filter = String::new();
    if unposted {
        filter.push_str(
            " AND s.announce = 1
              AND NOT EXISTS (SELECT 1 FROM digest_stories ds JOIN digests d ON d.id = ds.digest_id
                              WHERE ds.story_id = s.id AND d.channel = ?)",
        );
    }
    if topics > 0 {
        let marks = vec!["?"; topics].join(", ");
        filter.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM items i JOIN topic_matches t ON t.item_id = i.id
                  WHERE i.story_id = s.id AND t.topic IN ({marks}))"
        ));
    }
    format!(
        "SELECT s.id, s.lead_item_id, s.published_at, s.updated_at, s.announce FROM stories s
         WHERE s.published_at >= ? {filter}
         ORDER BY s.published_at DESC, s.id DESC LIMIT ?"
    )
}

/// The front page's query: announced stories, newest first, a page at a time.
const STORY_PAGE_SQL: &str =
    "SELECT s.id, s.lead_item_id, s.published_at, s.updated_at, s.announce FROM stories s
     WHERE s.announce = 1 ORDER BY s.published_at DESC, s.id DESC LIMIT ?1 OFFSET ?2";

/// [`Store::stories_within`]'s two walks, parameters `from` and `to`: each reads one index
/// range a story at a time and says whether the story also meets the other bound.
const STORIES_ENDING_SQL: &str =
    "SELECT published_at <= ?2 FROM stories WHERE updated_at >= ?1 ORDER BY updated_at";
const STORIES_STARTING_SQL: &str = "SELECT updated_at >= ?1 FROM stories WHERE published_at <= ?2
     ORDER BY published_at DESC, id DESC";

impl Store {
    /// Opens a new story led by `item`.
    pub fn create_story(&mut self, item: ItemId) -> Result<StoryId> {
        let tx = self.conn.savepoint()?;
        let (published, announce): (i64, bool) = tx
            .prepare_cached("SELECT published_at, announce FROM items WHERE id = ?1")?
            .query_row([item], |r| Ok((r.get(0)?, r.get(1)?)))?;
        tx.prepare_cached(
            "INSERT INTO stories (lead_item_id, published_at, updated_at, announce)
             VALUES (?1, ?2, ?2, ?3)",
        )?
        .execute(params![item, published, announce])?;
        let story = StoryId(tx.last_insert_rowid());
        tx.prepare_cached("UPDATE items SET story_id = ?2 WHERE id = ?1")?
            .execute(params![item, story])?;
        tx.commit()?;
        Ok(story)
    }

    /// Adds `item` to an existing story. An item published before the current lead becomes the
    /// lead (the story is headed by its earliest report); an announced item makes the story
    /// announceable.
    pub fn attach_to_story(&mut self, item: ItemId, story: StoryId) -> Result<()> {
        let tx = self.conn.savepoint()?;
        let (published, announce): (i64, bool) = tx
            .prepare_cached("SELECT published_at, announce FROM items WHERE id = ?1")?
            .query_row([item], |r| Ok((r.get(0)?, r.get(1)?)))?;
        tx.prepare_cached("UPDATE items SET story_id = ?2 WHERE id = ?1")?
            .execute(params![item, story])?;
        tx.prepare_cached(
            "UPDATE stories SET
                 lead_item_id = CASE WHEN ?2 < published_at THEN ?3 ELSE lead_item_id END,
                 published_at = MIN(published_at, ?2),
                 updated_at = MAX(updated_at, ?2),
                 announce = MAX(announce, ?4)
             WHERE id = ?1",
        )?
        .execute(params![story, published, item, announce])?;
        tx.commit()?;
        Ok(())
    }

    pub fn story(&self, id: StoryId) -> Result<StoryRow> {
        self.conn
            .prepare_cached(
                "SELECT id, lead_item_id, published_at, updated_at, announce
                 FROM stories WHERE id = ?1",
            )?
            .query_row([id], story_from_row)
            .optional()?
            .ok_or(StoreError::NotFound {
                what: "story",
                id: id.0,
            })
    }

    /// Replaces a story's Related list (best first).
    pub fn set_related(&mut self, story: StoryId, related: &[RelatedLink]) -> Result<()> {
        let tx = self.conn.savepoint()?;
        tx.prepare_cached("DELETE FROM story_related WHERE story_id = ?1")?
            .execute([story])?;
        for (rank, link) in related.iter().enumerate() {
            tx.prepare_cached(
                "INSERT INTO story_related (story_id, rank, related_story_id, score)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![story, rank as i64, link.story_id, link.score])?;
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
        self.stories_matching(topics, since, limit, Some(channel))
    }

    /// Stories published at or after `since` with an item matching one of `topics` (every
    /// story when `topics` is empty), newest first. With `unposted_in`, only announceable
    /// stories that channel's digests have not carried.
    pub(super) fn stories_matching(
        &self,
        topics: &[String],
        since: Timestamp,
        limit: usize,
        unposted_in: Option<&str>,
    ) -> Result<Vec<StoryRow>> {
        let mut values: Vec<rusqlite::types::Value> = vec![ts_to_sql(since).into()];
        if let Some(channel) = unposted_in {
            values.push(channel.to_string().into());
        }
        values.extend(topics.iter().map(|t| t.clone().into()));
        values.push((limit as i64).into());
        let sql = stories_matching_sql(topics.len(), unposted_in.is_some());
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(values), story_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Announced stories, newest first: `limit` of them after skipping `offset` (front page).
    pub fn story_page(&self, limit: usize, offset: usize) -> Result<Vec<StoryRow>> {
        let mut stmt = self.conn.prepare_cached(STORY_PAGE_SQL)?;
        let rows = stmt.query_map(params![limit as i64, offset as i64], story_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Stories whose coverage span lies within `window` of `at` (last coverage no earlier than
    /// `at − window`, first no later than `at + window`), counted up to `limit`.
    ///
    /// Either bound alone can hold most of the store: the stories last covered after
    /// `at − window` are every later story when `at` is old (a back catalogue older than the
    /// desk's history), those first covered before `at + window` every earlier one when it is
    /// new and the window quiet. So both are walked in turn, a story at a time, and the first
    /// walk to finish answers: each alone gives the count, and together they cost twice the
    /// cheaper one.
    pub fn stories_within(&self, at: Timestamp, window: SignedDuration, limit: i64) -> Result<i64> {
        let from = ts_to_sql(at.checked_sub(window).unwrap_or(Timestamp::MIN));
        let to = ts_to_sql(at.checked_add(window).unwrap_or(Timestamp::MAX));
        if limit <= 0 {
            return Ok(0);
        }
        let mut by_end = self.conn.prepare_cached(STORIES_ENDING_SQL)?;
        let mut by_start = self.conn.prepare_cached(STORIES_STARTING_SQL)?;
        let mut walks = [
            by_end.query(params![from, to])?,
            by_start.query(params![from, to])?,
        ];
        let mut counts = [0i64; 2];
        loop {
            for (walk, count) in walks.iter_mut().zip(&mut counts) {
                match walk.next()? {
                    Some(row) => *count += i64::from(row.get::<_, bool>(0)?),
                    None => return Ok(*count),
                }
                if *count >= limit {
                    return Ok(limit);
                }
            }
        }
    }

    /// Centroids of the given stories (stories without one are left out).
    pub fn story_terms(&self, stories: &[StoryId]) -> Result<Vec<StoryTerms>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT t.story_id, t.terms, t.norm, t.norm_docs, t.items, s.published_at, s.updated_at
             FROM story_terms t JOIN stories s ON s.id = t.story_id WHERE t.story_id = ?1",
        )?;
        let mut out = Vec::with_capacity(stories.len());
        for &story in stories {
            let row = stmt
                .query_row([story], |r| {
                    Ok(StoryTerms {
                        story_id: r.get(0)?,
                        terms: r.get(1)?,
                        norm: r.get(2)?,
                        norm_docs: r.get(3)?,
                        items: r.get(4)?,
                        published: ts_from_sql(r.get(5)?),
                        updated: ts_from_sql(r.get(6)?),
                    })
                })
                .optional()?;
            out.extend(row);
        }
        Ok(out)
    }

    /// Saves a story's centroid (`published`/`updated` are read from the story, not written).
    pub fn set_story_terms(&mut self, t: &StoryTerms) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO story_terms (story_id, terms, norm, norm_docs, items) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (story_id) DO UPDATE SET terms = ?2, norm = ?3, norm_docs = ?4, items = ?5",
            )?
            .execute(params![t.story_id, t.terms, t.norm, t.norm_docs, t.items])?;
        // A story whose centroid expired and that gains coverage again (by its URL) has one
        // again, to expire in turn.
        self.conn
            .prepare_cached(
                "UPDATE stories SET terms_expired = 0 WHERE id = ?1 AND terms_expired <> 0",
            )?
            .execute([t.story_id])?;
        Ok(())
    }

    /// Stories of the given items, in the items' order, each once (unprocessed items skipped).
    pub fn stories_of_items(&self, items: &[ItemId]) -> Result<Vec<StoryId>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT story_id FROM items WHERE id = ?1 AND story_id IS NOT NULL")?;
        let mut out: Vec<StoryId> = Vec::new();
        for &item in items {
            let story: Option<StoryId> = stmt.query_row([item], |r| r.get(0)).optional()?;
            if let Some(story) = story
                && !out.contains(&story)
            {
                out.push(story);
            }
        }
        Ok(out)
    }

    /// Benchmark fill: stores `articles` as processed items of `feed`, indexed for search, with
    /// `stories[i]` = (serialized centroid terms, norm) for story index `i`, document counts in
    /// `doc_terms` (term, df) plus `documents` in total, all in one transaction. Returns the
    /// story ids in index order.
    pub fn bulk_fill(
        &mut self,
        feed: super::FeedId,
        articles: &[BulkArticle],
        stories: &[(String, f64)],
        doc_terms: &[(String, i64)],
        documents: i64,
    ) -> Result<Vec<StoryId>> {
        let tx = self.conn.savepoint()?;
        // Keys must be unique per feed across calls.
        let base: i64 = tx.query_row("SELECT COALESCE(MAX(id), 0) FROM items", [], |r| r.get(0))?;
        let mut story_ids: Vec<Option<StoryId>> = vec![None; stories.len()];
        let mut counts = vec![0i64; stories.len()];
        {
            let mut item = tx.prepare_cached(
                "INSERT INTO items (feed_id, key, title, outlet, published_at, first_seen_at, feed_text,
                     announce, text, text_source, summary, processed_at)
                 VALUES (?1, ?2, ?3, 'bench', ?4, ?4, '', 1, ?5, 'feed', '', ?4)",
            )?;
            let mut fts = tx
                .prepare_cached("INSERT INTO items_fts (rowid, title, body) VALUES (?1, ?2, ?3)")?;
            let mut story = tx.prepare_cached(
                "INSERT INTO stories (lead_item_id, published_at, updated_at, announce) VALUES (?1, ?2, ?2, 1)",
            )?;
            let mut update = tx.prepare_cached(
                "UPDATE stories SET updated_at = MAX(updated_at, ?2) WHERE id = ?1",
            )?;
            let mut attach = tx.prepare_cached("UPDATE items SET story_id = ?2 WHERE id = ?1")?;
            for (n, a) in articles.iter().enumerate() {
                let published = ts_to_sql(a.published);
                item.execute(params![
                    feed,
                    format!("bulk-{}", base + n as i64),
                    a.title,
                    published,
                    a.text
                ])?;
                let id = tx.last_insert_rowid();
                fts.execute(params![id, a.title, a.text])?;
                let Some(slot) = story_ids.get_mut(a.story) else {
                    continue;
                };
                let sid = match slot {
                    Some(s) => {
                        update.execute(params![*s, published])?;
                        *s
                    }
                    None => {
                        story.execute(params![id, published])?;
                        let s = StoryId(tx.last_insert_rowid());
                        *slot = Some(s);
                        s
                    }
                };
                attach.execute(params![id, sid])?;
                if let Some(c) = counts.get_mut(a.story) {
                    *c += 1;
                }
            }
            let total: i64 = tx
                .query_row("SELECT df FROM term_df WHERE term = ''", [], |r| r.get(0))
                .optional()?
                .unwrap_or(0)
                + documents;
            let mut terms = tx.prepare_cached(
                "INSERT INTO story_terms (story_id, terms, norm, norm_docs, items) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for ((sid, (text, norm)), n) in story_ids.iter().zip(stories).zip(&counts) {
                if let Some(sid) = sid {
                    terms.execute(params![sid, text, norm, total, n])?;
                }
            }
            let mut df = tx.prepare_cached(
                "INSERT INTO term_df (term, df) VALUES (?1, ?2) ON CONFLICT (term) DO UPDATE SET df = df + ?2",
            )?;
            df.execute(params!["", documents])?;
            for (term, n) in doc_terms {
                if !term.is_empty() {
                    df.execute(params![term, n])?;
                }
            }
        }
        tx.commit()?;
        Ok(story_ids.into_iter().flatten().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{count_vm_steps, query_plan, temp_store};

    /// Digests, feeds out and pages read the newest stories through `stories_published` and
    /// stop at their limit; without it each sorts every story stored (a temporary B-tree).
    #[test]
    fn the_newest_stories_are_read_in_index_order() {
        let (_dir, store) = temp_store();
        for (topics, unposted) in [(0, false), (2, false), (1, true)] {
            let plan = query_plan(&store, &stories_matching_sql(topics, unposted));
            assert!(
                plan.lines().next()
                    == Some("SEARCH s USING INDEX stories_published (published_at>?)")
                    && !plan.contains("TEMP B-TREE"),
                "{plan}"
            );
        }
        let plan = query_plan(&store, STORY_PAGE_SQL);
        assert_eq!(plan, "SCAN s USING INDEX stories_published", "{plan}");
    }

    /// Grouping counts the stories competing around each item. An item older than the desk's
    /// history (a new feed's back catalogue) has none, and counting them must not read every
    /// later story, as walking the stories last covered after its window did.
    #[test]
    fn competing_stories_are_counted_from_the_side_where_few_lie() {
        let (_dir, mut store) = temp_store();
        let hour = 3_600;
        let start = 1_780_000_000;
        let stories = 4_000;
        // A story an hour, each covered for two hours.
        let tx = store.conn.transaction().expect("transaction");
        for n in 0..stories {
            tx.execute(
                "INSERT INTO stories (lead_item_id, published_at, updated_at, announce)
                 VALUES (1, ?1, ?2, 1)",
                params![start + n * hour, start + n * hour + 2 * hour],
            )
            .expect("story");
        }
        tx.commit().expect("commit");
        let window = SignedDuration::from_hours(72);
        let expected = |at: i64| -> i64 {
            let (from, to) = (at - 72 * hour, at + 72 * hour);
            store
                .conn
                .query_row(
                    "SELECT COUNT(*) FROM stories WHERE updated_at >= ?1 AND published_at <= ?2",
                    [from, to],
                    |r| r.get::<_, i64>(0),
                )
                .expect("count")
                .min(64)
        };
        let year = 365 * 24 * hour;
        let times = [
            start - year,
            start - 70 * hour,
            start + 10 * hour,
            start + 2_000 * hour,
            start + (stories + 70) * hour,
            start + year,
        ];
        let wanted: Vec<i64> = times.iter().map(|&at| expected(at)).collect();
        assert_eq!(wanted, [0, 3, 64, 64, 4, 0]);
        let steps = count_vm_steps(&mut store);
        for (&at, &want) in times.iter().zip(&wanted) {
            let at = ts_from_sql(at);
            assert_eq!(store.stories_within(at, window, 64).expect("count"), want);
        }
        steps.store(0, std::sync::atomic::Ordering::Relaxed);
        store
            .stories_within(ts_from_sql(start - year), window, 64)
            .expect("count");
        let used = steps.load(std::sync::atomic::Ordering::Relaxed);
        // Walking every later story took 16,000 here.
        assert!(used < 2_000, "{used} steps");
        // Each walk reads its own index in its order, with no sort.
        assert_eq!(
            query_plan(&store, STORIES_ENDING_SQL),
            "SEARCH stories USING INDEX stories_updated (updated_at>?)"
        );
        assert_eq!(
            query_plan(&store, STORIES_STARTING_SQL),
            "SEARCH stories USING INDEX stories_published (published_at<?)"
        );
    }
}
