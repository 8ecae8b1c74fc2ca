//! Same-event grouping into stories and Related earlier coverage.
//!
//! Method:
//! 1. An item whose canonical URL is already stored joins that item's story.
//! 2. An item is a bag of content stems: its title counted [`TITLE_WEIGHT`] times and the first
//!    [`LEAD_WORDS`] words of its text once; a term weighs `(1 + ln tf) · idf`, with
//!    `idf = ln((N + 1) / (df + 1)) + 1` over the documents seen so far, so rare names, places
//!    and numbers dominate common words.
//! 3. A story is compared as a whole, through its centroid: the sum of its items' `1 + ln tf`
//!    masses, weighted by idf and cut to its [`CENTROID_TERMS`] heaviest terms. A story seen
//!    from several outlets keeps the words they agree on, which a single article cannot. Each
//!    centroid term is stored with its document frequency as of the story's last update, so a
//!    candidate is scored from its one row (the norm from the stored frequencies, the shared
//!    terms from the query's fresh ones) without a look-up per term. A centroid whose norm was
//!    computed when the store held far fewer documents is weighed again first
//!    ([`NORM_REFRESH_GROWTH`]), so early stories do not turn into hubs.
//!    Names and numbers (capitalized words inside lead sentences, digits) that are rare (in at
//!    most [`ENTITY_RARE`] of documents) get [`ENTITY_WEIGHT`] times their mass: similar events
//!    differ mostly in who, where and how many.
//! 4. Candidates come from the full-text index, never from a scan: the item's rarest words (up
//!    to [`QUERY_TERMS`], within a budget of summed document frequencies) are looked up one by
//!    one, newest items first; an item scores the idf of every word it shares, and the best
//!    [`CANDIDATES`] items are mapped to their stories. Reading a rare word's few postings is
//!    cheap, where a ranked OR query would weigh every posting of every word.
//! 5. The item joins the best story if cosine(item, centroid) reaches the merge bar and it falls
//!    within the grouping window of the story's first or last coverage; otherwise it opens a new
//!    story. The bar ([`merge_bar`]) rises with the number of stories competing in the window up
//!    to [`MERGE_THRESHOLD`]: the more stories an item is compared with, the likelier one of them
//!    matches by coincidence (the best of n chance scores grows with ln n), while in a quiet
//!    window a weaker match is already telling. Merging needs a far stronger match than relating ([`RELATED_THRESHOLD`]): two
//!    earthquakes, or two agencies' budget cuts, share their vocabulary but differ in names,
//!    places and numbers, which idf makes carry most of the weight.
//! 6. Related = the other candidate stories that began no later than the item's story (earlier
//!    coverage, not later news or another fragment of the same event), within the Related
//!    window, with cosine ≥ [`RELATED_THRESHOLD`] and at least [`RELATIVE_FLOOR`] of the best
//!    entry's, best first (newer first among equal scores), one entry per story. Each new item of a story merges its own findings into the
//!    story's list (a story keeps the best score seen for each related story), so the list
//!    improves as coverage accumulates.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::config::RelatedConfig;
use crate::store::{ItemId, ItemRow, RelatedLink, Store, StoreError, StoryId, StoryTerms};
use crate::terms;

