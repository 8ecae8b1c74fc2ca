//! Slash commands: definitions and logic on plain data (no serenity Context needed).
//!
//! [`execute`] takes a [`CommandRequest`] and returns a [`Reply`] already cut to Discord's
//! limits; [`autocomplete`] returns topic (or feed) name choices; [`definitions`] are the
//! builders registered at start. [`crate::discord::handler`] converts between these and
//! serenity's types. Stories are shown by [`crate::present`], as in digests; other feed text in
//! replies always goes through [`crate::present::text::escape`].

pub mod digest;
pub mod feeds;
pub mod guard;
pub mod related;
pub mod request;
pub mod search;
pub mod subscribe;
pub mod topic;
pub mod topics;

use std::sync::Arc;

use jiff::Timestamp;
use serenity::all::CreateCommand;

use crate::config::{ChannelConfig, Config};
use crate::pipeline::Desk;
use crate::present::limits::{EMBEDS_PER_MESSAGE, MESSAGE_EMBED_TOTAL};
use crate::present::text::{escape, truncate_words};
use crate::present::{Embed, StoryEmbedStyle, StoryView, story_embed};
use crate::store::StoreError;

pub use request::{CommandRequest, OptionValue, Reply};

/// Choices Discord shows at most for one autocomplete.
pub const MAX_CHOICES: usize = 25;
/// Longest choice name and value Discord accepts.
const CHOICE_LIMIT: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the command panicked: {0}")]
    Panicked(String),
}

pub type Outcome = Result<Reply, CommandError>;

/// Every slash command, as registered with Discord.
pub fn definitions() -> Vec<CreateCommand> {
    vec![
        digest::definition(),
        topics::definition(),
        subscribe::definition(true),
        subscribe::definition(false),
        related::definition(),
        search::definition(),
        feeds::definition(),
        topic::definition(),
    ]
}

/// Runs one command. Never fails: store errors are logged and answered with a private message.
/// Store work runs on the blocking pool (reads on the desk's read connection), so a command
/// never holds up the async runtime that answers the others.
pub async fn execute(desk: &Arc<Desk>, req: &CommandRequest, now: Timestamp) -> Reply {
    let outcome = if (req.name.as_str(), req.subcommand()) == ("feeds", Some("add")) {
        feeds::add(desk, req, now).await
    } else {
        let (desk, req) = (Arc::clone(desk), req.clone());
        tokio::task::spawn_blocking(move || run_at_once(&desk, &req, now))
            .await
            .unwrap_or_else(|e| Err(CommandError::Panicked(e.to_string())))
    };
    match outcome {
        Ok(reply) => reply.fit(),
        Err(e) => {
            tracing::error!(command = %req.name, error = %e, "slash command failed");
            Reply::private("Something went wrong reading the news store; the error was logged.")
                .fit()
        }
    }
}

/// The commands that need no network: store work only.
fn run_at_once(desk: &Desk, req: &CommandRequest, now: Timestamp) -> Outcome {
    match req.name.as_str() {
        "digest" => digest::run(desk, req, now),
        "topics" => topics::run(desk),
        "subscribe" => subscribe::run(desk, req, true, now),
        "unsubscribe" => subscribe::run(desk, req, false, now),
        "related" => related::run(desk, req),
        "search" => search::run(desk, req, now),
        "feeds" => feeds::run(desk, req, now),
        "topic" => topic::run(desk, req, now),
        other => Ok(Reply::private(format!(
            "Unknown command /{}.",
            escape(&truncate_words(other, 40))
        ))),
    }
}

/// Whether a command's answer must be deferred (it fetches, so it may take longer than the 3 s
/// Discord allows): Some(ephemeral) for the deferral, None to answer directly.
pub fn deferral(req: &CommandRequest) -> Option<bool> {
    match (req.name.as_str(), req.subcommand()) {
        ("feeds", Some("add")) => Some(true),
        ("related", _) if related::target_is_url(req) => Some(false),
        _ => None,
    }
}

