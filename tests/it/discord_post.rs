//! Digests posted through serenity's real client to the fake Discord: limits, no pings,
//! exactly once across a crash, 429 storms, server errors, dead channels, bad tokens.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use newsdesk::daemon;
use newsdesk::discord::sink::{DiscordSink, Target};
use newsdesk::pipeline::{Desk, PipelineError};

use crate::support::discord::{CHANNEL_ID, Failure, FakeDiscord};
use crate::support::fixture::{Fixture, at, rss_owned};
use crate::support::http::Resp;

const MESSAGES: &str = "/channels/{channel_id}/messages";

/// A desk holding `n` announced stories with long hostile titles and distinct texts.
async fn desk_with_stories(fx: &Fixture, n: usize) -> Arc<Desk> {
    desk_with(fx, n, |_| {}).await
}

/// [`desk_with_stories`] with the config changed by `tweak` first.
async fn desk_with(
    fx: &Fixture,
    n: usize,
    tweak: impl FnOnce(&mut newsdesk::config::Config),
) -> Arc<Desk> {
    let items: Vec<(String, String, String, String)> = (0..n)
        .map(|i| {
            let title = format!(
                "@everyone &lt;@&amp;42&gt; **Story {i}** {}",
                "headline words ".repeat(40)
            );
            let text: String =
                (0..120).map(|k| format!("s{i}w{k} ")).collect::<String>() + ". It ended.";
            (
                format!("g{i}"),
                title,
                format!("https://example.org/{i}"),
                text,
            )
        })
        .collect();
    fx.server.route(
        "/f.xml",
        Resp::ok(rss_owned(&items, "2026-11-20T10:00:00Z")),
    );
    let mut config = fx.config(&[("F", "/f.xml")], "");
    config.polling.announce_first_fetch = true;
    config.channels[0].max_stories = 50;
    tweak(&mut config);
    let desk = fx.desk(config, at("2026-11-20T12:00:00Z"));
    daemon::poll_and_process(&desk, at("2026-11-20T12:00:00Z"), &|_, _| {})
        .await
        .unwrap();
    desk
}

fn sink(fake: &FakeDiscord, desk: &Arc<Desk>) -> DiscordSink {
    sink_to(fake, desk, Target::Channel(CHANNEL_ID))
}

/// A sink posting the "all" channel to `target`, with short retry waits.
fn sink_to(fake: &FakeDiscord, desk: &Arc<Desk>, target: Target) -> DiscordSink {
    let targets = HashMap::from([("all".to_string(), target)]);
    DiscordSink::new(
        Some(Arc::new(fake.http())),
        fake.webhooks(),
        Arc::clone(desk),
        targets,
    )
    .with_backoff(Duration::from_millis(20))
}

/// Delivers the "all" channel's digest at 13:00 through `sink`; the number of entries shown.
async fn deliver_at_one(desk: &Arc<Desk>, sink: &DiscordSink) -> usize {
    daemon::deliver(
        desk,
        &desk.config.channels[0],
        sink,
        at("2026-11-20T13:00:00Z"),
        false,
    )
    .await
    .unwrap()
}

/// Embeds across the given message objects.
fn embed_count(messages: &[serde_json::Value]) -> usize {
    messages
        .iter()
        .map(|m| m["embeds"].as_array().map_or(0, Vec::len))
        .sum()
}

#[tokio::test]
async fn fifty_hostile_stories_arrive_within_every_limit_and_ping_nobody() {
    let fx = Fixture::new().await;
    let fake = FakeDiscord::start().await;
    let desk = desk_with_stories(&fx, 50).await;
    let sink = sink(&fake, &desk);
    let sent = deliver_at_one(&desk, &sink).await;
    assert_eq!(sent, 50);
    fake.assert_no_violations();
    let messages = fake.messages(CHANNEL_ID);
    let embeds = embed_count(&messages);
    assert_eq!(embeds, 50, "every story posted once");
    assert!(messages.len() >= 5, "50 embeds need at least 5 messages");
    for m in &messages {
        assert_eq!(m["mention_everyone"], false);
        assert!(m["mention_roles"].as_array().is_some_and(Vec::is_empty));
    }
    for r in fake.requests_to("POST", MESSAGES) {
        let body = r.body.expect("json body");
        assert_eq!(body["allowed_mentions"]["parse"], serde_json::json!([]));
        assert_eq!(body["enforce_nonce"], true);
        let total: usize = body["embeds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let s = |v: &serde_json::Value| v.as_str().map_or(0, |s| s.chars().count());
                s(&e["title"])
                    + s(&e["description"])
                    + s(&e["footer"]["text"])
                    + e["fields"].as_array().map_or(0, |f| {
                        f.iter().map(|x| s(&x["name"]) + s(&x["value"])).sum()
                    })
            })
            .sum();
        assert!(total <= 6000, "{total}");
    }
    assert_eq!(desk.store().posted_story_count("all").unwrap(), 50);
}

