//! One source of settings: what the config says reaches every place that uses it.

use std::sync::Arc;

use jiff::Timestamp;
use newsdesk::config::Config;
use newsdesk::digest;
use newsdesk::discord::commands::{self, CommandRequest};
use newsdesk::pipeline::Desk;
use newsdesk::store::ProcessedItem;
use newsdesk::summarize::{self, SummaryOptions};

use crate::support::bin::newsdesk;
use crate::support::fixture::{
    BRIDGE_ARTICLE as ARTICLE, BRIDGE_SUMMARY as LLM_ANSWER, BRIDGE_TITLE as TITLE, Fixture, at,
    rss,
};
use crate::support::http::Resp;

const URL: &str = "https://example.org/a1";
const SEED: &str = "Astronomers at the Cerro Alto observatory unveiled a new infrared telescope \
    mirror on Monday, the largest ever cast in South America. The mirror will be shipped to the \
    summit in the spring and first light is expected in two years.";
/// Longer than the configured 120 characters: refused, so the extractive summary stands in.
const SUMMARIZER: &str = "[summarizer]\nsentences = 1\nmax_chars = 120\n";
const T0: &str = "2026-11-20T12:00:00Z";
const T1: &str = "2026-11-20T13:00:00Z";

/// The summary `[summarizer] sentences = 1, max_chars = 120` makes of the article, and a
/// sentence the default options add to it (absent wherever the config is honoured).
fn expected() -> (String, String) {
    let configured = summarize::summarize(
        Some(TITLE),
        ARTICLE,
        SummaryOptions {
            sentences: 1,
            max_chars: 120,
        },
    );
    let default = summarize::summarize(Some(TITLE), ARTICLE, SummaryOptions::default());
    assert!(configured.chars().count() <= 120, "{configured}");
    assert_eq!(summarize::split_sentences(&configured).len(), 1);
    let extra = summarize::split_sentences(&default)
        .into_iter()
        .find(|s| !configured.contains(s.as_str()))
        .expect("the default summary is longer");
    (configured, extra)
}

/// A desk over a config file (written, for the CLI) with `extra` TOML appended; its feed's
/// first fetch is a seed item, the second one (an hour later, announced) the article.
async fn desk_with_article(fx: &Fixture, extra: &str) -> (Arc<Desk>, std::path::PathBuf) {
    let text = format!(
        "[storage]\npath = \"desk.db\"\n[polling]\nmax_item_age = \"off\"\ntimeout = \"2s\"\n\
         full_text_min_chars = 200\n[[feed]]\nname = \"Wire\"\nurl = \"{}\"\nallow_private = true\n\
         [[channel]]\nname = \"all\"\nschedule = \"every 1h\"\n{SUMMARIZER}{extra}",
        fx.server.url("/wire.xml")
    );
    let path = fx.dir.path().join("newsdesk.toml");
    std::fs::write(&path, text).expect("config written");
    let config = Config::load(&path).expect("valid config");
    let feed = |items: &[(&str, &str, &str, &str, &str)]| {
        Resp::ok(rss(items)).content_type("application/rss+xml")
    };
    fx.server.route(
        "/wire.xml",
        feed(&[(
            "s",
            "Telescope mirror unveiled",
            T0,
            "https://example.org/s",
            SEED,
        )]),
    );
    let desk = fx.desk(config, at(T0));
    poll(&desk, at(T0)).await;
    fx.server.route(
        "/wire.xml",
        feed(&[
            (
                "s",
                "Telescope mirror unveiled",
                T0,
                "https://example.org/s",
                SEED,
            ),
            ("a1", TITLE, T1, URL, ARTICLE),
        ]),
    );
    poll(&desk, at(T1)).await;
    (desk, path)
}

async fn poll(desk: &Arc<Desk>, now: Timestamp) {
    newsdesk::daemon::poll_and_process(desk, now, &|_, _| {})
        .await
        .expect("poll cycle");
}

fn stored_summary(desk: &Desk) -> String {
    let item = desk.store().item_by_url(URL).expect("store").expect("item");
    item.summary.expect("processed")
}

