//! The posted form of a digest: messages of embeds, one embed per story, inside every Discord
//! limit. The terminal shows exactly these messages; the Discord sink sends them.
//!
//! Limits are counted in characters (Unicode scalar values), not bytes: content 2000, 10 embeds
//! per message, title 256, description 4096, field name 256, field value 1024, footer 2048, and
//! 6000 characters across all embeds of one message. Text is cut at word boundaries with an
//! ellipsis, never inside a character or a markdown link.

use jiff::Timestamp;
use serde::Serialize;

use super::render::{escape, link, truncate_words};
use super::{Coverage, Digest, StoryView, UpdateView};
use crate::store::StoryId;

pub const CONTENT_LIMIT: usize = 2000;
pub const EMBEDS_PER_MESSAGE: usize = 10;
pub const TITLE_LIMIT: usize = 256;
pub const DESCRIPTION_LIMIT: usize = 4096;
pub const FIELD_NAME_LIMIT: usize = 256;
pub const FIELD_VALUE_LIMIT: usize = 1024;
pub const FOOTER_LIMIT: usize = 2048;
pub const MESSAGE_EMBED_TOTAL: usize = 6000;
/// Discord's limit on a thread's (forum post's) name.
pub const THREAD_NAME_LIMIT: usize = 100;

/// Summaries longer than this are cut: a digest is for skimming.
const SUMMARY_CHARS: usize = 700;
const RELATED_TITLE_CHARS: usize = 110;
const RELATED_LINE_CHARS: usize = 140;
/// An update's reader has seen the story: a shorter reminder of what it is about.
const UPDATE_SUMMARY_CHARS: usize = 300;
const OUTLET_CHARS: usize = 80;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostMessage {
    pub content: String,
    pub embeds: Vec<PostEmbed>,
    /// The stories this message shows (new or updated), so a message Discord refuses can give
    /// its stories back to the queue.
    #[serde(skip)]
    pub stories: Vec<StoryId>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostEmbed {
    pub title: String,
    pub url: Option<String>,
    pub description: String,
    pub fields: Vec<PostField>,
    pub footer: String,
    pub timestamp: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostField {
    pub name: String,
    pub value: String,
}

impl PostEmbed {
    /// Characters that count toward the 6000-per-message total.
    pub fn counted_chars(&self) -> usize {
        let count = |s: &str| s.trim().chars().count();
        count(&self.title)
            + count(&self.description)
            + count(&self.footer)
            + self
                .fields
                .iter()
                .map(|f| count(&f.name) + count(&f.value))
                .sum::<usize>()
    }
}

/// One embed per story: linked title, summary, "Also covered by", "Related", outlet and time.
pub fn story_embed(story: &StoryView) -> PostEmbed {
    let mut fields = Vec::new();
    if !story.also_covered_by.is_empty() {
        fields.push(coverage_field("Also covered by", &story.also_covered_by));
    }
    if !story.related.is_empty() {
        let lines: Vec<String> = story
            .related
            .iter()
            .map(|r| {
                let mut line = format!(
                    "• {} ({}, {})",
                    link(
                        &truncate_words(&r.title, RELATED_TITLE_CHARS),
                        r.url.as_deref()
                    ),
                    escape(&truncate_words(&r.outlet, 60)),
                    r.published.strftime("%-d %b %Y")
                );
                if !r.line.is_empty() {
                    line.push_str(" — ");
                    line.push_str(&escape(&truncate_words(&r.line, RELATED_LINE_CHARS)));
                }
                line
            })
            .collect();
        fields.push(PostField {
            name: "Related".to_string(),
            value: join_within(&lines, "\n", FIELD_VALUE_LIMIT),
        });
    }
    embed(story, &story.title, SUMMARY_CHARS, fields)
}

/// The parts every story embed shares: title (as given), link, summary cut to `summary_chars`,
/// outlet and time.
fn embed(
    story: &StoryView,
    title: &str,
    summary_chars: usize,
    fields: Vec<PostField>,
) -> PostEmbed {
    PostEmbed {
        title: escape_cut(title, TITLE_LIMIT),
        url: story
            .url
            .clone()
            .filter(|u| u.starts_with("http://") || u.starts_with("https://")),
        description: escape_cut(
            &truncate_words(&story.summary, summary_chars),
            DESCRIPTION_LIMIT,
        ),
        fields,
        footer: escape_cut(&story.outlet, FOOTER_LIMIT),
        timestamp: story.published,
    }
}

/// One embed per update: "Update:" before the linked title, a short reminder of the story, and
/// "Now also covered by" listing only the outlets not shown before.
pub fn update_embed(update: &UpdateView) -> PostEmbed {
    let story = &update.story;
    embed(
        story,
        &format!("Update: {}", story.title),
        UPDATE_SUMMARY_CHARS,
        vec![coverage_field("Now also covered by", &update.new_coverage)],
    )
}

/// Outlets as escaped links, as many whole ones as fit in a field.
fn coverage_field(name: &str, coverage: &[Coverage]) -> PostField {
    let links: Vec<String> = coverage
        .iter()
        .map(|c| link(&truncate_words(&c.outlet, OUTLET_CHARS), c.url.as_deref()))
        .collect();
    PostField {
        name: name.to_string(),
        value: join_within(&links, ", ", FIELD_VALUE_LIMIT),
    }
}

/// "3 stories", "1 story, 2 updates", "1 update".
fn counts(digest: &Digest) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let stories = plural(digest.stories.len(), "story", "stories");
    match digest.updates.len() {
        0 => stories,
        n if digest.stories.is_empty() => plural(n, "update", "updates"),
        n => format!("{stories}, {}", plural(n, "update", "updates")),
    }
}

/// The title of the forum post a digest opens in a forum channel, in plain text (thread names
/// do not render markdown): a lone story's own headline (live channels post stories one by one,
/// each then its own thread to discuss), else the channel, the day (UTC) and what it holds.
pub fn forum_post_name(digest: &Digest) -> String {
    let name = match (digest.stories.as_slice(), digest.updates.is_empty()) {
        ([only], true) if !only.title.trim().is_empty() => only.title.clone(),
        _ => format!(
            "{} · {} · {}",
            digest.channel,
            digest.generated_at.strftime("%Y-%m-%d"),
            if digest.is_empty() {
                "no new stories".to_string()
            } else {
                counts(digest)
            }
        ),
    };
    truncate_words(&name.replace(char::is_control, " "), THREAD_NAME_LIMIT)
}

/// The digest as messages: a header line in the first message's content, embeds (new stories,
/// then updates) packed so no message exceeds 10 embeds or 6000 embed characters.
pub fn digest_messages(digest: &Digest) -> Vec<PostMessage> {
    // Room is left for " (12/12)" and "No new stories.": the content limit holds whatever the
    // channel is called.
    let header = truncate_words(
        &format!(
            "**Newsdesk digest** · {} · {}",
            escape(&digest.channel),
            counts(digest)
        ),
        CONTENT_LIMIT - 20,
    );
    if digest.is_empty() {
        return vec![PostMessage {
            content: format!("{header}\nNo new stories."),
            embeds: Vec::new(),
            stories: Vec::new(),
        }];
    }
    let embeds = digest
        .stories
        .iter()
        .map(|s| (story_embed(s), s.story_id))
        .chain(
            digest
                .updates
                .iter()
                .map(|u| (update_embed(u), u.story.story_id)),
        );
    let mut messages: Vec<PostMessage> = Vec::new();
    let mut current = PostMessage {
        content: String::new(),
        embeds: Vec::new(),
        stories: Vec::new(),
    };
    let mut total = 0;
    for (embed, story) in embeds {
        let size = embed.counted_chars();
        if !current.embeds.is_empty()
            && (current.embeds.len() == EMBEDS_PER_MESSAGE || total + size > MESSAGE_EMBED_TOTAL)
        {
            let next = PostMessage {
                content: String::new(),
                embeds: Vec::new(),
                stories: Vec::new(),
            };
            messages.push(std::mem::replace(&mut current, next));
            total = 0;
        }
        total += size;
        current.embeds.push(embed);
        current.stories.push(story);
    }
    messages.push(current);
    let parts = messages.len();
    for (i, message) in messages.iter_mut().enumerate() {
        message.content = if parts == 1 {
            header.clone()
        } else if i == 0 {
            format!("{header} (1/{parts})")
        } else {
            format!("({}/{parts})", i + 1)
        };
    }
    messages
}

/// The message as plain text, the way a reader sees it in Discord (for the terminal).
pub fn to_text(message: &PostMessage) -> String {
    let mut out = message.content.clone();
    for embed in &message.embeds {
        out.push_str("\n\n┃ ");
        match &embed.url {
            Some(url) => out.push_str(&format!("**{}** <{url}>", embed.title)),
            None => out.push_str(&format!("**{}**", embed.title)),
        }
        for line in embed.description.lines() {
            out.push_str("\n┃ ");
            out.push_str(line);
        }
        for field in &embed.fields {
            out.push_str(&format!("\n┃ __{}__", field.name));
            for line in field.value.lines() {
                out.push_str("\n┃ ");
                out.push_str(line);
            }
        }
        out.push_str(&format!(
            "\n┃ {} · {}",
            embed.footer,
            embed.timestamp.strftime("%a %-d %b %Y %H:%M UTC")
        ));
    }
    out
}

/// Escaped text cut to `limit` characters, never leaving a dangling backslash.
fn escape_cut(text: &str, limit: usize) -> String {
    let escaped = escape(text);
    if escaped.chars().count() <= limit {
        return escaped;
    }
    // Cut the raw text until its escaped form fits, so no escape sequence is split.
    let mut budget = limit;
    loop {
        let candidate = escape(&truncate_words(text, budget));
        if candidate.chars().count() <= limit || budget == 1 {
            return candidate;
        }
        budget = budget.saturating_sub((candidate.chars().count() - limit).max(1));
    }
}

/// Whole items joined by `sep` within `limit` characters; items that do not fit are dropped
/// (a link is never cut in half). A single oversize item is cut as plain text.
fn join_within(items: &[String], sep: &str, limit: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for item in items {
        let extra = item.chars().count()
            + if out.is_empty() {
                0
            } else {
                sep.chars().count()
            };
        if used + extra > limit {
            if out.is_empty() {
                return truncate_words(item, limit);
            }
            break;
        }
        if !out.is_empty() {
            out.push_str(sep);
        }
        out.push_str(item);
        used += extra;
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_header_fits_whatever_the_channel_is_called() {
        let mut digest = super::Digest {
            id: None,
            channel: "desk-".repeat(600),
            generated_at: "2026-11-29T08:00:00Z".parse().expect("timestamp"),
            stories: Vec::new(),
            updates: Vec::new(),
        };
        for message in super::digest_messages(&digest) {
            assert!(message.content.chars().count() <= super::CONTENT_LIMIT);
        }
        digest.channel = "_*".repeat(1500);
        for message in super::digest_messages(&digest) {
            assert!(message.content.chars().count() <= super::CONTENT_LIMIT);
        }
    }

    use super::*;
    use crate::digest::RelatedView;

    fn hostile_story(i: usize) -> StoryView {
        let long = "@everyone **boom** ".repeat(600);
        StoryView {
            story_id: i as i64,
            title: format!("{i} {long}"),
            outlet: format!("Outlet {long}"),
            published: "2026-11-20T10:00:00Z".parse().unwrap(),
            url: Some(format!("https://example.org/{i}")),
            summary: "ß".repeat(9000),
            also_covered_by: (0..40)
                .map(|k| Coverage {
                    outlet: format!("Outlet {k} {long}"),
                    title: "t".into(),
                    url: Some(format!("https://example.net/{k}")),
                })
                .collect(),
            related: (0..5)
                .map(|k| RelatedView {
                    story_id: k,
                    title: long.clone(),
                    outlet: "M".into(),
                    published: "2026-11-01T10:00:00Z".parse().unwrap(),
                    url: Some(format!("https://example.com/{k}")),
                    line: long.clone(),
                })
                .collect(),
            topics: vec![],
        }
    }

    #[test]
    fn fifty_hostile_stories_stay_inside_every_limit() {
        let digest = Digest {
            id: None,
            channel: "c".into(),
            generated_at: Timestamp::UNIX_EPOCH,
            stories: (0..50).map(hostile_story).collect(),
            updates: Vec::new(),
        };
        let messages = digest_messages(&digest);
        let embeds: usize = messages.iter().map(|m| m.embeds.len()).sum();
        assert_eq!(embeds, 50, "every story is posted");
        assert_within_limits(&messages);
    }

    #[test]
    fn forum_post_names_fit_and_say_what_the_post_holds() {
        let mut digest = Digest {
            id: None,
            channel: "research-security".into(),
            generated_at: "2026-11-29T08:00:00Z".parse().unwrap(),
            stories: (0..3).map(hostile_story).collect(),
            updates: Vec::new(),
        };
        assert_eq!(
            forum_post_name(&digest),
            "research-security · 2026-11-29 · 3 stories"
        );
        digest.channel = "c".repeat(300);
        assert!(forum_post_name(&digest).chars().count() <= THREAD_NAME_LIMIT);
        digest.channel = "c".into();
        // A lone story names its post after itself, within the limit.
        digest.stories.truncate(1);
        let lone = forum_post_name(&digest);
        assert!(lone.starts_with("0 @everyone"), "{lone}");
        assert!(lone.chars().count() <= THREAD_NAME_LIMIT);
        digest.stories.clear();
        assert_eq!(forum_post_name(&digest), "c · 2026-11-29 · no new stories");
    }

    /// Every Discord limit holds and nothing hostile survives, in every message.
    fn assert_within_limits(messages: &[PostMessage]) {
        for m in messages {
            assert!(m.content.chars().count() <= CONTENT_LIMIT);
            assert!(m.embeds.len() <= EMBEDS_PER_MESSAGE);
            assert!(
                m.embeds.iter().map(PostEmbed::counted_chars).sum::<usize>() <= MESSAGE_EMBED_TOTAL
            );
            for e in &m.embeds {
                assert!(e.title.chars().count() <= TITLE_LIMIT);
                assert!(e.description.chars().count() <= DESCRIPTION_LIMIT);
                assert!(e.footer.chars().count() <= FOOTER_LIMIT);
                for f in &e.fields {
                    assert!(f.name.chars().count() <= FIELD_NAME_LIMIT);
                    assert!(f.value.chars().count() <= FIELD_VALUE_LIMIT);
                    // Whole links only: every "[" that opens a link is closed.
                    assert_eq!(
                        f.value.matches("](<").count(),
                        f.value.matches(">)").count()
                    );
                    assert!(!f.value.contains("@everyone"));
                }
                let text = format!("{} {} {}", e.title, e.description, e.footer);
                assert!(!text.contains("@everyone"));
                assert!(!text.contains("**boom**"));
                assert!(!e.title.ends_with('\\'));
            }
        }
    }

    fn update_of(story: StoryView, outlets: &[&str]) -> UpdateView {
        UpdateView {
            story,
            new_coverage: outlets
                .iter()
                .map(|o| Coverage {
                    outlet: o.to_string(),
                    title: "t".into(),
                    url: Some(format!("https://example.net/{}", o.len())),
                })
                .collect(),
        }
    }

    /// A short story with two other outlets (hostile names kept).
    fn small_story() -> StoryView {
        let mut story = hostile_story(1);
        story.title = "Agency cuts grants".into();
        story.summary = "Short.".into();
        story.also_covered_by.truncate(2);
        story
    }

    #[test]
    fn updates_follow_stories_marked_and_listing_only_new_outlets() {
        let story = small_story();
        let mut old = story.clone();
        old.story_id = 7;
        old.title = "Telescope sees first light".into();
        let digest = Digest {
            id: None,
            channel: "research".into(),
            generated_at: Timestamp::UNIX_EPOCH,
            stories: vec![story],
            updates: vec![update_of(old, &["Outlet *C*", "@everyone D"])],
        };
        let messages = digest_messages(&digest);
        assert_eq!(messages.len(), 1);
        assert_eq!(
            messages[0].content,
            "**Newsdesk digest** · research · 1 story, 1 update"
        );
        let embeds = &messages[0].embeds;
        assert_eq!(embeds[0].title, "Agency cuts grants");
        let update = &embeds[1];
        assert_eq!(update.title, "Update: Telescope sees first light");
        assert_eq!(update.fields.len(), 1, "no Also covered by, no Related");
        assert_eq!(update.fields[0].name, "Now also covered by");
        assert_eq!(
            update.fields[0].value,
            "[Outlet \\*C\\*](<https://example.net/10>), [@\u{200b}everyone D](<https://example.net/11>)"
        );
        let text = to_text(&messages[0]);
        assert!(
            text.contains("\n┃ **Update: Telescope sees first light**"),
            "{text}"
        );
        assert!(
            text.contains("\n┃ __Now also covered by__\n┃ [Outlet"),
            "{text}"
        );
    }

    #[test]
    fn hostile_updates_stay_inside_every_limit() {
        let updates: Vec<UpdateView> = (0..30)
            .map(|i| {
                let story = hostile_story(i);
                let outlets = story.also_covered_by.clone();
                UpdateView {
                    story,
                    new_coverage: outlets,
                }
            })
            .collect();
        let digest = Digest {
            id: None,
            channel: "c".into(),
            generated_at: Timestamp::UNIX_EPOCH,
            stories: (0..20).map(hostile_story).collect(),
            updates,
        };
        let messages = digest_messages(&digest);
        let embeds: Vec<&PostEmbed> = messages.iter().flat_map(|m| &m.embeds).collect();
        assert_eq!(embeds.len(), 50);
        assert!(embeds[..20].iter().all(|e| !e.title.starts_with("Update:")));
        assert!(embeds[20..].iter().all(|e| e.title.starts_with("Update: ")));
        assert_within_limits(&messages);
    }

    #[test]
    fn a_digest_of_updates_only_says_so() {
        let digest = Digest {
            id: None,
            channel: "c".into(),
            generated_at: Timestamp::UNIX_EPOCH,
            stories: vec![],
            updates: vec![
                update_of(hostile_story(1), &["A"]),
                update_of(hostile_story(2), &["B"]),
            ],
        };
        assert_eq!(
            digest_messages(&digest)[0].content,
            "**Newsdesk digest** · c · 2 updates"
        );
    }

    #[test]
    fn one_message_for_a_small_digest() {
        let mut story = small_story();
        story.related.truncate(1);
        let digest = Digest {
            id: None,
            channel: "research".into(),
            generated_at: Timestamp::UNIX_EPOCH,
            stories: vec![story],
            updates: Vec::new(),
        };
        let messages = digest_messages(&digest);
        assert_eq!(messages.len(), 1);
        assert_eq!(
            messages[0].content,
            "**Newsdesk digest** · research · 1 story"
        );
        let e = &messages[0].embeds[0];
        assert_eq!(e.title, "Agency cuts grants");
        assert_eq!(e.fields[0].name, "Also covered by");
        assert_eq!(e.fields[1].name, "Related");
    }
}
