//! OPML import and export of the feed list.

use std::collections::HashSet;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpmlFeed {
    pub url: String,
    pub name: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum OpmlError {
    #[error("invalid OPML: {0}")]
    Invalid(String),
}

/// Reads every `<outline xmlUrl=…>` of an OPML document, at any nesting depth (folders are
/// flattened). Outlines without `xmlUrl` are folders or notes and are skipped; a URL seen
/// twice is kept once, with its first name.
pub fn parse_opml(text: &str) -> Result<Vec<OpmlFeed>, OpmlError> {
    let mut reader = Reader::from_str(text);
    let mut seen_root = false;
    let mut urls = HashSet::new();
    let mut feeds = Vec::new();
    loop {
        let event = reader.read_event().map_err(|e| {
            let line = line_of(text, reader.error_position());
            OpmlError::Invalid(format!("XML error at line {line}: {e}"))
        })?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = e.local_name();
                if !seen_root {
                    if !name.as_ref().eq_ignore_ascii_case("opml") {
                        return Err(OpmlError::Invalid(format!(
                            "root element is <{}>, expected <opml>",
                            name.as_ref()
                        )));
                    }
                    seen_root = true;
                } else if name.as_ref().eq_ignore_ascii_case("outline")
                    && let Some(feed) = outline_feed(e)
                    && urls.insert(feed.url.clone())
                {
                    feeds.push(feed);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_root {
        return Err(OpmlError::Invalid(
            "no <opml> element (empty document?)".into(),
        ));
    }
    Ok(feeds)
}

/// The feed of an outline element, if it has a non-empty `xmlUrl`.
fn outline_feed(e: &BytesStart<'_>) -> Option<OpmlFeed> {
    let mut url = None;
    let mut text = None;
    let mut title = None;
    for attr in e.attributes().flatten() {
        // HTML entities such as &nbsp; are not XML; such a value is kept as written.
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .unwrap_or_else(|_| attr.value.clone());
        let value = value.trim().to_string();
        match attr.key.local_name().as_ref().to_ascii_lowercase().as_str() {
            "xmlurl" => url = Some(value),
            "text" => text = Some(value),
            "title" => title = Some(value),
            _ => {}
        }
    }
    let url = url.filter(|u| !u.is_empty())?;
    let name = text
        .filter(|t| !t.is_empty())
        .or(title.filter(|t| !t.is_empty()));
    Some(OpmlFeed { url, name })
}

fn line_of(text: &str, pos: u64) -> usize {
    let pos = usize::try_from(pos).unwrap_or(usize::MAX).min(text.len());
    text.bytes().take(pos).filter(|b| *b == b'\n').count() + 1
}

/// An OPML 2.0 document listing `feeds` (one flat list, `type="rss"`).
pub fn write_opml(title: &str, feeds: &[OpmlFeed]) -> String {
    let mut out = String::with_capacity(200 + feeds.len() * 120);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n  <head>\n");
    out.push_str(&format!("    <title>{}</title>\n", escape(title)));
    out.push_str("  </head>\n  <body>\n");
    for feed in feeds {
        let name = escape(feed.name.as_deref().unwrap_or(&feed.url));
        out.push_str(&format!(
            "    <outline type=\"rss\" text=\"{name}\" title=\"{name}\" xmlUrl=\"{}\"/>\n",
            escape(&feed.url)
        ));
    }
    out.push_str("  </body>\n</opml>\n");
    out
}

/// Escapes text for an XML attribute or element, dropping characters XML 1.0 forbids and
/// writing newlines/tabs as references so attribute normalization keeps them.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => {}
        }
    }
    out
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(url: &str, name: Option<&str>) -> OpmlFeed {
        OpmlFeed {
            url: url.into(),
            name: name.map(Into::into),
        }
    }

    #[test]
    fn nested_outlines_and_names() {
        let doc = r#"<?xml version="1.0"?>
<opml version="1.0"><head><title>x</title></head><body>
  <outline text="News">
    <outline text="A &amp; B" type="rss" xmlUrl="https://a.example/feed?x=1&amp;y=2"/>
    <outline title="Only title" xmlUrl=" https://b.example/rss "></outline>
    <outline text="Tech"><outline xmlurl="https://c.example/atom"/></outline>
  </outline>
  <outline text="a note without url"/>
  <outline text="dup" xmlUrl="https://b.example/rss"/>
</body></opml>"#;
        let feeds = parse_opml(doc).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            feeds,
            vec![
                feed("https://a.example/feed?x=1&y=2", Some("A & B")),
                feed("https://b.example/rss", Some("Only title")),
                feed("https://c.example/atom", None),
            ]
        );
    }

    #[test]
    fn html_entity_in_attribute_is_tolerated() {
        let doc = r#"<opml><body><outline text="a&nbsp;b" xmlUrl="http://x/"/></body></opml>"#;
        let feeds = parse_opml(doc).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(feeds, vec![feed("http://x/", Some("a&nbsp;b"))]);
    }

    #[test]
    fn non_opml_is_refused_clearly() {
        let err = parse_opml("<html><body>hi</body></html>")
            .map(|_| ())
            .unwrap_err();
        assert!(err.to_string().contains("root element is <html>"), "{err}");
        let err = parse_opml("").map(|_| ()).unwrap_err();
        assert!(err.to_string().contains("no <opml>"), "{err}");
        let err = parse_opml("<opml>\n<body>\n<outline></body>")
            .map(|_| ())
            .unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
    }

    #[test]
    fn write_then_read_round_trips() {
        let feeds = vec![
            feed(
                "https://a.example/feed?x=1&y=\"2\"",
                Some("Tom & Jerry <'quoted'>"),
            ),
            feed("https://b.example/rss", None),
            feed("https://c.example/ü", Some("multi\nline\u{1}")),
        ];
        let doc = write_opml("My <feeds> & more", &feeds);
        assert!(doc.contains("<title>My &lt;feeds&gt; &amp; more</title>"));
        let back = parse_opml(&doc).unwrap_or_else(|e| panic!("{e}\n{doc}"));
        assert_eq!(back[0], feeds[0]);
        // A feed without name is written with its URL as text (OPML requires text).
        assert_eq!(
            back[1],
            feed("https://b.example/rss", Some("https://b.example/rss"))
        );
        assert_eq!(back[2], feed("https://c.example/ü", Some("multi\nline")));
    }
}