/// Words of the article body that describe it alongside its title.
pub const LEAD_WORDS: usize = 200;
/// Characters read to find the [`LEAD_WORDS`]: 32 per word, far more than prose needs (about
/// six), so that text without spaces cannot make the lead the whole text.
pub const LEAD_CHARS: usize = LEAD_WORDS * 32;
/// Characters of the title read (headlines are a line; a feed may put anything there).
pub const TITLE_CHARS: usize = 1_000;
/// How many times a title word counts: headlines name the event.
pub const TITLE_WEIGHT: f64 = 3.0;
/// Mass factor for names and numbers ([`entity_stems`]): they tell similar events apart.
pub const ENTITY_WEIGHT: f64 = 1.6;
/// Share of documents above which a name counts as common ([`boost_entities`]).
pub const ENTITY_RARE: f64 = 0.005;
/// Cosine(item, story centroid) at which an item joins the story when many stories compete
/// within the grouping window (see [`merge_bar`]).
pub const MERGE_THRESHOLD: f64 = 0.32;
/// [`merge_bar`] with no competing story, and its rise per unit of `ln(1 + competing)`: the bar
/// reaches [`MERGE_THRESHOLD`] at about 27 competing stories. Both were chosen on the `tune`
/// parts of the story sets (the dated AllSides set, about 4 stories per 3-day window, asked for
/// about 0.2; ECB+ and undated AllSides, 50 to 700 in the window, for the full bar).
const SPARSE_MERGE_BAR: f64 = 0.12;
const MERGE_BAR_SLOPE: f64 = 0.06;
/// Competing stories counted: beyond this the bar is [`MERGE_THRESHOLD`] anyway, so the count
/// (one index range per item) stays bounded however busy the desk.
const COMPETING_COUNTED: i64 = 64;
/// Cosine(item, story centroid) at which an earlier story is worth listing as Related.
pub const RELATED_THRESHOLD: f64 = 0.08;
/// Share of the best entry's cosine that every other Related entry must reach. Below it an
/// entry shares only a word or a name with the story, next to entries that share its subject:
/// on the `tune` ECB+ set it is the largest share (0.20 to 0.35 scored alike) that keeps
/// success@3 and hit@1 as they are, while halving the Related entries from unrelated topics.
pub const RELATIVE_FLOOR: f64 = 0.35;
/// Terms kept per story centroid (heaviest by weight).
pub const CENTROID_TERMS: usize = 250;
/// Salient words sent to the full-text index to find candidates.
const QUERY_TERMS: usize = 16;
/// Words found in more documents than this are not sent to the index (see [`candidate_items`]).
const QUERY_MAX_DF: i64 = 1_000;
/// Budget of summed document frequencies of the words sent to the index.
const QUERY_POSTINGS: i64 = 2_000;
/// Words always sent (when known), whatever the budget.
const QUERY_MIN_TERMS: usize = 3;
/// Candidate items kept per new item.
const CANDIDATES: usize = 30;
/// Newest postings read per query word.
const POSTINGS_PER_WORD: usize = 300;
/// A stored centroid's norm is recomputed (with fresh document frequencies) once the store
/// holds this many times the documents it was computed at. idf grows with the store: a norm
/// left at the weights of a tiny early store is too small for today's weights of the terms a
/// query shares, so early stories would score up to 1.0 against anything (hubs). Growth by a
/// quarter moves an idf by at most ln 1.25 ≈ 0.22; each story is refreshed O(log N) times.
const NORM_REFRESH_GROWTH: f64 = 1.25;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelateSettings {
    pub group_window: Duration,
    pub related_window: Duration,
    pub max_related: usize,
    /// Fill [`Relation::candidates`] (`newsdesk relate --explain`); the daemon has no use for
    /// them, so it does not work them out.
    pub explain: bool,
}

impl From<&RelatedConfig> for RelateSettings {
    fn from(c: &RelatedConfig) -> Self {
        RelateSettings {
            group_window: c.group_window.get(),
            related_window: c.window.get(),
            max_related: c.max,
            explain: false,
        }
    }
}

/// The settings of a default `[related]` (batch tools and benchmarks without a config).
impl Default for RelateSettings {
    fn default() -> Self {
        RelateSettings::from(&RelatedConfig::default())
    }
}

/// Where an item landed.
#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    pub story_id: StoryId,
    /// True when the item joined an existing story (other coverage of the same event).
    pub joined: bool,
    pub related: Vec<RelatedLink>,
    /// The stories the item could have joined, with what the decision weighed (only with
    /// [`RelateSettings::explain`]).
    pub candidates: Vec<MergeSignals>,
}

/// What an item's match with a story it could join looks like: the signals a same-event
/// decision can weigh (`newsdesk relate --explain` prints them, so a decision rule can be
/// fitted on labelled stories). Today's rule reads the cosine alone ([`merge_bar`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MergeSignals {
    pub story_id: StoryId,
    /// Cosine(item, story centroid).
    pub cosine: f64,
    /// Share of the item's names and numbers found in the centroid (0 without any).
    pub entity_share: f64,
    /// Items in the story.
    pub story_items: i64,
    /// Days since the story's last coverage, 0 to 3.
    pub gap_days: f64,
    /// The item's names and numbers.
    pub entities: usize,
    /// The item's distinct terms.
    pub item_terms: usize,
    /// Stories within the grouping window (counted up to a bound).
    pub competing: i64,
}

