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

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use castellan_core::{PermIndex, PermissionSet, UserId, UserPerms};
use foldhash::fast::RandomState;

use crate::principal::Gen;

/// A map keyed by user. Integer keys (Django's default) live in a table of their own, whose
/// slot is the key and the value, 16 bytes for an `Arc`; a [`UserId`] key would take 48 (a
/// `u128` is 16-aligned), the biggest part of a cached user's cost.
struct UserMap<V> {
    ints: HashMap<i64, V, RandomState>,
    uuids: HashMap<u128, V, RandomState>,
}

impl<V> Default for UserMap<V> {
    fn default() -> Self {
        Self {
            ints: HashMap::default(),
            uuids: HashMap::default(),
        }
    }
}

impl<V> UserMap<V> {
    fn get(&self, id: UserId) -> Option<&V> {
        match id {
            UserId::Int(i) => self.ints.get(&i),
            UserId::Uuid(u) => self.uuids.get(&u),
        }
    }

    fn insert(&mut self, id: UserId, value: V) {
        match id {
            UserId::Int(i) => self.ints.insert(i, value),
            UserId::Uuid(u) => self.uuids.insert(u, value),
        };
    }

    fn clear(&mut self) {
        self.ints.clear();
        self.uuids.clear();
    }

    fn len(&self) -> usize {
        self.ints.len() + self.uuids.len()
    }

    fn values(&self) -> impl Iterator<Item = &V> {
        self.ints.values().chain(self.uuids.values())
    }

    /// The two tables' allocations.
    fn table_bytes(&self) -> usize {
        table_bytes::<(i64, V)>(self.ints.capacity())
            + table_bytes::<(u128, V)>(self.uuids.capacity())
    }
}

#[derive(Default)]
struct State {
    grants: Option<i64>,
    catalog: Option<i64>,
    index: Option<Arc<PermIndex>>,
    users: UserMap<Arc<UserPerms>>,
    /// Each cached user's group names, sorted (memberships and group names move `grants`).
    groups: UserMap<Arc<[String]>>,
    /// One copy of each distinct permission set the cached users hold: the members of the same
    /// groups share their group set (and their union when they hold nothing directly).
    sets: HashSet<Arc<PermissionSet>, RandomState>,
}

impl State {
    fn drop_users(&mut self) {
        self.users.clear();
        self.groups.clear();
        self.sets.clear();
    }

    /// The newest generations seen, when the index for them is cached.
    fn generations(&self) -> Option<Gen> {
        self.index.as_ref()?;
        Some(Gen {
            grants: self.grants?,
            catalog: self.catalog?,
        })
    }

    fn current(&self, g: Gen) -> bool {
        self.grants == Some(g.grants) && self.catalog == Some(g.catalog)
    }

