//! `feeds list | import FILE.opml | export`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use jiff::Timestamp;

use super::run::{open_desk, open_desk_read_only};
use crate::config::Config;
use crate::opml::{self, OpmlFeed};
use crate::store::FeedSpec;

#[derive(Debug, clap::Args)]
pub struct FeedsArgs {
    #[command(subcommand)]
    pub action: Option<FeedsAction>,
}

#[derive(Debug, clap::Subcommand)]
pub enum FeedsAction {
    /// Every feed with its health, item count and next poll (the default).
    List,
    /// Add the feeds of an OPML file to the store (they are polled like config feeds).
    Import { file: PathBuf },
    /// Print the active feeds as OPML.
    Export,
    /// Fetch every configured feed once and report what each answers (no database needed).
    Check {
        /// Only the feed with this name.
        #[arg(long)]
        only: Option<String>,
    },
}

pub async fn run(config: Config, args: &FeedsArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let action = args.action.as_ref().unwrap_or(&FeedsAction::List);
    if let FeedsAction::Check { only } = action {
        return super::feed_check::run(&config, only.as_deref(), out).await;
    }
    // Only an import writes; listing and exporting work beside a running daemon.
    let desk = match action {
        FeedsAction::Import { .. } => open_desk(config)?,
        _ => open_desk_read_only(config)?,
    };
    match action {
        FeedsAction::List => {
            let feeds = desk.store().feeds()?;
            writeln!(
                out,
                "{:<28} {:<8} {:>6}  {:<20}  LAST ERROR / URL",
                "NAME", "STATUS", "ITEMS", "NEXT POLL"
            )?;
            for feed in feeds.iter().filter(|f| f.active) {
                let detail = feed
                    .health
                    .last_error
                    .clone()
                    .unwrap_or_else(|| feed.url.clone());
                writeln!(
                    out,
                    "{:<28} {:<8} {:>6}  {:<20}  {}",
                    feed.name,
                    feed.health.status.as_str(),
                    feed.item_count,
                    feed.next_fetch_at
                        .strftime("%Y-%m-%d %H:%M UTC")
                        .to_string(),
                    detail
                )?;
            }
        }
        FeedsAction::Import { file } => import(&desk, file, out)?,
        FeedsAction::Export => {
            let feeds: Vec<OpmlFeed> = desk
                .store()
                .active_feeds()?
                .into_iter()
                .map(|f| OpmlFeed {
                    url: f.url,
                    name: Some(f.name),
                })
                .collect();
            write!(out, "{}", opml::write_opml("newsdesk feeds", &feeds))?;
        }
        // Answered above, before the store is opened.
        FeedsAction::Check { .. } => {}
    }
    Ok(())
}

/// Adds an OPML file's feeds, with the checks the config's own feeds get: http(s) URLs and
/// names no other feed uses. A refused entry is reported and the rest imported; the command
/// fails when any entry was refused. Imported feeds are polled like config feeds, and like
/// them their article links reach only public addresses.
fn import(
    desk: &crate::pipeline::Desk,
    file: &std::path::Path,
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
    let (mut added, mut present, mut refused) = (0, 0, 0);
    for (i, feed) in feeds.iter().enumerate() {
        let url = match url::Url::parse(feed.url.trim()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => u,
            _ => {
                eprintln!("refused {:?}: not an http(s) URL", feed.url);
                refused += 1;
                continue;
            }
        };
        let url = url.to_string();
        let name = feed
            .name
            .clone()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| host_of(&url));
        if known.iter().any(|(_, u)| *u == url) {
            present += 1;
            continue;
        }
        if let Some((_, other)) = known.iter().find(|(n, _)| *n == name) {
            eprintln!(
                "refused {url}: the name {name:?} is already used by {other}; rename it in {}",
                file.display()
            );
            refused += 1;
            continue;
        }
        desk.store().add_feed(
            &FeedSpec {
                name: name.clone(),
                url: url.clone(),
            },
            "opml",
            Timestamp::now(),
        )?;
        known.push((name, url));
        added += 1;
        if total > 20 && (i + 1) % 20 == 0 {
            eprintln!("imported {}/{total}", i + 1);
        }
    }
    writeln!(
        out,
        "imported {added} of {total} feed(s) from {} ({present} already present, {refused} refused)",
        file.display()
    )?;
    if refused > 0 {
        anyhow::bail!("{refused} of {total} feed(s) in {} refused", file.display());
    }
    Ok(())
}

fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "feed".to_string())
}
