//! Canonical URLs, HTML to plain text, and stable entry identity.
//! STUB: to be completed (see helper brief).

use url::Url;

/// Canonical form of an article URL: absolute (resolved against `base`), fragment removed,
/// tracking parameters (utm_*, fbclid, gclid, …) removed. `None` if it is not an http(s)/file URL.
pub fn canonical_url(raw: &str, base: Option<&Url>) -> Option<String> {
    let url = match base {
        Some(b) => b.join(raw.trim()).ok()?,
        None => Url::parse(raw.trim()).ok()?,
    };
    Some(url.to_string())
}

/// Plain text from an HTML fragment: tags removed, entities decoded, whitespace collapsed;
/// block elements become paragraph breaks ("\n\n").
pub fn html_to_text(html: &str) -> String {
    html.to_string()
}

/// Collapses runs of whitespace to single spaces and trims (for titles).
pub fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
