//! Items (one article from one feed), their processing results, topic matches and full-text index.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, Row, params};

use super::feeds::{PollRecord, record_poll_in};
use super::{
    FeedId, ItemId, Result, Store, StoreError, StoryId, TextSource, opt_ts, ts_from_sql, ts_to_sql,
};
use crate::fetch::schedule::FeedHealth;
use crate::model::Entry;

#[derive(Debug, Clone, PartialEq)]
pub struct ItemRow {
    pub id: ItemId,
    pub feed_id: FeedId,
    pub key: String,
    pub url: Option<String>,
    pub title: String,
    pub author: Option<String>,
    pub outlet: String,
    pub published: Timestamp,
    pub first_seen: Timestamp,
    /// The feed's own text of the item. Stored once: when it became the article text, the
    /// column is emptied and this is read back from `text`.
    pub feed_text: String,
    pub announce: bool,
    /// Article text after extraction; `None` until processed, and again once expired.
    pub text: Option<String>,
    pub text_source: Option<TextSource>,
    pub summary: Option<String>,
    /// The one-sentence gist; `None` until processed (and for items processed before gists).
    pub gist: Option<String>,
    pub story_id: Option<StoryId>,
    pub processed: Option<Timestamp>,
    /// Failed processing attempts so far.
    pub failures: u32,
}

impl ItemRow {
    /// Past `[storage] keep`: processed, its text and longer summary dropped, its gist kept.
    pub fn is_expired(&self) -> bool {
        self.processed.is_some() && self.text.is_none()
    }
}

/// Result of storing one fetched feed document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewItems {
    pub ids: Vec<ItemId>,
    pub announced: usize,
}

/// What processing found out about an item.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessedItem<'a> {
    pub text: &'a str,
    pub text_source: TextSource,
    pub summary: &'a str,
    pub gist: &'a str,
    pub topics: &'a [String],
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchHit {
    pub item_id: ItemId,
    /// bm25 score: lower is better (SQLite convention).
    pub score: f64,
}

/// Characters of an item's text stored and indexed: about 15,000 words, more than any news
/// article (the evaluation sets' longest is 53,000 characters), so a huge item takes no more room
/// in the table and the full-text index than a long article.
pub const MAX_TEXT_CHARS: usize = 100_000;

const ITEM_COLUMNS: &str = "id, feed_id, key, url, title, author, outlet, published_at, first_seen_at, \
     feed_text, announce, text, text_source, summary, story_id, processed_at, failures, gist";

fn item_from_row(r: &Row<'_>) -> rusqlite::Result<ItemRow> {
    let text: Option<String> = r.get(11)?;
    let text_source: Option<TextSource> = r.get(12)?;
    let mut feed_text: String = r.get(9)?;
    // Emptied by `finish_item` when the article text is the feed's (a feed text is never empty
    // then: an empty one gives the source `Missing`).
    if feed_text.is_empty()
        && text_source == Some(TextSource::Feed)
        && let Some(text) = &text
    {
        feed_text.clone_from(text);
    }
    Ok(ItemRow {
        id: r.get(0)?,
        feed_id: r.get(1)?,
        key: r.get(2)?,
        url: r.get(3)?,
        title: r.get(4)?,
        author: r.get(5)?,
        outlet: r.get(6)?,
        published: ts_from_sql(r.get(7)?),
        first_seen: ts_from_sql(r.get(8)?),
        feed_text,
        announce: r.get(10)?,
        text,
        text_source,
        summary: r.get(13)?,
        story_id: r.get(14)?,
        processed: opt_ts(r.get(15)?),
        failures: r.get(16)?,
        gist: r.get(17)?,
    })
}

/// The queue read: through the partial index `items_pending`, which holds only unprocessed
/// items in this order, so a batch costs the same in a store of a million processed items.
fn pending_sql() -> String {
    format!(
        "SELECT {ITEM_COLUMNS} FROM items
         WHERE processed_at IS NULL AND (retry_at IS NULL OR retry_at <= ?2)
         ORDER BY announce DESC, published_at, id LIMIT ?1"
    )
}

impl Store {
    /// Stores the entries of one fetched document and the poll's outcome in one transaction, so
    /// the feed's body hash and validators only advance once its items are safely stored.
    #[allow(clippy::too_many_arguments)]
    pub fn store_fetched(
        &mut self,
        feed_id: FeedId,
        outlet: &str,
        entries: &[Entry],
        announce: &dyn Fn(&Entry) -> bool,
        record: PollRecord<'_>,
        health: &FeedHealth,
        next: Timestamp,
        now: Timestamp,
    ) -> Result<NewItems> {
        self.atomically(|store| {
            let out = store.store_entries(feed_id, outlet, entries, announce, now)?;
            record_poll_in(&store.conn, feed_id, record, health, next, now)?;
            Ok(out)
        })
    }

