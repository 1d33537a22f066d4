//! Safe redirects: Django's `url_has_allowed_host_and_scheme` (a hand-written port of its
//! `urlsplit`-based decision, not WHATWG parsing) and `redirect_to_login`'s URL building.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Django's `MAX_URL_LENGTH`.
const MAX_URL_LENGTH: usize = 2048;

/// Whether `url` is a safe redirect target: relative, or absolute with a host in `allowed_hosts`
/// (exact match, port and userinfo included) and an `http`/`https` scheme (`https` only when
/// `require_https`). Django's `django.utils.http.url_has_allowed_host_and_scheme`, with one
/// difference: a URL that starts with `///` once tabs and newlines are removed (`/\t//evil.com`) is
/// refused, since browsers remove them too and go to `evil.com`; Django checks `///` before removing.
pub fn url_has_allowed_host_and_scheme(
    url: &str,
    allowed_hosts: &[&str],
    require_https: bool,
) -> bool {
    let url = url.trim_matches(is_py_whitespace);
    if url.is_empty() {
        return false;
    }
    allowed(url, allowed_hosts, require_https)
        && allowed(&url.replace('\\', "/"), allowed_hosts, require_https)
}

/// Python's `str.strip()` whitespace.
fn is_py_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// The pieces of Python's `urlsplit` that the decision needs.
struct Split<'a> {
    scheme: String,
    netloc: &'a str,
}

/// Python's `urlsplit(url)` scheme and netloc; `None` where Python raises `ValueError`.
fn urlsplit(url: &str) -> Option<Split<'_>> {
    // urlsplit removes ASCII tab/newline anywhere and strips leading C0 control/space characters.
    // Python strips leading WHATWG "C0 control or space" characters.
    let url = url.trim_start_matches(|c: char| c <= ' ');
    let mut scheme = String::new();
    let mut rest = url;
    if let Some(i) = url.find(':') {
        let candidate = &url[..i];
        if !candidate.is_empty()
            && candidate.as_bytes()[0].is_ascii_alphabetic()
            && candidate
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
        {
            scheme = candidate.to_ascii_lowercase();
            rest = &url[i + 1..];
        }
    }
    let mut netloc = "";
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        netloc = &after[..end];
        let open = netloc.contains('[');
        let close = netloc.contains(']');
        if open != close {
            return None;
        }
        if open && !bracketed_netloc_ok(netloc) {
            return None;
        }
    }
    Some(Split { scheme, netloc })
}

/// Python's `_check_bracketed_netloc`: `[host]` must be an IPv6 address (or IPvFuture), with
/// nothing before the bracket and only a `:port` after it.
fn bracketed_netloc_ok(netloc: &str) -> bool {
    let host_port = netloc.rsplit_once('@').map_or(netloc, |(_, h)| h);
    let Some((before, bracketed)) = host_port.split_once('[') else {
        return true;
    };
    if !before.is_empty() {
        return false;
    }
    let (host, port) = bracketed.split_once(']').unwrap_or((bracketed, ""));
    if !port.is_empty() && !port.starts_with(':') {
        return false;
    }
    if let Some(future) = host.strip_prefix('v') {
        // IPvFuture: v<hex>+.<unreserved / sub-delims / ":">+
        return future.split_once('.').is_some_and(|(v, rest)| {
            !v.is_empty()
                && v.bytes().all(|b| b.is_ascii_hexdigit())
                && !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:".contains(&b))
        });
    }
    let addr = host.split_once('%').map_or(host, |(a, _)| a);
    addr.parse::<std::net::Ipv6Addr>().is_ok()
}

fn allowed(url: &str, allowed_hosts: &[&str], require_https: bool) -> bool {
    if url.starts_with("///") || url.chars().count() > MAX_URL_LENGTH {
        return false;
    }
    // Python's urlsplit removes tabs and newlines (WHATWG "unsafe bytes") before splitting.
    let cleaned: String = url
        .chars()
        .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
        .collect();
    // Django checks `///` before that removal only; browsers remove tabs and newlines too, so
    // `/\t//evil.com` is `///evil.com` to them: a redirect to http://evil.com/.
    if cleaned.starts_with("///") {
        return false;
    }
    let Some(split) = urlsplit(&cleaned) else {
        return false;
    };
    if !split.scheme.is_empty() && split.netloc.is_empty() {
        return false;
    }
    if url.chars().next().is_some_and(is_unicode_c) {
        return false;
    }
    let scheme = if split.scheme.is_empty() && !split.netloc.is_empty() {
        "http"
    } else {
        split.scheme.as_str()
    };
    let host_ok = split.netloc.is_empty() || allowed_hosts.contains(&split.netloc);
    let scheme_ok = scheme.is_empty()
        || if require_https {
            scheme == "https"
        } else {
            scheme == "http" || scheme == "https"
        };
    host_ok && scheme_ok
}

