//! Digest updates (issue #5): a story already posted comes back, marked "Update:", when outlets
//! not shown before cover it, only with `updates = true`, and each new outlet is announced once
//! (across restarts and failed posts too).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use newsdesk::daemon;
use newsdesk::digest::{self, TerminalSink};
use newsdesk::discord::sink::{DiscordSink, Target};
use newsdesk::pipeline::Desk;
use newsdesk::store::StoryId;

use crate::support::discord::{CHANNEL_ID, Failure, FakeDiscord};
use crate::support::fixture::{Fixture, at, rss};
use crate::support::http::Resp;

/// Four outlets' reports of one event (close paraphrases, so they group into one story), then a
/// second report by the first outlet.
const WIRE: &str = "Regulators in the fictional republic of Norland published draft rules for general-purpose \
AI models on Monday, requiring developers to run safety tests before release and to report serious incidents \
within 72 hours. The Norland digital ministry said fines could reach four percent of annual turnover, and a \
public consultation on the draft rules will run until March.";
const LEDGER: &str = "Norland's digital ministry on Monday released draft rules for general-purpose AI models. \
Developers would have to run safety tests before release and report serious incidents within 72 hours, with \
fines of up to four percent of annual turnover. A public consultation on the draft rules runs until March.";
const MONITOR: &str = "Draft rules published on Monday by the Norland digital ministry would require developers \
of general-purpose AI models to run safety tests before release and report serious incidents within 72 hours. \
Fines could reach four percent of annual turnover; the public consultation on the rules closes in March.";
const COURIER: &str = "General-purpose AI models in Norland face draft rules: the digital ministry said on Monday \
that developers must run safety tests before release and report serious incidents within 72 hours, or face \
fines of up to four percent of annual turnover. The consultation on the draft rules lasts until March.";
const WIRE_AGAIN: &str = "Norland's digital ministry defended its draft rules for general-purpose AI models on \
Tuesday, saying safety tests before release and incident reports within 72 hours were proportionate. Fines of \
four percent of annual turnover remain in the draft rules; the public consultation runs until March.";

const FEEDS: [(&str, &str); 4] = [
    ("Wire", "/wire.xml"),
    ("Ledger", "/ledger.xml"),
    ("Monitor", "/monitor.xml"),
    ("Courier", "/courier.xml"),
];

/// One feed's document: its report(s) of the event, or an empty feed.
/// Serves `reports` as `path`'s feed, published a second after anything served before, so
/// coverage order follows the test's story and not which concurrent poll stores first.
fn serve(fx: &Fixture, path: &str, reports: &[(&str, &str, &str)]) {
    static SERVED: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
    let n = SERVED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let date = (at("2026-11-23T09:00:00Z") + jiff::SignedDuration::from_secs(n)).to_string();
    let items: Vec<(&str, &str, &str, &str, &str)> = reports
        .iter()
        .map(|(guid, title, text)| (*guid, *title, date.as_str(), *guid, *text))
        .collect();
    fx.server.route(path, Resp::ok(rss(&items)));
}

/// Wire and Ledger report the event; Monitor and Courier have nothing yet.
fn first_coverage(fx: &Fixture) {
    serve(
        fx,
        "/wire.xml",
        &[(
            "https://wire.example/ai-rules",
            "Norland drafts AI rules",
            WIRE,
        )],
    );
    serve(
        fx,
        "/ledger.xml",
        &[(
            "https://ledger.example/ai",
            "Norland unveils AI model rules",
            LEDGER,
        )],
    );
    serve(fx, "/monitor.xml", &[]);
    serve(fx, "/courier.xml", &[]);
}

/// Monitor and Courier now report the event too.
fn new_outlets_join(fx: &Fixture) {
    serve(
        fx,
        "/monitor.xml",
        &[(
            "https://monitor.example/ai",
            "Draft AI rules in Norland",
            MONITOR,
        )],
    );
    serve(
        fx,
        "/courier.xml",
        &[(
            "https://courier.example/ai",
            "Norland AI models face rules",
            COURIER,
        )],
    );
}

