//! Django's `django.core.signing` and the few `django.utils` helpers around it: [`salted_hmac`],
//! [`constant_time_eq`], base 62 / base 36 / URL-safe base 64, the `Signer` format ([`sign`],
//! [`unsign`]) and [`dumps`]/[`loads`] (JSON, optional zlib compression, a timestamp) — the format
//! of `django_session.session_data`.
//!
//! Everything that verifies takes [`SecretKeys`]: Django's `SECRET_KEY` and its
//! `SECRET_KEY_FALLBACKS`. A value signed with any of them verifies; new values are always signed
//! with the current key, so rotating a key is: move the old key to the fallbacks, set a new one,
//! and drop the fallback once what it signed has expired.
//!
//! Like the rest of the core, nothing here reads the clock: [`dumps`] takes the time to stamp.
//!
//! ```
//! use castellan_core::signing::{dumps, loads, SecretKeys};
//!
//! let old = SecretKeys::new("old key");
//! let signed = dumps(&serde_json::json!({"cart": [1, 2]}), old.current(), "shop", true, 1_700_000_000);
//!
//! // The key was rotated: the old one is now a fallback, and still verifies.
//! let rotated = SecretKeys::new("new key").with_fallbacks(["old key"]);
//! assert_eq!(loads(&signed, &rotated, "shop")?, serde_json::json!({"cart": [1, 2]}));
//! // Without the fallback it no longer does; nor under another salt.
//! assert!(loads(&signed, &SecretKeys::new("new key"), "shop").is_err());
//! assert!(loads(&signed, &rotated, "other").is_err());
//! # Ok::<(), castellan_core::Error>(())
//! ```

use std::io::{Read, Write};

use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};

type HmacSha256 = Hmac<Sha256>;

/// Largest signed value [`loads`] and [`unsign`] look at (a session is a few hundred bytes; this
/// bounds the work spent on hostile input).
pub const MAX_SIGNED_LEN: usize = 64 * 1024;
/// Largest decompressed payload [`loads`] accepts (zlib bombs).
pub const MAX_PAYLOAD_LEN: u64 = 256 * 1024;

/// Django's `SECRET_KEY` with its `SECRET_KEY_FALLBACKS`: the current key signs, every key
/// verifies (the current one first). The keys are never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKeys {
    current: Vec<u8>,
    fallbacks: Vec<Vec<u8>>,
}

impl std::fmt::Debug for SecretKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKeys")
            .field("current", &"<hidden>")
            .field("fallbacks", &self.fallbacks.len())
            .finish()
    }
}

impl SecretKeys {
    /// `current` (Django's `SECRET_KEY`; a `str` key is its UTF-8 bytes), with no fallbacks.
    pub fn new(current: impl Into<Vec<u8>>) -> Self {
        Self {
            current: current.into(),
            fallbacks: Vec::new(),
        }
    }

    /// Replaces the fallback keys (Django's `SECRET_KEY_FALLBACKS`, in order): values signed with
    /// any of them still verify. Empty keys are ignored.
    pub fn with_fallbacks<I, K>(mut self, fallbacks: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: Into<Vec<u8>>,
    {
        self.fallbacks = fallbacks
            .into_iter()
            .map(Into::into)
            .filter(|k| !k.is_empty())
            .collect();
        self
    }

    /// The key new values are signed with.
    pub fn current(&self) -> &[u8] {
        &self.current
    }

    /// The fallback keys, in the order given.
    pub fn fallbacks(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.fallbacks.iter().map(Vec::as_slice)
    }

    /// Every key a signature is checked against: the current one, then the fallbacks.
    pub fn all(&self) -> impl Iterator<Item = &[u8]> + '_ {
        std::iter::once(self.current.as_slice()).chain(self.fallbacks())
    }
}

/// Django's `salted_hmac(key_salt, value, secret, algorithm="sha256")`: HMAC-SHA256 of `value`
/// under the key `SHA256(key_salt + secret)`.
pub fn salted_hmac(key_salt: &str, value: &[u8], secret: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(key_salt.as_bytes());
    h.update(secret);
    let key = h.finalize();
    // An HMAC over SHA-256 accepts a key of any length: this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(&key) {
        Ok(m) => m,
        Err(_) => <HmacSha256 as KeyInit>::new(&Default::default()),
    };
    mac.update(value);
    mac.finalize().into_bytes().into()
}

