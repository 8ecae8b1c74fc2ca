//! The bot: the gateway client (slash commands) and the daemon loop (digests) side by side,
//! sharing one HTTP client, stopped together.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use serenity::all::{ClientBuilder, GatewayIntents, Http};

use crate::daemon::{self, Clock, RunOptions};
use crate::discord::handler::Handler;
use crate::discord::sink::{DiscordSink, Target};
use crate::pipeline::{Desk, PollOutcome};
use crate::store::FeedRow;

/// Runs the bot until `shutdown` resolves (or one cycle with `options.once`). `http` is
/// serenity's client, normally built on the fetcher's reqwest client so the program has one HTTP
/// stack.
pub async fn run(
    desk: Arc<Desk>,
    http: Http,
    clock: &dyn Clock,
    options: RunOptions,
    on_feed: &(dyn Fn(&FeedRow, &PollOutcome) + Sync),
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let targets = targets(&desk)?;
    let mut client = ClientBuilder::new_with_http(http, GatewayIntents::GUILDS)
        .event_handler(Handler::new(Arc::clone(&desk)))
        .await
        .context("cannot build the Discord client")?;
    let sink = DiscordSink::new(Arc::clone(&client.http), Arc::clone(&desk), targets);
    let shards = Arc::clone(&client.shard_manager);
    let gateway = tokio::spawn(async move { client.start().await });
    let result = daemon::run(Arc::clone(&desk), &sink, clock, options, on_feed, shutdown).await;
    shards.shutdown_all().await;
    match gateway.await {
        Ok(Err(e)) => tracing::warn!(error = %e, "Discord gateway ended with an error"),
        Err(e) => tracing::warn!(error = %e, "Discord gateway task failed"),
        Ok(Ok(())) => {}
    }
    result.map_err(anyhow::Error::from)
}

/// Each channel's Discord target: a webhook when `webhook_env` names one, else the channel id.
fn targets(desk: &Desk) -> anyhow::Result<HashMap<String, Target>> {
    let mut out = HashMap::new();
    for channel in &desk.config.channels {
        let name = channel.name.get_ref().clone();
        if let Some(var) = &channel.webhook_env {
            let url = std::env::var(var).with_context(|| {
                format!("channel {name:?}: environment variable {var} (webhook URL) is not set")
            })?;
            let (id, token) = parse_webhook_url(&url).with_context(|| {
                format!("channel {name:?}: ${var} is not a Discord webhook URL")
            })?;
            let target = if channel.forum {
                Target::ForumWebhook { id, token }
            } else {
                Target::Webhook { id, token }
            };
            out.insert(name, target);
        } else if let Some(id) = &channel.discord_channel_id {
            let id: u64 = id
                .get_ref()
                .parse()
                .context("discord_channel_id is validated as digits")?;
            let target = if channel.forum {
                Target::Forum(id)
            } else {
                Target::Channel(id)
            };
            out.insert(name, target);
        } else {
            tracing::warn!(channel = %name, "channel has no discord_channel_id or webhook_env: its digests cannot be posted");
        }
    }
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::parse_webhook_url;

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
}
