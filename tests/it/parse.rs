//! `parse_feed` against bare feed-rs on the corpus: no titled entry with an id is lost.

use std::collections::HashSet;
use std::path::Path;

use newsdesk::normalize::title_text;
use newsdesk::parse::parse_feed;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/corpora/feedparser-tests/wellformed"
);

/// Distinct document ids of raw entries that have a visible title: `parse_feed` must keep
/// at least that many entries (entries without id may legitimately merge or be dropped).
fn titled_ids(bytes: &[u8]) -> Option<usize> {
    let feed = std::panic::catch_unwind(|| {
        let parser = feed_rs::parser::Builder::new()
            .id_generator(|_, _, _| String::new())
            .build();
        parser.parse(bytes)
    })
    .ok()?
    .ok()?;
    let ids: HashSet<&str> = feed
        .entries
        .iter()
        .filter(|e| {
            e.title
                .as_ref()
                .is_some_and(|t| !title_text(&t.content).is_empty())
        })
        .map(|e| e.id.trim())
        .filter(|id| !id.is_empty())
        .collect();
    Some(ids.len())
}

#[test]
fn no_titled_entry_with_id_is_lost() {
    let root = Path::new(CORPUS);
    assert!(root.is_dir(), "corpus missing at {CORPUS}");
    let mut pending = vec![root.to_path_buf()];
    let (mut lost, mut checked) = (Vec::new(), 0);
    while let Some(dir) = pending.pop() {
        for path in std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
        {
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let Some(expected) = titled_ids(&bytes) else {
                continue;
            };
            checked += expected;
            let ours = parse_feed(&bytes, None, None).map_or(0, |f| f.entries.len());
            if ours < expected {
                lost.push(format!("{}: {ours} < {expected}", path.display()));
            }
        }
    }
    assert!(
        checked >= 15,
        "only {checked} titled entries with ids in the corpus"
    );
    assert!(lost.is_empty(), "entries lost: {lost:#?}");
}
