//! Integration tests for `castellan_core::hashers`, mirroring Django 6.1.3's
//! `tests/auth_tests/test_hashers.py` (spec §9, T99–T114) plus known-answer vectors
//! generated with real Django 6.1.3 (argon2-cffi 25.1, bcrypt 5.0).
//!
//! Most tests use low work factors; only the tests about Django's defaults run the
//! real ones.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use castellan_core::hashers::{
    is_password_usable, unusable_password, Argon2Hasher, BcryptHasher, CountingHasher, HashError,
    Hashers, Md5Hasher, PasswordHasher, Pbkdf2Hasher, ScryptHasher,
};
use getrandom::SysRng;
use rand_core::UnwrapErr;

const UNKNOWN_LOLCAT: &str =
    "Unknown password hashing algorithm 'lolcat'. Did you specify it in the PASSWORD_HASHERS setting?";
const BAD_SALT: &str = "salt must be provided and cannot contain $.";

/// Cheap hashers in Django's default order, plus md5: pbkdf2 at 1000 iterations,
/// argon2 t=1 m=64 p=2, bcrypt 4 rounds, scrypt N=1024 r=2 p=1.
fn fast_list() -> Vec<Box<dyn PasswordHasher>> {
    vec![
        Box::new(pbkdf2(1000)),
        Box::new(Pbkdf2Hasher::sha1().with_iterations(1000).unwrap()),
        Box::new(low_argon2()),
        Box::new(BcryptHasher::sha256().with_rounds(4).unwrap()),
        Box::new(ScryptHasher::new().with_params(1024, 2, 1).unwrap()),
        Box::new(Md5Hasher::new()),
    ]
}

fn fast() -> Hashers {
    Hashers::new(fast_list()).unwrap()
}

fn pbkdf2(iterations: u32) -> Pbkdf2Hasher {
    Pbkdf2Hasher::sha256().with_iterations(iterations).unwrap()
}

fn low_argon2() -> Argon2Hasher {
    Argon2Hasher::new().with_params(1, 64, 2).unwrap()
}

/// A list whose preferred hasher is `preferred`, followed by the fast ones of other names.
fn preferring(preferred: Box<dyn PasswordHasher>) -> Hashers {
    let mut list = vec![preferred];
    for h in fast_list() {
        if h.algorithm() != list[0].algorithm() {
            list.push(h);
        }
    }
    Hashers::new(list).unwrap()
}

fn check(h: &Hashers, password: &str, encoded: &str) -> bool {
    h.check_password(Some(password.as_bytes()), encoded, &mut UnwrapErr(SysRng))
        .valid
}

// ---------------------------------------------------------------------------
// T99–T106: basics
// ---------------------------------------------------------------------------

/// T99 (`test_simple`), with Django's real default (1.5M iterations).
#[test]
fn t99_simple_default() {
    let h = Hashers::django_default();
    let encoded = h.make_password("lètmein", &mut UnwrapErr(SysRng)).unwrap();
    assert!(encoded.starts_with("pbkdf2_sha256$1500000$"), "{encoded}");
    assert!(is_password_usable(&encoded));
    let ok = h.check_password(Some("lètmein".as_bytes()), &encoded, &mut UnwrapErr(SysRng));
    assert!(ok.valid && !ok.must_update && !ok.needs_upgrade());
    assert!(!check(&h, "lètmeinz", &encoded));
}

/// T99, blank password (`test_simple`), for every algorithm.
#[test]
fn t99_blank_password() {
    let h = fast();
    for algorithm in [
        "pbkdf2_sha256",
        "pbkdf2_sha1",
        "argon2",
        "bcrypt_sha256",
        "scrypt",
        "md5",
    ] {
        let hasher = h.hasher(algorithm).unwrap();
        let salt = hasher.salt(&mut UnwrapErr(SysRng));
        let blank = h.make_password_with("", &salt, Some(algorithm)).unwrap();
        assert!(blank.starts_with(&format!("{algorithm}$")), "{blank}");
        assert!(is_password_usable(&blank));
        assert!(check(&h, "", &blank), "{algorithm}");
        assert!(!check(&h, " ", &blank), "{algorithm}");
    }
}

/// T100 (`test_pbkdf2`): the exact default-iterations vector, identify, weak salt.
#[test]
fn t100_pbkdf2_vector_and_weak_salt() {
    let h = Hashers::django_default();
    let encoded = h
        .make_password_with("lètmein", "seasalt", Some("pbkdf2_sha256"))
        .unwrap();
    assert_eq!(
        encoded,
        "pbkdf2_sha256$1500000$seasalt$P4UiMPVduVWIL/oS1GzH+IofsccjJNM5hUTikBvi5to="
    );
    assert!(is_password_usable(&encoded));
    assert_eq!(h.identify(&encoded).unwrap().algorithm(), "pbkdf2_sha256");
    // The salt is weak, so the vector must be updated.
    assert!(h.preferred().must_update(&encoded));

    // Weak salt (11 characters) → must_update; a generated salt → not.
    let f = fast();
    let weak = f
        .make_password_with("lètmein", "iodizedsalt", Some("pbkdf2_sha256"))
        .unwrap();
    assert!(f.preferred().must_update(&weak));
    let strong = f.make_password("lètmein", &mut UnwrapErr(SysRng)).unwrap();
    assert!(!f.preferred().must_update(&strong));
}

