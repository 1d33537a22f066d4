//! CSRF tokens (`castellan_axum::csrf`): any submitted token or cookie value is judged without
//! panicking; a token is accepted only when it is the secret or a masking of it; masking round trips.
#![no_main]

#[path = "fields.rs"]
mod fields;

use castellan_axum::__fuzz::{csrf_mask, csrf_secret_from_cookie, csrf_token_matches};
use libfuzzer_sys::fuzz_target;

const CHARS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Django's `_unmask_cipher_token`, written independently of the code under test.
fn unmask(token: &str) -> Option<String> {
    let idx = |c: char| CHARS.find(c);
    let chars: Vec<char> = token.chars().collect();
    if chars.len() != 64 {
        return None;
    }
    let (mask, cipher) = chars.split_at(32);
    mask.iter()
        .zip(cipher)
        .map(|(m, c)| {
            let (m, c) = (idx(*m)?, idx(*c)?);
            CHARS.chars().nth((c + 62 - m) % 62)
        })
        .collect()
}

// Input: `token 0xFF cookie` (see `fields.rs`).
fuzz_target!(|data: &[u8]| {
    let f = fields::fields(data);
    let (token, cookie) = (fields::text(&f, 0), fields::text(&f, 1));
    let secret = csrf_secret_from_cookie(&cookie);
    if let Some(s) = &secret {
        assert_eq!(s.len(), 32);
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
        let expected = if cookie.len() == 64 {
            unmask(&cookie)
        } else {
            Some(cookie.clone())
        };
        assert_eq!(Some(s), expected.as_ref());
        // Masking round trips, and a fresh mask is a new token each time.
        let t = csrf_mask(s);
        assert_eq!(t.len(), 64);
        assert!(csrf_token_matches(&t, s));
        assert_eq!(unmask(&t).as_deref(), Some(s.as_str()));
    }
    let secret = secret.unwrap_or_else(|| "a".repeat(32));
    let accepted = csrf_token_matches(&token, &secret);
    let model = token.bytes().all(|b| b.is_ascii_alphanumeric())
        && match token.len() {
            32 => token == secret,
            64 => unmask(&token).as_deref() == Some(secret.as_str()),
            _ => false,
        };
    assert_eq!(accepted, model, "token {:?} against {secret:?}", token);
});
