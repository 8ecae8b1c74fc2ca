//! Getting bytes: HTTP(S) with conditional GET, size cap, timeout and per-host concurrency;
//! `file:` URLs for local feeds. Poll timing and feed health live in [`schedule`].

pub mod reach;
pub mod schedule;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use reqwest::header::{self, HeaderMap};
use tokio::sync::Semaphore;
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
    NotModified {
        hints: CacheHints,
    },
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

/// One redirect on the way to a feed: its status and where it pointed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub status: u16,
    pub to: Url,
}

impl Hop {
    /// 301 and 308 say the old address is gone for good: the config should say the new one.
    pub fn is_permanent(&self) -> bool {
        matches!(self.status, 301 | 308)
    }
}

/// What [`Fetcher::probe`] saw: the redirects, then the outcome.
#[derive(Debug)]
pub struct Probe {
    pub hops: Vec<Hop>,
    pub result: Result<FetchOutcome, FetchError>,
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

/// Redirects followed before a fetch fails (not configurable: no feed needs more).
const MAX_REDIRECTS: usize = 5;

impl From<&crate::config::PollingConfig> for FetchSettings {
    fn from(p: &crate::config::PollingConfig) -> Self {
        FetchSettings {
            timeout: p.timeout.get(),
            max_body_bytes: p.max_body_size,
            user_agent: p.user_agent.clone(),
            per_host_concurrency: p.per_host_concurrency,
            max_redirects: MAX_REDIRECTS,
        }
    }
}

/// The settings of a default `[polling]` (tools and tests without a config).
impl Default for FetchSettings {
    fn default() -> Self {
        FetchSettings::from(&crate::config::PollingConfig::default())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("unsupported URL {0}: only http, https and file are fetched")]
    UnsupportedUrl(String),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("HTTP {}", status_text(*.status, *.retry_after))]
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    #[error("body larger than the {limit}-byte limit")]
    TooLarge { limit: usize },
    #[error("{0}")]
    Network(String),
    #[error("cannot read {path}: {message}")]
    File { path: String, message: String },
    #[error("refused: {0}")]
    Refused(String),
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

/// "404 Not Found", "429 Too Many Requests (retry after 120s)".
fn status_text(status: u16, retry_after: Option<Duration>) -> String {
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|r| format!(" {r}"))
        .unwrap_or_default();
    match retry_after {
        Some(wait) => format!("{status}{reason} (retry after {}s)", wait.as_secs()),
        None => format!("{status}{reason}"),
    }
}

/// One client for the whole program (one connection pool, one TLS stack), and one for
/// untrusted fetches that may only reach public addresses ([`reach`]).
#[derive(Clone)]
pub struct Fetcher {
    settings: FetchSettings,
    client: reqwest::Client,
    public_client: reqwest::Client,
    /// Follows no redirects: [`Fetcher::probe`] walks them itself to report each hop.
    manual_client: reqwest::Client,
    /// Whether this handle fetches through `public_client` ([`Fetcher::public_only`]).
    public_only: bool,
    /// host → permits for requests in flight to it; shared by clones.
    hosts: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
}