/// T101 (`test_low_level_pbkdf2`, `test_low_level_pbkdf2_sha1`).
#[test]
fn t101_low_level_pbkdf2() {
    assert_eq!(
        Pbkdf2Hasher::sha256()
            .encode("lètmein".as_bytes(), "seasalt2")
            .unwrap(),
        "pbkdf2_sha256$1500000$seasalt2$xWKIh704updzhxL+vMfPbhVsHljK62FyE988AtcoHU4="
    );
    assert_eq!(
        Pbkdf2Hasher::sha1()
            .encode("lètmein".as_bytes(), "seasalt2")
            .unwrap(),
        "pbkdf2_sha1$1500000$seasalt2$ep4Ou2hnt2mlvMRsIjUln0Z5MYY="
    );
}

/// T102 (`test_md5`).
#[test]
fn t102_md5() {
    let h = fast();
    let encoded = h
        .make_password_with("lètmein", "seasalt", Some("md5"))
        .unwrap();
    assert_eq!(encoded, "md5$seasalt$3f86d0d3d465b7b458c231bf3555c0e3");
    assert!(is_password_usable(&encoded));
    assert!(check(&h, "lètmein", &encoded));
    assert!(!check(&h, "lètmeinz", &encoded));
    assert_eq!(h.identify(&encoded).unwrap().algorithm(), "md5");
    // Blank password.
    let blank = h.make_password_with("", "seasalt", Some("md5")).unwrap();
    assert!(check(&h, "", &blank));
    assert!(!check(&h, " ", &blank));
    // Weak salt → must_update with md5 preferred.
    let md5_first = preferring(Box::new(Md5Hasher::new()));
    assert!(md5_first.preferred().must_update(&encoded));
    let strong = md5_first
        .make_password("lètmein", &mut UnwrapErr(SysRng))
        .unwrap();
    assert!(!md5_first.preferred().must_update(&strong));
}

/// T103 (`test_unusable`).
#[test]
fn t103_unusable() {
    let h = fast();
    let encoded = unusable_password(&mut UnwrapErr(SysRng));
    assert_eq!(encoded.len(), 41);
    assert!(encoded.starts_with('!'));
    assert!(encoded[1..].chars().all(|c| c.is_ascii_alphanumeric()));
    assert!(!is_password_usable(&encoded));
    assert!(
        !h.check_password(None, &encoded, &mut UnwrapErr(SysRng))
            .valid
    );
    for candidate in [encoded.as_str(), "!", "", "lètmein"] {
        assert!(!check(&h, candidate, &encoded), "{candidate}");
    }
    let err = h.identify(&encoded).unwrap_err();
    assert!(err
        .to_string()
        .starts_with("Unknown password hashing algorithm"));
    assert_ne!(
        unusable_password(&mut UnwrapErr(SysRng)),
        unusable_password(&mut UnwrapErr(SysRng))
    );
}

/// T104 (`test_unspecified_password`).
#[test]
fn t104_unspecified_password() {
    let h = fast();
    let encoded = h.make_password("lètmein", &mut UnwrapErr(SysRng)).unwrap();
    let c = h.check_password(None, &encoded, &mut UnwrapErr(SysRng));
    assert!(!c.valid && !c.must_update);
}

/// T105 (`test_bad_algorithm`).
#[test]
fn t105_bad_algorithm() {
    let h = fast();
    let err = h
        .make_password_with("lètmein", "seasalt", Some("lolcat"))
        .unwrap_err();
    assert_eq!(err, HashError::UnknownAlgorithm("lolcat".into()));
    assert_eq!(err.to_string(), UNKNOWN_LOLCAT);
    let err = h.identify("lolcat$salt$hash").unwrap_err();
    assert_eq!(err.to_string(), UNKNOWN_LOLCAT);
    assert_eq!(h.hasher("lolcat").unwrap_err().to_string(), UNKNOWN_LOLCAT);
    assert!(!check(&h, "lètmein", "lolcat$salt$hash"));
}

/// T106 (`test_is_password_usable`).
#[test]
fn t106_is_password_usable() {
    assert!(is_password_usable("lètmein_badencoded"));
    assert!(is_password_usable(""));
    assert!(!is_password_usable("!"));
    assert!(!is_password_usable("!lètmein"));
}

// ---------------------------------------------------------------------------
// T107–T110: upgrades, hardening, fake runtime
// ---------------------------------------------------------------------------

/// T107 (`test_upgrade`, `test_no_upgrade_on_incorrect_pass`, `test_no_upgrade`).
#[test]
fn t107_upgrade_to_preferred() {
    let h = fast();
    for algorithm in ["pbkdf2_sha1", "md5", "argon2", "bcrypt_sha256", "scrypt"] {
        let salt = h.hasher(algorithm).unwrap().salt(&mut UnwrapErr(SysRng));
        let encoded = h
            .make_password_with("lètmein", &salt, Some(algorithm))
            .unwrap();
        let right = h.check_password(Some("lètmein".as_bytes()), &encoded, &mut UnwrapErr(SysRng));
        assert!(
            right.valid && right.must_update && right.needs_upgrade(),
            "{algorithm}"
        );
        let wrong = h.check_password(Some("WRONG".as_bytes()), &encoded, &mut UnwrapErr(SysRng));
        assert!(!wrong.valid && !wrong.needs_upgrade(), "{algorithm}");
    }
    // A current hash of the preferred algorithm: no upgrade either way.
    let current = h.make_password("lètmein", &mut UnwrapErr(SysRng)).unwrap();
    let right = h.check_password(Some("lètmein".as_bytes()), &current, &mut UnwrapErr(SysRng));
    assert!(right.valid && !right.must_update);
    let wrong = h.check_password(Some("WRONG".as_bytes()), &current, &mut UnwrapErr(SysRng));
    assert!(!wrong.valid && !wrong.needs_upgrade());
}

