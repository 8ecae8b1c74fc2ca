//! Processing prepares a batch's items side by side but stores them one at a time in queue
//! order: the stories, Related lists and everything else it writes are exactly those of
//! processing the same items one by one.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use newsdesk::model::Entry;
use newsdesk::pipeline::Desk;
use newsdesk::store::{ItemId, StoryId};

use crate::support::fixture::{Fixture, at};

/// Six events told in turns by several items each, so that items of one batch join the
/// stories of items earlier in the same batch; three words in four of a text are the event's own.
const EVENTS: [(&str, &str); 8] = [
    (
        "Varhelm earthquake",
        "quake tremor Varhelm coast magnitude rubble aftershock fishermen",
    ),
    (
        "Ostrava bridge vote",
        "council bridge Ostrava river budget vote ferry tolls",
    ),
    (
        "Kelmar telescope",
        "telescope mirror Kelmar observatory infrared summit glass astronomers",
    ),
    (
        "Dunmore strike",
        "dockers strike Dunmore port wages cranes union shipping",
    ),
    (
        "Pellan election",
        "election ballots Pellan mayor turnout recount candidates polling",
    ),
    (
        "Sorrel wildfire",
        "wildfire Sorrel valley evacuation firefighters drought smoke hillside",
    ),
    // Earlier events seen again from another side: Related, not the same story.
    (
        "Varhelm rebuilding",
        "Varhelm quake insurers rebuilding permits architects loans schools",
    ),
    (
        "Pellan recount",
        "Pellan recount judges lawsuit appeal ballots signatures deadline",
    ),
];
const COMMON: &str = "officials said on Monday that the city would review the plans after a long \
    meeting with residents and experts who asked for more time and more money";

fn entry(n: usize, published: Timestamp) -> Entry {
    let (headline, words) = EVENTS[(n * 5) % EVENTS.len()];
    let own: Vec<&str> = words.split(' ').collect();
    let common: Vec<&str> = COMMON.split_whitespace().collect();
    let mut text = String::new();
    for k in 0..120 {
        let w = if k % 4 != 0 {
            own[(k / 4 + n) % own.len()]
        } else {
            common[(k + n * 3) % common.len()]
        };
        text.push_str(w);
        text.push(if k % 15 == 14 { '.' } else { ' ' });
    }
    Entry {
        key: format!("item-{n}"),
        url: Some(format!("https://wire.example/{n}")),
        title: format!("{headline}: report {n}"),
        author: None,
        published: Some(published),
        text,
        content_html: None,
    }
}

/// Everything processing wrote about one item and its story.
#[derive(Debug, PartialEq)]
struct Outcome {
    item: ItemId,
    story: Option<StoryId>,
    summary: Option<String>,
    gist: Option<String>,
    topics: Vec<String>,
    lead: Option<ItemId>,
    related: Vec<(StoryId, String)>,
    centroid: Option<(String, String, i64)>,
}

async fn desk_with_items(fx: &Fixture, items: usize) -> (Arc<Desk>, Timestamp) {
    let extra = "[[topic]]\nname = \"disasters\"\nquery = \"quake OR wildfire\"\n";
    let config = fx.config(&[("Wire", "/wire.xml")], extra);
    let start = at("2026-11-20T08:00:00Z");
    let desk = fx.desk(config, start);
    {
        let mut store = desk.store();
        let feed = store.active_feeds().expect("feeds")[0].id;
        for n in 0..items {
            let published = start + SignedDuration::from_mins(7 * n as i64);
            store
                .store_batch_entry(feed, "Wire", &entry(n, published))
                .expect("stored")
                .expect("new item");
        }
    }
    (desk, start + SignedDuration::from_hours(12))
}

fn outcomes(desk: &Desk) -> Vec<Outcome> {
    let store = desk.store();
    let mut out = Vec::new();
    for n in 1.. {
        let Ok(item) = store.item(ItemId(n)) else {
            break;
        };
        let story = item.story_id;
        let lead = story.map(|s| store.story(s).expect("story").lead_item_id);
        let related = match story {
            Some(s) => store
                .related_of(s)
                .expect("related")
                .into_iter()
                .map(|l| (l.story_id, format!("{:.12}", l.score)))
                .collect(),
            None => Vec::new(),
        };
        let centroid = story.and_then(|s| {
            store
                .story_terms(&[s])
                .expect("centroid")
                .into_iter()
                .next()
                .map(|t| (t.terms, format!("{:.12}", t.norm), t.items))
        });
        out.push(Outcome {
            item: item.id,
            story,
            summary: item.summary,
            gist: item.gist,
            topics: store.topics_of_item(item.id).expect("topics"),
            lead,
            related,
            centroid,
        });
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_prepared_side_by_side_stores_what_one_item_at_a_time_stores() {
    // More than one batch of 16, and not a multiple of it.
    const ITEMS: usize = 40;
    let together = Fixture::new().await;
    let (desk, now) = desk_with_items(&together, ITEMS).await;
    assert_eq!(desk.process_pending(now).await.expect("processed"), ITEMS);
    let batched = outcomes(&desk);

    let one_by_one = Fixture::new().await;
    let (desk, now) = desk_with_items(&one_by_one, ITEMS).await;
    let mut done = 0;
    while desk.process_batch(1, now).await.expect("processed") == 1 {
        done += 1;
    }
    assert_eq!(done, ITEMS);
    let single = outcomes(&desk);

    assert_eq!(batched.len(), ITEMS);
    let stories: std::collections::BTreeSet<_> = single.iter().filter_map(|o| o.story).collect();
    // The items are grouped (six events) and related, or the comparison would say little.
    assert!(stories.len() < ITEMS / 2, "{} stories", stories.len());
    assert!(single.iter().any(|o| !o.related.is_empty()));
    assert!(single.iter().any(|o| o.topics == ["disasters"]));
    for (b, s) in batched.iter().zip(&single) {
        assert_eq!(b, s);
    }
}
