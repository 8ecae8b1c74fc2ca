//! A forum's tags by name: `forum_tags = ["Digest"]` in the config becomes the ids Discord wants
//! in `applied_tags`, looked up once from the forum's channel object (through the bot; a webhook
//! forum without a bot token takes tag ids written as numbers).

use std::collections::HashMap;
use std::sync::Mutex;

use serenity::all::{Channel, ChannelId, ForumTagId, Http};

/// Tag ids per forum channel id, found once per process.
#[derive(Default)]
pub(super) struct ForumTags {
    found: Mutex<HashMap<u64, Vec<ForumTagId>>>,
}

/// Why the configured tags cannot be used: the channel is paused with this fix.
#[derive(Debug)]
pub(super) struct TagProblem(pub String);

impl ForumTags {
    /// The ids of `names` in forum `forum` (None: a webhook's forum, not known by id). Names
    /// that are numbers are taken as ids; the others are matched (case-insensitively) against
    /// the forum's tags through `bot`.
    pub(super) async fn ids(
        &self,
        forum: Option<u64>,
        names: &[String],
        bot: Option<&Http>,
    ) -> Result<Result<Vec<ForumTagId>, TagProblem>, serenity::Error> {
        if names.is_empty() {
            return Ok(Ok(Vec::new()));
        }
        if let Some(ids) = forum.and_then(|f| self.lock().get(&f).cloned()) {
            return Ok(Ok(ids));
        }
        let mut ids = Vec::new();
        let mut wanted = Vec::new();
        for name in names {
            match name.trim().parse::<u64>() {
                Ok(id) if id != 0 => ids.push(ForumTagId::new(id)),
                _ => wanted.push(name.trim()),
            }
        }
        if !wanted.is_empty() {
            let (Some(bot), Some(forum)) = (bot, forum) else {
                return Ok(Err(TagProblem(
                    "forum_tags names tags, which only the bot can look up in its own forum \
                     channel: write the tags' ids instead"
                        .to_string(),
                )));
            };
            let available = match ChannelId::new(forum).to_channel(bot).await? {
                Channel::Guild(channel) => channel.available_tags,
                _ => Vec::new(),
            };
            for name in wanted {
                match available
                    .iter()
                    .find(|t| t.name.trim().eq_ignore_ascii_case(name))
                {
                    Some(tag) => ids.push(tag.id),
                    None => {
                        let known: Vec<&str> = available.iter().map(|t| t.name.as_str()).collect();
                        return Ok(Err(TagProblem(format!(
                            "forum_tags names {name:?}, which the forum has not (its tags: {})",
                            if known.is_empty() {
                                "none".to_string()
                            } else {
                                known.join(", ")
                            }
                        ))));
                    }
                }
            }
        }
        if let Some(forum) = forum {
            self.lock().insert(forum, ids.clone());
        }
        Ok(Ok(ids))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Vec<ForumTagId>>> {
        self.found.lock().unwrap_or_else(|p| p.into_inner())
    }
}
