//! The fetch stage against the local test server.

use std::time::Duration;

use newsdesk::fetch::{FetchError, FetchOutcome, FetchSettings, Fetched, Fetcher, Validators};
use url::Url;

use crate::support::http::{Resp, TestServer};

const LAST_MODIFIED: &str = "Wed, 21 Oct 2015 07:28:00 GMT";

fn fetcher_with(f: impl FnOnce(&mut FetchSettings)) -> Fetcher {
    let mut settings = FetchSettings {
        timeout: Duration::from_secs(5),
        ..FetchSettings::default()
    };
    f(&mut settings);
    Fetcher::new(settings).expect("fetcher")
}

fn fetcher() -> Fetcher {
    fetcher_with(|_| {})
}

async fn get(
    fetcher: &Fetcher,
    server: &TestServer,
    path: &str,
) -> Result<FetchOutcome, FetchError> {
    fetcher
        .get(&server.parsed_url(path), &Validators::default())
        .await
}

fn fetched(outcome: FetchOutcome) -> Fetched {
    match outcome {
        FetchOutcome::Fetched(f) => f,
        FetchOutcome::NotModified { .. } => panic!("expected a body, got 304"),
    }
}

#[tokio::test]
async fn test_server_answers_404_for_unknown_paths_and_records_requests() {
    let server = TestServer::start().await;
    let err = get(&fetcher(), &server, "/nowhere").await.unwrap_err();
    assert_eq!(
        err,
        FetchError::Status {
            status: 404,
            retry_after: None
        }
    );
    assert_eq!(server.hits("/nowhere"), 1);
    let requests = server.requests("/nowhere");
    assert!(
        requests[0]
            .header("user-agent")
            .is_some_and(|ua| ua.starts_with("newsdesk/"))
    );
}

#[tokio::test]
async fn etag_round_trip_gives_not_modified() {
    let server = TestServer::start().await;
    server.route(
        "/feed.xml",
        Resp::ok("<rss/>")
            .content_type("application/rss+xml; charset=utf-8")
            .etag("v1")
            .header("cache-control", "max-age=900"),
    );
    let fetcher = fetcher();
    let first = fetched(get(&fetcher, &server, "/feed.xml").await.unwrap());
    assert_eq!(first.body, b"<rss/>");
    assert_eq!(
        first.content_type.as_deref(),
        Some("application/rss+xml; charset=utf-8")
    );
    assert_eq!(first.validators.etag.as_deref(), Some("\"v1\""));
    assert_eq!(first.validators.last_modified, None);
    assert_eq!(first.hints.max_age, Some(Duration::from_secs(900)));
    assert_eq!(first.final_url, server.parsed_url("/feed.xml"));

    let second = fetcher
        .get(&server.parsed_url("/feed.xml"), &first.validators)
        .await
        .unwrap();
    match second {
        FetchOutcome::NotModified { hints } => {
            assert_eq!(hints.max_age, Some(Duration::from_secs(900)))
        }
        other => panic!("expected 304, got {other:?}"),
    }
    let requests = server.requests("/feed.xml");
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].header("if-none-match"), None);
    assert_eq!(requests[1].header("if-none-match"), Some("\"v1\""));

    // A changed resource is fetched again despite the old validators.
    server.route("/feed.xml", Resp::ok("<rss>2</rss>").etag("v2"));
    let third = fetched(
        fetcher
            .get(&server.parsed_url("/feed.xml"), &first.validators)
            .await
            .unwrap(),
    );
    assert_eq!(third.body, b"<rss>2</rss>");
    assert_eq!(third.validators.etag.as_deref(), Some("\"v2\""));
}

