//! Versions of users and groups, for the admin's edits of a user's or a group's flags,
//! memberships and permissions (`user_edits.rs`, `group_edits.rs`).
//!
//! A versioned edit carries the fingerprint ([`UserState::version`], [`GroupState::version`]) of the
//! state the editor was shown. The edit re-reads that state **inside its transaction**, after taking
//! a row lock (PostgreSQL and MariaDB: `FOR UPDATE`, rows locked in id order; SQLite transactions
//! are serialisable), and is refused with [`Error::Conflict`] when it moved: two admins editing the
//! same object cannot silently undo each other. Edits that would leave no active superuser are
//! refused with [`Error::Refused`] inside the same transaction, so nothing is written.
//!
//! SQLite starts them with `BEGIN IMMEDIATE`, taking the write lock first: two deferred
//! transactions that both read and then write make SQLite fail one at once with "database is
//! locked" (its busy timeout cannot wait out that deadlock), whereas immediate ones queue. Any
//! collision left (SQLite busy, a PostgreSQL deadlock, a MariaDB deadlock or lock wait timeout) is
//! retried a few times ([`Error::Busy`] after that, answered 409 by the admin, never 503).
//!
//! MariaDB/MySQL connections run at `READ COMMITTED`, as Django sets them: at InnoDB's default
//! `REPEATABLE READ` a plain `SELECT` after a lock wait still reads the snapshot taken before the
//! wait, so the re-read would miss the change the lock was waiting for (and two concurrent
//! demotions could each count the other superuser). PostgreSQL's default is already
//! `READ COMMITTED`.

use castellan_core::{User, UserId};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::sql::{Arg, Sql, Tx};
use crate::users::user_columns;
use crate::Store;

/// A user as the admin's edit page shows it, with the version an edit must quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserState {
    /// The user row.
    pub user: User,
    /// Group names, sorted.
    pub groups: Vec<String>,
    /// Direct permissions (`app_label.codename`), sorted.
    pub permissions: Vec<String>,
    /// Fingerprint of the flags, names, e-mail, groups and direct permissions.
    pub version: String,
}

/// A group as the admin's edit page shows it, with the version an edit must quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupState {
    /// The group's name.
    pub name: String,
    /// Its permissions, sorted.
    pub permissions: Vec<String>,
    /// Its members' usernames, sorted.
    pub members: Vec<String>,
    /// Fingerprint of the name and the permissions.
    pub version: String,
}

/// The fingerprint of a list of strings (order-sensitive; callers pass sorted lists).
fn fingerprint<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    h.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn user_version(u: &User, groups: &[String], perms: &[String]) -> String {
    let flags = format!(
        "{}{}{}",
        u8::from(u.is_active),
        u8::from(u.is_staff),
        u8::from(u.is_superuser)
    );
    let head = [
        flags.as_str(),
        u.email.as_str(),
        u.first_name.as_str(),
        u.last_name.as_str(),
        "groups",
    ];
    fingerprint(
        head.into_iter()
            .chain(groups.iter().map(String::as_str))
            .chain(["perms"])
            .chain(perms.iter().map(String::as_str)),
    )
}

pub(crate) fn group_version(name: &str, perms: &[String]) -> String {
    fingerprint([name].into_iter().chain(perms.iter().map(String::as_str)))
}

