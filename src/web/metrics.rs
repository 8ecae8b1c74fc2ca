//! `/metrics` in the Prometheus text format (version 0.0.4): what the store holds, read at
//! each scrape, and, when the desk works in this process (`run`), what it did since it started
//! ([`crate::metrics`]).

use std::fmt::Write as _;

use crate::metrics::{Counts, HistogramCounts};
use crate::store::Gauges;

/// The exposition text of the store's gauges `g` and the process's counts `c`, if any.
pub fn render(g: &Gauges, c: Option<&Counts>) -> String {
    let mut out = String::with_capacity(4096);
    render_gauges(&mut out, g);
    match c {
        Some(c) => render_counts(&mut out, c),
        None => out.push_str(
            "# The desk does not run in this process (newsdesk serve): store gauges only.\n",
        ),
    }
    out
}

fn render_counts(out: &mut String, c: &Counts) {
    by_outcome(
        out,
        "newsdesk_polls_total",
        "Feed polls by outcome (unchanged: 304 or the same bytes as last time).",
        c.polls.iter().map(|(r, n)| (r.label(), *n)),
    );
    counter(
        out,
        "newsdesk_fetch_errors_total",
        "Failed fetches of feeds and article pages, by kind (network: connect, DNS, TLS).",
    );
    for (what, kind, n) in &c.fetch_errors {
        let _ = writeln!(
            out,
            "newsdesk_fetch_errors_total{{fetched=\"{}\",kind=\"{}\"}} {n}",
            what.label(),
            kind.label()
        );
    }
    by_outcome(
        out,
        "newsdesk_items_processed_total",
        "Items processed into stories, or failed (retried later).",
        c.items.iter().map(|(r, n)| (r.label(), *n)),
    );
    by_outcome(
        out,
        "newsdesk_digest_posts_total",
        "Digest posts to their channel (Discord or terminal) by outcome.",
        c.posts.iter().map(|(r, n)| (r.label(), *n)),
    );
    histogram(
        out,
        "newsdesk_poll_duration_seconds",
        "Time to poll one feed (fetch, parse, store).",
        &c.poll_time,
    );
    histogram(
        out,
        "newsdesk_item_duration_seconds",
        "Time to process one item (summary, grouping, Related, topics).",
        &c.item_time,
    );
}

fn counter(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
}

/// A counter family with one `outcome` label.
fn by_outcome<'a>(
    out: &mut String,
    name: &str,
    help: &str,
    rows: impl Iterator<Item = (&'a str, u64)>,
) {
    counter(out, name, help);
    for (outcome, n) in rows {
        let _ = writeln!(out, "{name}{{outcome=\"{outcome}\"}} {n}");
    }
}

/// Buckets are cumulative in the format: each counts every observation up to its bound.
fn histogram(out: &mut String, name: &str, help: &str, h: &HistogramCounts) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
    let mut cumulative = 0;
    for (i, n) in h.buckets.iter().enumerate() {
        cumulative += n;
        match h.bounds.get(i) {
            Some(le) => {
                let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
            }
            None => {
                let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
            }
        }
    }
    let _ = writeln!(
        out,
        "{name}_sum {}\n{name}_count {cumulative}",
        h.sum_seconds
    );
}

fn render_gauges(out: &mut String, g: &Gauges) {
    family(out, "newsdesk_feeds", "Active feeds by health status.");
    for (status, n) in &g.feeds_by_status {
        let _ = writeln!(out, "newsdesk_feeds{{status=\"{}\"}} {n}", label(status));
    }
    gauge(out, "newsdesk_items", "Items stored.", g.items);
    gauge(
        out,
        "newsdesk_items_pending",
        "Items waiting to be processed.",
        g.items_pending,
    );
    gauge(
        out,
        "newsdesk_items_set_aside",
        "Pending items that failed repeatedly (retried daily).",
        g.items_set_aside,
    );
    gauge(
        out,
        "newsdesk_stories",
        "Stories (events) stored.",
        g.stories,
    );
    family(out, "newsdesk_digests", "Digests by status.");
    for (status, n) in &g.digests_by_status {
        let _ = writeln!(out, "newsdesk_digests{{status=\"{}\"}} {n}", label(status));
    }
    gauge(
        out,
        "newsdesk_discord_messages_posted",
        "Discord messages recorded as posted.",
        g.messages_posted,
    );
    gauge(
        out,
        "newsdesk_stories_dropped",
        "Stories dropped after Discord refused them twice.",
        g.stories_dropped,
    );
    gauge(
        out,
        "newsdesk_channels_paused",
        "Channels paused until a human fixes them.",
        g.channels_paused,
    );
    gauge(
        out,
        "newsdesk_database_bytes",
        "Size of the database file.",
        g.database_bytes,
    );
}

