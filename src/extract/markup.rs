//! The part of a page's markup that extraction reads: script and style bodies dropped (code,
//! never article text, and most of a large page's bytes), then at most [`MAX_MARKUP_BYTES`].

use std::borrow::Cow;

use crate::normalize::html_head;

/// Bytes of markup read once script and style bodies are gone: more than twice the largest of
/// the evaluation pages (about 450 kB, a page of 820 kB with its code), so whole pages are read,
/// while a huge page costs no more than a page this long. The article comes first on a page,
/// and what is cut is its tail.
pub const MAX_MARKUP_BYTES: usize = 1 << 20;

/// `html` without the bodies of its `<script>` and `<style>` elements (JSON-LD scripts are
/// kept: they describe the article), cut to at most [`MAX_MARKUP_BYTES`] before a tag or at a
/// space, so that no tag, entity or word is cut in half.
pub fn bounded(html: &str) -> Cow<'_, str> {
    match without_code(html) {
        Cow::Borrowed(html) => Cow::Borrowed(html_head(html, MAX_MARKUP_BYTES)),
        Cow::Owned(mut html) => {
            html.truncate(html_head(&html, MAX_MARKUP_BYTES).len());
            Cow::Owned(html)
        }
    }
}

/// Drops what lies between `<script …>` / `<style …>` and the next `</script` / `</style`, as
/// the HTML tokenizer reads them. Comments are skipped whole, so a tag quoted inside one does
/// not start a drop.
fn without_code(html: &str) -> Cow<'_, str> {
    let lower = html.to_ascii_lowercase();
    let mut kept = String::new();
    // Bytes of `html` before `done` are in `kept` (or dropped).
    let mut done = 0;
    let mut at = 0;
    while let Some(offset) = lower.get(at..).and_then(|rest| rest.find('<')) {
        let open = at + offset;
        let rest = &lower[open..];
        if rest.starts_with("<!--") {
            at = rest.find("-->").map_or(lower.len(), |end| open + end + 3);
            continue;
        }
        let Some(close) = code_element(rest) else {
            at = open + 1;
            continue;
        };
        let Some(tag_end) = rest.find('>').map(|end| open + end + 1) else {
            break;
        };
        let body_end = lower[tag_end..]
            .find(close)
            .map_or(lower.len(), |end| tag_end + end);
        let json_ld = close == "</script" && lower[open..tag_end].contains("ld+json");
        if !json_ld && body_end > tag_end {
            kept.push_str(&html[done..tag_end]);
            done = body_end;
        }
        at = body_end;
    }
    if done == 0 {
        return Cow::Borrowed(html);
    }
    kept.push_str(&html[done..]);
    Cow::Owned(kept)
}

/// The closing tag of the code element `tag` opens (`tag` starts at its `<`), if it is one.
fn code_element(tag: &str) -> Option<&'static str> {
    let (name, close) = if tag.starts_with("<script") {
        ("<script", "</script")
    } else if tag.starts_with("<style") {
        ("<style", "</style")
    } else {
        return None;
    };
    let after = tag[name.len()..].chars().next()?;
    (after == '>' || after == '/' || after.is_ascii_whitespace()).then_some(close)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_bodies_go_and_markup_stays() {
        let html = "<head><STYLE media=x>p { color: red }</STYLE><script>var a = '<p>';</script>\
                    <script type=\"application/ld+json\">{\"headline\": \"H\"}</script></head>\
                    <body><!-- <script> --><p>Text</p><scripted>kept</scripted></body>";
        assert_eq!(
            bounded(html),
            "<head><STYLE media=x></STYLE><script></script>\
             <script type=\"application/ld+json\">{\"headline\": \"H\"}</script></head>\
             <body><!-- <script> --><p>Text</p><scripted>kept</scripted></body>"
        );
        assert!(matches!(bounded("<p>plain</p>"), Cow::Borrowed(_)));
    }

    #[test]
    fn long_markup_is_cut_before_a_tag() {
        let paragraph = "<p>Some words of the article, one after another.</p>\n";
        let html = paragraph.repeat(2 * MAX_MARKUP_BYTES / paragraph.len());
        let cut = bounded(&html);
        assert!(cut.len() <= MAX_MARKUP_BYTES);
        assert!(cut.len() > MAX_MARKUP_BYTES - paragraph.len());
        let next = html[cut.len()..].chars().next();
        assert!(
            next.is_some_and(|c| c == '<' || c.is_whitespace()),
            "{next:?}"
        );
    }
}
