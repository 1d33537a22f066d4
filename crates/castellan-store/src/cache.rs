//! The per-process permission cache, keyed by the database's authorization generation.
//!
//! Castellan's migration adds a one-row table `castellan_generation` and triggers on every table that
//! can change a user's permissions (`auth_user_groups`, `auth_user_user_permissions`,
//! `auth_group_permissions`, `auth_permission`, `auth_group`, `django_content_type`). Any write — by
//! Castellan, by Django, or by hand-written SQL — bumps the generation **in the writing transaction**.
//! Every check reads the generation together with the user row (one query), so a cached entry is only
//! used while nothing that could change it has been committed: revocation is visible on the very next
//! check, in every process. The user's flags (`is_active`, `is_superuser`) are never cached.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use castellan_core::{PermIndex, UserPerms};
use foldhash::fast::RandomState;

#[derive(Default)]
struct State {
    generation: Option<i64>,
    index: Option<Arc<PermIndex>>,
    users: HashMap<i64, Arc<UserPerms>, RandomState>,
}

/// Cached permission index and per-user permission sets, valid for one generation.
#[derive(Default)]
pub(crate) struct PermCache {
    state: RwLock<State>,
}

impl PermCache {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Drops everything if `generation` differs from the cached one.
    pub(crate) fn observe(&self, generation: i64) {
        if self.read().generation == Some(generation) {
            return;
        }
        let mut state = self.write();
        if state.generation != Some(generation) {
            state.generation = Some(generation);
            state.index = None;
            state.users.clear();
        }
    }

    /// Forgets everything (e.g. after this process wrote, to save the next reader a stale look-up).
    pub(crate) fn clear(&self) {
        let mut state = self.write();
        state.generation = None;
        state.index = None;
        state.users.clear();
    }

    pub(crate) fn index(&self, generation: i64) -> Option<Arc<PermIndex>> {
        let state = self.read();
        (state.generation == Some(generation))
            .then(|| state.index.clone())
            .flatten()
    }

    pub(crate) fn user(
        &self,
        generation: i64,
        user_id: i64,
    ) -> Option<(Arc<PermIndex>, Arc<UserPerms>)> {
        let state = self.read();
        if state.generation != Some(generation) {
            return None;
        }
        Some((state.index.clone()?, state.users.get(&user_id)?.clone()))
    }

    pub(crate) fn put_index(&self, generation: i64, index: Arc<PermIndex>) {
        self.observe(generation);
        let mut state = self.write();
        if state.generation == Some(generation) {
            state.index = Some(index);
        }
    }

    pub(crate) fn put_user(&self, generation: i64, user_id: i64, perms: Arc<UserPerms>) {
        let mut state = self.write();
        if state.generation == Some(generation) && state.index.is_some() {
            state.users.insert(user_id, perms);
        }
    }

    /// Number of cached users (for tests and the memory benchmark).
    pub(crate) fn len(&self) -> usize {
        self.read().users.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_generation_drops_every_entry() {
        let cache = PermCache::default();
        cache.put_index(1, Arc::new(PermIndex::default()));
        cache.put_user(1, 7, Arc::new(UserPerms::empty()));
        assert!(cache.user(1, 7).is_some());
        assert!(cache.user(2, 7).is_none());
        cache.observe(2);
        assert_eq!(cache.len(), 0);
        // An entry loaded under an old generation is not stored.
        cache.put_user(1, 7, Arc::new(UserPerms::empty()));
        assert_eq!(cache.len(), 0);
    }
}
