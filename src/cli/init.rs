//! `newsdesk init [DIR]`: a starter config with the bundled feed pack and topic presets.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::config::starter::{TOPIC_PRESETS, TOPIC_PRESETS_PATH, starter_config};

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The directory to write newsdesk.toml (and topics/) into; created if missing.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

/// Writes `DIR/newsdesk.toml` and, unless present, `DIR/topics/science-policy.toml`. Never
/// overwrites a config: an existing one is an error that says so.
pub fn run(args: &InitArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let config = args.dir.join("newsdesk.toml");
    let text = starter_config().context("the bundled feed pack is unreadable")?;
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    // create_new: never replaces a file, even one that appears between a check and the write.
    if !write_new(&config, &text)? {
        anyhow::bail!(
            "{} already exists; newsdesk init never overwrites a config (move it away, or run \
             init in another directory)",
            config.display()
        );
    }
    writeln!(out, "wrote {}", config.display())?;
    let topics = args.dir.join(TOPIC_PRESETS_PATH);
    if let Some(parent) = topics.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    if write_new(&topics, TOPIC_PRESETS)? {
        writeln!(out, "wrote {}", topics.display())?;
    } else {
        writeln!(out, "kept the existing {}", topics.display())?;
    }
    let flag = config_flag(&config);
    writeln!(
        out,
        "\nNext:\n  \
         newsdesk{flag} check                   what will run\n  \
         newsdesk{flag} feeds check             which of the pack's feeds answer from here\n  \
         newsdesk{flag} run --once --dry-run    one cycle, the digest printed, nothing recorded\n\
         Then give the \"desk\" channel a webhook_env (a webhook URL in that variable) or a\n\
         discord_channel_id and a bot token in NEWSDESK_DISCORD_TOKEN, and start `newsdesk{flag} run`."
    )?;
    Ok(())
}

/// Writes `text` to a new file; false when the file exists.
fn write_new(path: &Path, text: &str) -> anyhow::Result<bool> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path);
    match file {
        Ok(mut file) => {
            file.write_all(text.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot write {}", path.display())),
    }
}

/// ` --config PATH` unless the config is where newsdesk looks by default.
fn config_flag(config: &Path) -> String {
    if config == Path::new("./newsdesk.toml") {
        String::new()
    } else {
        format!(" --config {}", config.display())
    }
}
