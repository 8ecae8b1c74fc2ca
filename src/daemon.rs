//! The long-running loop: poll due feeds, process new items, send digests when their slot
//! comes, merge the search index daily, sleep until the next thing is due; stop cleanly on
//! Ctrl-C / SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use crate::config::ChannelConfig;
use crate::digest::{self, Digest, Sink, SinkError};
use crate::pipeline::{Desk, PipelineError, PollOutcome};
use crate::store::{DigestRecord, FeedRow};

/// The longest the loop sleeps, so config-independent housekeeping (pending digests) runs.
const MAX_SLEEP: Duration = Duration::from_secs(60);
/// How often the store is tidied ([`maintain`]); also once at start.
const MAINTENANCE_EVERY: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

/// A source of the current time, injectable for tests.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// One cycle (poll, process, digest every channel) and exit.
    pub once: bool,
    /// Print digests without recording them as posted.
    pub dry_run: bool,
}

/// Sends one channel's next digest through `sink`. Outside a dry run the digest is recorded as
/// pending before it is sent and as sent after, so a crash or a failed post never loses its
/// stories and never sends them twice; the outlets it shows are recorded with it, so an update
/// never announces the same coverage twice. Returns the number of entries sent (new stories
/// plus updates).
pub async fn deliver<S: Sink>(
    desk: &Desk,
    channel: &ChannelConfig,
    sink: &S,
    now: Timestamp,
    dry_run: bool,
) -> Result<usize, PipelineError> {
    let mut digest = {
        let store = desk.store();
        digest::compose(&store, &desk.config, channel, now)?
    };
    let name = channel.name.get_ref();
    if !dry_run && desk.store().channel_state(name)?.paused_reason.is_some() {
        return Ok(0);
    }
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
    send_recorded(desk, id, &digest, sink, now).await?;
    desk.store().set_last_digest_at(name, now)?;
    Ok(digest.len())
}

async fn send_recorded<S: Sink>(
    desk: &Desk,
    id: i64,
    digest: &Digest,
    sink: &S,
    now: Timestamp,
) -> Result<bool, PipelineError> {
    match sink.post(digest).await {
        Ok(()) => {
            desk.store().mark_digest_sent(id, now)?;
            Ok(true)
        }
        Err(SinkError::Unauthorized(why)) => Err(PipelineError::Unauthorized(why)),
        Err(SinkError::ChannelUnavailable(why)) => {
            desk.store().record_digest_failure(id, &why)?;
            if desk.store().pause_channel(&digest.channel, &why)? {
                tracing::error!(channel = %digest.channel, reason = %why,
                    "channel paused: its stories stay queued until it is fixed and newsdesk restarts");
            }
            Ok(false)
        }
        Err(e) => {
            tracing::warn!(channel = %digest.channel, error = %e, "digest not delivered; will retry");
            desk.store().record_digest_failure(id, &e.to_string())?;
            Ok(false)
        }
    }
}

/// Re-sends digests recorded as pending (a failed post, or a crash mid-send).
pub async fn retry_pending<S: Sink>(
    desk: &Desk,
    sink: &S,
    now: Timestamp,
) -> Result<usize, PipelineError> {
    let pending: Vec<DigestRecord> = desk.store().pending_digests()?;
    let mut sent = 0;
    for record in pending {
        if desk
            .store()
            .channel_state(&record.channel)?
            .paused_reason
            .is_some()
        {
            continue;
        }
        let digest = {
            let store = desk.store();
            let mut stories = Vec::with_capacity(record.stories.len());
            for story in &record.stories {
                stories.push(digest::story_view(&store, *story, desk.config.related.max)?);
            }
            let mut updates = Vec::with_capacity(record.updates.len());
            for update in &record.updates {
                updates.extend(digest::update_view(&store, update)?);
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

/// One cycle: poll due feeds, process new items.
pub async fn poll_and_process(
    desk: &Arc<Desk>,
    now: Timestamp,
    on_feed: &(dyn Fn(&FeedRow, &PollOutcome) + Sync),
) -> Result<(), PipelineError> {
    let summary = desk.poll_due(now, on_feed).await?;
    let processed = desk.process_pending(now).await?;
    if summary.feeds > 0 || processed > 0 {
        tracing::info!(
            feeds = summary.feeds,
            failed = summary.failed,
            new_items = summary.new_items,
            processed,
            "poll cycle done"
        );
    }
    Ok(())
}

/// Runs until `shutdown` resolves (or one cycle with `once`).
pub async fn run<S: Sink>(
    desk: Arc<Desk>,
    sink: &S,
    clock: &dyn Clock,
    options: RunOptions,
    on_feed: &(dyn Fn(&FeedRow, &PollOutcome) + Sync),
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), PipelineError> {
    let started = clock.now();
    for channel in desk.store().resume_all_channels()? {
        tracing::info!(%channel, "channel unpaused at start; its queued digests will be retried");
    }
    if options.once {
        poll_and_process(&desk, started, on_feed).await?;
        if !options.dry_run {
            retry_pending(&desk, sink, clock.now()).await?;
        }
        for channel in &desk.config.channels {
            deliver(&desk, channel, sink, clock.now(), options.dry_run).await?;
        }
        return Ok(());
    }
    tokio::pin!(shutdown);
    let mut maintained: Option<Timestamp> = None;
    loop {
        let now = clock.now();
        if maintained.is_none_or(|at| at.duration_until(now) >= MAINTENANCE_EVERY) {
            maintain(&desk)?;
            maintained = Some(now);
        }
        poll_and_process(&desk, now, on_feed).await?;
        if !options.dry_run {
            retry_pending(&desk, sink, now).await?;
        }
        for channel in &desk.config.channels {
            let last = desk
                .store()
                .channel_state(channel.name.get_ref())?
                .last_digest_at;
            if digest::is_due(channel, last, started, clock.now()) {
                deliver(&desk, channel, sink, clock.now(), options.dry_run).await?;
            }
        }
        let sleep = next_wake(&desk, started, clock.now())?;
        tokio::select! {
            _ = &mut shutdown => {
                tracing::info!("shutting down");
                return Ok(());
            }
            _ = tokio::time::sleep(sleep) => {}
        }
    }
}

/// Merges the full-text index, which grouping and Related query for every new item: left
/// alone, it grows a stack of segments that each look-up visits.
fn maintain(desk: &Desk) -> Result<(), PipelineError> {
    let started = std::time::Instant::now();
    desk.store().optimize_search_index()?;
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "search index merged"
    );
    Ok(())
}

/// Time until the next feed poll or digest slot, at most [`MAX_SLEEP`].
fn next_wake(desk: &Desk, started: Timestamp, now: Timestamp) -> Result<Duration, PipelineError> {
    let mut wake = MAX_SLEEP;
    if let Some(until) = desk.next_poll_in(now)? {
        wake = wake.min(Duration::try_from(until).unwrap_or(Duration::ZERO));
    }
    for channel in &desk.config.channels {
        let last = desk
            .store()
            .channel_state(channel.name.get_ref())?
            .last_digest_at;
        if let Some(until) = digest::until_next(channel, last.unwrap_or(started), now) {
            wake = wake.min(Duration::try_from(until).unwrap_or(Duration::ZERO));
        }
    }
    Ok(wake.max(Duration::from_millis(200)))
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
