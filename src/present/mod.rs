//! What a story shows, decided once. [`build`] reads a story from the store into a
//! [`StoryView`] (headline and "Read original article" link, outlet and time, summary, other
//! outlets with links, Related entries with one-liners, topics; [`UpdateView`] for a story shown
//! again); small adapters render it: [`embed`] for Discord (digests and command replies alike),
//! [`markdown`] for the terminal, JSON through serde. Every size comes from [`limits`]; the
//! escaping, cutting and date helpers from [`text`].

pub mod build;
pub mod embed;
pub mod limits;
pub mod markdown;
pub mod story;
pub mod text;

pub use build::{ViewSettings, story_view, update_view};
pub use embed::{Embed, Field, StoryEmbedStyle, story_embed, update_embed};
pub use story::{Coverage, RelatedView, StoryView, UpdateView};

/// Any view as one line of JSON (JSON Lines when several are printed).
pub fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn story(title: &str) -> StoryView {
        StoryView {
            story_id: crate::store::StoryId(1),
            title: title.into(),
            outlet: "Wire".into(),
            published: jiff::Timestamp::UNIX_EPOCH,
            url: None,
            page_url: None,
            summary: String::new(),
            gist: String::new(),
            also_covered_by: vec![Coverage {
                outlet: "Ledger".into(),
                title: "Other".into(),
                url: None,
            }],
            related: Vec::new(),
            topics: Vec::new(),
        }
    }

    /// An update is one flat entry marked as such, with the outlets it announces.
    #[test]
    fn json_marks_updates() {
        let old = story("Old one");
        let update = UpdateView {
            new_coverage: old.also_covered_by.clone(),
            story: old,
        };
        let value: serde_json::Value =
            serde_json::from_str(&json(&(story("New one"), update))).expect("json");
        assert!(value[0].get("update").is_none());
        assert_eq!(value[1]["update"], true);
        assert_eq!(value[1]["title"], "Old one");
        assert_eq!(value[1]["new_coverage"][0]["outlet"], "Ledger");
    }
}
