//! `/subscribe topic` and `/unsubscribe topic`: which topics this channel's digests follow.

use jiff::Timestamp;
use serenity::all::{CommandOptionType, CreateCommand, CreateCommandOption, Permissions};

use super::request::MANAGE_CHANNELS;
use super::{CommandRequest, Outcome, Reply, config_channel, require};
use crate::pipeline::Desk;
use crate::present::text::escape;

pub fn definition(subscribe: bool) -> CreateCommand {
    let (name, description) = if subscribe {
        ("subscribe", "Make this channel's digests follow a topic")
    } else {
        (
            "unsubscribe",
            "Stop this channel's digests following a topic",
        )
    };
    CreateCommand::new(name)
        .description(description)
        .default_member_permissions(Permissions::MANAGE_CHANNELS)
        .add_option(
            CreateCommandOption::new(CommandOptionType::String, "topic", "Topic name")
                .required(true)
                .set_autocomplete(true),
        )
}

/// The topics the newsdesk channel posting to Discord channel `channel_id` follows; None when
/// no `[[channel]]` posts there.
pub fn followed_topics(desk: &Desk, channel_id: u64) -> Option<Vec<String>> {
    let channel = config_channel(&desk.config, channel_id)?;
    let store = desk.reader();
    Some(crate::store::channel_topics(
        &desk.config,
        &store,
        channel.name.get_ref(),
    ))
}

pub fn run(desk: &Desk, req: &CommandRequest, subscribe: bool, now: Timestamp) -> Outcome {
    if let Some(refusal) = require(req, MANAGE_CHANNELS, "Manage Channels") {
        return Ok(refusal);
    }
    let Some(channel) = config_channel(&desk.config, req.channel_id) else {
        return Ok(Reply::private(format!(
            "No newsdesk channel posts here. Add a [[channel]] with discord_channel_id = \"{}\" \
             to the config file first.",
            req.channel_id
        )));
    };
    let Some(topic) = req.string("topic") else {
        return Ok(Reply::private("Name a topic: /topics lists them."));
    };
    let name = channel.name.get_ref();
    let mut store = desk.store();
    let known = crate::store::effective_topics(&desk.config, &store);
    if !known.iter().any(|(t, _)| t == topic) {
        return Ok(Reply::private(format!(
            "There is no topic called {}. /topics lists them.",
            escape(topic)
        )));
    }
    let before = crate::store::channel_topics(&desk.config, &store, name);
    let follows = before.iter().any(|t| t == topic);
    if subscribe && follows {
        return Ok(Reply::private(format!(
            "This channel already follows {}.",
            escape(topic)
        )));
    }
    if !subscribe && !follows {
        let note = if before.is_empty() {
            " It gets every story: it follows no topic in particular."
        } else {
            ""
        };
        return Ok(Reply::private(format!(
            "This channel does not follow {}.{note}",
            escape(topic)
        )));
    }
    let by = req.user_id.to_string();
    store.set_channel_topic(name, topic, subscribe, Some(&by), now)?;
    let after = crate::store::channel_topics(&desk.config, &store, name);
    let now_following = if after.is_empty() {
        "every story (no topic filter)".to_string()
    } else {
        escape(&after.join(", "))
    };
    let verb = if subscribe {
        "now follows"
    } else {
        "no longer follows"
    };
    let mut message = format!(
        "This channel {verb} **{}**. Its digests: {now_following}.",
        escape(topic)
    );
    if subscribe && before.is_empty() {
        message.push_str(" (Before, it got every story; now only these topics.)");
    }
    Ok(Reply::public(message))
}
