//! Finding rows by name inside a transaction: users and groups by their exact name, and every
//! permission row.

use castellan_core::{PermissionRow, UserId};

use crate::error::{Error, Result};
use crate::sql::{Arg, Db, Row, Sql, Tx};

/// What the lookups read through: a transaction, or the pool for a lone read.
pub(crate) trait Fetch: Send {
    /// Every row of `sql`.
    async fn rows(&mut self, sql: &Sql, args: &[Arg<'_>]) -> Result<Vec<Row>>;
}

impl Fetch for Tx {
    async fn rows(&mut self, sql: &Sql, args: &[Arg<'_>]) -> Result<Vec<Row>> {
        self.fetch_all(sql, args).await
    }
}

impl Fetch for &Db {
    async fn rows(&mut self, sql: &Sql, args: &[Arg<'_>]) -> Result<Vec<Row>> {
        self.fetch_all(sql, args).await
    }
}

/// Candidates for a username; the exact match is chosen in Rust, whatever the collation.
const USER_BY_NAME: Sql =
    crate::sql!("SELECT id, username AS name FROM auth_user WHERE username = $1");
/// Candidates for a group name.
const GROUP_BY_NAME: Sql = crate::sql!("SELECT id, name FROM auth_group WHERE name = $1");
/// Every permission row with its app label.
const PERMISSION_ROWS: Sql = crate::sql!(
    "SELECT p.id AS id, ct.app_label AS app_label, p.codename AS codename \
     FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id"
);

/// The statements of this module.
#[cfg(test)]
pub(crate) const STATEMENTS: &[Sql] = &[USER_BY_NAME, GROUP_BY_NAME, PERMISSION_ROWS];

/// The row `sql` finds whose `name` equals `name` byte for byte (MariaDB's default collations
/// would also match other letter cases).
async fn exact(tx: &mut impl Fetch, sql: &Sql, name: &str) -> Result<Option<Row>> {
    let mut found = None;
    for r in tx.rows(sql, &[name.into()]).await? {
        if r.text("name")? == name {
            found = Some(r);
        }
    }
    Ok(found)
}

/// The id of the user with exactly this username, if any.
pub(crate) async fn find_user_id(tx: &mut impl Fetch, username: &str) -> Result<Option<UserId>> {
    exact(tx, &USER_BY_NAME, username)
        .await?
        .map(|r| r.user_id("id"))
        .transpose()
}

/// The id of the group with exactly this name, if any.
pub(crate) async fn find_group_id(tx: &mut impl Fetch, name: &str) -> Result<Option<i64>> {
    exact(tx, &GROUP_BY_NAME, name)
        .await?
        .map(|r| r.int("id"))
        .transpose()
}

/// The id of the user with exactly this username, or [`Error::NotFound`].
pub(crate) async fn user_id(tx: &mut impl Fetch, username: &str) -> Result<UserId> {
    find_user_id(tx, username)
        .await?
        .ok_or_else(|| Error::NotFound {
            what: "user",
            name: username.to_owned(),
        })
}

/// The id of the group with exactly this name, or [`Error::NotFound`].
pub(crate) async fn group_id(tx: &mut impl Fetch, name: &str) -> Result<i64> {
    find_group_id(tx, name)
        .await?
        .ok_or_else(|| Error::NotFound {
            what: "group",
            name: name.to_owned(),
        })
}

/// Every permission row (id, app label, codename).
pub(crate) async fn permission_rows(tx: &mut impl Fetch) -> Result<Vec<PermissionRow>> {
    tx.rows(&PERMISSION_ROWS, &[])
        .await?
        .iter()
        .map(|r| {
            Ok(PermissionRow {
                id: r.int("id")?,
                app_label: r.text("app_label")?,
                codename: r.text("codename")?,
            })
        })
        .collect()
}
