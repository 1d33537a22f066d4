//! Argon2 (`argon2`), in argon2-cffi's encoding as Django stores it.

use ::argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use subtle::ConstantTimeEq;

use super::{salt, HashError, PasswordHasher};

/// Django 6.1's Argon2 time cost.
pub const DEFAULT_TIME_COST: u32 = 2;
/// Django 6.1's Argon2 memory cost, in KiB.
pub const DEFAULT_MEMORY_COST: u32 = 102_400;
/// Django 6.1's Argon2 parallelism.
pub const DEFAULT_PARALLELISM: u32 = 8;
/// argon2-cffi's default hash length in bytes (16 in releases before 18.2).
pub const DEFAULT_HASH_LEN: usize = 32;
/// The largest memory cost (KiB) a stored value may ask [`verify`](PasswordHasher::verify) for, by
/// default: four times Django's (400 MiB). See [`Argon2Hasher::with_max_costs`].
pub const DEFAULT_MAX_MEMORY_COST: u32 = 4 * DEFAULT_MEMORY_COST;
/// The largest time cost a stored value may ask [`verify`](PasswordHasher::verify) for, by
/// default: eight times Django's. See [`Argon2Hasher::with_max_costs`].
pub const DEFAULT_MAX_TIME_COST: u32 = 8 * DEFAULT_TIME_COST;

const ALGORITHM: &str = "argon2";

/// Django's `Argon2PasswordHasher`.
///
/// Stored format: `argon2$argon2id$v=19$m=102400,t=2,p=8$<salt>$<hash>` where salt and
/// hash are unpadded standard base64 and the salt is the bytes of Django's salt string.
/// New hashes are always Argon2id version 19. Verification accepts `argon2i`,
/// `argon2d` and `argon2id`, version 19 or 16, and the old format without `v=`
/// (which means version 16, as in libargon2).
///
/// * `must_update`: the variant, version, memory cost, time cost, parallelism or hash
///   length differ from the configuration, or the salt is shorter than 22 bytes.
/// * `harden_runtime`: nothing (as in Django).
///
/// A stored value whose memory or time cost exceeds the verification limits (default
/// [`DEFAULT_MAX_MEMORY_COST`] and [`DEFAULT_MAX_TIME_COST`], never below the configured
/// costs) fails to verify without hashing: whoever can write the `password` column could
/// otherwise make each login attempt take gigabytes of memory or hours. Memory for a
/// verification is also reserved fallibly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Argon2Hasher {
    time_cost: u32,
    memory_cost: u32,
    parallelism: u32,
    hash_len: usize,
    max_memory_cost: u32,
    max_time_cost: u32,
}

impl Default for Argon2Hasher {
    fn default() -> Self {
        Self::new()
    }
}

/// The fields of a stored Argon2 value.
#[derive(Debug)]
struct Decoded {
    algorithm: Algorithm,
    version: Version,
    memory_cost: u32,
    time_cost: u32,
    parallelism: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

fn invalid(reason: &str) -> HashError {
    HashError::InvalidParameters {
        algorithm: ALGORITHM.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Builds the argon2 crate's parameters, or reports why they are out of range.
fn params(m: u32, t: u32, p: u32, hash_len: usize) -> Result<Params, &'static str> {
    // Check p first: `Params::new` computes `8 * p`, which could overflow.
    if !(Params::MIN_P_COST..=Params::MAX_P_COST).contains(&p) {
        return Err("parallelism must be between 1 and 16777215");
    }
    if t < Params::MIN_T_COST {
        return Err("time cost must be at least 1");
    }
    if m < 8 * p {
        return Err("memory cost must be at least 8 KiB per lane");
    }
    if !(Params::MIN_OUTPUT_LEN..=Params::MAX_OUTPUT_LEN).contains(&hash_len) {
        return Err("hash length must be between 4 and 2^32-1 bytes");
    }
    Params::new(m, t, p, Some(hash_len)).map_err(|_| "parameters out of range")
}

/// Runs Argon2 with fallibly allocated memory.
fn hash(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), &'static str> {
    let mut blocks: Vec<Block> = Vec::new();
    blocks
        .try_reserve_exact(params.block_count())
        .map_err(|_| "cannot allocate the memory cost")?;
    blocks.resize(params.block_count(), Block::default());
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, out, &mut blocks[..])
        .map_err(|e| match e {
            ::argon2::Error::SaltTooShort => "Salt is too short",
            ::argon2::Error::SaltTooLong => "Salt is too long",
            ::argon2::Error::PwdTooLong => "Password is too long",
            _ => "hashing failed",
        })
}

