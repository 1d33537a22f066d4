//! Django's `django.core.signing`: `salted_hmac`, `TimestampSigner` and `dumps`/`loads` with the JSON
//! serializer and optional zlib compression — the format of `django_session.session_data`.

use std::io::{Read, Write};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Largest signed value accepted (a session is a few hundred bytes; bound the work on hostile input).
const MAX_SIGNED_LEN: usize = 64 * 1024;
/// Largest decompressed payload accepted (zlib bombs).
const MAX_PAYLOAD_LEN: u64 = 256 * 1024;

/// Django's `salted_hmac(key_salt, value, secret, algorithm="sha256")`.
pub(crate) fn salted_hmac(key_salt: &str, value: &[u8], secret: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(key_salt.as_bytes());
    h.update(secret);
    let key = h.finalize();
    // An HMAC key of any length is accepted.
    let mut mac = match HmacSha256::new_from_slice(&key) {
        Ok(m) => m,
        Err(_) => unreachable_key(),
    };
    mac.update(value);
    mac.finalize().into_bytes().into()
}

#[cold]
fn unreachable_key() -> HmacSha256 {
    // `Hmac::new_from_slice` only fails for fixed-size keys; SHA-256 HMAC takes any length.
    <HmacSha256 as KeyInit>::new(&Default::default())
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out
}

/// `AbstractBaseUser.get_session_auth_hash()`: HMAC-SHA256 (hex) of the stored password hash.
pub(crate) fn session_auth_hash(password_hash: &str, secret: &[u8]) -> String {
    hex(&salted_hmac(
        "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash",
        password_hash.as_bytes(),
        secret,
    ))
}

/// Constant-time string equality (Django's `constant_time_compare`).
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

const B62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn b62_encode(mut n: u64) -> String {
    if n == 0 {
        return "0".into();
    }
    let mut out = Vec::new();
    while n > 0 {
        out.push(B62[(n % 62) as usize]);
        n /= 62;
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

fn signature(salt: &str, value: &str, secret: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(salted_hmac(
        &format!("{salt}signer"),
        value.as_bytes(),
        secret,
    ))
}

/// Python's `json.dumps(obj, separators=(",", ":"))`: compact, non-ASCII escaped as `\uXXXX`.
fn json_ascii(value: &serde_json::Value) -> String {
    let text = value.to_string();
    if text.is_ascii() {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

/// `signing.dumps(value, key=secret, salt=salt, compress=True)` at `now` (Unix seconds).
pub(crate) fn dumps(value: &serde_json::Value, secret: &[u8], salt: &str, now: u64) -> String {
    let data = json_ascii(value).into_bytes();
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let compressed = match encoder.write_all(&data).and_then(|()| encoder.finish()) {
        Ok(c) if c.len() + 1 < data.len() => Some(c),
        _ => None,
    };
    let b64 = match compressed {
        Some(c) => format!(".{}", URL_SAFE_NO_PAD.encode(c)),
        None => URL_SAFE_NO_PAD.encode(&data),
    };
    let value = format!("{b64}:{}", b62_encode(now));
    let sig = signature(salt, &value, secret);
    format!("{value}:{sig}")
}

/// `signing.loads(signed, key=secret, salt=salt)` without a max age: `None` when the signature is
/// bad or the payload is not JSON (Django then treats the session as empty).
pub(crate) fn loads(signed: &str, secret: &[u8], salt: &str) -> Option<serde_json::Value> {
    if signed.len() > MAX_SIGNED_LEN {
        return None;
    }
    let (value, sig) = signed.rsplit_once(':')?;
    if !constant_time_eq(sig, &signature(salt, value, secret)) {
        return None;
    }
    let (payload, _timestamp) = value.rsplit_once(':')?;
    let (compressed, b64) = match payload.strip_prefix('.') {
        Some(rest) => (true, rest),
        None => (false, payload),
    };
    let raw = URL_SAFE_NO_PAD.decode(b64.trim_end_matches('=')).ok()?;
    let data = if compressed {
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(raw.as_slice())
            .take(MAX_PAYLOAD_LEN)
            .read_to_end(&mut out)
            .ok()?;
        out
    } else {
        raw
    };
    // Django decodes as latin-1; its JSON is ASCII, and UTF-8 is a superset for that.
    serde_json::from_slice(&data).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trip_compressed_and_plain() {
        let small = serde_json::json!({"a": 1});
        let s = dumps(&small, b"k", "salt", 1_700_000_000);
        assert!(!s.starts_with('.'));
        assert_eq!(loads(&s, b"k", "salt").unwrap(), small);
        let big = serde_json::json!({"x": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "é": "ü"});
        let s = dumps(&big, b"k", "salt", 1_700_000_000);
        assert!(s.starts_with('.'));
        assert_eq!(loads(&s, b"k", "salt").unwrap(), big);
        assert!(loads(&s, b"other", "salt").is_none());
        assert!(loads(&s, b"k", "other").is_none());
        let mut tampered = s.clone().into_bytes();
        tampered[3] ^= 1;
        assert!(loads(&String::from_utf8(tampered).unwrap(), b"k", "salt").is_none());
    }

    #[test]
    fn floats_round_trip_exactly() {
        // Found by fuzzing: serde_json's default parser read this back one ulp off.
        for x in [
            3.3333333333333334e48_f64,
            0.1,
            1e-300,
            2.2250738585072014e-308,
            1.7976931348623157e308,
        ] {
            let value = serde_json::json!({ "value": x });
            let s = dumps(&value, b"k", "salt", 1_700_000_000);
            let back = loads(&s, b"k", "salt").unwrap();
            assert_eq!(
                back["value"].as_f64().map(f64::to_bits),
                Some(x.to_bits()),
                "{x:e}"
            );
        }
    }

    #[test]
    fn b62_matches_django() {
        // django.core.signing.b62_encode(1700000000) == '1r31eq'
        assert_eq!(b62_encode(1_700_000_000), "1r31eq");
        assert_eq!(b62_encode(0), "0");
    }
}
