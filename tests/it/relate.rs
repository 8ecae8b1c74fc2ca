//! Story grouping and Related on small hand-written cases.

use std::path::Path;

use jiff::{SignedDuration, Timestamp};
use newsdesk::model::Entry;
use newsdesk::relate::{self, RelateSettings, Relation};
use newsdesk::store::{FeedSpec, ProcessedItem, Store};

fn t0() -> Timestamp {
    "2026-03-02T08:00:00Z".parse().unwrap()
}

/// Stores one article from `outlet` and runs the engine on it, as the pipeline does.
fn add(
    store: &mut Store,
    outlet: &str,
    key: &str,
    minutes: i64,
    title: &str,
    text: &str,
) -> Relation {
    let spec = FeedSpec {
        name: outlet.to_string(),
        url: format!("https://{outlet}.example/feed"),
    };
    // add_feed returns the known id for a URL already added.
    let feed = store
        .add_feed(&spec, newsdesk::store::FeedOrigin::Import, t0())
        .unwrap();
    let published = t0() + SignedDuration::from_mins(minutes);
    let entry = Entry {
        key: key.to_string(),
        url: None,
        title: title.to_string(),
        author: None,
        published: Some(published),
        text: text.to_string(),
        content_html: None,
    };
    let id = store
        .store_batch_entry(feed, outlet, &entry)
        .unwrap()
        .unwrap();
    let item = store.item(id).unwrap();
    let relation = relate::relate_item(store, &item, text, &RelateSettings::default()).unwrap();
    let done = ProcessedItem {
        text,
        text_source: newsdesk::store::TextSource::Feed,
        summary: "",
        gist: "",
        topics: &[],
    };
    store.finish_item(id, &done, published).unwrap();
    relation
}

/// A fresh store (in a temp dir kept alive by the caller) holding the background coverage.
fn grounded_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("n.db")).unwrap();
    background(&mut store);
    (dir, store)
}

/// Unrelated background coverage, so that word rarity means something.
fn background(store: &mut Store) {
    let subjects = [
        (
            "Central bank holds interest rates",
            "The central bank kept its benchmark rate unchanged on Tuesday, citing slowing inflation and a cooling labour market.",
        ),
        (
            "City council approves new bike lanes",
            "Councillors voted to add protected cycle lanes on three avenues after a year of consultation with residents.",
        ),
        (
            "Tech firm unveils folding phone",
            "The handset maker showed a phone with a hinged screen and said it would ship in the autumn at a premium price.",
        ),
        (
            "Drought shrinks reservoir to record low",
            "Water managers warned of restrictions as the reservoir fell to its lowest level since records began.",
        ),
        (
            "Striking dockworkers reach deal",
            "The union and port operators agreed on wages after a week-long strike that left container ships waiting offshore.",
        ),
        (
            "Museum returns looted bronzes",
            "The museum handed back a set of bronze sculptures taken during the colonial era, in a ceremony with officials.",
        ),
        (
            "Football club sacks manager",
            "The club dismissed its manager after a run of seven defeats left the team near the bottom of the table.",
        ),
        (
            "Wildfire forces evacuations in hills",
            "Firefighters battled a blaze fanned by strong winds as thousands of residents left their homes overnight.",
        ),
    ];
    for (n, (title, text)) in subjects.iter().enumerate() {
        add(
            store,
            "wire",
            &format!("bg{n}"),
            n as i64 - 600,
            title,
            text,
        );
    }
}

const QUAKE_A: [(&str, &str, &str); 3] = [
    (
        "north",
        "Magnitude 6.4 earthquake strikes Izmir, killing 12",
        "A magnitude 6.4 earthquake struck the Turkish city of Izmir on Monday, killing 12 people and collapsing buildings in the Bornova district, officials said.",
    ),
    (
        "south",
        "Deadly quake hits Izmir; 12 dead as buildings collapse in Bornova",
        "Rescuers searched rubble in Bornova after a 6.4 magnitude quake shook Izmir, Turkey, leaving 12 dead, according to the disaster agency AFAD.",
    ),
    (
        "east",
        "Izmir earthquake: death toll rises to 12, AFAD says",
        "Turkey's AFAD said 12 people died when the 6.4 earthquake hit Izmir. Several apartment blocks in Bornova collapsed and hundreds were injured.",
    ),
];

const QUAKE_B: (&str, &str, &str) = (
    "north",
    "Magnitude 5.1 earthquake shakes Valparaiso, no deaths reported",
    "A magnitude 5.1 earthquake shook the Chilean port of Valparaiso on Thursday. ONEMI said no deaths were reported and damage to buildings was minor.",
);

