//! A story as markdown text, for the terminal (`related`, `search`): the same parts as its
//! embed, from the same [`StoryView`].

use super::embed::related_line;
use super::limits;
use super::story::StoryView;
use super::text::{escape_within, link, when};

/// Linked headline, outlet and time, summary, other coverage, Related list, topics.
pub fn story_block(story: &StoryView) -> String {
    let mut out = format!(
        "### {}\n{} · {}",
        link(&story.title, story.url.as_deref(), limits::EMBED_TITLE),
        escape_within(&story.outlet, limits::OUTLET),
        when(story.published)
    );
    if !story.summary.is_empty() {
        out.push('\n');
        out.push_str(&escape_within(&story.summary, limits::SUMMARY));
    }
    if !story.also_covered_by.is_empty() {
        let outlets: Vec<String> = story
            .also_covered_by
            .iter()
            .map(|c| link(&c.outlet, c.url.as_deref(), limits::OUTLET))
            .collect();
        out.push_str("\nAlso covered by: ");
        out.push_str(&outlets.join(", "));
    }
    if !story.related.is_empty() {
        out.push_str("\nRelated:");
        for r in &story.related {
            out.push('\n');
            out.push_str(&related_line(r));
        }
    }
    if !story.topics.is_empty() {
        out.push_str("\nTopics: ");
        out.push_str(&escape_within(&story.topics.join(", "), limits::TOPICS));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::present::{Coverage, RelatedView};

    #[test]
    fn a_hostile_story_is_neutralized_in_markdown() {
        let story = StoryView {
            story_id: 1,
            title: "@everyone **bold** <@123> [x](http://evil)".into(),
            outlet: "Wire".into(),
            published: "2026-11-20T10:00:00Z".parse().expect("time"),
            url: Some("https://example.org/a_(b)".into()),
            summary: "A summary. With two sentences.".into(),
            also_covered_by: vec![Coverage {
                outlet: "Ledger".into(),
                title: "Other".into(),
                url: Some("https://example.net/x".into()),
            }],
            related: vec![RelatedView {
                story_id: 2,
                title: "Earlier".into(),
                outlet: "Monitor".into(),
                published: "2026-11-01T10:00:00Z".parse().expect("time"),
                url: None,
                line: "It began.".into(),
            }],
            topics: vec!["ai-policy".into()],
        };
        let block = story_block(&story);
        assert!(
            !block.contains("@everyone") && !block.contains("<@123>"),
            "{block}"
        );
        assert!(!block.contains("**bold**"), "{block}");
        assert!(
            block.contains("(<https://example.org/a_%28b%29>)"),
            "{block}"
        );
        assert!(block.contains("Also covered by: [Ledger](<https://example.net/x>)"));
        assert!(
            block.contains("\n• Earlier (Monitor, 1 Nov 2026) — It began."),
            "{block}"
        );
        assert!(block.ends_with("\nTopics: ai-policy"), "{block}");
    }
}
