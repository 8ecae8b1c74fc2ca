//! Retention (`[storage] keep`): old items lose their article text and longer summary, and
//! nothing a reader sees of them changes beyond that; the daemon applies it by itself.

use std::sync::Arc;
use std::time::Duration;

use newsdesk::config::Config;
use newsdesk::daemon::{self, RunOptions};
use newsdesk::digest::TerminalSink;
use newsdesk::lookup;
use newsdesk::pipeline::{Desk, PollOutcome};
use newsdesk::present::{ViewSettings, story_view};
use newsdesk::store::{ItemRow, StoryId};

use crate::support::fixture::{FixedClock, Fixture, at, rss};
use crate::support::http::Resp;

const BUDGET: &str = "The National Science Agency will cut its research grants budget by twelve percent next year, \
agency director Mara Quill told lawmakers on Tuesday. The reduction hits early-career fellowships hardest, \
and universities warned that laboratories in Ohio and Oregon would close. Quill said the agency would protect \
graduate stipends and the polar research fleet. Lawmakers from both parties questioned the timing of the cuts.";
const BUDGET_LATER: &str = "The National Science Agency confirmed the twelve percent cut to research grants that \
director Mara Quill announced in January. Early-career fellowships shrink most, and laboratories in Ohio and \
Oregon have begun to close. Graduate stipends and the polar research fleet were spared, Quill said again. \
Lawmakers asked for a new budget hearing.";
const TELESCOPE: &str = "Astronomers at the Cerro Alto observatory unveiled a new infrared telescope mirror on Monday, \
the largest ever cast in South America. The mirror will be shipped to the summit in the spring and first light is \
expected in two years. Engineers spent four years polishing the glass to within a few nanometres.";

const NOW: &str = "2026-11-20T12:00:00Z";

/// Two old stories (the later lists the earlier as Related) and a fresh one; `reversed` lists
/// the same items in the other order (another body, so it is parsed again).
fn wire(reversed: bool) -> String {
    let mut items = vec![
        (
            "old-1",
            "Science agency cuts grants",
            "2024-01-10T10:00:00Z",
            "https://example.org/old-1",
            BUDGET,
        ),
        (
            "old-2",
            "Grant cuts confirmed at science agency",
            "2024-03-01T10:00:00Z",
            "https://example.org/old-2",
            BUDGET_LATER,
        ),
        (
            "new-1",
            "Telescope mirror unveiled",
            "2026-11-19T10:00:00Z",
            "https://example.org/new-1",
            TELESCOPE,
        ),
    ];
    if reversed {
        items.reverse();
    }
    rss(&items)
}

fn config(fx: &Fixture, keep: &str) -> Config {
    let mut config = fx.config(&[("Wire", "/wire.xml")], "");
    config.polling.announce_first_fetch = true;
    config.storage.keep =
        newsdesk::duration::HumanDuration(newsdesk::duration::parse(keep).expect("duration"));
    config
}

fn item(desk: &Desk, url: &str) -> ItemRow {
    desk.store()
        .item_by_url(url)
        .expect("store")
        .expect("item stored")
}

/// A desk with retention `keep` that has polled and processed `feed` (served as /wire.xml);
/// the fixture keeps the server up.
async fn polled(feed: &str, keep: &str) -> (Fixture, Arc<Desk>) {
    let fx = Fixture::new().await;
    fx.server.route("/wire.xml", Resp::ok(feed.to_string()));
    let desk = fx.desk(config(&fx, keep), at(NOW));
    daemon::poll_and_process(&desk, at(NOW), &|_, _| {})
        .await
        .expect("poll");
    (fx, desk)
}

fn story_of(desk: &Desk, url: &str) -> StoryId {
    item(desk, url).story_id.expect("in a story")
}

