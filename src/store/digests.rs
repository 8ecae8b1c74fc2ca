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
}
