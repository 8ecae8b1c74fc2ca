//! Digests posted to Discord channels (or webhooks) as embed messages, exactly once. In a forum
//! channel (by the bot or through the forum's webhook) each digest opens a post (a thread) whose
//! first message is the digest's first part; the other parts follow inside the thread.
//!
//! What is guaranteed:
//! - Parts already recorded are never sent again, and a part Discord accepted is never sent
//!   again because its record failed (the record is retried instead).
//! - A bot message goes out with a nonce derived from the digest's id and the part number, and
//!   `enforce_nonce`: Discord drops a copy sent after a crash between send and record, within
//!   its nonce window (a few minutes). A part of a digest that began longer ago is first looked
//!   for among the channel's recent messages ([`recall`]) and only sent if it is not there.
//! - Webhook messages and forum posts carry no nonce, and a webhook cannot list its channel
//!   without a bot: for them a crash in the instant between Discord's answer and the record can
//!   repeat that one message.
//!
//! Discord's answers are sorted by [`classify`]: transient ones are retried, a message Discord
//! will never take is skipped and its stories given back for one more digest, and a channel
//! that needs a human is paused with the fix in words. A forum post deleted between parts is
//! replaced by a new post for the rest. `allowed_mentions` is empty on every message: feed text
//! never pings anyone.

mod classify;
mod recall;
mod tags;

pub use classify::{Failure, classify};
pub use recall::NONCE_WINDOW;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serenity::all::{
    ChannelId, CreateAllowedMentions, CreateEmbed, CreateForumPost, CreateMessage, ExecuteWebhook,
    ForumTagId, Http, Nonce,
};

use self::classify::is_unknown_channel;
use self::tags::ForumTags;
use super::webhook::WebhookClient;
use crate::digest::layout::{self, PostMessage};
use crate::digest::{Digest, Sink, SinkError};
use crate::discord::embed::create_embed;
use crate::pipeline::Desk;
use crate::store::{DigestId, StoryId};

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
    /// `forum_tags` per channel name, as the config writes them.
    forum_tags: HashMap<String, Vec<String>>,
    tag_ids: ForumTags,
    /// First wait after a 5xx; doubles per retry.
    backoff: Duration,
    /// Per channel name: the Discord server it is in and (for a plain webhook) the channel the
    /// webhook posts to, looked up once for the stories' "Discuss on Discord" links.
    places: std::sync::Mutex<HashMap<String, Place>>,
}

/// Where a channel's messages are on Discord, as far as a link needs.
#[derive(Debug, Clone, Copy)]
struct Place {
    guild: u64,
    /// The channel a webhook posts to (the other targets name theirs).
    webhook_channel: Option<u64>,
}

