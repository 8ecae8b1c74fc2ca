//! Issue 10's fault classes, each reproduced against the library: a crash between the steps of
//! one item, a second writer on the same database, a full disk.

use jiff::Timestamp;
use newsdesk::daemon;

use crate::support::fixture::{FixedClock, Fixture, at, rss_owned};
use crate::support::http::Resp;

/// Two unrelated stories' worth of feed items.
fn two_items() -> String {
    let item = |g: &str, title: &str, words: &str| {
        (
            g.to_string(),
            title.to_string(),
            format!("https://example.org/{g}"),
            words.repeat(30),
        )
    };
    rss_owned(
        &[
            item("a", "Norland drafts AI rules", "norland ai rules safety "),
            item(
                "b",
                "Telescope sees first light",
                "telescope mirror light summit ",
            ),
        ],
        "2026-11-20T10:00:00Z",
    )
}

fn story_count(path: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(path).expect("second connection");
    conn.query_row("SELECT COUNT(*) FROM stories", [], |r| r.get(0))
        .expect("count stories")
}

/// A crash (here: a write refused) after an item was grouped but before it was marked processed
/// must leave no trace: on retry the item gets exactly one story.
#[tokio::test]
async fn an_item_interrupted_after_grouping_gets_one_story_on_retry() {
    let fx = Fixture::new().await;
    fx.server.route("/f.xml", Resp::ok(two_items()));
    let mut config = fx.config(&[("F", "/f.xml")], "");
    config.polling.announce_first_fetch = true;
    let db = config.storage_path();
    let now: Timestamp = at("2026-11-20T12:00:00Z");
    let desk = fx.desk(config, now);

    // The item's last write fails, as if the process died right there.
    let conn = rusqlite::Connection::open(&db).expect("second connection");
    conn.execute_batch(
        "CREATE TRIGGER fail_finish BEFORE UPDATE OF processed_at ON items
         BEGIN SELECT RAISE(ABORT, 'injected fault'); END;",
    )
    .expect("trigger");
    let _ = daemon::poll_and_process(&desk, now, &|_, _| {}).await;
    assert_eq!(
        story_count(&db),
        0,
        "no story may outlive its unfinished item"
    );

    conn.execute_batch("DROP TRIGGER fail_finish")
        .expect("drop trigger");
    // A failed item is retried later, not at once.
    assert_eq!(desk.process_pending(now).await.expect("nothing due yet"), 0);
    let later = at("2026-11-20T12:06:00Z");
    desk.process_pending(later)
        .await
        .expect("processing resumes");
    assert_eq!(story_count(&db), 2, "one story per item");
    let digest =
        newsdesk::digest::compose(&desk.store(), &desk.config, &desk.config.channels[0], later)
            .expect("compose");
    assert_eq!(digest.stories.len(), 2);
}

/// An item that fails every time is tried three times, spaced out, then set aside (tried again
/// daily); the items behind it are processed meanwhile.
#[tokio::test]
async fn an_item_that_always_fails_is_set_aside_and_holds_up_nothing() {
    let fx = Fixture::new().await;
    fx.server.route("/f.xml", Resp::ok(two_items()));
    let mut config = fx.config(&[("F", "/f.xml")], "");
    config.polling.announce_first_fetch = true;
    let db = config.storage_path();
    let now: Timestamp = at("2026-11-20T12:00:00Z");
    let desk = fx.desk(config, now);
    let conn = rusqlite::Connection::open(&db).expect("second connection");
    conn.execute_batch(
        "CREATE TRIGGER poison BEFORE UPDATE OF processed_at ON items WHEN NEW.title LIKE 'Norland%'
         BEGIN SELECT RAISE(ABORT, 'injected fault'); END;",
    )
    .expect("trigger");
    daemon::poll_and_process(&desk, now, &|_, _| {})
        .await
        .expect("a failing item is no error for the cycle");
    assert_eq!(story_count(&db), 1, "the other item went through");
    let mut clock = now;
    for _ in 0..5 {
        clock += jiff::SignedDuration::from_hours(1);
        desk.process_pending(clock).await.expect("retries");
    }
    let (failures, processed): (i64, Option<i64>) = conn
        .query_row(
            "SELECT failures, processed_at FROM items WHERE title LIKE 'Norland%'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the item is kept");
    assert_eq!(failures, 3);
    assert_eq!(processed, None);
    assert_eq!(story_count(&db), 1);
    // Set aside, not given up: once the cause is gone, the daily retry gets it through.
    conn.execute_batch("DROP TRIGGER poison")
        .expect("drop trigger");
    desk.process_pending(clock + jiff::SignedDuration::from_hours(25))
        .await
        .expect("daily retry");
    assert_eq!(story_count(&db), 2);
}

