//! `newsdesk relate --input FILE.jsonl`: the daemon's grouping and Related engine over a batch
//! of articles in arrival order, on a temporary store. Input lines:
//! `{"id","title","text","published"?,"source"?}`; output lines: `{"id","story","related"}`.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::Context;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use crate::model::Entry;
use crate::relate::{self, RelateSettings};
use crate::store::{FeedSpec, ProcessedItem, Store};

#[derive(Debug, clap::Args)]
pub struct RelateArgs {
    /// JSON lines file ("-" for stdin).
    #[arg(long)]
    pub input: PathBuf,
    /// Related ids per article.
    #[arg(long, default_value_t = 5)]
    pub k: usize,
}

#[derive(Debug, Deserialize)]
struct Article {
    id: serde_json::Value,
    #[serde(default)]
    title: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    source: Option<String>,
}

/// A store file in the temp directory, removed on drop.
struct TempStore(PathBuf);

impl Drop for TempStore {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

pub fn run(args: &RelateArgs) -> anyhow::Result<()> {
    let reader: Box<dyn BufRead> = if args.input.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(&args.input)
            .with_context(|| format!("cannot open {}", args.input.display()))?;
        Box::new(std::io::BufReader::new(file))
    };
    let temp = TempStore(std::env::temp_dir().join(format!(
        "newsdesk-relate-{}-{}.db",
        std::process::id(),
        Timestamp::now().as_nanosecond()
    )));
    let mut store = Store::open(&temp.0)?;
    let settings = RelateSettings {
        max_related: args.k,
        ..RelateSettings::default()
    };
    let start = Timestamp::now();
    let mut feeds: HashMap<String, i64> = HashMap::new();
    let mut keys: HashMap<i64, String> = HashMap::new();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for (n, line) in reader.lines().enumerate() {
        let line = line.context("cannot read input")?;
        if line.trim().is_empty() {
            continue;
        }
        let article: Article = match serde_json::from_str(&line) {
            Ok(a) => a,
            Err(e) => {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({"line": n + 1, "error": e.to_string()})
                )?;
                continue;
            }
        };
        let id = match &article.id {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        // Without a date, arrival order is the clock: one minute per article.
        let published = article
            .published
            .as_deref()
            .and_then(parse_time)
            .unwrap_or_else(|| start + SignedDuration::from_mins(n as i64));
        let source = article
            .source
            .clone()
            .unwrap_or_else(|| "batch".to_string());
        let feed_id = match feeds.get(&source) {
            Some(id) => *id,
            None => {
                let spec = FeedSpec {
                    name: source.clone(),
                    url: format!("batch:{}", feeds.len()),
                };
                let id = store.add_feed(&spec, "batch", start)?;
                feeds.insert(source.clone(), id);
                id
            }
        };
        let entry = Entry {
            key: id.clone(),
            url: None,
            title: article.title.clone(),
            author: None,
            published: Some(published),
            text: article.text.clone(),
            content_html: None,
        };
        let Some(item_id) = store.store_batch_entry(feed_id, &source, &entry)? else {
            writeln!(
                out,
                "{}",
                serde_json::json!({"id": article.id, "error": "duplicate id"})
            )?;
            continue;
        };
        let item = store.item(item_id)?;
        let relation = relate::relate_item(&mut store, &item, &article.text, &settings)?;
        store.finish_item(
            item_id,
            &ProcessedItem {
                text: &article.text,
                text_source: "feed",
                summary: "",
                topics: &[],
            },
            published,
        )?;
        keys.insert(item_id, id);
        let mut related = Vec::new();
        for link in &relation.related {
            let lead = store.story(link.story_id)?.lead_item_id;
            if let Some(key) = keys.get(&lead) {
                related.push(key.clone());
            }
        }
        writeln!(
            out,
            "{}",
            serde_json::json!({"id": article.id, "story": relation.story_id.to_string(), "related": related})
        )?;
    }
    out.flush()?;
    Ok(())
}

fn parse_time(s: &str) -> Option<Timestamp> {
    s.parse::<Timestamp>()
        .ok()
        .or_else(|| {
            s.parse::<jiff::civil::DateTime>()
                .ok()
                .and_then(|d| d.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok())
                .map(|z| z.timestamp())
        })
        .or_else(|| {
            s.parse::<jiff::civil::Date>()
                .ok()
                .and_then(|d| d.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok())
                .map(|z| z.timestamp())
        })
}
