//! Article extraction on hand-written pages: furniture around the article, and hostile input.

use newsdesk::cli::extract::{ExtractArgs, run};
use newsdesk::extract::{extract, extract_bytes};

const PARAGRAPHS: [&str; 4] = [
    "The city council voted on Tuesday to expand the harbour ferry service, adding three routes \
     that will connect the northern suburbs with the business district by the end of next year.",
    "Council members said the expansion, which will cost an estimated 40 million over five years, \
     was needed because road traffic into the centre has grown faster than any forecast predicted.",
    "Opponents argued that the money would be better spent on buses, which reach more residents, \
     and warned that ferry fares would have to rise to cover the running costs of the new boats.",
    "The first of the new routes is expected to open in the spring, once the landing stages at two \
     of the northern stops have been rebuilt to take the larger vessels the operator has ordered.",
];

fn article_page() -> String {
    let body: String = PARAGRAPHS.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    format!(
        r#"<!doctype html><html><head><title>Ferry service to expand | The Daily Example</title>
<meta property="og:title" content="Ferry service to expand"></head>
<body class="has-sidebar">
<header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav></header>
<div class="cookie-banner"><p>We use cookies to improve your experience. By continuing to browse
you accept our use of cookies and our privacy policy, which explains the choices you have.</p>
<button>Accept</button></div>
<main><article>
<h1>Ferry service to expand</h1>
<div class="byline">By Jane Reporter</div>
<p>Updated March 3, 2024 10:42 am</p>
<figure><img src="a.jpg"><figcaption>The harbour at dawn. Photo: Example Agency</figcaption></figure>
{body}
<div class="newsletter-signup"><p>Sign up for our morning briefing and get the day's most important
stories delivered to your inbox every weekday before breakfast, free of charge.</p></div>
<div class="related-links"><h3>Related</h3><ul>
<li><a href="/a">Bus fares to rise again next month, operator says</a></li>
<li><a href="/b">New bridge opens after two years of construction work</a></li>
<li><a href="/c">Harbour cleanup volunteers collect two tonnes of rubbish</a></li>
</ul></div>
</article></main>
<aside><h3>Most read</h3><ol><li><a href="/x">Something else entirely happened today</a></li></ol></aside>
<footer><p>Copyright The Daily Example. All rights reserved.</p></footer>
</body></html>"#
    )
}

#[test]
fn article_text_without_furniture() {
    let found = extract(&article_page(), None).expect("article found");
    assert_eq!(found.title.as_deref(), Some("Ferry service to expand"));
    assert!(
        found.text.starts_with("The city council voted"),
        "starts with the article: {:?}",
        found.text
    );
    for p in PARAGRAPHS {
        assert!(found.text.contains(p), "missing paragraph {p:?}");
    }
    assert_eq!(found.text.matches("\n\n").count(), PARAGRAPHS.len() - 1);
    for junk in [
        "Home",
        "cookies",
        "Jane Reporter",
        "Updated",
        "Photo:",
        "Sign up",
        "Bus fares",
        "Most read",
        "Copyright",
    ] {
        assert!(!found.text.contains(junk), "furniture {junk:?} kept");
    }
}

#[test]
fn decodes_declared_charset() {
    let page = article_page().replace("<head>", "<head><meta charset=\"windows-1252\">");
    let page = page.replace("The city council", "The caf\u{e9} council");
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&page);
    let found = extract_bytes(&bytes, None, None).expect("article found");
    assert!(
        found.text.starts_with("The caf\u{e9} council"),
        "{:?}",
        found.text
    );
}

#[test]
fn pages_without_article_are_an_error_not_a_panic() {
    assert!(extract("", None).is_err());
    assert!(
        extract(
            "<html><body><nav><a href=/>Home</a></nav></body></html>",
            None
        )
        .is_err()
    );
}

#[test]
fn hostile_pages_do_not_panic() {
    let deep = format!("{}text{}", "<div>".repeat(50_000), "</div>".repeat(10));
    let _ = extract(&deep, None);
    let junk: String = (0..1_000_000u32)
        .map(|i| char::from(b"<>&;\"'/= abcXYZ\n"[(i % 16) as usize]))
        .collect();
    let _ = extract(&junk, None);
    let invalid: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let _ = extract_bytes(&invalid, Some("text/html; charset=utf-8"), None);
    let unclosed = "<p>".repeat(20_000) + &"<table><tr><td>".repeat(5_000);
    let _ = extract(&unclosed, None);
    // Nested furniture and lists: each level is measured, which must stay cheap.
    let nested = "<div class=\"sidebar\"><ul><li><a href=/>x</a>".repeat(1_500)
        + &"<noscript><p>".repeat(2_000);
    let _ = extract(&nested, None);
}

#[test]
fn cli_writes_one_json_line_per_file_and_continues_past_failures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.html");
    std::fs::write(&good, article_page()).expect("write");
    let missing = dir.path().join("missing.html");
    let args_json = ExtractArgs {
        url: None,
        json: true,
        files: vec![missing.clone(), good.clone()],
    };
    let mut out = Vec::new();
    let failed = run(&args_json, &mut out).expect_err("a missing file fails the run");
    assert_eq!(failed.to_string(), "1 of 2 pages failed");
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0]["error"].is_string());
    assert_eq!(lines[1]["title"], "Ferry service to expand");
    assert!(
        lines[1]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("The city council"))
    );
}

