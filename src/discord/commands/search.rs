//! `/search query [days]`: matching stories, newest first.

use jiff::{SignedDuration, Timestamp};
use serenity::all::{CommandOptionType, CreateCommand, CreateCommandOption};

use super::{CommandRequest, Outcome, Reply};
use crate::lookup::{self, LookupError};
use crate::pipeline::Desk;
use crate::present::limits::{self, EMBED_DESCRIPTION};
use crate::present::text::{day, escape_within, join_lines, link};
use crate::present::{Embed, ViewSettings, story_view};

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
    let shown_query = escape_within(query, 200);
    if found.is_empty() {
        return Ok(Reply::private(format!("No stories match {shown_query}.")));
    }
    let settings = ViewSettings::from(&desk.config).without_related();
    let mut lines = Vec::with_capacity(found.len());
    for story in found {
        let view = story_view(&store, story, &settings)?;
        lines.push(format!(
            "- {} ({}, {})",
            link(&view.title, view.url.as_deref(), limits::RELATED_TITLE),
            escape_within(&view.outlet, limits::OUTLET),
            day(view.published)
        ));
    }
    let scope = days
        .map(|d| format!(" in the last {d} days"))
        .unwrap_or_default();
    Ok(Reply::public("").with_embed(Embed {
        title: escape_within(&format!("Search: {query}"), 200),
        description: join_lines(&lines, EMBED_DESCRIPTION),
        footer: Some(format!("{} stories{scope}, newest first", lines.len())),
        ..Embed::default()
    }))
}
