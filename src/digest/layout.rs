//! The posted form of a digest: a header, then one embed per story ([`crate::present::embed`])
//! packed into messages so that no message exceeds 10 embeds or 6,000 embed characters
//! ([`crate::present::limits`]). The terminal shows exactly these messages; the Discord sink
//! sends them.

use serde::Serialize;

use super::Digest;
use crate::present::limits::{CONTENT, EMBEDS_PER_MESSAGE, MESSAGE_EMBED_TOTAL, THREAD_NAME};
use crate::present::markdown::embed_text;
use crate::present::text::{escape, truncate_words};
use crate::present::{Embed, StoryEmbedStyle, story_embed, update_embed};
use crate::store::StoryId;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostMessage {
    pub content: String,
    pub embeds: Vec<Embed>,
    /// The stories this message shows (new or updated), so a message Discord refuses can give
    /// its stories back to the queue.
    #[serde(skip)]
    pub stories: Vec<StoryId>,
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
    truncate_words(&name.replace(char::is_control, " "), THREAD_NAME)
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
        CONTENT - 20,
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
        .map(|s| (story_embed(s, StoryEmbedStyle::FULL).fit(), s.story_id))
        .chain(
            digest
                .updates
                .iter()
                .map(|u| (update_embed(u).fit(), u.story.story_id)),
        );
    let mut messages: Vec<PostMessage> = Vec::new();
    let mut current = PostMessage {
        content: String::new(),
        embeds: Vec::new(),
        stories: Vec::new(),
    };
    let mut total = 0;
    for (embed, story) in embeds {
        // An embed alone over the total (a hostile story) loses its lowest fields first.
        let embed = embed.shrink_to(MESSAGE_EMBED_TOTAL);
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
        out.push_str("\n\n");
        out.push_str(&embed_text(embed));
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
            assert!(message.content.chars().count() <= crate::present::limits::CONTENT);
        }
        digest.channel = "_*".repeat(1500);
        for message in super::digest_messages(&digest) {
            assert!(message.content.chars().count() <= crate::present::limits::CONTENT);
        }
    }

    use super::*;
    use crate::present::{Coverage, RelatedView, StoryView, UpdateView, limits};
    use jiff::Timestamp;

    fn hostile_story(i: usize) -> StoryView {
        let long = "@everyone **boom** ".repeat(600);
        StoryView {
            story_id: StoryId(i as i64),
            title: format!("{i} {long}"),
            outlet: format!("Outlet {long}"),
            published: "2026-11-20T10:00:00Z".parse().unwrap(),
            url: Some(format!("https://example.org/{i}")),
            page_url: None,
            summary: "ß".repeat(9000),
            gist: "ß".repeat(300),
            also_covered_by: (0..40)
                .map(|k| Coverage {
                    outlet: format!("Outlet {k} {long}"),
                    title: "t".into(),
                    url: Some(format!("https://example.net/{k}")),
                })
                .collect(),
            related: (0..5)
                .map(|k| RelatedView {
                    story_id: StoryId(k),
                    title: long.clone(),
                    outlet: "M".into(),
                    published: "2026-11-01T10:00:00Z".parse().unwrap(),
                    url: Some(format!("https://example.com/{k}")),
                    page_url: None,
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
        assert!(forum_post_name(&digest).chars().count() <= THREAD_NAME);
        digest.channel = "c".into();
        // A lone story names its post after itself, within the limit.
        digest.stories.truncate(1);
        let lone = forum_post_name(&digest);
        assert!(lone.starts_with("0 @everyone"), "{lone}");
        assert!(lone.chars().count() <= THREAD_NAME);
        digest.stories.clear();
        assert_eq!(forum_post_name(&digest), "c · 2026-11-29 · no new stories");
    }

    /// Every Discord limit holds and nothing hostile survives, in every message.
    fn assert_within_limits(messages: &[PostMessage]) {
        for m in messages {
            assert!(m.content.chars().count() <= CONTENT);
            assert!(m.embeds.len() <= EMBEDS_PER_MESSAGE);
            assert!(
                m.embeds.iter().map(Embed::counted_chars).sum::<usize>() <= MESSAGE_EMBED_TOTAL
            );
            for e in &m.embeds {
                assert!(e.title.chars().count() <= limits::EMBED_TITLE);
                assert!(e.description.chars().count() <= limits::EMBED_DESCRIPTION);
                assert!(e.footer.as_deref().unwrap_or("").chars().count() <= limits::FOOTER);
                assert!(e.fields.len() <= limits::EMBED_FIELDS);
                for f in &e.fields {
                    assert!(f.name.chars().count() <= limits::FIELD_NAME);
                    assert!(f.value.chars().count() <= limits::FIELD_VALUE);
                    // Whole links only: every "[" that opens a link is closed.
                    assert_eq!(
                        f.value.matches("](<").count(),
                        f.value.matches(">)").count()
                    );
                    assert!(!f.value.contains("@everyone"));
                }
                let text = format!("{} {}", e.title, e.description);
                assert!(!text.contains("@everyone"));
                assert!(!text.contains("**boom**"));
                // Footers are plain text (not rendered as markdown): one line, no mention.
                let footer = e.footer.as_deref().unwrap_or_default();
                assert!(!footer.contains("@everyone") && !footer.contains('\n'));
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
        old.story_id = StoryId(7);
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
        let embeds: Vec<&Embed> = messages.iter().flat_map(|m| &m.embeds).collect();
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