/// Autocomplete choices (name, value) for the option being typed, best first, at most
/// [`MAX_CHOICES`].
pub fn autocomplete(desk: &Desk, req: &CommandRequest) -> Vec<(String, String)> {
    let candidates: Vec<String> = match (req.name.as_str(), req.focused.as_deref()) {
        ("digest" | "subscribe", Some("topic")) => topic_names(desk),
        ("unsubscribe", Some("topic")) => {
            subscribe::followed_topics(desk, req.channel_id).unwrap_or_else(|| topic_names(desk))
        }
        ("topic", Some("name")) if req.subcommand() == Some("remove") => desk
            .reader()
            .custom_topics()
            .map(|t| t.into_iter().map(|t| t.name).collect())
            .unwrap_or_default(),
        ("feeds", Some("name")) if req.subcommand() == Some("remove") => desk
            .reader()
            .active_feeds()
            .map(|f| {
                f.into_iter()
                    .filter(|f| f.origin != crate::store::FeedOrigin::Config)
                    .map(|f| f.name)
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    choices(candidates, req.focused_text())
}

/// Autocomplete choices that need no store: the config's topic names (when the store is slow
/// to answer, these still let the user pick).
pub fn autocomplete_from_config(config: &Config, req: &CommandRequest) -> Vec<(String, String)> {
    let candidates = match (req.name.as_str(), req.focused.as_deref()) {
        ("digest" | "subscribe" | "unsubscribe", Some("topic")) => config
            .topics
            .iter()
            .map(|t| t.name.get_ref().clone())
            .collect(),
        _ => Vec::new(),
    };
    choices(candidates, req.focused_text())
}

fn topic_names(desk: &Desk) -> Vec<String> {
    let store = desk.reader();
    crate::store::effective_topics(&desk.config, &store)
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

/// Candidates starting with `typed` first, then those containing it (case-insensitive).
fn choices(candidates: Vec<String>, typed: &str) -> Vec<(String, String)> {
    let typed = typed.to_lowercase();
    let (mut prefix, mut contains): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for c in candidates {
        // Discord rejects longer values; such names cannot be chosen anyway.
        if c.is_empty() || c.chars().count() > CHOICE_LIMIT {
            continue;
        }
        let lower = c.to_lowercase();
        if lower.starts_with(&typed) {
            prefix.push(c);
        } else if lower.contains(&typed) {
            contains.push(c);
        }
    }
    prefix.extend(contains);
    prefix.dedup();
    prefix
        .into_iter()
        .take(MAX_CHOICES)
        .map(|c| (c.clone(), c))
        .collect()
}

/// The config `[[channel]]` posting to Discord channel `id`.
pub fn config_channel(config: &Config, id: u64) -> Option<&ChannelConfig> {
    config.channels.iter().find(|c| {
        c.discord_channel_id
            .as_ref()
            .and_then(|d| d.get_ref().parse::<u64>().ok())
            == Some(id)
    })
}

/// A private refusal unless the member holds `bit`.
fn require(req: &CommandRequest, bit: u64, what: &str) -> Option<Reply> {
    (!req.has_permission(bit)).then(|| {
        let message = if req.member_permissions.is_none() {
            format!("/{} only works inside a server.", req.name)
        } else {
            format!("You need the {what} permission for this command.")
        };
        Reply::private(message)
    })
}

/// Stories as embeds sharing one message's 6,000 embed characters: each gets an equal share,
/// and one that does not fit its share loses its lowest Related entries first.
pub fn story_embeds(views: &[StoryView]) -> Vec<Embed> {
    let shown = &views[..views.len().min(EMBEDS_PER_MESSAGE)];
    let share = MESSAGE_EMBED_TOTAL / shown.len().max(1);
    shown
        .iter()
        .map(|v| story_embed(v, StoryEmbedStyle::FULL).fit().shrink_to(share))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::present::limits::EMBED_TITLE;
    use crate::present::{Coverage, RelatedView};

    fn view(title: &str) -> StoryView {
        StoryView {
            story_id: crate::store::StoryId(1),
            title: title.to_string(),
            outlet: "Wire\n@everyone".into(),
            published: "2026-11-20T10:00:00Z".parse().expect("time"),
            url: Some("https://example.org/a".into()),
            page_url: None,
            summary: "Summary **bold** <@123> ".repeat(60),
            gist: "Summary **bold** <@123>".into(),
            also_covered_by: vec![Coverage {
                outlet: "Ledger".into(),
                title: "x".into(),
                url: Some("https://example.net/x".into()),
            }],
            related: (0..5)
                .map(|i| RelatedView {
                    story_id: crate::store::StoryId(i),
                    title: format!("Earlier [{i}](http://evil)"),
                    outlet: "Monitor".into(),
                    published: "2026-11-01T10:00:00Z".parse().expect("time"),
                    url: Some(format!("https://example.com/{i}")),
                    page_url: None,
                    line: String::new(),
                })
                .collect(),
            topics: vec!["ai".into()],
        }
    }

    #[test]
    fn story_embeds_are_escaped_and_share_the_budget() {
        let views: Vec<StoryView> = (0..10).map(|_| view(&"@here ".repeat(80))).collect();
        let reply = Reply {
            content: "Latest".into(),
            embeds: story_embeds(&views),
            ephemeral: false,
        }
        .fit();
        assert_eq!(reply.embeds.len(), 10);
        assert!(reply.embed_chars() <= MESSAGE_EMBED_TOTAL);
        for e in &reply.embeds {
            assert!(!e.title.contains("@here"), "{}", e.title);
            assert!(e.title.chars().count() <= EMBED_TITLE);
            assert!(!e.description.contains("<@123>"));
            assert!(!e.description.contains("**bold**"));
            assert!(!e.description.contains("](http://evil)"));
        }
        let one = story_embed(&view("Title"), StoryEmbedStyle::FULL).fit();
        let names: Vec<&str> = one.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names[..2], ["Also covered by", "Related"], "{names:?}");
        assert!(
            one.fields[0]
                .value
                .contains("[Ledger](<https://example.net/x>)")
        );
        let related = one.fields[1..]
            .iter()
            .map(|f| f.value.lines().count())
            .sum::<usize>();
        assert_eq!(related, 5, "every Related entry: {:?}", one.fields);
        assert_eq!(one.url.as_deref(), Some("https://example.org/a"));
        assert!(one.footer.as_deref().is_some_and(|f| !f.contains('\n')));
    }

    #[test]
    fn choices_prefer_prefixes_and_stop_at_25() {
        let names = vec!["rust".into(), "trust".into(), "ruby".into(), "go".into()];
        let got: Vec<String> = choices(names, "RU").into_iter().map(|c| c.0).collect();
        assert_eq!(got, vec!["rust", "ruby", "trust"]);
        let many: Vec<String> = (0..40).map(|i| format!("t{i}")).collect();
        assert_eq!(choices(many, "").len(), MAX_CHOICES);
    }
}
