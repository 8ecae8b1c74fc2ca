//! The main text of an article page.
//!
//! Page furniture marked by tag, class, id or role (navigation, cookie and newsletter prompts,
//! share bars, related-link lists, captions, bylines) is removed first; the Readability algorithm
//! (`dom_smoothie`) then picks the article container. The container's HTML becomes text in
//! [`normalize::html_to_text`], as feed content does, and is cleaned of furniture lines and of
//! the bylines/datelines before the first paragraph.
//!
//! Two HTML parsers, two jobs: `dom_query` (under `dom_smoothie`) holds the page for choosing
//! the container (furniture removal, Readability scoring); `scraper` (in `normalize`) turns an
//! HTML fragment into text. Handing the container to `normalize` instead of taking
//! `dom_smoothie`'s own text left the extraction scores unchanged (`score_extraction.py`, tune
//! and check parts).
//!
//! Only the first [`MAX_MARKUP_BYTES`] of a page's markup are read, script and style
//! bodies left out, so a huge page costs no more than a long article.
//!
//! `dom_smoothie` was measured against a scraper-based density scorer on the evaluation pages and
//! scored clearly better at similar speed.

mod boilerplate;
mod markup;
mod sniff;

pub use markup::MAX_MARKUP_BYTES;

use std::borrow::Cow;

use dom_smoothie::{Config, Readability};
use url::Url;

use crate::charset::{self, DocKind};
use crate::normalize;
use boilerplate::{ElementFacts, Furniture};
use dom_query::NodeRef;

#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    pub title: Option<String>,
    /// Main text; paragraphs separated by "\n\n". Starts with the article itself.
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("no article text found")]
    NoText,
    #[error("page nested deeper than {MAX_DEPTH} elements")]
    TooDeep,
    #[error("page not readable: {0}")]
    Readability(#[from] dom_smoothie::ReadabilityError),
    #[error("not an HTML or text page: {0}")]
    NotText(&'static str),
}

/// Decodes page bytes (charset from the header, BOM or `<meta>`) and extracts the article.
/// Bytes that are not a page (a PDF, an image, binary data) are refused.
pub fn extract_bytes(
    bytes: &[u8],
    content_type: Option<&str>,
    url: Option<&Url>,
) -> Result<Extracted, ExtractError> {
    if let Some(what) = sniff::binary_signature(bytes) {
        return Err(ExtractError::NotText(what));
    }
    let html = charset::decode(bytes, content_type, DocKind::Html);
    if let Some(what) = sniff::binary_text(&html) {
        return Err(ExtractError::NotText(what));
    }
    extract(&html, url)
}

/// The title and main text of an article page.
pub fn extract(html: &str, url: Option<&Url>) -> Result<Extracted, ExtractError> {
    // Only the container's HTML is used: its text comes from `normalize::html_to_text`.
    let config = Config::default();
    // A URL that is not http(s) (file:, data:) is of no use for resolving links.
    let base = url.filter(|u| matches!(u.scheme(), "http" | "https"));
    // The HTML parser's cost grows with nesting depth per element: refuse hostile nesting
    // from the raw markup before parsing it.
    if unclosed_tags(html) > MAX_UNCLOSED {
        return Err(ExtractError::TooDeep);
    }
    let bounded = markup::bounded(html);
    let html = unwrap_noscript_prose(&bounded);
    let mut reader = Readability::new(html.as_ref(), base.map(Url::as_str), Some(config))?;
    if nesting_exceeds(&reader, MAX_DEPTH) {
        return Err(ExtractError::TooDeep);
    }
    remove_furniture(&reader);
    let article = reader.parse()?;
    let text = clean_paragraphs(&normalize::html_to_text(&article.content));
    if text.is_empty() {
        return Err(ExtractError::NoText);
    }
    let title = Some(printable_words(&article.title)).filter(|t| !t.is_empty());
    Ok(Extracted { title, text })
}

/// Turns `<noscript>` blocks that hold paragraphs into ordinary elements. Script-rendered pages
/// (blog platforms that ship the post as a template) put the only parseable copy of the article
/// there, and the parser would otherwise keep it as raw text that Readability drops.
fn unwrap_noscript_prose(html: &str) -> Cow<'_, str> {
    const OPEN: &str = "<noscript";
    const CLOSE: &str = "</noscript";
    let lower = html.to_ascii_lowercase();
    if !lower.contains(OPEN) {
        return Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len());
    let mut done = 0;
    while let Some(start) = lower.get(done..).and_then(|rest| rest.find(OPEN)) {
        let start = done + start;
        let Some(end) = lower.get(start..).and_then(|rest| rest.find(CLOSE)) else {
            break;
        };
        let end = start + end;
        let inner_start = start + OPEN.len();
        let prose = lower
            .get(inner_start..end)
            .is_some_and(|inner| inner.contains("<p"));
        out.push_str(html.get(done..start).unwrap_or(""));
        // "<noscript" and "</noscript" become "<div     " and "</div     ": same lengths, so
        // byte offsets from the lowercased copy stay valid.
        if prose {
            out.push_str("<div     ");
            out.push_str(html.get(inner_start..end).unwrap_or(""));
            out.push_str("</div     ");
        } else {
            out.push_str(html.get(start..end + CLOSE.len()).unwrap_or(""));
        }
        done = end + CLOSE.len();
    }
    out.push_str(html.get(done..).unwrap_or(""));
    Cow::Owned(out)
}

