//! The starter config `newsdesk init` writes: the bundled science-policy feed pack as
//! `[[feed]]` tables (with each feed's settings), the topic presets by include, and one
//! terminal channel, annotated so an operator can go on from there.

use std::fmt::Write as _;

use crate::opml::{self, OpmlError, OpmlFeed};

/// The feed pack (config/feeds/science-policy.opml), built into the binary.
pub const FEED_PACK: &str = include_str!("../../config/feeds/science-policy.opml");
/// The topic presets the pack's filters name (config/topics/science-policy.toml).
pub const TOPIC_PRESETS: &str = include_str!("../../config/topics/science-policy.toml");
/// Where the starter config includes the presets from, relative to itself.
pub const TOPIC_PRESETS_PATH: &str = "topics/science-policy.toml";

/// The starter config's text.
pub fn starter_config() -> Result<String, OpmlError> {
    let feeds = opml::parse_opml(FEED_PACK)?;
    let mut out = String::with_capacity(16_000);
    out.push_str(&header(feeds.len()));
    let mut category = None;
    for feed in &feeds {
        if feed.category != category {
            category.clone_from(&feed.category);
            let heading = category.as_deref().unwrap_or("Other feeds");
            let _ = writeln!(out, "# ── {heading}");
        }
        out.push_str(&feed_table(feed));
    }
    out.push_str(FOOTER);
    Ok(out)
}

fn header(feed_count: usize) -> String {
    format!(
        r#"# newsdesk config, written by `newsdesk init`. Edit freely: `newsdesk check` validates it and
# reports file:line and the field of any mistake. Every option and its default is described
# in config/newsdesk.example.toml of the source.
#
# Next steps
#   1. newsdesk check            what will run: feeds, topics, channels and where each posts
#   2. newsdesk feeds check      fetch every feed once and see which answer (none of the pack's
#                                feeds was verified when it was assembled; drop or fix those
#                                that fail here)
#   3. newsdesk run --once --dry-run
#                                one cycle, the digest printed here and nothing recorded
#   4. Post to Discord: set a channel's webhook_env (no bot needed) or discord_channel_id with a
#      bot token in NEWSDESK_DISCORD_TOKEN (see [[channel]] below), then `newsdesk run`.
#
# Durations are written "90s", "15m", "1h30m", "3d"; relative paths resolve against this file.
# Secrets never go in this file: name the environment variable that holds them.

# The topic presets: research funding, research security, export controls, AI policy, climate
# and energy, biomedical research, space, higher education and visas, international
# collaboration, scientific integrity. Each is a [[topic]] there; a [[topic]] in this file with
# the same name replaces the preset.
include = ["{TOPIC_PRESETS_PATH}"]

[storage]
path = "newsdesk.db"

[polling]
# Say who you are (a URL or an e-mail address to reach you): feed hosts block anonymous clients.
# user_agent = "newsdesk/0.1 (+mailto:you@example.org)"
# A feed's first fetch records its items without announcing them, so the first digest is not
# the pack's whole back catalogue; items older than this are never announced.
max_item_age = "3d"

# Feeds: the bundled science-policy pack ({feed_count} feeds). Each feed's interval respects
# its publisher; full_text = "always" marks feeds that carry teasers only; require_topics on a
# broad feed posts only its stories on those topics (the rest are stored and searchable).
"#
    )
}

fn feed_table(feed: &OpmlFeed) -> String {
    let mut out = String::from("[[feed]]\n");
    let name = feed.name.as_deref().unwrap_or(&feed.url);
    let _ = writeln!(out, "name = {}", toml_string(name));
    let _ = writeln!(out, "url = {}", toml_string(&feed.url));
    if let Some(interval) = &feed.interval {
        let _ = writeln!(out, "interval = {}", toml_string(interval));
    }
    // "auto" is the default: written only when the pack asks for something else.
    if let Some(full_text) = feed.full_text.as_deref().filter(|f| *f != "auto") {
        let _ = writeln!(out, "full_text = {}", toml_string(full_text));
    }
    if !feed.require_topics.is_empty() {
        let topics: Vec<String> = feed.require_topics.iter().map(|t| toml_string(t)).collect();
        let _ = writeln!(out, "require_topics = [{}]", topics.join(", "));
    }
    out.push('\n');
    out
}

