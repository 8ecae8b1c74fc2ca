//! The fake Discord (tests/it/support/discord) driven by serenity's real client: REST through
//! serenity's own rate limiter over TLS, the gateway over ws://, bodies checked against the spec.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use serenity::all::{
    Builder as _, ChannelId, ClientBuilder, Command, CommandOptionType, Context,
    CreateAutocompleteResponse, CreateCommand, CreateCommandOption, CreateEmbed,
    CreateInteractionResponse, CreateInteractionResponseMessage, CreateMessage,
    EditInteractionResponse, EventHandler, ExecuteWebhook, GatewayIntents, HttpError, Interaction,
    Permissions, Ready, ResolvedValue, WebhookId,
};
use serenity::async_trait;
use tokio::sync::mpsc;

use crate::support::discord::{
    APP_ID, CHANNEL_ID, Failure, FakeDiscord, InteractionFixture, TOKEN, openapi, opt, opt_focused,
    opt_sub,
};

const WAIT: Duration = Duration::from_secs(10);
const DIGEST_CHANNEL: u64 = 1_500_000_000_000_000_005;

/// Discord's JSON error code and the HTTP status from a serenity error.
fn discord_error(err: &serenity::Error) -> Option<(u16, isize)> {
    match err {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => {
            Some((r.status_code.as_u16(), r.error.code))
        }
        _ => None,
    }
}

#[tokio::test]
async fn message_with_embed_is_recorded_and_valid() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    let embed = CreateEmbed::new()
        .title("Daily digest")
        .url("https://example.org/a")
        .description("3 new stories")
        .field(
            "Also covered by",
            "[A](https://a.example/1), [B](https://b.example/2)",
            false,
        )
        .footer(serenity::all::CreateEmbedFooter::new("newsdesk"));
    let sent = ChannelId::new(DIGEST_CHANNEL)
        .send_message(
            &http,
            CreateMessage::new().content("Morning digest").embed(embed),
        )
        .await
        .expect("send_message against the fake");

    assert_eq!(sent.channel_id.get(), DIGEST_CHANNEL);
    assert_eq!(sent.embeds.len(), 1);
    assert_eq!(sent.embeds[0].title.as_deref(), Some("Daily digest"));
    let posted = fake.messages(DIGEST_CHANNEL);
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0]["id"], sent.id.get().to_string());
    assert_eq!(
        posted[0]["embeds"][0]["fields"][0]["name"],
        "Also covered by"
    );

    let reqs = fake.requests_to("POST", "/channels/{channel_id}/messages");
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path, format!("/channels/{DIGEST_CHANNEL}/messages"));
    assert_eq!(
        reqs[0].header("authorization"),
        Some(format!("Bot {TOKEN}").as_str())
    );
    assert_eq!(
        reqs[0].body.as_ref().map(|b| b["content"].clone()),
        Some(json!("Morning digest"))
    );
    assert!(
        reqs[0].header("x-ratelimit-limit").is_none(),
        "response headers are not request headers"
    );
    fake.assert_no_violations();

    // The fake's own answer conforms to the spec's MessageResponse too.
    let errors = openapi::spec().check_value("/components/schemas/MessageResponse", &posted[0]);
    assert!(
        errors.is_empty(),
        "fake message object off-spec: {errors:#?}"
    );
}

#[tokio::test]
async fn snowflakes_increase_and_nonce_deduplicates() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    let ch = ChannelId::new(DIGEST_CHANNEL);
    let a = ch.say(&http, "one").await.expect("first");
    let b = ch.say(&http, "two").await.expect("second");
    assert!(b.id > a.id, "ids must increase: {} then {}", a.id, b.id);

    let with_nonce = || {
        CreateMessage::new()
            .content("digest 2026-01-01")
            .nonce(serenity::all::Nonce::String("d-2026-01-01".into()))
            .enforce_nonce(true)
    };
    let first = ch.send_message(&http, with_nonce()).await.expect("nonce 1");
    let again = ch.send_message(&http, with_nonce()).await.expect("nonce 2");
    assert_eq!(
        first.id, again.id,
        "enforce_nonce returns the earlier message"
    );
    assert_eq!(fake.messages(DIGEST_CHANNEL).len(), 3);
    fake.assert_no_violations();
}

#[tokio::test]
async fn off_spec_body_is_a_violation_and_a_400() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    // serenity checks only the 6000-char total of one embed, not the 256-char title: the
    // spec check has to catch it.
    let body = json!({"content": "x", "embeds": [{"title": "t".repeat(300)}], "tts": "no"});
    let err = http
        .send_message(ChannelId::new(DIGEST_CHANNEL), vec![], &body)
        .await
        .expect_err("must be refused");
    assert_eq!(discord_error(&err), Some((400, 50035)));

    let v = fake.violations();
    assert!(
        v.iter()
            .any(|e| e.contains("/embeds/0/title") && e.contains("maxLength 256")),
        "title violation missing: {v:#?}"
    );
    assert!(
        v.iter()
            .any(|e| e.contains("body/tts: expected type boolean|null")),
        "tts violation missing: {v:#?}"
    );
    assert!(fake.messages(DIGEST_CHANNEL).is_empty());
}

