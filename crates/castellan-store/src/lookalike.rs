//! Look-alike names: a new username or group name must not read the same as another existing one
//! (see [`castellan_core::lookalike`]). The check runs inside the writing transaction, after a
//! lock that serialises Castellan's writers of the same table, so two concurrent creations of
//! `Editors` and `ＥＤＩＴＯＲＳ` cannot both succeed.
//!
//! Only names Castellan writes are checked (user and group creation, group renames); names already
//! in the database stay as they are, and `import` loads an export as it is (it restores a database
//! that Django, which only NFKC-normalises usernames, may have filled with such names).

use castellan_core::lookalike::lookalike_key;

use crate::error::{Error, Result};
use crate::sql::{Dialect, Sql, Tx};

/// The table whose names are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Names {
    /// `auth_user.username`.
    Users,
    /// `auth_group.name`.
    Groups,
}

/// PostgreSQL: a transaction-scoped advisory lock per table ('cstl' and a table number), taken
/// before the scan. (SQLite allows one writer at a time; on MariaDB the scan locks with
/// `FOR UPDATE`.)
///
/// MariaDB: the scan reads and locks every row of the table (no index serves it). A creation runs
/// at `REPEATABLE READ`, so it also holds the gaps until it commits. A rename
/// ([`crate::sql::Db::begin_write`]) runs at `READ COMMITTED`, where InnoDB takes no gap locks. It is
/// serialised anyway because it locks its own group's row before the scan: any other writer's scan
/// must lock that row too and waits for the rename's commit, then reads the committed name. A
/// rename's own scan waits for a row a creation has inserted or scanned. Two writers that each
/// wait for the other deadlock. InnoDB rolls one back, and `create_group` and the renames retry
/// it ([`crate::retry::retry_busy`]), so the retry sees the winner's name and is refused as a
/// look-alike.
const LOCK_USERS: Sql = crate::sql!("SELECT pg_advisory_xact_lock(1668510828, 1)");
const LOCK_GROUPS: Sql = crate::sql!("SELECT pg_advisory_xact_lock(1668510828, 2)");

/// Every row that may look like a name whose key is the argument: the names whose lowercase is
/// that key (an ASCII name's key is its ASCII lowercase) and every name with a non-ASCII
/// character. A superset: the caller compares the keys.
const USER_CANDIDATES: Sql = Sql::per_dialect(
    "SELECT id, username AS name FROM auth_user \
     WHERE lower(username) = ? OR length(CAST(username AS BLOB)) <> length(username)",
    "SELECT id, username AS name FROM auth_user \
     WHERE lower(username) = $1 OR octet_length(username) <> char_length(username)",
    "SELECT id, username AS name FROM auth_user \
     WHERE LOWER(username) = ? OR LENGTH(username) <> CHAR_LENGTH(username) FOR UPDATE",
);
const GROUP_CANDIDATES: Sql = Sql::per_dialect(
    "SELECT id, name FROM auth_group \
     WHERE lower(name) = ? OR length(CAST(name AS BLOB)) <> length(name)",
    "SELECT id, name FROM auth_group \
     WHERE lower(name) = $1 OR octet_length(name) <> char_length(name)",
    "SELECT id, name FROM auth_group \
     WHERE LOWER(name) = ? OR LENGTH(name) <> CHAR_LENGTH(name) FOR UPDATE",
);

/// The statements of this module (the PostgreSQL locks only prepare there).
#[cfg(test)]
pub(crate) const STATEMENTS: &[Sql] = &[USER_CANDIDATES, GROUP_CANDIDATES];
/// PostgreSQL-only statements.
#[cfg(test)]
pub(crate) const POSTGRES_STATEMENTS: &[Sql] = &[LOCK_USERS, LOCK_GROUPS];

impl Names {
    fn lock(self) -> &'static Sql {
        match self {
            Self::Users => &LOCK_USERS,
            Self::Groups => &LOCK_GROUPS,
        }
    }

    fn candidates(self) -> &'static Sql {
        match self {
            Self::Users => &USER_CANDIDATES,
            Self::Groups => &GROUP_CANDIDATES,
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

/// Refuses `new` when another row of `names` (not the one whose id is `except`) has a look-alike
/// name. Runs inside the caller's transaction.
pub(crate) async fn refuse_lookalike(
    tx: &mut Tx,
    names: Names,
    new: &str,
    except: Option<i64>,
) -> Result<()> {
    if tx.dialect() == Dialect::Postgres {
        tx.execute(names.lock(), &[]).await?;
    }
    let key = lookalike_key(new);
    for r in tx
        .fetch_all(names.candidates(), &[key.as_str().into()])
        .await?
    {
        // Only a group's id is compared (renaming one); a user's may be a UUID.
        let same_row = match except {
            Some(except) => r.int("id")? == except,
            None => false,
        };
        let existing = r.text("name")?;
        if !same_row && existing != new && lookalike_key(&existing) == key {
            return Err(names.error(new, &existing));
        }
    }
    Ok(())
}