/// Parses a decimal as libargon2 does: digits only, no leading zero, fits in a u32.
fn parse_decimal(s: &str) -> Option<u32> {
    if s.len() > 1 && s.starts_with('0') {
        return None;
    }
    super::parse_digits_u32(s)
}

fn decode(encoded: &str) -> Option<Decoded> {
    let rest = encoded.strip_prefix(ALGORITHM)?.strip_prefix('$')?;
    let mut parts = rest.split('$');
    let algorithm = match parts.next()? {
        "argon2id" => Algorithm::Argon2id,
        "argon2i" => Algorithm::Argon2i,
        "argon2d" => Algorithm::Argon2d,
        _ => return None,
    };
    let mut field = parts.next()?;
    let version = match field.strip_prefix("v=") {
        Some(v) => {
            field = parts.next()?;
            Version::try_from(parse_decimal(v)?).ok()?
        }
        None => Version::V0x10,
    };
    let (m, tp) = field.strip_prefix("m=")?.split_once(",t=")?;
    let (t, p) = tp.split_once(",p=")?;
    let salt = STANDARD_NO_PAD.decode(parts.next()?).ok()?;
    let hash = STANDARD_NO_PAD.decode(parts.next()?).ok()?;
    if parts.next().is_some() {
        return None;
    }
    Some(Decoded {
        algorithm,
        version,
        memory_cost: parse_decimal(m)?,
        time_cost: parse_decimal(t)?,
        parallelism: parse_decimal(p)?,
        salt,
        hash,
    })
}

impl Argon2Hasher {
    /// Django 6.1's parameters: Argon2id, t=2, m=102400 KiB, p=8, 32-byte hash.
    pub const fn new() -> Self {
        Self {
            time_cost: DEFAULT_TIME_COST,
            memory_cost: DEFAULT_MEMORY_COST,
            parallelism: DEFAULT_PARALLELISM,
            hash_len: DEFAULT_HASH_LEN,
            max_memory_cost: DEFAULT_MAX_MEMORY_COST,
            max_time_cost: DEFAULT_MAX_TIME_COST,
        }
    }

    /// The same hasher with other costs (memory in KiB). Errors if Argon2 rejects them:
    /// t ≥ 1, 1 ≤ p ≤ 2^24−1, m ≥ 8·p.
    pub fn with_params(
        self,
        time_cost: u32,
        memory_cost: u32,
        parallelism: u32,
    ) -> Result<Self, HashError> {
        params(memory_cost, time_cost, parallelism, self.hash_len).map_err(invalid)?;
        Ok(Self {
            time_cost,
            memory_cost,
            parallelism,
            ..self
        })
    }

    /// The same hasher producing `hash_len`-byte hashes (at least 4). Use 16 to match a
    /// Django installation with argon2-cffi older than 18.2.
    pub fn with_hash_len(self, hash_len: usize) -> Result<Self, HashError> {
        params(self.memory_cost, self.time_cost, self.parallelism, hash_len).map_err(invalid)?;
        Ok(Self { hash_len, ..self })
    }

    /// The configured time cost (iterations).
    pub fn time_cost(&self) -> u32 {
        self.time_cost
    }

    /// The configured memory cost in KiB.
    pub fn memory_cost(&self) -> u32 {
        self.memory_cost
    }

    /// The configured parallelism (lanes).
    pub fn parallelism(&self) -> u32 {
        self.parallelism
    }

    /// The configured hash length in bytes.
    pub fn hash_len(&self) -> usize {
        self.hash_len
    }

