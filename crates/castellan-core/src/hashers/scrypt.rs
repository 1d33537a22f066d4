//! scrypt (`scrypt`), as Django computes it with `hashlib.scrypt` (OpenSSL).

use ::scrypt::Params;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::{constant_time_eq, parse_digits_u32, HashError, PasswordHasher};

/// Django 6.1's scrypt work factor N (2^14).
pub const DEFAULT_WORK_FACTOR: u32 = 1 << 14;
/// Django 6.1's scrypt block size r.
pub const DEFAULT_BLOCK_SIZE: u32 = 8;
/// Django 6.1's scrypt parallelism p.
pub const DEFAULT_PARALLELISM: u32 = 5;
/// OpenSSL's default memory limit, used when Django passes `maxmem=0`: 32 MiB.
pub const OPENSSL_DEFAULT_MAXMEM: u64 = 32 * 1024 * 1024;
/// The largest parallelism a stored value may ask [`verify`](PasswordHasher::verify) for, by
/// default: eight times Django's. With the memory limit bounding N·r, this bounds the work to
/// 16 times Django's. See [`ScryptHasher::with_max_parallelism`].
pub const DEFAULT_MAX_PARALLELISM: u32 = 8 * DEFAULT_PARALLELISM;
/// Length of the derived key in bytes.
const DKLEN: usize = 64;
const ALGORITHM: &str = "scrypt";

/// Django's `ScryptPasswordHasher`.
///
/// Stored format: `scrypt$<N>$<salt>$<r>$<p>$<base64 hash>` with a 64-byte key in
/// padded standard base64; the password and salt are used as their UTF-8 bytes.
///
/// Like OpenSSL (which Django's `hashlib.scrypt` uses, with `maxmem=0`), parameters
/// needing more than 32 MiB (`128·r·(N + 2) + 128·r·p` bytes) are refused: encoding
/// errors and verifying fails. Django's defaults need about 16 MiB. Raise the limit
/// with [`with_max_memory`](Self::with_max_memory) if your Django sets `maxmem`.
///
/// The memory limit does not bound the work: p lanes run one after the other, so a stored
/// `p` of 16,000 would take minutes. A stored value whose parallelism exceeds
/// [`DEFAULT_MAX_PARALLELISM`] (or the configured one, if larger; see
/// [`with_max_parallelism`](Self::with_max_parallelism)) fails to verify without hashing.
///
/// * `must_update`: N, r or p differ from the configuration. A weak salt does **not**
///   count (as in Django).
/// * `harden_runtime`: nothing (as in Django).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScryptHasher {
    work_factor: u32,
    block_size: u32,
    parallelism: u32,
    max_memory: u64,
    max_parallelism: u32,
}

impl Default for ScryptHasher {
    fn default() -> Self {
        Self::new()
    }
}

/// The fields of a stored scrypt value.
struct Decoded<'a> {
    n: u32,
    salt: &'a str,
    r: u32,
    p: u32,
}

fn decode(encoded: &str) -> Option<Decoded<'_>> {
    let rest = encoded.strip_prefix(ALGORITHM)?.strip_prefix('$')?;
    let mut parts = rest.split('$');
    let n = parse_digits_u32(parts.next()?)?;
    let salt = parts.next()?;
    let r = parse_digits_u32(parts.next()?)?;
    let p = parse_digits_u32(parts.next()?)?;
    parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    Some(Decoded { n, salt, r, p })
}

impl ScryptHasher {
    /// Django 6.1's parameters: N = 16384, r = 8, p = 5.
    pub const fn new() -> Self {
        Self {
            work_factor: DEFAULT_WORK_FACTOR,
            block_size: DEFAULT_BLOCK_SIZE,
            parallelism: DEFAULT_PARALLELISM,
            max_memory: OPENSSL_DEFAULT_MAXMEM,
            max_parallelism: DEFAULT_MAX_PARALLELISM,
        }
    }

    /// The same hasher with other parameters: `n` a power of two above 1, `r` and `p`
    /// at least 1, within scrypt's and the memory limit's bounds.
    pub fn with_params(self, n: u32, r: u32, p: u32) -> Result<Self, HashError> {
        let new = Self {
            work_factor: n,
            block_size: r,
            parallelism: p,
            ..self
        };
        new.params(n, r, p).map_err(invalid)?;
        Ok(new)
    }

