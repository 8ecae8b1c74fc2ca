//! What untrusted URLs may reach: feeds added from Discord or imported from a file only public
//! addresses (checked on every DNS answer and redirect hop), and no web feed may make newsdesk
//! read local files.

use newsdesk::fetch::{FetchError, FetchOutcome, FetchSettings, Fetcher};
use newsdesk::store::FeedSpec;

use crate::support::fixture::{Fixture, at, rss};
use crate::support::http::Resp;

#[tokio::test]
async fn the_public_only_fetcher_refuses_this_machine_by_address_and_by_name() {
    let fx = Fixture::new().await;
    fx.server.route("/feed.xml", Resp::ok("<rss/>"));
    let fetcher = Fetcher::new(FetchSettings::default()).expect("fetcher");
    let by_name = url::Url::parse(&format!(
        "http://localhost:{}/feed.xml",
        fx.server.addr().port()
    ))
    .expect("url");
    for url in [fx.server.parsed_url("/feed.xml"), by_name] {
        match fetcher.public_only().get(&url, &Default::default()).await {
            Err(FetchError::Refused(why)) => assert!(why.contains("internal address"), "{why}"),
            other => panic!("{url} must be refused, got {other:?}"),
        }
    }
    let local = url::Url::from_file_path(fx.dir.path().join("x.xml")).expect("file url");
    assert!(matches!(
        fetcher.public_only().get(&local, &Default::default()).await,
        Err(FetchError::Refused(_))
    ));
    assert_eq!(fx.server.hits("/feed.xml"), 0, "nothing reached the server");
    // The operator's own fetcher is not restricted.
    assert!(matches!(
        fetcher
            .get(&fx.server.parsed_url("/feed.xml"), &Default::default())
            .await,
        Ok(FetchOutcome::Fetched(_))
    ));
}

#[tokio::test]
async fn a_feed_added_from_discord_may_not_reach_this_machine_unless_allowed() {
    for allow in [false, true] {
        let extra = format!("[discord]\nallow_private_feed_urls = {allow}\n");
        assert_reached(
            polled_once(newsdesk::store::FeedOrigin::Discord, &extra, false).await,
            allow,
        );
    }
}

/// An imported file is third-party input too: its feeds reach this machine only when the
/// import allowed it (`feeds import --allow-private`).
#[tokio::test]
async fn an_imported_feed_may_not_reach_this_machine_unless_the_import_allowed_it() {
    for allow in [false, true] {
        assert_reached(
            polled_once(newsdesk::store::FeedOrigin::Import, "", allow).await,
            allow,
        );
    }
}

/// Adds a feed on 127.0.0.1 with `origin` (allowed to reach private addresses when
/// `allow_private`), runs one poll cycle and answers the server's hits and the feed's row.
async fn polled_once(
    origin: newsdesk::store::FeedOrigin,
    extra: &str,
    allow_private: bool,
) -> (usize, newsdesk::store::FeedRow) {
    let now = at("2026-11-21T12:00:00Z");
    let fx = Fixture::new().await;
    fx.server.route(
        "/feed.xml",
        Resp::ok(rss(&[(
            "a1",
            "Agency cuts grants",
            "2026-11-21T09:00:00Z",
            "https://example.org/a1",
            "The agency cut grants.",
        )])),
    );
    let desk = fx.desk(fx.config(&[], extra), now);
    let spec = FeedSpec {
        name: "Added".into(),
        url: fx.server.url("/feed.xml"),
    };
    let id = desk.store().add_feed(&spec, origin, now).expect("added");
    desk.store()
        .set_feed_allow_private(id, allow_private)
        .expect("flag");
    newsdesk::daemon::poll_and_process(&desk, now, &|_, _| {})
        .await
        .expect("poll cycle");
    let row = desk
        .store()
        .feeds()
        .expect("feeds")
        .into_iter()
        .find(|f| f.name == "Added")
        .expect("the feed");
    (fx.server.hits("/feed.xml"), row)
}

fn assert_reached((hits, row): (usize, newsdesk::store::FeedRow), allowed: bool) {
    if allowed {
        assert_eq!(hits, 1);
        assert_eq!(row.item_count, 1, "{:?}", row.health);
    } else {
        assert_eq!(hits, 0, "refused before connecting");
        let error = row.health.last_error.unwrap_or_default();
        assert!(error.contains("internal address"), "{error}");
    }
}

