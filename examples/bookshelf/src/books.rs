//! Books: the `Book` model, its queries, and race-free borrowing and returning.

use castellan_core::UserId;
use serde::Serialize;

use castellan_store::sql::{Row, Sql, SqlText};
use castellan_store::Result;

use crate::db::Db;

/// A book (`bookshelf_book`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Book {
    /// Primary key.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Author's name.
    pub author: String,
    /// ISBN (unique).
    pub isbn: String,
    /// Year of publication, if known.
    pub publication_year: Option<i64>,
    /// Copies the library owns (the stock).
    pub copies_total: i64,
    /// Copies on the shelf now (0 ..= `copies_total`).
    pub copies_available: i64,
    /// Visible to everyone.
    pub is_published: bool,
    /// Archived.
    pub is_archived: bool,
    /// Featured on the home page.
    pub is_featured: bool,
    /// Premium content.
    pub is_premium: bool,
}

/// The fields a book form edits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BookFields {
    /// Title (1–200 characters).
    pub title: String,
    /// Author (1–100 characters).
    pub author: String,
    /// ISBN: 10 or 13 digits (the last of an ISBN-10 may be `X`).
    pub isbn: String,
    /// Year, if given.
    pub publication_year: Option<i64>,
    /// Stock (0–10 000).
    pub copies_total: i64,
}

/// The boolean flags that the custom permissions toggle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// `is_published` (`change_book` + `can_publish_book`).
    Published,
    /// `is_archived` (`can_archive_book`).
    Archived,
    /// `is_featured` (`can_feature_book`).
    Featured,
    /// `is_premium` (`can_set_premium`).
    Premium,
}

impl Flag {
    fn column(self) -> &'static str {
        match self {
            Self::Published => "is_published",
            Self::Archived => "is_archived",
            Self::Featured => "is_featured",
            Self::Premium => "is_premium",
        }
    }
}

/// The outcome of a borrow or a return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lending {
    /// Done.
    Done,
    /// No copy on the shelf (borrow) / every copy is on the shelf (return).
    Refused,
    /// The user has no open borrow of this book (return only).
    NotBorrowed,
    /// No such book.
    NoBook,
}

/// The outcome of [`Db::set_book`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// Written.
    Done,
    /// Another book has this ISBN; nothing was written.
    IsbnTaken,
    /// No such book, or the copies would not cover the open borrows; nothing was written.
    Refused,
}

/// An open or closed borrow, for the inventory page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Borrow {
    /// Primary key.
    pub id: i64,
    /// The book.
    pub book_id: i64,
    /// The book's title.
    pub title: String,
    /// Who borrowed it.
    pub username: String,
    /// When (UTC).
    pub borrowed_at: String,
    /// When it came back, if it did.
    pub returned_at: Option<String>,
}

impl BookFields {
    /// Django-style form validation: every problem as (field, message); empty when valid.
    pub fn validate(&self) -> Vec<(&'static str, String)> {
        let mut errors = Vec::new();
        let mut text = |field, value: &str, max: usize| {
            if value.trim().is_empty() {
                errors.push((field, "This field is required.".to_owned()));
            } else if value.chars().count() > max {
                errors.push((
                    field,
                    format!("Ensure this value has at most {max} characters."),
                ));
            }
        };
        text("title", &self.title, 200);
        text("author", &self.author, 100);
        let isbn_ok = match self.isbn.len() {
            13 => self.isbn.bytes().all(|b| b.is_ascii_digit()),
            10 => self
                .isbn
                .bytes()
                .enumerate()
                .all(|(i, b)| b.is_ascii_digit() || (i == 9 && b == b'X')),
            _ => false,
        };
        if !isbn_ok {
            errors.push((
                "isbn",
                "Enter an ISBN of 10 or 13 digits (no dashes).".to_owned(),
            ));
        }
        if let Some(y) = self.publication_year {
            if !(0..=2100).contains(&y) {
                errors.push((
                    "publication_year",
                    "Enter a year between 0 and 2100.".to_owned(),
                ));
            }
        }
        if !(0..=10_000).contains(&self.copies_total) {
            errors.push((
                "copies_total",
                "Enter a number of copies between 0 and 10000.".to_owned(),
            ));
        }
        errors
    }
}

/// The columns of a book row, as [`book_from_row`] reads them (a literal for `concat!`).
macro_rules! book_columns {
    () => {
        "id, title, author, isbn, publication_year, copies_total, copies_available, is_published, is_archived, is_featured, is_premium"
    };
}
pub(crate) use book_columns;

