//! URL safety for feeds added from Discord: anyone with Manage Server could otherwise make the
//! bot fetch addresses on the machine's own network (admin panels, cloud metadata services).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::Url;

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

/// True for addresses a feed added from Discord may not point at: loopback, private (RFC 1918),
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
