//! Password hashing compatible with Django's `django.contrib.auth.hashers` (6.1.3).
//!
//! Castellan reads and writes the same `password` column as Django, so every hasher
//! here produces and accepts Django's exact stored formats:
//!
//! | algorithm | type | stored format |
//! |---|---|---|
//! | `pbkdf2_sha256` | [`Pbkdf2Hasher::sha256`] | `pbkdf2_sha256$<iterations>$<salt>$<b64 hash>` |
//! | `pbkdf2_sha1` | [`Pbkdf2Hasher::sha1`] | `pbkdf2_sha1$<iterations>$<salt>$<b64 hash>` |
//! | `argon2` | [`Argon2Hasher`] | `argon2$argon2id$v=19$m=102400,t=2,p=8$<b64 salt>$<b64 hash>` |
//! | `bcrypt_sha256` | [`BcryptHasher::sha256`] | `bcrypt_sha256$$2b$12$<22 salt><31 hash>` |
//! | `scrypt` | [`ScryptHasher`] | `scrypt$<N>$<salt>$<r>$<p>$<b64 hash>` |
//! | `bcrypt` | [`BcryptHasher::plain`] | `bcrypt$$2b$12$…` (not in the default list) |
//! | `md5` | [`Md5Hasher`] | `md5$<salt>$<hex>` (not in the default list; weak) |
//!
//! # Design
//!
//! * [`PasswordHasher`] is the object-safe trait every algorithm implements. Work
//!   factors (PBKDF2 iterations, Argon2 costs, bcrypt rounds, scrypt N/r/p) are fields
//!   of each hasher value, so a deployment can pin them to the Django release sharing
//!   its database (Django raises the PBKDF2 count in most releases). Verification
//!   always reads the parameters from the stored hash, whatever is configured.
//! * [`Hashers`] is Django's `PASSWORD_HASHERS` list: an ordered, non-empty list whose
//!   first entry is the *preferred* hasher used for new hashes; the others are only
//!   accepted for verification (and trigger an upgrade on a successful login).
//!   [`Hashers::django_default`] reproduces Django's default list.
//! * There is no I/O and no global state: randomness (salts, unusable passwords, the
//!   timing equaliser) comes from a `&mut dyn rand_core::CryptoRng` argument,
//!   for example `&mut rand_core::UnwrapErr(getrandom::SysRng)`.
//! * Stored values come from a database and may be garbage: nothing here panics on
//!   them. Unparseable or unknown values simply fail to verify.
//! * Work factors read from a stored value are capped (PBKDF2 iterations, bcrypt rounds,
//!   Argon2 memory and time costs, scrypt parallelism; by default a few times Django's,
//!   never below the configured ones): a value over the cap fails to verify without
//!   hashing, so a hostile `password` column cannot make a login attempt hang or exhaust
//!   memory. Each hasher's `with_max_…` raises or lowers its cap.
//! * Comparisons between computed and stored hashes are constant-time.
//!
//! # Checking a password
//!
//! [`Hashers::check_password`] follows Django's `verify_password` exactly:
//!
//! 1. If the password is `None`, the stored value is unusable (starts with `!`) or no
//!    installed hasher recognises it, the preferred hasher hashes a random
//!    40-character password **once** (so the failure costs as much as a real check)
//!    and the result is invalid, with `must_update == false`.
//! 2. Otherwise the identified hasher verifies the password.
//! 3. `must_update` is true if that hasher is not the preferred one, or if the
//!    preferred hasher's [`PasswordHasher::must_update`] says the stored work factor or
//!    salt is out of date.
//! 4. A wrong password against an out-of-date hash of the preferred algorithm calls
//!    [`PasswordHasher::harden_runtime`] to close the timing gap.
//!
//! The caller re-hashes (with [`Hashers::make_password`]) and stores the new value
//! when [`PasswordCheck::needs_upgrade`] is true (valid and `must_update`).
//!
//! For an unknown user, authentication should call [`Hashers::fake_hash`] so that
//! the failure takes as long as a wrong password for an existing user.
//!
//! ```
//! use castellan_core::hashers::Hashers;
//! use getrandom::SysRng;
//! use rand_core::UnwrapErr;
//!
//! // Django's default list, with the PBKDF2 count pinned to Django 5.2's.
//! let hashers = Hashers::django_default_with_iterations(1_000).unwrap();
//! let encoded = hashers.make_password("lètmein", &mut UnwrapErr(SysRng)).unwrap();
//! assert!(encoded.starts_with("pbkdf2_sha256$1000$"));
//! let check = hashers.check_password(Some("lètmein".as_bytes()), &encoded, &mut UnwrapErr(SysRng));
//! assert!(check.valid && !check.must_update);
//! ```
//!
//! # Testing support
//!
//! [`CountingHasher`] wraps any hasher and counts calls to `encode`, `verify` and
//! `harden_runtime`, so that authentication code can prove the hashing work runs
//! exactly once on every failed-login path.
//!
//! # Differences from Django
//!
//! * [`Hashers::make_password_with`] with an empty salt is an error; Django would
//!   generate one (use [`Hashers::make_password`] for a fresh salt).
//! * Duplicate algorithm names in one [`Hashers`] list are rejected (Django silently
//!   keeps the last one for lookups).
//! * Malformed stored values of a known algorithm return "invalid" where Django
//!   raises an exception; the name `default` is never identified from a stored value.
//! * The removed legacy hashers (unsalted md5/sha1, sha1, crypt) do not exist, as in
//!   Django 6.1: their hashes identify as unknown algorithms.

