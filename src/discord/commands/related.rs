//! `/related query-or-url`: a story (by article URL or best match for a query) with its
//! Related list of earlier coverage.

use serenity::all::{CommandOptionType, CreateCommand, CreateCommandOption};

use super::lookup::{self, LookupError, UrlLookup};
use super::request::DESCRIPTION_LIMIT;
use super::{CommandRequest, Outcome, Reply, escaped_within, story_embed};
use crate::pipeline::Desk;

const OPTION: &str = "query-or-url";

pub fn definition() -> CreateCommand {
    CreateCommand::new("related")
        .description("Earlier stories related to an article URL or a query")
        .add_option(
            CreateCommandOption::new(
                CommandOptionType::String,
                OPTION,
                "An article URL or some words",
            )
            .required(true)
            .max_length(500),
        )
}

pub fn target_is_url(req: &CommandRequest) -> bool {
    req.string(OPTION)
        .is_some_and(|t| t.starts_with("http://") || t.starts_with("https://"))
}

pub fn run(desk: &Desk, req: &CommandRequest) -> Outcome {
    let Some(target) = req.string(OPTION) else {
        return Ok(Reply::private("Give an article URL or some words."));
    };
    let store = desk.reader();
    let mut note = String::new();
    let query = if target_is_url(req) {
        match lookup::story_for_url(&store, target)? {
            UrlLookup::Story(story) => {
                let view = crate::digest::story_view(
                    &store,
                    story,
                    desk.config.related.max,
                    desk.summary_options(),
                )?;
                return Ok(answer(view, String::new()));
            }
            UrlLookup::Unprocessed { .. } => {
                return Ok(Reply::private(
                    "That article is stored but not processed yet; try again after the next poll.",
                ));
            }
            UrlLookup::Unknown { canonical } => {
                let words = lookup::words_of_url(&canonical);
                note = "That article is not stored; searched for the words of its address.".into();
                words
            }
            UrlLookup::NotAUrl => target.to_string(),
        }
    } else {
        target.to_string()
    };
    let found = match lookup::search_stories(&store, &query, None, 1) {
        Ok(found) => found,
        Err(LookupError::NoWords) => {
            return Ok(Reply::private("There are no words to search for in that."));
        }
        Err(LookupError::Store(e)) => return Err(e.into()),
    };
    let Some(story) = found.first() else {
        let mut message = format!("No stored story matches {}.", escaped_within(&query, 200));
        if !note.is_empty() {
            message = format!("{note} {message}");
        }
        return Ok(Reply::private(message));
    };
    let view = crate::digest::story_view(
        &store,
        *story,
        desk.config.related.max,
        desk.summary_options(),
    )?;
    Ok(answer(view, note))
}

fn answer(view: crate::digest::StoryView, note: String) -> Reply {
    let mut content = note;
    if view.related.is_empty() {
        if !content.is_empty() {
            content.push('\n');
        }
        content.push_str("No related earlier stories for this one yet.");
    }
    Reply::public(content).with_embed(story_embed(&view, DESCRIPTION_LIMIT))
}
