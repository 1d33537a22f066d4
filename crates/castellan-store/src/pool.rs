//! One connection pool per database kind, and the few places where their SQL differs.
//!
//! Queries are written once with `?` placeholders; [`Dialect::sql`] rewrites them to `$n` for
//! PostgreSQL. The [`on_pool!`](crate::on_pool) macro runs one body against whichever pool is open, so
//! every repository function is written once and compiled three times.

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions, MySqlRow};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteRow};
use sqlx::Row;

use crate::error::{Error, Result};

/// The database kinds Castellan speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (embedded; the default).
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MariaDB or MySQL.
    MySql,
}

impl Dialect {
    /// Rewrites `?` placeholders for this dialect (`$1, $2…` on PostgreSQL). Placeholders written `?ts`
    /// take a timestamp as text (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC).
    pub fn sql<'a>(self, sql: &'a str) -> Cow<'a, str> {
        if !sql.contains('?') {
            return Cow::Borrowed(sql);
        }
        let mut out = String::with_capacity(sql.len() + 16);
        let mut n = 0;
        let mut rest = sql;
        while let Some(pos) = rest.find('?') {
            out.push_str(&rest[..pos]);
            rest = &rest[pos + 1..];
            let is_ts = rest.starts_with("ts");
            if is_ts {
                rest = &rest[2..];
            }
            n += 1;
            match (self, is_ts) {
                (Self::Postgres, false) => out.push_str(&format!("${n}")),
                (Self::Postgres, true) => out.push_str(&format!("CAST(${n} AS timestamptz)")),
                (_, _) => out.push('?'),
            }
        }
        out.push_str(rest);
        Cow::Owned(out)
    }

    /// An expression that reads a timestamp column as text in Django's SQLite format, UTC.
    pub fn ts_text(self, column: &str) -> String {
        match self {
            Self::Sqlite => column.to_owned(),
            Self::Postgres => {
                format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')")
            }
            Self::MySql => format!("DATE_FORMAT({column}, '%Y-%m-%d %H:%i:%s.%f')"),
        }
    }

    /// A text-typed placeholder comparison that is exact (case- and accent-sensitive) in every
    /// dialect: MariaDB's default collations are case-insensitive.
    pub fn exact(self, column: &str) -> String {
        match self {
            Self::MySql => format!("{column} = BINARY ?"),
            _ => format!("{column} = ?"),
        }
    }

    /// `TRUE` literal.
    pub fn true_lit(self) -> &'static str {
        match self {
            Self::Sqlite => "1",
            _ => "TRUE",
        }
    }
}

/// Formats a timestamp as Django stores it on SQLite (and as [`Dialect::ts_text`] reads it back).
pub fn ts_to_text(ts: DateTime<Utc>) -> String {
    ts.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

/// Parses a timestamp written by Django or by [`ts_to_text`] (with or without fraction, `T`, offset).
pub fn ts_from_text(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.with_timezone(&Utc));
    }
    let t = t.trim_end_matches("+00:00").trim_end_matches('Z');
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(t, fmt) {
            return Some(naive.and_utc());
        }
    }
    None
}

/// How many times [`retry_busy`] tries a transaction in all.
pub(crate) const BUSY_ATTEMPTS: u32 = 6;

/// Runs `attempt` (one whole transaction) again while it fails with [`Error::Busy`] (a collision
/// with concurrent transactions on a reachable database), at most [`BUSY_ATTEMPTS`] times in all,
/// pausing a short, growing, randomised time between tries so that the colliding transactions do
/// not meet again. The last [`Error::Busy`] is returned when every try collided (the admin answers
/// it with 409); any other result is returned at once.
pub(crate) async fn retry_busy<T, F, Fut>(mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(e) if e.is_busy() && tries < BUSY_ATTEMPTS => {
                tracing::debug!(error = %e, tries, "transaction collided; retrying");
                tokio::time::sleep(busy_pause(tries)).await;
                tries += 1;
            }
            other => return other,
        }
    }
}

/// The pause after the `tries`-th collision: a random time up to 10 ms · 2^tries (20 ms, 40 ms, …
/// 320 ms: at most about 0.6 s over all tries).
fn busy_pause(tries: u32) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let ceiling_ms = 10u64 << tries.min(6);
    // A fresh random seed per call (std's per-map keys), without a random-number crate.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    Duration::from_millis(1 + random % ceiling_ms)
}

/// An open pool of one kind.
#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
    MySql(MySqlPool),
}

/// Runs `$body` with `$p` bound to the open pool, whatever its kind.
#[macro_export]
#[doc(hidden)]
macro_rules! on_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            $crate::pool::Pool::Sqlite($p) => $body,
            $crate::pool::Pool::Postgres($p) => $body,
            $crate::pool::Pool::MySql($p) => $body,
        }
    };
}