#[tokio::test]
async fn failed_posts_keep_their_stories_and_a_crash_never_double_posts() {
    let fx = Fixture::new().await;
    let fake = FakeDiscord::start().await;
    let desk = desk_with_stories(&fx, 25).await;
    let sink = sink(&fake, &desk);
    let channel = &desk.config.channels[0];
    // Discord is down for the first message's try and all its retries.
    fake.fail("POST", MESSAGES, Failure::server_error(502), 4);
    daemon::deliver(&desk, channel, &sink, at("2026-11-20T13:00:00Z"), false)
        .await
        .unwrap();
    assert_eq!(
        fake.requests_to("POST", MESSAGES).len(),
        4,
        "one try and three retries"
    );
    assert!(fake.messages(CHANNEL_ID).is_empty());
    let pending = desk.store().pending_digests().unwrap();
    assert_eq!(pending.len(), 1, "the digest stays queued");
    assert_eq!(pending[0].stories.len(), 25);

    // Back up: the retry delivers everything.
    assert_eq!(
        daemon::retry_pending(&desk, &sink, at("2026-11-20T14:00:00Z"))
            .await
            .unwrap(),
        1
    );
    let delivered = fake.messages(CHANNEL_ID).len();
    assert!(delivered >= 3);

    // A crash between sending and recording: the store forgets that the digest went out.
    // Sending again reuses the same nonces, so Discord returns the existing messages.
    let db = rusqlite::Connection::open(desk.config.storage_path()).unwrap();
    db.execute_batch("DELETE FROM digest_messages; UPDATE digests SET status = 'pending';")
        .unwrap();
    drop(db);
    assert_eq!(
        daemon::retry_pending(&desk, &sink, at("2026-11-20T15:00:00Z"))
            .await
            .unwrap(),
        1
    );
    let messages = fake.messages(CHANNEL_ID);
    assert_eq!(messages.len(), delivered, "no message posted twice");
    let embeds = embed_count(&messages);
    assert_eq!(embeds, 25, "each story exactly once");
    fake.assert_no_violations();
}

#[tokio::test]
async fn a_429_storm_is_ridden_out_by_the_rate_limiter() {
    let fx = Fixture::new().await;
    let fake = FakeDiscord::start().await;
    let desk = desk_with_stories(&fx, 12).await;
    let sink = sink(&fake, &desk);
    fake.fail("POST", MESSAGES, Failure::rate_limited(0.05), 4);
    let sent = deliver_at_one(&desk, &sink).await;
    assert_eq!(sent, 12);
    let statuses: Vec<u16> = fake
        .requests_to("POST", MESSAGES)
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        4,
        "{statuses:?}"
    );
    let embeds = embed_count(&fake.messages(CHANNEL_ID));
    assert_eq!(embeds, 12);
    assert!(desk.store().pending_digests().unwrap().is_empty());
}

#[tokio::test]
async fn a_deleted_channel_is_paused_and_loses_nothing() {
    let fx = Fixture::new().await;
    let fake = FakeDiscord::start().await;
    let desk = desk_with_stories(&fx, 3).await;
    let sink = sink(&fake, &desk);
    fake.delete_channel(CHANNEL_ID);
    let channel = &desk.config.channels[0];
    daemon::deliver(&desk, channel, &sink, at("2026-11-20T13:00:00Z"), false)
        .await
        .unwrap();
    let attempts = fake.requests_to("POST", MESSAGES).len();
    assert_eq!(attempts, 1, "no retry loop on 404");
    let paused = desk.store().paused_channels().unwrap();
    assert_eq!(paused.len(), 1);
    assert!(paused[0].1.contains("10003"), "{paused:?}");
    // While paused nothing is attempted; the stories stay queued in the pending digest.
    daemon::retry_pending(&desk, &sink, at("2026-11-20T14:00:00Z"))
        .await
        .unwrap();
    daemon::deliver(&desk, channel, &sink, at("2026-11-20T14:00:00Z"), false)
        .await
        .unwrap();
    assert_eq!(fake.requests_to("POST", MESSAGES).len(), attempts);
    assert_eq!(desk.store().pending_digests().unwrap()[0].stories.len(), 3);
}

