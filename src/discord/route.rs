//! Where each channel's digests go, decided once at start from the config and the environment:
//! a webhook (`webhook_env`; needs no bot token), a Discord channel through the bot
//! (`discord_channel_id`; needs the token), or the terminal, which only channels naming neither
//! get. A channel whose target is missing something (an unset variable, no token) waits: its
//! stories stay queued, nothing is recorded as sent, and `check` and the start-up log say why.

use std::collections::HashMap;
use std::io::Stdout;
use std::sync::Arc;

use serenity::all::Http;

use super::sink::{DiscordSink, Target};
use super::webhook::WebhookClient;
use crate::config::Config;
use crate::digest::{Digest, Sink, SinkError, TerminalSink};
use crate::pipeline::Desk;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Terminal,
    Discord(Target),
    /// Cannot be delivered now; the reason says what to fix.
    Waiting(String),
}

/// Every configured channel's route, in config order.
#[derive(Debug, Clone, Default)]
pub struct Routes(Vec<(String, Route)>);

impl Routes {
    /// Routes from the config, with `env` to read variables (the process environment in
    /// production) and whether a bot token is at hand.
    pub fn from_config(
        config: &Config,
        has_token: bool,
        env: impl Fn(&str) -> Option<String>,
    ) -> Routes {
        let token_env = &config.discord.token_env;
        let routes = config
            .channels
            .iter()
            .map(|channel| {
                let route = if let Some(var) = &channel.webhook_env {
                    match env(var).filter(|v| !v.trim().is_empty()) {
                        None => Route::Waiting(format!(
                            "webhook_env names ${var}, which is not set: set it to the webhook URL"
                        )),
                        Some(url) => match parse_webhook_url(&url) {
                            None => Route::Waiting(format!(
                                "${var} is not a Discord webhook URL (https://discord.com/api/webhooks/ID/TOKEN)"
                            )),
                            Some((id, token)) if channel.forum => {
                                Route::Discord(Target::ForumWebhook { id, token })
                            }
                            Some((id, token)) => Route::Discord(Target::Webhook { id, token }),
                        },
                    }
                } else if let Some(id) = &channel.discord_channel_id {
                    match id.get_ref().parse::<u64>() {
                        Err(_) => Route::Waiting(format!(
                            "discord_channel_id {:?} is not a channel id",
                            id.get_ref()
                        )),
                        Ok(_) if !has_token => Route::Waiting(format!(
                            "posting to Discord channel {} needs the bot token in ${token_env}",
                            id.get_ref()
                        )),
                        Ok(id) if channel.forum => Route::Discord(Target::Forum(id)),
                        Ok(id) => Route::Discord(Target::Channel(id)),
                    }
                } else {
                    Route::Terminal
                };
                (channel.name.get_ref().clone(), route)
            })
            .collect();
        Routes(routes)
    }

    /// Every channel to the terminal (dry runs).
    pub fn all_terminal(config: &Config) -> Routes {
        Routes(
            config
                .channels
                .iter()
                .map(|c| (c.name.get_ref().clone(), Route::Terminal))
                .collect(),
        )
    }

    pub fn get(&self, channel: &str) -> Option<&Route> {
        self.0
            .iter()
            .find(|(name, _)| name == channel)
            .map(|(_, r)| r)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Route)> {
        self.0.iter().map(|(n, r)| (n.as_str(), r))
    }

    /// Whether anything goes to Discord at all.
    pub fn use_discord(&self) -> bool {
        self.0.iter().any(|(_, r)| matches!(r, Route::Discord(_)))
    }

    /// Discord targets by channel name.
    pub fn discord_targets(&self) -> HashMap<String, Target> {
        self.0
            .iter()
            .filter_map(|(name, r)| match r {
                Route::Discord(t) => Some((name.clone(), t.clone())),
                _ => None,
            })
            .collect()
    }

    /// One line per channel saying where its digests go (secrets never shown).
    pub fn describe(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|(name, route)| {
                let to = match route {
                    Route::Terminal => "the terminal (no discord_channel_id or webhook_env)".into(),
                    Route::Discord(Target::Channel(id)) => format!("Discord channel {id} (bot)"),
                    Route::Discord(Target::Forum(id)) => format!("Discord forum {id} (bot)"),
                    Route::Discord(Target::Webhook { id, .. }) => format!("Discord webhook {id}"),
                    Route::Discord(Target::ForumWebhook { id, .. }) => {
                        format!("Discord forum webhook {id}")
                    }
                    Route::Waiting(why) => format!("nowhere yet, stories wait: {why}"),
                };
                format!("#{name} → {to}")
            })
            .collect()
    }
}

