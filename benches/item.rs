//! Time per item by stage at 10 kB, 100 kB, 1 MB and 5 MB, each total as a ratio to the 100 kB
//! figure of the same run (a stage that reads the whole text keeps the 5 MB ratio near 50; one
//! that reads a bounded prefix keeps it near 1).
//!
//! Two kinds of item, both of synthetic prose (varied sentences in paragraphs):
//! - feed: an RSS item whose description holds that much HTML; its text comes from parsing the
//!   feed document (feed XML, then HTML to text);
//! - page: an article page of that size (head, navigation, article, related links, footer); its
//!   text comes from extraction.
//!
//! Then every per-item stage of `Desk::process_item`, with the same calls: summarize, topics
//! (document plus a few queries), relate and `finish_item`, on a store file that already holds
//! a few hundred processed items.
//!
//! Run: `cargo bench --bench item`.

use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use newsdesk::model::Entry;
use newsdesk::relate::{self, RelateSettings};
use newsdesk::store::{FeedSpec, ProcessedItem, Store};
use newsdesk::summarize::{self, SummaryOptions};
use newsdesk::topics::{Query, TopicDoc};
use newsdesk::{extract, parse};

const SIZES: [(usize, &str); 4] = [
    (10_000, "10 kB"),
    (100_000, "100 kB"),
    (1_000_000, "1 MB"),
    (5_000_000, "5 MB"),
];
/// The size every other size is compared with.
const BASE_SIZE: usize = 100_000;
/// Items already processed in the store before the measured ones.
const STORED_ITEMS: usize = 300;
/// Rounds per measurement: at most this many, and no more once a size has taken `ROUND_BUDGET`.
const MAX_ROUNDS: usize = 5;
const ROUND_BUDGET: Duration = Duration::from_secs(2);
const TOPICS: &[&str] = &[
    "election OR vote*",
    "\"city council\" AND budget",
    "storm NOT (football OR cricket)",
    "harbor* OR \"river bridge\"",
];

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, words: &'a [&'a str]) -> &'a str {
        words[self.below(words.len())]
    }
}

const FUNCTION_WORDS: &[&str] = &[
    "the", "a", "of", "to", "in", "and", "on", "for", "with", "that", "by", "from", "at", "as",
    "after", "before", "while", "its", "their", "was", "were", "has", "had", "will", "would",
];
const OPENERS: &[&str] = &[
    "The",
    "Officials",
    "Residents",
    "Critics",
    "Analysts",
    "Witnesses",
    "Police",
    "Later",
    "Meanwhile",
    "In",
    "After",
    "Some",
];
const VERBS: &[&str] = &[
    "said",
    "announced",
    "warned",
    "confirmed",
    "rejected",
    "approved",
    "reported",
    "questioned",
    "delayed",
    "expanded",
    "reviewed",
    "estimated",
];

/// A pronounceable word for index `n` (letters only, so the stemmer sees ordinary words).
fn word(mut n: usize) -> String {
    const SYL: [&str; 16] = [
        "ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "da", "fe", "go", "hu", "ji", "pe", "ro",
        "zu",
    ];
    let mut w = String::new();
    loop {
        w.push_str(SYL[n % 16]);
        n /= 16;
        if n == 0 {
            break;
        }
    }
    w
}

/// Synthetic news prose: content words drawn with a Zipf-like law (a few everywhere, most
/// rare), names, numbers, quotes and abbreviations, so that sentences overlap as in real text.
struct Prose {
    rng: Rng,
    vocabulary: Vec<String>,
    names: Vec<String>,
}

impl Prose {
    fn new(seed: u64) -> Prose {
        let vocabulary = (0..20_000).map(|n| word(n + 16)).collect();
        let names = (0..2_000)
            .map(|n| {
                let w = word(n * 7 + 300);
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or(w)
            })
            .collect();
        Prose {
            rng: Rng(seed),
            vocabulary,
            names,
        }
    }

    fn content_word(&mut self) -> &str {
        let rank = (self.vocabulary.len() as f64).powf(self.rng.unit()) as usize;
        &self.vocabulary[rank.saturating_sub(1).min(self.vocabulary.len() - 1)]
    }

    fn sentence(&mut self) -> String {
        let mut s = String::from(self.rng.pick(OPENERS));
        let words = 6 + self.rng.below(24);
        for k in 0..words {
            s.push(' ');
            match self.rng.below(10) {
                0 => {
                    let name = self.names[self.rng.below(self.names.len())].clone();
                    s.push_str(&name);
                }
                1 if k > 2 => {
                    let verb = self.rng.pick(VERBS);
                    s.push_str(verb);
                }
                2 => {
                    let number = self.rng.below(5_000);
                    s.push_str(&number.to_string());
                }
                3..=5 => {
                    let w = self.rng.pick(FUNCTION_WORDS);
                    s.push_str(w);
                }
                _ => {
                    let w = self.content_word().to_string();
                    s.push_str(&w);
                }
            }
        }
        match self.rng.below(12) {
            0 => format!("\"{s},\" Dr. {} said.", self.names[0]),
            1 => format!("{s} in the U.S. capital?"),
            _ => format!("{s}."),
        }
    }

