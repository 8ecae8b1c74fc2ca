//! Time to serve a story page over the demo store: the story read from the store (views,
//! Related with their one-liners) and written as HTML, p50 and p95 over every demo story; and
//! each page's weight (HTML with its inline CSS). Baseline in the same run: the same story read
//! and written as the terminal's text (what `newsdesk related` prints).
//!
//! Run: `cargo bench --bench page`

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use newsdesk::config::Config;
use newsdesk::pipeline::Desk;
use newsdesk::present::{ViewSettings, markdown, story_view};
use newsdesk::store::StoryId;

const ROUNDS: usize = 200;

fn main() {
    let dir = std::env::temp_dir().join(format!("newsdesk-page-bench-{}", std::process::id()));
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo"),
        &dir.join("demo"),
    );
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo.toml"))
            .expect("demo config");
    let config = Config::from_str_at(&text, &dir.join("demo.toml")).expect("demo config parses");
    let now = jiff::Timestamp::now();
    let desk = Arc::new(Desk::open(config, now).expect("desk"));
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime
        .block_on(newsdesk::daemon::poll_and_process(&desk, now, &|_, _| {}))
        .expect("demo polled");
    let stories: Vec<StoryId> = desk
        .store()
        .story_page(1_000, 0)
        .expect("stories")
        .into_iter()
        .map(|s| s.id)
        .collect();
    let settings = ViewSettings::from(&desk.config);

    let mut weights = Vec::new();
    let mut related = 0;
    for &id in &stories {
        let view = story_view(&desk.store(), id, &settings).expect("view");
        related = related.max(view.related.len());
        weights.push(newsdesk::web::pages::story_page(&view, None).len());
    }
    let page = time(&stories, |id| {
        let view = story_view(&desk.store(), id, &settings).expect("view");
        newsdesk::web::pages::story_page(&view, None).len()
    });
    let terminal = time(&stories, |id| {
        let view = story_view(&desk.store(), id, &settings).expect("view");
        markdown::story_block(&view).len()
    });
    weights.sort_unstable();
    println!(
        "story page over the demo: {} stories (up to {related} Related), {ROUNDS} rounds",
        stories.len()
    );
    println!("                       p50 µs   p95 µs");
    println!("HTML page            {:>8.1} {:>8.1}", page.0, page.1);
    println!(
        "terminal (baseline)  {:>8.1} {:>8.1}",
        terminal.0, terminal.1
    );
    println!("ratio page/terminal  {:>8.2}", page.0 / terminal.0);
    println!(
        "page weight, HTML + CSS: median {} B, largest {} B",
        weights[weights.len() / 2],
        weights[weights.len() - 1]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// p50 and p95 in µs of `work` over every story, `ROUNDS` times.
fn time(stories: &[StoryId], mut work: impl FnMut(StoryId) -> usize) -> (f64, f64) {
    let mut samples = Vec::with_capacity(stories.len() * ROUNDS);
    let mut sink = 0;
    for _ in 0..ROUNDS {
        for &id in stories {
            let start = Instant::now();
            sink += work(id);
            samples.push(start.elapsed().as_secs_f64() * 1e6);
        }
    }
    std::hint::black_box(sink);
    samples.sort_by(f64::total_cmp);
    (
        samples[samples.len() / 2],
        samples[samples.len() * 95 / 100],
    )
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
