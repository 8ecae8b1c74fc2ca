//! Optional summaries written by a language model behind any OpenAI-compatible
//! `/v1/chat/completions` endpoint (Ollama, llama.cpp server, vLLM, hosted APIs).
//!
//! The model is a best-effort extra: every failure (too little text, hourly cap, timeout, HTTP
//! error, malformed JSON, an answer that fails the checks) yields the extractive summary instead.
//! Accepted answers are cached by a hash of everything that shapes them, so an article seen again
//! (a re-run, the same text in two feeds) costs no request.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::split_sentences;
use crate::config::LlmConfig;
use crate::hash::sha256_hex;
use crate::store::Store;

/// Bumped whenever the prompt or the request changes, so old cached answers are not reused.
const PROMPT_VERSION: &str = "1";
/// Article text sent to the model; news essentials come first, so the tail can go.
const MAX_INPUT_CHARS: usize = 12_000;
/// Below this the extractive summary is practically the text itself, and a model given so little
/// tends to pad with invented context.
const MIN_INPUT_CHARS: usize = 280;
const MAX_TOKENS: u32 = 200;
const TEMPERATURE: f32 = 0.2;
/// A chat completion of 200 tokens is a few KiB; anything far larger is not one.
const MAX_RESPONSE_BYTES: usize = 1 << 20;
const MAX_SENTENCES: usize = 4;
const HOUR: Duration = Duration::from_secs(3600);
/// After a timeout the endpoint is left alone this long: items are processed one after another,
/// so a hung server would otherwise cost the full timeout on every item.
const TIMEOUT_COOLDOWN: Duration = Duration::from_secs(300);

/// Openings that introduce or comment on the summary instead of being it (lowercase).
const PREAMBLES: &[&str] = &[
    "here is",
    "here's",
    "here\u{2019}s",
    "sure",
    "certainly",
    "okay",
    "in this article",
    "this article",
    "the article",
    "as an ai",
];

/// Where a summary came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummarySource {
    /// The model answered just now.
    Llm,
    /// An earlier model answer for the same content.
    Cache,
    /// The extractive fallback.
    Extractive,
}

/// Why the model's summary was not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    #[error("article text too short to send")]
    TooShort,
    #[error("hourly request cap reached")]
    RateCapped,
    #[error("pausing after a timeout")]
    CoolingDown,
    #[error("request timed out")]
    Timeout,
    #[error("request failed: {0}")]
    Network(String),
    #[error("endpoint answered HTTP {0}")]
    Status(u16),
    #[error("response is not a chat completion: {0}")]
    BadResponse(String),
    #[error("answer rejected: {0}")]
    Rejected(Rejection),
}

/// What is wrong with an answer's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("empty")]
    Empty,
    #[error("{chars} characters, over the {max} allowed")]
    TooLong { chars: usize, max: usize },
    #[error("{0} sentences, expected 1 to 4")]
    SentenceCount(usize),
    #[error("starts with a preamble")]
    Preamble,
    #[error("contains markdown headings or list items")]
    Markdown,
}

/// Where accepted answers are kept. Failures to read or write are the cache's own business
/// (logged); the summary goes on either way.
pub trait SummaryCache {
    fn get(&self, key: &str) -> Option<String>;
    fn put(&self, key: &str, model: &str, summary: &str);
}

impl SummaryCache for Mutex<Store> {
    fn get(&self, key: &str) -> Option<String> {
        let store = self.lock().unwrap_or_else(|p| p.into_inner());
        store.cached_summary(key).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read the summary cache");
            None
        })
    }

    fn put(&self, key: &str, model: &str, summary: &str) {
        let store = self.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = store.cache_summary(key, model, summary, Timestamp::now()) {
            tracing::warn!(error = %e, "cannot write the summary cache");
        }
    }
}

/// Summaries from a chat-completions endpoint, with the checks, cap and cache around it.
pub struct LlmSummarizer {
    client: reqwest::Client,
    config: LlmConfig,
    endpoint: String,
    api_key: Option<String>,
    max_chars: usize,
    cap: HourlyCap,
    paused_until: Mutex<Option<Instant>>,
}