/// Real pages nest a few dozen levels; Readability recurses over the tree, so hostile depths
/// would exhaust the stack.
const MAX_DEPTH: usize = 512;

/// More elements left open than any real page has (an estimate from the raw markup).
const MAX_UNCLOSED: usize = 4096;

/// Opening tags minus closing tags, ignoring elements that need no closing tag. An upper bound
/// for nesting that costs one pass over the bytes.
fn unclosed_tags(html: &str) -> usize {
    const SELF_CLOSING: &[&str] = &[
        "br", "img", "hr", "input", "meta", "link", "area", "base", "col", "embed", "source",
        "track", "wbr", "p", "li", "td", "th", "tr", "option", "dd", "dt", "param",
    ];
    let bytes = html.as_bytes();
    let mut open: usize = 0;
    let mut worst: usize = 0;
    let mut i = 0;
    while let Some(offset) = bytes
        .get(i..)
        .and_then(|rest| rest.iter().position(|&b| b == b'<'))
    {
        i += offset + 1;
        let closing = bytes.get(i) == Some(&b'/');
        let start = if closing { i + 1 } else { i };
        let name_len = bytes
            .get(start..)
            .map(|rest| {
                rest.iter()
                    .take_while(|b| b.is_ascii_alphanumeric())
                    .count()
            })
            .unwrap_or(0);
        if name_len == 0 {
            continue;
        }
        let name = html
            .get(start..start + name_len)
            .unwrap_or("")
            .to_ascii_lowercase();
        if SELF_CLOSING.contains(&name.as_str()) {
            continue;
        }
        if closing {
            open = open.saturating_sub(1);
        } else {
            open += 1;
            worst = worst.max(open);
        }
    }
    worst
}

/// Whether the document nests deeper than `limit` (iterative walk: no recursion here).
fn nesting_exceeds(reader: &Readability, limit: usize) -> bool {
    let mut depth = 0usize;
    let mut node = reader.doc.root();
    loop {
        if let Some(child) = node.first_child() {
            depth += 1;
            if depth > limit {
                return true;
            }
            node = child;
            continue;
        }
        loop {
            if let Some(sibling) = node.next_sibling() {
                node = sibling;
                break;
            }
            match node.parent() {
                Some(parent) if depth > 0 => {
                    depth -= 1;
                    node = parent;
                }
                _ => return false,
            }
        }
    }
}

/// Removes furniture elements from the document before Readability scores it.
fn remove_furniture(reader: &Readability) {
    let root = reader.doc.root();
    let document_prose = paragraph_chars(&root);
    let doomed: Vec<_> = root
        .descendants_it()
        .filter(|node| node.is_element())
        .filter(|node| match furniture_of(node) {
            Furniture::No => is_link_list(node),
            Furniture::Weak => !holds_prose(node, document_prose),
            Furniture::Strong => !wraps_article(node),
        })
        .collect();
    for node in doomed {
        node.remove_from_parent();
    }
}