impl DiscordSink {
    pub fn new(
        http: Option<Arc<Http>>,
        webhooks: WebhookClient,
        desk: Arc<Desk>,
        targets: HashMap<String, Target>,
    ) -> DiscordSink {
        let forum_tags = desk
            .config
            .channels
            .iter()
            .filter(|c| !c.forum_tags.is_empty())
            .map(|c| (c.name.get_ref().clone(), c.forum_tags.clone()))
            .collect();
        DiscordSink {
            http,
            webhooks,
            desk,
            targets,
            forum_tags,
            tag_ids: ForumTags::default(),
            backoff: Duration::from_secs(2),
            places: Default::default(),
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
        tags: &[ForumTagId],
    ) -> Result<String, serenity::Error> {
        let embeds: Vec<CreateEmbed> = message.embeds.iter().map(create_embed).collect();
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
                        CreateForumPost::new(name.clone(), builder).set_applied_tags(tags.to_vec()),
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
                    if !tags.is_empty() {
                        builder = builder.applied_tags(tags.to_vec());
                    }
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

impl Sink for DiscordSink {
    async fn post(&self, digest: &Digest) -> Result<(), SinkError> {
        let Some(target) = self.targets.get(&digest.channel) else {
            return Err(SinkError::ChannelUnavailable(format!(
                "channel {:?} has no Discord target (discord_channel_id or webhook)",
                digest.channel
            )));
        };
        let forum = matches!(target, Target::Forum(_) | Target::ForumWebhook { .. });
        let tags = if forum {
            self.forum_tag_ids(&digest.channel, target).await?
        } else {
            Vec::new()
        };
        let messages = layout::digest_messages(digest);
        let (sent, started) = match digest.id {
            Some(id) => {
                let store = self.desk.store();
                let sent = store
                    .sent_parts(id)
                    .map_err(|e| SinkError::Delivery(e.to_string()))?;
                let started = store
                    .digest_created_at(id)
                    .map_err(|e| SinkError::Delivery(e.to_string()))?;
                (sent, started)
            }
            None => (Vec::new(), None),
        };
        // Past the nonce window, Discord would take a copy of a part sent before a crash. (The
        // digest's time is the desk's clock, as its record's is.)
        let beyond_nonce = started.is_some_and(|at| at + NONCE_WINDOW < digest.generated_at);
        // A forum post's thread: the id of its first part, once sent.
        let mut thread: Option<u64> = sent
            .iter()
            .find(|(part, _)| *part == 0)
            .and_then(|(_, id)| id.parse().ok());
        let mut refused: Vec<StoryId> = Vec::new();
        let mut reasons: Vec<String> = Vec::new();
        for (part, message) in messages.iter().enumerate() {
            if sent.iter().any(|(done, _)| *done == part) {
                continue;
            }
            // ≤ 25 characters, unique per digest and part.
            let nonce = format!("nd{}p{part}", digest.id.map_or(0, |id| id.0));
            let destination = destination(target, thread, digest);
            let posted = match (&destination, self.bot()) {
                (Destination::Channel(channel), Some(bot)) if beyond_nonce => {
                    recall::find_posted(bot, *channel, message)
                        .await
                        .unwrap_or_else(|e| {
                            tracing::warn!(error = %e, "could not look for a part posted before");
                            None
                        })
                }
                _ => None,
            };
            let message_id = match posted {
                Some(id) => {
                    tracing::info!(channel = %digest.channel, part, "part found posted before a restart; not sent again");
                    id
                }
                None => {
                    match self
                        .send_part(digest, target, &mut thread, message, &nonce, &tags)
                        .await?
                    {
                        Ok(id) => id,
                        Err(what) => {
                            refused.extend(&message.stories);
                            reasons.push(format!("part {}: {what}", part + 1));
                            continue;
                        }
                    }
                }
            };
            if forum && thread.is_none() {
                thread = message_id.parse().ok();
            }
            if let Some(id) = digest.id {
                self.record_sent(id, part, &nonce, &message_id).await;
                self.record_story_posts(id, digest, target, thread, message, &message_id)
                    .await;
            }
        }
        if refused.is_empty() {
            Ok(())
        } else {
            Err(SinkError::Refused {
                stories: refused,
                why: format!("Discord refused {}", reasons.join(", ")),
            })
        }
    }
}

/// Where the next part goes: the channel, the forum post opened for this digest (or a new one),
/// or the webhook (into that post, for a forum webhook).
fn destination<'a>(target: &'a Target, thread: Option<u64>, digest: &Digest) -> Destination<'a> {
    match (target, thread) {
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
    }
}

impl DiscordSink {
    /// Sends one part: server errors are retried a few times; a forum post deleted meanwhile
    /// is replaced by a new one (`thread` is reset); a body Discord will never take gives
    /// `Ok(Err(why))` (logged); anything else ends the digest's attempt with the matching error.
    async fn send_part(
        &self,
        digest: &Digest,
        target: &Target,
        thread: &mut Option<u64>,
        message: &PostMessage,
        nonce: &str,
        tags: &[ForumTagId],
    ) -> Result<Result<String, String>, SinkError> {
        let mut attempt = 0;
        let mut reopened = false;
        loop {
            let destination = destination(target, *thread, digest);
            let error = match self.send(&destination, message, nonce, tags).await {
                Ok(id) => return Ok(Ok(id)),
                Err(e) => e,
            };
            if thread.is_some() && !reopened && is_unknown_channel(&error) {
                tracing::warn!(channel = %digest.channel,
                    "the digest's forum post was deleted; the rest opens a new post");
                *thread = None;
                reopened = true;
                continue;
            }
            match classify(&error) {
                Failure::Retry(what) if attempt < SERVER_ERROR_RETRIES => {
                    tracing::info!(channel = %digest.channel, %what, attempt, "Discord server error; retrying");
                    tokio::time::sleep(self.backoff * 2u32.pow(attempt)).await;
                    attempt += 1;
                }
                Failure::Retry(what) | Failure::Later(what) => {
                    return Err(SinkError::Delivery(what));
                }
                Failure::Reject(what) => {
                    tracing::error!(channel = %digest.channel, digest = ?digest.id, %what,
                        "Discord refused a part of the digest; its stories get one more try");
                    return Ok(Err(what));
                }
                Failure::Pause(what) => return Err(SinkError::ChannelUnavailable(what)),
                // A webhook carries its own secret: a refused one is that channel's problem
                // (revoked or rotated), not the bot's token.
                Failure::Unauthorized(what) if destination.is_webhook() => {
                    return Err(SinkError::ChannelUnavailable(format!(
                        "the webhook's token was refused (revoked or rotated? put its current \
                         URL in the channel's webhook_env variable): {what}"
                    )));
                }
                Failure::Unauthorized(what) => return Err(SinkError::Unauthorized(what)),
            }
        }
    }

