//! A hasher wrapper that counts how often hashing work runs (for tests in any crate).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rand_core::CryptoRng;

use super::{HashError, PasswordHasher};

/// Call counters shared between a [`CountingHasher`] and the test observing it.
#[derive(Debug, Default)]
pub struct HashCounter {
    encodes: AtomicUsize,
    verifies: AtomicUsize,
    harden_runtimes: AtomicUsize,
}

impl HashCounter {
    /// Calls to [`PasswordHasher::encode`] (including failed ones).
    pub fn encode_calls(&self) -> usize {
        self.encodes.load(Ordering::SeqCst)
    }

    /// Calls to [`PasswordHasher::verify`].
    pub fn verify_calls(&self) -> usize {
        self.verifies.load(Ordering::SeqCst)
    }

    /// Calls to [`PasswordHasher::harden_runtime`].
    pub fn harden_runtime_calls(&self) -> usize {
        self.harden_runtimes.load(Ordering::SeqCst)
    }

    /// Hash computations: `encode_calls() + verify_calls()`. This is the number
    /// Django's `CountingMD5PasswordHasher.calls` reports (its `verify` calls `encode`),
    /// e.g. exactly 1 for any failed login.
    pub fn hash_calls(&self) -> usize {
        self.encode_calls() + self.verify_calls()
    }

    /// Sets every counter back to zero.
    pub fn reset(&self) {
        self.encodes.store(0, Ordering::SeqCst);
        self.verifies.store(0, Ordering::SeqCst);
        self.harden_runtimes.store(0, Ordering::SeqCst);
    }
}

/// Wraps another hasher, delegating everything to it and counting calls to `encode`,
/// `verify` and `harden_runtime` in a shared [`HashCounter`].
///
/// It has the wrapped hasher's algorithm name, so it can replace it in a
/// [`Hashers`](super::Hashers) list. `salt` and `must_update` are not counted (they do
/// no hashing work).
///
/// ```
/// use castellan_core::hashers::{CountingHasher, Hashers, Md5Hasher};
/// use getrandom::SysRng;
/// use rand_core::UnwrapErr;
///
/// let counting = CountingHasher::new(Md5Hasher::new());
/// let counter = counting.counter();
/// let hashers = Hashers::new(vec![Box::new(counting)]).unwrap();
/// let check = hashers.check_password(Some(b"pw"), "!unusable", &mut UnwrapErr(SysRng));
/// assert!(!check.valid);
/// assert_eq!(counter.hash_calls(), 1); // the timing equaliser ran once
/// ```
pub struct CountingHasher {
    inner: Box<dyn PasswordHasher>,
    counter: Arc<HashCounter>,
}

impl std::fmt::Debug for CountingHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CountingHasher")
            .field("algorithm", &self.inner.algorithm())
            .field("counter", &self.counter)
            .finish()
    }
}

impl CountingHasher {
    /// Wraps `inner` with fresh counters.
    pub fn new(inner: impl PasswordHasher + 'static) -> Self {
        Self::from_box(Box::new(inner))
    }

    /// Wraps an already boxed hasher with fresh counters.
    pub fn from_box(inner: Box<dyn PasswordHasher>) -> Self {
        Self {
            inner,
            counter: Arc::new(HashCounter::default()),
        }
    }

    /// A handle on the counters, still valid after the hasher is moved into a list.
    pub fn counter(&self) -> Arc<HashCounter> {
        Arc::clone(&self.counter)
    }
}

impl PasswordHasher for CountingHasher {
    fn algorithm(&self) -> &str {
        self.inner.algorithm()
    }

    fn salt(&self, rng: &mut dyn CryptoRng) -> String {
        self.inner.salt(rng)
    }

    fn encode(&self, password: &[u8], salt: &str) -> Result<String, HashError> {
        self.counter.encodes.fetch_add(1, Ordering::SeqCst);
        self.inner.encode(password, salt)
    }

    fn verify(&self, password: &[u8], encoded: &str) -> bool {
        self.counter.verifies.fetch_add(1, Ordering::SeqCst);
        self.inner.verify(password, encoded)
    }

    fn must_update(&self, encoded: &str) -> bool {
        self.inner.must_update(encoded)
    }

    fn harden_runtime(&self, password: &[u8], encoded: &str) {
        self.counter.harden_runtimes.fetch_add(1, Ordering::SeqCst);
        self.inner.harden_runtime(password, encoded);
    }
}
