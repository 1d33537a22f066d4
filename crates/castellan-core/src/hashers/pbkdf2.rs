//! PBKDF2-HMAC hashers: `pbkdf2_sha256` (Django's preferred) and `pbkdf2_sha1`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::{constant_time_eq, parse_digits_u32, salt, HashError, PasswordHasher};

/// Django 6.1's PBKDF2 iteration count.
pub const DEFAULT_ITERATIONS: u32 = 1_500_000;

/// The largest iteration count a stored value may ask [`verify`](PasswordHasher::verify) for, by
/// default: ten times Django 6.1's count (a few seconds of work). See
/// [`Pbkdf2Hasher::with_max_iterations`].
pub const DEFAULT_MAX_ITERATIONS: u32 = 10 * DEFAULT_ITERATIONS;

/// The HMAC digest of a [`Pbkdf2Hasher`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pbkdf2Digest {
    /// HMAC-SHA256, 32-byte output: algorithm `pbkdf2_sha256`.
    Sha256,
    /// HMAC-SHA1, 20-byte output: algorithm `pbkdf2_sha1`.
    Sha1,
}

/// Django's `PBKDF2PasswordHasher` / `PBKDF2SHA1PasswordHasher`.
///
/// Stored format: `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`. The derived key
/// is as long as the digest and is encoded with padded standard base64; the password
/// and the salt are used as their UTF-8 bytes.
///
/// * `must_update`: the stored iteration count differs from the configured one (in
///   either direction), or the salt is shorter than 22 characters.
/// * `harden_runtime`: runs the missing iterations (`configured − stored`) once.
/// * A stored value whose iteration count exceeds the verification limit (default
///   [`DEFAULT_MAX_ITERATIONS`], never below the configured count) fails to verify without
///   hashing: whoever can write the `password` column could otherwise make each login attempt
///   run 4 billion iterations (about an hour).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pbkdf2Hasher {
    digest: Pbkdf2Digest,
    iterations: u32,
    max_iterations: u32,
}

impl Default for Pbkdf2Hasher {
    fn default() -> Self {
        Self::sha256()
    }
}

/// The fields of a stored PBKDF2 value.
struct Decoded<'a> {
    iterations: u32,
    salt: &'a str,
}

impl Pbkdf2Hasher {
    /// `pbkdf2_sha256` with Django 6.1's 1,500,000 iterations.
    pub const fn sha256() -> Self {
        Self {
            digest: Pbkdf2Digest::Sha256,
            iterations: DEFAULT_ITERATIONS,
            max_iterations: DEFAULT_MAX_ITERATIONS,
        }
    }

    /// `pbkdf2_sha1` with Django 6.1's 1,500,000 iterations.
    pub const fn sha1() -> Self {
        Self {
            digest: Pbkdf2Digest::Sha1,
            iterations: DEFAULT_ITERATIONS,
            max_iterations: DEFAULT_MAX_ITERATIONS,
        }
    }

    /// The same hasher configured for `iterations` (errors if 0).
    pub fn with_iterations(self, iterations: u32) -> Result<Self, HashError> {
        if iterations == 0 {
            return Err(HashError::InvalidParameters {
                algorithm: self.name().to_owned(),
                reason: "iterations must be at least 1".to_owned(),
            });
        }
        Ok(Self { iterations, ..self })
    }

    /// The same hasher with another verification limit: stored values asking for more than
    /// `max_iterations` (or the configured count, if that is larger) fail to verify unhashed.
    pub fn with_max_iterations(self, max_iterations: u32) -> Self {
        Self {
            max_iterations,
            ..self
        }
    }

    /// The largest stored iteration count [`verify`](PasswordHasher::verify) hashes with: the
    /// configured limit, or the configured iteration count if that is larger.
    pub fn max_iterations(&self) -> u32 {
        self.max_iterations.max(self.iterations)
    }

    /// The configured iteration count.
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// The digest.
    pub fn digest(&self) -> Pbkdf2Digest {
        self.digest
    }

    fn name(&self) -> &'static str {
        match self.digest {
            Pbkdf2Digest::Sha256 => "pbkdf2_sha256",
            Pbkdf2Digest::Sha1 => "pbkdf2_sha1",
        }
    }

    /// Derives the key and formats the stored value. `iterations` must be non-zero and
    /// `salt` already validated.
    fn encode_with(&self, password: &[u8], salt: &str, iterations: u32) -> String {
        let mut out = [0u8; 32];
        let key = match self.digest {
            Pbkdf2Digest::Sha256 => {
                ::pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
                    password,
                    salt.as_bytes(),
                    iterations,
                    &mut out,
                );
                &out[..]
            }
            Pbkdf2Digest::Sha1 => {
                let out = &mut out[..20];
                ::pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt.as_bytes(), iterations, out);
                &out[..]
            }
        };
        format!(
            "{}${}${}${}",
            self.name(),
            iterations,
            salt,
            STANDARD.encode(key)
        )
    }

    fn decode<'a>(&self, encoded: &'a str) -> Option<Decoded<'a>> {
        let rest = encoded.strip_prefix(self.name())?.strip_prefix('$')?;
        let mut parts = rest.splitn(3, '$');
        let iterations = parse_digits_u32(parts.next()?)?;
        let salt = parts.next()?;
        parts.next()?;
        Some(Decoded { iterations, salt })
    }

    /// The number of extra iterations `harden_runtime` runs for `encoded`, with the
    /// stored salt, if any.
    fn hardening_iterations<'a>(&self, encoded: &'a str) -> Option<(u32, &'a str)> {
        let decoded = self.decode(encoded)?;
        if decoded.salt.is_empty() {
            return None;
        }
        let extra = self.iterations.checked_sub(decoded.iterations)?;
        (extra > 0).then_some((extra, decoded.salt))
    }
}

