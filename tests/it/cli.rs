//! The `newsdesk` binary as an operator uses it.

use crate::support::bin::newsdesk;

fn example_config() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/config/newsdesk.example.toml").to_string()
}

#[test]
fn check_accepts_the_annotated_example() {
    let out = newsdesk()
        .args(["--config", &example_config(), "check"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("is valid"));
    assert!(stdout.contains("policy-daily"));
}

#[test]
fn check_locates_a_typo_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typo.toml");
    // The example includes the topic presets beside it.
    std::fs::create_dir(dir.path().join("topics")).unwrap();
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/config/topics/science-policy.toml"
        ),
        dir.path().join("topics/science-policy.toml"),
    )
    .unwrap();
    let text = std::fs::read_to_string(example_config()).unwrap().replacen(
        "interval = \"2h\"",
        "intervall = \"2h\"",
        1,
    );
    let line = text
        .lines()
        .position(|l| l.starts_with("intervall"))
        .unwrap()
        + 1;
    std::fs::write(&path, text).unwrap();
    let out = newsdesk()
        .args(["--config", path.to_str().unwrap(), "check"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = format!(
        "{}:{line}:1: feed[0].intervall: unknown field `intervall`",
        path.display()
    );
    assert!(stderr.contains(&expected), "{stderr}\nexpected: {expected}");
    assert!(stderr.contains("1 error(s)"), "only the typo: {stderr}");
}

#[test]
fn check_reports_every_mistake_at_its_place_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seven.toml");
    std::fs::write(
        &path,
        r#"[polling]
min_interval = "2h"
max_interval = "1h"
timeout = "20x"
announce_first_fetch = "yes"

[[feed]]
name = "Wire"
url = "https://a.example/feed"
intervall = "15m"

[[feed]]
name = "Wire"
url = "https://b.example/feed"

[[topic]]
name = "ai"
query = "ai"

[[channel]]
name = "daily"
topics = ["ai", "space"]
schedule = "daily 08:00 UTC"
max_stories = 0
"#,
    )
    .unwrap();
    let out = newsdesk()
        .args(["--config", path.to_str().unwrap(), "check"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = [
        "2:16: polling.min_interval: 2h must not be larger than polling.max_interval (1h)",
        "4:11: polling.timeout: invalid duration \"20x\"",
        "5:24: polling.announce_first_fetch: invalid type: string \"yes\", expected a boolean",
        "10:1: feed[0].intervall: unknown field `intervall`",
        "13:8: feed[1].name: duplicate feed name \"Wire\"",
        "22:17: channel[0].topics[1]: unknown topic \"space\"",
        "24:15: channel[0].max_stories: expected 1 to 50",
    ];
    let issues: Vec<&str> = stderr.lines().filter(|l| l.contains(": ")).collect();
    assert_eq!(issues.len(), expected.len(), "{stderr}");
    for (issue, expected) in issues.iter().zip(expected) {
        let expected = format!("{}:{expected}", path.display());
        assert!(
            issue.starts_with(&expected),
            "{stderr}\nexpected: {expected}"
        );
    }
    assert!(stderr.contains("7 error(s)"), "{stderr}");
}

#[test]
fn missing_config_is_a_clear_error() {
    let out = newsdesk()
        .args(["--config", "/nonexistent/newsdesk.toml", "feeds"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot read config file /nonexistent/newsdesk.toml"),
        "{stderr}"
    );
}

#[test]
fn relate_batch_groups_and_relates() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let quake = "A magnitude 6.1 earthquake struck near the coastal city of Veltra on Sunday, \
                 damaging the harbour and the old cathedral; rescuers searched collapsed homes.";
    let lines = [
        serde_json::json!({"id": "a", "title": "Earthquake hits Veltra harbour", "text": quake, "source": "one", "published": "2025-03-02T08:00:00Z"}),
        serde_json::json!({"id": "b", "title": "Veltra earthquake damages cathedral and harbour", "text": quake, "source": "two", "published": "2025-03-02T11:00:00Z"}),
        serde_json::json!({"id": "c", "title": "Orchestra opens winter season", "text": "The city orchestra opened its winter season with a new symphony by a young composer.", "source": "one", "published": "2025-03-03T09:00:00Z"}),
        serde_json::json!({"id": "d", "title": "Veltra rebuilds harbour weeks after earthquake", "text": "Six weeks after the earthquake, Veltra began rebuilding its harbour and cathedral with national funds.", "source": "two", "published": "2025-04-15T09:00:00Z"}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&input, text).unwrap();
    let out = newsdesk()
        .args(["relate", "--input", input.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(
        rows[0]["story"], rows[1]["story"],
        "same event, two outlets"
    );
    assert_ne!(rows[0]["story"], rows[2]["story"]);
    assert_ne!(
        rows[0]["story"], rows[3]["story"],
        "a follow-up weeks later is related, not the same event"
    );
    assert_eq!(rows[3]["related"][0], "a", "{:?}", rows[3]);
    assert!(rows[2]["related"].as_array().unwrap().is_empty() || rows[2]["related"][0] != "c");
}

/// The demo config copied to a temp dir (so the test's store is its own).
fn demo_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    crate::support::bin::demo_copy(dir.path(), "");
    dir
}

/// A copy of the demo (kept alive by the returned directory) and its config, polled once.
fn polled_demo() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = demo_copy();
    let config = dir.path().join("demo.toml");
    run_ok(&config, &["poll"]);
    (dir, config)
}

fn run_ok(config: &std::path::Path, args: &[&str]) -> String {
    let out = newsdesk()
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn demo_commands_work_end_to_end() {
    let dir = demo_copy();
    let config = dir.path().join("demo.toml");
    let out = newsdesk()
        .arg("--config")
        .arg(&config)
        .args(["--log", "info", "run", "--once", "--dry-run"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        !log.contains("page not fetched"),
        "the offline demo must not need the network:\n{log}"
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    assert!(printed.contains("#research-desk · message 1/"), "{printed}");
    assert!(printed.contains("#ai-desk · message 1/"), "{printed}");
    assert!(
        printed.contains("__Also covered by__"),
        "grouped coverage is shown"
    );
    assert!(printed.contains("__Related__"), "Related lists are shown");
    assert!(!printed.contains("@everyone"), "mentions are neutralized");

    let feeds = run_ok(&config, &["feeds"]);
    assert_eq!(
        feeds.lines().filter(|l| l.contains(" ok ")).count(),
        3,
        "{feeds}"
    );

    let json = run_ok(
        &config,
        &[
            "digest",
            "--channel",
            "ai-desk",
            "--dry-run",
            "--format",
            "json",
        ],
    );
    let digest: serde_json::Value = serde_json::from_str(&json).unwrap();
    let stories = digest["stories"].as_array().unwrap();
    assert!(!stories.is_empty());
    assert!(stories.iter().all(|s| {
        s["topics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "ai-policy")
    }));

    let found = run_ok(&config, &["search", "export", "controls"]);
    assert!(found.to_lowercase().contains("export control"), "{found}");
    let url = stories[0]["url"].as_str().unwrap();
    let related = run_ok(&config, &["related", url]);
    assert!(related.starts_with("┃ **"), "{related}");

    let opml = run_ok(&config, &["feeds", "export"]);
    assert!(
        opml.contains("<opml") && opml.contains("Lab &amp; Ledger"),
        "{opml}"
    );
    let import = dir.path().join("more.opml");
    std::fs::write(
        &import,
        "<?xml version=\"1.0\"?><opml version=\"2.0\"><body><outline text=\"Extra\" xmlUrl=\"https://example.org/extra.xml\"/></body></opml>",
    )
    .unwrap();
    let imported = run_ok(&config, &["feeds", "import", import.to_str().unwrap()]);
    assert!(imported.contains("imported 1 of 1"), "{imported}");
    assert!(run_ok(&config, &["feeds"]).contains("Extra"));
}

/// Runs `args` with its standard output closed before the command writes anything, as a reader
/// that stops early (`| head -5`) leaves it.
fn with_closed_stdout(config: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut child = newsdesk()
        .arg("--config")
        .arg(config)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_stdout_ends_every_command_quietly() {
    let (dir, config) = polled_demo();
    let page = dir.path().join("demo/pages/telescope-first-light.html");
    let batch = dir.path().join("batch.jsonl");
    std::fs::write(
        &batch,
        "{\"id\":\"a\",\"title\":\"Quake\",\"text\":\"A quake hit the town. Homes fell.\"}\n",
    )
    .unwrap();
    let (page, batch) = (page.to_str().unwrap(), batch.to_str().unwrap());
    let commands: [&[&str]; 12] = [
        &["check"],
        &["feeds"],
        &["feeds", "export"],
        &["search", "export", "controls"],
        &["related", "1"],
        &["digest", "--dry-run"],
        &["digest", "--dry-run", "--format", "json"],
        &["run", "--once", "--dry-run"],
        &["extract", page],
        &["extract", "--json", page],
        &["summarize", "--input", batch],
        &["relate", "--input", batch],
    ];
    let loud: Vec<String> = commands
        .iter()
        .filter_map(|args| {
            let out = with_closed_stdout(&config, args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let first = stderr.lines().next().unwrap_or_default();
            (!out.status.success() || !stderr.is_empty())
                .then(|| format!("{args:?}: {:?} {first}", out.status))
        })
        .collect();
    assert!(loud.is_empty(), "{}", loud.join("\n"));
}

#[test]
fn digest_json_is_one_json_object_per_line_for_every_channel() {
    let (_dir, config) = polled_demo();
    let parse = |printed: &str| -> Vec<serde_json::Value> {
        printed
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    };
    let channels = |digests: &[serde_json::Value]| -> Vec<String> {
        digests
            .iter()
            .map(|d| d["channel"].as_str().unwrap().to_string())
            .collect()
    };
    let dry = parse(&run_ok(
        &config,
        &["digest", "--dry-run", "--format", "json"],
    ));
    assert_eq!(channels(&dry), ["research-desk", "ai-desk"]);
    assert!(
        dry.iter()
            .all(|d| !d["stories"].as_array().unwrap().is_empty())
    );
    // Sent until nothing is left: each run prints only well-formed lines.
    for _ in 0..3 {
        parse(&run_ok(&config, &["digest", "--format", "json"]));
    }
    let empty = parse(&run_ok(
        &config,
        &["digest", "--dry-run", "--format", "json"],
    ));
    assert_eq!(channels(&empty), ["research-desk", "ai-desk"]);
    assert!(
        empty
            .iter()
            .all(|d| d["stories"].as_array().unwrap().is_empty()),
        "{empty:?}"
    );
}

/// An OPML import gets the config's own checks: a name another feed already has (from the
/// config or from the same file) is refused with the fix, and so is an address on this
/// machine's network unless the import allows it; the rest is imported, refusals are reported
/// grouped by reason, and the command fails so a script notices.
#[test]
fn opml_import_refuses_names_in_use_and_internal_addresses_and_imports_the_rest() {
    let (dir, config) = polled_demo();
    let import = dir.path().join("more.opml");
    std::fs::write(
        &import,
        "<?xml version=\"1.0\"?><opml version=\"2.0\"><body>\
         <outline text=\"Science Policy Wire\" xmlUrl=\"https://example.org/other-wire.xml\"/>\
         <outline text=\"Extra\" xmlUrl=\"https://example.org/extra.xml\"/>\
         <outline text=\"Extra\" xmlUrl=\"https://example.org/extra-two.xml\"/>\
         <outline text=\"Gopher\" xmlUrl=\"gopher://example.org/feed\"/>\
         <outline text=\"Intranet\"><outline text=\"Local\" xmlUrl=\"http://127.0.0.1:9/feed.xml\"/>\
         <outline text=\"Admin\" xmlUrl=\"http://admin.localhost/rss\"/></outline>\
         </body></opml>",
    )
    .unwrap();
    let out = newsdesk()
        .arg("--config")
        .arg(&config)
        .args(["feeds", "import", import.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}{stderr}");
    assert!(
        stderr.contains("\"Science Policy Wire\" is already used by file:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("\"Extra\" is already used by https://example.org/extra.xml"),
        "{stderr}"
    );
    assert!(
        stderr.contains("refused 1 — not an http(s) URL"),
        "{stderr}"
    );
    assert!(stderr.contains("refused 2 — name already used"), "{stderr}");
    assert!(
        stderr.contains("refused 2 — an address on this machine")
            && stderr.contains("--allow-private"),
        "{stderr}"
    );
    assert!(stderr.contains("http://127.0.0.1:9/feed.xml"), "{stderr}");
    assert!(stdout.contains("imported 1 of 6"), "{stdout}");
    let feeds = run_ok(&config, &["feeds"]);
    assert_eq!(feeds.matches("Science Policy Wire").count(), 1, "{feeds}");
    assert!(feeds.contains("https://example.org/extra.xml"), "{feeds}");
    assert!(!feeds.contains("extra-two"), "{feeds}");
    assert!(!feeds.contains("Local"), "{feeds}");

    // The operator vouches for the file: its internal addresses are imported too.
    let again = newsdesk()
        .arg("--config")
        .arg(&config)
        .args([
            "feeds",
            "import",
            "--allow-private",
            import.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(
        stdout.contains("imported 2 of 6") && stdout.contains("(1 already present, 3 refused)"),
        "{stdout}"
    );
    let feeds = run_ok(&config, &["feeds"]);
    assert!(
        feeds.contains("Local") && feeds.contains("Admin"),
        "{feeds}"
    );
}

/// The demo digest as posted: every story links to an original article, every Related entry of
/// the JSON is in the embed (some story has the demo's `related.max`, 5 as on the seed page), and
/// each one-liner is a whole sentence.
#[test]
fn the_demo_digest_shows_every_story_linked_with_its_whole_related_list() {
    let (_dir, config) = polled_demo();
    let json = run_ok(&config, &["digest", "--dry-run", "--format", "json"]);
    let posted = run_ok(&config, &["digest", "--dry-run"]);
    let mut most_related = 0;
    let mut stories = 0;
    for line in json.lines() {
        let digest: serde_json::Value = serde_json::from_str(line).unwrap();
        for story in digest["stories"].as_array().unwrap() {
            stories += 1;
            let title = story["title"].as_str().unwrap();
            let url = story["url"].as_str().unwrap_or_default();
            assert!(
                url.starts_with("https://"),
                "{title}: no web link ({url:?})"
            );
            let related = story["related"].as_array().unwrap();
            most_related = most_related.max(related.len());
            for entry in related {
                let one_liner = entry["line"].as_str().unwrap();
                // A gist: a whole sentence, or a long one cut at a word.
                assert!(
                    one_liner.ends_with(['.', '!', '?', '"', '”', '…']),
                    "not a sentence: {one_liner:?}"
                );
            }
            // The story's embed in the posted text: from its headline to the next embed.
            let headline = format!("┃ **{}**", newsdesk::present::text::escape(title));
            let start = posted
                .find(&headline)
                .unwrap_or_else(|| panic!("{title} not posted:\n{posted}"));
            let embed = posted[start..].split("\n\n").next().unwrap();
            let shown = embed.lines().filter(|l| l.starts_with("┃ • ")).count();
            assert_eq!(shown, related.len(), "{title}:\n{embed}");
        }
    }
    assert!(stories >= 8, "{json}");
    let max = newsdesk::config::Config::load(&config).unwrap().related.max;
    assert_eq!((max, most_related), (5, 5), "related.max entries: {json}");
}

/// `poll --all` fetches `polling.concurrency` feeds at a time, as the daemon does: six slow
/// feeds with room for three are seen three at a time by the server (never one, never more).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_all_fetches_polling_concurrency_feeds_at_once() {
    use crate::support::http::{Resp, TestServer};

    let server = TestServer::start().await;
    let empty =
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>"#;
    let dir = tempfile::tempdir().unwrap();
    let mut config = String::from(
        "[storage]\npath = \"desk.db\"\n\n[polling]\nconcurrency = 3\nper_host_concurrency = 8\n\n",
    );
    for n in 0..6 {
        let path = format!("/feed{n}.xml");
        // Long enough that feeds started together overlap at the server on a loaded machine.
        server.route(
            &path,
            Resp::ok(empty).delay(std::time::Duration::from_secs(1)),
        );
        config.push_str(&format!(
            "[[feed]]\nname = \"F{n}\"\nurl = \"{}\"\n\n",
            server.url(&path)
        ));
    }
    let config_path = dir.path().join("desk.toml");
    std::fs::write(&config_path, config).unwrap();
    let out = tokio::task::spawn_blocking(move || {
        newsdesk()
            .arg("--config")
            .arg(&config_path)
            .args(["poll", "--all"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hits: usize = (0..6).map(|n| server.hits(&format!("/feed{n}.xml"))).sum();
    assert_eq!(hits, 6);
    assert_eq!(server.total_max_in_flight(), 3);
}
