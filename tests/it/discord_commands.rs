//! Slash commands end to end: serenity's real client runs newsdesk's handler against the fake
//! Discord (every request checked against the OpenAPI spec), over a desk on a temp store fed by
//! the local test HTTP server.

use std::sync::Arc;
use std::time::{Duration, Instant};

use newsdesk::config::Config;
use newsdesk::discord::commands::{self, CommandRequest};
use newsdesk::discord::handler::Handler;
use newsdesk::pipeline::Desk;
use serde_json::Value;
use serenity::all::{ClientBuilder, GatewayIntents, ShardManager};

use crate::support::discord::{
    CHANNEL_ID, FakeDiscord, InteractionFixture, SentInteraction, opt, opt_focused, opt_sub,
};
use crate::support::fixture::{Fixture, at, rss};
use crate::support::http::Resp;

const WAIT: Duration = Duration::from_secs(10);
const NOW: &str = "2026-11-21T12:00:00Z";
const MANAGE_CHANNELS: u64 = 1 << 4;
const MANAGE_GUILD: u64 = 1 << 5;
const EPHEMERAL: u64 = 64;

const TELESCOPE: &str = "Astronomers at the Cerro Alto observatory unveiled a new infrared telescope mirror on Monday, \
the largest ever cast in South America. The mirror will be shipped to the summit in the spring and first light is \
expected in two years. Engineers spent four years polishing the glass to within a few nanometres.";
const GRANTS: &str = "The National Science Agency will cut its research grants budget by twelve percent next year, \
agency director Mara Quill told lawmakers on Tuesday. The reduction hits early-career fellowships hardest, \
and universities warned that laboratories in Ohio and Oregon would close. Quill said the agency would protect \
graduate stipends and the polar research fleet.";

/// Topics and a `[[channel]]` posting to the fake's default interaction channel.
fn extra() -> String {
    format!(
        "[[topic]]\nname = \"science\"\nquery = \"grants OR agency\"\n\
         [[topic]]\nname = \"space\"\nquery = \"telescope OR astronomers\"\n\
         [[channel]]\nname = \"news\"\ndiscord_channel_id = \"{CHANNEL_ID}\"\ntopics = [\"science\"]\n\
         schedule = \"every 1h\"\n"
    )
}

fn config(fx: &Fixture, more: &str) -> Config {
    fx.config(&[("Wire", "/wire.xml")], &format!("{}{more}", extra()))
}

/// A desk whose one feed has been polled: two stories, one per topic.
async fn polled_desk(fx: &Fixture, more: &str) -> Arc<Desk> {
    fx.server.route(
        "/wire.xml",
        Resp::ok(rss(&[
            (
                "a1",
                "Telescope mirror @everyone unveiled",
                "2026-11-20T10:00:00Z",
                "https://example.org/a1",
                TELESCOPE,
            ),
            (
                "a2",
                "Science agency to cut grants 12%",
                "2026-11-21T09:00:00Z",
                "https://example.org/a2",
                GRANTS,
            ),
        ]))
        .content_type("application/rss+xml"),
    );
    let desk = fx.desk(config(fx, more), at(NOW));
    newsdesk::daemon::poll_and_process(&desk, at(NOW), &|_, _| {})
        .await
        .expect("poll");
    desk
}

/// serenity's client running newsdesk's handler against a fresh fake.
struct Bot {
    fake: FakeDiscord,
    shards: Arc<ShardManager>,
    runner: tokio::task::JoinHandle<()>,
}

impl Bot {
    async fn start(desk: Arc<Desk>) -> Bot {
        let fake = FakeDiscord::start().await;
        let clock = Arc::new(|| at(NOW));
        let mut client = ClientBuilder::new_with_http(fake.http(), GatewayIntents::GUILDS)
            .event_handler(Handler::with_clock(desk, clock))
            .await
            .expect("client builds");
        let shards = client.shard_manager.clone();
        let runner = tokio::spawn(async move {
            let _ = client.start().await;
        });
        fake.wait_until("commands registered", WAIT, |f| {
            (!f.global_commands().is_empty()).then_some(())
        })
        .await;
        Bot {
            fake,
            shards,
            runner,
        }
    }

    /// Sends an interaction and returns it with the bot's callback body.
    async fn send(&self, fixture: InteractionFixture) -> (SentInteraction, Value) {
        let t0 = Instant::now();
        let sent = self.fake.send_interaction(fixture);
        let callback = self.fake.wait_for_callback(&sent, WAIT).await;
        // Discord drops interactions not acknowledged within 3 s.
        assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
        (sent, callback)
    }