impl Fetcher {
    pub fn new(settings: FetchSettings) -> Result<Fetcher, FetchError> {
        let build = |public_only: bool, follow: bool| {
            let redirects = if follow {
                reach::redirect_policy(settings.max_redirects, public_only)
            } else {
                reqwest::redirect::Policy::none()
            };
            let builder = reqwest::Client::builder()
                .user_agent(settings.user_agent.clone())
                .timeout(settings.timeout)
                .connect_timeout(settings.timeout)
                .redirect(redirects);
            let builder = if public_only {
                builder.dns_resolver(Arc::new(reach::PublicResolver))
            } else {
                builder
            };
            builder.build().map_err(|e| {
                FetchError::Network(format!("cannot build HTTP client: {}", describe(&e)))
            })
        };
        Ok(Fetcher {
            client: build(false, true)?,
            public_client: build(true, true)?,
            manual_client: build(false, false)?,
            settings,
            public_only: false,
            hosts: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// This fetcher for untrusted URLs: http(s) only, public addresses only, checked on every
    /// DNS answer and redirect hop. Shares the per-host limits.
    pub fn public_only(&self) -> Fetcher {
        Fetcher {
            public_only: true,
            ..self.clone()
        }
    }

    /// The underlying HTTP client, to share its connection pool and TLS stack (the Discord
    /// client is built on it).
    pub fn client(&self) -> reqwest::Client {
        self.client.clone()
    }

    pub fn settings(&self) -> &FetchSettings {
        &self.settings
    }

    /// GET `url`, sending `validators` for a conditional request. `file:` URLs are read from disk.
    pub async fn get(
        &self,
        url: &Url,
        validators: &Validators,
    ) -> Result<FetchOutcome, FetchError> {
        if self.public_only {
            reach::check_public_url(url).map_err(|e| FetchError::Refused(e.to_string()))?;
        }
        match url.scheme() {
            "file" => self.read_file(url).await,
            "http" | "https" => {
                let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
                let semaphore = self.host_semaphore(&host);
                // Held for the whole request, body included: politeness towards the host.
                let _permit = semaphore
                    .acquire_owned()
                    .await
                    .map_err(|_| FetchError::Network("host limiter closed".to_string()))?;
                let timeout = self.settings.timeout;
                // reqwest has its own timeout too; this one also bounds slow body trickles.
                tokio::time::timeout(timeout, self.http_get(url, validators))
                    .await
                    .unwrap_or(Err(FetchError::Timeout(timeout)))
            }
            _ => Err(FetchError::UnsupportedUrl(url.to_string())),
        }
    }

    fn host_semaphore(&self, host: &str) -> Arc<Semaphore> {
        let permits = self.settings.per_host_concurrency.max(1);
        let mut hosts = self
            .hosts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(
            hosts
                .entry(host.to_string())
                .or_insert_with(|| Arc::new(Semaphore::new(permits))),
        )
    }

    async fn http_get(
        &self,
        url: &Url,
        validators: &Validators,
    ) -> Result<FetchOutcome, FetchError> {
        let client = if self.public_only {
            &self.public_client
        } else {
            &self.client
        };
        let mut request = client.get(url.clone());
        if let Some(etag) = &validators.etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(modified) = &validators.last_modified {
            request = request.header(header::IF_MODIFIED_SINCE, modified);
        }
        let response = request.send().await.map_err(|e| self.map_error(&e))?;
        self.read_response(response).await
    }

    /// A fetch that reports every redirect hop on the way (for `feeds check`): the same limits
    /// and timeout as [`Fetcher::get`], with redirects followed one by one.
    pub async fn probe(&self, url: &Url) -> Probe {
        let mut hops = Vec::new();
        let timeout = self.settings.timeout;
        let walk = async {
            if url.scheme() == "file" {
                return self.read_file(url).await;
            }
            let mut at = url.clone();
            loop {
                if self.public_only {
                    reach::check_public_url(&at).map_err(|e| FetchError::Refused(e.to_string()))?;
                }
                let response = self
                    .manual_client
                    .get(at.clone())
                    .send()
                    .await
                    .map_err(|e| self.map_error(&e))?;
                let status = response.status();
                let next = status
                    .is_redirection()
                    .then(|| header_str(response.headers(), header::LOCATION))
                    .flatten()
                    .and_then(|location| at.join(location).ok());
                let Some(next) = next else {
                    return self.read_response(response).await;
                };
                if hops.len() >= self.settings.max_redirects {
                    return Err(FetchError::Network(format!(
                        "too many redirects (limit {})",
                        self.settings.max_redirects
                    )));
                }
                hops.push(Hop {
                    status: status.as_u16(),
                    to: next.clone(),
                });
                at = next;
            }
        };
        let result = tokio::time::timeout(timeout, walk)
            .await
            .unwrap_or(Err(FetchError::Timeout(timeout)));
        Probe { hops, result }
    }

    /// Status, cache headers, validators and the body (within the size cap) of a response.
    async fn read_response(
        &self,
        mut response: reqwest::Response,
    ) -> Result<FetchOutcome, FetchError> {
        let url = response.url().clone();
        let status = response.status();
        let hints = cache_hints(response.headers(), Timestamp::now());
        tracing::debug!(%url, status = status.as_u16(), "fetched");
        if status == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(FetchOutcome::NotModified { hints });
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                status: status.as_u16(),
                retry_after: hints.retry_after,
            });
        }
        let limit = self.settings.max_body_bytes;
        if response
            .content_length()
            .is_some_and(|len| len > limit as u64)
        {
            return Err(FetchError::TooLarge { limit });
        }
        let headers = response.headers();
        let content_type = header_str(headers, header::CONTENT_TYPE).map(str::to_string);
        let new_validators = Validators {
            etag: header_str(headers, header::ETAG).map(str::to_string),
            last_modified: header_str(headers, header::LAST_MODIFIED).map(str::to_string),
        };
        let final_url = response.url().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.map_error(&e))? {
            if body.len() + chunk.len() > limit {
                return Err(FetchError::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(FetchOutcome::Fetched(Fetched {
            body,
            content_type,
            final_url,
            validators: new_validators,
            hints,
        }))
    }

    async fn read_file(&self, url: &Url) -> Result<FetchOutcome, FetchError> {
        let path = url
            .to_file_path()
            .map_err(|_| FetchError::UnsupportedUrl(url.to_string()))?;
        let file_error = |e: std::io::Error| FetchError::File {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let limit = self.settings.max_body_bytes;
        let size = tokio::fs::metadata(&path).await.map_err(file_error)?.len();
        if size > limit as u64 {
            return Err(FetchError::TooLarge { limit });
        }
        let body = tokio::fs::read(&path).await.map_err(file_error)?;
        // The file may have grown between the two calls.
        if body.len() > limit {
            return Err(FetchError::TooLarge { limit });
        }
        Ok(FetchOutcome::Fetched(Fetched {
            body,
            content_type: None,
            final_url: url.clone(),
            validators: Validators::default(),
            hints: CacheHints::default(),
        }))
    }

    fn map_error(&self, error: &reqwest::Error) -> FetchError {
        if let Some(refusal) = reach::reach_error(error) {
            return match refusal {
                reach::ReachError::TooManyRedirects(_) => FetchError::Network(refusal.to_string()),
                _ => FetchError::Refused(refusal.to_string()),
            };
        }
        if error.is_timeout() {
            FetchError::Timeout(self.settings.timeout)
        } else if error.is_redirect() {
            FetchError::Network(format!(
                "too many redirects (limit {})",
                self.settings.max_redirects
            ))
        } else if error.is_connect() {
            // The innermost cause ("Connection refused", "failed to lookup address") says it all.
            FetchError::Network(format!("cannot connect: {}", root_cause(error)))
        } else {
            FetchError::Network(describe(error))
        }
    }
}

/// A reqwest error as one line: its cause chain without the URL (the operator knows the feed).
fn describe(error: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let top = error.to_string();
    let top = top.split(" for url (").next().unwrap_or_default();
    parts.push(top.to_string());
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ").replace(['\n', '\r'], " ")
}

fn root_cause(error: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string().replace(['\n', '\r'], " ")
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Cache-Control max-age (else Expires − Date) and Retry-After from response headers.
/// `now` stands in for a missing Date header.
pub fn cache_hints(headers: &HeaderMap, now: Timestamp) -> CacheHints {
    let date = header_str(headers, header::DATE)
        .and_then(parse_http_date)
        .unwrap_or(now);
    let max_age = header_str(headers, header::CACHE_CONTROL)
        .and_then(parse_max_age)
        .or_else(|| {
            header_str(headers, header::EXPIRES)
                .map(|expires| parse_http_date(expires).map_or(Duration::ZERO, |t| until(date, t)))
        });
    let retry_after =
        header_str(headers, header::RETRY_AFTER).and_then(|value| parse_retry_after(value, date));
    CacheHints {
        max_age,
        retry_after,
    }
}

/// `max-age=N` from a Cache-Control value (s-maxage is for shared caches, not us).
fn parse_max_age(cache_control: &str) -> Option<Duration> {
    cache_control.split(',').find_map(|directive| {
        let (name, value) = directive.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("max-age") {
            return None;
        }
        let seconds: u64 = value.trim().trim_matches('"').parse().ok()?;
        Some(Duration::from_secs(seconds))
    })
}

/// Retry-After: delay-seconds or an HTTP date (relative to the response's Date).
fn parse_retry_after(value: &str, date: Timestamp) -> Option<Duration> {
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    parse_http_date(value).map(|at| until(date, at))
}

/// RFC 9110 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), the form servers send today.
fn parse_http_date(value: &str) -> Option<Timestamp> {
    jiff::fmt::rfc2822::parse(value).ok().map(|z| z.timestamp())
}

/// Time from `from` to `to`, zero if `to` is not later.
fn until(from: Timestamp, to: Timestamp) -> Duration {
    Duration::try_from(to.duration_since(from)).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn now() -> Timestamp {
        Timestamp::from_second(1_445_412_480).unwrap() // Wed, 21 Oct 2015 07:28:00 GMT
    }

    #[test]
    fn max_age_from_cache_control() {
        let h = headers(&[("cache-control", "public, Max-Age=600, must-revalidate")]);
        assert_eq!(
            cache_hints(&h, now()).max_age,
            Some(Duration::from_secs(600))
        );
        let h = headers(&[("cache-control", "no-cache, s-maxage=60")]);
        assert_eq!(cache_hints(&h, now()).max_age, None);
        let h = headers(&[("cache-control", "max-age=soon")]);
        assert_eq!(cache_hints(&h, now()).max_age, None);
    }

    #[test]
    fn max_age_from_expires_minus_date() {
        let h = headers(&[
            ("date", "Wed, 21 Oct 2015 07:28:00 GMT"),
            ("expires", "Wed, 21 Oct 2015 08:28:00 GMT"),
        ]);
        assert_eq!(
            cache_hints(&h, now()).max_age,
            Some(Duration::from_secs(3600))
        );
        // Cache-Control wins over Expires.
        let h = headers(&[
            ("cache-control", "max-age=60"),
            ("expires", "Wed, 21 Oct 2015 08:28:00 GMT"),
        ]);
        assert_eq!(
            cache_hints(&h, now()).max_age,
            Some(Duration::from_secs(60))
        );
        // An invalid or past Expires means "already stale".
        let h = headers(&[("expires", "0")]);
        assert_eq!(cache_hints(&h, now()).max_age, Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_seconds_or_date() {
        let h = headers(&[("retry-after", "120")]);
        assert_eq!(
            cache_hints(&h, now()).retry_after,
            Some(Duration::from_secs(120))
        );
        let h = headers(&[
            ("date", "Wed, 21 Oct 2015 07:28:00 GMT"),
            ("retry-after", "Wed, 21 Oct 2015 07:30:00 GMT"),
        ]);
        assert_eq!(
            cache_hints(&h, now()).retry_after,
            Some(Duration::from_secs(120))
        );
        // Without Date the caller's clock is used.
        let h = headers(&[("retry-after", "Wed, 21 Oct 2015 07:29:00 GMT")]);
        assert_eq!(
            cache_hints(&h, now()).retry_after,
            Some(Duration::from_secs(60))
        );
        let h = headers(&[("retry-after", "later, maybe")]);
        assert_eq!(cache_hints(&h, now()).retry_after, None);
    }

    #[test]
    fn errors_read_as_one_line() {
        let err = FetchError::Status {
            status: 429,
            retry_after: Some(Duration::from_secs(120)),
        };
        assert_eq!(
            err.to_string(),
            "HTTP 429 Too Many Requests (retry after 120s)"
        );
        assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
        let err = FetchError::Status {
            status: 404,
            retry_after: None,
        };
        assert_eq!(err.to_string(), "HTTP 404 Not Found");
        assert_eq!(
            FetchError::Timeout(Duration::from_millis(300)).to_string(),
            "timed out after 300ms"
        );
    }
}