#[tokio::test]
async fn old_items_lose_their_text_and_keep_what_readers_show() {
    let (fx, desk) = polled(&wire(false), "2y").await;
    let settings = ViewSettings::from(&desk.config);
    let (old, later, fresh) = (
        story_of(&desk, "https://example.org/old-1"),
        story_of(&desk, "https://example.org/old-2"),
        story_of(&desk, "https://example.org/new-1"),
    );
    assert!(old != later && later != fresh, "three stories");
    let view = |story| story_view(&desk.store(), story, &settings).expect("view");
    let (old_before, later_before, fresh_before) = (view(old), view(later), view(fresh));
    assert_eq!(
        later_before
            .related
            .iter()
            .map(|r| r.story_id)
            .collect::<Vec<_>>(),
        [old],
        "the premise: the later story lists the earlier as Related"
    );
    assert_ne!(
        old_before.summary, old_before.gist,
        "a longer summary to drop"
    );
    let fresh_item = item(&desk, "https://example.org/new-1");

    let expired = desk.expire_all(at(NOW)).expect("retention");
    assert_eq!((expired.items, expired.stories), (2, 2));

    for url in ["https://example.org/old-1", "https://example.org/old-2"] {
        let gone = item(&desk, url);
        assert!(gone.is_expired(), "{url}");
        assert_eq!(
            (gone.text, gone.summary, gone.feed_text.as_str()),
            (None, None, "")
        );
        assert!(
            gone.gist.is_some_and(|g| !g.is_empty()),
            "{url} keeps its gist"
        );
    }
    assert_eq!(item(&desk, "https://example.org/new-1"), fresh_item);
    // Grouping terms go with the old stories only.
    {
        let store = desk.store();
        assert!(store.story_terms(&[old, later]).expect("terms").is_empty());
        assert_eq!(store.story_terms(&[fresh]).expect("terms").len(), 1);
    }

    // Pages, digests and Related show the same headline, link, outlet and gist; the summary of
    // an old story is its gist.
    let old_after = view(old);
    assert_eq!(
        old_after,
        newsdesk::present::StoryView {
            summary: old_before.gist.clone(),
            ..old_before.clone()
        }
    );
    assert_eq!(view(later).related, later_before.related);
    assert_eq!(view(fresh), fresh_before);
    let page = newsdesk::web::pages::story_page(&old_after, None);
    assert!(page.contains("Science agency cuts grants"), "{page}");
    assert!(page.contains(&old_before.gist), "{page}");
    // Search still finds the old stories by the words of their headlines and gists.
    let found = lookup::search_stories(&desk.store(), "Quill agency", None, 10).expect("search");
    assert!(found.contains(&old) && found.contains(&later), "{found:?}");

    // A second run finds nothing more to do.
    assert_eq!(desk.expire_all(at(NOW)).expect("retention").items, 0);

    // The feed lists the old items again: nothing is stored or announced twice.
    fx.server.route("/wire.xml", Resp::ok(wire(true)));
    let feed = desk.store().active_feeds().expect("feeds").remove(0);
    let outcome = desk.poll_feed(&feed, at(NOW)).await.expect("poll");
    assert_eq!(
        outcome,
        PollOutcome::Updated {
            new: 0,
            announced: 0
        }
    );
    assert_eq!(desk.store().gauges(3).expect("gauges").items, 3);
}

/// Stories of `query` found by search, as their lead items' links.
fn found(desk: &Desk, query: &str) -> Vec<String> {
    let store = desk.store();
    let stories = lookup::search_stories(&store, query, None, 10).expect("search");
    let mut urls: Vec<String> = stories
        .into_iter()
        .map(|s| {
            let lead = store.story(s).expect("story").lead_item_id;
            store.item(lead).expect("lead").url.expect("link")
        })
        .collect();
    urls.sort();
    urls
}

/// Once an item's story is out of every window, search knows it by its headline and gist only
/// (its text was most of the index); a fresh item keeps every word.
#[tokio::test]
async fn expired_items_are_found_by_headline_and_gist_words_only() {
    let (_fx, desk) = polled(&wire(false), "2y").await;
    let old = "https://example.org/old-1";
    let fresh = "https://example.org/new-1";
    let gist = item(&desk, old).gist.expect("gist");
    // Premise: "Quill" is in the gist, not the headline; "timing" only in the last sentence.
    assert!(gist.contains("Quill") && !gist.contains("timing"), "{gist}");
    assert_eq!(found(&desk, "timing"), [old]);
    assert_eq!(found(&desk, "nanometres"), [fresh]);

    desk.expire_all(at(NOW)).expect("retention");

    assert!(
        found(&desk, "cuts grants").iter().any(|u| u == old),
        "by headline"
    );
    assert!(found(&desk, "Quill").iter().any(|u| u == old), "by gist");
    assert!(
        found(&desk, "\"Mara Quill\"").iter().any(|u| u == old),
        "by a quoted phrase"
    );
    assert_eq!(
        found(&desk, "timing"),
        Vec::<String>::new(),
        "deep in its text"
    );
    assert_eq!(
        found(&desk, "nanometres"),
        [fresh],
        "a fresh item keeps its text"
    );
    assert_eq!(found(&desk, "mirror"), [fresh], "by headline and text");
}

const HARBOUR: &str = "The Eastbridge port council approved next year's harbour budget on Thursday after a \
long debate. Council members praised the finance office for a balanced plan. Separately, the Kessington estuary \
dredging project will remove silt from the Marrowby channel, and Tolland Marine won the dredging contract. \
Ferries return to the Marrowby channel in spring.";
const DREDGING: &str = "Tolland Marine began dredging the Marrowby channel in the Kessington estuary on Monday. \
Silt removal will take three months, and ferries return to the Marrowby channel in spring.";

