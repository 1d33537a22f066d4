//! [`SessionUsers`]: which user each recent session named. A backend that keeps both the sessions
//! and the users reads a session row and that user's row in one step when it is told whom to
//! expect ([`SessionStore::load_with_user`](castellan_core::SessionStore::load_with_user)); this
//! map is where the layer remembers whom. It grants nothing: the layer uses the user read with the
//! session only when the session's own data names that user, and checks the session's
//! authentication hash as always.

use std::collections::HashMap;
use std::sync::RwLock;

use castellan_core::UserId;

/// How many sessions are remembered before the map starts over (about 100 bytes each).
const CAPACITY: usize = 100_000;

/// Session key → the user it named on its last request.
#[derive(Debug, Default)]
pub(crate) struct SessionUsers {
    map: RwLock<HashMap<Box<str>, UserId>>,
}

impl SessionUsers {
    /// The user `key` named last time, if remembered.
    pub(crate) fn get(&self, key: &str) -> Option<UserId> {
        self.map
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
            .copied()
    }

    /// Remembers that `key` names `user`. A full map starts over: a forgotten session costs one
    /// more statement on its next request, nothing else.
    pub(crate) fn remember(&self, key: &str, user: UserId) {
        if self.get(key) == Some(user) {
            return;
        }
        let mut map = self
            .map
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= CAPACITY {
            map.clear();
        }
        map.insert(key.into(), user);
    }

    /// Forgets `key` (logged out, deleted, or naming someone else now).
    pub(crate) fn forget(&self, key: &str) {
        let known = self
            .map
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains_key(key);
        if known {
            self.map
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_forgets_and_starts_over_when_full() {
        let m = SessionUsers::default();
        m.remember("a", UserId::Int(1));
        assert_eq!(m.get("a"), Some(UserId::Int(1)));
        m.remember("a", UserId::Int(2));
        assert_eq!(m.get("a"), Some(UserId::Int(2)));
        m.forget("a");
        assert_eq!(m.get("a"), None);
        for i in 0..CAPACITY {
            m.remember(&i.to_string(), UserId::Int(1));
        }
        m.remember("last", UserId::Int(3));
        assert_eq!(m.get("0"), None, "started over");
        assert_eq!(m.get("last"), Some(UserId::Int(3)));
    }
}
