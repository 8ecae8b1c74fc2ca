//! Canonical URLs, HTML to plain text, and stable entry identity.
//!
//! [`html_to_text`] is the one place HTML becomes plain text (paragraph breaks, entities,
//! whitespace): feed content and summaries here, and the article container that
//! [`crate::extract`] chose on a page.

use scraper::{Html, Node};
use url::Url;

/// Query parameters that only track the reader and never select content.
const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "gclsrc",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "_ga",
    "_gl",
    "igshid",
    "yclid",
    "twclid",
    "ttclid",
    "li_fat_id",
    "ref_src",
    "ref_url",
    "_hsenc",
    "_hsmi",
    "mkt_tok",
    "oly_anon_id",
    "oly_enc_id",
    "vero_id",
    "wickedid",
    "srsltid",
    "ncid",
    "cmpid",
];

/// Canonical form of an article URL: absolute (resolved against `base`), fragment removed,
/// tracking parameters (utm_*, fbclid, gclid, …) removed. `None` if it is not an http(s)/file URL.
pub fn canonical_url(raw: &str, base: Option<&Url>) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let mut url = match base {
        Some(b) => b.join(raw).ok()?,
        None => Url::parse(raw).ok()?,
    };
    if !matches!(url.scheme(), "http" | "https" | "file") {
        return None;
    }
    if url.scheme() != "file" && url.host_str().is_none_or(str::is_empty) {
        return None;
    }
    url.set_fragment(None);
    let kept = url.query().map(strip_tracking);
    url.set_query(kept.as_deref().filter(|q| !q.is_empty()));
    Some(url.to_string())
}

/// The query string without tracking parameters and empty `&&` segments; the kept
/// parameters are left byte-for-byte as they were (no re-encoding).
fn strip_tracking(query: &str) -> String {
    query
        .split('&')
        .filter(|pair| !pair.is_empty() && !is_tracking_param(pair.split('=').next().unwrap_or("")))
        .collect::<Vec<_>>()
        .join("&")
}

fn is_tracking_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("utm_") || TRACKING_PARAMS.contains(&name.as_str())
}

/// Elements whose text is never reader-visible prose.
fn is_skipped(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "head"
            | "title"
            | "iframe"
            | "object"
            | "svg"
    )
}

/// How an element lays out its content in the plain-text rendering.
#[derive(Clone, Copy)]
enum Layout {
    Inline,
    /// A paragraph of its own.
    Block,
    /// A paragraph whose line breaks are kept (code, poetry, aligned figures).
    Preformatted,
    /// A table row: one line, its cells side by side.
    Row,
    /// A table cell: separated from the next cell by a space.
    Cell,
}

fn layout(name: &str) -> Layout {
    match name {
        "pre" => Layout::Preformatted,
        "tr" => Layout::Row,
        "td" | "th" => Layout::Cell,
        _ if is_block(name) => Layout::Block,
        _ => Layout::Inline,
    }
}

/// Elements that start a new paragraph in the plain-text rendering.
fn is_block(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "aside"
            | "blockquote"
            | "body"
            | "center"
            | "dd"
            | "details"
            | "dialog"
            | "dir"
            | "div"
            | "dl"
            | "dt"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "form"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "header"
            | "hr"
            | "html"
            | "li"
            | "main"
            | "menu"
            | "nav"
            | "ol"
            | "p"
            | "section"
            | "summary"
            | "table"
            | "tbody"
            | "tfoot"
            | "thead"
            | "ul"
    )
}

/// Accumulates text into paragraphs with collapsed inline whitespace.
#[derive(Default)]
struct TextBuilder {
    paragraphs: Vec<String>,
    current: String,
    pending_space: bool,
    /// Open `<pre>` elements: inside one, a newline in the text is a line break.
    preformatted: usize,
}

impl TextBuilder {
    fn push_text(&mut self, text: &str) {
        for c in text.chars() {
            if c == '\n' && self.preformatted > 0 {
                self.line_break();
            } else if c.is_whitespace() {
                self.pending_space = true;
            } else {
                if self.pending_space && !self.current.is_empty() && !self.current.ends_with('\n') {
                    self.current.push(' ');
                }
                self.pending_space = false;
                self.current.push(c);
            }
        }
    }

    fn line_break(&mut self) {
        if !self.current.is_empty() && !self.current.ends_with('\n') {
            self.current.push('\n');
        }
        self.pending_space = false;
    }

