//! Extractive summaries.
//!
//! Sentences are ranked by how central they are (summed similarity to the other sentences, over
//! stemmed content words) and how much they share with the title, weighted by position because
//! news puts the essentials first. The best ones not redundant with those already chosen are kept
//! within the sentence and character budgets, then put back in article order.
//!
//! The work is linear in the text read, and the text read is bounded ([`MAX_READ_CHARS`]):
//! centrality comes from one sum of all sentence vectors rather than from every pair, and term
//! vectors are sorted, so sums run in the same order in every process (same input, same summary).

pub mod llm;
mod segment;
mod stopwords;

use std::collections::{BTreeMap, HashMap};

use rust_stemmers::{Algorithm, Stemmer};

use crate::config::SummarizerConfig;

pub use segment::split_sentences;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryOptions {
    /// Maximum number of sentences.
    pub sentences: usize,
    /// Maximum characters (not bytes) of the whole summary.
    pub max_chars: usize,
}

impl From<&SummarizerConfig> for SummaryOptions {
    fn from(c: &SummarizerConfig) -> Self {
        SummaryOptions {
            sentences: c.sentences,
            max_chars: c.max_chars,
        }
    }
}

/// Characters of a gist: two lines on a phone. Chosen on the summary set's `tune` part as the
/// longest budget whose gists are, on average, no longer in words than the article's first
/// sentence (Lead-1, the baseline a one-sentence summary is judged against).
pub const GIST_MAX_CHARS: usize = 160;

/// The options of a default `[summarizer]` (batch tools and benchmarks without a config).
impl Default for SummaryOptions {
    fn default() -> Self {
        SummaryOptions::from(&SummarizerConfig::default())
    }
}

/// A chosen sentence this similar to an earlier choice adds nothing.
const REDUNDANT_SIMILARITY: f64 = 0.5;
/// Sentences with fewer content words are fragments (captions, datelines, "Scroll down").
const MIN_CONTENT_WORDS: usize = 4;
/// How fast the position prior decays with the sentence index.
const POSITION_DECAY: f64 = 0.25;
/// Sentence length (characters) at which the length discount reaches 1/√2.
const LENGTH_SCALE: f64 = 150.0;
/// Weight of title overlap beside centrality.
const TITLE_WEIGHT: f64 = 1.0;
/// Characters of the text the summarizer reads: news puts the essentials first, and the position
/// prior gives sentences this deep no chance. About 15,000 words, twice the longest article of
/// the evaluation sets (53,000 characters), so whole articles are read; a longer text is
/// summarized from its head.
pub const MAX_READ_CHARS: usize = 100_000;
/// Characters of the title read (headlines are a line; a feed may put anything there).
pub const MAX_TITLE_CHARS: usize = 1_000;

/// Stemmed content words with their counts, sorted by term.
type Terms = Vec<(String, f64)>;

struct Sentence {
    text: String,
    terms: Terms,
    norm: f64,
}