impl MergeSignals {
    fn of(scored: &Scored, item: &ItemRow, query: &Query, competing: i64) -> MergeSignals {
        let gap = scored
            .terms
            .updated
            .duration_until(item.published)
            .as_secs_f64()
            / 86_400.0;
        MergeSignals {
            story_id: scored.terms.story_id,
            cosine: scored.score,
            entity_share: scored.entity_share,
            entities: query.entities.len(),
            item_terms: query.masses.len(),
            story_items: scored.terms.items,
            gap_days: gap.clamp(0.0, 3.0),
            competing,
        }
    }
}

/// Term → mass (`1 + ln tf` for an item; summed over items for a story). Ordered by term, so
/// sums over it, the stored centroid and ties come out the same in every process (a hash map's
/// order changes with its per-process seed).
pub type Masses = BTreeMap<String, f64>;
/// Term → document frequency.
type Frequencies = HashMap<String, i64>;

/// `1 + ln tf` masses of an item: title stems [`TITLE_WEIGHT`] times, lead stems once.
pub fn item_masses(title: &str, text: &str) -> Masses {
    let mut counts = Masses::new();
    for stem in terms::content_stems(title_head(title)) {
        *counts.entry(stem).or_insert(0.0) += TITLE_WEIGHT;
    }
    for stem in terms::content_stems(&lead(text)) {
        *counts.entry(stem).or_insert(0.0) += 1.0;
    }
    counts.values_mut().for_each(|c| *c = 1.0 + c.ln());
    counts
}

/// Multiplies the masses of rare names and numbers by [`ENTITY_WEIGHT`]. Common names (a
/// head of state in every other article) describe a beat, not an event, so they keep their
/// plain weight.
fn boost_entities(masses: &mut Masses, entities: &HashSet<String>, df: &Frequencies, docs: i64) {
    let boost = ENTITY_WEIGHT;
    let rare = (docs as f64 * ENTITY_RARE).max(2.0);
    for stem in entities {
        let common = df.get(stem).is_some_and(|&d| d as f64 > rare);
        if let Some(m) = masses.get_mut(stem)
            && !common
        {
            *m *= boost;
        }
    }
}

/// Stems of the words that name something: capitalized words of the lead that do not open a
/// sentence (headline capitalization says nothing), and numbers anywhere.
fn entity_stems(title: &str, text: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    for w in terms::words(title_head(title)) {
        if w.chars().any(|c| c.is_ascii_digit()) {
            out.insert(terms::stem(&w));
        }
    }
    let lead = lead(text);
    let mut sentence_start = true;
    for raw in lead.split_whitespace() {
        let core = raw.trim_start_matches(|c: char| !c.is_alphanumeric());
        let capitalized = core.chars().next().is_some_and(char::is_uppercase);
        let numeric = core.chars().any(|c| c.is_ascii_digit());
        if (capitalized && !sentence_start) || numeric {
            for w in terms::words(core) {
                if w.chars().count() > 1 && !terms::is_stopword(&w) {
                    out.insert(terms::stem(&w));
                }
            }
        }
        sentence_start = raw.ends_with(['.', '!', '?', ':', '"', '\u{201d}']);
    }
    out
}

