//! `feeds import FILE.opml`: adds a file's feeds to the store with the checks the config's own
//! feeds get, and reports a summary (refusals grouped by reason) instead of a line per feed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use jiff::Timestamp;
use url::Url;

use crate::fetch::reach::{ReachError, check_public_url};
use crate::opml::{self, OpmlFeed};
use crate::pipeline::Desk;
use crate::store::{FeedOrigin, FeedSpec};

/// How many refused entries each reason lists before "… and N more".
const LISTED_PER_REASON: usize = 10;

/// Why an entry of the file was not imported. The order is the order of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Refusal {
    NotHttp,
    Internal,
    NameInUse,
}

impl Refusal {
    fn heading(self) -> &'static str {
        match self {
            Refusal::NotHttp => "not an http(s) URL",
            Refusal::Internal => {
                "an address on this machine or its network (loopback, private, link-local); \
                 an imported file is third-party input: pass --allow-private if you trust it"
            }
            Refusal::NameInUse => "name already used by another feed; rename it in the file",
        }
    }
}

/// Adds `file`'s feeds. A refused entry is reported and the rest imported; the command fails
/// when any entry was refused, so a script notices. Imported feeds are polled like config
/// feeds but, unless `allow_private`, reach only public addresses (the file and the links in
/// its feeds are third-party input).
pub fn run(
    desk: &Desk,
    file: &Path,
    allow_private: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let feeds = opml::parse_opml(&text).with_context(|| format!("in {}", file.display()))?;
    let total = feeds.len();
    // Names and URLs in use: the store's feeds (config feeds included, as synced at open).
    let mut known: Vec<(String, String)> = desk
        .store()
        .feeds()?
        .into_iter()
        .map(|f| (f.name, f.url))
        .collect();
    let mut refused: BTreeMap<Refusal, Vec<String>> = BTreeMap::new();
    let (mut added, mut present, mut with_settings) = (0, 0, 0);
    for (i, feed) in feeds.iter().enumerate() {
        let (name, url) = match admit(feed, allow_private, &known) {
            Ok(Admit::New { name, url }) => (name, url),
            Ok(Admit::Present) => {
                present += 1;
                continue;
            }
            Err((why, detail)) => {
                refused.entry(why).or_default().push(detail);
                continue;
            }
        };
        let id = desk.store().add_feed(
            &FeedSpec {
                name: name.clone(),
                url: url.clone(),
            },
            FeedOrigin::Import,
            Timestamp::now(),
        )?;
        desk.store().set_feed_allow_private(id, allow_private)?;
        known.push((name, url));
        added += 1;
        with_settings += usize::from(has_settings(feed));
        if total > 20 && (i + 1) % 20 == 0 {
            eprintln!("imported {}/{total}", i + 1);
        }
    }
    let refused_count: usize = refused.values().map(Vec::len).sum();
    eprint!("{}", refusal_report(&refused));
    writeln!(
        out,
        "imported {added} of {total} feed(s) from {} ({present} already present, {refused_count} refused)",
        file.display()
    )?;
    if with_settings > 0 {
        writeln!(
            out,
            "{with_settings} imported feed(s) carry newsdesk settings (interval, full text, topic \
             filter); imports poll with the defaults: to use the settings, list the feeds in the \
             config (`newsdesk init` writes the bundled pack that way)"
        )?;
    }
    if refused_count > 0 {
        anyhow::bail!(
            "{refused_count} of {total} feed(s) in {} refused",
            file.display()
        );
    }
    Ok(())
}

enum Admit {
    New { name: String, url: String },
    Present,
}

/// Decides one entry: its name and normalized URL when it may be added.
fn admit(
    feed: &OpmlFeed,
    allow_private: bool,
    known: &[(String, String)],
) -> Result<Admit, (Refusal, String)> {
    let url = match Url::parse(feed.url.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => u,
        _ => return Err((Refusal::NotHttp, format!("{:?}", feed.url))),
    };
    if !allow_private && let Some(host) = internal_host(&url) {
        return Err((Refusal::Internal, format!("{url} ({host})")));
    }
    let url = url.to_string();
    let name = feed
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| host_of(&url));
    if known.iter().any(|(_, u)| *u == url) {
        return Ok(Admit::Present);
    }
    if let Some((_, other)) = known.iter().find(|(n, _)| *n == name) {
        return Err((
            Refusal::NameInUse,
            format!("{url}: {name:?} is already used by {other}"),
        ));
    }
    Ok(Admit::New { name, url })
}

