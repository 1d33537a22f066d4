//! PostgreSQL: opening the pool and binding arguments (timestamps as `timestamptz`).

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgArguments, PgConnectOptions, PgPool, PgPoolOptions, Postgres};

use castellan_core::UserId;

use super::args::Arg;
use crate::error::{Error, Result};

/// Opens `url` (`postgres://…`, `postgresql://…`).
pub(super) async fn connect(url: &str, max_connections: u32, acquire: Duration) -> Result<PgPool> {
    let opts = PgConnectOptions::from_str(url).map_err(|_| Error::BadUrl(url.to_owned()))?;
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(acquire)
        .connect_with(opts)
        .await
        .map_err(Error::Unavailable)
}

/// Binds `args` in order.
pub(super) fn bind<'q>(
    mut q: sqlx::query::Query<'q, Postgres, PgArguments>,
    args: &[Arg<'q>],
) -> sqlx::query::Query<'q, Postgres, PgArguments> {
    for arg in args {
        q = match *arg {
            Arg::Int(v) => q.bind(v),
            Arg::OptInt(v) => q.bind(v),
            Arg::Text(v) => q.bind(v),
            Arg::OptText(v) => q.bind(v),
            Arg::Flag(v) => q.bind(v),
            Arg::Ts(v) => q.bind(v),
            Arg::OptTs(v) => q.bind(v),
            Arg::User(UserId::Int(v)) => q.bind(v),
            Arg::User(UserId::Uuid(u)) => q.bind(uuid::Uuid::from_u128(u)),
        };
    }
    q
}