    /// Stores the entries a feed has not been seen with, in one transaction. Entries already
    /// known (same key, or same canonical URL in the same feed) are skipped: an edited title or
    /// date never announces an item twice. `announce` decides, per new entry, whether it may
    /// appear in digests.
    pub fn store_entries(
        &mut self,
        feed_id: FeedId,
        outlet: &str,
        entries: &[Entry],
        announce: &dyn Fn(&Entry) -> bool,
        now: Timestamp,
    ) -> Result<NewItems> {
        let tx = self.conn.savepoint()?;
        let mut out = NewItems::default();
        {
            let mut known_key =
                tx.prepare_cached("SELECT 1 FROM items WHERE feed_id = ?1 AND key = ?2")?;
            let mut known_url =
                tx.prepare_cached("SELECT 1 FROM items WHERE feed_id = ?1 AND url = ?2")?;
            // The entry's HTML is not stored: nothing reads it (its text is `feed_text`).
            let mut insert = tx.prepare_cached(
                "INSERT INTO items (feed_id, key, url, title, author, outlet, published_at, first_seen_at,
                     feed_text, announce)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            for entry in entries {
                if known_key.exists(params![feed_id, entry.key])? {
                    continue;
                }
                if let Some(url) = &entry.url
                    && known_url.exists(params![feed_id, url])?
                {
                    continue;
                }
                let announced = announce(entry);
                let published = entry.published.filter(|p| *p <= now).unwrap_or(now);
                insert.execute(params![
                    feed_id,
                    entry.key,
                    entry.url,
                    entry.title,
                    entry.author,
                    outlet,
                    ts_to_sql(published),
                    ts_to_sql(now),
                    entry.text,
                    announced
                ])?;
                out.ids.push(ItemId(tx.last_insert_rowid()));
                out.announced += usize::from(announced);
            }
        }
        tx.commit()?;
        Ok(out)
    }

    pub fn item(&self, id: ItemId) -> Result<ItemRow> {
        let sql = format!("SELECT {ITEM_COLUMNS} FROM items WHERE id = ?1");
        self.conn
            .prepare_cached(&sql)?
            .query_row([id], item_from_row)
            .optional()?
            .ok_or(StoreError::NotFound {
                what: "item",
                id: id.0,
            })
    }

