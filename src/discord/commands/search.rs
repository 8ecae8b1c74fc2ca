//! `/search query [days]`: matching stories, newest first.

use jiff::{SignedDuration, Timestamp};
use serenity::all::{CommandOptionType, CreateCommand, CreateCommandOption};

use super::lookup::{self, LookupError};
use super::request::{DESCRIPTION_LIMIT, join_lines};
use super::{CommandRequest, Outcome, Reply, ReplyEmbed, day, escaped_within};
use crate::digest::render::{escape, link, truncate_words};
use crate::pipeline::Desk;

const MAX_RESULTS: usize = 15;

pub fn definition() -> CreateCommand {
    CreateCommand::new("search")
        .description("Stories matching all the words, newest first")
        .add_option(
            CreateCommandOption::new(
                CommandOptionType::String,
                "query",
                "Words (all must occur); \"quoted phrases\" allowed",
            )
            .required(true)
            .max_length(300),
        )
        .add_option(
            CreateCommandOption::new(CommandOptionType::Integer, "days", "Only the last N days")
                .min_int_value(1)
                .max_int_value(3650),
        )
}

pub fn run(desk: &Desk, req: &CommandRequest, now: Timestamp) -> Outcome {
    let Some(query) = req.string("query") else {
        return Ok(Reply::private("Give some words to search for."));
    };
    let days = req.integer("days").filter(|d| *d > 0).map(|d| d.min(3650));
    let since = days.map(|d| now - SignedDuration::from_hours(d * 24));
    let store = desk.reader();
    let found = match lookup::search_stories(&store, query, since, MAX_RESULTS) {
        Ok(found) => found,
        Err(LookupError::NoWords) => {
            return Ok(Reply::private("The query has no words to search for."));
        }
        Err(LookupError::Store(e)) => return Err(e.into()),
    };
    let shown_query = escaped_within(query, 200);
    if found.is_empty() {
        return Ok(Reply::private(format!("No stories match {shown_query}.")));
    }
    let mut lines = Vec::with_capacity(found.len());
    for story in found {
        let view = crate::digest::story_view(&store, story, 0, desk.summary_options())?;
        lines.push(format!(
            "- {} ({}, {})",
            link(&truncate_words(&view.title, 150), view.url.as_deref()),
            escape(&truncate_words(&view.outlet, 60)),
            day(view.published)
        ));
    }
    let scope = days
        .map(|d| format!(" in the last {d} days"))
        .unwrap_or_default();
    Ok(Reply::public("").with_embed(ReplyEmbed {
        title: escaped_within(&format!("Search: {query}"), 200),
        description: join_lines(&lines, DESCRIPTION_LIMIT),
        footer: Some(format!("{} stories{scope}, newest first", lines.len())),
        ..ReplyEmbed::default()
    }))
}