/// T108 (`test_pbkdf2_upgrade`): the iteration count is configuration, in both directions.
#[test]
fn t108_pbkdf2_iterations_upgrade() {
    let one = preferring(Box::new(pbkdf2(1)));
    let encoded = one
        .make_password("lètmein", &mut UnwrapErr(SysRng))
        .unwrap();
    assert!(encoded.starts_with("pbkdf2_sha256$1$"));
    let c = one.check_password(Some("lètmein".as_bytes()), &encoded, &mut UnwrapErr(SysRng));
    assert!(c.valid && !c.needs_upgrade());

    let more = preferring(Box::new(pbkdf2(1000)));
    let c = more.check_password(Some("lètmein".as_bytes()), &encoded, &mut UnwrapErr(SysRng));
    assert!(c.valid && c.needs_upgrade());
    let upgraded = more
        .make_password("lètmein", &mut UnwrapErr(SysRng))
        .unwrap();
    assert!(upgraded.starts_with("pbkdf2_sha256$1000$"));

    // Lowering the configured count also asks for a re-hash (Django compares with !=).
    let c = one.check_password(
        Some("lètmein".as_bytes()),
        &upgraded,
        &mut UnwrapErr(SysRng),
    );
    assert!(c.valid && c.needs_upgrade());

    // Pinning to an older Django release.
    let h = Hashers::django_default_with_iterations(1_000_000).unwrap();
    assert!(!h
        .preferred()
        .must_update("pbkdf2_sha256$1000000$Wq2xkUu6oGL6vLXGmx1c4A$x"));
    assert!(h
        .preferred()
        .must_update("pbkdf2_sha256$1500000$Wq2xkUu6oGL6vLXGmx1c4A$x"));
    assert!(Hashers::django_default_with_iterations(0).is_err());
}

/// T109 (`test_pbkdf2_harden_runtime`, `test_check_password_calls_harden_runtime`):
/// harden_runtime runs only for a wrong password against an out-of-date hash of the
/// preferred algorithm.
#[test]
fn t109_harden_runtime_invocation() {
    let counting = CountingHasher::new(pbkdf2(1000));
    let counter = counting.counter();
    let h = preferring(Box::new(counting));
    let old = Hashers::new(vec![Box::new(pbkdf2(1))])
        .unwrap()
        .make_password("lètmein", &mut UnwrapErr(SysRng))
        .unwrap();

    // Wrong password, fewer iterations → hardened once.
    let c = h.check_password(Some("WRONG".as_bytes()), &old, &mut UnwrapErr(SysRng));
    assert!(!c.valid && c.must_update);
    assert_eq!(counter.harden_runtime_calls(), 1);
    assert_eq!(counter.verify_calls(), 1);

    // Right password → not hardened (the caller upgrades instead).
    counter.reset();
    let c = h.check_password(Some("lètmein".as_bytes()), &old, &mut UnwrapErr(SysRng));
    assert!(c.needs_upgrade());
    assert_eq!(counter.harden_runtime_calls(), 0);

    // Wrong password against a current hash → must_update is false → not hardened.
    let current = h.make_password("lètmein", &mut UnwrapErr(SysRng)).unwrap();
    counter.reset();
    let c = h.check_password(Some("WRONG".as_bytes()), &current, &mut UnwrapErr(SysRng));
    assert!(!c.valid && !c.must_update);
    assert_eq!(counter.harden_runtime_calls(), 0);
    assert_eq!(counter.hash_calls(), 1);

    // Wrong password against another algorithm's hash → must_update, but the hasher
    // changed, so no hardening.
    let md5 = CountingHasher::new(Md5Hasher::new());
    let md5_counter = md5.counter();
    let h2 = Hashers::new(vec![Box::new(pbkdf2(1000)), Box::new(md5)]).unwrap();
    let c = h2.check_password(
        Some("WRONG".as_bytes()),
        "md5$seasalt$3f86d0d3d465b7b458c231bf3555c0e3",
        &mut UnwrapErr(SysRng),
    );
    assert!(!c.valid && c.must_update);
    assert_eq!(md5_counter.harden_runtime_calls(), 0);
    assert_eq!(md5_counter.verify_calls(), 1);

    // Weak salt with current iterations also counts as out of date.
    let weak = h
        .make_password_with("lètmein", "iodizedsalt", None)
        .unwrap();
    counter.reset();
    let c = h.check_password(Some("WRONG".as_bytes()), &weak, &mut UnwrapErr(SysRng));
    assert!(!c.valid && c.must_update);
    assert_eq!(counter.harden_runtime_calls(), 1);
}

/// T109 for bcrypt: a wrong password against a 4-round hash with 6 rounds configured
/// is hardened (by 2^2 − 1 = 3 extra hashes, see the unit tests).
#[test]
fn t109_bcrypt_harden_runtime_invocation() {
    let counting = CountingHasher::new(BcryptHasher::sha256().with_rounds(6).unwrap());
    let counter = counting.counter();
    let h = preferring(Box::new(counting));
    let old = "bcrypt_sha256$$2b$04$LqWmVGaUo3DytiDV9ZBQ0u5.twOuDsVX1kfQGVb0rB5jpwBLJLo/q";
    let c = h.check_password(Some("WRONG".as_bytes()), old, &mut UnwrapErr(SysRng));
    assert!(!c.valid && c.must_update);
    assert_eq!(counter.harden_runtime_calls(), 1);
    let c = h.check_password(Some("lètmein".as_bytes()), old, &mut UnwrapErr(SysRng));
    assert!(c.valid && c.needs_upgrade());
    assert_eq!(counter.harden_runtime_calls(), 1);
}

