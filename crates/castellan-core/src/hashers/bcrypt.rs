//! bcrypt hashers: `bcrypt_sha256` (in the default list) and plain `bcrypt`.

use base64::alphabet::BCRYPT;
use base64::engine::general_purpose::NO_PAD;
use base64::engine::GeneralPurpose;
use base64::Engine as _;
use rand_core::CryptoRng;
use sha2::{Digest as _, Sha256};

use super::{constant_time_eq, HashError, PasswordHasher};

/// Django 6.1's bcrypt work factor (log2 of the number of rounds).
pub const DEFAULT_ROUNDS: u32 = 12;
/// The largest work factor a stored value may ask [`verify`](PasswordHasher::verify) for, by
/// default: 2^4 = 16 times Django's default work (a few seconds). See
/// [`BcryptHasher::with_max_rounds`].
pub const DEFAULT_MAX_ROUNDS: u32 = DEFAULT_ROUNDS + 4;
const MIN_ROUNDS: u32 = 4;
const MAX_ROUNDS: u32 = 31;
/// bcrypt's password limit in bytes.
const MAX_PASSWORD_LEN: usize = 72;

/// bcrypt's own base64 alphabet, without padding, rejecting non-canonical trailing bits
/// (as the `bcrypt` Python package does).
const BCRYPT_B64: GeneralPurpose = GeneralPurpose::new(&BCRYPT, NO_PAD);

/// Django's `BCryptSHA256PasswordHasher` and `BCryptPasswordHasher`.
///
/// Stored format: `bcrypt_sha256$` (or `bcrypt$`) followed by a standard bcrypt string
/// `$2b$12$<22 salt chars><31 hash chars>`.
///
/// * `bcrypt_sha256` first replaces the password with the lowercase hex of its
///   SHA-256 (64 ASCII bytes), so long passwords are not truncated.
/// * plain `bcrypt` hashes the password directly and, like the `bcrypt` Python package
///   Django uses, refuses passwords longer than 72 bytes (`encode` errors, `verify`
///   returns false).
///
/// A salt for [`encode`](PasswordHasher::encode) is a bcrypt salt string such as
/// `$2b$12$LqWmVGaUo3DytiDV9ZBQ0u` (what [`salt`](PasswordHasher::salt) returns, using
/// the configured rounds); the cost embedded in it is the one used. The prefixes
/// `2a`, `2b`, `2x` and `2y` are accepted and kept.
///
/// * `must_update`: the stored work factor differs from the configured rounds.
/// * `harden_runtime`: repeats the hash `2^(configured − stored) − 1` times.
/// * A stored value whose work factor exceeds the verification limit (default
///   [`DEFAULT_MAX_ROUNDS`], never below the configured rounds) fails to verify without
///   hashing: a stored cost of 31 would take days per login attempt. For the same reason
///   `encode` refuses a salt whose work factor is above the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BcryptHasher {
    prehash: bool,
    rounds: u32,
    max_rounds: u32,
}

/// A parsed bcrypt salt: `$<version>$<cost>$<22 chars>`.
struct BcryptSalt<'a> {
    version: &'a str,
    cost: u32,
    salt_chars: &'a str,
    salt: [u8; 16],
}

/// Parses the salt at the start of `s` (a salt or a full bcrypt string), leniently on
/// the cost digits like the Python package; anything after the salt is ignored.
fn parse_salt(s: &str) -> Option<BcryptSalt<'_>> {
    let rest = s.strip_prefix('$')?;
    let (version, rest) = rest.split_once('$')?;
    if !matches!(version, "2a" | "2b" | "2x" | "2y") {
        return None;
    }
    let (cost, rest) = rest.split_once('$')?;
    let cost = super::parse_digits_u32(cost)?;
    if !(MIN_ROUNDS..=MAX_ROUNDS).contains(&cost) {
        return None;
    }
    let salt_chars = rest.get(..22)?;
    let decoded = BCRYPT_B64.decode(salt_chars).ok()?;
    let salt: [u8; 16] = decoded.try_into().ok()?;
    Some(BcryptSalt {
        version,
        cost,
        salt_chars,
        salt,
    })
}

impl BcryptHasher {
    /// `bcrypt_sha256` with Django 6.1's 12 rounds.
    pub const fn sha256() -> Self {
        Self {
            prehash: true,
            rounds: DEFAULT_ROUNDS,
            max_rounds: DEFAULT_MAX_ROUNDS,
        }
    }

