//! Digests: what went (or is going) to which channel, so nothing is posted twice.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::{DigestId, Result, Store, StoryId, opt_ts, ts_to_sql};

/// One message on Discord: its server, the channel it is in (a forum post's thread, for a
/// forum), and its id; together they make its link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscordPost {
    pub guild_id: u64,
    pub channel_id: u64,
    pub message_id: u64,
}

impl DiscordPost {
    pub fn url(&self) -> String {
        format!(
            "https://discord.com/channels/{}/{}/{}",
            self.guild_id, self.channel_id, self.message_id
        )
    }
}

/// A story and the outlets a digest shows (or showed) for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoryOutlets {
    pub story_id: StoryId,
    pub outlets: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestStatus {
    /// Recorded before sending: its stories are reserved for it.
    Pending,
    Sent,
}

impl DigestStatus {
    fn as_str(self) -> &'static str {
        match self {
            DigestStatus::Pending => "pending",
            DigestStatus::Sent => "sent",
        }
    }
}

/// How a digest carries a story (the `kind` column of `digest_stories`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryKind {
    /// First time in the channel.
    New,
    /// Already carried; shown again for coverage from outlets it did not show before.
    Update,
}

impl EntryKind {
    fn as_str(self) -> &'static str {
        match self {
            EntryKind::New => "new",
            EntryKind::Update => "update",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DigestRecord {
    pub id: DigestId,
    pub channel: String,
    /// When to try again after a failed post (None: at once).
    pub retry_at: Option<Timestamp>,
    /// Stories carried as new, in order.
    pub stories: Vec<StoryId>,
    /// Stories carried as updates, in order, with the outlets each announced.
    pub updates: Vec<StoryOutlets>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChannelState {
    pub last_digest_at: Option<Timestamp>,
    pub paused_reason: Option<String>,
}

impl Store {
    /// Records a digest as pending, reserving its new `stories` and `updates` (in that order)
    /// for `channel`, with the outlets it shows for each (for an update: only the newly
    /// announced ones), so later digests know what was already said.
    pub fn create_digest(
        &mut self,
        channel: &str,
        stories: &[StoryOutlets],
        updates: &[StoryOutlets],
        now: Timestamp,
    ) -> Result<DigestId> {
        let tx = self.conn.savepoint()?;
        tx.execute(
            "INSERT INTO digests (channel, created_at, status) VALUES (?1, ?2, ?3)",
            params![channel, ts_to_sql(now), DigestStatus::Pending.as_str()],
        )?;
        let id = DigestId(tx.last_insert_rowid());
        let entries = stories
            .iter()
            .map(|s| (EntryKind::New, s))
            .chain(updates.iter().map(|u| (EntryKind::Update, u)));
        for (position, (kind, entry)) in entries.enumerate() {
            tx.execute(
                "INSERT INTO digest_stories (digest_id, story_id, position, kind)
                 VALUES (?1, ?2, ?3, ?4)",
                params![id, entry.story_id, position as i64, kind.as_str()],
            )?;
            for outlet in &entry.outlets {
                tx.execute(
                    "INSERT OR IGNORE INTO digest_outlets (digest_id, story_id, outlet)
                     VALUES (?1, ?2, ?3)",
                    params![id, entry.story_id, outlet],
                )?;
            }
        }
        tx.commit()?;
        Ok(id)
    }

    /// Stories `channel` already carried (in any recorded digest, pending or sent) that have
    /// announceable items published at or after `since` from outlets none of its digests showed
    /// for them, restricted to stories matching `topics` (all when empty). Most recent new
    /// coverage first, at most `limit`.
    pub fn story_updates(
        &self,
        channel: &str,
        topics: &[String],
        since: Timestamp,
        limit: usize,
    ) -> Result<Vec<StoryOutlets>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut values: Vec<rusqlite::types::Value> =
            vec![ts_to_sql(since).into(), channel.to_string().into()];
        let mut topic_filter = String::new();
        if !topics.is_empty() {
            let marks = vec!["?"; topics.len()].join(", ");
            topic_filter = format!(
                " AND EXISTS (SELECT 1 FROM items t_i JOIN topic_matches t ON t.item_id = t_i.id
                      WHERE t_i.story_id = i.story_id AND t.topic IN ({marks}))"
            );
            values.extend(topics.iter().map(|t| t.clone().into()));
        }
        // ?2 is used twice: numbered parameters keep one binding for both.
        let sql = format!(
            "SELECT i.story_id, i.outlet, MIN(i.id) AS first_item, MIN(i.published_at) AS first_at
             FROM items i
             WHERE i.story_id IS NOT NULL AND i.announce = 1 AND i.published_at >= ?1
               AND EXISTS (SELECT 1 FROM digest_outlets o JOIN digests d ON d.id = o.digest_id
                           WHERE o.story_id = i.story_id AND d.channel = ?2)
               AND NOT EXISTS (SELECT 1 FROM digest_outlets o JOIN digests d ON d.id = o.digest_id
                               WHERE o.story_id = i.story_id AND d.channel = ?2
                                 AND o.outlet = i.outlet)
               {topic_filter}
             GROUP BY i.story_id, i.outlet
             ORDER BY i.story_id, first_at, first_item"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows: Vec<(StoryId, String, i64)> = stmt
            .query_map(rusqlite::params_from_iter(values), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        // (latest new item, update) per story, rows arrive grouped by story.
        let mut updates: Vec<(i64, StoryOutlets)> = Vec::new();
        for (story_id, outlet, first_item) in rows {
            match updates.last_mut() {
                Some((latest, update)) if update.story_id == story_id => {
                    *latest = (*latest).max(first_item);
                    update.outlets.push(outlet);
                }
                _ => updates.push((
                    first_item,
                    StoryOutlets {
                        story_id,
                        outlets: vec![outlet],
                    },
                )),
            }
        }
        updates.sort_by_key(|(latest, _)| std::cmp::Reverse(*latest));
        Ok(updates
            .into_iter()
            .take(limit)
            .map(|(_, update)| update)
            .collect())
    }

    pub fn mark_digest_sent(&mut self, id: DigestId, now: Timestamp) -> Result<()> {
        self.conn.execute(
            "UPDATE digests SET status = ?2, sent_at = ?3 WHERE id = ?1",
            params![id, DigestStatus::Sent.as_str(), ts_to_sql(now)],
        )?;
        Ok(())
    }

    /// Digests recorded but not confirmed sent (after a crash or a failed post), oldest first.
    pub fn pending_digests(&self) -> Result<Vec<DigestRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, channel, retry_at FROM digests WHERE status = 'pending' ORDER BY id",
        )?;
        let heads: Vec<(DigestId, String, Option<i64>)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::with_capacity(heads.len());
        for (id, channel, retry_at) in heads {
            let mut s = self.conn.prepare_cached(
                "SELECT story_id, kind FROM digest_stories WHERE digest_id = ?1 ORDER BY position",
            )?;
            let rows: Vec<(StoryId, String)> = s
                .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut stories = Vec::new();
            let mut updates = Vec::new();
            for (story_id, kind) in rows {
                if kind == EntryKind::Update.as_str() {
                    updates.push(StoryOutlets {
                        story_id,
                        outlets: self.digest_outlets(id, story_id)?,
                    });
                } else {
                    stories.push(story_id);
                }
            }
            out.push(DigestRecord {
                id,
                channel,
                retry_at: opt_ts(retry_at),
                stories,
                updates,
            });
        }
        Ok(out)
    }

    /// The outlets a digest recorded for one of its stories.
    fn digest_outlets(&self, digest: DigestId, story: StoryId) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT outlet FROM digest_outlets WHERE digest_id = ?1 AND story_id = ?2
             ORDER BY rowid",
        )?;
        let rows = stmt.query_map(params![digest, story], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records a failed post; the digest is tried again from 30 s later, the wait doubling
    /// with each failure up to 30 minutes.
    pub fn record_digest_failure(
        &mut self,
        id: DigestId,
        error: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE digests SET attempts = attempts + 1, last_error = ?2,
                 retry_at = ?3 + MIN(1800, 30 * (1 << MIN(attempts, 10)))
             WHERE id = ?1",
            params![id, error, ts_to_sql(now)],
        )?;
        Ok(())
    }