#[tokio::test]
async fn unknown_route_is_a_violation() {
    let fake = FakeDiscord::start().await;
    let resp = fake
        .reqwest_client()
        .post("https://discord.com/api/v10/channels/1/not-a-route")
        .header("authorization", format!("Bot {TOKEN}"))
        .send()
        .await
        .expect("reaches the fake over TLS");
    assert_eq!(resp.status().as_u16(), 404);
    let v = fake.violations();
    assert_eq!(v.len(), 1, "{v:#?}");
    assert!(v[0].contains("no such route"), "{v:#?}");
}

#[tokio::test]
async fn rate_limit_429_is_waited_out_by_serenity_and_lands_once() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    fake.fail_next(
        "POST",
        "/channels/{channel_id}/messages",
        Failure::rate_limited(0.2),
    );
    let t0 = Instant::now();
    let msg = ChannelId::new(DIGEST_CHANNEL)
        .say(&http, "after the storm")
        .await
        .expect("retried after 429");
    let elapsed = t0.elapsed();

    let reqs = fake.requests_to("POST", "/channels/{channel_id}/messages");
    let statuses: Vec<u16> = reqs.iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![429, 200]);
    assert!(
        elapsed >= Duration::from_millis(200),
        "serenity did not wait: {elapsed:?}"
    );
    assert!(reqs[1].at - reqs[0].at >= Duration::from_millis(190));
    let posted = fake.messages(DIGEST_CHANNEL);
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0]["id"], msg.id.get().to_string());
    fake.assert_no_violations();
}

#[tokio::test]
async fn error_codes_reach_serenity() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    let ch = ChannelId::new(DIGEST_CHANNEL);

    fake.delete_channel(DIGEST_CHANNEL);
    let err = ch.say(&http, "x").await.expect_err("deleted channel");
    assert_eq!(discord_error(&err), Some((404, 10003)));

    let other = ChannelId::new(DIGEST_CHANNEL + 1);
    fake.fail_next(
        "POST",
        "/channels/{channel_id}/messages",
        Failure::missing_permissions(),
    );
    assert_eq!(
        discord_error(&other.say(&http, "x").await.expect_err("403")),
        Some((403, 50013))
    );
    fake.fail_next(
        "POST",
        "/channels/{channel_id}/messages",
        Failure::unauthorized(),
    );
    assert_eq!(
        discord_error(&other.say(&http, "x").await.expect_err("401")),
        Some((401, 0))
    );
    fake.fail_next(
        "POST",
        "/channels/{channel_id}/messages",
        Failure::server_error(502),
    );
    assert_eq!(
        discord_error(&other.say(&http, "x").await.expect_err("502")).map(|e| e.0),
        Some(502)
    );
    fake.fail_next(
        "POST",
        "/channels/{channel_id}/messages",
        Failure::Status(503),
    );
    assert_eq!(
        discord_error(&other.say(&http, "x").await.expect_err("503")),
        Some((503, -1))
    );
    other
        .say(&http, "now it works")
        .await
        .expect("failures were one-shot");
    assert_eq!(fake.messages(DIGEST_CHANNEL + 1).len(), 1);

    // A wrong token is refused like Discord does.
    let stranger = serenity::http::HttpBuilder::new("other-token")
        .client(fake.reqwest_client())
        .build();
    assert_eq!(
        discord_error(&other.say(&stranger, "x").await.expect_err("bad token")),
        Some((401, 0))
    );
    fake.assert_no_violations();
}

#[tokio::test]
async fn webhook_execute_with_wait_returns_message() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    let webhook = WebhookId::new(1_600_000_000_000_000_006);
    fake.add_webhook(webhook.get(), "wh-secret", DIGEST_CHANNEL);

    let msg = ExecuteWebhook::new()
        .content("via webhook")
        .username("News")
        .execute(&http, (webhook, "wh-secret", true))
        .await
        .expect("execute")
        .expect("wait=true returns the message");
    assert_eq!(msg.webhook_id, Some(webhook));
    assert_eq!(fake.messages(DIGEST_CHANNEL).len(), 1);
    let req = &fake.requests_to("POST", "/webhooks/{webhook_id}/{webhook_token}")[0];
    assert_eq!(req.query, vec![("wait".to_string(), "true".to_string())]);

    let err = ExecuteWebhook::new()
        .content("x")
        .execute(&http, (webhook, "wrong", true))
        .await
        .expect_err("bad token");
    assert_eq!(discord_error(&err), Some((401, 50027)));
    fake.assert_no_violations();
}

