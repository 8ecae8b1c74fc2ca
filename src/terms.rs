//! Words for matching: lower-cased alphanumeric tokens, English stop words, Snowball stems.
//! Shared by every stage that compares texts, so they all agree on what a word is.

use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};

/// Lower-cased alphanumeric words of `text`, in order. Apostrophes inside words are dropped
/// ("agency's" → "agencys" is avoided: the possessive tail is cut).
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .filter(|w| !w.is_empty())
        .filter_map(|w| {
            let w = w.trim_matches(|c| c == '\'' || c == '’');
            let w = w
                .strip_suffix("'s")
                .or_else(|| w.strip_suffix("’s"))
                .unwrap_or(w);
            let lower: String = w
                .chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect();
            (!lower.is_empty()).then_some(lower)
        })
}

fn stemmer() -> &'static Stemmer {
    static STEMMER: OnceLock<Stemmer> = OnceLock::new();
    STEMMER.get_or_init(|| Stemmer::create(Algorithm::English))
}

/// Snowball (Porter2) English stem of a lower-cased word.
pub fn stem(word: &str) -> String {
    stemmer().stem(word).into_owned()
}

/// Stems of the content words of `text` (stop words and one-letter words removed).
pub fn content_stems(text: &str) -> impl Iterator<Item = String> + '_ {
    words(text)
        .filter(|w| w.chars().count() > 1 && !is_stopword(w))
        .map(|w| stem(&w))
}

/// The start of `text`: at most `max_chars` characters, cut before the word the limit falls in
/// (hard at the limit when the head has no whitespace). Stages that read a bounded prefix of a
/// text use this, so that their work stops growing with its length; reading it costs only the
/// head.
pub fn head(text: &str, max_chars: usize) -> &str {
    let Some((cut, next)) = text.char_indices().nth(max_chars) else {
        return text;
    };
    let hard = &text[..cut];
    if next.is_whitespace() {
        return hard;
    }
    match hard.rfind(char::is_whitespace) {
        Some(space) => &text[..space],
        None => hard,
    }
}

/// Common English function words that carry no topic.
pub fn is_stopword(word: &str) -> bool {
    STOPWORDS.binary_search(&word).is_ok()
}

// Sorted for binary search.
const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "may",
    "me",
    "might",
    "more",
    "most",
    "must",
    "my",
    "myself",
    "new",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "one",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "said",
    "same",
    "says",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "two",
    "under",
    "until",
    "up",
    "us",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "year",
    "years",
    "you",
    "your",
    "yours",
    "yourself",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopwords_are_sorted() {
        assert!(STOPWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn head_stops_at_the_limit_before_a_cut_word() {
        assert_eq!(head("short text", 100), "short text");
        assert_eq!(head("one two three", 7), "one two");
        assert_eq!(head("one two three", 6), "one");
        // No whitespace: cut on a character boundary.
        let wide = "é".repeat(20);
        assert_eq!(head(&wide, 8).chars().count(), 8);
        assert_eq!(head("", 0), "");
    }

    #[test]
    fn words_and_stems() {
        let w: Vec<String> = words("The agency's U.S.-China grant—funding!").collect();
        assert_eq!(w, ["the", "agency", "u", "s", "china", "grant", "funding"]);
        let s: Vec<String> = content_stems("Funding the agencies").collect();
        assert_eq!(s, ["fund", "agenc"]);
    }
}
