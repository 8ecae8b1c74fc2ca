//! Feed documents (RSS 0.9x/1.0/2.0, Atom, JSON Feed) into normalized [`Entry`] values via feed-rs.

use std::collections::HashSet;
use std::sync::LazyLock;

use feed_rs::model;
use feed_rs::parser::{Builder, ParseErrorKind, ParseFeedError};
use jiff::Timestamp;
use regex::Regex;
use url::Url;

use crate::charset::{self, DocKind};
use crate::hash::sha256_hex;
use crate::model::{Entry, FeedMeta, ParsedFeed};
use crate::normalize::{canonical_url, collapse_whitespace, html_head, html_to_text, title_text};

/// Bytes of an entry's content (or summary) markup turned into its text: a few times the markup
/// of a long article (the evaluation sets' longest has 53,000 characters of text), so whole
/// articles are read, while a huge description costs no more than one this long.
pub const MAX_TEXT_HTML_BYTES: usize = 256 * 1024;
/// Bytes of a title or a name read (a headline is a line; a feed may put anything there).
pub const MAX_LINE_HTML_BYTES: usize = 2_000;

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Well-formed (or unreadable) input that is not a feed at all, e.g. an HTML page.
    #[error("not a feed: {0}")]
    NotAFeed(String),
    /// XML that is not well-formed enough for the feed parser.
    #[error("not a feed: XML error{}: {message}", line.map(|l| format!(" at line {l}")).unwrap_or_default())]
    Xml { line: Option<u64>, message: String },
    /// A JSON document that is not a JSON Feed.
    #[error("not a feed: JSON error: {0}")]
    Json(String),
}

impl ParseError {
    /// Short class name of the refusal, for counting and logs.
    pub fn class(&self) -> &'static str {
        match self {
            ParseError::NotAFeed(_) => "not-a-feed",
            ParseError::Xml { .. } => "xml",
            ParseError::Json(_) => "json",
        }
    }
}

/// Parses a feed body. `content_type` is the HTTP header (for charset); `base` resolves relative links.
pub fn parse_feed(
    bytes: &[u8],
    content_type: Option<&str>,
    base: Option<&Url>,
) -> Result<ParsedFeed, ParseError> {
    let kind = sniff_kind(bytes);
    let text = charset::decode(bytes, content_type, kind);
    let text = text.trim_start();
    if text.is_empty() {
        return Err(ParseError::NotAFeed("empty document".into()));
    }
    let parser = Builder::new()
        .base_uri(base.map(Url::as_str))
        // An empty id marks "the document gave none"; feed-rs would otherwise invent one.
        .id_generator(|_, _, _| String::new())
        .sanitize_content(false)
        .build();
    let feed = match parser.parse(text.as_bytes()) {
        Ok(feed) => feed,
        Err(ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot)) if kind == DocKind::Xml => {
            // feed-rs only accepts <rss> with version 2.0/0.91/0.92; unversioned or other
            // versions (0.93, 0.94, …) are common enough and read fine as RSS 2.0.
            let Some(patched) = with_rss_version_2(text) else {
                return Err(to_parse_error(
                    ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot),
                    text,
                ));
            };
            parser
                .parse(patched.as_bytes())
                .map_err(|e| to_parse_error(e, text))?
        }
        Err(e) => return Err(to_parse_error(e, text)),
    };
    Ok(convert(feed, base))
}

/// The document with its `<rss>` root tag's version set to 2.0, if it has such a root
/// with another (or no) version.
fn with_rss_version_2(text: &str) -> Option<String> {
    static RSS_TAG: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"<rss(\s[^>]*)?>").unwrap_or_else(|e| unreachable!("static regex: {e}"))
    });
    static VERSION_ATTR: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"\sversion\s*=\s*(?:"[^"]*"|'[^']*')"#)
            .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    });
    let tag = RSS_TAG.find(text)?;
    let attrs = VERSION_ATTR.replace_all(tag.as_str().get(4..)?, "");
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(text.get(..tag.start())?);
    out.push_str("<rss version=\"2.0\"");
    out.push_str(&attrs);
    out.push_str(text.get(tag.end()..)?);
    Some(out)
}

/// JSON Feed if the first meaningful byte is `{`, XML otherwise.
fn sniff_kind(bytes: &[u8]) -> DocKind {
    let body = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => DocKind::Json,
        _ => DocKind::Xml,
    }
}

