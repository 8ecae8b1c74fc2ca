//! `/feeds list | health | add url [name] | remove name`.

use std::sync::Arc;

use jiff::Timestamp;
use serenity::all::{CommandOptionType, CreateCommand, CreateCommandOption, Permissions};
use url::Url;

use super::request::MANAGE_GUILD;
use super::{CommandError, CommandRequest, Outcome, Reply, guard, require};
use crate::fetch::FetchOutcome;
use crate::fetch::schedule::FeedStatus;
use crate::model::ParsedFeed;
use crate::pipeline::Desk;
use crate::present::Embed;
use crate::present::limits::EMBED_DESCRIPTION;
use crate::present::text::{escape, escape_within, join_lines, link, truncate_words, when};
use crate::store::{FeedRemoval, FeedSpec};

/// Longest feed name accepted from Discord.
const NAME_LIMIT: usize = 80;

pub fn definition() -> CreateCommand {
    let sub = |name: &str, description: &str| {
        CreateCommandOption::new(CommandOptionType::SubCommand, name, description)
    };
    CreateCommand::new("feeds")
        .description("The feeds newsdesk reads")
        // One permission per command on Discord's side: the whole group is for server managers;
        // add/remove are checked again when they arrive.
        .default_member_permissions(Permissions::MANAGE_GUILD)
        .add_option(sub("list", "Every feed and its state"))
        .add_option(sub("health", "Failing and dead feeds, paused channels"))
        .add_option(
            sub("add", "Follow a new feed (fetched and checked first)")
                .add_sub_option(
                    CreateCommandOption::new(CommandOptionType::String, "url", "Feed URL")
                        .required(true)
                        .max_length(2000),
                )
                .add_sub_option(
                    CreateCommandOption::new(
                        CommandOptionType::String,
                        "name",
                        "Name shown in digests (default: the feed's title)",
                    )
                    .max_length(NAME_LIMIT as u16),
                ),
        )
        .add_option(
            sub("remove", "Stop following a feed added from Discord").add_sub_option(
                CreateCommandOption::new(CommandOptionType::String, "name", "Feed name")
                    .required(true)
                    .set_autocomplete(true),
            ),
        )
}

/// `/feeds list | health | remove` (`add` fetches: [`add`]).
pub fn run(desk: &Desk, req: &CommandRequest, now: Timestamp) -> Outcome {
    match req.subcommand() {
        Some("list") => list(desk),
        Some("health") => health(desk, now),
        Some("remove") => remove(desk, req),
        _ => Ok(Reply::private("Use /feeds list, health, add or remove.")),
    }
}

fn list(desk: &Desk) -> Outcome {
    let feeds = desk.reader().feeds()?;
    let active = feeds.iter().filter(|f| f.active).count();
    let lines: Vec<String> = feeds
        .iter()
        .filter(|f| f.active)
        .map(|f| {
            let origin = if f.origin == crate::store::FeedOrigin::Config {
                String::new()
            } else {
                format!(", added from {}", escape(f.origin.as_str()))
            };
            format!(
                "**{}** ({}{origin}): {}, {} items",
                link(&f.name, Some(&f.url), NAME_LIMIT),
                escape(&truncate_words(&f.url, 120)),
                f.health.status.as_str(),
                f.item_count
            )
        })
        .collect();
    let description = if lines.is_empty() {
        "No feeds yet: add one to the config file or with /feeds add.".to_string()
    } else {
        join_lines(&lines, EMBED_DESCRIPTION)
    };
    Ok(Reply::private("").with_embed(Embed {
        title: format!("Feeds ({active})"),
        description,
        ..Embed::default()
    }))
}