/// The first [`LEAD_WORDS`] words of the text, read from at most [`LEAD_CHARS`] characters.
fn lead(text: &str) -> String {
    terms::head(text, LEAD_CHARS)
        .split_whitespace()
        .take(LEAD_WORDS)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The part of a title that is read: at most [`TITLE_CHARS`] characters.
fn title_head(title: &str) -> &str {
    terms::head(title, TITLE_CHARS)
}

fn idf(df: i64, docs: i64) -> f64 {
    ((docs as f64 + 1.0) / (df.max(0) as f64 + 1.0)).ln() + 1.0
}

/// Length of a mass vector once weighted by idf (`df` per term, `docs` documents).
pub fn norm_of(masses: &Masses, df: &HashMap<String, i64>, docs: i64) -> f64 {
    masses
        .iter()
        .map(|(t, m)| {
            let w = m * idf(df.get(t).copied().unwrap_or(0), docs);
            w * w
        })
        .sum::<f64>()
        .sqrt()
}

/// Centroid terms as stored: `stem\tmass\tdf` lines (`df` as of writing).
pub fn encode_centroid(masses: &Masses, df: &HashMap<String, i64>) -> String {
    let mut out = String::with_capacity(masses.len() * 16);
    for (t, m) in masses {
        let d = df.get(t).copied().unwrap_or(0);
        out.push_str(&format!("{t}\t{m:.4}\t{d}\n"));
    }
    out
}

/// Reads [`encode_centroid`] output into masses and the stored frequencies. Lines written
/// before frequencies were stored (`stem\tmass`) give a mass only; malformed lines are skipped.
pub fn decode_centroid(text: &str) -> (Masses, Frequencies) {
    let mut masses = Masses::new();
    let mut df = Frequencies::new();
    for line in text.lines() {
        let mut fields = line.split('\t');
        let (Some(t), Some(m)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Ok(m) = m.parse::<f64>() else { continue };
        if let Some(d) = fields.next().and_then(|d| d.parse::<i64>().ok()) {
            df.insert(t.to_string(), d);
        }
        masses.insert(t.to_string(), m);
    }
    (masses, df)
}

/// The item as seen by grouping: masses, idf-weighted and normalized.
struct Query {
    masses: Masses,
    weights: BTreeMap<String, f64>,
    /// The item's name and number stems ([`entity_stems`]) among its masses.
    entities: HashSet<String>,
}

/// How an item matches a story's centroid.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Match {
    cosine: f64,
    /// Share of the item's names and numbers that the centroid holds.
    entity_share: f64,
}

impl Query {
    fn new(masses: Masses, entities: &HashSet<String>, df: &Frequencies, docs: i64) -> Query {
        let norm = norm_of(&masses, df, docs);
        let entities = entities
            .iter()
            .filter(|e| masses.contains_key(*e))
            .cloned()
            .collect();
        let weights = masses
            .iter()
            .map(|(t, m)| {
                let w = m * idf(df.get(t).copied().unwrap_or(0), docs);
                (t.clone(), if norm > 0.0 { w / norm } else { 0.0 })
            })
            .collect();
        Query {
            masses,
            weights,
            entities,
        }
    }

    /// Cosine with a stored centroid, read in place: its `norm` was computed from the stored
    /// frequencies when it was written, so only the lines of terms the query shares are parsed
    /// (a few of a centroid's hundreds), each weighted with the query's fresh frequency.
    /// `None` when the centroid was written without frequencies (by an older version).
    fn cosine_stored(
        &self,
        centroid: &str,
        norm: f64,
        df: &Frequencies,
        docs: i64,
    ) -> Option<Match> {
        let Some(first) = centroid.lines().next() else {
            return Some(Match::default());
        };
        if first.split('\t').count() < 3 {
            return None;
        }
        if norm <= 0.0 {
            return Some(Match::default());
        }
        let mut dot = 0.0;
        let mut shared_entities = 0;
        for line in centroid.lines() {
            let Some((t, rest)) = line.split_once('\t') else {
                continue;
            };
            let Some(q) = self.weights.get(t) else {
                continue;
            };
            let Some((m, d)) = rest.split_once('\t') else {
                continue;
            };
            let (Ok(m), Ok(d)) = (m.parse::<f64>(), d.parse::<i64>()) else {
                continue;
            };
            dot += q * m * idf(df.get(t).copied().unwrap_or(d), docs);
            if !self.entities.is_empty() {
                shared_entities += usize::from(self.entities.contains(t));
            }
        }
        Some(Match {
            cosine: (dot / norm).min(1.0),
            entity_share: self.entity_share(shared_entities),
        })
    }

    /// Cosine with decoded masses whose norm is `norm`.
    fn cosine(&self, centroid: &Masses, norm: f64, df: &Frequencies, docs: i64) -> Match {
        if norm <= 0.0 {
            return Match::default();
        }
        let dot: f64 = self
            .weights
            .iter()
            .filter_map(|(t, w)| {
                let m = centroid.get(t)?;
                Some(w * m * idf(df.get(t).copied().unwrap_or(0), docs))
            })
            .sum();
        Match {
            cosine: (dot / norm).min(1.0),
            entity_share: self.entity_share(
                self.entities
                    .iter()
                    .filter(|e| centroid.contains_key(*e))
                    .count(),
            ),
        }
    }

    fn entity_share(&self, shared: usize) -> f64 {
        shared as f64 / self.entities.len().max(1) as f64
    }
}

/// A candidate story and how well the item matches it.
struct Scored {
    terms: StoryTerms,
    score: f64,
    entity_share: f64,
}

/// What grouping reads from an item's own words. It needs no store, so it can be worked out
/// on any core ahead of the item's turn at the store (see [`relate_prepared`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ItemTerms {
    masses: Masses,
    /// Stems of the names and numbers ([`entity_stems`]).
    entities: HashSet<String>,
    /// The title and lead words that may be sent to the index, as (stem, surface word), the
    /// first word of each stem only, in text order.
    words: Vec<(String, String)>,
}