/// T110 (`test_check_password_calls_make_password_to_fake_runtime`): the preferred
/// hasher's `encode` runs exactly once and nothing is verified.
#[test]
fn t110_fake_runtime() {
    let preferred = CountingHasher::new(Md5Hasher::new());
    let counter = preferred.counter();
    let other = CountingHasher::new(Pbkdf2Hasher::sha1().with_iterations(10).unwrap());
    let other_counter = other.counter();
    let h = Hashers::new(vec![Box::new(preferred), Box::new(other)]).unwrap();
    let real = h.make_password("lètmein", &mut UnwrapErr(SysRng)).unwrap();
    let unusable = unusable_password(&mut UnwrapErr(SysRng));
    let cases: [(Option<&[u8]>, &str); 8] = [
        (None, real.as_str()),
        (Some("lètmein".as_bytes()), unusable.as_str()),
        (Some(b"x"), "!"),
        (Some(b"x"), "lolcat$salt$hash"),
        (Some(b"x"), ""),
        (Some(b"x"), "lètmein_badencoded"),
        (Some(b"x"), &"a".repeat(32)), // unsalted_md5: not installed
        (None, "lolcat$salt$hash"),
    ];
    for (password, encoded) in cases {
        counter.reset();
        let c = h.check_password(password, encoded, &mut UnwrapErr(SysRng));
        assert!(!c.valid && !c.must_update, "{encoded}");
        assert_eq!(counter.encode_calls(), 1, "{encoded}");
        assert_eq!(counter.verify_calls(), 0, "{encoded}");
        assert_eq!(counter.harden_runtime_calls(), 0, "{encoded}");
        assert_eq!(other_counter.hash_calls(), 0, "{encoded}");
    }
    // fake_hash, for unknown users: one encode too.
    counter.reset();
    h.fake_hash(&mut UnwrapErr(SysRng));
    assert_eq!(counter.encode_calls(), 1);
    assert_eq!(counter.hash_calls(), 1);
    // And a real failed check costs exactly one hash as well.
    counter.reset();
    assert!(
        !h.check_password(Some(b"WRONG"), &real, &mut UnwrapErr(SysRng))
            .valid
    );
    assert_eq!(counter.hash_calls(), 1);
}

// ---------------------------------------------------------------------------
// T111–T114: salts, bytes, bcrypt, argon2, scrypt
// ---------------------------------------------------------------------------

/// T111 (`test_encode_invalid_salt`).
#[test]
fn t111_invalid_salt() {
    let h = fast();
    for algorithm in ["md5", "pbkdf2_sha256", "pbkdf2_sha1", "scrypt"] {
        let hasher = h.hasher(algorithm).unwrap();
        for salt in ["", "sea$salt"] {
            let err = hasher.encode(b"password", salt).unwrap_err();
            assert_eq!(err, HashError::InvalidSalt, "{algorithm} {salt:?}");
            assert_eq!(err.to_string(), BAD_SALT);
            let err = h
                .make_password_with("password", salt, Some(algorithm))
                .unwrap_err();
            assert_eq!(err.to_string(), BAD_SALT);
        }
    }
    // Argon2 needs 8 bytes of salt; bcrypt needs a bcrypt salt string.
    assert!(matches!(
        h.make_password_with("password", "", Some("argon2")),
        Err(HashError::UnsupportedSalt { .. })
    ));
    assert!(matches!(
        h.make_password_with("password", "seasalt", Some("bcrypt_sha256")),
        Err(HashError::UnsupportedSalt { .. })
    ));
}

/// T112 (`test_bytes`, `test_password_and_salt_in_str_and_bytes`).
#[test]
fn t112_bytes_and_str() {
    let h = fast();
    for algorithm in h.algorithms().map(str::to_owned).collect::<Vec<_>>() {
        let salt = h.hasher(&algorithm).unwrap().salt(&mut UnwrapErr(SysRng));
        let from_str = h
            .make_password_with("lètmein", &salt, Some(&algorithm))
            .unwrap();
        let from_bytes = h
            .make_password_with("lètmein".as_bytes(), &salt, Some(&algorithm))
            .unwrap();
        assert_eq!(from_str, from_bytes, "{algorithm}");
        assert!(check(&h, "lètmein", &from_bytes), "{algorithm}");
        // Passwords need not be UTF-8.
        let raw: &[u8] = b"\xff\xfe\x00binary";
        let enc = h.make_password_with(raw, &salt, Some(&algorithm)).unwrap();
        assert!(
            h.check_password(Some(raw), &enc, &mut UnwrapErr(SysRng))
                .valid,
            "{algorithm}"
        );
        assert!(
            !h.check_password(Some(b"\xff\xfe"), &enc, &mut UnwrapErr(SysRng))
                .valid
        );
    }
}

/// T113 (`test_bcrypt_sha256`): no 72-byte truncation.
#[test]
fn t113_bcrypt_sha256_long_password() {
    let h = preferring(Box::new(BcryptHasher::sha256().with_rounds(4).unwrap()));
    let password = "x".repeat(100);
    let encoded = h.make_password(&password, &mut UnwrapErr(SysRng)).unwrap();
    assert!(encoded.starts_with("bcrypt_sha256$$2b$04$"));
    assert_eq!(encoded.len(), 74);
    assert!(check(&h, &password, &encoded));
    assert!(!check(&h, &password[..72], &encoded));

    // Django's output with the default 12 rounds.
    let django = "bcrypt_sha256$$2b$12$LqWmVGaUo3DytiDV9ZBQ0uz.Gc7urFI/.Hqd9MzLyO7fnTwpgJAMO";
    let d = Hashers::django_default();
    assert!(check(&d, &password, django));
    assert!(!check(&d, &password[..72], django));
}

