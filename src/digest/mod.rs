//! Digests: which stories a channel gets next, what each story shows, and where it goes.
//!
//! [`compose`] reads the store into plain [`Digest`] values; [`render`] turns them into the exact
//! messages that are posted; a [`Sink`] delivers them (the terminal here, Discord later).

pub mod layout;
pub mod render;
pub mod sink;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::config::{ChannelConfig, ChannelMode, Config};
pub use crate::store::StoryOutlets;
use crate::store::{ItemRow, Result, Store, StoryId};
use crate::summarize::SummaryOptions;

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

/// One story as a reader sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoryView {
    pub story_id: StoryId,
    pub title: String,
    pub outlet: String,
    pub published: Timestamp,
    pub url: Option<String>,
    pub summary: String,
    /// Other outlets reporting the same event.
    pub also_covered_by: Vec<Coverage>,
    /// Earlier stories on the same subject, best first.
    pub related: Vec<RelatedView>,
    pub topics: Vec<String>,
}

impl StoryView {
    /// Every outlet this view shows: the lead's, then the other coverage.
    pub fn outlets(&self) -> Vec<String> {
        let mut outlets = vec![self.outlet.clone()];
        for c in &self.also_covered_by {
            if !outlets.contains(&c.outlet) {
                outlets.push(c.outlet.clone());
            }
        }
        outlets
    }
}

/// A story posted before, again because outlets not shown then have covered it since.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateView {
    pub story: StoryView,
    /// Only the outlets the channel has not been shown for this story, first published first.
    pub new_coverage: Vec<Coverage>,
}

impl Serialize for UpdateView {
    /// The story's fields with `"update": true` and `new_coverage`, so JSON readers see one
    /// flat entry marked as an update.
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Flagged<'a> {
            update: bool,
            #[serde(flatten)]
            story: &'a StoryView,
            new_coverage: &'a [Coverage],
        }
        Flagged {
            update: true,
            story: &self.story,
            new_coverage: &self.new_coverage,
        }
        .serialize(serializer)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    pub outlet: String,
    pub title: String,
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RelatedView {
    pub story_id: StoryId,
    pub title: String,
    pub outlet: String,
    pub published: Timestamp,
    pub url: Option<String>,
    /// One line about it: the first sentence of its summary.
    pub line: String,
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
    let rows = store.unposted_stories(name, &topics, since, channel.max_stories)?;
    let summary = SummaryOptions::from(&config.summarizer);
    let mut stories = Vec::with_capacity(rows.len());
    for row in rows {
        stories.push(story_view(store, row.id, config.related.max, summary)?);
    }
    let mut updates = Vec::new();
    if channel.updates {
        let budget = channel.max_stories.saturating_sub(stories.len());
        for row in store.story_updates(name, &topics, since, budget)? {
            updates.extend(update_view(store, &row, summary)?);
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

/// An update of `row.story_id` announcing `row.outlets` (each with its first item there);
/// None when none of those outlets still has an item in the story.
pub fn update_view(
    store: &Store,
    row: &StoryOutlets,
    summary: SummaryOptions,
) -> Result<Option<UpdateView>> {
    // Related was shown with the story; an update is only about who covers it now.
    let story = story_view(store, row.story_id, 0, summary)?;
    let items = store.items_of_story(row.story_id)?;
    let new_coverage: Vec<Coverage> = row
        .outlets
        .iter()
        .filter_map(|outlet| items.iter().find(|i| &i.outlet == outlet))
        .map(|item| Coverage {
            outlet: item.outlet.clone(),
            title: item.title.clone(),
            url: item.url.clone(),
        })
        .collect();
    Ok((!new_coverage.is_empty()).then_some(UpdateView {
        story,
        new_coverage,
    }))
}

/// Everything shown for one story: lead item, other coverage, Related list. `summary` makes the
/// summary of a lead item that has none stored.
pub fn story_view(
    store: &Store,
    story: StoryId,
    max_related: usize,
    summary: SummaryOptions,
) -> Result<StoryView> {
    let row = store.story(story)?;
    let items = store.items_of_story(story)?;
    let lead = match items.iter().find(|i| i.id == row.lead_item_id) {
        Some(lead) => lead.clone(),
        None => store.item(row.lead_item_id)?,
    };
    let mut also: Vec<Coverage> = Vec::new();
    for item in items
        .iter()
        .filter(|i| i.id != lead.id && i.outlet != lead.outlet)
    {
        if !also.iter().any(|c| c.outlet == item.outlet) {
            also.push(Coverage {
                outlet: item.outlet.clone(),
                title: item.title.clone(),
                url: item.url.clone(),
            });
        }
    }
    let mut related = Vec::new();
    for link in store.related_of(story)?.into_iter().take(max_related) {
        let other = store.story(link.story_id)?;
        let head = store.item(other.lead_item_id)?;
        related.push(RelatedView {
            story_id: other.id,
            line: first_sentence(head.summary.as_deref().unwrap_or(&head.feed_text)),
            title: head.title,
            outlet: head.outlet,
            published: other.published,
            url: head.url,
        });
    }
    let mut topics = Vec::new();
    for item in &items {
        for t in store.topics_of_item(item.id)? {
            if !topics.contains(&t) {
                topics.push(t);
            }
        }
    }
    Ok(StoryView {
        story_id: story,
        summary: summary_of(&lead, summary),
        title: lead.title,
        outlet: lead.outlet,
        published: row.published,
        url: lead.url,
        also_covered_by: also,
        related,
        topics,
    })
}

fn summary_of(item: &ItemRow, opts: SummaryOptions) -> String {
    match item.summary.as_deref() {
        Some(s) if !s.trim().is_empty() => s.trim().to_string(),
        _ => crate::summarize::summarize(Some(&item.title), &item.feed_text, opts),
    }
}

/// The first sentence of a summary (or its first 160 characters), for one-line mentions.
fn first_sentence(text: &str) -> String {
    let text = text.trim();
    let end = text
        .char_indices()
        .find(|&(i, c)| {
            matches!(c, '.' | '!' | '?') && text[i + c.len_utf8()..].starts_with(' ') && i > 20
        })
        .map(|(i, c)| i + c.len_utf8())
        .unwrap_or(text.len());
    render::truncate_words(&text[..end], 160)
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