    /// Plain `bcrypt` (no pre-hash, 72-byte limit) with 12 rounds. Not in Django's
    /// default list.
    pub const fn plain() -> Self {
        Self {
            prehash: false,
            rounds: DEFAULT_ROUNDS,
            max_rounds: DEFAULT_MAX_ROUNDS,
        }
    }

    /// The same hasher with another work factor (4..=31).
    pub fn with_rounds(self, rounds: u32) -> Result<Self, HashError> {
        if !(MIN_ROUNDS..=MAX_ROUNDS).contains(&rounds) {
            return Err(HashError::InvalidParameters {
                algorithm: self.name().to_owned(),
                reason: "rounds must be between 4 and 31".to_owned(),
            });
        }
        Ok(Self { rounds, ..self })
    }

    /// The configured work factor.
    pub fn rounds(&self) -> u32 {
        self.rounds
    }

    /// The same hasher with another verification limit: stored values with a work factor above
    /// `max_rounds` (or the configured rounds, if larger) fail to verify unhashed.
    pub fn with_max_rounds(self, max_rounds: u32) -> Self {
        Self { max_rounds, ..self }
    }

    /// The largest stored work factor [`verify`](PasswordHasher::verify) hashes with: the
    /// configured limit, or the configured rounds if larger.
    pub fn max_rounds(&self) -> u32 {
        self.max_rounds.max(self.rounds)
    }

    fn name(&self) -> &'static str {
        if self.prehash {
            "bcrypt_sha256"
        } else {
            "bcrypt"
        }
    }

    /// The bytes bcrypt actually sees (without the terminating NUL), or `None` if a
    /// plain-bcrypt password is too long.
    fn key(&self, password: &[u8]) -> Option<Vec<u8>> {
        if self.prehash {
            let digest = Sha256::digest(password);
            let mut hex = Vec::with_capacity(64);
            for b in digest {
                hex.push(b"0123456789abcdef"[usize::from(b >> 4)]);
                hex.push(b"0123456789abcdef"[usize::from(b & 0x0f)]);
            }
            Some(hex)
        } else if password.len() > MAX_PASSWORD_LEN {
            None
        } else {
            Some(password.to_vec())
        }
    }

    /// The full stored value for `key` with `salt`.
    fn encode_key(&self, key: &[u8], salt: &BcryptSalt<'_>) -> String {
        // bcrypt hashes the NUL-terminated password, truncated to 72 bytes.
        let mut input = Vec::with_capacity(key.len() + 1);
        input.extend_from_slice(key);
        input.push(0);
        input.truncate(MAX_PASSWORD_LEN);
        let output = ::bcrypt::bcrypt(salt.cost, salt.salt, &input);
        format!(
            "{}$${}${:02}${}{}",
            self.name(),
            salt.version,
            salt.cost,
            salt.salt_chars,
            BCRYPT_B64.encode(&output[..23])
        )
    }

    /// The bcrypt string after `<algorithm>$`.
    fn data<'a>(&self, encoded: &'a str) -> Option<&'a str> {
        encoded.strip_prefix(self.name())?.strip_prefix('$')
    }

    /// How many extra hashes `harden_runtime` computes for `encoded`.
    fn hardening_rounds(&self, encoded: &str) -> u64 {
        let Some(salt) = self.data(encoded).and_then(parse_salt) else {
            return 0;
        };
        match self.rounds.checked_sub(salt.cost) {
            // 2^diff - 1; diff <= 27 as both costs are within 4..=31.
            Some(diff) => (1u64 << diff) - 1,
            None => 0,
        }
    }
}

impl Default for BcryptHasher {
    fn default() -> Self {
        Self::sha256()
    }
}

impl PasswordHasher for BcryptHasher {
    fn algorithm(&self) -> &str {
        self.name()
    }

    /// `$2b$<rounds>$` followed by 22 characters encoding 16 random bytes.
    fn salt(&self, rng: &mut dyn CryptoRng) -> String {
        let mut bytes = [0u8; 16];
        rng.fill_bytes(&mut bytes);
        format!("$2b${:02}${}", self.rounds, BCRYPT_B64.encode(bytes))
    }

