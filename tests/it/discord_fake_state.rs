//! The fake Discord's time- and state-driven rules, driven by serenity's real client: interaction
//! deadlines and the nonce window on the fake clock, forums that require tags, threads deleted,
//! archived or locked mid-digest, the global rate limit, and the message listing.

use std::time::Duration;

use serde_json::{Value, json};
use serenity::all::{
    Builder as _, ChannelFlags, ChannelId, ChannelType, CreateForumPost, CreateInteractionResponse,
    CreateInteractionResponseFollowup, CreateMessage, EditInteractionResponse, EditMessage,
    ExecuteWebhook, ForumTagId, GetMessages, HttpError, InteractionId, MessageId, Nonce, WebhookId,
};

use crate::support::discord::{
    DEFAULT_NONCE_WINDOW, FakeDiscord, GLOBAL_RATE_LIMIT, InteractionFixture, TOKEN, openapi,
};

const CHANNEL: u64 = 1_500_000_000_000_000_005;
const FORUM: u64 = 1_500_000_000_000_000_015;
const NEWS_TAG: u64 = 1_510_000_000_000_000_001;
const TECH_TAG: u64 = 1_510_000_000_000_000_002;
const WEBHOOK: u64 = 1_600_000_000_000_000_006;
const WEBHOOK_TOKEN: &str = "wh-secret";

/// Discord's HTTP status and JSON error code from a serenity error.
fn discord_error(err: &serenity::Error) -> Option<(u16, isize)> {
    match err {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => {
            Some((r.status_code.as_u16(), r.error.code))
        }
        _ => None,
    }
}

fn violations_containing(fake: &FakeDiscord, needle: &str) -> usize {
    fake.violations()
        .iter()
        .filter(|v| v.contains(needle))
        .count()
}

#[tokio::test]
async fn an_interaction_answered_after_three_seconds_is_unknown() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    let reply = || {
        CreateInteractionResponse::Message(
            serenity::all::CreateInteractionResponseMessage::new().content("digest"),
        )
    };

    let on_time = fake.send_interaction(InteractionFixture::command("digest"));
    fake.advance(Duration::from_millis(2900));
    http.create_interaction_response(
        InteractionId::new(on_time.id),
        &on_time.token,
        &reply(),
        vec![],
    )
    .await
    .expect("answered within 3 s");

    let late = fake.send_interaction(InteractionFixture::command("digest"));
    fake.advance(Duration::from_millis(3100));
    let err = http
        .create_interaction_response(InteractionId::new(late.id), &late.token, &reply(), vec![])
        .await
        .expect_err("3.1 s is too late");
    assert_eq!(discord_error(&err), Some((404, 10062)));
    assert_eq!(
        violations_containing(&fake, "10062"),
        1,
        "{:?}",
        fake.violations()
    );
    assert!(fake.interaction_responses(&late).is_empty());
}

#[tokio::test]
async fn followups_and_edits_stop_fifteen_minutes_after_the_interaction() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    let sent = fake.send_interaction(InteractionFixture::command("digest"));
    http.create_interaction_response(
        InteractionId::new(sent.id),
        &sent.token,
        &CreateInteractionResponse::Defer(Default::default()),
        vec![],
    )
    .await
    .expect("deferred");

    fake.advance(Duration::from_secs(14 * 60 + 50));
    http.edit_original_interaction_response(
        &sent.token,
        &EditInteractionResponse::new().content("done"),
        vec![],
    )
    .await
    .expect("edit within 15 min");
    http.create_followup_message(
        &sent.token,
        &CreateInteractionResponseFollowup::new().content("and more"),
        vec![],
    )
    .await
    .expect("followup within 15 min");
    fake.assert_no_violations();

    fake.advance(Duration::from_secs(11));
    let edit = http
        .edit_original_interaction_response(
            &sent.token,
            &EditInteractionResponse::new().content("too late"),
            vec![],
        )
        .await
        .expect_err("edit after 15 min");
    assert_eq!(discord_error(&edit), Some((404, 10015)));
    let followup = http
        .create_followup_message(
            &sent.token,
            &CreateInteractionResponseFollowup::new().content("too late"),
            vec![],
        )
        .await
        .expect_err("followup after 15 min");
    assert_eq!(discord_error(&followup), Some((404, 10015)));
    assert_eq!(
        violations_containing(&fake, "10015"),
        2,
        "{:?}",
        fake.violations()
    );
    assert_eq!(
        fake.interaction_responses(&sent).len(),
        3,
        "defer, edit and followup in time; nothing after"
    );
}