#[tokio::test]
async fn a_refused_token_stops_the_desk() {
    let fx = Fixture::new().await;
    let fake = FakeDiscord::start().await;
    let desk = desk_with_stories(&fx, 1).await;
    let sink = sink(&fake, &desk);
    fake.fail("POST", MESSAGES, Failure::unauthorized(), usize::MAX);
    let result = daemon::deliver(
        &desk,
        &desk.config.channels[0],
        &sink,
        at("2026-11-20T13:00:00Z"),
        false,
    )
    .await;
    assert!(
        matches!(result, Err(PipelineError::Unauthorized(_))),
        "{result:?}"
    );
    assert_eq!(fake.requests_to("POST", MESSAGES).len(), 1);
}

#[tokio::test]
async fn a_webhook_channel_posts_through_its_webhook() {
    let fx = Fixture::new().await;
    let fake = FakeDiscord::start().await;
    let desk = desk_with_stories(&fx, 4).await;
    let (id, token, channel) = webhook_on(&fake);
    let target = Target::Webhook {
        id,
        token: token.to_string(),
    };
    let sink = sink_to(&fake, &desk, target);
    let sent = deliver_at_one(&desk, &sink).await;
    assert_eq!(sent, 4);
    fake.assert_no_violations();
    let posted = fake.requests_to("POST", "/webhooks/{webhook_id}/{webhook_token}");
    assert!(!posted.is_empty());
    assert_eq!(
        posted[0].body.as_ref().unwrap()["allowed_mentions"]["parse"],
        serde_json::json!([])
    );
    let embeds = embed_count(&fake.messages(channel));
    assert_eq!(embeds, 4);
    assert!(
        fake.requests_to("POST", MESSAGES).is_empty(),
        "the bot itself posts nothing"
    );
}

#[tokio::test]
async fn a_forum_channel_gets_one_post_per_digest_with_every_part_inside() {
    const FORUM_ID: u64 = 1_300_000_000_000_000_077;
    let fx = Fixture::new().await;
    let fake = FakeDiscord::start().await;
    fake.add_forum(FORUM_ID);
    let desk = desk_with_stories(&fx, 25).await;
    let sink = sink_to(&fake, &desk, Target::Forum(FORUM_ID));
    let channel = &desk.config.channels[0];
    // The post opens, then Discord fails the second part and all its retries.
    fake.fail("POST", MESSAGES, Failure::server_error(502), 4);
    daemon::deliver(&desk, channel, &sink, at("2026-11-20T13:00:00Z"), false)
        .await
        .unwrap();
    assert_eq!(desk.store().pending_digests().unwrap().len(), 1);
    // The retry continues inside the same post.
    assert_eq!(
        daemon::retry_pending(&desk, &sink, at("2026-11-20T14:00:00Z"))
            .await
            .unwrap(),
        1
    );
    let posts = fake.forum_posts(FORUM_ID);
    assert_eq!(posts.len(), 1, "one post per digest: {posts:#?}");
    assert_eq!(posts[0]["name"], "all · 2026-11-20 · 25 stories");
    let thread: u64 = posts[0]["id"].as_str().unwrap().parse().unwrap();
    let messages = fake.messages(thread);
    assert!(messages.len() >= 3, "every part in the thread");
    let embeds = embed_count(&messages);
    assert_eq!(embeds, 25, "each story exactly once");
    assert!(messages.iter().all(|m| m["mention_everyone"] == false));
    assert!(
        fake.messages(FORUM_ID).is_empty(),
        "nothing posted to the forum itself"
    );
    fake.assert_no_violations();
}