    fn encode(&self, password: &[u8], salt: &str) -> Result<String, HashError> {
        let Some(parsed) = parse_salt(salt) else {
            return Err(HashError::UnsupportedSalt {
                algorithm: self.name().to_owned(),
                reason: "Invalid salt".to_owned(),
            });
        };
        if parsed.cost > self.max_rounds() {
            // The result could never verify with this hasher.
            return Err(HashError::UnsupportedSalt {
                algorithm: self.name().to_owned(),
                reason: format!(
                    "the salt's work factor {} is above the verification limit {}; raise it with with_max_rounds",
                    parsed.cost,
                    self.max_rounds()
                ),
            });
        }
        let Some(key) = self.key(password) else {
            return Err(HashError::PasswordTooLong {
                max: MAX_PASSWORD_LEN,
            });
        };
        Ok(self.encode_key(&key, &parsed))
    }

    fn verify(&self, password: &[u8], encoded: &str) -> bool {
        let Some(salt) = self.data(encoded).and_then(parse_salt) else {
            return false;
        };
        if salt.cost > self.max_rounds() {
            return false;
        }
        let Some(key) = self.key(password) else {
            return false;
        };
        constant_time_eq(&self.encode_key(&key, &salt), encoded)
    }

    fn must_update(&self, encoded: &str) -> bool {
        match self.data(encoded).and_then(parse_salt) {
            Some(salt) => salt.cost != self.rounds,
            None => true,
        }
    }

