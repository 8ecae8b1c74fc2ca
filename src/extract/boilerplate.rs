//! What page furniture looks like: element markers (class, id, role) and the short lines that
//! surround article text (bylines, datelines, credits, share and subscribe prompts).

use std::sync::LazyLock;

use regex::Regex;

/// Class/id words that mark furniture wherever they appear in a name ("related-links",
/// "cookieBanner"). Long enough not to occur inside ordinary words.
const MARKER_SUBSTRINGS: &[&str] = &[
    "cookie",
    "consent",
    "gdpr",
    "newsletter",
    "subscribe",
    "subscription",
    "signup",
    "sign-up",
    "social",
    "sharing",
    "sharebar",
    "share-",
    "-share",
    "breadcrumb",
    "related",
    "recommend",
    "sidebar",
    "advert",
    "sponsor",
    "promo",
    "popup",
    "modal",
    "paywall",
    "caption",
    "byline",
    "dateline",
    "most-popular",
    "mostpopular",
    "trending",
    "navbar",
    "navigation",
    "pagination",
    "toolbar",
    "author-bio",
    "authorbio",
    "visually-hidden",
    "visuallyhidden",
    "sr-only",
    "screen-reader",
    "read-more",
    "readmore",
    "more-stories",
    "skip-link",
];

/// Class/id words of furniture that may hold more prose than the article itself (reader
/// comments, recommendation widgets): removed even when they contain prose paragraphs.
const STRONG_SUBSTRINGS: &[&str] = &["outbrain", "taboola", "disqus", "comments"];

/// Whole-token forms of the strong markers.
const STRONG_TOKENS: &[&str] = &["comment", "replies"];

/// Class/id words that mark furniture only as a whole token ("ad", "nav": too short to search
/// inside other words).
const MARKER_TOKENS: &[&str] = &[
    "ad",
    "ads",
    "nav",
    "menu",
    "share",
    "tags",
    "footer",
    "credit",
    "credits",
    "author",
    "banner",
    "masthead",
    "skip",
    "timestamp",
];

/// ARIA roles of furniture.
const MARKER_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "dialog",
    "alertdialog",
    "search",
    "menu",
    "menubar",
    "toolbar",
];

/// Tags whose content is never article text.
const FURNITURE_TAGS: &[&str] = &[
    "nav",
    "aside",
    "footer",
    "header",
    "figcaption",
    "button",
    "select",
    "input",
    "textarea",
    "label",
    "iframe",
    "svg",
    "canvas",
    "video",
    "audio",
    "dialog",
    "menu",
];

/// The facts about an element that decide whether it is furniture.
pub(super) struct ElementFacts<'a> {
    pub tag: &'a str,
    pub class: Option<&'a str>,
    pub id: Option<&'a str>,
    pub role: Option<&'a str>,
    pub style: Option<&'a str>,
    pub hidden: bool,
}

/// How sure a marker is that an element is furniture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Furniture {
    No,
    /// Furniture unless it holds article prose (layout wrappers carry these names too).
    Weak,
    /// Furniture even when it holds prose (comment threads), unless it wraps the article.
    Strong,
}

/// Whether the element is page furniture (to be removed with all its content).
pub(super) fn furniture(el: &ElementFacts<'_>) -> Furniture {
    // The document's outer containers are never furniture, whatever their classes say
    // ("has-sidebar" on <body> is common).
    if matches!(el.tag, "html" | "head" | "body" | "main" | "article") {
        return Furniture::No;
    }
    let names = format!("{} {}", el.class.unwrap_or(""), el.id.unwrap_or(""));
    if marks_strong(&names) {
        return Furniture::Strong;
    }
    if is_weak_furniture(el, &names) {
        Furniture::Weak
    } else {
        Furniture::No
    }
}

fn is_weak_furniture(el: &ElementFacts<'_>, names: &str) -> bool {
    if el.hidden || FURNITURE_TAGS.contains(&el.tag) {
        return true;
    }
    if let Some(style) = el.style {
        let style: String = style.chars().filter(|c| !c.is_whitespace()).collect();
        let style = style.to_ascii_lowercase();
        if style.contains("display:none") || style.contains("visibility:hidden") {
            return true;
        }
    }
    if el
        .role
        .is_some_and(|role| MARKER_ROLES.contains(&role.trim().to_ascii_lowercase().as_str()))
    {
        return true;
    }
    marks_furniture(names)
}

/// Whether class and id words name comment threads or recommendation widgets.
fn marks_strong(names: &str) -> bool {
    let lower = names.to_ascii_lowercase();
    STRONG_SUBSTRINGS.iter().any(|m| lower.contains(m))
        || split_tokens(names).any(|token| STRONG_TOKENS.contains(&token.as_str()))
}

/// Whether class and id words name furniture.
fn marks_furniture(names: &str) -> bool {
    let lower = names.to_ascii_lowercase();
    if MARKER_SUBSTRINGS.iter().any(|m| lower.contains(m)) {
        return true;
    }
    split_tokens(names).any(|token| MARKER_TOKENS.contains(&token.as_str()))
}

/// Words of class/id names: split at punctuation, whitespace and camelCase humps.
fn split_tokens(names: &str) -> impl Iterator<Item = String> + '_ {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in names.chars() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !current.is_empty() {
            tokens.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens.into_iter()
}

