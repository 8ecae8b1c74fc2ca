//! End to end through the pipeline against feeds and pages served on 127.0.0.1: polling,
//! seeding, announcing, page extraction, grouping, digests, restarts and broken feeds.

use std::sync::Arc;

use jiff::Timestamp;
use newsdesk::daemon::{self, RunOptions};
use newsdesk::digest::{self, TerminalSink, layout};
use newsdesk::fetch::schedule::FeedStatus;
use newsdesk::pipeline::{Desk, PollOutcome};

use crate::support::fixture::{FixedClock, Fixture, at, rss, rss_owned};
use crate::support::http::Resp;

const BUDGET: &str = "The National Science Agency will cut its research grants budget by twelve percent next year, \
agency director Mara Quill told lawmakers on Tuesday. The reduction hits early-career fellowships hardest, \
and universities warned that laboratories in Ohio and Oregon would close. Quill said the agency would protect \
graduate stipends and the polar research fleet. Lawmakers from both parties questioned the timing of the cuts.";
const BUDGET_2: &str = "Lawmakers heard on Tuesday that the National Science Agency plans a twelve percent cut to research \
grants next year. Director Mara Quill said early-career fellowships would shrink most, while graduate stipends \
and the polar research fleet would be spared. University groups said labs in Ohio and Oregon could close.";
const TELESCOPE: &str = "Astronomers at the Cerro Alto observatory unveiled a new infrared telescope mirror on Monday, \
the largest ever cast in South America. The mirror will be shipped to the summit in the spring and first light is \
expected in two years. Engineers spent four years polishing the glass to within a few nanometres.";

async fn poll_all(desk: &Arc<Desk>, now: Timestamp) {
    daemon::poll_and_process(desk, now, &|_, _| {})
        .await
        .expect("poll cycle");
}

#[tokio::test]
async fn first_fetch_is_silent_then_new_items_are_announced_once() {
    let fx = Fixture::new().await;
    fx.server.route(
        "/wire.xml",
        Resp::ok(rss(&[(
            "a1",
            "Telescope mirror unveiled",
            "2026-11-20T10:00:00Z",
            "https://example.org/a1",
            TELESCOPE,
        )]))
        .content_type("application/rss+xml")
        .etag("\"v1\""),
    );
    let desk = fx.desk(
        fx.config(&[("Wire", "/wire.xml")], ""),
        at("2026-11-20T12:00:00Z"),
    );
    poll_all(&desk, at("2026-11-20T12:00:00Z")).await;
    let channel = &desk.config.channels[0];
    let first = digest::compose(
        &desk.store(),
        &desk.config,
        channel,
        at("2026-11-20T12:00:00Z"),
    )
    .unwrap();
    assert!(
        first.stories.is_empty(),
        "the first fetch must not announce the back catalogue"
    );

    // Not due yet: nothing fetched.
    poll_all(&desk, at("2026-11-20T12:05:00Z")).await;
    assert_eq!(fx.server.hits("/wire.xml"), 1);

    // Due again, unchanged: a conditional request answered 304.
    poll_all(&desk, at("2026-11-20T13:00:00Z")).await;
    let requests = fx.server.requests("/wire.xml");
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].header("if-none-match"), Some("\"v1\""));

    fx.server.route(
        "/wire.xml",
        Resp::ok(rss(&[
            (
                "a1",
                "Telescope mirror unveiled (updated title)",
                "2026-11-20T11:00:00Z",
                "https://example.org/a1",
                TELESCOPE,
            ),
            (
                "a2",
                "Science agency to cut grants 12%",
                "2026-11-21T09:00:00Z",
                "https://example.org/a2",
                BUDGET,
            ),
        ]))
        .etag("\"v2\""),
    );
    poll_all(&desk, at("2026-11-21T10:00:00Z")).await;
    let sink = TerminalSink::new(Vec::new(), false);
    let sent = daemon::deliver(&desk, channel, &sink, at("2026-11-21T10:00:00Z"), false)
        .await
        .unwrap();
    assert_eq!(sent, 1, "only the new item, not the edited old one");
    let printed = String::from_utf8(sink.into_inner()).unwrap();
    assert!(
        printed.contains("Science agency to cut grants 12%"),
        "{printed}"
    );
    assert!(!printed.contains("Telescope"), "{printed}");

    // Sent stories are not sent again.
    let again = digest::compose(
        &desk.store(),
        &desk.config,
        channel,
        at("2026-11-21T11:00:00Z"),
    )
    .unwrap();
    assert!(again.stories.is_empty());
}