    pub fn item_by_url(&self, url: &str) -> Result<Option<ItemRow>> {
        let sql = format!("SELECT {ITEM_COLUMNS} FROM items WHERE url = ?1 ORDER BY id LIMIT 1");
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row([url], item_from_row)
            .optional()?)
    }

    /// Items stored but not processed yet: those to be announced first, then the back
    /// catalogue (a new feed's old items, stale items), each oldest first; those whose
    /// processing failed wait for their retry time. A large import's back catalogue is needed
    /// for Related and search, but must not hold up news for minutes.
    pub fn pending_items(&self, limit: usize, now: Timestamp) -> Result<Vec<ItemRow>> {
        let mut stmt = self.conn.prepare_cached(&pending_sql())?;
        let rows = stmt.query_map(params![limit as i64, ts_to_sql(now)], item_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Keeps an item out of digests (a feed filter it does not pass); it stays searchable.
    pub fn hold_back_item(&mut self, id: ItemId) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE items SET announce = 0 WHERE id = ?1")?
            .execute([id])?;
        Ok(())
    }

    /// Records that processing an item failed; it is tried again from `retry_at`. Returns how
    /// many times it has failed.
    pub fn record_item_failure(
        &mut self,
        id: ItemId,
        error: &str,
        retry_at: Timestamp,
    ) -> Result<u32> {
        Ok(self.conn.query_row(
            "UPDATE items SET failures = failures + 1, last_failure = ?2, retry_at = ?3
             WHERE id = ?1 RETURNING failures",
            params![id, error, ts_to_sql(retry_at)],
            |r| r.get(0),
        )?)
    }

    pub fn items_of_story(&self, story: StoryId) -> Result<Vec<ItemRow>> {
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM items WHERE story_id = ?1 ORDER BY published_at, id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([story], item_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Saves an item's processing results, indexes its text (its first [`MAX_TEXT_CHARS`]) and
    /// records its topic matches.
    pub fn finish_item(
        &mut self,
        id: ItemId,
        done: &ProcessedItem<'_>,
        now: Timestamp,
    ) -> Result<()> {
        let text = crate::terms::head(done.text, MAX_TEXT_CHARS);
        let tx = self.conn.savepoint()?;
        let (title, feed_text): (String, String) = tx
            .prepare_cached("SELECT title, feed_text FROM items WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        // The feed's text that became the article text is kept once, as `text`.
        let feed_text_is_text =
            done.text_source == TextSource::Feed && !text.is_empty() && feed_text.trim() == text;
        tx.prepare_cached(
            "UPDATE items SET text = ?2, text_source = ?3, summary = ?4, gist = ?5, processed_at = ?6,
                 feed_text = CASE WHEN ?7 THEN '' ELSE feed_text END
             WHERE id = ?1",
        )?
        .execute(params![
            id,
            text,
            done.text_source,
            done.summary,
            done.gist,
            ts_to_sql(now),
            feed_text_is_text
        ])?;
        tx.prepare_cached("DELETE FROM items_fts WHERE rowid = ?1")?
            .execute([id])?;
        tx.prepare_cached("INSERT INTO items_fts (rowid, title, body) VALUES (?1, ?2, ?3)")?
            .execute(params![id, title, text])?;
        tx.prepare_cached("DELETE FROM topic_matches WHERE item_id = ?1")?
            .execute([id])?;
        for topic in done.topics {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO topic_matches (item_id, topic) VALUES (?1, ?2)",
            )?
            .execute(params![id, topic])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Full-text search over processed items; `fts_query` is an FTS5 MATCH expression.
    /// Title matches weigh three times body matches.
    pub fn search_items(&self, fts_query: &str, limit: usize) -> Result<Vec<SearchHit>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT rowid, bm25(items_fts, 3.0, 1.0) AS s FROM items_fts WHERE items_fts MATCH ?1 ORDER BY s LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![fts_query, limit as i64], |r| {
            Ok(SearchHit {
                item_id: r.get(0)?,
                score: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Stores one entry outside any poll (batch input, benchmarks, tests): announced, with no
    /// fetch bookkeeping and no clock cap on its publication time. `None` when the feed already
    /// has an entry with that key.
    pub fn store_batch_entry(
        &mut self,
        feed_id: FeedId,
        outlet: &str,
        entry: &Entry,
    ) -> Result<Option<ItemId>> {
        let record = PollRecord::Success {
            validators: &crate::fetch::Validators::default(),
            body_hash: None,
            meta: None,
        };
        // "Now" far in the future: a batch's dates are its own, never capped to the clock.
        let far = Timestamp::MAX;
        let stored = self.store_fetched(
            feed_id,
            outlet,
            std::slice::from_ref(entry),
            &|_| true,
            record,
            &FeedHealth::default(),
            far,
            far,
        )?;
        Ok(stored.ids.first().copied())
    }

    /// Indexed items containing `word` (a plain word; FTS5 applies its stemmer), newest first.
    pub fn items_with_word(&self, word: &str, limit: usize) -> Result<Vec<ItemId>> {
        let phrase = format!("\"{}\"", word.replace('"', ""));
        let mut stmt = self.conn.prepare_cached(
            "SELECT rowid FROM items_fts WHERE items_fts MATCH ?1 ORDER BY rowid DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![phrase, limit as i64], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Merges the full-text index into one segment. Inserts leave a stack of segments and
    /// every word looked up visits each of them, so grouping slows as the index grows
    /// unless it is merged now and then (the daemon does it daily; a bulk load, after).
    pub fn optimize_search_index(&mut self) -> Result<()> {
        self.conn
            .execute("INSERT INTO items_fts (items_fts) VALUES ('optimize')", [])?;
        Ok(())
    }

    /// One bounded step of merging the full-text index towards a single segment, as
    /// [`optimize_search_index`](Store::optimize_search_index) does at once: at most about
    /// `pages` pages are written, so a daemon can merge a large index in steps and let other work
    /// have the store in between. Returns whether there is more to merge.
    pub fn merge_search_index_step(&mut self, pages: u32) -> Result<bool> {
        let before = self.conn.total_changes();
        // A negative page budget merges segments of every level, as 'optimize' does.
        self.conn.execute(
            "INSERT INTO items_fts (items_fts, rank) VALUES ('merge', ?1)",
            [-i64::from(pages.max(1))],
        )?;
        // FTS5 says so itself: fewer than two changes means nothing was left to merge.
        Ok(self.conn.total_changes() - before >= 2)
    }

    pub fn topics_of_item(&self, id: ItemId) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT topic FROM topic_matches WHERE item_id = ?1 ORDER BY topic")?;
        let rows = stmt.query_map([id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{query_plan, temp_store as store};

    /// Walking `items_published` instead would step over every processed item for each batch:
    /// processing a store's backlog would cost the square of its size.
    #[test]
    fn the_pending_queue_is_read_through_its_partial_index() {
        let (_dir, store) = store();
        let plan = query_plan(&store, &pending_sql());
        assert_eq!(plan, "SCAN items USING INDEX items_pending", "{plan}");
    }

    /// The feed's text that became the article text is stored once and read back the same;
    /// a feed's teaser beside a page's text stays; the feed's HTML is not kept.
    #[test]
    fn an_items_feed_text_is_stored_once() {
        let (_dir, mut store) = store();
        let now = Timestamp::from_second(1_780_000_000).expect("time");
        let feed = store
            .add_feed(
                &crate::store::FeedSpec {
                    name: "Wire".into(),
                    url: "https://wire.example/feed".into(),
                },
                crate::store::FeedOrigin::Config,
                now,
            )
            .expect("feed");
        let entry = |key: &str, text: &str| Entry {
            key: key.into(),
            url: None,
            title: format!("Title {key}"),
            author: None,
            published: Some(now),
            text: text.into(),
            content_html: Some(format!("<p>{text}</p>")),
        };
        let entries = [
            entry("feed", "  The council met. It voted.\n"),
            entry("page", "A teaser."),
        ];
        let ids = store
            .store_entries(feed, "Wire", &entries, &|_| true, now)
            .expect("stored")
            .ids;
        let done = |text, text_source| ProcessedItem {
            text,
            text_source,
            summary: "s",
            gist: "g",
            topics: &[],
        };
        store
            .finish_item(
                ids[0],
                &done("The council met. It voted.", TextSource::Feed),
                now,
            )
            .expect("finished");
        store
            .finish_item(ids[1], &done("The whole page.", TextSource::Page), now)
            .expect("finished");
        let stored = |id: ItemId| -> (String, Option<String>) {
            store
                .conn
                .query_row(
                    "SELECT feed_text, content_html FROM items WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .expect("row")
        };
        assert_eq!(stored(ids[0]), (String::new(), None));
        assert_eq!(stored(ids[1]), ("A teaser.".to_string(), None));
        let read = store.item(ids[0]).expect("item");
        assert_eq!(read.feed_text, "The council met. It voted.");
        assert_eq!(read.text.as_deref(), Some("The council met. It voted."));
        assert_eq!(store.item(ids[1]).expect("item").feed_text, "A teaser.");
    }

    /// A new feed's back catalogue (not to be announced) waits behind news, however old the
    /// news is beside it; each part is taken oldest first.
    #[test]
    fn news_is_processed_before_the_back_catalogue() {
        let (_dir, mut store) = store();
        let at = |h: i64| Timestamp::from_second(1_780_000_000 + h * 3600).expect("time");
        let spec = crate::store::FeedSpec {
            name: "Wire".into(),
            url: "https://wire.example/feed".into(),
        };
        let feed = store
            .add_feed(&spec, crate::store::FeedOrigin::Config, at(0))
            .expect("feed");
        let entry = |key: &str, hour: i64| Entry {
            key: key.into(),
            url: None,
            title: key.into(),
            author: None,
            published: Some(at(hour)),
            text: String::new(),
            content_html: None,
        };
        // Back catalogue at hours 1 and 2 around news at hours 3 and 0.
        let entries = [
            entry("old-b", 2),
            entry("news-late", 3),
            entry("old-a", 1),
            entry("news-early", 0),
        ];
        let record = PollRecord::Success {
            validators: &crate::fetch::Validators::default(),
            body_hash: None,
            meta: None,
        };
        store
            .store_fetched(
                feed,
                "Wire",
                &entries,
                &|e| e.key.starts_with("news"),
                record,
                &FeedHealth::default(),
                at(10),
                at(10),
            )
            .expect("stored");
        let order: Vec<String> = store
            .pending_items(10, at(10))
            .expect("pending")
            .into_iter()
            .map(|i| i.key)
            .collect();
        assert_eq!(order, ["news-early", "news-late", "old-a", "old-b"]);
    }
}
