//! What slash commands change: channel topic subscriptions, topics added from Discord, feeds
//! removed from Discord; and how those combine with the TOML file.
//!
//! The config file stays the base: a `[[channel]]`'s `topics` list is its starting point and
//! `channel_topic_overrides` rows add or remove topics on top of it; `custom_topics` add topics
//! next to the `[[topic]]` entries (a config topic wins a name clash).

use jiff::Timestamp;
use rusqlite::params;

use super::{FeedRow, Result, Store, StoryRow, ts_from_sql, ts_to_sql};
use crate::config::Config;
use crate::topics::Query;

/// A topic added from Discord.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomTopic {
    pub name: String,
    pub title: Option<String>,
    /// The query as typed (validated with [`Query::parse`] before it is stored).
    pub query: String,
    pub created_by: Option<String>,
    pub created_at: Timestamp,
}

/// What [`Store::remove_feed`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedRemoval {
    /// The feed was deactivated (its items and stories stay).
    Deactivated(FeedRow),
    /// The feed comes from the config file; only editing the file removes it.
    FromConfig(FeedRow),
    AlreadyInactive(FeedRow),
    NotFound,
}

impl Store {
    /// Records that `channel` follows (`subscribed`) or no longer follows `topic`, overriding the
    /// config file's list for that topic.
    pub fn set_channel_topic(
        &mut self,
        channel: &str,
        topic: &str,
        subscribed: bool,
        changed_by: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO channel_topic_overrides (channel_name, topic, subscribed, changed_by, changed_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (channel_name, topic) DO UPDATE SET subscribed = excluded.subscribed,
                 changed_by = excluded.changed_by, changed_at = excluded.changed_at",
            params![channel, topic, subscribed, changed_by, ts_to_sql(now)],
        )?;
        Ok(())
    }

    /// A channel's overrides as (topic, subscribed), oldest change first.
    pub fn channel_topic_overrides(&self, channel: &str) -> Result<Vec<(String, bool)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT topic, subscribed FROM channel_topic_overrides WHERE channel_name = ?1
             ORDER BY changed_at, topic",
        )?;
        let rows = stmt.query_map([channel], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Stores a topic added from Discord; false when a custom topic of that name exists.
    pub fn add_custom_topic(&mut self, topic: &CustomTopic) -> Result<bool> {
        let changed = self.conn.execute(
            "INSERT INTO custom_topics (name, title, query, created_by, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO NOTHING",
            params![
                topic.name,
                topic.title,
                topic.query,
                topic.created_by,
                ts_to_sql(topic.created_at)
            ],
        )?;
        Ok(changed == 1)
    }

    /// Deletes a custom topic and every channel override naming it; false when there was none.
    pub fn remove_custom_topic(&mut self, name: &str) -> Result<bool> {
        let tx = self.conn.savepoint()?;
        let removed = tx.execute("DELETE FROM custom_topics WHERE name = ?1", [name])?;
        if removed == 1 {
            tx.execute(
                "DELETE FROM channel_topic_overrides WHERE topic = ?1",
                [name],
            )?;
        }
        tx.commit()?;
        Ok(removed == 1)
    }

    pub fn custom_topics(&self) -> Result<Vec<CustomTopic>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT name, title, query, created_by, created_at FROM custom_topics ORDER BY name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(CustomTopic {
                name: r.get(0)?,
                title: r.get(1)?,
                query: r.get(2)?,
                created_by: r.get(3)?,
                created_at: ts_from_sql(r.get(4)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The feed named `name` (an active one when several share the name).
    pub fn feed_by_name(&self, name: &str) -> Result<Option<FeedRow>> {
        let mut matching: Vec<FeedRow> = self
            .feeds()?
            .into_iter()
            .filter(|f| f.name == name)
            .collect();
        matching.sort_by_key(|f| !f.active);
        Ok(matching.into_iter().next())
    }

    /// Deactivates a feed added by a command. Config feeds are left alone: the next start would
    /// bring them back, so removing them is the config file's business.
    pub fn remove_feed(&mut self, name: &str) -> Result<FeedRemoval> {
        let Some(feed) = self.feed_by_name(name)? else {
            return Ok(FeedRemoval::NotFound);
        };
        if feed.origin == super::FeedOrigin::Config {
            return Ok(FeedRemoval::FromConfig(feed));
        }
        if !feed.active {
            return Ok(FeedRemoval::AlreadyInactive(feed));
        }
        self.conn
            .execute("UPDATE feeds SET active = 0 WHERE id = ?1", [feed.id])?;
        Ok(FeedRemoval::Deactivated(FeedRow {
            active: false,
            ..feed
        }))
    }

    /// The newest stories published at or after `since` with an item matching one of `topics`
    /// (every story when `topics` is empty), whether or not any digest carried them.
    pub fn latest_stories(
        &self,
        topics: &[String],
        since: Timestamp,
        limit: usize,
    ) -> Result<Vec<StoryRow>> {
        self.stories_matching(topics, since, limit, None)
    }
}

/// Every topic in force: the config's `[[topic]]` entries, then the topics added from Discord
/// (a config topic wins a name clash; a stored query that no longer parses is skipped and logged).
pub fn effective_topics(config: &Config, store: &Store) -> Vec<(String, Query)> {
    let mut out: Vec<(String, Query)> = config
        .topics
        .iter()
        .map(|t| (t.name.get_ref().clone(), t.query.clone()))
        .collect();
    let custom = store.custom_topics().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "cannot read custom topics; using the config's only");
        Vec::new()
    });
    for topic in custom {
        if out.iter().any(|(name, _)| *name == topic.name) {
            continue;
        }
        match Query::parse(&topic.query) {
            Ok(query) => out.push((topic.name, query)),
            Err(e) => {
                tracing::warn!(topic = %topic.name, error = %e, "stored topic query skipped")
            }
        }
    }
    out
}