#[tokio::test]
async fn last_modified_only_round_trip() {
    let server = TestServer::start().await;
    server.route("/lm", Resp::ok("body").last_modified(LAST_MODIFIED));
    let fetcher = fetcher();
    let first = fetched(get(&fetcher, &server, "/lm").await.unwrap());
    assert_eq!(first.validators.etag, None);
    assert_eq!(
        first.validators.last_modified.as_deref(),
        Some(LAST_MODIFIED)
    );
    let second = fetcher
        .get(&server.parsed_url("/lm"), &first.validators)
        .await
        .unwrap();
    assert!(
        matches!(second, FetchOutcome::NotModified { .. }),
        "{second:?}"
    );
    let requests = server.requests("/lm");
    assert_eq!(requests[1].header("if-modified-since"), Some(LAST_MODIFIED));
    assert_eq!(requests[1].header("if-none-match"), None);
}

#[tokio::test]
async fn redirects_are_followed_and_loops_rejected() {
    let server = TestServer::start().await;
    server.route("/old", Resp::redirect(301, "/middle"));
    server.route("/middle", Resp::redirect(302, "/new"));
    server.route("/new", Resp::ok("moved here"));
    let fetcher = fetcher();
    let page = fetched(get(&fetcher, &server, "/old").await.unwrap());
    assert_eq!(page.body, b"moved here");
    assert_eq!(page.final_url, server.parsed_url("/new"));

    server.route("/loop-a", Resp::redirect(302, "/loop-b"));
    server.route("/loop-b", Resp::redirect(302, "/loop-a"));
    let err = get(&fetcher, &server, "/loop-a").await.unwrap_err();
    assert!(err.to_string().contains("too many redirects"), "{err}");
    // max_redirects = 5: the first request plus five followed ones.
    assert_eq!(server.hits("/loop-a") + server.hits("/loop-b"), 6);
}

#[tokio::test]
async fn error_statuses_become_status_errors() {
    let server = TestServer::start().await;
    server.route("/boom", Resp::status(500).body("oops"));
    let fetcher = fetcher();
    let err = get(&fetcher, &server, "/boom").await.unwrap_err();
    assert_eq!(
        err,
        FetchError::Status {
            status: 500,
            retry_after: None
        }
    );
    assert_eq!(err.to_string(), "HTTP 500 Internal Server Error");

    server.route("/busy", Resp::status(429).header("retry-after", "120"));
    let err = get(&fetcher, &server, "/busy").await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(
        err.to_string(),
        "HTTP 429 Too Many Requests (retry after 120s)"
    );
}

#[tokio::test]
async fn slow_headers_time_out() {
    let server = TestServer::start().await;
    server.route("/slow", Resp::ok("late").delay(Duration::from_secs(2)));
    let fetcher = fetcher_with(|s| s.timeout = Duration::from_millis(300));
    let started = std::time::Instant::now();
    let err = get(&fetcher, &server, "/slow").await.unwrap_err();
    assert_eq!(err, FetchError::Timeout(Duration::from_millis(300)));
    assert!(started.elapsed() < Duration::from_millis(1500));
}

#[tokio::test]
async fn trickled_body_times_out() {
    let server = TestServer::start().await;
    server.route(
        "/trickle",
        Resp::ok("").slow_body("x", Duration::from_millis(100), 30),
    );
    let fetcher = fetcher_with(|s| s.timeout = Duration::from_millis(300));
    let err = get(&fetcher, &server, "/trickle").await.unwrap_err();
    assert_eq!(err, FetchError::Timeout(Duration::from_millis(300)));
}

#[tokio::test]
async fn trickled_body_within_timeout_is_complete() {
    let server = TestServer::start().await;
    server.route(
        "/trickle",
        Resp::ok("").slow_body("ab", Duration::from_millis(10), 5),
    );
    let page = fetched(get(&fetcher(), &server, "/trickle").await.unwrap());
    assert_eq!(page.body, b"ababababab");
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let server = TestServer::start().await;
    let big = vec![b'a'; 4096];
    server.route("/declared", Resp::ok(big.clone()));
    server.route("/chunked", Resp::ok(big.clone()).chunked());
    server.route(
        "/trickled",
        Resp::ok("").slow_body(vec![b'b'; 1000], Duration::ZERO, 5),
    );
    server.route("/fits", Resp::ok(vec![b'c'; 1024]).chunked());
    let fetcher = fetcher_with(|s| s.max_body_bytes = 1024);
    for path in ["/declared", "/chunked", "/trickled"] {
        let err = get(&fetcher, &server, path).await.unwrap_err();
        assert_eq!(err, FetchError::TooLarge { limit: 1024 }, "{path}");
    }
    let page = fetched(get(&fetcher, &server, "/fits").await.unwrap());
    assert_eq!(page.body.len(), 1024);
}