/// T113 (`test_bcrypt_upgrade`): the work factor is configuration.
#[test]
fn t113_bcrypt_upgrade() {
    let four = preferring(Box::new(BcryptHasher::sha256().with_rounds(4).unwrap()));
    let encoded = four
        .make_password("lètmein", &mut UnwrapErr(SysRng))
        .unwrap();
    assert!(encoded.starts_with("bcrypt_sha256$$2b$04$"));
    let c = four.check_password(Some("lètmein".as_bytes()), &encoded, &mut UnwrapErr(SysRng));
    assert!(c.valid && !c.needs_upgrade());
    let twelve = preferring(Box::new(BcryptHasher::sha256()));
    assert!(twelve.preferred().must_update(&encoded));
    let c = twelve.check_password(Some("lètmein".as_bytes()), &encoded, &mut UnwrapErr(SysRng));
    assert!(c.valid && c.needs_upgrade());
}

/// T114 (`TestUtilsHashPassArgon2.test_argon2`), with Django's default parameters.
#[test]
fn t114_argon2_default() {
    let h = preferring(Box::new(Argon2Hasher::new()));
    let encoded = h.make_password("lètmein", &mut UnwrapErr(SysRng)).unwrap();
    assert!(
        encoded.starts_with("argon2$argon2id$v=19$m=102400,t=2,p=8$"),
        "{encoded}"
    );
    assert_eq!(encoded.len(), 112);
    assert!(is_password_usable(&encoded));
    assert_eq!(h.identify(&encoded).unwrap().algorithm(), "argon2");
    let c = h.check_password(Some("lètmein".as_bytes()), &encoded, &mut UnwrapErr(SysRng));
    assert!(c.valid && !c.must_update);
    assert!(!check(&h, "lètmeinz", &encoded));
}

/// T114: old argon2 formats (argon2i, with and without `v=`) still verify.
#[test]
fn t114_argon2_old_formats() {
    let h = Hashers::django_default();
    for old in [
        "argon2$argon2i$m=8,t=1,p=1$c29tZXNhbHQ$gwQOXSNhxiOxPOA0+PY10P9QFO4NAYysnqRt1GSQLE55m+2GYDt9FEjPMHhP2Cuf0nOEXXMocVrsJAtNSsKyfg",
        "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
    ] {
        let c = h.check_password(Some(b"secret"), old, &mut UnwrapErr(SysRng));
        assert!(c.valid && c.must_update, "{old}");
        assert!(!check(&h, "wrong", old), "{old}");
        let argon2 = h.hasher("argon2").unwrap();
        assert!(argon2.verify(b"secret", old));
        assert!(argon2.must_update(old));
    }
}

/// T114: argon2 must_update on a weak salt and on any parameter change.
#[test]
fn t114_argon2_must_update() {
    let low = low_argon2();
    let weak = low.encode("lètmein".as_bytes(), "iodizedsalt").unwrap();
    assert!(low.verify("lètmein".as_bytes(), &weak));
    assert!(low.must_update(&weak));
    let strong = low
        .encode("lètmein".as_bytes(), &low.salt(&mut UnwrapErr(SysRng)))
        .unwrap();
    assert!(!low.must_update(&strong));
    for other in [
        Argon2Hasher::new().with_params(2, 64, 2).unwrap(),
        Argon2Hasher::new().with_params(1, 128, 2).unwrap(),
        Argon2Hasher::new().with_params(1, 64, 1).unwrap(),
        low_argon2().with_hash_len(16).unwrap(),
    ] {
        assert!(other.must_update(&strong), "{other:?}");
        // Whatever is configured, the stored parameters are used to verify.
        assert!(other.verify("lètmein".as_bytes(), &strong));
    }
}

/// T114 (`TestUtilsHashPassScrypt.test_scrypt`): the exact vector with defaults.
#[test]
fn t114_scrypt_vector() {
    let h = Hashers::django_default();
    let encoded = h
        .make_password_with("lètmein", "seasalt", Some("scrypt"))
        .unwrap();
    assert_eq!(
        encoded,
        "scrypt$16384$seasalt$8$5$ECMIUp+LMxMSK8xB/IVyba+KYGTI7FTnet025q/1f/vBAVnnP3hdYqJuRi+mJn6ji6ze3Fbb7JEFPKGpuEf5vw=="
    );
    assert!(is_password_usable(&encoded));
    assert!(h
        .hasher("scrypt")
        .unwrap()
        .verify("lètmein".as_bytes(), &encoded));
    assert!(!h
        .hasher("scrypt")
        .unwrap()
        .verify("lètmeinz".as_bytes(), &encoded));
    assert_eq!(h.identify(&encoded).unwrap().algorithm(), "scrypt");
    // Weak salt does not make scrypt out of date; other parameters do.
    let scrypt_first = preferring(Box::new(ScryptHasher::new()));
    assert!(!scrypt_first.preferred().must_update(&encoded));
    assert!(ScryptHasher::new()
        .with_params(16384, 8, 1)
        .unwrap()
        .must_update(&encoded));
}