    /// A command answered directly (type 4); returns the message data.
    async fn answer(&self, fixture: InteractionFixture) -> Value {
        let (_, callback) = self.send(fixture).await;
        assert_eq!(callback["type"], 4, "{callback}");
        callback["data"].clone()
    }

    /// A command that defers (type 5) and then edits the original; returns the edit.
    async fn deferred(&self, fixture: InteractionFixture) -> (Value, Value) {
        let (sent, callback) = self.send(fixture).await;
        assert_eq!(callback["type"], 5, "{callback}");
        let edits = self
            .fake
            .wait_for_requests("PATCH", &sent.original_path(), 1, WAIT)
            .await;
        (callback, edits[0].body.clone().unwrap_or(Value::Null))
    }

    async fn stop(self) {
        self.shards.shutdown_all().await;
        self.runner.abort();
        // Awaited so the client (and the desk it holds) is gone, as after a real exit.
        let _ = self.runner.await;
        self.fake.assert_no_violations();
    }
}

fn content(data: &Value) -> String {
    data["content"].as_str().unwrap_or_default().to_string()
}

fn text_of(data: &Value) -> String {
    let mut text = content(data);
    for e in data["embeds"].as_array().into_iter().flatten() {
        for key in ["title", "description"] {
            text.push('\n');
            text.push_str(e[key].as_str().unwrap_or_default());
        }
    }
    text
}

fn is_ephemeral(data: &Value) -> bool {
    data["flags"].as_u64().is_some_and(|f| f & EPHEMERAL != 0)
}

fn cmd(name: &str) -> InteractionFixture {
    InteractionFixture::command(name)
}