/// The fixture's desk for the four feeds, its "all" channel extended by `extra` TOML.
fn desk(fx: &Fixture, extra: &str, now: Timestamp) -> Arc<Desk> {
    desk_with(fx, extra, 20, now)
}

fn desk_with(fx: &Fixture, extra: &str, max_stories: usize, now: Timestamp) -> Arc<Desk> {
    let mut config = fx.config(&FEEDS, extra);
    config.polling.announce_first_fetch = true;
    config.channels[0].max_stories = max_stories;
    fx.desk(config, now)
}

async fn poll(desk: &Arc<Desk>, now: &str) {
    daemon::poll_and_process(desk, at(now), &|_, _| {})
        .await
        .expect("poll cycle");
}

/// Delivers the "all" channel's next digest to the terminal: (entries sent, printed text).
async fn deliver(desk: &Arc<Desk>, now: &str) -> (usize, String) {
    let sink = TerminalSink::new(Vec::new(), false);
    let sent = daemon::deliver(desk, &desk.config.channels[0], &sink, at(now), false)
        .await
        .expect("deliver");
    let printed = String::from_utf8(sink.into_inner()).expect("utf-8");
    (sent, printed)
}

/// Polls Wire's and Ledger's reports and posts them: one story. Returns its id.
async fn post_first_coverage(fx: &Fixture, desk: &Arc<Desk>) -> StoryId {
    first_coverage(fx);
    poll(desk, "2026-11-23T10:00:00Z").await;
    let preview = digest::compose(
        &desk.store(),
        &desk.config,
        &desk.config.channels[0],
        at("2026-11-23T10:00:00Z"),
    )
    .expect("compose");
    let (sent, printed) = deliver(desk, "2026-11-23T10:00:00Z").await;
    assert_eq!(sent, 1, "one story from two outlets: {printed}");
    assert!(
        printed.contains("__Also covered by__\n┃ [Ledger]"),
        "{printed}"
    );
    preview.stories[0].story_id
}

fn outlets_of(desk: &Desk, story: StoryId) -> Vec<String> {
    let items = desk.store().items_of_story(story).expect("items");
    items.into_iter().map(|i| i.outlet).collect()
}

/// A desk that has posted the event (Wire leading, Ledger also) and then polled Monitor's and
/// Courier's reports of it.
async fn posted_then_covered(fx: &Fixture, extra: &str) -> Arc<Desk> {
    posted_then_covered_with(fx, extra, 20).await
}

async fn posted_then_covered_with(fx: &Fixture, extra: &str, max_stories: usize) -> Arc<Desk> {
    let desk = desk_with(fx, extra, max_stories, at("2026-11-23T10:00:00Z"));
    let story = post_first_coverage(fx, &desk).await;
    new_outlets_join(fx);
    poll(&desk, "2026-11-23T11:00:00Z").await;
    assert_eq!(
        outlets_of(&desk, story),
        ["Wire", "Ledger", "Monitor", "Courier"],
        "the new reports joined the posted story"
    );
    desk
}

#[tokio::test]
async fn off_by_default_a_posted_story_is_never_posted_again() {
    let fx = Fixture::new().await;
    let desk = posted_then_covered(&fx, "").await;
    assert!(!desk.config.channels[0].updates);
    let (sent, printed) = deliver(&desk, "2026-11-23T12:00:00Z").await;
    assert_eq!(sent, 0, "{printed}");
    assert!(!printed.contains("Update"), "{printed}");
    assert_eq!(desk.store().posted_update_count("all").unwrap(), 0);
}

