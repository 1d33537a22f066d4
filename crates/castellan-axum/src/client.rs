//! The client's address, for throttling: the socket peer, or the right-most address in
//! `X-Forwarded-For` that is not a trusted proxy when the peer is one.

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;

/// The address a request comes from. `peer` is the socket address (axum's `ConnectInfo`);
/// `X-Forwarded-For` is read only when `peer` is one of `trusted_proxies`, walking it from the
/// right (the entries the trusted proxies appended) past every trusted proxy; the first other
/// address is the client. Entries left of it were written by the client and are ignored, so a
/// client cannot choose its own throttling bucket. `None` when the peer is unknown (no
/// `ConnectInfo`; all such requests then share one bucket).
pub(crate) fn client_ip(
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    trusted_proxies: &[IpAddr],
) -> Option<IpAddr> {
    let peer = canonical(peer?.ip());
    if !trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let mut last_trusted = peer;
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for entry in entries.iter().rev() {
        // An unreadable entry: the proxy that appended it vouches for nothing usable.
        let Some(ip) = parse_entry(entry) else {
            return Some(last_trusted);
        };
        if !trusted_proxies.contains(&ip) {
            return Some(ip);
        }
        last_trusted = ip;
    }
    Some(last_trusted)
}

/// An `X-Forwarded-For` entry: an IP address, optionally with a port (`1.2.3.4:5`, `[::1]:5`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(canonical)
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) are the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peer_is_the_client_whatever_the_header_says() {
        let peer = Some("203.0.113.5:999".parse().unwrap());
        let h = headers(&["198.51.100.1"]);
        assert_eq!(client_ip(peer, &h, &[]), Some(ip("203.0.113.5")));
        assert_eq!(
            client_ip(peer, &h, &[ip("10.0.0.1")]),
            Some(ip("203.0.113.5"))
        );
        assert_eq!(client_ip(None, &h, &[]), None);
    }

    #[test]
    fn trusted_proxies_are_skipped_from_the_right() {
        let trusted = [ip("10.0.0.1"), ip("10.0.0.2")];
        let peer = Some("10.0.0.1:40000".parse().unwrap());
        // The client spoofs a left-most entry; the proxies appended the real address.
        let h = headers(&["1.1.1.1, 203.0.113.7", "10.0.0.2"]);
        assert_eq!(client_ip(peer, &h, &trusted), Some(ip("203.0.113.7")));
        let h = headers(&["203.0.113.8:1234"]);
        assert_eq!(client_ip(peer, &h, &trusted), Some(ip("203.0.113.8")));
        // Nothing but proxies, no header, or garbage: the last trusted hop.
        assert_eq!(
            client_ip(peer, &headers(&["10.0.0.2"]), &trusted),
            Some(ip("10.0.0.2"))
        );
        assert_eq!(
            client_ip(peer, &headers(&[]), &trusted),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(
            client_ip(peer, &headers(&["1.1.1.1, nonsense"]), &trusted),
            Some(ip("10.0.0.1"))
        );
        // IPv4-mapped peers are their IPv4 address.
        let mapped = Some("[::ffff:10.0.0.1]:5".parse().unwrap());
        assert_eq!(
            client_ip(mapped, &headers(&["203.0.113.9"]), &trusted),
            Some(ip("203.0.113.9"))
        );
    }
}
