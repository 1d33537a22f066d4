//! [`MemoryBackend`]: users, groups, permissions and sessions in memory, implementing
//! [`AuthnBackend`] and [`SessionStore`] with Django's semantics. For tests, prototypes and
//! applications whose users are not in a database; `castellan-store` is the production backend.
//!
//! Password hashing runs on the calling task (there is no blocking pool here): give tests a fast
//! hasher list with [`MemoryBackend::with_hashers`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use getrandom::SysRng;
use rand_core::UnwrapErr;

use crate::authn::{AuthnBackend, BackendError, BackendResult};
use crate::hashers::{unusable_password, Hashers};
use crate::session_store::SessionStore;
use crate::{
    Error, Identity, PermIndex, PermName, PermissionRow, Principal, User, UserFlags, UserId,
    UserPerms, UserPk,
};

/// An in-memory user, group, permission and session store. Cloning shares the data.
#[derive(Clone)]
pub struct MemoryBackend {
    state: Arc<Mutex<State>>,
    hashers: Arc<Hashers>,
}

impl std::fmt::Debug for MemoryBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("MemoryBackend")
            .field("users", &state.users.len())
            .field("groups", &state.groups.len())
            .field("permissions", &state.permissions.len())
            .field("sessions", &state.sessions.len())
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    permissions: BTreeMap<i64, PermissionRow>,
    /// Rebuilt when the permissions change.
    index: Option<Arc<PermIndex>>,
    users: BTreeMap<UserId, User>,
    groups: BTreeMap<i64, String>,
    user_perms: BTreeSet<(UserId, i64)>,
    group_perms: BTreeSet<(i64, i64)>,
    members: BTreeSet<(UserId, i64)>,
    sessions: HashMap<String, (String, DateTime<Utc>)>,
    next_id: i64,
}

impl State {
    fn next_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    fn index(&mut self) -> Arc<PermIndex> {
        let permissions = &self.permissions;
        Arc::clone(
            self.index
                .get_or_insert_with(|| Arc::new(PermIndex::new(permissions.values().cloned()))),
        )
    }

    fn permission_row(&mut self, perm: &str) -> Result<i64, Error> {
        let name = PermName::parse(perm)?;
        if let Some(row) = self
            .permissions
            .values()
            .find(|r| r.app_label == name.app_label() && r.codename == name.codename())
        {
            return Ok(row.id);
        }
        Err(Error::UnknownPermission {
            name: perm.to_owned(),
            suggestion: self.index().closest(perm).map(str::to_owned),
        })
    }

    fn user_mut(&mut self, id: UserId) -> Result<&mut User, Error> {
        self.users.get_mut(&id).ok_or_else(|| Error::InvalidName {
            what: "user id",
            value: id.to_string(),
            reason: "no such user".into(),
        })
    }

    fn check_group(&self, id: i64) -> Result<(), Error> {
        if self.groups.contains_key(&id) {
            Ok(())
        } else {
            Err(Error::InvalidName {
                what: "group id",
                value: id.to_string(),
                reason: "no such group".into(),
            })
        }
    }
}

impl Default for MemoryBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryBackend {
    /// An empty backend hashing with Django's default hashers.
    pub fn new() -> Self {
        Self::with_hashers(Hashers::django_default())
    }

