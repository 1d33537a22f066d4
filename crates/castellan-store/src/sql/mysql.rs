//! MariaDB/MySQL: opening the pool (utf8mb4, the session in UTC as Django's `USE_TZ` expects) and
//! binding arguments.

use std::str::FromStr;
use std::time::Duration;

use sqlx::mysql::{MySql, MySqlArguments, MySqlConnectOptions, MySqlPool, MySqlPoolOptions};

use castellan_core::UserId;

use super::args::Arg;
use super::timestamp::ts_to_text;
use crate::error::{Error, Result};

/// Opens `url` (`mysql://…`, `mariadb://…`).
pub(super) async fn connect(
    url: &str,
    max_connections: u32,
    acquire: Duration,
) -> Result<MySqlPool> {
    let url = url.replacen("mariadb:", "mysql:", 1);
    let opts = MySqlConnectOptions::from_str(&url)
        .map_err(|_| Error::BadUrl(url.clone()))?
        .charset("utf8mb4");
    MySqlPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(acquire)
        .after_connect(|conn, _| {
            Box::pin(async move {
                // Timestamps are exchanged in UTC, as Django does with USE_TZ. A user's
                // permission ids come as one `GROUP_CONCAT` list, which the server cuts at
                // `group_concat_max_len` with only a warning (MySQL's default is 1 KiB, about
                // 200 ids; MariaDB's 1 MiB, and a server may set less): ask for 16 MiB.
                sqlx::query("SET time_zone = '+00:00', group_concat_max_len = 16777216")
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
        .connect_with(opts)
        .await
        .map_err(Error::Unavailable)
}

/// Binds `args` in order. Timestamps are sent as UTC text, which `datetime(6)` takes as written.
pub(super) fn bind<'q>(
    mut q: sqlx::query::Query<'q, MySql, MySqlArguments>,
    args: &[Arg<'q>],
) -> sqlx::query::Query<'q, MySql, MySqlArguments> {
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
