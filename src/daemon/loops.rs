//! The daemon's three loops (see the module above): poller, processor, deliverer. They run in one
//! task, side by side, and talk through two wake-ups: the poller wakes the processor when a feed
//! brought new items, the processor wakes the deliverer when new stories are ready.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::{Backoff, Clock, MAX_SLEEP, RunOptions, deliver, describe_fault, retry_pending};
use crate::config::ChannelMode;
use crate::digest::{self, Sink};
use crate::pipeline::{Desk, Expired, PipelineError, PollOutcome};
use crate::shutdown::{Shutdown, Trigger};
use crate::store::{FeedId, FeedRow};

/// Items processed between two looks at the rest of the world.
const PROCESS_BATCH: usize = 16;
/// During a long backlog, live channels hear of new stories at least this often (else only when
/// the queue runs dry).
const LIVE_NOTICE_EVERY: Duration = Duration::from_secs(2);
/// Pages written per step of the index merge, and the most steps of one merge.
const MERGE_STEP_PAGES: u32 = 256;
const MAX_MERGE_STEPS: usize = 100_000;
/// How often retention runs and the search index is merged (also once at start).
const MAINTENANCE_EVERY: SignedDuration = SignedDuration::from_hours(24);

pub(super) struct Loops<'a, S: Sink> {
    desk: &'a Arc<Desk>,
    sink: &'a S,
    clock: &'a dyn Clock,
    options: RunOptions,
    on_feed: &'a (dyn Fn(&FeedRow, &PollOutcome) + Sync),
    shutdown: Shutdown,
    /// Fired by a loop that meets an error the desk cannot work past (a refused token).
    stop_all: Trigger,
    stop_all_view: Shutdown,
    new_items: Notify,
    new_stories: Notify,
    /// Set once every feed due at start has been polled, then once the processor has
    /// processed what they brought.
    first_round_polled: watch::Sender<bool>,
    caught_up: watch::Sender<bool>,
    started: Timestamp,
    /// Dry runs only: when each channel was last shown.
    shown: std::sync::Mutex<HashMap<String, Timestamp>>,
}

