//! The admin's versioned edits of a user: flags, names, memberships and direct permissions,
//! deletion and password, each refused when the user changed since the editor read it (see
//! `versions.rs`) or when no active superuser would remain.

use crate::audit::json;
use crate::error::{Error, Result};
use crate::grants::{PermChange, PermHolder};
use crate::lookup::{group_id, user_id};
use crate::retry::retry_busy;
use crate::sql::{Dialect, Sql, Tx};
use crate::users::user_from_row;
use crate::versions::{user_grants, user_version, UserState, LOCK_USER};
use crate::Store;

/// A change to a user, as additions and removals. `None` fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserEdit {
    /// New e-mail.
    pub email: Option<String>,
    /// New first name.
    pub first_name: Option<String>,
    /// New last name.
    pub last_name: Option<String>,
    /// New `is_active`.
    pub is_active: Option<bool>,
    /// New `is_staff`.
    pub is_staff: Option<bool>,
    /// New `is_superuser`.
    pub is_superuser: Option<bool>,
    /// Groups to join.
    pub add_groups: Vec<String>,
    /// Groups to leave.
    pub remove_groups: Vec<String>,
    /// Direct permissions to grant.
    pub grant: Vec<String>,
    /// Direct permissions to revoke.
    pub revoke: Vec<String>,
}

/// One user's edit with the version of the state it was judged on, for
/// [`Store::apply_user_edits`].
#[derive(Debug, Clone, Copy)]
pub struct VersionedEdit<'a> {
    /// The user.
    pub username: &'a str,
    /// [`UserState::version`] when the edit was checked.
    pub version: &'a str,
    /// The change.
    pub edit: &'a UserEdit,
}

/// The active superusers, locked in id order (PostgreSQL, MariaDB), so that two concurrent edits
/// cannot each remove a different "other" superuser. A locking read: it sees the latest committed
/// rows.
const ACTIVE_SUPERUSERS: Sql = Sql::per_dialect(
    "SELECT id FROM auth_user WHERE is_superuser = TRUE AND is_active = TRUE ORDER BY id",
    "SELECT id FROM auth_user WHERE is_superuser = TRUE AND is_active = TRUE ORDER BY id FOR UPDATE",
    "SELECT id FROM auth_user WHERE is_superuser = TRUE AND is_active = TRUE ORDER BY id FOR UPDATE",
);
const SET_ACTIVE: Sql = crate::sql!("UPDATE auth_user SET is_active = $1 WHERE id = $2");
const SET_STAFF: Sql = crate::sql!("UPDATE auth_user SET is_staff = $1 WHERE id = $2");
const SET_SUPERUSER: Sql = crate::sql!("UPDATE auth_user SET is_superuser = $1 WHERE id = $2");
const SET_EMAIL: Sql = crate::sql!("UPDATE auth_user SET email = $1 WHERE id = $2");
const SET_FIRST_NAME: Sql = crate::sql!("UPDATE auth_user SET first_name = $1 WHERE id = $2");
const SET_LAST_NAME: Sql = crate::sql!("UPDATE auth_user SET last_name = $1 WHERE id = $2");
pub(crate) const INSERT_MEMBERSHIP: Sql =
    crate::sql!("INSERT INTO auth_user_groups (user_id, group_id) VALUES ($1, $2)");
pub(crate) const DELETE_MEMBERSHIP: Sql =
    crate::sql!("DELETE FROM auth_user_groups WHERE user_id = $1 AND group_id = $2");
const DELETE_MEMBERSHIPS: Sql = crate::sql!("DELETE FROM auth_user_groups WHERE user_id = $1");
const DELETE_DIRECT_GRANTS: Sql =
    crate::sql!("DELETE FROM auth_user_user_permissions WHERE user_id = $1");
const DELETE_USER: Sql = crate::sql!("DELETE FROM auth_user WHERE id = $1");

