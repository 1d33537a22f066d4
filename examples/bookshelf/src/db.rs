//! The application's own database access: one sqlx pool of the database's kind (the same database
//! as Castellan's auth tables), the three dialects' DDL for the Bookshelf tables, and typed column
//! reading that tolerates each database's integer widths and boolean encodings.

use std::str::FromStr;
use std::time::Duration;

use castellan_store::Dialect;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions, MySqlRow};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
};
use sqlx::Row;

/// An open pool on the application's database.
#[derive(Debug, Clone)]
pub enum Db {
    /// SQLite.
    Sqlite(SqlitePool),
    /// PostgreSQL.
    Postgres(PgPool),
    /// MariaDB or MySQL.
    MySql(MySqlPool),
}

/// Runs `$body` with `$p` bound to the open pool, whatever its kind.
macro_rules! on_db {
    ($db:expr, $p:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($p) => $body,
            $crate::db::Db::Postgres($p) => $body,
            $crate::db::Db::MySql($p) => $body,
        }
    };
}
pub(crate) use on_db;

const SQLITE_DDL: &[&str] = &[
    r#"CREATE TABLE IF NOT EXISTS "bookshelf_book" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "title" varchar(200) NOT NULL, "author" varchar(100) NOT NULL, "isbn" varchar(13) NOT NULL UNIQUE, "publication_year" integer NULL, "copies_total" integer NOT NULL, "copies_available" integer NOT NULL, "is_published" bool NOT NULL, "is_archived" bool NOT NULL, "is_featured" bool NOT NULL, "is_premium" bool NOT NULL, CHECK ("copies_available" >= 0 AND "copies_available" <= "copies_total"))"#,
    r#"CREATE TABLE IF NOT EXISTS "bookshelf_article" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "title" varchar(200) NOT NULL, "content" text NOT NULL, "author_id" integer NOT NULL REFERENCES "auth_user" ("id") ON DELETE CASCADE, "status" varchar(20) NOT NULL, "is_featured" bool NOT NULL, "approved_by_id" integer NULL REFERENCES "auth_user" ("id") ON DELETE SET NULL)"#,
    r#"CREATE TABLE IF NOT EXISTS "bookshelf_borrow" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "book_id" integer NOT NULL REFERENCES "bookshelf_book" ("id") ON DELETE CASCADE, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") ON DELETE CASCADE, "borrowed_at" varchar(32) NOT NULL, "returned_at" varchar(32) NULL)"#,
    r#"CREATE INDEX IF NOT EXISTS "bookshelf_borrow_user_book" ON "bookshelf_borrow" ("user_id", "book_id")"#,
];

const POSTGRES_DDL: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS bookshelf_book (id bigserial PRIMARY KEY, title varchar(200) NOT NULL, author varchar(100) NOT NULL, isbn varchar(13) NOT NULL UNIQUE, publication_year integer NULL, copies_total integer NOT NULL, copies_available integer NOT NULL, is_published boolean NOT NULL, is_archived boolean NOT NULL, is_featured boolean NOT NULL, is_premium boolean NOT NULL, CHECK (copies_available >= 0 AND copies_available <= copies_total))",
    "CREATE TABLE IF NOT EXISTS bookshelf_article (id bigserial PRIMARY KEY, title varchar(200) NOT NULL, content text NOT NULL, author_id integer NOT NULL REFERENCES auth_user (id) ON DELETE CASCADE, status varchar(20) NOT NULL, is_featured boolean NOT NULL, approved_by_id integer NULL REFERENCES auth_user (id) ON DELETE SET NULL)",
    "CREATE TABLE IF NOT EXISTS bookshelf_borrow (id bigserial PRIMARY KEY, book_id bigint NOT NULL REFERENCES bookshelf_book (id) ON DELETE CASCADE, user_id integer NOT NULL REFERENCES auth_user (id) ON DELETE CASCADE, borrowed_at varchar(32) NOT NULL, returned_at varchar(32) NULL)",
    "CREATE INDEX IF NOT EXISTS bookshelf_borrow_user_book ON bookshelf_borrow (user_id, book_id)",
];