    fn paragraph_break(&mut self) {
        let para = self.current.trim_end();
        if !para.is_empty() {
            self.paragraphs.push(para.to_string());
        }
        self.current.clear();
        self.pending_space = false;
    }

    fn open(&mut self, layout: Layout) {
        match layout {
            Layout::Block => self.paragraph_break(),
            Layout::Preformatted => {
                self.paragraph_break();
                self.preformatted += 1;
            }
            Layout::Inline | Layout::Row | Layout::Cell => {}
        }
    }

    fn close(&mut self, layout: Layout) {
        match layout {
            Layout::Block => self.paragraph_break(),
            Layout::Preformatted => {
                self.preformatted = self.preformatted.saturating_sub(1);
                self.paragraph_break();
            }
            Layout::Row => self.line_break(),
            Layout::Cell => self.pending_space = true,
            Layout::Inline => {}
        }
    }

    fn finish(mut self) -> String {
        self.paragraph_break();
        self.paragraphs.join("\n\n")
    }
}

/// Plain text from an HTML fragment: tags removed, entities decoded, whitespace collapsed;
/// block elements become paragraph breaks ("\n\n"), `<br>` a line break; a table row is one
/// line of its cells, and `<pre>` keeps its line breaks.
///
/// Text that is not HTML (no tag-like `<x`, `</`, `<!`) is treated as plain text: its
/// blank lines are kept as paragraph breaks and only its entities are decoded.
pub fn html_to_text(html: &str) -> String {
    if !looks_like_html(html) {
        return plain_to_text(html);
    }
    let doc = Html::parse_fragment(html);
    let mut out = TextBuilder::default();
    // Iterative walk: feed content can nest deeply enough to overflow a recursive one.
    enum Step<N> {
        Enter(N),
        Leave(Layout),
    }
    let mut stack = vec![Step::Enter(doc.tree.root())];
    while let Some(step) = stack.pop() {
        let node = match step {
            Step::Enter(node) => node,
            Step::Leave(layout) => {
                out.close(layout);
                continue;
            }
        };
        match node.value() {
            Node::Text(t) => {
                out.push_text(t);
                continue;
            }
            Node::Element(e) => {
                let name = e.name();
                if is_skipped(name) {
                    continue;
                }
                if name == "br" {
                    out.line_break();
                    continue;
                }
                let layout = layout(name);
                out.open(layout);
                stack.push(Step::Leave(layout));
            }
            Node::Document | Node::Fragment => {}
            _ => continue,
        }
        // Children pushed in reverse so they pop in document order.
        let mut child = node.last_child();
        while let Some(c) = child {
            stack.push(Step::Enter(c));
            child = c.prev_sibling();
        }
    }
    out.finish()
}

/// Whether `s` contains something an HTML parser would treat as markup.
fn looks_like_html(s: &str) -> bool {
    s.as_bytes()
        .windows(2)
        .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/' || w[1] == b'!'))
}

/// Plain text (perhaps with entities): paragraphs at blank lines, whitespace collapsed.
fn plain_to_text(s: &str) -> String {
    let mut out = TextBuilder::default();
    for (i, line) in s.lines().enumerate() {
        if line.trim().is_empty() {
            out.paragraph_break();
            continue;
        }
        if i > 0 {
            out.pending_space = true;
        }
        if line.contains('&') {
            out.push_text(&decode_entities(line));
        } else {
            out.push_text(line);
        }
    }
    out.finish()
}

/// Decodes HTML character references in text that contains no markup.
fn decode_entities(s: &str) -> String {
    // No tag-like sequence is present, so the HTML parser only decodes references here.
    let doc = Html::parse_fragment(s);
    doc.root_element().text().collect()
}

/// At most `max_bytes` of `html` from its start, cut before a tag or at whitespace (hard on a
/// character boundary when neither occurs), so that no tag, entity or word is cut in half.
/// Reading costs only the head.
pub fn html_head(html: &str, max_bytes: usize) -> &str {
    if html.len() <= max_bytes {
        return html;
    }
    let mut cut = max_bytes;
    while !html.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = &html[..cut];
    match head.rfind(|c: char| c == '<' || c.is_whitespace()) {
        Some(at) => &html[..at],
        None => head,
    }
}