/// A summary of `text` made of whole sentences from it, in article order.
pub fn summarize(title: Option<&str>, text: &str, opts: SummaryOptions) -> String {
    if opts.sentences == 0 || opts.max_chars == 0 {
        return String::new();
    }
    let mut stems = Stems::new();
    let sentences: Vec<Sentence> = split_sentences(crate::terms::head(text, MAX_READ_CHARS))
        .into_iter()
        .map(|s| {
            let terms = stems.term_weights(&s);
            let norm = norm_of(&terms);
            Sentence {
                text: s,
                terms,
                norm,
            }
        })
        .collect();
    if sentences.is_empty() {
        return String::new();
    }
    let title_terms = title.map(|t| stems.term_weights(crate::terms::head(t, MAX_TITLE_CHARS)));
    let scores = rank(&sentences, title_terms.as_ref());
    let chosen = choose(&sentences, &scores, opts);
    if chosen.is_empty() {
        // Not even the first sentence fits: cut it at a word boundary.
        let first = sentences
            .iter()
            .find(|s| !s.terms.is_empty())
            .or(sentences.first());
        return first.map_or_else(String::new, |s| truncate_words(&s.text, opts.max_chars));
    }
    chosen
        .iter()
        .filter_map(|i| sentences.get(*i).map(|s| s.text.as_str()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The gist of `text`: the one sentence that best stands for the article (digests, Related
/// lines, the top of a story page), cut at a word when longer than [`GIST_MAX_CHARS`]. A long
/// best sentence cut short still says more than a shorter, weaker one ("Without them, …").
pub fn gist(title: Option<&str>, text: &str) -> String {
    let best = summarize(
        title,
        text,
        SummaryOptions {
            sentences: 1,
            max_chars: usize::MAX,
        },
    );
    truncate_words(&best, GIST_MAX_CHARS)
}

/// The terms of words, each distinct word stemmed once: a long text repeats most of its words.
struct Stems {
    stemmer: Stemmer,
    /// Word as written → its stem, or `None` for a word that is no term (stop word, number).
    known: HashMap<String, Option<String>>,
}

impl Stems {
    fn new() -> Stems {
        Stems {
            stemmer: Stemmer::create(Algorithm::English),
            known: HashMap::new(),
        }
    }

    /// Stemmed content words of a sentence with their counts, sorted by term.
    fn term_weights(&mut self, text: &str) -> Terms {
        let mut terms = BTreeMap::new();
        for word in text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            if !self.known.contains_key(word) {
                let lower = word.to_lowercase();
                let term = (!stopwords::is_stop_word(&lower)
                    && !lower.chars().all(|c| c.is_ascii_digit()))
                .then(|| self.stemmer.stem(&lower).into_owned());
                self.known.insert(word.to_string(), term);
            }
            if let Some(Some(term)) = self.known.get(word) {
                *terms.entry(term.clone()).or_insert(0.0) += 1.0;
            }
        }
        terms.into_iter().collect()
    }
}

fn norm_of(terms: &Terms) -> f64 {
    terms.iter().map(|(_, w)| w * w).sum::<f64>().sqrt()
}

/// Dot product of two sorted term vectors, summed in term order.
fn dot(a: &Terms, b: &Terms) -> f64 {
    let (mut i, mut j, mut sum) = (0, 0, 0.0);
    while let (Some((ta, wa)), Some((tb, wb))) = (a.get(i), b.get(j)) {
        match ta.cmp(tb) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                sum += wa * wb;
                i += 1;
                j += 1;
            }
        }
    }
    sum
}

fn cosine(a: &Terms, a_norm: f64, b: &Terms, b_norm: f64) -> f64 {
    if a_norm == 0.0 || b_norm == 0.0 {
        return 0.0;
    }
    dot(a, b) / (a_norm * b_norm)
}

/// Summed cosine of each sentence with every other one, in one pass: with unit vectors `u`,
/// `Σ_{j≠i} u_i·u_j = u_i·(Σ_j u_j) − u_i·u_i`, so one sum of all vectors replaces the pairs.
fn centrality(sentences: &[Sentence]) -> Vec<f64> {
    // Only looked up, never iterated: each entry is summed in sentence order, each product in
    // term order, so the hash order changes nothing.
    let mut total: HashMap<&str, f64> = HashMap::new();
    for s in sentences.iter().filter(|s| s.norm > 0.0) {
        for (t, w) in &s.terms {
            *total.entry(t.as_str()).or_insert(0.0) += w / s.norm;
        }
    }
    sentences
        .iter()
        .map(|s| {
            if s.norm == 0.0 {
                return 0.0;
            }
            let (with_all, with_self) = s.terms.iter().fold((0.0, 0.0), |(all, own), (t, w)| {
                let u = w / s.norm;
                (all + u * total.get(t.as_str()).unwrap_or(&0.0), own + u * u)
            });
            (with_all - with_self).max(0.0)
        })
        .collect()
}

/// Score per sentence: (centrality + title overlap) × position prior; furniture scores below zero.
fn rank(sentences: &[Sentence], title: Option<&Terms>) -> Vec<f64> {
    let centrality = centrality(sentences);
    let max_centrality = centrality.iter().copied().fold(0.0, f64::max);
    let title_norm = title.map_or(0.0, norm_of);
    sentences
        .iter()
        .zip(&centrality)
        .enumerate()
        .map(|(i, (s, c))| {
            if looks_like_furniture(&s.text) {
                return -1.0;
            }
            let position = 1.0 / (1.0 + POSITION_DECAY * i as f64);
            let content_words: f64 = s.terms.iter().map(|(_, w)| w).sum();
            if content_words < MIN_CONTENT_WORDS as f64 {
                // Kept only when nothing better is left (very short texts).
                return 1e-6 * position;
            }
            let central = if max_centrality > 0.0 {
                c / max_centrality
            } else {
                0.0
            };
            let title_sim = title.map_or(0.0, |t| cosine(&s.terms, s.norm, t, title_norm));
            // Long sentences win on summed similarity alone; a mild length discount keeps the
            // summary as short as the lead it competes with.
            let length = 1.0 / (1.0 + s.text.chars().count() as f64 / LENGTH_SCALE).sqrt();
            (0.2 + central + TITLE_WEIGHT * title_sim) * position * length
        })
        .collect()
}

/// Sentences that are page furniture caught in the text (bylines, timestamps, prompts).
fn looks_like_furniture(text: &str) -> bool {
    let lower = text.to_lowercase();
    const MARKERS: &[&str] = &[
        "scroll down for",
        "click here",
        "published:",
        "updated:",
        "last updated",
        "follow us on",
        "sign up for",
        "subscribe to",
        "all rights reserved",
        "read more:",
    ];
    MARKERS.iter().any(|m| lower.contains(m)) || lower.starts_with("by ")
}

/// Indexes of the chosen sentences, in article order.
fn choose(sentences: &[Sentence], scores: &[f64], opts: SummaryOptions) -> Vec<usize> {
    let mut order: Vec<usize> = (0..sentences.len()).collect();
    order.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]).then(a.cmp(b)));
    let mut chosen: Vec<usize> = Vec::new();
    let mut used_chars = 0usize;
    for i in order {
        if chosen.len() >= opts.sentences || scores[i] < 0.0 {
            break;
        }
        let s = &sentences[i];
        let len = s.text.chars().count() + usize::from(!chosen.is_empty());
        if used_chars + len > opts.max_chars {
            continue;
        }
        let redundant = chosen.iter().any(|j| {
            let o = &sentences[*j];
            cosine(&s.terms, s.norm, &o.terms, o.norm) > REDUNDANT_SIMILARITY
        });
        if redundant {
            continue;
        }
        used_chars += len;
        chosen.push(i);
    }
    chosen.sort_unstable();
    chosen
}

/// The longest prefix of `text` ending at a word boundary that fits `max_chars` with "…".
fn truncate_words(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let budget = max_chars.saturating_sub(1);
    let mut cut = 0usize;
    for (count, (byte, c)) in text.char_indices().enumerate() {
        if count > budget {
            break;
        }
        if c.is_whitespace() {
            cut = byte;
        }
    }
    // A clause mark left before the ellipsis reads as a typo ("funding,…").
    let head = text
        .get(..cut)
        .unwrap_or_default()
        .trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '–' | '—'));
    if head.is_empty() {
        let hard: String = text.chars().take(budget).collect();
        return format!("{hard}…");
    }
    format!("{head}…")
}