#[tokio::test]
async fn a_web_feed_cannot_make_newsdesk_read_local_files() {
    let fx = Fixture::new().await;
    let secret = fx.dir.path().join("secret.html");
    let body = "Private operator notes that must never leave this machine. ".repeat(20);
    std::fs::write(
        &secret,
        format!("<html><body><article><p>{body}</p></article></body></html>"),
    )
    .expect("write");
    let link = url::Url::from_file_path(&secret)
        .expect("file url")
        .to_string();
    fx.server.route(
        "/feed.xml",
        Resp::ok(rss(&[(
            "h1",
            "Harmless headline",
            "2026-11-21T09:00:00Z",
            &link,
            "A short teaser.",
        )])),
    );
    let mut config = fx.config(&[("Web", "/feed.xml")], "");
    config.polling.announce_first_fetch = true;
    let now = at("2026-11-21T12:00:00Z");
    let desk = fx.desk(config, now);
    newsdesk::daemon::poll_and_process(&desk, now, &|_, _| {})
        .await
        .expect("poll cycle");
    let item = desk
        .store()
        .item_by_url(&link)
        .expect("lookup")
        .expect("the item is kept");
    let text = item.text.unwrap_or_default();
    assert!(!text.contains("Private operator notes"), "{text}");
    assert!(
        text.contains("short teaser"),
        "the feed's own text stays: {text}"
    );
}

/// Every article link in a feed is third-party input: a config feed's item linking to this
/// machine (an admin page, port 22) is not fetched, its text never posted, unless the operator
/// opted the feed in with `allow_private = true`.
#[tokio::test]
async fn article_links_of_any_feed_reach_only_public_addresses_unless_the_feed_allows() {
    use newsdesk::config::Config;
    let secret = "Internal admin page with credentials that must never be posted. ".repeat(20);
    for allow in [false, true] {
        let fx = Fixture::new().await;
        fx.server.route(
            "/secret",
            Resp::ok(format!(
                "<html><body><article><p>{secret}</p></article></body></html>"
            )),
        );
        let ssh = format!("http://127.0.0.1:22/{}", if allow { "b" } else { "a" });
        fx.server.route(
            "/feed.xml",
            Resp::ok(rss(&[
                (
                    "s1",
                    "Harmless headline",
                    "2026-11-21T09:00:00Z",
                    &fx.server.url("/secret"),
                    "A short teaser.",
                ),
                (
                    "s2",
                    "Another headline",
                    "2026-11-21T09:00:00Z",
                    &ssh,
                    "Teaser.",
                ),
            ])),
        );
        let text = format!(
            "[storage]\npath = \"desk.db\"\n[polling]\nmax_item_age = \"off\"\ntimeout = \"2s\"\n\
             announce_first_fetch = true\n[[feed]]\nname = \"Web\"\nurl = \"{}\"\n{}\
             [[channel]]\nname = \"all\"\nschedule = \"every 1h\"\n",
            fx.server.url("/feed.xml"),
            if allow { "allow_private = true\n" } else { "" }
        );
        let config =
            Config::from_str_at(&text, &fx.dir.path().join("n.toml")).expect("valid config");
        let now = at("2026-11-21T12:00:00Z");
        let desk = fx.desk(config, now);
        newsdesk::daemon::poll_and_process(&desk, now, &|_, _| {})
            .await
            .expect("poll cycle");
        let item = desk
            .store()
            .item_by_url(&fx.server.url("/secret"))
            .expect("lookup")
            .expect("the item is kept");
        let stored = item.text.unwrap_or_default();
        if allow {
            assert_eq!(fx.server.hits("/secret"), 1);
            assert!(stored.contains("Internal admin page"), "{stored}");
        } else {
            assert_eq!(
                fx.server.hits("/secret"),
                0,
                "the internal page was requested"
            );
            assert!(!stored.contains("Internal admin page"), "{stored}");
            assert!(stored.contains("short teaser"), "the feed's own text stays");
        }
    }
}