#[tokio::test]
async fn enforce_nonce_deduplicates_only_within_its_window() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    let ch = ChannelId::new(CHANNEL);
    let with_nonce = |nonce: &str| {
        CreateMessage::new()
            .content("digest part 1")
            .nonce(Nonce::String(nonce.to_string()))
            .enforce_nonce(true)
    };

    let first = ch.send_message(&http, with_nonce("d1p1")).await.unwrap();
    assert!(
        matches!(&first.nonce, Some(Nonce::String(n)) if n == "d1p1"),
        "echoed on create: {:?}",
        first.nonce
    );
    fake.advance(DEFAULT_NONCE_WINDOW - Duration::from_secs(1));
    let retry = ch.send_message(&http, with_nonce("d1p1")).await.unwrap();
    assert_eq!(
        retry.id, first.id,
        "a retry inside the window returns the message"
    );
    fake.advance(Duration::from_secs(2));
    let later = ch.send_message(&http, with_nonce("d1p1")).await.unwrap();
    assert_ne!(
        later.id, first.id,
        "after the window the same nonce posts again"
    );
    assert_eq!(fake.messages(CHANNEL).len(), 2);

    // A longer window, and a message deleted inside it is not recreated.
    fake.set_nonce_window(Duration::from_secs(600));
    let kept = ch.send_message(&http, with_nonce("d2p1")).await.unwrap();
    fake.advance(Duration::from_secs(300));
    assert_eq!(
        ch.send_message(&http, with_nonce("d2p1")).await.unwrap().id,
        kept.id
    );
    ch.delete_message(&http, kept.id).await.unwrap();
    let gone = ch
        .send_message(&http, with_nonce("d2p1"))
        .await
        .expect_err("deleted within the window");
    assert_eq!(discord_error(&gone), Some((404, 10008)));

    // Fetched messages carry no nonce: Discord returns it only on create.
    let fetched = ch.message(&http, first.id).await.unwrap();
    assert!(fetched.nonce.is_none(), "{:?}", fetched.nonce);
    for m in fake.messages(CHANNEL) {
        assert!(m.get("nonce").is_none(), "{m}");
    }
    fake.assert_no_violations();
}

