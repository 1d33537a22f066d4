//! Look-alike names: a new username or group name must not read the same as another existing one
//! (see [`castellan_core::lookalike`]). The check runs inside the writing transaction, after a
//! lock that serialises Castellan's writers of the same table, so two concurrent creations of
//! `Editors` and `ＥＤＩＴＯＲＳ` cannot both succeed.
//!
//! Only names Castellan writes are checked (user and group creation, group renames); names already
//! in the database stay as they are, and `import` loads an export as it is (it restores a database
//! that Django, which only NFKC-normalises usernames, may have filled with such names).

use castellan_core::lookalike::lookalike_key;

use crate::error::Error;
use crate::pool::Dialect;

/// The table whose names are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Names {
    /// `auth_user.username`.
    Users,
    /// `auth_group.name`.
    Groups,
}

impl Names {
    /// PostgreSQL: a transaction-scoped advisory lock per table, taken before the scan. (SQLite
    /// allows one writer at a time; on MariaDB the scan itself locks with `FOR UPDATE`.)
    pub(crate) fn pg_lock_sql(self) -> &'static str {
        match self {
            // 'cstl' and a table number.
            Self::Users => "SELECT pg_advisory_xact_lock(1668510828, 1)",
            Self::Groups => "SELECT pg_advisory_xact_lock(1668510828, 2)",
        }
    }

    /// Every row that may look like a name whose key is the one `?`: the names whose lowercase is
    /// that key (an ASCII name's key is its ASCII lowercase) and every name with a non-ASCII
    /// character. A superset: the caller compares the keys.
    pub(crate) fn candidates_sql(self, d: Dialect) -> &'static str {
        match (self, d) {
            (Self::Users, Dialect::Sqlite) => {
                "SELECT id, username AS name FROM auth_user \
                 WHERE lower(username) = ? OR length(CAST(username AS BLOB)) <> length(username)"
            }
            (Self::Users, Dialect::Postgres) => {
                "SELECT id, username AS name FROM auth_user \
                 WHERE lower(username) = ? OR octet_length(username) <> char_length(username)"
            }
            (Self::Users, Dialect::MySql) => {
                "SELECT id, username AS name FROM auth_user \
                 WHERE LOWER(username) = ? OR LENGTH(username) <> CHAR_LENGTH(username) FOR UPDATE"
            }
            (Self::Groups, Dialect::Sqlite) => {
                "SELECT id, name FROM auth_group \
                 WHERE lower(name) = ? OR length(CAST(name AS BLOB)) <> length(name)"
            }
            (Self::Groups, Dialect::Postgres) => {
                "SELECT id, name FROM auth_group \
                 WHERE lower(name) = ? OR octet_length(name) <> char_length(name)"
            }
            (Self::Groups, Dialect::MySql) => {
                "SELECT id, name FROM auth_group \
                 WHERE LOWER(name) = ? OR LENGTH(name) <> CHAR_LENGTH(name) FOR UPDATE"
            }
        }
    }

    /// The input error naming the existing look-alike.
    pub(crate) fn error(self, new: &str, existing: &str) -> Error {
        match self {
            Self::Users => Error::AlreadyExists {
                what: "user",
                message: format!(
                    "The username {new:?} looks the same as the existing user {existing:?} (they differ only in letter case or Unicode compatibility forms such as fullwidth letters); choose another username."
                ),
            },
            Self::Groups => Error::AlreadyExists {
                what: "group",
                message: format!(
                    "The group name {new:?} looks the same as the existing group {existing:?} (they differ only in letter case or Unicode compatibility forms such as fullwidth letters); choose another name."
                ),
            },
        }
    }
}

/// The key bound to [`Names::candidates_sql`], and compared with each candidate's.
pub(crate) fn key(name: &str) -> String {
    lookalike_key(name)
}

/// Refuses `$name` when another row (not `$except`, an `Option<i64>` id) of `$names` has a
/// look-alike name. Runs inside the caller's transaction `$conn` (`&mut *tx`).
macro_rules! refuse_lookalike {
    ($conn:expr, $d:expr, $names:expr, $name:expr, $except:expr) => {{
        let names: crate::lookalike::Names = $names;
        let new: &str = AsRef::<str>::as_ref($name);
        let except: Option<i64> = $except;
        if $d == crate::pool::Dialect::Postgres {
            sqlx::query(names.pg_lock_sql()).execute($conn).await?;
        }
        let key = crate::lookalike::key(new);
        let rows = sqlx::query(&$d.sql(names.candidates_sql($d)))
            .bind(&key)
            .fetch_all($conn)
            .await?;
        for r in &rows {
            let id = crate::pool::RowExt::int(r, "id")?;
            let existing = crate::pool::RowExt::text(r, "name")?;
            if Some(id) != except && existing != new && crate::lookalike::key(&existing) == key {
                return Err(names.error(new, &existing));
            }
        }
    }};
}

pub(crate) use refuse_lookalike;