    /// The ids of the channel's `forum_tags` (a problem with them pauses the channel).
    async fn forum_tag_ids(
        &self,
        channel: &str,
        target: &Target,
    ) -> Result<Vec<ForumTagId>, SinkError> {
        let Some(names) = self.forum_tags.get(channel) else {
            return Ok(Vec::new());
        };
        let forum = match target {
            Target::Forum(id) => Some(*id),
            _ => None,
        };
        match self.tag_ids.ids(forum, names, self.bot()).await {
            Ok(Ok(ids)) => Ok(ids),
            Ok(Err(problem)) => Err(SinkError::ChannelUnavailable(problem.0)),
            Err(e) => match classify(&e) {
                Failure::Pause(what) => Err(SinkError::ChannelUnavailable(what)),
                Failure::Unauthorized(what) => Err(SinkError::Unauthorized(what)),
                Failure::Retry(what) | Failure::Later(what) | Failure::Reject(what) => {
                    Err(SinkError::Delivery(what))
                }
            },
        }
    }
}

impl DiscordSink {
    /// Records where the stories of a posted message are on Discord, for the links on their
    /// pages. Best effort: a server that cannot be learned means no link, never a failed post.
    async fn record_story_posts(
        &self,
        digest_id: DigestId,
        digest: &Digest,
        target: &Target,
        thread: Option<u64>,
        message: &PostMessage,
        message_id: &str,
    ) {
        let Ok(message_id) = message_id.parse::<u64>() else {
            return;
        };
        let Some(place) = self.place_of(&digest.channel, target).await else {
            return;
        };
        let channel = match target {
            Target::Channel(id) => Some(*id),
            Target::Forum(_) | Target::ForumWebhook { .. } => thread,
            Target::Webhook { .. } => place.webhook_channel,
        };
        let Some(channel_id) = channel else {
            return;
        };
        let post = crate::store::DiscordPost {
            guild_id: place.guild,
            channel_id,
            message_id,
        };
        let recorded = self.desk.store().record_story_posts(
            digest_id,
            &message.stories,
            &post,
            digest.generated_at,
        );
        if let Err(e) = recorded {
            tracing::warn!(digest = %digest_id, error = %e, "where stories were posted was not recorded; their pages link no discussion");
        }
    }

    /// The server of a channel's target (and a webhook's channel), asked of Discord once.
    async fn place_of(&self, channel: &str, target: &Target) -> Option<Place> {
        let known = self
            .places
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(channel)
            .copied();
        if known.is_some() {
            return known;
        }
        let found = match target {
            Target::Channel(id) | Target::Forum(id) => {
                let bot = self.bot()?;
                match ChannelId::new(*id).to_channel(bot).await {
                    Ok(serenity::all::Channel::Guild(c)) => Some(Place {
                        guild: c.guild_id.get(),
                        webhook_channel: None,
                    }),
                    Ok(_) => None,
                    Err(e) => {
                        tracing::info!(%channel, error = %e, "the channel's server is unknown; no discussion links");
                        None
                    }
                }
            }
            Target::Webhook { id, token } | Target::ForumWebhook { id, token } => {
                match self.webhooks.place(*id, token).await {
                    Ok((Some(guild), webhook_channel)) => Some(Place {
                        guild,
                        webhook_channel,
                    }),
                    Ok((None, _)) => None,
                    // Not logged in detail: the request's URL holds the webhook's secret.
                    Err(_) => {
                        tracing::info!(%channel, "the webhook's server is unknown; no discussion links");
                        None
                    }
                }
            }
        };
        if let Some(place) = found {
            self.places
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(channel.to_string(), place);
        }
        found
    }

    /// Records a message Discord accepted. Only the record is retried, never the send: a part
    /// sent again after a failed record would appear twice where no nonce guards it (webhooks,
    /// forum posts). The wait ends when the store takes the record, or when the daemon's grace
    /// period after a stop cuts it short (then the part is sent again at the next start, and
    /// Discord drops it by its nonce where there is one).
    async fn record_sent(&self, digest: DigestId, part: usize, nonce: &str, message_id: &str) {
        let mut wait = self.backoff;
        loop {
            let recorded =
                self.desk
                    .store()
                    .record_message(digest, part, nonce, message_id, Timestamp::now());
            match recorded {
                Ok(()) => return,
                Err(e) => {
                    tracing::error!(%digest, part, error = %e,
                        "a posted message could not be recorded; retrying the record, not the post");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(RECORD_RETRY_MAX);
                }
            }
        }
    }
}
