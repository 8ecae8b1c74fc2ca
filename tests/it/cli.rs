//! The `newsdesk` binary as an operator uses it.

use std::process::Command;

fn newsdesk() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_newsdesk"));
    cmd.env_remove("NEWSDESK_CONFIG").env_remove("RUST_LOG");
    cmd
}

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
    let text = std::fs::read_to_string(example_config()).unwrap().replacen(
        "interval = \"15m\"",
        "intervall = \"15m\"",
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
        serde_json::json!({"id": "a", "title": "Earthquake hits Veltra harbour", "text": quake, "source": "one"}),
        serde_json::json!({"id": "b", "title": "Veltra earthquake damages cathedral and harbour", "text": quake, "source": "two"}),
        serde_json::json!({"id": "c", "title": "Orchestra opens winter season", "text": "The city orchestra opened its winter season with a new symphony by a young composer.", "source": "one"}),
        serde_json::json!({"id": "d", "title": "Veltra rebuilds harbour a year after earthquake", "text": "A year after the earthquake, Veltra began rebuilding its harbour and cathedral with national funds.", "source": "two"}),
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
        "a follow-up a year on is related, not the same event"
    );
    assert_eq!(rows[3]["related"][0], "a", "{:?}", rows[3]);
    assert!(rows[2]["related"].as_array().unwrap().is_empty() || rows[2]["related"][0] != "c");
}
