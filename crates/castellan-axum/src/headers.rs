//! Response headers the layer sets: Django's security headers, `Cache-Control`/`Vary` for
//! logged-in pages, and the session and CSRF cookies.

use axum::response::Response;
use http::{header, HeaderMap, HeaderValue};

use crate::config::AuthConfig;

/// Django's SecurityMiddleware and XFrameOptionsMiddleware headers (a header the application set
/// is kept), HSTS in HTTPS mode, and for logged-in users `Cache-Control: private` and
/// `Vary: Cookie`.
pub(crate) fn security_headers(config: &AuthConfig, response: &mut Response, logged_in: bool) {
    let headers = response.headers_mut();
    let fixed = [
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            http::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in fixed {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if config.https
        && config.hsts_seconds > 0
        && !headers.contains_key(header::STRICT_TRANSPORT_SECURITY)
    {
        let mut value = format!("max-age={}", config.hsts_seconds);
        if config.hsts_include_subdomains {
            value.push_str("; includeSubDomains");
        }
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(header::STRICT_TRANSPORT_SECURITY, v);
        }
    }
    if logged_in {
        if !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
        }
        vary_on_cookie(headers);
    }
}

/// Appends `Cookie` to `Vary` unless it is already listed (or `Vary: *`).
pub(crate) fn vary_on_cookie(headers: &mut HeaderMap) {
    let listed = headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| {
            let v = v.trim();
            v == "*" || v.eq_ignore_ascii_case("cookie")
        });
    if !listed {
        headers.append(header::VARY, HeaderValue::from_static("Cookie"));
    }
}

/// The first cookie called `name` (a duplicate later in the header is ignored).
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim_matches('"').to_owned())
}

/// Appends a `Set-Cookie` header (a value that is not a valid header is dropped).
pub(crate) fn set_cookie(response: &mut Response, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

pub(crate) fn cookie_attrs(config: &AuthConfig, max_age: u64, http_only: bool) -> String {
    let expires = chrono::Utc::now()
        + chrono::Duration::seconds(
            i64::try_from(max_age)
                .unwrap_or(i64::MAX / 2)
                .min(400 * 86400),
        );
    let mut s = format!(
        "; expires={}; Max-Age={max_age}; Path=/; SameSite={}",
        expires.format("%a, %d %b %Y %H:%M:%S GMT"),
        config.same_site
    );
    if http_only {
        s.push_str("; HttpOnly");
    }
    if config.secure_cookies() {
        s.push_str("; Secure");
    }
    s
}
