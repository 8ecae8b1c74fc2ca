//! newsdesk: feeds in, summarized and related stories out.
//!
//! # Layout (one module per stage, in the order data flows)
//!
//! ```text
//!  config ──► daemon / cli ─────────────────────────────────────────────────┐
//!               │ due feeds                                                 │ schedule
//!               ▼                                                           ▼
//!  fetch (HTTP/file, validators, backoff) ─► charset ─► parse (feed-rs) ─► normalize
//!               │ new entries                                               │
//!               ▼                                                           │
//!  pipeline: store item ─► extract (page text) ─► summarize ─► relate ─► topics
//!               │                                                           │
//!               ▼                                                           ▼
//!            store (SQLite, WAL, migrations; the only module with SQL) ─► digest ─► sink
//!                                        │                                   ▲
//!                                        └──► present (what a story shows) ──┘ also: commands, CLI
//! ```
//!
//! - [`config`]: the TOML file, validated with file:line:column errors, and the one place every
//!   default is written; each stage takes its settings converted from its section (`From`).
//!   [`duration`]: "15m". `config::starter`: the config `newsdesk init` writes.
//! - [`fetch`]: HTTP client (conditional GET, size cap, per-host limits), what untrusted URLs may
//!   reach (`fetch::reach`), and poll timing / feed health.
//! - [`hash`]: SHA-256 as hex, the form of every stored hash.
//! - [`charset`]: bytes to text (HTTP header, BOM, XML declaration, `<meta charset>`).
//! - [`parse`]: feed-rs documents into [`model::Entry`] values ([`model`]: plain data between stages).
//! - [`normalize`]: canonical URLs, HTML to plain text, stable entry identity.
//! - [`extract`]: the main text of an article page.
//! - [`summarize`]: extractive summaries; optional LLM summaries with fallback (`summarize::llm`).
//! - [`relate`]: same-event grouping into stories and Related earlier coverage.
//! - [`topics`]: boolean keyword queries matched on stemmed text; [`terms`]: the shared word/stem rules.
//! - [`store`]: every table and every SQL statement; one writer per database (`store::lock`).
//! - [`pipeline`]: polling a feed (`pipeline::poll`) and processing new items, one transaction
//!   per item (`pipeline::process`).
//! - [`present`]: what a story shows, decided once: [`present::build`] reads a story into a
//!   [`present::StoryView`] (headline and link, outlets, summary, Related one-liners, topics),
//!   rendered as a Discord embed ([`present::embed`]), that embed as terminal text
//!   ([`present::markdown`]) or JSON; every size in
//!   [`present::limits`]. Change "what a story shows" there and every output follows.
//! - [`digest`]: choosing a channel's stories and packing their embeds into messages;
//!   [`digest::Sink`] is where they go (terminal, or Discord).
//! - [`lookup`]: finding stored stories by words, URL or id (slash commands and CLI alike).
//! - [`discord`]: where each channel goes (`discord::route`), the Discord sink (exactly-once
//!   posting) and webhooks (no token needed), slash commands (logic on plain data), the bot.
//! - [`daemon`]: poller, processor and deliverer side by side, faults waited out, exactly-once
//!   delivery (`daemon::deliver`); [`shutdown`]: telling every loop to stop (SIGTERM, Ctrl-C);
//!   [`schedule`]: when digests are due.
//! - [`web`]: every story as a page, the latest stories, topics, search, feed health, Atom feeds,
//!   `/healthz` and `/metrics` (read-only, beside `run` or alone with `serve`), from the same
//!   [`present::StoryView`].
//! - [`metrics`]: what this process did (polls, fetch errors, items, posts, timings), counted in
//!   memory for `/metrics`.
//! - [`opml`]: feed list import/export.
//! - [`cli`]: command-line commands (one file per command group).

pub mod charset;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod digest;
pub mod discord;
pub mod duration;
pub mod extract;
pub mod fetch;
pub mod hash;
pub mod lookup;
pub mod metrics;
pub mod model;
pub mod normalize;
pub mod opml;
pub mod parse;
pub mod pipeline;
pub mod present;
pub mod relate;
pub mod schedule;
pub mod shutdown;
pub mod store;
pub mod summarize;
pub mod terms;
pub mod topics;
pub mod web;