    fn harden_runtime(&self, password: &[u8], encoded: &str) {
        let Some(salt) = self.data(encoded).and_then(parse_salt) else {
            return;
        };
        let Some(key) = self.key(password) else {
            return;
        };
        for _ in 0..self.hardening_rounds(encoded) {
            std::hint::black_box(self.encode_key(&key, &salt));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use getrandom::SysRng;
    use rand_core::UnwrapErr;

    const DJANGO_4: &str =
        "bcrypt_sha256$$2b$04$LqWmVGaUo3DytiDV9ZBQ0u5.twOuDsVX1kfQGVb0rB5jpwBLJLo/q";
    const DJANGO_PLAIN_4: &str =
        "bcrypt$$2b$04$LqWmVGaUo3DytiDV9ZBQ0uTHZrXz/ePjf56w3AKLTRMlvGJJlQbvS";

    #[test]
    fn django_vectors_at_4_rounds() {
        let h = BcryptHasher::sha256().with_rounds(4).unwrap();
        let e = h
            .encode("lètmein".as_bytes(), "$2b$04$LqWmVGaUo3DytiDV9ZBQ0u")
            .unwrap();
        assert_eq!(e, DJANGO_4);
        assert!(h.verify("lètmein".as_bytes(), DJANGO_4));
        assert!(!h.verify("lètmeiN".as_bytes(), DJANGO_4));
        // Django passes the whole stored bcrypt string as the salt: same result.
        assert_eq!(
            h.encode("lètmein".as_bytes(), &DJANGO_4[14..]).unwrap(),
            DJANGO_4
        );
        let p = BcryptHasher::plain().with_rounds(4).unwrap();
        assert_eq!(
            p.encode("lètmein".as_bytes(), "$2b$04$LqWmVGaUo3DytiDV9ZBQ0u")
                .unwrap(),
            DJANGO_PLAIN_4
        );
        assert!(p.verify("lètmein".as_bytes(), DJANGO_PLAIN_4));
        assert!(!h.verify("lètmein".as_bytes(), DJANGO_PLAIN_4));
    }

    #[test]
    fn salt_shape_and_round_trip() {
        let h = BcryptHasher::sha256().with_rounds(5).unwrap();
        let s = h.salt(&mut UnwrapErr(SysRng));
        assert_eq!(s.len(), 29);
        assert!(s.starts_with("$2b$05$"));
        let e = h.encode(b"pw", &s).unwrap();
        assert_eq!(e.len(), 74);
        assert!(h.verify(b"pw", &e));
        assert!(!h.must_update(&e));
        assert!(BcryptHasher::sha256().must_update(&e));
    }

    #[test]
    fn versions_kept_and_bad_salts_rejected() {
        let h = BcryptHasher::sha256().with_rounds(4).unwrap();
        for v in ["2a", "2x", "2y"] {
            let e = h
                .encode(b"pw", &format!("${v}$04$LqWmVGaUo3DytiDV9ZBQ0u"))
                .unwrap();
            assert!(e.starts_with(&format!("bcrypt_sha256$${v}$04$")));
            assert!(h.verify(b"pw", &e));
        }
        for bad in [
            "",
            "salt",
            "$2c$04$LqWmVGaUo3DytiDV9ZBQ0u",
            "$2b$03$LqWmVGaUo3DytiDV9ZBQ0u",
            "$2b$32$LqWmVGaUo3DytiDV9ZBQ0u",
            "$2b$04$LqWmVGaUo3DytiDV9ZBQ0",
            // non-canonical last character (trailing bits set)
            "$2b$04$LqWmVGaUo3DytiDV9ZBQ0v",
            "$2b$04$LqWmVGaUo3DytiDV9ZBQ0éé",
        ] {
            assert!(
                matches!(h.encode(b"pw", bad), Err(HashError::UnsupportedSalt { .. })),
                "{bad}"
            );
            assert!(!h.verify(b"pw", &format!("bcrypt_sha256${bad}")), "{bad}");
        }
        // The Python package's lenient cost parsing gives a canonical "04".
        let e = h.encode(b"pw", "$2b$4$LqWmVGaUo3DytiDV9ZBQ0u").unwrap();
        assert!(e.starts_with("bcrypt_sha256$$2b$04$"));
    }

    #[test]
    fn plain_bcrypt_72_byte_limit() {
        let p = BcryptHasher::plain().with_rounds(4).unwrap();
        let salt = "$2b$04$LqWmVGaUo3DytiDV9ZBQ0u";
        assert!(p.encode(&[b'x'; 72], salt).is_ok());
        assert_eq!(
            p.encode(&[b'x'; 73], salt),
            Err(HashError::PasswordTooLong { max: 72 })
        );
        let e = p.encode(&[b'x'; 72], salt).unwrap();
        assert!(!p.verify(&[b'x'; 73], &e));
    }

    #[test]
    fn hardening_counts() {
        let h = BcryptHasher::sha256();
        assert_eq!(h.hardening_rounds(DJANGO_4), (1 << 8) - 1);
        let h6 = BcryptHasher::sha256().with_rounds(6).unwrap();
        assert_eq!(h6.hardening_rounds(DJANGO_4), 3);
        let h4 = BcryptHasher::sha256().with_rounds(4).unwrap();
        assert_eq!(h4.hardening_rounds(DJANGO_4), 0);
        assert_eq!(h4.hardening_rounds("bcrypt_sha256$garbage"), 0);
        h6.harden_runtime(b"x", DJANGO_4);
        assert!(BcryptHasher::sha256().with_rounds(3).is_err());
        assert!(BcryptHasher::sha256().with_rounds(32).is_err());
    }

    #[test]
    fn verification_limit() {
        let h4 = BcryptHasher::sha256().with_rounds(4).unwrap();
        let e5 = h4.encode(b"pw", "$2b$05$LqWmVGaUo3DytiDV9ZBQ0u").unwrap();
        assert!(h4.verify(b"pw", &e5));
        assert!(!h4.clone().with_max_rounds(4).verify(b"pw", &e5));
        assert!(h4.clone().with_max_rounds(5).verify(b"pw", &e5));
        assert!(h4.with_max_rounds(3).verify("lètmein".as_bytes(), DJANGO_4));
    }

    #[test]
    fn encode_refuses_salts_over_the_verification_limit() {
        // Found by the password_hash fuzz target: such a hash could never verify.
        let h = BcryptHasher::sha256()
            .with_rounds(4)
            .unwrap()
            .with_max_rounds(5);
        assert!(matches!(
            h.encode(b"pw", "$2b$08$LqWmVGaUo3DytiDV9ZBQ0u"),
            Err(HashError::UnsupportedSalt { .. })
        ));
        assert!(h.encode(b"pw", "$2b$05$LqWmVGaUo3DytiDV9ZBQ0u").is_ok());
    }

    #[test]
    fn hostile_costs_are_refused_quickly() {
        // Cost 31 is 2^19 times Django's default work: days per login attempt.
        let h = BcryptHasher::sha256();
        let start = std::time::Instant::now();
        assert!(!h.verify(
            b"x",
            "bcrypt_sha256$$2b$31$LqWmVGaUo3DytiDV9ZBQ0u5.twOuDsVX1kfQGVb0rB5jpwBLJLo/q"
        ));
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }
}
