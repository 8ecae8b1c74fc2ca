//! Discord: digests posted as embeds ([`sink`], [`embed`]) and slash commands answered
//! ([`commands`] holds the logic on plain data, [`handler`] the thin serenity glue).

pub mod bot;
pub mod commands;
pub mod handler;
pub mod sink;
