//! Groups: create, rename, delete, their permissions and their members.

use castellan_core::validators::validate_group_name;
use castellan_core::Group;
use serde::Serialize;

use crate::audit::audit;
use crate::error::{Error, Result};
use crate::lookalike::{refuse_lookalike, Names};
use crate::on_pool;
use crate::pool::RowExt;
use crate::sqlm::{change_perms, exact_id, exec, group_id, permission_rows, PermHolder};
use crate::Store;

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
        let mut groups = on_pool!(&self.pool, p => {
            let rows = sqlx::query("SELECT id, name FROM auth_group").fetch_all(p).await?;
            rows.iter()
                .map(|r| Ok(Group { id: r.int("id")?, name: r.text("name")? }))
                .collect::<Result<Vec<_>>>()?
        });
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(groups)
    }

    /// Creates a group. A name that looks the same as another group's (see
    /// [`castellan_core::lookalike`]) is refused with [`Error::AlreadyExists`] naming that group.
    pub async fn create_group(&self, name: &str) -> Result<Group> {
        validate_group_name(name)?;
        let d = self.dialect();
        let id = on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            if exact_id!(&mut *tx, d, "SELECT id, name FROM auth_group WHERE name = ?", name).is_some() {
                return Err(Error::AlreadyExists {
                    what: "group",
                    message: format!("Group with this Name already exists: {name:?}."),
                });
            }
            refuse_lookalike!(&mut *tx, d, Names::Groups, name, None);
            exec!(&mut *tx, d, "INSERT INTO auth_group (name) VALUES (?)", name);
            let id = group_id!(&mut *tx, d, name);
            audit!(&mut *tx, self, "group.create", "group", name, None, None);
            tx.commit().await?;
            id
        });
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
        let d = self.dialect();
        let (mut permissions, mut members) = on_pool!(&self.pool, p => {
            let mut conn = p.acquire().await?;
            let id = group_id!(&mut *conn, d, name);
            let perms = sqlx::query(&d.sql(
                "SELECT ct.app_label AS app_label, p.codename AS codename FROM auth_group_permissions gp \
                 JOIN auth_permission p ON p.id = gp.permission_id \
                 JOIN django_content_type ct ON ct.id = p.content_type_id WHERE gp.group_id = ?",
            ))
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| Ok(format!("{}.{}", r.text("app_label")?, r.text("codename")?)))
            .collect::<Result<Vec<_>>>()?;
            let members = sqlx::query(&d.sql(
                "SELECT u.username AS username FROM auth_user u JOIN auth_user_groups ug ON ug.user_id = u.id WHERE ug.group_id = ?",
            ))
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.text("username"))
            .collect::<Result<Vec<_>>>()?;
            (perms, members)
        });
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
        let d = self.dialect();
        let n = on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            let gid = group_id!(&mut *tx, d, name);
            let (grant, revoke) = if grant { (perms, &[][..]) } else { (&[][..], perms) };
            let n = change_perms!(tx, d, self, PermHolder::Group, gid, name, grant, revoke);
            tx.commit().await?;
            n
        });
        self.after_write();
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }
}
