//! What a poll and the processing of its items ask SQLite, checked statement by statement: work
//! done per feed or per item must read through an index, or its cost grows with the store.

use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::Timestamp;

use super::Desk;
use crate::config::Config;
use crate::store::{
    STATEMENT_CACHE, query_plan, record_statements, times_recompiled, times_run_cached,
};

/// A step whose cost grows with the store: a scan, or a subquery run for every row (such as a
/// count of a feed's items).
fn grows(step: &str) -> bool {
    (step.starts_with("SCAN") || step.starts_with("CORRELATED")) && !allowed(step)
}

/// Scans that are not the store growing under a hot path: the pending queue read in its
/// partial index's order up to its limit (see its own plan test); table-valued functions and
/// full-text lookups, which SQLite reports as scans of virtual tables, and the full-text
/// index's few settings; and the custom topics, each of which is matched against every item
/// anyway.
fn allowed(step: &str) -> bool {
    step == "SCAN items USING INDEX items_pending"
        || step.contains("VIRTUAL TABLE")
        || step == "SCAN CONSTANT ROW"
        || step == "SCAN main.items_fts_config"
        || step == "SCAN custom_topics USING INDEX sqlite_autoindex_custom_topics_1"
}

fn feed(items: &[(&str, &str)]) -> String {
    let mut xml =
        String::from(r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>"#);
    for (n, (title, text)) in items.iter().enumerate() {
        xml.push_str(&format!(
            "<item><title>{title}</title><link>https://wire.example/{n}</link><guid>g{n}</guid>\
             <pubDate>Fri, 20 Nov 2026 1{n}:00:00 +0000</pubDate><description>{text}</description></item>"
        ));
    }
    xml.push_str("</channel></rss>");
    xml
}

#[tokio::test]
async fn every_statement_of_a_poll_and_of_processing_reads_through_an_index() {
    let dir = tempfile::tempdir().expect("temp dir");
    let body = "The harbor authority approved the new river bridge on Tuesday after a long vote. "
        .repeat(10);
    let story = [
        ("Harbor bridge approved", body.as_str()),
        ("River bridge vote passes", body.as_str()),
        ("Council budget storm", "Short teaser."),
    ];
    std::fs::write(dir.path().join("wire.xml"), feed(&story)).expect("feed file");
    let config_path = dir.path().join("desk.toml");
    let text = r#"
[storage]
path = "desk.db"

[polling]
announce_first_fetch = true
max_item_age = "off"

[[feed]]
name = "Wire"
url = "file:wire.xml"

[[topic]]
name = "harbor"
query = "harbor OR bridge"
"#;
    let config = Config::from_str_at(text, &config_path).expect("config");
    let now = Timestamp::from_second(1_795_000_000).expect("time");
    let desk = Arc::new(Desk::open(config, now).expect("desk"));
    let feeds = desk.store().active_feeds().expect("feeds");
    let seen = record_statements(&mut desk.store());
    for feed in &feeds {
        desk.poll_feed(feed, now).await.expect("poll");
    }
    desk.process_pending(now).await.expect("processed");
    // Again, unchanged: the path of a warm poll.
    let feed = desk.store().feed(feeds[0].id).expect("feed");
    desk.poll_feed(&feed, now).await.expect("poll");

    let statements: BTreeSet<String> = seen.lock().expect("recorded").iter().cloned().collect();
    assert!(statements.len() > 10, "{statements:#?}");
    let store = desk.store();
    let scans: Vec<String> = statements
        .iter()
        .flat_map(|sql| {
            let plan = query_plan(&store, sql);
            plan.lines()
                .filter(|step| grows(step))
                .map(|step| format!("{step}: {sql}"))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(scans.is_empty(), "{scans:#?}");

    // Every item runs these again: they must stay compiled. Statements pushed out of a cache
    // too small, or whose plan expires on each use, were a tenth of the time per item.
    assert!(
        statements.len() <= STATEMENT_CACHE,
        "{} statements, cache of {STATEMENT_CACHE}",
        statements.len()
    );
    let recompiled: Vec<(i32, &String)> = statements
        .iter()
        .map(|sql| (times_recompiled(&store, sql), sql))
        .filter(|(n, _)| *n > 0)
        .collect();
    assert!(recompiled.is_empty(), "{recompiled:#?}");
    // And they come from the cache: compiled once, not on each run. Transaction control
    // (savepoints) and the full-text index's own statements are prepared by SQLite and
    // rusqlite themselves.
    let runs = seen.lock().expect("recorded").clone();
    let compiled_each_time: Vec<(usize, i32, &String)> = statements
        .iter()
        .filter(|sql| !sql.starts_with("SAVEPOINT") && !sql.starts_with("RELEASE"))
        .filter(|sql| !sql.contains("'main'.'items_fts_"))
        .map(|sql| {
            let times = runs.iter().filter(|r| *r == sql).count();
            (times, times_run_cached(&store, sql), sql)
        })
        .filter(|(times, cached, _)| *times > 1 && (*cached as usize) < *times)
        .collect();
    assert!(compiled_each_time.is_empty(), "{compiled_each_time:#?}");
}
