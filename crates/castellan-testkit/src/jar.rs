//! The client's cookie jar.

use std::collections::BTreeMap;

use axum::response::Response;
use cookie::time::{Duration, OffsetDateTime};
use cookie::Cookie;
use http::header;

/// A browser's cookie jar, filled from `Set-Cookie` and sent back as one `Cookie` header.
///
/// Cookies are parsed with the `cookie` crate and kept by name. A cookie set with `Max-Age=0` (or a
/// negative age), or without `Max-Age` but with an `Expires` in the past, deletes the cookie of that
/// name, which is how Django (and Castellan) clear a cookie. Paths and domains are not tracked: every
/// cookie is sent on every request, as the in-process apps under test live on one host.
#[derive(Debug, Default, Clone)]
pub struct Jar {
    cookies: BTreeMap<String, Cookie<'static>>,
}

impl Jar {
    /// The value of cookie `name`, as the server set it (quotes included).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(Cookie::value)
    }

    /// The whole cookie `name`, with the attributes it was set with.
    pub fn cookie(&self, name: &str) -> Option<&Cookie<'static>> {
        self.cookies.get(name)
    }

    /// Whether the jar holds cookie `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.cookies.contains_key(name)
    }

    /// Whether the jar is empty (then no `Cookie` header is sent).
    pub fn is_empty(&self) -> bool {
        self.cookies.is_empty()
    }

    /// Sets cookie `name` by hand (a planted or replayed cookie, say).
    pub fn insert(&mut self, name: &str, value: &str) {
        self.cookies.insert(
            name.to_owned(),
            Cookie::new(name.to_owned(), value.to_owned()),
        );
    }

    /// Removes cookie `name`; returns its value if it was there.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.cookies.remove(name).map(|c| c.value().to_owned())
    }

    /// The `Cookie` request header: `name=value` pairs joined by `"; "`, in name order.
    pub fn header(&self) -> String {
        self.cookies
            .values()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Applies every `Set-Cookie` header of `response`.
    ///
    /// # Panics
    ///
    /// When a `Set-Cookie` header is not a valid cookie (a bug in the app under test).
    pub fn update(&mut self, response: &Response) {
        for value in response.headers().get_all(header::SET_COOKIE) {
            let value = value
                .to_str()
                .unwrap_or_else(|e| panic!("Set-Cookie is not visible ASCII ({e}): {value:?}"));
            self.store(value);
        }
    }

    /// Applies one `Set-Cookie` header value: keeps the cookie, or deletes it when it is expired.
    ///
    /// # Panics
    ///
    /// When `set_cookie` is not a valid cookie.
    pub fn store(&mut self, set_cookie: &str) {
        let cookie = Cookie::parse(set_cookie.to_owned())
            .unwrap_or_else(|e| panic!("invalid Set-Cookie ({e}): {set_cookie:?}"));
        if is_expired(&cookie) {
            self.cookies.remove(cookie.name());
        } else {
            self.cookies.insert(cookie.name().to_owned(), cookie);
        }
    }
}

/// RFC 6265 §5.3: `Max-Age` wins over `Expires`; a non-positive age or a past date deletes.
fn is_expired(cookie: &Cookie<'_>) -> bool {
    match (cookie.max_age(), cookie.expires_datetime()) {
        (Some(age), _) => age <= Duration::ZERO,
        (None, Some(at)) => at <= OffsetDateTime::now_utc(),
        (None, None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_updates_and_deletes_cookies() {
        let mut jar = Jar::default();
        jar.store("sessionid=abc; expires=Wed, 01 Jan 2200 00:00:00 GMT; Max-Age=1209600; Path=/; HttpOnly; SameSite=Lax");
        jar.store("csrftoken=t0k; Max-Age=31449600; Path=/; SameSite=Lax");
        assert_eq!(jar.get("sessionid"), Some("abc"));
        assert_eq!(jar.header(), "csrftoken=t0k; sessionid=abc");
        assert!(jar
            .cookie("sessionid")
            .is_some_and(|c| c.http_only() == Some(true)));

        jar.store("sessionid=def; Path=/");
        assert_eq!(jar.get("sessionid"), Some("def"));

        // Django's delete_cookie: an empty quoted value, a date in 1970 and Max-Age=0.
        jar.store("sessionid=\"\"; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/");
        assert_eq!(jar.get("sessionid"), None);
        assert_eq!(jar.header(), "csrftoken=t0k");
    }

    #[test]
    fn an_expiry_date_in_the_past_deletes_and_max_age_wins() {
        let mut jar = Jar::default();
        jar.insert("a", "1");
        jar.insert("b", "2");
        jar.store("a=x; expires=Thu, 01 Jan 1970 00:00:00 GMT");
        assert!(!jar.contains("a"));
        jar.store("b=y; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=60");
        assert_eq!(jar.get("b"), Some("y"));
        jar.store("b=z; Max-Age=-1");
        assert!(jar.is_empty());
        assert_eq!(jar.remove("b"), None);
    }
}