#[tokio::test]
async fn a_forum_that_requires_tags_refuses_untagged_posts() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    fake.add_forum_with_tags(FORUM, &[(NEWS_TAG, "news"), (TECH_TAG, "tech")], true);
    fake.add_webhook(WEBHOOK, WEBHOOK_TOKEN, FORUM);
    let forum = ChannelId::new(FORUM);

    let channel = forum
        .to_channel(&http)
        .await
        .expect("GET /channels/{forum}")
        .guild()
        .expect("a guild channel");
    assert_eq!(channel.kind, ChannelType::Forum);
    assert!(channel.flags.contains(ChannelFlags::REQUIRE_TAG));
    let tags: Vec<(u64, String)> = channel
        .available_tags
        .iter()
        .map(|t| (t.id.get(), t.name.clone()))
        .collect();
    assert_eq!(
        tags,
        vec![
            (NEWS_TAG, "news".to_string()),
            (TECH_TAG, "tech".to_string())
        ]
    );
    let raw = get_json(&fake, &format!("/channels/{FORUM}")).await;
    assert_eq!(raw["type"], 15);
    assert_eq!(raw["flags"], 1 << 4);
    assert_eq!(
        raw["available_tags"][0],
        json!({"id": NEWS_TAG.to_string(), "name": "news", "moderated": false, "emoji_id": null, "emoji_name": null})
    );
    let errors = openapi::spec().check_value("/components/schemas/GuildChannelResponse", &raw);
    assert!(errors.is_empty(), "{errors:#?}");

    let post = |tags: Vec<u64>| {
        CreateForumPost::new("Daily digest", CreateMessage::new().content("part 1"))
            .set_applied_tags(tags.into_iter().map(ForumTagId::new))
    };
    let untagged = forum
        .create_forum_post(&http, post(vec![]))
        .await
        .expect_err("a tag is required");
    assert_eq!(discord_error(&untagged), Some((400, 40067)));
    let unknown = forum
        .create_forum_post(&http, post(vec![42]))
        .await
        .expect_err("no such tag");
    assert_eq!(discord_error(&unknown), Some((400, 50035)));
    let webhook_untagged = ExecuteWebhook::new()
        .content("part 1")
        .thread_name("Daily digest".to_string())
        .execute(&http, (WebhookId::new(WEBHOOK), WEBHOOK_TOKEN, true))
        .await
        .expect_err("webhook posts need a tag too");
    assert_eq!(discord_error(&webhook_untagged), Some((400, 40067)));
    assert!(fake.forum_posts(FORUM).is_empty());
    assert_eq!(fake.violations().len(), 3, "{:?}", fake.violations());

    let tagged = forum
        .create_forum_post(&http, post(vec![NEWS_TAG]))
        .await
        .expect("tagged post");
    assert_eq!(tagged.applied_tags, vec![ForumTagId::new(NEWS_TAG)]);
    let thread = get_json(&fake, &format!("/channels/{}", tagged.id)).await;
    assert_eq!(thread["type"], 11);
    assert_eq!(thread["parent_id"], FORUM.to_string());
    let errors = openapi::spec().check_value("/components/schemas/ThreadResponse", &thread);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(fake.forum_posts(FORUM).len(), 1);
}

#[tokio::test]
async fn threads_deleted_archived_or_locked_mid_digest_answer_as_discord() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    fake.add_forum(FORUM);
    fake.add_webhook(WEBHOOK, WEBHOOK_TOKEN, FORUM);
    let forum = ChannelId::new(FORUM);
    let open_post = || {
        forum.create_forum_post(
            &http,
            CreateForumPost::new("Daily digest", CreateMessage::new().content("part 1")),
        )
    };
    let webhook_into = |thread: ChannelId| {
        let http = &http;
        async move {
            ExecuteWebhook::new()
                .content("part by webhook")
                .in_thread(thread)
                .execute(http, (WebhookId::new(WEBHOOK), WEBHOOK_TOKEN, true))
                .await
        }
    };

    // Archived: edits are refused; a new message (bot or webhook) unarchives the thread.
    let archived = open_post().await.unwrap().id;
    let part = archived.say(&http, "part 2").await.unwrap();
    fake.archive_thread(archived.get());
    let thread = get_json(&fake, &format!("/channels/{archived}")).await;
    assert_eq!(thread["thread_metadata"]["archived"], true);
    let edit = archived
        .edit_message(
            &http,
            part.id,
            EditMessage::new().content("part 2, updated"),
        )
        .await
        .expect_err("archived");
    assert_eq!(discord_error(&edit), Some((400, 50083)));
    webhook_into(archived).await.expect("posting unarchives");
    let thread = get_json(&fake, &format!("/channels/{archived}")).await;
    assert_eq!(thread["thread_metadata"]["archived"], false);
    archived
        .edit_message(
            &http,
            part.id,
            EditMessage::new().content("part 2, updated"),
        )
        .await
        .expect("active again");

    // Locked: neither posts nor edits, by bot or webhook.
    let locked = open_post().await.unwrap().id;
    let part = locked.say(&http, "part 2").await.unwrap();
    fake.lock_thread(locked.get());
    let say = locked.say(&http, "part 3").await.expect_err("locked");
    assert_eq!(discord_error(&say), Some((403, 160005)));
    let edit = locked
        .edit_message(&http, part.id, EditMessage::new().content("x"))
        .await
        .expect_err("locked");
    assert_eq!(discord_error(&edit), Some((403, 160005)));
    let hook = webhook_into(locked).await.expect_err("locked");
    assert_eq!(discord_error(&hook), Some((403, 160005)));
    assert_eq!(
        get_json(&fake, &format!("/channels/{locked}")).await["thread_metadata"]["locked"],
        true
    );

    // Deleted: Unknown Channel everywhere.
    let deleted = open_post().await.unwrap().id;
    fake.delete_thread(deleted.get());
    let say = deleted.say(&http, "part 2").await.expect_err("deleted");
    assert_eq!(discord_error(&say), Some((404, 10003)));
    let hook = webhook_into(deleted).await.expect_err("deleted");
    assert_eq!(discord_error(&hook), Some((404, 10003)));
    let get = deleted.to_channel(&http).await.expect_err("deleted");
    assert_eq!(discord_error(&get), Some((404, 10003)));
    assert_eq!(fake.forum_posts(FORUM).len(), 2);

    // A moderator did all this: the bot was not wrong to try.
    fake.assert_no_violations();
}