    /// An empty backend hashing with `hashers` (the first is preferred).
    pub fn with_hashers(hashers: Hashers) -> Self {
        Self {
            state: Arc::new(Mutex::new(State::default())),
            hashers: Arc::new(hashers),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds the permission `app_label.codename` and returns its row id; an existing one is
    /// returned as is.
    pub fn add_permission(&self, app_label: &str, codename: &str) -> Result<i64, Error> {
        PermName::parse(&format!("{app_label}.{codename}"))?;
        let mut state = self.lock();
        if let Some(row) = state
            .permissions
            .values()
            .find(|r| r.app_label == app_label && r.codename == codename)
        {
            return Ok(row.id);
        }
        let id = state.next_id();
        state.permissions.insert(
            id,
            PermissionRow {
                id,
                app_label: app_label.to_owned(),
                codename: codename.to_owned(),
            },
        );
        state.index = None;
        Ok(id)
    }

    /// Creates an active, non-staff user with `password` (`None`: an unusable password).
    /// A taken username is an error.
    pub fn create_user(&self, username: &str, password: Option<&str>) -> Result<User, Error> {
        crate::validators::validate_username(username)?;
        let encoded = match password {
            Some(raw) => self
                .hashers
                .make_password(raw.as_bytes(), &mut UnwrapErr(SysRng))?,
            None => unusable_password(&mut UnwrapErr(SysRng)),
        };
        let mut state = self.lock();
        if state.users.values().any(|u| u.username == username) {
            return Err(Error::InvalidName {
                what: "username",
                value: username.to_owned(),
                reason: "A user with that username already exists.".into(),
            });
        }
        let id = UserId::Int(state.next_id());
        let user = User {
            id,
            password: encoded,
            last_login: None,
            is_superuser: false,
            username: username.to_owned(),
            first_name: String::new(),
            last_name: String::new(),
            email: String::new(),
            is_staff: false,
            is_active: true,
            date_joined: Some(Utc::now()),
        };
        state.users.insert(id, user.clone());
        Ok(user)
    }

    /// Changes a user's row (flags, names); the id and password are kept.
    pub fn update_user(&self, id: UserId, change: impl FnOnce(&mut User)) -> Result<User, Error> {
        let mut state = self.lock();
        let user = state.user_mut(id)?;
        let (keep_id, keep_password) = (user.id, user.password.clone());
        change(user);
        user.id = keep_id;
        user.password = keep_password;
        Ok(user.clone())
    }

    /// Deletes a user with their grants and memberships.
    pub fn delete_user(&self, id: UserId) {
        let mut state = self.lock();
        state.users.remove(&id);
        state.user_perms.retain(|(u, _)| *u != id);
        state.members.retain(|(u, _)| *u != id);
    }

    /// The user called `username`.
    pub fn user(&self, username: &str) -> Option<User> {
        self.lock()
            .users
            .values()
            .find(|u| u.username == username)
            .cloned()
    }

    /// Creates a group and returns its id; a taken name is an error.
    pub fn create_group(&self, name: &str) -> Result<i64, Error> {
        crate::validators::validate_group_name(name)?;
        let mut state = self.lock();
        if state.groups.values().any(|g| g == name) {
            return Err(Error::InvalidName {
                what: "group name",
                value: name.to_owned(),
                reason: "Group with this Name already exists.".into(),
            });
        }
        let id = state.next_id();
        state.groups.insert(id, name.to_owned());
        Ok(id)
    }

    /// The id of the group called `name`.
    pub fn group_id(&self, name: &str) -> Option<i64> {
        self.lock()
            .groups
            .iter()
            .find(|(_, g)| *g == name)
            .map(|(id, _)| *id)
    }

    /// Renames a group.
    pub fn rename_group(&self, id: i64, name: &str) -> Result<(), Error> {
        crate::validators::validate_group_name(name)?;
        let mut state = self.lock();
        state.check_group(id)?;
        state.groups.insert(id, name.to_owned());
        Ok(())
    }

    /// Puts a user in a group.
    pub fn add_to_group(&self, user_id: UserId, group_id: i64) -> Result<(), Error> {
        let mut state = self.lock();
        state.user_mut(user_id)?;
        state.check_group(group_id)?;
        state.members.insert((user_id, group_id));
        Ok(())
    }

    /// Takes a user out of a group.
    pub fn remove_from_group(&self, user_id: UserId, group_id: i64) {
        self.lock().members.remove(&(user_id, group_id));
    }

    /// Grants `perm` (`app_label.codename`) to a user directly.
    pub fn grant_user(&self, user_id: UserId, perm: &str) -> Result<(), Error> {
        let mut state = self.lock();
        let row = state.permission_row(perm)?;
        state.user_mut(user_id)?;
        state.user_perms.insert((user_id, row));
        Ok(())
    }

    /// Revokes a direct grant.
    pub fn revoke_user(&self, user_id: UserId, perm: &str) -> Result<(), Error> {
        let mut state = self.lock();
        let row = state.permission_row(perm)?;
        state.user_perms.remove(&(user_id, row));
        Ok(())
    }

    /// Grants `perm` to a group.
    pub fn grant_group(&self, group_id: i64, perm: &str) -> Result<(), Error> {
        let mut state = self.lock();
        let row = state.permission_row(perm)?;
        state.check_group(group_id)?;
        state.group_perms.insert((group_id, row));
        Ok(())
    }

    /// Revokes a group's grant.
    pub fn revoke_group(&self, group_id: i64, perm: &str) -> Result<(), Error> {
        let mut state = self.lock();
        let row = state.permission_row(perm)?;
        state.group_perms.remove(&(group_id, row));
        Ok(())
    }

    /// How many unexpired sessions are stored.
    pub fn session_count(&self) -> usize {
        let now = Utc::now();
        self.lock()
            .sessions
            .values()
            .filter(|(_, expire)| *expire > now)
            .count()
    }
}

impl AuthnBackend for MemoryBackend {
    async fn authenticate(&self, username: &str, password: &str) -> BackendResult<Option<User>> {
        let Some(user) = self.user(username) else {
            self.hashers.fake_hash(&mut UnwrapErr(SysRng));
            return Ok(None);
        };
        let check = self.hashers.check_password(
            Some(password.as_bytes()),
            &user.password,
            &mut UnwrapErr(SysRng),
        );
        let mut user = user;
        if check.valid && check.needs_upgrade() {
            let upgraded = self
                .hashers
                .make_password(password.as_bytes(), &mut UnwrapErr(SysRng))
                .map_err(BackendError::other)?;
            let mut state = self.lock();
            if let Some(stored) = state.users.get_mut(&user.id) {
                // Only replace the hash that was checked (a concurrent password change wins).
                if stored.password == user.password {
                    stored.password.clone_from(&upgraded);
                    user.password = upgraded;
                }
            }
        }
        Ok((check.valid && user.is_active).then_some(user))
    }

    async fn user_by_session_id(&self, id: &str) -> BackendResult<Option<User>> {
        let Some(id) = UserId::parse(UserPk::Integer, id) else {
            return Ok(None);
        };
        Ok(self.lock().users.get(&id).cloned())
    }

    async fn principal(&self, user: &User) -> BackendResult<Principal> {
        let mut state = self.lock();
        let index = state.index();
        let direct = state
            .user_perms
            .iter()
            .filter(|(u, _)| *u == user.id)
            .map(|(_, p)| *p);
        let direct = index.set_from_rows(direct);
        let groups: BTreeSet<i64> = state
            .members
            .iter()
            .filter(|(u, _)| *u == user.id)
            .map(|(_, g)| *g)
            .collect();
        let via_groups = state
            .group_perms
            .iter()
            .filter(|(g, _)| groups.contains(g))
            .map(|(_, p)| *p);
        let via_groups = index.set_from_rows(via_groups);
        Ok(Principal::new(
            Identity::User(UserFlags::from(user)),
            Arc::new(UserPerms::new(direct, via_groups)),
            index,
        ))
    }

    async fn permission_index(&self) -> BackendResult<Arc<PermIndex>> {
        Ok(self.lock().index())
    }

    async fn user_groups(&self, user: &User) -> BackendResult<Vec<String>> {
        let state = self.lock();
        let mut names: Vec<String> = state
            .members
            .iter()
            .filter(|(u, _)| *u == user.id)
            .filter_map(|(_, g)| state.groups.get(g).cloned())
            .collect();
        names.sort();
        Ok(names)
    }

    async fn set_password(&self, user: &User, raw: &str) -> BackendResult<Option<User>> {
        let encoded = self
            .hashers
            .make_password(raw.as_bytes(), &mut UnwrapErr(SysRng))
            .map_err(BackendError::other)?;
        let mut state = self.lock();
        Ok(state.users.get_mut(&user.id).map(|stored| {
            stored.password = encoded;
            stored.clone()
        }))
    }

    async fn touch_last_login(&self, user: &User) -> BackendResult<()> {
        if let Some(stored) = self.lock().users.get_mut(&user.id) {
            stored.last_login = Some(Utc::now());
        }
        Ok(())
    }

    async fn users_by_email(&self, email: &str) -> BackendResult<Vec<User>> {
        // What `UPPER(email) = UPPER(…)` finds in a database; a blank address matches nobody.
        if email.is_empty() {
            return Ok(Vec::new());
        }
        let wanted = email.to_uppercase();
        Ok(self
            .lock()
            .users
            .values()
            .filter(|u| u.is_active && u.email.to_uppercase() == wanted)
            .cloned()
            .collect())
    }
}

impl SessionStore for MemoryBackend {
    async fn load(&self, key: &str) -> BackendResult<Option<String>> {
        let now = Utc::now();
        let mut state = self.lock();
        match state.sessions.get(key) {
            Some((data, expire)) if *expire > now => Ok(Some(data.clone())),
            Some(_) => {
                state.sessions.remove(key);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn save(&self, key: &str, data: &str, expire: DateTime<Utc>) -> BackendResult<()> {
        self.lock()
            .sessions
            .insert(key.to_owned(), (data.to_owned(), expire));
        Ok(())
    }

    async fn delete(&self, key: &str) -> BackendResult<()> {
        self.lock().sessions.remove(key);
        Ok(())
    }

    async fn cycle(
        &self,
        old_key: &str,
        new_key: &str,
        data: &str,
        expire: DateTime<Utc>,
    ) -> BackendResult<()> {
        let mut state = self.lock();
        state.sessions.remove(old_key);
        state
            .sessions
            .insert(new_key.to_owned(), (data.to_owned(), expire));
        Ok(())
    }
}
