//! The open database: a pool of the kind the URL names, and transactions on it. Every statement
//! goes through [`Db`] or [`Tx`], which pick the text for the open database, check the argument
//! count and bind the arguments.

use std::time::Duration;

use futures_util::TryStreamExt;

use super::args::Arg;
use super::row::Row;
use super::statement::Statement;
use super::Dialect;
use crate::error::{Error, Result};

/// An open pool on one database. Cloning is cheap and shares the pool.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Db {
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
    /// MariaDB or MySQL.
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlPool),
}

/// A transaction on a [`Db`]: commit it with [`Tx::commit`]; dropped, it rolls back.
#[derive(Debug)]
pub struct Tx(TxInner);

#[derive(Debug)]
enum TxInner {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    #[cfg(feature = "mysql")]
    MySql(sqlx::Transaction<'static, sqlx::MySql>),
}

/// Where one statement runs: a pool or a transaction's connection.
enum Exec<'c> {
    #[cfg(feature = "sqlite")]
    SqlitePool(&'c sqlx::SqlitePool),
    #[cfg(feature = "sqlite")]
    SqliteConn(&'c mut sqlx::SqliteConnection),
    #[cfg(feature = "postgres")]
    PostgresPool(&'c sqlx::PgPool),
    #[cfg(feature = "postgres")]
    PostgresConn(&'c mut sqlx::PgConnection),
    #[cfg(feature = "mysql")]
    MySqlPool(&'c sqlx::MySqlPool),
    #[cfg(feature = "mysql")]
    MySqlConn(&'c mut sqlx::MySqlConnection),
}

/// The driver compiled in for a URL's scheme, or why it cannot be opened.
fn driver_for(url: &str) -> Result<Dialect> {
    let (dialect, feature) = if url.starts_with("sqlite:") {
        (Dialect::Sqlite, "sqlite")
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        (Dialect::Postgres, "postgres")
    } else if url.starts_with("mysql:") || url.starts_with("mariadb:") {
        (Dialect::MySql, "mysql")
    } else {
        return Err(Error::BadUrl(url.to_owned()));
    };
    let compiled = match dialect {
        Dialect::Sqlite => cfg!(feature = "sqlite"),
        Dialect::Postgres => cfg!(feature = "postgres"),
        Dialect::MySql => cfg!(feature = "mysql"),
    };
    if compiled {
        Ok(dialect)
    } else {
        Err(Error::DriverMissing {
            url: url.to_owned(),
            feature,
        })
    }
}

impl Db {
    /// Opens a pool for a URL: `sqlite://PATH` (`sqlite::memory:`), `postgres://…`, `mysql://…`,
    /// `mariadb://…`. The first connection is made here, so an unreachable database fails now.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let acquire = Duration::from_secs(5);
        #[allow(unreachable_patterns)]
        match driver_for(url)? {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => Ok(Self::Sqlite(
                super::sqlite::connect(url, max_connections, acquire).await?,
            )),
            #[cfg(feature = "postgres")]
            Dialect::Postgres => Ok(Self::Postgres(
                super::postgres::connect(url, max_connections, acquire).await?,
            )),
            #[cfg(feature = "mysql")]
            Dialect::MySql => Ok(Self::MySql(
                super::mysql::connect(url, max_connections, acquire).await?,
            )),
            _ => Err(Error::BadUrl(url.to_owned())),
        }
    }

    /// The database kind.
    pub fn dialect(&self) -> Dialect {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            Self::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "mysql")]
            Self::MySql(_) => Dialect::MySql,
        }
    }

    fn exec(&self) -> Exec<'_> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(p) => Exec::SqlitePool(p),
            #[cfg(feature = "postgres")]
            Self::Postgres(p) => Exec::PostgresPool(p),
            #[cfg(feature = "mysql")]
            Self::MySql(p) => Exec::MySqlPool(p),
        }
    }

