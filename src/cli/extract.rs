//! `newsdesk extract`: the article text of saved pages (for checking extraction by hand and for
//! the extraction scorer).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use url::Url;

use crate::extract::{self, Extracted};

#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    /// The page's URL (used to resolve relative links; optional).
    #[arg(long)]
    pub url: Option<String>,
    /// One JSON line per file: {"path","title","text"} or {"path","error"}.
    #[arg(long)]
    pub json: bool,
    /// Saved HTML (or plain text) pages; other files (PDFs, images, binary data) are refused.
    pub files: Vec<PathBuf>,
}

/// Prints every file's text (or its error); fails, after every file, when any file failed.
/// Plain output keeps errors on stderr, so that standard output holds only page text.
pub fn run(args: &ExtractArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let url = match &args.url {
        Some(raw) => Some(Url::parse(raw).with_context(|| format!("bad --url {raw:?}"))?),
        None => None,
    };
    let mut failures = 0usize;
    for path in &args.files {
        let result = extract_file(path, url.as_ref());
        if args.json {
            let line = match &result {
                Ok(found) => serde_json::json!({
                    "path": path.display().to_string(),
                    "title": found.title,
                    "text": found.text,
                }),
                Err(e) => serde_json::json!({
                    "path": path.display().to_string(),
                    "error": format!("{e:#}"),
                }),
            };
            writeln!(out, "{line}")?;
        } else {
            match &result {
                Ok(found) => {
                    if let Some(title) = &found.title {
                        writeln!(out, "# {title}\n")?;
                    }
                    writeln!(out, "{}\n", found.text)?;
                }
                Err(e) => eprintln!("{}: {e:#}", path.display()),
            }
        }
        if result.is_err() {
            failures += 1;
        }
    }
    out.flush()?;
    if failures > 0 {
        anyhow::bail!("{failures} of {} pages failed", args.files.len());
    }
    Ok(())
}

fn extract_file(path: &Path, url: Option<&Url>) -> anyhow::Result<Extracted> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(extract::extract_bytes(&bytes, None, url)?)
}
