//! LLM summaries against a fake OpenAI-compatible endpoint on 127.0.0.1: the answer is used and
//! cached, and every kind of failure falls back to the extractive summary.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use newsdesk::config::LlmConfig;
use newsdesk::daemon;
use newsdesk::duration::HumanDuration;
use newsdesk::store::Store;
use newsdesk::summarize::llm::{LlmSummarizer, SummarySource};

use crate::support::fixture::{
    BRIDGE_ARTICLE as ARTICLE, BRIDGE_SUMMARY as GOOD, BRIDGE_TITLE as TITLE, Fixture, at, rss,
};
use crate::support::http::{Resp, TestServer};

const PATH: &str = "/v1/chat/completions";
const FALLBACK: &str = "EXTRACTIVE";
const OTHER_ARTICLE: &str = "Astronomers at the Cerro Alto observatory unveiled a new infrared \
    telescope mirror on Monday, the largest ever cast in South America. The mirror will be shipped \
    to the summit in the spring and first light is expected in two years. Engineers spent four \
    years polishing the glass to within a few nanometres, the observatory said in a statement.";

/// A chat completion whose first choice says `content`.
fn completion(content: &str) -> String {
    serde_json::json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "test-model",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": "stop"
        }]
    })
    .to_string()
}

fn json(body: String) -> Resp {
    Resp::ok(body).content_type("application/json")
}

fn llm_config(server: &TestServer) -> LlmConfig {
    LlmConfig {
        base_url: server.url("/v1"),
        model: "test-model".into(),
        api_key_env: None,
        timeout: HumanDuration::secs(5),
        max_requests_per_hour: 60,
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    store: Mutex<Store>,
}

fn store() -> Setup {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("llm.db")).expect("store opens");
    Setup {
        _dir: dir,
        store: Mutex::new(store),
    }
}

fn summarizer(config: LlmConfig) -> LlmSummarizer {
    LlmSummarizer::new(reqwest::Client::new(), config, 600)
}

async fn run(llm: &LlmSummarizer, cache: &Mutex<Store>, text: &str) -> (String, SummarySource) {
    llm.summarize(TITLE, text, cache, || FALLBACK.to_string())
        .await
}

/// One request with the server answering `resp`; the summary that came out.
async fn with_answer(resp: Resp) -> (String, SummarySource, TestServer) {
    let server = TestServer::start().await;
    server.route(PATH, resp);
    let setup = store();
    let llm = summarizer(llm_config(&server));
    let (summary, source) = run(&llm, &setup.store, ARTICLE).await;
    assert_eq!(server.hits(PATH), 1, "exactly one request");
    (summary, source, server)
}

fn cached(setup: &Setup) -> i64 {
    setup.store.lock().unwrap().cached_summary_count().unwrap()
}

