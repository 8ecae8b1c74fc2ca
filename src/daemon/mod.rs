//! The long-running desk. Three loops share the store and never wait on each other:
//! - the **poller** (`loops`) starts each feed's poll when it is due, `polling.concurrency` at
//!   a time, so a feed that never answers holds up nothing but itself;
//! - the **processor** turns stored items into stories in small batches (one transaction per
//!   item), and merges the search index daily;
//! - the **deliverer** retries pending digests and sends each channel's digest on its slot
//!   (live channels after new stories), whatever the other two are doing.
//!
//! A full disk or a busy database is waited out with backoff ([`Backoff`]), never fatal; only a
//! refused Discord token stops the desk. On SIGTERM or Ctrl-C ([`Shutdown`]) the loops stop
//! taking work, what is in flight gets `grace` to finish, and the rest is abandoned: every
//! write is a transaction, so an abandoned item or digest is simply still queued next time.

mod deliver;
mod loops;

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use crate::digest::Sink;
use crate::pipeline::{Desk, PipelineError, PollOutcome};
use crate::shutdown::Shutdown;
use crate::store::FeedRow;

pub use deliver::{deliver, retry_pending};

/// The longest any loop sleeps, so housekeeping (pending digests, live channels) runs.
const MAX_SLEEP: Duration = Duration::from_secs(60);
/// The longest wait between attempts while a fault (full disk, busy database) lasts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// One cycle (poll, process, digest every channel) and exit.
    pub once: bool,
    /// Print digests without recording them as posted.
    pub dry_run: bool,
    /// How long work in flight may go on after a stop is requested.
    pub grace: Duration,
    /// First wait after a fault; doubles per repeat up to five minutes.
    pub fault_backoff: Duration,
    /// At start, digests wait at most this long for the feeds due then to be polled and their
    /// items processed, so a catch-up digest after downtime carries the latest news; a slow
    /// feed holds them up no longer than this, and later slots never wait for polls.
    pub warm_up: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            once: false,
            dry_run: false,
            grace: crate::config::DaemonConfig::default().shutdown_grace.get(),
            fault_backoff: Duration::from_secs(1),
            warm_up: Duration::from_secs(10),
        }
    }
}

/// Waits between attempts while a fault lasts: doubling from the first wait up to
/// five minutes, back to the first after a success.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(first: Duration) -> Backoff {
        Backoff { first, next: first }
    }

    pub fn reset(&mut self) {
        self.next = self.first;
    }

    pub fn next_wait(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(MAX_BACKOFF.max(self.first));
        wait
    }
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

/// Runs until `shutdown` fires (or one cycle with `options.once`), then gives work in flight
/// `options.grace` to finish.
pub async fn run<S: Sink>(
    desk: Arc<Desk>,
    sink: &S,
    clock: &dyn Clock,
    options: RunOptions,
    on_feed: &(dyn Fn(&FeedRow, &PollOutcome) + Sync),
    shutdown: Shutdown,
) -> Result<(), PipelineError> {
    let resumed = desk.store().resume_all_channels()?;
    for channel in resumed {
        tracing::info!(%channel, "channel unpaused at start; its queued digests will be retried");
    }
    desk.store().retry_pending_digests_now()?;
    let work = async {
        if options.once {
            once(&desk, sink, clock, options, on_feed).await
        } else {
            loops::Loops::new(&desk, sink, clock, options, on_feed, shutdown.clone())
                .run()
                .await
        }
    };
    tokio::pin!(work);
    tokio::select! {
        result = &mut work => result,
        _ = shutdown.fired() => {
            tracing::info!(grace = ?options.grace, "stopping: finishing work in flight");
            match tokio::time::timeout(options.grace, &mut work).await {
                Ok(result) => result,
                Err(_) => {
                    tracing::warn!("work still in flight after the grace period was abandoned; it stays queued");
                    Ok(())
                }
            }
        }
    }
}

/// One cycle: poll, process, retry what is pending, a digest for every channel.
async fn once<S: Sink>(
    desk: &Arc<Desk>,
    sink: &S,
    clock: &dyn Clock,
    options: RunOptions,
    on_feed: &(dyn Fn(&FeedRow, &PollOutcome) + Sync),
) -> Result<(), PipelineError> {
    poll_and_process(desk, clock.now(), on_feed).await?;
    if !options.dry_run {
        retry_pending(desk, sink, clock.now()).await?;
    }
    for channel in &desk.config.channels {
        deliver(desk, channel, sink, clock.now(), options.dry_run).await?;
    }
    Ok(())
}

/// A fault as the operator should read it: store faults name the database file.
pub fn describe_fault(database: &std::path::Path, error: &PipelineError) -> String {
    match error {
        PipelineError::Store(e) => e.in_words(database),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_ceiling_and_starts_over_after_a_success() {
        let mut b = Backoff::new(Duration::from_secs(1));
        let waits: Vec<u64> = (0..11).map(|_| b.next_wait().as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        b.reset();
        assert_eq!(b.next_wait(), Duration::from_secs(1));
    }
}
