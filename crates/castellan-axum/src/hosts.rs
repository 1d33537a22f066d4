//! Allowed hosts (Django's `ALLOWED_HOSTS`): which `Host` headers the application answers, and
//! the default list for a server bound to an address.

use http::header;

/// Splits a `Host` value into its lower-cased domain (without a trailing dot) and port (`""` when
/// none), or `None` when it is not a valid host (Django's `split_domain_port` plus its host regex).
fn split_host(host: &str) -> Option<(String, String)> {
    let host = host.to_ascii_lowercase();
    let (name, port) = if host.starts_with('[') {
        let i = host.find(']')?;
        (&host[..=i], &host[i + 1..])
    } else {
        match host.rsplit_once(':') {
            Some((n, _)) => (n, &host[n.len()..]),
            None => (host.as_str(), ""),
        }
    };
    let name_ok = if name.starts_with('[') {
        name.len() > 2
            && name[1..name.len() - 1]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    } else {
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    };
    let port = match port.strip_prefix(':') {
        None if port.is_empty() => "",
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p,
        _ => return None,
    };
    name_ok.then(|| {
        (
            name.strip_suffix('.').unwrap_or(name).to_owned(),
            port.to_owned(),
        )
    })
}

/// Django's `validate_host`, with one addition: a pattern with a port (`localhost:8000`) matches
/// only that port (a `Host` without a port counts as ports 80 and 443). Patterns: `example.com` exact, `.example.com` the domain and its subdomains, `*`
/// anything; case-insensitive.
pub(crate) fn host_allowed(host: &str, patterns: &[String]) -> bool {
    let Some((domain, port)) = split_host(host) else {
        return false;
    };
    patterns.iter().any(|p| {
        if p == "*" {
            return true;
        }
        let (pattern, pattern_port) = match p.strip_prefix('.') {
            Some(rest) => match split_host(rest) {
                Some((d, pp)) => (format!(".{d}"), pp),
                None => return false,
            },
            None => match split_host(p) {
                Some(x) => x,
                None => return false,
            },
        };
        // A Host without a port means the scheme's default port (80 or 443).
        let default_port = port.is_empty() && matches!(pattern_port.as_str(), "80" | "443");
        if !pattern_port.is_empty() && pattern_port != port && !default_port {
            return false;
        }
        match pattern.strip_prefix('.') {
            Some(base) => domain == base || domain.ends_with(&pattern),
            None => domain == pattern,
        }
    })
}

/// The allowed hosts for a server bound to `bind` (`host:port`), as `castellan serve` and
/// Bookshelf use by default: the bound host with and without the port (unless it is a wildcard
/// address such as `0.0.0.0` or `[::]`), and `localhost`, `127.0.0.1` and `[::1]` with the port.
/// Add the public name the server is reached by with
/// [`AuthConfig::with_allowed_hosts`](crate::AuthConfig::with_allowed_hosts).
pub fn default_allowed_hosts(bind: &str) -> Vec<String> {
    let (host, port) = match bind.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty() => (h, Some(p)),
        _ => (bind, None),
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let with_port = |h: &str| match port {
        Some(p) => format!("{h}:{p}"),
        None => h.to_owned(),
    };
    let mut hosts = Vec::new();
    let wildcard = matches!(host.as_str(), "" | "0.0.0.0" | "[::]" | "::");
    if !wildcard {
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host
        };
        hosts.push(host.clone());
        if port.is_some() {
            hosts.push(with_port(&host));
        }
    }
    for local in ["localhost", "127.0.0.1", "[::1]"] {
        let h = with_port(local);
        if !hosts.contains(&h) {
            hosts.push(h);
        }
    }
    hosts
}

/// The request's `Host` header (else the URI authority, as in HTTP/2), `None` when it has neither.
pub(crate) fn request_host(parts: &http::request::Parts) -> Option<String> {
    match parts.headers.get(header::HOST) {
        Some(h) => Some(String::from_utf8_lossy(h.as_bytes()).into_owned()),
        None => parts.uri.authority().map(|a| a.as_str().to_owned()),
    }
}

/// The request's host (`Host` header, else the URI authority).
pub(crate) fn host(parts: &http::request::Parts) -> String {
    parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts.uri.authority().map(|a| a.as_str().to_owned()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(host: &str, patterns: &[&str]) -> bool {
        let patterns: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
        host_allowed(host, &patterns)
    }

    #[test]
    fn django_patterns() {
        let p = ["testserver", ".example.com"];
        assert!(allowed("testserver", &p));
        assert!(allowed("TESTSERVER:8000", &p));
        assert!(allowed("example.com", &p));
        assert!(allowed("www.example.com.", &p));
        assert!(!allowed("example.com.evil.com", &p));
        assert!(!allowed("evilexample.com", &p));
        assert!(!allowed("testserver@evil.com", &p));
        assert!(!allowed("testserver:80x", &p));
        assert!(!allowed("testserver:", &p));
        assert!(!allowed("", &p));
        assert!(allowed("anything.org", &["*"]));
    }

    #[test]
    fn patterns_with_ports_match_only_that_port() {
        let p = ["localhost:8000", "[::1]:8000", ".example.com:443"];
        assert!(allowed("localhost:8000", &p));
        assert!(!allowed("localhost:8001", &p));
        assert!(!allowed("localhost", &p));
        assert!(allowed("[::1]:8000", &p));
        assert!(!allowed("[::1]", &p));
        assert!(allowed("a.example.com:443", &p));
        assert!(allowed("a.example.com", &p), "the default port");
        assert!(!allowed("a.example.com:8443", &p));
    }

    #[test]
    fn defaults_for_a_bind_address() {
        assert_eq!(
            default_allowed_hosts("127.0.0.1:8000"),
            [
                "127.0.0.1",
                "127.0.0.1:8000",
                "localhost:8000",
                "[::1]:8000"
            ]
        );
        assert_eq!(
            default_allowed_hosts("0.0.0.0:80"),
            ["localhost:80", "127.0.0.1:80", "[::1]:80"]
        );
        assert_eq!(
            default_allowed_hosts("[::1]:9000"),
            ["[::1]", "[::1]:9000", "localhost:9000", "127.0.0.1:9000"]
        );
        assert_eq!(
            default_allowed_hosts("Books.Example.com:8443"),
            [
                "books.example.com",
                "books.example.com:8443",
                "localhost:8443",
                "127.0.0.1:8443",
                "[::1]:8443"
            ]
        );
    }
}