impl LlmSummarizer {
    /// `client` should be the program's one client (`Fetcher::client`); `max_chars` is
    /// `summarizer.max_chars`. The API key is read from `config.api_key_env` now.
    pub fn new(client: reqwest::Client, config: LlmConfig, max_chars: usize) -> LlmSummarizer {
        let api_key = config.api_key_env.as_deref().and_then(|var| {
            let key = std::env::var(var).ok().filter(|k| !k.trim().is_empty());
            if key.is_none() {
                tracing::warn!(
                    variable = var,
                    "summarizer.llm.api_key_env is set but the variable is empty or missing; sending no key"
                );
            }
            key.map(|k| k.trim().to_string())
        });
        LlmSummarizer {
            client,
            endpoint: chat_url(&config.base_url),
            api_key,
            max_chars,
            cap: HourlyCap::new(config.max_requests_per_hour),
            paused_until: Mutex::new(None),
            config,
        }
    }

    /// The URL requests go to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The model's summary of the article (or a cached one), else `fallback()`.
    pub async fn summarize<C: SummaryCache + ?Sized>(
        &self,
        title: &str,
        text: &str,
        cache: &C,
        fallback: impl FnOnce() -> String,
    ) -> (String, SummarySource) {
        if text.trim().chars().count() < MIN_INPUT_CHARS {
            return (fallback(), SummarySource::Extractive);
        }
        let key = content_hash(&self.config.model, self.max_chars, title, text);
        // Re-checked because max_chars may have shrunk since it was cached.
        if let Some(hit) = cache
            .get(&key)
            .and_then(|s| check_answer(&s, self.max_chars).ok())
        {
            tracing::debug!(%key, "LLM summary from cache");
            return (hit, SummarySource::Cache);
        }
        match self.request(title, text).await {
            Ok(summary) => {
                cache.put(&key, &self.config.model, &summary);
                (summary, SummarySource::Llm)
            }
            Err(error @ (LlmError::RateCapped | LlmError::CoolingDown)) => {
                tracing::debug!(
                    %error,
                    cap = self.config.max_requests_per_hour,
                    "LLM not asked; extractive summary"
                );
                (fallback(), SummarySource::Extractive)
            }
            Err(LlmError::Timeout) => {
                self.pause(Instant::now() + TIMEOUT_COOLDOWN);
                tracing::warn!(
                    model = %self.config.model,
                    cooldown_secs = TIMEOUT_COOLDOWN.as_secs(),
                    "LLM summary timed out; extractive summaries during the cooldown"
                );
                (fallback(), SummarySource::Extractive)
            }
            Err(error) => {
                tracing::warn!(%error, model = %self.config.model, "LLM summary failed; extractive summary");
                (fallback(), SummarySource::Extractive)
            }
        }
    }

    fn pause(&self, until: Instant) {
        *self.paused_until.lock().unwrap_or_else(|p| p.into_inner()) = Some(until);
    }

    fn is_paused(&self, now: Instant) -> bool {
        self.paused_until
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|until| now < until)
    }

    async fn request(&self, title: &str, text: &str) -> Result<String, LlmError> {
        if self.is_paused(Instant::now()) {
            return Err(LlmError::CoolingDown);
        }
        if !self.cap.try_acquire(Instant::now()) {
            return Err(LlmError::RateCapped);
        }
        let system = system_prompt(self.max_chars);
        let user = user_prompt(title, text);
        let body = ChatRequest {
            model: &self.config.model,
            messages: [
                ChatMessage {
                    role: "system",
                    content: &system,
                },
                ChatMessage {
                    role: "user",
                    content: &user,
                },
            ],
            temperature: TEMPERATURE,
            max_tokens: MAX_TOKENS,
            stream: false,
        };
        let body = serde_json::to_vec(&body).map_err(|e| LlmError::BadResponse(e.to_string()))?;
        let mut request = self
            .client
            .post(&self.endpoint)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body);
        let timeout = self.config.timeout.get();
        if !timeout.is_zero() {
            request = request.timeout(timeout);
        }
        if let Some(key) = &self.api_key {
            // bearer_auth marks the header sensitive, so it is not printed in debug output.
            request = request.bearer_auth(key);
        }
        let mut response = request.send().await.map_err(classify)?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(LlmError::Status(status));
        }
        let bytes = read_capped(&mut response).await?;
        let answer = parse_answer(&bytes)?;
        check_answer(&answer, self.max_chars).map_err(LlmError::Rejected)
    }
}