/// The host of a URL that names an internal address outright: a literal loopback, private or
/// link-local IP, or `localhost`. Names that merely resolve to one are stopped when polled.
fn internal_host(url: &Url) -> Option<String> {
    match check_public_url(url) {
        Err(ReachError::Internal { ip, .. }) => Some(ip.to_string()),
        _ => match url.host() {
            Some(url::Host::Domain(d)) if d == "localhost" || d.ends_with(".localhost") => {
                Some(d.to_string())
            }
            _ => None,
        },
    }
}

fn has_settings(feed: &OpmlFeed) -> bool {
    feed.interval.is_some() || feed.full_text.is_some() || !feed.require_topics.is_empty()
}

/// The refused entries, grouped under their reason.
fn refusal_report(refused: &BTreeMap<Refusal, Vec<String>>) -> String {
    let mut report = String::new();
    for (why, entries) in refused {
        let _ = writeln!(report, "refused {} — {}:", entries.len(), why.heading());
        for entry in entries.iter().take(LISTED_PER_REASON) {
            let _ = writeln!(report, "  {entry}");
        }
        if entries.len() > LISTED_PER_REASON {
            let _ = writeln!(report, "  … and {} more", entries.len() - LISTED_PER_REASON);
        }
    }
    report
}

fn host_of(url: &str) -> String {
    Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "feed".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(url: &str, name: &str) -> OpmlFeed {
        OpmlFeed {
            url: url.into(),
            name: Some(name.into()),
            ..OpmlFeed::default()
        }
    }

    fn refusal(feed: &OpmlFeed, allow_private: bool) -> Option<Refusal> {
        let known = [("Wire".to_string(), "https://wire.example/rss".to_string())];
        admit(feed, allow_private, &known).err().map(|(why, _)| why)
    }

    #[test]
    fn entries_are_refused_for_scheme_address_and_name() {
        let cases = [
            ("gopher://example.org/feed", "A", Some(Refusal::NotHttp)),
            ("not a url", "A", Some(Refusal::NotHttp)),
            ("http://127.0.0.1:8080/rss", "A", Some(Refusal::Internal)),
            ("http://10.1.2.3/rss", "A", Some(Refusal::Internal)),
            ("http://[::1]/rss", "A", Some(Refusal::Internal)),
            (
                "http://169.254.169.254/latest",
                "A",
                Some(Refusal::Internal),
            ),
            ("http://localhost/rss", "A", Some(Refusal::Internal)),
            ("http://admin.localhost/rss", "A", Some(Refusal::Internal)),
            (
                "https://other.example/rss",
                "Wire",
                Some(Refusal::NameInUse),
            ),
            ("https://other.example/rss", "Other", None),
            ("https://wire.example/rss", "Wire", None),
        ];
        for (url, name, expected) in cases {
            assert_eq!(refusal(&feed(url, name), false), expected, "{url}");
        }
        assert_eq!(refusal(&feed("http://127.0.0.1:8080/rss", "A"), true), None);
        assert!(matches!(
            admit(
                &feed("https://wire.example/rss", "Renamed"),
                false,
                &[("Wire".into(), "https://wire.example/rss".into())]
            ),
            Ok(Admit::Present)
        ));
    }

    #[test]
    fn the_report_groups_by_reason_and_caps_each_list() {
        let mut refused = BTreeMap::new();
        refused.insert(
            Refusal::NameInUse,
            (0..13).map(|i| format!("entry {i}")).collect::<Vec<_>>(),
        );
        refused.insert(Refusal::NotHttp, vec!["\"ftp://x\"".to_string()]);
        let report = refusal_report(&refused);
        let not_http = report
            .find("refused 1 — not an http(s) URL")
            .expect(&report);
        let names = report
            .find("refused 13 — name already used")
            .expect(&report);
        assert!(not_http < names, "{report}");
        assert!(report.contains("  entry 9\n"), "{report}");
        assert!(!report.contains("entry 10"), "{report}");
        assert!(report.contains("… and 3 more"), "{report}");
    }
}