    /// The same hasher with other verification limits: stored values asking for more than
    /// `max_memory_cost` KiB or `max_time_cost` passes (or the configured costs, if larger)
    /// fail to verify unhashed.
    pub fn with_max_costs(self, max_memory_cost: u32, max_time_cost: u32) -> Self {
        Self {
            max_memory_cost,
            max_time_cost,
            ..self
        }
    }

    /// The largest stored memory cost (KiB) [`verify`](PasswordHasher::verify) hashes with.
    pub fn max_memory_cost(&self) -> u32 {
        self.max_memory_cost.max(self.memory_cost)
    }

    /// The largest stored time cost [`verify`](PasswordHasher::verify) hashes with.
    pub fn max_time_cost(&self) -> u32 {
        self.max_time_cost.max(self.time_cost)
    }
}

impl PasswordHasher for Argon2Hasher {
    fn algorithm(&self) -> &str {
        ALGORITHM
    }

    fn encode(&self, password: &[u8], salt: &str) -> Result<String, HashError> {
        let params = params(
            self.memory_cost,
            self.time_cost,
            self.parallelism,
            self.hash_len,
        )
        .map_err(invalid)?;
        let mut out = vec![0u8; self.hash_len];
        hash(
            Algorithm::Argon2id,
            Version::V0x13,
            params,
            password,
            salt.as_bytes(),
            &mut out,
        )
        .map_err(|reason| {
            if salt.len() < ::argon2::MIN_SALT_LEN {
                HashError::UnsupportedSalt {
                    algorithm: ALGORITHM.to_owned(),
                    reason: reason.to_owned(),
                }
            } else {
                invalid(reason)
            }
        })?;
        Ok(format!(
            "argon2$argon2id$v=19$m={},t={},p={}${}${}",
            self.memory_cost,
            self.time_cost,
            self.parallelism,
            STANDARD_NO_PAD.encode(salt.as_bytes()),
            STANDARD_NO_PAD.encode(&out),
        ))
    }

    fn verify(&self, password: &[u8], encoded: &str) -> bool {
        let Some(d) = decode(encoded) else {
            return false;
        };
        if d.memory_cost > self.max_memory_cost() || d.time_cost > self.max_time_cost() {
            return false;
        }
        let Ok(params) = params(d.memory_cost, d.time_cost, d.parallelism, d.hash.len()) else {
            return false;
        };
        let mut out = vec![0u8; d.hash.len()];
        if hash(d.algorithm, d.version, params, password, &d.salt, &mut out).is_err() {
            return false;
        }
        out.ct_eq(&d.hash).into()
    }

