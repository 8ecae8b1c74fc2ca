//! Parse throughput on the feedparser corpus: `parse_feed` (charset + feed-rs + normalization)
//! against bare `feed_rs::parser::parse` on the same bytes, in the same run.
//!
//! Run with `cargo bench --bench ingest`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use newsdesk::parse::parse_feed;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/corpora/feedparser-tests"
);
const ROUNDS: usize = 5;

fn corpus_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for path in entries.flatten().map(|e| e.path()) {
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

/// Best (least disturbed) of `ROUNDS` timings of `run`, with the count it returned.
fn best_of(mut run: impl FnMut() -> usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut count = 0;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        count = run();
        best = best.min(start.elapsed());
    }
    (best, count)
}

fn main() {
    let files = corpus_files(Path::new(CORPUS));
    if files.is_empty() {
        eprintln!("no corpus files under {CORPUS}");
        std::process::exit(1);
    }
    let (files, docs): (Vec<PathBuf>, Vec<Vec<u8>>) = files
        .into_iter()
        .filter_map(|p| std::fs::read(&p).ok().map(|d| (p, d)))
        .unzip();
    let bytes: usize = docs.iter().map(Vec::len).sum();
    println!(
        "ingest: {} files, {:.1} KiB, best of {ROUNDS} rounds",
        docs.len(),
        bytes as f64 / 1024.0
    );

    let (ours, entries) = best_of(|| {
        docs.iter()
            .filter_map(|d| parse_feed(black_box(d), None, None).ok())
            .map(|f| f.entries.len())
            .sum()
    });
    // Bare feed-rs panics on some corpus files (quick-xml asserts on late encoding switches);
    // those are caught, counted and left out of the entry count.
    std::panic::set_hook(Box::new(|_| {}));
    let bare_parse = |d: &[u8]| std::panic::catch_unwind(|| feed_rs::parser::parse(black_box(d)));
    let bare_panics: Vec<String> = docs
        .iter()
        .zip(&files)
        .filter(|(d, _)| bare_parse(d).is_err())
        .map(|(_, p)| p.strip_prefix(CORPUS).unwrap_or(p).display().to_string())
        .collect();
    let (bare, raw_entries) = best_of(|| {
        docs.iter()
            .filter_map(|d| bare_parse(d).ok().and_then(Result::ok))
            .map(|f| f.entries.len())
            .sum()
    });
    let _ = std::panic::take_hook();
    if !bare_panics.is_empty() {
        println!(
            "bare feed-rs panicked on {} file(s): {:?}",
            bare_panics.len(),
            bare_panics
        );
    }

    let n = docs.len() as f64;
    println!(
        "parse_feed:            {:>8.1} ms  {:>9.0} files/s  {:>9.0} entries/s  ({entries} entries kept)",
        ours.as_secs_f64() * 1e3,
        n / ours.as_secs_f64(),
        entries as f64 / ours.as_secs_f64()
    );
    println!(
        "feed_rs::parser::parse: {:>7.1} ms  {:>9.0} files/s  {:>9.0} entries/s  ({raw_entries} raw entries)",
        bare.as_secs_f64() * 1e3,
        n / bare.as_secs_f64(),
        raw_entries as f64 / bare.as_secs_f64()
    );
    println!(
        "ratio parse_feed / feed-rs: {:.2}x",
        ours.as_secs_f64() / bare.as_secs_f64()
    );
}
