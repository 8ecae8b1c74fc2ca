//! Sending a channel's digest exactly once: recorded as pending before it is sent, as sent only
//! once its target confirmed it; a failed or interrupted digest is re-sent from its record.

use jiff::Timestamp;

use crate::config::ChannelConfig;
use crate::digest::{self, Digest, Sink, SinkError};
use crate::metrics::PostResult;
use crate::pipeline::{Desk, PipelineError};
use crate::present::{ViewSettings, story_view, update_view};
use crate::store::{DigestId, DigestRecord};

/// Sends one channel's next digest through `sink`. Outside a dry run the digest is recorded as
/// pending before it is sent and as sent after, so a crash or a failed post never loses its
/// stories and never sends them twice; the outlets it shows are recorded with it, so an update
/// never announces the same coverage twice. A channel the sink cannot reach now (no target)
/// keeps its stories queued and nothing is recorded. Returns the number of entries sent (new
/// stories plus updates).
pub async fn deliver<S: Sink>(
    desk: &Desk,
    channel: &ChannelConfig,
    sink: &S,
    now: Timestamp,
    dry_run: bool,
) -> Result<usize, PipelineError> {
    let name = channel.name.get_ref();
    if !dry_run {
        if sink.unreachable(name).is_some() {
            return Ok(0);
        }
        if desk.store().channel_state(name)?.paused_reason.is_some() {
            return Ok(0);
        }
        // Earlier stories first: a digest still waiting to go out is retried (with its
        // backoff) before the channel gets a new one.
        if desk.store().has_pending_digest(name)? {
            return Ok(0);
        }
    }
    let mut digest = {
        let store = desk.store();
        digest::compose(&store, &desk.config, channel, now)?
    };
    if dry_run {
        if let Err(e) = sink.post(&digest).await {
            tracing::error!(channel = %name, error = %e, "digest not shown");
        }
        return Ok(digest.len());
    }
    if digest.is_empty() {
        desk.store().set_last_digest_at(name, now)?;
        return Ok(0);
    }
    let (stories, updates) = digest.shown_outlets();
    let id = desk.store().create_digest(name, &stories, &updates, now)?;
    digest.id = Some(id);
    let sent = send_recorded(desk, id, &digest, sink, now).await?;
    desk.store().set_last_digest_at(name, now)?;
    Ok(if sent { digest.len() } else { 0 })
}

async fn send_recorded<S: Sink>(
    desk: &Desk,
    id: DigestId,
    digest: &Digest,
    sink: &S,
    now: Timestamp,
) -> Result<bool, PipelineError> {
    let posted = sink.post(digest).await;
    let counted = match &posted {
        Ok(()) => PostResult::Sent,
        Err(SinkError::Unauthorized(_)) => PostResult::Unauthorized,
        Err(SinkError::Refused { .. }) => PostResult::PartlyRefused,
        Err(SinkError::ChannelUnavailable(_)) => PostResult::ChannelUnavailable,
        Err(_) => PostResult::Failed,
    };
    desk.metrics().post(counted);
    match posted {
        Ok(()) => {
            desk.store().mark_digest_sent(id, now)?;
            Ok(true)
        }
        Err(SinkError::Unauthorized(why)) => Err(PipelineError::Unauthorized(why)),
        Err(SinkError::Refused { stories, why }) => {
            // The rest went out: the digest is done; the refused stories get one more try.
            let dropped = desk.store().atomically(|store| {
                store.mark_digest_sent(id, now)?;
                store.give_back_refused(id, &digest.channel, &stories, &why, now)
            })?;
            for story in dropped {
                tracing::error!(channel = %digest.channel, %story, reason = %why,
                    "story dropped: Discord refused its message twice (shown by /feeds health)");
            }
            Ok(true)
        }
        Err(SinkError::ChannelUnavailable(why)) => {
            desk.store().record_digest_failure(id, &why, now)?;
            if desk.store().pause_channel(&digest.channel, &why)? {
                tracing::error!(channel = %digest.channel, reason = %why,
                    "channel paused: its stories stay queued until it is fixed and newsdesk restarts");
            }
            Ok(false)
        }
        Err(e) => {
            tracing::warn!(channel = %digest.channel, error = %e, "digest not delivered; will retry");
            desk.store()
                .record_digest_failure(id, &e.to_string(), now)?;
            Ok(false)
        }
    }
}

/// Re-sends digests recorded as pending (a failed post, or a crash mid-send) whose retry time has
/// come, except to channels that are paused or that the sink cannot reach now.
pub async fn retry_pending<S: Sink>(
    desk: &Desk,
    sink: &S,
    now: Timestamp,
) -> Result<usize, PipelineError> {
    let pending: Vec<DigestRecord> = desk.store().pending_digests()?;
    let mut sent = 0;
    for record in pending {
        if record.retry_at.is_some_and(|at| at > now)
            || sink.unreachable(&record.channel).is_some()
            || desk
                .store()
                .channel_state(&record.channel)?
                .paused_reason
                .is_some()
        {
            continue;
        }
        let digest = {
            let store = desk.store();
            let settings = ViewSettings::from(&desk.config);
            let mut stories = Vec::with_capacity(record.stories.len());
            for story in &record.stories {
                stories.push(story_view(&store, *story, &settings)?);
            }
            let mut updates = Vec::with_capacity(record.updates.len());
            for update in &record.updates {
                updates.extend(update_view(&store, update, &settings)?);
            }
            Digest {
                id: Some(record.id),
                channel: record.channel.clone(),
                generated_at: now,
                stories,
                updates,
            }
        };
        if send_recorded(desk, record.id, &digest, sink, now).await? {
            sent += 1;
        }
    }
    Ok(sent)
}
