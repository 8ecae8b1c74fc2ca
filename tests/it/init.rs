//! `newsdesk init` from an empty directory to a first digest: the starter config passes `check`
//! and, with the pack's URLs swapped for feeds on 127.0.0.1, runs a cycle whose digest carries
//! a new policy story and holds back an off-beat one from a filtered feed.

use std::path::Path;
use std::process::Output;

use crate::support::bin::newsdesk;
use crate::support::fixture::{Fixture, rss};
use crate::support::http::Resp;

// Texts long enough to count as full text (no article page is fetched), each on its own subject
// so that no two stories are grouped.
const POLICY: &str = "The agency set out its plans for the year in a statement to lawmakers, naming \
the programmes that grow and those that shrink, the universities that will be affected and the \
timetable for applications. Officials said the changes follow a review of the budget request and \
will be published in full next week, with a period for comments from researchers, societies and \
institutions before they take effect. Critics said the plan leaves too little time to adjust.";
const SCIENCE: &str = "Tube worms, clams and shrimp crowd the chimneys of the vent field, where \
mineral-rich water pours out at more than three hundred degrees. The expedition's remotely \
operated vehicle filmed colonies on every chimney it visited and brought back samples of the \
microbial mats that feed them. The microbes draw energy from hydrogen sulfide rather than \
sunlight, and the animals host them in their tissues. Divers counted new species of limpet.";
const ALLIANCE: &str = "Six regional universities signed an agreement to share laboratories, \
doctoral training and a joint seed fund for projects that cross their campuses. The rectors \
said the alliance lets smaller institutions bid for large consortia together, and that staff \
may teach at any member. A steering board with a rotating chair will meet each term, and the \
first joint call for proposals opens in spring with a focus on water, health and materials.";
const SEED: &str = "An older report from the archive of this feed, kept for search and Related. \
It describes a meeting held some weeks ago and the minutes that followed, with a list of the \
people who attended and the decisions they took about the calendar of the coming season. No \
part of it is news any more, and none of it should be announced when the feed is first read by \
a new desk: the first fetch only records what a feed already holds.";

fn newsdesk_in(config: &Path, args: &[&str]) -> Output {
    newsdesk()
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("newsdesk runs")
}

fn ok(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// A feed of items (guid, title, text) published `days_ago`, linking to the test server.
fn items(fx: &Fixture, days_ago: i64, list: &[(&str, &str, &str)]) -> String {
    let date = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * days_ago))
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let links: Vec<String> = list
        .iter()
        .map(|(g, _, _)| fx.server.url(&format!("/a/{g}")))
        .collect();
    let rows: Vec<(&str, &str, &str, &str, &str)> = list
        .iter()
        .zip(&links)
        .map(|((guid, title, text), link)| (*guid, *title, date.as_str(), link.as_str(), *text))
        .collect();
    rss(&rows)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_check_and_a_dry_run_work_from_an_empty_directory() {
    let fx = Fixture::new().await;
    let dir = fx.dir.path().join("desk");
    let config = dir.join("newsdesk.toml");

    let run_init = |dir: &Path| {
        newsdesk()
            .arg("init")
            .arg(dir)
            .output()
            .expect("newsdesk runs")
    };
    let first = tokio::task::block_in_place(|| run_init(&dir));
    let said = ok(&first);
    assert!(
        said.contains("newsdesk.toml") && said.contains("feeds check"),
        "{said}"
    );
    assert!(dir.join("topics/science-policy.toml").is_file());
    let written = std::fs::read_to_string(&config).expect("config written");

    // Never overwrites: a second init refuses and leaves the file as it was.
    std::fs::write(&config, format!("{written}\n# my edit\n")).expect("edit");
    let second = tokio::task::block_in_place(|| run_init(&dir));
    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("already exists"), "{stderr}");
    assert!(
        std::fs::read_to_string(&config)
            .expect("config")
            .ends_with("# my edit\n")
    );

    let checked = tokio::task::block_in_place(|| ok(&newsdesk_in(&config, &["check"])));
    assert!(checked.contains("posts only stories on"), "{checked}");

    // The pack's feeds, each swapped for one on the test server with a story to seed it.
    let table: toml::Table = toml::from_str(&written).expect("starter parses as TOML");
    let feeds = table["feed"].as_array().expect("[[feed]] tables");
    assert!(feeds.len() >= 30, "{} feeds", feeds.len());
    let mut swapped = written.clone();
    for (i, feed) in feeds.iter().enumerate() {
        let url = feed["url"].as_str().expect("url");
        let path = format!("/feed{i}.xml");
        swapped = swapped.replacen(
            &format!("url = \"{url}\""),
            &format!("url = \"{}\"", fx.server.url(&path)),
            1,
        );
        let seed = items(
            &fx,
            10,
            &[(&format!("seed{i}"), &format!("Seed story {i}"), SEED)],
        );
        fx.server.route(&path, Resp::ok(seed));
    }
    std::fs::write(&config, swapped).expect("swap URLs");
    let first_run =
        tokio::task::block_in_place(|| ok(&newsdesk_in(&config, &["run", "--once", "--dry-run"])));
    assert!(
        !first_run.contains("Seed story"),
        "a first fetch is silent: {first_run}"
    );

    // New stories: on a filtered feed, a policy one and an off-beat one; on an open feed, any.
    let filtered = feeds
        .iter()
        .position(|f| f.get("require_topics").is_some())
        .expect("a filtered feed");
    let open = feeds
        .iter()
        .position(|f| f.get("require_topics").is_none())
        .expect("an open feed");
    fx.server.route(
        &format!("/feed{filtered}.xml"),
        Resp::ok(items(
            &fx,
            0,
            &[
                (
                    "p1",
                    "Senate appropriators restore NSF grant programs",
                    POLICY,
                ),
                (
                    "x1",
                    "Deep-sea worms thrive near hydrothermal vents",
                    SCIENCE,
                ),
            ],
        )),
    );
    fx.server.route(
        &format!("/feed{open}.xml"),
        Resp::ok(items(
            &fx,
            0,
            &[(
                "o1",
                "Regional universities form a new research alliance",
                ALLIANCE,
            )],
        )),
    );
    tokio::task::block_in_place(|| ok(&newsdesk_in(&config, &["poll", "--all"])));
    let digest =
        tokio::task::block_in_place(|| ok(&newsdesk_in(&config, &["run", "--once", "--dry-run"])));
    assert!(
        digest.contains("Senate appropriators restore NSF"),
        "{digest}"
    );
    assert!(digest.contains("Regional universities form"), "{digest}");
    assert!(
        !digest.contains("Deep-sea worms"),
        "held back by the feed's filter: {digest}"
    );
    // Held back, not lost: the off-beat story is stored and searchable.
    let found =
        tokio::task::block_in_place(|| ok(&newsdesk_in(&config, &["search", "hydrothermal"])));
    assert!(found.contains("Deep-sea worms"), "{found}");
}