/// A book from a row selected with [`book_columns!`].
pub(crate) fn book_from_row(r: &Row) -> Result<Book> {
    Ok(Book {
        id: r.int("id")?,
        title: r.text("title")?,
        author: r.text("author")?,
        isbn: r.text("isbn")?,
        publication_year: r.opt_int("publication_year")?,
        copies_total: r.int("copies_total")?,
        copies_available: r.int("copies_available")?,
        is_published: r.flag("is_published")?,
        is_archived: r.flag("is_archived")?,
        is_featured: r.flag("is_featured")?,
        is_premium: r.flag("is_premium")?,
    })
}

const ALL_BOOKS: Sql = castellan_store::sql!(concat!(
    "SELECT ",
    book_columns!(),
    " FROM bookshelf_book ORDER BY title, id"
));
const PUBLIC_BOOKS: Sql = castellan_store::sql!(concat!(
    "SELECT ",
    book_columns!(),
    " FROM bookshelf_book WHERE is_published = $1 AND is_archived = $2 ORDER BY title, id"
));
const BOOK: Sql = castellan_store::sql!(concat!(
    "SELECT ",
    book_columns!(),
    " FROM bookshelf_book WHERE id = $1"
));
const ISBN_TAKEN: Sql =
    castellan_store::sql!("SELECT id FROM bookshelf_book WHERE isbn = $1 AND id <> $2");
const INSERT_BOOK: Sql = castellan_store::sql!(
    "INSERT INTO bookshelf_book (title, author, isbn, publication_year, copies_total, copies_available, \
     is_published, is_archived, is_featured, is_premium) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
);
const BOOK_BY_ISBN: Sql = castellan_store::sql!("SELECT id FROM bookshelf_book WHERE isbn = $1");
/// One conditional UPDATE: the lent-out count (total - available) is read and kept atomically.
const UPDATE_BOOK: Sql = castellan_store::sql!(
    "UPDATE bookshelf_book SET title = $1, author = $2, isbn = $3, publication_year = $4, \
     copies_available = copies_available + ($5 - copies_total), copies_total = $6 \
     WHERE id = $7 AND copies_total - copies_available <= $8"
);
const SET_BOOK: Sql = castellan_store::sql!(
    "UPDATE bookshelf_book SET title = $1, author = $2, isbn = $3, publication_year = $4, \
     copies_total = $5, copies_available = $6 \
     WHERE id = $7 AND $8 >= 0 AND $9 <= $10 AND $11 - $12 >= \
     (SELECT COUNT(*) FROM bookshelf_borrow WHERE book_id = $13 AND returned_at IS NULL)"
);
const SET_STOCK: Sql = castellan_store::sql!(
    "UPDATE bookshelf_book SET copies_available = copies_available + ($1 - copies_total), \
     copies_total = $2 WHERE id = $3 AND copies_total - copies_available <= $4"
);
const LENT_OUT: Sql = castellan_store::sql!(
    "SELECT COUNT(*) AS n FROM bookshelf_borrow WHERE book_id = $1 AND returned_at IS NULL"
);
const DELETE_BORROWS: Sql =
    castellan_store::sql!("DELETE FROM bookshelf_borrow WHERE book_id = $1");
const DELETE_BOOK: Sql = castellan_store::sql!("DELETE FROM bookshelf_book WHERE id = $1");
const TAKE_COPY: Sql = castellan_store::sql!(
    "UPDATE bookshelf_book SET copies_available = copies_available - 1 \
     WHERE id = $1 AND copies_available > 0"
);
const RECORD_BORROW: Sql = castellan_store::sql!(
    "INSERT INTO bookshelf_borrow (book_id, user_id, borrowed_at, returned_at) VALUES ($1, $2, $3, NULL)"
);
/// The derived table lets MariaDB read the table it updates; each engine re-checks
/// `returned_at IS NULL` on the locked row, so two concurrent returns close one borrow once.
const CLOSE_BORROW: Sql = castellan_store::sql!(
    "UPDATE bookshelf_borrow SET returned_at = $1 WHERE returned_at IS NULL AND id = \
     (SELECT id FROM (SELECT MIN(id) AS id FROM bookshelf_borrow \
      WHERE book_id = $2 AND user_id = $3 AND returned_at IS NULL) AS oldest)"
);
const PUT_BACK: Sql = castellan_store::sql!(
    "UPDATE bookshelf_book SET copies_available = copies_available + 1 \
     WHERE id = $1 AND copies_available < copies_total"
);
const OPEN_BORROWS: Sql = castellan_store::sql!(
    "SELECT COUNT(*) AS n FROM bookshelf_borrow WHERE book_id = $1 AND user_id = $2 AND returned_at IS NULL"
);

/// Now, as stored in the application's timestamp columns (UTC).
fn now_text() -> String {
    castellan_store::sql::ts_to_text(chrono::Utc::now())
}