/// The statements of this module.
#[cfg(test)]
pub(crate) const STATEMENTS: &[Sql] = &[
    ACTIVE_SUPERUSERS,
    SET_ACTIVE,
    SET_STAFF,
    SET_SUPERUSER,
    SET_EMAIL,
    SET_FIRST_NAME,
    SET_LAST_NAME,
    INSERT_MEMBERSHIP,
    DELETE_MEMBERSHIP,
    DELETE_MEMBERSHIPS,
    DELETE_DIRECT_GRANTS,
    DELETE_USER,
];

/// Locks the rows of every active superuser (PostgreSQL, MariaDB; SQLite's write transaction
/// already excludes every other writer).
async fn lock_superusers(tx: &mut Tx) -> Result<()> {
    if tx.dialect() != Dialect::Sqlite {
        tx.fetch_all(&ACTIVE_SUPERUSERS, &[]).await?;
    }
    Ok(())
}

/// Fails with [`Error::Refused`] when no active superuser is left (call after the change, inside
/// the transaction).
async fn ensure_superuser_left(tx: &mut Tx) -> Result<()> {
    if tx.fetch_all(&ACTIVE_SUPERUSERS, &[]).await?.is_empty() {
        return Err(Error::Refused(
            "At least one active superuser must remain: make another user an active superuser first.".into(),
        ));
    }
    Ok(())
}

