//! Digests posted to Discord channels (or webhooks) as embed messages, exactly once. In a forum
//! channel (by the bot or through the forum's webhook) each digest opens a post (a thread) whose
//! first message is the digest's first part; the other parts follow inside the thread.
//!
//! Each bot message of a digest goes out with a nonce derived from the digest's id and the part
//! number, and `enforce_nonce`, so Discord itself drops a duplicate sent after a crash between
//! send and record; parts already recorded are skipped on retry, and a part Discord accepted is
//! never sent again because its record failed (the record is retried instead). Webhook messages
//! and forum posts cannot carry a nonce: for them only a crash in the instant between Discord's
//! answer and the record could repeat one message.
//! `allowed_mentions` is empty on every message: feed text never pings anyone.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serenity::all::{
    ChannelId, CreateAllowedMentions, CreateEmbed, CreateEmbedFooter, CreateForumPost,
    CreateMessage, ExecuteWebhook, Http, HttpError, Nonce,
};

use super::webhook::WebhookClient;
use crate::digest::layout::{self, PostEmbed, PostMessage};
use crate::digest::{Digest, Sink, SinkError};
use crate::pipeline::Desk;

/// Where a channel's digests go on Discord.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Channel(u64),
    /// A forum channel: each digest opens a post (a thread) there; later parts go into it.
    Forum(u64),
    /// A webhook: its id and token (the token comes from the environment, never the config).
    Webhook {
        id: u64,
        token: String,
    },
    /// A webhook of a forum channel: each digest opens a post, later parts go into it.
    ForumWebhook {
        id: u64,
        token: String,
    },
}

/// Channel and forum targets without a bot client (routing keeps them from getting here).
const NO_BOT: serenity::Error =
    serenity::Error::Other("posting to a Discord channel needs the bot token");

/// Longest wait between attempts at recording a message Discord accepted.
const RECORD_RETRY_MAX: Duration = Duration::from_secs(60);

/// Retries of one message on server errors before the digest is left for a later attempt.
const SERVER_ERROR_RETRIES: u32 = 3;

pub struct DiscordSink {
    /// The bot's client, for channel and forum targets; None without a bot token.
    http: Option<Arc<Http>>,
    webhooks: WebhookClient,
    desk: Arc<Desk>,
    targets: HashMap<String, Target>,
    /// First wait after a 5xx; doubles per retry.
    backoff: Duration,
}

impl DiscordSink {
    pub fn new(
        http: Option<Arc<Http>>,
        webhooks: WebhookClient,
        desk: Arc<Desk>,
        targets: HashMap<String, Target>,
    ) -> DiscordSink {
        DiscordSink {
            http,
            webhooks,
            desk,
            targets,
            backoff: Duration::from_secs(2),
        }
    }

    fn bot(&self) -> Option<&Http> {
        self.http.as_deref()
    }

    /// Shorter waits between retries (tests).
    pub fn with_backoff(mut self, backoff: Duration) -> DiscordSink {
        self.backoff = backoff;
        self
    }

    async fn send(
        &self,
        destination: &Destination<'_>,
        message: &PostMessage,
        nonce: &str,
    ) -> Result<String, serenity::Error> {
        let embeds: Vec<CreateEmbed> = message.embeds.iter().map(embed).collect();
        let builder = CreateMessage::new()
            .content(message.content.clone())
            .embeds(embeds.clone())
            .allowed_mentions(CreateAllowedMentions::new());
        match destination {
            Destination::Channel(id) => {
                let builder = builder
                    .nonce(Nonce::String(nonce.to_string()))
                    .enforce_nonce(true);
                let sent = ChannelId::new(*id)
                    .send_message(self.bot().ok_or(NO_BOT)?, builder)
                    .await?;
                Ok(sent.id.to_string())
            }
            // A forum post takes no nonce; its starter message has the thread's id.
            Destination::NewForumPost { forum, name } => {
                let post = ChannelId::new(*forum)
                    .create_forum_post(
                        self.bot().ok_or(NO_BOT)?,
                        CreateForumPost::new(name.clone(), builder),
                    )
                    .await?;
                Ok(post.id.to_string())
            }
            Destination::Webhook {
                id,
                token,
                thread,
                new_post,
            } => {
                let mut builder = ExecuteWebhook::new()
                    .content(message.content.clone())
                    .embeds(embeds)
                    .allowed_mentions(CreateAllowedMentions::new());
                if let Some(name) = new_post {
                    builder = builder.thread_name(name.clone());
                }
                self.webhooks.execute(*id, token, *thread, &builder).await
            }
        }
    }
}

