//! `/digest [topic]`: this channel's (or a topic's) latest stories, now.

use jiff::Timestamp;
use serenity::all::{CommandOptionType, CreateCommand, CreateCommandOption};

use super::{CommandRequest, Outcome, Reply, config_channel, story_embeds};
use crate::digest::render::escape;
use crate::pipeline::Desk;

/// Stories one `/digest` shows (one embed each, and a message holds 10).
const MAX_STORIES: usize = 10;

pub fn definition() -> CreateCommand {
    CreateCommand::new("digest")
        .description("This channel's latest stories now (or a topic's)")
        .add_option(
            CreateCommandOption::new(CommandOptionType::String, "topic", "Only this topic")
                .set_autocomplete(true),
        )
}

pub fn run(desk: &Desk, req: &CommandRequest, now: Timestamp) -> Outcome {
    let store = desk.reader();
    let config = &desk.config;
    let channel = config_channel(config, req.channel_id);
    let (topics, limit, heading) = match req.string("topic") {
        Some(topic) => {
            let known = crate::store::effective_topics(config, &store);
            if !known.iter().any(|(name, _)| name == topic) {
                return Ok(Reply::private(format!(
                    "There is no topic called {}. /topics lists them.",
                    escape(topic)
                )));
            }
            (
                vec![topic.to_string()],
                MAX_STORIES,
                format!("Latest on **{}**", escape(topic)),
            )
        }
        None => match channel {
            Some(c) => {
                let name = c.name.get_ref();
                let topics = crate::store::channel_topics(config, &store, name);
                let heading = if topics.is_empty() {
                    format!("Latest for **{}**", escape(name))
                } else {
                    format!(
                        "Latest for **{}** ({})",
                        escape(name),
                        escape(&topics.join(", "))
                    )
                };
                (topics, c.max_stories.min(MAX_STORIES), heading)
            }
            None => (Vec::new(), MAX_STORIES, "Latest stories".to_string()),
        },
    };
    let max_age = config.polling.max_item_age;
    let since = if max_age.is_zero() {
        Timestamp::UNIX_EPOCH
    } else {
        now - max_age.as_span()
    };
    let rows = store.latest_stories(&topics, since, limit)?;
    if rows.is_empty() {
        return Ok(Reply::private(format!("{heading}: no stories yet.")));
    }
    let mut views = Vec::with_capacity(rows.len());
    for row in rows {
        views.push(crate::digest::story_view(
            &store,
            row.id,
            config.related.max,
            desk.summary_options(),
        )?);
    }
    let content = heading;
    Ok(Reply {
        embeds: story_embeds(&views, &content),
        content,
        ephemeral: false,
    })
}