/// A thin handler: registers commands once ready, answers /digest, autocompletes /subscribe,
/// defers then edits /feeds add.
struct Bot {
    events: mpsc::UnboundedSender<String>,
}

#[async_trait]
impl EventHandler for Bot {
    async fn ready(&self, ctx: Context, ready: Ready) {
        let commands = vec![
            CreateCommand::new("digest").description("Post the latest digest"),
            CreateCommand::new("subscribe")
                .description("Follow a topic")
                .add_option(
                    CreateCommandOption::new(CommandOptionType::String, "topic", "Topic name")
                        .required(true)
                        .set_autocomplete(true),
                ),
            CreateCommand::new("feeds")
                .description("Manage feeds")
                .default_member_permissions(Permissions::MANAGE_GUILD)
                .add_option(
                    CreateCommandOption::new(CommandOptionType::SubCommand, "add", "Add a feed")
                        .add_sub_option(
                            CreateCommandOption::new(CommandOptionType::String, "url", "Feed URL")
                                .required(true),
                        ),
                ),
        ];
        let outcome = Command::set_global_commands(&ctx.http, commands).await;
        let _ = self.events.send(format!(
            "ready {} registered={}",
            ready.user.name,
            outcome.is_ok()
        ));
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let outcome = match interaction {
            Interaction::Command(cmd) if cmd.data.name == "digest" => {
                let allowed = cmd
                    .member
                    .as_ref()
                    .and_then(|m| m.permissions)
                    .is_some_and(|p| p.send_messages());
                let reply = CreateInteractionResponseMessage::new()
                    .content(format!("digest for {} (allowed={allowed})", cmd.user.name))
                    .ephemeral(true);
                cmd.create_response(&ctx.http, CreateInteractionResponse::Message(reply))
                    .await
                    .map(|_| "digest")
            }
            Interaction::Command(cmd) if cmd.data.name == "feeds" => {
                let url = cmd.data.options().into_iter().find_map(|o| match o.value {
                    ResolvedValue::SubCommand(sub) => sub.into_iter().find_map(|o| match o.value {
                        ResolvedValue::String(s) => Some(s.to_string()),
                        _ => None,
                    }),
                    _ => None,
                });
                match cmd.defer_ephemeral(&ctx.http).await {
                    Ok(()) => {
                        let edit = EditInteractionResponse::new()
                            .content(format!("added {}", url.unwrap_or_default()));
                        cmd.edit_response(&ctx.http, edit).await.map(|_| "feeds")
                    }
                    Err(e) => Err(e),
                }
            }
            Interaction::Autocomplete(ac) => {
                let typed = ac
                    .data
                    .autocomplete()
                    .map(|o| o.value.to_string())
                    .unwrap_or_default();
                let mut choices = CreateAutocompleteResponse::new();
                for topic in ["rust", "ruby", "russia", "science"]
                    .iter()
                    .filter(|t| t.starts_with(&typed))
                {
                    choices = choices.add_string_choice(*topic, *topic);
                }
                ac.create_response(&ctx.http, CreateInteractionResponse::Autocomplete(choices))
                    .await
                    .map(|_| "autocomplete")
            }
            _ => Ok("ignored"),
        };
        let _ = self.events.send(match outcome {
            Ok(what) => what.to_string(),
            Err(e) => format!("error {e}"),
        });
    }
}

async fn next_event(rx: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("handler event in time")
        .expect("handler alive")
}

