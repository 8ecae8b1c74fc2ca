//! Retention: what an item and a story keep once they are old (see `[storage] keep`). Rows are
//! never deleted: an item's row is what keeps a feed from announcing it twice.

use jiff::Timestamp;
use rusqlite::params;

use super::{ItemId, Result, Store, StoryId, ts_to_sql};

/// The oldest processed items still holding their text, up to a limit: through the partial
/// index `items_unexpired`, which holds only those, so a run reads what expired since the last.
pub(super) const EXPIRING_ITEMS_SQL: &str = "SELECT id, title, \
     CASE WHEN gist IS NULL OR trim(gist) = '' THEN text END \
     FROM items WHERE text IS NOT NULL AND published_at < ?1 ORDER BY published_at LIMIT ?2";

/// The stories last covered longest ago that still hold a centroid, through `stories_with_terms`.
pub(super) const EXPIRING_STORIES_SQL: &str = "SELECT id FROM stories \
     WHERE terms_expired = 0 AND updated_at < ?1 ORDER BY updated_at LIMIT ?2";

impl Store {
    /// Drops the article text, feed text and longer summary of up to `limit` processed items
    /// published before `before`, oldest first, in one transaction. Headline, link, outlet,
    /// times, story, gist, topics and search terms stay (the last until its story expires, see
    /// [`Store::expire_story_terms`]). An item without a gist gets one first,
    /// from `gist(title, text)`, as readers would have made it. Returns the items changed.
    pub fn expire_items(
        &mut self,
        before: Timestamp,
        limit: usize,
        gist: &dyn Fn(&str, &str) -> String,
    ) -> Result<usize> {
        self.atomically(|store| {
            let expiring: Vec<(ItemId, Option<String>)> = {
                let mut stmt = store.conn.prepare_cached(EXPIRING_ITEMS_SQL)?;
                let rows = stmt.query_map(params![ts_to_sql(before), limit as i64], |r| {
                    let title: String = r.get(1)?;
                    let text: Option<String> = r.get(2)?;
                    Ok((r.get(0)?, text.map(|t| gist(&title, &t))))
                })?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            // Each row is taken out and put back shortened, not updated in place: SQLite keeps
            // a page an update shrank as it was (a page per article, a tenth used), while
            // deletes merge such pages and free the rest for new items. The row's id and every
            // column but the dropped ones come back as they were; its topic matches point at it
            // again by commit.
            store.conn.execute_batch(
                "PRAGMA defer_foreign_keys = ON;
                 CREATE TEMP TABLE IF NOT EXISTS expiring AS SELECT * FROM main.items WHERE 0;",
            )?;
            let mut take = store.conn.prepare_cached(
                "INSERT INTO temp.expiring SELECT * FROM main.items WHERE id = ?1",
            )?;
            let mut delete = store
                .conn
                .prepare_cached("DELETE FROM main.items WHERE id = ?1")?;
            let mut gist_made = store
                .conn
                .prepare_cached("UPDATE temp.expiring SET gist = ?2 WHERE id = ?1")?;
            for (id, made) in &expiring {
                take.execute([id])?;
                delete.execute([id])?;
                if let Some(made) = made {
                    gist_made.execute(params![id, made])?;
                }
            }
            store.conn.execute_batch(
                "UPDATE temp.expiring
                     SET text = NULL, feed_text = '', summary = NULL, content_html = NULL;
                 INSERT INTO main.items SELECT * FROM temp.expiring;
                 DELETE FROM temp.expiring;",
            )?;
            Ok(expiring.len())
        })
    }

    /// Drops the centroids (grouping and Related terms) of up to `limit` stories last covered
    /// before `before`, in one transaction; their pages and Related lists stay. Their
    /// expired items are indexed again by headline and gist only: the article text was most of
    /// the search index, and only now, with the story out of every window, can no grouping or
    /// Related look-up reach them through it. Returns the stories changed.
    pub fn expire_story_terms(&mut self, before: Timestamp, limit: usize) -> Result<usize> {
        self.atomically(|store| {
            let stories: Vec<StoryId> = {
                let mut stmt = store.conn.prepare_cached(EXPIRING_STORIES_SQL)?;
                let rows =
                    stmt.query_map(params![ts_to_sql(before), limit as i64], |r| r.get(0))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let mut delete = store
                .conn
                .prepare_cached("DELETE FROM story_terms WHERE story_id = ?1")?;
            let mut mark = store
                .conn
                .prepare_cached("UPDATE stories SET terms_expired = 1 WHERE id = ?1")?;
            let mut unindex = store.conn.prepare_cached(
                "DELETE FROM items_fts WHERE rowid IN
                     (SELECT id FROM items WHERE story_id = ?1 AND text IS NULL)",
            )?;
            let mut index = store.conn.prepare_cached(
                "INSERT INTO items_fts (rowid, title, body)
                     SELECT id, title, coalesce(gist, '') FROM items
                     WHERE story_id = ?1 AND text IS NULL",
            )?;
            for story in &stories {
                delete.execute([story])?;
                mark.execute([story])?;
                unindex.execute([story])?;
                index.execute([story])?;
            }
            Ok(stories.len())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{BulkArticle, FeedOrigin, FeedSpec, query_plan, temp_store};

    fn pragma(store: &Store, name: &str) -> i64 {
        store
            .conn
            .query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
            .expect("pragma")
    }

    /// `n` processed items of about 3 kB each (a page apiece), published an hour apart from
    /// `start`, each its own story, with a gist and a topic match; returns the feed.
    fn fill(store: &mut Store, n: usize, start: Timestamp) -> super::super::FeedId {
        let feed = store
            .add_feed(
                &FeedSpec {
                    name: "Wire".into(),
                    url: "https://wire.example/feed".into(),
                },
                FeedOrigin::Config,
                start,
            )
            .expect("feed");
        let articles: Vec<BulkArticle> = (0..n)
            .map(|i| BulkArticle {
                title: format!("Story {i}"),
                text: format!("Sentence {i} of the article. ").repeat(100),
                published: start + jiff::SignedDuration::from_hours(i as i64),
                story: i,
            })
            .collect();
        let stories: Vec<(String, f64)> = (0..n).map(|_| ("t\t1\t1\n".into(), 1.0)).collect();
        store
            .bulk_fill(feed, &articles, &stories, &[], n as i64)
            .expect("filled");
        store
            .conn
            .execute_batch(
                "UPDATE items SET gist = 'Gist ' || id, summary = 'Summary ' || id;
                 INSERT INTO topic_matches (item_id, topic) SELECT id, 'news' FROM items;",
            )
            .expect("gists");
        feed
    }

    /// Expired items give their pages back (for new items to reuse) and keep their id, gist,
    /// topic matches and count; an item without a gist gets one made from its text first.
    #[test]
    fn expiring_frees_the_pages_of_old_texts_and_keeps_the_rest() {
        let (_dir, mut store) = temp_store();
        let start = Timestamp::from_second(1_700_000_000).expect("time");
        let feed = fill(&mut store, 200, start);
        store
            .conn
            .execute("UPDATE items SET gist = NULL WHERE id = 1", [])
            .expect("no gist");
        store
            .conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .expect("checkpoint");
        let pages = pragma(&store, "page_count");
        let made = |title: &str, text: &str| format!("{title}: {}", &text[..10]);
        let before = start + jiff::SignedDuration::from_hours(150);
        assert_eq!(
            store.expire_items(before, 100, &made).expect("expired"),
            100
        );
        assert_eq!(store.expire_items(before, 100, &made).expect("expired"), 50);
        assert_eq!(store.expire_items(before, 100, &made).expect("expired"), 0);
        store
            .conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .expect("checkpoint");
        let free = pragma(&store, "freelist_count");
        assert!(
            free * 2 > pages,
            "{free} of {pages} pages freed for 150 of 200 articles"
        );
        let one = store.item(super::super::ItemId(1)).expect("item 1");
        assert!(one.is_expired());
        assert_eq!(one.gist.as_deref(), Some("Story 0: Sentence 0"));
        assert_eq!(one.summary, None);
        let last_expired = store.item(super::super::ItemId(150)).expect("item 150");
        assert_eq!(last_expired.gist.as_deref(), Some("Gist 150"));
        assert_eq!(last_expired.title, "Story 149");
        assert!(
            !store
                .item(super::super::ItemId(151))
                .expect("item")
                .is_expired()
        );
        assert_eq!(
            store
                .topics_of_item(super::super::ItemId(1))
                .expect("topics"),
            ["news"]
        );
        let count: i64 = store
            .conn
            .query_row("SELECT item_count FROM feeds WHERE id = ?1", [feed], |r| {
                r.get(0)
            })
            .expect("count");
        assert_eq!(count, 200);
    }

    /// Walking `items_published` or `stories_updated` instead would step over every item or
    /// story expired before: each daily run would cost more than the last.
    #[test]
    fn expired_rows_are_found_through_their_partial_indexes() {
        let (_dir, store) = temp_store();
        let plan = query_plan(&store, EXPIRING_ITEMS_SQL);
        assert_eq!(
            plan, "SEARCH items USING INDEX items_unexpired (published_at<?)",
            "{plan}"
        );
        let plan = query_plan(&store, EXPIRING_STORIES_SQL);
        assert_eq!(
            plan, "SEARCH stories USING COVERING INDEX stories_with_terms (updated_at<?)",
            "{plan}"
        );
    }
}
