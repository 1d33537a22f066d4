//! The logged-in request's session, user and permissions, kept in memory while SQLite's
//! [`DataVersion`](crate::data_version::DataVersion) says no connection committed since they
//! were read: a warm request then runs no statement at all. Any commit — a revocation, a password
//! change, a deactivation, a logout, a session deleted by Django or by hand — changes the data
//! version, so the next request reads the database again; the guarantee "enforced on the very
//! next request" holds without triggers or notifications. An expired session is never served.

use std::collections::HashMap;
use std::sync::Mutex;

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
    expires: DateTime<Utc>,
    read: SessionRead,
}

/// Sessions by key, each with the user and the data version it was read for.
#[derive(Default)]
pub(crate) struct SessionCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl SessionCache {
    /// The session read at data version `version`, if still unexpired at `now`.
    pub(crate) fn get(
        &self,
        key: &str,
        user: UserId,
        version: i64,
        now: DateTime<Utc>,
    ) -> Option<SessionRead> {
        let entries = self.entries.lock().ok()?;
        let e = entries.get(key)?;
        (e.user == user && e.version == version && e.expires > now).then(|| e.read.clone())
    }

    /// Keeps `read` (expiring at `expires`) as read at data version `version`.
    pub(crate) fn put(
        &self,
        key: &str,
        user: UserId,
        version: i64,
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
                    expires,
                    read,
                },
            );
        }
    }
}
