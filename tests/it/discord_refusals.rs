//! The fake Discord refuses what Discord refuses beyond its OpenAPI spec: one invalid body per
//! documented rule, each answered with Discord's status, code and error path and recorded as a
//! violation; and bodies right at the limits, which must pass. Raw HTTP, because serenity
//! checks some of these rules itself and would never send the bodies.

use serde_json::{Value, json};

use crate::support::discord::{APP_ID, FakeDiscord, InteractionFixture, TOKEN};

const CHANNEL: u64 = 1_500_000_000_000_000_005;
const FORUM: u64 = 1_500_000_000_000_000_015;
const WEBHOOK: u64 = 1_600_000_000_000_000_006;
const WEBHOOK_TOKEN: &str = "wh-secret";

/// What a request sets up before it is sent.
#[derive(Clone, Copy)]
enum Setup {
    Nothing,
    /// A forum channel `FORUM` with webhook `WEBHOOK` in it.
    Forum,
    /// A message in `CHANNEL`; `{message}` in the path is its id.
    Message,
    /// An interaction sent to the bot; `{interaction}` in the path is its callback path.
    Interaction,
}

struct Case {
    rule: &'static str,
    setup: Setup,
    method: &'static str,
    path: String,
    body: Value,
    status: u16,
    code: i64,
    /// Where Discord puts the error in `errors`, dot-separated; None for errors without one.
    error_at: Option<&'static str>,
}