    fn intern(&mut self, set: PermissionSet) -> Arc<PermissionSet> {
        if let Some(kept) = self.sets.get(&set) {
            return Arc::clone(kept);
        }
        let set = Arc::new(set);
        self.sets.insert(Arc::clone(&set));
        set
    }
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
            state.drop_users();
        }
        if state.grants != Some(g.grants) {
            state.grants = Some(g.grants);
            state.drop_users();
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
        if !state.current(g) {
            return None;
        }
        Some((state.index.clone()?, state.users.get(user_id)?.clone()))
    }

    /// The newest generations seen, when the index for them is cached.
    pub(crate) fn generations(&self) -> Option<Gen> {
        self.read().generations()
    }

    /// The generations `user_id`'s permissions are cached for, if they are: a load that reads
    /// these generations again can skip reading the permissions.
    pub(crate) fn cached_at(&self, user_id: UserId) -> Option<Gen> {
        let state = self.read();
        state
            .generations()
            .filter(|_| state.users.get(user_id).is_some())
    }

    /// A user's permissions over the kept copies of equal sets, when read at the newest
    /// generations (else over fresh copies: they will not be cached).
    pub(crate) fn shared_perms(
        &self,
        g: Gen,
        user: PermissionSet,
        group: PermissionSet,
    ) -> UserPerms {
        let mut state = self.write();
        if !state.current(g) {
            return UserPerms::new(user, group);
        }
        let user = state.intern(user);
        let group = state.intern(group);
        UserPerms::shared(user, group, |all| state.intern(all))
    }

    /// `user_id`'s group names as of the newest generations seen, if cached.
    pub(crate) fn groups(&self, user_id: UserId) -> Option<Arc<[String]>> {
        let state = self.read();
        state.grants?;
        state.groups.get(user_id).cloned()
    }

    /// Keeps `user_id`'s group names, read at `g`, while `g` is the newest seen.
    pub(crate) fn put_groups(&self, g: Gen, user_id: UserId, names: Arc<[String]>) {
        let mut state = self.write();
        if state.current(g) {
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
        if state.current(g) && state.index.is_some() {
            state.users.insert(user_id, perms);
        }
    }

    /// Number of cached users (for tests and the memory benchmark).
    pub(crate) fn len(&self) -> usize {
        self.read().users.len()
    }

    /// The bytes the cached users' permissions take (an estimate from the layout): the map (its
    /// slots, one control byte each), each user's block (two counts and a [`UserPerms`]), each
    /// distinct set the users hold once (two counts, the set, its heap), and the table of kept
    /// sets. Not counted: the permission index (one per process) and the group names (kept only
    /// for users whose page shows them).
    pub(crate) fn user_bytes(&self) -> usize {
        let state = self.read();
        let counts = 2 * std::mem::size_of::<usize>();
        let map = state.users.table_bytes()
            + state.users.len() * (counts + std::mem::size_of::<UserPerms>());
        let mut seen = HashSet::new();
        let sets: usize = state
            .users
            .values()
            .flat_map(|p| p.sets())
            .filter(|set| seen.insert(Arc::as_ptr(set)))
            .map(|set| counts + std::mem::size_of::<PermissionSet>() + set.heap_size())
            .sum();
        map + sets + table_bytes::<Arc<PermissionSet>>(state.sets.capacity())
    }
}

/// A hash table's allocation for `capacity` entries of `T`: one slot and one control byte per
/// bucket, at most 7/8 of the buckets in use.
fn table_bytes<T>(capacity: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    (capacity * 8).div_ceil(7) * (std::mem::size_of::<T>() + 1)
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

    #[test]
    fn members_of_the_same_groups_hold_one_copy_and_keys_of_both_kinds_are_kept() {
        use castellan_core::{PermissionRow, UserId};
        let cache = PermCache::default();
        cache.observe(G1);
        let rows = (1..=4).map(|id| PermissionRow {
            id,
            app_label: "app".into(),
            codename: format!("p{id}"),
        });
        let index = Arc::new(PermIndex::new(rows));
        cache.put_index(1, Arc::clone(&index));
        let group = || index.set_from_rows([1, 2, 3]);
        let a = cache.shared_perms(G1, index.set_from_rows([]), group());
        let b = cache.shared_perms(G1, index.set_from_rows([]), group());
        let c = cache.shared_perms(G1, index.set_from_rows([4]), group());
        assert!(Arc::ptr_eq(a.sets()[1], b.sets()[1]) && Arc::ptr_eq(a.sets()[1], c.sets()[1]));
        assert!(
            Arc::ptr_eq(a.sets()[2], a.sets()[1]),
            "no direct: the union is the group set"
        );
        assert_eq!(c.all().len(), 4);
        // Read at an older generation: not shared, not cached.
        let old = cache.shared_perms(
            Gen {
                grants: 0,
                catalog: 1,
            },
            index.set_from_rows([]),
            group(),
        );
        assert!(!Arc::ptr_eq(old.sets()[1], a.sets()[1]));

        let int = UserId::Int(7);
        let uuid = UserId::Uuid(7);
        cache.put_user(G1, int, Arc::new(a));
        assert!(cache.user(G1, int).is_some() && cache.user(G1, uuid).is_none());
        cache.put_user(G1, uuid, Arc::new(c));
        let (_, got) = cache.user(G1, uuid).unwrap_or_else(|| panic!("cached"));
        assert_eq!(got.all().len(), 4);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.cached_at(uuid), Some(G1));
        assert!(cache.user_bytes() > 0);
        cache.observe(Gen {
            grants: 2,
            catalog: 1,
        });
        assert_eq!((cache.len(), cache.cached_at(int)), (0, None));
    }
}
