//! The admin's versioned edits of a group: permissions, members, rename and deletion, each refused
//! when the group (or a touched user) changed since the editor read it (see `versions.rs`).

use castellan_core::UserId;

use crate::audit::json;
use crate::error::{Error, Result};
use crate::grants::{PermChange, PermHolder};
use crate::lookalike::{refuse_lookalike, Names};
use crate::lookup::{find_group_id, group_id, user_id};
use crate::retry::retry_busy;
use crate::sql::{Sql, Tx};
use crate::user_edits::{DELETE_MEMBERSHIP, INSERT_MEMBERSHIP};
use crate::users::user_from_row;
use crate::versions::{
    group_perms, group_stale, group_version, user_grants, user_version, GroupState, LOCK_GROUP,
    LOCK_USER,
};
use crate::Store;

const RENAME_GROUP: Sql = crate::sql!("UPDATE auth_group SET name = $1 WHERE id = $2");
const DELETE_GROUP_GRANTS: Sql =
    crate::sql!("DELETE FROM auth_group_permissions WHERE group_id = $1");
const DELETE_GROUP_MEMBERSHIPS: Sql =
    crate::sql!("DELETE FROM auth_user_groups WHERE group_id = $1");
const DELETE_GROUP: Sql = crate::sql!("DELETE FROM auth_group WHERE id = $1");

/// The statements of this module.
#[cfg(test)]
pub(crate) const STATEMENTS: &[Sql] = &[
    RENAME_GROUP,
    DELETE_GROUP_GRANTS,
    DELETE_GROUP_MEMBERSHIPS,
    DELETE_GROUP,
];

/// The id of group `name`, its row locked for the rest of the transaction.
async fn lock_group(tx: &mut Tx, name: &str) -> Result<i64> {
    let gid = group_id(tx, name).await?;
    tx.fetch_all(&LOCK_GROUP, &[gid.into()]).await?;
    Ok(gid)
}

/// Fails with [`group_stale`] when group `gid` (named `name`) no longer has `version`.
async fn check_group_version(tx: &mut Tx, gid: i64, name: &str, version: &str) -> Result<()> {
    if group_version(name, &group_perms(tx, gid).await?) != version {
        return Err(group_stale(name));
    }
    Ok(())
}

