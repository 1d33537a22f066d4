//! The application's own tables, in the same database as Castellan's auth tables and through the
//! same pool ([`castellan_store::Store::db`]): their DDL for each database, and the handle the
//! application's queries run on. Statements are written per database with
//! [`castellan_store::sql`](mod@castellan_store::sql), as Castellan's own are.

use std::sync::Arc;

use castellan_store::sql::{self, Dialect};
use castellan_store::{Result, UserSchema};

use crate::user_sql::{UserNames, UserSql};

/// The application's handle on its tables: the store's pool, and the statements that name the
/// user table, filled for the store's user model.
#[derive(Debug, Clone)]
pub struct Db {
    sql: sql::Db,
    users: UserNames,
    statements: Arc<UserStatements>,
}

/// The statements that name the user table (see [`crate::user_sql`]), filled once.
#[derive(Debug)]
pub(crate) struct UserStatements {
    pub(crate) all_articles: UserSql,
    pub(crate) published_articles: UserSql,
    pub(crate) article: UserSql,
    pub(crate) borrows: UserSql,
    /// The admin's article list: its count, its select, and the columns a search matches.
    pub(crate) article_count: String,
    pub(crate) article_select: String,
    pub(crate) article_search: [String; 2],
}

const SQLITE_DDL: &[&str] = &[
    r#"CREATE TABLE IF NOT EXISTS "bookshelf_book" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "title" varchar(200) NOT NULL, "author" varchar(100) NOT NULL, "isbn" varchar(13) NOT NULL UNIQUE, "publication_year" integer NULL, "copies_total" integer NOT NULL, "copies_available" integer NOT NULL, "is_published" bool NOT NULL, "is_archived" bool NOT NULL, "is_featured" bool NOT NULL, "is_premium" bool NOT NULL, CHECK ("copies_available" >= 0 AND "copies_available" <= "copies_total"))"#,
    r#"CREATE TABLE IF NOT EXISTS "bookshelf_article" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "title" varchar(200) NOT NULL, "content" text NOT NULL, "author_id" {user_fk} NOT NULL REFERENCES "{users}" ("id") ON DELETE CASCADE, "status" varchar(20) NOT NULL, "is_featured" bool NOT NULL, "approved_by_id" {user_fk} NULL REFERENCES "{users}" ("id") ON DELETE SET NULL)"#,
    r#"CREATE TABLE IF NOT EXISTS "bookshelf_borrow" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "book_id" integer NOT NULL REFERENCES "bookshelf_book" ("id") ON DELETE CASCADE, "user_id" {user_fk} NOT NULL REFERENCES "{users}" ("id") ON DELETE CASCADE, "borrowed_at" varchar(32) NOT NULL, "returned_at" varchar(32) NULL)"#,
    r#"CREATE INDEX IF NOT EXISTS "bookshelf_borrow_user_book" ON "bookshelf_borrow" ("user_id", "book_id")"#,
];

const POSTGRES_DDL: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS bookshelf_book (id bigserial PRIMARY KEY, title varchar(200) NOT NULL, author varchar(100) NOT NULL, isbn varchar(13) NOT NULL UNIQUE, publication_year integer NULL, copies_total integer NOT NULL, copies_available integer NOT NULL, is_published boolean NOT NULL, is_archived boolean NOT NULL, is_featured boolean NOT NULL, is_premium boolean NOT NULL, CHECK (copies_available >= 0 AND copies_available <= copies_total))",
    "CREATE TABLE IF NOT EXISTS bookshelf_article (id bigserial PRIMARY KEY, title varchar(200) NOT NULL, content text NOT NULL, author_id {user_fk} NOT NULL REFERENCES {users} (id) ON DELETE CASCADE, status varchar(20) NOT NULL, is_featured boolean NOT NULL, approved_by_id {user_fk} NULL REFERENCES {users} (id) ON DELETE SET NULL)",
    "CREATE TABLE IF NOT EXISTS bookshelf_borrow (id bigserial PRIMARY KEY, book_id bigint NOT NULL REFERENCES bookshelf_book (id) ON DELETE CASCADE, user_id {user_fk} NOT NULL REFERENCES {users} (id) ON DELETE CASCADE, borrowed_at varchar(32) NOT NULL, returned_at varchar(32) NULL)",
    "CREATE INDEX IF NOT EXISTS bookshelf_borrow_user_book ON bookshelf_borrow (user_id, book_id)",
];