    /// The same hasher with another memory limit in bytes (Django's `maxmem`; 0 means
    /// OpenSSL's default of 32 MiB). The configured parameters must fit in it.
    pub fn with_max_memory(self, max_memory: u64) -> Result<Self, HashError> {
        let max_memory = if max_memory == 0 {
            OPENSSL_DEFAULT_MAXMEM
        } else {
            max_memory
        };
        let new = Self { max_memory, ..self };
        new.params(new.work_factor, new.block_size, new.parallelism)
            .map_err(invalid)?;
        Ok(new)
    }

    /// The same hasher with another verification limit: stored values with a parallelism above
    /// `max_parallelism` (or the configured one, if larger) fail to verify unhashed.
    pub fn with_max_parallelism(self, max_parallelism: u32) -> Self {
        Self {
            max_parallelism,
            ..self
        }
    }

    /// The largest stored parallelism [`verify`](PasswordHasher::verify) hashes with.
    pub fn max_parallelism(&self) -> u32 {
        self.max_parallelism.max(self.parallelism)
    }

    /// The configured work factor N.
    pub fn work_factor(&self) -> u32 {
        self.work_factor
    }

    /// The configured block size r.
    pub fn block_size(&self) -> u32 {
        self.block_size
    }

    /// The configured parallelism p.
    pub fn parallelism(&self) -> u32 {
        self.parallelism
    }

    /// Validates N, r, p as OpenSSL does and converts them for the scrypt crate.
    fn params(&self, n: u32, r: u32, p: u32) -> Result<Params, &'static str> {
        if n < 2 || !n.is_power_of_two() {
            return Err("n must be a power of 2 greater than 1");
        }
        if r == 0 || p == 0 {
            return Err("r and p must be at least 1");
        }
        let (n128, r128, p128) = (u128::from(n), u128::from(r), u128::from(p));
        let memory = 128 * r128 * (n128 + 2) + 128 * r128 * p128;
        if memory > u128::from(self.max_memory) {
            return Err("memory limit exceeded");
        }
        let log_n = u8::try_from(n.trailing_zeros()).map_err(|_| "n out of range")?;
        // OpenSSL requires N < 2^(16·r) (RFC 7914's bound); the scrypt crate dropped
        // that check in 0.12.
        if u64::from(log_n) >= 16 * u64::from(r) {
            return Err("n must be less than 2^(16·r)");
        }
        Params::new(log_n, r, p).map_err(|_| "parameters out of range")
    }

    fn encode_with(&self, password: &[u8], salt: &str, n: u32, r: u32, p: u32) -> Option<String> {
        let params = self.params(n, r, p).ok()?;
        let mut out = [0u8; DKLEN];
        ::scrypt::scrypt(password, salt.as_bytes(), &params, &mut out).ok()?;
        Some(format!(
            "scrypt${n}${salt}${r}${p}${}",
            STANDARD.encode(out)
        ))
    }
}

fn invalid(reason: &str) -> HashError {
    HashError::InvalidParameters {
        algorithm: ALGORITHM.to_owned(),
        reason: reason.to_owned(),
    }
}

impl PasswordHasher for ScryptHasher {
    fn algorithm(&self) -> &str {
        ALGORITHM
    }

    fn encode(&self, password: &[u8], salt: &str) -> Result<String, HashError> {
        if salt.is_empty() || salt.contains('$') {
            return Err(HashError::InvalidSalt);
        }
        let (n, r, p) = (self.work_factor, self.block_size, self.parallelism);
        self.params(n, r, p).map_err(invalid)?;
        self.encode_with(password, salt, n, r, p)
            .ok_or_else(|| invalid("hashing failed"))
    }

    fn verify(&self, password: &[u8], encoded: &str) -> bool {
        let Some(d) = decode(encoded) else {
            return false;
        };
        if d.salt.is_empty() || d.p > self.max_parallelism() {
            return false;
        }
        match self.encode_with(password, d.salt, d.n, d.r, d.p) {
            Some(computed) => constant_time_eq(&computed, encoded),
            None => false,
        }
    }