    /// Runs a statement; returns the rows it affected.
    pub async fn execute(&self, sql: &(impl Statement + ?Sized), args: &[Arg<'_>]) -> Result<u64> {
        let text = checked(sql, self.dialect(), args)?;
        self.exec().execute(text, args).await
    }

    /// Every row of a query.
    pub async fn fetch_all(
        &self,
        sql: &(impl Statement + ?Sized),
        args: &[Arg<'_>],
    ) -> Result<Vec<Row>> {
        let text = checked(sql, self.dialect(), args)?;
        self.exec().fetch_all(text, args).await
    }

    /// The first row of a query, if any.
    pub async fn fetch_optional(
        &self,
        sql: &(impl Statement + ?Sized),
        args: &[Arg<'_>],
    ) -> Result<Option<Row>> {
        let text = checked(sql, self.dialect(), args)?;
        self.exec().fetch_optional(text, args).await
    }

    /// The first row of a query that always returns one (an aggregate, a row just written).
    pub async fn fetch_one(
        &self,
        sql: &(impl Statement + ?Sized),
        args: &[Arg<'_>],
    ) -> Result<Row> {
        self.fetch_optional(sql, args)
            .await?
            .ok_or(Error::Database(sqlx::Error::RowNotFound))
    }

    /// Rows one at a time: `each` returns `false` to stop reading (the rest is not fetched).
    pub async fn fetch_each(
        &self,
        sql: &(impl Statement + ?Sized),
        args: &[Arg<'_>],
        mut each: impl FnMut(Row) -> Result<bool>,
    ) -> Result<()> {
        let text = checked(sql, self.dialect(), args)?;
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(p) => {
                let mut rows = super::sqlite::bind(text.query(), args).fetch(p);
                while let Some(r) = rows.try_next().await? {
                    if !each(Row::Sqlite(r))? {
                        break;
                    }
                }
            }
            #[cfg(feature = "postgres")]
            Self::Postgres(p) => {
                let mut rows = super::postgres::bind(text.query(), args).fetch(p);
                while let Some(r) = rows.try_next().await? {
                    if !each(Row::Postgres(r))? {
                        break;
                    }
                }
            }
            #[cfg(feature = "mysql")]
            Self::MySql(p) => {
                let mut rows = super::mysql::bind(text.query(), args).fetch(p);
                while let Some(r) = rows.try_next().await? {
                    if !each(Row::MySql(r))? {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// Begins a transaction.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(Tx(match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(p) => TxInner::Sqlite(p.begin().await?),
            #[cfg(feature = "postgres")]
            Self::Postgres(p) => TxInner::Postgres(p.begin().await?),
            #[cfg(feature = "mysql")]
            Self::MySql(p) => TxInner::MySql(p.begin().await?),
        }))
    }

    /// Begins a transaction that is going to write after reading: on SQLite it takes the write
    /// lock first (`BEGIN IMMEDIATE`), so two such transactions queue instead of deadlocking on
    /// the upgrade from read to write; on MariaDB it runs at `READ COMMITTED`, so a read after a
    /// lock wait sees what the lock was waiting for (see `versions.rs`). Elsewhere it is
    /// [`Db::begin`]. Other transactions keep InnoDB's `REPEATABLE READ`, whose gap locks the
    /// look-alike check relies on.
    pub async fn begin_write(&self) -> Result<Tx> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(p) => Ok(Tx(TxInner::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?))),
            #[cfg(feature = "mysql")]
            Self::MySql(p) => {
                let mut conn = p.acquire().await?;
                // Applies to the next transaction on this connection only.
                sqlx::query("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
                    .execute(&mut *conn)
                    .await?;
                Ok(Tx(TxInner::MySql(
                    sqlx::Transaction::begin(conn, None).await?,
                )))
            }
            #[allow(unreachable_patterns)]
            _ => self.begin().await,
        }
    }

    /// Runs SQL text without arguments (several statements allowed); returns the rows affected.
    pub async fn execute_raw(&self, sql: &str) -> Result<u64> {
        Ok(match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await?.rows_affected(),
            #[cfg(feature = "postgres")]
            Self::Postgres(p) => sqlx::raw_sql(sql).execute(p).await?.rows_affected(),
            #[cfg(feature = "mysql")]
            Self::MySql(p) => sqlx::raw_sql(sql).execute(p).await?.rows_affected(),
        })
    }

    /// Prepares a statement without running it (checks that the database accepts it).
    pub async fn prepare(&self, sql: &(impl Statement + ?Sized)) -> Result<()> {
        use sqlx::Executor as _;
        let text = sql
            .text(self.dialect())
            .ok_or_else(|| wrong_dialect(self.dialect()))?;
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(p) => drop(p.prepare(text).await?),
            #[cfg(feature = "postgres")]
            Self::Postgres(p) => drop(p.prepare(text).await?),
            #[cfg(feature = "mysql")]
            Self::MySql(p) => drop(p.prepare(text).await?),
        }
        Ok(())
    }

    /// Closes the pool.
    pub async fn close(&self) {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(p) => p.close().await,
            #[cfg(feature = "postgres")]
            Self::Postgres(p) => p.close().await,
            #[cfg(feature = "mysql")]
            Self::MySql(p) => p.close().await,
        }
    }
}