/// The story of the item at `url`, its lead and the leads of its Related stories, as links.
fn relation(desk: &Desk, url: &str) -> (String, Vec<String>) {
    let story = story_of(desk, url);
    let settings = ViewSettings::from(&desk.config);
    let store = desk.store();
    let lead = |s| {
        let lead = store.story(s).expect("story").lead_item_id;
        store.item(lead).expect("lead").url.expect("link")
    };
    let view = story_view(&store, story, &settings).expect("view");
    (
        lead(story),
        view.related.iter().map(|r| lead(r.story_id)).collect(),
    )
}

/// An item published within `keep` is related to stories within the Related window of its
/// date, whose items may be older than `keep`: those keep every search word (the candidates'
/// look-up) until their story leaves every window, so a prune run changes no later relation.
#[tokio::test]
async fn related_for_a_new_item_is_the_same_after_a_prune_run() {
    let earlier = rss(&[
        (
            "budget",
            "Science agency cuts grants",
            "2024-01-10T10:00:00Z",
            "https://example.org/old-1",
            BUDGET,
        ),
        (
            "harbour",
            "Port council approves harbour budget",
            "2024-10-01T10:00:00Z",
            "https://example.org/harbour",
            HARBOUR,
        ),
    ]);
    // Published within `keep`, it reaches a story an expired item alone stands for, by words
    // deep in that item's text.
    let later = rss(&[(
        "dredging",
        "Marrowby channel dredging begins",
        "2024-12-01T10:00:00Z",
        "https://example.org/dredging",
        DREDGING,
    )]);
    let mut relations = Vec::new();
    for prune in [false, true] {
        let (fx, desk) = polled(&earlier, "2y").await;
        let gist = item(&desk, "https://example.org/harbour")
            .gist
            .expect("gist");
        assert!(
            !gist.contains("Marrowby"),
            "premise: not in the gist: {gist}"
        );
        if prune {
            let expired = desk.expire_all(at(NOW)).expect("retention");
            assert_eq!((expired.items, expired.stories), (2, 1));
            assert!(item(&desk, "https://example.org/harbour").is_expired());
        }
        fx.server.route("/wire.xml", Resp::ok(later.clone()));
        // A day on: the feed is due again.
        daemon::poll_and_process(&desk, at("2026-11-21T12:00:00Z"), &|_, _| {})
            .await
            .expect("poll");
        relations.push(relation(&desk, "https://example.org/dredging"));
    }
    let (story, related) = &relations[0];
    assert!(
        story == "https://example.org/harbour"
            || related.contains(&"https://example.org/harbour".to_string()),
        "premise: the new item joins or lists the harbour story: {relations:?}"
    );
    assert_eq!(relations[0], relations[1]);
}

#[tokio::test]
async fn keep_off_keeps_every_text() {
    let (_fx, desk) = polled(&wire(false), "off").await;
    assert_eq!(
        desk.expire_all(at(NOW)).expect("retention"),
        Default::default()
    );
    assert!(item(&desk, "https://example.org/old-1").text.is_some());
}

/// The daemon applies retention in its periodic maintenance, without being asked.
#[tokio::test]
async fn the_daemon_expires_old_items_by_itself() {
    let (_fx, desk) = polled(&wire(false), "2y").await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let watcher = {
        let desk = Arc::clone(&desk);
        async move {
            let expired = || item(&desk, "https://example.org/old-1").is_expired();
            let waited = tokio::time::timeout(Duration::from_secs(20), async {
                while !expired() {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
            .await;
            let _ = stop.send(());
            waited.is_ok()
        }
    };
    let clock = FixedClock(at(NOW));
    let sink = TerminalSink::new(std::io::sink(), false);
    let run = daemon::run(
        Arc::clone(&desk),
        &sink,
        &clock,
        RunOptions {
            dry_run: true,
            ..RunOptions::default()
        },
        &|_, _| {},
        newsdesk::shutdown::Shutdown::when(async {
            let _ = stopped.await;
        }),
    );
    let (result, expired) = tokio::join!(run, watcher);
    result.expect("daemon");
    assert!(expired, "the daemon did not expire the old item");
    assert!(!item(&desk, "https://example.org/new-1").is_expired());
}

#[test]
fn a_bad_keep_is_a_located_config_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("newsdesk.toml");
    let err = Config::from_str_at("[storage]\npath = \"d.db\"\nkeep = \"2 decades\"\n", &path)
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains(&format!(
            "{}:3:8: storage.keep: invalid duration \"2 decades\"",
            path.display()
        )),
        "{err}"
    );
}