fn to_parse_error(err: ParseFeedError, text: &str) -> ParseError {
    match err {
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) => {
            ParseError::NotAFeed(match root_element_name(text) {
                Some(root) if root == "rss" => "<rss> document without a <channel>".into(),
                Some(root) => format!("root element <{root}> is not an RSS, Atom or RDF feed"),
                None if text.starts_with('{') => "JSON without a JSON Feed version".into(),
                None => "no XML root element".into(),
            })
        }
        ParseFeedError::ParseError(kind) => ParseError::NotAFeed(kind.to_string()),
        ParseFeedError::IoError(e) => ParseError::NotAFeed(format!("read error: {e}")),
        ParseFeedError::JsonSerde(e) => ParseError::Json(e.to_string()),
        ParseFeedError::JsonUnsupportedVersion(v) => {
            ParseError::Json(format!("unsupported JSON Feed version {v:?}"))
        }
        ParseFeedError::XmlReader(e) => ParseError::Xml {
            line: xml_error_line(text),
            message: e.to_string(),
        },
    }
}

/// Name of the document's first element (comments, declarations and doctype skipped).
fn root_element_name(text: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)) => {
                return Some(e.name().as_ref().chars().take(64).collect());
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// Line (1-based) of the first well-formedness error quick-xml finds, if any.
/// feed-rs does not report positions, so the text is scanned again, only on failure.
fn xml_error_line(text: &str) -> Option<u64> {
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => return None,
            Ok(_) => {}
            Err(_) => {
                let pos = usize::try_from(reader.error_position()).ok()?;
                let upto = text.get(..pos.min(text.len()))?;
                let newlines = upto.bytes().filter(|b| *b == b'\n').count();
                return u64::try_from(newlines).ok().map(|n| n + 1);
            }
        }
    }
}

fn convert(feed: model::Feed, base: Option<&Url>) -> ParsedFeed {
    let meta = FeedMeta {
        title: feed
            .title
            .as_ref()
            .map(|t| line_text(&t.content))
            .filter(|t| !t.is_empty()),
        site_url: pick_link(&feed.links).and_then(|href| canonical_url(href, base)),
        ttl_minutes: feed.ttl,
        format: match feed.feed_type {
            model::FeedType::Atom => "Atom",
            model::FeedType::JSON => "JSON Feed",
            model::FeedType::RSS0 => "RSS 0.9x",
            model::FeedType::RSS1 => "RSS 1.0",
            model::FeedType::RSS2 => "RSS 2.0",
        },
    };
    let mut seen = HashSet::new();
    let mut entries = Vec::with_capacity(feed.entries.len());
    for raw in &feed.entries {
        let Some(entry) = convert_entry(raw, base) else {
            continue;
        };
        // Duplicate keys within one document: the first occurrence wins.
        if seen.insert(entry.key.clone()) {
            entries.push(entry);
        }
    }
    ParsedFeed { meta, entries }
}

/// Builds an [`Entry`]; `None` when it has no title, link or text at all.
fn convert_entry(raw: &model::Entry, base: Option<&Url>) -> Option<Entry> {
    let url = pick_link(&raw.links).and_then(|href| canonical_url(href, base));
    let title = raw
        .title
        .as_ref()
        .map(|t| line_text(&t.content))
        .unwrap_or_default();
    // chrono is not a dependency of ours, so its type is only used through inference here.
    let published = raw.published.or(raw.updated).and_then(|t| {
        let nanos = i32::try_from(t.timestamp_subsec_nanos()).ok()?;
        Timestamp::new(t.timestamp(), nanos).ok()
    });
    let content_html = raw
        .content
        .as_ref()
        .filter(|c| is_html(&c.content_type.essence().to_string()))
        .and_then(|c| c.body.clone())
        .filter(|b| !b.trim().is_empty());
    let text = entry_text(raw);
    if title.is_empty() && url.is_none() && text.is_empty() {
        return None;
    }
    let id = raw.id.trim();
    let key = if !id.is_empty() {
        id.to_string()
    } else if let Some(u) = &url {
        u.clone()
    } else {
        content_hash_key(&title, published, &text)
    };
    let author = raw
        .authors
        .iter()
        .find_map(|p| {
            let name = p.name.as_deref().map(line_text).unwrap_or_default();
            if name.is_empty() {
                p.email.as_deref().map(collapse_whitespace)
            } else {
                Some(name)
            }
        })
        .filter(|a| !a.is_empty());
    Some(Entry {
        key,
        url,
        title,
        author,
        published,
        text,
        content_html,
    })
}

