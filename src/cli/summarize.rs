//! `newsdesk summarize`: extractive summaries of JSON-lines articles (for the summary scorer and
//! for trying options by hand).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;

use anyhow::Context;
use serde::Deserialize;

use crate::summarize::{self, SummaryOptions};

#[derive(Debug, clap::Args)]
pub struct SummarizeArgs {
    /// JSON lines {"id","text","title"?}; "-" reads standard input.
    #[arg(long)]
    pub input: PathBuf,
    /// Maximum sentences per summary.
    #[arg(long, default_value_t = SummaryOptions::default().sentences)]
    pub sentences: usize,
    /// Maximum characters per summary.
    #[arg(long, default_value_t = SummaryOptions::default().max_chars)]
    pub max_chars: usize,
}

#[derive(Deserialize)]
struct Article {
    id: serde_json::Value,
    text: String,
    title: Option<String>,
}

pub fn run(args: &SummarizeArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let reader: Box<dyn BufRead> = if args.input.as_os_str() == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        let file = std::fs::File::open(&args.input)
            .with_context(|| format!("cannot open {}", args.input.display()))?;
        Box::new(BufReader::new(file))
    };
    let opts = SummaryOptions {
        sentences: args.sentences,
        max_chars: args.max_chars,
    };
    for (number, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("cannot read line {}", number + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        writeln!(out, "{}", summarize_line(&line, number + 1, opts))?;
    }
    out.flush()?;
    Ok(())
}

/// The output line for one input line: a summary, or an error naming the id when there is one.
fn summarize_line(line: &str, number: usize, opts: SummaryOptions) -> serde_json::Value {
    match serde_json::from_str::<Article>(line) {
        Ok(article) => serde_json::json!({
            "id": article.id,
            "summary": summarize::summarize(article.title.as_deref(), &article.text, opts),
        }),
        Err(e) => {
            let id = serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .and_then(|v| v.get("id").cloned());
            let error = format!("line {number}: {e}");
            match id {
                Some(id) => serde_json::json!({ "id": id, "error": error }),
                None => serde_json::json!({ "error": error }),
            }
        }
    }
}