#[test]
fn same_event_from_three_outlets_is_one_story() {
    let (_dir, mut store) = grounded_store();
    let mut stories = Vec::new();
    for (n, (outlet, title, text)) in QUAKE_A.iter().enumerate() {
        let r = add(
            &mut store,
            outlet,
            &format!("a{n}"),
            n as i64 * 20,
            title,
            text,
        );
        assert_eq!(r.joined, n > 0, "item {n}");
        stories.push(r.story_id);
    }
    assert!(stories.iter().all(|s| *s == stories[0]), "{stories:?}");
    assert_eq!(store.items_of_story(stories[0]).unwrap().len(), 3);
}

#[test]
fn similar_distinct_events_stay_apart_but_are_related() {
    let (_dir, mut store) = grounded_store();
    let mut first = None;
    for (n, (outlet, title, text)) in QUAKE_A.iter().enumerate() {
        first = Some(
            add(
                &mut store,
                outlet,
                &format!("a{n}"),
                n as i64 * 20,
                title,
                text,
            )
            .story_id,
        );
    }
    let first = first.unwrap();
    let (outlet, title, text) = QUAKE_B;
    let second = add(&mut store, outlet, "b0", 24 * 60, title, text);
    assert!(!second.joined);
    assert_ne!(second.story_id, first);
    let related: Vec<_> = second.related.iter().map(|l| l.story_id).collect();
    assert_eq!(related.first(), Some(&first), "{:?}", second.related);
    assert_eq!(store.related_of(second.story_id).unwrap(), second.related);
}

#[test]
fn related_lists_distinct_other_stories_newest_first_among_equals() {
    let (_dir, mut store) = grounded_store();
    // Two earlier reports worded identically score the same; the newer must come first.
    let older = add(
        &mut store,
        "north",
        "o",
        0,
        "Budget cut at the parks agency",
        "The parks agency loses funding for trail maintenance in the new budget.",
    );
    let newer = add(
        &mut store,
        "south",
        "n",
        5 * 86_400 / 60,
        "Budget cut at the parks agency",
        "The parks agency loses funding for trail maintenance in the new budget.",
    );
    // Over three days apart: separate stories even though the words are the same.
    assert_ne!(older.story_id, newer.story_id);
    let r = add(
        &mut store,
        "east",
        "q",
        10 * 86_400 / 60,
        "Museum agency budget cut announced",
        "The museum agency loses funding for exhibitions in the new budget, officials said.",
    );
    let ids: Vec<_> = r.related.iter().map(|l| l.story_id).collect();
    assert!(!ids.contains(&r.story_id), "own story listed: {ids:?}");
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "duplicates: {ids:?}");
    let pos_new = ids.iter().position(|s| *s == newer.story_id).unwrap();
    let pos_old = ids.iter().position(|s| *s == older.story_id).unwrap();
    assert!(pos_new < pos_old, "{:?}", r.related);
}

#[test]
fn story_ids_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("n.db");
    let first = {
        let mut store = Store::open(&path).unwrap();
        background(&mut store);
        let (outlet, title, text) = QUAKE_A[0];
        add(&mut store, outlet, "a0", 0, title, text).story_id
    };
    reopen_and_join(&path, first);
}

fn reopen_and_join(path: &Path, story: newsdesk::store::StoryId) {
    let mut store = Store::open(path).unwrap();
    for (n, (outlet, title, text)) in QUAKE_A.iter().enumerate().skip(1) {
        let r = add(
            &mut store,
            outlet,
            &format!("a{n}"),
            n as i64 * 20,
            title,
            text,
        );
        assert!(r.joined);
        assert_eq!(r.story_id, story);
    }
    assert_eq!(store.story(story).unwrap().id, story);
}

#[test]
fn a_centroid_written_without_frequencies_is_upgraded_on_first_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("n.db");
    let mut store = Store::open(&path).unwrap();
    background(&mut store);
    let (outlet, title, text) = QUAKE_A[0];
    let story = add(&mut store, outlet, "a0", 0, title, text).story_id;
    // Rewrite the story's centroid as an earlier version stored it: `stem\tmass` lines.
    let mut old = store.story_terms(&[story]).unwrap().remove(0);
    old.terms = old
        .terms
        .lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            Some(format!("{}\t{}\n", f.next()?, f.next()?))
        })
        .collect();
    assert!(old.terms.lines().all(|l| l.split('\t').count() == 2));
    store.set_story_terms(&old).unwrap();

    let (outlet, title, text) = QUAKE_A[1];
    let r = add(&mut store, outlet, "a1", 20, title, text);
    assert!(r.joined, "the old centroid still matches");
    assert_eq!(r.story_id, story);
    let upgraded = store.story_terms(&[story]).unwrap().remove(0);
    assert!(upgraded.terms.lines().all(|l| l.split('\t').count() == 3));
    assert_eq!(upgraded.items, 2);
}

