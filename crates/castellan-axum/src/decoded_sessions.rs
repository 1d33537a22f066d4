//! [`DecodedSessions`]: what each recent session row's data decoded to, and how its
//! authentication hash compared with its user's password hash. Both are pure functions of the
//! row's text, the password hash and the layer's keys (fixed for its lifetime), so an unchanged
//! row is neither verified (HMAC), inflated nor parsed again, and an unchanged password is not
//! hashed again: the answers are the same, bit for bit. A row or a password that changed, in
//! any byte, is decoded and checked from scratch.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use castellan_core::signing::SecretKeys;
use serde_json::{Map, Value};

use crate::session;
use crate::signing::{check_session_auth_hash, HashCheck};

/// How many sessions are remembered before the map starts over (each holds its row's text and
/// decoded data: a few hundred bytes).
const CAPACITY: usize = 20_000;

struct Decoded {
    /// The row's `session_data`, exactly.
    raw: Box<str>,
    data: Map<String, Value>,
    /// The password hash the session's auth hash was checked against, and the result.
    hash: Option<(Box<str>, HashCheck)>,
}

/// Session key → its row's text, decoded data and auth-hash check.
#[derive(Default)]
pub(crate) struct DecodedSessions {
    map: Mutex<HashMap<Box<str>, Decoded>>,
}

impl std::fmt::Debug for DecodedSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DecodedSessions")
    }
}

impl DecodedSessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Decoded>> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The data of the session `key` whose row holds `raw` ([`session::decode_session`]).
    pub(crate) fn decode(&self, key: &str, raw: &str, keys: &SecretKeys) -> Map<String, Value> {
        if let Some(d) = self.lock().get(key).filter(|d| &*d.raw == raw) {
            return d.data.clone();
        }
        let data = session::decode_session(raw, keys);
        let mut map = self.lock();
        if map.len() >= CAPACITY {
            map.clear();
        }
        map.insert(
            key.into(),
            Decoded {
                raw: raw.into(),
                data: data.clone(),
                hash: None,
            },
        );
        data
    }

    /// [`check_session_auth_hash`] of `stored` (the auth hash in the data `raw` decodes to)
    /// against `password_hash`, for the session `key` whose row holds `raw`.
    pub(crate) fn check_hash(
        &self,
        key: &str,
        raw: &str,
        stored: Option<&str>,
        password_hash: &str,
        keys: &SecretKeys,
    ) -> HashCheck {
        {
            let map = self.lock();
            if let Some(d) = map.get(key).filter(|d| &*d.raw == raw) {
                if let Some((pw, check)) = &d.hash {
                    if &**pw == password_hash {
                        return *check;
                    }
                }
            }
        }
        let check = check_session_auth_hash(stored, password_hash, keys);
        if let Some(d) = self.lock().get_mut(key).filter(|d| &*d.raw == raw) {
            d.hash = Some((password_hash.into(), check));
        }
        check
    }

    /// Forgets `key` (its row is gone).
    pub(crate) fn forget(&self, key: &str) {
        self.lock().remove(key);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::signing::session_auth_hash;

    #[test]
    fn answers_as_decoding_afresh_whatever_changed() {
        let keys = SecretKeys::new("k");
        let memo = DecodedSessions::default();
        let mut data = Map::new();
        let hash = session_auth_hash("pbkdf2$1$s$h", keys.current());
        data.insert(
            session::HASH_SESSION_KEY.into(),
            Value::String(hash.clone()),
        );
        let raw = session::encode_session(&data, keys.current());
        for _ in 0..2 {
            assert_eq!(memo.decode("s", &raw, &keys), data);
            let check = |pw| memo.check_hash("s", &raw, Some(&hash), pw, &keys);
            assert_eq!(check("pbkdf2$1$s$h"), HashCheck::Current);
            // Another password hash is checked, not taken from the memo.
            assert_eq!(check("pbkdf2$1$s$other"), HashCheck::Invalid);
            assert_eq!(check("pbkdf2$1$s$h"), HashCheck::Current);
        }
        // A tampered row decodes afresh (to nothing), under the same key.
        let tampered = raw.replacen(':', "x:", 1);
        assert!(memo.decode("s", &tampered, &keys).is_empty());
        assert_eq!(
            memo.check_hash("s", &tampered, None, "pbkdf2$1$s$h", &keys),
            HashCheck::Invalid
        );
        // Another key's row is its own.
        assert!(memo.decode("t", "garbage", &keys).is_empty());
        assert_eq!(memo.decode("s", &raw, &keys), data);
        memo.forget("s");
        assert_eq!(memo.decode("s", &raw, &keys), data);
    }
}
