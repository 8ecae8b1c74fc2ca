//! `newsdesk relate --input FILE.jsonl`: the daemon's grouping and Related engine over a batch
//! of articles in arrival order, on a temporary store. Input lines:
//! `{"id","title","text","published"?,"source"?}`; output lines: `{"id","story","related","scores"}`,
//! and `"candidates"` with `--explain`.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use jiff::{SignedDuration, Timestamp};

use super::jsonl::{self, LineError, Object};
use crate::model::Entry;
use crate::relate::{self, RelateSettings, Relation};
use crate::store::{FeedId, FeedOrigin, FeedSpec, ItemId, ProcessedItem, Store, TextSource};

#[derive(Debug, clap::Args)]
pub struct RelateArgs {
    /// JSON lines file ("-" for stdin). A bad line gets an {"line","id"?,"error"} line instead
    /// of its result, and the command ends non-zero.
    #[arg(long)]
    pub input: PathBuf,
    /// Related ids per article.
    #[arg(long, default_value_t = 5)]
    pub k: usize,
    /// Adds each article's grouping candidates, the stories it could have joined, with their
    /// signals ("candidates": [{"story","cosine","entity_share","story_items","gap_days",
    /// "entities","item_terms","competing"}]): the data a grouping model is fitted on.
    #[arg(long)]
    pub explain: bool,
}

/// One input line's article.
struct Article<'a> {
    id: &'a serde_json::Value,
    title: &'a str,
    text: &'a str,
    published: Option<Timestamp>,
    source: &'a str,
}

impl<'a> Article<'a> {
    fn read(object: &'a Object) -> Result<Article<'a>, LineError> {
        let published = match object.string("published")? {
            Some(raw) => Some(parse_time(raw).ok_or_else(|| LineError::BadValue {
                field: "published",
                problem: format!("{raw:?} is not a time (RFC 3339, or a date YYYY-MM-DD)"),
            })?),
            None => None,
        };
        Ok(Article {
            id: object.required("id")?,
            title: object.string("title")?.unwrap_or_default(),
            text: object.string("text")?.unwrap_or_default(),
            published,
            source: object.string("source")?.unwrap_or("batch"),
        })
    }
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

/// Prints one line per input line; fails (after printing every line) when any line was bad.
pub fn run(args: &RelateArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let temp = TempStore(std::env::temp_dir().join(format!(
        "newsdesk-relate-{}-{}.db",
        std::process::id(),
        Timestamp::now().as_nanosecond()
    )));
    let mut batch = Batch {
        store: Store::open(&temp.0)?,
        settings: RelateSettings {
            max_related: args.k,
            explain: args.explain,
            ..RelateSettings::default()
        },
        start: Timestamp::now(),
        feeds: HashMap::new(),
        keys: HashMap::new(),
    };
    jsonl::answer_lines(&args.input, out, |number, object| {
        batch.relate(object, number)
    })
}

/// The engine's state over one batch.
struct Batch {
    store: Store,
    settings: RelateSettings,
    /// The clock of articles without a date.
    start: Timestamp,
    /// Feed id per source name.
    feeds: HashMap<String, FeedId>,
    /// Input id per stored item.
    keys: HashMap<ItemId, String>,
}

impl Batch {
    /// The output line of one article (input line `number`), or why the line is unusable; store
    /// failures are errors of the whole batch.
    fn relate(
        &mut self,
        object: &Object,
        number: usize,
    ) -> anyhow::Result<Result<serde_json::Value, LineError>> {
        let article = match Article::read(object) {
            Ok(article) => article,
            Err(e) => return Ok(Err(e)),
        };
        let id = input_id(article.id);
        let published = self.published(&article, number);
        let feed_id = self.feed_of(article.source)?;
        let entry = Entry {
            key: id.clone(),
            url: None,
            title: article.title.to_string(),
            author: None,
            published: Some(published),
            text: article.text.to_string(),
            content_html: None,
        };
        let Some(item_id) = self
            .store
            .store_batch_entry(feed_id, article.source, &entry)?
        else {
            return Ok(Err(LineError::BadValue {
                field: "id",
                problem: format!("{id:?} was used by an earlier line"),
            }));
        };
        let relation = self.relate_stored(item_id, &article, published)?;
        self.keys.insert(item_id, id);
        let mut line = serde_json::json!({
            "id": article.id,
            "story": relation.story_id.to_string(),
            "related": self.related_ids(&relation)?,
            // Each Related entry's cosine, rounded: what the relatedness floor is judged on.
            "scores": relation.related.iter().map(|l| (l.score * 1e3).round() / 1e3).collect::<Vec<_>>(),
        });
        if self.settings.explain {
            line["candidates"] = relation
                .candidates
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "story": c.story_id.to_string(),
                        "cosine": c.cosine,
                        "entity_share": c.entity_share,
                        "story_items": c.story_items,
                        "gap_days": c.gap_days,
                        "entities": c.entities,
                        "item_terms": c.item_terms,
                        "competing": c.competing,
                    })
                })
                .collect();
        }
        Ok(Ok(line))
    }

    /// The article's time: its own date, else its arrival (one minute per line).
    fn published(&self, article: &Article, number: usize) -> Timestamp {
        article
            .published
            .unwrap_or_else(|| self.start + SignedDuration::from_mins(number as i64 - 1))
    }

    /// The feed standing for `source`, added on its first article.
    fn feed_of(&mut self, source: &str) -> anyhow::Result<FeedId> {
        if let Some(id) = self.feeds.get(source) {
            return Ok(*id);
        }
        let spec = FeedSpec {
            name: source.to_string(),
            url: format!("batch:{}", self.feeds.len()),
        };
        let id = self.store.add_feed(&spec, FeedOrigin::Import, self.start)?;
        self.feeds.insert(source.to_string(), id);
        Ok(id)
    }

    /// Groups the stored item as the daemon does, then marks it processed so that later
    /// articles see it.
    fn relate_stored(
        &mut self,
        item_id: ItemId,
        article: &Article,
        published: Timestamp,
    ) -> anyhow::Result<Relation> {
        let item = self.store.item(item_id)?;
        let relation = relate::relate_item(&mut self.store, &item, article.text, &self.settings)?;
        self.store.finish_item(
            item_id,
            &ProcessedItem {
                text: article.text,
                text_source: TextSource::Feed,
                summary: "",
                gist: "",
                topics: &[],
            },
            published,
        )?;
        Ok(relation)
    }

    /// The input ids of the Related stories' lead articles, best first.
    fn related_ids(&self, relation: &Relation) -> anyhow::Result<Vec<String>> {
        let mut related = Vec::new();
        for link in &relation.related {
            let lead = self.store.story(link.story_id)?.lead_item_id;
            if let Some(key) = self.keys.get(&lead) {
                related.push(key.clone());
            }
        }
        Ok(related)
    }
}

/// An input id as text: strings as they are, numbers and other values in JSON.
fn input_id(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
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
