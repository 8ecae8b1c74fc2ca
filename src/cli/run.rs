//! `run`, `poll` and `digest`: the pipeline from the command line.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use jiff::Timestamp;

use crate::config::{Config, DISCORD_API_BASE};
use crate::daemon::{self, Backoff, RunOptions, SystemClock};
use crate::digest::Sink;
use crate::discord::route::{RoutedSink, Routes};
use crate::pipeline::{Desk, PollOutcome};
use crate::shutdown::Shutdown;
use crate::store::FeedRow;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// One cycle (poll, process, a digest for every channel) and exit.
    #[arg(long)]
    pub once: bool,
    /// Print digests to the terminal without recording them as posted.
    #[arg(long)]
    pub dry_run: bool,
    /// Serve the story pages too (on `[web] listen`, else 127.0.0.1:8080); with --once they
    /// stay up after the cycle until Ctrl-C.
    #[arg(long)]
    pub serve: bool,
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
    // Handlers first: a stop that comes while the store opens ends the program cleanly.
    let shutdown = Shutdown::on_signals();
    let token = std::env::var(&config.discord.token_env)
        .ok()
        .filter(|t| !t.trim().is_empty());
    let Some(desk) = open_desk_when_ready(config, &shutdown).await? else {
        return Ok(());
    };
    let total = desk.store().active_feeds()?.len();
    let serving = if args.serve || !args.once {
        super::serve::beside_daemon(&desk, &shutdown, args.serve).await?
    } else {
        false
    };
    let options = RunOptions {
        once: args.once,
        dry_run: args.dry_run,
        grace: desk.config.daemon.shutdown_grace.get(),
        ..RunOptions::default()
    };
    let routes = if args.dry_run {
        Routes::all_terminal(&desk.config)
    } else {
        Routes::from_config(&desk.config, token.is_some(), |var| std::env::var(var).ok())
    };
    if !args.dry_run {
        // Where each channel goes, so a digest that waits is never a mystery.
        for line in routes.describe() {
            eprintln!("{line}");
        }
    }
    match token {
        // One cycle answers no slash commands: the bot posts, the gateway is not needed.
        Some(token) if !args.dry_run && !args.once => {
            let make_http = serenity_http(&desk, token);
            crate::discord::bot::run(
                desk,
                make_http,
                routes,
                &SystemClock,
                options,
                &progress(total),
                shutdown,
            )
            .await
        }
        _ => {
            let bot = token
                .filter(|_| !args.dry_run)
                .map(|token| Arc::new(serenity_http(&desk, token)()));
            let sink = RoutedSink::for_desk(&desk, routes, bot, false);
            daemon::run(
                desk,
                &sink,
                &SystemClock,
                options,
                &progress(total),
                shutdown.clone(),
            )
            .await?;
            if args.once && serving && !shutdown.is_fired() {
                eprintln!("the pages stay up until Ctrl-C");
                shutdown.fired().await;
            }
            Ok(())
        }
    }
}

/// Builds serenity's client for the bot token: on the fetcher's reqwest client (one HTTP stack
/// for feeds and Discord), through `[discord] api_base` when that is not Discord itself.
fn serenity_http(
    desk: &Desk,
    token: String,
) -> impl Fn() -> serenity::all::Http + Send + Sync + 'static {
    let client = desk.fetcher().client();
    let base = desk.config.discord.api_base.clone();
    let proxy = (base.trim_end_matches('/') != DISCORD_API_BASE).then_some(base);
    move || {
        let http = serenity::all::HttpBuilder::new(&token).client(client.clone());
        match &proxy {
            // serenity sends through a proxy only with its own rate limiter off; 429s are then
            // waited out by the sink's retries.
            Some(base) => http.proxy(base).ratelimiter_disabled(true).build(),
            None => http.build(),
        }
    }
}

/// Opens the store as its writer, waiting out faults that pass (a full disk, a busy database)
/// until it opens or a stop is requested (then None).
async fn open_desk_when_ready(
    config: Config,
    shutdown: &Shutdown,
) -> anyhow::Result<Option<Arc<Desk>>> {
    let path = config.storage_path();
    let mut backoff = Backoff::new(RunOptions::default().fault_backoff);
    loop {
        match Desk::open(config.clone(), Timestamp::now()) {
            Ok(desk) => return Ok(Some(Arc::new(desk))),
            Err(e) if e.is_transient() => {
                let wait = backoff.next_wait();
                let words = daemon::describe_fault(&path, &e);
                tracing::error!(
                    "cannot open the store yet: {words}; retrying in {}s",
                    wait.as_secs()
                );
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.fired() => return Ok(None),
                }
            }
            Err(e) => {
                return Err(anyhow::Error::from(e))
                    .with_context(|| format!("cannot open the store {}", path.display()));
            }
        }
    }
}

pub async fn poll(config: Config, args: &PollArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let desk = open_desk(config)?;
    let now = Timestamp::now();
    let report = progress(desk.store().active_feeds()?.len());
    if args.all {
        let feeds = desk.store().active_feeds()?;
        desk.poll_feeds(feeds, now, &report).await?;
    } else {
        desk.poll_due(now, &report).await?;
    }
    let processed = desk.process_pending(now).await?;
    writeln!(out, "processed {processed} new item(s)")?;
    Ok(())
}

/// Retention now, as the daemon applies it daily.
pub fn prune(config: Config, out: &mut dyn Write) -> anyhow::Result<()> {
    let keep = config.storage.keep;
    let desk = open_desk(config)?;
    if keep.is_zero() {
        writeln!(out, "storage.keep is off: every item keeps its text")?;
        return Ok(());
    }
    let expired = desk.expire_all(Timestamp::now())?;
    desk.store().optimize_search_index()?;
    writeln!(
        out,
        "expired {} item(s) published more than {keep} ago and {} stories' grouping terms",
        expired.items, expired.stories
    )?;
    Ok(())
}

pub async fn digest(config: Config, args: &DigestArgs) -> anyhow::Result<()> {
    if let Some(name) = &args.channel
        && config.channel(name).is_none()
    {
        anyhow::bail!("no channel named {name:?} in {}", config.source.display());
    }
    let json = args.format == Format::Json;
    // A preview reads only, so it works beside a running daemon; a real digest goes where the
    // daemon would send it (webhook, bot channel or terminal) and is recorded once it got there.
    let (desk, sink) = if args.dry_run {
        let desk = open_desk_read_only(config)?;
        let routes = Routes::all_terminal(&desk.config);
        let sink = RoutedSink::for_desk(&desk, routes, None, json);
        (desk, sink)
    } else {
        let token = std::env::var(&config.discord.token_env)
            .ok()
            .filter(|t| !t.trim().is_empty());
        let desk = open_desk(config)?;
        let routes =
            Routes::from_config(&desk.config, token.is_some(), |var| std::env::var(var).ok());
        let bot = token.map(|t| Arc::new(serenity_http(&desk, t)()));
        let sink = RoutedSink::for_desk(&desk, routes, bot, json);
        (desk, sink)
    };
    let now = Timestamp::now();
    for channel in &desk.config.channels {
        let name = channel.name.get_ref();
        if args.channel.as_ref().is_some_and(|n| n != name) {
            continue;
        }
        if !args.dry_run
            && let Some(why) = sink.unreachable(name)
        {
            eprintln!("#{name}: not sent, its stories wait: {why}");
            continue;
        }
        daemon::deliver(&desk, channel, &sink, now, args.dry_run).await?;
    }
    Ok(())
}
