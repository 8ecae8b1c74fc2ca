//! The pages, from the same [`StoryView`] every other output uses: a story like the aggregator
//! page newsdesk grew from (headline, gist, summary, "Read original article", "Also covered
//! by", Related with a summary each, topics), and the front page of latest stories.

use std::fmt::Write as _;

use super::html::{escape, link, page};
use crate::present::StoryView;
use crate::present::text::{day, is_web_url, when};

/// One story's page; `discussion` is the story's message on Discord (the comment thread).
pub fn story_page(story: &StoryView, discussion: Option<&str>) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        "<article><h1>{}</h1><p class=\"byline\">{} · {}</p>",
        escape(&story.title),
        escape(&story.outlet),
        when(story.published)
    );
    let (gist, more) = two_tiers(&story.summary, &story.gist);
    if !gist.is_empty() {
        let _ = write!(body, "<p class=\"gist\">{}</p>", escape(&gist));
    }
    if !more.is_empty() {
        let _ = write!(body, "<p>{}</p>", escape(&more));
    }
    let mut actions = Vec::new();
    if story.url.as_deref().is_some_and(is_web_url) {
        actions.push(link("Read original article", story.url.as_deref()));
    }
    if let Some(url) = discussion.filter(|u| u.starts_with("https://discord.com/channels/")) {
        actions.push(link("Discuss on Discord", Some(url)));
    }
    if !actions.is_empty() {
        let _ = write!(body, "<p class=\"actions\">{}</p>", actions.join(" · "));
    }
    let coverage: Vec<String> = story
        .also_covered_by
        .iter()
        .map(|c| {
            format!(
                "{}: {}",
                escape(&c.outlet),
                link(&c.title, c.url.as_deref())
            )
        })
        .collect();
    section(&mut body, "Also covered by", "coverage", &coverage);
    let related: Vec<String> = story
        .related
        .iter()
        .map(|r| {
            let mut entry = format!(
                "<a href=\"/story/{}\">{}</a><p class=\"meta\">{} · {}</p>",
                r.story_id,
                escape(&r.title),
                escape(&r.outlet),
                day(r.published)
            );
            if !r.line.is_empty() {
                let _ = write!(entry, "<p>{}</p>", escape(&r.line));
            }
            entry
        })
        .collect();
    section(&mut body, "Related", "related", &related);
    if !story.topics.is_empty() {
        body.push_str(&topic_links(&story.topics));
    }
    body.push_str("</article>");
    page(&story.title, &body)
}

/// A headed list of HTML items (nothing when there are none).
fn section(body: &mut String, heading: &str, class: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = write!(body, "<h2>{heading}</h2><ul class=\"{class}\">");
    for item in items {
        let _ = write!(body, "<li>{item}</li>");
    }
    body.push_str("</ul>");
}

/// The latest stories, `page` (0-based) of them; `more` when an older page exists. `topics`
/// are offered as filters (each topic's page).
pub fn front_page(stories: &[StoryView], topics: &[String], page_no: usize, more: bool) -> String {
    let mut nav = String::new();
    if page_no > 0 {
        let _ = write!(nav, "<a href=\"/?page={}\">Newer</a> ", page_no - 1);
    }
    if more {
        let _ = write!(nav, "<a href=\"/?page={}\">Older</a>", page_no + 1);
    }
    let mut html = list_page("newsdesk: latest stories", "Latest stories", stories, &nav);
    if !topics.is_empty()
        && let Some(at) = html.find("<ul class=\"stories\">")
    {
        html.insert_str(at, &topic_links(topics));
    }
    html
}

/// `#topic` links to each topic's page.
fn topic_links(topics: &[String]) -> String {
    let mut links = String::from("<p class=\"topics\">");
    for t in topics {
        let _ = write!(links, "<a href=\"/topic/{0}\">#{0}</a> ", escape(t));
    }
    links.push_str("</p>");
    links
}

/// A topic's latest stories, with its Atom feed.
pub fn topic_page(topic: &str, stories: &[StoryView]) -> String {
    let nav = format!(
        "<a href=\"/topic/{}.atom\">Atom feed of this topic</a>",
        escape(topic)
    );
    list_page(
        &format!("newsdesk: {topic}"),
        &format!("Latest on #{topic}"),
        stories,
        &nav,
    )
}

/// Search results for `query` (empty: just the form).
pub fn search_page(query: &str, stories: &[StoryView]) -> String {
    let form = format!(
        "<form action=\"/search\" method=\"get\"><input type=\"search\" name=\"q\" value=\"{}\" \
aria-label=\"Search\"> <button>Search</button></form>",
        escape(query)
    );
    let heading = if query.is_empty() {
        "Search".to_string()
    } else {
        format!("Stories matching “{query}”")
    };
    let mut html = list_page("newsdesk: search", &heading, stories, "");
    if let Some(at) = html.find("<ul class=\"stories\">") {
        html.insert_str(at, &form);
    }
    html
}