/// Unicode general category `C*` (control, format, unassigned, private use, surrogate) for the
/// characters a URL can start with: control and the common format characters.
fn is_unicode_c(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{AD}' | '\u{600}'..='\u{605}' | '\u{61C}' | '\u{6DD}' | '\u{70F}' | '\u{180E}'
            | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E000}'..='\u{F8FF}' | '\u{F0000}'..='\u{10FFFF}')
}

/// Characters Python's `quote(…, safe="/")` leaves alone: `A-Za-z0-9_.-~` and `/`.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~')
    .remove(b'/');

fn quote(s: &str) -> String {
    // QueryDict.urlencode(safe="/") uses `quote`: a space is %20, not '+'.
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}

/// The URL of Django's `redirect_to_login(next, login_url, redirect_field_name)`: the field is set
/// (replacing any value already in the login URL's query) and encoded with `/` left unescaped.
pub fn login_redirect_url(
    next: &str,
    login_url: &str,
    redirect_field_name: Option<&str>,
) -> String {
    let Some(field) = redirect_field_name.filter(|f| !f.is_empty()) else {
        return login_url.to_owned();
    };
    let (before_fragment, fragment) = match login_url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (login_url, None),
    };
    let (path, query) = match before_fragment.split_once('?') {
        Some((p, q)) => (p, q),
        None => (before_fragment, ""),
    };
    // QueryDict semantics: setting the field replaces its values in place (first position kept).
    let value = format!("{}={}", quote(field), quote(next));
    let mut pairs: Vec<String> = Vec::new();
    let mut placed = false;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let name = pair.split_once('=').map_or(pair, |(n, _)| n);
        let is_field = percent_encoding::percent_decode_str(&name.replace('+', " "))
            .decode_utf8_lossy()
            == field;
        if !is_field {
            pairs.push(pair.to_owned());
        } else if !placed {
            pairs.push(value.clone());
            placed = true;
        }
    }
    if !placed {
        pairs.push(value);
    }
    let mut out = format!("{path}?{}", pairs.join("&"));
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// The `next` value for a request to `path_and_query` on `scheme://host`: the path and query when
/// the login URL is on the same site (no scheme/host, or the same ones), else the absolute URI.
pub fn next_for_request(login_url: &str, scheme: &str, host: &str, path_and_query: &str) -> String {
    let split = urlsplit(login_url);
    let (login_scheme, login_netloc) = split
        .as_ref()
        .map_or(("", ""), |s| (s.scheme.as_str(), s.netloc));
    if (login_scheme.is_empty() || login_scheme == scheme)
        && (login_netloc.is_empty() || login_netloc == host)
    {
        path_and_query.to_owned()
    } else {
        format!("{scheme}://{host}{path_and_query}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slashes_joined_by_tabs_or_newlines_are_not_relative() {
        // Browsers drop tabs and newlines anywhere in a URL, so these are `///host`, which they
        // resolve to http://host/ (found by the safe_next fuzz target).
        for url in [
            "/\t//evil.com",
            "\\\r\\\r/evil.com",
            "/\n/\n/evil.com",
            "\\\t\\evil.com",
        ] {
            assert!(
                !url_has_allowed_host_and_scheme(url, &["testserver"], false),
                "{url:?}"
            );
        }
        assert!(url_has_allowed_host_and_scheme(
            "/a\tb/",
            &["testserver"],
            false
        ));
    }

    #[test]
    fn django_redirect_to_login_examples() {
        assert_eq!(
            login_redirect_url("/rand", "/accounts/login/", Some("next")),
            "/accounts/login/?next=/rand"
        );
        assert_eq!(
            login_redirect_url("/login_required/", "/login/?pretty=1", Some("next")),
            "/login/?pretty=1&next=/login_required/"
        );
        assert_eq!(
            login_redirect_url(
                "http://testserver/rand",
                "https://www.remote.example.com/login",
                Some("next")
            ),
            "https://www.remote.example.com/login?next=http%3A//testserver/rand"
        );
        assert_eq!(
            login_redirect_url("/else/where/झ/", "/login/", Some("next")),
            "/login/?next=/else/where/%E0%A4%9D/"
        );
        assert_eq!(
            login_redirect_url("/x", "/accounts/login/", None),
            "/accounts/login/"
        );
        assert_eq!(
            login_redirect_url("/x", "/login/?next=/old&a=1", Some("next")),
            "/login/?next=/x&a=1"
        );
        assert_eq!(
            next_for_request(
                "https://www.remote.example.com/login",
                "http",
                "testserver",
                "/rand"
            ),
            "http://testserver/rand"
        );
        assert_eq!(
            next_for_request("/login/", "http", "testserver", "/rand?a=1"),
            "/rand?a=1"
        );
    }
}