/// `https://discord.com/api/webhooks/ID/TOKEN` → (ID, TOKEN).
pub fn parse_webhook_url(url: &str) -> Option<(u64, String)> {
    let parsed = url::Url::parse(url.trim()).ok()?;
    let segments: Vec<&str> = parsed.path_segments()?.filter(|s| !s.is_empty()).collect();
    let at = segments.iter().position(|s| *s == "webhooks")?;
    let id = segments.get(at + 1)?.parse().ok()?;
    let token = segments.get(at + 2)?.to_string();
    (!token.is_empty()).then_some((id, token))
}

/// The daemon's sink: each channel's digest to its route.
pub struct RoutedSink {
    routes: Routes,
    terminal: TerminalSink<Stdout>,
    discord: Option<DiscordSink>,
}

impl RoutedSink {
    pub fn new(
        routes: Routes,
        terminal: TerminalSink<Stdout>,
        discord: Option<DiscordSink>,
    ) -> Self {
        RoutedSink {
            routes,
            terminal,
            discord,
        }
    }

    /// The desk's sink: the terminal (as JSON lines when `json`) for terminal channels, Discord
    /// for the rest, through `bot` for bot channels (None without a token) and the desk's own
    /// HTTP client for webhooks.
    pub fn for_desk(desk: &Arc<Desk>, routes: Routes, bot: Option<Arc<Http>>, json: bool) -> Self {
        let discord = routes.use_discord().then(|| {
            let webhooks =
                WebhookClient::new(desk.fetcher().client(), &desk.config.discord.api_base);
            DiscordSink::new(bot, webhooks, Arc::clone(desk), routes.discord_targets())
        });
        let terminal = TerminalSink::new(std::io::stdout(), json)
            .with_forums(crate::digest::forum_channels(&desk.config));
        RoutedSink::new(routes, terminal, discord)
    }
}

impl Sink for RoutedSink {
    async fn post(&self, digest: &Digest) -> Result<(), SinkError> {
        match self.routes.get(&digest.channel) {
            Some(Route::Terminal) => self.terminal.post(digest).await,
            Some(Route::Discord(_)) => match &self.discord {
                Some(discord) => discord.post(digest).await,
                None => Err(SinkError::Delivery("no Discord client".into())),
            },
            Some(Route::Waiting(why)) => Err(SinkError::Delivery(why.clone())),
            None => Err(SinkError::Delivery(format!(
                "no channel named {:?} in the config",
                digest.channel
            ))),
        }
    }

    fn unreachable(&self, channel: &str) -> Option<String> {
        match self.routes.get(channel) {
            Some(Route::Waiting(why)) => Some(why.clone()),
            Some(Route::Discord(_)) if self.discord.is_none() => Some("no Discord client".into()),
            Some(_) => None,
            None => Some("not in the config".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn webhook_urls() {
        assert_eq!(
            parse_webhook_url("https://discord.com/api/webhooks/123456/abc-DEF_9"),
            Some((123456, "abc-DEF_9".to_string()))
        );
        assert_eq!(
            parse_webhook_url("https://discord.com/api/webhooks/x/abc"),
            None
        );
        assert_eq!(
            parse_webhook_url("https://discord.com/api/webhooks/1"),
            None
        );
        assert_eq!(parse_webhook_url("not a url"), None);
    }

    #[test]
    fn webhooks_need_no_token_bot_channels_wait_for_one_and_the_terminal_takes_the_rest() {
        let text = "[[channel]]\nname = \"hook\"\nmode = \"live\"\nwebhook_env = \"HOOK\"\n\
                    [[channel]]\nname = \"bot\"\nmode = \"live\"\ndiscord_channel_id = \"42\"\n\
                    [[channel]]\nname = \"unset\"\nmode = \"live\"\nwebhook_env = \"UNSET\"\n\
                    [[channel]]\nname = \"local\"\nmode = \"live\"\n";
        let config = Config::from_str_at(text, Path::new("/tmp/n.toml")).expect("config");
        let env = |var: &str| {
            (var == "HOOK").then(|| "https://discord.com/api/webhooks/7/secret".to_string())
        };
        let routes = Routes::from_config(&config, false, env);
        assert_eq!(
            routes.get("hook"),
            Some(&Route::Discord(Target::Webhook {
                id: 7,
                token: "secret".into()
            }))
        );
        assert!(
            matches!(routes.get("bot"), Some(Route::Waiting(why)) if why.contains("NEWSDESK_DISCORD_TOKEN"))
        );
        assert!(matches!(routes.get("unset"), Some(Route::Waiting(why)) if why.contains("$UNSET")));
        assert_eq!(routes.get("local"), Some(&Route::Terminal));
        let lines = routes.describe().join("\n");
        assert!(!lines.contains("secret"), "{lines}");

        let with_token = Routes::from_config(&config, true, env);
        assert_eq!(
            with_token.get("bot"),
            Some(&Route::Discord(Target::Channel(42)))
        );
    }
}