impl ItemTerms {
    pub fn new(title: &str, text: &str) -> ItemTerms {
        let lead = lead(text);
        let mut stems = HashSet::new();
        let words = terms::words(title_head(title))
            .chain(terms::words(&lead))
            .filter(|w| w.chars().count() > 2 && !terms::is_stopword(w))
            .filter_map(|w| {
                let stem = terms::stem(&w);
                stems.insert(stem.clone()).then_some((stem, w))
            })
            .collect();
        ItemTerms {
            masses: item_masses(title, text),
            entities: entity_stems(title, text),
            words,
        }
    }
}

/// Assigns `item` (already stored, text known) to a story, updates the story's centroid and
/// Related list, and records the item's terms for future weighting.
pub fn relate_item(
    store: &mut Store,
    item: &ItemRow,
    text: &str,
    settings: &RelateSettings,
) -> Result<Relation, StoreError> {
    relate_prepared(store, item, &ItemTerms::new(&item.title, text), settings)
}

/// [`relate_item`] with the item's terms already worked out.
pub fn relate_prepared(
    store: &mut Store,
    item: &ItemRow,
    terms: &ItemTerms,
    settings: &RelateSettings,
) -> Result<Relation, StoreError> {
    store.atomically(|store| relate_in_transaction(store, item, terms, settings))
}

fn relate_in_transaction(
    store: &mut Store,
    item: &ItemRow,
    terms: &ItemTerms,
    settings: &RelateSettings,
) -> Result<Relation, StoreError> {
    let docs = store.document_count()?;
    let mut masses = terms.masses.clone();
    let df = store.document_frequencies(masses.keys().map(String::as_str))?;
    boost_entities(&mut masses, &terms.entities, &df, docs);
    // Without `explain` the entities are not looked at: no entity share is worked out.
    let no_entities = HashSet::new();
    let entities = if settings.explain {
        &terms.entities
    } else {
        &no_entities
    };
    let query = Query::new(masses, entities, &df, docs);

    let same_url = match &item.url {
        Some(url) => story_of_same_url(store, url, item.id)?,
        None => None,
    };
    let reach = Reach::new(item, settings, same_url);
    let scored = score_candidates(store, item, terms, &query, &df, docs, &reach)?;

    let group_window = reach.group_window;
    let competing = store.stories_within(item.published, group_window, COMPETING_COUNTED)?;
    let bar = merge_bar(competing);
    let joinable = || {
        scored
            .iter()
            .filter(|s| within(item.published, &s.terms, group_window))
    };
    let best_merge = joinable()
        .filter(|s| s.score >= bar)
        .max_by(|a, b| a.score.total_cmp(&b.score))
        .map(|s| s.terms.story_id);
    let candidates = if settings.explain {
        joinable()
            .map(|s| MergeSignals::of(s, item, &query, competing))
            .collect()
    } else {
        Vec::new()
    };

    let (story_id, joined) = match same_url.or(best_merge) {
        Some(story) => {
            store.attach_to_story(item.id, story)?;
            (story, true)
        }
        None => (store.create_story(item.id)?, false),
    };
    let own = scored.iter().find(|s| s.terms.story_id == story_id);
    update_centroid(store, story_id, own, &query, df, docs)?;
    store.add_document_terms(query.masses.keys().map(String::as_str))?;

    let related = update_related(
        store,
        item,
        story_id,
        joined,
        &scored,
        &reach,
        settings.max_related,
    )?;
    tracing::debug!(item = %item.id, %story_id, joined, "related item");
    Ok(Relation {
        story_id,
        joined,
        related,
        candidates,
    })
}