/// Lower-case hexadecimal (Python's `hexdigest()`).
pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

/// Constant-time string equality (Django's `constant_time_compare`): the time taken depends on
/// the lengths only, never on where the strings differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

const B62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const B36: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

fn encode_base(mut n: u64, digits: &[u8]) -> String {
    let base = digits.len() as u64;
    let mut out = Vec::new();
    loop {
        // `n % base` is below `digits.len()`.
        out.push(digits[(n % base) as usize]);
        n /= base;
        if n == 0 {
            break;
        }
    }
    out.iter().rev().map(|&b| char::from(b)).collect()
}

fn decode_base(s: &str, digit: impl Fn(u8) -> Option<u8>, base: u64) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.bytes().try_fold(0u64, |n, b| {
        n.checked_mul(base)?.checked_add(u64::from(digit(b)?))
    })
}

/// Django's `signing.b62_encode` (the timestamp of [`dumps`]).
pub fn b62_encode(n: u64) -> String {
    encode_base(n, B62)
}

/// Django's `signing.b62_decode` for non-negative values: `None` for a character outside the
/// alphabet or a value beyond `u64`.
pub fn b62_decode(s: &str) -> Option<u64> {
    decode_base(
        s,
        |b| match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'A'..=b'Z' => Some(b - b'A' + 10),
            b'a'..=b'z' => Some(b - b'a' + 36),
            _ => None,
        },
        62,
    )
}

/// Django's `int_to_base36` (lower-case digits).
pub fn int_to_base36(n: u64) -> String {
    encode_base(n, B36)
}

/// Django's `base36_to_int`, strictly: lower- or upper-case digits only, at most 13 of them (as
/// Django), and `None` beyond `u64` or for anything else.
pub fn base36_to_int(s: &str) -> Option<u64> {
    if s.len() > 13 {
        return None;
    }
    decode_base(
        s,
        |b| match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'z' => Some(b - b'a' + 10),
            b'A'..=b'Z' => Some(b - b'A' + 10),
            _ => None,
        },
        36,
    )
}

/// Django's `urlsafe_base64_encode`: URL-safe base 64 without the trailing `=`.
pub fn urlsafe_base64_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Django's `urlsafe_base64_decode`: URL-safe base 64, with or without its padding. `None` when
/// the text is not base 64 (Django would also skip stray characters; here they are refused).
pub fn urlsafe_base64_decode(s: &str) -> Option<Vec<u8>> {
    let trimmed = s.trim_end_matches('=');
    if s.len() - trimmed.len() > 2 {
        return None;
    }
    URL_SAFE_NO_PAD
        .decode(trimmed)
        .or_else(|_| URL_SAFE.decode(s))
        .ok()
}

/// Django's `Signer.signature(value)` for `salt`: URL-safe base 64 (no padding) of
/// `salted_hmac(salt + "signer", value, key)`.
pub fn signature(salt: &str, value: &str, key: &[u8]) -> String {
    urlsafe_base64_encode(&salted_hmac(
        &format!("{salt}signer"),
        value.as_bytes(),
        key,
    ))
}

/// Django's `Signer(key=key, salt=salt).sign(value)`: `value:signature`.
pub fn sign(value: &str, key: &[u8], salt: &str) -> String {
    format!("{value}:{}", signature(salt, value, key))
}

/// Django's `Signer(salt=salt, fallback_keys=…).unsign(signed)`: the value, when the signature is
/// that of the current key or of a fallback key.
pub fn unsign<'a>(signed: &'a str, keys: &SecretKeys, salt: &str) -> Result<&'a str> {
    if signed.len() > MAX_SIGNED_LEN {
        return Err(bad(format!(
            "the signed value is {} bytes long, more than the {MAX_SIGNED_LEN} accepted",
            signed.len()
        )));
    }
    let (value, sig) = signed
        .rsplit_once(':')
        .ok_or_else(|| bad("no ':' separates the value from its signature"))?;
    if keys
        .all()
        .any(|key| constant_time_eq(sig, &signature(salt, value, key)))
    {
        Ok(value)
    } else {
        Err(bad(
            "the signature matches neither the secret key nor any fallback key (wrong key or salt, or tampered data)",
        ))
    }
}

fn bad(reason: impl Into<String>) -> Error {
    Error::BadSignature {
        reason: reason.into(),
    }
}

