//! `newsdesk check`: validate the config and show what would run.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use crate::config::{Config, ConfigError};

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
        writeln!(
            out,
            "  {} <{}> every {}, full text {:?}",
            feed.name.get_ref(),
            url,
            interval,
            feed.full_text
        )?;
    }
    writeln!(out, "topics ({}):", config.topics.len())?;
    for topic in &config.topics {
        writeln!(
            out,
            "  {} ({}): {}",
            topic.name.get_ref(),
            topic.display_title(),
            topic.query
        )?;
    }
    writeln!(out, "channels ({}):", config.channels.len())?;
    for channel in &config.channels {
        let topics: Vec<&str> = channel
            .topics
            .iter()
            .map(|t| t.get_ref().as_str())
            .collect();
        let target = match (&channel.webhook_env, &channel.discord_channel_id) {
            (Some(var), _) => format!("Discord webhook from ${var}"),
            (None, Some(id)) => format!("Discord channel {}", id.get_ref()),
            (None, None) => "terminal only".to_string(),
        };
        writeln!(
            out,
            "  {} → {}: {}, up to {} stories, topics: {}",
            channel.name.get_ref(),
            target,
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