#[test]
fn grouping_works_the_same_after_the_index_is_merged() {
    let (_dir, mut store) = grounded_store();
    let (outlet, title, text) = QUAKE_A[0];
    let story = add(&mut store, outlet, "a0", 0, title, text).story_id;
    store.optimize_search_index().unwrap();
    let (outlet, title, text) = QUAKE_A[1];
    let r = add(&mut store, outlet, "a1", 20, title, text);
    assert!(r.joined);
    assert_eq!(r.story_id, story);
    // And again: merging an already merged index is harmless.
    store.optimize_search_index().unwrap();
    let (outlet, title, text) = QUAKE_A[2];
    assert_eq!(
        add(&mut store, outlet, "a2", 40, title, text).story_id,
        story
    );
}

#[test]
fn related_lists_only_stories_that_began_before_this_one() {
    let (_dir, mut store) = grounded_store();
    let (outlet, title, text) = QUAKE_A[0];
    let izmir = add(&mut store, outlet, "a0", 0, title, text);
    let (outlet, title, text) = QUAKE_B;
    let chile = add(&mut store, outlet, "b0", 24 * 60, title, text);
    // Another quake begins after the Chilean story: later news for it, not background.
    let crete = add(
        &mut store,
        "west",
        "c0",
        24 * 60 + 30,
        "Magnitude 5.6 earthquake jolts Crete, two injured",
        "A magnitude 5.6 earthquake jolted the Greek island of Crete on Thursday. Two people were injured in Heraklion and some old buildings were damaged, officials said.",
    );
    assert_ne!(crete.story_id, chile.story_id);
    let crete_related: Vec<_> = crete.related.iter().map(|l| l.story_id).collect();
    assert!(crete_related.contains(&chile.story_id), "{crete_related:?}");
    // More coverage of the Chilean quake joins its story; its Related stays earlier coverage.
    let again = add(
        &mut store,
        "south",
        "b1",
        24 * 60 + 60,
        "Valparaiso earthquake of magnitude 5.1 causes minor damage, ONEMI says",
        "Chile's ONEMI reported minor damage and no deaths after the magnitude 5.1 earthquake shook Valparaiso on Thursday.",
    );
    assert!(again.joined);
    assert_eq!(again.story_id, chile.story_id);
    let related: Vec<_> = store
        .related_of(chile.story_id)
        .unwrap()
        .iter()
        .map(|l| l.story_id)
        .collect();
    assert!(related.contains(&izmir.story_id), "{related:?}");
    assert!(
        !related.contains(&crete.story_id),
        "later story listed: {related:?}"
    );
}

/// Term weights stay comparable as the store grows: a story stored while the store was nearly
/// empty (every word then weighed alike) must not score like a twin, later, against an
/// article that shares only everyday words with it — the "hub" that joins or shows up under
/// unrelated stories when its stored norm keeps the weights of that tiny store. (On the old
/// code the ferry article below was grouped into the museum story.)
#[test]
fn an_early_story_is_no_hub_once_the_store_has_grown() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("n.db")).unwrap();
    let early = add(
        &mut store,
        "wire",
        "early",
        0,
        "Museum reopens after renovation",
        "The city museum reopened its galleries on Saturday after a two-year renovation.",
    )
    .story_id;
    for i in 0..150 {
        add(
            &mut store,
            "ledger",
            &format!("b{i}"),
            i + 1,
            &format!("Council notes {i}"),
            &format!("Minutes q{i}z of the city council session about the harbour plan k{i}v."),
        );
    }
    let late = add(
        &mut store,
        "monitor",
        "late",
        400,
        "Ferry timetable changes for winter",
        "The city ferry service changes its timetable on Saturday for the winter season.",
    );
    let score = late
        .related
        .iter()
        .find(|l| l.story_id == early)
        .map(|l| l.score);
    assert_ne!(late.story_id, early, "grouped with the early story");
    assert!(
        score.is_none_or(|s| s < 0.25),
        "early story scored {score:?}"
    );
}

/// Coverage of one event, worded apart: its match is real but weak.
const ADVISER: [(&str, &str, &str); 2] = [
    (
        "north",
        "Senate confirms Okafor as White House science adviser",
        "The Senate voted 61 to 38 on Tuesday to confirm Miriam Okafor, a Princeton physicist, as director of the Office of Science and Technology Policy.",
    ),
    (
        "south",
        "Physicist Okafor to lead OSTP after close vote",
        "Miriam Okafor will run the president's science office. Lawmakers approved her nomination after a debate about research budgets and visas for students.",
    ),
];