fn case(
    rule: &'static str,
    setup: Setup,
    method: &'static str,
    path: &str,
    body: Value,
    expect: (u16, i64, Option<&'static str>),
) -> Case {
    Case {
        rule,
        setup,
        method,
        path: path.to_string(),
        body,
        status: expect.0,
        code: expect.1,
        error_at: expect.2,
    }
}

fn messages() -> String {
    format!("/channels/{CHANNEL}/messages")
}

fn commands() -> String {
    format!("/applications/{APP_ID}/commands")
}

fn webhook() -> String {
    format!("/webhooks/{WEBHOOK}/{WEBHOOK_TOKEN}?wait=true")
}

fn chat_command(name: &str, options: Value) -> Value {
    json!({"name": name, "type": 1, "description": "A command", "options": options})
}

fn string_option(name: &str, required: bool) -> Value {
    json!({"type": 3, "name": name, "description": "An option", "required": required})
}

fn embed_with_description(chars: usize) -> Value {
    json!({"title": "t", "description": "d".repeat(chars)})
}

fn invalid_cases() -> Vec<Case> {
    let form = |at: &'static str| (400, 50035, Some(at));
    let empty = (400, 50006, None);
    let post = Setup::Nothing;
    vec![
        case(
            "content over 2000 characters",
            post,
            "POST",
            &messages(),
            json!({"content": "é".repeat(2001)}),
            form("content"),
        ),
        case(
            "embed text over 6000 across embeds",
            post,
            "POST",
            &messages(),
            json!({"embeds": [embed_with_description(3500), embed_with_description(3500)]}),
            form("embeds"),
        ),
        case(
            "embed text over 6000 in fields and footer of one embed",
            post,
            "POST",
            &messages(),
            json!({"embeds": [{
                "title": "t",
                "fields": (0..6).map(|i| json!({"name": format!("n{i}"), "value": "v".repeat(1000)})).collect::<Vec<_>>(),
                "footer": {"text": "f".repeat(10)},
            }]}),
            form("embeds"),
        ),
        case(
            "embed text counts the author name",
            post,
            "POST",
            &messages(),
            json!({"embeds": [embed_with_description(4000), {"description": "d".repeat(1900), "author": {"name": "a".repeat(200)}}]}),
            form("embeds"),
        ),
        case("empty message", post, "POST", &messages(), json!({}), empty),
        case(
            "whitespace-only content and no embeds",
            post,
            "POST",
            &messages(),
            json!({"content": "  \n ", "embeds": []}),
            empty,
        ),
        case(
            "embed url that is not http(s)",
            post,
            "POST",
            &messages(),
            json!({"embeds": [{"title": "t", "url": "ftp://example.org/a"}]}),
            form("embeds.0.url"),
        ),
        case(
            "embed author url that is not http(s)",
            post,
            "POST",
            &messages(),
            json!({"content": "x", "embeds": [{"title": "t", "author": {"name": "a", "url": "mailto:a@example.org"}}]}),
            form("embeds.0.author.url"),
        ),
        case(
            "embed image url that is neither http(s) nor an attachment",
            post,
            "POST",
            &messages(),
            json!({"embeds": [{"title": "t", "image": {"url": "file:///etc/passwd"}}]}),
            form("embeds.0.image.url"),
        ),
        case(
            "edit with content over 2000 characters",
            Setup::Message,
            "PATCH",
            &format!("{}/{{message}}", messages()),
            json!({"content": "x".repeat(2001)}),
            form("content"),
        ),
        case(
            "edit that leaves the message empty",
            Setup::Message,
            "PATCH",
            &format!("{}/{{message}}", messages()),
            json!({"content": "", "embeds": []}),
            empty,
        ),
        case(
            "listing with both before and after",
            post,
            "GET",
            &format!(
                "{}?before=1300000000000000000&after=1200000000000000000",
                messages()
            ),
            Value::Null,
            form("after"),
        ),
        case(
            "forum post without a starter message",
            Setup::Forum,
            "POST",
            &format!("/channels/{FORUM}/threads"),
            json!({"name": "Daily digest"}),
            (400, 50035, None),
        ),
        case(
            "forum post with 11 embeds",
            Setup::Forum,
            "POST",
            &format!("/channels/{FORUM}/threads"),
            json!({"name": "Daily digest", "message": {"embeds": (0..11).map(|i| json!({"title": format!("e{i}")})).collect::<Vec<_>>()}}),
            form("message.embeds"),
        ),
        case(
            "forum post with an empty starter message",
            Setup::Forum,
            "POST",
            &format!("/channels/{FORUM}/threads"),
            json!({"name": "Daily digest", "message": {"content": ""}}),
            empty,
        ),
        case(
            "forum post whose starter message is over 2000 characters",
            Setup::Forum,
            "POST",
            &format!("/channels/{FORUM}/threads"),
            json!({"name": "Daily digest", "message": {"content": "x".repeat(3000)}}),
            form("message.content"),
        ),
        case(
            "webhook thread_name over 100 characters",
            Setup::Forum,
            "POST",
            &webhook(),
            json!({"content": "x", "thread_name": "n".repeat(101)}),
            form("thread_name"),
        ),
        case(
            "empty webhook message",
            Setup::Forum,
            "POST",
            &webhook(),
            json!({"content": "", "thread_name": "Daily digest"}),
            empty,
        ),
        case(
            "interaction reply with nothing in it",
            Setup::Interaction,
            "POST",
            "{interaction}",
            json!({"type": 4, "data": {"flags": 64}}),
            empty,
        ),
        case(
            "interaction reply with embed text over 6000",
            Setup::Interaction,
            "POST",
            "{interaction}",
            json!({"type": 4, "data": {"embeds": [embed_with_description(4000), embed_with_description(4000)]}}),
            form("data.embeds"),
        ),
        case(
            "upper-case command name",
            post,
            "PUT",
            &commands(),
            json!([chat_command("Digest", json!([]))]),
            form("0.name"),
        ),
        case(
            "command name with a space",
            post,
            "PUT",
            &commands(),
            json!([chat_command("daily digest", json!([]))]),
            form("0.name"),
        ),
        case(
            "upper-case option name",
            post,
            "PUT",
            &commands(),
            json!([chat_command(
                "digest",
                json!([string_option("Topic", false)])
            )]),
            form("0.options.0.name"),
        ),
        case(
            "invalid option name inside a subcommand",
            post,
            "PUT",
            &commands(),
            json!([chat_command(
                "feeds",
                json!([{"type": 1, "name": "add", "description": "Add", "options": [string_option("feed.url", true)]}])
            )]),
            form("0.options.0.options.0.name"),
        ),
        case(
            "string choice value over 100 characters",
            post,
            "PUT",
            &commands(),
            json!([chat_command(
                "digest",
                json!([{"type": 3, "name": "topic", "description": "Topic", "choices": [{"name": "long", "value": "v".repeat(101)}]}])
            )]),
            form("0.options.0.choices.0.value"),
        ),
        case(
            "empty command description",
            post,
            "PUT",
            &commands(),
            json!([{"name": "digest", "type": 1, "description": ""}]),
            form("0.description"),
        ),
        case(
            "slash command without a description",
            post,
            "PUT",
            &commands(),
            json!([{"name": "digest", "type": 1}]),
            form("0.description"),
        ),
        case(
            "autocomplete together with choices",
            post,
            "PUT",
            &commands(),
            json!([chat_command(
                "digest",
                json!([{"type": 3, "name": "topic", "description": "Topic", "autocomplete": true, "choices": [{"name": "a", "value": "a"}]}])
            )]),
            form("0.options.0.autocomplete"),
        ),
        case(
            "required option after an optional one",
            post,
            "PUT",
            &commands(),
            json!([chat_command(
                "search",
                json!([string_option("days", false), string_option("query", true)])
            )]),
            form("0.options.1"),
        ),
        case(
            "two options with one name",
            post,
            "PUT",
            &commands(),
            json!([chat_command(
                "search",
                json!([string_option("query", true), string_option("query", false)])
            )]),
            form("0.options.1.name"),
        ),
        case(
            "duplicate command names in one bulk overwrite",
            post,
            "PUT",
            &commands(),
            json!([
                chat_command("digest", json!([])),
                chat_command("digest", json!([]))
            ]),
            form("1"),
        ),
        case(
            "single command with an invalid name",
            post,
            "POST",
            &commands(),
            chat_command("Digest!", json!([])),
            form("name"),
        ),
    ]
}

/// Bodies right at the documented limits, or using what the rules allow.
fn valid_cases() -> Vec<Case> {
    let ok = |status: u16| (status, 0, None);
    let post = Setup::Nothing;
    let padded = format!("  {}  ", "d".repeat(4000));
    vec![
        case(
            "2000 characters of content (counted in characters, not bytes)",
            post,
            "POST",
            &messages(),
            json!({"content": "é".repeat(2000)}),
            ok(200),
        ),
        case(
            "6000 characters of embed text; surrounding whitespace is not counted",
            post,
            "POST",
            &messages(),
            json!({"embeds": [
                {"title": "t".repeat(100), "description": padded},
                {"description": "d".repeat(1000), "fields": [{"name": "n".repeat(200), "value": "v".repeat(600)}], "footer": {"text": "f".repeat(50)}, "author": {"name": "a".repeat(50)}},
            ]}),
            ok(200),
        ),
        case(
            "an embed only, http(s) and discord links, an attachment image",
            post,
            "POST",
            &messages(),
            json!({"embeds": [
                {"title": "t", "url": "https://example.org/a", "author": {"name": "a", "url": "http://example.org"}, "image": {"url": "attachment://chart.png"}},
                {"title": "u", "url": "discord://-/channels/1/2"},
            ]}),
            ok(200),
        ),
        case(
            "webhook thread_name of 100 characters",
            Setup::Forum,
            "POST",
            &webhook(),
            json!({"content": "x", "thread_name": "n".repeat(100)}),
            ok(200),
        ),
        case(
            "command and option names in several scripts, apostrophe, choice value of 100",
            post,
            "PUT",
            &commands(),
            json!([
                chat_command("ü-ber_1", json!([string_option("o'clock", true), string_option("नमस्ते", false)])),
                chat_command("ニュース", json!([{"type": 3, "name": "ภาษา", "description": "d", "choices": [{"name": "c", "value": "v".repeat(100)}]}])),
                {"name": "Digest This", "type": 3},
                {"name": "ü-ber_1", "type": 2},
            ]),
            ok(200),
        ),
        case(
            "forum post with a starter message",
            Setup::Forum,
            "POST",
            &format!("/channels/{FORUM}/threads"),
            json!({"name": "Daily digest", "message": {"content": "x", "embeds": (0..10).map(|i| json!({"title": format!("e{i}")})).collect::<Vec<_>>()}}),
            ok(201),
        ),
    ]
}

/// Sets the case up on a fresh fake, sends it, returns status and body.
async fn run(c: &Case) -> (FakeDiscord, u16, Value) {
    let fake = FakeDiscord::start().await;
    let mut path = c.path.clone();
    match c.setup {
        Setup::Nothing => {}
        Setup::Forum => {
            fake.add_forum(FORUM);
            fake.add_webhook(WEBHOOK, WEBHOOK_TOKEN, FORUM);
        }
        Setup::Message => {
            let (status, sent) = send(&fake, "POST", &messages(), &json!({"content": "x"})).await;
            assert_eq!(status, 200, "setup message: {sent}");
            let id = sent["id"].as_str().unwrap_or_default().to_string();
            path = path.replace("{message}", &id);
        }
        Setup::Interaction => {
            let sent = fake.send_interaction(InteractionFixture::command("digest"));
            path = path.replace("{interaction}", &sent.callback_path());
        }
    }
    let (status, body) = send(&fake, c.method, &path, &c.body).await;
    (fake, status, body)
}

async fn send(fake: &FakeDiscord, method: &str, path: &str, body: &Value) -> (u16, Value) {
    let url = format!("{}/api/v10{path}", fake.plain_base());
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = reqwest::Client::new()
        .request(method, url)
        .header("authorization", format!("Bot {TOKEN}"));
    if !body.is_null() {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.expect("the fake answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `errors` → `a` → `0` → `_errors`, for the dot path `a.0`.
fn has_error_at(body: &Value, path: &str) -> bool {
    let mut node = &body["errors"];
    for key in path.split('.') {
        node = &node[key];
    }
    node["_errors"].as_array().is_some_and(|e| !e.is_empty())
}

#[tokio::test]
async fn every_documented_limit_is_refused_with_discords_code_and_recorded() {
    let mut failures = Vec::new();
    for c in invalid_cases() {
        let (fake, status, body) = run(&c).await;
        let code = body["code"].as_i64().unwrap_or(-1);
        let mut wrong = Vec::new();
        if (status, code) != (c.status, c.code) {
            wrong.push(format!(
                "answered {status} {code}, want {} {}",
                c.status, c.code
            ));
        }
        if let Some(at) = c.error_at
            && !has_error_at(&body, at)
        {
            wrong.push(format!("no error at {at}"));
        }
        if fake.violations().is_empty() {
            wrong.push("no violation recorded".to_string());
        }
        if !wrong.is_empty() {
            failures.push(format!("{}: {} (body {body})", c.rule, wrong.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rule(s) not enforced:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn bodies_at_the_limits_pass() {
    let mut failures = Vec::new();
    for c in valid_cases() {
        let (fake, status, body) = run(&c).await;
        if status != c.status || !fake.violations().is_empty() {
            failures.push(format!(
                "{}: answered {status} {body}; violations {:?}",
                c.rule,
                fake.violations()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
