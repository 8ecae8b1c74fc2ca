//! Time per new article (grouping + Related) at 1k, 10k and 100k stored articles, each as a
//! ratio to the 1k figure of the same run, and peak RSS.
//!
//! The store is filled with synthetic articles in bulk (one transaction), then 200 new articles
//! per size go through the real engine: half are further coverage of recent stories, half open
//! new ones. Vocabulary: story-specific rare "names" plus background words drawn with a Zipf-like
//! (log-uniform rank) law, so a few words are everywhere and most are rare, as in news text.
//!
//! After each fill the full-text index is merged, as the daemon's daily maintenance does, and the
//! store is written out to disk (see [`settle`]) so no timed work inherits the fill's unwritten pages.
//!
//! Run: `cargo bench --bench relate`.
//!
//! `cargo bench --bench relate -- throughput [SIZES…]` (default 10000 1000000) instead measures
//! whole processing: the store is filled to each size in turn (one transaction per
//! [`FILL_CHUNK`] articles), then a fixed batch of [`THROUGHPUT_ITEMS`] new items goes through
//! `Desk::process_pending` as the daemon runs it (summary, topics, grouping, Related, the
//! "processed" mark; no network), and items per second are printed with their ratio to the
//! first size, beside the default mode's grouping time alone (the part items take in turn). Background words are the words of the CNN/DailyMail evaluation texts ranked by
//! frequency, and the new items carry those texts, when `../shared/eval/summarization/cnndm.jsonl`
//! (or `NEWSDESK_BENCH_TEXTS`) is there; otherwise both are synthetic.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use newsdesk::config::Config;
use newsdesk::model::Entry;
use newsdesk::pipeline::Desk;
use newsdesk::relate::{self, Masses, RelateSettings};
use newsdesk::store::{BulkArticle, FeedId, FeedSpec, ProcessedItem, Store};

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];
const PROBES: usize = 200;
const ARTICLES_PER_STORY: usize = 4;
const BACKGROUND_WORDS: usize = 30_000;
const NAME_WORDS: usize = 200_000;
/// Articles stored per transaction when filling: bounds the fill's memory and its WAL.
const FILL_CHUNK: usize = 100_000;
/// New items processed per size in the throughput mode.
const THROUGHPUT_ITEMS: usize = 200;
/// Background words taken from the borrowed texts, most frequent first.
const BORROWED_WORDS: usize = 20_000;
/// Sizes of the throughput mode when none are given.
const THROUGHPUT_SIZES: [usize; 2] = [10_000, 1_000_000];

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
}

/// A pronounceable word for index `n` (letters only, so the stemmer sees ordinary words).
fn word(prefix: char, mut n: usize) -> String {
    const SYL: [&str; 16] = [
        "ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "da", "fe", "go", "hu", "ji", "pe", "ro",
        "zu",
    ];
    let mut w = String::from(prefix);
    loop {
        w.push_str(SYL[n % 16]);
        n /= 16;
        if n == 0 {
            break;
        }
    }
    w.push('x');
    w
}

struct Generator {
    rng: Rng,
    background: Vec<String>,
}

impl Generator {
    fn new() -> Generator {
        Generator::with_background((0..BACKGROUND_WORDS).map(|n| word('b', n)).collect())
    }

    /// Background words most frequent first.
    fn with_background(background: Vec<String>) -> Generator {
        Generator {
            rng: Rng(0x9e37_79b9_7f4a_7c15),
            background,
        }
    }

    fn zipf_word(&mut self) -> &str {
        let n = self.background.len();
        let rank = (n as f64).powf(self.rng.unit()) as usize;
        &self.background[rank.saturating_sub(1).min(n - 1)]
    }

    fn story_names(&mut self) -> Vec<String> {
        (0..8)
            .map(|_| word('n', self.rng.below(NAME_WORDS)))
            .collect()
    }

    /// Title of 8 words and text of 60: a story's names mixed into background words.
    fn article(&mut self, names: &[String]) -> (String, String) {
        let pick = |g: &mut Generator, share: f64| -> String {
            if g.rng.unit() < share {
                names[g.rng.below(names.len())].clone()
            } else {
                g.zipf_word().to_string()
            }
        };
        let title: Vec<String> = (0..8).map(|_| pick(self, 0.5)).collect();
        let text: Vec<String> = (0..60).map(|_| pick(self, 0.25)).collect();
        (title.join(" "), text.join(" "))
    }
}

