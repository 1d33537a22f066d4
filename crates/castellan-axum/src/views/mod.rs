//! Django's auth views: [`login`], [`logout`], [`password_change`] and [`password_reset`].

pub mod login;
pub mod logout;
pub mod password_change;
pub mod password_reset;

use http::HeaderMap;

use crate::next::url_has_allowed_host_and_scheme;
use crate::session::AuthSession;

/// `RedirectURLMixin.get_redirect_url`: the first candidate that is a safe `next` for this request
/// (its own host plus the configured allowed hosts; https only on https), else `None`. A candidate
/// with a control character (CR/LF, tab, DEL…) is never safe: it could not be a `Location` header,
/// and Django would answer 500 for it; here it falls back to the default redirect.
pub(crate) fn safe_next(
    auth: &AuthSession,
    headers: &HeaderMap,
    candidates: &[Option<&str>],
) -> Option<String> {
    let config = &auth.shared.config;
    let host = headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let mut allowed: Vec<&str> = Vec::new();
    // No Host (HTTP/1.0): no host is same-origin, only relative URLs are safe.
    if !host.is_empty() {
        allowed.push(host);
    }
    allowed.extend(config.redirect_allowed_hosts.iter().map(String::as_str));
    let url = candidates.iter().flatten().find(|u| !u.is_empty())?;
    let safe = !url.chars().any(char::is_control)
        && url_has_allowed_host_and_scheme(url, &allowed, config.https);
    safe.then(|| (*url).to_owned())
}
