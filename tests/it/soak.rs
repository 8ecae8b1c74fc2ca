//! The crash soak: the real binary, killed with SIGKILL at seeded random moments (some within
//! 50 ms of its start) while a loopback feed keeps gaining items, posting through the bot to the
//! fake Discord (over `[discord] api_base`); then one clean run drains what is left. Every item
//! the feed ever served must be posted exactly once, and the database must pass SQLite's own
//! integrity check.
//!
//! `SOAK_KILLS` (default 100) sets the number of kills, for a longer run by hand.

use std::collections::HashMap;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::bin::{newsdesk, terminate};
use crate::support::discord::{FakeDiscord, TOKEN};
use crate::support::fixture::{Fixture, rss_owned};
use crate::support::http::Resp;

const CHANNEL: u64 = 1_600_000_000_000_000_006;
/// Longest wait for the final run to post everything.
const DRAIN_LIMIT: Duration = Duration::from_secs(120);

/// xorshift64*: the same kill schedule and texts on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A made-up word: items share no vocabulary, so none are grouped together.
    fn word(&mut self) -> String {
        const SYLLABLES: [&str; 16] = [
            "ka", "lo", "mi", "ru", "ve", "za", "po", "ti", "ne", "su", "gra", "bel", "dor", "fin",
            "hax", "quo",
        ];
        (0..3 + self.below(3))
            .map(|_| SYLLABLES[self.below(16) as usize])
            .collect()
    }
}

/// Item `k`: (guid, title, link, text).
fn item(k: usize, rng: &mut Rng) -> (String, String, String, String) {
    let words: Vec<String> = (0..60).map(|_| rng.word()).collect();
    let title = format!("{} {} {}", words[0], words[1], words[2]);
    (
        format!("soak-{k}"),
        title,
        format!("https://news.example/soak/{k}"),
        format!("{}.", words.join(" ")),
    )
}

fn spawn(config: &std::path::Path, log: &std::path::Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("log file");
    newsdesk()
        .arg("--config")
        .arg(config)
        .args(["--log", "warn", "run"])
        .env("NEWSDESK_DISCORD_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("newsdesk starts")
}

/// How many times each item link was posted as a story (an embed's own link).
fn posted_links(fake: &FakeDiscord) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for message in fake.messages(CHANNEL) {
        for embed in message["embeds"].as_array().into_iter().flatten() {
            if let Some(url) = embed["url"].as_str() {
                *counts.entry(url.to_string()).or_insert(0) += 1;
            }
        }
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_random_the_desk_posts_every_item_exactly_once() {
    let kills: usize = std::env::var("SOAK_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let seed = 0x5eed_0fde_5c00;
    let mut rng = Rng(seed);
    let fx = Fixture::new().await;
    let fake = FakeDiscord::start().await;
    let dir = fx.dir.path().to_path_buf();
    let config = dir.join("soak.toml");
    std::fs::write(
        &config,
        format!(
            "[storage]\npath = \"soak.db\"\n\
             [polling]\ninterval = \"1s\"\nmin_interval = \"1s\"\ntimeout = \"2s\"\n\
             max_item_age = \"off\"\nannounce_first_fetch = true\n\
             [[feed]]\nname = \"Soak\"\nurl = \"{}\"\nfull_text = \"never\"\n\
             [discord]\napi_base = \"{}\"\n\
             [[channel]]\nname = \"soak\"\nmode = \"live\"\nmax_stories = 50\n\
             discord_channel_id = \"{CHANNEL}\"\n",
            fx.server.url("/feed.xml"),
            fake.plain_base()
        ),
    )
    .expect("config");
    let log = dir.join("soak.log");

    let mut served: Vec<(String, String, String, String)> = Vec::new();
    let mut early_kills = 0;
    let started = Instant::now();
    for round in 0..kills {
        // The feed gains one or two items before each start.
        for _ in 0..1 + rng.below(2) {
            let k = served.len();
            served.push(item(k, &mut rng));
        }
        fx.server.route(
            "/feed.xml",
            Resp::ok(rss_owned(&served, "2026-11-20T10:00:00Z")),
        );
        // A sixth of the kills come within 50 ms of the start, the rest within 700 ms.
        let after = if rng.below(6) == 0 {
            early_kills += 1;
            rng.below(50)
        } else {
            50 + rng.below(650)
        };
        let config = config.clone();
        let log = log.clone();
        tokio::task::spawn_blocking(move || {
            let mut child = spawn(&config, &log);
            std::thread::sleep(Duration::from_millis(after));
            let _ = child.kill();
            let _ = child.wait();
        })
        .await
        .unwrap_or_else(|e| panic!("kill round {round} (seed {seed:#x}): {e}"));
    }
    let killed_for = started.elapsed();

    // One clean run drains the queue; it stops on SIGTERM once everything is posted.
    let mut child = spawn(&config, &log);
    let drain_started = Instant::now();
    let wanted: Vec<String> = served.iter().map(|(_, _, link, _)| link.clone()).collect();
    while drain_started.elapsed() < DRAIN_LIMIT {
        let posted = posted_links(&fake);
        if wanted.iter().all(|link| posted.contains_key(link)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Stopped once it is up (a signal in its first instant, before `main`, would find no
    // handler): it has taken the database's lock by then.
    let lock = dir.join("soak.db.lock");
    let pid = format!("pid {}", child.id());
    while drain_started.elapsed() < DRAIN_LIMIT
        && !std::fs::read_to_string(&lock).is_ok_and(|t| t.contains(&pid))
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    terminate(child.id());
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("joined")
        .expect("exit status");

    let posted = posted_links(&fake);
    let lost: Vec<&String> = wanted.iter().filter(|l| !posted.contains_key(*l)).collect();
    let doubled: Vec<(&String, &usize)> = posted.iter().filter(|(_, n)| **n > 1).collect();
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    let tail: String = log_text
        .lines()
        .rev()
        .take(30)
        .collect::<Vec<_>>()
        .join("\n");
    eprintln!(
        "soak: {kills} kills ({early_kills} within 50 ms) in {killed_for:?}, {} items served, \
         {} posted, drained in {:?}",
        wanted.len(),
        posted.len(),
        drain_started.elapsed()
    );
    assert!(
        lost.is_empty(),
        "{} of {} items never posted (seed {seed:#x}): {lost:?}\nlog tail:\n{tail}",
        lost.len(),
        wanted.len()
    );
    assert!(
        doubled.is_empty(),
        "posted more than once (seed {seed:#x}): {doubled:?}"
    );
    assert_eq!(status.code(), Some(0), "the drain run ends cleanly");
    let db = rusqlite::Connection::open(dir.join("soak.db")).expect("open store");
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity check");
    assert_eq!(check, "ok");
    let (items, stories): (i64, i64) = db
        .query_row(
            "SELECT (SELECT COUNT(*) FROM items), (SELECT COUNT(*) FROM stories)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("counts");
    assert_eq!(
        items as usize,
        wanted.len(),
        "every served item stored once"
    );
    assert_eq!(
        stories, items,
        "one story per item: none grouped, none doubled"
    );
    fake.assert_no_violations();
}
