//! One integration-test binary for the whole suite (one link step, shared helpers).

mod cli;
mod cli_batch;
mod corpus;
mod daemon;
mod digest_update;
mod discord_bot;
mod discord_commands;
mod discord_fake;
mod discord_fake_state;
mod discord_post;
mod discord_refusals;
mod extract;
mod faults;
mod feed_check;
mod fetch;
mod item_bounds;
mod llm;
mod parse;
mod pipeline;
mod reach;
mod relate;
mod soak;
mod store;
mod summarize;
mod support;
mod topics;