#[tokio::test]
async fn on_the_next_digest_carries_one_update_with_only_the_new_outlets_once() {
    let fx = Fixture::new().await;
    let desk = posted_then_covered(&fx, "updates = true\n").await;
    let preview = digest::compose(
        &desk.store(),
        &desk.config,
        &desk.config.channels[0],
        at("2026-11-23T12:00:00Z"),
    )
    .unwrap();
    assert!(preview.stories.is_empty());
    assert_eq!(preview.updates.len(), 1);
    let outlets: Vec<&str> = preview.updates[0]
        .new_coverage
        .iter()
        .map(|c| c.outlet.as_str())
        .collect();
    assert_eq!(outlets, ["Monitor", "Courier"]);
    let json: serde_json::Value =
        serde_json::from_str(&newsdesk::present::json(&preview)).expect("json");
    assert_eq!(json["updates"][0]["update"], true, "{json}");

    let (sent, printed) = deliver(&desk, "2026-11-23T12:00:00Z").await;
    assert_eq!(sent, 1, "{printed}");
    assert!(printed.contains("· all · 1 update"), "{printed}");
    assert!(
        printed.contains("┃ **Update: Norland drafts AI rules** <https://wire.example/ai-rules>"),
        "{printed}"
    );
    assert!(
        printed.contains(
            "┃ __Now also covered by__\n┃ [Monitor](<https://monitor.example/ai>), [Courier](<https://courier.example/ai>)"
        ),
        "{printed}"
    );
    assert!(!printed.contains("Ledger"), "only new outlets: {printed}");
    assert!(!printed.contains("__Also covered by__"), "{printed}");
    assert_eq!(desk.store().posted_update_count("all").unwrap(), 1);
    assert_eq!(desk.store().posted_story_count("all").unwrap(), 1);

    // The same coverage is never announced twice: not by the next digest ...
    poll(&desk, "2026-11-23T13:00:00Z").await;
    let (sent, printed) = deliver(&desk, "2026-11-23T13:00:00Z").await;
    assert_eq!(sent, 0, "{printed}");
    drop(desk);
    // ... nor after a restart on the same file.
    let desk = self::desk(&fx, "updates = true\n", at("2026-11-23T14:00:00Z"));
    poll(&desk, "2026-11-23T14:00:00Z").await;
    let (sent, printed) = deliver(&desk, "2026-11-23T14:00:00Z").await;
    assert_eq!(sent, 0, "{printed}");
    assert_eq!(desk.store().posted_update_count("all").unwrap(), 1);
}

#[tokio::test]
async fn more_coverage_from_an_outlet_already_shown_is_not_an_update() {
    let fx = Fixture::new().await;
    let desk = desk(&fx, "updates = true\n", at("2026-11-23T10:00:00Z"));
    let story = post_first_coverage(&fx, &desk).await;
    serve(
        &fx,
        "/wire.xml",
        &[
            (
                "https://wire.example/ai-rules",
                "Norland drafts AI rules",
                WIRE,
            ),
            (
                "https://wire.example/ai-rules-defended",
                "Norland defends AI rules",
                WIRE_AGAIN,
            ),
        ],
    );
    poll(&desk, "2026-11-23T11:00:00Z").await;
    assert_eq!(
        outlets_of(&desk, story),
        ["Wire", "Ledger", "Wire"],
        "the second Wire report joined the story"
    );
    let (sent, printed) = deliver(&desk, "2026-11-23T11:00:00Z").await;
    assert_eq!(sent, 0, "{printed}");

    // A new outlet afterwards is still announced, alone.
    new_outlets_join(&fx);
    fx.server.route("/courier.xml", Resp::ok(rss(&[])));
    poll(&desk, "2026-11-23T12:00:00Z").await;
    let (sent, printed) = deliver(&desk, "2026-11-23T12:00:00Z").await;
    assert_eq!(sent, 1, "{printed}");
    assert!(
        printed.contains("__Now also covered by__\n┃ [Monitor](<https://monitor.example/ai>)\n"),
        "{printed}"
    );
}

