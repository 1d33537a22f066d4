//! Login throttling (beyond Django), in memory and per process.
//!
//! Every password check is *reserved* before it runs: under one lock, the attempt is checked
//! against the budgets and counted as a failure at once, so concurrent attempts cannot overtake
//! each other and no more than the budget ever reach the hasher. A success then gives its
//! reservation back; a database outage gives it back too (an outage is not a wrong password).
//!
//! Three counters, each forgotten `lockout` after its last counted attempt:
//!
//! * per (username, client address): after `lock_after` failures that address is refused for that
//!   username (429 with `Retry-After`);
//! * per client address: after `ip_lock_after` failures, across usernames, the address is refused;
//! * per username, from everywhere: after `slow_after` failures each attempt is *delayed*
//!   (`delay`, doubling, at most `max_delay`), never refused — so an attacker cannot lock the
//!   owner out by failing on purpose, while guessing stays bounded per address.
//!
//! The password-change form's old-password check has its own counter per user, refused after
//! `lock_after` failures. The password-reset form counts every request: per (e-mail address,
//! client address) refused after `lock_after`, per client address after `ip_lock_after`, and per
//! e-mail address from anywhere it stops *sending* after `lock_after` (answered as usual).
//!
//! Without a client address (the server gives no `ConnectInfo`), every client shares one address
//! bucket: guessing stays bounded, but anyone can exhaust it for everyone — serve with
//! `into_make_service_with_connect_info` (a warning is logged once).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Limits for [`AuthConfig::with_throttle`](crate::AuthConfig::with_throttle).
#[derive(Debug, Clone)]
pub struct ThrottleConfig {
    /// Failures for one username (from any address) after which each attempt is delayed
    /// (default 3). The username-wide count only slows down, never refuses.
    pub slow_after: u32,
    /// The delay for the first attempt beyond `slow_after`, doubled for each further failure
    /// (default 250 ms).
    pub delay: Duration,
    /// The longest delay (default 2 s).
    pub max_delay: Duration,
    /// Failures for one username from one client address (and for one user's old-password check
    /// in the password-change form) after which attempts are refused (default 10).
    pub lock_after: u32,
    /// Failures from one client address, across usernames, after which it is refused (default
    /// 100; addresses behind a shared NAT share it).
    pub ip_lock_after: u32,
    /// How long failures are remembered after the last one, and so how long a refusal lasts
    /// (default 15 min).
    pub lockout: Duration,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            slow_after: 3,
            delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(2),
            lock_after: 10,
            ip_lock_after: 100,
            lockout: Duration::from_secs(900),
        }
    }
}

/// A counter's key. `None` addresses (no `ConnectInfo`) share one bucket.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    User(String),
    UserAddress(String, Option<IpAddr>),
    Address(Option<IpAddr>),
    PasswordChange(castellan_core::UserId),
    ResetEmail(String),
    ResetEmailAddress(String, Option<IpAddr>),
    ResetAddress(Option<IpAddr>),
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    count: u32,
    last: Instant,
}

/// What to do with an attempt.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Go ahead after this delay (zero when none); the attempt is already counted.
    Proceed(Duration, Reservation),
    /// Refuse; retry after this long. Nothing was counted.
    Refuse(Duration),
}

/// A counted attempt. Dropping it leaves it counted (a failure); [`Reservation::succeeded`] and
/// [`Reservation::not_attempted`] give it back.
#[derive(Debug)]
#[must_use]
pub(crate) struct Reservation {
    inner: Arc<Inner>,
    keys: Vec<Key>,
}

impl Reservation {
    /// The password was right: this attempt is given back, and the username's and this
    /// address's per-username counts are cleared. The address's own count is not cleared (an
    /// attacker who owns an account could otherwise reset it between guesses).
    pub(crate) fn succeeded(self) {
        let mut entries = self.inner.lock();
        for key in &self.keys {
            match key {
                Key::User(_) | Key::UserAddress(..) | Key::PasswordChange(_) => {
                    entries.remove(key);
                }
                Key::Address(_)
                | Key::ResetEmail(_)
                | Key::ResetEmailAddress(..)
                | Key::ResetAddress(_) => release(&mut entries, key),
            }
        }
    }

    /// The password could not be checked (database unavailable): nothing is counted.
    pub(crate) fn not_attempted(self) {
        let mut entries = self.inner.lock();
        for key in &self.keys {
            release(&mut entries, key);
        }
    }
}

