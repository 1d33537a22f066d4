//! The per-process permission cache, keyed by the database's authorization generations.
//!
//! Castellan's migration adds a two-row table `castellan_generation` and triggers on every table that
//! can change a user's permissions (`auth_user_groups`, `auth_user_user_permissions`,
//! `auth_group_permissions`, `auth_permission`, `auth_group`, `django_content_type`). Any write — by
//! Castellan, by Django, or by hand-written SQL — bumps the *grants* generation (row 1) **in the
//! writing transaction**; writes to `auth_permission` and `django_content_type` also bump the
//! *catalog* generation (row 2), which is what the interned permission index depends on.
//!
//! Every check reads both generations together with the user row (one query), so a cached entry is
//! only used while nothing that could change it has been committed: revocation is visible on the very
//! next check, in every process. The user's flags (`is_active`, `is_superuser`) are never cached.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use castellan_core::{PermIndex, UserId, UserPerms};
use foldhash::fast::RandomState;

use crate::principal::Gen;

#[derive(Default)]
struct State {
    grants: Option<i64>,
    catalog: Option<i64>,
    index: Option<Arc<PermIndex>>,
    users: HashMap<UserId, Arc<UserPerms>, RandomState>,
    /// Each cached user's group names, sorted (memberships and group names move `grants`).
    groups: HashMap<UserId, Arc<[String]>, RandomState>,
}

/// Cached permission index (per catalog generation) and per-user permission sets (per grants and
/// catalog generation).
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

    /// Drops what `g` makes stale: every user on a new grants generation, the index too on a new
    /// catalog generation.
    pub(crate) fn observe(&self, g: Gen) {
        {
            let state = self.read();
            if state.grants == Some(g.grants) && state.catalog == Some(g.catalog) {
                return;
            }
        }
        let mut state = self.write();
        if state.catalog != Some(g.catalog) {
            state.catalog = Some(g.catalog);
            state.index = None;
            state.users.clear();
            state.groups.clear();
        }
        if state.grants != Some(g.grants) {
            state.grants = Some(g.grants);
            state.users.clear();
            state.groups.clear();
        }
    }

    /// Forgets everything.
    pub(crate) fn clear(&self) {
        let mut state = self.write();
        *state = State::default();
    }

    pub(crate) fn index(&self, catalog: i64) -> Option<Arc<PermIndex>> {
        let state = self.read();
        (state.catalog == Some(catalog))
            .then(|| state.index.clone())
            .flatten()
    }

    pub(crate) fn user(&self, g: Gen, user_id: UserId) -> Option<(Arc<PermIndex>, Arc<UserPerms>)> {
        let state = self.read();
        if state.grants != Some(g.grants) || state.catalog != Some(g.catalog) {
            return None;
        }
        Some((state.index.clone()?, state.users.get(&user_id)?.clone()))
    }

    /// `user_id`'s group names as of the newest generations seen, if cached.
    pub(crate) fn groups(&self, user_id: UserId) -> Option<Arc<[String]>> {
        let state = self.read();
        state.grants?;
        state.groups.get(&user_id).cloned()
    }

    /// Keeps `user_id`'s group names, read at `g`, while `g` is the newest seen.
    pub(crate) fn put_groups(&self, g: Gen, user_id: UserId, names: Arc<[String]>) {
        let mut state = self.write();
        if state.grants == Some(g.grants) && state.catalog == Some(g.catalog) {
            state.groups.insert(user_id, names);
        }
    }

    pub(crate) fn put_index(&self, catalog: i64, index: Arc<PermIndex>) {
        let mut state = self.write();
        if state.catalog.is_none() || state.catalog == Some(catalog) {
            state.catalog = Some(catalog);
            state.index = Some(index);
        }
    }

    pub(crate) fn put_user(&self, g: Gen, user_id: UserId, perms: Arc<UserPerms>) {
        let mut state = self.write();
        if state.grants == Some(g.grants)
            && state.catalog == Some(g.catalog)
            && state.index.is_some()
        {
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

    const G1: Gen = Gen {
        grants: 1,
        catalog: 1,
    };

    #[test]
    fn a_new_grants_generation_drops_users_but_keeps_the_index() {
        let cache = PermCache::default();
        cache.observe(G1);
        cache.put_index(1, Arc::new(PermIndex::default()));
        cache.put_user(
            G1,
            castellan_core::UserId::Int(7),
            Arc::new(UserPerms::empty()),
        );
        assert!(cache.user(G1, castellan_core::UserId::Int(7)).is_some());
        let g2 = Gen {
            grants: 2,
            catalog: 1,
        };
        assert!(cache.user(g2, castellan_core::UserId::Int(7)).is_none());
        cache.observe(g2);
        assert_eq!(cache.len(), 0);
        assert!(
            cache.index(1).is_some(),
            "the index survives a grant change"
        );
        // An entry loaded under an old generation is not stored.
        cache.put_user(
            G1,
            castellan_core::UserId::Int(7),
            Arc::new(UserPerms::empty()),
        );
        assert_eq!(cache.len(), 0);
        cache.observe(Gen {
            grants: 3,
            catalog: 2,
        });
        assert!(cache.index(1).is_none() && cache.index(2).is_none());
    }
}