/// A TOML basic string with everything escaped that must be.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

const FOOTER: &str = r#"# Where digests go. This channel prints to the terminal where `newsdesk run` runs; give it
# webhook_env or discord_channel_id to post to Discord instead. Add a [[channel]] per Discord
# channel, each with its own topics and schedule.
[[channel]]
name = "desk"
topics = []                         # empty: every story; or e.g. ["research-security", "ai-policy"]
schedule = "daily 08:00 UTC"        # "weekdays 07:30 America/New_York", "every 6h", …
max_stories = 15
# webhook_env = "NEWSDESK_DESK_WEBHOOK"      # the variable holding a webhook URL
# discord_channel_id = "…"                   # post through the bot (token below)

# [discord]
# token_env = "NEWSDESK_DISCORD_TOKEN"       # the variable holding the bot token
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// The starter parses with the presets beside it, and carries every pack feed and setting.
    #[test]
    fn the_starter_is_a_valid_config_with_the_whole_pack() {
        let dir = tempfile::tempdir().expect("temp dir");
        let topics = dir.path().join(TOPIC_PRESETS_PATH);
        std::fs::create_dir_all(topics.parent().expect("parent")).expect("dir");
        std::fs::write(&topics, TOPIC_PRESETS).expect("presets");
        let text = starter_config().expect("pack parses");
        let config = Config::from_str_at(&text, &dir.path().join("newsdesk.toml"))
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let pack = opml::parse_opml(FEED_PACK).expect("pack");
        assert!((30..=60).contains(&pack.len()), "{} feeds", pack.len());
        assert_eq!(config.feeds.len(), pack.len());
        assert_eq!(config.topics.len(), 10, "the presets");
        assert_eq!(config.channels.len(), 1);
        for (feed, from_pack) in config.feeds.iter().zip(&pack) {
            assert_eq!(feed.url.get_ref(), &from_pack.url);
            let topics: Vec<&str> = feed
                .require_topics
                .iter()
                .map(|t| t.get_ref().as_str())
                .collect();
            assert_eq!(topics, from_pack.require_topics);
            assert_eq!(
                feed.interval.map(|i| i.to_string()),
                from_pack.interval.clone(),
                "{}",
                from_pack.url
            );
        }
        assert!(config.feeds.iter().any(|f| !f.require_topics.is_empty()));
    }

    /// Every pack feed sits in a category, has a unique name and URL, and says how often to poll.
    #[test]
    fn the_pack_is_categorized_unique_and_configured() {
        let pack = opml::parse_opml(FEED_PACK).expect("pack");
        let mut names = std::collections::HashSet::new();
        for feed in &pack {
            assert!(feed.category.is_some(), "{} has no category", feed.url);
            assert!(feed.interval.is_some(), "{} has no interval", feed.url);
            assert!(feed.url.starts_with("https://"), "{}", feed.url);
            assert!(names.insert(feed.name.clone()), "{:?} twice", feed.name);
        }
        let categories: std::collections::HashSet<_> =
            pack.iter().filter_map(|f| f.category.as_deref()).collect();
        assert!(categories.len() >= 6, "{categories:?}");
    }

    #[test]
    fn names_are_escaped_for_toml() {
        let table = feed_table(&OpmlFeed {
            url: "https://a.example/rss?x=\"1\"".into(),
            name: Some("Tom \"T\" \\ Jerry\nnews".into()),
            ..OpmlFeed::default()
        });
        let value: toml::Table = toml::from_str(&table.replace("[[feed]]\n", "")).expect(&table);
        assert_eq!(value["name"].as_str(), Some("Tom \"T\" \\ Jerry\nnews"));
        assert_eq!(value["url"].as_str(), Some("https://a.example/rss?x=\"1\""));
    }
}
