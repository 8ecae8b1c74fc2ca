//! Discord: digests posted as embeds ([`sink`]; the layout is `digest::layout`), slash commands
//! answered ([`commands`] holds the logic on plain data, [`handler`] the thin serenity glue), and
//! [`bot`], which runs the gateway client beside the daemon loop. [`route`] decides where each
//! channel's digests go; [`webhook`] posts through webhooks, which need no bot token.

pub mod bot;
pub mod commands;
pub mod embed;
pub mod handler;
pub mod route;
pub mod sink;
pub mod webhook;