fn family(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
}

fn gauge(out: &mut String, name: &str, help: &str, value: i64) {
    family(out, name, help);
    let _ = writeln!(out, "{name} {value}");
}

/// A label value: backslash, quote and newline escaped as the format requires.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::metrics::{FetchErrorKind, Fetched, ItemResult, Metrics, PollResult};

    #[test]
    fn every_sample_has_its_family_and_labels_are_escaped() {
        let g = Gauges {
            feeds_by_status: vec![("ok".into(), 3), ("fail\"ing".into(), 1)],
            items: 10,
            digests_by_status: vec![("sent".into(), 2)],
            database_bytes: 4096,
            ..Gauges::default()
        };
        let text = render(&g, None);
        assert!(text.contains("newsdesk_feeds{status=\"ok\"} 3\n"), "{text}");
        assert!(
            text.contains("newsdesk_feeds{status=\"fail\\\"ing\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("newsdesk_database_bytes 4096\n"), "{text}");
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap_or_default();
            assert!(text.contains(&format!("# TYPE {name} gauge")), "{name}");
        }
        assert!(
            !text.contains("_total"),
            "no process counts without a desk: {text}"
        );
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_end_in_the_count() {
        let m = Metrics::default();
        for ms in [1, 2, 300, 20_000] {
            m.item(ItemResult::Processed, Duration::from_millis(ms));
        }
        m.item(ItemResult::Failed, Duration::from_millis(40));
        m.poll(PollResult::Unchanged, Duration::from_millis(70));
        m.fetch_error(Fetched::Feed, FetchErrorKind::Http5xx);
        let text = render(&Gauges::default(), Some(&m.snapshot()));
        let sample = |series: &str| -> f64 {
            text.lines()
                .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
                .unwrap_or_else(|| panic!("no {series} in\n{text}"))
        };
        let h = "newsdesk_item_duration_seconds";
        assert!(text.contains(&format!("# TYPE {h} histogram")), "{text}");
        // 1 ms and 2 ms, then 40 ms, then 300 ms; 20 s is above every bound.
        assert_eq!(sample(&format!("{h}_bucket{{le=\"0.001\"}}")), 1.0);
        assert_eq!(sample(&format!("{h}_bucket{{le=\"0.005\"}}")), 2.0);
        assert_eq!(sample(&format!("{h}_bucket{{le=\"0.05\"}}")), 3.0);
        assert_eq!(sample(&format!("{h}_bucket{{le=\"0.5\"}}")), 4.0);
        assert_eq!(sample(&format!("{h}_bucket{{le=\"5\"}}")), 4.0);
        assert_eq!(sample(&format!("{h}_bucket{{le=\"+Inf\"}}")), 5.0);
        assert_eq!(sample(&format!("{h}_count")), 5.0);
        assert!(
            (sample(&format!("{h}_sum")) - 20.343).abs() < 1e-9,
            "{text}"
        );
        let buckets: Vec<f64> = text
            .lines()
            .filter(|l| l.starts_with(&format!("{h}_bucket")))
            .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
            .collect();
        assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
        assert_eq!(buckets.len(), crate::metrics::ITEM_BOUNDS.len() + 1);

        assert_eq!(
            sample("newsdesk_items_processed_total{outcome=\"processed\"}"),
            4.0
        );
        assert_eq!(
            sample("newsdesk_items_processed_total{outcome=\"failed\"}"),
            1.0
        );
        assert_eq!(sample("newsdesk_polls_total{outcome=\"unchanged\"}"), 1.0);
        assert_eq!(sample("newsdesk_poll_duration_seconds_count"), 1.0);
        assert_eq!(
            sample("newsdesk_fetch_errors_total{fetched=\"feed\",kind=\"http_5xx\"}"),
            1.0
        );
        assert_eq!(sample("newsdesk_digest_posts_total{outcome=\"sent\"}"), 0.0);
        assert!(
            text.contains("# TYPE newsdesk_polls_total counter"),
            "{text}"
        );
    }
}
