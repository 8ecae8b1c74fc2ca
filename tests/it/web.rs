//! The story pages over a real store (the demo, polled by the real binary), served on
//! 127.0.0.1 and read with a real HTTP client.

use std::sync::Arc;

use newsdesk::config::Config;
use newsdesk::pipeline::Desk;

use crate::support::bin::{demo_copy, newsdesk};

async fn get(
    client: &reqwest::Client,
    base: &str,
    path: &str,
) -> (u16, String, reqwest::header::HeaderMap) {
    let response = client
        .get(format!("{base}{path}"))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.text().await.expect("body"), headers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_from_the_demo_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config_path = demo_copy(dir.path(), "");
    let polled = tokio::task::block_in_place(|| {
        newsdesk()
            .arg("--config")
            .arg(&config_path)
            .arg("poll")
            .output()
            .expect("poll runs")
    });
    assert!(
        polled.status.success(),
        "{}",
        String::from_utf8_lossy(&polled.stderr)
    );
    let config = Config::load(&config_path).expect("demo config");
    let desk = Arc::new(Desk::open_read_only(config.clone()).expect("read-only desk"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let activity = newsdesk::web::Activity::Elsewhere;
    tokio::spawn(newsdesk::web::serve(
        listener,
        desk,
        activity,
        std::future::pending(),
    ));
    let client = reqwest::Client::new();

    let (status, front, headers) = get(&client, &base, "/").await;
    assert_eq!(status, 200);
    let csp = headers["content-security-policy"].to_str().expect("csp");
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(front.contains("Latest stories"), "{front}");
    assert!(
        front.contains("<a href=\"/topic/ai-policy\">#ai-policy</a>"),
        "topic filters: {front}"
    );

    // The story with the most Related entries, as its page shows it.
    let mut best = (0, String::new(), String::new());
    for id in front
        .split("<a href=\"/story/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
    {
        let (status, page, _) = get(&client, &base, &format!("/story/{id}")).await;
        assert_eq!(status, 200, "/story/{id}");
        let related = page
            .split("<h2>Related</h2>")
            .nth(1)
            .map_or(0, |list| list.matches("<li>").count());
        if related > best.0 {
            best = (related, id.to_string(), page);
        }
    }
    let (related, id, page) = best;
    assert_eq!(related, 5, "the demo's related.max on /story/{id}:\n{page}");
    assert!(page.contains(">Read original article</a>"), "{page}");
    assert!(page.contains("href=\"https://"), "{page}");
    let list = page.split("<h2>Related</h2>").nth(1).expect("related list");
    assert_eq!(list.matches("<p class=\"meta\">").count(), 5, "{list}");
    assert!(
        list.matches("</p><p>").count() >= 5,
        "each with its summary: {list}"
    );
    // Two tiers: the gist, one sentence, above the rest of the longer summary.
    let tiers = page.split("<p class=\"gist\">").nth(1).expect("a gist");
    let (gist, rest) = tiers.split_once("</p><p>").expect("a longer summary");
    let paragraph = rest.split("</p>").next().unwrap_or_default();
    assert!(
        !gist.is_empty() && !paragraph.is_empty() && !paragraph.contains(gist),
        "{gist:?} / {paragraph:?}"
    );
    let db_path = config_path
        .parent()
        .expect("config dir")
        .join(&config.storage.path);
    let db = rusqlite::Connection::open(db_path).expect("store");
    let without_gist: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM items WHERE processed_at IS NOT NULL AND text <> '' \
             AND (gist IS NULL OR gist = '')",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(
        without_gist, 0,
        "every processed item with text has its gist"
    );

    let (status, topic, _) = get(&client, &base, "/topic/research-funding").await;
    assert_eq!(status, 200);
    assert!(
        topic.contains("Latest on #research-funding") && topic.contains("/story/"),
        "{topic}"
    );
    for path in ["/topic/research-funding.atom", "/channel/ai-desk.atom"] {
        let (status, xml, headers) = get(&client, &base, path).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap_or("")
                .starts_with("application/atom+xml")
        );
        let feed = feed_rs::parser::parse(xml.as_bytes()).expect("valid Atom");
        assert!(!feed.entries.is_empty(), "{path}: {xml}");
        // RFC 4287's required elements, and links a feed reader can follow from anywhere.
        assert!(feed.title.is_some() && feed.updated.is_some(), "{path}");
        assert!(xml.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\"><id>"));
        for e in &feed.entries {
            assert!(
                !e.id.is_empty() && e.title.is_some() && e.updated.is_some(),
                "{path}"
            );
            assert!(!e.links.is_empty(), "{path}");
            for link in &e.links {
                assert!(link.href.starts_with("http"), "{path}: {}", link.href);
            }
        }
        assert!(
            xml.contains(&format!("href=\"{base}{path}\"")),
            "self link: {xml}"
        );
    }
    let (status, found, _) = get(&client, &base, "/search?q=disclosure%20rule").await;
    assert_eq!(status, 200);
    assert!(
        found.contains("/story/") && found.contains("name=\"q\""),
        "{found}"
    );
    let (status, feeds, _) = get(&client, &base, "/feeds").await;
    assert_eq!(status, 200);
    assert!(feeds.contains("Science Policy Wire"), "{feeds}");

    for path in [
        "/nope",
        "/story/999999",
        "/story/abc",
        "/story/1/x",
        "/topic/no-such-topic",
        "/channel/no-such.atom",
        "/channel/ai-desk",
    ] {
        let (status, _, headers) = get(&client, &base, path).await;
        assert_eq!(status, 404, "{path}");
        assert!(headers.contains_key("content-security-policy"), "{path}");
    }
    let (status, metrics, _) = get(&client, &base, "/metrics").await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains("newsdesk_feeds{status=\"ok\"} 3"),
        "{metrics}"
    );
    assert!(metrics.contains("newsdesk_items_pending 0"), "{metrics}");
    let stories: i64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("newsdesk_stories "))
        .and_then(|n| n.parse().ok())
        .expect("stories gauge");
    assert!(stories >= 8, "{metrics}");
    assert!(
        !metrics.contains("newsdesk_polls_total"),
        "serve alone counts no polls of its own: {metrics}"
    );
    let (status, health, _) = get(&client, &base, "/healthz").await;
    assert_eq!(status, 200, "{health}");
    assert!(health.starts_with("ok"), "{health}");
}

