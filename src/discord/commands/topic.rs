//! `/topic add name query` and `/topic remove name`: topics kept in the store next to the
//! config file's.

use jiff::Timestamp;
use serenity::all::{CommandOptionType, CreateCommand, CreateCommandOption, Permissions};

use super::request::MANAGE_GUILD;
use super::{CommandRequest, Outcome, Reply, require};
use crate::pipeline::Desk;
use crate::present::text::{escape, escape_within};
use crate::store::CustomTopic;
use crate::topics::Query;

const NAME_MAX: usize = 64;

pub fn definition() -> CreateCommand {
    let name = |description: &str| {
        CreateCommandOption::new(CommandOptionType::String, "name", description).required(true)
    };
    CreateCommand::new("topic")
        .description("Add or remove topics")
        .default_member_permissions(Permissions::MANAGE_GUILD)
        .add_option(
            CreateCommandOption::new(CommandOptionType::SubCommand, "add", "Add a topic")
                .add_sub_option(
                    name("Lower-case letters, digits and dashes").max_length(NAME_MAX as u16),
                )
                .add_sub_option(
                    CreateCommandOption::new(
                        CommandOptionType::String,
                        "query",
                        "e.g. (chip OR semiconductor*) AND export NOT \"stock tips\"",
                    )
                    .required(true)
                    .max_length(500),
                ),
        )
        .add_option(
            CreateCommandOption::new(
                CommandOptionType::SubCommand,
                "remove",
                "Remove a topic added from Discord",
            )
            .add_sub_option(name("Topic name").set_autocomplete(true)),
        )
}

pub fn run(desk: &Desk, req: &CommandRequest, now: Timestamp) -> Outcome {
    if let Some(refusal) = require(req, MANAGE_GUILD, "Manage Server") {
        return Ok(refusal);
    }
    match req.subcommand() {
        Some("add") => add(desk, req, now),
        Some("remove") => remove(desk, req),
        _ => Ok(Reply::private("Use /topic add or /topic remove.")),
    }
}

fn is_topic_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= NAME_MAX
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn add(desk: &Desk, req: &CommandRequest, now: Timestamp) -> Outcome {
    let (Some(name), Some(query)) = (req.string("name"), req.string("query")) else {
        return Ok(Reply::private("Give a name and a query."));
    };
    if !is_topic_name(name) {
        return Ok(Reply::private(format!(
            "{} is not a valid topic name: use lower-case letters, digits and dashes.",
            escape_within(name, 100)
        )));
    }
    if let Err(e) = Query::parse(query) {
        return Ok(Reply::private(format!(
            "That query does not parse: {}\nQuery: {}",
            escape(&e.to_string()),
            escape_within(query, 500)
        )));
    }
    let mut store = desk.store();
    if desk.config.topic(name).is_some() {
        return Ok(Reply::private(format!(
            "**{}** is a topic of the config file already.",
            escape(name)
        )));
    }
    let added = store.add_custom_topic(&CustomTopic {
        name: name.to_string(),
        title: None,
        query: query.to_string(),
        created_by: Some(req.user_id.to_string()),
        created_at: now,
    })?;
    if !added {
        return Ok(Reply::private(format!(
            "There is a topic called **{}** already; remove it first to change its query.",
            escape(name)
        )));
    }
    tracing::info!(topic = %name, %query, user = req.user_id, "topic added from Discord");
    Ok(Reply::private(format!(
        "Topic **{}** added: {}. Stories processed from now on are matched against it; a \
         channel follows it after /subscribe.",
        escape(name),
        escape_within(query, 500)
    )))
}

fn remove(desk: &Desk, req: &CommandRequest) -> Outcome {
    let Some(name) = req.string("name") else {
        return Ok(Reply::private("Name the topic to remove."));
    };
    if desk.config.topic(name).is_some() {
        return Ok(Reply::private(format!(
            "**{}** is defined in the config file; remove it there.",
            escape(name)
        )));
    }
    if desk.store().remove_custom_topic(name)? {
        tracing::info!(topic = %name, user = req.user_id, "topic removed from Discord");
        Ok(Reply::private(format!(
            "Topic **{}** removed, and no channel follows it any more.",
            escape(name)
        )))
    } else {
        Ok(Reply::private(format!(
            "There is no topic called **{}** added from Discord.",
            escape_within(name, 100)
        )))
    }
}