use std::fmt;
use std::sync::Arc;

use rand_core::CryptoRng;
use subtle::ConstantTimeEq;

pub mod argon2;
pub mod bcrypt;
pub mod counting;
pub mod md5;
pub mod pbkdf2;
pub mod salt;
pub mod scrypt;

pub use self::argon2::Argon2Hasher;
pub use self::bcrypt::BcryptHasher;
pub use self::counting::{CountingHasher, HashCounter};
pub use self::md5::Md5Hasher;
pub use self::pbkdf2::{Pbkdf2Digest, Pbkdf2Hasher};
pub use self::scrypt::ScryptHasher;

/// The prefix marking a password that can never be valid (`set_unusable_password`).
pub const UNUSABLE_PASSWORD_PREFIX: &str = "!";

/// Errors from configuring hashers or producing a hash.
///
/// Verifying never errors: a stored value that cannot be used simply fails to verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HashError {
    /// No installed hasher has this algorithm name (Django's `ValueError` from `get_hasher`).
    #[error(
        "Unknown password hashing algorithm '{0}'. Did you specify it in the PASSWORD_HASHERS setting?"
    )]
    UnknownAlgorithm(String),
    /// The salt is empty or contains `$` (pbkdf2, scrypt and md5; Django's message).
    #[error("salt must be provided and cannot contain $.")]
    InvalidSalt,
    /// The salt is not acceptable to this particular algorithm, e.g. shorter than
    /// Argon2's 8-byte minimum, or not a `$2b$<cost>$<22 chars>` bcrypt salt.
    #[error("invalid salt for {algorithm}: {reason}")]
    UnsupportedSalt {
        /// The hasher's algorithm name.
        algorithm: String,
        /// What is wrong with the salt.
        reason: String,
    },
    /// A work-factor parameter is out of the algorithm's range (for example 0 PBKDF2
    /// iterations, bcrypt rounds outside 4..=31, or a non-power-of-two scrypt N).
    #[error("invalid {algorithm} parameters: {reason}")]
    InvalidParameters {
        /// The hasher's algorithm name.
        algorithm: String,
        /// Which parameter is wrong and why.
        reason: String,
    },
    /// The password is longer than the algorithm accepts (plain `bcrypt`: 72 bytes).
    #[error("password cannot be longer than {max} bytes")]
    PasswordTooLong {
        /// The maximum length in bytes.
        max: usize,
    },
    /// A [`Hashers`] list must contain at least one hasher.
    #[error("at least one password hasher must be configured")]
    NoHashers,
    /// Two hashers in one [`Hashers`] list share an algorithm name.
    #[error("password hashing algorithm '{0}' is configured more than once")]
    DuplicateAlgorithm(String),
}

/// One password hashing algorithm (Django's `BasePasswordHasher`).
///
/// Implementations must be cheap to share between threads and must never panic on a
/// malformed `encoded` value.
pub trait PasswordHasher: Send + Sync {
    /// The algorithm name, which is also the stored value's prefix before the first `$`.
    fn algorithm(&self) -> &str;

    /// A fresh salt suitable for [`encode`](Self::encode).
    ///
    /// The default is 22 characters from `[a-zA-Z0-9]` (128+ bits of entropy).
    fn salt(&self, rng: &mut dyn CryptoRng) -> String {
        salt::generate_salt(rng)
    }

    /// Hashes `password` with `salt` and this hasher's configured parameters, returning
    /// the value to store.
    fn encode(&self, password: &[u8], salt: &str) -> Result<String, HashError>;

