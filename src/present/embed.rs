//! The Discord embed of a story, shared by digests and slash-command replies: linked headline,
//! summary, "Also covered by", "Related" (each entry whole, over as many fields as it takes),
//! outlet and topics in the footer, the publication time as the embed's timestamp.

use jiff::Timestamp;
use serde::Serialize;

use super::limits;
use super::story::{Coverage, RelatedView, StoryView, UpdateView};
use super::text::{cut_lines, day, escape_within, is_web_url, join_within, link, plain};

/// An embed as plain data (serenity's builder is made from it in `discord`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Embed {
    pub title: String,
    /// Only http(s) URLs; Discord rejects others.
    pub url: Option<String>,
    pub description: String,
    pub fields: Vec<Field>,
    /// Plain text (Discord does not render markdown in footers).
    pub footer: Option<String>,
    pub timestamp: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub inline: bool,
}

/// A field name Discord accepts for a field that continues the one above it.
const CONTINUED: &str = "\u{200b}";

impl Field {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Field {
        Field {
            name: name.into(),
            value: value.into(),
            inline: false,
        }
    }
}

impl Embed {
    /// Characters this embed counts towards [`limits::MESSAGE_EMBED_TOTAL`].
    pub fn counted_chars(&self) -> usize {
        let count = |s: &str| s.trim().chars().count();
        count(&self.title)
            + count(&self.description)
            + self.footer.as_deref().map_or(0, count)
            + self
                .fields
                .iter()
                .map(|f| count(&f.name) + count(&f.value))
                .sum::<usize>()
    }

    /// The embed inside every per-embed limit: text cut at line or word boundaries, at most
    /// 25 fields, no empty field name or value, only an http(s) URL.
    pub fn fit(mut self) -> Embed {
        self.title = cut_lines(&self.title, limits::EMBED_TITLE);
        if self.title.trim().is_empty() {
            self.title = "(untitled)".to_string();
        }
        self.description = cut_lines(&self.description, limits::EMBED_DESCRIPTION);
        self.fields.truncate(limits::EMBED_FIELDS);
        for field in &mut self.fields {
            field.name = cut_lines(&field.name, limits::FIELD_NAME);
            field.value = cut_lines(&field.value, limits::FIELD_VALUE);
            if field.name.trim().is_empty() {
                field.name = CONTINUED.to_string();
            }
            if field.value.trim().is_empty() {
                field.value = CONTINUED.to_string();
            }
        }
        if let Some(footer) = &mut self.footer {
            *footer = cut_lines(footer, limits::FOOTER);
        }
        if self.url.as_deref().is_some_and(|u| !is_web_url(u)) {
            self.url = None;
        }
        self
    }

    /// Shrinks the embed to at most `budget` counted characters: the last fields go first (the
    /// lowest Related entries, then other coverage), then the description is cut.
    pub fn shrink_to(mut self, budget: usize) -> Embed {
        while self.counted_chars() > budget && self.fields.pop().is_some() {}
        if self.counted_chars() > budget {
            let excess = self.counted_chars() - budget;
            let keep = self.description.chars().count().saturating_sub(excess);
            self.description = cut_lines(&self.description, keep);
        }
        self
    }
}

/// How much of a story an embed shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoryEmbedStyle {
    /// Characters of summary.
    pub summary: usize,
    /// The topics in the footer.
    pub topics: bool,
}

impl StoryEmbedStyle {
    /// A story in a digest or in a reply about it.
    pub const FULL: StoryEmbedStyle = StoryEmbedStyle {
        summary: limits::SUMMARY,
        topics: true,
    };
}

/// One story: linked headline, summary, other coverage with links, Related entries, outlet and
/// topics, publication time.
pub fn story_embed(story: &StoryView, style: StoryEmbedStyle) -> Embed {
    let mut fields = Vec::new();
    if !story.also_covered_by.is_empty() {
        fields.push(coverage_field("Also covered by", &story.also_covered_by));
    }
    fields.extend(related_fields(&story.related));
    base(story, &story.title, style, fields)
}

/// One update: "Update:" before the linked headline, a short reminder of the story and "Now
/// also covered by" listing only the outlets not shown before.
pub fn update_embed(update: &UpdateView) -> Embed {
    let story = &update.story;
    let style = StoryEmbedStyle {
        summary: limits::UPDATE_SUMMARY,
        topics: false,
    };
    base(
        story,
        &format!("Update: {}", story.title),
        style,
        vec![coverage_field("Now also covered by", &update.new_coverage)],
    )
}

fn base(story: &StoryView, title: &str, style: StoryEmbedStyle, fields: Vec<Field>) -> Embed {
    let mut footer = plain(&story.outlet, limits::OUTLET);
    if style.topics && !story.topics.is_empty() {
        footer.push_str(" · ");
        footer.push_str(&plain(&story.topics.join(", "), limits::TOPICS));
    }
    let original = story.url.as_deref().filter(|u| is_web_url(u));
    // With public story pages the headline opens the story's page, which has the longer
    // summary: the digest carries the gist, and the article stays one click away.
    let page = story.page_url.as_deref().filter(|u| is_web_url(u));
    let summary = match page {
        Some(_) if !story.gist.trim().is_empty() => &story.gist,
        _ => &story.summary,
    };
    let mut description = escape_within(summary, style.summary.min(limits::EMBED_DESCRIPTION));
    if page.is_some() && original.is_some() {
        description.push('\n');
        description.push_str(&link("Read original article", original, limits::OUTLET));
    }
    Embed {
        title: escape_within(title, limits::EMBED_TITLE),
        url: page.or(original).map(str::to_string),
        description,
        fields,
        footer: Some(footer),
        timestamp: Some(story.published),
    }
}