#[tokio::test]
async fn posting_plain_messages_to_a_forum_pauses_the_channel_with_the_fix() {
    let fx = Fixture::new().await;
    let fake = FakeDiscord::start().await;
    fake.add_forum(CHANNEL_ID);
    let desk = desk_with_stories(&fx, 3).await;
    deliver_at_one(&desk, &sink(&fake, &desk)).await;
    assert_eq!(fake.requests_to("POST", MESSAGES).len(), 1, "no retry loop");
    let paused = desk.store().paused_channels().unwrap();
    assert_eq!(paused.len(), 1);
    assert!(paused[0].1.contains("forum = true"), "{paused:?}");
    assert_eq!(
        desk.store().pending_digests().unwrap()[0].stories.len(),
        3,
        "nothing lost"
    );
    fake.assert_no_violations();
}

#[tokio::test]
async fn a_forum_webhook_opens_one_post_and_sends_the_rest_into_it() {
    let fx = Fixture::new().await;
    let fake = FakeDiscord::start().await;
    let (id, token, forum) = (
        1_600_000_000_000_000_011u64,
        "hook-secret",
        1_300_000_000_000_000_079u64,
    );
    fake.add_forum(forum);
    fake.add_webhook(id, token, forum);
    let desk = desk_with_stories(&fx, 25).await;
    let target = Target::ForumWebhook {
        id,
        token: token.to_string(),
    };
    let sink = sink_to(&fake, &desk, target);
    let sent = deliver_at_one(&desk, &sink).await;
    assert_eq!(sent, 25);
    fake.assert_no_violations();
    let posts = fake.forum_posts(forum);
    assert_eq!(posts.len(), 1, "{posts:#?}");
    assert_eq!(posts[0]["name"], "all · 2026-11-20 · 25 stories");
    let thread: u64 = posts[0]["id"].as_str().unwrap().parse().unwrap();
    let requests = fake.requests_to("POST", "/webhooks/{webhook_id}/{webhook_token}");
    assert!(requests.len() >= 3);
    assert!(requests[1..].iter().all(|r| {
        r.query
            .iter()
            .any(|(k, v)| k == "thread_id" && *v == thread.to_string())
    }));
    let embeds = embed_count(&fake.messages(thread));
    assert_eq!(embeds, 25, "each story once, all inside the post");
    assert!(desk.store().pending_digests().unwrap().is_empty());
}

/// A webhook message Discord accepted but that could not be recorded (a full disk, any write
/// error) is recorded once the store takes it again, never posted a second time: a webhook
/// takes no nonce that would let Discord drop the copy.
#[tokio::test]
async fn a_webhook_message_whose_record_failed_is_not_posted_again() {
    let fx = Fixture::new().await;
    let fake = FakeDiscord::start().await;
    let desk = desk_with_stories(&fx, 4).await;
    let (id, token, channel) = webhook_on(&fake);
    let sink = sink_to(
        &fake,
        &desk,
        Target::Webhook {
            id,
            token: token.into(),
        },
    );
    let conn = rusqlite::Connection::open(desk.config.storage_path()).unwrap();
    conn.execute_batch(
        "CREATE TRIGGER no_room BEFORE INSERT ON digest_messages
         BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
    )
    .unwrap();
    let delivery = deliver_at_one(&desk, &sink);
    let fault_passes = async {
        fake.wait_until("the post", Duration::from_secs(5), |f| {
            (!f.messages(channel).is_empty()).then_some(())
        })
        .await;
        // The record keeps failing for a while.
        tokio::time::sleep(Duration::from_millis(100)).await;
        conn.execute_batch("DROP TRIGGER no_room").unwrap();
    };
    let (sent, ()) = tokio::join!(delivery, fault_passes);
    assert_eq!(sent, 4);
    for _ in 0..3 {
        daemon::retry_pending(&desk, &sink, at("2026-11-20T13:05:00Z"))
            .await
            .unwrap();
    }
    assert_eq!(
        embed_count(&fake.messages(channel)),
        4,
        "each story posted once"
    );
    assert!(desk.store().pending_digests().unwrap().is_empty());
}