#[tokio::test]
async fn restart_loses_nothing_and_repeats_nothing() {
    let fx = Fixture::new().await;
    let doc = |n: usize| {
        // Distinct events: no shared vocabulary beyond the template.
        let items: Vec<(String, String, String, String)> = (0..n)
            .map(|i| {
                let words: String = (0..40).map(|k| format!("w{i}x{k} ")).collect();
                (
                    format!("g{i}"),
                    format!("Story number {i} about topic{i}"),
                    format!("https://example.org/s{i}"),
                    words,
                )
            })
            .collect();
        rss_owned(&items, "2026-11-20T10:00:00Z")
    };
    fx.server.route("/f.xml", Resp::ok(doc(2)));
    let config = || fx.config(&[("F", "/f.xml")], "");
    {
        let desk = fx.desk(config(), at("2026-11-20T12:00:00Z"));
        poll_all(&desk, at("2026-11-20T12:00:00Z")).await;
        fx.server.route("/f.xml", Resp::ok(doc(4)));
        poll_all(&desk, at("2026-11-20T13:00:00Z")).await;
        let sink = TerminalSink::new(Vec::new(), false);
        let sent = daemon::deliver(
            &desk,
            &desk.config.channels[0],
            &sink,
            at("2026-11-20T13:00:00Z"),
            false,
        )
        .await
        .unwrap();
        assert_eq!(sent, 2);
    }
    // "Restart": a new desk on the same file. Two more items appear while it was down.
    fx.server.route("/f.xml", Resp::ok(doc(6)));
    let desk = fx.desk(config(), at("2026-11-20T15:00:00Z"));
    poll_all(&desk, at("2026-11-20T15:00:00Z")).await;
    let sink = TerminalSink::new(Vec::new(), false);
    let sent = daemon::deliver(
        &desk,
        &desk.config.channels[0],
        &sink,
        at("2026-11-20T15:00:00Z"),
        false,
    )
    .await
    .unwrap();
    assert_eq!(
        sent, 2,
        "exactly the two items that arrived during the downtime"
    );
    let printed = String::from_utf8(sink.into_inner()).unwrap();
    assert!(
        printed.contains("Story number 4") && printed.contains("Story number 5"),
        "{printed}"
    );
    assert!(!printed.contains("Story number 2"), "{printed}");
    assert_eq!(desk.store().posted_story_count("all").unwrap(), 4);
}

#[tokio::test]
async fn teaser_items_get_their_page_text_and_coverage_groups_into_one_story() {
    let fx = Fixture::new().await;
    let page = format!(
        "<html><head><title>Cut</title></head><body><nav><a href=\"/\">Home</a> <a href=\"/x\">World</a></nav>\
         <article><h1>Agency cuts grants</h1><p>{}</p><p>{}</p></article><footer>Copyright Ledger</footer></body></html>",
        &BUDGET_2[..BUDGET_2.len() / 2],
        &BUDGET_2[BUDGET_2.len() / 2..]
    );
    fx.server.route(
        "/pages/cut.html",
        Resp::ok(page).content_type("text/html; charset=utf-8"),
    );
    let link = fx.server.url("/pages/cut.html");
    fx.server.route(
        "/wire.xml",
        Resp::ok(rss(&[(
            "w1",
            "Science agency to cut grants 12%",
            "2026-11-21T09:00:00Z",
            "https://example.org/w1",
            BUDGET,
        )])),
    );
    fx.server.route(
        "/ledger.xml",
        Resp::ok(rss(&[(
            "l1",
            "Grant cuts loom at science agency",
            "2026-11-21T11:00:00Z",
            &link,
            "Lawmakers heard of cuts.",
        )])),
    );
    let config = fx.config(&[("Wire", "/wire.xml"), ("Ledger", "/ledger.xml")], "");
    let mut config = config;
    config.polling.announce_first_fetch = true;
    let desk = fx.desk(config, at("2026-11-21T12:00:00Z"));
    poll_all(&desk, at("2026-11-21T12:00:00Z")).await;
    assert_eq!(
        fx.server.hits("/pages/cut.html"),
        1,
        "the teaser's page is fetched once"
    );

    let d = digest::compose(
        &desk.store(),
        &desk.config,
        &desk.config.channels[0],
        at("2026-11-21T12:00:00Z"),
    )
    .unwrap();
    assert_eq!(
        d.stories.len(),
        1,
        "two outlets, one event, one story: {d:#?}"
    );
    let story = &d.stories[0];
    assert_eq!(story.outlet, "Wire", "the earliest report leads");
    assert_eq!(story.also_covered_by.len(), 1);
    assert_eq!(story.also_covered_by[0].outlet, "Ledger");
    assert!(!story.summary.is_empty());
}