fn t0() -> Timestamp {
    Timestamp::from_second(1_767_225_600).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Articles one minute apart, a story's articles consecutive.
struct Corpus {
    stories: Vec<Vec<String>>,
    published: usize,
}

/// Stores articles until the corpus holds `upto`, [`FILL_CHUNK`] per transaction.
fn fill(
    store: &mut Store,
    feed: FeedId,
    generator: &mut Generator,
    corpus: &mut Corpus,
    upto: usize,
) {
    while corpus.published < upto {
        // A multiple of ARTICLES_PER_STORY: no story spans two chunks.
        let chunk_end = upto.min(corpus.published + FILL_CHUNK);
        fill_chunk(store, feed, generator, corpus, chunk_end);
    }
}

fn fill_chunk(
    store: &mut Store,
    feed: FeedId,
    generator: &mut Generator,
    corpus: &mut Corpus,
    upto: usize,
) {
    let mut articles = Vec::new();
    let mut masses: Vec<Masses> = Vec::new();
    let mut df: HashMap<String, i64> = HashMap::new();
    let first_story = corpus.stories.len();
    while corpus.published < upto {
        if corpus.published.is_multiple_of(ARTICLES_PER_STORY) {
            let names = generator.story_names();
            corpus.stories.push(names);
            masses.push(Masses::new());
        }
        let story = corpus.stories.len() - 1;
        let (title, text) = generator.article(&corpus.stories[story]);
        let m = relate::item_masses(&title, &text);
        for (t, v) in &m {
            *df.entry(t.clone()).or_insert(0) += 1;
            if let Some(c) = masses.last_mut() {
                *c.entry(t.clone()).or_insert(0.0) += v;
            }
        }
        articles.push(BulkArticle {
            title,
            text,
            published: t0() + SignedDuration::from_mins(corpus.published as i64),
            story: story - first_story,
        });
        corpus.published += 1;
    }
    let docs = store.document_count().unwrap_or(0) + articles.len() as i64;
    let mut all_df = store
        .document_frequencies(df.keys().map(String::as_str))
        .unwrap_or_default();
    for (t, n) in &df {
        *all_df.entry(t.clone()).or_insert(0) += n;
    }
    let stories: Vec<(String, f64)> = masses
        .iter()
        .map(|m| {
            (
                relate::encode_centroid(m, &all_df),
                relate::norm_of(m, &all_df, docs),
            )
        })
        .collect();
    let doc_terms: Vec<(String, i64)> = df.into_iter().collect();
    store
        .bulk_fill(feed, &articles, &stories, &doc_terms, articles.len() as i64)
        .unwrap();
}

/// The names of probe `n`: every other probe is further coverage of one of the 50 newest
/// stories, the rest a new story.
fn probe_names(n: usize, generator: &mut Generator, corpus: &Corpus) -> Vec<String> {
    if n.is_multiple_of(2) {
        let recent = corpus.stories.len().saturating_sub(50);
        let pick = recent + generator.rng.below(corpus.stories.len() - recent);
        corpus.stories[pick].clone()
    } else {
        generator.story_names()
    }
}

/// Runs `PROBES` new articles through the engine; returns sorted durations in µs.
fn probe(
    store: &mut Store,
    feed: FeedId,
    generator: &mut Generator,
    corpus: &mut Corpus,
) -> Vec<f64> {
    let settings = RelateSettings::default();
    let mut times = Vec::with_capacity(PROBES);
    for n in 0..PROBES {
        let names = probe_names(n, generator, corpus);
        let (title, text) = generator.article(&names);
        let published = t0() + SignedDuration::from_mins(corpus.published as i64);
        corpus.published += 1;
        let entry = Entry {
            key: format!("probe-{}", corpus.published),
            url: None,
            title,
            author: None,
            published: Some(published),
            text: text.clone(),
            content_html: None,
        };
        let id = store
            .store_batch_entry(feed, "bench", &entry)
            .unwrap()
            .unwrap();
        let item = store.item(id).unwrap();
        let start = Instant::now();
        relate::relate_item(store, &item, &text, &settings).unwrap();
        times.push(start.elapsed().as_secs_f64() * 1e6);
        let done = ProcessedItem {
            text: &text,
            text_source: newsdesk::store::TextSource::Feed,
            summary: "",
            gist: "",
            topics: &[],
        };
        store.finish_item(id, &done, published).unwrap();
    }
    times.sort_by(f64::total_cmp);
    times
}

/// Writes the fill out to disk before anything is timed. A fill writes the whole store at once
/// (the merged index last), far faster than the kernel writes it back; left in memory, it would
/// be written by the first commit that syncs (a checkpoint), inside the timed work, in
/// proportion to the store's size. A daemon's store at any size has no such backlog: it grew
/// an item at a time.
fn settle(db: &Path) {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    for file in [db.as_os_str(), &wal] {
        if let Ok(f) = std::fs::File::open(file) {
            f.sync_all().unwrap();
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or(0.0)
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if args.first().map(String::as_str) == Some("throughput") {
        let mut sizes: Vec<usize> = args[1..].iter().filter_map(|a| a.parse().ok()).collect();
        if sizes.is_empty() {
            sizes = THROUGHPUT_SIZES.to_vec();
        }
        throughput(&sizes);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("bench.db")).unwrap();
    let feed = store
        .add_feed(
            &FeedSpec {
                name: "bench".into(),
                url: "bench:feed".into(),
            },
            newsdesk::store::FeedOrigin::Import,
            t0(),
        )
        .unwrap();
    let mut generator = Generator::new();
    let mut corpus = Corpus {
        stories: Vec::new(),
        published: 0,
    };
    let started = Instant::now();
    let mut rows = Vec::new();
    for size in SIZES {
        let fill_start = Instant::now();
        fill(&mut store, feed, &mut generator, &mut corpus, size);
        // As the daemon's daily maintenance does.
        store.optimize_search_index().unwrap();
        settle(&dir.path().join("bench.db"));
        let fill_s = fill_start.elapsed().as_secs_f64();
        let times = probe(&mut store, feed, &mut generator, &mut corpus);
        rows.push((
            size,
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            fill_s,
        ));
    }
    println!("relate: time per new article (grouping + Related), {PROBES} articles per size");
    println!(
        "{:>10} {:>10} {:>10} {:>10} {:>10}",
        "stored", "p50 ms", "p95 ms", "p50 × 1k", "fill s"
    );
    // The smallest store is the baseline: flat scaling keeps the ratio near 1.
    let base = rows.first().map_or(1.0, |r| r.1);
    for (size, p50, p95, fill_s) in rows {
        println!(
            "{size:>10} {:>10.3} {:>10.3} {:>10.2} {fill_s:>10.1}",
            p50 / 1000.0,
            p95 / 1000.0,
            p50 / base
        );
    }
    println!(
        "peak RSS {:.1} MiB, total {:.1} s",
        peak_rss_kib() as f64 / 1024.0,
        started.elapsed().as_secs_f64()
    );
}

/// The evaluation texts to borrow, if present: never copied into the repository, read here.
fn borrowed_texts() -> Vec<String> {
    let path = std::env::var_os("NEWSDESK_BENCH_TEXTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/eval/summarization/cnndm.jsonl")
        });
    let Ok(jsonl) = std::fs::read_to_string(&path) else {
        return Vec::new();
    };
    jsonl
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|v| v.get("text")?.as_str().map(str::to_string))
        .collect()
}

