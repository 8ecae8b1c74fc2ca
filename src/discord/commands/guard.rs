//! URL safety for feeds added from Discord: anyone with Manage Server could otherwise make the
//! bot fetch addresses on the machine's own network (admin panels, cloud metadata services).

use std::net::IpAddr;

use url::Url;

use crate::fetch::reach::is_internal;

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
    let port = url.port_or_known_default().unwrap_or(80);
    let addrs: Vec<IpAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
        Some(url::Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
        _ => tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| GuardError::Resolve {
                host: host.to_string(),
                message: e.to_string(),
            })?
            .map(|a| a.ip())
            .collect(),
    };
    if addrs.is_empty() {
        return Err(GuardError::Resolve {
            host: host.to_string(),
            message: "no addresses".into(),
        });
    }
    match addrs.into_iter().find(|ip| is_internal(*ip)) {
        Some(ip) => Err(GuardError::Internal {
            host: host.to_string(),
            ip,
        }),
        None => Ok(()),
    }
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