#[tokio::test]
async fn a_good_answer_is_used_and_cached() {
    let server = TestServer::start().await;
    server.route(PATH, json(completion(GOOD)));
    let setup = store();
    let llm = summarizer(llm_config(&server));

    let (summary, source) = run(&llm, &setup.store, ARTICLE).await;
    assert_eq!(source, SummarySource::Llm);
    assert_eq!(
        summary,
        GOOD.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    assert_eq!(server.hits(PATH), 1);
    let request = &server.requests(PATH)[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("authorization"), None, "no key configured");
    assert_eq!(cached(&setup), 1);

    let (again, source) = run(&llm, &setup.store, ARTICLE).await;
    assert_eq!(source, SummarySource::Cache);
    assert_eq!(again, summary);
    assert_eq!(server.hits(PATH), 1, "a cached summary costs no request");

    // The cache is in the store, so a restarted summarizer uses it too.
    let restarted = summarizer(llm_config(&server));
    let (_, source) = run(&restarted, &setup.store, ARTICLE).await;
    assert_eq!(source, SummarySource::Cache);
    assert_eq!(server.hits(PATH), 1);

    // Another model is another summary.
    let mut other = llm_config(&server);
    other.model = "other-model".into();
    let (_, source) = run(&summarizer(other), &setup.store, ARTICLE).await;
    assert_eq!(source, SummarySource::Llm);
    assert_eq!(server.hits(PATH), 2);
}

#[tokio::test]
async fn a_timeout_falls_back_to_the_extractive_summary() {
    let server = TestServer::start().await;
    server.route(PATH, json(completion(GOOD)).delay(Duration::from_secs(10)));
    let setup = store();
    let mut config = llm_config(&server);
    config.timeout = HumanDuration(Duration::from_millis(300));
    let llm = summarizer(config);
    let started = Instant::now();
    let (summary, source) = run(&llm, &setup.store, ARTICLE).await;
    assert_eq!(
        (summary.as_str(), source),
        (FALLBACK, SummarySource::Extractive)
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "gave up after {:?}",
        started.elapsed()
    );
    assert_eq!(cached(&setup), 0);

    // A hung endpoint is not waited on for every item: the next ones fall back at once.
    let started = Instant::now();
    let (summary, source) = run(&llm, &setup.store, OTHER_ARTICLE).await;
    assert_eq!(
        (summary.as_str(), source),
        (FALLBACK, SummarySource::Extractive)
    );
    assert_eq!(server.hits(PATH), 1, "no request during the cooldown");
    assert!(started.elapsed() < Duration::from_millis(250));
}

#[tokio::test]
async fn a_server_error_falls_back_and_is_not_cached() {
    let server = TestServer::start().await;
    server.route(PATH, Resp::status(500).body("internal error"));
    let setup = store();
    let llm = summarizer(llm_config(&server));
    let (summary, source) = run(&llm, &setup.store, ARTICLE).await;
    assert_eq!(
        (summary.as_str(), source),
        (FALLBACK, SummarySource::Extractive)
    );
    assert_eq!(cached(&setup), 0);

    // The failure was not remembered: once the endpoint works, the article gets its summary.
    server.route(PATH, json(completion(GOOD)));
    let (_, source) = run(&llm, &setup.store, ARTICLE).await;
    assert_eq!(source, SummarySource::Llm);
    assert_eq!(server.hits(PATH), 2);
}

#[tokio::test]
async fn garbage_json_falls_back() {
    for body in [
        "<html><body>Bad gateway</body></html>".to_string(),
        "{\"choices\": [".to_string(),
        "{\"choices\": []}".to_string(),
        "{\"error\": {\"message\": \"model not found\"}}".to_string(),
        "{\"choices\": [{\"message\": {\"content\": 42}}]}".to_string(),
    ] {
        let (summary, source, _server) = with_answer(json(body.clone())).await;
        assert_eq!(
            (summary.as_str(), source),
            (FALLBACK, SummarySource::Extractive),
            "{body}"
        );
    }
}

#[tokio::test]
async fn an_empty_answer_falls_back() {
    for content in ["", "   \n  "] {
        let (summary, source, _server) = with_answer(json(completion(content))).await;
        assert_eq!(
            (summary.as_str(), source),
            (FALLBACK, SummarySource::Extractive)
        );
    }
    let null =
        serde_json::json!({"choices": [{"message": {"role": "assistant", "content": null}}]});
    let (summary, _, _server) = with_answer(json(null.to_string())).await;
    assert_eq!(summary, FALLBACK);
}

#[tokio::test]
async fn a_preamble_falls_back_and_a_summary_label_is_stripped() {
    let (summary, source, _server) = with_answer(json(completion(&format!(
        "Here is a summary of the article: {GOOD}"
    ))))
    .await;
    assert_eq!(
        (summary.as_str(), source),
        (FALLBACK, SummarySource::Extractive)
    );

    let (summary, source, _server) =
        with_answer(json(completion(&format!("Summary: {GOOD}")))).await;
    assert_eq!(source, SummarySource::Llm);
    assert!(
        summary.starts_with("The city council approved"),
        "{summary}"
    );

    let (summary, _, _server) = with_answer(json(completion(
        "## Bridge\n- The council approved the bridge.\n- Work starts in May.",
    )))
    .await;
    assert_eq!(summary, FALLBACK);
}

#[tokio::test]
async fn an_over_long_answer_falls_back() {
    let server = TestServer::start().await;
    let long = "The council approved the bridge after a long debate about its cost. ".repeat(3);
    server.route(PATH, json(completion(&long)));
    let setup = store();
    let llm = LlmSummarizer::new(reqwest::Client::new(), llm_config(&server), 120);
    let (summary, source) = run(&llm, &setup.store, ARTICLE).await;
    assert_eq!(
        (summary.as_str(), source),
        (FALLBACK, SummarySource::Extractive)
    );
    assert_eq!(server.hits(PATH), 1);

    let too_many = "One fact. Two facts. Three facts. Four facts. Five facts. Six facts.";
    let (summary, _, _server) = with_answer(json(completion(too_many))).await;
    assert_eq!(summary, FALLBACK);
}

#[tokio::test]
async fn the_hourly_cap_falls_back_without_a_request() {
    let server = TestServer::start().await;
    server.route(PATH, json(completion(GOOD)));
    let setup = store();
    let mut config = llm_config(&server);
    config.max_requests_per_hour = 1;
    let llm = summarizer(config);

    let (_, source) = run(&llm, &setup.store, ARTICLE).await;
    assert_eq!(source, SummarySource::Llm);
    let (summary, source) = run(&llm, &setup.store, OTHER_ARTICLE).await;
    assert_eq!(
        (summary.as_str(), source),
        (FALLBACK, SummarySource::Extractive)
    );
    assert_eq!(server.hits(PATH), 1, "over the cap, no request is made");

    // Cached summaries do not count against the cap.
    let (_, source) = run(&llm, &setup.store, ARTICLE).await;
    assert_eq!(source, SummarySource::Cache);
    assert_eq!(server.hits(PATH), 1);
}

#[tokio::test]
async fn short_texts_are_not_sent() {
    let server = TestServer::start().await;
    server.route(PATH, json(completion(GOOD)));
    let setup = store();
    let llm = summarizer(llm_config(&server));
    let (summary, source) = run(&llm, &setup.store, "The council approved the bridge.").await;
    assert_eq!(
        (summary.as_str(), source),
        (FALLBACK, SummarySource::Extractive)
    );
    assert_eq!(server.hits(PATH), 0);
}

#[tokio::test]
async fn the_api_key_is_sent_as_a_bearer_token() {
    let server = TestServer::start().await;
    server.route(PATH, json(completion(GOOD)));
    let setup = store();
    let var = "NEWSDESK_TEST_LLM_KEY_BEARER_7F3A";
    // SAFETY: the variable name is unique to this test, so no other thread reads or writes it.
    unsafe { std::env::set_var(var, "sk-test-123") };
    let mut config = llm_config(&server);
    config.api_key_env = Some(var.into());
    let llm = summarizer(config);
    let (_, source) = run(&llm, &setup.store, ARTICLE).await;
    assert_eq!(source, SummarySource::Llm);
    let requests = server.requests(PATH);
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].header("authorization"),
        Some("Bearer sk-test-123")
    );
}