fn body_paragraphs() -> String {
    PARAGRAPHS.iter().map(|p| format!("<p>{p}</p>\n")).collect()
}

#[test]
fn article_inside_a_wrapper_named_after_the_sidebar_is_kept() {
    // Short paragraphs only, so the "prose paragraphs" guard alone would not protect it.
    let short: String = PARAGRAPHS
        .iter()
        .flat_map(|p| p.split(", "))
        .map(|part| format!("<p>{part}.</p>\n"))
        .collect();
    let page = format!(
        r#"<html><body><div class="layout-with-sidebar"><div class="entry">{short}</div></div>
<div class="sidebar"><p>Short promo.</p></div></body></html>"#
    );
    let found = extract(&page, None).expect("article found");
    assert!(
        found.text.contains("The city council voted"),
        "{:?}",
        found.text
    );
    assert!(!found.text.contains("Short promo"), "{:?}", found.text);
}

#[test]
fn comment_threads_are_removed_even_when_longer_than_the_article() {
    // Each comment is long enough to count as prose, so only the comment marker removes it.
    let reply = "wrote a long reply about the ferries, the buses, the harbour and the council's \
                 budget, which goes on for quite a while, repeats itself and then goes on again \
                 for a few more lines.";
    let comments: String = (0..4)
        .map(|i| {
            format!(
                "<li class=\"comment\"><p>Reader {i} {reply}</p><p>Reader {i} {reply}</p>\
                 <p>Reader {i} {reply}</p></li>"
            )
        })
        .collect();
    let page = format!(
        r#"<html><body><main><article><div class="entry-content">{}</div></article>
<div class="comments-area"><ol>{comments}</ol></div></main></body></html>"#,
        body_paragraphs()
    );
    let found = extract(&page, None).expect("article found");
    assert!(found.text.contains(PARAGRAPHS[3]), "{:?}", found.text);
    assert!(
        !found.text.contains("Reader"),
        "comments kept: {:?}",
        found.text
    );
}

#[test]
fn article_only_in_noscript_is_found() {
    let page = format!(
        r#"<html><body><div class="post"><script type="text/template">{0}</script>
<noscript>{0}</noscript></div></body></html>"#,
        body_paragraphs()
    );
    let found = extract(&page, None).expect("article found");
    assert!(
        found.text.starts_with("The city council voted"),
        "{:?}",
        found.text
    );
}

#[test]
fn prompts_notices_and_headline_lists_are_dropped() {
    let page = format!(
        r#"<html><body><article>{}
<p>More:</p>
<p><a href="/a">Bus fares to rise again next month</a></p>
<p><a href="/b">New bridge opens after two years</a></p>
<ul><li><a href="/c">Harbour cleanup collects rubbish</a></li><li><a href="/d">Tram line delayed</a></li></ul>
<p>Never miss the latest news by signing up to our newsletter today!</p>
<p>Follow The Example on Twitter and Instagram.</p>
<p>For breaking news download the Example News app for iOS and Android.</p>
<p>© 2024 Example Media. All rights reserved.</p>
</article></body></html>"#,
        body_paragraphs()
    );
    let found = extract(&page, None).expect("article found");
    assert!(found.text.ends_with(PARAGRAPHS[3]), "{:?}", found.text);
}

/// A small deterministic generator (xorshift), so the property test needs no extra crate and
/// every failure is reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// Random tag soup: real and bogus tags, attributes, entities, scripts, comments, broken UTF-8.
fn tag_soup(rng: &mut Rng) -> Vec<u8> {
    const PIECES: &[&str] = &[
        "<p>",
        "</p>",
        "<div class=\"content\">",
        "<div class=\"sidebar\">",
        "</div>",
        "<article>",
        "</article>",
        "<nav>",
        "</nav>",
        "<script>",
        "</script>",
        "<!--",
        "-->",
        "<noscript>",
        "</noscript>",
        "<ul><li><a href=\"/x\">link</a></li>",
        "</ul>",
        "<table><tr><td>",
        "&amp;",
        "&#x1F600;",
        "&bogus;",
        "<",
        ">",
        "\"",
        "<meta charset=\"latin1\">",
        "<h1>",
        "</h1>",
        "Sentence with words, commas, and a full stop. ",
        "Société générale à Zürich. ",
        "\u{0}",
        "<br/>",
        "<img src=x onerror=1>",
        "<![CDATA[",
        "]]>",
        "<?xml?>",
        "<html>",
        "<body>",
    ];
    let mut out = Vec::new();
    let n = 1 + rng.next() % 300;
    for _ in 0..n {
        if rng.next().is_multiple_of(17) {
            out.push((rng.next() & 0xff) as u8);
        } else {
            out.extend_from_slice(rng.pick(PIECES).as_bytes());
        }
    }
    out
}

#[test]
fn extraction_never_panics_on_tag_soup() {
    for seed in 1..=300u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let page = tag_soup(&mut rng);
        let outcome = std::panic::catch_unwind(|| {
            let _ = extract_bytes(&page, Some("text/html"), None);
            let _ = extract(&String::from_utf8_lossy(&page), None);
        });
        assert!(outcome.is_ok(), "panic on seed {seed}");
    }
}