/// The topics `channel` follows: its config list with the Discord overrides applied, limited to
/// topics that exist. Empty means every story (as an empty config list does).
pub fn channel_topics(config: &Config, store: &Store, channel: &str) -> Vec<String> {
    let mut topics: Vec<String> = config
        .channel(channel)
        .map(|c| c.topics.iter().map(|t| t.get_ref().clone()).collect())
        .unwrap_or_default();
    let overrides = store.channel_topic_overrides(channel).unwrap_or_else(|e| {
        tracing::warn!(%channel, error = %e, "cannot read topic overrides; using the config's list");
        Vec::new()
    });
    for (topic, subscribed) in overrides {
        let present = topics.contains(&topic);
        if subscribed && !present {
            topics.push(topic);
        } else if !subscribed && present {
            topics.retain(|t| *t != topic);
        }
    }
    let known = effective_topics(config, store);
    topics.retain(|t| known.iter().any(|(name, _)| name == t));
    topics
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn setup() -> (tempfile::TempDir, Store, Config) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("t.db")).expect("store");
        let config = Config::from_str_at(
            "[[topic]]\nname = \"ai\"\nquery = \"ai OR robots\"\n\
             [[topic]]\nname = \"space\"\nquery = \"telescope\"\n\
             [[channel]]\nname = \"news\"\ntopics = [\"ai\"]\nschedule = \"every 1h\"\n",
            Path::new("/tmp/x.toml"),
        )
        .expect("config");
        (dir, store, config)
    }

    fn custom(name: &str, query: &str) -> CustomTopic {
        CustomTopic {
            name: name.into(),
            title: None,
            query: query.into(),
            created_by: Some("1".into()),
            created_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn overrides_apply_on_top_of_the_config_list() {
        let (_dir, mut store, config) = setup();
        assert_eq!(channel_topics(&config, &store, "news"), vec!["ai"]);
        let now = Timestamp::UNIX_EPOCH;
        store
            .set_channel_topic("news", "space", true, None, now)
            .unwrap();
        store
            .set_channel_topic("news", "ai", false, None, now)
            .unwrap();
        assert_eq!(channel_topics(&config, &store, "news"), vec!["space"]);
        store
            .set_channel_topic("news", "ai", true, None, now)
            .unwrap();
        assert_eq!(channel_topics(&config, &store, "news"), vec!["ai", "space"]);
    }

    #[test]
    fn custom_topics_join_config_topics_and_config_wins() {
        let (_dir, mut store, config) = setup();
        assert!(store.add_custom_topic(&custom("ai", "other")).unwrap());
        assert!(
            store
                .add_custom_topic(&custom("chips", "semiconductor*"))
                .unwrap()
        );
        assert!(!store.add_custom_topic(&custom("chips", "x")).unwrap());
        let topics = effective_topics(&config, &store);
        let names: Vec<&str> = topics.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, vec!["ai", "space", "chips"]);
        assert_eq!(topics[0].1.as_str(), "ai OR robots");

        store
            .set_channel_topic("news", "chips", true, None, Timestamp::UNIX_EPOCH)
            .unwrap();
        assert_eq!(channel_topics(&config, &store, "news"), vec!["ai", "chips"]);
        assert!(store.remove_custom_topic("chips").unwrap());
        assert!(!store.remove_custom_topic("chips").unwrap());
        assert_eq!(channel_topics(&config, &store, "news"), vec!["ai"]);
        assert!(store.channel_topic_overrides("news").unwrap().is_empty());
    }

    #[test]
    fn only_command_feeds_can_be_removed() {
        let (_dir, mut store, _config) = setup();
        let now = Timestamp::UNIX_EPOCH;
        let spec = |name: &str, url: &str| crate::store::FeedSpec {
            name: name.into(),
            url: url.into(),
        };
        store
            .sync_config_feeds(&[spec("cfg", "https://a.example/feed")], now)
            .unwrap();
        store
            .add_feed(
                &spec("added", "https://b.example/feed"),
                super::super::FeedOrigin::Discord,
                now,
            )
            .unwrap();
        assert!(matches!(
            store.remove_feed("cfg").unwrap(),
            FeedRemoval::FromConfig(_)
        ));
        assert!(matches!(
            store.remove_feed("added").unwrap(),
            FeedRemoval::Deactivated(f) if !f.active
        ));
        assert!(matches!(
            store.remove_feed("added").unwrap(),
            FeedRemoval::AlreadyInactive(_)
        ));
        assert_eq!(store.remove_feed("nope").unwrap(), FeedRemoval::NotFound);
        let active: Vec<String> = store
            .active_feeds()
            .unwrap()
            .into_iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(active, vec!["cfg"]);
    }
}