/// Unrelated stories within the grouping window, each with its own vocabulary.
fn busy_window(store: &mut Store, count: usize) {
    for k in 0..count {
        let words: Vec<String> = (0..12).map(|w| format!("w{k}x{w}")).collect();
        add(
            store,
            "filler",
            &format!("filler{k}"),
            k as i64 - 300,
            &format!("Filler {} {}", words[0], words[1]),
            &words.join(" "),
        );
    }
}

/// A weak but real match joins its story when few stories compete in the window, and opens its
/// own (listing the first as Related) when many do: the bar rises with the chances of a
/// coincidental match.
#[test]
fn a_weak_match_joins_in_a_quiet_window_but_not_in_a_busy_one() {
    let (_quiet_dir, mut quiet) = grounded_store();
    let [(o1, t1, x1), (o2, t2, x2)] = ADVISER;
    let first = add(&mut quiet, o1, "a1", 0, t1, x1);
    let second = add(&mut quiet, o2, "a2", 60, t2, x2);

    let (_busy_dir, mut busy) = grounded_store();
    busy_window(&mut busy, 40);
    let busy_first = add(&mut busy, o1, "a1", 0, t1, x1);
    let busy_second = add(&mut busy, o2, "a2", 60, t2, x2);
    let score = busy_second
        .related
        .iter()
        .find(|r| r.story_id == busy_first.story_id)
        .map(|r| r.score);
    assert!(second.joined && second.story_id == first.story_id);
    assert!(!busy_second.joined, "{busy_second:?}");
    let score = score.expect("listed as Related");
    assert!(
        score > relate::merge_bar(10) && score < relate::MERGE_THRESHOLD,
        "a weak match: {score}"
    );
}

#[test]
fn an_entry_sharing_only_a_word_is_left_out_beside_the_same_thread() {
    let (_dir, mut store) = grounded_store();
    let thread = add(
        &mut store,
        "north",
        "t",
        0,
        "Safety institute names director to test frontier AI models",
        "The AI safety institute named a director who will run evaluations of frontier AI models for dangerous capabilities before release.",
    );
    let aside = add(
        &mut store,
        "south",
        "s",
        2 * 86_400 / 60,
        "Labs sign fusion materials program with European institute",
        "National laboratories and a European institute signed their first program to test materials for fusion reactors, using computer models and shared beam time at accelerator facilities.",
    );
    let r = add(
        &mut store,
        "east",
        "q",
        10 * 86_400 / 60,
        "Safety institute completes first evaluations of frontier AI models",
        "The AI safety institute said it had finished evaluations of two frontier AI models, and its director said neither showed dangerous capabilities.",
    );
    let ids: Vec<_> = r.related.iter().map(|l| l.story_id).collect();
    assert_eq!(ids.first(), Some(&thread.story_id), "{:?}", r.related);
    // The fusion story shares only "institute", "first" and "models" (above the absolute
    // floor, as in the demo before): too weak beside the thread.
    assert!(!ids.contains(&aside.story_id), "{:?}", r.related);
    assert!(
        r.related
            .iter()
            .all(|l| l.score >= r.related[0].score * relate::RELATIVE_FLOOR),
        "{:?}",
        r.related
    );
}

/// A candidate story that can be neither joined nor listed (out of the grouping window, begun
/// before the Related window) is passed over: its centroid, stale since the store grew, is not
/// weighed again. Old stories share rare words with new items as often as recent ones, so on
/// a large store most candidates were such stories, each re-weighed term by term.
#[test]
fn a_story_out_of_every_window_is_not_weighed_again() {
    let (_dir, mut store) = grounded_store();
    let (outlet, title, text) = QUAKE_A[0];
    let old = add(&mut store, outlet, "a0", 0, title, text).story_id;
    let written = store.story_terms(&[old]).unwrap().remove(0).norm_docs;
    // The store grows by more than a quarter: the old centroid's weights are stale.
    busy_window(&mut store, 4);
    let day = 24 * 60;
    let (outlet, title, text) = QUAKE_A[1];
    let late = add(&mut store, outlet, "a1", 200 * day, title, text);
    assert!(!late.joined);
    assert!(late.related.iter().all(|l| l.story_id != old));
    let after = store.story_terms(&[old]).unwrap().remove(0).norm_docs;
    assert_eq!(after, written, "re-weighed a story nothing could use");
    // Within the Related window the same story is weighed again and listed.
    let (outlet, title, text) = QUAKE_A[2];
    let within = add(&mut store, outlet, "a2", 100 * day, title, text);
    assert!(
        within.related.iter().any(|l| l.story_id == old),
        "{within:?}"
    );
    let after = store.story_terms(&[old]).unwrap().remove(0).norm_docs;
    assert!(after > written, "{after} vs {written}");
}