#[tokio::test]
async fn broken_feeds_are_recorded_and_do_not_stop_the_others() {
    let fx = Fixture::new().await;
    fx.server.route(
        "/ok.xml",
        Resp::ok(rss(&[(
            "a",
            "Fine",
            "2026-11-20T10:00:00Z",
            "https://example.org/a",
            TELESCOPE,
        )])),
    );
    fx.server
        .route("/garbage.xml", Resp::ok("this is not a feed <<<"));
    fx.server.route("/gone.xml", Resp::status(500));
    let config = fx.config(
        &[
            ("Ok", "/ok.xml"),
            ("Garbage", "/garbage.xml"),
            ("Gone", "/gone.xml"),
        ],
        "",
    );
    let desk = fx.desk(config, at("2026-11-20T12:00:00Z"));
    let outcomes = std::sync::Mutex::new(Vec::new());
    desk.poll_due(at("2026-11-20T12:00:00Z"), &|feed, outcome| {
        outcomes
            .lock()
            .unwrap()
            .push((feed.name.clone(), outcome.clone()));
    })
    .await
    .unwrap();
    let outcomes = outcomes.into_inner().unwrap();
    assert_eq!(outcomes.len(), 3);
    for (name, outcome) in &outcomes {
        match name.as_str() {
            "Ok" => assert!(
                matches!(outcome, PollOutcome::Updated { new: 1, .. }),
                "{outcome:?}"
            ),
            _ => assert!(
                matches!(
                    outcome,
                    PollOutcome::Failed {
                        status: FeedStatus::Failing,
                        ..
                    }
                ),
                "{name}: {outcome:?}"
            ),
        }
    }
    let feeds = desk.store().feeds().unwrap();
    let gone = feeds.iter().find(|f| f.name == "Gone").unwrap();
    assert_eq!(gone.health.consecutive_failures, 1);
    assert!(
        gone.health
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("500")
    );
    assert!(gone.next_fetch_at > at("2026-11-20T12:00:00Z"));
}

#[tokio::test]
async fn hostile_titles_are_neutralized_in_the_digest() {
    let fx = Fixture::new().await;
    let hostile = format!(
        "@everyone **URGENT** &lt;@&amp;123&gt; {}",
        "long ".repeat(2000)
    );
    fx.server.route(
        "/h.xml",
        Resp::ok(rss(&[(
            "h",
            &hostile,
            "2026-11-20T10:00:00Z",
            "https://example.org/h",
            TELESCOPE,
        )])),
    );
    let mut config = fx.config(&[("H", "/h.xml")], "");
    config.polling.announce_first_fetch = true;
    let desk = fx.desk(config, at("2026-11-20T12:00:00Z"));
    poll_all(&desk, at("2026-11-20T12:00:00Z")).await;
    let d = digest::compose(
        &desk.store(),
        &desk.config,
        &desk.config.channels[0],
        at("2026-11-20T12:00:00Z"),
    )
    .unwrap();
    let messages = layout::digest_messages(&d);
    for m in &messages {
        let text = layout::to_text(m);
        assert!(
            m.embeds
                .iter()
                .all(|e| e.title.chars().count() <= newsdesk::present::limits::EMBED_TITLE)
        );
        assert!(!text.contains("@everyone"), "{text}");
        assert!(!text.contains("<@&123>"), "{text}");
        assert!(!text.contains("**URGENT**"), "{text}");
    }
}

