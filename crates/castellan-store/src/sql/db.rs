//! The open database: a pool of the kind the URL names, and transactions on it. Every statement
//! goes through [`Db`] or [`Tx`], which pick the text for the open database, check the argument
//! count and bind the arguments.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;

use super::args::Arg;
use super::rename::Renames;
use super::row::Row;
use super::statement::Statement;
use super::Dialect;
use crate::error::{Error, Result};

/// An open pool on one database. Cloning is cheap and shares the pool.
#[derive(Debug, Clone)]
pub struct Db {
    pool: Pool,
    /// The user model's names, for the store's own statements (`None`: run as written).
    renames: Option<Arc<Renames>>,
}

/// The pool of the kind the URL named.
#[derive(Debug, Clone)]
enum Pool {
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
pub struct Tx {
    inner: TxInner,
    renames: Option<Arc<Renames>>,
}

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
        let pool = match driver_for(url)? {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => {
                Pool::Sqlite(super::sqlite::connect(url, max_connections, acquire).await?)
            }
            #[cfg(feature = "postgres")]
            Dialect::Postgres => {
                Pool::Postgres(super::postgres::connect(url, max_connections, acquire).await?)
            }
            #[cfg(feature = "mysql")]
            Dialect::MySql => {
                Pool::MySql(super::mysql::connect(url, max_connections, acquire).await?)
            }
            _ => return Err(Error::BadUrl(url.to_owned())),
        };
        Ok(Self {
            pool,
            renames: None,
        })
    }

    /// The same pool, running the store's statements with the user model's names.
    pub(crate) fn with_renames(&self, renames: Arc<Renames>) -> Self {
        Self {
            pool: self.pool.clone(),
            renames: (!renames.is_identity()).then_some(renames),
        }
    }

    /// `name` (one of Django's default user tables) as this database names it.
    pub(crate) fn table_name<'n>(&self, name: &'n str) -> Cow<'n, str> {
        renamed_table(self.renames.as_deref(), name)
    }

    /// The PostgreSQL pool, for a listening connection.
    #[cfg(feature = "postgres")]
    pub(crate) fn pg_pool(&self) -> Option<&sqlx::PgPool> {
        match &self.pool {
            Pool::Postgres(p) => Some(p),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// The database kind.
    pub fn dialect(&self) -> Dialect {
        match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "mysql")]
            Pool::MySql(_) => Dialect::MySql,
        }
    }

    fn exec(&self) -> Exec<'_> {
        match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(p) => Exec::SqlitePool(p),
            #[cfg(feature = "postgres")]
            Pool::Postgres(p) => Exec::PostgresPool(p),
            #[cfg(feature = "mysql")]
            Pool::MySql(p) => Exec::MySqlPool(p),
        }
    }

    /// Runs a statement; returns the rows it affected.
    pub async fn execute(&self, sql: &(impl Statement + ?Sized), args: &[Arg<'_>]) -> Result<u64> {
        let text = checked(sql, self.dialect(), args, self.renames.as_deref())?;
        self.exec().execute(&text, args).await
    }

    /// Every row of a query.
    pub async fn fetch_all(
        &self,
        sql: &(impl Statement + ?Sized),
        args: &[Arg<'_>],
    ) -> Result<Vec<Row>> {
        let text = checked(sql, self.dialect(), args, self.renames.as_deref())?;
        self.exec().fetch_all(&text, args).await
    }

    /// The first row of a query, if any.
    pub async fn fetch_optional(
        &self,
        sql: &(impl Statement + ?Sized),
        args: &[Arg<'_>],
    ) -> Result<Option<Row>> {
        let text = checked(sql, self.dialect(), args, self.renames.as_deref())?;
        self.exec().fetch_optional(&text, args).await
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
        let text = checked(sql, self.dialect(), args, self.renames.as_deref())?;
        match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(p) => {
                let mut rows = super::sqlite::bind(text.query(), args).fetch(p);
                while let Some(r) = rows.try_next().await? {
                    if !each(Row::Sqlite(r))? {
                        break;
                    }
                }
            }
            #[cfg(feature = "postgres")]
            Pool::Postgres(p) => {
                let mut rows = super::postgres::bind(text.query(), args).fetch(p);
                while let Some(r) = rows.try_next().await? {
                    if !each(Row::Postgres(r))? {
                        break;
                    }
                }
            }
            #[cfg(feature = "mysql")]
            Pool::MySql(p) => {
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
        let inner = match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(p) => TxInner::Sqlite(p.begin().await?),
            #[cfg(feature = "postgres")]
            Pool::Postgres(p) => TxInner::Postgres(p.begin().await?),
            #[cfg(feature = "mysql")]
            Pool::MySql(p) => TxInner::MySql(p.begin().await?),
        };
        Ok(self.tx(inner))
    }

    /// Begins a transaction that is going to write after reading: on SQLite it takes the write
    /// lock first (`BEGIN IMMEDIATE`), so two such transactions queue instead of deadlocking on
    /// the upgrade from read to write; on MariaDB it runs at `READ COMMITTED`, so a read after a
    /// lock wait sees what the lock was waiting for (see `versions.rs`). Elsewhere it is
    /// [`Db::begin`]. Other transactions keep InnoDB's `REPEATABLE READ`, whose gap locks the
    /// look-alike check relies on.
    pub async fn begin_write(&self) -> Result<Tx> {
        match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(p) => Ok(self.tx(TxInner::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?))),
            #[cfg(feature = "mysql")]
            Pool::MySql(p) => {
                let mut conn = p.acquire().await?;
                // Applies to the next transaction on this connection only.
                sqlx::query("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
                    .execute(&mut *conn)
                    .await?;
                Ok(self.tx(TxInner::MySql(sqlx::Transaction::begin(conn, None).await?)))
            }
            #[allow(unreachable_patterns)]
            _ => self.begin().await,
        }
    }

    /// Runs SQL text without arguments (several statements allowed); returns the rows affected.
    pub async fn execute_raw(&self, sql: &str) -> Result<u64> {
        Ok(match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await?.rows_affected(),
            #[cfg(feature = "postgres")]
            Pool::Postgres(p) => sqlx::raw_sql(sql).execute(p).await?.rows_affected(),
            #[cfg(feature = "mysql")]
            Pool::MySql(p) => sqlx::raw_sql(sql).execute(p).await?.rows_affected(),
        })
    }

    /// Prepares a statement without running it (checks that the database accepts it).
    pub async fn prepare(&self, sql: &(impl Statement + ?Sized)) -> Result<()> {
        use sqlx::Executor as _;
        let text = checked_text(sql, self.dialect(), self.renames.as_deref())?;
        let text = text.as_ref();
        match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(p) => drop(p.prepare(text).await?),
            #[cfg(feature = "postgres")]
            Pool::Postgres(p) => drop(p.prepare(text).await?),
            #[cfg(feature = "mysql")]
            Pool::MySql(p) => drop(p.prepare(text).await?),
        }
        Ok(())
    }

    fn tx(&self, inner: TxInner) -> Tx {
        Tx {
            inner,
            renames: self.renames.clone(),
        }
    }

    /// Closes the pool.
    pub async fn close(&self) {
        match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(p) => p.close().await,
            #[cfg(feature = "postgres")]
            Pool::Postgres(p) => p.close().await,
            #[cfg(feature = "mysql")]
            Pool::MySql(p) => p.close().await,
        }
    }
}

