//! The TOML configuration file: types, defaults and validation.
//!
//! Every error names the file, line and column, the field (`feed[2].interval`) and what was
//! expected; all of a file's errors are reported at once (see `report`). Unknown keys are errors, so a typo never silently falls back to a default.
//! Secrets never live here: the file names environment variables that hold them.

mod document;
mod include;
mod report;
pub mod starter;

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use crate::duration::HumanDuration;
use crate::schedule::Schedule;
use crate::topics::Query;
use report::Report;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Files of `[[topic]]` presets, relative to this file (see `include`).
    #[serde(default)]
    pub include: Vec<Spanned<String>>,
    #[serde(default)]
    pub storage: StorageConfig,
    #[serde(default)]
    pub polling: PollingConfig,
    #[serde(default, rename = "feed")]
    pub feeds: Vec<FeedConfig>,
    #[serde(default, rename = "topic")]
    pub topics: Vec<TopicConfig>,
    #[serde(default)]
    pub summarizer: SummarizerConfig,
    #[serde(default)]
    pub related: RelatedConfig,
    #[serde(default, rename = "channel")]
    pub channels: Vec<ChannelConfig>,
    #[serde(default)]
    pub discord: DiscordConfig,
    #[serde(default)]
    pub daemon: DaemonConfig,
    #[serde(default)]
    pub web: WebConfig,
    /// The directory of the config file: relative paths and `file:` URLs resolve against it.
    #[serde(skip)]
    pub base_dir: PathBuf,
    #[serde(skip)]
    pub source: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// SQLite file, relative to the config file's directory.
    pub path: PathBuf,
    /// Items published longer ago than this keep their headline, link, outlet, times, story and
    /// gist, and lose their article text and longer summary; search knows them by headline and
    /// gist once their story is out of the `[related]` windows. "off" keeps all.
    pub keep: HumanDuration,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            path: PathBuf::from("newsdesk.db"),
            // Far past every window newsdesk reads text in, and an item's text is most of what
            // it costs to store: without a limit the database grows without end.
            keep: HumanDuration::secs(2 * 365 * 86_400),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PollingConfig {
    pub interval: HumanDuration,
    pub min_interval: HumanDuration,
    pub max_interval: HumanDuration,
    pub timeout: HumanDuration,
    /// Largest feed or page body accepted, in bytes.
    pub max_body_size: usize,
    /// Feeds fetched at the same time.
    pub concurrency: usize,
    /// Requests in flight to one host at the same time.
    pub per_host_concurrency: usize,
    pub user_agent: String,
    /// Items older than this are recorded but never announced. "off" announces any age.
    pub max_item_age: HumanDuration,
    /// Longest wait between retries of a failing feed.
    pub backoff_max: HumanDuration,
    /// A feed failing without a break for this long is marked dead.
    pub dead_after: HumanDuration,
    /// Announce the items of a feed's very first fetch (normally they are recorded silently so a
    /// new feed does not flood the channels with its back catalogue).
    pub announce_first_fetch: bool,
    /// Feed content shorter than this (characters) is not "long enough": the page is fetched.
    pub full_text_min_chars: usize,
}

impl Default for PollingConfig {
    fn default() -> Self {
        PollingConfig {
            interval: HumanDuration::secs(30 * 60),
            min_interval: HumanDuration::secs(5 * 60),
            max_interval: HumanDuration::secs(12 * 3600),
            timeout: HumanDuration::secs(20),
            max_body_size: 5 * 1024 * 1024,
            concurrency: 8,
            per_host_concurrency: 2,
            user_agent: concat!("newsdesk/", env!("CARGO_PKG_VERSION")).to_string(),
            max_item_age: HumanDuration::secs(3 * 86_400),
            backoff_max: HumanDuration::secs(12 * 3600),
            dead_after: HumanDuration::secs(7 * 86_400),
            announce_first_fetch: false,
            full_text_min_chars: 600,
        }
    }
}