/// Plain text of the content if it has any, else of the summary.
fn entry_text(raw: &model::Entry) -> String {
    let from_content = raw.content.as_ref().and_then(|c| {
        let body = c.body.as_deref()?;
        let text = if c.content_type.essence().to_string() == "text/plain" {
            plain_text(body)
        } else {
            body_text(body)
        };
        Some(text).filter(|t| !t.is_empty())
    });
    from_content
        .or_else(|| {
            raw.summary.as_ref().map(|s| {
                if s.content_type.essence().to_string() == "text/plain" {
                    plain_text(&s.content)
                } else {
                    body_text(&s.content)
                }
            })
        })
        .unwrap_or_default()
}

/// Declared plain text. RSS marks everything text/plain yet usually carries HTML, so it
/// still goes through the HTML-aware conversion, which leaves markup-free text alone.
fn plain_text(s: &str) -> String {
    body_text(s)
}

/// The text of an entry's content or summary, read up to [`MAX_TEXT_HTML_BYTES`].
fn body_text(html: &str) -> String {
    html_to_text(html_head(html, MAX_TEXT_HTML_BYTES))
}

/// A title or a name as one line, read up to [`MAX_LINE_HTML_BYTES`].
fn line_text(raw: &str) -> String {
    title_text(html_head(raw, MAX_LINE_HTML_BYTES))
}

fn is_html(media_type: &str) -> bool {
    matches!(
        media_type,
        "text/html" | "application/xhtml+xml" | "html" | "xhtml"
    )
}

/// The article link: the first `alternate` (or untyped) link, else the first non-empty one.
fn pick_link(links: &[model::Link]) -> Option<&str> {
    let usable = |l: &&model::Link| !l.href.trim().is_empty();
    links
        .iter()
        .filter(usable)
        .find(|l| matches!(l.rel.as_deref(), None | Some("alternate")))
        .or_else(|| {
            links.iter().filter(usable).find(|l| {
                !matches!(
                    l.rel.as_deref(),
                    Some("self" | "enclosure" | "replies" | "edit")
                )
            })
        })
        .map(|l| l.href.as_str())
}