#[tokio::test]
async fn gzip_bodies_are_decoded_and_capped_after_decoding() {
    let server = TestServer::start().await;
    let text = "<rss>".to_string() + &"news ".repeat(20_000) + "</rss>";
    server.route("/gz", Resp::ok(text.clone()).gzip());
    let page = fetched(get(&fetcher(), &server, "/gz").await.unwrap());
    assert_eq!(page.body, text.as_bytes());
    let requests = server.requests("/gz");
    assert!(
        requests[0]
            .header("accept-encoding")
            .is_some_and(|ae| ae.contains("gzip"))
    );

    let small = fetcher_with(|s| s.max_body_bytes = 10_000);
    let err = get(&small, &server, "/gz").await.unwrap_err();
    assert_eq!(err, FetchError::TooLarge { limit: 10_000 });
}

#[tokio::test]
async fn per_host_concurrency_is_enforced() {
    let server = TestServer::start().await;
    server.route("/a", Resp::ok("a").delay(Duration::from_millis(200)));
    server.route("/b", Resp::ok("b").delay(Duration::from_millis(200)));
    let one = fetcher_with(|s| s.per_host_concurrency = 1);
    let (a, b, c) = tokio::join!(
        get(&one, &server, "/a"),
        get(&one, &server, "/a"),
        get(&one, &server, "/b")
    );
    assert!(a.is_ok() && b.is_ok() && c.is_ok());
    assert_eq!(server.hits("/a"), 2);
    assert_eq!(server.total_max_in_flight(), 1);

    // With two permits the same requests do overlap: the server can see it.
    let other = TestServer::start().await;
    other.route("/a", Resp::ok("a").delay(Duration::from_millis(200)));
    let two = fetcher_with(|s| s.per_host_concurrency = 2);
    let (a, b) = tokio::join!(get(&two, &other, "/a"), get(&two, &other, "/a"));
    assert!(a.is_ok() && b.is_ok());
    assert_eq!(other.max_in_flight("/a"), 2);
}

#[tokio::test]
async fn file_urls_are_read_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feed.xml");
    std::fs::write(&path, "<rss/>").unwrap();
    let url = Url::from_file_path(&path).unwrap();
    let page = fetched(fetcher().get(&url, &Validators::default()).await.unwrap());
    assert_eq!(page.body, b"<rss/>");
    assert_eq!(page.final_url, url);

    let missing = Url::from_file_path(dir.path().join("missing.xml")).unwrap();
    let err = fetcher()
        .get(&missing, &Validators::default())
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::File { .. }), "{err:?}");
    assert!(err.to_string().contains("missing.xml"), "{err}");

    let tiny = fetcher_with(|s| s.max_body_bytes = 3);
    let err = tiny.get(&url, &Validators::default()).await.unwrap_err();
    assert_eq!(err, FetchError::TooLarge { limit: 3 });
}

#[tokio::test]
async fn unsupported_schemes_and_refused_connections() {
    let err = fetcher()
        .get(
            &Url::parse("ftp://example.com/x").unwrap(),
            &Validators::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::UnsupportedUrl(_)), "{err:?}");

    // A port nobody listens on: bind, note the port, close.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = Url::parse(&format!("http://127.0.0.1:{port}/feed")).unwrap();
    let err = fetcher()
        .get(&url, &Validators::default())
        .await
        .unwrap_err();
    let FetchError::Network(message) = &err else {
        panic!("expected a network error, got {err:?}");
    };
    assert!(!message.contains('\n'));
    assert!(!message.contains("127.0.0.1"), "{message}");
    assert!(message.starts_with("cannot connect: "), "{message}");
}
