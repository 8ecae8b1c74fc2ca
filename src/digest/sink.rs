//! Where digests go. The terminal sink prints the exact messages; the Discord sink posts them.

use std::io::Write;
use std::sync::Mutex;

use super::Digest;
use super::{layout, render};

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
}

/// A destination for digests. `post` returns only once every message is delivered.
pub trait Sink: Send + Sync {
    fn post(
        &self,
        digest: &Digest,
    ) -> impl std::future::Future<Output = Result<(), SinkError>> + Send;
}

/// Prints each message as it would be posted, separated by a rule naming the channel.
pub struct TerminalSink<W: Write + Send> {
    out: Mutex<W>,
    json: bool,
}

impl<W: Write + Send> TerminalSink<W> {
    pub fn new(out: W, json: bool) -> Self {
        TerminalSink {
            out: Mutex::new(out),
            json,
        }
    }

    pub fn into_inner(self) -> W {
        self.out.into_inner().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self, digest: &Digest) -> Result<(), SinkError> {
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        if self.json {
            writeln!(out, "{}", render::json(digest))?;
        } else {
            let messages = layout::digest_messages(digest);
            let total = messages.len();
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
        self.write(digest)
    }
}