/// At most `max` acquisitions in any rolling hour.
struct HourlyCap {
    max: usize,
    sent: Mutex<VecDeque<Instant>>,
}

impl HourlyCap {
    fn new(max: u32) -> HourlyCap {
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        HourlyCap {
            max,
            sent: Mutex::new(VecDeque::new()),
        }
    }

    fn try_acquire(&self, now: Instant) -> bool {
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        while sent
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= HOUR)
        {
            sent.pop_front();
        }
        if sent.len() >= self.max {
            return false;
        }
        sent.push_back(now);
        true
    }
}

#[derive(Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: [ChatMessage<'a>; 2],
    temperature: f32,
    max_tokens: u32,
    stream: bool,
}

#[derive(Serialize)]
struct ChatMessage<'a> {
    role: &'a str,
    content: &'a str,
}

#[derive(Deserialize)]
struct ChatResponse {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: AnswerMessage,
}

#[derive(Deserialize)]
struct AnswerMessage {
    content: Option<String>,
}

/// `base_url` up to the API version ("…/v1") gets "/chat/completions"; a bare host gets
/// "/v1/chat/completions"; a full ".../chat/completions" URL is used as is.
fn chat_url(base_url: &str) -> String {
    let base = base_url.trim().trim_end_matches('/');
    if base.ends_with("/chat/completions") {
        return base.to_string();
    }
    let last = base.rsplit('/').next().unwrap_or_default();
    let is_version = last
        .strip_prefix('v')
        .is_some_and(|rest| rest.chars().next().is_some_and(|c| c.is_ascii_digit()));
    if is_version {
        format!("{base}/chat/completions")
    } else {
        format!("{base}/v1/chat/completions")
    }
}

fn system_prompt(max_chars: usize) -> String {
    format!(
        "You summarize news articles. Write a neutral summary of two or three sentences, under \
         {max_chars} characters, using only facts stated in the article text you are given. \
         Reply with the summary alone: no introduction, title, heading, list, label, opinion or \
         commentary."
    )
}

fn user_prompt(title: &str, text: &str) -> String {
    format!(
        "Title: {}\n\nArticle text:\n{}",
        title.trim(),
        crate::terms::head(text.trim(), MAX_INPUT_CHARS)
    )
}

/// The cache key: everything that shapes the answer. Fields are NUL-separated so that moving
/// text between title and body gives a different key.
pub fn content_hash(model: &str, max_chars: usize, title: &str, text: &str) -> String {
    let max_chars = max_chars.to_string();
    let parts = [model, PROMPT_VERSION, &max_chars, title, text];
    sha256_hex(parts.into_iter().flat_map(|part| [part.as_bytes(), &[0u8]]))
}

fn classify(error: reqwest::Error) -> LlmError {
    if error.is_timeout() {
        LlmError::Timeout
    } else {
        LlmError::Network(error.without_url().to_string())
    }
}