fn health(desk: &Desk, now: Timestamp) -> Outcome {
    let store = desk.reader();
    let feeds = store.active_feeds()?;
    let mut lines = Vec::new();
    for f in feeds.iter().filter(|f| f.health.status != FeedStatus::Ok) {
        let since = f
            .health
            .failing_since
            .map(|t| format!(" since {}", when(t)))
            .unwrap_or_default();
        let error = f.health.last_error.as_deref().unwrap_or("unknown error");
        lines.push(format!(
            "**{}**: {}{since}, {} failures in a row: {}",
            escape(&truncate_words(&f.name, NAME_LIMIT)),
            f.health.status.as_str(),
            f.health.consecutive_failures,
            escape_within(error, 300)
        ));
    }
    let failing = lines.len();
    for channel in &desk.config.channels {
        let name = channel.name.get_ref();
        if let Some(reason) = store.channel_state(name)?.paused_reason {
            lines.push(format!(
                "Channel **{}** is paused: {}",
                escape(name),
                escape_within(&reason, 300)
            ));
        }
    }
    let paused = lines.len() - failing;
    // The last week's stories a channel refused twice (their message was never posted).
    let week = jiff::SignedDuration::from_hours(24 * 7);
    for (channel, story, why, at) in store.dropped_stories(now - week)? {
        let title = store
            .story(story)
            .and_then(|s| store.item(s.lead_item_id))
            .map(|i| i.title)
            .unwrap_or_else(|_| format!("story {story}"));
        lines.push(format!(
            "Dropped from **{}** on {}: {} ({})",
            escape(&channel),
            when(at),
            escape_within(&title, 120),
            escape_within(&why, 200)
        ));
    }
    if lines.is_empty() {
        lines.push(format!(
            "All {} feeds are healthy and no channel is paused.",
            feeds.len()
        ));
    }
    Ok(Reply::private("").with_embed(Embed {
        title: "Feed health".to_string(),
        description: join_lines(&lines, EMBED_DESCRIPTION),
        footer: Some(format!(
            "{failing} of {} feeds failing or dead · {paused} channels paused",
            feeds.len()
        )),
        ..Embed::default()
    }))
}

/// `/feeds add`: fetches and parses the URL first, so it runs on the async runtime; its store
/// work goes to the blocking pool.
pub async fn add(desk: &Arc<Desk>, req: &CommandRequest, now: Timestamp) -> Outcome {
    if let Some(refusal) = require(req, MANAGE_GUILD, "Manage Server") {
        return Ok(refusal);
    }
    let url = match allowed_url(desk, req).await {
        Ok(url) => url,
        Err(refusal) => return Ok(refusal),
    };
    if let Some(known) = followed_as(desk, &url)? {
        return Ok(Reply::private(format!(
            "That feed is already followed as **{}**.",
            escape(&known)
        )));
    }
    let parsed = match fetch_feed(desk, &url).await {
        Ok(parsed) => parsed,
        Err(refusal) => return Ok(refusal),
    };
    let name = feed_name(req, &parsed, &url);
    if !insert_feed(desk, &name, &url, now).await? {
        return Ok(Reply::private(format!(
            "A feed called **{}** exists already; choose another name.",
            escape(&name)
        )));
    }
    tracing::info!(feed = %name, %url, user = req.user_id, "feed added from Discord");
    Ok(Reply::private(format!(
        "Added **{}** ({} entries now). Its current entries are recorded quietly at the next \
         poll; new ones appear in digests after that.",
        escape(&name),
        parsed.entries.len()
    )))
}

/// The requested URL, or the reply refusing it: unparsable, or an address Discord users may
/// not make newsdesk reach.
async fn allowed_url(desk: &Desk, req: &CommandRequest) -> Result<Url, Reply> {
    let Some(raw) = req.string("url") else {
        return Err(Reply::private("Give the feed's URL."));
    };
    let url = Url::parse(raw).map_err(|e| {
        Reply::private(format!(
            "That is not a URL ({e}): {}",
            escape_within(raw, 300)
        ))
    })?;
    let allow = desk.config.discord.allow_private_feed_urls;
    if let Err(e) = guard::check_url(&url, allow).await {
        tracing::warn!(url = %url, user = req.user_id, error = %e, "feed URL refused");
        return Err(Reply::private(format!(
            "Refused: {}",
            escape(&e.to_string())
        )));
    }
    Ok(url)
}

