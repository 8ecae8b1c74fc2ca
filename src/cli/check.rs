//! `newsdesk check`: validate the config and show what would run.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use crate::config::{Config, ConfigError};
use crate::discord::route::Routes;

/// Characters of a topic's query shown: enough to recognize it; the file has the rest.
const QUERY_SHOWN: usize = 100;

/// `text` on one line (runs of white space as one space), cut after `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

pub fn run(path: &Path, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let config = match Config::load(path) {
        Ok(config) => config,
        Err(ConfigError::Invalid { issues }) => {
            for issue in &issues {
                eprintln!("{issue}");
            }
            eprintln!("{} error(s) in {}", issues.len(), path.display());
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let p = &config.polling;
    writeln!(out, "config {} is valid", path.display())?;
    writeln!(out, "storage: {}", config.storage_path().display())?;
    writeln!(
        out,
        "polling: every {} (min {}, max {}), timeout {}, {} at once ({} per host), items older than {} not announced",
        p.interval,
        p.min_interval,
        p.max_interval,
        p.timeout,
        p.concurrency,
        p.per_host_concurrency,
        p.max_item_age
    )?;
    writeln!(out, "feeds ({}):", config.feeds.len())?;
    for feed in &config.feeds {
        let url = config
            .feed_url(feed)
            .map(|u| u.to_string())
            .unwrap_or_default();
        let interval = feed.interval.unwrap_or(p.interval);
        let filter = if feed.require_topics.is_empty() {
            String::new()
        } else {
            let topics: Vec<&str> = feed
                .require_topics
                .iter()
                .map(|t| t.get_ref().as_str())
                .collect();
            format!(", posts only stories on {}", topics.join(" or "))
        };
        writeln!(
            out,
            "  {} <{}> every {}, full text {:?}{filter}",
            feed.name.get_ref(),
            url,
            interval,
            feed.full_text
        )?;
    }
    let included: Vec<&str> = config
        .include
        .iter()
        .map(|i| i.get_ref().as_str())
        .collect();
    if !included.is_empty() {
        writeln!(out, "included: {}", included.join(", "))?;
    }
    writeln!(out, "topics ({}):", config.topics.len())?;
    for topic in &config.topics {
        writeln!(
            out,
            "  {} ({}): {}",
            topic.name.get_ref(),
            topic.display_title(),
            one_line(&topic.query.to_string(), QUERY_SHOWN)
        )?;
    }
    if let Some(listen) = config.web.listen {
        writeln!(
            out,
            "story pages: http://{listen}/ (beside `run`, or `serve`)"
        )?;
    }
    let token_set = std::env::var(&config.discord.token_env).is_ok_and(|t| !t.trim().is_empty());
    writeln!(
        out,
        "bot token: ${} is {}",
        config.discord.token_env,
        if token_set { "set" } else { "not set" }
    )?;
    let routes = Routes::from_config(&config, token_set, |var| std::env::var(var).ok());
    writeln!(out, "channels ({}):", config.channels.len())?;
    for (channel, route) in config.channels.iter().zip(routes.describe()) {
        let topics: Vec<&str> = channel
            .topics
            .iter()
            .map(|t| t.get_ref().as_str())
            .collect();
        writeln!(
            out,
            "  {route}: {}, up to {} stories, topics: {}",
            match (&channel.mode, &channel.schedule) {
                (crate::config::ChannelMode::Live, _) =>
                    "live (new stories as they arrive)".to_string(),
                (_, Some(s)) => s.to_string(),
                (_, None) => "no schedule".to_string(),
            },
            channel.max_stories,
            if topics.is_empty() {
                "all".to_string()
            } else {
                topics.join(", ")
            }
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
