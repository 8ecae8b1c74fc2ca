//! Executing a Discord webhook. A webhook's URL carries its own secret, so no bot token is
//! needed, and none may be sent: serenity's client always adds `Authorization: Bot <token>`,
//! which Discord refuses when the token is empty or wrong. This sends serenity's own
//! [`ExecuteWebhook`] body with the program's one HTTP client, and turns Discord's answers into
//! serenity's error type so one classifier ([`super::sink::classify`]) reads them all.

use std::time::Duration;

use serde::Deserialize;
use serenity::all::ExecuteWebhook;
use serenity::http::{ErrorResponse, HttpError};

/// Waits for a 429 this long at most (longer ones are left to a later attempt).
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);
/// 429s waited out per request before giving up for now.
const RATE_LIMIT_RETRIES: u32 = 3;

/// Discord's API version in every route.
const API_PATH: &str = "/api/v10";

/// The part of Discord's message object that is read.
#[derive(Deserialize)]
struct SentMessage {
    id: String,
}

/// The part of Discord's webhook object that is read: where it posts.
#[derive(Deserialize)]
struct WebhookObject {
    guild_id: Option<String>,
    channel_id: Option<String>,
}

#[derive(Clone)]
pub struct WebhookClient {
    client: reqwest::Client,
    /// Scheme and host, e.g. `https://discord.com` (or an HTTP proxy in front of Discord).
    api_base: String,
}

impl WebhookClient {
    pub fn new(client: reqwest::Client, api_base: &str) -> WebhookClient {
        WebhookClient {
            client,
            api_base: api_base.trim_end_matches('/').to_string(),
        }
    }

    /// The server and channel webhook `id`/`token` posts to (Get Webhook with Token: the
    /// webhook's secret is its credential, no bot needed); None where Discord does not say.
    pub async fn place(
        &self,
        id: u64,
        token: &str,
    ) -> Result<(Option<u64>, Option<u64>), serenity::Error> {
        let url = format!("{}{API_PATH}/webhooks/{id}/{token}", self.api_base);
        let response = self
            .client
            .get(&url)
            .send()
            .await
            .map_err(|e| serenity::Error::Http(HttpError::Request(e.without_url())))?;
        if !response.status().is_success() {
            let error = ErrorResponse::from_response(response, reqwest::Method::GET).await;
            return Err(serenity::Error::Http(HttpError::UnsuccessfulRequest(error)));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| serenity::Error::Http(HttpError::Request(e.without_url())))?;
        let hook: WebhookObject = serde_json::from_slice(&bytes)?;
        let id = |s: Option<String>| s.and_then(|s| s.parse().ok());
        Ok((id(hook.guild_id), id(hook.channel_id)))
    }

    /// Posts `body` through webhook `id`/`token` (into `thread` when given) and returns the id
    /// of the message Discord created.
    pub async fn execute(
        &self,
        id: u64,
        token: &str,
        thread: Option<u64>,
        body: &ExecuteWebhook,
    ) -> Result<String, serenity::Error> {
        let mut url = format!(
            "{}{API_PATH}/webhooks/{id}/{token}?wait=true",
            self.api_base
        );
        if let Some(thread) = thread {
            url.push_str(&format!("&thread_id={thread}"));
        }
        let json = serde_json::to_vec(body)?;
        let mut waited = 0;
        loop {
            let response = self
                .client
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(json.clone())
                .send()
                .await
                // The URL holds the webhook's secret: errors never carry it.
                .map_err(|e| serenity::Error::Http(HttpError::Request(e.without_url())))?;
            let status = response.status();
            if status.is_success() {
                let bytes = response
                    .bytes()
                    .await
                    .map_err(|e| serenity::Error::Http(HttpError::Request(e.without_url())))?;
                // Only the id is needed; reading the whole message would make any drift
                // between serenity's model and Discord's answer look like a failed post.
                let sent: SentMessage = serde_json::from_slice(&bytes)?;
                return Ok(sent.id);
            }
            if status == reqwest::StatusCode::TOO_MANY_REQUESTS && waited < RATE_LIMIT_RETRIES {
                // Retry-After is in whole seconds; X-RateLimit-Reset-After is precise.
                let wait = ["x-ratelimit-reset-after", "retry-after"]
                    .iter()
                    .find_map(|name| {
                        response
                            .headers()
                            .get(*name)?
                            .to_str()
                            .ok()?
                            .parse::<f64>()
                            .ok()
                    })
                    .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
                    .unwrap_or(Duration::from_secs(1));
                if wait <= MAX_RATE_LIMIT_WAIT {
                    tracing::info!(wait_s = wait.as_secs_f64(), "webhook rate limited; waiting");
                    tokio::time::sleep(wait).await;
                    waited += 1;
                    continue;
                }
            }
            // Only the status and Discord's code and message are ever shown: the URL in this
            // error holds the webhook's secret.
            let error = ErrorResponse::from_response(response, reqwest::Method::POST).await;
            return Err(serenity::Error::Http(HttpError::UnsuccessfulRequest(error)));
        }
    }
}