/// Discord answers a webhook whose token was revoked or rotated with 401 / 50027: that pauses
/// the channel (with the fix in the reason); it is not a refused bot token that stops the desk.
#[tokio::test]
async fn a_revoked_webhook_pauses_its_channel_and_stops_nothing() {
    let fx = Fixture::new().await;
    let fake = FakeDiscord::start().await;
    let desk = desk_with_stories(&fx, 4).await;
    let (id, token, _) = webhook_on(&fake);
    fake.fail(
        "POST",
        "/webhooks/{webhook_id}/{webhook_token}",
        Failure::json(401, 50027, "Invalid Webhook Token"),
        1,
    );
    let sink = sink_to(
        &fake,
        &desk,
        Target::Webhook {
            id,
            token: token.into(),
        },
    );
    let result = daemon::deliver(
        &desk,
        &desk.config.channels[0],
        &sink,
        at("2026-11-20T13:00:00Z"),
        false,
    )
    .await;
    assert!(result.is_ok(), "the desk goes on: {result:?}");
    let paused = desk.store().paused_channels().unwrap();
    assert_eq!(paused.len(), 1);
    assert!(
        paused[0].1.contains("webhook's token was refused"),
        "{paused:?}"
    );
}

/// A message Discord will never take (400, 50035 Invalid Form Body) is not retried for ever: the
/// rest of the digest goes out, the refused part's stories get one more digest, and refused
/// again they are dropped for the channel, logged and shown by /feeds health.
#[tokio::test]
async fn a_refused_message_gives_its_stories_one_more_try_then_drops_them() {
    let fx = Fixture::new().await;
    let fake = FakeDiscord::start().await;
    // 12 stories: two messages (10 embeds, then 2).
    let desk = desk_with_stories(&fx, 12).await;
    let sink = sink(&fake, &desk);
    fake.fail(
        "POST",
        MESSAGES,
        Failure::json(400, 50035, "Invalid Form Body"),
        1,
    );
    let channel = &desk.config.channels[0];
    daemon::deliver(&desk, channel, &sink, at("2026-11-20T13:00:00Z"), false)
        .await
        .unwrap();
    assert_eq!(
        embed_count(&fake.messages(CHANNEL_ID)),
        2,
        "the rest went out"
    );
    assert!(
        desk.store().pending_digests().unwrap().is_empty(),
        "nothing retried for ever"
    );
    assert!(desk.store().paused_channels().unwrap().is_empty());

    // One more try: the next digest carries the ten refused stories.
    fake.fail(
        "POST",
        MESSAGES,
        Failure::json(400, 50035, "Invalid Form Body"),
        1,
    );
    daemon::deliver(&desk, channel, &sink, at("2026-11-20T14:00:00Z"), false)
        .await
        .unwrap();
    assert_eq!(embed_count(&fake.messages(CHANNEL_ID)), 2, "refused again");
    // Dropped: never offered again, and /feeds health says so.
    let third = daemon::deliver(&desk, channel, &sink, at("2026-11-20T15:00:00Z"), false)
        .await
        .unwrap();
    assert_eq!(third, 0);
    let dropped = desk
        .store()
        .dropped_stories(at("2026-11-20T00:00:00Z"))
        .unwrap();
    assert_eq!(dropped.len(), 10);
    assert!(dropped[0].2.contains("Discord refused"), "{dropped:?}");
}

/// A 25-story digest to forum `forum` whose post opened with the first part while the second
/// failed with all its retries: the digest is pending. Returns the desk, the sink and the post.
async fn half_posted_forum_digest(
    fx: &Fixture,
    fake: &FakeDiscord,
    forum: u64,
) -> (Arc<Desk>, DiscordSink, u64) {
    fake.add_forum(forum);
    let desk = desk_with_stories(fx, 25).await;
    let sink = sink_to(fake, &desk, Target::Forum(forum));
    fake.fail("POST", MESSAGES, Failure::server_error(502), 4);
    daemon::deliver(
        &desk,
        &desk.config.channels[0],
        &sink,
        at("2026-11-20T13:00:00Z"),
        false,
    )
    .await
    .unwrap();
    assert_eq!(desk.store().pending_digests().unwrap().len(), 1);
    let post: u64 = fake.forum_posts(forum)[0]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    (desk, sink, post)
}

