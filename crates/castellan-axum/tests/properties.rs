//! Property tests against simple models: a `next` URL approved as safe stays on this site when a
//! browser resolves it (WHATWG rules, the `url` crate); Django session data round trips through
//! signing and any one-character change is rejected; CSRF masking round trips and a token is accepted
//! exactly when it unmasks to the secret.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use castellan_axum::__fuzz::{
    csrf_mask, csrf_new_secret, csrf_secret_from_cookie, csrf_token_matches,
};
use castellan_axum::django::{decode_session, encode_session};
use castellan_axum::url_has_allowed_host_and_scheme as safe;
use proptest::prelude::*;
use serde_json::{Map, Value};
use url::Url;

/// URLs assembled from the pieces open-redirect tricks are made of.
fn url_like() -> impl Strategy<Value = String> {
    let pieces = vec![
        "http:",
        "https:",
        "HTTP:",
        "ftp:",
        "javascript:",
        "//",
        "/",
        "\\",
        "///",
        "testserver",
        "TESTSERVER",
        "evil.com",
        "@",
        ":",
        "80",
        "\t",
        "\n",
        "\r",
        " ",
        "?",
        "#",
        "%2F",
        "%5C",
        "[::1]",
        "[",
        "]",
        ".",
        "..",
        "\u{0}",
        "\u{8}",
        "\u{3000}",
        "\u{feff}",
        "x",
        "user:pw@",
    ];
    proptest::collection::vec(proptest::sample::select(pieces), 0..8).prop_map(|v| v.concat())
}

const CHARS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Django's `_unmask_cipher_token`, stated directly.
fn unmask(token: &str) -> String {
    let idx = |c: char| CHARS.find(c).unwrap();
    let (mask, cipher) = token.split_at(32);
    mask.chars()
        .zip(cipher.chars())
        .map(|(m, c)| CHARS.as_bytes()[(idx(c) + 62 - idx(m)) % 62] as char)
        .collect()
}

fn session_data() -> impl Strategy<Value = Map<String, Value>> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    let value = leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(any::<String>(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    proptest::collection::btree_map(any::<String>(), value, 0..6)
        .prop_map(|m| m.into_iter().collect())
}

proptest! {
    #[test]
    fn approved_next_resolves_on_this_site(next in url_like(), require_https in any::<bool>()) {
        let base = if require_https {
            Url::parse("https://testserver/accounts/login/").unwrap()
        } else {
            Url::parse("http://testserver/accounts/login/").unwrap()
        };
        if safe(&next, &["testserver"], require_https) {
            if let Ok(resolved) = base.join(&next) {
                prop_assert_eq!(resolved.host_str(), Some("testserver"), "{:?} → {}", next, resolved);
                let scheme_ok = if require_https {
                    resolved.scheme() == "https"
                } else {
                    matches!(resolved.scheme(), "http" | "https")
                };
                prop_assert!(scheme_ok, "{:?} → {}", next, resolved);
            }
        }
    }

    #[test]
    fn session_round_trip_and_tamper(
        data in session_data(),
        at in any::<usize>(),
        with in any::<char>(),
    ) {
        let key = b"django-insecure-property-key";
        let encoded = encode_session(&data, key);
        prop_assert_eq!(&decode_session(&encoded, key), &data);
        prop_assert!(decode_session(&encoded, b"another key").is_empty());
        let i = at % encoded.len();
        let tampered = format!("{}{}{}", &encoded[..i], with, &encoded[i + 1..]);
        if tampered != encoded {
            prop_assert!(decode_session(&tampered, key).is_empty(), "{:?} decoded", tampered);
        }
    }

    #[test]
    fn csrf_mask_round_trip(secret in "[a-zA-Z0-9]{32}", other in "[a-zA-Z0-9]{32}") {
        let token = csrf_mask(&secret);
        prop_assert_eq!(token.len(), 64);
        prop_assert_eq!(unmask(&token), secret.clone());
        prop_assert!(csrf_token_matches(&token, &secret));
        prop_assert!(csrf_token_matches(&secret, &secret));
        prop_assert_eq!(csrf_secret_from_cookie(&token), Some(secret.clone()));
        prop_assert_eq!(csrf_token_matches(&token, &other), other == secret);
    }

    #[test]
    fn csrf_token_accepted_iff_it_unmasks_to_the_secret(token in "[a-zA-Z0-9!é]{0,70}") {
        let secret = csrf_new_secret();
        let model = token.bytes().all(|b| b.is_ascii_alphanumeric())
            && match token.len() {
                32 => token == secret,
                64 => unmask(&token) == secret,
                _ => false,
            };
        prop_assert_eq!(csrf_token_matches(&token, &secret), model);
    }
}
