//! Salted MD5 (`md5`): weak, not in the default list; kept for old databases and cheap tests.

use ::md5::{Digest as _, Md5};

use super::{constant_time_eq, salt, HashError, PasswordHasher};

/// Django's `MD5PasswordHasher`: `md5$<salt>$<hex md5(salt + password)>`.
///
/// Not recommended for real passwords. `must_update` is true only for a salt shorter
/// than 22 characters; `harden_runtime` does nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Md5Hasher;

impl Md5Hasher {
    /// The salted MD5 hasher.
    pub const fn new() -> Self {
        Self
    }

    fn encode_unchecked(password: &[u8], salt: &str) -> String {
        let mut md5 = Md5::new();
        md5.update(salt.as_bytes());
        md5.update(password);
        let digest = md5.finalize();
        let mut out = String::with_capacity(4 + salt.len() + 1 + 32);
        out.push_str("md5$");
        out.push_str(salt);
        out.push('$');
        for b in digest {
            out.push(hex_digit(b >> 4));
            out.push(hex_digit(b & 0x0f));
        }
        out
    }
}

fn hex_digit(n: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(n & 0x0f)])
}

/// The salt of a stored md5 value (`md5$<salt>$<hash>`).
fn decode_salt(encoded: &str) -> Option<&str> {
    let rest = encoded.strip_prefix("md5$")?;
    let (salt, _hash) = rest.split_once('$')?;
    Some(salt)
}

impl PasswordHasher for Md5Hasher {
    fn algorithm(&self) -> &str {
        "md5"
    }

    fn encode(&self, password: &[u8], salt: &str) -> Result<String, HashError> {
        if salt.is_empty() || salt.contains('$') {
            return Err(HashError::InvalidSalt);
        }
        Ok(Self::encode_unchecked(password, salt))
    }

    fn verify(&self, password: &[u8], encoded: &str) -> bool {
        match decode_salt(encoded) {
            Some(salt) if !salt.is_empty() => {
                constant_time_eq(&Self::encode_unchecked(password, salt), encoded)
            }
            _ => false,
        }
    }

    fn must_update(&self, encoded: &str) -> bool {
        decode_salt(encoded).is_none_or(salt::is_weak_salt)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn vector_and_garbage() {
        let h = Md5Hasher::new();
        let e = h.encode("lètmein".as_bytes(), "seasalt").unwrap();
        assert_eq!(e, "md5$seasalt$3f86d0d3d465b7b458c231bf3555c0e3");
        assert!(h.verify("lètmein".as_bytes(), &e));
        assert!(!h.verify("lètmein".as_bytes(), &e.to_uppercase()));
        for g in ["", "md5", "md5$", "md5$$", "md5$seasalt", "md5$seasalt$"] {
            assert!(!h.verify(b"", g), "{g}");
        }
        assert!(h.must_update(&e));
        assert!(!h.must_update("md5$aaaaaaaaaaaaaaaaaaaaaa$00"));
    }
}