#[tokio::test]
async fn a_non_default_summarizer_reaches_every_place_a_summary_is_made() {
    let (summary, extra) = expected();
    let fx = Fixture::new().await;
    let (desk, config_path) = desk_with_article(&fx, "").await;
    assert_eq!(stored_summary(&desk), summary, "stored summary");

    // A lead item with no stored summary is summarized when shown: with the same options.
    let item = desk.store().item_by_url(URL).unwrap().unwrap();
    let text = item.text.clone().unwrap_or_default();
    desk.store()
        .finish_item(
            item.id,
            &ProcessedItem {
                text: &text,
                text_source: item.text_source.expect("processed"),
                summary: "",
                gist: "",
                topics: &[],
            },
            at(T1),
        )
        .expect("summary cleared");

    let channel = &desk.config.channels[0];
    let composed = digest::compose(&desk.store(), &desk.config, channel, at(T1)).expect("compose");
    let story = composed
        .stories
        .iter()
        .find(|s| s.url.as_deref() == Some(URL))
        .expect("the article's story");
    assert_eq!(story.summary, summary, "digest fallback");

    let request = CommandRequest::new("related").arg("query-or-url", URL);
    let reply = commands::execute(&desk, &request, at(T1)).await;
    let shown = &reply.embeds.first().expect("a story embed").description;
    assert!(shown.contains(&summary), "/related by URL: {shown}");
    assert!(!shown.contains(&extra), "/related by URL: {shown}");

    let out = newsdesk()
        .arg("--config")
        .arg(&config_path)
        .args(["related", URL])
        .output()
        .expect("newsdesk runs");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(printed.contains(&summary), "CLI related: {printed}");
    assert!(!printed.contains(&extra), "CLI related: {printed}");
}

#[tokio::test]
async fn an_llm_summary_longer_than_the_configured_max_falls_back_to_the_configured_extract() {
    let (summary, _) = expected();
    let fx = Fixture::new().await;
    let completion = serde_json::json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "test-model",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": LLM_ANSWER},
            "finish_reason": "stop"
        }]
    });
    fx.server.route(
        "/v1/chat/completions",
        Resp::ok(completion.to_string()).content_type("application/json"),
    );
    let llm = format!(
        "[summarizer.llm]\nbase_url = \"{}\"\nmodel = \"test-model\"\n",
        fx.server.url("/v1")
    );
    let (desk, _) = desk_with_article(&fx, &llm).await;
    assert!(LLM_ANSWER.chars().count() > 120 && LLM_ANSWER.chars().count() < 600);
    assert_eq!(stored_summary(&desk), summary);
}

#[test]
fn every_runtime_setting_is_its_config_section() {
    use newsdesk::fetch::FetchSettings;
    use newsdesk::fetch::schedule::PollPolicy;
    use newsdesk::relate::RelateSettings;
    use std::time::Duration;

    let text = format!(
        "[polling]\ninterval = \"40m\"\nmin_interval = \"6m\"\nmax_interval = \"10h\"\n\
         timeout = \"7s\"\nmax_body_size = 1000\nper_host_concurrency = 3\n\
         user_agent = \"desk/1\"\nbackoff_max = \"9h\"\ndead_after = \"2d\"\n\
         [related]\nmax = 7\nwindow = \"30d\"\ngroup_window = \"1d\"\n{SUMMARIZER}"
    );
    let config = Config::from_str_at(&text, std::path::Path::new("/tmp/n.toml")).expect("valid");
    let mins = |m: u64| Duration::from_secs(m * 60);
    assert_eq!(
        PollPolicy::from(&config.polling),
        PollPolicy {
            interval: mins(40),
            min_interval: mins(6),
            max_interval: mins(600),
            backoff_base: mins(6),
            backoff_max: mins(540),
            dead_after: mins(2 * 24 * 60),
        }
    );
    let fetch = FetchSettings::from(&config.polling);
    assert_eq!(
        (
            fetch.timeout,
            fetch.max_body_bytes,
            fetch.user_agent.as_str(),
            fetch.per_host_concurrency
        ),
        (Duration::from_secs(7), 1000, "desk/1", 3)
    );
    assert_eq!(
        RelateSettings::from(&config.related),
        RelateSettings {
            group_window: mins(24 * 60),
            related_window: mins(30 * 24 * 60),
            max_related: 7,
            explain: false,
        }
    );
    assert_eq!(
        SummaryOptions::from(&config.summarizer),
        SummaryOptions {
            sentences: 1,
            max_chars: 120,
        }
    );
}