impl Tx {
    /// The database kind.
    pub fn dialect(&self) -> Dialect {
        match &self.0 {
            #[cfg(feature = "sqlite")]
            TxInner::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            TxInner::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "mysql")]
            TxInner::MySql(_) => Dialect::MySql,
        }
    }

    fn exec(&mut self) -> Exec<'_> {
        match &mut self.0 {
            #[cfg(feature = "sqlite")]
            TxInner::Sqlite(t) => Exec::SqliteConn(t),
            #[cfg(feature = "postgres")]
            TxInner::Postgres(t) => Exec::PostgresConn(t),
            #[cfg(feature = "mysql")]
            TxInner::MySql(t) => Exec::MySqlConn(t),
        }
    }

    /// Runs a statement; returns the rows it affected.
    pub async fn execute(
        &mut self,
        sql: &(impl Statement + ?Sized),
        args: &[Arg<'_>],
    ) -> Result<u64> {
        let text = checked(sql, self.dialect(), args)?;
        self.exec().execute(text, args).await
    }

    /// Every row of a query.
    pub async fn fetch_all(
        &mut self,
        sql: &(impl Statement + ?Sized),
        args: &[Arg<'_>],
    ) -> Result<Vec<Row>> {
        let text = checked(sql, self.dialect(), args)?;
        self.exec().fetch_all(text, args).await
    }

    /// The first row of a query, if any.
    pub async fn fetch_optional(
        &mut self,
        sql: &(impl Statement + ?Sized),
        args: &[Arg<'_>],
    ) -> Result<Option<Row>> {
        let text = checked(sql, self.dialect(), args)?;
        self.exec().fetch_optional(text, args).await
    }

    /// The first row of a query that always returns one.
    pub async fn fetch_one(
        &mut self,
        sql: &(impl Statement + ?Sized),
        args: &[Arg<'_>],
    ) -> Result<Row> {
        self.fetch_optional(sql, args)
            .await?
            .ok_or(Error::Database(sqlx::Error::RowNotFound))
    }

    /// Runs one statement without arguments (DDL, a statement built from trusted names) inside
    /// the transaction, without keeping it prepared.
    pub async fn execute_once(&mut self, sql: &str) -> Result<u64> {
        let text = Text {
            text: sql,
            persistent: false,
        };
        self.exec().execute(text, &[]).await
    }

    /// Commits.
    pub async fn commit(self) -> Result<()> {
        match self.0 {
            #[cfg(feature = "sqlite")]
            TxInner::Sqlite(t) => t.commit().await?,
            #[cfg(feature = "postgres")]
            TxInner::Postgres(t) => t.commit().await?,
            #[cfg(feature = "mysql")]
            TxInner::MySql(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// The statement's text for `dialect`, once its argument count is checked.
fn checked<'s>(
    sql: &'s (impl Statement + ?Sized),
    dialect: Dialect,
    args: &[Arg<'_>],
) -> Result<Text<'s>> {
    let text = sql.text(dialect).ok_or_else(|| wrong_dialect(dialect))?;
    if args.len() != sql.binds() {
        return Err(Error::Statement(format!(
            "a statement that takes {} arguments was given {}: {text}",
            sql.binds(),
            args.len()
        )));
    }
    Ok(Text {
        text,
        persistent: sql.persistent(),
    })
}

/// A statement's text for the open database, and whether to keep it prepared.
#[derive(Clone, Copy)]
struct Text<'s> {
    text: &'s str,
    persistent: bool,
}

impl<'s> Text<'s> {
    fn query<DB: sqlx::Database + sqlx::database::HasStatementCache>(
        self,
    ) -> sqlx::query::Query<'s, DB, <DB as sqlx::Database>::Arguments<'s>> {
        sqlx::query(self.text).persistent(self.persistent)
    }
}

fn wrong_dialect(dialect: Dialect) -> Error {
    Error::Statement(format!(
        "a statement written for another database was run on {dialect:?}"
    ))
}

impl Exec<'_> {
    async fn execute(self, text: Text<'_>, args: &[Arg<'_>]) -> Result<u64> {
        Ok(match self {
            #[cfg(feature = "sqlite")]
            Self::SqlitePool(p) => super::sqlite::bind(text.query(), args)
                .execute(p)
                .await?
                .rows_affected(),
            #[cfg(feature = "sqlite")]
            Self::SqliteConn(c) => super::sqlite::bind(text.query(), args)
                .execute(c)
                .await?
                .rows_affected(),
            #[cfg(feature = "postgres")]
            Self::PostgresPool(p) => super::postgres::bind(text.query(), args)
                .execute(p)
                .await?
                .rows_affected(),
            #[cfg(feature = "postgres")]
            Self::PostgresConn(c) => super::postgres::bind(text.query(), args)
                .execute(c)
                .await?
                .rows_affected(),
            #[cfg(feature = "mysql")]
            Self::MySqlPool(p) => super::mysql::bind(text.query(), args)
                .execute(p)
                .await?
                .rows_affected(),
            #[cfg(feature = "mysql")]
            Self::MySqlConn(c) => super::mysql::bind(text.query(), args)
                .execute(c)
                .await?
                .rows_affected(),
        })
    }

    async fn fetch_all(self, text: Text<'_>, args: &[Arg<'_>]) -> Result<Vec<Row>> {
        Ok(match self {
            #[cfg(feature = "sqlite")]
            Self::SqlitePool(p) => rows(
                super::sqlite::bind(text.query(), args).fetch_all(p).await?,
                Row::Sqlite,
            ),
            #[cfg(feature = "sqlite")]
            Self::SqliteConn(c) => rows(
                super::sqlite::bind(text.query(), args).fetch_all(c).await?,
                Row::Sqlite,
            ),
            #[cfg(feature = "postgres")]
            Self::PostgresPool(p) => rows(
                super::postgres::bind(text.query(), args)
                    .fetch_all(p)
                    .await?,
                Row::Postgres,
            ),
            #[cfg(feature = "postgres")]
            Self::PostgresConn(c) => rows(
                super::postgres::bind(text.query(), args)
                    .fetch_all(c)
                    .await?,
                Row::Postgres,
            ),
            #[cfg(feature = "mysql")]
            Self::MySqlPool(p) => rows(
                super::mysql::bind(text.query(), args).fetch_all(p).await?,
                Row::MySql,
            ),
            #[cfg(feature = "mysql")]
            Self::MySqlConn(c) => rows(
                super::mysql::bind(text.query(), args).fetch_all(c).await?,
                Row::MySql,
            ),
        })
    }

    async fn fetch_optional(self, text: Text<'_>, args: &[Arg<'_>]) -> Result<Option<Row>> {
        Ok(match self {
            #[cfg(feature = "sqlite")]
            Self::SqlitePool(p) => super::sqlite::bind(text.query(), args)
                .fetch_optional(p)
                .await?
                .map(Row::Sqlite),
            #[cfg(feature = "sqlite")]
            Self::SqliteConn(c) => super::sqlite::bind(text.query(), args)
                .fetch_optional(c)
                .await?
                .map(Row::Sqlite),
            #[cfg(feature = "postgres")]
            Self::PostgresPool(p) => super::postgres::bind(text.query(), args)
                .fetch_optional(p)
                .await?
                .map(Row::Postgres),
            #[cfg(feature = "postgres")]
            Self::PostgresConn(c) => super::postgres::bind(text.query(), args)
                .fetch_optional(c)
                .await?
                .map(Row::Postgres),
            #[cfg(feature = "mysql")]
            Self::MySqlPool(p) => super::mysql::bind(text.query(), args)
                .fetch_optional(p)
                .await?
                .map(Row::MySql),
            #[cfg(feature = "mysql")]
            Self::MySqlConn(c) => super::mysql::bind(text.query(), args)
                .fetch_optional(c)
                .await?
                .map(Row::MySql),
        })
    }
}

fn rows<R>(driver_rows: Vec<R>, wrap: fn(R) -> Row) -> Vec<Row> {
    driver_rows.into_iter().map(wrap).collect()
}
