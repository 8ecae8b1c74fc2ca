//! `feeds list | import FILE.opml | export`.

use std::io::Write;
use std::path::PathBuf;

use super::run::{open_desk, open_desk_read_only};
use crate::config::Config;
use crate::opml::{self, OpmlFeed};

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
    Import {
        file: PathBuf,
        /// Let the file's feeds (and their article links) reach loopback, private and
        /// link-local addresses. Off: an imported file is third-party input.
        #[arg(long)]
        allow_private: bool,
    },
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
        FeedsAction::Import {
            file,
            allow_private,
        } => super::feed_import::run(&desk, file, *allow_private, out)?,
        FeedsAction::Export => {
            let feeds: Vec<OpmlFeed> = desk
                .store()
                .active_feeds()?
                .into_iter()
                .map(|f| OpmlFeed {
                    url: f.url,
                    name: Some(f.name),
                    ..OpmlFeed::default()
                })
                .collect();
            write!(out, "{}", opml::write_opml("newsdesk feeds", &feeds))?;
        }
        // Answered above, before the store is opened.
        FeedsAction::Check { .. } => {}
    }
    Ok(())
}