    /// Whether `password` matches `encoded`, using the parameters stored in `encoded`.
    /// Returns false for a malformed value or one of another algorithm.
    fn verify(&self, password: &[u8], encoded: &str) -> bool;

    /// Whether `encoded` should be re-hashed because its parameters differ from this
    /// hasher's configuration or its salt is weak. Meaningful only for values of this
    /// hasher's algorithm.
    fn must_update(&self, encoded: &str) -> bool {
        let _ = encoded;
        false
    }

    /// Performs extra work after a failed [`verify`](Self::verify) of an out-of-date
    /// value, so that the failure takes about as long as with the configured work factor.
    fn harden_runtime(&self, password: &[u8], encoded: &str) {
        let _ = (password, encoded);
    }
}

impl fmt::Debug for dyn PasswordHasher + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

/// The result of [`Hashers::check_password`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct PasswordCheck {
    /// Whether the password matched.
    pub valid: bool,
    /// Whether the stored value is out of date (other algorithm, other work factor or
    /// weak salt). Can be true for an invalid password too.
    pub must_update: bool,
}

impl PasswordCheck {
    /// True when the caller should re-hash the (correct) password with
    /// [`Hashers::make_password`] and store the result: `valid && must_update`.
    pub fn needs_upgrade(&self) -> bool {
        self.valid && self.must_update
    }
}

/// An ordered, non-empty list of password hashers (Django's `PASSWORD_HASHERS`).
///
/// The first entry is the preferred hasher: it makes every new hash. Cloning is cheap.
#[derive(Clone)]
pub struct Hashers {
    /// The preferred hasher; also `hashers[0]`.
    preferred: Arc<dyn PasswordHasher>,
    /// All hashers, in order of preference.
    hashers: Vec<Arc<dyn PasswordHasher>>,
}

impl fmt::Debug for Hashers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hashers")
            .field("algorithms", &self.algorithms().collect::<Vec<_>>())
            .finish()
    }
}

impl Default for Hashers {
    fn default() -> Self {
        Self::django_default()
    }
}

impl Hashers {
    /// A list from hashers in order of preference.
    ///
    /// Errors with [`HashError::NoHashers`] if `hashers` is empty and with
    /// [`HashError::DuplicateAlgorithm`] if two share an algorithm name.
    pub fn new(hashers: Vec<Box<dyn PasswordHasher>>) -> Result<Self, HashError> {
        if hashers.is_empty() {
            return Err(HashError::NoHashers);
        }
        for (i, h) in hashers.iter().enumerate() {
            if hashers[..i].iter().any(|o| o.algorithm() == h.algorithm()) {
                return Err(HashError::DuplicateAlgorithm(h.algorithm().to_owned()));
            }
        }
        let hashers: Vec<Arc<dyn PasswordHasher>> = hashers.into_iter().map(Arc::from).collect();
        match hashers.first() {
            Some(preferred) => Ok(Self {
                preferred: Arc::clone(preferred),
                hashers,
            }),
            None => Err(HashError::NoHashers),
        }
    }

    fn from_arcs(preferred: Arc<dyn PasswordHasher>, others: Vec<Arc<dyn PasswordHasher>>) -> Self {
        let mut hashers = Vec::with_capacity(others.len() + 1);
        hashers.push(Arc::clone(&preferred));
        hashers.extend(others);
        Self { preferred, hashers }
    }

    /// Django 6.1's default list: `pbkdf2_sha256` (preferred), `pbkdf2_sha1`, `argon2`,
    /// `bcrypt_sha256`, `scrypt`, all with Django 6.1.3's parameters.
    pub fn django_default() -> Self {
        Self::from_arcs(
            Arc::new(Pbkdf2Hasher::sha256()),
            vec![
                Arc::new(Pbkdf2Hasher::sha1()),
                Arc::new(Argon2Hasher::new()),
                Arc::new(BcryptHasher::sha256()),
                Arc::new(ScryptHasher::new()),
            ],
        )
    }

    /// Django's default list with both PBKDF2 hashers configured for `iterations`
    /// (e.g. 1_000_000 to match Django 5.2, 1_200_000 for 6.0).
    ///
    /// Errors with [`HashError::InvalidParameters`] if `iterations` is 0.
    pub fn django_default_with_iterations(iterations: u32) -> Result<Self, HashError> {
        Ok(Self::from_arcs(
            Arc::new(Pbkdf2Hasher::sha256().with_iterations(iterations)?),
            vec![
                Arc::new(Pbkdf2Hasher::sha1().with_iterations(iterations)?),
                Arc::new(Argon2Hasher::new()),
                Arc::new(BcryptHasher::sha256()),
                Arc::new(ScryptHasher::new()),
            ],
        ))
    }