/// The cosine an item needs to join a story when `competing` stories lie within the grouping
/// window: [`SPARSE_MERGE_BAR`] + [`MERGE_BAR_SLOPE`] · ln(1 + competing), at most
/// [`MERGE_THRESHOLD`].
pub fn merge_bar(competing: i64) -> f64 {
    (SPARSE_MERGE_BAR + MERGE_BAR_SLOPE * (1.0 + competing.max(0) as f64).ln()).min(MERGE_THRESHOLD)
}

/// Whether `at` lies within `window` of the story's coverage span.
fn within(at: Timestamp, story: &StoryTerms, window: SignedDuration) -> bool {
    let after_start = story.published.duration_until(at) >= -window;
    let before_end = story.updated.duration_until(at) <= window;
    after_start && before_end
}

/// The stories an item can be grouped with or relate to, by their coverage span alone.
struct Reach {
    at: Timestamp,
    group_window: SignedDuration,
    /// The Related window's start.
    earliest: Timestamp,
    /// The story of an item with the same URL, joined whatever its span.
    same_url: Option<StoryId>,
}

impl Reach {
    fn new(item: &ItemRow, settings: &RelateSettings, same_url: Option<StoryId>) -> Reach {
        let related_window =
            SignedDuration::try_from(settings.related_window).unwrap_or(SignedDuration::MAX);
        Reach {
            at: item.published,
            group_window: SignedDuration::try_from(settings.group_window)
                .unwrap_or(SignedDuration::MAX),
            // A window reaching past the calendar's start bounds nothing.
            earliest: item
                .published
                .checked_sub(related_window)
                .unwrap_or(Timestamp::MIN),
            same_url,
        }
    }

    /// Whether the story may be joined (within the grouping window) or listed as Related
    /// (begun within the Related window, no later than the item): the conditions
    /// [`relate_in_transaction`] and [`update_related`] apply to a scored story.
    fn covers(&self, story: &StoryTerms) -> bool {
        self.same_url == Some(story.story_id)
            || within(self.at, story, self.group_window)
            || (story.published >= self.earliest && story.published <= self.at)
    }
}

/// Candidate stories from the index, scored against their centroids. A candidate out of the
/// item's [`Reach`] could change nothing, so it is passed over unscored: an old story shares
/// rare words with new items as much as a recent one does, and scoring it may mean weighing
/// its whole centroid again at today's document frequencies.
fn score_candidates(
    store: &mut Store,
    item: &ItemRow,
    terms: &ItemTerms,
    query: &Query,
    df: &Frequencies,
    docs: i64,
    reach: &Reach,
) -> Result<Vec<Scored>, StoreError> {
    let items = candidate_items(store, item, terms, df, docs)?;
    let stories = store.stories_of_items(&items)?;
    let mut out = Vec::with_capacity(stories.len());
    for mut terms in store.story_terms(&stories)? {
        if !reach.covers(&terms) {
            continue;
        }
        let stale = docs as f64 > terms.norm_docs as f64 * NORM_REFRESH_GROWTH;
        let stored = if stale {
            None
        } else {
            query.cosine_stored(&terms.terms, terms.norm, df, docs)
        };
        let found = match stored {
            Some(found) => found,
            None => {
                // Weighted at a much smaller store (or written before centroids kept their
                // frequencies): weigh it again at today's.
                let (masses, _) = decode_centroid(&terms.terms);
                let all = store.document_frequencies(masses.keys().map(String::as_str))?;
                terms.terms = encode_centroid(&masses, &all);
                terms.norm = norm_of(&masses, &all, docs);
                terms.norm_docs = docs;
                store.set_story_terms(&terms)?;
                query.cosine(&masses, terms.norm, df, docs)
            }
        };
        out.push(Scored {
            terms,
            score: found.cosine,
            entity_share: found.entity_share,
        });
    }
    Ok(out)
}

