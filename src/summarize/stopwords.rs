//! Stop words for sentence similarity: the shared list in [`crate::terms`] plus words that are
//! common in news prose (reporting verbs, contraction fragments, vague quantities) and so say
//! nothing about which sentences belong together.

/// Words beyond [`crate::terms::is_stopword`]'s list.
const NEWS_STOP_WORDS: &[&str] = &[
    "according",
    "around",
    "back",
    "couldn",
    "d",
    "didn",
    "doesn",
    "don",
    "even",
    "ever",
    "first",
    "get",
    "got",
    "isn",
    "last",
    "like",
    "ll",
    "m",
    "made",
    "make",
    "many",
    "much",
    "re",
    "s",
    "say",
    "shouldn",
    "since",
    "still",
    "t",
    "three",
    "time",
    "told",
    "ve",
    "wasn",
    "way",
    "well",
    "weren",
    "whose",
    "won",
    "wouldn",
    "yet",
    "yourselves",
];

pub(super) fn is_stop_word(word: &str) -> bool {
    crate::terms::is_stopword(word) || NEWS_STOP_WORDS.contains(&word)
}
