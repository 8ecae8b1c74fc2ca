//! Same-event grouping and Related earlier coverage.
//!
//! Method (first version; issue #5 raises the bar):
//! 1. An item whose canonical URL is already stored joins that item's story.
//! 2. Each item is described by the content stems of its title (counted twice) and its lead
//!    (first [`LEAD_WORDS`] words), weighted by inverse document frequency, so rare names and
//!    numbers dominate common words.
//! 3. Candidates come from the full-text index (FTS5 bm25 over the item's most salient words),
//!    never from a scan of the store.
//! 4. The best candidate within the grouping window with cosine ≥ [`MERGE_THRESHOLD`] gives the
//!    item its story. Merging needs a much stronger match than relating: two budget cuts at
//!    different agencies share vocabulary but are different events.
//! 5. Related = other stories among the candidates, published earlier within the Related
//!    window, cosine ≥ [`RELATED_THRESHOLD`], best first, one entry per story.

use std::collections::HashMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::store::{ItemId, ItemRow, RelatedLink, Store, StoreError, StoryId};
use crate::terms;

/// Words of the article body that describe it alongside its title.
pub const LEAD_WORDS: usize = 120;
/// Cosine similarity at which two items report the same event.
pub const MERGE_THRESHOLD: f64 = 0.45;
/// Cosine similarity at which an earlier story is worth listing as Related.
pub const RELATED_THRESHOLD: f64 = 0.10;
/// Salient words sent to the full-text index to find candidates.
const QUERY_TERMS: usize = 16;
/// Candidates scored per new item.
const CANDIDATES: usize = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelateSettings {
    pub group_window: Duration,
    pub related_window: Duration,
    pub max_related: usize,
}

impl Default for RelateSettings {
    fn default() -> Self {
        RelateSettings {
            group_window: Duration::from_secs(3 * 86_400),
            related_window: Duration::from_secs(180 * 86_400),
            max_related: 5,
        }
    }
}

/// Where an item landed.
#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    pub story_id: StoryId,
    /// True when the item joined an existing story (other coverage of the same event).
    pub joined: bool,
    pub related: Vec<RelatedLink>,
}

/// A bag of weighted stems.
type Vector = HashMap<String, f64>;

/// Term counts of an item: title stems twice, lead stems once.
fn term_counts(title: &str, text: &str) -> HashMap<String, f64> {
    let mut counts = HashMap::new();
    for stem in terms::content_stems(title) {
        *counts.entry(stem).or_insert(0.0) += 2.0;
    }
    let lead: String = text
        .split_whitespace()
        .take(LEAD_WORDS)
        .collect::<Vec<_>>()
        .join(" ");
    for stem in terms::content_stems(&lead) {
        *counts.entry(stem).or_insert(0.0) += 1.0;
    }
    counts
}

fn weigh(counts: &HashMap<String, f64>, df: &HashMap<String, i64>, docs: f64) -> Vector {
    let mut v: Vector = counts
        .iter()
        .map(|(t, c)| {
            let d = df.get(t).copied().unwrap_or(0) as f64;
            let idf = ((docs + 1.0) / (d + 1.0)).ln() + 1.0;
            (t.clone(), (1.0 + c.ln()) * idf)
        })
        .collect();
    let norm = v.values().map(|w| w * w).sum::<f64>().sqrt();
    if norm > 0.0 {
        v.values_mut().for_each(|w| *w /= norm);
    }
    v
}

fn cosine(a: &Vector, b: &Vector) -> f64 {
    let (small, large) = if a.len() < b.len() { (a, b) } else { (b, a) };
    small
        .iter()
        .filter_map(|(t, w)| large.get(t).map(|x| w * x))
        .sum()
}

