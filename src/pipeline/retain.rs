//! Retention (`[storage] keep`): old items give up their article text and longer summary, and
//! stories out of every window that compares with them give up their centroid and their items'
//! search words beyond headline and gist, a bounded batch per transaction so the store stays
//! free for other work in between.

use jiff::Timestamp;

use super::{Desk, PipelineError};
use crate::summarize;

/// Rows changed per transaction.
pub const RETAIN_BATCH: usize = 500;

/// What one run of retention changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expired {
    pub items: usize,
    pub stories: usize,
}

impl Desk {
    /// The times before which items, and stories' centroids, expire at `now`; None when
    /// everything is kept. A centroid is kept until no item within `keep` can be grouped with
    /// its story or list it as Related, so retention never changes either for such an item.
    fn expiry(&self, now: Timestamp) -> Option<(Timestamp, Timestamp)> {
        let keep = self.config.storage.keep;
        if keep.is_zero() {
            return None;
        }
        let related = &self.config.related;
        let reach = related.window.max(related.group_window).as_span();
        let items = now.checked_sub(keep.as_span()).ok()?;
        // Before the calendar's start: no story expires.
        let stories = items.checked_sub(reach).unwrap_or(Timestamp::MIN);
        Some((items, stories))
    }

    /// One bounded step of retention: at most [`RETAIN_BATCH`] items, then (once no item is
    /// left) as many stories, each in one transaction. Nothing expired means nothing left to do.
    pub fn expire_step(&self, now: Timestamp) -> Result<Expired, PipelineError> {
        let Some((items_before, stories_before)) = self.expiry(now) else {
            return Ok(Expired::default());
        };
        let gist = |title: &str, text: &str| summarize::gist(Some(title), text);
        let items = self
            .store()
            .expire_items(items_before, RETAIN_BATCH, &gist)?;
        if items > 0 {
            return Ok(Expired { items, stories: 0 });
        }
        let stories = self
            .store()
            .expire_story_terms(stories_before, RETAIN_BATCH)?;
        Ok(Expired { items, stories })
    }

    /// Applies retention until nothing is left to expire (the CLI's `prune`).
    pub fn expire_all(&self, now: Timestamp) -> Result<Expired, PipelineError> {
        let mut total = Expired::default();
        loop {
            let step = self.expire_step(now)?;
            if step == Expired::default() {
                return Ok(total);
            }
            total.items += step.items;
            total.stories += step.stories;
        }
    }
}
