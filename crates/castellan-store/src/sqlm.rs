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

pub(crate) use {exact_id, exec, group_id, permission_rows, user_id};