/// Identity of an entry with neither id nor link: hash of normalized title and date (and
/// text when there is no title, so that title-less entries do not all collide).
fn content_hash_key(title: &str, published: Option<Timestamp>, text: &str) -> String {
    let title = title.to_lowercase();
    let published = published.map(|p| p.to_string()).unwrap_or_default();
    let untitled_text: &[&str] = if title.is_empty() { &["\n", text] } else { &[] };
    let parts = [title.as_str(), "\n", published.as_str()];
    format!(
        "h:{}",
        sha256_hex(parts.iter().chain(untitled_text).copied())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(doc: &str, base: Option<&Url>) -> ParsedFeed {
        parse_feed(doc.as_bytes(), None, base).unwrap_or_else(|e| panic!("{e}"))
    }

    const RSS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
  <title> My &amp; &lt;b&gt;Feed&lt;/b&gt; </title><link>https://site.example/</link><ttl>30</ttl>
  <item><guid isPermaLink="false"> g-1 </guid><title>First &lt;i&gt;one&lt;/i&gt;</title>
    <link>/a?utm_source=rss&amp;id=1#c</link><pubDate>Tue, 03 Jun 2025 09:39:21 +0200</pubDate>
    <description>&lt;p&gt;Hello &amp;amp; bye&lt;/p&gt;&lt;p&gt;two&lt;/p&gt;</description>
    <author>ann@example.com (Ann)</author></item>
  <item><title>No guid</title><link>https://x.example/b</link></item>
  <item><title>Only a title</title><pubDate>Wed, 04 Jun 2025 10:00:00 GMT</pubDate></item>
  <item><guid>g-1</guid><title>Duplicate</title></item>
  <item><description>   </description></item>
</channel></rss>"#;

    #[test]
    fn rss_entries_and_keys() {
        let base = Url::parse("https://site.example/feed.xml").unwrap_or_else(|e| panic!("{e}"));
        let feed = ok(RSS, Some(&base));
        assert_eq!(feed.meta.title.as_deref(), Some("My & Feed"));
        assert_eq!(feed.meta.site_url.as_deref(), Some("https://site.example/"));
        assert_eq!(feed.meta.ttl_minutes, Some(30));
        let keys: Vec<&str> = feed.entries.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys.len(), 3, "{keys:?}");
        assert_eq!(keys[0], "g-1");
        assert_eq!(keys[1], "https://x.example/b");
        assert!(
            keys[2].starts_with("h:") && keys[2].len() == 66,
            "{}",
            keys[2]
        );

        let first = &feed.entries[0];
        assert_eq!(first.title, "First one");
        assert_eq!(first.url.as_deref(), Some("https://site.example/a?id=1"));
        assert_eq!(first.text, "Hello & bye\n\ntwo");
        assert_eq!(first.published.map(|t| t.as_second()), Some(1_748_936_361));
        assert_eq!(feed.entries[1].title, "No guid");
    }

    #[test]
    fn hash_key_is_stable_and_date_sensitive() {
        let a = content_hash_key("Title", None, "");
        assert_eq!(a, content_hash_key("title", None, "other text"));
        assert_ne!(
            a,
            content_hash_key("Title", Some(Timestamp::UNIX_EPOCH), "")
        );
        // Keys already stored stay valid.
        assert_eq!(
            a,
            "h:1ec72b6861fee9926d828a734ddbd533a1eb1a983d42acec571720deb2b92018"
        );
        assert_eq!(
            content_hash_key("", None, "body text"),
            "h:6c67eaf7c09cdccc029fbedf66cee18a0cef7ec93d11f22ca66ced370de97390"
        );
    }

    #[test]
    fn atom_html_content_and_updated_fallback() {
        let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
<link rel="self" href="https://a.example/atom"/><link href="https://a.example/"/>
<entry><id>urn:1</id><title type="html">T &amp;amp; U</title><updated>2024-01-02T03:04:05.5Z</updated>
<author><name>Bob</name></author><link rel="alternate" href="https://a.example/1"/>
<summary>short</summary><content type="html">&lt;p&gt;Long &lt;script&gt;x()&lt;/script&gt;body&lt;/p&gt;</content></entry>
</feed>"#;
        let feed = ok(doc, None);
        assert_eq!(feed.meta.site_url.as_deref(), Some("https://a.example/"));
        let e = &feed.entries[0];
        assert_eq!((e.key.as_str(), e.title.as_str()), ("urn:1", "T & U"));
        assert_eq!(e.author.as_deref(), Some("Bob"));
        assert_eq!(e.text, "Long body");
        assert!(
            e.content_html
                .as_deref()
                .is_some_and(|h| h.contains("<p>Long"))
        );
        assert_eq!(
            e.published.map(|t| t.to_string()).as_deref(),
            Some("2024-01-02T03:04:05.5Z")
        );
    }

    #[test]
    fn json_feed() {
        let doc = r#" {"version":"https://jsonfeed.org/version/1.1","title":"J",
          "items":[{"id":"1","url":"https://j.example/1?fbclid=z","content_html":"<p>hi</p>"},
                   {"url":"https://j.example/2","content_text":"plain"}]}"#;
        let feed = ok(doc, None);
        assert_eq!(feed.meta.title.as_deref(), Some("J"));
        assert_eq!(feed.entries.len(), 2);
        assert_eq!(feed.entries[0].url.as_deref(), Some("https://j.example/1"));
        assert_eq!(feed.entries[0].text, "hi");
        assert_eq!(feed.entries[1].key, "https://j.example/2");
    }

    #[test]
    fn latin1_declared_feed_and_unversioned_rss() {
        let doc =
            b"<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><rss><channel><title>caf\xe9</title>\
                    <item><title>\xe9t\xe9</title></item></channel></rss>";
        let feed = parse_feed(doc, None, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(feed.meta.title.as_deref(), Some("café"));
        assert_eq!(feed.entries[0].title, "été");
    }

    #[test]
    fn misplaced_xml_declaration_does_not_panic() {
        // Bare feed-rs panics here (quick-xml asserts on a late encoding switch).
        let doc = "<!-- x -->\n<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n\
                   <rss version=\"2.0\"><channel><item><title>t</title></item></channel></rss>";
        let got = std::panic::catch_unwind(|| parse_feed(doc.as_bytes(), None, None));
        assert!(got.is_ok(), "parse_feed panicked");
    }

    #[test]
    fn refusals_are_clear() {
        let err = |doc: &str| {
            parse_feed(doc.as_bytes(), None, None)
                .map(|_| ())
                .unwrap_err()
        };
        let html = err("<!DOCTYPE html><html><body>hi</body></html>");
        assert_eq!(
            html.to_string(),
            "not a feed: root element <html> is not an RSS, Atom or RDF feed"
        );
        let broken = err("<rss version=\"2.0\">\n<channel>\n<title>x</title\n");
        assert!(
            matches!(broken, ParseError::Xml { line: Some(3), .. }),
            "{broken}"
        );
        assert!(
            broken
                .to_string()
                .starts_with("not a feed: XML error at line 3: "),
            "{broken}"
        );
        assert_eq!(err("   ").to_string(), "not a feed: empty document");
        assert_eq!(err("{\"a\":1}").class(), "json");
        assert_eq!(err("plain words").class(), "not-a-feed");
    }
}