/// Stories as a list: headline (to its page), outlet and time, gist.
fn list_page(title: &str, heading: &str, stories: &[StoryView], nav: &str) -> String {
    let mut body = format!("<h1>{}</h1>", escape(heading));
    if stories.is_empty() {
        body.push_str("<p>No stories.</p>");
    }
    body.push_str("<ul class=\"stories\">");
    for s in stories {
        let _ = write!(
            body,
            "<li><a href=\"/story/{}\">{}</a><p class=\"meta\">{} · {}</p><p>{}</p></li>",
            s.story_id,
            escape(&s.title),
            escape(&s.outlet),
            when(s.published),
            escape(&s.gist)
        );
    }
    let _ = write!(body, "</ul><nav>{nav}</nav>");
    page(title, &body)
}

/// Feed health for the operator: status, items, last success, next poll, last error.
pub fn feeds_page(feeds: &[crate::store::FeedRow]) -> String {
    let mut body = format!(
        "<h1>Feeds ({})</h1><div class=\"wide\"><table><tr><th>Feed</th><th>Status</th>\
<th>Items</th><th>Last success</th><th>Next poll</th><th>Last error</th></tr>",
        feeds.len()
    );
    for f in feeds {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            link(&f.name, Some(&f.url)),
            escape(f.health.status.as_str()),
            f.item_count,
            f.health
                .last_success
                .map(when)
                .unwrap_or_else(|| "never".into()),
            when(f.next_fetch_at),
            escape(f.health.last_error.as_deref().unwrap_or(""))
        );
    }
    body.push_str("</table></div>");
    page("newsdesk: feeds", &body)
}

/// A page for what does not exist.
pub fn not_found() -> String {
    page("Not found", "<h1>Not found</h1><p>No such page.</p>")
}

/// The gist and the rest of the longer summary, no sentence shown twice. A page has room for
/// the gist's whole sentence where digests cut it ("…"): when the summary holds that sentence,
/// it is shown whole on top and the summary goes on from it.
fn two_tiers(summary: &str, gist: &str) -> (String, String) {
    let gist = gist.trim();
    let head = gist.strip_suffix('…').map(str::trim_end);
    let sentences: Vec<String> = crate::summarize::split_sentences(summary)
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let top = sentences
        .iter()
        .position(|s| s == gist || head.is_some_and(|h| !h.is_empty() && s.starts_with(h)));
    match top {
        Some(i) => {
            let rest: Vec<&str> = sentences
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, s)| s.as_str())
                .collect();
            (sentences[i].clone(), rest.join(" "))
        }
        None => (gist.to_string(), summary.trim().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::present::{Coverage, RelatedView};
    use crate::store::StoryId;

    /// The hostile titles of the Discord tests, as a story page: none survives as markup.
    #[test]
    fn hostile_feed_text_never_becomes_markup() {
        let hostile = "<script>alert(1)</script>\"><img src=x onerror=alert(1)>";
        let story = StoryView {
            story_id: StoryId(7),
            title: hostile.into(),
            outlet: hostile.into(),
            published: jiff::Timestamp::UNIX_EPOCH,
            url: Some("javascript:alert(1)".into()),
            page_url: None,
            summary: format!("{hostile}. Second sentence."),
            gist: format!("{hostile}."),
            also_covered_by: vec![Coverage {
                outlet: hostile.into(),
                title: hostile.into(),
                url: Some("data:text/html,<script>alert(1)</script>".into()),
            }],
            related: vec![RelatedView {
                story_id: StoryId(3),
                title: hostile.into(),
                outlet: hostile.into(),
                published: jiff::Timestamp::UNIX_EPOCH,
                url: Some("https://example.org/a".into()),
                page_url: None,
                line: hostile.into(),
            }],
            topics: vec![hostile.into()],
        };
        for html in [
            story_page(&story, None),
            front_page(std::slice::from_ref(&story), &story.topics, 0, false),
        ] {
            assert!(!html.contains("<script"), "{html}");
            assert!(!html.contains("<img"), "{html}");
            assert!(
                !html.contains("javascript:") && !html.contains("data:text"),
                "{html}"
            );
            assert!(html.contains("&lt;script&gt;"), "{html}");
        }
        let page = story_page(&story, Some("javascript:alert(1)"));
        assert!(!page.contains("Discuss on Discord"), "{page}");
        assert!(
            !page.contains("Read original article"),
            "no web link, no button: {page}"
        );
        assert!(page.contains("<a href=\"/story/3\">"), "{page}");
    }

    /// The gist, then the rest of the longer summary: no sentence shown twice, and a gist cut
    /// for digests shown whole.
    #[test]
    fn the_longer_summary_goes_on_from_the_gist() {
        let summary = "The bureau's budget was cut. Grants will fall by 1,400. Deans objected.";
        let tiers = |gist: &str| two_tiers(summary, gist);
        assert_eq!(
            tiers("Grants will fall by 1,400."),
            (
                "Grants will fall by 1,400.".to_string(),
                "The bureau's budget was cut. Deans objected.".to_string()
            )
        );
        assert_eq!(
            tiers("Grants will fall…"),
            (
                "Grants will fall by 1,400.".to_string(),
                "The bureau's budget was cut. Deans objected.".to_string()
            )
        );
        assert_eq!(
            two_tiers("Only one sentence.", "Only one sentence."),
            ("Only one sentence.".to_string(), String::new())
        );
        assert_eq!(
            tiers("Another text."),
            ("Another text.".to_string(), summary.to_string())
        );
    }
}
