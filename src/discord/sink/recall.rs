//! Was this part posted already? Discord drops a message whose nonce it saw only for a few
//! minutes. A part of a digest that began longer ago than that (a crash, then a long outage)
//! is looked for among the channel's recent messages before it is sent again: a message by a
//! bot with the same content and the same embeds (titles and links) is taken as the part.

use serenity::all::{ChannelId, GetMessages, Http, Message};

use crate::digest::layout::PostMessage;

/// How long Discord enforces a nonce; older parts are looked for instead. Discord documents
/// "a few minutes"; two leaves a margin.
pub const NONCE_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_mins(2);
/// Recent messages read to find a part (Discord's largest page).
const LOOK_BACK: u8 = 100;

/// The id of `part` among the last messages of `channel`, if it is there.
pub(super) async fn find_posted(
    bot: &Http,
    channel: u64,
    part: &PostMessage,
) -> Result<Option<String>, serenity::Error> {
    let recent = ChannelId::new(channel)
        .messages(bot, GetMessages::new().limit(LOOK_BACK))
        .await?;
    Ok(recent
        .iter()
        .find(|m| is_part(m, part))
        .map(|m| m.id.to_string()))
}

fn is_part(message: &Message, part: &PostMessage) -> bool {
    message.author.bot
        && message.content == part.content
        && message.embeds.len() == part.embeds.len()
        && message.embeds.iter().zip(&part.embeds).all(|(got, sent)| {
            got.title.as_deref() == Some(sent.title.as_str()) && got.url == sent.url
        })
}
