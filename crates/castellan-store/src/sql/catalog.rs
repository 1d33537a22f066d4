//! What the database's catalog says: whether a table exists.

use super::{Db, Sql, Tx};
use crate::error::Result;

/// Counts the tables named by the argument, in the current schema or database.
const TABLE_EXISTS: Sql = Sql::per_dialect(
    "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?",
    "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1",
    "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?",
);

/// The statements of this module.
#[cfg(test)]
pub(crate) const STATEMENTS: &[Sql] = &[TABLE_EXISTS];

impl Db {
    /// Whether the table `name` exists (in the current schema on PostgreSQL, the current database
    /// on MariaDB).
    pub async fn table_exists(&self, name: &str) -> Result<bool> {
        Ok(self
            .fetch_one(&TABLE_EXISTS, &[name.into()])
            .await?
            .int("n")?
            > 0)
    }
}

impl Tx {
    /// [`Db::table_exists`], inside the transaction (on its connection: a pool of one connection,
    /// as an in-memory SQLite database has, is not asked for a second).
    pub async fn table_exists(&mut self, name: &str) -> Result<bool> {
        Ok(self
            .fetch_one(&TABLE_EXISTS, &[name.into()])
            .await?
            .int("n")?
            > 0)
    }
}