    /// The preferred (first) hasher.
    pub fn preferred(&self) -> &dyn PasswordHasher {
        self.preferred.as_ref()
    }

    /// The configured algorithm names, preferred first.
    pub fn algorithms(&self) -> impl Iterator<Item = &str> + '_ {
        self.hashers.iter().map(|h| h.algorithm())
    }

    /// The hasher named `algorithm` (Django's `get_hasher`); `"default"` means the
    /// preferred one.
    pub fn hasher(&self, algorithm: &str) -> Result<&dyn PasswordHasher, HashError> {
        if algorithm == "default" {
            return Ok(self.preferred());
        }
        self.by_name(algorithm)
            .ok_or_else(|| HashError::UnknownAlgorithm(algorithm.to_owned()))
    }

    fn by_name(&self, algorithm: &str) -> Option<&dyn PasswordHasher> {
        self.hashers
            .iter()
            .find(|h| h.algorithm() == algorithm)
            .map(|h| h.as_ref())
    }

    /// The hasher that produced `encoded` (Django's `identify_hasher`).
    ///
    /// The algorithm is the text before the first `$`. As in Django, ancient unsalted
    /// formats map to `unsalted_md5` (32 characters without `$`, or 37 starting
    /// `md5$$`) and `unsalted_sha1` (46 starting `sha1$$`), which are not installed
    /// by default. Errors with [`HashError::UnknownAlgorithm`].
    pub fn identify(&self, encoded: &str) -> Result<&dyn PasswordHasher, HashError> {
        let algorithm = identify_algorithm(encoded);
        self.by_name(algorithm)
            .ok_or_else(|| HashError::UnknownAlgorithm(algorithm.to_owned()))
    }

    /// Hashes `password` with the preferred hasher and a fresh salt.
    ///
    /// The built-in hashers never fail here (their parameters are validated when they
    /// are built); the `Result` is for custom hashers.
    pub fn make_password(
        &self,
        password: impl AsRef<[u8]>,
        rng: &mut dyn CryptoRng,
    ) -> Result<String, HashError> {
        let hasher = self.preferred();
        let salt = hasher.salt(rng);
        hasher.encode(password.as_ref(), &salt)
    }

    /// Hashes `password` with the given salt and the hasher named `algorithm`
    /// (`None` or `"default"`: the preferred one).
    ///
    /// Errors with [`HashError::UnknownAlgorithm`] for an algorithm that is not in the
    /// list, and with the hasher's salt error for an unacceptable salt (for example
    /// [`HashError::InvalidSalt`] for an empty salt or one containing `$`).
    pub fn make_password_with(
        &self,
        password: impl AsRef<[u8]>,
        salt: &str,
        algorithm: Option<&str>,
    ) -> Result<String, HashError> {
        let hasher = match algorithm {
            None => self.preferred(),
            Some(name) => self.hasher(name)?,
        };
        hasher.encode(password.as_ref(), salt)
    }

    /// Checks `password` against the stored value `encoded`, exactly as Django's
    /// `verify_password` does (see the [module documentation](self)).
    ///
    /// A `None` password, an unusable or unidentifiable stored value runs the preferred
    /// hasher once on a random password and returns an invalid result.
    pub fn check_password(
        &self,
        password: Option<&[u8]>,
        encoded: &str,
        rng: &mut dyn CryptoRng,
    ) -> PasswordCheck {
        let identified = match password {
            Some(password) if is_password_usable(encoded) => {
                self.identify(encoded).ok().map(|h| (password, h))
            }
            _ => None,
        };
        let Some((password, hasher)) = identified else {
            self.fake_hash(rng);
            return PasswordCheck {
                valid: false,
                must_update: false,
            };
        };
        let preferred = self.preferred();
        let hasher_changed = hasher.algorithm() != preferred.algorithm();
        let must_update = hasher_changed || preferred.must_update(encoded);
        let valid = hasher.verify(password, encoded);
        if !valid && !hasher_changed && must_update {
            hasher.harden_runtime(password, encoded);
        }
        PasswordCheck { valid, must_update }
    }

    /// Hashes a random 40-character password once with the preferred hasher and throws
    /// the result away.
    ///
    /// Authentication calls this when the user does not exist, so that the failure
    /// costs as much as checking a real user's password (Django hashes the submitted
    /// password with `User().set_password`; the cost is the same).
    pub fn fake_hash(&self, rng: &mut dyn CryptoRng) {
        let password = salt::random_string(rng, salt::UNUSABLE_PASSWORD_SUFFIX_LENGTH);
        let result = self.make_password(password, rng);
        std::hint::black_box(result).ok();
    }
}