impl Destination<'_> {
    fn is_webhook(&self) -> bool {
        matches!(self, Destination::Webhook { .. })
    }
}

/// Where one message of a digest goes.
enum Destination<'a> {
    Channel(u64),
    NewForumPost {
        forum: u64,
        name: String,
    },
    Webhook {
        id: u64,
        token: &'a str,
        /// Post inside this thread.
        thread: Option<u64>,
        /// Open a forum post with this name.
        new_post: Option<String>,
    },
}

fn embed(e: &PostEmbed) -> CreateEmbed {
    let mut out = CreateEmbed::new()
        .title(e.title.clone())
        .description(e.description.clone())
        .footer(CreateEmbedFooter::new(e.footer.clone()));
    if let Some(url) = &e.url {
        out = out.url(url.clone());
    }
    if let Ok(ts) = serenity::model::Timestamp::from_unix_timestamp(e.timestamp.as_second()) {
        out = out.timestamp(ts);
    }
    for field in &e.fields {
        out = out.field(field.name.clone(), field.value.clone(), false);
    }
    out
}

/// How a failed request should be handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Retry(String),
    Later(String),
    Pause(String),
    Unauthorized(String),
}

/// Sorts a serenity error by what to do next. Never loops on 401/403/429: those are not
/// retried here (serenity's rate limiter already honoured 429's retry_after).
pub fn classify(error: &serenity::Error) -> Failure {
    let serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) = error else {
        return Failure::Later(with_causes(error));
    };
    let status = response.status_code.as_u16();
    let code = response.error.code;
    let what = format!(
        "HTTP {status}, Discord code {code}: {}",
        response.error.message
    );
    match (status, code) {
        (401, _) => Failure::Unauthorized(what),
        (_, 50013) => Failure::Pause(format!("missing permissions ({what})")),
        (_, 50001) => Failure::Pause(format!("missing access ({what})")),
        (_, 10003) => Failure::Pause(format!("unknown channel ({what})")),
        (_, 10015) => Failure::Pause(format!("unknown webhook ({what})")),
        // 50008: a message sent to a forum; 220001: a webhook post to a forum without a thread.
        (_, 50008 | 220001) => Failure::Pause(format!(
            "the channel takes no messages; if it is a forum, set forum = true for it ({what})"
        )),
        (403, _) | (404, _) => Failure::Pause(what),
        // A 429 reaches here only when no rate limiter waited it out (a proxy base URL, or a
        // wait too long to sit through): back off like a server error.
        (429, _) => Failure::Retry(what),
        (s, _) if s >= 500 => Failure::Retry(what),
        _ => Failure::Later(what),
    }
}

/// An error with its causes ("Error while sending HTTP request: …: connection refused"): the
/// top line alone says nothing. Request errors never carry a URL here (a webhook's holds its
/// secret).
fn with_causes(error: &serenity::Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        let line = inner.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        cause = inner.source();
    }
    text
}

