//! `run`, `poll` and `digest`: the pipeline from the command line.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use jiff::Timestamp;

use crate::config::Config;
use crate::daemon::{self, RunOptions, SystemClock};
use crate::digest::TerminalSink;
use crate::pipeline::{Desk, PollOutcome};
use crate::store::FeedRow;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// One cycle (poll, process, a digest for every channel) and exit.
    #[arg(long)]
    pub once: bool,
    /// Print digests to the terminal without recording them as posted.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, clap::Args)]
pub struct PollArgs {
    /// Poll every active feed, not only the due ones.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Markdown,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct DigestArgs {
    /// Only this channel (default: every channel).
    #[arg(long)]
    pub channel: Option<String>,
    /// Show the digest without recording it as posted.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, value_enum, default_value_t = Format::Markdown)]
    pub format: Format,
}

/// The desk for a command that writes: the database's one writer (see `store::WriterLock`).
pub(crate) fn open_desk(config: Config) -> anyhow::Result<Arc<Desk>> {
    let path = config.storage_path();
    let desk = Desk::open(config, Timestamp::now())
        .with_context(|| format!("cannot open the store {}", path.display()))?;
    Ok(Arc::new(desk))
}

/// The desk for a command that only reads, which works while a daemon writes.
pub(crate) fn open_desk_read_only(config: Config) -> anyhow::Result<Arc<Desk>> {
    let path = config.storage_path();
    let desk = Desk::open_read_only(config)
        .with_context(|| format!("cannot open the store {}", path.display()))?;
    Ok(Arc::new(desk))
}

/// Progress on stderr while feeds are polled (a counter on a terminal, a log line otherwise).
fn progress(total: usize) -> impl Fn(&FeedRow, &PollOutcome) + Sync {
    let done = AtomicUsize::new(0);
    let tty = std::io::stderr().is_terminal();
    move |feed: &FeedRow, outcome: &PollOutcome| {
        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
        if let PollOutcome::Failed { error, status } = outcome {
            if tty {
                eprint!("\r\x1b[K");
            }
            eprintln!("feed {:?} {}: {error}", feed.name, status.as_str());
        }
        if tty && total > 1 {
            eprint!("\rpolled {n}/{total} feeds");
            if n == total {
                eprintln!();
            }
        }
    }
}

pub async fn run(config: Config, args: &RunArgs) -> anyhow::Result<()> {
    let token_env = config.discord.token_env.clone();
    let token = std::env::var(&token_env)
        .ok()
        .filter(|t| !t.trim().is_empty());
    let desk = open_desk(config)?;
    let total = desk.store().active_feeds()?.len();
    let options = RunOptions {
        once: args.once,
        dry_run: args.dry_run,
    };
    match token {
        Some(token) if !args.dry_run => {
            // One HTTP stack for feeds and Discord: serenity gets the fetcher's client.
            let http = serenity::all::HttpBuilder::new(&token)
                .client(desk.fetcher().client())
                .build();
            crate::discord::bot::run(
                desk,
                http,
                &SystemClock,
                options,
                &progress(total),
                daemon::shutdown_signal(),
            )
            .await
        }
        _ => {
            if !args.dry_run {
                eprintln!("no Discord token in ${token_env}: digests are printed here instead");
            }
            let sink = TerminalSink::new(std::io::stdout(), false).with_forums(forums(&desk));
            daemon::run(
                desk,
                &sink,
                &SystemClock,
                options,
                &progress(total),
                daemon::shutdown_signal(),
            )
            .await?;
            Ok(())
        }
    }
}

/// Names of the channels configured as forums (the terminal shows the post each digest opens).
fn forums(desk: &Desk) -> Vec<String> {
    desk.config
        .channels
        .iter()
        .filter(|c| c.forum)
        .map(|c| c.name.get_ref().clone())
        .collect()
}

pub async fn poll(config: Config, args: &PollArgs) -> anyhow::Result<()> {
    let desk = open_desk(config)?;
    let now = Timestamp::now();
    let feeds = desk.store().active_feeds()?;
    let total = feeds.len();
    let report = progress(total);
    if args.all {
        for feed in &feeds {
            let outcome = desk.poll_feed(feed, now).await?;
            report(feed, &outcome);
        }
    } else {
        desk.poll_due(now, &report).await?;
    }
    let processed = desk.process_pending(now).await?;
    println!("processed {processed} new item(s)");
    Ok(())
}

pub async fn digest(config: Config, args: &DigestArgs) -> anyhow::Result<()> {
    if let Some(name) = &args.channel
        && config.channel(name).is_none()
    {
        anyhow::bail!("no channel named {name:?} in {}", config.source.display());
    }
    // A preview reads only, so it works beside a running daemon.
    let desk = if args.dry_run {
        open_desk_read_only(config)?
    } else {
        open_desk(config)?
    };
    let sink = TerminalSink::new(std::io::stdout(), args.format == Format::Json)
        .with_forums(forums(&desk));
    let now = Timestamp::now();
    for channel in &desk.config.channels {
        if args
            .channel
            .as_ref()
            .is_some_and(|n| n != channel.name.get_ref())
        {
            continue;
        }
        daemon::deliver(&desk, channel, &sink, now, args.dry_run).await?;
    }
    Ok(())
}
