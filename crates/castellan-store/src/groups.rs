//! Groups: create, rename, delete, their permissions and their members.

use castellan_core::validators::validate_group_name;
use castellan_core::Group;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::grants::{PermChange, PermHolder};
use crate::lookalike::{refuse_lookalike, Names};
use crate::lookup::{find_group_id, group_id};
use crate::retry::retry_busy;
use crate::sql::Sql;
use crate::Store;

const GROUPS: Sql = crate::sql!("SELECT id, name FROM auth_group");
const INSERT_GROUP: Sql = crate::sql!("INSERT INTO auth_group (name) VALUES ($1)");
const GROUP_PERMISSIONS: Sql = crate::sql!(
    "SELECT ct.app_label AS app_label, p.codename AS codename FROM auth_group_permissions gp \
     JOIN auth_permission p ON p.id = gp.permission_id \
     JOIN django_content_type ct ON ct.id = p.content_type_id WHERE gp.group_id = $1"
);
const GROUP_MEMBERS: Sql = crate::sql!(
    "SELECT u.username AS username FROM auth_user u \
     JOIN auth_user_groups ug ON ug.user_id = u.id WHERE ug.group_id = $1"
);

const GROUPS_WITH_PERMISSIONS: Sql = crate::sql!(
    "SELECT g.name AS name, ct.app_label AS app_label, p.codename AS codename FROM auth_group g \
     LEFT JOIN auth_group_permissions gp ON gp.group_id = g.id \
     LEFT JOIN auth_permission p ON p.id = gp.permission_id \
     LEFT JOIN django_content_type ct ON ct.id = p.content_type_id"
);

/// The statements of this module.
#[cfg(test)]
pub(crate) const STATEMENTS: &[Sql] = &[
    GROUPS,
    INSERT_GROUP,
    GROUP_PERMISSIONS,
    GROUP_MEMBERS,
    GROUPS_WITH_PERMISSIONS,
];

/// A group with its permissions and members (`castellan group show`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupDetail {
    /// The group's name.
    pub name: String,
    /// Its permissions as sorted `app_label.codename` strings.
    pub permissions: Vec<String>,
    /// Its members' usernames, sorted.
    pub members: Vec<String>,
}

impl Store {
    /// Every group, sorted by name.
    pub async fn groups(&self) -> Result<Vec<Group>> {
        let mut groups = self
            .db
            .fetch_all(&GROUPS, &[])
            .await?
            .iter()
            .map(|r| {
                Ok(Group {
                    id: r.int("id")?,
                    name: r.text("name")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(groups)
    }

    /// Creates a group. A name that looks the same as another group's (see
    /// [`castellan_core::lookalike`]) is refused with [`Error::AlreadyExists`] naming that group.
    /// A transaction that collides with concurrent writers (a MariaDB deadlock with a rename, SQLite
    /// busy) is tried again a few times, so the loser of a race to a look-alike name gets that
    /// refusal ([`Error::Busy`] when every try collided).
    pub async fn create_group(&self, name: &str) -> Result<Group> {
        validate_group_name(name)?;
        retry_busy(|| self.create_group_once(name)).await
    }

    /// One try of [`Store::create_group`].
    async fn create_group_once(&self, name: &str) -> Result<Group> {
        let mut tx = self.db.begin().await?;
        if find_group_id(&mut tx, name).await?.is_some() {
            return Err(Error::AlreadyExists {
                what: "group",
                message: format!("Group with this Name already exists: {name:?}."),
            });
        }
        refuse_lookalike(&mut tx, Names::Groups, name, None).await?;
        tx.execute(&INSERT_GROUP, &[name.into()]).await?;
        let id = group_id(&mut tx, name).await?;
        self.audit(&mut tx, "group.create", "group", name, None, None)
            .await?;
        tx.commit().await?;
        self.after_write();
        Ok(Group {
            id,
            name: name.to_owned(),
        })
    }

    /// Deletes a group with its permission grants and memberships (Django's cascade).
    pub async fn delete_group(&self, name: &str) -> Result<()> {
        self.delete_group_checked(name, None).await
    }

    /// Renames a group. A new name that looks the same as another group's is refused, as in
    /// [`Store::create_group`]; changing only the case of the group's own name is allowed.
    pub async fn rename_group(&self, old: &str, new: &str) -> Result<()> {
        self.rename_group_checked(old, new, None).await
    }

    /// A group's permissions and members.
    pub async fn group_detail(&self, name: &str) -> Result<GroupDetail> {
        let mut tx = self.db.begin().await?;
        let id = group_id(&mut tx, name).await?;
        let mut permissions = tx
            .fetch_all(&GROUP_PERMISSIONS, &[id.into()])
            .await?
            .iter()
            .map(|r| Ok(format!("{}.{}", r.text("app_label")?, r.text("codename")?)))
            .collect::<Result<Vec<_>>>()?;
        let mut members = tx
            .fetch_all(&GROUP_MEMBERS, &[id.into()])
            .await?
            .iter()
            .map(|r| r.text("username"))
            .collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        permissions.sort();
        permissions.dedup();
        members.sort();
        Ok(GroupDetail {
            name: name.to_owned(),
            permissions,
            members,
        })
    }

    /// Grants permissions to a group. Every name must exist; returns how many grants were added.
    pub async fn grant_group(&self, name: &str, perms: &[String]) -> Result<usize> {
        self.change_group_perms(name, perms, true).await
    }

    /// Revokes permissions from a group. Every name must exist; returns how many were removed.
    pub async fn revoke_group(&self, name: &str, perms: &[String]) -> Result<usize> {
        self.change_group_perms(name, perms, false).await
    }

    /// Adds users to a group.
    pub async fn add_group_members(&self, name: &str, usernames: &[String]) -> Result<usize> {
        self.change_memberships(usernames, &[name.to_owned()], true)
            .await
    }

    /// Removes users from a group.
    pub async fn remove_group_members(&self, name: &str, usernames: &[String]) -> Result<usize> {
        self.change_memberships(usernames, &[name.to_owned()], false)
            .await
    }

    async fn change_group_perms(&self, name: &str, perms: &[String], grant: bool) -> Result<usize> {
        let mut tx = self.db.begin().await?;
        let gid = group_id(&mut tx, name).await?;
        let (grant, revoke) = if grant {
            (perms, &[][..])
        } else {
            (&[][..], perms)
        };
        let change = PermChange {
            holder: PermHolder::Group,
            id: gid.into(),
            name,
            grant,
            revoke,
        };
        let n = self.change_perms(&mut tx, change).await?;
        tx.commit().await?;
        self.after_write();
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// Every group with its permission names, sorted by group name (for the "group ⊆ what you hold"
    /// check and the user page's provenance). Two queries.
    pub async fn groups_with_permissions(&self) -> Result<Vec<(String, Vec<String>)>> {
        let rows: Vec<(String, Option<String>)> = self
            .db
            .fetch_all(&GROUPS_WITH_PERMISSIONS, &[])
            .await?
            .iter()
            .map(|r| {
                let perm = match (r.opt_text("app_label")?, r.opt_text("codename")?) {
                    (Some(a), Some(c)) => Some(format!("{a}.{c}")),
                    _ => None,
                };
                Ok((r.text("name")?, perm))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (g, perm) in rows {
            let entry = out.entry(g).or_default();
            if let Some(p) = perm {
                entry.push(p);
            }
        }
        Ok(out
            .into_iter()
            .map(|(g, mut perms)| {
                perms.sort();
                perms.dedup();
                (g, perms)
            })
            .collect())
    }
}
