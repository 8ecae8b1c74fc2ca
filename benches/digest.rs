//! Time to compose a 50-story digest from the store (SQL reads, story views, Related lists)
//! and lay it out as Discord messages, and how many requests it takes to post. Baseline in the
//! same run: serializing the same digest to JSON (a floor for any rendering).
//!
//! Run: `cargo bench --bench digest`

use std::time::Instant;

use jiff::Timestamp;
use newsdesk::config::Config;
use newsdesk::digest::{self, layout};
use newsdesk::fetch::Validators;
use newsdesk::fetch::schedule::FeedHealth;
use newsdesk::model::Entry;
use newsdesk::relate::{self, RelateSettings};
use newsdesk::store::{FeedSpec, PollRecord, ProcessedItem, Store};

const STORIES: usize = 50;
const ROUNDS: usize = 200;

fn main() {
    let dir = std::env::temp_dir().join(format!("newsdesk-digest-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let config_text = "[polling]\nmax_item_age = \"off\"\n[[channel]]\nname = \"bench\"\nschedule = \"every 1h\"\nmax_stories = 50\n";
    let config =
        Config::from_str_at(config_text, &dir.join("newsdesk.toml")).expect("bench config");
    let mut store = Store::open(&dir.join("bench.db")).expect("store");
    let now: Timestamp = "2026-11-20T12:00:00Z".parse().expect("time");
    let feeds: Vec<newsdesk::store::FeedId> = (0..3)
        .map(|f| {
            let spec = FeedSpec {
                name: format!("Outlet {f}"),
                url: format!("https://example.org/{f}.xml"),
            };
            store
                .add_feed(&spec, newsdesk::store::FeedOrigin::Import, now)
                .expect("feed")
        })
        .collect();
    // Each story: three outlets, long titles, a few paragraphs; later stories relate to earlier ones.
    for s in 0..STORIES {
        for (o, feed) in feeds.iter().enumerate() {
            let words: String = (0..150)
                .map(|k| format!("s{s}w{k} topic{} ", s % 7))
                .collect();
            let entry = Entry {
                key: format!("s{s}o{o}"),
                url: Some(format!("https://example.org/{o}/{s}")),
                title: format!(
                    "Story {s} about subject {} with a long headline {}",
                    s % 7,
                    "words ".repeat(20)
                ),
                author: None,
                published: Some(now - jiff::SignedDuration::from_mins((STORIES - s) as i64 * 30)),
                text: format!("Story{s} event{s} happened. {words}"),
                content_html: None,
            };
            let record = PollRecord::Success {
                validators: &Validators::default(),
                body_hash: None,
                meta: None,
            };
            let stored = store
                .store_fetched(
                    *feed,
                    &format!("Outlet {o}"),
                    std::slice::from_ref(&entry),
                    &|_| true,
                    record,
                    &FeedHealth::default(),
                    now,
                    now,
                )
                .expect("store");
            let id = stored.ids[0];
            let item = store.item(id).expect("item");
            relate::relate_item(&mut store, &item, &entry.text, &RelateSettings::default())
                .expect("relate");
            let summary =
                newsdesk::summarize::summarize(Some(&entry.title), &entry.text, Default::default());
            store
                .finish_item(
                    id,
                    &ProcessedItem {
                        text: &entry.text,
                        text_source: newsdesk::store::TextSource::Feed,
                        summary: &summary,
                        gist: "",
                        topics: &[],
                    },
                    now,
                )
                .expect("finish");
        }
    }
    let channel = &config.channels[0];
    let digest = digest::compose(&store, &config, channel, now).expect("compose");
    let messages = layout::digest_messages(&digest);

    let start = Instant::now();
    for _ in 0..ROUNDS {
        let d = digest::compose(&store, &config, channel, now).expect("compose");
        std::hint::black_box(layout::digest_messages(&d));
    }
    let compose = start.elapsed() / ROUNDS as u32;
    let start = Instant::now();
    for _ in 0..ROUNDS {
        std::hint::black_box(serde_json::to_string(&digest).expect("json"));
    }
    let json = start.elapsed() / ROUNDS as u32;

    println!("stories in digest:            {}", digest.stories.len());
    println!(
        "related entries:              {}",
        digest
            .stories
            .iter()
            .map(|s| s.related.len())
            .sum::<usize>()
    );
    println!("compose + layout (50 stories): {compose:?} per digest");
    println!("baseline JSON serialization:   {json:?} per digest");
    println!(
        "ratio compose/baseline:        {:.1}x",
        compose.as_secs_f64() / json.as_secs_f64().max(1e-9)
    );
    println!("requests to post (messages):  {}", messages.len());
    let _ = std::fs::remove_dir_all(&dir);
}
