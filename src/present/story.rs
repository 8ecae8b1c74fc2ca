//! A story as shown, in every output: plain values built once from the store
//! ([`super::build`]) and rendered by the adapters ([`super::embed`], [`super::markdown`], JSON
//! through serde).

use jiff::Timestamp;
use serde::Serialize;

use crate::store::StoryId;

/// One story as a reader sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoryView {
    pub story_id: StoryId,
    pub title: String,
    pub outlet: String,
    pub published: Timestamp,
    /// "Read original article": the lead item's web link, else the first outlet's that has one.
    pub url: Option<String>,
    /// The story's own page, when the pages are public (`[web] public_url`).
    pub page_url: Option<String>,
    /// The longer summary (a story page; a digest without story pages).
    pub summary: String,
    /// One sentence: digests with story pages, front pages, Related lines.
    pub gist: String,
    /// Other outlets reporting the same event, each with its link when it has one.
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

/// A story posted before, shown again because outlets not shown then have covered it since.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateView {
    pub story: StoryView,
    /// Only the outlets the channel has not been shown for this story, first published first.
    pub new_coverage: Vec<Coverage>,
}

impl Serialize for UpdateView {
    /// The story's fields with `"update": true` and `new_coverage`, so JSON readers see one
    /// flat entry marked as an update.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
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
    /// Its own page, when the pages are public.
    pub page_url: Option<String>,
    /// One line about it: its gist.
    pub line: String,
}
