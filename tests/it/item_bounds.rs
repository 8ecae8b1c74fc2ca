//! A multi-megabyte item costs no more than a long article: every per-item stage reads a bounded
//! head of its text. Each test puts a marker word past a stage's cap and checks that the stage
//! never saw it (and that what it kept is within the cap).

use jiff::Timestamp;
use newsdesk::model::Entry;
use newsdesk::store::{self, FeedSpec, ProcessedItem, Store};
use newsdesk::summarize::{self, SummaryOptions};
use newsdesk::topics::{self, Query, TopicDoc};
use newsdesk::{extract, parse, relate};

/// Past every cap.
const HUGE: usize = 3_000_000;
/// The word only the tail of a huge text holds.
const MARKER: &str = "zanzibar";

/// At least `bytes` of ordinary prose (varied sentences in paragraphs, no marker).
fn prose(bytes: usize) -> String {
    const SUBJECTS: &[&str] = &[
        "The council",
        "Residents",
        "The mayor",
        "Engineers",
        "Officials",
    ];
    const VERBS: &[&str] = &["approved", "questioned", "delayed", "reviewed", "praised"];
    const OBJECTS: &[&str] = &[
        "the river bridge budget",
        "a plan for the harbor",
        "new bus routes",
        "the school repairs",
    ];
    let mut text = String::with_capacity(bytes + 200);
    let mut n = 0usize;
    while text.len() < bytes {
        text.push_str(&format!(
            "{} {} {} on day {n}. ",
            SUBJECTS[n % SUBJECTS.len()],
            VERBS[n / 3 % VERBS.len()],
            OBJECTS[n / 7 % OBJECTS.len()],
        ));
        n += 1;
        if n.is_multiple_of(5) {
            text.push_str("\n\n");
        }
    }
    text
}

/// Huge prose whose last sentence names the marker.
fn huge_text() -> String {
    prose(HUGE) + &format!("The {MARKER} ferry sank.")
}

#[test]
fn a_feed_item_is_read_up_to_its_cap() {
    let body: String = huge_text()
        .split("\n\n")
        .map(|p| format!("<p>{p}</p>"))
        .collect();
    let title = format!("{} {MARKER}", "Long headline words ".repeat(HUGE / 20));
    let doc = format!(
        "<rss version=\"2.0\"><channel><title>Feed</title><item><guid>1</guid>\
         <title>{title}</title><description><![CDATA[{body}]]></description></item></channel></rss>"
    );
    let feed = parse::parse_feed(doc.as_bytes(), None, None).unwrap();
    let entry = &feed.entries[0];
    assert!(
        entry.text.len() <= parse::MAX_TEXT_HTML_BYTES,
        "{}",
        entry.text.len()
    );
    assert!(entry.text.len() > parse::MAX_TEXT_HTML_BYTES / 2);
    assert!(!entry.text.contains(MARKER));
    assert!(entry.title.len() <= parse::MAX_LINE_HTML_BYTES);
    assert!(!entry.title.contains(MARKER));
}

#[test]
fn a_page_is_read_up_to_its_cap() {
    let article: String = huge_text()
        .split("\n\n")
        .map(|p| format!("<p>{p}</p>\n"))
        .collect();
    // Code before the article is not part of what is read: a page heavy with it keeps its text.
    let page = format!(
        "<html><head><title>Page</title><style>{}</style></head>\
         <body><article><h1>Page</h1>{article}</article></body></html>",
        "p { color: red }\n".repeat(HUGE / 17)
    );
    let found = extract::extract(&page, None).unwrap();
    assert!(found.text.len() <= extract::MAX_MARKUP_BYTES);
    assert!(
        found.text.len() > extract::MAX_MARKUP_BYTES / 2,
        "{}",
        found.text.len()
    );
    assert!(!found.text.contains(MARKER));
}

#[test]
fn the_summarizer_reads_its_cap_and_no_further() {
    // Only page furniture up to the cap, then an ordinary sentence: were it read, it would be
    // the only one worth choosing.
    let furniture = "Click here to read more stories about the weather, the roads and the city. ";
    let mut text = furniture.repeat(summarize::MAX_READ_CHARS / furniture.len() + 1);
    text.push_str(&format!(
        "The {MARKER} ferry sank in the harbor on Monday, officials said."
    ));
    let summary = summarize::summarize(None, &text, SummaryOptions::default());
    assert!(!summary.contains(MARKER), "{summary}");
}

#[test]
fn topics_match_the_head_of_a_huge_item() {
    let query = Query::parse(MARKER).unwrap();
    let doc = TopicDoc::new("Ferry news", &huge_text());
    assert!(
        !query.matches(&doc),
        "the tail is past {}",
        topics::MAX_TEXT_CHARS
    );
    let title = format!("{} {MARKER}", "word ".repeat(HUGE / 5));
    assert!(!query.matches(&TopicDoc::new(&title, "")));
    // Within the cap, the word is found.
    assert!(query.matches(&TopicDoc::new(
        "Ferry news",
        &format!("It was the {MARKER}.")
    )));
}

#[test]
fn relate_reads_a_bounded_title_and_lead() {
    // One "word" of megabytes: the lead's word count alone would not stop the reading.
    let text = format!("{} {MARKER}", "x".repeat(HUGE));
    let masses = relate::item_masses("Ferry", &text);
    assert!(!masses.contains_key(MARKER));
    assert!(masses.keys().all(|t| t.len() <= relate::LEAD_CHARS));
    let title = format!("{} {MARKER}", "word ".repeat(HUGE / 5));
    assert!(!relate::item_masses(&title, "").contains_key(MARKER));
}

#[test]
fn a_huge_text_is_stored_and_indexed_up_to_its_cap() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("desk.db")).unwrap();
    let now = Timestamp::UNIX_EPOCH;
    let spec = FeedSpec {
        name: "Feed".into(),
        url: "https://feed.example/rss".into(),
    };
    let feed = store
        .add_feed(&spec, newsdesk::store::FeedOrigin::Import, now)
        .unwrap();
    let entry = Entry {
        key: "huge".into(),
        url: None,
        title: "Ferry".into(),
        author: None,
        published: Some(now),
        text: String::new(),
        content_html: None,
    };
    let id = store
        .store_batch_entry(feed, "Feed", &entry)
        .unwrap()
        .unwrap();
    let text = huge_text();
    let done = ProcessedItem {
        text: &text,
        text_source: newsdesk::store::TextSource::Page,
        summary: "",
        gist: "",
        topics: &[],
    };
    store.finish_item(id, &done, now).unwrap();
    let stored = store.item(id).unwrap().text.unwrap_or_default();
    assert!(stored.chars().count() <= store::MAX_TEXT_CHARS);
    assert!(stored.chars().count() > store::MAX_TEXT_CHARS / 2);
    assert!(text.starts_with(&stored));
    assert!(store.items_with_word(MARKER, 10).unwrap().is_empty());
    assert_eq!(store.items_with_word("council", 10).unwrap(), [id]);
}