impl Tx {
    /// The database kind.
    pub fn dialect(&self) -> Dialect {
        match &self.inner {
            #[cfg(feature = "sqlite")]
            TxInner::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            TxInner::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "mysql")]
            TxInner::MySql(_) => Dialect::MySql,
        }
    }

    fn exec(&mut self) -> Exec<'_> {
        match &mut self.inner {
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
        let text = checked(sql, self.dialect(), args, self.renames.as_deref())?;
        self.exec().execute(&text, args).await
    }

    /// Every row of a query.
    pub async fn fetch_all(
        &mut self,
        sql: &(impl Statement + ?Sized),
        args: &[Arg<'_>],
    ) -> Result<Vec<Row>> {
        let text = checked(sql, self.dialect(), args, self.renames.as_deref())?;
        self.exec().fetch_all(&text, args).await
    }

    /// The first row of a query, if any.
    pub async fn fetch_optional(
        &mut self,
        sql: &(impl Statement + ?Sized),
        args: &[Arg<'_>],
    ) -> Result<Option<Row>> {
        let text = checked(sql, self.dialect(), args, self.renames.as_deref())?;
        self.exec().fetch_optional(&text, args).await
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
            text: rewritten(sql, None, self.renames.as_deref())?,
            persistent: false,
        };
        self.exec().execute(&text, &[]).await
    }

    /// `name` (one of Django's default user tables) as this database names it.
    pub(crate) fn table_name<'n>(&self, name: &'n str) -> Cow<'n, str> {
        renamed_table(self.renames.as_deref(), name)
    }

    /// Runs the next statements with `renames` instead (statements on another app's tables in
    /// the same transaction); returns the ones it replaced, to put back.
    pub(crate) fn swap_renames(&mut self, renames: Option<Arc<Renames>>) -> Option<Arc<Renames>> {
        let renames = renames.filter(|r| !r.is_identity());
        std::mem::replace(&mut self.renames, renames)
    }

    /// Commits.
    pub async fn commit(self) -> Result<()> {
        match self.inner {
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

/// The statement's text for `dialect` (with the user model's names), once its argument count
/// is checked.
fn checked<'s>(
    sql: &'s (impl Statement + ?Sized),
    dialect: Dialect,
    args: &[Arg<'_>],
    renames: Option<&Renames>,
) -> Result<Text<'s>> {
    let text = checked_text(sql, dialect, renames)?;
    if args.len() != sql.binds() {
        return Err(Error::Statement(format!(
            "a statement that takes {} arguments was given {}: {}",
            sql.binds(),
            args.len(),
            text.as_ref()
        )));
    }
    Ok(Text {
        text,
        persistent: sql.persistent(),
    })
}

/// The statement's text for `dialect`, with the user model's names.
fn checked_text<'s>(
    sql: &'s (impl Statement + ?Sized),
    dialect: Dialect,
    renames: Option<&Renames>,
) -> Result<SqlStr<'s>> {
    let text = sql.text(dialect).ok_or_else(|| wrong_dialect(dialect))?;
    rewritten(text, sql.static_text(dialect), renames)
}

