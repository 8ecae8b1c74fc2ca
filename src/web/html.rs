//! HTML building blocks: every text from a feed is escaped here, links are http(s) only, and
//! every page shares one shell (readable without JavaScript, on a phone, in dark mode).

/// Text for an HTML element or a quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => {}
            c => out.push(c),
        }
    }
    out
}

/// `<a href="url">text</a>` when `url` is an http(s) URL, else the escaped text alone: a feed
/// cannot put `javascript:` or `data:` into a page.
pub fn link(text: &str, url: Option<&str>) -> String {
    match url.filter(|u| crate::present::text::is_web_url(u)) {
        Some(url) => format!(
            "<a href=\"{}\" rel=\"noopener noreferrer nofollow\">{}</a>",
            escape(url),
            escape(text)
        ),
        None => escape(text),
    }
}

/// A whole page: `title` (plain text) and `body` (HTML already escaped by the callers).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"color-scheme\" content=\"light dark\">\
<title>{}</title><style>{CSS}</style></head>\n<body><header><a href=\"/\">newsdesk</a>\
<a href=\"/search\">Search</a></header>\n\
<main>{body}</main>\n</body></html>\n",
        escape(title)
    )
}

/// The one stylesheet, inline (the Content-Security-Policy allows inline styles, nothing else).
const CSS: &str = "body{margin:0 auto;max-width:46rem;padding:0 1rem 3rem;font:1.05rem/1.55 \
system-ui,sans-serif;color:#1d1d1f;background:#fff;overflow-wrap:break-word}header{display:flex;\
justify-content:space-between;padding:.8rem 0;border-bottom:1px solid #ddd}header a{color:inherit;\
text-decoration:none}header a:first-child{font-weight:600}a{color:#0b57d0}h1{font-size:1.6rem;\
line-height:1.25;margin:1.2rem 0 .4rem}h2{font-size:1.05rem;margin:1.6rem 0 .5rem;\
text-transform:uppercase;letter-spacing:.04em;color:#555}.byline,.meta{color:#666;font-size:.9rem}\
.gist{font-size:1.15rem;font-weight:500}ul{padding-left:1.1rem}.related,.stories{list-style:none;\
padding:0}.related li,.stories li{margin:0 0 1.1rem}.related p,.stories p{margin:.2rem 0}\
.topics a{margin-right:.6rem;white-space:nowrap}nav{margin-top:2rem}input,button{font:inherit;\
max-width:100%}.wide{overflow-x:auto}table{border-collapse:collapse;font-size:.9rem}th,td{\
text-align:left;vertical-align:top;padding:.35rem .9rem .35rem 0;border-bottom:1px solid #ddd}\
@media (prefers-color-scheme:dark){body{color:#e8e8ea;background:#121214}header,th,td{\
border-color:#333}a{color:#8ab4f8}.byline,.meta,h2{color:#a0a0a8}}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_text_cannot_become_markup_or_script() {
        let hostile = "<script>alert(1)</script>\"><img src=x onerror=alert(1)>";
        let escaped = escape(hostile);
        assert!(!escaped.contains('<') && !escaped.contains('>') && !escaped.contains('"'));
        assert_eq!(link("x", Some("javascript:alert(1)")), "x");
        assert_eq!(link("x", Some("data:text/html,hi")), "x");
        assert!(
            link("a\"b", Some("https://e.org/?q=\"><script>"))
                .starts_with("<a href=\"https://e.org/?q=&quot;&gt;&lt;script&gt;\"")
        );
    }
}