impl<'a, S: Sink> Loops<'a, S> {
    pub(super) fn new(
        desk: &'a Arc<Desk>,
        sink: &'a S,
        clock: &'a dyn Clock,
        options: RunOptions,
        on_feed: &'a (dyn Fn(&FeedRow, &PollOutcome) + Sync),
        shutdown: Shutdown,
    ) -> Loops<'a, S> {
        let (stop_all, stop_all_view) = Shutdown::new();
        Loops {
            desk,
            sink,
            clock,
            options,
            on_feed,
            shutdown,
            stop_all,
            stop_all_view,
            new_items: Notify::new(),
            new_stories: Notify::new(),
            first_round_polled: watch::channel(false).0,
            caught_up: watch::channel(false).0,
            started: clock.now(),
            shown: Default::default(),
        }
    }

    pub(super) async fn run(self) -> Result<(), PipelineError> {
        let (polled, processed, delivered) =
            tokio::join!(self.poller(), self.processor(), self.deliverer());
        polled.and(processed).and(delivered)
    }

    fn stopping(&self) -> bool {
        self.shutdown.is_fired() || self.stop_all_view.is_fired()
    }

    /// Sleeps `wait`, or less if a stop comes or `wake` is notified.
    async fn pause(&self, wait: Duration, wake: Option<&Notify>) {
        let woken = async {
            match wake {
                Some(notify) => notify.notified().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = woken => {}
            _ = self.shutdown.fired() => {}
            _ = self.stop_all_view.fired() => {}
        }
    }

    /// Logs a fault in words and waits it out; a refused token stops every loop instead.
    async fn fault(
        &self,
        during: &str,
        error: PipelineError,
        backoff: &mut Backoff,
    ) -> Result<(), PipelineError> {
        if matches!(error, PipelineError::Unauthorized(_)) {
            self.stop_all.fire();
            return Err(error);
        }
        let wait = backoff.next_wait();
        tracing::error!(
            "{during}: {}; nothing is lost, retrying in {}s",
            describe_fault(&self.desk.config.storage_path(), &error),
            wait.as_secs_f64()
        );
        self.pause(wait, None).await;
        Ok(())
    }

    async fn poller(&self) -> Result<(), PipelineError> {
        let limit = self.desk.config.polling.concurrency.max(1);
        let mut backoff = Backoff::new(self.options.fault_backoff);
        let mut in_flight: HashSet<FeedId> = HashSet::new();
        let mut tasks: JoinSet<(FeedRow, Result<PollOutcome, PipelineError>)> = JoinSet::new();
        // Which feed each poll task is, so a task that panicked still frees its feed.
        let mut task_feeds: HashMap<tokio::task::Id, FeedRow> = HashMap::new();
        // The feeds due at start that have not been polled yet.
        let mut first_round: Option<HashSet<FeedId>> = None;
        while !self.stopping() {
            let now = self.clock.now();
            // Bound first: a guard in the match head would be held through the backoff.
            // The first look reads every due feed (the first round); later ones only enough
            // to fill the free slots, should all those in flight be among them.
            let wanted = first_round
                .is_some()
                .then(|| limit.saturating_sub(tasks.len()) + in_flight.len());
            let due = self.desk.store().due_feeds(now, wanted);
            let due = match due {
                Ok(due) => due,
                Err(e) => {
                    self.fault("looking for due feeds", e.into(), &mut backoff)
                        .await?;
                    continue;
                }
            };
            let round = first_round.get_or_insert_with(|| due.iter().map(|f| f.id).collect());
            if round.is_empty() {
                self.first_round_polled.send_replace(true);
            }
            for feed in due {
                if tasks.len() >= limit {
                    break;
                }
                if in_flight.insert(feed.id) {
                    let desk = Arc::clone(self.desk);
                    let row = feed.clone();
                    let task = tasks.spawn(async move {
                        let outcome = desk.poll_feed(&feed, now).await;
                        (feed, outcome)
                    });
                    task_feeds.insert(task.id(), row);
                }
            }
            let wait = if tasks.len() >= limit {
                MAX_SLEEP
            } else {
                let except: Vec<FeedId> = in_flight.iter().copied().collect();
                let next = self.desk.store().next_poll_at_except(&except);
                match next {
                    Ok(next) => until(next, now),
                    Err(e) => {
                        self.fault("planning the next poll", e.into(), &mut backoff)
                            .await?;
                        continue;
                    }
                }
            };
            let finished = tokio::select! {
                Some(joined) = tasks.join_next_with_id(), if !tasks.is_empty() => Some(joined),
                _ = tokio::time::sleep(wait) => None,
                _ = self.shutdown.fired() => None,
                _ = self.stop_all_view.fired() => None,
            };
            let (feed, outcome) = match finished {
                None => continue,
                Some(Ok((id, done))) => {
                    task_feeds.remove(&id);
                    done
                }
                Some(Err(failed)) => {
                    // A panic while polling: the feed is due again, after the backoff.
                    let Some(feed) = task_feeds.remove(&failed.id()) else {
                        continue;
                    };
                    let error = PipelineError::Panicked(failed.to_string());
                    (feed, Err(error))
                }
            };
            in_flight.remove(&feed.id);
            if let Some(round) = first_round.as_mut() {
                round.remove(&feed.id);
            }
            match outcome {
                Ok(outcome) => {
                    // Only stored items prove the store is writable again: a 304 needs little
                    // room, and resetting on it would re-fetch full feeds every second through
                    // a full disk.
                    if matches!(outcome, PollOutcome::Updated { .. }) {
                        backoff.reset();
                    }
                    (self.on_feed)(&feed, &outcome);
                    if matches!(outcome, PollOutcome::Updated { new, .. } if new > 0) {
                        self.new_items.notify_one();
                    }
                }
                Err(e) => {
                    let during = format!("polling {:?}", feed.name);
                    self.fault(&during, e, &mut backoff).await?;
                }
            }
        }
        // Polls in flight finish within the grace period (the caller cuts them off after it).
        while tasks.join_next().await.is_some() {}
        Ok(())
    }

    async fn processor(&self) -> Result<(), PipelineError> {
        let mut backoff = Backoff::new(self.options.fault_backoff);
        let mut maintained: Option<Timestamp> = None;
        let mut polled = self.first_round_polled.subscribe();
        let mut noticed = std::time::Instant::now();
        // Stories made since the deliverer last heard of new ones.
        let mut untold = false;
        while !self.stopping() {
            let now = self.clock.now();
            if maintained.is_none_or(|at| at.duration_until(now) >= MAINTENANCE_EVERY) {
                if let Err(e) = maintain(self.desk, now).await {
                    self.fault("maintaining the store", e, &mut backoff).await?;
                    continue;
                }
                maintained = Some(now);
            }
            let first_round_done = *polled.borrow_and_update();
            match self.desk.process_batch(PROCESS_BATCH, now).await {
                Ok(0) => {
                    backoff.reset();
                    if first_round_done {
                        self.caught_up.send_replace(true);
                    }
                    if std::mem::take(&mut untold) {
                        self.new_stories.notify_one();
                    }
                    tokio::select! {
                        _ = self.pause(MAX_SLEEP, Some(&self.new_items)) => {}
                        _ = polled.changed(), if !first_round_done => {}
                    }
                }
                Ok(n) => {
                    backoff.reset();
                    untold = true;
                    if n < PROCESS_BATCH || noticed.elapsed() >= LIVE_NOTICE_EVERY {
                        self.new_stories.notify_one();
                        noticed = std::time::Instant::now();
                        untold = false;
                    }
                    tokio::task::yield_now().await;
                }
                Err(e) => self.fault("processing new items", e, &mut backoff).await?,
            }
        }
        Ok(())
    }

    async fn deliverer(&self) -> Result<(), PipelineError> {
        let mut backoff = Backoff::new(self.options.fault_backoff);
        let mut caught_up = self.caught_up.subscribe();
        tokio::select! {
            _ = caught_up.wait_for(|done| *done) => {}
            _ = tokio::time::sleep(self.options.warm_up) => {
                tracing::info!("first digests go out while feeds due at start are still polled");
            }
            _ = self.shutdown.fired() => {}
            _ = self.stop_all_view.fired() => {}
        }
        while !self.stopping() {
            match self.deliver_due().await {
                Ok(wait) => {
                    backoff.reset();
                    self.pause(wait, Some(&self.new_stories)).await;
                }
                Err(e) => self.fault("delivering digests", e, &mut backoff).await?,
            }
        }
        Ok(())
    }

    /// Retries pending digests and sends every due channel's digest; returns the time until
    /// the next slot.
    async fn deliver_due(&self) -> Result<Duration, PipelineError> {
        let desk = self.desk;
        if !self.options.dry_run {
            retry_pending(desk, self.sink, self.clock.now()).await?;
        }
        let mut wait = MAX_SLEEP;
        for channel in &desk.config.channels {
            if self.stopping() {
                break;
            }
            let name = channel.name.get_ref();
            // A dry run records nothing: when it last showed a channel is kept here instead, so
            // a slot is shown once, not on every wake.
            let last = match self
                .shown
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(name)
            {
                Some(shown) => Some(*shown),
                None => desk.store().channel_state(name)?.last_digest_at,
            };
            let now = self.clock.now();
            let mut from = last.unwrap_or(self.started);
            if digest::is_due(channel, last, self.started, now) {
                let sent = deliver(desk, channel, self.sink, now, self.options.dry_run).await?;
                from = now;
                if self.options.dry_run {
                    self.shown
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(name.clone(), now);
                }
                // A full live delivery may have left stories behind: go again soon.
                if channel.mode == ChannelMode::Live && sent >= channel.max_stories {
                    wait = Duration::ZERO;
                }
            }
            if let Some(until) = digest::until_next(channel, from, now) {
                wait = wait.min(Duration::try_from(until).unwrap_or(Duration::ZERO));
            }
        }
        Ok(wait.max(Duration::from_millis(200)))
    }
}