/// Assigns `item` (already stored, text known) to a story and computes the story's Related list
/// when the item opens a new story. Records the item's terms for future weighting.
pub fn relate_item(
    store: &mut Store,
    item: &ItemRow,
    text: &str,
    settings: &RelateSettings,
) -> Result<Relation, StoreError> {
    let counts = term_counts(&item.title, text);

    // 1. The same article seen through another feed.
    if let Some(url) = &item.url
        && let Some(story) = story_of_same_url(store, url, item.id)?
    {
        store.attach_to_story(item.id, story)?;
        store.add_document_terms(counts.keys().map(String::as_str))?;
        return Ok(Relation {
            story_id: story,
            joined: true,
            related: store.related_of(story)?,
        });
    }

    let docs = store.indexed_count()? as f64;
    let df = store.document_frequencies(counts.keys().map(String::as_str))?;
    let vector = weigh(&counts, &df, docs);
    let candidates = candidates(store, item, text, &df)?;

    let group_window =
        SignedDuration::try_from(settings.group_window).unwrap_or(SignedDuration::MAX);
    let related_window =
        SignedDuration::try_from(settings.related_window).unwrap_or(SignedDuration::MAX);
    let mut best_merge: Option<(f64, StoryId)> = None;
    let mut per_story: HashMap<StoryId, (f64, Timestamp)> = HashMap::new();
    for cand in candidates {
        let Some(story) = cand.story_id else { continue };
        let cand_text = cand.text.as_deref().unwrap_or(&cand.feed_text);
        let cand_counts = term_counts(&cand.title, cand_text);
        let cand_df = store.document_frequencies(cand_counts.keys().map(String::as_str))?;
        let score = cosine(&vector, &weigh(&cand_counts, &cand_df, docs));
        tracing::debug!(
            item = item.id,
            candidate = cand.id,
            story,
            score,
            "relate candidate"
        );
        let gap = item.published.duration_since(cand.published).abs();
        if score >= MERGE_THRESHOLD
            && gap <= group_window
            && best_merge.is_none_or(|(s, _)| score > s)
        {
            best_merge = Some((score, story));
        }
        let entry = per_story.entry(story).or_insert((0.0, cand.published));
        if score > entry.0 {
            *entry = (score, cand.published);
        }
    }

    let (story_id, joined) = match best_merge {
        Some((_, story)) => {
            store.attach_to_story(item.id, story)?;
            (story, true)
        }
        None => (store.create_story(item.id)?, false),
    };
    store.add_document_terms(counts.keys().map(String::as_str))?;

    if joined {
        return Ok(Relation {
            story_id,
            joined,
            related: store.related_of(story_id)?,
        });
    }
    let earliest = item.published - related_window;
    let mut related: Vec<(f64, Timestamp, StoryId)> = per_story
        .into_iter()
        .filter(|(s, (score, published))| {
            *s != story_id
                && *score >= RELATED_THRESHOLD
                && *published <= item.published
                && *published >= earliest
        })
        .map(|(s, (score, published))| (score, published, s))
        .collect();
    // Best first; among equal scores the newer story first.
    related.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
    let related: Vec<RelatedLink> = related
        .into_iter()
        .take(settings.max_related)
        .map(|(score, _, story_id)| RelatedLink { story_id, score })
        .collect();
    store.set_related(story_id, &related)?;
    Ok(Relation {
        story_id,
        joined,
        related,
    })
}

fn story_of_same_url(
    store: &Store,
    url: &str,
    item: ItemId,
) -> Result<Option<StoryId>, StoreError> {
    Ok(store
        .item_by_url(url)?
        .filter(|other| other.id != item)
        .and_then(|other| other.story_id))
}

/// Earlier processed items sharing the item's most salient words, found through the index.
fn candidates(
    store: &Store,
    item: &ItemRow,
    text: &str,
    df: &HashMap<String, i64>,
) -> Result<Vec<ItemRow>, StoreError> {
    // Query with surface words (FTS applies its own stemmer), rarest stems first.
    let lead: String = text
        .split_whitespace()
        .take(LEAD_WORDS)
        .collect::<Vec<_>>()
        .join(" ");
    let mut words: Vec<(i64, String)> = terms::words(&item.title)
        .chain(terms::words(&lead))
        .filter(|w| w.chars().count() > 2 && !terms::is_stopword(w))
        .map(|w| (df.get(&terms::stem(&w)).copied().unwrap_or(0), w))
        // A word no earlier document has cannot find a candidate.
        .filter(|(df, _)| *df > 0)
        .collect();
    words.sort();
    words.dedup_by(|a, b| a.1 == b.1);
    let query: Vec<String> = words
        .into_iter()
        .take(QUERY_TERMS)
        .map(|(_, w)| format!("\"{w}\""))
        .collect();
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let hits = store.search_items(&query.join(" OR "), CANDIDATES)?;
    let mut out = Vec::with_capacity(hits.len());
    for hit in hits {
        if hit.item_id == item.id {
            continue;
        }
        let cand = store.item(hit.item_id)?;
        if cand.story_id.is_some() {
            out.push(cand);
        }
    }
    Ok(out)
}