    fn paragraph(&mut self) -> String {
        let n = 2 + self.rng.below(5);
        (0..n)
            .map(|_| self.sentence())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn title(&mut self) -> String {
        let mut t = self.sentence();
        t.truncate(t.char_indices().nth(90).map_or(t.len(), |(i, _)| i));
        t.trim_end_matches('.').to_string()
    }
}

/// `<p>` paragraphs (some with links and emphasis) until the HTML reaches `size` bytes.
fn article_html(prose: &mut Prose, size: usize) -> String {
    let mut html = String::with_capacity(size + 1_000);
    while html.len() < size {
        let p = prose.paragraph();
        let p = match prose.rng.below(6) {
            0 => p.replacen(' ', " <a href=\"https://example.org/more\">", 1) + "</a>",
            1 => format!("<b>{p}</b>"),
            _ => p,
        };
        html.push_str("<p>");
        html.push_str(&p);
        html.push_str("</p>\n");
    }
    html
}

/// An RSS document with one item whose description is `size` bytes of HTML.
fn feed_document(prose: &mut Prose, title: &str, size: usize) -> String {
    let body = article_html(prose, size);
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel>\
         <title>Bench</title><link>https://example.org/</link>\
         <item><guid>bench-{size}</guid><title>{title}</title>\
         <link>https://example.org/news/{size}</link>\
         <pubDate>Tue, 03 Jun 2025 09:39:21 +0000</pubDate>\
         <description><![CDATA[{body}]]></description></item></channel></rss>"
    )
}

/// An article page of about `size` bytes: page furniture around an `<article>`.
fn page_document(prose: &mut Prose, title: &str, size: usize) -> String {
    let nav: String = (0..30)
        .map(|n| format!("<li><a href=\"/section/{n}\">{}</a></li>", prose.title()))
        .collect();
    let related: String = (0..10)
        .map(|n| format!("<li><a href=\"/story/{n}\">{}</a></li>", prose.title()))
        .collect();
    let head = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title} | Bench News</title>\
         <style>body {{ font-family: serif; }} .nav li {{ display: inline; }}</style>\
         <script>window.dataLayer = [];</script></head><body>\
         <nav class=\"nav\"><ul>{nav}</ul></nav>\
         <header><h1>{title}</h1><p class=\"byline\">By Staff Reporter</p></header>\
         <article>"
    );
    let tail = format!(
        "</article><aside class=\"related\"><h2>Related</h2><ul>{related}</ul></aside>\
         <footer><p>Copyright Bench News. All rights reserved.</p></footer></body></html>"
    );
    let body = article_html(prose, size.saturating_sub(head.len() + tail.len()));
    format!("{head}{body}{tail}")
}