impl PasswordHasher for Pbkdf2Hasher {
    fn algorithm(&self) -> &str {
        self.name()
    }

    fn encode(&self, password: &[u8], salt: &str) -> Result<String, HashError> {
        if salt.is_empty() || salt.contains('$') {
            return Err(HashError::InvalidSalt);
        }
        Ok(self.encode_with(password, salt, self.iterations))
    }

    fn verify(&self, password: &[u8], encoded: &str) -> bool {
        let Some(decoded) = self.decode(encoded) else {
            return false;
        };
        if decoded.iterations == 0
            || decoded.iterations > self.max_iterations()
            || decoded.salt.is_empty()
        {
            return false;
        }
        let computed = self.encode_with(password, decoded.salt, decoded.iterations);
        constant_time_eq(&computed, encoded)
    }

    fn must_update(&self, encoded: &str) -> bool {
        match self.decode(encoded) {
            Some(d) => d.iterations != self.iterations || salt::is_weak_salt(d.salt),
            None => true,
        }
    }

    fn harden_runtime(&self, password: &[u8], encoded: &str) {
        if let Some((extra, salt)) = self.hardening_iterations(encoded) {
            std::hint::black_box(self.encode_with(password, salt, extra));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn low_iteration_vectors_from_django() {
        let h = Pbkdf2Hasher::sha256().with_iterations(1000).unwrap();
        let s1 = Pbkdf2Hasher::sha1().with_iterations(1000).unwrap();
        let salt = "Wq2xkUu6oGL6vLXGmx1c4A";
        assert_eq!(
            h.encode("lètmein".as_bytes(), salt).unwrap(),
            "pbkdf2_sha256$1000$Wq2xkUu6oGL6vLXGmx1c4A$Etvz9kb4vgXvhww0mYzkMIiHPMryIB+dU5PRMJs/q2s="
        );
        assert_eq!(
            s1.encode(b"", salt).unwrap(),
            "pbkdf2_sha1$1000$Wq2xkUu6oGL6vLXGmx1c4A$7GO3o+tOzY5gRg5bw2m7X+j9Ae8="
        );
    }

    #[test]
    fn hardening_counts() {
        let h = Pbkdf2Hasher::sha256().with_iterations(100).unwrap();
        assert_eq!(
            h.hardening_iterations("pbkdf2_sha256$40$salt$x"),
            Some((60, "salt"))
        );
        assert_eq!(h.hardening_iterations("pbkdf2_sha256$100$salt$x"), None);
        assert_eq!(h.hardening_iterations("pbkdf2_sha256$200$salt$x"), None);
        assert_eq!(h.hardening_iterations("pbkdf2_sha256$x$salt$x"), None);
        assert_eq!(h.hardening_iterations("pbkdf2_sha1$40$salt$x"), None);
        // runs without panicking on garbage
        h.harden_runtime(b"x", "pbkdf2_sha256$");
        h.harden_runtime(b"x", "pbkdf2_sha256$40$salt$x");
    }

    #[test]
    fn garbage_never_verifies_or_panics() {
        let h = Pbkdf2Hasher::sha256().with_iterations(10).unwrap();
        for g in [
            "",
            "pbkdf2_sha256",
            "pbkdf2_sha256$",
            "pbkdf2_sha256$10",
            "pbkdf2_sha256$10$salt",
            "pbkdf2_sha256$0$salt$x",
            "pbkdf2_sha256$-1$salt$x",
            "pbkdf2_sha256$99999999999$salt$x",
            "pbkdf2_sha256$10$$x",
            "pbkdf2_sha256x$10$salt$x",
            "pbkdf2_sha1$10$salt$x",
            "pbkdf2_sha256$1é$salt$x",
        ] {
            assert!(!h.verify(b"x", g), "{g}");
            assert!(h.must_update(g), "{g}");
        }
        assert!(Pbkdf2Hasher::sha1().with_iterations(0).is_err());
    }

    #[test]
    fn non_canonical_iterations_do_not_verify() {
        let h = Pbkdf2Hasher::sha256().with_iterations(10).unwrap();
        let good = h.encode(b"pw", "somesaltsomesaltsomesa").unwrap();
        assert!(h.verify(b"pw", &good));
        let padded = good.replacen("$10$", "$010$", 1);
        assert!(!h.verify(b"pw", &padded));
        assert!(!h.verify(b"pw", &format!("{good}=")));
    }

    #[test]
    fn verification_limit() {
        let h = Pbkdf2Hasher::sha256().with_iterations(10).unwrap();
        let e = h
            .clone()
            .with_iterations(20)
            .unwrap()
            .encode(b"pw", "salt")
            .unwrap();
        assert!(h.verify(b"pw", &e));
        assert!(!h.clone().with_max_iterations(19).verify(b"pw", &e));
        assert!(h.clone().with_max_iterations(20).verify(b"pw", &e));
        // The limit never refuses the hasher's own values.
        let own = h.encode(b"pw", "salt").unwrap();
        assert_eq!(h.clone().with_max_iterations(1).max_iterations(), 10);
        assert!(h.with_max_iterations(1).verify(b"pw", &own));
    }

    #[test]
    fn hostile_iteration_counts_are_refused_quickly() {
        // A stored value is data: 4 billion iterations would take an hour per login attempt.
        let h = Pbkdf2Hasher::sha256();
        let start = std::time::Instant::now();
        assert!(!h.verify(b"x", "pbkdf2_sha256$4294967295$salt$x"));
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }
}