const MYSQL_DDL: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS `bookshelf_book` (`id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, `title` varchar(200) NOT NULL, `author` varchar(100) NOT NULL, `isbn` varchar(13) NOT NULL UNIQUE, `publication_year` integer NULL, `copies_total` integer NOT NULL, `copies_available` integer NOT NULL, `is_published` bool NOT NULL, `is_archived` bool NOT NULL, `is_featured` bool NOT NULL, `is_premium` bool NOT NULL, CHECK (`copies_available` >= 0 AND `copies_available` <= `copies_total`)) ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS `bookshelf_article` (`id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, `title` varchar(200) NOT NULL, `content` longtext NOT NULL, `author_id` int(11) NOT NULL, `status` varchar(20) NOT NULL, `is_featured` bool NOT NULL, `approved_by_id` int(11) NULL, CONSTRAINT `bookshelf_article_author_fk` FOREIGN KEY (`author_id`) REFERENCES `auth_user` (`id`) ON DELETE CASCADE, CONSTRAINT `bookshelf_article_approved_by_fk` FOREIGN KEY (`approved_by_id`) REFERENCES `auth_user` (`id`) ON DELETE SET NULL) ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS `bookshelf_borrow` (`id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, `book_id` bigint NOT NULL, `user_id` int(11) NOT NULL, `borrowed_at` varchar(32) NOT NULL, `returned_at` varchar(32) NULL, INDEX `bookshelf_borrow_user_book` (`user_id`, `book_id`), CONSTRAINT `bookshelf_borrow_book_fk` FOREIGN KEY (`book_id`) REFERENCES `bookshelf_book` (`id`) ON DELETE CASCADE, CONSTRAINT `bookshelf_borrow_user_fk` FOREIGN KEY (`user_id`) REFERENCES `auth_user` (`id`) ON DELETE CASCADE) ENGINE=InnoDB",
];

impl Db {
    /// Opens a pool on `url` (`sqlite://PATH`, `postgres://…`, `mysql://…` or `mariadb://…`).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, sqlx::Error> {
        let acquire = Duration::from_secs(10);
        if url.starts_with("sqlite:") {
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            let mut opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30));
            if !in_memory {
                // Readers do not block the writer; concurrent writers wait their turn.
                opts = opts.journal_mode(SqliteJournalMode::Wal);
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(if in_memory { 1 } else { max_connections })
                .acquire_timeout(acquire)
                .connect_with(opts)
                .await?;
            Ok(Self::Sqlite(pool))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(acquire)
                .connect_with(PgConnectOptions::from_str(url)?)
                .await?;
            Ok(Self::Postgres(pool))
        } else if url.starts_with("mysql:") || url.starts_with("mariadb:") {
            let url = url.replacen("mariadb:", "mysql:", 1);
            let pool = MySqlPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(acquire)
                .connect_with(MySqlConnectOptions::from_str(&url)?.charset("utf8mb4"))
                .await?;
            Ok(Self::MySql(pool))
        } else {
            Err(sqlx::Error::Configuration(
                format!(
                    "unsupported database URL {url:?}: use sqlite://PATH, postgres://… or mysql://…"
                )
                .into(),
            ))
        }
    }

    /// The database kind.
    pub fn dialect(&self) -> Dialect {
        match self {
            Self::Sqlite(_) => Dialect::Sqlite,
            Self::Postgres(_) => Dialect::Postgres,
            Self::MySql(_) => Dialect::MySql,
        }
    }

    /// `sql` with `?` placeholders rewritten for this database.
    pub(crate) fn sql(&self, sql: &str) -> String {
        self.dialect().sql(sql).into_owned()
    }

    /// Creates the Bookshelf tables when they are missing (the auth tables must exist: the articles
    /// and borrows reference `auth_user`). Safe to run at every start.
    pub async fn migrate(&self) -> Result<(), sqlx::Error> {
        let ddl = match self {
            Self::Sqlite(_) => SQLITE_DDL,
            Self::Postgres(_) => POSTGRES_DDL,
            Self::MySql(_) => MYSQL_DDL,
        };
        for statement in ddl {
            on_db!(self, p => {
                sqlx::query(statement).execute(p).await?;
            });
        }
        Ok(())
    }

    /// Closes the pool.
    pub async fn close(&self) {
        on_db!(self, p => p.close().await)
    }
}

/// Column access that works on every database (PostgreSQL `integer` is 32-bit; SQLite and MariaDB
/// booleans are integers).
pub(crate) trait Col {
    fn int(&self, col: &str) -> Result<i64, sqlx::Error>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>, sqlx::Error>;
    fn text(&self, col: &str) -> Result<String, sqlx::Error>;
    fn opt_text(&self, col: &str) -> Result<Option<String>, sqlx::Error>;
    fn flag(&self, col: &str) -> Result<bool, sqlx::Error>;
}

macro_rules! col {
    ($row:ty) => {
        impl Col for $row {
            fn int(&self, col: &str) -> Result<i64, sqlx::Error> {
                match self.try_get::<i64, _>(col) {
                    Ok(v) => Ok(v),
                    Err(_) => Ok(i64::from(self.try_get::<i32, _>(col)?)),
                }
            }
            fn opt_int(&self, col: &str) -> Result<Option<i64>, sqlx::Error> {
                match self.try_get::<Option<i64>, _>(col) {
                    Ok(v) => Ok(v),
                    Err(_) => Ok(self.try_get::<Option<i32>, _>(col)?.map(i64::from)),
                }
            }
            fn text(&self, col: &str) -> Result<String, sqlx::Error> {
                self.try_get::<String, _>(col)
            }
            fn opt_text(&self, col: &str) -> Result<Option<String>, sqlx::Error> {
                self.try_get::<Option<String>, _>(col)
            }
            fn flag(&self, col: &str) -> Result<bool, sqlx::Error> {
                match self.try_get::<bool, _>(col) {
                    Ok(v) => Ok(v),
                    Err(_) => Ok(self.int(col)? != 0),
                }
            }
        }
    };
}

col!(SqliteRow);
col!(PgRow);
col!(MySqlRow);

/// Now, as stored in the application's timestamp columns (UTC).
pub(crate) fn now_text() -> String {
    castellan_store::pool::ts_to_text(chrono::Utc::now())
}