// ---------------------------------------------------------------------------
// Known answers from Django 6.1.3 (generated with /tmp/djvenv, see module docs)
// ---------------------------------------------------------------------------

const PASSWORDS: [&str; 4] = [
    "lètmein",
    "",
    "пароль🔑 ünïcødé",
    "correct horse battery staple",
];
const FIXED_SALT: &str = "Ozx0XnVJQ52mfqdxgn0Sdx";

/// Asserts `hasher.encode(password, salt) == expected` and that it verifies (and a
/// near miss does not).
fn assert_known_answer(hasher: &dyn PasswordHasher, password: &str, salt: &str, expected: &str) {
    assert_eq!(
        hasher.encode(password.as_bytes(), salt).unwrap(),
        expected,
        "{password:?}"
    );
    assert!(hasher.verify(password.as_bytes(), expected), "{password:?}");
    let near = format!("{password}x");
    assert!(!hasher.verify(near.as_bytes(), expected), "{password:?}");
}

#[test]
fn django_pbkdf2_low_iterations() {
    let sha256 = pbkdf2(1000);
    let sha1 = Pbkdf2Hasher::sha1().with_iterations(1000).unwrap();
    let salt = "Wq2xkUu6oGL6vLXGmx1c4A";
    let expected = [
        (
            "pbkdf2_sha256$1000$Wq2xkUu6oGL6vLXGmx1c4A$Etvz9kb4vgXvhww0mYzkMIiHPMryIB+dU5PRMJs/q2s=",
            "pbkdf2_sha1$1000$Wq2xkUu6oGL6vLXGmx1c4A$CT/S8ettDLSuHOqkCUyAGJW/ZCc=",
        ),
        (
            "pbkdf2_sha256$1000$Wq2xkUu6oGL6vLXGmx1c4A$KWtATp5HGRCjP36+iI8ac8kw6cLM9/82VFc4UCqQyls=",
            "pbkdf2_sha1$1000$Wq2xkUu6oGL6vLXGmx1c4A$7GO3o+tOzY5gRg5bw2m7X+j9Ae8=",
        ),
        (
            "pbkdf2_sha256$1000$Wq2xkUu6oGL6vLXGmx1c4A$bpCH7ld9pdpnLGLuXCPiv3o0PU6GsGdz4HJ1nIsCT6Y=",
            "pbkdf2_sha1$1000$Wq2xkUu6oGL6vLXGmx1c4A$pP3dvmP8Gy7FuXwuwfokjn7uqIg=",
        ),
        (
            "pbkdf2_sha256$1000$Wq2xkUu6oGL6vLXGmx1c4A$8lWNcB3OxdA/EQEyBnRGjceXfLS+i8Hd9RVzGxNgNAc=",
            "pbkdf2_sha1$1000$Wq2xkUu6oGL6vLXGmx1c4A$GM6q1uUODN9P1ZXtiBphqaWu4kc=",
        ),
    ];
    for (password, (e256, e1)) in PASSWORDS.iter().zip(expected) {
        assert_known_answer(&sha256, password, salt, e256);
        assert_known_answer(&sha1, password, salt, e1);
    }
    // Stored iteration counts are honoured whatever is configured.
    let h = Hashers::django_default();
    assert!(check(
        &h,
        "lètmein",
        "pbkdf2_sha256$1$seasalt$mJQ8D8xVBAKQGCo0t0n+NSPS2a0gQhVtjuC9LdL9WiM="
    ));
    let c = h.check_password(
        Some("lètmein".as_bytes()),
        "pbkdf2_sha256$260000$iodizedsalt$0FGaVgKSEDF8IgS2hQl/RN3g+9NnL3i4z6i1t1Jz89Y=",
        &mut UnwrapErr(SysRng),
    );
    assert!(c.valid && c.needs_upgrade());
}

#[test]
fn django_argon2_default_params() {
    let h = Argon2Hasher::new();
    let expected = [
        "argon2$argon2id$v=19$m=102400,t=2,p=8$T3p4MFhuVkpRNTJtZnFkeGduMFNkeA$qln6wKEIpUcI+s809Q6g0dKnYsTVYlSh4ucJP2vIATk",
        "argon2$argon2id$v=19$m=102400,t=2,p=8$T3p4MFhuVkpRNTJtZnFkeGduMFNkeA$N+jJASqWnQW8Z0mg35rj92IJCRlkWQmMrhY/wYA0g50",
        "argon2$argon2id$v=19$m=102400,t=2,p=8$T3p4MFhuVkpRNTJtZnFkeGduMFNkeA$TAT0OjPu1WfQx3Fm02EX0L2H7H8EE+b2VbsGTRQ95WI",
        "argon2$argon2id$v=19$m=102400,t=2,p=8$T3p4MFhuVkpRNTJtZnFkeGduMFNkeA$6I2oCtKHNYWrNcr0oqfxmbwmts95kSOqN2vYLR0+SbQ",
    ];
    for (password, e) in PASSWORDS.iter().zip(expected) {
        assert_eq!(h.encode(password.as_bytes(), FIXED_SALT).unwrap(), e);
        assert!(!h.must_update(e));
    }
    // A hash Django made with a random salt.
    let random = "argon2$argon2id$v=19$m=102400,t=2,p=8$ZldSNVpidXlHSGtLV0c0VWUzQWZaSQ$h7t1C243C3Ek/2jcE2SDF0/FXlerfTCk+AwCHmmYvQQ";
    let d = Hashers::django_default();
    let c = d.check_password(Some("lètmein".as_bytes()), random, &mut UnwrapErr(SysRng));
    assert!(c.valid && c.needs_upgrade()); // argon2 is not the preferred hasher
    assert!(!check(&d, "lètmeiN", random));
}