const USER_GROUP_NAMES: Sql = crate::sql!(
    "SELECT g.name AS name FROM auth_group g \
     JOIN auth_user_groups ug ON ug.group_id = g.id WHERE ug.user_id = $1"
);
const USER_PERMISSIONS: Sql = crate::sql!(
    "SELECT ct.app_label AS app_label, p.codename AS codename FROM auth_user_user_permissions up \
     JOIN auth_permission p ON p.id = up.permission_id \
     JOIN django_content_type ct ON ct.id = p.content_type_id WHERE up.user_id = $1"
);
const GROUP_PERMISSIONS: Sql = crate::sql!(
    "SELECT ct.app_label AS app_label, p.codename AS codename FROM auth_group_permissions gp \
     JOIN auth_permission p ON p.id = gp.permission_id \
     JOIN django_content_type ct ON ct.id = p.content_type_id WHERE gp.group_id = $1"
);
/// A user row, locked for the rest of the transaction (SQLite's transactions are serialisable
/// without a lock).
pub(crate) const LOCK_USER: Sql = Sql::per_dialect(
    concat!(
        "SELECT ",
        user_columns!(),
        " FROM auth_user u WHERE u.id = ?"
    ),
    concat!(
        "SELECT ",
        user_columns!(),
        " FROM auth_user u WHERE u.id = $1 FOR UPDATE"
    ),
    concat!(
        "SELECT ",
        user_columns!(),
        " FROM auth_user u WHERE u.id = ? FOR UPDATE"
    ),
);
/// A group row, locked for the rest of the transaction.
pub(crate) const LOCK_GROUP: Sql = Sql::per_dialect(
    "SELECT id FROM auth_group WHERE id = ?",
    "SELECT id FROM auth_group WHERE id = $1 FOR UPDATE",
    "SELECT id FROM auth_group WHERE id = ? FOR UPDATE",
);

/// The statements of this module.
#[cfg(test)]
pub(crate) const STATEMENTS: &[Sql] = &[
    USER_GROUP_NAMES,
    USER_PERMISSIONS,
    GROUP_PERMISSIONS,
    LOCK_USER,
    LOCK_GROUP,
];

/// The sorted, distinct permission names (`app_label.codename`) `sql` selects for `id`.
async fn perm_names(tx: &mut Tx, sql: &Sql, id: Arg<'_>) -> Result<Vec<String>> {
    let mut perms = tx
        .fetch_all(sql, &[id])
        .await?
        .iter()
        .map(|r| Ok(format!("{}.{}", r.text("app_label")?, r.text("codename")?)))
        .collect::<Result<Vec<_>>>()?;
    perms.sort();
    perms.dedup();
    Ok(perms)
}

/// The sorted group names and direct permissions of user `uid`.
pub(crate) async fn user_grants(tx: &mut Tx, uid: UserId) -> Result<(Vec<String>, Vec<String>)> {
    let mut groups = tx
        .fetch_all(&USER_GROUP_NAMES, &[uid.into()])
        .await?
        .iter()
        .map(|r| r.text("name"))
        .collect::<Result<Vec<_>>>()?;
    groups.sort();
    let perms = perm_names(tx, &USER_PERMISSIONS, uid.into()).await?;
    Ok((groups, perms))
}

/// The sorted permission names of group `gid`.
pub(crate) async fn group_perms(tx: &mut Tx, gid: i64) -> Result<Vec<String>> {
    perm_names(tx, &GROUP_PERMISSIONS, gid.into()).await
}

/// The conflict of a group edited since the caller read it.
pub(crate) fn group_stale(name: &str) -> Error {
    Error::Conflict(format!(
        "Group {name:?} was changed by someone else since you opened it; nothing was saved. Review its current state and apply your change again."
    ))
}

impl Store {
    /// A user with groups, direct permissions and the version an edit must quote (`None`: no such user).
    pub async fn user_state(&self, username: &str) -> Result<Option<UserState>> {
        let Some(user) = self.user(username).await? else {
            return Ok(None);
        };
        let mut tx = self.db.begin().await?;
        let (groups, permissions) = user_grants(&mut tx, user.id).await?;
        tx.commit().await?;
        let version = user_version(&user, &groups, &permissions);
        Ok(Some(UserState {
            user,
            groups,
            permissions,
            version,
        }))
    }

    /// A group with permissions, members and the version an edit must quote (`None`: no such group).
    pub async fn group_state(&self, name: &str) -> Result<Option<GroupState>> {
        let detail = match self.group_detail(name).await {
            Ok(d) => d,
            Err(Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let version = group_version(&detail.name, &detail.permissions);
        Ok(Some(GroupState {
            name: detail.name,
            permissions: detail.permissions,
            members: detail.members,
            version,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_separate_parts() {
        assert_ne!(fingerprint(["ab", "c"]), fingerprint(["a", "bc"]));
        assert_eq!(fingerprint(["x"]), fingerprint(["x"]));
    }
}