/// `text` with the user model's names; the rewrite of a static text is kept.
fn rewritten<'s>(
    text: &'s str,
    static_text: Option<&'static str>,
    renames: Option<&Renames>,
) -> Result<SqlStr<'s>> {
    Ok(match (renames, static_text) {
        (None, _) => SqlStr::Borrowed(text),
        (Some(r), Some(st)) => SqlStr::Shared(r.static_text(st)?),
        (Some(r), None) => SqlStr::Owned(r.rewrite(text)?),
    })
}

fn renamed_table<'n>(renames: Option<&Renames>, name: &'n str) -> Cow<'n, str> {
    match renames {
        Some(r) => Cow::Owned(r.rewrite(name).unwrap_or_else(|_| name.to_owned())),
        None => Cow::Borrowed(name),
    }
}

/// A statement's text as written, or rewritten.
enum SqlStr<'s> {
    Borrowed(&'s str),
    Shared(Arc<str>),
    Owned(String),
}

impl AsRef<str> for SqlStr<'_> {
    fn as_ref(&self) -> &str {
        match self {
            Self::Borrowed(s) => s,
            Self::Shared(s) => s,
            Self::Owned(s) => s,
        }
    }
}

/// A statement's text for the open database, and whether to keep it prepared.
struct Text<'s> {
    text: SqlStr<'s>,
    persistent: bool,
}

impl Text<'_> {
    fn query<'q, DB: sqlx::Database + sqlx::database::HasStatementCache>(
        &'q self,
    ) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>> {
        sqlx::query(self.text.as_ref()).persistent(self.persistent)
    }
}

fn wrong_dialect(dialect: Dialect) -> Error {
    Error::Statement(format!(
        "a statement written for another database was run on {dialect:?}"
    ))
}

impl Exec<'_> {
    async fn execute(self, text: &Text<'_>, args: &[Arg<'_>]) -> Result<u64> {
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

    async fn fetch_all(self, text: &Text<'_>, args: &[Arg<'_>]) -> Result<Vec<Row>> {
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

    async fn fetch_optional(self, text: &Text<'_>, args: &[Arg<'_>]) -> Result<Option<Row>> {
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