async fn read_capped(response: &mut reqwest::Response) -> Result<Vec<u8>, LlmError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(classify)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(LlmError::BadResponse(format!(
                "body over {MAX_RESPONSE_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `choices[0].message.content` of a chat completion.
fn parse_answer(body: &[u8]) -> Result<String, LlmError> {
    let parsed: ChatResponse =
        serde_json::from_slice(body).map_err(|e| LlmError::BadResponse(e.to_string()))?;
    parsed
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| LlmError::BadResponse("no choices".into()))?
        .message
        .content
        .ok_or_else(|| LlmError::BadResponse("no message content".into()))
}

/// The answer as it will be shown, or why it cannot be: non-empty, at most `max_chars`
/// characters and 1–4 sentences, without preamble or markdown structure. A leading
/// "Summary:" label and a reasoning model's `<think>` block are removed; line breaks become
/// spaces.
pub fn check_answer(raw: &str, max_chars: usize) -> Result<String, Rejection> {
    let text = strip_think(raw.trim()).ok_or(Rejection::Empty)?;
    let text = strip_label(text.trim());
    if text.is_empty() {
        return Err(Rejection::Empty);
    }
    if text.lines().any(is_markdown_line) {
        return Err(Rejection::Markdown);
    }
    if has_preamble(text) {
        return Err(Rejection::Preamble);
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let chars = text.chars().count();
    if chars > max_chars {
        return Err(Rejection::TooLong {
            chars,
            max: max_chars,
        });
    }
    let sentences = split_sentences(&text).len();
    if !(1..=MAX_SENTENCES).contains(&sentences) {
        return Err(Rejection::SentenceCount(sentences));
    }
    Ok(text)
}

/// Reasoning models may put their deliberation first; None when it never ends.
fn strip_think(text: &str) -> Option<&str> {
    match text.strip_prefix("<think>") {
        Some(rest) => rest.split_once("</think>").map(|(_, after)| after),
        None => Some(text),
    }
}

fn strip_label(text: &str) -> &str {
    const LABEL: &str = "summary:";
    match text.get(..LABEL.len()) {
        Some(head) if head.eq_ignore_ascii_case(LABEL) => text[LABEL.len()..].trim_start(),
        _ => text,
    }
}

fn is_markdown_line(line: &str) -> bool {
    let line = line.trim_start();
    if line.starts_with('#') || line.starts_with("**") || line.starts_with("```") {
        return true;
    }
    if ["- ", "* ", "+ ", "\u{2022}"]
        .iter()
        .any(|m| line.starts_with(m))
    {
        return true;
    }
    // "1. " or "1) " list items.
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && {
        let rest = &line[digits..];
        rest.starts_with(". ") || rest.starts_with(") ")
    }
}

fn has_preamble(text: &str) -> bool {
    let lower = text.to_lowercase();
    PREAMBLES.iter().any(|p| {
        lower
            .strip_prefix(p)
            .is_some_and(|rest| !rest.chars().next().is_some_and(char::is_alphanumeric))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "The council approved the new bridge on Monday. Construction starts in May \
                        and should take two years.";

    #[test]
    fn good_answer_is_kept_with_whitespace_collapsed() {
        let raw = format!("  {}\n", GOOD.replace(". ", ".\n"));
        assert_eq!(check_answer(&raw, 600), Ok(GOOD.to_string()));
    }

    #[test]
    fn empty_and_blank_answers_are_rejected() {
        assert_eq!(check_answer("", 600), Err(Rejection::Empty));
        assert_eq!(check_answer("  \n\t ", 600), Err(Rejection::Empty));
        assert_eq!(check_answer("Summary:   ", 600), Err(Rejection::Empty));
    }

    #[test]
    fn summary_label_is_stripped() {
        assert_eq!(
            check_answer(&format!("Summary: {GOOD}"), 600),
            Ok(GOOD.into())
        );
        assert_eq!(
            check_answer(&format!("SUMMARY:\n{GOOD}"), 600),
            Ok(GOOD.into())
        );
    }

    #[test]
    fn preambles_are_rejected() {
        for opening in [
            "Here is a summary:",
            "Here's the summary.",
            "Sure!",
            "Sure, here you go.",
            "In this article, the author says a lot.",
            "This article describes a bridge.",
            "As an AI, I cannot know.",
        ] {
            assert_eq!(
                check_answer(&format!("{opening} {GOOD}"), 600),
                Err(Rejection::Preamble),
                "{opening}"
            );
        }
    }

    #[test]
    fn preamble_words_inside_names_are_not_preambles() {
        let text = "Suresh Kumar won the vote on Monday. Surely nobody expected it.";
        assert_eq!(check_answer(text, 600), Ok(text.to_string()));
    }

    #[test]
    fn markdown_structure_is_rejected() {
        for answer in [
            "# Bridge approved\nThe council approved it.",
            "- The council approved the bridge.\n- Work starts in May.",
            "* The council approved the bridge.",
            "1. The council approved the bridge.",
            "**Key points** The council approved the bridge.",
        ] {
            assert_eq!(
                check_answer(answer, 600),
                Err(Rejection::Markdown),
                "{answer}"
            );
        }
    }

    #[test]
    fn length_is_counted_in_characters() {
        let text = "Él añadió que la obra empieza en mayo.";
        let chars = text.chars().count();
        assert!(text.len() > chars);
        assert_eq!(check_answer(text, chars), Ok(text.to_string()));
        assert_eq!(
            check_answer(text, chars - 1),
            Err(Rejection::TooLong {
                chars,
                max: chars - 1
            })
        );
    }

    #[test]
    fn too_many_sentences_are_rejected() {
        let text = "One fact here. Two facts here. Three facts here. Four facts here. Five facts.";
        assert_eq!(check_answer(text, 600), Err(Rejection::SentenceCount(5)));
    }

    #[test]
    fn think_blocks_are_removed_and_unfinished_ones_rejected() {
        let raw = format!("<think>They want a summary.</think>\n{GOOD}");
        assert_eq!(check_answer(&raw, 600), Ok(GOOD.into()));
        assert_eq!(
            check_answer("<think>still thinking", 600),
            Err(Rejection::Empty)
        );
    }

    #[test]
    fn answers_are_parsed_from_chat_completions() {
        let body =
            br#"{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"Hi."}}]}"#;
        assert_eq!(parse_answer(body), Ok("Hi.".to_string()));
        assert!(matches!(
            parse_answer(br#"{"choices":[]}"#),
            Err(LlmError::BadResponse(_))
        ));
        assert!(matches!(
            parse_answer(br#"{"choices":[{"message":{"content":null}}]}"#),
            Err(LlmError::BadResponse(_))
        ));
        assert!(matches!(
            parse_answer(b"<html>oops"),
            Err(LlmError::BadResponse(_))
        ));
    }

    #[test]
    fn endpoint_urls() {
        assert_eq!(
            chat_url("http://127.0.0.1:11434/v1/"),
            "http://127.0.0.1:11434/v1/chat/completions"
        );
        assert_eq!(
            chat_url("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080/v1/chat/completions"
        );
        assert_eq!(
            chat_url("https://api.example.com/v1/chat/completions"),
            "https://api.example.com/v1/chat/completions"
        );
        assert_eq!(
            chat_url("https://api.example.com/openai/v1"),
            "https://api.example.com/openai/v1/chat/completions"
        );
    }

    #[test]
    fn hourly_cap_is_a_rolling_window() {
        let cap = HourlyCap::new(2);
        let t0 = Instant::now();
        assert!(cap.try_acquire(t0));
        assert!(cap.try_acquire(t0 + Duration::from_secs(600)));
        assert!(!cap.try_acquire(t0 + Duration::from_secs(1200)));
        // The first request leaves the window after an hour; the second is still in it.
        assert!(cap.try_acquire(t0 + HOUR));
        assert!(!cap.try_acquire(t0 + HOUR + Duration::from_secs(1)));
        assert!(!HourlyCap::new(0).try_acquire(t0));
    }

    #[test]
    fn content_hash_depends_on_every_part() {
        let base = content_hash("m", 600, "Title", "Text");
        assert_eq!(base.len(), 64);
        assert_eq!(base, content_hash("m", 600, "Title", "Text"));
        assert_ne!(base, content_hash("m2", 600, "Title", "Text"));
        assert_ne!(base, content_hash("m", 500, "Title", "Text"));
        assert_ne!(base, content_hash("m", 600, "TitleT", "ext"));
        assert_ne!(base, content_hash("m", 600, "Title", "Text."));
        // Keys already in the summary cache stay valid.
        assert_eq!(
            base,
            "37e21265befeb904498eac2efbf15b0aa43a9fe7f08591ffa651fb05a7e02bf5"
        );
    }

    #[test]
    fn long_text_is_capped_on_a_character_boundary() {
        let text = "é".repeat(MAX_INPUT_CHARS + 10);
        assert_eq!(
            crate::terms::head(&text, MAX_INPUT_CHARS).chars().count(),
            MAX_INPUT_CHARS
        );
        assert_eq!(crate::terms::head("short", MAX_INPUT_CHARS), "short");
    }
}