/// The algorithm name `identify` looks up for a stored value (Django's special cases
/// for ancient unsalted hashes included). Lengths count characters, as in Python.
fn identify_algorithm(encoded: &str) -> &str {
    let len = encoded.chars().count();
    if (len == 32 && !encoded.contains('$')) || (len == 37 && encoded.starts_with("md5$$")) {
        "unsalted_md5"
    } else if len == 46 && encoded.starts_with("sha1$$") {
        "unsalted_sha1"
    } else {
        encoded.split('$').next().unwrap_or("")
    }
}

/// Whether `encoded` may be a real hash: true unless it starts with `!`.
///
/// As in Django, the empty string and garbage count as usable (they just never verify).
pub fn is_password_usable(encoded: &str) -> bool {
    !encoded.starts_with(UNUSABLE_PASSWORD_PREFIX)
}

/// A fresh unusable password: `!` followed by 40 random characters from `[a-zA-Z0-9]`
/// (Django's `make_password(None)`).
pub fn unusable_password(rng: &mut dyn CryptoRng) -> String {
    let mut s = String::with_capacity(1 + salt::UNUSABLE_PASSWORD_SUFFIX_LENGTH);
    s.push_str(UNUSABLE_PASSWORD_PREFIX);
    s.push_str(&salt::random_string(
        rng,
        salt::UNUSABLE_PASSWORD_SUFFIX_LENGTH,
    ));
    s
}

/// Constant-time equality of two strings (Django's `constant_time_compare`); only the
/// lengths may leak.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// Parses a decimal made of ASCII digits only (no sign, no spaces) into a u32.
pub(crate) fn parse_digits_u32(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use getrandom::SysRng;
    use rand_core::UnwrapErr;

    fn md5_only() -> Hashers {
        Hashers::new(vec![Box::new(Md5Hasher::new())]).unwrap()
    }

    #[test]
    fn identify_special_cases() {
        assert_eq!(identify_algorithm(&"a".repeat(32)), "unsalted_md5");
        assert_eq!(
            identify_algorithm(&format!("md5$${}", "a".repeat(32))),
            "unsalted_md5"
        );
        assert_eq!(
            identify_algorithm(&format!("sha1$${}", "a".repeat(40))),
            "unsalted_sha1"
        );
        assert_eq!(identify_algorithm(&"é".repeat(32)), "unsalted_md5");
        assert_eq!(identify_algorithm("md5$salt$x"), "md5");
        assert_eq!(identify_algorithm(""), "");
        assert_eq!(identify_algorithm("nodollar"), "nodollar");
        let h = md5_only();
        assert!(matches!(
            h.identify(&"a".repeat(32)),
            Err(HashError::UnknownAlgorithm(a)) if a == "unsalted_md5"
        ));
        // A 37-char md5$$ value would otherwise look like md5.
        assert!(h.identify(&format!("md5$${}", "a".repeat(32))).is_err());
    }

    #[test]
    fn new_rejects_empty_and_duplicates() {
        assert_eq!(Hashers::new(vec![]).unwrap_err(), HashError::NoHashers);
        let err =
            Hashers::new(vec![Box::new(Md5Hasher::new()), Box::new(Md5Hasher::new())]).unwrap_err();
        assert_eq!(err, HashError::DuplicateAlgorithm("md5".into()));
    }

    #[test]
    fn default_name_maps_to_preferred() {
        let h = md5_only();
        assert_eq!(h.hasher("default").unwrap().algorithm(), "md5");
        let a = h.make_password_with("x", "salt", Some("default")).unwrap();
        let b = h.make_password_with("x", "salt", None).unwrap();
        assert_eq!(a, b);
        // ...but a stored value is never identified as "default".
        assert!(h.identify("default$salt$x").is_err());
    }

    #[test]
    fn helpers() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
        assert_eq!(parse_digits_u32("0100"), Some(100));
        assert_eq!(parse_digits_u32("+1"), None);
        assert_eq!(parse_digits_u32(""), None);
        assert_eq!(parse_digits_u32("4294967296"), None);
        let u = unusable_password(&mut UnwrapErr(SysRng));
        assert_eq!(u.len(), 41);
        assert!(!is_password_usable(&u));
        assert_eq!(
            format!("{:?}", md5_only()),
            "Hashers { algorithms: [\"md5\"] }"
        );
    }
}