/// Where an item's article text comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FullText {
    /// The feed's own content when it is long enough, else the fetched page.
    #[default]
    Auto,
    /// Always fetch the page.
    Always,
    /// Never fetch pages: the feed's content is all there is.
    Never,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    pub name: Spanned<String>,
    pub url: Spanned<String>,
    #[serde(default)]
    pub interval: Option<HumanDuration>,
    #[serde(default)]
    pub full_text: FullText,
    /// Let this feed's article links (and their redirects) reach loopback, private and
    /// link-local addresses. Off: links in a feed are third-party input and may only reach
    /// public addresses, so a feed cannot make newsdesk fetch (and post) an internal page.
    #[serde(default)]
    pub allow_private: bool,
    /// Only items matching at least one of these topics may be posted; the others are stored
    /// (and searchable) but never announced. For general feeds where most stories are off-beat.
    #[serde(default)]
    pub require_topics: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicConfig {
    pub name: Spanned<String>,
    #[serde(default)]
    pub title: Option<String>,
    pub query: Query,
}

impl TopicConfig {
    pub fn display_title(&self) -> &str {
        self.title.as_deref().unwrap_or(self.name.get_ref())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SummarizerConfig {
    pub sentences: usize,
    pub max_chars: usize,
    /// Abstractive summaries from an OpenAI-compatible endpoint; extractive when absent.
    pub llm: Option<LlmConfig>,
}

impl Default for SummarizerConfig {
    fn default() -> Self {
        SummarizerConfig {
            sentences: 3,
            max_chars: 600,
            llm: None,
        }
    }
}

/// `[summarizer.llm]`: an OpenAI-compatible `/v1/chat/completions` endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmConfig {
    /// e.g. "http://127.0.0.1:11434/v1"; "/chat/completions" (or "/v1/chat/completions") is added.
    pub base_url: String,
    pub model: String,
    /// Name of the environment variable holding the API key (the key never goes in the file).
    #[serde(default)]
    pub api_key_env: Option<String>,
    #[serde(default = "LlmConfig::default_timeout")]
    pub timeout: HumanDuration,
    /// Requests in any rolling hour; over it, summaries are extractive.
    #[serde(default = "LlmConfig::default_max_requests_per_hour")]
    pub max_requests_per_hour: u32,
}

impl LlmConfig {
    fn default_timeout() -> HumanDuration {
        HumanDuration::secs(30)
    }
    fn default_max_requests_per_hour() -> u32 {
        60
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RelatedConfig {
    /// Related earlier stories shown per story.
    pub max: usize,
    /// How far back Related looks.
    pub window: HumanDuration,
    /// Coverage further apart than this is never grouped into one story.
    pub group_window: HumanDuration,
}

impl Default for RelatedConfig {
    fn default() -> Self {
        RelatedConfig {
            max: 5,
            window: HumanDuration::secs(180 * 86_400),
            group_window: HumanDuration::secs(3 * 86_400),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    pub name: Spanned<String>,
    /// Discord channel id (a snowflake); absent for terminal-only channels.
    #[serde(default)]
    pub discord_channel_id: Option<Spanned<String>>,
    /// Topic names; empty means every story.
    #[serde(default)]
    pub topics: Vec<Spanned<String>>,
    /// When digests go out; required in digest mode, unused in live mode.
    #[serde(default)]
    pub schedule: Option<Schedule>,
    #[serde(default)]
    pub mode: ChannelMode,
    #[serde(default = "default_max_stories")]
    pub max_stories: usize,
    /// Name of an environment variable holding a Discord webhook URL to post through instead of
    /// the bot (`https://discord.com/api/webhooks/ID/TOKEN`); the secret never enters the file.
    #[serde(default)]
    pub webhook_env: Option<String>,
    /// Post a story already sent here again, marked as an update, when outlets it did not show
    /// have covered it since (each new outlet announced once). Off: a story is posted once.
    #[serde(default)]
    pub updates: bool,
    /// The Discord channel (or the webhook's channel) is a forum: each digest opens a new post
    /// (its own thread, titled with the channel and date, or a lone story's headline), where
    /// readers can discuss it.
    #[serde(default)]
    pub forum: bool,
    /// Tags every forum post gets (by name, or by id): needed in a forum that requires one.
    #[serde(default)]
    pub forum_tags: Vec<String>,
}

/// How a channel receives stories.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelMode {
    /// A digest at each slot of the channel's schedule.
    #[default]
    Digest,
    /// New stories as they arrive, several batched into one message.
    Live,
}

fn default_max_stories() -> usize {
    10
}

/// `[daemon]`: how the long-running desk behaves.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DaemonConfig {
    /// After SIGTERM or Ctrl-C, how long work in flight may go on before it is abandoned (it
    /// stays queued for the next start).
    pub shutdown_grace: HumanDuration,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            shutdown_grace: HumanDuration::secs(10),
        }
    }
}

/// The story pages (`newsdesk serve`, or beside `run`): off unless `listen` is set.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// Address to serve on, e.g. "127.0.0.1:8080" (loopback: put a reverse proxy in front).
    pub listen: Option<std::net::SocketAddr>,
    /// The address readers reach the pages at ("https://news.example.org"), for links.
    pub public_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiscordConfig {
    /// Name of the environment variable holding the bot token.
    pub token_env: String,
    /// Let `/feeds add` accept URLs on loopback, private, link-local and similar addresses
    /// (normally refused so a Discord user cannot make the bot probe the local network).
    pub allow_private_feed_urls: bool,
    /// Register slash commands in this guild only (instant updates while developing);
    /// global registration when absent.
    pub dev_guild_id: Option<String>,
    /// Where Discord's HTTP API is reached: Discord itself, or an HTTP proxy in front of it
    /// (e.g. a shared rate-limiting proxy). Only scheme, host and port; `/api/v10/...` is added.
    pub api_base: String,
}

/// Discord's own API host.
pub const DISCORD_API_BASE: &str = "https://discord.com";

impl Default for DiscordConfig {
    fn default() -> Self {
        DiscordConfig {
            token_env: "NEWSDESK_DISCORD_TOKEN".to_string(),
            allow_private_feed_urls: false,
            dev_guild_id: None,
            api_base: DISCORD_API_BASE.to_string(),
        }
    }
}

/// A config error located in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    /// Dotted path of the field, e.g. `feed[2].interval`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.field,
            self.message
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", issues.iter().map(|i| i.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid { issues: Vec<ConfigIssue> },
}

