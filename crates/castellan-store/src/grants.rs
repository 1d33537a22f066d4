//! Granting and revoking permissions for a user or a group, inside the caller's transaction,
//! with one audit entry per side that changed something.

use crate::error::Result;
use crate::lookup::permission_rows;
use crate::sql::{Arg, Sql, Tx};
use crate::Store;

/// The two tables that hold permissions for someone: a user's direct grants and a group's grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PermHolder {
    /// `auth_user_user_permissions`, by `user_id`.
    User,
    /// `auth_group_permissions`, by `group_id`.
    Group,
}

const USER_HELD: Sql =
    crate::sql!("SELECT permission_id FROM auth_user_user_permissions WHERE user_id = $1");
const GROUP_HELD: Sql =
    crate::sql!("SELECT permission_id FROM auth_group_permissions WHERE group_id = $1");
const USER_INSERT: Sql =
    crate::sql!("INSERT INTO auth_user_user_permissions (user_id, permission_id) VALUES ($1, $2)");
const GROUP_INSERT: Sql =
    crate::sql!("INSERT INTO auth_group_permissions (group_id, permission_id) VALUES ($1, $2)");
const USER_DELETE: Sql =
    crate::sql!("DELETE FROM auth_user_user_permissions WHERE user_id = $1 AND permission_id = $2");
const GROUP_DELETE: Sql =
    crate::sql!("DELETE FROM auth_group_permissions WHERE group_id = $1 AND permission_id = $2");

/// The statements of this module.
#[cfg(test)]
pub(crate) const STATEMENTS: &[Sql] = &[
    USER_HELD,
    GROUP_HELD,
    USER_INSERT,
    GROUP_INSERT,
    USER_DELETE,
    GROUP_DELETE,
];

impl PermHolder {
    /// The holder's permission ids (argument: the holder's id).
    fn held(self) -> &'static Sql {
        match self {
            Self::User => &USER_HELD,
            Self::Group => &GROUP_HELD,
        }
    }

    /// Adds one grant (holder id, permission id).
    fn insert(self) -> &'static Sql {
        match self {
            Self::User => &USER_INSERT,
            Self::Group => &GROUP_INSERT,
        }
    }

    /// Removes one grant (holder id, permission id).
    fn delete(self) -> &'static Sql {
        match self {
            Self::User => &USER_DELETE,
            Self::Group => &GROUP_DELETE,
        }
    }

    /// The audit trail's object type, and its actions for grants and revocations.
    fn audit_names(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::User => ("user", "user.grant", "user.revoke"),
            Self::Group => ("group", "group.grant", "group.revoke"),
        }
    }
}

/// One holder's grants to change.
pub(crate) struct PermChange<'a> {
    /// Whose grants.
    pub(crate) holder: PermHolder,
    /// The holder's id (a user's or a group's).
    pub(crate) id: Arg<'a>,
    /// The holder's name, for the audit trail.
    pub(crate) name: &'a str,
    /// Permission names to grant.
    pub(crate) grant: &'a [String],
    /// Permission names to revoke.
    pub(crate) revoke: &'a [String],
}

impl Store {
    /// Inside `tx`: grants and revokes the permission names of `change`, and audits each side that
    /// changed something. Every name is resolved before the first write (an unknown one is an
    /// error). A name already held is not granted again (one row holds it: the first of its ids);
    /// a revocation removes every row of the name. Returns the number of rows written.
    pub(crate) async fn change_perms(&self, tx: &mut Tx, change: PermChange<'_>) -> Result<u64> {
        let PermChange {
            holder,
            id,
            name,
            grant,
            revoke,
        } = change;
        let rows = permission_rows(tx).await?;
        let grant_ids = crate::perms::resolve(&rows, grant)?;
        let revoke_ids = crate::perms::resolve(&rows, revoke)?;
        let mut held: Vec<i64> = tx
            .fetch_all(holder.held(), &[id])
            .await?
            .iter()
            .map(|r| r.int("permission_id"))
            .collect::<Result<_>>()?;
        let mut n = 0;
        let mut granted: Vec<&String> = Vec::new();
        for (ids, perm) in grant_ids.iter().zip(grant) {
            if !ids.iter().any(|pid| held.contains(pid)) {
                n += tx.execute(holder.insert(), &[id, ids[0].into()]).await?;
                held.push(ids[0]);
                granted.push(perm);
            }
        }
        let mut revoked: Vec<&String> = Vec::new();
        for (ids, perm) in revoke_ids.iter().zip(revoke) {
            for pid in ids {
                if let Some(pos) = held.iter().position(|h| h == pid) {
                    n += tx.execute(holder.delete(), &[id, (*pid).into()]).await?;
                    held.swap_remove(pos);
                    if !revoked.contains(&perm) {
                        revoked.push(perm);
                    }
                }
            }
        }
        let (object_type, grant_action, revoke_action) = holder.audit_names();
        if !granted.is_empty() {
            let after = crate::audit::json(&serde_json::json!({ "permissions": granted }));
            self.audit(tx, grant_action, object_type, name, None, after)
                .await?;
        }
        if !revoked.is_empty() {
            let before = crate::audit::json(&serde_json::json!({ "permissions": revoked }));
            self.audit(tx, revoke_action, object_type, name, before, None)
                .await?;
        }
        Ok(n)
    }
}
