//! Where digests go. The terminal sink prints the exact messages; the Discord sink posts them.

use std::collections::HashSet;
use std::io::Write;
use std::sync::Mutex;

use super::Digest;
use super::layout;
use crate::cli::output;

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("cannot write the digest: {0}")]
    Io(#[from] std::io::Error),
    /// Worth retrying later (network, 5xx, rate limits that outlasted the client's patience).
    #[error("{0}")]
    Delivery(String),
    /// The target cannot take messages until a human acts (missing permissions, deleted
    /// channel): the channel is paused, its stories stay queued.
    #[error("channel unavailable: {0}")]
    ChannelUnavailable(String),
    /// The credentials were refused: nothing will work until the token is fixed.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The rest was delivered, but the target will never take the messages showing `stories`
    /// (a body it refuses): they get one more try in the next digest, then are dropped.
    #[error("{why}")]
    Refused {
        stories: Vec<crate::store::StoryId>,
        why: String,
    },
}

/// A destination for digests. `post` returns only once every message is delivered.
pub trait Sink: Send + Sync {
    fn post(
        &self,
        digest: &Digest,
    ) -> impl std::future::Future<Output = Result<(), SinkError>> + Send;

    /// Why `channel`'s digests cannot go anywhere now (e.g. a Discord channel without a bot
    /// token), or None when they can. Such a channel's stories stay queued: nothing is
    /// composed or recorded for it.
    fn unreachable(&self, _channel: &str) -> Option<String> {
        None
    }
}

/// Prints each message as it would be posted, separated by a rule naming the channel (and, for
/// a forum channel, the title of the post the digest opens); as JSON, one line per digest
/// ([`crate::present::json`]), so several channels' digests stay parseable one line at a time.
///
/// A closed pipe ends the process quietly ([`crate::cli::output`]): the delivery loop would log
/// the write error and go on printing to nobody.
pub struct TerminalSink<W: Write + Send> {
    out: Mutex<W>,
    json: bool,
    forums: HashSet<String>,
}

impl<W: Write + Send> TerminalSink<W> {
    pub fn new(out: W, json: bool) -> Self {
        TerminalSink {
            out: Mutex::new(out),
            json,
            forums: HashSet::new(),
        }
    }

    /// The channels whose digests open forum posts.
    pub fn with_forums(mut self, channels: impl IntoIterator<Item = String>) -> Self {
        self.forums = channels.into_iter().collect();
        self
    }

    pub fn into_inner(self) -> W {
        self.out.into_inner().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self, digest: &Digest) -> Result<(), SinkError> {
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        if self.json {
            writeln!(out, "{}", crate::present::json(digest))?;
        } else {
            let messages = layout::digest_messages(digest);
            let total = messages.len();
            if self.forums.contains(&digest.channel) {
                writeln!(
                    out,
                    "──── #{} · new forum post \"{}\" ────",
                    digest.channel,
                    layout::forum_post_name(digest)
                )?;
            }
            for (i, message) in messages.iter().enumerate() {
                writeln!(
                    out,
                    "──── #{} · message {}/{} ────",
                    digest.channel,
                    i + 1,
                    total
                )?;
                writeln!(out, "{}", layout::to_text(message))?;
            }
            writeln!(out)?;
        }
        out.flush()?;
        Ok(())
    }
}

impl<W: Write + Send> Sink for TerminalSink<W> {
    async fn post(&self, digest: &Digest) -> Result<(), SinkError> {
        match self.write(digest) {
            Err(SinkError::Io(e)) if output::is_closed_pipe(&e) => output::exit_on_closed_pipe(),
            written => written,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(sink: TerminalSink<Vec<u8>>) -> String {
        let digest = Digest {
            id: None,
            channel: "desk".into(),
            generated_at: "2026-11-29T08:00:00Z".parse().expect("timestamp"),
            stories: Vec::new(),
            updates: Vec::new(),
        };
        sink.write(&digest).expect("written");
        String::from_utf8(sink.into_inner()).expect("utf-8")
    }

    #[test]
    fn a_forum_channel_shows_the_post_its_digest_opens() {
        let plain = shown(TerminalSink::new(Vec::new(), false));
        assert!(!plain.contains("forum post"), "{plain}");
        let forum = shown(TerminalSink::new(Vec::new(), false).with_forums(["desk".to_string()]));
        assert!(
            forum.contains("new forum post \"desk · 2026-11-29 · no new stories\""),
            "{forum}"
        );
        assert!(forum.contains("No new stories."), "{forum}");
    }
}