impl Config {
    /// Reads, parses and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::from_str_at(&text, path)
    }

    /// Parses and validates config text as if it were the file at `path`. Every error is
    /// reported, in file order, not only the first.
    pub fn from_str_at(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let mut report =
            Report::parse(text, path).map_err(|issues| ConfigError::Invalid { issues })?;
        let mut config: Option<Config> = report.deserialize();
        let mut included_issues = Vec::new();
        if let Some(config) = &mut config {
            config.source = path.to_path_buf();
            config.base_dir = path
                .parent()
                .map(Path::to_path_buf)
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or_else(|| PathBuf::from("."));
            let (included, issues) = include::load(&config.include, &config.base_dir, &mut report);
            included_issues = issues;
            let included_names: Vec<String> =
                included.iter().map(|t| t.name.get_ref().clone()).collect();
            config.validate(&mut report, &included_names);
            // The file's own definition of a topic wins over an included one.
            let own: HashSet<String> = config
                .topics
                .iter()
                .map(|t| t.name.get_ref().clone())
                .collect();
            config.topics.extend(
                included
                    .into_iter()
                    .filter(|t| !own.contains(t.name.get_ref())),
            );
        }
        let mut issues = report.finish();
        issues.extend(included_issues);
        match config {
            Some(config) if issues.is_empty() => Ok(config),
            _ => Err(ConfigError::Invalid { issues }),
        }
    }

    /// Checks what deserialization cannot: names, references, URLs and ranges.
    fn validate(&self, report: &mut Report<'_>, included_topics: &[String]) {
        self.validate_feeds(report);
        self.validate_topic_names(report);
        // Written names, so a topic that failed to deserialize (already reported) is not also
        // "unknown" wherever a channel names it.
        let mut known_topics = report.written_strings("topic", "name");
        known_topics.extend(included_topics.iter().cloned());
        self.validate_feed_filters(report, &known_topics);
        let mut channel_names = HashSet::new();
        for (i, channel) in self.channels.iter().enumerate() {
            channel.validate(i, report, &known_topics, &mut channel_names);
        }
        self.validate_ranges(report);
        self.validate_endpoints(report);
    }

    /// Feed names and URLs: present, valid and unique.
    fn validate_feeds(&self, report: &mut Report<'_>) {
        let mut names = HashSet::new();
        let mut urls = HashSet::new();
        for (i, feed) in self.feeds.iter().enumerate() {
            let name = feed.name.get_ref().trim();
            let field = format!("feed[{i}].name");
            if name.is_empty() {
                report.at(&field, "must not be empty");
            } else if !names.insert(name.to_string()) {
                report.at(&field, format!("duplicate feed name {name:?}"));
            }
            let field = format!("feed[{i}].url");
            match self.feed_url(feed) {
                Ok(url) => {
                    if !urls.insert(url.to_string()) {
                        report.at(&field, format!("duplicate feed URL {url}"));
                    }
                }
                Err(message) => report.at(&field, message),
            }
        }
    }

    /// Topic names: slugs, unique.
    fn validate_topic_names(&self, report: &mut Report<'_>) {
        let mut topic_names = HashSet::new();
        for (i, topic) in self.topics.iter().enumerate() {
            let name = topic.name.get_ref();
            let field = format!("topic[{i}].name");
            if !is_slug(name) {
                report.at(&field, format!(
                        "{name:?} is not a valid topic name: expected lower-case letters, digits and dashes"
                    ),
                );
            } else if !topic_names.insert(name.clone()) {
                report.at(&field, format!("duplicate topic name {name:?}"));
            }
        }
    }

    /// Every feed's `require_topics` names a known topic.
    fn validate_feed_filters(&self, report: &mut Report<'_>, known_topics: &[String]) {
        for (i, feed) in self.feeds.iter().enumerate() {
            for (j, topic) in feed.require_topics.iter().enumerate() {
                if !known_topics.contains(topic.get_ref()) {
                    report.at(
                        &format!("feed[{i}].require_topics[{j}]"),
                        unknown_topic(topic.get_ref()),
                    );
                }
            }
        }
    }

    /// Numbers within their ranges: `[polling]`, `[summarizer]`, `[related]`.
    fn validate_ranges(&self, report: &mut Report<'_>) {
        let p = &self.polling;
        if p.min_interval > p.max_interval {
            report.at_depending(
                "polling.min_interval",
                &["polling.max_interval"],
                format!(
                    "{} must not be larger than polling.max_interval ({})",
                    p.min_interval, p.max_interval
                ),
            );
        }
        if p.concurrency == 0 {
            report.at("polling.concurrency", "expected at least 1");
        }
        if p.per_host_concurrency == 0 {
            report.at("polling.per_host_concurrency", "expected at least 1");
        }
        if self.summarizer.sentences == 0 {
            report.at("summarizer.sentences", "expected at least 1");
        }
        if self.summarizer.max_chars < 80 {
            report.at(
                "summarizer.max_chars",
                format!("expected at least 80, found {}", self.summarizer.max_chars),
            );
        }
        if self.related.max > 10 {
            report.at(
                "related.max",
                format!("expected at most 10, found {}", self.related.max),
            );
        }
    }

    /// The services newsdesk talks to: Discord's API base and the LLM endpoint.
    fn validate_endpoints(&self, report: &mut Report<'_>) {
        let base_ok = Url::parse(self.discord.api_base.trim()).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https") && u.host().is_some() && u.path() == "/"
        });
        if !base_ok {
            report.at(
                "discord.api_base",
                "expected a scheme and host such as \"https://discord.com\" (no path)",
            );
        }
        if let Some(public) = &self.web.public_url {
            let ok = Url::parse(public.trim())
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if !ok {
                report.at(
                    "web.public_url",
                    "expected an http:// or https:// URL such as \"https://news.example.org\"",
                );
            }
        }
        if let Some(llm) = &self.summarizer.llm {
            let scheme_ok = Url::parse(llm.base_url.trim())
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
            if !scheme_ok {
                report.at(
                    "summarizer.llm.base_url",
                    "expected an http:// or https:// URL",
                );
            }
            if llm.model.trim().is_empty() {
                report.at("summarizer.llm.model", "must not be empty");
            }
            if llm.timeout.is_zero() {
                report.at("summarizer.llm.timeout", "expected a duration above zero");
            }
        }
    }

    /// The feed's URL, with `file:` paths resolved against the config file's directory.
    pub fn feed_url(&self, feed: &FeedConfig) -> Result<Url, String> {
        resolve_feed_url(feed.url.get_ref(), &self.base_dir)
    }

    /// The SQLite path, resolved against the config file's directory.
    pub fn storage_path(&self) -> PathBuf {
        if self.storage.path.is_absolute() {
            self.storage.path.clone()
        } else {
            self.base_dir.join(&self.storage.path)
        }
    }

    pub fn topic(&self, name: &str) -> Option<&TopicConfig> {
        self.topics.iter().find(|t| t.name.get_ref() == name)
    }

    pub fn channel(&self, name: &str) -> Option<&ChannelConfig> {
        self.channels.iter().find(|c| c.name.get_ref() == name)
    }
}