/// The offline demo's one command for the pages: `run --once --dry-run --serve` prints the
/// digests as without `--serve`, then keeps the pages up until it is stopped (SIGTERM: exit 0).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_serves_its_pages_after_one_cycle_until_stopped() {
    use crate::support::bin::{terminate, wait_until};
    use std::time::Duration;
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        probe.local_addr().expect("addr").port()
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let config = demo_copy(
        dir.path(),
        &format!("[web]\nlisten = \"127.0.0.1:{port}\"\n"),
    );
    let printed = dir.path().join("stdout.txt");
    let mut child = newsdesk()
        .arg("--config")
        .arg(&config)
        .args(["run", "--once", "--dry-run", "--serve"])
        .stdout(std::fs::File::create(&printed).expect("stdout file"))
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run starts");
    let cycle_done = tokio::task::block_in_place(|| {
        wait_until(Duration::from_secs(60), || {
            std::fs::read_to_string(&printed).is_ok_and(|t| t.contains("#ai-desk · message 1/"))
        })
    });
    assert!(cycle_done, "the digests are printed as without --serve");
    assert!(
        matches!(child.try_wait(), Ok(None)),
        "still running after the cycle"
    );
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let (status, front, _) = get(&client, &base, "/").await;
    assert_eq!(status, 200);
    assert!(front.contains("<a href=\"/story/"), "{front}");

    terminate(child.id());
    let ended = tokio::task::block_in_place(|| {
        let mut status = None;
        wait_until(Duration::from_secs(15), || {
            status = child.try_wait().ok().flatten();
            status.is_some()
        });
        status
    });
    if ended.is_none() {
        let _ = child.kill();
    }
    assert_eq!(ended.map(|s| s.code()), Some(Some(0)), "stops cleanly");
}

