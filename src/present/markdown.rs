//! A story as text for the terminal (`related`, `search`, and every digest printed instead of
//! posted): its Discord embed written out line by line, so the terminal shows what Discord
//! would, in Discord's markdown.

use super::embed::{Embed, StoryEmbedStyle, story_embed};
use super::story::StoryView;
use super::text::when;

/// A story as its embed reads.
pub fn story_block(story: &StoryView) -> String {
    embed_text(&story_embed(story, StoryEmbedStyle::FULL).fit())
}

/// An embed as lines marked "┃ ": linked title, description, each field under its name
/// (a continuing field without one), then footer and time.
pub fn embed_text(embed: &Embed) -> String {
    let mut out = match &embed.url {
        Some(url) => format!("┃ **{}** <{url}>", embed.title),
        None => format!("┃ **{}**", embed.title),
    };
    for line in embed.description.lines() {
        out.push_str("\n┃ ");
        out.push_str(line);
    }
    for field in &embed.fields {
        if field.name.trim_matches('\u{200b}').is_empty() {
            out.push_str("\n┃ ");
        } else {
            out.push_str(&format!("\n┃ __{}__", field.name));
        }
        for line in field.value.lines() {
            out.push_str("\n┃ ");
            out.push_str(line);
        }
    }
    let byline: Vec<String> = embed
        .footer
        .iter()
        .cloned()
        .chain(embed.timestamp.map(when))
        .collect();
    if !byline.is_empty() {
        out.push_str(&format!("\n┃ {}", byline.join(" · ")));
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
            story_id: crate::store::StoryId(1),
            title: "@everyone **bold** <@123> [x](http://evil)".into(),
            outlet: "Wire".into(),
            published: "2026-11-20T10:00:00Z".parse().expect("time"),
            url: Some("https://example.org/a_(b)".into()),
            page_url: None,
            summary: "A summary. With two sentences.".into(),
            gist: "A summary.".into(),
            also_covered_by: vec![Coverage {
                outlet: "Ledger".into(),
                title: "Other".into(),
                url: Some("https://example.net/x".into()),
            }],
            related: vec![RelatedView {
                story_id: crate::store::StoryId(2),
                title: "Earlier".into(),
                outlet: "Monitor".into(),
                published: "2026-11-01T10:00:00Z".parse().expect("time"),
                url: None,
                page_url: None,
                line: "It began.".into(),
            }],
            topics: vec!["ai-policy".into()],
        };
        let block = story_block(&story);
        assert!(
            !block.contains("@everyone") && !block.contains("<@123>"),
            "{block}"
        );
        assert!(
            !block.contains("**bold**") && !block.contains("](http://evil"),
            "{block}"
        );
        assert!(block.contains("<https://example.org/a_(b)>"), "{block}");
        assert!(
            block.contains("\n┃ __Also covered by__\n┃ [Ledger](<https://example.net/x>)"),
            "{block}"
        );
        assert!(
            block.contains("\n┃ __Related__\n┃ • Earlier (Monitor, 1 Nov 2026) — It began."),
            "{block}"
        );
        assert!(
            block.ends_with("\n┃ Wire · ai-policy · Fri 20 Nov 2026 10:00 UTC"),
            "{block}"
        );
    }
}
