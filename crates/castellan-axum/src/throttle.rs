//! Login throttling (beyond Django): failed logins are counted per username and per client IP, in
//! memory (per process). After `slow_after` failures each further attempt is delayed; after
//! `lock_after` failures the key is refused until `lockout` has passed since the last failure. A
//! successful login clears its username's count. Failures caused by an unavailable database are
//! never counted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Limits for [`AuthConfig::with_throttle`](crate::AuthConfig::with_throttle).
#[derive(Debug, Clone)]
pub struct ThrottleConfig {
    /// Failures (per key) after which each attempt is delayed (default 3).
    pub slow_after: u32,
    /// The delay per failure beyond `slow_after`, doubled each time, capped at 2 s (default 250 ms).
    pub delay: Duration,
    /// Failures (per key) after which attempts are refused (default 10).
    pub lock_after: u32,
    /// How long a locked key stays refused, and how long failures are remembered (default 15 min).
    pub lockout: Duration,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            slow_after: 3,
            delay: Duration::from_millis(250),
            lock_after: 10,
            lockout: Duration::from_secs(900),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    User(String),
    Ip(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last: Instant,
}

/// What to do with an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Go ahead after this delay (zero when none).
    Proceed(Duration),
    /// Refuse; retry after this long.
    Refuse(Duration),
}

/// The in-memory failure counters.
#[derive(Debug)]
pub(crate) struct Throttle {
    config: ThrottleConfig,
    entries: Mutex<HashMap<Key, Entry>>,
}

impl Throttle {
    pub(crate) fn new(config: ThrottleConfig) -> Self {
        Self {
            config,
            entries: Mutex::default(),
        }
    }

    fn keys(username: &str, ip: Option<IpAddr>) -> Vec<Key> {
        let mut keys = vec![Key::User(username.to_owned())];
        keys.extend(ip.map(Key::Ip));
        keys
    }

    /// The verdict for an attempt by `username` from `ip`.
    pub(crate) fn check(&self, username: &str, ip: Option<IpAddr>) -> Verdict {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let mut worst = 0;
        let mut last = now;
        for key in Self::keys(username, ip) {
            if let Some(e) = entries.get(&key).copied() {
                if now.duration_since(e.last) >= self.config.lockout {
                    entries.remove(&key);
                } else if e.failures > worst {
                    worst = e.failures;
                    last = e.last;
                }
            }
        }
        if worst >= self.config.lock_after {
            return Verdict::Refuse(self.config.lockout.saturating_sub(now.duration_since(last)));
        }
        if worst >= self.config.slow_after {
            let exp = (worst - self.config.slow_after).min(8);
            let delay = self.config.delay.saturating_mul(1 << exp);
            return Verdict::Proceed(delay.min(Duration::from_secs(2)));
        }
        Verdict::Proceed(Duration::ZERO)
    }

    /// Records a failed attempt (wrong credentials only).
    pub(crate) fn failed(&self, username: &str, ip: Option<IpAddr>) {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() > 100_000 {
            let lockout = self.config.lockout;
            entries.retain(|_, e| now.duration_since(e.last) < lockout);
        }
        for key in Self::keys(username, ip) {
            let e = entries.entry(key).or_insert(Entry {
                failures: 0,
                last: now,
            });
            e.failures = e.failures.saturating_add(1);
            e.last = now;
        }
    }

    /// Clears the username's count after a successful login.
    pub(crate) fn succeeded(&self, username: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(&Key::User(username.to_owned()));
    }
}
