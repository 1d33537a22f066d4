//! Property tests for the password hashers: whatever a cheap hasher encodes verifies with its
//! password and not with another, a one-character change to the stored value never verifies, and
//! stored work factors above the verification limit are refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use castellan_core::hashers::{
    Argon2Hasher, BcryptHasher, Md5Hasher, PasswordHasher, Pbkdf2Hasher, ScryptHasher,
};
use proptest::prelude::*;

fn cheap(which: usize) -> Box<dyn PasswordHasher> {
    match which % 5 {
        0 => Box::new(Pbkdf2Hasher::sha256().with_iterations(3).unwrap()),
        1 => Box::new(Pbkdf2Hasher::sha1().with_iterations(3).unwrap()),
        2 => Box::new(Argon2Hasher::new().with_params(1, 8, 1).unwrap()),
        3 => Box::new(ScryptHasher::new().with_params(4, 1, 1).unwrap()),
        _ => Box::new(Md5Hasher::new()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn encode_verify_round_trip(
        which in 0usize..5,
        password in proptest::collection::vec(any::<u8>(), 0..40),
        salt in "[A-Za-z0-9]{8,24}",
        at in any::<usize>(),
        replacement in "[A-Za-z0-9$=+/]",
    ) {
        let h = cheap(which);
        let encoded = h.encode(&password, &salt).unwrap();
        prop_assert!(h.verify(&password, &encoded));
        // (Not a NUL: HMAC zero-pads its key, so PBKDF2 cannot tell "pw" from "pw\0", in Django too.)
        let mut other = password.clone();
        other.push(b'x');
        prop_assert!(!h.verify(&other, &encoded));
        // Any one-character change to the stored value fails.
        let i = at % encoded.len();
        let tampered = format!("{}{}{}", &encoded[..i], replacement, &encoded[i + 1..]);
        if tampered != encoded {
            prop_assert!(!h.verify(&password, &tampered), "{} verified", tampered);
        }
    }

    #[test]
    fn bcrypt_round_trip(password in proptest::collection::vec(any::<u8>(), 0..72)) {
        let h = BcryptHasher::sha256().with_rounds(4).unwrap();
        let encoded = h.encode(&password, "$2b$04$LqWmVGaUo3DytiDV9ZBQ0u").unwrap();
        prop_assert!(h.verify(&password, &encoded));
        let mut other = password.clone();
        other.push(b'x');
        prop_assert!(!h.verify(&other, &encoded));
    }

    #[test]
    fn stored_iterations_over_the_limit_are_refused(stored in 1u32..200, limit in 1u32..200) {
        let own = Pbkdf2Hasher::sha256().with_iterations(1).unwrap();
        let encoded = own.clone().with_iterations(stored).unwrap().encode(b"pw", "salt").unwrap();
        let h = own.with_max_iterations(limit);
        prop_assert_eq!(h.verify(b"pw", &encoded), stored <= limit);
    }
}
