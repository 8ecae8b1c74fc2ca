//! Which addresses a fetch may reach. Feeds added from Discord, and the article pages they
//! link to, are fetched through a client that refuses internal addresses when it connects:
//! the check runs on every DNS answer and every redirect hop, so neither a redirect nor a DNS
//! record that changes after `/feeds add` looked at it can reach the machine's own network
//! (admin panels, cloud metadata services).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReachError {
    #[error("{host} is {ip}, an internal address this feed may not reach")]
    Internal { host: String, ip: IpAddr },
    #[error("{0} is not an http or https address")]
    Scheme(String),
    #[error("too many redirects (limit {0})")]
    TooManyRedirects(usize),
    #[error("cannot resolve {host}: {message}")]
    Resolve { host: String, message: String },
}

/// True for addresses an untrusted URL may not reach: loopback, private (RFC 1918),
/// shared (CGNAT), link-local, unspecified, broadcast, multicast, reserved, unique-local IPv6,
/// and IPv6 forms that embed such an IPv4 address (IPv4-mapped, NAT64).
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => is_internal_v6(v6),
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || a >= 240 // reserved
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_internal_v4(v4);
    }
    let segments = ip.segments();
    // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [.., hi, lo] = segments;
        let v4 = Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
        return is_internal_v4(v4);
    }
    let first = segments[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (first & 0xffc0) == 0xfec0 // deprecated site-local fec0::/10
}

/// Refuses a URL an untrusted fetch may not start from or be redirected to: another scheme
/// than http(s), or a host written as an internal IP address (names are checked when resolved,
/// by [`PublicResolver`]).
pub fn check_public_url(url: &Url) -> Result<(), ReachError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ReachError::Scheme(url.to_string()));
    }
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        _ => return Ok(()),
    };
    if is_internal(ip) {
        return Err(ReachError::Internal {
            host: url.host_str().unwrap_or_default().to_string(),
            ip,
        });
    }
    Ok(())
}

/// Redirects: at most `max` hops, and when `public_only`, each hop must pass [`check_public_url`].
pub fn redirect_policy(max: usize, public_only: bool) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > max {
            return attempt.error(ReachError::TooManyRedirects(max));
        }
        if public_only && let Err(e) = check_public_url(attempt.url()) {
            return attempt.error(e);
        }
        attempt.follow()
    })
}

/// DNS for untrusted fetches: a name that resolves to any internal address is refused whole
/// (a name with one public and one internal address could otherwise be steered to the latter).
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicResolver;

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Addrs = Box::new(resolve_public(&host, 0).await?.into_iter());
            Ok(addrs)
        })
    }
}

/// The addresses `host` resolves to, refused whole if any of them is internal.
pub async fn resolve_public(host: &str, port: u16) -> Result<Vec<SocketAddr>, ReachError> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| ReachError::Resolve {
            host: host.to_string(),
            message: e.to_string(),
        })?
        .collect();
    if let Some(bad) = addrs.iter().find(|a| is_internal(a.ip())) {
        return Err(ReachError::Internal {
            host: host.to_string(),
            ip: bad.ip(),
        });
    }
    if addrs.is_empty() {
        return Err(ReachError::Resolve {
            host: host.to_string(),
            message: "no addresses".into(),
        });
    }
    Ok(addrs)
}

/// The [`ReachError`] behind a failed request, if that is why it failed.
pub fn reach_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a ReachError> {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if let Some(found) = e.downcast_ref::<ReachError>() {
            return Some(found);
        }
        cause = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn internal_addresses_are_refused() {
        for s in [
            "10.0.0.1",
            "10.255.255.255",
            "172.16.0.1",
            "172.31.255.254",
            "192.168.1.1",
            "127.0.0.1",
            "127.8.9.10",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "64:ff9b::7f00:1",
        ] {
            assert!(is_internal(ip(s)), "{s} must be refused");
        }
    }

    #[test]
    fn public_addresses_are_accepted() {
        for s in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "172.15.255.255",
            "192.169.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(!is_internal(ip(s)), "{s} must be accepted");
        }
    }

    #[test]
    fn untrusted_urls_need_http_and_a_public_literal_address() {
        let url = |s: &str| Url::parse(s).expect("test URL");
        assert!(matches!(
            check_public_url(&url("file:///etc/passwd")),
            Err(ReachError::Scheme(_))
        ));
        assert!(matches!(
            check_public_url(&url("http://169.254.169.254/latest/meta-data")),
            Err(ReachError::Internal { .. })
        ));
        assert!(matches!(
            check_public_url(&url("http://[::1]:8080/")),
            Err(ReachError::Internal { .. })
        ));
        assert_eq!(check_public_url(&url("https://93.184.216.34/feed")), Ok(()));
        // Names are left to the resolver.
        assert_eq!(check_public_url(&url("http://localhost/feed")), Ok(()));
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_of_internal_addresses() {
        let name: Name = "localhost".parse().expect("a DNS name");
        let refused = PublicResolver.resolve(name).await.err().expect("refused");
        assert!(
            matches!(
                reach_error(refused.as_ref()),
                Some(ReachError::Internal { .. })
            ),
            "{refused}"
        );
    }
}