/// Time from `now` until `next`, at most [`MAX_SLEEP`] (and [`MAX_SLEEP`] when nothing is due).
fn until(next: Option<Timestamp>, now: Timestamp) -> Duration {
    next.map_or(MAX_SLEEP, |at| {
        Duration::try_from(at.duration_since(now))
            .unwrap_or(Duration::ZERO)
            .min(MAX_SLEEP)
    })
}

/// Applies retention (`[storage] keep`), then merges the full-text index, which grouping and
/// Related query for every new item: left alone, it grows a stack of segments that each look-up
/// visits. Both in bounded steps on the blocking pool, so the store is free for other work
/// between them (a whole merge of a large index takes seconds).
async fn maintain(desk: &Arc<Desk>, now: Timestamp) -> Result<(), PipelineError> {
    let started = std::time::Instant::now();
    let mut expired = Expired::default();
    loop {
        let step = Arc::clone(desk);
        let done = tokio::task::spawn_blocking(move || step.expire_step(now))
            .await
            .map_err(|e| PipelineError::Panicked(e.to_string()))??;
        if done == Expired::default() {
            break;
        }
        expired.items += done.items;
        expired.stories += done.stories;
    }
    if expired != Expired::default() {
        tracing::info!(
            items = expired.items,
            stories = expired.stories,
            "old items and stories expired (storage.keep)"
        );
    }
    for _ in 0..MAX_MERGE_STEPS {
        let step = Arc::clone(desk);
        let more = tokio::task::spawn_blocking(move || {
            step.store().merge_search_index_step(MERGE_STEP_PAGES)
        })
        .await
        .map_err(|e| PipelineError::Panicked(e.to_string()))??;
        if !more {
            break;
        }
    }
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "search index merged"
    );
    Ok(())
}
