//! The logged-in request's session, user and permissions, kept in memory while nothing says
//! they changed since they were read: a warm request then runs no statement at all.
//!
//! * On a SQLite file, SQLite's [`DataVersion`](crate::data_version::DataVersion): any commit —
//!   a revocation, a password change, a deactivation, a logout, a session deleted by Django or by
//!   hand — changes it, so the next request reads the database again; the guarantee "enforced on
//!   the very next request" holds without triggers or notifications.
//! * On PostgreSQL, when asked for, the [`ChangeFeed`](crate::change_feed::ChangeFeed) of
//!   Castellan's notifying triggers: a change is enforced once its notification arrived (a
//!   window measured in `docs/benchmarks.md`), and a read is reused for a bounded time only.
//!
//! An expired session is never served.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use castellan_core::{Principal, User, UserId};
use chrono::{DateTime, Utc};

/// At most this many sessions are kept (the cache is emptied when full: a simple bound, and a
/// full cache is refilled by one statement per session).
const CAPACITY: usize = 50_000;

/// A session with its user and permissions, as [`Store::session_with_user`](crate::Store::session_with_user) returns it.
pub(crate) type SessionRead = (String, Option<(User, Principal)>);

#[derive(Clone)]
struct Entry {
    /// The user the session was read for (the layer asks for the user the session names).
    user: UserId,
    version: i64,
    /// When it was read (a notified read is reused for a bounded time).
    read_at: Instant,
    expires: DateTime<Utc>,
    read: SessionRead,
}

/// Sessions by key, each with the user and the data version it was read for.
#[derive(Default)]
pub(crate) struct SessionCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl SessionCache {
    /// The session `key` read for `user`, if still unexpired at `now` and `fresh` says the
    /// version and time it was read at may still be used.
    pub(crate) fn get(
        &self,
        key: &str,
        user: UserId,
        now: DateTime<Utc>,
        fresh: impl FnOnce(i64, Instant) -> bool,
    ) -> Option<SessionRead> {
        let entries = self.entries.lock().ok()?;
        let e = entries.get(key)?;
        (e.user == user && e.expires > now && fresh(e.version, e.read_at)).then(|| e.read.clone())
    }

    /// Keeps `read` (expiring at `expires`) as read at version `version` and at `read_at`.
    pub(crate) fn put(
        &self,
        key: &str,
        user: UserId,
        version: i64,
        read_at: Instant,
        expires: DateTime<Utc>,
        read: SessionRead,
    ) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            entries.insert(
                key.to_owned(),
                Entry {
                    user,
                    version,
                    read_at,
                    expires,
                    read,
                },
            );
        }
    }
}

/// What tells whether a session read may still be used.
#[derive(Debug)]
pub(crate) enum Watch {
    /// SQLite's data version: a read is reused while the version is the one it was read at.
    #[cfg(feature = "sqlite")]
    DataVersion(crate::data_version::DataVersion),
    /// PostgreSQL's notifications, with a bound on a read's age.
    #[cfg(feature = "postgres")]
    Notified(crate::change_feed::ChangeFeed),
    /// Without SQLite and PostgreSQL nothing is reused (MariaDB reads every time).
    #[cfg(not(any(feature = "sqlite", feature = "postgres")))]
    #[allow(dead_code)]
    Never(std::convert::Infallible),
}

impl Watch {
    /// The version to remember with a read about to be made, or `None` when nothing may be
    /// reused now.
    pub(crate) fn version(&self) -> Option<i64> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::DataVersion(d) => d.read(),
            #[cfg(feature = "postgres")]
            Self::Notified(f) => f.snapshot(),
            #[cfg(not(any(feature = "sqlite", feature = "postgres")))]
            Self::Never(n) => match *n {},
        }
    }

    /// Whether `user`'s session `key`, read at version `read` and time `read_at`, may be reused
    /// now that the version is `current`.
    pub(crate) fn fresh(
        &self,
        current: i64,
        read: i64,
        read_at: Instant,
        user: UserId,
        key: &str,
    ) -> bool {
        match self {
            #[cfg(feature = "sqlite")]
            Self::DataVersion(_) => {
                let _ = (read_at, user, key);
                read == current
            }
            #[cfg(feature = "postgres")]
            Self::Notified(f) => {
                let _ = current;
                f.fresh(read, read_at, user, key)
            }
            #[cfg(not(any(feature = "sqlite", feature = "postgres")))]
            Self::Never(n) => {
                let _ = (current, read, read_at, user, key);
                match *n {}
            }
        }
    }
}
