//! SQLite: opening the pool (Django's file, foreign keys on, a busy timeout) and binding arguments.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{Sqlite, SqliteArguments, SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

use castellan_core::UserId;

use super::args::Arg;
use super::timestamp::ts_to_text;
use crate::error::{Error, Result};

/// Opens `url` (`sqlite://PATH`, `sqlite::memory:`). An in-memory database lives in one connection.
pub(super) async fn connect(
    url: &str,
    max_connections: u32,
    acquire: Duration,
) -> Result<SqlitePool> {
    let opts = SqliteConnectOptions::from_str(url)
        .map_err(|_| Error::BadUrl(url.to_owned()))?
        .create_if_missing(true)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    SqlitePoolOptions::new()
        .max_connections(if in_memory { 1 } else { max_connections })
        .min_connections(u32::from(in_memory))
        .idle_timeout((!in_memory).then_some(Duration::from_secs(600)))
        .max_lifetime((!in_memory).then_some(Duration::from_secs(1800)))
        .acquire_timeout(acquire)
        .connect_with(opts)
        .await
        .map_err(Error::Unavailable)
}

/// Binds `args` in order. Timestamps are Django's text.
pub(super) fn bind<'q>(
    mut q: sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>,
    args: &[Arg<'q>],
) -> sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>> {
    for arg in args {
        q = match *arg {
            Arg::Int(v) => q.bind(v),
            Arg::OptInt(v) => q.bind(v),
            Arg::Text(v) => q.bind(v),
            Arg::OptText(v) => q.bind(v),
            Arg::Flag(v) => q.bind(v),
            Arg::Ts(v) => q.bind(ts_to_text(v)),
            Arg::OptTs(v) => q.bind(v.map(ts_to_text)),
            Arg::User(UserId::Int(v)) => q.bind(v),
            Arg::User(u) => q.bind(u.hex()),
        };
    }
    q
}