#[tokio::test]
async fn a_missing_key_variable_sends_no_authorization() {
    let server = TestServer::start().await;
    server.route(PATH, json(completion(GOOD)));
    let setup = store();
    let mut config = llm_config(&server);
    config.api_key_env = Some("NEWSDESK_TEST_LLM_KEY_NEVER_SET_91C2".into());
    let llm = summarizer(config);
    let (_, source) = run(&llm, &setup.store, ARTICLE).await;
    assert_eq!(source, SummarySource::Llm);
    assert_eq!(server.requests(PATH)[0].header("authorization"), None);
}

#[test]
fn the_llm_table_is_parsed_with_defaults_and_unknown_keys_are_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("newsdesk.toml");
    let config = newsdesk::config::Config::from_str_at(
        "[summarizer.llm]\nbase_url = \"http://127.0.0.1:11434/v1\"\nmodel = \"m\"\n",
        &path,
    )
    .expect("valid config");
    let llm = config.summarizer.llm.expect("llm table");
    assert_eq!(llm.timeout, HumanDuration::secs(30));
    assert_eq!(llm.max_requests_per_hour, 60);
    assert_eq!(llm.api_key_env, None);

    let bad = newsdesk::config::Config::from_str_at(
        "[summarizer.llm]\nbase_url = \"http://x\"\nmodel = \"m\"\napi_key = \"secret\"\n",
        &path,
    );
    assert!(bad.is_err(), "the key itself never goes in the file");

    for table in [
        "base_url = \"localhost:11434\"\nmodel = \"m\"\n",
        "base_url = \"http://127.0.0.1:11434/v1\"\nmodel = \" \"\n",
        "base_url = \"http://127.0.0.1:11434/v1\"\nmodel = \"m\"\ntimeout = \"0\"\n",
    ] {
        let text = format!("[summarizer.llm]\n{table}");
        assert!(
            newsdesk::config::Config::from_str_at(&text, &path).is_err(),
            "{table}"
        );
    }

    let none = newsdesk::config::Config::from_str_at("", &path).expect("empty config");
    assert!(none.summarizer.llm.is_none());
}

#[tokio::test]
async fn the_pipeline_stores_the_llm_summary() {
    let fx = Fixture::new().await;
    fx.server.route(
        "/feed.xml",
        Resp::ok(rss(&[(
            "bridge",
            TITLE,
            "2026-11-20T09:00:00Z",
            "https://example.org/bridge",
            ARTICLE,
        )]))
        .content_type("application/rss+xml"),
    );
    fx.server.route(PATH, json(completion(GOOD)));
    let extra = format!(
        "[summarizer.llm]\nbase_url = \"{}\"\nmodel = \"test-model\"\ntimeout = \"5s\"\n",
        fx.server.url("/v1")
    );
    let mut config = fx.config(&[("Wire", "/feed.xml")], &extra);
    config.polling.announce_first_fetch = true;
    let now = at("2026-11-20T12:00:00Z");
    let desk = fx.desk(config, now);
    daemon::poll_and_process(&desk, now, &|_, _| {})
        .await
        .expect("poll cycle");
    assert_eq!(fx.server.hits(PATH), 1);
    let item = desk
        .store()
        .item_by_url("https://example.org/bridge")
        .unwrap()
        .expect("item stored");
    assert_eq!(
        item.summary.as_deref(),
        Some(
            GOOD.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .as_str()
        )
    );
}
