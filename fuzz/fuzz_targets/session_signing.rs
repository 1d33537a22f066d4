//! Django session data (`castellan_axum::django`, over `signing::dumps`/`loads`): decoding any text
//! never panics and gives an empty session unless the signature is right; a payload signed with the
//! key (the part an attacker cannot forge, reached here by signing the fuzzer's bytes) decodes without
//! panicking, zlib bombs included; and any session encodes and decodes back to itself, while a
//! one-character change to the signed value decodes to an empty session.
#![no_main]

#[path = "fields.rs"]
mod fields;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use castellan_axum::django::{decode_session, encode_session, session_auth_hash};
use hmac::{Hmac, KeyInit, Mac};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

const KEY: &[u8] = b"django-insecure-fuzzing-key";
const SALT: &str = "django.contrib.sessions.SessionStore";

/// Django's `Signer(key, salt).sign(value)`, written independently of the code under test.
fn sign(value: &str) -> String {
    let key = Sha256::new()
        .chain_update(format!("{SALT}signer").as_bytes())
        .chain_update(KEY)
        .finalize();
    let mut mac = match Hmac::<Sha256>::new_from_slice(&key) {
        Ok(m) => m,
        Err(e) => panic!("hmac key: {e}"),
    };
    mac.update(value.as_bytes());
    format!(
        "{value}:{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// `text 0xFF session 0xFF tamper-position 0xFF tamper-character` (see `fields.rs`): `text` is
/// decoded as it is and signed; `session` is a JSON object to round trip (any other text becomes
/// the value of one key).
struct Input {
    text: String,
    session: Map<String, Value>,
    tamper_at: usize,
    tamper_with: char,
}

impl Input {
    fn new(data: &[u8]) -> Self {
        let f = fields::fields(data);
        let session_text = fields::text(&f, 1);
        let session = match serde_json::from_str::<Value>(&session_text) {
            Ok(Value::Object(map)) => map,
            Ok(other) => Map::from_iter([("value".to_owned(), other)]),
            Err(_) => Map::from_iter([("text".to_owned(), Value::String(session_text))]),
        };
        let tamper_at = f.get(2).map_or(0, |b| {
            b.iter().fold(0usize, |n, d| {
                n.wrapping_mul(31).wrapping_add(usize::from(*d))
            })
        });
        Self {
            text: fields::text(&f, 0),
            session,
            tamper_at,
            tamper_with: fields::text(&f, 3).chars().next().unwrap_or('!'),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let input = Input::new(data);
    // Unsigned (or wrongly signed) text: always empty.
    let map = decode_session(&input.text, KEY);
    if !map.is_empty() {
        assert_eq!(
            sign(input.text.rsplit_once(':').map_or("", |(v, _)| v)),
            input.text
        );
    }
    // Signed by us: the decoder's base64/zlib/JSON handling sees arbitrary bytes.
    let _ = decode_session(&sign(&input.text), KEY);
    let _ = session_auth_hash(&input.text, KEY);

    // Round trip.
    let data = &input.session;
    let encoded = encode_session(data, KEY);
    assert!(encoded.is_ascii(), "session data is ASCII: {encoded:?}");
    if encoded.len() <= 64 * 1024 {
        assert_eq!(
            decode_session(&encoded, KEY),
            *data,
            "round trip of {encoded:?}"
        );
    }
    assert!(decode_session(&encoded, b"another key").is_empty());

    // Tampering: replace one character; the result must not decode (unless it is unchanged).
    let at = input.tamper_at % encoded.len();
    let mut tampered = String::with_capacity(encoded.len() + 4);
    tampered.push_str(&encoded[..at]);
    tampered.push(input.tamper_with);
    tampered.push_str(&encoded[at + 1..]);
    if tampered != encoded {
        assert!(
            decode_session(&tampered, KEY).is_empty(),
            "tampered {tampered:?} (from {encoded:?}) decoded"
        );
    }
});