impl ChannelConfig {
    /// `[[channel]]` number `i`: its name (unique among `names`), target, forum settings,
    /// topics, schedule and size.
    fn validate(
        &self,
        i: usize,
        report: &mut Report<'_>,
        known_topics: &[String],
        names: &mut HashSet<String>,
    ) {
        let name = self.name.get_ref();
        let name_field = format!("channel[{i}].name");
        if !is_slug(name) {
            report.at(&name_field, format!(
                    "{name:?} is not a valid channel name: expected lower-case letters, digits and dashes"
                ),
            );
        } else if !names.insert(name.clone()) {
            report.at(&name_field, format!("duplicate channel name {name:?}"));
        }
        if let Some(id) = &self.discord_channel_id {
            let valid = !id.get_ref().is_empty()
                && id.get_ref().len() <= 20
                && id.get_ref().bytes().all(|b| b.is_ascii_digit());
            if !valid {
                report.at(&format!("channel[{i}].discord_channel_id"), format!(
                        "{:?} is not a Discord channel id: expected digits, e.g. \"1234567890123456789\"",
                        id.get_ref()
                    ),
                );
            }
        }
        if !self.forum_tags.is_empty() && !self.forum {
            report.at(
                &format!("channel[{i}].forum_tags"),
                "only a forum channel takes tags: set forum = true, or remove forum_tags",
            );
        }
        if self.forum_tags.len() > 5 {
            report.at(
                &format!("channel[{i}].forum_tags"),
                format!(
                    "a forum post takes at most 5 tags, found {}",
                    self.forum_tags.len()
                ),
            );
        }
        if self.discord_channel_id.is_some() && self.webhook_env.is_some() {
            report.at(
                &format!("channel[{i}].webhook_env"),
                "set discord_channel_id (the bot posts) or webhook_env (a webhook posts), not both",
            );
        }
        for (j, topic) in self.topics.iter().enumerate() {
            if !known_topics.contains(topic.get_ref()) {
                report.at(
                    &format!("channel[{i}].topics[{j}]"),
                    unknown_topic(topic.get_ref()),
                );
            }
        }
        if self.mode == ChannelMode::Digest && self.schedule.is_none() {
            report.at_depending(
                &format!("channel[{i}].schedule"),
                &[&format!("channel[{i}].mode"), &name_field],
                "missing: a digest channel needs a schedule, e.g. \"daily 08:00 Europe/Berlin\" (or set mode = \"live\")",
            );
        }
        if self.max_stories == 0 || self.max_stories > 50 {
            report.at(
                &format!("channel[{i}].max_stories"),
                format!("expected 1 to 50, found {}", self.max_stories),
            );
        }
    }
}