    fn must_update(&self, encoded: &str) -> bool {
        let Some(d) = decode(encoded) else {
            return true;
        };
        d.algorithm != Algorithm::Argon2id
            || d.version != Version::V0x13
            || d.memory_cost != self.memory_cost
            || d.time_cost != self.time_cost
            || d.parallelism != self.parallelism
            || d.hash.len() != self.hash_len
            || salt::is_weak_salt_len(d.salt.len())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn low() -> Argon2Hasher {
        Argon2Hasher::new().with_params(1, 64, 2).unwrap()
    }

    #[test]
    fn low_cost_vector_from_django() {
        // Django 6.1.3 / argon2-cffi 25.1 with time_cost=1, memory_cost=64, parallelism=2.
        let e = low()
            .encode("lètmein".as_bytes(), "Ozx0XnVJQ52mfqdxgn0Sdx")
            .unwrap();
        assert_eq!(
            e,
            "argon2$argon2id$v=19$m=64,t=1,p=2$T3p4MFhuVkpRNTJtZnFkeGduMFNkeA$sZTP9uyxQgUfFBabQEU4CevwiddkzJc8p06RN8sMqLU"
        );
        assert!(low().verify("lètmein".as_bytes(), &e));
        assert!(!low().must_update(&e));
        assert!(Argon2Hasher::new().must_update(&e));
        assert!(low().with_hash_len(16).unwrap().must_update(&e));
    }

    #[test]
    fn decode_forms() {
        let d = decode("argon2$argon2i$m=8,t=1,p=1$c29tZXNhbHQ$AAAAAA").unwrap();
        assert_eq!(d.version, Version::V0x10);
        assert_eq!(d.algorithm, Algorithm::Argon2i);
        assert_eq!(d.salt, b"somesalt");
        assert_eq!(d.hash.len(), 4);
        for bad in [
            "",
            "argon2",
            "argon2$",
            "argon2$argon2x$v=19$m=8,t=1,p=1$c29tZXNhbHQ$AAAAAA",
            "argon2$argon2id$v=18$m=8,t=1,p=1$c29tZXNhbHQ$AAAAAA",
            "argon2$argon2id$v=019$m=8,t=1,p=1$c29tZXNhbHQ$AAAAAA",
            "argon2$argon2id$v=19$t=1,m=8,p=1$c29tZXNhbHQ$AAAAAA",
            "argon2$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ=$AAAAAA",
            "argon2$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$AAAAAA$",
            "argon2$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ",
            "argon2$argon2id$v=19$m=8,t=1,p=+1$c29tZXNhbHQ$AAAAAA",
            "argon2$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHR$AAAAAA",
        ] {
            assert!(decode(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn garbage_parameters_fail_cleanly() {
        let h = low();
        for g in [
            // p = 0, p too large (8 * p would overflow u32), m < 8p, t = 0
            "argon2$argon2id$v=19$m=64,t=1,p=0$c29tZXNhbHQ$AAAAAA",
            "argon2$argon2id$v=19$m=64,t=1,p=4294967295$c29tZXNhbHQ$AAAAAA",
            "argon2$argon2id$v=19$m=7,t=1,p=1$c29tZXNhbHQ$AAAAAA",
            "argon2$argon2id$v=19$m=64,t=0,p=1$c29tZXNhbHQ$AAAAAA",
            // salt too short, hash too short
            "argon2$argon2id$v=19$m=64,t=1,p=1$c2FsdA$AAAAAA",
            "argon2$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$AAA",
        ] {
            assert!(!h.verify(b"x", g), "{g}");
            assert!(h.must_update(g), "{g}");
        }
    }

    #[test]
    fn bad_configuration_and_salt() {
        assert!(Argon2Hasher::new().with_params(0, 64, 1).is_err());
        assert!(Argon2Hasher::new().with_params(1, 7, 1).is_err());
        assert!(Argon2Hasher::new().with_params(1, 64, 0).is_err());
        assert!(Argon2Hasher::new().with_params(1, 64, u32::MAX).is_err());
        assert!(Argon2Hasher::new().with_hash_len(3).is_err());
        assert!(matches!(
            low().encode(b"x", "short"),
            Err(HashError::UnsupportedSalt { .. })
        ));
        // `$` is fine in an Argon2 salt (it is base64-encoded), as in Django.
        let e = low().encode(b"x", "sea$salt$long").unwrap();
        assert!(low().verify(b"x", &e));
    }

    #[test]
    fn verification_limits() {
        let e = low()
            .with_params(2, 128, 2)
            .unwrap()
            .encode(b"pw", "somesaltsomesalt")
            .unwrap();
        assert!(low().verify(b"pw", &e));
        assert!(!low().with_max_costs(127, 2).verify(b"pw", &e));
        assert!(!low().with_max_costs(128, 1).verify(b"pw", &e));
        assert!(low().with_max_costs(128, 2).verify(b"pw", &e));
        // The limits never refuse the hasher's own values.
        let own = low().encode(b"pw", "somesaltsomesalt").unwrap();
        assert!(low().with_max_costs(8, 1).verify(b"pw", &own));
    }

    #[test]
    fn hostile_costs_are_refused_quickly() {
        // 4 billion passes over 8 KiB, or 3.9 GiB of memory, from a stored value.
        let h = Argon2Hasher::new();
        for hostile in [
            "argon2$argon2id$v=19$m=8,t=4294967295,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA",
            "argon2$argon2id$v=19$m=4000000,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA",
        ] {
            let start = std::time::Instant::now();
            assert!(!h.verify(b"x", hostile), "{hostile}");
            assert!(
                start.elapsed() < std::time::Duration::from_secs(2),
                "{hostile}"
            );
        }
    }
}
