//! The feedparser test corpus through `parse_feed`: no panics, clear refusals, and most of the
//! well-formed documents parse.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use newsdesk::parse::parse_feed;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/corpora/feedparser-tests"
);

/// Measured 97.7% (1709/1749) on 2026-11-29; the rest are CDF, atom content with binary
/// media types that feed-rs rejects, and `<rss>` roots without `<channel>`.
const WELLFORMED_PARSED_FLOOR: f64 = 0.95;

fn corpus_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries =
            std::fs::read_dir(&d).unwrap_or_else(|e| panic!("reading {}: {e}", d.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|e| panic!("listing {}: {e}", d.display()))
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|x| x == "xml" || x == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[derive(Default)]
struct Tally {
    parsed: usize,
    entries: usize,
    refused: BTreeMap<&'static str, usize>,
    panics: Vec<String>,
    empty_messages: Vec<String>,
    wellformed: usize,
    wellformed_parsed: usize,
    /// A few refused files per class, with their message, to make the printout actionable.
    samples: BTreeMap<&'static str, Vec<String>>,
}

#[test]
fn corpus_parses_without_panics() {
    let dir = Path::new(CORPUS);
    assert!(
        dir.is_dir(),
        "feedparser corpus missing at {} (expected /work/shared/corpora/feedparser-tests)",
        dir.display()
    );
    let files = corpus_files(dir);
    assert!(
        files.len() > 1000,
        "only {} corpus files found in {}",
        files.len(),
        dir.display()
    );

    let start = Instant::now();
    let mut tally = Tally::default();
    for path in &files {
        let name = path.strip_prefix(dir).unwrap_or(path).display().to_string();
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {name}: {e}"));
        let wellformed = name.starts_with("wellformed");
        tally.wellformed += usize::from(wellformed);
        let outcome = std::panic::catch_unwind(|| parse_feed(&bytes, None, None));
        match outcome {
            Err(_) => tally.panics.push(name),
            Ok(Ok(feed)) => {
                tally.parsed += 1;
                tally.entries += feed.entries.len();
                tally.wellformed_parsed += usize::from(wellformed);
            }
            Ok(Err(e)) => {
                *tally.refused.entry(e.class()).or_default() += 1;
                let message = e.to_string();
                let samples = tally.samples.entry(e.class()).or_default();
                if samples.len() < 6 {
                    samples.push(format!("{name}: {message}"));
                }
                if message.trim().is_empty() || message.trim_end().ends_with(':') {
                    tally.empty_messages.push(name);
                }
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let ratio = tally.wellformed_parsed as f64 / tally.wellformed.max(1) as f64;
    println!(
        "corpus: {} files, {} parsed, {} entries, refused {:?}, {} panics; wellformed {}/{} ({:.1}%); {:.2}s",
        files.len(),
        tally.parsed,
        tally.entries,
        tally.refused,
        tally.panics.len(),
        tally.wellformed_parsed,
        tally.wellformed,
        ratio * 100.0,
        secs
    );
    for (class, samples) in &tally.samples {
        println!("refused ({class}), first few:\n  {}", samples.join("\n  "));
    }
    assert!(
        tally.panics.is_empty(),
        "parse_feed panicked on: {:?}",
        tally.panics
    );
    assert!(
        tally.empty_messages.is_empty(),
        "refusals without a message: {:?}",
        tally.empty_messages
    );
    assert!(
        ratio >= WELLFORMED_PARSED_FLOOR,
        "only {:.1}% of wellformed/ parsed (floor {:.0}%)",
        ratio * 100.0,
        WELLFORMED_PARSED_FLOOR * 100.0
    );
}
