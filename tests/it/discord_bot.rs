//! The whole bot against the fake Discord: gateway, slash commands and a scheduled digest
//! posted by the daemon loop, through serenity's real client, then a clean shutdown.

use std::sync::Arc;
use std::time::Duration;

use newsdesk::daemon::RunOptions;
use newsdesk::discord::bot;
use newsdesk::discord::route::Routes;
use newsdesk::shutdown::Shutdown;

use crate::support::discord::{CHANNEL_ID, FakeDiscord, InteractionFixture};
use crate::support::fixture::{FixedClock, Fixture, at, rss};
use crate::support::http::Resp;

#[tokio::test]
async fn the_bot_answers_commands_and_posts_its_scheduled_digest() {
    let fx = Fixture::new().await;
    let fake = FakeDiscord::start().await;
    let text =
        "Regulators in Norland published draft rules for general-purpose AI models, requiring \
                safety tests before release. "
            .repeat(5);
    fx.server.route(
        "/f.xml",
        Resp::ok(rss(&[(
            "a",
            "Norland drafts AI rules",
            "2026-11-20T10:00:00Z",
            "https://example.org/a",
            &text,
        )])),
    );
    let channel = format!(
        "[[channel]]\nname = \"discord\"\ndiscord_channel_id = \"{CHANNEL_ID}\"\nschedule = \"every 1h\"\n"
    );
    let mut config = fx.config(&[("F", "/f.xml")], &channel);
    config.polling.announce_first_fetch = true;
    let desk = fx.desk(config, at("2026-11-20T12:00:00Z"));
    // The last digest went out two hours ago: one is due now.
    desk.store()
        .set_last_digest_at("discord", at("2026-11-20T10:00:00Z"))
        .unwrap();
    desk.store()
        .set_last_digest_at("all", at("2026-11-20T11:30:00Z"))
        .unwrap();

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let driver = {
        let fake = fake.clone();
        async move {
            fake.wait_for_ready(Duration::from_secs(10)).await;
            let sent = fake.send_interaction(InteractionFixture::command("topics"));
            let callback = fake.wait_for_callback(&sent, Duration::from_secs(5)).await;
            fake.wait_until("the digest message", Duration::from_secs(10), |f| {
                f.messages(CHANNEL_ID)
                    .iter()
                    .any(|m| {
                        m["content"]
                            .as_str()
                            .is_some_and(|c| c.starts_with("**Newsdesk digest**"))
                    })
                    .then_some(())
            })
            .await;
            let _ = stop.send(());
            callback
        }
    };
    let clock = FixedClock(at("2026-11-20T12:00:00Z"));
    let run = bot::run(
        Arc::clone(&desk),
        || fake.http(),
        Routes::from_config(&desk.config, true, |_| None),
        &clock,
        RunOptions::default(),
        &|_, _| {},
        Shutdown::when(async {
            let _ = stopped.await;
        }),
    );
    let (result, callback) = tokio::join!(run, driver);
    result.unwrap();
    assert_eq!(callback["type"], 4, "{callback}");
    // The channel holds the command's reply and the digest.
    let digests: Vec<_> = fake
        .messages(CHANNEL_ID)
        .into_iter()
        .filter(|m| {
            m["content"]
                .as_str()
                .is_some_and(|c| c.starts_with("**Newsdesk digest**"))
        })
        .collect();
    assert_eq!(digests.len(), 1);
    assert_eq!(digests[0]["embeds"][0]["title"], "Norland drafts AI rules");
    fake.assert_no_violations();
    assert_eq!(desk.store().posted_story_count("discord").unwrap(), 1);
}