impl Db {
    /// Books ordered by title: all of them, or only the published, unarchived ones.
    pub async fn books(&self, include_drafts: bool) -> Result<Vec<Book>> {
        let rows = if include_drafts {
            self.sql().fetch_all(&ALL_BOOKS, &[]).await?
        } else {
            self.sql()
                .fetch_all(&PUBLIC_BOOKS, &[true.into(), false.into()])
                .await?
        };
        rows.iter().map(book_from_row).collect()
    }

    /// One book.
    pub async fn book(&self, id: i64) -> Result<Option<Book>> {
        self.sql()
            .fetch_optional(&BOOK, &[id.into()])
            .await?
            .map(|r| book_from_row(&r))
            .transpose()
    }

    /// Whether another book (not `except`) has this ISBN.
    pub async fn isbn_taken(&self, isbn: &str, except: Option<i64>) -> Result<bool> {
        let args = [isbn.into(), except.unwrap_or(-1).into()];
        Ok(self
            .sql()
            .fetch_optional(&ISBN_TAKEN, &args)
            .await?
            .is_some())
    }

    /// Creates a book (unpublished, all copies on the shelf) and returns its id. `Ok(None)` when the
    /// ISBN is taken (a unique violation is reported, not raised).
    pub async fn create_book(&self, f: &BookFields) -> Result<Option<i64>> {
        self.insert_book(f, f.copies_total).await
    }

