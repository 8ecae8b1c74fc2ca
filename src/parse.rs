//! Feed documents (RSS 0.9x/1.0/2.0, Atom, JSON Feed) into normalized [`Entry`] values via feed-rs.
//! STUB: to be completed (see helper brief).

use url::Url;

use crate::model::ParsedFeed;

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("not a feed: {0}")]
    NotAFeed(String),
}

/// Parses a feed body. `content_type` is the HTTP header (for charset); `base` resolves relative links.
pub fn parse_feed(
    bytes: &[u8],
    content_type: Option<&str>,
    base: Option<&Url>,
) -> Result<ParsedFeed, ParseError> {
    let _ = (bytes, content_type, base);
    Err(ParseError::NotAFeed("parser not written yet".into()))
}
