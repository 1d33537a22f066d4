//! Password hashes (`castellan_core::hashers`): identifying, checking and upgrading any stored
//! value never panics and stays cheap (the hashers' verification limits are set low here, so a
//! stored work factor above them must be refused unhashed, which is what keeps this target fast);
//! a hash made with any accepted salt verifies with its password and not with another.
#![no_main]

use std::sync::OnceLock;
use std::time::{Duration, Instant};

#[path = "fields.rs"]
mod fields;

use castellan_core::hashers::{
    is_password_usable, Argon2Hasher, BcryptHasher, Hashers, Md5Hasher, Pbkdf2Hasher, ScryptHasher,
};
use getrandom::SysRng;
use libfuzzer_sys::fuzz_target;
use rand_core::UnwrapErr;

/// `password 0xFF encoded 0xFF salt 0xFF algorithm-index` (see `fields.rs`).
struct Input<'a> {
    password: &'a [u8],
    encoded: String,
    salt: String,
    algorithm: u8,
}

impl<'a> Input<'a> {
    fn new(data: &'a [u8]) -> Self {
        let f = fields::fields(data);
        Self {
            password: f[0],
            encoded: fields::text(&f, 1),
            salt: fields::text(&f, 2),
            algorithm: f.get(3).and_then(|a| a.first()).copied().unwrap_or(0),
        }
    }
}

/// Every algorithm, configured cheap and with low verification limits.
fn hashers() -> &'static Hashers {
    static HASHERS: OnceLock<Hashers> = OnceLock::new();
    HASHERS.get_or_init(|| {
        let build = || -> Result<Hashers, castellan_core::hashers::HashError> {
            Hashers::new(vec![
                Box::new(
                    Pbkdf2Hasher::sha256()
                        .with_iterations(2)?
                        .with_max_iterations(64),
                ),
                Box::new(
                    Pbkdf2Hasher::sha1()
                        .with_iterations(2)?
                        .with_max_iterations(64),
                ),
                Box::new(
                    Argon2Hasher::new()
                        .with_params(1, 8, 1)?
                        .with_max_costs(64, 2),
                ),
                Box::new(BcryptHasher::sha256().with_rounds(4)?.with_max_rounds(5)),
                Box::new(BcryptHasher::plain().with_rounds(4)?.with_max_rounds(5)),
                Box::new(
                    ScryptHasher::new()
                        .with_params(2, 1, 1)?
                        .with_max_memory(64 * 1024)?
                        .with_max_parallelism(4),
                ),
                Box::new(Md5Hasher::new()),
            ])
        };
        match build() {
            Ok(h) => h,
            Err(e) => panic!("fuzz hasher configuration: {e}"),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let input = Input::new(data);
    let hashers = hashers();
    let start = Instant::now();
    let _ = is_password_usable(&input.encoded);
    let check =
        hashers.check_password(Some(input.password), &input.encoded, &mut UnwrapErr(SysRng));
    if let Ok(hasher) = hashers.identify(&input.encoded) {
        let _ = hasher.must_update(&input.encoded);
        assert_eq!(hasher.verify(input.password, &input.encoded), check.valid);
    } else {
        assert!(!check.valid);
    }
    for name in hashers.algorithms() {
        if let Ok(h) = hashers.hasher(name) {
            let _ = h.must_update(&input.encoded);
            h.harden_runtime(input.password, &input.encoded);
        }
    }
    // The limits above bound every verification to a few milliseconds of hashing.
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "checking {:?} took {:?}",
        &input.encoded,
        start.elapsed()
    );

    // Round trip with an arbitrary salt: whatever encode accepts must verify.
    let names: Vec<&str> = hashers.algorithms().collect();
    let name = names[usize::from(input.algorithm) % names.len()];
    if let Ok(encoded) = hashers.make_password_with(input.password, &input.salt, Some(name)) {
        let ok = hashers.check_password(Some(input.password), &encoded, &mut UnwrapErr(SysRng));
        assert!(
            ok.valid,
            "{name} with salt {:?} made {encoded:?}, which does not verify",
            &input.salt
        );
        let mut other = input.password.to_vec();
        other.push(b'!');
        let wrong = hashers.check_password(Some(&other), &encoded, &mut UnwrapErr(SysRng));
        // bcrypt_sha256 prehashes, plain bcrypt refuses > 72 bytes: an extra byte always differs,
        // except past bcrypt's 72-byte truncation, which plain bcrypt refuses to encode.
        assert!(
            !wrong.valid,
            "{name}: another password verified against {encoded:?}"
        );
    }
});
