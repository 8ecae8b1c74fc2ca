//! The SQLite store on a real temp file: WAL, migrations, refusing a newer schema.

use newsdesk::store::{Store, StoreError};

#[test]
fn opens_in_wal_mode_and_migrates_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/desk.db");
    let store = Store::open(&path).unwrap();
    assert_eq!(store.journal_mode().unwrap(), "wal");
    let version = store.schema_version().unwrap();
    assert!(version >= 1);
    drop(store);
    let again = Store::open(&path).unwrap();
    assert_eq!(again.schema_version().unwrap(), version);
}

#[test]
fn refuses_a_schema_from_the_future() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("desk.db");
    drop(Store::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 999).unwrap();
    drop(conn);
    match Store::open(&path) {
        Err(StoreError::NewerSchema { found: 999, .. }) => {}
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("a newer schema must be refused"),
    }
}

#[test]
fn atomic_work_lands_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("desk.db")).unwrap();
    let failed: Result<(), StoreError> = store.atomically(|s| {
        s.add_document_terms(["quake", "lima"])?;
        Err(StoreError::NotFound {
            what: "story",
            id: 1,
        })
    });
    assert!(failed.is_err());
    assert_eq!(store.document_count().unwrap(), 0, "rolled back");
    store
        .atomically(|s| {
            s.add_document_terms(["quake"])?;
            s.add_document_terms(["quake", "lima"])
        })
        .unwrap();
    assert_eq!(store.document_count().unwrap(), 2);
    let df = store.document_frequencies(["quake", "lima"]).unwrap();
    assert_eq!((df["quake"], df["lima"]), (2, 1));
}

#[test]
fn a_document_counts_each_distinct_term_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("desk.db")).unwrap();
    // Terms reach SQL as a JSON list: quotes and backslashes must survive the trip.
    let odd = "say\"s\\";
    store
        .add_document_terms(["quake", "", "quake", odd, "lima"])
        .unwrap();
    store.add_document_terms(["quake"]).unwrap();
    store.add_document_terms([]).unwrap();
    assert_eq!(store.document_count().unwrap(), 3);
    let df = store
        .document_frequencies(["quake", "lima", odd, "unseen"])
        .unwrap();
    assert_eq!(
        (df["quake"], df["lima"], df[odd], df["unseen"]),
        (2, 1, 1, 0)
    );
}

/// The daemon merges the full-text index in bounded steps: the steps end, and every document
/// is still found afterwards.
#[test]
fn the_search_index_merges_in_steps_that_end_and_keep_every_document() {
    use newsdesk::model::Entry;
    use newsdesk::store::{FeedSpec, ProcessedItem};
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("desk.db")).unwrap();
    let now = jiff::Timestamp::from_second(1_800_000_000).unwrap();
    let feed = store
        .add_feed(
            &FeedSpec {
                name: "F".into(),
                url: "https://f.example/feed".into(),
            },
            newsdesk::store::FeedOrigin::Config,
            now,
        )
        .unwrap();
    // One transaction per document: each leaves a segment of its own.
    for n in 0..200 {
        let entry = Entry {
            key: format!("k{n}"),
            url: None,
            title: format!("Report {n} on glaciers"),
            author: None,
            published: Some(now),
            text: format!("glacier survey number {n} measured the ice"),
            content_html: None,
        };
        let id = store.store_batch_entry(feed, "F", &entry).unwrap().unwrap();
        let text = entry.text.clone();
        store
            .finish_item(
                id,
                &ProcessedItem {
                    text: &text,
                    text_source: newsdesk::store::TextSource::Feed,
                    summary: "",
                    gist: "",
                    topics: &[],
                },
                now,
            )
            .unwrap();
    }
    let mut steps = 0;
    while store.merge_search_index_step(8).unwrap() {
        steps += 1;
        assert!(steps < 10_000, "the merge never ends");
    }
    assert!(!store.merge_search_index_step(8).unwrap(), "nothing left");
    assert_eq!(store.items_with_word("glacier", 1000).unwrap().len(), 200);
}
