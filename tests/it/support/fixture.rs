//! The common test setting: a temp directory and a local HTTP server, a config of feeds
//! served there, RSS documents, fixed times and a clock that stands still.

use std::sync::Arc;

use jiff::Timestamp;
use newsdesk::config::Config;
use newsdesk::daemon::Clock;
use newsdesk::pipeline::Desk;

use super::http::TestServer;

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub server: TestServer,
}

impl Fixture {
    pub async fn new() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().expect("temp dir"),
            server: TestServer::start().await,
        }
    }

    /// A config with the given feeds (name, path on the test server) and one channel for all
    /// stories; extra TOML is appended.
    pub fn config(&self, feeds: &[(&str, &str)], extra: &str) -> Config {
        let mut text = String::from(
            "[storage]\npath = \"desk.db\"\n[polling]\nmax_item_age = \"off\"\ntimeout = \"2s\"\nfull_text_min_chars = 200\n",
        );
        for (name, path) in feeds {
            // Test pages live on 127.0.0.1: these feeds are the operator's own, opted in.
            text.push_str(&format!(
                "[[feed]]\nname = \"{name}\"\nurl = \"{}\"\nallow_private = true\n",
                self.server.url(path)
            ));
        }
        text.push_str("[[channel]]\nname = \"all\"\nschedule = \"every 1h\"\nmax_stories = 20\n");
        text.push_str(extra);
        Config::from_str_at(&text, &self.dir.path().join("newsdesk.toml"))
            .expect("valid test config")
    }

    pub fn desk(&self, config: Config, now: Timestamp) -> Arc<Desk> {
        Arc::new(Desk::open(config, now).expect("desk opens"))
    }
}

pub fn at(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

/// An RSS 2.0 document; items are (guid, title, pubDate RFC 3339, link, description).
pub fn rss(items: &[(&str, &str, &str, &str, &str)]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>T</title><link>https://example.org/</link>",
    );
    for (guid, title, date, link, description) in items {
        let date = at(date).strftime("%a, %d %b %Y %H:%M:%S +0000");
        out.push_str(&format!(
            "<item><guid>{guid}</guid><title>{title}</title><pubDate>{date}</pubDate><link>{link}</link><description>{description}</description></item>"
        ));
    }
    out.push_str("</channel></rss>");
    out
}

/// An RSS document of owned items (guid, title, link, text), all published at `date`.
pub fn rss_owned(items: &[(String, String, String, String)], date: &str) -> String {
    let refs: Vec<(&str, &str, &str, &str, &str)> = items
        .iter()
        .map(|(g, t, l, x)| (g.as_str(), t.as_str(), date, l.as_str(), x.as_str()))
        .collect();
    rss(&refs)
}

/// A clock that always reads the same time, for daemon runs whose schedule is under test.
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

/// An article (title and text) shared by the summary tests, and an abstractive summary of it
/// as a language model might write it.
pub const BRIDGE_TITLE: &str = "Council approves the river bridge";
pub const BRIDGE_ARTICLE: &str = "The city council approved the new river bridge on Monday after a year of \
    debate over its cost. The bridge will link the old town with the northern districts and carry \
    trams, bicycles and pedestrians but no private cars. Construction starts in May and should \
    take two years, the mayor said. Opponents argued that repairing the existing crossing would \
    have cost half as much and said they would challenge the vote in court.";
pub const BRIDGE_SUMMARY: &str = "The city council approved a new river bridge for trams, bicycles and \
    pedestrians on Monday. Construction starts in May and takes two years, while opponents plan \
    a court challenge.";
