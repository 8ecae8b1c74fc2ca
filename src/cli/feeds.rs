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
}

pub async fn run(config: Config, args: &FeedsArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let action = args.action.as_ref().unwrap_or(&FeedsAction::List);
    // Only an import writes; listing and exporting work beside a running daemon.
    let desk = match action {
        FeedsAction::Import { .. } => open_desk(config)?,
        FeedsAction::List | FeedsAction::Export => open_desk_read_only(config)?,
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
        FeedsAction::Import { file } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let feeds =
                opml::parse_opml(&text).with_context(|| format!("in {}", file.display()))?;
            let total = feeds.len();
            let mut added = 0;
            for (i, feed) in feeds.iter().enumerate() {
                let url = match url::Url::parse(&feed.url) {
                    Ok(u) if matches!(u.scheme(), "http" | "https") => u,
                    _ => {
                        eprintln!("skipped {:?}: not an http(s) URL", feed.url);
                        continue;
                    }
                };
                let name = feed
                    .name
                    .clone()
                    .unwrap_or_else(|| url.host_str().unwrap_or("feed").to_string());
                desk.store().add_feed(
                    &FeedSpec {
                        name,
                        url: url.to_string(),
                    },
                    "opml",
                    Timestamp::now(),
                )?;
                added += 1;
                if total > 20 && (i + 1) % 20 == 0 {
                    eprintln!("imported {}/{total}", i + 1);
                }
            }
            writeln!(
                out,
                "imported {added} of {total} feed(s) from {}",
                file.display()
            )?;
        }
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
    }
    Ok(())
}