#[tokio::test]
async fn gateway_client_gets_ready_and_answers_slash_commands() {
    let fake = FakeDiscord::start().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut client = ClientBuilder::new_with_http(fake.http(), GatewayIntents::GUILDS)
        .event_handler(Bot { events: tx })
        .await
        .expect("client builds");
    let shards = client.shard_manager.clone();
    let runner = tokio::spawn(async move { client.start().await });

    let t0 = Instant::now();
    let identify = fake.wait_for_ready(WAIT).await;
    assert_eq!(identify["token"], format!("Bot {TOKEN}"));
    assert_eq!(identify["intents"], 1, "GUILDS only");
    assert_eq!(next_event(&mut rx).await, "ready newsdesk registered=true");
    let registered = fake.global_commands();
    assert_eq!(registered.len(), 3);
    assert_eq!(registered[2]["default_member_permissions"], "32");

    let digest = fake.send_interaction(InteractionFixture::command("digest"));
    assert_eq!(next_event(&mut rx).await, "digest");
    let callback = fake.wait_for_callback(&digest, WAIT).await;
    assert_eq!(callback["type"], 4);
    assert_eq!(
        callback["data"]["content"],
        "digest for alice (allowed=true)"
    );
    assert_eq!(callback["data"]["flags"], 64);
    assert_eq!(
        fake.messages(CHANNEL_ID).len(),
        1,
        "type 4 creates the original message"
    );

    let ac = fake.send_interaction(
        InteractionFixture::autocomplete("subscribe").option(opt_focused("topic", "ru")),
    );
    assert_eq!(next_event(&mut rx).await, "autocomplete");
    let choices = fake.wait_for_callback(&ac, WAIT).await;
    assert_eq!(choices["type"], 8);
    let names: Vec<Value> = choices["data"]["choices"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(names.len(), 3, "{choices}");

    let feeds = fake.send_interaction(
        InteractionFixture::command("feeds")
            .member_permissions(Permissions::MANAGE_GUILD.bits())
            .option(opt_sub("add", vec![opt("url", "https://example.org/rss")])),
    );
    assert_eq!(next_event(&mut rx).await, "feeds");
    let deferred = fake.wait_for_callback(&feeds, WAIT).await;
    assert_eq!(deferred["type"], 5);
    let edits = fake
        .wait_for_requests("PATCH", &feeds.original_path(), 1, WAIT)
        .await;
    assert_eq!(
        edits[0].body.as_ref().map(|b| b["content"].clone()),
        Some(json!("added https://example.org/rss"))
    );
    assert_eq!(fake.interaction_responses(&feeds).len(), 2, "defer + edit");
    for message in fake.messages(CHANNEL_ID) {
        let errors = openapi::spec().check_value("/components/schemas/MessageResponse", &message);
        assert!(
            errors.is_empty(),
            "fake interaction message off-spec: {errors:#?}"
        );
    }

    // op 7 RECONNECT: serenity reconnects and RESUMEs; dispatches keep flowing.
    fake.request_reconnect();
    fake.wait_until("RESUME", WAIT, |f| {
        f.gateway_frames().into_iter().find(|fr| fr.op == 6)
    })
    .await;
    let after = fake.send_interaction(
        InteractionFixture::command("digest").user(1_700_000_000_000_000_007, "bob"),
    );
    assert_eq!(next_event(&mut rx).await, "digest");
    let callback = fake.wait_for_callback(&after, WAIT).await;
    assert_eq!(callback["data"]["content"], "digest for bob (allowed=true)");
    assert_eq!(fake.identify_count(), 1, "resumed, not re-identified");
    let elapsed = t0.elapsed();

    shards.shutdown_all().await;
    runner.abort();
    fake.assert_no_violations();
    assert!(
        elapsed < Duration::from_secs(5),
        "gateway round trip took {elapsed:?}"
    );
    assert_eq!(
        APP_ID,
        fake.requests_to("PUT", "/applications/{application_id}/commands")[0]
            .path
            .split('/')
            .nth(2)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0)
    );
}

#[test]
fn spec_checks_callbacks_and_commands() {
    let spec = openapi::spec();
    let op = spec
        .find("POST", "/interactions/123/tok/callback")
        .expect("callback route");
    assert_eq!(
        op.template,
        "/interactions/{interaction_id}/{interaction_token}/callback"
    );
    let choices: Vec<Value> = (0..26)
        .map(|i| json!({"name": format!("t{i}"), "value": format!("t{i}")}))
        .collect();
    let too_many = json!({"type": 8, "data": {"choices": choices}});
    let errors = spec.check_request(&op, &[], Some("application/json"), Some(&too_many));
    assert!(
        errors.iter().any(|e| e.contains("exceeds maxItems 25")),
        "{errors:#?}"
    );
    let unknown_type = json!({"type": 42});
    assert!(
        !spec
            .check_request(&op, &[], Some("application/json"), Some(&unknown_type))
            .is_empty()
    );

    let original = spec
        .find(
            "PATCH",
            &format!("/webhooks/{APP_ID}/tok/messages/@original"),
        )
        .expect("@original");
    assert_eq!(
        original.template,
        "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
    );

    let put = spec
        .find("PUT", &format!("/applications/{APP_ID}/commands"))
        .expect("bulk overwrite");
    let bad_name = json!([{"name": "n".repeat(33), "description": "d", "type": 1}]);
    let errors = spec.check_request(&put, &[], Some("application/json"), Some(&bad_name));
    assert!(
        errors
            .iter()
            .any(|e| e.contains("body/0/name") && e.contains("maxLength 32")),
        "{errors:#?}"
    );
    let bad_id = spec
        .find("POST", "/channels/not-a-snowflake/messages")
        .expect("route matches any segment");
    let errors = spec.check_request(
        &bad_id,
        &[],
        Some("application/json"),
        Some(&json!({"content": "x"})),
    );
    assert!(
        errors.iter().any(|e| e.starts_with("path {channel_id}")),
        "{errors:#?}"
    );
}