fn release(entries: &mut HashMap<Key, Entry>, key: &Key) {
    if let Some(e) = entries.get_mut(key) {
        e.count = e.count.saturating_sub(1);
        if e.count == 0 {
            entries.remove(key);
        }
    }
}

#[derive(Debug)]
struct Inner {
    config: ThrottleConfig,
    entries: Mutex<HashMap<Key, Entry>>,
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The in-memory counters.
#[derive(Debug)]
pub(crate) struct Throttle {
    inner: Arc<Inner>,
    warned_no_peer: AtomicBool,
}

impl Throttle {
    pub(crate) fn new(config: ThrottleConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                entries: Mutex::default(),
            }),
            warned_no_peer: AtomicBool::new(false),
        }
    }

    /// Logs once that logins arrive without a client address: every such client then shares one
    /// address bucket, so the per-address limits apply to all of them together.
    pub(crate) fn warn_no_peer_address(&self) {
        if !self.warned_no_peer.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "login throttling sees no client address (no ConnectInfo<SocketAddr>): all clients \
                 share one bucket, so a few failures lock everyone out for a while; serve with \
                 `into_make_service_with_connect_info::<SocketAddr>()`"
            );
        }
    }

    /// Reserves a login attempt by `username` from `ip`, or refuses it.
    pub(crate) fn login(&self, username: &str, ip: Option<IpAddr>) -> Verdict {
        let c = &self.inner.config;
        self.reserve(
            &[
                (
                    Key::UserAddress(username.to_owned(), ip),
                    Some(c.lock_after),
                ),
                (Key::Address(ip), Some(c.ip_lock_after)),
                (Key::User(username.to_owned()), None),
            ],
            Some(Key::User(username.to_owned())),
        )
    }

    /// Reserves an old-password check in the password-change form of user `user_id`.
    pub(crate) fn password_change(&self, user_id: castellan_core::UserId) -> Verdict {
        let c = &self.inner.config;
        self.reserve(&[(Key::PasswordChange(user_id), Some(c.lock_after))], None)
    }

    /// Counts a password-reset request for `email` from `ip`, or refuses it: refused after
    /// `lock_after` requests for one address from one client address, or `ip_lock_after` from
    /// one client address. The second value says whether an e-mail may go out: not once
    /// `lock_after` requests for the address came from anywhere (a distributed attempt to flood
    /// an inbox gets the same answer, and sends nothing more).
    pub(crate) fn password_reset(&self, email: &str, ip: Option<IpAddr>) -> (Verdict, bool) {
        let c = &self.inner.config;
        let email = email.to_lowercase();
        let wide = Key::ResetEmail(email.clone());
        let verdict = self.reserve(
            &[
                (Key::ResetEmailAddress(email, ip), Some(c.lock_after)),
                (Key::ResetAddress(ip), Some(c.ip_lock_after)),
                (wide.clone(), None),
            ],
            None,
        );
        let send = self
            .inner
            .lock()
            .get(&wide)
            .is_none_or(|e| e.count <= c.lock_after);
        (verdict, send)
    }

    /// Atomically: refuses when a key with a limit has reached it; else counts the attempt on
    /// every key and returns the delay that `slow_key`'s count (before this attempt) calls for.
    fn reserve(&self, keys: &[(Key, Option<u32>)], slow_key: Option<Key>) -> Verdict {
        let c = &self.inner.config;
        let now = Instant::now();
        let mut entries = self.inner.lock();
        if entries.len() > 100_000 {
            entries.retain(|_, e| now.duration_since(e.last) < c.lockout);
        }
        let current = |key: &Key, entries: &mut HashMap<Key, Entry>| match entries.get(key) {
            Some(e) if now.duration_since(e.last) >= c.lockout => {
                entries.remove(key);
                None
            }
            other => other.copied(),
        };
        let mut refuse: Option<Duration> = None;
        for (key, limit) in keys {
            if let (Some(limit), Some(e)) = (limit, current(key, &mut entries)) {
                if e.count >= *limit {
                    let wait = c.lockout.saturating_sub(now.duration_since(e.last));
                    refuse = Some(refuse.map_or(wait, |w| w.max(wait)));
                }
            }
        }
        if let Some(wait) = refuse {
            return Verdict::Refuse(wait);
        }
        let before = slow_key
            .as_ref()
            .and_then(|k| current(k, &mut entries))
            .map_or(0, |e| e.count);
        for (key, _) in keys {
            let e = entries.entry(key.clone()).or_insert(Entry {
                count: 0,
                last: now,
            });
            e.count = e.count.saturating_add(1);
            e.last = now;
        }
        let delay = if before >= c.slow_after {
            let exp = (before - c.slow_after).min(16);
            c.delay.saturating_mul(1 << exp).min(c.max_delay)
        } else {
            Duration::ZERO
        };
        Verdict::Proceed(
            delay,
            Reservation {
                inner: Arc::clone(&self.inner),
                keys: keys.iter().map(|(k, _)| k.clone()).collect(),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ThrottleConfig {
        ThrottleConfig {
            slow_after: 2,
            delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(25),
            lock_after: 3,
            ip_lock_after: 5,
            lockout: Duration::from_secs(60),
        }
    }

    fn proceed(v: Verdict) -> (Duration, Reservation) {
        match v {
            Verdict::Proceed(d, r) => (d, r),
            Verdict::Refuse(w) => panic!("refused for {w:?}"),
        }
    }

    fn a(n: u8) -> Option<IpAddr> {
        Some(IpAddr::from([192, 0, 2, n]))
    }

    #[test]
    fn reservations_count_before_the_outcome() {
        let t = Throttle::new(config());
        // Three reservations in flight, none finished: the fourth is refused.
        let held: Vec<_> = (0..3).map(|_| proceed(t.login("u", a(1))).1).collect();
        assert!(matches!(t.login("u", a(1)), Verdict::Refuse(_)));
        // Another address is not refused, only slowed (three username-wide failures).
        let (delay, r) = proceed(t.login("u", a(2)));
        assert_eq!(delay, Duration::from_millis(20));
        r.succeeded();
        drop(held);
        // The success cleared the username-wide count, not address 1's.
        assert!(matches!(t.login("u", a(1)), Verdict::Refuse(_)));
        assert_eq!(proceed(t.login("u", a(3))).0, Duration::ZERO);
    }

    #[test]
    fn delay_doubles_up_to_the_cap() {
        let t = Throttle::new(config());
        let delays: Vec<Duration> = (1..=6).map(|n| proceed(t.login("u", a(n))).0).collect();
        let ms = |m| Duration::from_millis(m);
        assert_eq!(delays, [ms(0), ms(0), ms(10), ms(20), ms(25), ms(25)]);
    }

    #[test]
    fn address_limit_spans_usernames_and_outages_count_nothing() {
        let t = Throttle::new(config());
        for name in ["a", "b", "c", "d", "e"] {
            drop(proceed(t.login(name, a(1))));
        }
        assert!(matches!(t.login("f", a(1)), Verdict::Refuse(_)));
        let t = Throttle::new(config());
        for _ in 0..10 {
            proceed(t.login("u", a(1))).1.not_attempted();
        }
        assert_eq!(proceed(t.login("u", a(1))).0, Duration::ZERO);
    }

    #[test]
    fn password_reset_limits_per_address_and_stops_sending_per_email() {
        let t = Throttle::new(config());
        for n in 0..3 {
            let (v, send) = t.password_reset("Victim@Example.com", a(1));
            assert!(send, "request {n}");
            drop(proceed(v));
        }
        // The same address for the same e-mail is refused; the case does not matter.
        assert!(matches!(
            t.password_reset("victim@example.com", a(1)).0,
            Verdict::Refuse(_)
        ));
        // From elsewhere it is answered, but nothing more is sent to that inbox.
        let (v, send) = t.password_reset("victim@example.com", a(2));
        drop(proceed(v));
        assert!(!send);
        let (v, send) = t.password_reset("other@example.com", a(2));
        drop(proceed(v));
        assert!(send);
    }

    #[test]
    fn password_change_is_refused_per_user() {
        let t = Throttle::new(config());
        for _ in 0..3 {
            drop(proceed(t.password_change(castellan_core::UserId::Int(7))));
        }
        assert!(matches!(
            t.password_change(castellan_core::UserId::Int(7)),
            Verdict::Refuse(_)
        ));
        assert!(matches!(
            t.password_change(castellan_core::UserId::Int(8)),
            Verdict::Proceed(..)
        ));
    }
}
