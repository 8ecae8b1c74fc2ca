//! Builds [`StoryView`]s from the store: the one place that decides what a story shows (which
//! item leads, which link is "Read original article", which outlets and Related entries are
//! listed, and each Related entry's one-liner).

use super::limits;
use super::story::{Coverage, RelatedView, StoryView, UpdateView};
use super::text::{is_web_url, truncate_words};
use crate::config::Config;
use crate::store::{ItemRow, Result, Store, StoryId, StoryOutlets};
use crate::summarize::{self, SummaryOptions};

/// What the builder needs from the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewSettings {
    /// Related entries listed (0: none, as for updates and search hits).
    pub max_related: usize,
    /// For a story whose item has no stored summary yet.
    pub summary: SummaryOptions,
    /// Where the story pages are public (`[web] public_url`): each story then links to its page.
    pub public_url: Option<String>,
}

impl From<&Config> for ViewSettings {
    fn from(config: &Config) -> Self {
        ViewSettings {
            max_related: config.related.max,
            summary: SummaryOptions::from(&config.summarizer),
            public_url: config
                .web
                .public_url
                .as_deref()
                .map(|u| u.trim().trim_end_matches('/').to_string()),
        }
    }
}

impl ViewSettings {
    /// The same without Related entries.
    pub fn without_related(&self) -> Self {
        ViewSettings {
            max_related: 0,
            ..self.clone()
        }
    }

    /// A story's public page, when the pages are public.
    fn page_of(&self, story: StoryId) -> Option<String> {
        self.public_url
            .as_ref()
            .map(|base| format!("{base}/story/{story}"))
    }
}

/// Everything shown for one story: lead item, other coverage, Related list, topics.
pub fn story_view(store: &Store, story: StoryId, settings: &ViewSettings) -> Result<StoryView> {
    let row = store.story(story)?;
    let items = store.items_of_story(story)?;
    let lead = match items.iter().find(|i| i.id == row.lead_item_id) {
        Some(lead) => lead.clone(),
        None => store.item(row.lead_item_id)?,
    };
    let mut related = Vec::new();
    for link in store
        .related_of(story)?
        .into_iter()
        .take(settings.max_related)
    {
        related.push(related_view(store, link.story_id, settings)?);
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
        page_url: settings.page_of(story),
        summary: summary_of(&lead, settings.summary),
        gist: gist_of(&lead),
        url: web_link(&lead, &items),
        also_covered_by: other_coverage(&lead, &items),
        title: lead.title,
        outlet: lead.outlet,
        published: row.published,
        related,
        topics,
    })
}

/// An update of `row.story_id` announcing `row.outlets` (each with its first item there that
/// has a link, else its first); None when none of those outlets still has an item in the story.
pub fn update_view(
    store: &Store,
    row: &StoryOutlets,
    settings: &ViewSettings,
) -> Result<Option<UpdateView>> {
    // Related was shown with the story; an update is only about who covers it now.
    let story = story_view(store, row.story_id, &settings.without_related())?;
    let items = store.items_of_story(row.story_id)?;
    let new_coverage: Vec<Coverage> = row
        .outlets
        .iter()
        .filter_map(|outlet| outlet_item(&items, outlet))
        .map(coverage)
        .collect();
    Ok((!new_coverage.is_empty()).then_some(UpdateView {
        story,
        new_coverage,
    }))
}

fn related_view(store: &Store, story: StoryId, settings: &ViewSettings) -> Result<RelatedView> {
    let other = store.story(story)?;
    let items = store.items_of_story(story)?;
    let head = match items.iter().find(|i| i.id == other.lead_item_id) {
        Some(head) => head.clone(),
        None => store.item(other.lead_item_id)?,
    };
    Ok(RelatedView {
        story_id: other.id,
        page_url: settings.page_of(other.id),
        line: truncate_words(&gist_of(&head), limits::RELATED_LINE),
        url: web_link(&head, &items),
        title: head.title,
        outlet: head.outlet,
        published: other.published,
    })
}

/// The lead's web link, else the first item's in the story that has one: a lead read from a
/// local file (or with no link) still gets a "Read original article".
fn web_link(lead: &ItemRow, items: &[ItemRow]) -> Option<String> {
    std::iter::once(lead)
        .chain(items)
        .filter_map(|i| i.url.as_deref())
        .find(|u| is_web_url(u))
        .map(str::to_string)
}

/// One entry per outlet other than the lead's, in the order the store gives the items.
fn other_coverage(lead: &ItemRow, items: &[ItemRow]) -> Vec<Coverage> {
    let mut outlets: Vec<&str> = Vec::new();
    for item in items.iter().filter(|i| i.outlet != lead.outlet) {
        if !outlets.contains(&item.outlet.as_str()) {
            outlets.push(&item.outlet);
        }
    }
    outlets
        .into_iter()
        .filter_map(|outlet| outlet_item(items, outlet))
        .map(coverage)
        .collect()
}

/// The item that stands for `outlet` in a story: its first with a web link, else its first.
fn outlet_item<'a>(items: &'a [ItemRow], outlet: &str) -> Option<&'a ItemRow> {
    let mut of_outlet = items.iter().filter(|i| i.outlet == outlet);
    let first = of_outlet.clone().next();
    of_outlet
        .find(|i| i.url.as_deref().is_some_and(is_web_url))
        .or(first)
}

fn coverage(item: &ItemRow) -> Coverage {
    Coverage {
        outlet: item.outlet.clone(),
        title: item.title.clone(),
        url: item.url.clone().filter(|u| is_web_url(u)),
    }
}

fn summary_of(item: &ItemRow, options: SummaryOptions) -> String {
    match item.summary.as_deref() {
        Some(s) if !s.trim().is_empty() => s.trim().to_string(),
        // Past `[storage] keep` the gist is all the summary kept.
        _ if item.is_expired() => gist_of(item),
        _ => summarize::summarize(Some(&item.title), &item.feed_text, options),
    }
}

/// An item's gist: the stored one, else made from its text (items processed before gists were
/// stored, and items not processed yet).
fn gist_of(item: &ItemRow) -> String {
    match item.gist.as_deref() {
        Some(g) if !g.trim().is_empty() => g.trim().to_string(),
        _ => {
            let text = item
                .text
                .as_deref()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or(&item.feed_text);
            summarize::gist(Some(&item.title), text)
        }
    }
}