impl Sink for DiscordSink {
    async fn post(&self, digest: &Digest) -> Result<(), SinkError> {
        let Some(target) = self.targets.get(&digest.channel) else {
            return Err(SinkError::ChannelUnavailable(format!(
                "channel {:?} has no Discord target (discord_channel_id or webhook)",
                digest.channel
            )));
        };
        let messages = layout::digest_messages(digest);
        let sent: Vec<(usize, String)> = match digest.id {
            Some(id) => self
                .desk
                .store()
                .sent_parts(id)
                .map_err(|e| SinkError::Delivery(e.to_string()))?,
            None => Vec::new(),
        };
        // A forum post's thread: the id of its first part, once sent.
        let mut thread: Option<u64> = sent
            .iter()
            .find(|(part, _)| *part == 0)
            .and_then(|(_, id)| id.parse().ok());
        for (part, message) in messages.iter().enumerate() {
            if sent.iter().any(|(done, _)| *done == part) {
                continue;
            }
            let destination = match (target, thread) {
                (Target::Channel(id), _) => Destination::Channel(*id),
                (Target::Forum(_), Some(thread)) => Destination::Channel(thread),
                (Target::Forum(forum), None) => Destination::NewForumPost {
                    forum: *forum,
                    name: layout::forum_post_name(digest),
                },
                (Target::Webhook { id, token }, _) => Destination::Webhook {
                    id: *id,
                    token,
                    thread: None,
                    new_post: None,
                },
                (Target::ForumWebhook { id, token }, thread) => Destination::Webhook {
                    id: *id,
                    token,
                    thread,
                    new_post: thread.is_none().then(|| layout::forum_post_name(digest)),
                },
            };
            // ≤ 25 characters, unique per digest and part.
            let nonce = format!("nd{}p{part}", digest.id.unwrap_or(0));
            let mut attempt = 0;
            let message_id = loop {
                match self.send(&destination, message, &nonce).await {
                    Ok(id) => break id,
                    Err(e) => match classify(&e) {
                        Failure::Retry(what) if attempt < SERVER_ERROR_RETRIES => {
                            tracing::info!(channel = %digest.channel, %what, attempt, "Discord server error; retrying");
                            tokio::time::sleep(self.backoff * 2u32.pow(attempt)).await;
                            attempt += 1;
                        }
                        Failure::Retry(what) | Failure::Later(what) => {
                            return Err(SinkError::Delivery(what));
                        }
                        Failure::Pause(what) => return Err(SinkError::ChannelUnavailable(what)),
                        // A webhook carries its own secret: a refused one is that channel's
                        // problem (revoked or rotated), not the bot's token.
                        Failure::Unauthorized(what) if destination.is_webhook() => {
                            return Err(SinkError::ChannelUnavailable(format!(
                                "the webhook's token was refused (revoked or rotated? put its \
                                 current URL in the channel's webhook_env variable): {what}"
                            )));
                        }
                        Failure::Unauthorized(what) => return Err(SinkError::Unauthorized(what)),
                    },
                }
            };
            let forum = matches!(target, Target::Forum(_) | Target::ForumWebhook { .. });
            if forum && thread.is_none() {
                thread = message_id.parse().ok();
            }
            if let Some(id) = digest.id {
                self.record_sent(id, part, &nonce, &message_id).await;
            }
        }
        Ok(())
    }
}

impl DiscordSink {
    /// Records a message Discord accepted. Only the record is retried, never the send: a part
    /// sent again after a failed record would appear twice where no nonce guards it (webhooks,
    /// forum posts). The wait ends when the store takes the record, or when the daemon's grace
    /// period after a stop cuts it short (then the part is sent again at the next start, and
    /// Discord drops it by its nonce where there is one).
    async fn record_sent(&self, digest: i64, part: usize, nonce: &str, message_id: &str) {
        let mut wait = self.backoff;
        loop {
            let recorded =
                self.desk
                    .store()
                    .record_message(digest, part, nonce, message_id, Timestamp::now());
            match recorded {
                Ok(()) => return,
                Err(e) => {
                    tracing::error!(digest, part, error = %e,
                        "a posted message could not be recorded; retrying the record, not the post");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(RECORD_RETRY_MAX);
                }
            }
        }
    }
}