impl Store {
    /// Grants and revokes group permissions in one transaction if the group still has `version`
    /// ([`Error::Conflict`] otherwise). Audited; on any error nothing is written.
    pub async fn apply_group_edit(
        &self,
        name: &str,
        version: &str,
        grant: &[String],
        revoke: &[String],
    ) -> Result<GroupState> {
        let mut tx = self.db.begin_write().await?;
        let gid = lock_group(&mut tx, name).await?;
        let perms = group_perms(&mut tx, gid).await?;
        if group_version(name, &perms) != version {
            return Err(Error::Conflict(format!(
                "Group {name:?} was changed by someone else since you opened it; nothing was saved. Review its current permissions and apply your change again."
            )));
        }
        let change = PermChange {
            holder: PermHolder::Group,
            id: gid.into(),
            name,
            grant,
            revoke,
        };
        self.change_perms(&mut tx, change).await?;
        tx.commit().await?;
        self.after_write();
        self.group_state(name)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "group",
                name: name.to_owned(),
            })
    }

    /// Adds users to and removes users from group `name` in one transaction, if the group still
    /// has `version` and every touched user still has the version in `user_versions` (the state
    /// the caller checked its rules on; [`Error::Conflict`] otherwise). The group row and then the
    /// users' rows (in id order) are locked first. Each membership change is audited on the user
    /// (`user.add_group` / `user.remove_group`, as on the user page); on any error nothing is
    /// written. Adding a member or removing a non-member is a no-op.
    pub async fn apply_group_members(
        &self,
        name: &str,
        version: &str,
        add: &[String],
        remove: &[String],
        user_versions: &[(String, String)],
    ) -> Result<GroupState> {
        let stale = |what: String| {
            Error::Conflict(format!(
                "{what} was changed by someone else since you opened the group {name:?}; nothing was saved. Review the current state and apply your change again."
            ))
        };
        let mut tx = self.db.begin_write().await?;
        let gid = lock_group(&mut tx, name).await?;
        let perms = group_perms(&mut tx, gid).await?;
        if group_version(name, &perms) != version {
            return Err(stale(format!("Group {name:?}")));
        }
        let mut touched: Vec<(UserId, &str, bool)> = Vec::new();
        for (list, adding) in [(add, true), (remove, false)] {
            for u in list {
                let uid = user_id(&mut tx, u).await?;
                if !touched.iter().any(|(id, _, _)| *id == uid) {
                    touched.push((uid, u.as_str(), adding));
                }
            }
        }
        touched.sort_by_key(|(id, _, _)| *id);
        for (uid, username, adding) in touched {
            let user = user_from_row(&tx.fetch_one(&LOCK_USER, &[uid.into()]).await?)?;
            let (groups, uperms) = user_grants(&mut tx, uid).await?;
            let expected = user_versions
                .iter()
                .find(|(n, _)| n == username)
                .map(|(_, v)| v.as_str());
            if expected != Some(user_version(&user, &groups, &uperms).as_str()) {
                return Err(stale(format!("User {username:?}")));
            }
            let member = groups.iter().any(|g| g == name);
            let change = json(&serde_json::json!({ "group": name }));
            if adding && !member {
                tx.execute(&INSERT_MEMBERSHIP, &[uid.into(), gid.into()])
                    .await?;
                self.audit(&mut tx, "user.add_group", "user", username, None, change)
                    .await?;
            } else if !adding && member {
                tx.execute(&DELETE_MEMBERSHIP, &[uid.into(), gid.into()])
                    .await?;
                self.audit(&mut tx, "user.remove_group", "user", username, change, None)
                    .await?;
            }
        }
        tx.commit().await?;
        self.after_write();
        self.group_state(name)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "group",
                name: name.to_owned(),
            })
    }

    /// Renames group `old` to `new` in one transaction if the group still has `version` (the state
    /// the caller checked its rules on; [`Error::Conflict`] otherwise). Audited; refused as
    /// [`Store::rename_group`] refuses (a taken or look-alike name).
    pub async fn rename_group_at_version(&self, old: &str, new: &str, version: &str) -> Result<()> {
        self.rename_group_checked(old, new, Some(version)).await
    }

    /// Renames group `old` to `new`, if given only when the group still has `version`: the one
    /// body of [`Store::rename_group`] and [`Store::rename_group_at_version`].
    ///
    /// A transaction that collides with concurrent writers is tried again a few times
    /// ([`Error::Busy`] when every try collided): the loser of a race to look-alike names (a
    /// MariaDB deadlock, see `lookalike.rs`) then gets the look-alike refusal. The group's row is
    /// locked before the look-alike check, which MariaDB's serialisation at `READ COMMITTED` needs.
    pub(crate) async fn rename_group_checked(
        &self,
        old: &str,
        new: &str,
        version: Option<&str>,
    ) -> Result<()> {
        castellan_core::validators::validate_group_name(new)?;
        retry_busy(|| self.rename_group_once(old, new, version)).await
    }

    /// One try of [`Store::rename_group_checked`].
    async fn rename_group_once(&self, old: &str, new: &str, version: Option<&str>) -> Result<()> {
        let mut tx = self.db.begin_write().await?;
        let gid = lock_group(&mut tx, old).await?;
        if let Some(version) = version {
            check_group_version(&mut tx, gid, old, version).await?;
        }
        if old != new && find_group_id(&mut tx, new).await?.is_some() {
            return Err(Error::AlreadyExists {
                what: "group",
                message: format!("Group with this Name already exists: {new:?}."),
            });
        }
        refuse_lookalike(&mut tx, Names::Groups, new, Some(gid)).await?;
        tx.execute(&RENAME_GROUP, &[new.into(), gid.into()]).await?;
        let before = json(&serde_json::json!({ "name": old }));
        let after = json(&serde_json::json!({ "name": new }));
        self.audit(&mut tx, "group.rename", "group", new, before, after)
            .await?;
        tx.commit().await?;
        self.after_write();
        Ok(())
    }

    /// Deletes group `name` with its grants and memberships in one transaction if the group still
    /// has `version` ([`Error::Conflict`] otherwise). Audited with what it held.
    pub async fn delete_group_at_version(&self, name: &str, version: &str) -> Result<()> {
        self.delete_group_checked(name, Some(version)).await
    }

    /// Deletes group `name`, if given only when the group still has `version`: the one body of
    /// [`Store::delete_group`] and [`Store::delete_group_at_version`].
    pub(crate) async fn delete_group_checked(
        &self,
        name: &str,
        version: Option<&str>,
    ) -> Result<()> {
        let before = self.group_detail(name).await.ok().and_then(|g| json(&g));
        let mut tx = self.db.begin_write().await?;
        let gid = lock_group(&mut tx, name).await?;
        if let Some(version) = version {
            check_group_version(&mut tx, gid, name, version).await?;
        }
        self.audit(&mut tx, "group.delete", "group", name, before, None)
            .await?;
        self.delete_object_grants(&mut tx, crate::object_perms::GrantsOf::Group(gid))
            .await?;
        for sql in [
            &DELETE_GROUP_GRANTS,
            &DELETE_GROUP_MEMBERSHIPS,
            &DELETE_GROUP,
        ] {
            tx.execute(sql, &[gid.into()]).await?;
        }
        tx.commit().await?;
        self.after_write();
        Ok(())
    }
}