#[tokio::test]
async fn updates_come_after_new_stories_within_the_story_budget() {
    let fx = Fixture::new().await;
    let desk = posted_then_covered_with(&fx, "updates = true\n", 1).await;
    // An unrelated new story arrives too: it takes the only slot, the update waits.
    serve(
        &fx,
        "/ledger.xml",
        &[
            (
                "https://ledger.example/ai",
                "Norland unveils AI model rules",
                LEDGER,
            ),
            (
                "https://ledger.example/telescope",
                "Telescope mirror unveiled",
                "Astronomers at the Cerro Alto observatory unveiled a new infrared telescope mirror on \
                 Monday, the largest ever cast in South America. First light is expected in two years.",
            ),
        ],
    );
    poll(&desk, "2026-11-23T12:00:00Z").await;
    let (sent, printed) = deliver(&desk, "2026-11-23T12:00:00Z").await;
    assert_eq!(sent, 1, "{printed}");
    assert!(printed.contains("Telescope mirror unveiled"), "{printed}");
    assert!(!printed.contains("Update:"), "{printed}");
    let (sent, printed) = deliver(&desk, "2026-11-23T13:00:00Z").await;
    assert_eq!(sent, 1, "{printed}");
    assert!(
        printed.contains("**Update: Norland drafts AI rules**"),
        "{printed}"
    );
}

#[tokio::test]
async fn an_update_reaches_discord_once_even_after_a_failed_post() {
    let fx = Fixture::new().await;
    let fake = FakeDiscord::start().await;
    let desk = posted_then_covered(&fx, "updates = true\n").await;
    let targets = HashMap::from([("all".to_string(), Target::Channel(CHANNEL_ID))]);
    let sink = DiscordSink::new(
        Some(Arc::new(fake.http())),
        fake.webhooks(),
        Arc::clone(&desk),
        targets,
    )
    .with_backoff(Duration::from_millis(20));
    let channel = &desk.config.channels[0];
    // Discord is down for the first try and its three retries: the update stays queued.
    fake.fail(
        "POST",
        "/channels/{channel_id}/messages",
        Failure::server_error(502),
        4,
    );
    daemon::deliver(&desk, channel, &sink, at("2026-11-23T12:00:00Z"), false)
        .await
        .unwrap();
    assert!(fake.messages(CHANNEL_ID).is_empty());
    let pending = desk.store().pending_digests().unwrap();
    assert_eq!(pending.len(), 1);
    assert!(pending[0].stories.is_empty());
    assert_eq!(pending[0].updates.len(), 1);
    assert_eq!(pending[0].updates[0].outlets, ["Monitor", "Courier"]);
    // Reserved: the next digest does not announce the same coverage again.
    assert_eq!(
        daemon::deliver(&desk, channel, &sink, at("2026-11-23T12:30:00Z"), false)
            .await
            .unwrap(),
        0
    );

    assert_eq!(
        daemon::retry_pending(&desk, &sink, at("2026-11-23T13:00:00Z"))
            .await
            .unwrap(),
        1
    );
    fake.assert_no_violations();
    let messages = fake.messages(CHANNEL_ID);
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let embeds = messages[0]["embeds"].as_array().expect("embeds");
    assert_eq!(embeds.len(), 1);
    assert_eq!(embeds[0]["title"], "Update: Norland drafts AI rules");
    assert_eq!(embeds[0]["fields"][0]["name"], "Now also covered by");
    assert_eq!(
        embeds[0]["fields"][0]["value"],
        "[Monitor](<https://monitor.example/ai>), [Courier](<https://courier.example/ai>)"
    );
    assert_eq!(messages[0]["mention_everyone"], false);

    assert_eq!(
        daemon::deliver(&desk, channel, &sink, at("2026-11-23T14:00:00Z"), false)
            .await
            .unwrap(),
        0
    );
    assert_eq!(fake.messages(CHANNEL_ID).len(), 1);
}