#[test]
fn django_argon2_low_params() {
    let h = low_argon2();
    let expected = [
        "argon2$argon2id$v=19$m=64,t=1,p=2$T3p4MFhuVkpRNTJtZnFkeGduMFNkeA$sZTP9uyxQgUfFBabQEU4CevwiddkzJc8p06RN8sMqLU",
        "argon2$argon2id$v=19$m=64,t=1,p=2$T3p4MFhuVkpRNTJtZnFkeGduMFNkeA$u2UTpRsfebbc7T4HpBGQEt7PWlBj9glRxLzDUJHRdKg",
        "argon2$argon2id$v=19$m=64,t=1,p=2$T3p4MFhuVkpRNTJtZnFkeGduMFNkeA$PT2RQ60Dvsoqc8DejvULpd5uMt0j235DTnNoKNAalv4",
        "argon2$argon2id$v=19$m=64,t=1,p=2$T3p4MFhuVkpRNTJtZnFkeGduMFNkeA$TeGs/d0TdOOJH5Fj8G7djryviZqhcPV9RBSanpHZ2q0",
    ];
    for (password, e) in PASSWORDS.iter().zip(expected) {
        assert_known_answer(&h, password, FIXED_SALT, e);
    }
}

#[test]
fn django_bcrypt_sha256_default_rounds() {
    let h = BcryptHasher::sha256();
    let salt = "$2b$12$LqWmVGaUo3DytiDV9ZBQ0u";
    let expected = [
        "bcrypt_sha256$$2b$12$LqWmVGaUo3DytiDV9ZBQ0ud9XRVO.1wXixokGxs/WuAeZuuLFTaZK",
        "bcrypt_sha256$$2b$12$LqWmVGaUo3DytiDV9ZBQ0uFTk9ape2MUdtuR7QZoQA.8rzDtGJQXi",
        "bcrypt_sha256$$2b$12$LqWmVGaUo3DytiDV9ZBQ0uAr3Pvk2W8wJtgsJM18WiLs13egggA9y",
        "bcrypt_sha256$$2b$12$LqWmVGaUo3DytiDV9ZBQ0uTJsZCmzLp.NVyE5mD0AsPplPmT0lgEO",
    ];
    for (password, e) in PASSWORDS.iter().zip(expected) {
        assert_eq!(h.encode(password.as_bytes(), salt).unwrap(), e);
        assert!(!h.must_update(e));
    }
    // A hash Django made with a random salt.
    let random = "bcrypt_sha256$$2b$12$Bex5yYCDB8pRjUG.82ebeONCBKOhqMOhsRKD.i0K8txbEeN8WSOKS";
    assert!(h.verify("пароль🔑 ünïcødé".as_bytes(), random));
}

#[test]
fn django_bcrypt_low_rounds() {
    let sha = BcryptHasher::sha256().with_rounds(4).unwrap();
    let plain = BcryptHasher::plain().with_rounds(4).unwrap();
    let salt = "$2b$04$LqWmVGaUo3DytiDV9ZBQ0u";
    assert_known_answer(
        &sha,
        "lètmein",
        salt,
        "bcrypt_sha256$$2b$04$LqWmVGaUo3DytiDV9ZBQ0u5.twOuDsVX1kfQGVb0rB5jpwBLJLo/q",
    );
    assert_known_answer(
        &plain,
        "lètmein",
        salt,
        "bcrypt$$2b$04$LqWmVGaUo3DytiDV9ZBQ0uTHZrXz/ePjf56w3AKLTRMlvGJJlQbvS",
    );
}

#[test]
fn django_scrypt_default_params() {
    let h = ScryptHasher::new();
    let expected = [
        "scrypt$16384$Ozx0XnVJQ52mfqdxgn0Sdx$8$5$l5493kxDK/aQTD9y+9SNiRGRnZz/LeaCqI4OUUZuCZcrdVYpvjJ/4CYleh2oq5z+2LbksQXERr7lLtVQML0LLQ==",
        "scrypt$16384$Ozx0XnVJQ52mfqdxgn0Sdx$8$5$1cu+uFl9nKWuhVZ1Foe5UE67sZTY+zbb9TkNlY4JSCMafjSLUYnzzhGasHqFFC0HQw3HwwmEYLILSeFLTiXjTA==",
        "scrypt$16384$Ozx0XnVJQ52mfqdxgn0Sdx$8$5$ss/kSbCTYpnF3OT76BPIyxAV9ojaqdZ7MekLAHFdsMdY6g/0UNWhdwmcc7ApYyhHLhLDSGM0S9ziC4eDsOGi0g==",
        "scrypt$16384$Ozx0XnVJQ52mfqdxgn0Sdx$8$5$+Vz64lL/vlAjNQsrBZVtYE2G/zBSH5eToDvPU2LXoWmjgAnF6ehz2rum+NpvgvqgaWUIFOo6pXDytisBzKHpUA==",
    ];
    for (password, e) in PASSWORDS.iter().zip(expected) {
        assert_eq!(h.encode(password.as_bytes(), FIXED_SALT).unwrap(), e);
    }
    let low = ScryptHasher::new().with_params(1024, 2, 1).unwrap();
    assert_known_answer(
        &low,
        "lètmein",
        "seasalt",
        "scrypt$1024$seasalt$2$1$KVbhKSkJ5TJf06jGYS4TvSZQzSOtiRjR2B8oR4nAJl2v/nN2SNaAWdX5TqJJfPrZiVNZf0B43nrXAcDQ4jRDVw==",
    );
}

