//! `/metrics` in the Prometheus text format (version 0.0.4): what the store holds, read at
//! each scrape.

use std::fmt::Write as _;

use crate::store::Gauges;

/// The exposition text of `g`.
pub fn render(g: &Gauges) -> String {
    let mut out = String::with_capacity(2048);
    family(&mut out, "newsdesk_feeds", "Active feeds by health status.");
    for (status, n) in &g.feeds_by_status {
        let _ = writeln!(out, "newsdesk_feeds{{status=\"{}\"}} {n}", label(status));
    }
    gauge(&mut out, "newsdesk_items", "Items stored.", g.items);
    gauge(
        &mut out,
        "newsdesk_items_pending",
        "Items waiting to be processed.",
        g.items_pending,
    );
    gauge(
        &mut out,
        "newsdesk_items_set_aside",
        "Pending items that failed repeatedly (retried daily).",
        g.items_set_aside,
    );
    gauge(
        &mut out,
        "newsdesk_stories",
        "Stories (events) stored.",
        g.stories,
    );
    family(&mut out, "newsdesk_digests", "Digests by status.");
    for (status, n) in &g.digests_by_status {
        let _ = writeln!(out, "newsdesk_digests{{status=\"{}\"}} {n}", label(status));
    }
    gauge(
        &mut out,
        "newsdesk_discord_messages_posted",
        "Discord messages recorded as posted.",
        g.messages_posted,
    );
    gauge(
        &mut out,
        "newsdesk_stories_dropped",
        "Stories dropped after Discord refused them twice.",
        g.stories_dropped,
    );
    gauge(
        &mut out,
        "newsdesk_channels_paused",
        "Channels paused until a human fixes them.",
        g.channels_paused,
    );
    gauge(
        &mut out,
        "newsdesk_database_bytes",
        "Size of the database file.",
        g.database_bytes,
    );
    out
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
    use super::*;

    #[test]
    fn every_sample_has_its_family_and_labels_are_escaped() {
        let g = Gauges {
            feeds_by_status: vec![("ok".into(), 3), ("fail\"ing".into(), 1)],
            items: 10,
            digests_by_status: vec![("sent".into(), 2)],
            database_bytes: 4096,
            ..Gauges::default()
        };
        let text = render(&g);
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
    }
}
