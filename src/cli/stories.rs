//! `related URL-OR-ID` and `search QUERY`: reading the store.

use std::io::Write;

use jiff::{SignedDuration, Timestamp};

use super::run::open_desk_read_only;
use crate::config::Config;
use crate::lookup::{self, UrlLookup, fts_all_of, search_stories};
use crate::present::{ViewSettings, markdown, story_view};
use crate::store::{Store, StoryId};

#[derive(Debug, clap::Args)]
pub struct RelatedArgs {
    /// An article URL or a story id.
    pub target: String,
}

#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// Words to find (all of them must occur; "quoted phrases" allowed).
    pub query: Vec<String>,
    /// Only stories from the last N days.
    #[arg(long)]
    pub days: Option<u32>,
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
}

pub fn related(config: Config, args: &RelatedArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let settings = ViewSettings::from(&config);
    let desk = open_desk_read_only(config)?;
    let store = desk.store();
    let story = find_story(&store, &args.target)?;
    let view = story_view(&store, story, &settings)?;
    writeln!(out, "{}", markdown::story_block(&view))?;
    if view.related.is_empty() {
        writeln!(out, "(no related earlier stories)")?;
    }
    Ok(())
}

/// A story by id or by the URL of one of its articles.
fn find_story(store: &Store, target: &str) -> anyhow::Result<StoryId> {
    if let Ok(id) = target.parse::<i64>() {
        return Ok(store.story(StoryId(id))?.id);
    }
    match lookup::story_for_url(store, target)? {
        UrlLookup::Story(story) => Ok(story),
        UrlLookup::NotAUrl => anyhow::bail!("{target:?} is neither a story id nor a URL"),
        UrlLookup::Unknown { canonical } => {
            anyhow::bail!("no stored story has the URL {canonical}")
        }
        UrlLookup::Unprocessed { canonical } => {
            anyhow::bail!("{canonical} is stored but not processed yet; run `newsdesk poll` first")
        }
    }
}

pub fn search(config: Config, args: &SearchArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let text = args.query.join(" ");
    if fts_all_of(&text).is_none() {
        anyhow::bail!("the query has no words to search for");
    }
    let settings = ViewSettings::from(&config);
    let desk = open_desk_read_only(config)?;
    let store = desk.store();
    // More days than the calendar holds: no bound at all.
    let since = args.days.and_then(|d| {
        Timestamp::now()
            .checked_sub(SignedDuration::from_hours(i64::from(d) * 24))
            .ok()
    });
    let stories = search_stories(&store, &text, since, args.limit)?;
    if stories.is_empty() {
        writeln!(out, "no stories match {text:?}")?;
    }
    for story in stories {
        let view = story_view(&store, story, &settings)?;
        writeln!(out, "{}\n", markdown::story_block(&view))?;
    }
    Ok(())
}