#[test]
fn django_md5() {
    let h = Md5Hasher::new();
    let expected = [
        "md5$Ozx0XnVJQ52mfqdxgn0Sdx$1413e77f25d768886b59a4955462c5b4",
        "md5$Ozx0XnVJQ52mfqdxgn0Sdx$f1cfcb99c6859607418bdca96179dce5",
        "md5$Ozx0XnVJQ52mfqdxgn0Sdx$dec03111ea8bbd1bd4b2643133c04fed",
        "md5$Ozx0XnVJQ52mfqdxgn0Sdx$6216abbc1bc4a4bdcffc772aa2a39497",
    ];
    for (password, e) in PASSWORDS.iter().zip(expected) {
        assert_known_answer(&h, password, FIXED_SALT, e);
        assert!(!h.must_update(e));
    }
}

// ---------------------------------------------------------------------------
// API shape and robustness
// ---------------------------------------------------------------------------

#[test]
fn django_default_list() {
    let h = Hashers::django_default();
    assert_eq!(
        h.algorithms().collect::<Vec<_>>(),
        [
            "pbkdf2_sha256",
            "pbkdf2_sha1",
            "argon2",
            "bcrypt_sha256",
            "scrypt"
        ]
    );
    assert_eq!(h.preferred().algorithm(), "pbkdf2_sha256");
    assert!(h.hasher("md5").is_err());
    assert!(h.hasher("bcrypt").is_err());
    assert_eq!(Hashers::default().algorithms().count(), 5);
    assert_eq!(Hashers::new(vec![]).unwrap_err(), HashError::NoHashers);
    // md5 hashes are unknown to the default list.
    let c = h.check_password(
        Some("lètmein".as_bytes()),
        "md5$seasalt$3f86d0d3d465b7b458c231bf3555c0e3",
        &mut UnwrapErr(SysRng),
    );
    assert!(!c.valid);
}

#[test]
fn hashers_are_shareable() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Hashers>();
    let h = fast();
    let encoded = h.make_password("lètmein", &mut UnwrapErr(SysRng)).unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| assert!(check(&h, "lètmein", &encoded)));
        }
    });
}

#[test]
fn salts_are_fresh() {
    let h = fast();
    let a = h.make_password("lètmein", &mut UnwrapErr(SysRng)).unwrap();
    let b = h.make_password("lètmein", &mut UnwrapErr(SysRng)).unwrap();
    assert_ne!(a, b);
    let salt = a.split('$').nth(2).unwrap();
    assert_eq!(salt.len(), 22);
    assert!(salt.chars().all(|c| c.is_ascii_alphanumeric()));
}

#[test]
fn garbage_stored_values_never_verify() {
    let h = fast();
    let garbage = [
        "",
        "$",
        "$$$$",
        "lètmein_badencoded",
        "pbkdf2_sha256",
        "pbkdf2_sha256$",
        "pbkdf2_sha256$$$",
        "pbkdf2_sha256$abc$salt$hash",
        "pbkdf2_sha256$0$salt$hash",
        "pbkdf2_sha256$1000$salt",
        "pbkdf2_sha1$1000$$hash",
        "argon2$",
        "argon2$argon2id$v=19$m=64,t=1,p=2$$",
        "argon2$argon2id$v=19$m=64,t=1,p=2$!!!$!!!",
        "argon2$argon2id$v=19$m=64,t=1,p=99999999999$c29tZXNhbHQ$AAAAAA",
        "argon2$argon2id$v=19$m=64,t=0,p=1$c29tZXNhbHQ$AAAAAA",
        "bcrypt_sha256$",
        "bcrypt_sha256$$2b$99$LqWmVGaUo3DytiDV9ZBQ0u5.twOuDsVX1kfQGVb0rB5jpwBLJLo/q",
        "bcrypt_sha256$$2b$04$short",
        "bcrypt_sha256$$2b$04$ééééééééééééééééééééééééé",
        "scrypt$",
        "scrypt$3$salt$1$1$hash",
        "scrypt$1048576$salt$8$1$hash",
        "scrypt$1024$salt$0$1$hash",
        "md5$",
        "md5$$",
        "md5$salt",
        "\u{0}",
        "é$é$é$é",
    ];
    for g in garbage {
        let c = h.check_password(Some(b"x"), g, &mut UnwrapErr(SysRng));
        assert!(!c.valid, "{g:?}");
        let c = h.check_password(Some(b""), g, &mut UnwrapErr(SysRng));
        assert!(!c.valid, "{g:?}");
    }
}

#[test]
fn error_messages() {
    assert_eq!(
        HashError::UnknownAlgorithm("lolcat".into()).to_string(),
        UNKNOWN_LOLCAT
    );
    assert_eq!(HashError::InvalidSalt.to_string(), BAD_SALT);
    assert!(Pbkdf2Hasher::sha256().with_iterations(0).is_err());
    assert!(BcryptHasher::sha256().with_rounds(3).is_err());
    assert!(ScryptHasher::new().with_params(1000, 8, 1).is_err());
    assert!(Argon2Hasher::new().with_params(0, 64, 1).is_err());
    let dup = Hashers::new(vec![Box::new(pbkdf2(1)), Box::new(pbkdf2(2))]).unwrap_err();
    assert_eq!(dup, HashError::DuplicateAlgorithm("pbkdf2_sha256".into()));
}