impl Pool {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Self::Sqlite(_) => Dialect::Sqlite,
            Self::Postgres(_) => Dialect::Postgres,
            Self::MySql(_) => Dialect::MySql,
        }
    }

    /// Opens a pool for a URL: `sqlite://path` (`sqlite::memory:`), `postgres://…`, `mysql://…`,
    /// `mariadb://…`. The first connection is made here, so an unreachable database fails now.
    pub(crate) async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let acquire = Duration::from_secs(5);
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|_| Error::BadUrl(url.to_owned()))?
                .create_if_missing(true)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            let pool = SqlitePoolOptions::new()
                // An in-memory database lives in one connection.
                .max_connections(if in_memory { 1 } else { max_connections })
                .min_connections(usize::from(in_memory) as u32)
                .idle_timeout(if in_memory {
                    None
                } else {
                    Some(Duration::from_secs(600))
                })
                .max_lifetime(if in_memory {
                    None
                } else {
                    Some(Duration::from_secs(1800))
                })
                .acquire_timeout(acquire)
                .connect_with(opts)
                .await
                .map_err(Error::Unavailable)?;
            Ok(Self::Sqlite(pool))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let opts =
                PgConnectOptions::from_str(url).map_err(|_| Error::BadUrl(url.to_owned()))?;
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(acquire)
                .connect_with(opts)
                .await
                .map_err(Error::Unavailable)?;
            Ok(Self::Postgres(pool))
        } else if url.starts_with("mysql:") || url.starts_with("mariadb:") {
            let url = url.replacen("mariadb:", "mysql:", 1);
            let opts = MySqlConnectOptions::from_str(&url)
                .map_err(|_| Error::BadUrl(url.clone()))?
                .charset("utf8mb4");
            let pool = MySqlPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(acquire)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        // Timestamps are exchanged as UTC text, as Django does with USE_TZ.
                        sqlx::query("SET time_zone = '+00:00'")
                            .execute(conn)
                            .await?;
                        Ok(())
                    })
                })
                .connect_with(opts)
                .await
                .map_err(Error::Unavailable)?;
            Ok(Self::MySql(pool))
        } else {
            Err(Error::BadUrl(url.to_owned()))
        }
    }

    pub(crate) async fn close(&self) {
        on_pool!(self, p => p.close().await)
    }
}

/// Typed column access that tolerates the integer widths and boolean encodings of the three
/// databases (PostgreSQL `integer` is 32-bit; SQLite and MariaDB booleans are integers).
pub(crate) trait RowExt {
    fn int(&self, col: &str) -> Result<i64>;
    fn text(&self, col: &str) -> Result<String>;
    fn opt_text(&self, col: &str) -> Result<Option<String>>;
    fn flag(&self, col: &str) -> Result<bool>;
}

macro_rules! row_ext {
    ($row:ty) => {
        impl RowExt for $row {
            fn int(&self, col: &str) -> Result<i64> {
                match self.try_get::<i64, _>(col) {
                    Ok(v) => Ok(v),
                    Err(_) => Ok(i64::from(self.try_get::<i32, _>(col)?)),
                }
            }
            fn text(&self, col: &str) -> Result<String> {
                Ok(self.try_get::<String, _>(col)?)
            }
            fn opt_text(&self, col: &str) -> Result<Option<String>> {
                Ok(self.try_get::<Option<String>, _>(col)?)
            }
            fn flag(&self, col: &str) -> Result<bool> {
                match self.try_get::<bool, _>(col) {
                    Ok(v) => Ok(v),
                    Err(_) => Ok(self.int(col)? != 0),
                }
            }
        }
    };
}

row_ext!(SqliteRow);
row_ext!(PgRow);
row_ext!(MySqlRow);

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn collisions_are_retried_a_bounded_number_of_times() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let busy = || Error::Busy(sqlx::Error::PoolTimedOut);
        // Two collisions, then success: three tries.
        let tries = AtomicU32::new(0);
        let r = retry_busy(|| async {
            match tries.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(busy()),
                _ => Ok(7),
            }
        })
        .await;
        assert_eq!((r.ok(), tries.load(Ordering::SeqCst)), (Some(7), 3));
        // Always colliding: given up after BUSY_ATTEMPTS tries, still Busy.
        let tries = AtomicU32::new(0);
        let r: Result<()> = retry_busy(|| async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err(busy())
        })
        .await;
        assert!(r.is_err_and(|e| e.is_busy()));
        assert_eq!(tries.load(Ordering::SeqCst), BUSY_ATTEMPTS);
        // Any other error: no retry.
        let tries = AtomicU32::new(0);
        let r: Result<()> = retry_busy(|| async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err(Error::Refused("no".into()))
        })
        .await;
        assert!(matches!(r, Err(Error::Refused(_))));
        assert_eq!(tries.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn busy_pauses_stay_short() {
        for tries in 1..BUSY_ATTEMPTS {
            let p = busy_pause(tries);
            assert!(p >= Duration::from_millis(1) && p <= Duration::from_millis(10 << tries));
        }
    }

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        let sql = "SELECT a FROM t WHERE b = ? AND c = ?ts";
        assert_eq!(
            Dialect::Postgres.sql(sql),
            "SELECT a FROM t WHERE b = $1 AND c = CAST($2 AS timestamptz)"
        );
        assert_eq!(
            Dialect::Sqlite.sql(sql),
            "SELECT a FROM t WHERE b = ? AND c = ?"
        );
    }

    #[test]
    fn timestamps_round_trip_in_djangos_format() {
        let t = ts_from_text("2026-11-25 20:38:15.814842").unwrap();
        assert_eq!(ts_to_text(t), "2026-11-25 20:38:15.814842");
        assert!(ts_from_text("2026-11-25T20:38:15+00:00").is_some());
        assert!(ts_from_text("garbage").is_none());
    }
}