impl Store {
    /// Applies `edit` to `username` in one transaction if the user's state still has `version`
    /// ([`Error::Conflict`] otherwise) and at least one active superuser remains afterwards
    /// ([`Error::Refused`] otherwise). Every change is audited; on any error nothing is written.
    /// A transaction that collides with concurrent ones is tried again a few times
    /// ([`Error::Busy`] when every try collided).
    pub async fn apply_user_edit(
        &self,
        username: &str,
        version: &str,
        edit: &UserEdit,
    ) -> Result<UserState> {
        let one = [VersionedEdit {
            username,
            version,
            edit,
        }];
        self.apply_user_edits(&one).await?;
        self.user_state(username)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "user",
                name: username.to_owned(),
            })
    }

    /// Applies several users' edits in **one** transaction (the admin's bulk actions): each user
    /// must still have the version its edit was judged on ([`Error::Conflict`] otherwise) and at
    /// least one active superuser must remain ([`Error::Refused`]); on any error nothing is
    /// written. Every change is audited, one entry per user and change. Users are locked in
    /// username order, so two bulk edits cannot deadlock each other.
    pub async fn apply_user_edits(&self, edits: &[VersionedEdit<'_>]) -> Result<()> {
        use castellan_core::validators::{normalize_email, validate_email, validate_person_name};
        for e in edits {
            if let Some(email) = e.edit.email.as_deref().map(normalize_email) {
                validate_email(&email)?;
            }
            if let Some(v) = &e.edit.first_name {
                validate_person_name("first name", v)?;
            }
            if let Some(v) = &e.edit.last_name {
                validate_person_name("last name", v)?;
            }
        }
        retry_busy(|| self.apply_user_edits_once(edits)).await
    }

    /// One try of [`Store::apply_user_edits`]. Users are locked in id order, as
    /// [`Store::apply_group_members`] locks them, so that concurrent batches cannot deadlock.
    async fn apply_user_edits_once(&self, edits: &[VersionedEdit<'_>]) -> Result<()> {
        let mut tx = self.db.begin_write().await?;
        lock_superusers(&mut tx).await?;
        let mut ordered = Vec::with_capacity(edits.len());
        for e in edits {
            ordered.push((user_id(&mut tx, e.username).await?, e));
        }
        ordered.sort_by_key(|(id, _)| *id);
        for (_, e) in ordered {
            self.edit_in(&mut tx, e.username, e.version, e.edit).await?;
        }
        ensure_superuser_left(&mut tx).await?;
        tx.commit().await?;
        self.after_write();
        Ok(())
    }

    /// Applies one user's edit inside `tx` (active superusers already locked).
    async fn edit_in(
        &self,
        tx: &mut Tx,
        username: &str,
        version: &str,
        edit: &UserEdit,
    ) -> Result<()> {
        use castellan_core::validators::normalize_email;
        let email = edit.email.as_deref().map(normalize_email);
        let uid = user_id(&mut *tx, username).await?;
        let user = user_from_row(&tx.fetch_one(&LOCK_USER, &[uid.into()]).await?)?;
        let (groups, perms) = user_grants(&mut *tx, uid).await?;
        if user_version(&user, &groups, &perms) != version {
            return Err(Error::Conflict(format!(
                "User {username:?} was changed by someone else since you opened it; nothing was saved. Review its current state and apply your change again."
            )));
        }
        let before = serde_json::json!({
            "email": user.email, "first_name": user.first_name, "last_name": user.last_name,
            "is_staff": user.is_staff, "is_superuser": user.is_superuser, "is_active": user.is_active,
        });
        let mut after = serde_json::Map::new();
        for (value, sql, col, old) in [
            (edit.is_active, &SET_ACTIVE, "is_active", user.is_active),
            (edit.is_staff, &SET_STAFF, "is_staff", user.is_staff),
            (
                edit.is_superuser,
                &SET_SUPERUSER,
                "is_superuser",
                user.is_superuser,
            ),
        ] {
            if let Some(v) = value.filter(|v| *v != old) {
                tx.execute(sql, &[v.into(), uid.into()]).await?;
                after.insert(col.to_owned(), v.into());
            }
        }
        for (value, sql, col, old) in [
            (email.as_ref(), &SET_EMAIL, "email", &user.email),
            (
                edit.first_name.as_ref(),
                &SET_FIRST_NAME,
                "first_name",
                &user.first_name,
            ),
            (
                edit.last_name.as_ref(),
                &SET_LAST_NAME,
                "last_name",
                &user.last_name,
            ),
        ] {
            if let Some(v) = value.filter(|v| *v != old) {
                tx.execute(sql, &[v.into(), uid.into()]).await?;
                after.insert(col.to_owned(), v.clone().into());
            }
        }
        if !after.is_empty() {
            self.audit(
                &mut *tx,
                "user.update",
                "user",
                username,
                json(&before),
                json(&after),
            )
            .await?;
        }
        for g in &edit.add_groups {
            if groups.contains(g) {
                continue;
            }
            let gid = group_id(&mut *tx, g).await?;
            tx.execute(&INSERT_MEMBERSHIP, &[uid.into(), gid.into()])
                .await?;
            let change = json(&serde_json::json!({ "group": g }));
            self.audit(&mut *tx, "user.add_group", "user", username, None, change)
                .await?;
        }
        for g in &edit.remove_groups {
            let gid = group_id(&mut *tx, g).await?;
            if tx
                .execute(&DELETE_MEMBERSHIP, &[uid.into(), gid.into()])
                .await?
                > 0
            {
                let change = json(&serde_json::json!({ "group": g }));
                self.audit(
                    &mut *tx,
                    "user.remove_group",
                    "user",
                    username,
                    change,
                    None,
                )
                .await?;
            }
        }
        let change = PermChange {
            holder: PermHolder::User,
            id: uid.into(),
            name: username,
            grant: &edit.grant,
            revoke: &edit.revoke,
        };
        self.change_perms(&mut *tx, change).await?;
        Ok(())
    }

    /// Deletes a user (with memberships and direct permissions), refusing when that would leave no
    /// active superuser. Audited; on error nothing is written. A transaction that collides with
    /// concurrent ones is tried again a few times ([`Error::Busy`] when every try collided).
    pub async fn delete_user_keeping_superuser(&self, username: &str) -> Result<()> {
        retry_busy(|| self.delete_user_keeping_superuser_once(username)).await
    }

    /// One try of [`Store::delete_user_keeping_superuser`].
    async fn delete_user_keeping_superuser_once(&self, username: &str) -> Result<()> {
        let before = self.user(username).await?.map(|u| {
            serde_json::json!({
                "email": u.email, "is_staff": u.is_staff, "is_superuser": u.is_superuser, "is_active": u.is_active,
            })
            .to_string()
        });
        let mut tx = self.db.begin_write().await?;
        let id = user_id(&mut tx, username).await?;
        lock_superusers(&mut tx).await?;
        self.audit(&mut tx, "user.delete", "user", username, before, None)
            .await?;
        self.delete_object_grants(&mut tx, crate::object_perms::GrantsOf::User(id))
            .await?;
        for sql in [&DELETE_MEMBERSHIPS, &DELETE_DIRECT_GRANTS, &DELETE_USER] {
            tx.execute(sql, &[id.into()]).await?;
        }
        ensure_superuser_left(&mut tx).await?;
        tx.commit().await?;
        self.after_write();
        Ok(())
    }

    /// Deletes several users (with their memberships and direct permissions) in **one**
    /// transaction, each only if it still has the version the caller judged it on
    /// ([`Error::Conflict`] otherwise: a user made stronger meanwhile is not deleted by someone
    /// who could not delete it now), refusing when no active superuser would remain
    /// ([`Error::Refused`]). One audit entry per user; on any error nothing is written.
    pub async fn delete_users_at_versions(&self, users: &[(&str, &str)]) -> Result<()> {
        let mut unique = users.to_vec();
        unique.sort_unstable();
        unique.dedup();
        retry_busy(|| self.delete_users_at_versions_once(&unique)).await
    }

    /// One try of [`Store::delete_users_at_versions`] (users locked in id order).
    async fn delete_users_at_versions_once(&self, users: &[(&str, &str)]) -> Result<()> {
        let mut tx = self.db.begin_write().await?;
        lock_superusers(&mut tx).await?;
        let mut ordered = Vec::with_capacity(users.len());
        for (username, version) in users {
            ordered.push((user_id(&mut tx, username).await?, *username, *version));
        }
        ordered.sort_by_key(|(id, _, _)| *id);
        for (uid, username, version) in ordered {
            let user = user_from_row(&tx.fetch_one(&LOCK_USER, &[uid.into()]).await?)?;
            let (groups, perms) = user_grants(&mut tx, uid).await?;
            if user_version(&user, &groups, &perms) != *version {
                return Err(Error::Conflict(format!(
                    "User {username:?} was changed by someone else since you opened it; nothing was deleted. Review the user and try again."
                )));
            }
            let before = serde_json::json!({
                "email": user.email, "is_staff": user.is_staff,
                "is_superuser": user.is_superuser, "is_active": user.is_active,
            });
            self.audit(
                &mut tx,
                "user.delete",
                "user",
                username,
                json(&before),
                None,
            )
            .await?;
            self.delete_object_grants(&mut tx, crate::object_perms::GrantsOf::User(uid))
                .await?;
            for sql in [&DELETE_MEMBERSHIPS, &DELETE_DIRECT_GRANTS, &DELETE_USER] {
                tx.execute(sql, &[uid.into()]).await?;
            }
        }
        ensure_superuser_left(&mut tx).await?;
        tx.commit().await?;
        self.after_write();
        Ok(())
    }

    /// Sets (`Some`) or makes unusable (`None`) `username`'s password if the user still has
    /// `version` (the state the caller checked its rules on; [`Error::Conflict`] otherwise), so a
    /// user made stronger meanwhile cannot be taken over. Audited (without the hash).
    pub async fn set_password_at_version(
        &self,
        username: &str,
        raw: Option<&str>,
        version: &str,
    ) -> Result<()> {
        let encoded = self.hash_password(raw.map(str::to_owned)).await?;
        let mut tx = self.db.begin_write().await?;
        let uid = user_id(&mut tx, username).await?;
        let user = user_from_row(&tx.fetch_one(&LOCK_USER, &[uid.into()]).await?)?;
        let (groups, perms) = user_grants(&mut tx, uid).await?;
        if user_version(&user, &groups, &perms) != version {
            return Err(Error::Conflict(format!(
                "User {username:?} was changed by someone else since you opened it; the password was not changed. Review the user and try again."
            )));
        }
        self.write_password(&mut tx, uid, username, &encoded, raw.is_some())
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