/// The value of one series (name and labels exactly as written) in an exposition text.
fn sample(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

/// Beside the working desk, `/metrics` shows what it did: polls by outcome, fetch errors by
/// kind, items processed and their timings move as the desk works, scrape after scrape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_beside_the_desk_count_its_work() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config_path = demo_copy(
        dir.path(),
        "[[feed]]\nname = \"Gone\"\nurl = \"file:demo/no-such-feed.xml\"\n",
    );
    let config = Config::load(&config_path).expect("demo config");
    let now = jiff::Timestamp::now();
    let desk = Arc::new(Desk::open(config, now).expect("desk"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(newsdesk::web::serve(
        listener,
        Arc::clone(&desk),
        newsdesk::web::Activity::InProcess,
        std::future::pending(),
    ));
    let client = reqwest::Client::new();
    let scrape = || async { get(&client, &base, "/metrics").await.1 };
    let updated = "newsdesk_polls_total{outcome=\"updated\"}";
    let unchanged = "newsdesk_polls_total{outcome=\"unchanged\"}";
    let failed = "newsdesk_polls_total{outcome=\"failed\"}";
    let missing_file = "newsdesk_fetch_errors_total{fetched=\"feed\",kind=\"file\"}";
    let processed = "newsdesk_items_processed_total{outcome=\"processed\"}";

    let before = scrape().await;
    for series in [updated, failed, missing_file, processed] {
        assert_eq!(sample(&before, series), 0, "{series}");
    }
    assert_eq!(sample(&before, "newsdesk_item_duration_seconds_count"), 0);

    let ignore = |_: &newsdesk::store::FeedRow, _: &newsdesk::pipeline::PollOutcome| {};
    desk.poll_due(now, &ignore).await.expect("poll");
    let items = desk.process_pending(now).await.expect("process") as u64;
    assert!(items >= 30, "the demo's items: {items}");
    let after = scrape().await;
    assert_eq!(sample(&after, updated), 3, "{after}");
    assert_eq!(sample(&after, failed), 1, "{after}");
    assert_eq!(sample(&after, missing_file), 1, "{after}");
    assert_eq!(sample(&after, processed), items, "{after}");
    assert_eq!(
        sample(&after, "newsdesk_item_duration_seconds_count"),
        items
    );
    assert_eq!(
        sample(&after, "newsdesk_item_duration_seconds_bucket{le=\"+Inf\"}"),
        items
    );
    assert_eq!(sample(&after, "newsdesk_poll_duration_seconds_count"), 4);

    // The same bytes again: unchanged, nothing more to process.
    let feeds = desk.store().active_feeds().expect("feeds");
    desk.poll_feeds(feeds, now, &ignore).await.expect("poll");
    let again = scrape().await;
    assert_eq!(sample(&again, unchanged), 3, "{again}");
    assert_eq!(sample(&again, missing_file), 2, "{again}");
    assert_eq!(sample(&again, "newsdesk_poll_duration_seconds_count"), 8);
    assert_eq!(sample(&again, processed), items);

    // One channel's digest goes out, the other's target fails (to be retried).
    struct OneFails;
    impl newsdesk::digest::Sink for OneFails {
        async fn post(
            &self,
            digest: &newsdesk::digest::Digest,
        ) -> Result<(), newsdesk::digest::SinkError> {
            match digest.channel.as_str() {
                "ai-desk" => Err(newsdesk::digest::SinkError::Delivery("503".into())),
                _ => Ok(()),
            }
        }
    }
    for channel in &desk.config.channels {
        newsdesk::daemon::deliver(&desk, channel, &OneFails, now, false)
            .await
            .expect("deliver");
    }
    let posted = scrape().await;
    let posts = |outcome: &str| format!("newsdesk_digest_posts_total{{outcome=\"{outcome}\"}}");
    assert_eq!(sample(&posted, &posts("sent")), 1, "{posted}");
    assert_eq!(sample(&posted, &posts("failed")), 1, "{posted}");
}
