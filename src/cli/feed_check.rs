//! `newsdesk feeds check [--only NAME]`: fetches every configured feed once, with the client and
//! limits the daemon uses, and says for each what a desk needs to know: does it answer, where
//! does it really live, what format, how many items, how fresh, whether they carry full text.
//! Needs no database: it reads the config only.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use tokio::task::JoinSet;

use crate::config::{Config, FeedConfig};
use crate::fetch::{FetchOutcome, FetchSettings, Fetcher, Probe};
use crate::parse;

/// A newest item older than this makes a feed look abandoned.
const STALE_AFTER: SignedDuration = SignedDuration::from_hours(30 * 24);

/// What one feed's check found.
struct Row {
    name: String,
    status: String,
    format: String,
    items: Option<usize>,
    newest: Option<Timestamp>,
    full_text: String,
    millis: u128,
    notes: Vec<String>,
    failed: bool,
}

/// Checks the config's feeds (or the one named `only`); prints a table and fails when any
/// feed failed.
pub async fn run(config: &Config, only: Option<&str>, out: &mut dyn Write) -> anyhow::Result<()> {
    let feeds: Vec<&FeedConfig> = config
        .feeds
        .iter()
        .filter(|f| only.is_none_or(|name| f.name.get_ref() == name))
        .collect();
    if feeds.is_empty() {
        anyhow::bail!(match only {
            Some(name) => format!("no feed named {name:?} in {}", config.source.display()),
            None => format!("{} configures no feeds", config.source.display()),
        });
    }
    let fetcher = Fetcher::new(FetchSettings::from(&config.polling))?;
    let min_text = config.polling.full_text_min_chars;
    let limit = Arc::new(tokio::sync::Semaphore::new(
        config.polling.concurrency.max(1),
    ));
    let mut tasks = JoinSet::new();
    for (index, feed) in feeds.iter().enumerate() {
        let name = feed.name.get_ref().clone();
        let url = config.feed_url(feed);
        let (fetcher, limit) = (fetcher.clone(), Arc::clone(&limit));
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let row = match url {
                Ok(url) => {
                    let started = Instant::now();
                    let probe = fetcher.probe(&url).await;
                    describe(name, probe, started, min_text).await
                }
                Err(e) => Row::failed(name, e),
            };
            (index, row)
        });
    }
    let tty = std::io::stderr().is_terminal();
    let mut rows: Vec<Option<Row>> = (0..feeds.len()).map(|_| None).collect();
    let mut done = 0;
    while let Some(joined) = tasks.join_next().await {
        let (index, row) = joined?;
        rows[index] = Some(row);
        done += 1;
        if tty {
            eprint!("\rchecked {done}/{}", feeds.len());
        }
    }
    if tty {
        eprintln!();
    }
    let rows: Vec<Row> = rows.into_iter().flatten().collect();
    print_table(&rows, out)?;
    let failed = rows.iter().filter(|r| r.failed).count();
    if failed > 0 {
        anyhow::bail!("{failed} of {} feed(s) failed", rows.len());
    }
    Ok(())
}

impl Row {
    fn failed(name: String, why: String) -> Row {
        Row {
            name,
            status: why,
            format: String::new(),
            items: None,
            newest: None,
            full_text: String::new(),
            millis: 0,
            notes: Vec::new(),
            failed: true,
        }
    }
}

/// A probe as a row: the answer, then what the document holds.
async fn describe(name: String, probe: Probe, started: Instant, min_text: usize) -> Row {
    let Probe { hops, result } = probe;
    let mut notes = Vec::new();
    if let Some(last) = hops.last()
        && hops.iter().any(|h| h.is_permanent())
    {
        notes.push(format!("moved permanently: use url = \"{}\"", last.to));
    }
    let via: Vec<String> = hops.iter().map(|h| h.status.to_string()).collect();
    let via = if via.is_empty() {
        String::new()
    } else {
        format!(" via {}", via.join(","))
    };
    let fetched = match result {
        Ok(FetchOutcome::Fetched(fetched)) => fetched,
        Ok(FetchOutcome::NotModified { .. }) => {
            let mut row = Row::failed(name, format!("304 to a plain request{via}"));
            row.notes = notes;
            return row;
        }
        Err(e) => {
            let mut row = Row::failed(name, format!("{e}{via}"));
            row.millis = started.elapsed().as_millis();
            row.notes = notes;
            return row;
        }
    };
    let body = fetched.body;
    let content_type = fetched.content_type.clone();
    let base = fetched.final_url.clone();
    // Parsing is CPU work: off the async threads.
    let parsed = tokio::task::spawn_blocking(move || {
        parse::parse_feed(&body, content_type.as_deref(), Some(&base)).map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|e| Err(format!("parsing panicked: {e}")));
    let millis = started.elapsed().as_millis();
    let parsed = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let mut row = Row::failed(name, format!("not a feed: {e}"));
            row.millis = millis;
            row.notes = notes;
            return row;
        }
    };
    let items = parsed.entries.len();
    let newest = parsed.entries.iter().filter_map(|e| e.published).max();
    if newest.is_some_and(|t| t + STALE_AFTER < Timestamp::now()) {
        notes.push("stale: no item in the last 30 days".to_string());
    }
    if items == 0 {
        notes.push("no items".to_string());
    }
    let long = parsed
        .entries
        .iter()
        .filter(|e| e.text.chars().count() >= min_text)
        .count();
    let full_text = match (items, long) {
        (0, _) => "-".to_string(),
        (n, l) if l == n => "yes".to_string(),
        (_, 0) => "teasers: full_text = \"always\"".to_string(),
        (n, l) => format!("{l} of {n}"),
    };
    Row {
        name,
        status: format!("ok{via}"),
        format: parsed.meta.format.to_string(),
        items: Some(items),
        newest,
        full_text,
        millis,
        notes,
        failed: false,
    }
}

fn print_table(rows: &[Row], out: &mut dyn Write) -> anyhow::Result<()> {
    let name_width = rows
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 32);
    writeln!(
        out,
        "{:<name_width$}  {:<24} {:<9} {:>5}  {:<10}  {:>6}  FULL TEXT / NOTES",
        "FEED", "STATUS", "FORMAT", "ITEMS", "NEWEST", "MS"
    )?;
    for row in rows {
        let name: String = row.name.chars().take(name_width).collect();
        let status: String = row.status.chars().take(24).collect();
        let items = row.items.map(|n| n.to_string()).unwrap_or_default();
        let newest = row
            .newest
            .map(|t| t.strftime("%Y-%m-%d").to_string())
            .unwrap_or_default();
        let mut notes = vec![row.full_text.clone()];
        if row.failed && row.status.chars().count() > 24 {
            // The whole error, where the column cut it.
            notes.push(row.status.clone());
        }
        notes.extend(row.notes.iter().cloned());
        let notes: Vec<String> = notes.into_iter().filter(|n| !n.is_empty()).collect();
        writeln!(
            out,
            "{name:<name_width$}  {status:<24} {:<9} {items:>5}  {newest:<10}  {:>6}  {}",
            row.format,
            row.millis,
            notes.join("; ")
        )?;
    }
    Ok(())
}
