//! The command line: one file per command group. Handlers load the config, call the library and
//! print to the writer they are given ([`output`]); errors get context here (anyhow) and become a
//! non-zero exit, except a closed standard output, which ends the command quietly.

mod check;
pub mod extract;
mod feed_check;
mod feed_import;
mod feeds;
mod init;
mod jsonl;
pub mod output;
mod relate;
mod run;
mod serve;
mod stories;
pub mod summarize;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(
    name = "newsdesk",
    version,
    about = "A news desk that never sleeps: feeds in, summarized and related stories out."
)]
pub struct Cli {
    /// The config file.
    #[arg(
        long,
        short,
        global = true,
        env = "NEWSDESK_CONFIG",
        default_value = "newsdesk.toml"
    )]
    pub config: PathBuf,
    /// Log filter, RUST_LOG style (e.g. "info", "newsdesk=debug"). Default: RUST_LOG, else "warn".
    #[arg(long, global = true)]
    pub log: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the desk: poll feeds when due, process new items, send digests on schedule.
    Run(run::RunArgs),
    /// Write a starter config (the science-policy feed pack, topic presets, one terminal channel).
    Init(init::InitArgs),
    /// Validate the config and print what would run.
    Check,
    /// Poll due feeds once and process new items (no digests).
    Poll(run::PollArgs),
    /// Apply `[storage] keep` now: old items lose their article text (the daemon does it daily).
    Prune,
    /// Compose a channel's next digest now.
    Digest(run::DigestArgs),
    /// List feeds with their health, import or export OPML.
    Feeds(feeds::FeedsArgs),
    /// The Related list for a stored story (by URL or story id).
    Related(stories::RelatedArgs),
    /// Full-text search over stored stories.
    Search(stories::SearchArgs),
    /// Serve the story pages (read-only) on `[web] listen` or --listen.
    Serve(serve::ServeArgs),
    /// Batch: the main text of saved HTML pages (no config needed).
    Extract(extract::ExtractArgs),
    /// Batch: extractive summaries of JSON lines {"id","text","title"?} (no config needed).
    Summarize(summarize::SummarizeArgs),
    /// Batch: group articles into stories and list Related earlier ones (JSON lines).
    Relate(relate::RelateArgs),
}

pub fn main() -> ExitCode {
    // Before anything else: a stop requested while `run` starts up waits for its handler.
    crate::shutdown::hold_stop_signals();
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Run(_)) {
        crate::shutdown::release_stop_signals();
    }
    init_logging(cli.log.as_deref());
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) if output::ended_by_closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(filter: Option<&str>) {
    let filter = filter
        .map(str::to_string)
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| "warn".to_string());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut out = output::stdout();
    let result = run_command(&cli, &mut out);
    // Flushed before an error is reported, so output and error appear in order.
    let flushed = out.flush();
    let code = result?;
    flushed?;
    Ok(code)
}

fn run_command(cli: &Cli, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Check => check::run(&cli.config, out),
        Command::Init(args) => init::run(args, out).map(|()| ExitCode::SUCCESS),
        Command::Relate(args) => relate::run(args, out).map(|()| ExitCode::SUCCESS),
        Command::Extract(args) => extract::run(args, out).map(|()| ExitCode::SUCCESS),
        Command::Summarize(args) => summarize::run(args, out).map(|()| ExitCode::SUCCESS),
        command => {
            let config = load_config(&cli.config)?;
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            runtime.block_on(async move {
                match command {
                    // These print digests through their sinks (see `TerminalSink`).
                    Command::Run(args) => run::run(config, args).await,
                    Command::Poll(args) => run::poll(config, args, out).await,
                    Command::Prune => run::prune(config, out),
                    Command::Digest(args) => run::digest(config, args).await,
                    Command::Feeds(args) => feeds::run(config, args, out).await,
                    Command::Related(args) => stories::related(config, args, out),
                    Command::Search(args) => stories::search(config, args, out),
                    Command::Serve(args) => serve::run(config, args).await,
                    Command::Check
                    | Command::Init(_)
                    | Command::Relate(_)
                    | Command::Extract(_)
                    | Command::Summarize(_) => unreachable!("handled above"),
                }
            })?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub(crate) fn load_config(path: &std::path::Path) -> anyhow::Result<Config> {
    Config::load(path).map_err(|e| anyhow::anyhow!("{e}"))
}