#[tokio::test]
async fn the_global_rate_limit_spans_routes_and_spares_interactions() {
    assert_eq!(GLOBAL_RATE_LIMIT, (50, Duration::from_secs(1)));
    let fake = FakeDiscord::start().await;
    // Discord's 50 requests, in a window long enough that a slow machine cannot reset it.
    fake.set_global_rate_limit(50, Duration::from_secs(3600));
    for i in 0..50u64 {
        let (status, _, _) = post_json(
            &fake,
            &format!("/channels/{}/messages", CHANNEL + i),
            json!({"content": "x"}),
        )
        .await;
        assert_eq!(status, 200, "request {i} is within the limit");
    }
    let (status, headers, body) = post_json(
        &fake,
        &format!("/channels/{}/messages", CHANNEL + 99),
        json!({"content": "x"}),
    )
    .await;
    assert_eq!(status, 429, "the 51st, on a route of its own");
    assert_eq!(
        headers.get("x-ratelimit-global").map(String::as_str),
        Some("true")
    );
    assert_eq!(
        headers.get("x-ratelimit-scope").map(String::as_str),
        Some("global")
    );
    assert!(headers.contains_key("retry-after"));
    assert_eq!(body["global"], true);
    assert_eq!(body["message"], "You are being rate limited.");
    assert!(body["retry_after"].as_f64().is_some_and(|s| s > 0.0));
    assert_eq!(violations_containing(&fake, "global rate limit"), 1);

    // Interaction endpoints are not bound to the global limit.
    let sent = fake.send_interaction(InteractionFixture::command("digest"));
    let (status, _, _) = post_json(
        &fake,
        &sent.callback_path(),
        json!({"type": 4, "data": {"content": "pong"}}),
    )
    .await;
    assert_eq!(status, 204);

    fake.advance(Duration::from_secs(3600));
    let (status, _, _) = post_json(
        &fake,
        &format!("/channels/{CHANNEL}/messages"),
        json!({"content": "x"}),
    )
    .await;
    assert_eq!(status, 200, "a new window");
}

#[tokio::test]
async fn serenity_waits_out_a_global_429_storm() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    fake.global_rate_limit_storm(0.1, 2);
    let sent = ChannelId::new(CHANNEL)
        .say(&http, "after the storm")
        .await
        .expect("serenity retries after the global limit");
    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![429, 429, 200]);
    let posted = fake.messages(CHANNEL);
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0]["id"], sent.id.get().to_string());
    fake.assert_no_violations();
}

