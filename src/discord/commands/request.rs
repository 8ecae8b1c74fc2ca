//! The plain request and reply of a slash command, fitted to Discord's limits
//! ([`crate::present::limits`]). No serenity types here, so the command logic is testable
//! without a gateway.

use crate::present::Embed;
use crate::present::limits::{CONTENT, EMBEDS_PER_MESSAGE, MESSAGE_EMBED_TOTAL};
use crate::present::text::cut_lines;

/// Permission bits (Discord's values).
pub const ADMINISTRATOR: u64 = 1 << 3;
pub const MANAGE_CHANNELS: u64 = 1 << 4;
pub const MANAGE_GUILD: u64 = 1 << 5;

#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    String(String),
    Integer(i64),
    Number(f64),
    Boolean(bool),
}

/// A slash command (or an autocomplete request) as plain data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CommandRequest {
    pub name: String,
    /// Subcommand group and subcommand names, outermost first (`["add"]` for `/feeds add`).
    pub subcommand: Vec<String>,
    /// Leaf option values by name.
    pub options: Vec<(String, OptionValue)>,
    /// For autocomplete: the option being typed (its partial text is in `options`).
    pub focused: Option<String>,
    pub channel_id: u64,
    pub guild_id: Option<u64>,
    pub user_id: u64,
    /// The member's resolved permissions in the channel; None outside a guild.
    pub member_permissions: Option<u64>,
}

impl CommandRequest {
    pub fn new(name: &str) -> CommandRequest {
        CommandRequest {
            name: name.to_string(),
            ..CommandRequest::default()
        }
    }

    /// Builder: adds a string option.
    pub fn arg(mut self, name: &str, value: &str) -> CommandRequest {
        self.options
            .push((name.to_string(), OptionValue::String(value.to_string())));
        self
    }

    /// The innermost subcommand, if any.
    pub fn subcommand(&self) -> Option<&str> {
        self.subcommand.last().map(String::as_str)
    }

    fn value(&self, name: &str) -> Option<&OptionValue> {
        self.options.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// A string option, trimmed; None when absent or blank.
    pub fn string(&self, name: &str) -> Option<&str> {
        match self.value(name) {
            Some(OptionValue::String(s)) => Some(s.trim()).filter(|s| !s.is_empty()),
            _ => None,
        }
    }

    pub fn integer(&self, name: &str) -> Option<i64> {
        match self.value(name) {
            Some(OptionValue::Integer(i)) => Some(*i),
            Some(OptionValue::Number(n)) if n.is_finite() => Some(n.trunc() as i64),
            _ => None,
        }
    }

    /// The text typed so far in the focused option (autocomplete).
    pub fn focused_text(&self) -> &str {
        self.focused
            .as_deref()
            .and_then(|f| self.string(f))
            .unwrap_or("")
    }

    /// Whether the member holds `bit` (administrators hold every permission). False outside a
    /// guild: the changing commands only make sense in a server.
    pub fn has_permission(&self, bit: u64) -> bool {
        self.member_permissions
            .is_some_and(|p| p & bit == bit || p & ADMINISTRATOR != 0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reply {
    pub content: String,
    pub embeds: Vec<Embed>,
    /// Only the invoking user sees it.
    pub ephemeral: bool,
}

impl Reply {
    /// A message everyone in the channel sees.
    pub fn public(content: impl Into<String>) -> Reply {
        Reply {
            content: content.into(),
            embeds: Vec::new(),
            ephemeral: false,
        }
    }

    /// A message only the invoking user sees (refusals, errors).
    pub fn private(content: impl Into<String>) -> Reply {
        Reply {
            ephemeral: true,
            ..Reply::public(content)
        }
    }

    pub fn with_embed(mut self, embed: Embed) -> Reply {
        self.embeds.push(embed);
        self
    }

    /// Characters across all embeds.
    pub fn embed_chars(&self) -> usize {
        self.embeds.iter().map(Embed::counted_chars).sum()
    }

    /// The reply cut to every Discord limit (characters, not bytes). Text is cut at line or
    /// word boundaries; embeds that do not fit the message total are dropped and counted in
    /// the content.
    pub fn fit(mut self) -> Reply {
        self.embeds = self.embeds.into_iter().map(Embed::fit).collect();
        let mut dropped = self.embeds.len().saturating_sub(EMBEDS_PER_MESSAGE);
        self.embeds.truncate(EMBEDS_PER_MESSAGE);
        while self.embed_chars() > MESSAGE_EMBED_TOTAL && self.embeds.len() > 1 {
            self.embeds.pop();
            dropped += 1;
        }
        if let Some(only) = self.embeds.pop() {
            self.embeds.push(only.shrink_to(MESSAGE_EMBED_TOTAL));
        }
        if dropped > 0 {
            let note = format!("({dropped} more not shown: message size limit)");
            let room = CONTENT - note.chars().count() - 1;
            self.content = cut_lines(&self.content, room);
            if !self.content.is_empty() {
                self.content.push('\n');
            }
            self.content.push_str(&note);
        }
        self.content = cut_lines(&self.content, CONTENT);
        if self.content.trim().is_empty() && self.embeds.is_empty() {
            self.content = "(nothing to show)".to_string();
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::present::limits::{EMBED_DESCRIPTION, EMBED_FIELDS, EMBED_TITLE, FIELD_VALUE};
    use crate::present::{Embed, Field};

    #[test]
    fn permissions_need_the_bit_or_administrator() {
        let mut req = CommandRequest::new("feeds");
        assert!(!req.has_permission(MANAGE_GUILD), "outside a guild");
        req.member_permissions = Some(MANAGE_CHANNELS);
        assert!(!req.has_permission(MANAGE_GUILD));
        assert!(req.has_permission(MANAGE_CHANNELS));
        req.member_permissions = Some(ADMINISTRATOR);
        assert!(req.has_permission(MANAGE_GUILD));
    }

    #[test]
    fn fit_enforces_every_limit_in_characters() {
        let long_line = "é ".repeat(3000);
        let embed = Embed {
            title: "t".repeat(300),
            url: Some("javascript:alert(1)".into()),
            description: (0..500).map(|i| format!("line {i} ééé\n")).collect(),
            fields: (0..30)
                .map(|i| Field::new(format!("f{i}"), long_line.clone()))
                .collect(),
            footer: Some(long_line.clone()),
            timestamp: None,
        };
        let reply = Reply {
            content: long_line.clone(),
            embeds: vec![embed; 12],
            ephemeral: false,
        }
        .fit();
        assert!(reply.content.chars().count() <= CONTENT);
        assert!(reply.embeds.len() <= EMBEDS_PER_MESSAGE && !reply.embeds.is_empty());
        assert!(
            reply.embed_chars() <= MESSAGE_EMBED_TOTAL,
            "{}",
            reply.embed_chars()
        );
        for e in &reply.embeds {
            assert!(e.title.chars().count() <= EMBED_TITLE);
            assert!(e.description.chars().count() <= EMBED_DESCRIPTION);
            assert!(e.fields.len() <= EMBED_FIELDS);
            assert!(
                e.fields
                    .iter()
                    .all(|f| f.value.chars().count() <= FIELD_VALUE)
            );
            assert!(e.url.is_none());
        }
        assert!(
            reply.content.contains("more not shown"),
            "{}",
            reply.content
        );
    }
}