#[tokio::test]
async fn run_once_dry_run_prints_without_recording() {
    let fx = Fixture::new().await;
    fx.server.route(
        "/w.xml",
        Resp::ok(rss(&[(
            "w1",
            "Science agency to cut grants 12%",
            "2026-11-21T09:00:00Z",
            "https://example.org/w1",
            BUDGET,
        )])),
    );
    let mut config = fx.config(&[("Wire", "/w.xml")], "");
    config.polling.announce_first_fetch = true;
    let desk = fx.desk(config, at("2026-11-21T12:00:00Z"));
    let sink = TerminalSink::new(Vec::new(), false);
    let options = RunOptions {
        once: true,
        dry_run: true,
        ..RunOptions::default()
    };
    daemon::run(
        Arc::clone(&desk),
        &sink,
        &FixedClock(at("2026-11-21T12:00:00Z")),
        options,
        &|_, _| {},
        newsdesk::shutdown::Shutdown::never(),
    )
    .await
    .unwrap();
    let printed = String::from_utf8(sink.into_inner()).unwrap();
    assert!(printed.contains("#all · message 1/1"), "{printed}");
    assert!(printed.contains("Science agency to cut grants 12%"));
    assert_eq!(
        desk.store().posted_story_count("all").unwrap(),
        0,
        "a dry run records nothing"
    );
    assert!(desk.store().pending_digests().unwrap().is_empty());
}

#[tokio::test]
async fn the_http_charset_wins_over_a_wrong_declaration() {
    let fx = Fixture::new().await;
    // Latin-1 bytes, declared UTF-8 in the document, correctly labelled by the server.
    let mut body = rss(&[(
        "c1",
        "Caf\u{e9} scientists d\u{e9}bat funding",
        "2026-11-20T10:00:00Z",
        "https://example.org/c1",
        "R\u{e9}sum\u{e9} of the d\u{e9}bat.",
    )])
    .chars()
    .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
    .collect::<Vec<u8>>();
    body.shrink_to_fit();
    fx.server.route(
        "/latin1.xml",
        Resp::ok(body).content_type("application/rss+xml; charset=iso-8859-1"),
    );
    let mut config = fx.config(&[("L", "/latin1.xml")], "");
    config.polling.announce_first_fetch = true;
    let desk = fx.desk(config, at("2026-11-20T12:00:00Z"));
    poll_all(&desk, at("2026-11-20T12:00:00Z")).await;
    let d = digest::compose(
        &desk.store(),
        &desk.config,
        &desk.config.channels[0],
        at("2026-11-20T12:00:00Z"),
    )
    .unwrap();
    assert_eq!(d.stories.len(), 1);
    assert_eq!(d.stories[0].title, "Café scientists débat funding");
}

/// A feed with `require_topics` posts only items matching one of them; the others are stored,
/// processed and searchable, but never announced.
#[tokio::test]
async fn a_feed_filter_posts_only_items_on_its_topics_and_keeps_the_rest_searchable() {
    let fx = Fixture::new().await;
    fx.server.route(
        "/science.xml",
        Resp::ok(rss(&[
            (
                "t",
                "Telescope mirror unveiled",
                "2026-11-20T10:00:00Z",
                "https://example.org/t",
                TELESCOPE,
            ),
            (
                "b",
                "Science agency to cut grants",
                "2026-11-20T10:00:00Z",
                "https://example.org/b",
                BUDGET,
            ),
        ])),
    );
    let mut config = fx.config(
        &[("Science", "/science.xml")],
        "[[topic]]\nname = \"funding\"\nquery = \"grants OR budget\"\n",
    );
    config.feeds[0].require_topics = vec![toml::Spanned::new(0..0, "funding".to_string())];
    config.polling.announce_first_fetch = true;
    let now = at("2026-11-20T12:00:00Z");
    let desk = fx.desk(config, now);
    poll_all(&desk, now).await;
    let digest = digest::compose(&desk.store(), &desk.config, &desk.config.channels[0], now)
        .expect("compose");
    let titles: Vec<&str> = digest.stories.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(titles, ["Science agency to cut grants"]);
    let found = desk.store().search_items("telescope", 10).expect("search");
    assert_eq!(found.len(), 1, "the filtered item is still searchable");
}
