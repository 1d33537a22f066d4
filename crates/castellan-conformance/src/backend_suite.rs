//! One behavioural suite for every [`AuthnBackend`] + [`SessionStore`]: the in-memory backend and
//! the store on each database kind must answer alike. A [`Fixture`] sets data up the backend's own
//! way; `castellan_testkit::per_db!(memory = memory_backend(); …)` instantiates each test for
//! [`MemoryBackend`] and for [`Store`] on SQLite, PostgreSQL and MariaDB.

use std::future::Future;

use castellan_core::{AuthnBackend, MemoryBackend, SessionStore, User};
use castellan_store::{NewUser, Store, UserChanges};

/// The permissions the suite uses (Django's own, present in every migrated database).
pub const SUITE_PERMISSIONS: [&str; 4] = [
    "auth.view_user",
    "auth.change_user",
    "auth.view_group",
    "auth.change_group",
];

/// Sets up users, groups and grants in a backend (test support: failures panic).
pub trait Fixture: AuthnBackend + SessionStore + Clone {
    /// Creates an active user (`None`: an unusable password).
    fn user(&self, username: &str, password: Option<&str>) -> impl Future<Output = User> + Send;
    /// Sets `is_active`.
    fn set_active(&self, username: &str, active: bool) -> impl Future<Output = ()> + Send;
    /// Sets `is_superuser`.
    fn set_superuser(&self, username: &str, superuser: bool) -> impl Future<Output = ()> + Send;
    /// Sets the e-mail address (the store lower-cases its domain, as Django's `normalize_email`).
    fn set_email(&self, username: &str, email: &str) -> impl Future<Output = ()> + Send;
    /// Deletes a user.
    fn delete_user(&self, username: &str) -> impl Future<Output = ()> + Send;
    /// Creates a group.
    fn group(&self, name: &str) -> impl Future<Output = ()> + Send;
    /// Adds a user to a group.
    fn join(&self, username: &str, group: &str) -> impl Future<Output = ()> + Send;
    /// Grants or revokes a direct permission.
    fn user_perm(&self, username: &str, perm: &str, grant: bool)
        -> impl Future<Output = ()> + Send;
    /// Grants or revokes a group permission.
    fn group_perm(&self, group: &str, perm: &str, grant: bool) -> impl Future<Output = ()> + Send;
}

impl Fixture for Store {
    async fn user(&self, username: &str, password: Option<&str>) -> User {
        let mut new = NewUser::new(username);
        new.password = password.map(str::to_owned);
        self.create_user(new)
            .await
            .unwrap_or_else(|e| panic!("create user {username}: {e}"))
    }
    async fn set_active(&self, username: &str, active: bool) {
        let changes = UserChanges {
            is_active: Some(active),
            ..UserChanges::default()
        };
        self.update_user(username, changes)
            .await
            .unwrap_or_else(|e| panic!("update {username}: {e}"));
    }
    async fn set_superuser(&self, username: &str, superuser: bool) {
        let changes = UserChanges {
            is_superuser: Some(superuser),
            ..UserChanges::default()
        };
        self.update_user(username, changes)
            .await
            .unwrap_or_else(|e| panic!("update {username}: {e}"));
    }
    async fn set_email(&self, username: &str, email: &str) {
        let changes = UserChanges {
            email: Some(email.to_owned()),
            ..UserChanges::default()
        };
        self.update_user(username, changes)
            .await
            .unwrap_or_else(|e| panic!("update {username}: {e}"));
    }
    async fn delete_user(&self, username: &str) {
        Store::delete_user(self, username)
            .await
            .unwrap_or_else(|e| panic!("delete {username}: {e}"));
    }
    async fn group(&self, name: &str) {
        self.create_group(name)
            .await
            .unwrap_or_else(|e| panic!("create group {name}: {e}"));
    }
    async fn join(&self, username: &str, group: &str) {
        self.add_user_to_groups(username, &[group.to_owned()])
            .await
            .unwrap_or_else(|e| panic!("add {username} to {group}: {e}"));
    }
    async fn user_perm(&self, username: &str, perm: &str, grant: bool) {
        let perms = [perm.to_owned()];
        let done = if grant {
            self.grant_user(username, &perms).await
        } else {
            self.revoke_user(username, &perms).await
        };
        done.unwrap_or_else(|e| panic!("{perm} for {username}: {e}"));
    }
    async fn group_perm(&self, group: &str, perm: &str, grant: bool) {
        let perms = [perm.to_owned()];
        let done = if grant {
            self.grant_group(group, &perms).await
        } else {
            self.revoke_group(group, &perms).await
        };
        done.unwrap_or_else(|e| panic!("{perm} for group {group}: {e}"));
    }
}

/// A [`MemoryBackend`] holding the suite's permissions, hashing with Django's default hashers.
pub fn memory_backend() -> MemoryBackend {
    let backend = MemoryBackend::new();
    for perm in SUITE_PERMISSIONS {
        let (app, codename) = perm.split_once('.').unwrap_or(("", perm));
        backend
            .add_permission(app, codename)
            .unwrap_or_else(|e| panic!("add {perm}: {e}"));
    }
    backend
}

fn memory_user_id(backend: &MemoryBackend, username: &str) -> castellan_core::UserId {
    backend
        .user(username)
        .unwrap_or_else(|| panic!("no user {username}"))
        .id
}

fn memory_group_id(backend: &MemoryBackend, name: &str) -> i64 {
    backend
        .group_id(name)
        .unwrap_or_else(|| panic!("no group {name}"))
}

impl Fixture for MemoryBackend {
    async fn user(&self, username: &str, password: Option<&str>) -> User {
        self.create_user(username, password)
            .unwrap_or_else(|e| panic!("create user {username}: {e}"))
    }
    async fn set_active(&self, username: &str, active: bool) {
        let id = memory_user_id(self, username);
        self.update_user(id, |u| u.is_active = active)
            .unwrap_or_else(|e| panic!("update {username}: {e}"));
    }
    async fn set_superuser(&self, username: &str, superuser: bool) {
        let id = memory_user_id(self, username);
        self.update_user(id, |u| u.is_superuser = superuser)
            .unwrap_or_else(|e| panic!("update {username}: {e}"));
    }
    async fn set_email(&self, username: &str, email: &str) {
        let id = memory_user_id(self, username);
        self.update_user(id, |u| u.email = email.to_owned())
            .unwrap_or_else(|e| panic!("update {username}: {e}"));
    }
    async fn delete_user(&self, username: &str) {
        MemoryBackend::delete_user(self, memory_user_id(self, username));
    }
    async fn group(&self, name: &str) {
        self.create_group(name)
            .unwrap_or_else(|e| panic!("create group {name}: {e}"));
    }
    async fn join(&self, username: &str, group: &str) {
        self.add_to_group(memory_user_id(self, username), memory_group_id(self, group))
            .unwrap_or_else(|e| panic!("add {username} to {group}: {e}"));
    }
    async fn user_perm(&self, username: &str, perm: &str, grant: bool) {
        let id = memory_user_id(self, username);
        let done = if grant {
            self.grant_user(id, perm)
        } else {
            self.revoke_user(id, perm)
        };
        done.unwrap_or_else(|e| panic!("{perm} for {username}: {e}"));
    }
    async fn group_perm(&self, group: &str, perm: &str, grant: bool) {
        let id = memory_group_id(self, group);
        let done = if grant {
            self.grant_group(id, perm)
        } else {
            self.revoke_group(id, perm)
        };
        done.unwrap_or_else(|e| panic!("{perm} for group {group}: {e}"));
    }
}