    fn must_update(&self, encoded: &str) -> bool {
        match decode(encoded) {
            Some(d) => d.n != self.work_factor || d.r != self.block_size || d.p != self.parallelism,
            None => true,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn low_cost_vector_from_django() {
        let h = ScryptHasher::new().with_params(1024, 2, 1).unwrap();
        let e = h.encode("lètmein".as_bytes(), "seasalt").unwrap();
        assert_eq!(
            e,
            "scrypt$1024$seasalt$2$1$KVbhKSkJ5TJf06jGYS4TvSZQzSOtiRjR2B8oR4nAJl2v/nN2SNaAWdX5TqJJfPrZiVNZf0B43nrXAcDQ4jRDVw=="
        );
        assert!(h.verify("lètmein".as_bytes(), &e));
        assert!(!h.must_update(&e));
        assert!(ScryptHasher::new().must_update(&e));
        // weak salt is not a reason to update for scrypt
        assert!(!h.must_update("scrypt$1024$s$2$1$x"));
    }

    #[test]
    fn openssl_limits() {
        let h = ScryptHasher::new();
        // What Python's hashlib.scrypt (OpenSSL) accepts and refuses with maxmem=0.
        assert!(h.params(16384, 8, 5).is_ok());
        assert!(h.params(16384, 8, 1000).is_ok());
        assert!(h.params(2, 1, 1).is_ok());
        assert!(h.params(32768, 8, 1).is_err());
        assert!(h.params(16384, 16, 1).is_err());
        assert!(h.params(65536, 1, 1).is_err()); // N < 2^(16r) fails
        assert!(h.params(32768, 1, 1).is_ok());
        assert!(h.params(1 << 18, 1, 1).is_err());
        assert!(h.params(1, 1, 1).is_err());
        assert!(h.params(3, 1, 1).is_err());
        assert!(h.params(16, 0, 1).is_err());
        assert!(h.params(16, 1, 0).is_err());
        assert!(ScryptHasher::new().with_params(32768, 8, 1).is_err());
        let big = ScryptHasher::new()
            .with_max_memory(64 * 1024 * 1024)
            .unwrap();
        assert!(big.with_params(32768, 8, 1).is_ok());
    }

    #[test]
    fn garbage() {
        let h = ScryptHasher::new().with_params(16, 1, 1).unwrap();
        let good = h.encode(b"pw", "salt").unwrap();
        assert!(h.verify(b"pw", &good));
        for g in [
            "",
            "scrypt",
            "scrypt$16$salt$1$1",
            "scrypt$16$$1$1$x",
            "scrypt$16$salt$1$1$x$y",
            "scrypt$0$salt$1$1$x",
            "scrypt$4294967295$salt$1$1$x",
            "scrypt$16$salt$0$1$x",
            "scrypt$16$salt$1$99999999$x",
            "scrypt$2147483648$salt$1$1$x",
        ] {
            assert!(!h.verify(b"pw", g), "{g}");
        }
        assert!(!h.verify(b"pw", &good.replacen("$16$", "$016$", 1)));
        assert_eq!(h.encode(b"pw", "sea$salt"), Err(HashError::InvalidSalt));
    }

    #[test]
    fn verification_limit() {
        let h = ScryptHasher::new().with_params(16, 1, 1).unwrap();
        let e = h
            .clone()
            .with_params(16, 1, 3)
            .unwrap()
            .encode(b"pw", "salt")
            .unwrap();
        assert!(h.verify(b"pw", &e));
        assert!(!h.clone().with_max_parallelism(2).verify(b"pw", &e));
        assert!(h.clone().with_max_parallelism(3).verify(b"pw", &e));
        let own = h.encode(b"pw", "salt").unwrap();
        assert!(h.with_max_parallelism(0).verify(b"pw", &own));
    }

    #[test]
    fn hostile_parallelism_is_refused_quickly() {
        // Within the 32 MiB memory limit, p = 16000 is 3200 times Django's work.
        let h = ScryptHasher::new();
        let start = std::time::Instant::now();
        assert!(!h.verify(b"x", "scrypt$16384$salt$8$16000$x"));
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }
}
