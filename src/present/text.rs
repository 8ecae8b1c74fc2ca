//! Text building blocks every renderer shares: feed text neutralized for Discord markdown (no
//! mentions, no markdown injection, no broken links), cuts at word and line boundaries that
//! never split an escape, and the two ways a time is written.

use jiff::Timestamp;

/// Neutralizes feed text for Discord markdown: markdown characters are escaped, mass mentions
/// and user/role/channel mention syntax are broken with a zero-width space, newlines folded.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' | '*' | '_' | '~' | '`' | '|' | '[' | ']' | '(' | ')' | '<' | '>' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '@' => out.push_str("@\u{200b}"),
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Feed text escaped and at most `limit` characters after escaping, cut at a word boundary
/// before escaping so no escape sequence is split.
pub fn escape_within(text: &str, limit: usize) -> String {
    let mut budget = limit;
    loop {
        let escaped = escape(&truncate_words(text, budget));
        let len = escaped.chars().count();
        if len <= limit || budget <= 1 {
            return escaped;
        }
        budget = budget.saturating_sub((len - limit).max(1));
    }
}

/// `[text](<url>)` with the text escaped (and cut to `limit`) and the URL made safe for
/// markdown; plain escaped text without an http(s) URL (or with one too long to show). The
/// angle brackets suppress link previews, so a digest is not buried under them.
pub fn link(text: &str, url: Option<&str>, limit: usize) -> String {
    let text = escape_within(text, limit);
    match url.filter(|u| is_web_url(u) && u.chars().count() <= super::limits::LINK_URL) {
        Some(url) => format!("[{text}](<{}>)", safe_url(url)),
        None => text,
    }
}

/// Whether a link may be shown: Discord (and any reader) only follows http(s).
pub fn is_web_url(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://")
}

fn safe_url(url: &str) -> String {
    url.replace('(', "%28")
        .replace(')', "%29")
        .replace('<', "%3C")
        .replace('>', "%3E")
        .replace(' ', "%20")
}

/// Plain text on one line, cut to `limit`, for footers (Discord does not render markdown
/// there, so escapes would show): control characters become spaces and mentions are broken.
pub fn plain(text: &str, limit: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    truncate_words(&one_line, limit).replace('@', "@\u{200b}")
}

/// At most `limit` characters, cut at a word boundary with an ellipsis when cut.
pub fn truncate_words(text: &str, limit: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let budget = limit.saturating_sub(1);
    let cut: String = text.chars().take(budget).collect();
    let at_word = match cut.rfind(char::is_whitespace) {
        Some(i) if i > budget / 2 => cut[..i].trim_end().to_string(),
        _ => cut,
    };
    format!("{at_word}…")
}

/// At most `limit` characters: whole lines while they fit, then "…". A first line that alone is
/// too long is cut at a word boundary, never leaving a dangling markdown escape.
pub fn cut_lines(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    if limit == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for line in text.lines() {
        let cost = line.chars().count() + usize::from(!out.is_empty());
        // Room for the "\n…" marker.
        if used + cost + 2 > limit {
            break;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line);
        used += cost;
    }
    if out.is_empty() {
        let mut cut = truncate_words(text, limit);
        // A cut right after an escaping backslash would escape the ellipsis instead.
        while cut.ends_with("\\…") {
            cut.truncate(cut.len() - "\\…".len());
            cut.push('…');
        }
        return cut;
    }
    out.push_str("\n…");
    out
}

/// Lines joined with newlines, stopping before `limit` characters; a final "… and N more"
/// line says how many lines were left out.
pub fn join_lines(lines: &[String], limit: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for (i, line) in lines.iter().enumerate() {
        let rest = lines.len() - i;
        let more = format!("… and {rest} more");
        let cost = line.chars().count() + usize::from(!out.is_empty());
        let reserve = if rest > 1 {
            more.chars().count() + 1
        } else {
            0
        };
        if used + cost + reserve > limit {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&more);
            return out;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line);
        used += cost;
    }
    out
}

/// Whole items joined by `sep` within `limit` characters; items that do not fit are dropped
/// (a link is never cut in half). A single oversize item is cut as plain text.
pub fn join_within(items: &[String], sep: &str, limit: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for item in items {
        let extra = item.chars().count()
            + if out.is_empty() {
                0
            } else {
                sep.chars().count()
            };
        if used + extra > limit {
            if out.is_empty() {
                return cut_lines(item, limit);
            }
            break;
        }
        if !out.is_empty() {
            out.push_str(sep);
        }
        out.push_str(item);
        used += extra;
    }
    out
}

/// A moment as a story's byline gives it: "Fri 20 Nov 2026 10:00 UTC".
pub fn when(t: Timestamp) -> String {
    t.strftime("%a %-d %b %Y %H:%M UTC").to_string()
}

/// A day, as Related entries and search hits give it: "20 Nov 2026".
pub fn day(t: Timestamp) -> String {
    t.strftime("%-d %b %Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_is_neutralized_and_links_are_safe() {
        let text = escape("@everyone **bold** <@123> [x](http://evil)");
        assert!(!text.contains("@everyone") && !text.contains("<@123>"));
        assert!(!text.contains("**bold**") && !text.contains("](http"));
        assert_eq!(
            link("a_(b)", Some("https://example.org/a_(b)"), 50),
            "[a\\_\\(b\\)](<https://example.org/a_%28b%29>)"
        );
        assert_eq!(link("x", Some("javascript:alert(1)"), 50), "x");
        assert_eq!(link("x", Some("file:///etc/passwd"), 50), "x");
    }

    #[test]
    fn cuts_respect_words_characters_lines_and_escapes() {
        assert_eq!(truncate_words("alpha beta gamma", 12), "alpha beta…");
        assert_eq!(truncate_words("short", 12), "short");
        assert_eq!(truncate_words(&"é".repeat(50), 10).chars().count(), 10);
        assert_eq!(cut_lines("aaa\nbbb\nccc", 9), "aaa\nbbb\n…");
        assert_eq!(
            cut_lines("wordwordwordword\\*tail", 18),
            "wordwordwordword…"
        );
        let escaped = escape_within(&"*_".repeat(100), 51);
        assert!(escaped.chars().count() <= 51, "{escaped}");
        assert!(!escaped.trim_end_matches('…').ends_with('\\'), "{escaped}");
        let lines: Vec<String> = (0..100).map(|i| format!("line {i}")).collect();
        let joined = join_lines(&lines, 60);
        assert!(
            joined.chars().count() <= 60 && joined.ends_with("more"),
            "{joined}"
        );
        assert_eq!(join_lines(&lines[..2], 60), "line 0\nline 1");
        assert_eq!(join_within(&lines[..3], ", ", 15), "line 0, line 1");
    }

    #[test]
    fn times_are_written_one_way() {
        let t: Timestamp = "2026-11-20T10:00:00Z".parse().expect("time");
        assert_eq!(when(t), "Fri 20 Nov 2026 10:00 UTC");
        assert_eq!(day(t), "20 Nov 2026");
    }
}
