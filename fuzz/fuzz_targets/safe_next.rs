//! The safe-`next` check (`castellan_axum::url_has_allowed_host_and_scheme`) never panics, and
//! whatever it approves stays on this site when a browser resolves it: joined (WHATWG, the `url`
//! crate) onto the login page's URL, it keeps host `testserver` and an http(s) scheme (https only
//! when required). The login-URL builders never panic and carry `next` through their query.
#![no_main]

use std::sync::OnceLock;

#[path = "fields.rs"]
mod fields;

use castellan_axum::{login_redirect_url, next_for_request, url_has_allowed_host_and_scheme};
use libfuzzer_sys::fuzz_target;
use url::Url;

/// `next 0xFF login-url 0xFF field-name` (see `fields.rs`).
struct Input {
    next: String,
    login_url: String,
    field: String,
}

impl Input {
    fn new(data: &[u8]) -> Self {
        let f = fields::fields(data);
        Self {
            next: fields::text(&f, 0),
            login_url: fields::text(&f, 1),
            field: fields::text(&f, 2),
        }
    }
}

fn base(https: bool) -> &'static Url {
    static HTTP: OnceLock<Url> = OnceLock::new();
    static HTTPS: OnceLock<Url> = OnceLock::new();
    let (cell, text) = if https {
        (&HTTPS, "https://testserver/accounts/login/")
    } else {
        (&HTTP, "http://testserver/accounts/login/")
    };
    cell.get_or_init(|| match Url::parse(text) {
        Ok(u) => u,
        Err(e) => panic!("{text}: {e}"),
    })
}

fuzz_target!(|data: &[u8]| {
    let input = Input::new(data);
    for require_https in [false, true] {
        if url_has_allowed_host_and_scheme(&input.next, &["testserver"], require_https) {
            if let Ok(resolved) = base(require_https).join(&input.next) {
                assert_eq!(
                    resolved.host_str(),
                    Some("testserver"),
                    "{:?} was approved but resolves to {resolved}",
                    input.next
                );
                let schemes: &[&str] = if require_https {
                    &["https"]
                } else {
                    &["http", "https"]
                };
                assert!(
                    schemes.contains(&resolved.scheme()),
                    "{:?} was approved but resolves to {resolved}",
                    input.next
                );
                assert!(resolved.username().is_empty() && resolved.password().is_none());
            }
        }
    }
    // No allowed host: only relative references may pass, and they stay on the base's host.
    if url_has_allowed_host_and_scheme(&input.next, &[], false) {
        if let Ok(resolved) = base(false).join(&input.next) {
            assert_eq!(resolved.host_str(), Some("testserver"), "{:?}", &input.next);
        }
    }

    let built = login_redirect_url(&input.next, &input.login_url, Some(&input.field));
    if !input.field.is_empty() && !input.login_url.contains(['#', '?', '&', '=', '+', '%']) {
        let query = built.split_once('?').map_or("", |(_, q)| q);
        let values: Vec<String> = form_urlencoded::parse(query.as_bytes())
            .filter(|(k, _)| *k == input.field)
            .map(|(_, v)| v.into_owned())
            .collect();
        // `/` is left unescaped and `+` is escaped, so the value decodes back exactly.
        assert_eq!(values, std::slice::from_ref(&input.next), "built {built:?}");
    }
    let _ = login_redirect_url(&input.next, &input.login_url, None);
    let _ = next_for_request(&input.login_url, "http", "testserver", &input.next);
});