/// Collapses runs of whitespace to single spaces and trims (for titles).
pub fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A title as one line of plain text: HTML removed, entities decoded, whitespace collapsed.
pub fn title_text(raw: &str) -> String {
    if !raw.contains(['<', '&']) {
        return collapse_whitespace(raw);
    }
    collapse_whitespace(&html_to_text(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://Example.COM/news/index.html").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn resolves_relative_and_drops_fragment() {
        let got = canonical_url("../a/b.html#top", Some(&base()));
        assert_eq!(got.as_deref(), Some("https://example.com/a/b.html"));
    }

    #[test]
    fn drops_tracking_params_keeps_others_verbatim() {
        let raw = "https://x.org/p?id=7&utm_source=rss&UTM_Medium=x&fbclid=abc&q=a%20b&&gclid=1";
        assert_eq!(
            canonical_url(raw, None).as_deref(),
            Some("https://x.org/p?id=7&q=a%20b")
        );
    }

    #[test]
    fn removes_empty_query() {
        let raw = "HTTP://WWW.X.ORG/p?utm_campaign=z&mc_eid=1";
        assert_eq!(
            canonical_url(raw, None).as_deref(),
            Some("http://www.x.org/p")
        );
        assert_eq!(
            canonical_url("https://x.org/p?", None).as_deref(),
            Some("https://x.org/p")
        );
    }

    #[test]
    fn rejects_other_schemes_and_empty() {
        assert_eq!(canonical_url("javascript:alert(1)", None), None);
        assert_eq!(canonical_url("mailto:a@b.c", Some(&base())), None);
        assert_eq!(canonical_url("  ", Some(&base())), None);
        assert_eq!(canonical_url("not a url", None), None);
        assert_eq!(
            canonical_url("file:///tmp/x.xml", None).as_deref(),
            Some("file:///tmp/x.xml")
        );
    }

    #[test]
    fn html_blocks_become_paragraphs() {
        let html = "<h1>Title</h1><p>First   <b>bold</b>\n para.</p><ul><li>one</li><li>two</li></ul>\
                    <div>a<br>b</div>";
        assert_eq!(
            html_to_text(html),
            "Title\n\nFirst bold para.\n\none\n\ntwo\n\na\nb"
        );
    }

    #[test]
    fn html_drops_script_style_and_decodes_entities() {
        let html = "<p>AT&amp;T &lt;3 &eacute;t&#233;</p><script>var x = 1;</script>\
                    <style>p{}</style><noscript>enable js</noscript>";
        assert_eq!(html_to_text(html), "AT&T <3 été");
    }

    #[test]
    fn plain_text_survives() {
        assert_eq!(html_to_text("  a < b and c > d  "), "a < b and c > d");
        assert_eq!(
            html_to_text("Tom &amp; Jerry\n\nsecond  para"),
            "Tom & Jerry\n\nsecond para"
        );
        assert_eq!(html_to_text("x<3 & y"), "x<3 & y");
        assert_eq!(html_to_text(""), "");
    }

    #[test]
    fn table_rows_are_lines_and_pre_keeps_its_lines() {
        let html = "<table><tr><th>Pos</th><th>Player</th></tr><tr><td>DL</td><td>Ann <b>Lee</b></td></tr>\
                    </table><pre>fn main() {\n    go();\n}</pre><p>after</p>";
        assert_eq!(
            html_to_text(html),
            "Pos Player\nDL Ann Lee\n\nfn main() {\ngo();\n}\n\nafter"
        );
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let html = "<div>".repeat(20_000) + "deep" + &"</div>".repeat(20_000);
        assert_eq!(html_to_text(&html), "deep");
    }

    #[test]
    fn html_head_cuts_before_a_tag_or_word() {
        assert_eq!(html_head("<p>short</p>", 100), "<p>short</p>");
        assert_eq!(html_head("<p>one</p><p>two</p>", 15), "<p>one</p>");
        assert_eq!(html_head("<p>one two&amp;three</p>", 18), "<p>one");
        assert_eq!(html_head("ééé", 5), "éé");
    }

    #[test]
    fn titles_are_one_line() {
        assert_eq!(
            title_text(" <b>Big</b>\n news &amp; more "),
            "Big news & more"
        );
        assert_eq!(title_text("<p>a</p><p>b</p>"), "a b");
        assert_eq!(collapse_whitespace("\t a \n b "), "a b");
    }
}
