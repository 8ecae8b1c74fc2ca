//! One integration-test binary for the whole suite (one link step, shared helpers).

mod support;
mod cli;
mod corpus;
mod parse;
mod fetch;
mod pipeline;
mod topics;
mod daemon;
mod store;
mod discord_fake;
mod discord_commands;
mod extract;
mod summarize;
mod discord_post;