#[tokio::test]
async fn channel_messages_are_listed_newest_first_as_discord_returns_them() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    let ch = ChannelId::new(CHANNEL);
    fake.add_webhook(WEBHOOK, WEBHOOK_TOKEN, CHANNEL);
    let mut ids: Vec<MessageId> = Vec::new();
    for part in 1..=4 {
        let m = ch
            .send_message(
                &http,
                CreateMessage::new()
                    .content(format!("part {part}"))
                    .embed(serenity::all::CreateEmbed::new().title(format!("story {part}")))
                    .nonce(Nonce::String(format!("d1p{part}")))
                    .enforce_nonce(true),
            )
            .await
            .unwrap();
        ids.push(m.id);
    }
    let hooked = ExecuteWebhook::new()
        .content("via webhook")
        .username("News")
        .execute(&http, (WebhookId::new(WEBHOOK), WEBHOOK_TOKEN, true))
        .await
        .unwrap()
        .expect("wait=true returns the message");
    ids.push(hooked.id);
    // An ephemeral interaction reply is not part of the channel's history.
    let sent = fake.send_interaction(InteractionFixture::command("digest").channel(CHANNEL));
    http.create_interaction_response(
        InteractionId::new(sent.id),
        &sent.token,
        &CreateInteractionResponse::Message(
            serenity::all::CreateInteractionResponseMessage::new()
                .content("only you see this")
                .ephemeral(true),
        ),
        vec![],
    )
    .await
    .unwrap();

    let all = ch.messages(&http, GetMessages::new()).await.unwrap();
    let listed: Vec<MessageId> = all.iter().map(|m| m.id).collect();
    let newest_first: Vec<MessageId> = ids.iter().rev().copied().collect();
    assert_eq!(listed, newest_first);
    assert_eq!(all[0].webhook_id, Some(WebhookId::new(WEBHOOK)));
    assert_eq!(all[0].author.name, "News");
    assert_eq!(all[1].webhook_id, None);
    assert_eq!(all[1].content, "part 4");
    assert_eq!(all[1].embeds[0].title.as_deref(), Some("story 4"));
    assert!(all[1].author.bot);
    assert!(
        all.iter().all(|m| m.nonce.is_none()),
        "no nonce when fetched"
    );

    let newest_two = ch
        .messages(&http, GetMessages::new().limit(2))
        .await
        .unwrap();
    assert_eq!(
        newest_two.iter().map(|m| m.id).collect::<Vec<_>>(),
        newest_first[..2].to_vec()
    );
    let before = ch
        .messages(&http, GetMessages::new().before(ids[3]).limit(2))
        .await
        .unwrap();
    assert_eq!(
        before.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![ids[2], ids[1]]
    );
    let after = ch
        .messages(&http, GetMessages::new().after(ids[0]).limit(2))
        .await
        .unwrap();
    assert_eq!(
        after.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![ids[2], ids[1]],
        "the two just after, still newest first"
    );

    let raw = get_json(&fake, &format!("/channels/{CHANNEL}/messages?limit=100")).await;
    for m in raw.as_array().expect("an array") {
        assert!(m.get("nonce").is_none(), "{m}");
        let errors = openapi::spec().check_value("/components/schemas/MessageResponse", m);
        assert!(errors.is_empty(), "{errors:#?}");
    }
    fake.assert_no_violations();
}

async fn get_json(fake: &FakeDiscord, path: &str) -> Value {
    let response = reqwest::Client::new()
        .get(format!("{}/api/v10{path}", fake.plain_base()))
        .header("authorization", format!("Bot {TOKEN}"))
        .send()
        .await
        .expect("the fake answers");
    let text = response.text().await.expect("a body");
    serde_json::from_str(&text).expect("JSON")
}

async fn post_json(
    fake: &FakeDiscord,
    path: &str,
    body: Value,
) -> (u16, std::collections::HashMap<String, String>, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/v10{path}", fake.plain_base()))
        .header("authorization", format!("Bot {TOKEN}"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("the fake answers");
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                v.to_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, headers, body)
}
