//! Rows of any database, read by column name with the tolerance Django's schemas need: integer
//! widths (PostgreSQL `integer` is 32-bit), booleans stored as integers (SQLite, MariaDB) and
//! timestamps stored as text (SQLite) or as timestamps.

use castellan_core::{UserId, UserPk};
use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Decode, Type};

use super::timestamp::ts_from_text;
use crate::error::{Error, Result};

/// One row of a result, from whichever database is open.
#[non_exhaustive]
pub enum Row {
    /// A SQLite row.
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::sqlite::SqliteRow),
    /// A PostgreSQL row.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::postgres::PgRow),
    /// A MariaDB/MySQL row.
    #[cfg(feature = "mysql")]
    MySql(sqlx::mysql::MySqlRow),
}

impl std::fmt::Debug for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Row").finish_non_exhaustive()
    }
}

/// Runs `$body` with `$r` bound to the driver's row.
macro_rules! on_row {
    ($row:expr, $r:ident => $body:expr) => {
        match $row {
            #[cfg(feature = "sqlite")]
            Row::Sqlite($r) => $body,
            #[cfg(feature = "postgres")]
            Row::Postgres($r) => $body,
            #[cfg(feature = "mysql")]
            Row::MySql($r) => $body,
        }
    };
}

fn get<'r, R, T>(row: &'r R, col: &str) -> Result<T>
where
    R: sqlx::Row,
    T: Decode<'r, R::Database> + Type<R::Database>,
    for<'c> &'c str: ColumnIndex<R>,
{
    Ok(row.try_get::<T, _>(col)?)
}

fn int<'r, R>(row: &'r R, col: &str) -> Result<Option<i64>>
where
    R: sqlx::Row,
    Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
    Option<i32>: Decode<'r, R::Database> + Type<R::Database>,
    for<'c> &'c str: ColumnIndex<R>,
{
    match row.try_get::<Option<i64>, _>(col) {
        Ok(v) => Ok(v),
        Err(_) => Ok(row.try_get::<Option<i32>, _>(col)?.map(i64::from)),
    }
}

fn flag<'r, R>(row: &'r R, col: &str) -> Result<bool>
where
    R: sqlx::Row,
    bool: Decode<'r, R::Database> + Type<R::Database>,
    Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
    Option<i32>: Decode<'r, R::Database> + Type<R::Database>,
    for<'c> &'c str: ColumnIndex<R>,
{
    match row.try_get::<bool, _>(col) {
        Ok(v) => Ok(v),
        Err(_) => Ok(int(row, col)?.is_some_and(|v| v != 0)),
    }
}

/// A timestamp column: the database's timestamp type where it has one, else Django's text.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn ts<'r, R>(row: &'r R, col: &str) -> Result<Option<DateTime<Utc>>>
where
    R: sqlx::Row,
    Option<DateTime<Utc>>: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    for<'c> &'c str: ColumnIndex<R>,
{
    if let Ok(v) = row.try_get::<Option<DateTime<Utc>>, _>(col) {
        return Ok(v);
    }
    text_ts(row.try_get::<Option<String>, _>(col)?, col)
}

fn text_ts(text: Option<String>, col: &str) -> Result<Option<DateTime<Utc>>> {
    match text {
        None => Ok(None),
        Some(t) => ts_from_text(&t).map(Some).ok_or_else(|| {
            Error::Schema(format!(
                "column {col} holds {t:?}, which is not a timestamp"
            ))
        }),
    }
}

impl Row {
    /// An integer column (NULL is an error).
    pub fn int(&self, col: &str) -> Result<i64> {
        self.opt_int(col)?.ok_or_else(|| null(col))
    }

    /// An integer column that may be NULL.
    pub fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        on_row!(self, r => int(r, col))
    }

    /// A text column (NULL is an error).
    pub fn text(&self, col: &str) -> Result<String> {
        on_row!(self, r => get::<_, String>(r, col))
    }

    /// A text column that may be NULL.
    pub fn opt_text(&self, col: &str) -> Result<Option<String>> {
        on_row!(self, r => get::<_, Option<String>>(r, col))
    }

    /// A boolean column (or an integer one: non-zero is true).
    pub fn flag(&self, col: &str) -> Result<bool> {
        on_row!(self, r => flag(r, col))
    }

    /// A timestamp column (NULL is an error).
    pub fn ts(&self, col: &str) -> Result<DateTime<Utc>> {
        self.opt_ts(col)?.ok_or_else(|| null(col))
    }

    /// A timestamp column that may be NULL.
    pub fn opt_ts(&self, col: &str) -> Result<Option<DateTime<Utc>>> {
        match self {
            // SQLite has no timestamp type: Django writes text.
            #[cfg(feature = "sqlite")]
            Self::Sqlite(r) => text_ts(get::<_, Option<String>>(r, col)?, col),
            #[cfg(feature = "postgres")]
            Self::Postgres(r) => ts(r, col),
            #[cfg(feature = "mysql")]
            Self::MySql(r) => ts(r, col),
        }
    }

    /// A user's primary key (NULL is an error).
    pub fn user_id(&self, col: &str) -> Result<UserId> {
        self.opt_user_id(col)?.ok_or_else(|| null(col))
    }

    /// A user's primary key that may be NULL: an integer column, or a UUID — PostgreSQL's `uuid`,
    /// or text holding 32 hexadecimal digits (Django's `char(32)` on SQLite and MySQL) or the
    /// hyphenated form (MariaDB's `uuid`).
    pub fn opt_user_id(&self, col: &str) -> Result<Option<UserId>> {
        // A `uuid` column (told by its type, so that integer keys pay no failed decode).
        #[cfg(feature = "postgres")]
        if let Self::Postgres(r) = self {
            use sqlx::{Column, TypeInfo};
            let is_uuid =
                sqlx::Row::try_column(r, col).is_ok_and(|c| c.type_info().name() == "UUID");
            if is_uuid {
                let v = sqlx::Row::try_get::<Option<uuid::Uuid>, _>(r, col)?;
                return Ok(v.map(|u| UserId::Uuid(u.as_u128())));
            }
        }
        if let Ok(v) = self.opt_int(col) {
            return Ok(v.map(UserId::Int));
        }
        // MariaDB's `uuid` reaches the driver as the hyphenated text flagged binary.
        #[cfg(feature = "mysql")]
        #[allow(irrefutable_let_patterns)] // a MariaDB-only build has no other kind of row
        if let Self::MySql(r) = self {
            if let Ok(v) = sqlx::Row::try_get::<Option<Vec<u8>>, _>(r, col) {
                let text = v.map(|b| String::from_utf8_lossy(&b).into_owned());
                return text.map(|t| uuid_text(col, &t)).transpose();
            }
        }
        match self.opt_text(col)? {
            None => Ok(None),
            Some(t) => uuid_text(col, &t).map(Some),
        }
    }
}

/// A UUID key stored as text, or why the column's value is not one.
fn uuid_text(col: &str, text: &str) -> Result<UserId> {
    UserId::parse(UserPk::Uuid, text).ok_or_else(|| {
        Error::Schema(format!(
            "column {col} holds {text:?}, which is neither an integer nor a UUID"
        ))
    })
}

fn null(col: &str) -> Error {
    Error::Schema(format!("column {col} is NULL where a value was expected"))
}
