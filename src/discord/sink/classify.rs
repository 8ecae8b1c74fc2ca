//! Sorting Discord's answers: what to retry, what Discord will never take, what needs a human.

use serenity::all::HttpError;

/// How a failed request should be handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Transient (5xx, 429): retry soon, a few times, then leave the digest for later.
    Retry(String),
    /// Transient but slow to tell (the network, a timeout): leave the digest for later.
    Later(String),
    /// Permanent for this message (400: Discord will never take this body): skip the part,
    /// give its stories back for one more digest.
    Reject(String),
    /// Permanent for the channel until someone acts (permissions, deleted channel, archived or
    /// locked thread, a forum that requires tags): pause it with the fix in words.
    Pause(String),
    Unauthorized(String),
}

/// Sorts a serenity error by what to do next. Never loops on 401/403/429: those are not
/// retried here (serenity's rate limiter already honoured 429's retry_after).
pub fn classify(error: &serenity::Error) -> Failure {
    let serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) = error else {
        return Failure::Later(with_causes(error));
    };
    let status = response.status_code.as_u16();
    let code = response.error.code;
    let mut what = format!(
        "HTTP {status}, Discord code {code}: {}",
        response.error.message
    );
    // Where in the body Discord found the problem ("embeds.0.url: Not a well formed URL").
    for e in &response.error.errors {
        what.push_str(&format!("; {}: {}", e.path, e.message));
    }
    match (status, code) {
        (401, _) => Failure::Unauthorized(what),
        (_, 50013) => Failure::Pause(format!(
            "the bot lacks permissions there (View Channel, Send Messages, Embed Links, Send \
             Messages in Threads): {what}"
        )),
        (_, 50001) => Failure::Pause(format!(
            "the bot cannot see the channel: invite it or grant View Channel ({what})"
        )),
        (_, 10003) => Failure::Pause(format!(
            "the channel (or thread) no longer exists: fix discord_channel_id ({what})"
        )),
        (_, 10015) => Failure::Pause(format!(
            "the webhook no longer exists: put a current webhook URL in webhook_env ({what})"
        )),
        // 50008: a message sent to a forum; 220001: a webhook post to a forum without a thread.
        (_, 50008 | 220001) => Failure::Pause(format!(
            "the channel takes no messages; if it is a forum, set forum = true for it ({what})"
        )),
        (_, 50083) => Failure::Pause(format!(
            "the thread is archived: unarchive it, or let newsdesk open a new post ({what})"
        )),
        (_, 160005) => Failure::Pause(format!(
            "the thread is locked: unlock it, or let newsdesk open a new post ({what})"
        )),
        (_, 40067) => Failure::Pause(format!(
            "the forum requires a tag on every post: set forum_tags = [\"…\"] for the channel \
             ({what})"
        )),
        (403, _) | (404, _) => Failure::Pause(what),
        // A 429 reaches here only when no rate limiter waited it out (a proxy base URL, or a
        // wait too long to sit through): back off like a server error.
        (429, _) => Failure::Retry(what),
        (s, _) if s >= 500 => Failure::Retry(what),
        // Any other 4xx: this body will never be taken as it is.
        _ => Failure::Reject(what),
    }
}

/// Whether Discord says the target channel or thread does not exist (10003).
pub(super) fn is_unknown_channel(error: &serenity::Error) -> bool {
    matches!(error, serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) if r.error.code == 10003)
}

/// An error with its causes ("Error while sending HTTP request: …: connection refused"): the
/// top line alone says nothing. Request errors never carry a URL here (a webhook's holds its
/// secret).
fn with_causes(error: &serenity::Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        let line = inner.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        cause = inner.source();
    }
    text
}
