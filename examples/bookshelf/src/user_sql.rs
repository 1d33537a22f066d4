//! Bookshelf's statements that name the user table. Articles and borrows point at the project's
//! user model — `auth.User`, or the model of a Django project's `AUTH_USER_MODEL` — so these
//! statements are written with three markers, filled once when the application starts from the
//! store's [`UserSchema`]:
//!
//! | marker | `auth.User` | `accounts.Member` (say) |
//! |---|---|---|
//! | `{users}` | `auth_user` | `accounts_member` |
//! | `{username}` | `username` | `email` (its `USERNAME_FIELD`) |
//! | `{user_fk}` | `integer` | `uuid` on PostgreSQL and MariaDB, `char(32)` on SQLite |
//!
//! A filled statement is run like a constant one; the markers never reach the database.

use castellan_store::sql::{Dialect, Sql, Statement};
use castellan_store::UserSchema;

/// The user model's names for the markers.
#[derive(Debug, Clone)]
pub(crate) struct UserNames {
    table: String,
    username: String,
    fk_type: &'static str,
}

impl UserNames {
    /// The names of the model `schema` describes.
    pub(crate) fn of(schema: &UserSchema) -> Self {
        Self {
            table: schema.table().to_owned(),
            username: schema.model().username_field().to_owned(),
            fk_type: schema.foreign_key_type(),
        }
    }

    /// `text` with its markers filled.
    pub(crate) fn fill(&self, text: &str) -> String {
        text.replace("{users}", &self.table)
            .replace("{username}", &self.username)
            .replace("{user_fk}", self.fk_type)
    }

    /// `sql`'s text for `dialect`, filled.
    pub(crate) fn statement(&self, sql: &Sql, dialect: Dialect) -> UserSql {
        UserSql {
            text: self.fill(sql.text(dialect)),
            binds: sql.binds(),
        }
    }
}

/// A statement whose markers are filled (see the module's documentation).
#[derive(Debug, Clone)]
pub(crate) struct UserSql {
    text: String,
    binds: usize,
}

impl Statement for UserSql {
    fn text(&self, _dialect: Dialect) -> Option<&str> {
        Some(&self.text)
    }

    fn binds(&self) -> usize {
        self.binds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_filled_and_placeholders_kept() {
        let names = UserNames {
            table: "accounts_member".into(),
            username: "email".into(),
            fk_type: "uuid",
        };
        const SQL: Sql =
            castellan_store::sql!("SELECT u.{username} AS author FROM {users} u WHERE u.id = $1");
        let filled = names.statement(&SQL, Dialect::MySql);
        assert_eq!(
            Statement::text(&filled, Dialect::MySql).map(str::trim_end),
            Some("SELECT u.email AS author FROM accounts_member u WHERE u.id = ?")
        );
        assert_eq!(Statement::binds(&filled), 1);
        assert_eq!(
            names.fill("author_id {user_fk} NOT NULL REFERENCES {users} (id)"),
            "author_id uuid NOT NULL REFERENCES accounts_member (id)"
        );
    }
}