fn unknown_topic(name: &str) -> String {
    format!("unknown topic {name:?}: expected one of the [[topic]] names")
}

/// Resolves a feed URL as written in the config (or given on the command line).
/// `file:relative/path` is relative to `base_dir`; http(s) URLs must be absolute.
pub fn resolve_feed_url(raw: &str, base_dir: &Path) -> Result<Url, String> {
    let raw = raw.trim();
    if let Some(path) = raw.strip_prefix("file:")
        && !path.starts_with('/')
    {
        let joined = base_dir.join(path);
        let absolute = std::path::absolute(&joined)
            .map_err(|e| format!("cannot resolve {}: {e}", joined.display()))?;
        return Url::from_file_path(&absolute)
            .map_err(|()| format!("cannot turn {} into a file URL", absolute.display()));
    }
    let url = Url::parse(raw).map_err(|e| format!("invalid URL {raw:?}: {e}"))?;
    match url.scheme() {
        "http" | "https" | "file" => Ok(url),
        other => Err(format!(
            "unsupported URL scheme {other:?}: expected http, https or file"
        )),
    }
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Config, ConfigError> {
        Config::from_str_at(text, Path::new("/etc/newsdesk/test.toml"))
    }

    fn issues(text: &str) -> Vec<ConfigIssue> {
        match load(text) {
            Err(ConfigError::Invalid { issues }) => issues,
            other => panic!("expected invalid config, got {other:?}"),
        }
    }

    const SCHED: &str = "schedule = \"daily 08:00 UTC\"\n";

    #[test]
    fn typo_names_file_line_column_and_field() {
        let text = "[[feed]]\nname = \"a\"\nurl = \"https://a.example/feed\"\n\n[[feed]]\nname = \"b\"\nurl = \"https://b.example/feed\"\nintreval = \"5m\"\n";
        let i = &issues(text)[0];
        assert_eq!(i.line, 8);
        assert_eq!(i.column, 1);
        assert_eq!(i.field, "feed[1].intreval");
        assert!(i.message.contains("unknown field"), "{}", i.message);
        assert!(
            i.to_string()
                .starts_with("/etc/newsdesk/test.toml:8:1: feed[1].intreval:")
        );
    }

    #[test]
    fn bad_duration_is_located() {
        let text = "[polling]\ninterval = \"5x\"\n";
        let i = &issues(text)[0];
        assert_eq!((i.line, i.field.as_str()), (2, "polling.interval"));
        assert!(i.message.contains("invalid duration"), "{}", i.message);
    }

    #[test]
    fn unknown_topic_in_channel_is_located() {
        let text = format!(
            "[[topic]]\nname = \"ai\"\nquery = \"ai\"\n\n[[channel]]\nname = \"c\"\ntopics = [\"ai\", \"nope\"]\n{SCHED}"
        );
        let i = &issues(&text)[0];
        assert_eq!(i.field, "channel[0].topics[1]");
        assert_eq!((i.line, i.column), (7, 17));
    }

    #[test]
    fn relative_file_feed_resolves_against_config_dir() {
        let text = "[[feed]]\nname = \"demo\"\nurl = \"file:demo/wire.xml\"\n";
        let config = load(text).unwrap();
        let url = config.feed_url(&config.feeds[0]).unwrap();
        assert_eq!(url.as_str(), "file:///etc/newsdesk/demo/wire.xml");
    }

    #[test]
    fn rejects_duplicates_and_bad_schemes() {
        let text = "[[feed]]\nname = \"a\"\nurl = \"ftp://x/feed\"\n[[feed]]\nname = \"a\"\nurl = \"https://x/feed\"\n";
        let all = issues(text);
        assert!(
            all.iter()
                .any(|i| i.field == "feed[0].url" && i.message.contains("scheme"))
        );
        assert!(
            all.iter()
                .any(|i| i.field == "feed[1].name" && i.message.contains("duplicate"))
        );
    }

    #[test]
    fn digest_channels_need_a_schedule_live_ones_do_not() {
        let missing = issues("[[channel]]\nname = \"c\"\n");
        assert_eq!(missing[0].field, "channel[0].schedule");
        assert_eq!(missing[0].line, 2);
        let live = load("[[channel]]\nname = \"c\"\nmode = \"live\"\n").unwrap();
        assert_eq!(live.channels[0].mode, ChannelMode::Live);
    }

    #[test]
    fn included_topics_are_known_errors_in_them_name_their_file_and_own_ones_win() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("topics")).expect("mkdir");
        std::fs::write(
            dir.path().join("topics/presets.toml"),
            "[[topic]]\nname = \"ai-policy\"\nquery = \"ai\"\n\n\
             [[topic]]\nname = \"space\"\nquery = \"orbit\"\n",
        )
        .expect("presets");
        let main = dir.path().join("newsdesk.toml");
        let text = format!(
            "include = [\"topics/presets.toml\"]\n[[topic]]\nname = \"space\"\nquery = \"rocket\"\n\
             [[feed]]\nname = \"F\"\nurl = \"https://f.example/rss\"\nrequire_topics = [\"ai-policy\"]\n\
             [[channel]]\nname = \"c\"\ntopics = [\"ai-policy\", \"space\"]\n{SCHED}"
        );
        let config = Config::from_str_at(&text, &main).expect("valid with the presets");
        let space = config.topic("space").expect("space");
        assert_eq!(
            space.query.to_string(),
            "rocket",
            "the file's own definition wins"
        );
        assert!(config.topic("ai-policy").is_some());
        assert_eq!(config.topics.len(), 2);

        // A mistake in the included file is reported there; an unknown filter topic here.
        std::fs::write(
            dir.path().join("topics/presets.toml"),
            "[[topic]]\nname = \"ai-policy\"\nquery = \"ai\"\n\n[[topic]]\nnam = \"x\"\n",
        )
        .expect("presets");
        let text = text.replace(
            "require_topics = [\"ai-policy\"]",
            "require_topics = [\"nope\"]",
        );
        let found = match Config::from_str_at(&text, &main) {
            Err(ConfigError::Invalid { issues }) => issues,
            other => panic!("expected errors, got {other:?}"),
        };
        let in_presets = found
            .iter()
            .find(|i| i.file.ends_with("topics/presets.toml"))
            .expect("an issue in the presets file");
        assert_eq!(in_presets.line, 5, "{in_presets}");
        let filter = found
            .iter()
            .find(|i| i.field == "feed[0].require_topics[0]")
            .expect("unknown filter topic");
        assert_eq!((filter.line, filter.file.as_path()), (8, main.as_path()));
        let missing = Config::from_str_at("include = [\"none.toml\"]\n", &main);
        match missing {
            Err(ConfigError::Invalid { issues }) => {
                assert_eq!(
                    (issues[0].line, issues[0].field.as_str()),
                    (1, "include[0]")
                );
                assert!(issues[0].message.contains("cannot read"), "{}", issues[0]);
            }
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn a_channel_names_one_target() {
        let text = format!(
            "[[channel]]\nname = \"c\"\n{SCHED}discord_channel_id = \"42\"\nwebhook_env = \"HOOK\"\n"
        );
        let i = &issues(&text)[0];
        assert_eq!((i.line, i.field.as_str()), (5, "channel[0].webhook_env"));
        assert!(i.message.contains("not both"), "{}", i.message);
    }

    #[test]
    fn forum_is_off_unless_set() {
        let off = load(&format!("[[channel]]\nname = \"c\"\n{SCHED}")).unwrap();
        assert!(!off.channels[0].forum);
        let on = load(&format!("[[channel]]\nname = \"c\"\n{SCHED}forum = true\n")).unwrap();
        assert!(on.channels[0].forum);
    }

    #[test]
    fn channel_updates_default_off_and_a_wrong_type_is_located() {
        let off = load(&format!("[[channel]]\nname = \"c\"\n{SCHED}")).unwrap();
        assert!(!off.channels[0].updates);
        let on = load(&format!(
            "[[channel]]\nname = \"c\"\n{SCHED}updates = true\n"
        ))
        .unwrap();
        assert!(on.channels[0].updates);
        let i = &issues(&format!(
            "[[channel]]\nname = \"c\"\n{SCHED}updates = \"yes\"\n"
        ))[0];
        assert_eq!((i.line, i.column), (4, 11));
        assert_eq!(i.field, "channel[0].updates");
        let typo = &issues(&format!(
            "[[channel]]\nname = \"c\"\n{SCHED}update = true\n"
        ))[0];
        assert_eq!((typo.line, typo.field.as_str()), (4, "channel[0].update"));
        assert!(typo.message.contains("unknown field"), "{}", typo.message);
    }

    /// 1-based (line, column) of the first `needle` in `text`, to state expectations readably.
    fn pos(text: &str, needle: &str) -> (usize, usize) {
        let offset = text.find(needle).expect(needle);
        let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        (
            text[..offset].matches('\n').count() + 1,
            text[line_start..offset].chars().count() + 1,
        )
    }

    fn located(issues: &[ConfigIssue]) -> Vec<(String, (usize, usize))> {
        issues
            .iter()
            .map(|i| (i.field.clone(), (i.line, i.column)))
            .collect()
    }

    #[test]
    fn every_deserialization_error_is_reported_in_one_pass() {
        let text = r#"[polling]
interval = "5x"
timeout = true

[[feed]]
name = "a"
url = "https://a.example/feed"
full_text = "sometimes"
intreval = "5m"

[[feed]]
name = "b"

[[feed]]
name = "a"
url = "https://c.example/feed"

[[topic]]
name = "ai"
query = "ai AND"

[[channel]]
name = "c"
topics = ["ai", 7]
mode = "livee"
schedule = "daily 25:00 UTC"
"#;
        let all = issues(text);
        let expected = vec![
            ("polling.interval".to_string(), pos(text, "\"5x\"")),
            ("polling.timeout".to_string(), pos(text, "true")),
            ("feed[0].full_text".to_string(), pos(text, "\"sometimes\"")),
            ("feed[0].intreval".to_string(), pos(text, "intreval")),
            ("feed[1].url".to_string(), (11, 1)),
            ("feed[2].name".to_string(), (15, 8)),
            ("topic[0].query".to_string(), pos(text, "\"ai AND\"")),
            ("channel[0].topics[1]".to_string(), pos(text, "7]")),
            ("channel[0].mode".to_string(), pos(text, "\"livee\"")),
            (
                "channel[0].schedule".to_string(),
                pos(text, "\"daily 25:00"),
            ),
        ];
        assert_eq!(located(&all), expected, "{all:#?}");
        let message = |field: &str| &all.iter().find(|i| i.field == field).unwrap().message;
        assert!(message("polling.interval").contains("invalid duration"));
        assert!(message("polling.timeout").contains("expected a duration"));
        assert!(message("feed[0].full_text").contains("expected one of"));
        assert!(message("feed[0].intreval").contains("unknown field"));
        assert!(message("feed[1].url").contains("missing field `url`"));
        assert!(message("feed[2].name").contains("duplicate feed name"));
        assert!(message("channel[0].topics[1]").contains("expected a string"));
    }

    #[test]
    fn range_errors_point_at_their_value() {
        let text = r#"[polling]
max_interval = "1m"
concurrency = 0
per_host_concurrency = 0

[summarizer]
sentences = 0
max_chars = 10

[summarizer.llm]
base_url = "ftp://x"
model = " "
timeout = "0s"

[related]
max = 11

[[channel]]
name = "c"
mode = "live"
max_stories = 0
"#;
        let all = issues(text);
        let expected = vec![
            ("polling.min_interval".to_string(), pos(text, "\"1m\"")),
            ("polling.concurrency".to_string(), pos(text, "0\nper_host")),
            ("polling.per_host_concurrency".to_string(), (4, 24)),
            ("summarizer.sentences".to_string(), (7, 13)),
            ("summarizer.max_chars".to_string(), pos(text, "10")),
            ("summarizer.llm.base_url".to_string(), pos(text, "\"ftp")),
            ("summarizer.llm.model".to_string(), pos(text, "\" \"")),
            ("summarizer.llm.timeout".to_string(), pos(text, "\"0s\"")),
            ("related.max".to_string(), pos(text, "11")),
            ("channel[0].max_stories".to_string(), (21, 15)),
        ];
        assert_eq!(located(&all), expected, "{all:#?}");
        assert!(
            all[0].message.contains("polling.max_interval"),
            "{}",
            all[0]
        );
        assert!(all[9].message.contains("expected 1 to 50"), "{}", all[9]);
    }

    #[test]
    fn a_check_on_a_default_does_not_repeat_the_error_that_replaced_the_value() {
        let all = issues("[polling]\nmin_interval = \"5x\"\nmax_interval = \"1m\"\n");
        assert_eq!(
            located(&all),
            [("polling.min_interval".to_string(), (2, 16))]
        );
        assert!(all[0].message.contains("invalid duration"), "{}", all[0]);
        // A digest channel needs a schedule, but this one meant to be live.
        let all = issues("[[channel]]\nname = \"c\"\nmode = \"livee\"\n");
        assert_eq!(located(&all), [("channel[0].mode".to_string(), (3, 8))]);
    }

    #[test]
    fn every_syntax_error_is_reported() {
        let text = "[polling]\ninterval = \"5m\" x\ntimeout = = \"3s\"\n[[feed]]\nname = \"a\"\n";
        let all = issues(text);
        let lines: Vec<usize> = all.iter().map(|i| i.line).collect();
        assert_eq!(lines, [2, 3], "{all:#?}");
        assert_eq!(all[1].field, "polling.timeout");
    }

    #[test]
    fn empty_config_gets_defaults() {
        let config = load("").unwrap();
        assert_eq!(config.related.max, 5);
        assert_eq!(
            config.storage_path(),
            PathBuf::from("/etc/newsdesk/newsdesk.db")
        );
    }
}