/// Adds the item's masses to its story's centroid, keeps the heaviest terms, stores it.
fn update_centroid(
    store: &mut Store,
    story_id: StoryId,
    own: Option<&Scored>,
    query: &Query,
    mut df: Frequencies,
    docs: i64,
) -> Result<(), StoreError> {
    let stored = match own {
        Some(s) => Some(s.terms.clone()),
        // A story joined by URL alone may not have been a candidate.
        None => store.story_terms(&[story_id])?.into_iter().next(),
    };
    let (mut masses, stored_df) = stored
        .as_ref()
        .map(|t| decode_centroid(&t.terms))
        .unwrap_or_default();
    for (t, m) in &query.masses {
        *masses.entry(t.clone()).or_insert(0.0) += m;
    }
    // The query's frequencies are fresh; the story's other terms keep their stored ones.
    for (t, d) in stored_df {
        df.entry(t).or_insert(d);
    }
    let missing: Vec<&str> = masses
        .keys()
        .filter(|t| !df.contains_key(*t))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        let extra = store.document_frequencies(missing)?;
        df.extend(extra);
    }
    if masses.len() > CENTROID_TERMS {
        let mut ranked: Vec<(String, f64)> = masses.into_iter().collect();
        let weight = |(t, m): &(String, f64)| m * idf(df.get(t).copied().unwrap_or(0), docs);
        // Heaviest first; equal weights by term, so the same terms are kept in every run.
        ranked.sort_by(|a, b| weight(b).total_cmp(&weight(a)).then_with(|| a.0.cmp(&b.0)));
        ranked.truncate(CENTROID_TERMS);
        masses = ranked.into_iter().collect();
    }
    // Round as stored, so the stored norm is exactly that of the stored lines.
    masses
        .values_mut()
        .for_each(|m| *m = (*m * 1e4).round() / 1e4);
    let items = stored.as_ref().map_or(0, |t| t.items);
    let terms = StoryTerms {
        story_id,
        terms: encode_centroid(&masses, &df),
        norm: norm_of(&masses, &df, docs),
        norm_docs: docs,
        items: items + 1,
        published: Timestamp::UNIX_EPOCH,
        updated: Timestamp::UNIX_EPOCH,
    };
    store.set_story_terms(&terms)
}

/// Merges this item's view of Related stories into its story's list and stores it.
fn update_related(
    store: &mut Store,
    item: &ItemRow,
    story_id: StoryId,
    joined: bool,
    scored: &[Scored],
    reach: &Reach,
    max_related: usize,
) -> Result<Vec<RelatedLink>, StoreError> {
    // Related is earlier coverage: stories that began before this one. A story that began
    // after it is later news (or another fragment of the same event), not background.
    let start = scored
        .iter()
        .find(|s| s.terms.story_id == story_id)
        .map_or(item.published, |s| s.terms.published.min(item.published));
    let mut best: HashMap<StoryId, (f64, Timestamp)> = HashMap::new();
    for s in scored {
        let t = &s.terms;
        if t.story_id != story_id
            && s.score >= RELATED_THRESHOLD
            && t.published <= start
            && t.published >= reach.earliest
        {
            best.insert(t.story_id, (s.score, t.published));
        }
    }
    if joined {
        for link in store.related_of(story_id)? {
            if link.story_id == story_id {
                continue;
            }
            match best.get_mut(&link.story_id) {
                Some(entry) => entry.0 = entry.0.max(link.score),
                None => {
                    let published = store.story(link.story_id)?.published;
                    best.insert(link.story_id, (link.score, published));
                }
            }
        }
    }
    let mut ranked: Vec<(f64, Timestamp, StoryId)> = best
        .into_iter()
        .map(|(s, (score, p))| (score, p, s))
        .collect();
    // Best first; among equal scores the newer story first, then the newer id.
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)).then(b.2.cmp(&a.2)));
    let floor = ranked.first().map_or(0.0, |best| best.0 * RELATIVE_FLOOR);
    let related: Vec<RelatedLink> = ranked
        .into_iter()
        .take_while(|(score, _, _)| *score >= floor)
        .take(max_related)
        .map(|(score, _, story_id)| RelatedLink { story_id, score })
        .collect();
    store.set_related(story_id, &related)?;
    Ok(related)
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

