//! `newsdesk summarize`: extractive summaries of JSON-lines articles (for the summary scorer and
//! for trying options by hand).

use std::io::Write;
use std::path::PathBuf;

use super::jsonl::{self, LineError, Object};

use crate::summarize::{self, SummaryOptions};

#[derive(Debug, clap::Args)]
pub struct SummarizeArgs {
    /// JSON lines {"id","text","title"?}; "-" reads standard input. A bad line gets an
    /// {"line","id"?,"error"} line instead of its summary, and the command ends non-zero.
    #[arg(long)]
    pub input: PathBuf,
    /// Maximum sentences per summary.
    #[arg(long, default_value_t = SummaryOptions::default().sentences)]
    pub sentences: usize,
    /// Maximum characters per summary.
    #[arg(long, default_value_t = SummaryOptions::default().max_chars)]
    pub max_chars: usize,
    /// The gist instead (one sentence, as digests and Related lines show it).
    #[arg(long, conflicts_with_all = ["sentences", "max_chars"])]
    pub gist: bool,
}

/// Prints one line per input line; fails (after printing every line) when any line was bad.
pub fn run(args: &SummarizeArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let opts = SummaryOptions {
        sentences: args.sentences,
        max_chars: args.max_chars,
    };
    let gist = args.gist;
    jsonl::answer_lines(&args.input, out, |_, object| {
        Ok(summarize_object(object, opts, gist))
    })
}

/// The summary line of one article.
fn summarize_object(
    object: &Object,
    opts: SummaryOptions,
    gist: bool,
) -> Result<serde_json::Value, LineError> {
    let id = object.required("id")?;
    let text = object.required_string("text")?;
    let title = object.string("title")?;
    let summary = if gist {
        summarize::gist(title, text)
    } else {
        summarize::summarize(title, text, opts)
    };
    Ok(serde_json::json!({
        "id": id,
        "summary": summary,
    }))
}