fn t0() -> Timestamp {
    Timestamp::from_second(1_767_225_600).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Milliseconds per stage of one item.
#[derive(Clone, Copy, Default)]
struct Stages {
    text: f64,
    summarize: f64,
    topics: f64,
    relate: f64,
    finish: f64,
}

impl Stages {
    fn total(&self) -> f64 {
        self.text + self.summarize + self.topics + self.relate + self.finish
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Feed,
    Page,
}

struct Bench {
    store: Store,
    feed: newsdesk::store::FeedId,
    queries: Vec<Query>,
    items: usize,
}

impl Bench {
    /// One item through every stage, as `Desk::process_item` runs them.
    fn run(&mut self, kind: Kind, title: &str, document: &str) -> (Stages, usize) {
        let mut t = Stages::default();
        self.items += 1;
        let started = Instant::now();
        let (entry, text) = match kind {
            Kind::Feed => {
                let parsed = parse::parse_feed(document.as_bytes(), None, None).unwrap();
                let mut entry = parsed.entries.into_iter().next().unwrap();
                entry.key = format!("item-{}", self.items);
                // Each round is another item: the store skips a link it already has.
                entry.url = Some(format!("https://example.org/news/{}", self.items));
                let text = entry.text.clone();
                (entry, text)
            }
            Kind::Page => {
                let url = url::Url::parse("https://example.org/news/page").unwrap();
                let text = extract::extract(document, Some(&url)).unwrap().text;
                let entry = Entry {
                    key: format!("item-{}", self.items),
                    url: Some(format!("https://example.org/news/page/{}", self.items)),
                    title: title.to_string(),
                    author: None,
                    published: None,
                    text: String::new(),
                    content_html: None,
                };
                (entry, text)
            }
        };
        t.text = ms(started);
        let entry = Entry {
            published: Some(t0() + SignedDuration::from_mins(self.items as i64)),
            ..entry
        };
        let id = self
            .store
            .store_batch_entry(self.feed, "bench", &entry)
            .unwrap()
            .unwrap();
        let item = self.store.item(id).unwrap();

        let started = Instant::now();
        let summary = summarize::summarize(Some(&item.title), &text, SummaryOptions::default());
        let gist = summarize::gist(Some(&item.title), &text);
        t.summarize = ms(started);

        let started = Instant::now();
        let doc = TopicDoc::new(&item.title, &text);
        let topics: Vec<String> = self
            .queries
            .iter()
            .filter(|q| q.matches(&doc))
            .map(|q| q.as_str().to_string())
            .collect();
        t.topics = ms(started);

        let started = Instant::now();
        relate::relate_item(&mut self.store, &item, &text, &RelateSettings::default()).unwrap();
        t.relate = ms(started);

        let started = Instant::now();
        let done = ProcessedItem {
            text: &text,
            text_source: if kind == Kind::Feed {
                newsdesk::store::TextSource::Feed
            } else {
                newsdesk::store::TextSource::Page
            },
            summary: &summary,
            gist: &gist,
            topics: &topics,
        };
        self.store
            .finish_item(id, &done, entry.published.unwrap())
            .unwrap();
        t.finish = ms(started);
        (t, text.len())
    }

    /// Best total of up to `MAX_ROUNDS` rounds (fewer once `ROUND_BUDGET` is spent).
    fn best_of(&mut self, kind: Kind, title: &str, document: &str) -> (Stages, usize) {
        let started = Instant::now();
        let mut best: Option<(Stages, usize)> = None;
        for _ in 0..MAX_ROUNDS {
            let run = self.run(kind, title, document);
            if best.is_none_or(|b| run.0.total() < b.0.total()) {
                best = Some(run);
            }
            if started.elapsed() > ROUND_BUDGET {
                break;
            }
        }
        best.unwrap_or_default()
    }
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("bench.db")).unwrap();
    let feed = store
        .add_feed(
            &FeedSpec {
                name: "bench".into(),
                url: "https://example.org/feed.xml".into(),
            },
            newsdesk::store::FeedOrigin::Import,
            t0(),
        )
        .unwrap();
    let queries = TOPICS.iter().map(|q| Query::parse(q).unwrap()).collect();
    let mut bench = Bench {
        store,
        feed,
        queries,
        items: 0,
    };
    let mut prose = Prose::new(0x9e37_79b9_7f4a_7c15);
    let started = Instant::now();
    for _ in 0..STORED_ITEMS {
        let title = prose.title();
        let document = feed_document(&mut prose, &title, 3_000);
        bench.run(Kind::Feed, &title, &document);
    }
    println!(
        "item: time per item by stage (ms), best of up to {MAX_ROUNDS} rounds, \
         store holding {STORED_ITEMS} items"
    );
    println!(
        "{:<5} {:>7} {:>9} {:>9} {:>10} {:>8} {:>8} {:>8} {:>9} {:>8}",
        "kind",
        "size",
        "text kB",
        "to text",
        "summarize",
        "topics",
        "relate",
        "finish",
        "total",
        "× 100kB"
    );
    for kind in [Kind::Feed, Kind::Page] {
        let mut rows = Vec::new();
        for (size, label) in SIZES {
            let title = prose.title();
            let document = match kind {
                Kind::Feed => feed_document(&mut prose, &title, size),
                Kind::Page => page_document(&mut prose, &title, size),
            };
            let (stages, text_len) = bench.best_of(kind, &title, &document);
            rows.push((size, label, stages, text_len));
        }
        let base = rows
            .iter()
            .find(|r| r.0 == BASE_SIZE)
            .map_or(1.0, |r| r.2.total());
        for (_, label, s, text_len) in rows {
            println!(
                "{:<5} {label:>7} {:>9.0} {:>9.2} {:>10.2} {:>8.2} {:>8.2} {:>8.2} {:>9.2} {:>8.2}",
                if kind == Kind::Feed { "feed" } else { "page" },
                text_len as f64 / 1e3,
                s.text,
                s.summarize,
                s.topics,
                s.relate,
                s.finish,
                s.total(),
                s.total() / base
            );
        }
    }
    println!("total {:.1} s", started.elapsed().as_secs_f64());
}