#[tokio::test]
async fn every_command_is_answered_on_spec() {
    let fx = Fixture::new().await;
    let desk = polled_desk(&fx, "").await;
    let bot = Bot::start(desk.clone()).await;

    let registered = bot.fake.global_commands();
    let perms = |name: &str| {
        registered
            .iter()
            .find(|c| c["name"] == name)
            .map(|c| c["default_member_permissions"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(registered.len(), 8);
    assert_eq!(perms("feeds"), "32");
    assert_eq!(perms("topic"), "32");
    assert_eq!(perms("subscribe"), "16");
    assert_eq!(perms("unsubscribe"), "16");
    assert_eq!(perms("digest"), Value::Null);

    // This channel follows "science": only the grants story.
    let digest = bot.answer(cmd("digest")).await;
    let text = text_of(&digest);
    assert!(text.contains("Science agency to cut grants"), "{text}");
    assert!(!text.contains("Telescope"), "{text}");
    assert_eq!(digest["allowed_mentions"]["parse"], serde_json::json!([]));
    assert!(!is_ephemeral(&digest));

    let space = bot
        .answer(cmd("digest").option(opt("topic", "space")))
        .await;
    let text = text_of(&space);
    assert!(text.contains("Telescope mirror"), "{text}");
    assert!(!text.contains("@everyone"), "mention neutralized: {text}");

    let unknown = bot.answer(cmd("digest").option(opt("topic", "nope"))).await;
    assert!(is_ephemeral(&unknown));

    let topics = bot.answer(cmd("topics")).await;
    let text = text_of(&topics);
    assert!(
        text.contains("**science**: grants OR agency — followed by news"),
        "{text}"
    );
    assert!(text.contains("Every story goes to: all"), "{text}");

    let search = bot
        .answer(cmd("search").option(opt("query", "telescope mirror")))
        .await;
    assert!(text_of(&search).contains("Telescope mirror"));
    let old = bot
        .answer(
            cmd("search")
                .option(opt("query", "telescope"))
                .option(opt("days", 1)),
        )
        .await;
    assert!(is_ephemeral(&old), "published 26 h before NOW: {old}");
    assert!(content(&old).contains("No stories match"));

    let related = bot
        .answer(cmd("related").option(opt("query-or-url", "grants agency")))
        .await;
    assert!(text_of(&related).contains("Science agency"));
    let (_, by_url) = bot
        .deferred(cmd("related").option(opt("query-or-url", "https://example.org/a1")))
        .await;
    assert!(text_of(&by_url).contains("Telescope mirror"), "{by_url}");

    let list = bot
        .answer(
            cmd("feeds")
                .member_permissions(MANAGE_GUILD)
                .option(opt_sub("list", vec![])),
        )
        .await;
    assert!(text_of(&list).contains("Wire"));
    let health = bot
        .answer(
            cmd("feeds")
                .member_permissions(MANAGE_GUILD)
                .option(opt_sub("health", vec![])),
        )
        .await;
    assert!(text_of(&health).contains("healthy"), "{health}");
    let remove_config = bot
        .answer(
            cmd("feeds")
                .member_permissions(MANAGE_GUILD)
                .option(opt_sub("remove", vec![opt("name", "Wire")])),
        )
        .await;
    assert!(content(&remove_config).contains("config file"));

    let added = bot
        .answer(
            cmd("topic")
                .member_permissions(MANAGE_GUILD)
                .option(opt_sub(
                    "add",
                    vec![opt("name", "optics"), opt("query", "mirror OR lens*")],
                )),
        )
        .await;
    assert!(
        content(&added).contains("Topic **optics** added"),
        "{added}"
    );
    let sub = bot
        .answer(
            cmd("subscribe")
                .member_permissions(MANAGE_CHANNELS)
                .option(opt("topic", "optics")),
        )
        .await;
    assert!(content(&sub).contains("now follows **optics**"), "{sub}");
    assert!(!is_ephemeral(&sub));
    let unsub = bot
        .answer(
            cmd("unsubscribe")
                .member_permissions(MANAGE_CHANNELS)
                .option(opt("topic", "science")),
        )
        .await;
    assert!(content(&unsub).contains("no longer follows **science**"));
    assert_eq!(
        newsdesk::store::channel_topics(&desk.config, &desk.store(), "news"),
        vec!["optics"]
    );
    let removed = bot
        .answer(
            cmd("topic")
                .member_permissions(MANAGE_GUILD)
                .option(opt_sub("remove", vec![opt("name", "optics")])),
        )
        .await;
    assert!(content(&removed).contains("removed"), "{removed}");
    assert!(newsdesk::store::channel_topics(&desk.config, &desk.store(), "news").is_empty());

    bot.stop().await;
}

#[tokio::test]
async fn changing_commands_refuse_members_without_the_permission() {
    let fx = Fixture::new().await;
    let desk = polled_desk(&fx, "[discord]\nallow_private_feed_urls = true\n").await;
    let bot = Bot::start(desk.clone()).await;
    let feeds_before = desk.store().feeds().expect("feeds").len();

    // Default member: view, send, use commands; no Manage Server / Manage Channels.
    let (_, feeds) = bot
        .deferred(cmd("feeds").option(opt_sub(
            "add",
            vec![opt(
                "url",
                fx.server.url("/wire.xml").replace("wire", "other"),
            )],
        )))
        .await;
    assert!(content(&feeds).contains("Manage Server"), "{feeds}");
    for fixture in [
        cmd("topic").option(opt_sub("add", vec![opt("name", "x"), opt("query", "y")])),
        cmd("feeds").option(opt_sub("remove", vec![opt("name", "Wire")])),
        // Manage Channels is not Manage Server.
        cmd("topic")
            .member_permissions(MANAGE_CHANNELS)
            .option(opt_sub("remove", vec![opt("name", "x")])),
    ] {
        let data = bot.answer(fixture).await;
        assert!(is_ephemeral(&data), "{data}");
        assert!(
            content(&data).contains("Manage Server permission"),
            "{data}"
        );
    }
    let sub = bot
        .answer(
            cmd("subscribe")
                .member_permissions(MANAGE_GUILD)
                .option(opt("topic", "space")),
        )
        .await;
    assert!(
        content(&sub).contains("Manage Channels permission"),
        "{sub}"
    );
    let dm = bot
        .answer(cmd("subscribe").in_dm().option(opt("topic", "space")))
        .await;
    assert!(content(&dm).contains("only works inside a server"), "{dm}");

    assert_eq!(desk.store().feeds().expect("feeds").len(), feeds_before);
    assert!(desk.store().custom_topics().expect("topics").is_empty());
    assert_eq!(
        newsdesk::store::channel_topics(&desk.config, &desk.store(), "news"),
        vec!["science"]
    );
    bot.stop().await;
}

#[tokio::test]
async fn autocomplete_offers_matching_topic_names() {
    let fx = Fixture::new().await;
    let desk = polled_desk(&fx, "").await;
    let bot = Bot::start(desk.clone()).await;

    let names = |callback: &Value| -> Vec<String> {
        callback["data"]["choices"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["value"].as_str().map(str::to_string))
            .collect()
    };
    let (_, sp) = bot
        .send(InteractionFixture::autocomplete("subscribe").option(opt_focused("topic", "sp")))
        .await;
    assert_eq!(sp["type"], 8);
    assert_eq!(names(&sp), vec!["space"]);
    let (_, all) = bot
        .send(InteractionFixture::autocomplete("digest").option(opt_focused("topic", "")))
        .await;
    assert_eq!(names(&all), vec!["science", "space"]);
    // Substring matches come after prefix matches.
    let (_, ce) = bot
        .send(InteractionFixture::autocomplete("subscribe").option(opt_focused("topic", "ce")))
        .await;
    assert_eq!(names(&ce), vec!["science", "space"]);
    // Unsubscribe offers what this channel follows.
    let (_, unsub) = bot
        .send(InteractionFixture::autocomplete("unsubscribe").option(opt_focused("topic", "")))
        .await;
    assert_eq!(names(&unsub), vec!["science"]);
    bot.stop().await;
}

#[tokio::test]
async fn feeds_add_defers_fetches_and_guards_private_addresses() {
    let fx = Fixture::new().await;
    fx.server.route(
        "/new.xml",
        Resp::ok(rss(&[(
            "n1",
            "Fresh item",
            "2026-11-21T08:00:00Z",
            "https://example.org/n1",
            TELESCOPE,
        )]))
        .content_type("application/rss+xml"),
    );
    fx.server.route(
        "/page.html",
        Resp::ok("<html><body><p>not a feed</p></body></html>").content_type("text/html"),
    );
    let add = |url: String| {
        cmd("feeds")
            .member_permissions(MANAGE_GUILD)
            .option(opt_sub(
                "add",
                vec![opt("url", url), opt("name", "Newcomer")],
            ))
    };

    // Not allowed: the test server is on 127.0.0.1, so it is refused before any fetch.
    let strict = polled_desk(&fx, "").await;
    let bot = Bot::start(strict.clone()).await;
    let (deferred, edit) = bot.deferred(add(fx.server.url("/new.xml"))).await;
    assert_eq!(deferred["data"]["flags"], EPHEMERAL);
    assert!(content(&edit).contains("Refused"), "{edit}");
    assert!(content(&edit).contains("127.0.0.1"), "{edit}");
    assert_eq!(edit["allowed_mentions"]["parse"], serde_json::json!([]));
    assert_eq!(fx.server.hits("/new.xml"), 0, "refused before fetching");
    let (_, scheme) = bot.deferred(add("file:///etc/passwd".into())).await;
    assert!(content(&scheme).contains("only http and https"), "{scheme}");
    assert!(
        strict
            .store()
            .feed_by_name("Newcomer")
            .expect("query")
            .is_none()
    );
    bot.stop().await;
    drop(strict);

    // Allowed by the config: fetched, parsed, stored.
    let fx2 = Fixture::new().await;
    fx2.server.route(
        "/new.xml",
        Resp::ok(rss(&[(
            "n1",
            "Fresh item",
            "2026-11-21T08:00:00Z",
            "https://example.org/n1",
            TELESCOPE,
        )])),
    );
    fx2.server.route(
        "/page.html",
        Resp::ok("<html><body><p>not a feed</p></body></html>").content_type("text/html"),
    );
    let open = polled_desk(&fx2, "[discord]\nallow_private_feed_urls = true\n").await;
    let bot = Bot::start(open.clone()).await;
    let (_, not_feed) = bot.deferred(add(fx2.server.url("/page.html"))).await;
    assert!(content(&not_feed).contains("not a feed"), "{not_feed}");
    let (_, edit) = bot.deferred(add(fx2.server.url("/new.xml"))).await;
    assert!(
        content(&edit).contains("Added **Newcomer** (1 entries"),
        "{edit}"
    );
    assert_eq!(fx2.server.hits("/new.xml"), 1);
    let feed = open
        .store()
        .feed_by_name("Newcomer")
        .expect("query")
        .expect("stored");
    assert_eq!(feed.origin, newsdesk::store::FeedOrigin::Discord);
    assert_eq!(feed.url, fx2.server.url("/new.xml"));
    let (_, again) = bot.deferred(add(fx2.server.url("/new.xml"))).await;
    assert!(content(&again).contains("already followed"), "{again}");
    let removed = bot
        .answer(
            cmd("feeds")
                .member_permissions(MANAGE_GUILD)
                .option(opt_sub("remove", vec![opt("name", "Newcomer")])),
        )
        .await;
    assert!(content(&removed).contains("Stopped following"), "{removed}");
    assert!(
        !open
            .store()
            .feed_by_name("Newcomer")
            .expect("q")
            .expect("row")
            .active
    );
    bot.stop().await;
}

#[tokio::test]
async fn subscriptions_and_topics_survive_a_restart() {
    let fx = Fixture::new().await;
    let desk = polled_desk(&fx, "").await;
    let bot = Bot::start(desk.clone()).await;
    bot.answer(
        cmd("topic")
            .member_permissions(MANAGE_GUILD)
            .option(opt_sub(
                "add",
                vec![opt("name", "chips"), opt("query", "semiconductor* OR chip")],
            )),
    )
    .await;
    for (name, topic) in [
        ("subscribe", "chips"),
        ("subscribe", "space"),
        ("unsubscribe", "science"),
    ] {
        let data = bot
            .answer(
                cmd(name)
                    .member_permissions(MANAGE_CHANNELS)
                    .option(opt("topic", topic)),
            )
            .await;
        assert!(!is_ephemeral(&data), "{data}");
    }
    bot.stop().await;
    drop(desk);

    // A new process: same config file, same database.
    let desk = fx.desk(config(&fx, ""), at(NOW));
    {
        let store = desk.store();
        assert_eq!(
            newsdesk::store::channel_topics(&desk.config, &store, "news"),
            vec!["chips", "space"]
        );
        let topics: Vec<String> = newsdesk::store::effective_topics(&desk.config, &store)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(topics, vec!["science", "space", "chips"]);
    }
    let req = CommandRequest {
        channel_id: CHANNEL_ID,
        ..CommandRequest::new("digest")
    };
    let reply = commands::execute(&desk, &req, at(NOW)).await;
    let text: String = reply.embeds.iter().map(|e| e.title.clone()).collect();
    assert!(text.contains("Telescope"), "space followed now: {reply:?}");
    assert!(
        !text.contains("Science agency"),
        "science dropped: {reply:?}"
    );
}

#[tokio::test]
async fn a_topic_with_a_bad_query_is_refused_with_the_parse_error() {
    let fx = Fixture::new().await;
    let desk = polled_desk(&fx, "").await;
    let bot = Bot::start(desk.clone()).await;
    let data = bot
        .answer(
            cmd("topic")
                .member_permissions(MANAGE_GUILD)
                .option(opt_sub(
                    "add",
                    vec![opt("name", "broken"), opt("query", "(chips OR")],
                )),
        )
        .await;
    assert!(is_ephemeral(&data));
    let text = content(&data);
    assert!(text.contains("does not parse"), "{text}");
    assert!(text.contains("invalid query at character"), "{text}");
    let bad_name = bot
        .answer(
            cmd("topic")
                .member_permissions(MANAGE_GUILD)
                .option(opt_sub(
                    "add",
                    vec![opt("name", "Bad Name"), opt("query", "chips")],
                )),
        )
        .await;
    assert!(content(&bad_name).contains("not a valid topic name"));
    assert!(desk.store().custom_topics().expect("topics").is_empty());
    bot.stop().await;
}

/// Long article text sharing only "agency" with the others, so every item is its own story.
fn distinct_text(i: usize) -> String {
    const WORDS: [&str; 24] = [
        "harbor", "quartz", "violin", "glacier", "pepper", "lantern", "meadow", "copper", "falcon",
        "orchard", "canyon", "velvet", "tundra", "saffron", "marble", "cobalt", "walnut",
        "prairie", "thistle", "emerald", "basalt", "juniper", "lagoon", "hazel",
    ];
    let a = WORDS[i % 24];
    let b = WORDS[(i * 7 + 3) % 24];
    let c = WORDS[(i * 11 + 5) % 24];
    format!("The agency said {a}{i} and {b}{i} matter. ").repeat(3)
        + &format!(
            "Officials described {c}{i} plans at length, with {a}{i} {b}{i} {c}{i} details. "
        )
        .repeat(4)
}

#[tokio::test]
async fn replies_stay_within_limits_for_many_hostile_stories() {
    let fx = Fixture::new().await;
    // XML-escaped: the title reads `@everyone **x** <@&123>`.
    let title = "@everyone **x** &lt;@&amp;123&gt; ".repeat(20);
    let items: Vec<(String, String, String, String, String)> = (0..12)
        .map(|i| {
            (
                format!("h{i}"),
                format!("{title} {i}"),
                format!("2026-11-21T0{}:00:00Z", i % 10),
                format!("https://example.org/h{i}"),
                distinct_text(i),
            )
        })
        .collect();
    let refs: Vec<(&str, &str, &str, &str, &str)> = items
        .iter()
        .map(|(a, b, c, d, e)| (a.as_str(), b.as_str(), c.as_str(), d.as_str(), e.as_str()))
        .collect();
    fx.server.route("/wire.xml", Resp::ok(rss(&refs)));
    // Headlines alike but for a number are one event in a quiet window: a one-minute grouping
    // window keeps the hour-apart items twelve stories.
    let one_minute = "[related]\ngroup_window = \"1m\"\n";
    let desk = fx.desk(config(&fx, one_minute), at(NOW));
    newsdesk::daemon::poll_and_process(&desk, at(NOW), &|_, _| {})
        .await
        .expect("poll");
    let bot = Bot::start(desk.clone()).await;
    let data = bot.answer(cmd("digest")).await;
    let embeds = data["embeds"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        embeds.len(),
        10,
        "12 stories, one embed each, 10 per message"
    );
    let total: usize = embeds
        .iter()
        .map(|e| {
            ["title", "description"]
                .iter()
                .map(|k| e[*k].as_str().map_or(0, |s| s.chars().count()))
                .sum::<usize>()
                + e["footer"]["text"]
                    .as_str()
                    .map_or(0, |s| s.chars().count())
        })
        .sum();
    assert!(total <= 6000, "{total}");
    let text = text_of(&data);
    assert!(
        !text.contains("@everyone") && !text.contains("<@&123>"),
        "{text}"
    );
    assert!(text.contains(r"\*\*x\*\*"), "markdown escaped: {text}");
    bot.stop().await;
}

/// Discord drops an interaction not acknowledged within 3 s. While the processing side holds the
/// store's write lock (a long item, a full-disk backoff), reads still answer at once from the
/// read connection, autocomplete answers too, and a command that must write is deferred in
/// time and completed once the lock is free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_interaction_is_acknowledged_in_time_while_the_store_is_busy() {
    let fx = Fixture::new().await;
    let desk = polled_desk(&fx, "").await;
    let bot = Bot::start(desk.clone()).await;
    let (release, held) = std::sync::mpsc::channel::<()>();
    let busy = {
        let desk = Arc::clone(&desk);
        let (locked_tx, locked_rx) = std::sync::mpsc::channel::<()>();
        let holder = std::thread::spawn(move || {
            let _writer = desk.store();
            let _ = locked_tx.send(());
            // Held until the test says so, or 8 s at most.
            let _ = held.recv_timeout(Duration::from_secs(8));
        });
        locked_rx.recv().expect("the writer is held");
        holder
    };

    for fixture in [
        cmd("digest"),
        cmd("topics"),
        cmd("search").option(opt("query", "telescope")),
        cmd("feeds").option(opt_sub("list", vec![])),
        cmd("related").option(opt("query", "telescope")),
    ] {
        bot.answer(fixture).await;
    }
    let (_, choices) = bot
        .send(InteractionFixture::autocomplete("digest").option(opt_focused("topic", "")))
        .await;
    assert_eq!(choices["type"], 8, "{choices}");
    assert!(
        !choices["data"]["choices"]
            .as_array()
            .expect("choices")
            .is_empty()
    );

    // A write waits for the lock: deferred within the deadline, completed after.
    let sent = bot.fake.send_interaction(
        cmd("subscribe")
            .member_permissions(MANAGE_CHANNELS)
            .option(opt("topic", "space")),
    );
    let t0 = Instant::now();
    let callback = bot.fake.wait_for_callback(&sent, WAIT).await;
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    assert_eq!(callback["type"], 5, "deferred: {callback}");
    let _ = release.send(());
    busy.join().expect("holder");
    let edits = bot
        .fake
        .wait_for_requests("PATCH", &sent.original_path(), 1, WAIT)
        .await;
    let edit = edits[0].body.clone().unwrap_or(Value::Null);
    assert!(content(&edit).contains("space"), "{edit}");
    bot.stop().await;
}