/// While a daemon runs, a second writer refuses at once and names it; readers keep working.
#[test]
fn a_second_writer_is_refused_while_readers_work_beside_the_daemon() {
    use crate::support::bin::{demo_copy, newsdesk, terminate, wait_until};
    let dir = tempfile::tempdir().expect("temp dir");
    let config = demo_copy(dir.path(), "");
    let config = config.to_str().expect("utf-8 path");
    let mut daemon = newsdesk()
        .args(["--config", config, "run"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("daemon starts");
    let lock = dir.path().join("demo.db.lock");
    let pid = daemon.id();
    let holder_written = wait_until(std::time::Duration::from_secs(30), || {
        std::fs::read_to_string(&lock).is_ok_and(|t| t.contains(&format!("pid {pid}")))
    });
    // The daemon has processed the demo once its first cycle stored stories.
    let searchable = wait_until(std::time::Duration::from_secs(30), || {
        newsdesk()
            .args(["--config", config, "search", "agency"])
            .output()
            .is_ok_and(|o| {
                o.status.success() && String::from_utf8_lossy(&o.stdout).contains("┃ **")
            })
    });

    let second = newsdesk()
        .args(["--config", config, "run", "--once"])
        .output()
        .expect("second run");
    let feeds = newsdesk()
        .args(["--config", config, "feeds", "list"])
        .output()
        .expect("feeds list");
    terminate(pid);
    let _ = daemon.wait();

    assert!(
        holder_written,
        "the daemon records itself in {}",
        lock.display()
    );
    assert!(searchable, "search works while the daemon runs");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        !second.status.success(),
        "a second writer must refuse: {stderr}"
    );
    assert!(
        stderr.contains("in use") && stderr.contains(&format!("pid {pid}")),
        "{stderr}"
    );
    assert!(
        feeds.status.success(),
        "{}",
        String::from_utf8_lossy(&feeds.stderr)
    );
    assert!(String::from_utf8_lossy(&feeds.stdout).contains("Science Policy Wire"));
}

/// The digests the store recorded for `channel`: (status, count).
fn digests_of(db: &std::path::Path, channel: &str) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(db).expect("open store");
    let mut stmt = conn
        .prepare("SELECT status, COUNT(*) FROM digests WHERE channel = ?1 GROUP BY status")
        .expect("query");
    stmt.query_map([channel], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("digests")
}

/// Runs the binary in a child process without blocking the runtime the fakes serve on.
async fn run_binary(
    config: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    let mut cmd = crate::support::bin::newsdesk();
    cmd.arg("--config").arg(config).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    tokio::task::spawn_blocking(move || cmd.output().expect("newsdesk runs"))
        .await
        .expect("child joined")
}

/// The channel a test webhook posts into.
const HOOK_CHANNEL: u64 = 1_500_000_000_000_000_005;

/// The demo with two Discord channels beside its terminal ones: "hooked" through webhook 77
/// (its URL in `hook`, as the environment gives it) and "botless" through the bot, with the
/// fake Discord as `[discord] api_base`.
struct HookedDemo {
    fake: crate::support::discord::FakeDiscord,
    dir: tempfile::TempDir,
    config: std::path::PathBuf,
    hook: (&'static str, &'static str),
}

impl HookedDemo {
    async fn start() -> HookedDemo {
        let fake = crate::support::discord::FakeDiscord::start().await;
        fake.add_webhook(77, "hooktoken", HOOK_CHANNEL);
        let dir = tempfile::tempdir().expect("temp dir");
        let extra = format!(
            "[discord]\napi_base = \"{}\"\n\
             [[channel]]\nname = \"hooked\"\nmode = \"live\"\nwebhook_env = \"DESK_HOOK\"\n\
             [[channel]]\nname = \"botless\"\nmode = \"live\"\ndiscord_channel_id = \"42\"\n",
            fake.plain_base()
        );
        let config = crate::support::bin::demo_copy(dir.path(), &extra);
        let hook = ("DESK_HOOK", "https://discord.com/api/webhooks/77/hooktoken");
        HookedDemo {
            fake,
            dir,
            config,
            hook,
        }
    }
}

/// A webhook needs no bot token: a webhook channel posts through it (and only there), a bot
/// channel without a token waits with its stories queued, and both say so at start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_channels_post_without_a_bot_token_and_bot_channels_wait_for_one() {
    let HookedDemo {
        fake,
        dir,
        config,
        hook,
    } = HookedDemo::start().await;
    let out = run_binary(&config, &["run", "--once"], &[hook]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");

    let posted = fake.messages(HOOK_CHANNEL);
    assert!(!posted.is_empty(), "the webhook got the digest\n{stderr}");
    assert!(
        !stdout.contains("#hooked"),
        "printed instead of posted:\n{stdout}"
    );
    assert!(!stdout.contains("#botless"), "{stdout}");
    assert!(
        stdout.contains("#research-desk"),
        "terminal channels still print"
    );
    let db = dir.path().join("demo.db");
    assert_eq!(digests_of(&db, "hooked"), [("sent".to_string(), 1)]);
    assert_eq!(
        digests_of(&db, "botless"),
        [],
        "nothing recorded for a channel that waits"
    );
    assert!(stderr.contains("#hooked → Discord webhook 77"), "{stderr}");
    assert!(
        stderr.contains("#botless → nowhere yet") && stderr.contains("NEWSDESK_DISCORD_TOKEN"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("hooktoken"),
        "the webhook's secret is never shown"
    );
    fake.assert_no_violations();

    let check = run_binary(&config, &["check"], &[hook]).await;
    let listed = String::from_utf8_lossy(&check.stdout);
    assert!(listed.contains("#hooked → Discord webhook 77"), "{listed}");
    assert!(listed.contains("#botless → nowhere yet"), "{listed}");
}

/// A sink that records each digest with what `note` says about the desk at that moment.
struct Witness<F: Fn() -> bool + Send + Sync> {
    posts: std::sync::Mutex<Vec<(newsdesk::digest::Digest, bool)>>,
    note: F,
}

impl<F: Fn() -> bool + Send + Sync> newsdesk::digest::Sink for Witness<F> {
    async fn post(
        &self,
        digest: &newsdesk::digest::Digest,
    ) -> Result<(), newsdesk::digest::SinkError> {
        let noted = (self.note)();
        self.posts
            .lock()
            .expect("posts")
            .push((digest.clone(), noted));
        Ok(())
    }
}

/// Options for a daemon under test: short waits everywhere.
fn quick() -> daemon::RunOptions {
    daemon::RunOptions {
        grace: std::time::Duration::from_millis(200),
        fault_backoff: std::time::Duration::from_millis(20),
        warm_up: std::time::Duration::from_millis(100),
        ..daemon::RunOptions::default()
    }
}

/// Waits (polling every 10 ms, at most `limit`) for `check`.
async fn eventually(limit: std::time::Duration, check: impl Fn() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if check() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    check()
}

const LIVE: &str = "[[channel]]\nname = \"live\"\nmode = \"live\"\nmax_stories = 50\n";

/// A feed that takes its time answering holds up neither processing nor delivery: the other
/// feed's story is posted while that poll is still open.
#[tokio::test]
async fn a_feed_that_does_not_answer_holds_up_no_digest() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let fx = Fixture::new().await;
    fx.server.route("/fast.xml", Resp::ok(two_items()));
    fx.server.route(
        "/slow.xml",
        Resp::ok(two_items()).delay(std::time::Duration::from_secs(3)),
    );
    let mut config = fx.config(&[("Fast", "/fast.xml"), ("Slow", "/slow.xml")], LIVE);
    config.polling.announce_first_fetch = true;
    config.polling.timeout = newsdesk::duration::HumanDuration::secs(10);
    let now = at("2026-11-20T12:00:00Z");
    let desk = fx.desk(config, now);
    let slow_done = std::sync::Arc::new(AtomicBool::new(false));
    let sink = Witness {
        posts: Default::default(),
        note: {
            let slow_done = std::sync::Arc::clone(&slow_done);
            move || slow_done.load(Ordering::SeqCst)
        },
    };
    let on_feed = |feed: &newsdesk::store::FeedRow, _: &newsdesk::pipeline::PollOutcome| {
        if feed.name == "Slow" {
            slow_done.store(true, Ordering::SeqCst);
        }
    };
    let (trigger, shutdown) = newsdesk::shutdown::Shutdown::new();
    let clock = FixedClock(now);
    let run = daemon::run(
        std::sync::Arc::clone(&desk),
        &sink,
        &clock,
        quick(),
        &on_feed,
        shutdown,
    );
    let watch = async {
        let posted = eventually(std::time::Duration::from_secs(8), || {
            sink.posts
                .lock()
                .expect("posts")
                .iter()
                .any(|(d, _)| d.channel == "live")
        })
        .await;
        trigger.fire();
        posted
    };
    let (result, posted) = tokio::join!(run, watch);
    result.expect("the daemon stops cleanly");
    assert!(posted, "the fast feed's stories were posted");
    let posts = sink.posts.lock().expect("posts");
    let (first, slow_was_done) = posts
        .iter()
        .find(|(d, _)| d.channel == "live")
        .expect("a live post");
    assert!(!first.stories.is_empty());
    assert!(!slow_was_done, "posted only after the slow feed answered");
}

/// A feed with thousands of new items is processed in batches between deliveries: the first
/// live post goes out while most of them still wait.
#[tokio::test]
async fn a_huge_feed_is_processed_in_batches_between_deliveries() {
    let fx = Fixture::new().await;
    let items: Vec<(String, String, String, String)> = (0..3000)
        .map(|n| {
            (
                format!("g{n}"),
                format!("Item {n} of the flood"),
                format!("https://example.org/flood/{n}"),
                format!("flood item {n} words "),
            )
        })
        .collect();
    fx.server.route(
        "/flood.xml",
        Resp::ok(rss_owned(&items, "2026-11-20T10:00:00Z")),
    );
    let mut config = fx.config(&[("Flood", "/flood.xml")], LIVE);
    config.polling.announce_first_fetch = true;
    config.feeds[0].full_text = newsdesk::config::FullText::Never;
    let db = config.storage_path();
    let now = at("2026-11-20T12:00:00Z");
    let desk = fx.desk(config, now);
    let pending = move || {
        rusqlite::Connection::open(&db)
            .and_then(|c| {
                c.query_row(
                    "SELECT COUNT(*) FROM items WHERE processed_at IS NULL",
                    [],
                    |r| r.get::<_, i64>(0),
                )
            })
            .unwrap_or(0)
    };
    let sink = Witness {
        posts: Default::default(),
        note: {
            let pending = pending.clone();
            move || pending() > 0
        },
    };
    let (trigger, shutdown) = newsdesk::shutdown::Shutdown::new();
    let clock = FixedClock(now);
    let run = daemon::run(
        std::sync::Arc::clone(&desk),
        &sink,
        &clock,
        quick(),
        &|_, _| {},
        shutdown,
    );
    let watch = async {
        let posted = eventually(std::time::Duration::from_secs(20), || {
            !sink.posts.lock().expect("posts").is_empty()
        })
        .await;
        trigger.fire();
        posted
    };
    let (result, posted) = tokio::join!(run, watch);
    result.expect("the daemon stops cleanly");
    assert!(posted, "a live post went out");
    let posts = sink.posts.lock().expect("posts");
    assert!(
        posts[0].1,
        "the first post waited for the whole flood to be processed"
    );
    assert!(
        pending() > 0,
        "stopped before the flood was through (else the test proves nothing)"
    );
}

/// A full disk is a fault to wait out: the daemon keeps running, keeps what it has, and
/// carries on when space returns.
#[tokio::test]
async fn a_full_disk_is_waited_out_and_nothing_is_lost() {
    let fx = Fixture::new().await;
    // Long items: storing them needs new pages.
    let item = |g: &str, title: &str, words: &str| {
        (
            g.to_string(),
            title.to_string(),
            format!("https://example.org/{g}"),
            words.repeat(800),
        )
    };
    let feed = rss_owned(
        &[
            item("a", "Norland drafts AI rules", "norland ai rules safety "),
            item(
                "b",
                "Telescope sees first light",
                "telescope mirror light summit ",
            ),
        ],
        "2026-11-20T10:00:00Z",
    );
    fx.server.route("/f.xml", Resp::ok(feed));
    let mut config = fx.config(&[("F", "/f.xml")], LIVE);
    config.polling.announce_first_fetch = true;
    config.polling.min_interval = newsdesk::duration::HumanDuration::secs(1);
    let now = at("2026-11-20T12:00:00Z");
    let db = config.storage_path();
    let desk = fx.desk(config, now);
    // No free pages left inside the file either: the next new page is one too many.
    rusqlite::Connection::open(&db)
        .and_then(|c| c.execute_batch("VACUUM"))
        .expect("vacuum");
    desk.store().limit_size(Some(0)).expect("no room left");
    let sink = Witness {
        posts: Default::default(),
        note: || true,
    };
    let (trigger, shutdown) = newsdesk::shutdown::Shutdown::new();
    let clock = FixedClock(now);
    let run = daemon::run(
        std::sync::Arc::clone(&desk),
        &sink,
        &clock,
        quick(),
        &|_, _| {},
        shutdown,
    );
    let script = async {
        // The feed is fetched again and again while nothing can be stored.
        let retried = eventually(std::time::Duration::from_secs(10), || {
            fx.server.hits("/f.xml") >= 3
        })
        .await;
        let nothing_posted = sink.posts.lock().expect("posts").is_empty();
        desk.store().limit_size(None).expect("space returns");
        let delivered = eventually(std::time::Duration::from_secs(10), || {
            sink.posts
                .lock()
                .expect("posts")
                .iter()
                .map(|(d, _)| d.stories.len())
                .sum::<usize>()
                == 2
        })
        .await;
        trigger.fire();
        (retried, nothing_posted, delivered)
    };
    let (result, (retried, nothing_posted, delivered)) = tokio::join!(run, script);
    result.expect("the daemon never stopped");
    assert!(retried, "the poll was retried while the disk was full");
    assert!(nothing_posted);
    assert!(delivered, "both stories posted once space returned");
}

/// Waits for a child to end on its own within `limit`; kills it otherwise (None).
fn wait_for_exit(
    child: &mut std::process::Child,
    limit: std::time::Duration,
) -> Option<std::process::ExitStatus> {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// SIGTERM at any moment, from the first instant the daemon holds its database (before its first
/// cycle) on, ends it cleanly (exit 0) within its grace period. (A signal that arrives before
/// `main` runs, while the loader maps the program, finds no code of its own to catch it.)
#[test]
fn sigterm_at_any_moment_ends_the_daemon_cleanly() {
    use crate::support::bin::{demo_copy, newsdesk, terminate, wait_until};
    let dir = tempfile::tempdir().expect("temp dir");
    let config = demo_copy(dir.path(), "");
    let lock = dir.path().join("demo.db.lock");
    for after_ms in [0u64, 10, 60, 250, 800] {
        let mut child = newsdesk()
            .args(["--config", config.to_str().expect("utf-8"), "run"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("daemon starts");
        let pid = format!("pid {}", child.id());
        let up = wait_until(std::time::Duration::from_secs(10), || {
            std::fs::read_to_string(&lock).is_ok_and(|t| t.contains(&pid))
        });
        assert!(up, "the daemon took its lock");
        std::thread::sleep(std::time::Duration::from_millis(after_ms));
        terminate(child.id());
        let status = wait_for_exit(&mut child, std::time::Duration::from_secs(15));
        assert_eq!(
            status.map(|s| s.code()),
            Some(Some(0)),
            "SIGTERM {after_ms} ms after it opened the database"
        );
    }
}

/// With a bot token and a Discord that accepts connections but never answers, `run --once`
/// still ends, and `run` stops on SIGTERM within its grace period.
#[test]
fn an_unresponsive_discord_delays_neither_the_end_of_a_cycle_nor_a_stop() {
    use crate::support::bin::{demo_copy, newsdesk, terminate};
    let black_hole = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let base = format!("http://{}", black_hole.local_addr().expect("address"));
    let dir = tempfile::tempdir().expect("temp dir");
    let extra = format!(
        "[discord]\napi_base = \"{base}\"\n\
         [[channel]]\nname = \"discord\"\nmode = \"live\"\ndiscord_channel_id = \"42\"\n"
    );
    let config = demo_copy(dir.path(), &extra);
    let config = config.to_str().expect("utf-8");
    // Requests to it hang until the fetch timeout; keep that short.
    let text = std::fs::read_to_string(config).expect("config");
    std::fs::write(config, text.replace("timeout = \"5s\"", "timeout = \"2s\"")).expect("write");

    let mut once = newsdesk()
        .args(["--config", config, "run", "--once"])
        .env("NEWSDESK_DISCORD_TOKEN", "unused-token")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run --once starts");
    let ended = wait_for_exit(&mut once, std::time::Duration::from_secs(40));
    assert_eq!(
        ended.map(|s| s.code()),
        Some(Some(0)),
        "run --once must end"
    );

    let mut daemon = newsdesk()
        .args(["--config", config, "run"])
        .env("NEWSDESK_DISCORD_TOKEN", "unused-token")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run starts");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let asked = std::time::Instant::now();
    terminate(daemon.id());
    let stopped = wait_for_exit(&mut daemon, std::time::Duration::from_secs(30));
    assert_eq!(
        stopped.map(|s| s.code()),
        Some(Some(0)),
        "run must stop on SIGTERM"
    );
    assert!(
        asked.elapsed() < std::time::Duration::from_secs(20),
        "stopped only after {:?}",
        asked.elapsed()
    );
    drop(black_hole);
}

/// `newsdesk digest` sends a channel's digest where the daemon would: a webhook channel's to its
/// webhook, never to the terminal; a bot channel without a token waits, nothing recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_shot_digest_goes_to_the_channel_s_own_target() {
    let HookedDemo {
        fake,
        dir,
        config,
        hook,
    } = HookedDemo::start().await;
    let polled = run_binary(&config, &["poll"], &[hook]).await;
    assert!(polled.status.success());
    for channel in ["hooked", "botless"] {
        let out = run_binary(&config, &["digest", "--channel", channel], &[hook]).await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(
            !stdout.contains(&format!("#{channel}")),
            "printed:\n{stdout}"
        );
        if channel == "botless" {
            assert!(stderr.contains("#botless: not sent"), "{stderr}");
        }
    }
    assert!(
        !fake.messages(HOOK_CHANNEL).is_empty(),
        "the webhook got the digest"
    );
    let db = dir.path().join("demo.db");
    assert_eq!(digests_of(&db, "hooked"), [("sent".to_string(), 1)]);
    assert_eq!(digests_of(&db, "botless"), []);
    fake.assert_no_violations();
}
