//! CSRF protection with Django's scheme: a 32-character secret in the `csrftoken` cookie; forms and
//! headers carry a 64-character *masked* token (mask ‖ cipher, fresh per render against BREACH),
//! unmasked and compared in constant time. Unsafe methods also pass an Origin check (or, on HTTPS
//! without Origin, a strict Referer check) first, as Django's `CsrfViewMiddleware` does.

use getrandom::SysRng;
use http::{HeaderMap, Method};
use rand_core::{Rng, UnwrapErr};

use crate::signing::constant_time_eq;

/// Django's `CSRF_ALLOWED_CHARS` (`string.ascii_letters + string.digits`).
const CHARS: &[u8; 62] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/// Length of a secret (`CSRF_SECRET_LENGTH`).
pub(crate) const SECRET_LEN: usize = 32;
/// Length of a masked token (`CSRF_TOKEN_LENGTH`).
const TOKEN_LEN: usize = 64;

/// Why a request failed the CSRF check (Django's `REASON_*` messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CsrfFailure {
    /// The `Origin` header names another site (or is `null`).
    BadOrigin(String),
    /// HTTPS request with neither `Origin` nor `Referer`.
    NoReferer,
    /// HTTPS request whose `Referer` is not HTTPS or not this site.
    BadReferer,
    /// No CSRF cookie.
    NoCookie,
    /// No token in the form field or the header.
    NoToken,
    /// The token does not match the cookie's secret.
    BadToken,
}

impl std::fmt::Display for CsrfFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BadOrigin(o) => write!(f, "Origin checking failed - {o} does not match any trusted origins."),
            Self::NoReferer => f.write_str("Referer checking failed - no Referer."),
            Self::BadReferer => f.write_str("Referer checking failed - Referer is insecure or does not match any trusted origins."),
            Self::NoCookie => f.write_str("CSRF cookie not set."),
            Self::NoToken => f.write_str("CSRF token missing."),
            Self::BadToken => f.write_str("CSRF token incorrect."),
        }
    }
}

/// RFC 9110 safe methods, which are never checked.
pub(crate) fn is_safe_method(m: &Method) -> bool {
    matches!(
        *m,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

fn random_chars(n: usize) -> String {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        let mut buf = [0u8; 64];
        UnwrapErr(SysRng).fill_bytes(&mut buf);
        // Rejection sampling: 62 * 4 = 248, so bytes ≥ 248 are dropped (no modulo bias).
        for b in buf {
            if b < 248 && out.len() < n {
                out.push(CHARS[usize::from(b % 62)] as char);
            }
        }
    }
    out
}

/// A new secret (`_get_new_csrf_string`).
pub(crate) fn new_secret() -> String {
    random_chars(SECRET_LEN)
}

fn idx(c: u8) -> Option<usize> {
    CHARS.iter().position(|&x| x == c)
}

/// Masks `secret` with a fresh random mask (`_mask_cipher_secret`).
pub(crate) fn mask(secret: &str) -> String {
    let m = random_chars(SECRET_LEN);
    let mut cipher = String::with_capacity(SECRET_LEN);
    for (s, k) in secret.bytes().zip(m.bytes()) {
        let (Some(x), Some(y)) = (idx(s), idx(k)) else {
            return String::new();
        };
        cipher.push(CHARS[(x + y) % CHARS.len()] as char);
    }
    format!("{m}{cipher}")
}

/// Unmasks a 64-character token (`_unmask_cipher_token`).
fn unmask(token: &str) -> Option<String> {
    let (m, cipher) = token.split_at(SECRET_LEN);
    let mut out = String::with_capacity(SECRET_LEN);
    for (c, k) in cipher.bytes().zip(m.bytes()) {
        let (x, y) = (idx(c)?, idx(k)?);
        out.push(CHARS[(x + CHARS.len() - y) % CHARS.len()] as char);
    }
    Some(out)
}

fn well_formed(token: &str) -> bool {
    (token.len() == SECRET_LEN || token.len() == TOKEN_LEN)
        && token.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The secret a cookie value holds (a 64-char masked cookie from older Django is unmasked), or
/// `None` when malformed.
pub(crate) fn secret_from_cookie(value: &str) -> Option<String> {
    if !well_formed(value) {
        return None;
    }
    if value.len() == TOKEN_LEN {
        unmask(value)
    } else {
        Some(value.to_owned())
    }
}

/// Whether the request token (32 or 64 characters) matches `secret` (`_does_token_match`).
pub(crate) fn token_matches(token: &str, secret: &str) -> bool {
    if !well_formed(token) {
        return false;
    }
    let candidate = if token.len() == TOKEN_LEN {
        match unmask(token) {
            Some(s) => s,
            None => return false,
        }
    } else {
        token.to_owned()
    };
    constant_time_eq(&candidate, secret)
}

/// The Origin/Referer part of the check. `host` is the request's host (with port), `secure` whether
/// the request came over HTTPS, `trusted` the configured trusted origins (`https://example.com`).
pub(crate) fn check_origin(
    headers: &HeaderMap,
    host: &str,
    secure: bool,
    trusted: &[String],
) -> Result<(), CsrfFailure> {
    let scheme = if secure { "https" } else { "http" };
    if let Some(origin) = headers.get(http::header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("null");
        let good = format!("{scheme}://{host}");
        if origin == good || trusted.iter().any(|t| t == origin) {
            return Ok(());
        }
        return Err(CsrfFailure::BadOrigin(origin.to_owned()));
    }
    if secure {
        let referer = headers
            .get(http::header::REFERER)
            .and_then(|r| r.to_str().ok())
            .ok_or(CsrfFailure::NoReferer)?;
        let rest = referer
            .strip_prefix("https://")
            .ok_or(CsrfFailure::BadReferer)?;
        let netloc = rest.split(['/', '?', '#']).next().unwrap_or("");
        let ok = netloc == host
            || trusted
                .iter()
                .any(|t| t.strip_prefix("https://").is_some_and(|h| h == netloc));
        if !ok {
            return Err(CsrfFailure::BadReferer);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_round_trips() {
        let s = new_secret();
        let t1 = mask(&s);
        let t2 = mask(&s);
        assert_eq!(t1.len(), 64);
        assert_ne!(t1, t2);
        assert!(token_matches(&t1, &s));
        assert!(token_matches(&s, &s));
        assert!(!token_matches(&t1, &new_secret()));
        assert!(!token_matches("short", &s));
        assert!(!token_matches(&format!("{}!", &t1[..63]), &s));
        assert_eq!(secret_from_cookie(&t1).as_deref(), Some(s.as_str()));
    }

    #[test]
    fn django_masked_token_is_accepted() {
        // From Django 6.1: _mask_cipher_secret("a"*32) with mask "b"*32 == "b"*32 + "b"*32? no:
        // (0 + 1) % 62 = 1 → "b"; so the token "b"*64 unmasks to "a"*32.
        let secret = "a".repeat(32);
        assert!(token_matches(&"b".repeat(64), &secret));
    }
}
