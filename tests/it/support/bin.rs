//! The real `newsdesk` binary in a child process, as an operator (or a crash) meets it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// `newsdesk` with no config or log filter inherited from the environment.
pub fn newsdesk() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_newsdesk"));
    cmd.env_remove("NEWSDESK_CONFIG")
        .env_remove("RUST_LOG")
        .env_remove("NEWSDESK_DISCORD_TOKEN");
    cmd
}

/// The demo's feed files copied into `dir`, with its config (`demo.toml`, which reads them and
/// prints to the terminal) and `extra` appended to it. Returns the config's path.
pub fn demo_copy(dir: &Path, extra: &str) -> PathBuf {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    copy_dir(&demo.join("demo"), &dir.join("demo"));
    let text = std::fs::read_to_string(demo.join("demo.toml")).expect("demo config");
    let config = dir.join("demo.toml");
    std::fs::write(&config, format!("{text}\n{extra}")).expect("write config");
    config
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Waits until `check` holds, polling every 20 ms, at most `limit`.
pub fn wait_until(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    check()
}

/// Sends SIGTERM to a child (std's `kill` sends SIGKILL).
pub fn terminate(pid: u32) {
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
}