const MYSQL_DDL: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS `bookshelf_book` (`id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, `title` varchar(200) NOT NULL, `author` varchar(100) NOT NULL, `isbn` varchar(13) NOT NULL UNIQUE, `publication_year` integer NULL, `copies_total` integer NOT NULL, `copies_available` integer NOT NULL, `is_published` bool NOT NULL, `is_archived` bool NOT NULL, `is_featured` bool NOT NULL, `is_premium` bool NOT NULL, CHECK (`copies_available` >= 0 AND `copies_available` <= `copies_total`)) ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS `bookshelf_article` (`id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, `title` varchar(200) NOT NULL, `content` longtext NOT NULL, `author_id` {user_fk} NOT NULL, `status` varchar(20) NOT NULL, `is_featured` bool NOT NULL, `approved_by_id` {user_fk} NULL, CONSTRAINT `bookshelf_article_author_fk` FOREIGN KEY (`author_id`) REFERENCES `{users}` (`id`) ON DELETE CASCADE, CONSTRAINT `bookshelf_article_approved_by_fk` FOREIGN KEY (`approved_by_id`) REFERENCES `{users}` (`id`) ON DELETE SET NULL) ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS `bookshelf_borrow` (`id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, `book_id` bigint NOT NULL, `user_id` {user_fk} NOT NULL, `borrowed_at` varchar(32) NOT NULL, `returned_at` varchar(32) NULL, INDEX `bookshelf_borrow_user_book` (`user_id`, `book_id`), CONSTRAINT `bookshelf_borrow_book_fk` FOREIGN KEY (`book_id`) REFERENCES `bookshelf_book` (`id`) ON DELETE CASCADE, CONSTRAINT `bookshelf_borrow_user_fk` FOREIGN KEY (`user_id`) REFERENCES `{users}` (`id`) ON DELETE CASCADE) ENGINE=InnoDB",
];

impl Db {
    /// The application's tables on the store's pool (`store.db()`), whose users are the model
    /// `users` describes (`store.user_schema()`).
    pub fn new(db: sql::Db, users: &UserSchema) -> Self {
        let users = UserNames::of(users);
        let statements = Arc::new(crate::articles::user_statements(&users, db.dialect()));
        Self {
            sql: db,
            users,
            statements,
        }
    }

    /// The pool.
    pub(crate) fn sql(&self) -> &sql::Db {
        &self.sql
    }

    /// The statements that name the user table.
    pub(crate) fn statements(&self) -> &UserStatements {
        &self.statements
    }

    /// The database kind.
    pub fn dialect(&self) -> Dialect {
        self.sql.dialect()
    }

    /// Creates the Bookshelf tables when they are missing (the auth tables must exist: the articles
    /// and borrows reference the user table, with its key's type). Safe to run at every start. On SQLite the database is
    /// switched to write-ahead logging: readers no longer block the writer.
    pub async fn migrate(&self) -> Result<()> {
        let ddl = match self.dialect() {
            Dialect::Sqlite => {
                // A property of the file: every connection, of every process, uses it from now on
                // (an in-memory database stays in memory).
                self.sql.execute_raw("PRAGMA journal_mode = WAL").await?;
                SQLITE_DDL
            }
            Dialect::Postgres => POSTGRES_DDL,
            Dialect::MySql => MYSQL_DDL,
        };
        for statement in ddl {
            self.sql.execute_raw(&self.users.fill(statement)).await?;
        }
        Ok(())
    }
}