/// Earlier indexed items sharing the item's rarest words, found through the full-text index.
fn candidate_items(
    store: &Store,
    item: &ItemRow,
    terms: &ItemTerms,
    df: &Frequencies,
    docs: i64,
) -> Result<Vec<ItemId>, StoreError> {
    // Query with surface words (FTS applies its own stemmer), rarest stems first.
    let mut words: Vec<(i64, String)> = terms
        .words
        .iter()
        .map(|(stem, w)| (df.get(stem).copied().unwrap_or(0), w.clone()))
        // A word no earlier document has cannot find a candidate; a very common one has a
        // long posting list and says little about the event.
        .filter(|(df, _)| *df > 0 && *df <= QUERY_MAX_DF)
        .collect();
    words.sort();
    // Every posting read costs, so the words' summed document frequencies bound the work:
    // the rarest words go first until the budget is spent.
    let mut postings = 0;
    let chosen = words
        .into_iter()
        .take(QUERY_TERMS)
        .enumerate()
        .take_while(|(n, (df, _))| {
            postings += df;
            *n < QUERY_MIN_TERMS || postings <= QUERY_POSTINGS
        })
        .map(|(_, word)| word);
    let mut shared: HashMap<ItemId, f64> = HashMap::new();
    for (df, word) in chosen {
        let weight = idf(df, docs);
        for id in store.items_with_word(&word, POSTINGS_PER_WORD)? {
            if id != item.id {
                *shared.entry(id).or_insert(0.0) += weight;
            }
        }
    }
    let mut ranked: Vec<(f64, ItemId)> = shared.into_iter().map(|(id, w)| (w, id)).collect();
    // Most shared weight first; among equals the newer item.
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
    Ok(ranked
        .into_iter()
        .take(CANDIDATES)
        .map(|(_, id)| id)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_merge_bar_rises_with_competition_to_the_full_threshold() {
        assert!((merge_bar(0) - SPARSE_MERGE_BAR).abs() < 1e-12);
        let bars: Vec<f64> = (0..=COMPETING_COUNTED).map(merge_bar).collect();
        assert!(bars.windows(2).all(|w| w[0] <= w[1]), "{bars:?}");
        assert!(
            merge_bar(4) < 0.25,
            "a quiet window asks less: {}",
            merge_bar(4)
        );
        assert_eq!(merge_bar(30), MERGE_THRESHOLD);
        assert_eq!(merge_bar(COMPETING_COUNTED), MERGE_THRESHOLD);
        assert_eq!(merge_bar(-5), merge_bar(0));
    }

    #[test]
    fn centroid_round_trip() {
        let m = item_masses("Quake hits Lima", "A strong quake hit Lima on Monday.");
        let df: Frequencies = m.keys().map(|t| (t.clone(), 7)).collect();
        let (back, back_df) = decode_centroid(&encode_centroid(&m, &df));
        assert_eq!(back.len(), m.len());
        for (t, v) in &m {
            assert!((back[t] - v).abs() < 1e-3, "{t}");
            assert_eq!(back_df[t], 7);
        }
    }

    #[test]
    fn malformed_centroid_lines_are_skipped_and_old_lines_have_no_frequency() {
        let (m, df) = decode_centroid("quak\t1.5\nbad line\nlima\tx\t3\nperu\t2.0\t4\n");
        assert_eq!(m.len(), 2);
        assert_eq!(df.len(), 1);
        assert_eq!(df["peru"], 4);
    }

    #[test]
    fn stored_centroid_scores_like_decoded_masses() {
        let m = item_masses("Quake hits Lima", "A strong quake hit Lima on Monday.");
        let df: Frequencies = m.keys().map(|t| (t.clone(), 3)).collect();
        let (title, text) = ("Lima quake", "Quake in Lima and Cusco.");
        let entities = entity_stems(title, text);
        let query = Query::new(item_masses(title, text), &entities, &df, 100);
        let stored = query
            .cosine_stored(&encode_centroid(&m, &df), norm_of(&m, &df, 100), &df, 100)
            .unwrap_or_default();
        let decoded = query.cosine(&m, norm_of(&m, &df, 100), &df, 100);
        assert!(
            stored.cosine > 0.3 && (stored.cosine - decoded.cosine).abs() < 1e-3,
            "{stored:?} vs {decoded:?}"
        );
        // Lima is in the centroid, Cusco is not.
        assert_eq!(query.entities.len(), 2, "{entities:?}");
        assert_eq!(stored.entity_share, 0.5);
        assert_eq!(decoded.entity_share, 0.5);
        // An older centroid without frequencies cannot be scored in place.
        assert_eq!(query.cosine_stored("quak\t1.5\n", 1.0, &df, 100), None);
    }

    #[test]
    fn rare_terms_outweigh_common_ones() {
        assert!(idf(1, 1000) > idf(500, 1000));
    }
}
