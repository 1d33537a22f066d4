//! Random strings and salts, drawn from a caller-supplied CSPRNG.

use rand_core::CryptoRng;

/// The 62 characters Django's `get_random_string` uses by default: `[a-zA-Z0-9]`.
pub const RANDOM_STRING_CHARS: &str =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// The entropy, in bits, a generated salt must carry (Django's `salt_entropy`).
pub const SALT_ENTROPY_BITS: u32 = 128;

/// Length of a generated salt: `ceil(128 / log2(62))` = 22 characters.
pub const SALT_LENGTH: usize = 22;

/// Length of the random part of an unusable password (after the `!` prefix).
pub const UNUSABLE_PASSWORD_SUFFIX_LENGTH: usize = 40;

/// Returns `length` characters drawn uniformly from `[a-zA-Z0-9]`.
pub fn random_string(rng: &mut dyn CryptoRng, length: usize) -> String {
    random_string_from(rng, length, RANDOM_STRING_CHARS)
}

/// Returns `length` characters drawn uniformly (by rejection sampling) from `allowed_chars`.
///
/// An empty `allowed_chars` yields an empty string.
pub fn random_string_from(rng: &mut dyn CryptoRng, length: usize, allowed_chars: &str) -> String {
    let alphabet: Vec<char> = allowed_chars.chars().collect();
    let Ok(n) = u32::try_from(alphabet.len()) else {
        return String::new();
    };
    if n == 0 {
        return String::new();
    }
    // Largest multiple of n not above 2^32: values at or above it are rejected so that
    // every character is equally likely.
    let limit = (1u64 << 32) / u64::from(n) * u64::from(n);
    let mut out = String::with_capacity(length);
    let mut produced = 0;
    while produced < length {
        let v = u64::from(rng.next_u32());
        if v >= limit {
            continue;
        }
        if let Some(c) = usize::try_from(v % u64::from(n))
            .ok()
            .and_then(|i| alphabet.get(i))
        {
            out.push(*c);
            produced += 1;
        }
    }
    out
}

/// A fresh 22-character salt from `[a-zA-Z0-9]` (about 131 bits of entropy).
pub fn generate_salt(rng: &mut dyn CryptoRng) -> String {
    random_string(rng, SALT_LENGTH)
}

/// Django's `must_update_salt`: true when `salt_len` characters of a 62-letter alphabet
/// carry fewer than 128 bits, i.e. when the salt is shorter than 22 characters.
pub fn is_weak_salt_len(salt_len: usize) -> bool {
    // len * log2(62) < 128  <=>  len < 21.49...  <=>  len <= 21
    salt_len < SALT_LENGTH
}

/// [`is_weak_salt_len`] applied to a salt string, counting characters (not bytes) as Python does.
pub fn is_weak_salt(salt: &str) -> bool {
    is_weak_salt_len(salt.chars().count())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use getrandom::SysRng;
    use rand_core::UnwrapErr;

    #[test]
    fn salt_shape() {
        let s = generate_salt(&mut UnwrapErr(SysRng));
        assert_eq!(s.len(), 22);
        assert!(s.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(s, generate_salt(&mut UnwrapErr(SysRng)));
        assert!(!is_weak_salt(&s));
    }

    #[test]
    fn weak_salt_boundary_matches_log2_formula() {
        let bits = 62f64.log2();
        for len in 0..40 {
            assert_eq!(
                is_weak_salt_len(len),
                (len as f64) * bits < 128.0,
                "len {len}"
            );
        }
        assert!(is_weak_salt("iodizedsalt"));
        // characters, not bytes
        assert!(is_weak_salt("ééééééééééééééé"));
    }

    #[test]
    fn custom_alphabet_and_edge_cases() {
        let s = random_string_from(&mut UnwrapErr(SysRng), 50, "ab");
        assert_eq!(s.len(), 50);
        assert!(s.chars().all(|c| c == 'a' || c == 'b'));
        assert_eq!(random_string_from(&mut UnwrapErr(SysRng), 5, ""), "");
        assert_eq!(random_string(&mut UnwrapErr(SysRng), 0), "");
        let u = random_string_from(&mut UnwrapErr(SysRng), 10, "é🔑");
        assert_eq!(u.chars().count(), 10);
    }

    #[test]
    fn roughly_uniform() {
        let s = random_string(&mut UnwrapErr(SysRng), 62_000);
        for c in RANDOM_STRING_CHARS.chars() {
            let k = s.chars().filter(|x| *x == c).count();
            assert!((700..1300).contains(&k), "{c}: {k}");
        }
    }
}