/// Outlets as links, as many whole ones as fit in a field.
fn coverage_field(name: &str, coverage: &[Coverage]) -> Field {
    let links: Vec<String> = coverage
        .iter()
        .map(|c| link(&c.outlet, c.url.as_deref(), limits::OUTLET))
        .collect();
    Field::new(name, join_within(&links, ", ", limits::FIELD_VALUE))
}

/// Related entries, each whole, packed into fields of at most 1,024 characters: the first is
/// named "Related", the ones continuing it have a blank name.
fn related_fields(related: &[RelatedView]) -> Vec<Field> {
    let mut fields: Vec<Field> = Vec::new();
    for entry in related.iter().map(related_line) {
        match fields.last_mut() {
            Some(field)
                if field.value.chars().count() + 1 + entry.chars().count()
                    <= limits::FIELD_VALUE =>
            {
                field.value.push('\n');
                field.value.push_str(&entry);
            }
            _ => {
                let name = if fields.is_empty() {
                    "Related"
                } else {
                    CONTINUED
                };
                fields.push(Field::new(name, cut_lines(&entry, limits::FIELD_VALUE)));
            }
        }
    }
    fields
}

/// "• [Headline](<url>) (Outlet, 1 Nov 2026) — One sentence about it."
pub fn related_line(r: &RelatedView) -> String {
    let mut line = format!(
        "• {} ({}, {})",
        link(
            &r.title,
            r.page_url.as_deref().or(r.url.as_deref()),
            limits::RELATED_TITLE
        ),
        escape_within(&r.outlet, limits::OUTLET),
        day(r.published)
    );
    if !r.line.is_empty() {
        line.push_str(" — ");
        line.push_str(&escape_within(&r.line, limits::RELATED_LINE));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoryId;

    fn entry(k: i64, url: String) -> RelatedView {
        RelatedView {
            story_id: StoryId(k),
            title: "[Headline]* ".repeat(30),
            outlet: "_Outlet_ ".repeat(20),
            published: "2026-11-01T10:00:00Z".parse().expect("time"),
            url: Some(url),
            page_url: None,
            line: "A one-line summary that goes on, ".repeat(20),
        }
    }

    /// Five Related entries at every width's maximum (a 500-character URL, escaped headline and
    /// outlet, a 300-character one-liner) are all shown, each whole in its field.
    #[test]
    fn five_related_entries_at_full_width_all_fit() {
        let url = format!("https://example.org/{}", "p".repeat(limits::LINK_URL - 20));
        let story = StoryView {
            story_id: StoryId(1),
            title: "t".into(),
            outlet: "o".into(),
            published: jiff::Timestamp::UNIX_EPOCH,
            url: None,
            page_url: None,
            summary: "s".repeat(2000),
            gist: "g".repeat(300),
            also_covered_by: Vec::new(),
            related: (0..5).map(|k| entry(k, url.clone())).collect(),
            topics: Vec::new(),
        };
        let embed = story_embed(&story, StoryEmbedStyle::FULL).fit();
        let entries: Vec<&str> = embed
            .fields
            .iter()
            .flat_map(|f| f.value.lines())
            .filter(|l| l.starts_with("• "))
            .collect();
        assert_eq!(entries.len(), 5, "{:?}", embed.fields);
        for field in &embed.fields {
            assert!(field.value.chars().count() <= limits::FIELD_VALUE);
        }
        for e in &entries {
            assert_eq!(e.matches("](<").count(), 1, "one whole link: {e}");
            assert!(
                e.contains(">) (") && e.contains(", 1 Nov 2026) — A one-line"),
                "{e}"
            );
        }
        assert!(embed.counted_chars() <= limits::MESSAGE_EMBED_TOTAL);
        // A longer URL is not shown: the headline stays, unlinked.
        let long = entry(
            9,
            format!("https://example.org/{}", "p".repeat(limits::LINK_URL)),
        );
        assert!(!related_line(&long).contains("](<"));
    }

    /// With public story pages the headline opens the story's page, the original article is
    /// one click away, and Related entries open their own pages.
    #[test]
    fn public_pages_take_the_headline_link_and_keep_the_article_close() {
        let mut related = entry(2, "https://example.org/earlier".into());
        related.page_url = Some("https://news.example.org/story/2".into());
        let story = StoryView {
            story_id: StoryId(1),
            title: "t".into(),
            outlet: "o".into(),
            published: jiff::Timestamp::UNIX_EPOCH,
            url: Some("https://outlet.example/article".into()),
            page_url: Some("https://news.example.org/story/1".into()),
            summary: "A summary. With more after the gist.".into(),
            gist: "A summary.".into(),
            also_covered_by: Vec::new(),
            related: vec![related],
            topics: Vec::new(),
        };
        let embed = story_embed(&story, StoryEmbedStyle::FULL).fit();
        assert_eq!(
            embed.url.as_deref(),
            Some("https://news.example.org/story/1")
        );
        // The digest carries the gist; the page has the longer summary.
        assert_eq!(
            embed.description,
            "A summary.\n[Read original article](<https://outlet.example/article>)"
        );
        assert!(
            embed.fields[0]
                .value
                .contains("(<https://news.example.org/story/2>)")
        );
        let plain = StoryView {
            page_url: None,
            ..story
        };
        let embed = story_embed(&plain, StoryEmbedStyle::FULL).fit();
        assert_eq!(embed.url.as_deref(), Some("https://outlet.example/article"));
        assert_eq!(embed.description, "A summary. With more after the gist.");
    }
}
