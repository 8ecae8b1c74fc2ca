//! URL safety for feeds added from Discord: anyone with Manage Server could otherwise make the
//! bot fetch addresses on the machine's own network (admin panels, cloud metadata services).

use std::net::IpAddr;

use url::Url;

use crate::fetch::reach::{ReachError, check_public_url, resolve_public};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    #[error("only http and https feed addresses can be added")]
    Scheme,
    #[error("the address has no host name")]
    NoHost,
    #[error("cannot resolve {host}: {message}")]
    Resolve { host: String, message: String },
    #[error(
        "{host} resolves to {ip}, a loopback, private, link-local or otherwise internal address; \
         such feeds can only be added when the config sets discord.allow_private_feed_urls"
    )]
    Internal { host: String, ip: IpAddr },
}

/// Checks a feed URL given by a Discord user: http(s) only, and unless `allow_internal`, every
/// address its host resolves to must be public.
pub async fn check_url(url: &Url, allow_internal: bool) -> Result<(), GuardError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(GuardError::Scheme);
    }
    let host = url.host_str().ok_or(GuardError::NoHost)?;
    if allow_internal {
        return Ok(());
    }
    // The same rules the fetch applies at connect time, checked up front for a clear answer.
    let checked = match check_public_url(url) {
        Ok(())
            if url
                .host()
                .is_some_and(|h| matches!(h, url::Host::Domain(_))) =>
        {
            let port = url.port_or_known_default().unwrap_or(80);
            resolve_public(host, port).await.map(|_| ())
        }
        other => other,
    };
    checked.map_err(|e| match e {
        ReachError::Internal { host, ip } => GuardError::Internal { host, ip },
        ReachError::Resolve { host, message } => GuardError::Resolve { host, message },
        ReachError::Scheme(_) => GuardError::Scheme,
        // Not raised by the checks above (only while following redirects).
        other @ ReachError::TooManyRedirects(_) => GuardError::Resolve {
            host: host.to_string(),
            message: other.to_string(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn urls_are_checked_by_scheme_and_address() {
        let url = |s: &str| Url::parse(s).expect("test URL");
        assert_eq!(
            check_url(&url("file:///etc/passwd"), true).await,
            Err(GuardError::Scheme)
        );
        assert!(matches!(
            check_url(&url("http://127.0.0.1:8080/feed"), false).await,
            Err(GuardError::Internal { .. })
        ));
        assert!(matches!(
            check_url(&url("http://[::ffff:7f00:1]/feed"), false).await,
            Err(GuardError::Internal { .. })
        ));
        assert!(matches!(
            check_url(&url("http://localhost:9/feed"), false).await,
            Err(GuardError::Internal { .. })
        ));
        assert_eq!(
            check_url(&url("http://127.0.0.1:8080/feed"), true).await,
            Ok(())
        );
        assert_eq!(
            check_url(&url("https://93.184.216.34/"), false).await,
            Ok(())
        );
    }
}
