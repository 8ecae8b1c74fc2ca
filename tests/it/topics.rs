//! The demo topics (the [[topic]] entries of config/demo.toml) against the demo feeds (config/demo/): every item
//! meant for a topic matches it, and nothing else does.

mod presets;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use newsdesk::normalize::html_to_text;
use newsdesk::parse::parse_feed;
use newsdesk::topics::{Query, TopicDoc};
use url::Url;

struct Topic {
    name: String,
    query: Query,
}

fn config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config")
}

fn topics() -> Vec<Topic> {
    let config =
        newsdesk::config::Config::load(&config_dir().join("demo.toml")).expect("demo.toml valid");
    config
        .topics
        .into_iter()
        .map(|t| Topic {
            name: t.name.into_inner(),
            query: t.query,
        })
        .collect()
}

/// Article text of a local demo page: the story body, without the page furniture around it.
fn page_text(path: &Path) -> String {
    let html = std::fs::read_to_string(path).expect("demo page readable");
    let start = html
        .find("<div class=\"story-body\">")
        .expect("page has a story body");
    let end = html[start..].find("</div>").expect("story body closed") + start;
    html_to_text(&html[start..end])
}

struct DemoItem {
    title: String,
    text: String,
    /// The feed gave a teaser and a relative link; the text is the local page's.
    from_page: bool,
}

/// Every demo item, with the local page's text for teaser items.
fn demo_items() -> Vec<DemoItem> {
    let dir = config_dir().join("demo");
    let mut out = Vec::new();
    for name in ["wire.xml", "ledger.atom", "monitor.json"] {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).expect("demo feed readable");
        let base = Url::from_file_path(&path).expect("absolute path");
        let feed = parse_feed(&bytes, None, Some(&base)).expect("demo feed parses");
        for entry in feed.entries {
            let (text, from_page) = match entry.url.as_deref().and_then(|u| Url::parse(u).ok()) {
                Some(url) if url.scheme() == "file" => {
                    (page_text(&url.to_file_path().expect("file URL")), true)
                }
                _ => (entry.text, false),
            };
            out.push(DemoItem {
                title: entry.title,
                text,
                from_page,
            });
        }
    }
    out
}

/// The topics each demo item was written for, by a distinctive title fragment.
const EXPECTED: &[(&str, &[&str])] = &[
    (
        "trims National Bureau of Scientific Grants",
        &["research-funding"],
    ),
    ("Lawmakers propose 12 percent cut", &["research-funding"]),
    ("12% budget reduction", &["research-funding"]),
    ("biomedical agency budget", &["research-funding"]),
    ("Biomedical research agency loses", &["research-funding"]),
    ("Budget deal restores most", &["research-funding"]),
    ("Negotiators soften cut", &["research-funding"]),
    ("grant portal", &["research-funding"]),
    ("pledges $400 million", &["research-funding"]),
    ("regional research hubs", &["research-funding"]),
    ("foreign funding disclosure rule", &["research-security"]),
    (
        "office rule requires grant applicants",
        &["research-security"],
    ),
    ("Foreign influence rule", &["research-security"]),
    ("Universities ask for delay", &["research-security"]),
    ("state research grants dry up", &["research-funding"]),
    ("Export controls tightened", &["research-security"]),
    ("added to export control list", &["research-security"]),
    (
        "talks stall over data access",
        &["international-collaboration"],
    ),
    (
        "renewal stalls over data rules",
        &["international-collaboration"],
    ),
    (
        "renew science pact with narrower",
        &["international-collaboration"],
    ),
    (
        "renewed for five years, minus",
        &["international-collaboration"],
    ),
    (
        "Science cooperation pact between",
        &["international-collaboration"],
    ),
    ("joint fusion materials", &["international-collaboration"]),
    ("names Miriam Okafor", &["ai-policy"]),
    ("Okafor tapped to lead", &["ai-policy"]),
    ("draft rules for testing frontier", &["ai-policy"]),
    ("Draft AI rules", &["ai-policy"]),
    ("pre-deployment testing", &["ai-policy"]),
    ("completes first model evaluations", &["ai-policy"]),
    ("First AI model safety tests", &["ai-policy"]),
    ("first light", &[]),
    ("dinosaur hall", &[]),
    ("ghost octopus", &[]),
];

#[test]
fn demo_items_match_their_topics_and_only_those() {
    let topics = topics();
    assert_eq!(topics.len(), 4);
    let items = demo_items();
    assert_eq!(
        items.len(),
        EXPECTED.len(),
        "every demo item has an expectation"
    );
    let mut failures = Vec::new();
    for DemoItem { title, text, .. } in &items {
        let doc = TopicDoc::new(title, text);
        let got: BTreeSet<&str> = topics
            .iter()
            .filter(|t| t.query.matches(&doc))
            .map(|t| t.name.as_str())
            .collect();
        let matching: Vec<_> = EXPECTED.iter().filter(|(k, _)| title.contains(k)).collect();
        let [(_, want)] = matching.as_slice() else {
            failures.push(format!("{title:?}: {} expectations", matching.len()));
            continue;
        };
        let want: BTreeSet<&str> = want.iter().copied().collect();
        // Exact sets: the demo items are written so that each lands in exactly its topics.
        let ok = want == got;
        if !ok {
            failures.push(format!("{title:?}: want {want:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn demo_teasers_point_at_local_pages_with_full_text() {
    let items = demo_items();
    let pages: Vec<&DemoItem> = items.iter().filter(|i| i.from_page).collect();
    assert_eq!(pages.len(), 3);
    for item in pages {
        assert!(
            item.text.chars().count() > 400,
            "{}: {}",
            item.title,
            item.text
        );
        assert!(
            !item.text.contains("cookie"),
            "{}: page furniture leaked",
            item.title
        );
    }
    // Every other item carries its full text in the feed.
    for item in items.iter().filter(|i| !i.from_page) {
        assert!(
            item.text.chars().count() > 300,
            "{}: {}",
            item.title,
            item.text
        );
    }
}

#[test]
fn demo_has_one_hostile_title() {
    let hostile: Vec<String> = demo_items()
        .into_iter()
        .map(|i| i.title)
        .filter(|t| t.contains("@everyone") && t.contains("**"))
        .collect();
    assert_eq!(hostile.len(), 1, "{hostile:?}");
}
