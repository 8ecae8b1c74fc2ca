//! The daemon loop: digests on schedule with an injected clock, one catch-up after downtime,
//! failed deliveries retried, clean shutdown.

use std::sync::Arc;
use std::sync::Mutex;

use newsdesk::daemon::{self, RunOptions};
use newsdesk::digest::{Digest, Sink, SinkError};

use crate::support::fixture::{FixedClock, Fixture, at, rss, rss_owned};
use crate::support::http::Resp;

/// A sink that records digests and can be told to fail.
#[derive(Default)]
struct Recorder {
    digests: Mutex<Vec<Digest>>,
    fail: Mutex<bool>,
}

impl Sink for Recorder {
    async fn post(&self, digest: &Digest) -> Result<(), SinkError> {
        if *self.fail.lock().unwrap() {
            return Err(SinkError::Delivery("channel unavailable".into()));
        }
        self.digests.lock().unwrap().push(digest.clone());
        Ok(())
    }
}

const TEXT: &str = "Regulators in the fictional republic of Norland published draft rules for general-purpose \
AI models on Monday, requiring safety tests before release and incident reports within 72 hours.";

#[tokio::test]
async fn a_failed_post_keeps_its_stories_and_is_retried_once_delivered() {
    let fx = Fixture::new().await;
    fx.server.route(
        "/f.xml",
        Resp::ok(rss(&[(
            "x",
            "Norland drafts AI rules",
            "2026-11-20T10:00:00Z",
            "https://example.org/x",
            TEXT,
        )])),
    );
    let mut config = fx.config(&[("F", "/f.xml")], "");
    config.polling.announce_first_fetch = true;
    let desk = fx.desk(config, at("2026-11-20T12:00:00Z"));
    daemon::poll_and_process(&desk, at("2026-11-20T12:00:00Z"), &|_, _| {})
        .await
        .unwrap();
    let sink = Recorder::default();
    *sink.fail.lock().unwrap() = true;
    let channel = &desk.config.channels[0];
    daemon::deliver(&desk, channel, &sink, at("2026-11-20T13:00:00Z"), false)
        .await
        .unwrap();
    assert!(sink.digests.lock().unwrap().is_empty());
    assert_eq!(
        desk.store().pending_digests().unwrap().len(),
        1,
        "the failed digest stays pending"
    );

    // A new digest does not take the reserved stories; the retry delivers them once.
    *sink.fail.lock().unwrap() = false;
    let n = daemon::deliver(&desk, channel, &sink, at("2026-11-20T14:00:00Z"), false)
        .await
        .unwrap();
    assert_eq!(n, 0);
    assert_eq!(
        daemon::retry_pending(&desk, &sink, at("2026-11-20T14:00:00Z"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        daemon::retry_pending(&desk, &sink, at("2026-11-20T15:00:00Z"))
            .await
            .unwrap(),
        0
    );
    let got = sink.digests.lock().unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].stories[0].title, "Norland drafts AI rules");
    assert_eq!(desk.store().posted_story_count("all").unwrap(), 1);
}

