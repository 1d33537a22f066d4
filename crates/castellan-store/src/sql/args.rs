//! The values a statement binds, one enum for every database.

use castellan_core::UserId;
use chrono::{DateTime, Utc};

/// One argument of a statement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Arg<'a> {
    /// An integer (ids, counts).
    Int(i64),
    /// An integer or NULL.
    OptInt(Option<i64>),
    /// Text.
    Text(&'a str),
    /// Text or NULL.
    OptText(Option<&'a str>),
    /// A boolean (an integer on SQLite and MariaDB).
    Flag(bool),
    /// A timestamp, stored as Django stores it: text on SQLite, `timestamptz` on PostgreSQL,
    /// `datetime(6)` in UTC on MariaDB.
    Ts(DateTime<Utc>),
    /// A timestamp or NULL.
    OptTs(Option<DateTime<Utc>>),
    /// A user's primary key: an integer, or a UUID stored as Django stores it (`uuid` on
    /// PostgreSQL; 32 hexadecimal digits on SQLite and MySQL, which MariaDB's `uuid` also takes).
    User(UserId),
}

impl From<UserId> for Arg<'_> {
    fn from(v: UserId) -> Self {
        Self::User(v)
    }
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Self::OptInt(v)
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Self::Text(v)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Self::Text(v)
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Self::OptText(v)
    }
}

impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Self::Flag(v)
    }
}

impl From<DateTime<Utc>> for Arg<'_> {
    fn from(v: DateTime<Utc>) -> Self {
        Self::Ts(v)
    }
}

impl From<Option<DateTime<Utc>>> for Arg<'_> {
    fn from(v: Option<DateTime<Utc>>) -> Self {
        Self::OptTs(v)
    }
}
