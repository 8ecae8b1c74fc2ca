//! `newsdesk feeds check` against feeds served on 127.0.0.1: every outcome an operator meets.

use std::time::Duration;

use crate::support::bin::newsdesk;
use crate::support::fixture::{Fixture, rss};
use crate::support::http::Resp;

const TEXT: &str = "A long enough article text about research funding, written for the test so that \
it counts as full text rather than a teaser: the agency set out its grant plans for the year, \
named the programmes that grow and those that shrink, and explained how universities may apply.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_check_reports_every_outcome_and_fails_when_a_feed_does() {
    let fx = Fixture::new().await;
    let fresh = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    fx.server.route(
        "/ok.xml",
        Resp::ok(rss(&[(
            "a",
            "Agency sets grant plans",
            &fresh,
            "https://example.org/a",
            TEXT,
        )]))
        .content_type("application/rss+xml"),
    );
    fx.server.route("/moved", Resp::redirect(301, "/ok.xml"));
    fx.server.route("/gone", Resp::status(404));
    fx.server.route(
        "/page.html",
        Resp::ok("<!doctype html><html><body><p>Not a feed</p></body></html>")
            .content_type("text/html"),
    );
    fx.server.route(
        "/slow.xml",
        Resp::ok(rss(&[])).delay(Duration::from_secs(5)),
    );
    fx.server.route(
        "/stale.xml",
        Resp::ok(rss(&[(
            "old",
            "An old story",
            "2020-01-02T10:00:00Z",
            "https://example.org/old",
            "Teaser.",
        )])),
    );
    let mut text = String::from("[polling]\ntimeout = \"1s\"\nfull_text_min_chars = 200\n");
    for (name, path) in [
        ("Fresh", "/ok.xml"),
        ("Moved", "/moved"),
        ("Gone", "/gone"),
        ("Page", "/page.html"),
        ("Slow", "/slow.xml"),
        ("Stale", "/stale.xml"),
    ] {
        text.push_str(&format!(
            "[[feed]]\nname = \"{name}\"\nurl = \"{}\"\n",
            fx.server.url(path)
        ));
    }
    let config = fx.dir.path().join("check.toml");
    std::fs::write(&config, text).expect("config");
    let run = |args: &'static [&'static str]| {
        let config = config.clone();
        tokio::task::spawn_blocking(move || {
            newsdesk()
                .arg("--config")
                .arg(&config)
                .args(args)
                .output()
                .expect("newsdesk runs")
        })
    };
    let out = run(&["feeds", "check"]).await.expect("joined");
    let table = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "some feeds fail: {table}");
    assert!(stderr.contains("3 of 6 feed(s) failed"), "{stderr}");
    let row = |name: &str| {
        table
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no row for {name}:\n{table}"))
            .to_string()
    };
    let fresh_row = row("Fresh");
    assert!(
        fresh_row.contains("ok") && fresh_row.contains("RSS 2.0"),
        "{fresh_row}"
    );
    assert!(fresh_row.contains("    1  "), "one item: {fresh_row}");
    assert!(fresh_row.contains("yes"), "full text: {fresh_row}");
    let moved = row("Moved");
    assert!(moved.contains("ok via 301"), "{moved}");
    assert!(
        moved.contains(&format!(
            "moved permanently: use url = \"{}\"",
            fx.server.url("/ok.xml")
        )),
        "{moved}"
    );
    assert!(row("Gone").contains("HTTP 404"), "{table}");
    assert!(row("Page").contains("not a feed"), "{table}");
    assert!(row("Slow").contains("timed out"), "{table}");
    let stale = row("Stale");
    assert!(
        stale.contains("stale") && stale.contains("2020-01-02"),
        "{stale}"
    );
    assert!(stale.contains("teasers"), "{stale}");

    let one = run(&["feeds", "check", "--only", "Fresh"])
        .await
        .expect("joined");
    assert!(
        one.status.success(),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&one.stdout).lines().count(),
        2,
        "header and one row"
    );
}
