//! Issue 10's fault classes, each reproduced against the library: a crash between the steps of
//! one item, a second writer on the same database, a full disk.

use jiff::Timestamp;
use newsdesk::daemon;

use crate::pipeline::{Fixture, at, rss_owned};
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

/// An item that fails every time is tried three times, spaced out, then set aside; the items
/// behind it are processed meanwhile.
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
                o.status.success() && String::from_utf8_lossy(&o.stdout).contains("### ")
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

/// A webhook needs no bot token: a webhook channel posts through it (and only there), a bot
/// channel without a token waits with its stories queued, and both say so at start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_channels_post_without_a_bot_token_and_bot_channels_wait_for_one() {
    use crate::support::discord::FakeDiscord;
    const HOOK_CHANNEL: u64 = 1_500_000_000_000_000_005;
    let fake = FakeDiscord::start().await;
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