/// A forum post deleted while a digest is being posted (a moderator, mid-outage) does not pause
/// the channel: the rest of the digest opens a new post, every story still posted once.
#[tokio::test]
async fn a_forum_post_deleted_between_parts_is_replaced_by_a_new_post() {
    const FORUM_ID: u64 = 1_300_000_000_000_000_077;
    let fx = Fixture::new().await;
    let fake = FakeDiscord::start().await;
    let (desk, sink, first) = half_posted_forum_digest(&fx, &fake, FORUM_ID).await;
    let opened = embed_count(&fake.messages(first));
    fake.delete_thread(first);
    assert_eq!(
        daemon::retry_pending(&desk, &sink, at("2026-11-20T13:01:00Z"))
            .await
            .unwrap(),
        1
    );
    assert!(desk.store().paused_channels().unwrap().is_empty());
    // The deleted post is gone from the forum; a new one holds the rest.
    let posts = fake.forum_posts(FORUM_ID);
    assert_eq!(posts.len(), 1, "{posts:#?}");
    let second: u64 = posts[0]["id"].as_str().unwrap().parse().unwrap();
    assert_ne!(second, first, "a new post for the rest");
    assert_eq!(
        opened + embed_count(&fake.messages(second)),
        25,
        "each story exactly once"
    );
    assert!(desk.store().pending_digests().unwrap().is_empty());
    fake.assert_no_violations();
}

/// A forum that requires a tag refuses untagged posts (40067): without `forum_tags` the channel
/// is paused with the fix in words; with them (by name) every post carries the tag's id.
#[tokio::test]
async fn a_forum_that_requires_tags_gets_the_configured_ones_or_pauses_with_the_fix() {
    const FORUM_ID: u64 = 1_300_000_000_000_000_078;
    const TAG: u64 = 1_700_000_000_000_000_001;
    for tagged in [false, true] {
        let fx = Fixture::new().await;
        let fake = FakeDiscord::start().await;
        fake.add_forum_with_tags(FORUM_ID, &[(TAG, "Digest"), (TAG + 1, "Other")], true);
        let desk = desk_with(&fx, 3, |config| {
            config.channels[0].forum = true;
            if tagged {
                config.channels[0].forum_tags = vec!["digest".to_string()];
            }
        })
        .await;
        let sink = sink_to(&fake, &desk, Target::Forum(FORUM_ID));
        deliver_at_one(&desk, &sink).await;
        let paused = desk.store().paused_channels().unwrap();
        if tagged {
            assert!(paused.is_empty(), "{paused:?}");
            let posts = fake.forum_posts(FORUM_ID);
            assert_eq!(posts.len(), 1);
            assert_eq!(
                posts[0]["applied_tags"],
                serde_json::json!([TAG.to_string()])
            );
        } else {
            assert_eq!(paused.len(), 1);
            assert!(paused[0].1.contains("forum_tags"), "{paused:?}");
            assert!(fake.forum_posts(FORUM_ID).is_empty());
        }
    }
}

