//! Finding stored stories: by words (full-text search), by article URL, by id. One module for
//! the slash commands (`/search`, `/related`) and the CLI (`search`, `related`).

use jiff::Timestamp;

use crate::store::{Store, StoreError, StoryId};

/// How many index hits are read to collect distinct stories.
const SEARCH_HITS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("the query has no words to search for")]
    NoWords,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An FTS5 expression requiring every word (or quoted phrase) of a user's query, with FTS5
/// syntax characters neutralized.
pub fn fts_all_of(query: &str) -> Option<String> {
    let mut parts = Vec::new();
    for (i, chunk) in query.split('"').enumerate() {
        let words: Vec<String> = crate::terms::words(chunk).collect();
        if words.is_empty() {
            continue;
        }
        if i % 2 == 1 {
            parts.push(format!("\"{}\"", words.join(" ")));
        } else {
            parts.extend(words.into_iter().map(|w| format!("\"{w}\"")));
        }
    }
    (!parts.is_empty()).then(|| parts.join(" AND "))
}

/// Stories with an item containing every word of `query` (published at or after `since`),
/// newest first, at most `limit`.
pub fn search_stories(
    store: &Store,
    query: &str,
    since: Option<Timestamp>,
    limit: usize,
) -> Result<Vec<StoryId>, LookupError> {
    let expr = fts_all_of(query).ok_or(LookupError::NoWords)?;
    let mut stories: Vec<(Timestamp, StoryId)> = Vec::new();
    for hit in store.search_items(&expr, SEARCH_HITS)? {
        let item = store.item(hit.item_id)?;
        let Some(story) = item.story_id else { continue };
        if since.is_some_and(|s| item.published < s) || stories.iter().any(|(_, id)| *id == story) {
            continue;
        }
        stories.push((store.story(story)?.published, story));
    }
    stories.sort_by_key(|s| std::cmp::Reverse(s.0));
    Ok(stories.into_iter().take(limit).map(|(_, id)| id).collect())
}

/// What an article URL leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlLookup {
    Story(StoryId),
    /// Stored, but not processed into a story yet.
    Unprocessed {
        canonical: String,
    },
    Unknown {
        canonical: String,
    },
    NotAUrl,
}

/// The story an article URL belongs to (the URL is canonicalized as stored items' are).
pub fn story_for_url(store: &Store, target: &str) -> Result<UrlLookup, StoreError> {
    let Some(canonical) = crate::normalize::canonical_url(target, None) else {
        return Ok(UrlLookup::NotAUrl);
    };
    Ok(match store.item_by_url(&canonical)? {
        Some(item) => match item.story_id {
            Some(story) => UrlLookup::Story(story),
            None => UrlLookup::Unprocessed { canonical },
        },
        None => UrlLookup::Unknown { canonical },
    })
}

/// Words of a URL's path (`/2026/11/science-agency-cuts-grants.html` → "science agency cuts
/// grants"), a fallback query for an article that is not stored.
pub fn words_of_url(url: &str) -> String {
    let path = url::Url::parse(url)
        .map(|u| u.path().to_string())
        .unwrap_or_default();
    let words: Vec<String> = crate::terms::words(&path.replace(['-', '_', '/', '.'], " "))
        .filter(|w| {
            w.chars().any(char::is_alphabetic)
                && !matches!(w.as_str(), "html" | "htm" | "php" | "aspx")
        })
        .collect();
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_queries_cannot_inject_fts_syntax() {
        assert_eq!(
            fts_all_of("NSF budget").as_deref(),
            Some("\"nsf\" AND \"budget\"")
        );
        assert_eq!(
            fts_all_of("\"export controls\" china*").as_deref(),
            Some("\"export controls\" AND \"china\"")
        );
        assert_eq!(fts_all_of("\"\" ( OR"), Some("\"or\"".to_string()));
        assert_eq!(fts_all_of("  ***  "), None);
    }

    #[test]
    fn url_words_skip_numbers_and_extensions() {
        assert_eq!(
            words_of_url("https://example.org/2026/11/science-agency_cuts-grants.html"),
            "science agency cuts grants"
        );
        assert_eq!(words_of_url("not a url"), "");
    }
}