#[tokio::test]
async fn live_channels_get_new_stories_after_each_poll_batched() {
    let fx = Fixture::new().await;
    let item = |g: &str, title: &str, words: &str| {
        (
            g.to_string(),
            title.to_string(),
            format!("https://example.org/{g}"),
            words.repeat(30),
        )
    };
    let first = [
        item("a", "Norland drafts AI rules", "norland ai rules "),
        item("b", "Telescope sees first light", "telescope mirror light "),
    ];
    let doc = |items: &[(String, String, String, String)]| rss_owned(items, "2026-11-20T10:00:00Z");
    fx.server.route("/f.xml", Resp::ok(doc(&first)));
    let mut config = fx.config(
        &[("F", "/f.xml")],
        "[[channel]]\nname = \"live\"\nmode = \"live\"\n",
    );
    config.polling.announce_first_fetch = true;
    let desk = fx.desk(config, at("2026-11-20T12:00:00Z"));
    let sink = Recorder::default();
    let live = &desk.config.channels[1];
    assert!(newsdesk::digest::is_due(
        live,
        None,
        at("2026-11-20T12:00:00Z"),
        at("2026-11-20T12:00:00Z")
    ));
    daemon::poll_and_process(&desk, at("2026-11-20T12:00:00Z"), &|_, _| {})
        .await
        .unwrap();
    assert_eq!(
        daemon::deliver(&desk, live, &sink, at("2026-11-20T12:00:00Z"), false)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        sink.digests.lock().unwrap().len(),
        1,
        "two new stories, one message"
    );
    // Nothing new: nothing posted.
    assert_eq!(
        daemon::deliver(&desk, live, &sink, at("2026-11-20T12:01:00Z"), false)
            .await
            .unwrap(),
        0
    );
    assert_eq!(sink.digests.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn the_loop_sends_a_due_digest_once_and_stops_on_shutdown() {
    let fx = Fixture::new().await;
    fx.server.route(
        "/f.xml",
        Resp::ok(rss(&[(
            "x",
            "Norland drafts AI rules",
            "2026-11-20T10:00:00Z",
            "https://example.org/x",
            TEXT,
        )])),
    );
    let mut config = fx.config(&[("F", "/f.xml")], "");
    config.polling.announce_first_fetch = true;
    let desk = fx.desk(config, at("2026-11-20T12:00:00Z"));
    // The last digest went out long ago (several "every 1h" slots were missed while down).
    desk.store()
        .set_last_digest_at("all", at("2026-11-20T07:30:00Z"))
        .unwrap();
    let sink = Arc::new(Recorder::default());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let watcher = {
        let sink = Arc::clone(&sink);
        async move {
            // Shut down as soon as the first digest has been delivered.
            loop {
                if !sink.digests.lock().unwrap().is_empty() {
                    let _ = stop.send(());
                    return;
                }
                tokio::task::yield_now().await;
            }
        }
    };
    let clock = FixedClock(at("2026-11-20T12:00:00Z"));
    let run = daemon::run(
        Arc::clone(&desk),
        sink.as_ref(),
        &clock,
        RunOptions::default(),
        &|_, _| {},
        newsdesk::shutdown::Shutdown::when(async {
            let _ = stopped.await;
        }),
    );
    let (result, ()) = tokio::join!(run, watcher);
    result.unwrap();
    assert_eq!(
        sink.digests.lock().unwrap().len(),
        1,
        "one catch-up digest, not one per missed slot"
    );
    let state = desk.store().channel_state("all").unwrap();
    assert_eq!(state.last_digest_at, Some(at("2026-11-20T12:00:00Z")));
}

/// A channel whose target keeps failing is not hammered: a failed digest waits (30 s, then
/// longer) before it is tried again, and no new digest piles up behind it meanwhile.
#[tokio::test]
async fn a_failing_channel_is_retried_with_backoff_and_gets_no_new_digests_meanwhile() {
    let fx = Fixture::new().await;
    fx.server.route(
        "/f.xml",
        Resp::ok(rss(&[(
            "x",
            "Norland drafts AI rules",
            "2026-11-20T10:00:00Z",
            "https://example.org/x",
            TEXT,
        )])),
    );
    let mut config = fx.config(&[("F", "/f.xml")], "");
    config.polling.announce_first_fetch = true;
    let desk = fx.desk(config, at("2026-11-20T12:00:00Z"));
    daemon::poll_and_process(&desk, at("2026-11-20T12:00:00Z"), &|_, _| {})
        .await
        .unwrap();
    let sink = Recorder::default();
    *sink.fail.lock().unwrap() = true;
    let channel = &desk.config.channels[0];
    let pending_count = |desk: &newsdesk::pipeline::Desk| -> usize {
        desk.store().pending_digests().unwrap().len()
    };
    let sent = daemon::deliver(&desk, channel, &sink, at("2026-11-20T13:00:00Z"), false)
        .await
        .unwrap();
    assert_eq!(sent, 0, "nothing was delivered");
    // Too soon: not tried again, and no second digest is made.
    for now in ["2026-11-20T13:00:10Z", "2026-11-20T13:00:20Z"] {
        assert_eq!(
            daemon::retry_pending(&desk, &sink, at(now)).await.unwrap(),
            0
        );
        daemon::deliver(&desk, channel, &sink, at(now), false)
            .await
            .unwrap();
    }
    assert_eq!(pending_count(&desk), 1, "one pending digest");
    let record = &desk.store().pending_digests().unwrap()[0];
    assert_eq!(record.retry_at, Some(at("2026-11-20T13:00:30Z")));
    // Due: tried (and fails again), then it waits twice as long.
    daemon::retry_pending(&desk, &sink, at("2026-11-20T13:00:30Z"))
        .await
        .unwrap();
    let record = &desk.store().pending_digests().unwrap()[0];
    assert_eq!(record.retry_at, Some(at("2026-11-20T13:01:30Z")));
    *sink.fail.lock().unwrap() = false;
    assert_eq!(
        daemon::retry_pending(&desk, &sink, at("2026-11-20T13:01:30Z"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(sink.digests.lock().unwrap().len(), 1);
}