    /// When a digest was recorded (its first attempt began then).
    pub fn digest_created_at(&self, id: DigestId) -> Result<Option<Timestamp>> {
        Ok(self
            .conn
            .query_row("SELECT created_at FROM digests WHERE id = ?1", [id], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
            .map(super::ts_from_sql))
    }

    /// Stories whose messages the channel refused in digest `id`: each gets one more try (it
    /// leaves the digest, so the next one takes it), and one refused before is dropped for the
    /// channel instead (it stays counted as carried). Returns the dropped ones.
    pub fn give_back_refused(
        &mut self,
        id: DigestId,
        channel: &str,
        stories: &[StoryId],
        why: &str,
        now: Timestamp,
    ) -> Result<Vec<StoryId>> {
        let tx = self.conn.savepoint()?;
        let mut dropped = Vec::new();
        for story in stories {
            let refusals: i64 = tx.query_row(
                "INSERT INTO story_refusals (channel, story_id, refusals, last_error, at)
                 VALUES (?1, ?2, 1, ?3, ?4)
                 ON CONFLICT (channel, story_id) DO UPDATE SET
                     refusals = refusals + 1, last_error = excluded.last_error, at = excluded.at
                 RETURNING refusals",
                params![channel, story, why, ts_to_sql(now)],
                |r| r.get(0),
            )?;
            if refusals >= 2 {
                tx.execute(
                    "UPDATE story_refusals SET dropped = 1 WHERE channel = ?1 AND story_id = ?2",
                    params![channel, story],
                )?;
                dropped.push(*story);
            } else {
                tx.execute(
                    "DELETE FROM digest_stories WHERE digest_id = ?1 AND story_id = ?2",
                    params![id, story],
                )?;
                tx.execute(
                    "DELETE FROM digest_outlets WHERE digest_id = ?1 AND story_id = ?2",
                    params![id, story],
                )?;
            }
        }
        tx.commit()?;
        Ok(dropped)
    }

    /// Stories dropped since `since` because their channel refused them twice: (channel,
    /// story, why, when), newest first.
    pub fn dropped_stories(
        &self,
        since: Timestamp,
    ) -> Result<Vec<(String, StoryId, String, Timestamp)>> {
        let mut stmt = self.conn.prepare(
            "SELECT channel, story_id, last_error, at FROM story_refusals
             WHERE dropped = 1 AND at >= ?1 ORDER BY at DESC, story_id DESC LIMIT 50",
        )?;
        let rows = stmt.query_map([ts_to_sql(since)], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                super::ts_from_sql(r.get(3)?),
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Whether `channel` has a digest recorded but not yet delivered.
    pub fn has_pending_digest(&self, channel: &str) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM digests WHERE channel = ?1 AND status = 'pending')",
            [channel],
            |r| r.get(0),
        )?)
    }

    /// Makes every pending digest due now (at start: whatever made them fail may be fixed).
    pub fn retry_pending_digests_now(&mut self) -> Result<()> {
        self.conn.execute(
            "UPDATE digests SET retry_at = NULL WHERE status = 'pending'",
            [],
        )?;
        Ok(())
    }

    pub fn channel_state(&self, channel: &str) -> Result<ChannelState> {
        Ok(self
            .conn
            .query_row(
                "SELECT last_digest_at, paused_reason FROM channel_state WHERE channel = ?1",
                [channel],
                |r| {
                    Ok(ChannelState {
                        last_digest_at: opt_ts(r.get(0)?),
                        paused_reason: r.get(1)?,
                    })
                },
            )
            .optional()?
            .unwrap_or_default())
    }

    pub fn set_last_digest_at(&mut self, channel: &str, at: Timestamp) -> Result<()> {
        self.conn.execute(
            "INSERT INTO channel_state (channel, last_digest_at) VALUES (?1, ?2)
             ON CONFLICT (channel) DO UPDATE SET last_digest_at = excluded.last_digest_at",
            params![channel, ts_to_sql(at)],
        )?;
        Ok(())
    }

    /// Number of stories a channel has been sent (as new stories; updates are not counted).
    pub fn posted_story_count(&self, channel: &str) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM digest_stories ds JOIN digests d ON d.id = ds.digest_id
             WHERE d.channel = ?1 AND d.status = 'sent' AND ds.kind = 'new'",
            [channel],
            |r| r.get(0),
        )?)
    }

    /// Number of story updates a channel has been sent.
    pub fn posted_update_count(&self, channel: &str) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM digest_stories ds JOIN digests d ON d.id = ds.digest_id
             WHERE d.channel = ?1 AND d.status = 'sent' AND ds.kind = 'update'",
            [channel],
            |r| r.get(0),
        )?)
    }

    /// Message parts of a digest already delivered: (part, message id).
    pub fn sent_parts(&self, digest: DigestId) -> Result<Vec<(usize, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT part, message_id FROM digest_messages WHERE digest_id = ?1 ORDER BY part",
        )?;
        let rows = stmt.query_map([digest], |r| Ok((r.get::<_, i64>(0)? as usize, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records one delivered message of a digest (so a retry never sends it again).
    pub fn record_message(
        &mut self,
        digest: DigestId,
        part: usize,
        nonce: &str,
        message_id: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO digest_messages (digest_id, part, nonce, message_id, sent_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![digest, part as i64, nonce, message_id, ts_to_sql(now)],
        )?;
        Ok(())
    }

    /// Records where the stories of one posted message are on Discord (see [`DiscordPost`]).
    pub fn record_story_posts(
        &mut self,
        digest: DigestId,
        stories: &[StoryId],
        post: &DiscordPost,
        now: Timestamp,
    ) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT OR IGNORE INTO story_posts
             (story_id, digest_id, guild_id, channel_id, message_id, posted_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for story in stories {
            stmt.execute(params![
                story,
                digest,
                post.guild_id.to_string(),
                post.channel_id.to_string(),
                post.message_id.to_string(),
                ts_to_sql(now)
            ])?;
        }
        Ok(())
    }

    /// Where a story was first posted on Discord, if it was.
    pub fn first_discord_post(&self, story: StoryId) -> Result<Option<DiscordPost>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT guild_id, channel_id, message_id FROM story_posts WHERE story_id = ?1
             ORDER BY posted_at, digest_id LIMIT 1",
        )?;
        let found = stmt
            .query_row([story], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .optional()?;
        // Ids that are not numbers (a database edited by hand) mean no link, not an error.
        Ok(found.and_then(|(guild, channel, message)| {
            Some(DiscordPost {
                guild_id: guild.parse().ok()?,
                channel_id: channel.parse().ok()?,
                message_id: message.parse().ok()?,
            })
        }))
    }

    /// Pauses a channel (missing permissions, deleted channel). Returns true when it was not
    /// paused before, so the caller says so once.
    pub fn pause_channel(&mut self, channel: &str, reason: &str) -> Result<bool> {
        let before = self.channel_state(channel)?.paused_reason;
        self.conn.execute(
            "INSERT INTO channel_state (channel, paused_reason) VALUES (?1, ?2)
             ON CONFLICT (channel) DO UPDATE SET paused_reason = excluded.paused_reason",
            params![channel, reason],
        )?;
        Ok(before.is_none())
    }

    /// Lifts every pause (at start: the operator may have fixed permissions or the config).
    pub fn resume_all_channels(&mut self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT channel FROM channel_state WHERE paused_reason IS NOT NULL")?;
        let paused: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        drop(stmt);
        self.conn
            .execute("UPDATE channel_state SET paused_reason = NULL", [])?;
        Ok(paused)
    }

    /// Channels currently paused, with the reason.
    pub fn paused_channels(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare(
            "SELECT channel, paused_reason FROM channel_state WHERE paused_reason IS NOT NULL ORDER BY channel",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
