//! Atom 1.0 feeds (RFC 4287) of a topic's or a channel's latest stories, so the digest also
//! reaches feed readers and e-mail-by-feed services.

use std::fmt::Write as _;

use jiff::Timestamp;

use super::html::escape;
use crate::present::StoryView;
use crate::present::text::is_web_url;

/// The feed `name` (title) at `self_path` over `stories`, newest first. `public_url` makes the
/// ids and links absolute; without it they are relative to wherever the pages are served.
pub fn feed(
    title: &str,
    self_path: &str,
    stories: &[StoryView],
    public_url: Option<&str>,
) -> String {
    let base = public_url.unwrap_or("").trim_end_matches('/');
    let updated = stories
        .iter()
        .map(|s| s.published)
        .max()
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    let _ = writeln!(
        out,
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><id>urn:newsdesk:feed:{}</id>\
<title>{}</title><updated>{}</updated><author><name>newsdesk</name></author>\
<link rel=\"self\" href=\"{}\"/><link href=\"{}/\"/>",
        escape(self_path),
        escape(title),
        rfc3339(updated),
        escape(&format!("{base}{self_path}")),
        escape(base)
    );
    for s in stories {
        let page = format!("{base}/story/{}", s.story_id);
        let _ = write!(
            out,
            "<entry><id>urn:newsdesk:story:{}</id><title>{}</title><updated>{}</updated>\
<author><name>{}</name></author><link href=\"{}\"/>",
            s.story_id,
            escape(&s.title),
            rfc3339(s.published),
            escape(&s.outlet),
            escape(&page)
        );
        if let Some(url) = s.url.as_deref().filter(|u| is_web_url(u)) {
            let _ = write!(out, "<link rel=\"related\" href=\"{}\"/>", escape(url));
        }
        let _ = writeln!(out, "<summary>{}</summary></entry>", escape(&s.summary));
    }
    out.push_str("</feed>\n");
    out
}

fn rfc3339(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoryId;

    #[test]
    fn a_feed_is_well_formed_atom_with_escaped_text() {
        let story = StoryView {
            story_id: StoryId(4),
            title: "Cuts & <b>bold</b> \"quotes\"".into(),
            outlet: "Wire <x>".into(),
            published: "2026-11-20T10:00:00Z".parse().expect("time"),
            url: Some("https://example.org/a?x=1&y=2".into()),
            page_url: None,
            summary: "Summary with ]]> and <script>.".into(),
            gist: "Summary with ]]> and <script>.".into(),
            also_covered_by: Vec::new(),
            related: Vec::new(),
            topics: Vec::new(),
        };
        let xml = feed(
            "AI policy",
            "/topic/ai-policy.atom",
            &[story],
            Some("https://news.example.org/"),
        );
        let doc = feed_rs::parser::parse(xml.as_bytes()).expect("parses as a feed");
        assert_eq!(doc.entries.len(), 1);
        assert_eq!(
            doc.entries[0].title.as_ref().map(|t| t.content.as_str()),
            Some("Cuts & <b>bold</b> \"quotes\"")
        );
        assert!(
            xml.contains("<link href=\"https://news.example.org/story/4\"/>"),
            "{xml}"
        );
        assert!(
            xml.contains("href=\"https://example.org/a?x=1&amp;y=2\""),
            "{xml}"
        );
        assert!(
            xml.contains("<updated>2026-11-20T10:00:00Z</updated>"),
            "{xml}"
        );
        assert!(!xml.contains("<script>"), "{xml}");
    }
}