/// Discord honours a nonce for a few minutes only. A part sent before a crash but not recorded,
/// retried after a longer outage, would appear twice: it is looked for among the channel's
/// recent messages first, found, and recorded instead of sent again.
#[tokio::test]
async fn a_part_sent_before_a_long_outage_is_found_not_posted_again() {
    let fx = Fixture::new().await;
    let fake = FakeDiscord::start().await;
    let desk = desk_with_stories(&fx, 12).await;
    let sink = sink(&fake, &desk);
    deliver_at_one(&desk, &sink).await;
    assert_eq!(fake.messages(CHANNEL_ID).len(), 2);
    // As if the process had died after Discord took the second part, before it was recorded.
    let db = desk.config.storage_path();
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(
            "DELETE FROM digest_messages WHERE part = 1;
             UPDATE digests SET status = 'pending', sent_at = NULL;",
        )
        .unwrap();
    // A long outage: Discord has forgotten the nonce.
    fake.advance(Duration::from_secs(3600));
    assert_eq!(
        daemon::retry_pending(&desk, &sink, at("2026-11-20T14:00:00Z"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        embed_count(&fake.messages(CHANNEL_ID)),
        12,
        "each story exactly once"
    );
    fake.assert_no_violations();
}

/// A forum post locked by a moderator while a digest is being posted (160005) is a channel
/// problem for a human: the channel is paused with the fix, its stories stay queued.
#[tokio::test]
async fn a_locked_forum_post_pauses_the_channel_with_the_fix() {
    const FORUM_ID: u64 = 1_300_000_000_000_000_079;
    let fx = Fixture::new().await;
    let fake = FakeDiscord::start().await;
    let (desk, sink, thread) = half_posted_forum_digest(&fx, &fake, FORUM_ID).await;
    fake.lock_thread(thread);
    daemon::retry_pending(&desk, &sink, at("2026-11-20T13:01:00Z"))
        .await
        .unwrap();
    let paused = desk.store().paused_channels().unwrap();
    assert_eq!(paused.len(), 1);
    assert!(paused[0].1.contains("locked"), "{paused:?}");
    assert_eq!(desk.store().pending_digests().unwrap().len(), 1, "kept");
    fake.assert_no_violations();
}

/// A webhook the fake Discord knows: (webhook id, token, the channel it posts to).
fn webhook_on(fake: &FakeDiscord) -> (u64, &'static str, u64) {
    let (id, token, channel) = (
        1_600_000_000_000_000_009u64,
        "hook-secret",
        1_300_000_000_000_000_077u64,
    );
    fake.add_webhook(id, token, channel);
    (id, token, channel)
}

/// The stories of a bot channel's digest link to their message on their pages ("Discuss on
/// Discord": server, channel, message); a story that was not posted links to nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_posted_story_links_to_its_discord_message_on_its_page() {
    use crate::support::discord::GUILD_ID;
    let fx = Fixture::new().await;
    let fake = FakeDiscord::start().await;
    let desk = desk_with(&fx, 3, |config| config.channels[0].max_stories = 2).await;
    assert_eq!(deliver_at_one(&desk, &sink(&fake, &desk)).await, 2);
    let message_ids: Vec<String> = fake
        .messages(CHANNEL_ID)
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(newsdesk::web::serve(
        listener,
        Arc::clone(&desk),
        newsdesk::web::Activity::InProcess,
        std::future::pending(),
    ));
    let stories = desk.store().story_page(10, 0).unwrap();
    assert_eq!(stories.len(), 3);
    let (mut linked, mut unlinked) = (0, 0);
    for story in stories {
        let page = reqwest::get(format!("{base}/story/{}", story.id.0))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let prefix = format!("https://discord.com/channels/{GUILD_ID}/{CHANNEL_ID}/");
        match page.split_once(&format!("<a href=\"{prefix}")) {
            Some((_, rest)) => {
                let message = rest.split('"').next().unwrap();
                assert!(message_ids.iter().any(|m| m == message), "{message}");
                assert!(rest.contains(">Discuss on Discord</a>"), "{page}");
                linked += 1;
            }
            None => {
                assert!(!page.contains("Discuss on Discord"), "{page}");
                unlinked += 1;
            }
        }
    }
    assert_eq!((linked, unlinked), (2, 1));
    fake.assert_no_violations();
}

/// Forum posts link to the post (its thread), webhooks to the channel the webhook posts to,
/// the server learned from the webhook itself (no bot needed).
#[tokio::test]
async fn forum_and_webhook_posts_record_the_thread_or_channel_to_link() {
    use crate::support::discord::GUILD_ID;
    const FORUM_ID: u64 = 1_300_000_000_000_000_078;
    let fake = FakeDiscord::start().await;
    fake.add_forum(FORUM_ID);
    let (hook, token, hook_channel) = webhook_on(&fake);
    let targets = [
        Target::Forum(FORUM_ID),
        Target::Webhook {
            id: hook,
            token: token.to_string(),
        },
    ];
    for target in targets {
        let fx = Fixture::new().await;
        let desk = desk_with_stories(&fx, 2).await;
        let forum = matches!(target, Target::Forum(_));
        let sink = DiscordSink::new(
            forum.then(|| Arc::new(fake.http())),
            fake.webhooks(),
            Arc::clone(&desk),
            HashMap::from([("all".to_string(), target)]),
        );
        assert_eq!(deliver_at_one(&desk, &sink).await, 2);
        let channel = if forum {
            let posts = fake.forum_posts(FORUM_ID);
            posts.last().unwrap()["id"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        } else {
            hook_channel
        };
        let message: u64 = fake.messages(channel)[0]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let stories = desk.store().story_page(10, 0).unwrap();
        for story in stories {
            let post = desk.store().first_discord_post(story.id).unwrap();
            let post = post.expect("recorded");
            assert_eq!(
                (post.guild_id, post.channel_id, post.message_id),
                (GUILD_ID, channel, message),
                "forum: {forum}"
            );
        }
    }
    fake.assert_no_violations();
}