/// The words of `texts` (lower-cased letters), most frequent first (ties by word).
fn ranked_words(texts: &[String]) -> Vec<String> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for text in texts {
        for raw in text.split_whitespace() {
            let w = raw
                .trim_matches(|c: char| !c.is_alphabetic())
                .to_lowercase();
            if w.chars().count() > 1 && w.chars().all(char::is_alphabetic) {
                *counts.entry(w).or_insert(0) += 1;
            }
        }
    }
    let mut ranked: Vec<(usize, String)> = counts.into_iter().map(|(w, n)| (n, w)).collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    ranked
        .into_iter()
        .take(BORROWED_WORDS)
        .map(|(_, w)| w)
        .collect()
}

const THROUGHPUT_CONFIG: &str = r#"
[[feed]]
name = "bench"
url = "https://bench.example/feed.xml"
full_text = "never"

[[topic]]
name = "elections"
query = "election OR vote*"

[[topic]]
name = "budget"
query = "\"city council\" AND budget"

[[topic]]
name = "storms"
query = "storm NOT (football OR cricket)"
"#;

/// Items per second through `Desk::process_pending` at each store size.
fn throughput(sizes: &[usize]) {
    let texts = borrowed_texts();
    let mut generator = if texts.is_empty() {
        Generator::new()
    } else {
        Generator::with_background(ranked_words(&texts))
    };
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("desk.toml");
    let config = Config::from_str_at(THROUGHPUT_CONFIG, &config_path).unwrap();
    let mut store = Store::open(&dir.path().join("bench.db")).unwrap();
    let feed = store
        .add_feed(
            &FeedSpec {
                name: "bench".into(),
                url: "https://bench.example/feed.xml".into(),
            },
            newsdesk::store::FeedOrigin::Config,
            t0(),
        )
        .unwrap();
    let desk = Arc::new(Desk::with_store(config, store).unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut corpus = Corpus {
        stories: Vec::new(),
        published: 0,
    };
    let started = Instant::now();
    println!(
        "throughput: {THROUGHPUT_ITEMS} new items through Desk::process_pending per size ({})",
        if texts.is_empty() {
            "synthetic texts"
        } else {
            "borrowed texts"
        }
    );
    println!(
        "{:>10} {:>10} {:>10} {:>12} {:>10}",
        "stored", "items/s", "× first", "relate p50 ms", "fill s"
    );
    let mut first = None;
    for &size in sizes {
        let fill_start = Instant::now();
        {
            let mut store = desk.store();
            fill(&mut store, feed, &mut generator, &mut corpus, size);
            store.optimize_search_index().unwrap();
        }
        settle(&dir.path().join("bench.db"));
        let fill_s = fill_start.elapsed().as_secs_f64();
        // The same borrowed texts at every size; names and background drawn afresh.
        for n in 0..THROUGHPUT_ITEMS {
            let names = probe_names(n, &mut generator, &corpus);
            let (title, lead) = generator.article(&names);
            let body = match texts.get(n % texts.len().max(1)) {
                Some(text) => text.clone(),
                None => (0..6)
                    .map(|_| generator.article(&names).1)
                    .collect::<Vec<_>>()
                    .join(". "),
            };
            let published = t0() + SignedDuration::from_mins(corpus.published as i64);
            corpus.published += 1;
            let entry = Entry {
                key: format!("new-{}", corpus.published),
                url: Some(format!("https://bench.example/{}", corpus.published)),
                title,
                author: None,
                published: Some(published),
                text: format!("{lead}. {body}"),
                content_html: None,
            };
            desk.store()
                .store_batch_entry(feed, "bench", &entry)
                .unwrap()
                .unwrap();
        }
        let now = t0() + SignedDuration::from_mins(corpus.published as i64);
        let start = Instant::now();
        let done = runtime.block_on(desk.process_pending(now)).unwrap();
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(done, THROUGHPUT_ITEMS);
        let rate = THROUGHPUT_ITEMS as f64 / secs;
        let base = *first.get_or_insert(rate);
        // The serial part alone, as the default mode measures it.
        let relate = probe(&mut desk.store(), feed, &mut generator, &mut corpus);
        println!(
            "{size:>10} {rate:>10.1} {:>10.2} {:>12.3} {fill_s:>10.1}",
            rate / base,
            percentile(&relate, 0.5) / 1000.0
        );
    }
    println!(
        "peak RSS {:.1} MiB, database {:.0} MiB, total {:.1} s",
        peak_rss_kib() as f64 / 1024.0,
        std::fs::metadata(dir.path().join("bench.db")).map_or(0, |m| m.len()) as f64 / 1048576.0,
        started.elapsed().as_secs_f64()
    );
}
