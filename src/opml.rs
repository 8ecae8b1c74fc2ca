//! OPML import and export of the feed list.

use std::collections::HashSet;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpmlFeed {
    pub url: String,
    pub name: Option<String>,
    /// The text of the innermost folder outline around the feed, if any.
    pub category: Option<String>,
    /// newsdesk's own settings, from `newsdesk*` attributes (a feed pack carries them; other
    /// readers ignore unknown attributes): `newsdeskInterval`, `newsdeskFullText` and
    /// `newsdeskRequireTopics` (comma-separated topic names).
    pub interval: Option<String>,
    pub full_text: Option<String>,
    pub require_topics: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum OpmlError {
    #[error("invalid OPML: {0}")]
    Invalid(String),
}

/// Reads every `<outline xmlUrl=…>` of an OPML document, at any nesting depth (folders are
/// flattened; each feed keeps its innermost folder's name as its category). Outlines without
/// `xmlUrl` are folders or notes; a URL seen twice is kept once, with its first name.
pub fn parse_opml(text: &str) -> Result<Vec<OpmlFeed>, OpmlError> {
    let mut reader = Reader::from_str(text);
    let mut seen_root = false;
    let mut urls = HashSet::new();
    let mut feeds = Vec::new();
    // One entry per open <outline>: the folder name it gives its children, if it is a folder.
    let mut folders: Vec<Option<String>> = Vec::new();
    loop {
        let event = reader.read_event().map_err(|e| {
            let line = line_of(text, reader.error_position());
            OpmlError::Invalid(format!("XML error at line {line}: {e}"))
        })?;
        let opens = matches!(event, Event::Start(_));
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
                } else if name.as_ref().eq_ignore_ascii_case("outline") {
                    let category = folders.iter().rev().flatten().next();
                    let outline = read_outline(e, category);
                    if opens {
                        folders.push(match &outline {
                            Outline::Folder(name) => name.clone(),
                            Outline::Feed(_) => None,
                        });
                    }
                    if let Outline::Feed(feed) = outline
                        && urls.insert(feed.url.clone())
                    {
                        feeds.push(feed);
                    }
                }
            }
            Event::End(ref e) if e.local_name().as_ref().eq_ignore_ascii_case("outline") => {
                folders.pop();
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

enum Outline {
    /// A folder (or a note) and its name.
    Folder(Option<String>),
    Feed(OpmlFeed),
}

/// An outline element: a feed when it has a non-empty `xmlUrl`, else a folder.
fn read_outline(e: &BytesStart<'_>, category: Option<&String>) -> Outline {
    let mut url = None;
    let mut text = None;
    let mut title = None;
    let mut feed = OpmlFeed {
        category: category.cloned(),
        ..OpmlFeed::default()
    };
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
            "newsdeskinterval" => feed.interval = Some(value).filter(|v| !v.is_empty()),
            "newsdeskfulltext" => feed.full_text = Some(value).filter(|v| !v.is_empty()),
            "newsdeskrequiretopics" => {
                feed.require_topics = value
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect();
            }
            _ => {}
        }
    }
    let name = text
        .filter(|t| !t.is_empty())
        .or(title.filter(|t| !t.is_empty()));
    match url.filter(|u| !u.is_empty()) {
        Some(url) => Outline::Feed(OpmlFeed { url, name, ..feed }),
        None => Outline::Folder(name),
    }
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
            ..OpmlFeed::default()
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
                in_folder(
                    feed("https://a.example/feed?x=1&y=2", Some("A & B")),
                    "News"
                ),
                in_folder(feed("https://b.example/rss", Some("Only title")), "News"),
                in_folder(feed("https://c.example/atom", None), "Tech"),
            ]
        );
    }

    fn in_folder(feed: OpmlFeed, folder: &str) -> OpmlFeed {
        OpmlFeed {
            category: Some(folder.into()),
            ..feed
        }
    }

    #[test]
    fn newsdesk_settings_and_folders_are_read() {
        let doc = r#"<opml version="2.0"><body>
  <outline text="Agencies">
    <outline text="A" xmlUrl="https://a.example/rss" newsdeskInterval="2h"
             newsdeskFullText="always" newsdeskRequireTopics=" space-policy, ,ai-policy "/>
    <outline text="Sub"></outline>
    <outline text="B" xmlUrl="https://b.example/rss"></outline>
  </outline>
  <outline text="C" xmlUrl="https://c.example/rss" newsdeskInterval=""/>
</body></opml>"#;
        let feeds = parse_opml(doc).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            feeds[0],
            OpmlFeed {
                url: "https://a.example/rss".into(),
                name: Some("A".into()),
                category: Some("Agencies".into()),
                interval: Some("2h".into()),
                full_text: Some("always".into()),
                require_topics: vec!["space-policy".into(), "ai-policy".into()],
            }
        );
        // A closed empty folder does not capture the feeds after it; a feed at the top has none.
        assert_eq!(
            feeds[1],
            in_folder(feed("https://b.example/rss", Some("B")), "Agencies")
        );
        assert_eq!(feeds[2], feed("https://c.example/rss", Some("C")));
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
