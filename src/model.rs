//! Plain data passed between stages. No I/O here.

use jiff::Timestamp;

/// One entry of a feed after parsing and normalization, before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Stable identity within its feed: guid/id, else canonical link, else a hash of title+date.
    pub key: String,
    /// Canonical article URL (tracking parameters and fragment removed), if the entry has a link.
    pub url: Option<String>,
    /// Plain-text title (HTML removed, whitespace collapsed). May be empty for title-less items.
    pub title: String,
    pub author: Option<String>,
    /// Publication time (UTC); falls back to the updated time when the feed gives only that.
    pub published: Option<Timestamp>,
    /// Plain text of the entry's own content (content:encoded / atom content / JSON content_html),
    /// or of its summary/description when there is no content.
    pub text: String,
    /// The raw HTML content when the feed gives HTML; extraction may prefer it to `text`.
    pub content_html: Option<String>,
}

/// What a parsed feed document says about itself, besides its entries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedMeta {
    pub title: Option<String>,
    pub site_url: Option<String>,
    /// RSS `<ttl>` in minutes, as a hint for the next poll.
    pub ttl_minutes: Option<u32>,
    /// "RSS 2.0", "Atom", "JSON Feed"…
    pub format: &'static str,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedFeed {
    pub meta: FeedMeta,
    pub entries: Vec<Entry>,
}
