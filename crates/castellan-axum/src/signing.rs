//! The session auth hash (Django's `AbstractBaseUser.get_session_auth_hash` and
//! `get_session_auth_fallback_hash`); the signing primitives themselves are
//! [`castellan_core::signing`]'s.

use castellan_core::signing::{hex, salted_hmac, SecretKeys};

pub(crate) use castellan_core::signing::constant_time_eq;

const SESSION_AUTH_HASH_SALT: &str =
    "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash";

/// `AbstractBaseUser.get_session_auth_hash()`: HMAC-SHA256 (hex) of the stored password hash.
pub(crate) fn session_auth_hash(password_hash: &str, secret: &[u8]) -> String {
    hex(&salted_hmac(
        SESSION_AUTH_HASH_SALT,
        password_hash.as_bytes(),
        secret,
    ))
}

/// How a session's stored auth hash compares with the user's (Django's `get_user`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HashCheck {
    /// Made with the current key.
    Current,
    /// Made with a fallback key: valid, to be rotated to the current key.
    Fallback,
    /// Missing, or made from another password hash or with an unknown key.
    Invalid,
}

/// Checks `stored` (the session's `_auth_user_hash`) against the user's password hash, with the
/// current key first, then each fallback (`get_session_auth_fallback_hash`).
pub(crate) fn check_session_auth_hash(
    stored: Option<&str>,
    password_hash: &str,
    keys: &SecretKeys,
) -> HashCheck {
    let Some(stored) = stored.filter(|s| !s.is_empty()) else {
        return HashCheck::Invalid;
    };
    if constant_time_eq(stored, &session_auth_hash(password_hash, keys.current())) {
        return HashCheck::Current;
    }
    if keys
        .fallbacks()
        .any(|key| constant_time_eq(stored, &session_auth_hash(password_hash, key)))
    {
        HashCheck::Fallback
    } else {
        HashCheck::Invalid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_hashes_are_recognised() {
        let keys = SecretKeys::new("new").with_fallbacks(["old"]);
        let by = |k: &[u8]| session_auth_hash("pbkdf2$1$s$h", k);
        let check = |s: &str| check_session_auth_hash(Some(s), "pbkdf2$1$s$h", &keys);
        assert_eq!(check(&by(b"new")), HashCheck::Current);
        assert_eq!(check(&by(b"old")), HashCheck::Fallback);
        assert_eq!(check(&by(b"other")), HashCheck::Invalid);
        assert_eq!(check(""), HashCheck::Invalid);
        assert_eq!(
            check_session_auth_hash(None, "pbkdf2$1$s$h", &keys),
            HashCheck::Invalid
        );
        // Another password hash: invalid under every key.
        assert_eq!(
            check_session_auth_hash(Some(&by(b"old")), "pbkdf2$1$s$other", &keys),
            HashCheck::Invalid
        );
    }
}
