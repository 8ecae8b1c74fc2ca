//! Digests: what went (or is going) to which channel, so nothing is posted twice.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::{DigestId, Result, Store, StoryId, opt_ts, ts_to_sql};

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

#[derive(Debug, Clone, PartialEq)]
pub struct DigestRecord {
    pub id: DigestId,
    pub channel: String,
    pub stories: Vec<StoryId>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChannelState {
    pub last_digest_at: Option<Timestamp>,
    pub paused_reason: Option<String>,
}

impl Store {
    /// Records a digest as pending, reserving its stories for `channel`.
    pub fn create_digest(
        &mut self,
        channel: &str,
        stories: &[StoryId],
        now: Timestamp,
    ) -> Result<DigestId> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO digests (channel, created_at, status) VALUES (?1, ?2, ?3)",
            params![channel, ts_to_sql(now), DigestStatus::Pending.as_str()],
        )?;
        let id = tx.last_insert_rowid();
        for (position, story) in stories.iter().enumerate() {
            tx.execute(
                "INSERT INTO digest_stories (digest_id, story_id, position) VALUES (?1, ?2, ?3)",
                params![id, story, position as i64],
            )?;
        }
        tx.commit()?;
        Ok(id)
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
        let mut stmt = self
            .conn
            .prepare("SELECT id, channel FROM digests WHERE status = 'pending' ORDER BY id")?;
        let heads: Vec<(DigestId, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::with_capacity(heads.len());
        for (id, channel) in heads {
            let mut s = self.conn.prepare_cached(
                "SELECT story_id FROM digest_stories WHERE digest_id = ?1 ORDER BY position",
            )?;
            let stories = s
                .query_map([id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            out.push(DigestRecord {
                id,
                channel,
                stories,
            });
        }
        Ok(out)
    }

    pub fn record_digest_failure(&mut self, id: DigestId, error: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE digests SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
            params![id, error],
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

    /// Number of stories a channel has been sent.
    pub fn posted_story_count(&self, channel: &str) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM digest_stories ds JOIN digests d ON d.id = ds.digest_id
             WHERE d.channel = ?1 AND d.status = 'sent'",
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