fn furniture_of(node: &NodeRef<'_>) -> Furniture {
    let tag = node.node_name().unwrap_or_default().to_ascii_lowercase();
    let (class, id, role, style) = (
        node.attr("class"),
        node.attr("id"),
        node.attr("role"),
        node.attr("style"),
    );
    boilerplate::furniture(&ElementFacts {
        tag: &tag,
        class: class.as_deref(),
        id: id.as_deref(),
        role: role.as_deref(),
        style: style.as_deref(),
        hidden: node.has_attr("hidden") || node.attr("aria-hidden").as_deref() == Some("true"),
    })
}

/// A list whose items are all links: related stories, "more" lists and tag clouds.
fn is_link_list(node: &NodeRef<'_>) -> bool {
    let is_list = node
        .node_name()
        .is_some_and(|n| n.eq_ignore_ascii_case("ul") || n.eq_ignore_ascii_case("ol"));
    if !is_list {
        return false;
    }
    let text = node.text();
    let total = text
        .split_whitespace()
        .map(|w| w.chars().count())
        .sum::<usize>();
    if total == 0 {
        return false;
    }
    let linked: usize = node
        .descendants_it()
        .filter(|d| d.node_name().is_some_and(|n| n.eq_ignore_ascii_case("a")))
        .map(|a| {
            a.text()
                .split_whitespace()
                .map(|w| w.chars().count())
                .sum::<usize>()
        })
        .sum();
    linked * 100 >= total * LINK_LIST_PERCENT
}

/// Share of a list's text inside links above which the list is navigation, not content.
const LINK_LIST_PERCENT: usize = 90;

fn is_paragraph(node: &NodeRef<'_>) -> bool {
    node.node_name()
        .is_some_and(|n| n.eq_ignore_ascii_case("p"))
}

/// Characters of `<p>` text under `node`.
fn paragraph_chars(node: &NodeRef<'_>) -> usize {
    node.descendants_it()
        .filter(is_paragraph)
        .map(|p| p.text().chars().count())
        .sum()
}

/// Prose paragraphs inside, or most of the page's paragraph text: the element is a wrapper of
/// the article whatever its name says.
fn holds_prose(node: &NodeRef<'_>, document_prose: usize) -> bool {
    let prose = node
        .descendants_it()
        .filter(is_paragraph)
        .filter(|p| p.text().chars().count() >= PROSE_PARAGRAPH_CHARS)
        .take(PROSE_PARAGRAPHS)
        .count();
    prose >= PROSE_PARAGRAPHS || paragraph_chars(node) * 2 > document_prose
}

/// Whether the article's own container is inside (a wrapper named after its comments).
fn wraps_article(node: &NodeRef<'_>) -> bool {
    node.descendants_it().any(|d| {
        d.node_name()
            .is_some_and(|n| n.eq_ignore_ascii_case("article") || n.eq_ignore_ascii_case("main"))
            || d.attr("itemprop").as_deref() == Some("articleBody")
    })
}

/// Paragraphs this long are article prose, not furniture.
const PROSE_PARAGRAPH_CHARS: usize = 150;
/// An element holding this many prose paragraphs is kept whatever its class says: layout wrappers
/// are named after their sidebars and widgets too ("with-sidebar", "widget-area").
const PROSE_PARAGRAPHS: usize = 3;

/// The words of `line` joined by single spaces, without control characters (a page's stray
/// bells and escapes must not reach a terminal, a summary or Discord).
fn printable_words(line: &str) -> String {
    line.split_whitespace()
        .map(|word| word.replace(sniff::is_stray_control, ""))
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Paragraphs of the extracted text, without furniture lines and head bylines/datelines.
fn clean_paragraphs(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    // After a "More:" or "Don't miss" line come linked headlines, up to the next prose line.
    let mut in_headline_list = false;
    for line in text.lines() {
        let line = printable_words(line);
        if line.is_empty() {
            continue;
        }
        if boilerplate::is_list_intro(&line) {
            in_headline_list = true;
            continue;
        }
        if in_headline_list && boilerplate::is_headline(&line) {
            continue;
        }
        in_headline_list = false;
        if boilerplate::is_junk_line(&line) {
            continue;
        }
        let before_article = out.iter().all(|p| p.chars().count() < 120);
        if before_article && boilerplate::is_head_line(&line) {
            continue;
        }
        if out.last() != Some(&line) {
            out.push(line);
        }
    }
    out.join("\n\n")
}
