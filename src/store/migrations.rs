//! Versioned schema migrations, tracked in `PRAGMA user_version`. Append only: a released
//! migration is never edited, a change is a new entry.

use rusqlite::Connection;

use super::{Result, StoreError};

const MIGRATIONS: &[&str] = &[
    // 1: feeds, items, stories, topics, digests.
    r#"
    CREATE TABLE feeds (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        origin TEXT NOT NULL DEFAULT 'config',
        active INTEGER NOT NULL DEFAULT 1,
        title TEXT,
        site_url TEXT,
        etag TEXT,
        last_modified TEXT,
        body_hash TEXT,
        status TEXT NOT NULL DEFAULT 'ok',
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        failing_since INTEGER,
        last_error TEXT,
        last_success INTEGER,
        last_attempt INTEGER,
        next_fetch_at INTEGER NOT NULL DEFAULT 0,
        seeded INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE stories (
        id INTEGER PRIMARY KEY,
        lead_item_id INTEGER NOT NULL,
        published_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        announce INTEGER NOT NULL
    );
    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        feed_id INTEGER NOT NULL REFERENCES feeds(id),
        key TEXT NOT NULL,
        url TEXT,
        title TEXT NOT NULL,
        author TEXT,
        outlet TEXT NOT NULL,
        published_at INTEGER NOT NULL,
        first_seen_at INTEGER NOT NULL,
        feed_text TEXT NOT NULL,
        content_html TEXT,
        announce INTEGER NOT NULL,
        text TEXT,
        text_source TEXT,
        summary TEXT,
        story_id INTEGER REFERENCES stories(id),
        processed_at INTEGER,
        UNIQUE (feed_id, key)
    );
    CREATE INDEX items_url ON items(url);
    CREATE INDEX items_story ON items(story_id);
    CREATE INDEX items_pending ON items(id) WHERE processed_at IS NULL;
    CREATE INDEX items_published ON items(published_at);
    CREATE VIRTUAL TABLE items_fts USING fts5(
        title, body,
        content = '', contentless_delete = 1,
        tokenize = 'porter unicode61 remove_diacritics 2'
    );
    CREATE VIRTUAL TABLE items_vocab USING fts5vocab(items_fts, 'row');
    CREATE TABLE story_related (
        story_id INTEGER NOT NULL REFERENCES stories(id),
        rank INTEGER NOT NULL,
        related_story_id INTEGER NOT NULL REFERENCES stories(id),
        score REAL NOT NULL,
        PRIMARY KEY (story_id, rank)
    );
    CREATE TABLE term_df (
        term TEXT PRIMARY KEY,
        df INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE topic_matches (
        item_id INTEGER NOT NULL REFERENCES items(id),
        topic TEXT NOT NULL,
        PRIMARY KEY (item_id, topic)
    );
    CREATE INDEX topic_matches_topic ON topic_matches(topic);
    CREATE TABLE digests (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        status TEXT NOT NULL,
        sent_at INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
    );
    CREATE TABLE digest_stories (
        digest_id INTEGER NOT NULL REFERENCES digests(id),
        story_id INTEGER NOT NULL REFERENCES stories(id),
        position INTEGER NOT NULL,
        PRIMARY KEY (digest_id, story_id)
    );
    CREATE INDEX digest_stories_story ON digest_stories(story_id);
    CREATE TABLE channel_state (
        channel TEXT PRIMARY KEY,
        last_digest_at INTEGER,
        paused_reason TEXT
    );
    "#,
    // 2: Discord messages of each digest (exactly-once posting) and channel pauses.
    r#"
    CREATE TABLE digest_messages (
        digest_id INTEGER NOT NULL REFERENCES digests(id),
        part INTEGER NOT NULL,
        nonce TEXT NOT NULL,
        message_id TEXT NOT NULL,
        sent_at INTEGER NOT NULL,
        PRIMARY KEY (digest_id, part)
    );
    "#,
    // 3: what slash commands change: channel topic subscriptions and topics added from Discord.
    r#"
    CREATE TABLE channel_topic_overrides (
        channel_name TEXT NOT NULL,
        topic TEXT NOT NULL,
        subscribed INTEGER NOT NULL,
        changed_by TEXT,
        changed_at INTEGER NOT NULL,
        PRIMARY KEY (channel_name, topic)
    );
    CREATE TABLE custom_topics (
        name TEXT PRIMARY KEY,
        title TEXT,
        query TEXT NOT NULL,
        created_by TEXT,
        created_at INTEGER NOT NULL
    );
    "#,
    // 4: accumulated term weights per story (its centroid), so grouping and Related compare a
    // new item with whole stories without re-reading their articles; `norm_docs` is the corpus
    // size at which `norm` was last computed.
    r#"
    CREATE TABLE story_terms (
        story_id INTEGER PRIMARY KEY REFERENCES stories(id),
        terms TEXT NOT NULL,
        norm REAL NOT NULL,
        norm_docs INTEGER NOT NULL,
        items INTEGER NOT NULL
    );
    "#,
    // 5: LLM summaries by content hash (model, prompt version, title, text), so no article is
    // sent to the model twice.
    r#"
    CREATE TABLE summary_cache (
        content_hash TEXT PRIMARY KEY,
        model TEXT,
        summary TEXT,
        created_at INTEGER
    );
    "#,
    // 6: story updates. Each digest row says whether it carried the story as new or as an update,
    // and `digest_outlets` records the outlets a digest showed for each story, so new coverage
    // is announced once. Digests from before this version are backfilled with the outlets of
    // the items the store had seen when they were created.
    r#"
    ALTER TABLE digest_stories ADD COLUMN kind TEXT NOT NULL DEFAULT 'new';
    CREATE TABLE digest_outlets (
        digest_id INTEGER NOT NULL REFERENCES digests(id),
        story_id INTEGER NOT NULL REFERENCES stories(id),
        outlet TEXT NOT NULL,
        PRIMARY KEY (digest_id, story_id, outlet)
    );
    CREATE INDEX digest_outlets_story ON digest_outlets(story_id);
    INSERT OR IGNORE INTO digest_outlets (digest_id, story_id, outlet)
        SELECT ds.digest_id, ds.story_id, i.outlet
        FROM digest_stories ds
        JOIN digests d ON d.id = ds.digest_id
        JOIN items i ON i.story_id = ds.story_id
        WHERE i.first_seen_at <= d.created_at;
    "#,
    // 7: items whose processing failed and digests whose post failed: counted and retried
    // later (so one poisonous item cannot block the queue, and a channel that is down is not
    // hammered); stories a channel refused (one more try, then dropped); and the pending queue
    // indexed in the order it is read.
    r#"
    ALTER TABLE items ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE items ADD COLUMN last_failure TEXT;
    ALTER TABLE items ADD COLUMN retry_at INTEGER;
    ALTER TABLE digests ADD COLUMN retry_at INTEGER;
    CREATE TABLE story_refusals (
        channel TEXT NOT NULL,
        story_id INTEGER NOT NULL REFERENCES stories(id),
        refusals INTEGER NOT NULL,
        last_error TEXT NOT NULL,
        at INTEGER NOT NULL,
        dropped INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (channel, story_id)
    );
    DROP INDEX items_pending;
    CREATE INDEX items_pending ON items(published_at, id) WHERE processed_at IS NULL;
    "#,
    // 8: feeds imported from an OPML file are third-party input like those added from Discord:
    // they reach only public addresses unless the import allowed private ones, recorded here.
    r#"
    ALTER TABLE feeds ADD COLUMN allow_private INTEGER NOT NULL DEFAULT 0;
    "#,
    // 9: each item's gist (its one best sentence) beside the longer summary: digests and Related
    // lines show the gist, a story page both. Items processed before have none; readers make it.
    r#"
    ALTER TABLE items ADD COLUMN gist TEXT;
    "#,
    // 10: grouping counts the stories active within its window at every item.
    r#"
    CREATE INDEX stories_updated ON stories(updated_at);
    "#,
    // 11: where on Discord each story was posted (server, channel or forum post, message), so
    // its page can link to the discussion there.
    r#"
    CREATE TABLE story_posts (
        story_id INTEGER NOT NULL REFERENCES stories(id),
        digest_id INTEGER NOT NULL REFERENCES digests(id),
        guild_id TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        posted_at INTEGER NOT NULL,
        PRIMARY KEY (story_id, digest_id)
    );
    "#,
    // 12: a feed's cost independent of the store's size. Its item count is kept by triggers
    // (a feed row read per item no longer counts the feed's items), and the poll schedule is
    // indexed, so finding the next due feeds reads those feeds and no others.
    r#"
    ALTER TABLE feeds ADD COLUMN item_count INTEGER NOT NULL DEFAULT 0;
    UPDATE feeds SET item_count = (SELECT COUNT(*) FROM items WHERE items.feed_id = feeds.id);
    CREATE TRIGGER items_counted_in AFTER INSERT ON items BEGIN
        UPDATE feeds SET item_count = item_count + 1 WHERE id = NEW.feed_id;
    END;
    CREATE TRIGGER items_counted_out AFTER DELETE ON items BEGIN
        UPDATE feeds SET item_count = item_count - 1 WHERE id = OLD.feed_id;
    END;
    CREATE INDEX feeds_due ON feeds(next_fetch_at, id) WHERE active = 1;
    "#,
    // 13: the processing queue takes items to be announced before the back catalogue.
    r#"
    DROP INDEX items_pending;
    CREATE INDEX items_pending ON items(announce DESC, published_at, id) WHERE processed_at IS NULL;
    "#,
    // 14: digests, feeds out and pages take the newest stories in index order instead of
    // sorting every story stored.
    r#"
    CREATE INDEX stories_published ON stories(published_at, id);
    "#,
    // 15: each item's text stored once. A feed's text that became the article text is read
    // back from `text`, and the feed's HTML, which nothing reads, is no longer kept.
    r#"
    UPDATE items SET content_html = NULL WHERE content_html IS NOT NULL;
    UPDATE items SET feed_text = ''
        WHERE text_source = 'feed' AND text <> ''
          AND text = trim(feed_text, ' ' || char(9, 10, 11, 12, 13));
    "#,
    // 16: retention (`[storage] keep`). Processed items whose text is still stored, and stories
    // whose centroid is, indexed by age: each run reads what expired since the last, not every
    // item or story that ever expired.
    r#"
    CREATE INDEX items_unexpired ON items(published_at) WHERE text IS NOT NULL;
    ALTER TABLE stories ADD COLUMN terms_expired INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX stories_with_terms ON stories(updated_at) WHERE terms_expired = 0;
    "#,
];

/// The schema version this build knows.
pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

pub(super) fn migrate(conn: &mut Connection) -> Result<()> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > CURRENT_VERSION {
        return Err(StoreError::NewerSchema {
            found,
            known: CURRENT_VERSION,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = index as i64 + 1;
        // IMMEDIATE takes the write lock before reading the version, so a second process
        // opening the same file waits and then finds the step done instead of repeating it.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now >= version {
            continue;
        }
        tx.execute_batch(sql)
            .and_then(|()| tx.pragma_update(None, "user_version", version))
            .map_err(|source| StoreError::Migration { version, source })?;
        tx.commit()?;
        tracing::info!(version, "database schema migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version-11 database: the counts kept from version 12 on start from the items stored.
    #[test]
    fn version_12_counts_the_items_each_feed_already_has() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..11] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 11).unwrap();
        conn.execute_batch(
            "INSERT INTO feeds (id, url, name, created_at) VALUES (1, 'https://a/', 'A', 0),
                                                                  (2, 'https://b/', 'B', 0);
             INSERT INTO items (feed_id, key, title, outlet, published_at, first_seen_at,
                                feed_text, announce)
                 VALUES (1, 'k1', 't', 'A', 0, 0, '', 1), (1, 'k2', 't', 'A', 0, 0, '', 1);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let counts = |conn: &Connection| -> Vec<i64> {
            let mut stmt = conn
                .prepare("SELECT item_count FROM feeds ORDER BY id")
                .unwrap();
            stmt.query_map([], |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        assert_eq!(counts(&conn), [2, 0]);
        conn.execute_batch(
            "INSERT INTO items (feed_id, key, title, outlet, published_at, first_seen_at,
                                feed_text, announce)
                 VALUES (2, 'k1', 't', 'B', 0, 0, '', 1);
             DELETE FROM items WHERE feed_id = 1 AND key = 'k1';",
        )
        .unwrap();
        assert_eq!(counts(&conn), [1, 1]);
    }

    /// A version-14 database: a feed text that became the article text is emptied (read back
    /// from `text`), one that differs stays, and no HTML is kept.
    #[test]
    fn version_15_stores_each_items_text_once() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..14] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 14).unwrap();
        conn.execute_batch(
            "INSERT INTO feeds (id, url, name, created_at) VALUES (1, 'https://a/', 'A', 0);
             INSERT INTO items (id, feed_id, key, title, outlet, published_at, first_seen_at,
                                feed_text, content_html, announce, text, text_source)
                 VALUES (1, 1, 'k1', 't', 'A', 0, 0, ' Same text.' || char(10), '<p>x</p>', 1,
                         'Same text.', 'feed'),
                        (2, 1, 'k2', 't', 'A', 0, 0, 'Teaser.', '<p>y</p>', 1, 'Page.', 'page'),
                        (3, 1, 'k3', 't', 'A', 0, 0, 'Pending.', '<p>z</p>', 1, NULL, NULL);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let mut stmt = conn
            .prepare("SELECT feed_text, content_html IS NULL FROM items ORDER BY id")
            .unwrap();
        let rows: Vec<(String, bool)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            rows,
            [
                (String::new(), true),
                ("Teaser.".to_string(), true),
                ("Pending.".to_string(), true)
            ]
        );
    }

    /// A version-5 database with one sent digest; items seen after it must stay announceable.
    #[test]
    fn version_6_backfills_the_outlets_old_digests_showed() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..5] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 5).unwrap();
        conn.execute_batch(
            "INSERT INTO feeds (id, url, name, created_at) VALUES (1, 'https://a/', 'A', 0);
             INSERT INTO stories (id, lead_item_id, published_at, updated_at, announce)
                 VALUES (1, 1, 100, 300, 1);
             INSERT INTO items (id, feed_id, key, title, outlet, published_at, first_seen_at,
                                feed_text, announce, story_id)
                 VALUES (1, 1, 'k1', 't', 'Wire', 100, 100, '', 1, 1),
                        (2, 1, 'k2', 't', 'Ledger', 150, 150, '', 1, 1),
                        (3, 1, 'k3', 't', 'Monitor', 300, 300, '', 1, 1);
             INSERT INTO digests (id, channel, created_at, status) VALUES (1, 'all', 200, 'sent');
             INSERT INTO digest_stories (digest_id, story_id, position) VALUES (1, 1, 0);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, CURRENT_VERSION);
        let mut stmt = conn
            .prepare("SELECT outlet FROM digest_outlets WHERE digest_id = 1 ORDER BY outlet")
            .unwrap();
        let outlets: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(outlets, ["Ledger", "Wire"]);
        let kind: String = conn
            .query_row("SELECT kind FROM digest_stories", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kind, "new");
    }
}
