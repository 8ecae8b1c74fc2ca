//! Digests: which stories a channel gets next, what each story shows, and where it goes.
//!
//! [`compose`] picks a channel's stories and reads each into a [`StoryView`] (built by
//! [`crate::present`], which decides what a story shows); [`layout`] packs their embeds into the
//! exact messages that are posted; a [`Sink`] delivers them (the terminal here, Discord in
//! `discord`).

pub mod layout;
pub mod sink;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::config::{ChannelConfig, ChannelMode, Config};
use crate::present::{StoryView, UpdateView, ViewSettings, story_view, update_view};
pub use crate::store::StoryOutlets;
use crate::store::{Result, Store};

pub use sink::{Sink, SinkError, TerminalSink};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Digest {
    /// The store's record of this digest once it is about to be sent (None for previews).
    pub id: Option<crate::store::DigestId>,
    pub channel: String,
    pub generated_at: Timestamp,
    pub stories: Vec<StoryView>,
    /// Stories the channel already carried that gained coverage from new outlets since; shown
    /// after `stories` (only for channels with `updates = true`).
    pub updates: Vec<UpdateView>,
}

impl Digest {
    /// Entries shown: new stories plus updates.
    pub fn len(&self) -> usize {
        self.stories.len() + self.updates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stories.is_empty() && self.updates.is_empty()
    }

    /// What this digest shows, as the store records it: (new stories, updates), each with the
    /// outlets shown for it.
    pub fn shown_outlets(&self) -> (Vec<StoryOutlets>, Vec<StoryOutlets>) {
        let stories = self
            .stories
            .iter()
            .map(|s| StoryOutlets {
                story_id: s.story_id,
                outlets: s.outlets(),
            })
            .collect();
        let updates = self
            .updates
            .iter()
            .map(|u| StoryOutlets {
                story_id: u.story.story_id,
                outlets: u.new_coverage.iter().map(|c| c.outlet.clone()).collect(),
            })
            .collect();
        (stories, updates)
    }
}

/// The next digest of `channel`: announceable stories matching its topics that it has not been
/// sent, newest first, at most `max_stories`. Stories older than `polling.max_item_age` are left
/// out (all ages when that is off). With `updates = true`, what is left of `max_stories` goes to
/// stories it was sent that have announceable coverage from outlets not shown before.
pub fn compose(
    store: &Store,
    config: &Config,
    channel: &ChannelConfig,
    now: Timestamp,
) -> Result<Digest> {
    // The config's topics for this channel with /subscribe and /unsubscribe applied.
    let topics = crate::store::channel_topics(config, store, channel.name.get_ref());
    let max_age = config.polling.max_item_age;
    let since = if max_age.is_zero() {
        Timestamp::UNIX_EPOCH
    } else {
        now - max_age.as_span()
    };
    let name = channel.name.get_ref();
    let settings = ViewSettings::from(config);
    let rows = store.unposted_stories(name, &topics, since, channel.max_stories)?;
    let mut stories = Vec::with_capacity(rows.len());
    for row in rows {
        stories.push(story_view(store, row.id, &settings)?);
    }
    let mut updates = Vec::new();
    if channel.updates {
        let budget = channel.max_stories.saturating_sub(stories.len());
        for row in store.story_updates(name, &topics, since, budget)? {
            updates.extend(update_view(store, &row, &settings)?);
        }
    }
    Ok(Digest {
        id: None,
        channel: name.clone(),
        generated_at: now,
        stories,
        updates,
    })
}

/// Names of the channels configured as forums (the terminal shows the post each digest opens).
pub fn forum_channels(config: &Config) -> Vec<String> {
    config
        .channels
        .iter()
        .filter(|c| c.forum)
        .map(|c| c.name.get_ref().clone())
        .collect()
}

/// Whether a channel's schedule has a slot due: the first slot after its last digest (or after
/// `first_seen` when it never had one) has passed. A daemon that was down for several slots
/// sends one digest, not one per missed slot.
pub fn is_due(
    channel: &ChannelConfig,
    last_digest: Option<Timestamp>,
    first_seen: Timestamp,
    now: Timestamp,
) -> bool {
    let from = last_digest.unwrap_or(first_seen);
    match (&channel.mode, &channel.schedule) {
        (ChannelMode::Digest, Some(schedule)) => schedule.next_after(from) <= now,
        // Live channels are served after every poll (an empty delivery posts nothing).
        _ => true,
    }
}

/// How long until `channel`'s next slot after `from`; None for live channels.
pub fn until_next(
    channel: &ChannelConfig,
    from: Timestamp,
    now: Timestamp,
) -> Option<SignedDuration> {
    match (&channel.mode, &channel.schedule) {
        (ChannelMode::Digest, Some(schedule)) => {
            Some(schedule.next_after(from).duration_since(now))
        }
        _ => None,
    }
}