    /// Creates an unpublished book with `copies_available` of its copies on the shelf (the caller
    /// validated `0 <= copies_available <= copies_total`; the table's CHECK refuses anything else).
    /// `Ok(None)` when the ISBN is taken.
    pub async fn insert_book(&self, f: &BookFields, copies_available: i64) -> Result<Option<i64>> {
        let mut tx = self.sql().begin().await?;
        let args = [
            f.title.trim().into(),
            f.author.trim().into(),
            f.isbn.as_str().into(),
            f.publication_year.into(),
            f.copies_total.into(),
            copies_available.into(),
            false.into(),
            false.into(),
            false.into(),
            false.into(),
        ];
        match tx.execute(&INSERT_BOOK, &args).await {
            Ok(_) => {
                let row = tx
                    .fetch_one(&BOOK_BY_ISBN, &[f.isbn.as_str().into()])
                    .await?;
                let id = row.int("id")?;
                tx.commit().await?;
                Ok(Some(id))
            }
            Err(e) if e.is_unique_violation() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Updates a book's fields. Changing the stock moves the copies on the shelf by the same amount;
    /// a stock below the copies lent out is refused (`Ok(false)`), as is a taken ISBN.
    pub async fn update_book(&self, id: i64, f: &BookFields) -> Result<bool> {
        let args = [
            f.title.trim().into(),
            f.author.trim().into(),
            f.isbn.as_str().into(),
            f.publication_year.into(),
            f.copies_total.into(),
            f.copies_total.into(),
            id.into(),
            f.copies_total.into(),
        ];
        match self.sql().execute(&UPDATE_BOOK, &args).await {
            Ok(n) => Ok(n == 1),
            Err(e) if e.is_unique_violation() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Sets a book's fields and its copies on the shelf (the admin's form, which edits both). One
    /// conditional UPDATE: refused ([`Saved::Refused`]) when the book is gone or when the copies
    /// not on the shelf (`copies_total - copies_available`) would be fewer than the copies members
    /// have borrowed and not returned; the table's CHECK keeps `0 <= copies_available <= copies_total`.
    pub async fn set_book(&self, id: i64, f: &BookFields, copies_available: i64) -> Result<Saved> {
        let args = [
            f.title.trim().into(),
            f.author.trim().into(),
            f.isbn.as_str().into(),
            f.publication_year.into(),
            f.copies_total.into(),
            copies_available.into(),
            id.into(),
            copies_available.into(),
            copies_available.into(),
            f.copies_total.into(),
            f.copies_total.into(),
            copies_available.into(),
            id.into(),
        ];
        match self.sql().execute(&SET_BOOK, &args).await {
            Ok(1) => Ok(Saved::Done),
            Ok(_) => Ok(Saved::Refused),
            Err(e) if e.is_unique_violation() => Ok(Saved::IsbnTaken),
            Err(e) => Err(e),
        }
    }

    /// Sets a book's stock; the copies on the shelf move by the same amount. One conditional
    /// UPDATE, so a borrow or return running at the same time is never lost: refused (`Ok(false)`)
    /// when the book is gone or the new stock is below the copies lent out.
    pub async fn set_stock(&self, id: i64, copies_total: i64) -> Result<bool> {
        let args = [
            copies_total.into(),
            copies_total.into(),
            id.into(),
            copies_total.into(),
        ];
        Ok(self.sql().execute(&SET_STOCK, &args).await? == 1)
    }

    /// How many copies of the book are borrowed and not returned, by anyone.
    pub async fn lent_out(&self, book_id: i64) -> Result<i64> {
        self.sql()
            .fetch_one(&LENT_OUT, &[book_id.into()])
            .await?
            .int("n")
    }

    /// Deletes a book (and its borrow records). Whether it existed.
    pub async fn delete_book(&self, id: i64) -> Result<bool> {
        let mut tx = self.sql().begin().await?;
        tx.execute(&DELETE_BORROWS, &[id.into()]).await?;
        let n = tx.execute(&DELETE_BOOK, &[id.into()]).await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Deletes several books (with their loans) in one transaction: all of them, or none when one
    /// is missing (`false`).
    pub async fn delete_books(&self, ids: &[i64]) -> Result<bool> {
        let mut tx = self.sql().begin().await?;
        for id in ids {
            tx.execute(&DELETE_BORROWS, &[(*id).into()]).await?;
            if tx.execute(&DELETE_BOOK, &[(*id).into()]).await? != 1 {
                return Ok(false);
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Flips one flag; returns the new value (`None`: no such book).
    pub async fn toggle_book(&self, id: i64, flag: Flag) -> Result<Option<bool>> {
        let col = flag.column();
        let d = self.dialect();
        let mut update = SqlText::new(d);
        update
            .push(&format!(
                "UPDATE bookshelf_book SET {col} = NOT {col} WHERE id = "
            ))
            .param();
        let mut select = SqlText::new(d);
        select
            .push(&format!("SELECT {col} FROM bookshelf_book WHERE id = "))
            .param();
        let mut tx = self.sql().begin().await?;
        let value = if tx.execute(&update, &[id.into()]).await? == 1 {
            Some(tx.fetch_one(&select, &[id.into()]).await?.flag(col)?)
        } else {
            None
        };
        tx.commit().await?;
        Ok(value)
    }

    /// Lends one copy to `user_id`: one conditional UPDATE (never below 0, whatever runs
    /// concurrently) and the borrow record, in one transaction.
    pub async fn borrow_book(&self, book_id: i64, user_id: UserId) -> Result<Lending> {
        // The write comes first: on SQLite the transaction takes the write lock at once.
        let mut tx = self.sql().begin().await?;
        let taken = tx.execute(&TAKE_COPY, &[book_id.into()]).await? == 1;
        if taken {
            let now = now_text();
            tx.execute(
                &RECORD_BORROW,
                &[book_id.into(), user_id.into(), now.as_str().into()],
            )
            .await?;
            tx.commit().await?;
            return Ok(Lending::Done);
        }
        drop(tx);
        Ok(match self.book(book_id).await? {
            Some(_) => Lending::Refused,
            None => Lending::NoBook,
        })
    }

    /// Takes back one copy from `user_id`: closes the user's oldest open borrow of the book and puts
    /// the copy back (never above the stock), in one transaction; nothing changes otherwise.
    pub async fn return_book(&self, book_id: i64, user_id: UserId) -> Result<Lending> {
        let mut tx = self.sql().begin().await?;
        let now = now_text();
        let closed = tx
            .execute(
                &CLOSE_BORROW,
                &[now.as_str().into(), book_id.into(), user_id.into()],
            )
            .await?;
        if closed == 1 {
            if tx.execute(&PUT_BACK, &[book_id.into()]).await? == 1 {
                tx.commit().await?;
                return Ok(Lending::Done);
            }
            return Ok(Lending::Refused);
        }
        drop(tx);
        Ok(match self.book(book_id).await? {
            Some(_) => Lending::NotBorrowed,
            None => Lending::NoBook,
        })
    }

    /// How many copies of the book `user_id` has borrowed and not returned.
    pub async fn open_borrows(&self, book_id: i64, user_id: UserId) -> Result<i64> {
        self.sql()
            .fetch_one(&OPEN_BORROWS, &[book_id.into(), user_id.into()])
            .await?
            .int("n")
    }

    /// Every borrow record, newest first (for the inventory page).
    pub async fn borrows(&self) -> Result<Vec<Borrow>> {
        self.sql()
            .fetch_all(&self.statements().borrows, &[])
            .await?
            .iter()
            .map(|r| {
                Ok(Borrow {
                    id: r.int("id")?,
                    book_id: r.int("book_id")?,
                    title: r.text("title")?,
                    username: r.text("borrower")?,
                    borrowed_at: r.text("borrowed_at")?,
                    returned_at: r.opt_text("returned_at")?,
                })
            })
            .collect()
    }
}
