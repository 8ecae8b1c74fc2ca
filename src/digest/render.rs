//! Text building blocks for everything newsdesk shows: feed text neutralized for Discord
//! markdown (no mentions, no markdown injection, no broken links), word-boundary truncation,
//! and one story as a markdown block (CLI `related`/`search`, command replies).

use jiff::Timestamp;

use super::{Digest, StoryView};

const TITLE_LIMIT: usize = 256;
const SUMMARY_LIMIT: usize = 700;
const RELATED_TITLE_LIMIT: usize = 120;
const RELATED_LINE_LIMIT: usize = 160;

/// One story: linked title, outlet and time, summary, other coverage, Related list.
pub fn story_block(story: &StoryView) -> String {
    let mut out = String::new();
    out.push_str("### ");
    out.push_str(&link(
        &truncate_words(&story.title, TITLE_LIMIT),
        story.url.as_deref(),
    ));
    out.push('\n');
    out.push_str(&format!(
        "{} · {}",
        escape(&story.outlet),
        when(story.published)
    ));
    if !story.summary.is_empty() {
        out.push('\n');
        out.push_str(&escape(&truncate_words(&story.summary, SUMMARY_LIMIT)));
    }
    if !story.also_covered_by.is_empty() {
        let outlets: Vec<String> = story
            .also_covered_by
            .iter()
            .map(|c| link(&c.outlet, c.url.as_deref()))
            .collect();
        out.push_str("\nAlso covered by: ");
        out.push_str(&outlets.join(", "));
    }
    if !story.related.is_empty() {
        out.push_str("\nRelated:");
        for r in &story.related {
            out.push_str(&format!(
                "\n- {} ({}, {})",
                link(
                    &truncate_words(&r.title, RELATED_TITLE_LIMIT),
                    r.url.as_deref()
                ),
                escape(&r.outlet),
                day(r.published)
            ));
            if !r.line.is_empty() {
                out.push_str(" — ");
                out.push_str(&escape(&truncate_words(&r.line, RELATED_LINE_LIMIT)));
            }
        }
    }
    out
}

fn when(t: Timestamp) -> String {
    t.strftime("%a %-d %b %Y %H:%M UTC").to_string()
}

fn day(t: Timestamp) -> String {
    t.strftime("%-d %b %Y").to_string()
}

/// `[text](url)` with the text escaped and the URL made safe for markdown; plain text without
/// a URL. Link previews are suppressed (`<url>`) so a digest is not buried under embeds.
pub fn link(text: &str, url: Option<&str>) -> String {
    match url.filter(|u| u.starts_with("http://") || u.starts_with("https://")) {
        Some(url) => format!("[{}](<{}>)", escape(text), safe_url(url)),
        None => escape(text),
    }
}

fn safe_url(url: &str) -> String {
    url.replace('(', "%28")
        .replace(')', "%29")
        .replace('<', "%3C")
        .replace('>', "%3E")
        .replace(' ', "%20")
}

/// Neutralizes feed text for Discord: markdown characters are escaped, mass mentions and
/// user/role/channel mention syntax are broken with a zero-width space, newlines folded.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' | '*' | '_' | '~' | '`' | '|' | '[' | ']' | '(' | ')' | '<' | '>' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '@' => out.push_str("@\u{200b}"),
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// At most `limit` characters, cut at a word boundary with an ellipsis when cut.
pub fn truncate_words(text: &str, limit: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let budget = limit.saturating_sub(1);
    let cut: String = text.chars().take(budget).collect();
    let at_word = match cut.rfind(char::is_whitespace) {
        Some(i) if i > budget / 2 => cut[..i].trim_end().to_string(),
        _ => cut,
    };
    format!("{at_word}…")
}

/// The digest as one JSON document on one line (JSON Lines when several are printed).
pub fn json(digest: &Digest) -> String {
    serde_json::to_string(digest)
        .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::{Coverage, RelatedView};

    fn story(title: &str) -> StoryView {
        StoryView {
            story_id: 1,
            title: title.to_string(),
            outlet: "Wire".into(),
            published: "2026-11-20T10:00:00Z".parse().unwrap(),
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
                published: "2026-11-01T10:00:00Z".parse().unwrap(),
                url: None,
                line: "It began.".into(),
            }],
            topics: vec![],
        }
    }

    #[test]
    fn hostile_title_is_neutralized() {
        let block = story_block(&story("@everyone **bold** <@123> [x](http://evil)"));
        assert!(!block.contains("@everyone"));
        assert!(!block.contains("<@123>"));
        assert!(!block.contains("**bold**"));
        assert!(block.contains("(<https://example.org/a_%28b%29>)"));
        assert!(block.contains("Also covered by: [Ledger](<https://example.net/x>)"));
        assert!(block.contains("\n- Earlier (Monitor, 1 Nov 2026) — It began."));
    }

    #[test]
    fn json_marks_updates() {
        let new = story("New one");
        let old = story("Old one");
        let digest = Digest {
            id: None,
            channel: "c".into(),
            generated_at: Timestamp::UNIX_EPOCH,
            stories: vec![new],
            updates: vec![crate::digest::UpdateView {
                new_coverage: old.also_covered_by.clone(),
                story: old,
            }],
        };
        let value: serde_json::Value = serde_json::from_str(&json(&digest)).unwrap();
        assert!(value["stories"][0].get("update").is_none());
        let update = &value["updates"][0];
        assert_eq!(update["update"], true);
        assert_eq!(update["title"], "Old one");
        assert_eq!(update["new_coverage"][0]["outlet"], "Ledger");
    }

    #[test]
    fn truncation_respects_words_and_characters() {
        assert_eq!(truncate_words("alpha beta gamma", 12), "alpha beta…");
        assert_eq!(truncate_words("short", 12), "short");
        let cut = truncate_words(&"é".repeat(50), 10);
        assert_eq!(cut.chars().count(), 10);
    }
}