/// The name of the active feed already reading `url`, if any.
fn followed_as(desk: &Desk, url: &Url) -> Result<Option<String>, CommandError> {
    Ok(desk
        .reader()
        .feeds()?
        .into_iter()
        .find(|f| f.url == url.as_str() && f.active)
        .map(|f| f.name))
}

/// The feed at `url`, fetched and parsed, or the reply saying why it cannot be followed.
async fn fetch_feed(desk: &Desk, url: &Url) -> Result<ParsedFeed, Reply> {
    // Through the public-only client unless allowed: every redirect hop and DNS answer is
    // checked as it is used, not just the address looked up before.
    let fetcher = if desk.config.discord.allow_private_feed_urls {
        desk.fetcher().clone()
    } else {
        desk.fetcher().public_only()
    };
    let fetched = match fetcher.get(url, &Default::default()).await {
        Ok(FetchOutcome::Fetched(fetched)) => fetched,
        Ok(FetchOutcome::NotModified { .. }) => {
            return Err(Reply::private(
                "The server answered 304 Not Modified to a plain request; not added.",
            ));
        }
        Err(e) => {
            return Err(Reply::private(format!(
                "Could not fetch it: {}. Not added.",
                escape_within(&e.to_string(), 300)
            )));
        }
    };
    crate::parse::parse_feed(
        &fetched.body,
        fetched.content_type.as_deref(),
        Some(&fetched.final_url),
    )
    .map_err(|e| {
        Reply::private(format!(
            "That is not a feed newsdesk can read: {}. Not added.",
            escape_within(&e.to_string(), 300)
        ))
    })
}

/// The name asked for, else the feed's title, else its host: one line within [`NAME_LIMIT`].
fn feed_name(req: &CommandRequest, parsed: &ParsedFeed, url: &Url) -> String {
    let name = req
        .string("name")
        .map(str::to_string)
        .or_else(|| parsed.meta.title.clone().filter(|t| !t.trim().is_empty()))
        .or_else(|| url.host_str().map(str::to_string))
        .unwrap_or_else(|| url.to_string());
    truncate_words(&name.replace(char::is_control, " "), NAME_LIMIT)
}

/// Adds the feed on the blocking pool; false when an active feed has that name already.
async fn insert_feed(
    desk: &Arc<Desk>,
    name: &str,
    url: &Url,
    now: Timestamp,
) -> Result<bool, CommandError> {
    let spec = FeedSpec {
        name: name.to_string(),
        url: url.to_string(),
    };
    let writer = Arc::clone(desk);
    tokio::task::spawn_blocking(move || -> Result<bool, CommandError> {
        let mut store = writer.store();
        if store.feed_by_name(&spec.name)?.is_some_and(|f| f.active) {
            return Ok(false);
        }
        store.add_feed(&spec, crate::store::FeedOrigin::Discord, now)?;
        Ok(true)
    })
    .await
    .map_err(|e| CommandError::Panicked(e.to_string()))?
}

fn remove(desk: &Desk, req: &CommandRequest) -> Outcome {
    if let Some(refusal) = require(req, MANAGE_GUILD, "Manage Server") {
        return Ok(refusal);
    }
    let Some(name) = req.string("name") else {
        return Ok(Reply::private(
            "Name the feed to remove: /feeds list shows them.",
        ));
    };
    let removal = desk.store().remove_feed(name)?;
    let shown = escape(name);
    Ok(match removal {
        FeedRemoval::Deactivated(feed) => {
            tracing::info!(feed = %feed.name, user = req.user_id, "feed removed from Discord");
            Reply::private(format!(
                "Stopped following **{shown}**; its stories stay searchable."
            ))
        }
        FeedRemoval::FromConfig(_) => Reply::private(format!(
            "**{shown}** comes from the config file; remove it there (Discord can only remove \
             feeds added with /feeds add)."
        )),
        FeedRemoval::AlreadyInactive(_) => {
            Reply::private(format!("**{shown}** is not followed any more."))
        }
        FeedRemoval::NotFound => Reply::private(format!("There is no feed called **{shown}**.")),
    })
}