static JUNK_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)^(?:",
        r"advertisement|sponsored|ad|story continues below|continue reading.*|read more.*|",
        r"share(?: this)?(?: article| story| post)?:?|share on [a-z0-9_]+|tweet|email|print|",
        r"(?:sign up|subscribe)(?-u:\b).{0,80}|related(?: articles| stories| content| coverage)?:?|",
        r"(?:see|read) also:?|click here.{0,60}|loading.{0,20}|",
        r"(?:we|this (?:site|website)) uses? cookies.{0,200}|",
        r"(?:photo|image|picture|credit|source|video)s?\s*:.{0,120}|",
        r"advertisement - scroll to continue|skip to (?:main )?content|",
        r"advert|more|don['’]?t miss|related news|\d* ?comments?|this slideshow requires javascript|",
        r"most (?:read|popular|viewed)|you may also like|latest|popular|highlights|trending|",
        r"recommended|tags?|more (?:stories|news)|tell us what you think|",
        r"leggi anche|lesen sie auch|lire aussi|ver tambi[eé]n",
        r")[.:!…]*$"
    ))
    .unwrap_or_else(|e| unreachable!("static regex: {e}"))
});

/// Calls to action and notices that sit inside article bodies: follow-us and app prompts,
/// newsletter and paywall prompts, contact-the-reporter lines, copyright notices.
static PROMPT_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)",
        r"^follow (?:us|\S+(?: \S+)?) on (?:twitter|facebook|instagram|youtube|linkedin)(?-u:\b)|",
        r"(?-u:\b)(?:download|get) (?:the|our) [a-z0-9_ ]{0,40}(?-u:\b)apps?(?-u:\b)|",
        r"(?-u:\b)with (?:the|our) [a-z0-9_ ]{0,30}(?-u:\b)app[.!]?$|",
        r"(?-u:\b)(?:sign(?:ing)? up|subscribe)(?-u:\b).{0,60}(?-u:\b)newsletters?(?-u:\b)|",
        r"(?-u:\b)newsletters?(?-u:\b).{0,60}(?-u:\b)inbox(?-u:\b)|(?-u:\b)inbox(?-u:\b).{0,60}(?-u:\b)newsletters?(?-u:\b)|",
        r"(?-u:\b)already an? (?:subscriber|member)(?-u:\b)|(?-u:\b)first-time subscribers(?-u:\b)|",
        r"(?-u:\b)to (?:view|read|continue reading) (?:the|this) (?:full |rest of the |entire )?(?:story|article)(?-u:\b)|",
        r"^(?:have a (?:news )?tip(?-u:\b)|reach the reporters?(?-u:\b)|contact the (?:author|reporter|writer)(?-u:\b))|",
        r"©|(?-u:\b)all rights reserved(?-u:\b)|^copyright(?-u:\b)"
    ))
    .unwrap_or_else(|e| unreachable!("static regex: {e}"))
});

static HEAD_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)^(?:",
        r"by\s+\S.{0,80}|written by.{0,80}|posted by.{0,80}|",
        r"(?:published|updated|posted|last (?:updated|modified))(?-u:\b).{0,80}|",
        r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s.{0,60}|",
        r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?-u:\b).{0,60}|",
        r"\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{4}.{0,60}|",
        r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}.{0,40}|",
        r"\d+\s+(?:min|minute)s?\s+read|",
        r"(?:photo|image|file photo|credit)(?-u:\b).{0,120}",
        r")$"
    ))
    .unwrap_or_else(|e| unreachable!("static regex: {e}"))
});

/// A short line that is never article text wherever it appears ("Advertisement", "Share this").
pub(super) fn is_junk_line(text: &str) -> bool {
    let chars = text.chars().count();
    (chars <= 250 && JUNK_LINE.is_match(text.trim()))
        || (chars <= PROMPT_LINE_CHARS && PROMPT_LINE.is_match(text.trim()))
}

/// Prompts and notices are a sentence or two; longer lines are prose that mentions them.
const PROMPT_LINE_CHARS: usize = 300;

/// A line that is furniture when it comes before the article text (bylines, datelines, credits).
pub(super) fn is_head_line(text: &str) -> bool {
    text.chars().count() <= 120 && HEAD_LINE.is_match(text.trim())
}

static LIST_INTRO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)^(?:more|don['’]?t miss|related(?: news| articles| stories| content| coverage)?|",
        r"(?:see|read) also|you may also like|more (?:stories|news)|",
        r"leggi anche|lesen sie auch|lire aussi|ver tambi[eé]n)[.:!…]*$"
    ))
    .unwrap_or_else(|e| unreachable!("static regex: {e}"))
});

/// A line that introduces a list of links to other stories ("More:", "Don't miss").
pub(super) fn is_list_intro(text: &str) -> bool {
    text.chars().count() <= 40 && LIST_INTRO.is_match(text.trim())
}

/// Longest headline of a linked-story list.
const HEADLINE_CHARS: usize = 160;

/// A line shaped like a linked headline: short, and not a finished sentence.
pub(super) fn is_headline(text: &str) -> bool {
    let text = text.trim();
    text.chars().count() <= HEADLINE_CHARS && !text.ends_with(['.', '?', '!', '"', '”', ':'])
}
