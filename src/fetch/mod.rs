//! Getting bytes: HTTP(S) with conditional GET, size cap, timeout and per-host concurrency;
//! `file:` URLs for local feeds. Poll timing and feed health live in [`schedule`].
//! STUB: to be completed (see helper brief).

pub mod schedule;

use std::time::Duration;

use url::Url;

/// HTTP cache validators remembered per feed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What the server said about when to come back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheHints {
    /// Cache-Control max-age (or Expires relative to Date).
    pub max_age: Option<Duration>,
    /// Retry-After on 429/503.
    pub retry_after: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FetchOutcome {
    /// 304: nothing changed since the validators we sent.
    NotModified { hints: CacheHints },
    Fetched(Fetched),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fetched {
    pub body: Vec<u8>,
    /// The Content-Type header, for charset decisions.
    pub content_type: Option<String>,
    /// The URL after redirects.
    pub final_url: Url,
    pub validators: Validators,
    pub hints: CacheHints,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchSettings {
    pub timeout: Duration,
    pub max_body_bytes: usize,
    pub user_agent: String,
    /// At most this many requests in flight to one host.
    pub per_host_concurrency: usize,
    pub max_redirects: usize,
}

impl Default for FetchSettings {
    fn default() -> Self {
        FetchSettings {
            timeout: Duration::from_secs(20),
            max_body_bytes: 5 * 1024 * 1024,
            user_agent: concat!("newsdesk/", env!("CARGO_PKG_VERSION")).to_string(),
            per_host_concurrency: 2,
            max_redirects: 5,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("unsupported URL {0}: only http, https and file are fetched")]
    UnsupportedUrl(String),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("HTTP status {status}")]
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    #[error("body larger than the {limit}-byte limit")]
    TooLarge { limit: usize },
    #[error("network error: {0}")]
    Network(String),
    #[error("cannot read {path}: {message}")]
    File { path: String, message: String },
}

impl FetchError {
    /// Retry-After the server asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// One client for the whole program (one connection pool, one TLS stack).
#[derive(Clone)]
pub struct Fetcher {
    settings: FetchSettings,
}

impl Fetcher {
    pub fn new(settings: FetchSettings) -> Result<Fetcher, FetchError> {
        Ok(Fetcher { settings })
    }

    pub fn settings(&self) -> &FetchSettings {
        &self.settings
    }

    /// GET `url`, sending `validators` for a conditional request. `file:` URLs are read from disk.
    pub async fn get(&self, url: &Url, validators: &Validators) -> Result<FetchOutcome, FetchError> {
        let _ = validators;
        if url.scheme() == "file" {
            let path = url
                .to_file_path()
                .map_err(|_| FetchError::UnsupportedUrl(url.to_string()))?;
            let body = tokio::fs::read(&path).await.map_err(|e| FetchError::File {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
            return Ok(FetchOutcome::Fetched(Fetched {
                body,
                content_type: None,
                final_url: url.clone(),
                validators: Validators::default(),
                hints: CacheHints::default(),
            }));
        }
        Err(FetchError::UnsupportedUrl(url.to_string()))
    }
}
