//! The plain request and reply of a slash command, and Discord's size limits on replies.
//! No serenity types here, so the command logic is testable without a gateway.

use crate::digest::render::truncate_words;

pub const CONTENT_LIMIT: usize = 2000;
pub const EMBEDS_LIMIT: usize = 10;
pub const TITLE_LIMIT: usize = 256;
pub const DESCRIPTION_LIMIT: usize = 4096;
pub const FIELDS_LIMIT: usize = 25;
pub const FIELD_NAME_LIMIT: usize = 256;
pub const FIELD_VALUE_LIMIT: usize = 1024;
pub const FOOTER_LIMIT: usize = 2048;
/// Characters across titles, descriptions, fields and footers of all embeds of one message.
pub const EMBED_TOTAL_LIMIT: usize = 6000;

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
pub struct ReplyField {
    pub name: String,
    pub value: String,
    pub inline: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplyEmbed {
    pub title: String,
    /// Only http(s) URLs; Discord rejects others.
    pub url: Option<String>,
    pub description: String,
    pub fields: Vec<ReplyField>,
    /// Plain text (Discord does not render markdown in footers).
    pub footer: Option<String>,
}

impl ReplyEmbed {
    /// Characters this embed counts towards [`EMBED_TOTAL_LIMIT`].
    pub fn chars(&self) -> usize {
        self.title.chars().count()
            + self.description.chars().count()
            + self
                .fields
                .iter()
                .map(|f| f.name.chars().count() + f.value.chars().count())
                .sum::<usize>()
            + self.footer.as_deref().map_or(0, |f| f.chars().count())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reply {
    pub content: String,
    pub embeds: Vec<ReplyEmbed>,
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

    pub fn with_embed(mut self, embed: ReplyEmbed) -> Reply {
        self.embeds.push(embed);
        self
    }

    /// Characters across all embeds.
    pub fn embed_chars(&self) -> usize {
        self.embeds.iter().map(ReplyEmbed::chars).sum()
    }

    /// The reply cut to every Discord limit (characters, not bytes). Text is cut at line or
    /// word boundaries; embeds that do not fit the message total are dropped and counted in
    /// the content.
    pub fn fit(mut self) -> Reply {
        for embed in &mut self.embeds {
            fit_embed(embed);
        }
        let mut dropped = self.embeds.len().saturating_sub(EMBEDS_LIMIT);
        self.embeds.truncate(EMBEDS_LIMIT);
        while self.embed_chars() > EMBED_TOTAL_LIMIT && self.embeds.len() > 1 {
            self.embeds.pop();
            dropped += 1;
        }
        if let Some(only) = self.embeds.first_mut() {
            while only.chars() > EMBED_TOTAL_LIMIT && only.fields.pop().is_some() {}
            if only.chars() > EMBED_TOTAL_LIMIT {
                let excess = only.chars() - EMBED_TOTAL_LIMIT;
                let keep = only.description.chars().count().saturating_sub(excess);
                only.description = cut_lines(&only.description, keep);
            }
        }
        if dropped > 0 {
            let note = format!("({dropped} more not shown: message size limit)");
            let room = CONTENT_LIMIT - note.chars().count() - 1;
            self.content = cut_lines(&self.content, room);
            if !self.content.is_empty() {
                self.content.push('\n');
            }
            self.content.push_str(&note);
        }
        self.content = cut_lines(&self.content, CONTENT_LIMIT);
        if self.content.trim().is_empty() && self.embeds.is_empty() {
            self.content = "(nothing to show)".to_string();
        }
        self
    }
}

fn fit_embed(embed: &mut ReplyEmbed) {
    embed.title = cut_lines(&embed.title, TITLE_LIMIT);
    if embed.title.trim().is_empty() {
        embed.title = "(untitled)".to_string();
    }
    embed.description = cut_lines(&embed.description, DESCRIPTION_LIMIT);
    embed.fields.truncate(FIELDS_LIMIT);
    for field in &mut embed.fields {
        field.name = cut_lines(&field.name, FIELD_NAME_LIMIT);
        field.value = cut_lines(&field.value, FIELD_VALUE_LIMIT);
        // Discord rejects empty field names and values.
        if field.name.trim().is_empty() {
            field.name = "\u{200b}".to_string();
        }
        if field.value.trim().is_empty() {
            field.value = "\u{200b}".to_string();
        }
    }
    if let Some(footer) = &mut embed.footer {
        *footer = cut_lines(footer, FOOTER_LIMIT);
    }
    if embed
        .url
        .as_deref()
        .is_some_and(|u| !(u.starts_with("https://") || u.starts_with("http://")))
    {
        embed.url = None;
    }
}

/// At most `limit` characters: whole lines while they fit, then "…". A first line that alone is
/// too long is cut at a word boundary, never leaving a dangling markdown escape.
pub fn cut_lines(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    if limit == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for line in text.lines() {
        let cost = line.chars().count() + usize::from(!out.is_empty());
        // Room for the "\n…" marker.
        if used + cost + 2 > limit {
            break;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line);
        used += cost;
    }
    if out.is_empty() {
        let mut cut = truncate_words(text, limit);
        // A cut right after an escaping backslash would escape the ellipsis instead.
        while cut.ends_with("\\…") {
            cut.truncate(cut.len() - "\\…".len());
            cut.push('…');
        }
        return cut;
    }
    out.push_str("\n…");
    out
}

/// Lines joined with newlines, stopping before `limit` characters; a final "… and N more"
/// line says how many lines were left out.
pub fn join_lines(lines: &[String], limit: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for (i, line) in lines.iter().enumerate() {
        let rest = lines.len() - i;
        let more = format!("… and {rest} more");
        let cost = line.chars().count() + usize::from(!out.is_empty());
        let reserve = if rest > 1 {
            more.chars().count() + 1
        } else {
            0
        };
        if used + cost + reserve > limit {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&more);
            return out;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line);
        used += cost;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let embed = ReplyEmbed {
            title: "t".repeat(300),
            url: Some("javascript:alert(1)".into()),
            description: (0..500).map(|i| format!("line {i} ééé\n")).collect(),
            fields: (0..30)
                .map(|i| ReplyField {
                    name: format!("f{i}"),
                    value: long_line.clone(),
                    inline: false,
                })
                .collect(),
            footer: Some(long_line.clone()),
        };
        let reply = Reply {
            content: long_line.clone(),
            embeds: vec![embed; 12],
            ephemeral: false,
        }
        .fit();
        assert!(reply.content.chars().count() <= CONTENT_LIMIT);
        assert!(reply.embeds.len() <= EMBEDS_LIMIT && !reply.embeds.is_empty());
        assert!(
            reply.embed_chars() <= EMBED_TOTAL_LIMIT,
            "{}",
            reply.embed_chars()
        );
        for e in &reply.embeds {
            assert!(e.title.chars().count() <= TITLE_LIMIT);
            assert!(e.description.chars().count() <= DESCRIPTION_LIMIT);
            assert!(e.fields.len() <= FIELDS_LIMIT);
            assert!(
                e.fields
                    .iter()
                    .all(|f| f.value.chars().count() <= FIELD_VALUE_LIMIT)
            );
            assert!(e.url.is_none());
        }
        assert!(
            reply.content.contains("more not shown"),
            "{}",
            reply.content
        );
    }

    #[test]
    fn cuts_keep_lines_whole_and_escapes_intact() {
        assert_eq!(cut_lines("aaa\nbbb\nccc", 9), "aaa\nbbb\n…");
        let cut = cut_lines("wordwordwordword\\*tail", 18);
        assert_eq!(cut, "wordwordwordword…");
        let lines: Vec<String> = (0..100).map(|i| format!("line {i}")).collect();
        let joined = join_lines(&lines, 60);
        assert!(joined.chars().count() <= 60, "{joined}");
        assert!(joined.ends_with("more"), "{joined}");
        assert_eq!(join_lines(&lines[..2], 60), "line 0\nline 1");
    }
}