/// Python's `json.dumps(obj, separators=(",", ":"))`: compact, non-ASCII escaped as `\uXXXX`.
pub fn json_ascii(value: &serde_json::Value) -> String {
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

/// Django's `signing.dumps(value, key=key, salt=salt, compress=compress)` stamped at `now` (Unix
/// seconds): JSON, zlib-compressed when that saves space and `compress` is on (marked by a
/// leading `.`), URL-safe base 64, the base 62 timestamp, the signature.
pub fn dumps(
    value: &serde_json::Value,
    key: &[u8],
    salt: &str,
    compress: bool,
    now: u64,
) -> String {
    let data = json_ascii(value).into_bytes();
    let compressed = compress
        .then(|| {
            let mut encoder =
                flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            match encoder.write_all(&data).and_then(|()| encoder.finish()) {
                Ok(c) if c.len() + 1 < data.len() => Some(c),
                _ => None,
            }
        })
        .flatten();
    let b64 = match compressed {
        Some(c) => format!(".{}", urlsafe_base64_encode(&c)),
        None => urlsafe_base64_encode(&data),
    };
    sign(&format!("{b64}:{}", b62_encode(now)), key, salt)
}

/// Django's `signing.loads(signed, salt=salt)` with `SECRET_KEY_FALLBACKS` and no `max_age`: the
/// JSON value when the signature is that of any of `keys`. The error says what was wrong (bad
/// signature, not base 64, a zlib bomb, not JSON).
pub fn loads(signed: &str, keys: &SecretKeys, salt: &str) -> Result<serde_json::Value> {
    let value = unsign(signed, keys, salt)?;
    let (payload, timestamp) = value
        .rsplit_once(':')
        .ok_or_else(|| bad("the signed value has no timestamp"))?;
    if b62_decode(timestamp).is_none() {
        return Err(bad("the timestamp is not base 62"));
    }
    let (compressed, b64) = match payload.strip_prefix('.') {
        Some(rest) => (true, rest),
        None => (false, payload),
    };
    let raw = urlsafe_base64_decode(b64).ok_or_else(|| bad("the payload is not base 64"))?;
    let data = if compressed {
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(raw.as_slice())
            .take(MAX_PAYLOAD_LEN + 1)
            .read_to_end(&mut out)
            .map_err(|e| bad(format!("the payload does not decompress: {e}")))?;
        if out.len() as u64 > MAX_PAYLOAD_LEN {
            return Err(bad(format!(
                "the payload decompresses to more than {MAX_PAYLOAD_LEN} bytes"
            )));
        }
        out
    } else {
        raw
    };
    // Django decodes as latin-1; its JSON is ASCII, and UTF-8 is a superset for that.
    serde_json::from_slice(&data).map_err(|e| bad(format!("the payload is not JSON: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn keys(k: &str) -> SecretKeys {
        SecretKeys::new(k)
    }

    #[test]
    fn round_trip_compressed_and_plain() {
        let small = serde_json::json!({"a": 1});
        let s = dumps(&small, b"k", "salt", true, 1_700_000_000);
        assert!(!s.starts_with('.'));
        assert_eq!(loads(&s, &keys("k"), "salt").unwrap(), small);
        let big = serde_json::json!({"x": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "é": "ü"});
        let s = dumps(&big, b"k", "salt", true, 1_700_000_000);
        assert!(s.starts_with('.'));
        assert_eq!(loads(&s, &keys("k"), "salt").unwrap(), big);
        assert!(!dumps(&big, b"k", "salt", false, 1).starts_with('.'));
        assert!(loads(&s, &keys("other"), "salt").is_err());
        assert!(loads(&s, &keys("k"), "other").is_err());
        let mut tampered = s.clone().into_bytes();
        tampered[3] ^= 1;
        let err = loads(&String::from_utf8(tampered).unwrap(), &keys("k"), "salt").unwrap_err();
        assert!(err.to_string().contains("fallback"), "{err}");
    }

    #[test]
    fn fallback_keys_verify_and_the_current_key_signs() {
        let rotated = SecretKeys::new("new").with_fallbacks(["", "older", "old"]);
        assert_eq!(rotated.fallbacks().count(), 2);
        let by_old = sign("v", b"old", "s");
        assert_eq!(unsign(&by_old, &rotated, "s").unwrap(), "v");
        assert!(unsign(&by_old, &keys("new"), "s").is_err());
        assert_eq!(sign("v", rotated.current(), "s"), sign("v", b"new", "s"));
        assert!(format!("{rotated:?}").contains("hidden"));
        assert!(!format!("{rotated:?}").contains("older"));
    }

    #[test]
    fn malformed_input_says_what_is_wrong() {
        let k = keys("k");
        let msg = |s: &str| loads(s, &k, "s").unwrap_err().to_string();
        assert!(msg("nocolon").contains("separates"));
        assert!(msg(&sign("abc", b"k", "s")).contains("timestamp"));
        assert!(msg(&sign("!!:0", b"k", "s")).contains("base 64"));
        assert!(msg(&sign(".AAAA:0", b"k", "s")).contains("decompress"));
        assert!(msg(&sign("bm90IGpzb24:0", b"k", "s")).contains("JSON"));
        assert!(msg(&"a".repeat(MAX_SIGNED_LEN + 1)).contains("long"));
    }

    #[test]
    fn zlib_bombs_are_refused() {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&vec![b' '; 1 << 20]).unwrap();
        let bomb = encoder.finish().unwrap();
        let signed = sign(&format!(".{}:0", urlsafe_base64_encode(&bomb)), b"k", "s");
        assert!(loads(&signed, &keys("k"), "s")
            .unwrap_err()
            .to_string()
            .contains("more than"));
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
            let s = dumps(&value, b"k", "salt", true, 1_700_000_000);
            let back = loads(&s, &keys("k"), "salt").unwrap();
            assert_eq!(
                back["value"].as_f64().map(f64::to_bits),
                Some(x.to_bits()),
                "{x:e}"
            );
        }
    }

    #[test]
    fn bases_match_django() {
        // django.core.signing.b62_encode(1700000000) == '1r31eq'
        assert_eq!(b62_encode(1_700_000_000), "1r31eq");
        assert_eq!(b62_decode("1r31eq"), Some(1_700_000_000));
        assert_eq!(b62_encode(0), "0");
        assert_eq!(b62_decode(""), None);
        assert_eq!(b62_decode("-1"), None);
        // django.utils.http.int_to_base36(818150400) == 'dj3sw0'
        assert_eq!(int_to_base36(818_150_400), "dj3sw0");
        assert_eq!(int_to_base36(0), "0");
        assert_eq!(int_to_base36(35), "z");
        assert_eq!(base36_to_int("dj3sw0"), Some(818_150_400));
        assert_eq!(base36_to_int("DJ3SW0"), Some(818_150_400));
        assert_eq!(
            base36_to_int("1234567890123"),
            Some(5_013_014_052_623_859_291)
        );
        assert_eq!(base36_to_int("12345678901234"), None); // 14 digits: Django refuses too
        assert_eq!(base36_to_int("zzzzzzzzzzzzz"), None); // beyond u64
        assert_eq!(base36_to_int("1-2"), None);
        assert_eq!(base36_to_int(""), None);
        assert_eq!(base36_to_int(&u64::MAX.to_string()), None);
        assert_eq!(int_to_base36(u64::MAX), "3w5e11264sgsf");
        assert_eq!(base36_to_int("3w5e11264sgsf"), Some(u64::MAX));
    }

    #[test]
    fn urlsafe_base64_as_django() {
        // urlsafe_base64_encode(b'42') == 'NDI'
        assert_eq!(urlsafe_base64_encode(b"42"), "NDI");
        assert_eq!(urlsafe_base64_decode("NDI").unwrap(), b"42");
        assert_eq!(urlsafe_base64_decode("NDI=").unwrap(), b"42");
        assert_eq!(urlsafe_base64_decode("MQ").unwrap(), b"1");
        assert_eq!(urlsafe_base64_decode("MQ==").unwrap(), b"1");
        assert_eq!(urlsafe_base64_encode(&[0xfb, 0xff]), "-_8");
        assert!(urlsafe_base64_decode("M").is_none());
        assert!(urlsafe_base64_decode("M Q").is_none());
        assert!(urlsafe_base64_decode("MQ===").is_none());
        assert!(urlsafe_base64_decode("+/8").is_none());
    }

    #[test]
    fn salted_hmac_known_answer() {
        // salted_hmac('salt', 'value', 'secret', algorithm='sha256').hexdigest()
        assert_eq!(
            hex(&salted_hmac("salt", b"value", b"secret")),
            "debaddcd9ecbaab181289870baf8af49b0af0a7050d620d1a63f1e69bd87ceb8"
        );
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
