//! Small query macros shared by the repositories. They expand inside an [`on_pool!`](crate::on_pool)
//! body, so the same text serves SQLite, PostgreSQL and MariaDB.

/// Looks up the id of the row whose `name` column equals `$name` exactly (byte for byte, whatever
/// the collation). `$sql` must select `id` and `name` and take the name as its one `?`.
macro_rules! exact_id {
    ($conn:expr, $d:expr, $sql:expr, $name:expr) => {{
        let want: &str = AsRef::<str>::as_ref($name);
        let rows = sqlx::query(&$d.sql($sql))
            .bind(want)
            .fetch_all($conn)
            .await?;
        let mut found: Option<i64> = None;
        for r in &rows {
            if crate::pool::RowExt::text(r, "name")? == want {
                found = Some(crate::pool::RowExt::int(r, "id")?);
            }
        }
        found
    }};
}

/// The id of a user by exact username, or `Error::NotFound`.
macro_rules! user_id {
    ($conn:expr, $d:expr, $username:expr) => {
        exact_id!(
            $conn,
            $d,
            "SELECT id, username AS name FROM auth_user WHERE username = ?",
            $username
        )
        .ok_or_else(|| crate::error::Error::NotFound {
            what: "user",
            name: AsRef::<str>::as_ref($username).to_owned(),
        })?
    };
}

/// The id of a group by exact name, or `Error::NotFound`.
macro_rules! group_id {
    ($conn:expr, $d:expr, $name:expr) => {
        exact_id!(
            $conn,
            $d,
            "SELECT id, name FROM auth_group WHERE name = ?",
            $name
        )
        .ok_or_else(|| crate::error::Error::NotFound {
            what: "group",
            name: AsRef::<str>::as_ref($name).to_owned(),
        })?
    };
}

/// Every permission row (id, app label, codename).
macro_rules! permission_rows {
    ($conn:expr) => {{
        let rows = sqlx::query(
            "SELECT p.id AS id, ct.app_label AS app_label, p.codename AS codename \
             FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id",
        )
        .fetch_all($conn)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(castellan_core::PermissionRow {
                    id: crate::pool::RowExt::int(r, "id")?,
                    app_label: crate::pool::RowExt::text(r, "app_label")?,
                    codename: crate::pool::RowExt::text(r, "codename")?,
                })
            })
            .collect::<crate::error::Result<Vec<_>>>()?
    }};
}

/// Executes one statement with binds, returning the number of affected rows.
macro_rules! exec {
    ($conn:expr, $d:expr, $sql:expr $(, $bind:expr)* $(,)?) => {
        sqlx::query(&$d.sql($sql))$(.bind($bind))*.execute($conn).await?.rows_affected()
    };
}

/// The two tables that hold permissions for someone: a user's direct grants and a group's grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PermHolder {
    /// `auth_user_user_permissions`, by `user_id`.
    User,
    /// `auth_group_permissions`, by `group_id`.
    Group,
}

impl PermHolder {
    /// The holder's permission ids (one `?`: the holder's id).
    pub(crate) fn held_sql(self) -> &'static str {
        match self {
            Self::User => "SELECT permission_id FROM auth_user_user_permissions WHERE user_id = ?",
            Self::Group => "SELECT permission_id FROM auth_group_permissions WHERE group_id = ?",
        }
    }

    /// Adds one grant (holder id, permission id).
    pub(crate) fn insert_sql(self) -> &'static str {
        match self {
            Self::User => {
                "INSERT INTO auth_user_user_permissions (user_id, permission_id) VALUES (?, ?)"
            }
            Self::Group => {
                "INSERT INTO auth_group_permissions (group_id, permission_id) VALUES (?, ?)"
            }
        }
    }

    /// Removes one grant (holder id, permission id).
    pub(crate) fn delete_sql(self) -> &'static str {
        match self {
            Self::User => {
                "DELETE FROM auth_user_user_permissions WHERE user_id = ? AND permission_id = ?"
            }
            Self::Group => {
                "DELETE FROM auth_group_permissions WHERE group_id = ? AND permission_id = ?"
            }
        }
    }

    /// The audit trail's object type, and its actions for grants and revocations.
    pub(crate) fn audit_names(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::User => ("user", "user.grant", "user.revoke"),
            Self::Group => ("group", "group.grant", "group.revoke"),
        }
    }
}

/// Inside a write transaction `$tx`: grants the permission names `$grant` and revokes `$revoke` for
/// the holder `$holder` ([`PermHolder`]) whose id is `$id`, and audits each side that changed
/// something, on the object `$name`. Every name is resolved before the first write (an unknown one
/// is an error). A name already held is not granted again (one row holds it: the first of its
/// ids); a revocation removes every row of the name. Evaluates to the number of rows written.
macro_rules! change_perms {
    ($tx:ident, $d:expr, $store:expr, $holder:expr, $id:expr, $name:expr, $grant:expr, $revoke:expr) => {{
        let holder: crate::sqlm::PermHolder = $holder;
        let (grant, revoke): (&[String], &[String]) = ($grant, $revoke);
        let rows = permission_rows!(&mut *$tx);
        let grant_ids = crate::perms::resolve(&rows, grant)?;
        let revoke_ids = crate::perms::resolve(&rows, revoke)?;
        let mut held: Vec<i64> = sqlx::query(&$d.sql(holder.held_sql()))
            .bind($id)
            .fetch_all(&mut *$tx)
            .await?
            .iter()
            .map(|r| crate::pool::RowExt::int(r, "permission_id"))
            .collect::<crate::error::Result<_>>()?;
        let mut n = 0;
        let mut granted: Vec<&String> = Vec::new();
        for (ids, perm) in grant_ids.iter().zip(grant) {
            if !ids.iter().any(|id| held.contains(id)) {
                n += exec!(&mut *$tx, $d, holder.insert_sql(), $id, ids[0]);
                held.push(ids[0]);
                granted.push(perm);
            }
        }
        let mut revoked: Vec<&String> = Vec::new();
        for (ids, perm) in revoke_ids.iter().zip(revoke) {
            for id in ids {
                if let Some(pos) = held.iter().position(|h| h == id) {
                    n += exec!(&mut *$tx, $d, holder.delete_sql(), $id, *id);
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
            crate::audit::audit!(&mut *$tx, $store, grant_action, object_type, $name, None, after);
        }
        if !revoked.is_empty() {
            let before = crate::audit::json(&serde_json::json!({ "permissions": revoked }));
            crate::audit::audit!(&mut *$tx, $store, revoke_action, object_type, $name, before, None);
        }
        n
    }};
}

pub(crate) use {change_perms, exact_id, exec, group_id, permission_rows, user_id};
