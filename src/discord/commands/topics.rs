//! `/topics`: every topic, its query and the channels that follow it.

use serenity::all::CreateCommand;

use super::{Outcome, Reply};
use crate::pipeline::Desk;
use crate::present::Embed;
use crate::present::limits::EMBED_DESCRIPTION;
use crate::present::text::{escape, escape_within, join_lines};

pub fn definition() -> CreateCommand {
    CreateCommand::new("topics")
        .description("Topics, their queries and the channels following them")
}

pub fn run(desk: &Desk) -> Outcome {
    let store = desk.reader();
    let config = &desk.config;
    let topics = crate::store::effective_topics(config, &store);
    let custom = store.custom_topics()?;
    let follows: Vec<(String, Vec<String>)> = config
        .channels
        .iter()
        .map(|c| {
            let name = c.name.get_ref().clone();
            let topics = crate::store::channel_topics(config, &store, &name);
            (name, topics)
        })
        .collect();
    let mut lines = Vec::new();
    for (name, query) in &topics {
        let followers: Vec<String> = follows
            .iter()
            .filter(|(_, t)| t.contains(name))
            .map(|(c, _)| escape(c))
            .collect();
        let origin = if config.topic(name).is_some() {
            ""
        } else if custom.iter().any(|c| c.name == *name) {
            " (added from Discord)"
        } else {
            ""
        };
        let followed = if followers.is_empty() {
            "no channel".to_string()
        } else {
            followers.join(", ")
        };
        lines.push(format!(
            "**{}**{origin}: {} — followed by {followed}",
            escape(name),
            escape_within(query.as_str(), 300)
        ));
    }
    let everything: Vec<String> = follows
        .iter()
        .filter(|(_, t)| t.is_empty())
        .map(|(c, _)| escape(c))
        .collect();
    if !everything.is_empty() {
        lines.push(format!("Every story goes to: {}", everything.join(", ")));
    }
    if topics.is_empty() {
        lines.insert(0, "No topics yet: add one with /topic add.".to_string());
    }
    Ok(Reply::public("").with_embed(Embed {
        title: format!("Topics ({})", topics.len()),
        description: join_lines(&lines, EMBED_DESCRIPTION),
        ..Embed::default()
    }))
}
