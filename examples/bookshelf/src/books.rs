//! Books: the `Book` model, its queries, and race-free borrowing and returning.

use serde::Serialize;

use crate::db::{now_text, on_db, Col, Db};

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

/// The columns of a book row, as [`book_from_row`] reads them.
pub(crate) const BOOK_COLUMNS: &str = "id, title, author, isbn, publication_year, copies_total, copies_available, is_published, is_archived, is_featured, is_premium";

/// A book from a row selected with [`BOOK_COLUMNS`].
pub(crate) fn book_from_row(r: &(impl Col + ?Sized)) -> Result<Book, sqlx::Error> {
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

impl Db {
    /// Books ordered by title: all of them, or only the published, unarchived ones.
    pub async fn books(&self, include_drafts: bool) -> Result<Vec<Book>, sqlx::Error> {
        let filter = if include_drafts {
            ""
        } else {
            " WHERE is_published = ? AND is_archived = ?"
        };
        let sql = self.sql(&format!(
            "SELECT {BOOK_COLUMNS} FROM bookshelf_book{filter} ORDER BY title, id"
        ));
        let books = on_db!(self, p => {
            let mut q = sqlx::query(&sql);
            if !include_drafts {
                q = q.bind(true).bind(false);
            }
            let rows = q.fetch_all(p).await?;
            let mut books = Vec::with_capacity(rows.len());
            for r in &rows {
                books.push(book_from_row(r)?);
            }
            books
        });
        Ok(books)
    }

    /// One book.
    pub async fn book(&self, id: i64) -> Result<Option<Book>, sqlx::Error> {
        let sql = self.sql(&format!(
            "SELECT {BOOK_COLUMNS} FROM bookshelf_book WHERE id = ?"
        ));
        Ok(on_db!(self, p => {
            match sqlx::query(&sql).bind(id).fetch_optional(p).await? {
                Some(r) => Some(book_from_row(&r)?),
                None => None,
            }
        }))
    }

    /// Whether another book (not `except`) has this ISBN.
    pub async fn isbn_taken(&self, isbn: &str, except: Option<i64>) -> Result<bool, sqlx::Error> {
        let sql = self.sql("SELECT id FROM bookshelf_book WHERE isbn = ? AND id <> ?");
        Ok(on_db!(self, p => sqlx::query(&sql)
            .bind(isbn)
            .bind(except.unwrap_or(-1))
            .fetch_optional(p)
            .await?
            .is_some()))
    }

    /// Creates a book (unpublished, all copies on the shelf) and returns its id. `Ok(None)` when the
    /// ISBN is taken (a unique violation is reported, not raised).
    pub async fn create_book(&self, f: &BookFields) -> Result<Option<i64>, sqlx::Error> {
        self.insert_book(f, f.copies_total).await
    }

    /// Creates an unpublished book with `copies_available` of its copies on the shelf (the caller
    /// validated `0 <= copies_available <= copies_total`; the table's CHECK refuses anything else).
    /// `Ok(None)` when the ISBN is taken.
    pub async fn insert_book(
        &self,
        f: &BookFields,
        copies_available: i64,
    ) -> Result<Option<i64>, sqlx::Error> {
        let sql = self.sql(
            "INSERT INTO bookshelf_book (title, author, isbn, publication_year, copies_total, copies_available, is_published, is_archived, is_featured, is_premium) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        );
        let inserted = on_db!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query(&sql)
                .bind(f.title.trim())
                .bind(f.author.trim())
                .bind(&f.isbn)
                .bind(f.publication_year)
                .bind(f.copies_total)
                .bind(copies_available)
                .bind(false)
                .bind(false)
                .bind(false)
                .bind(false)
                .execute(&mut *tx)
                .await;
            match done {
                Ok(_) => {
                    let id_sql = self.sql("SELECT id FROM bookshelf_book WHERE isbn = ?");
                    let row = sqlx::query(&id_sql).bind(&f.isbn).fetch_one(&mut *tx).await?;
                    let id = row.int("id")?;
                    tx.commit().await?;
                    Some(id)
                }
                Err(e) if is_unique_violation(&e) => None,
                Err(e) => return Err(e),
            }
        });
        Ok(inserted)
    }

    /// Updates a book's fields. Changing the stock moves the copies on the shelf by the same amount;
    /// a stock below the copies lent out is refused (`Ok(false)`), as is a taken ISBN.
    pub async fn update_book(&self, id: i64, f: &BookFields) -> Result<bool, sqlx::Error> {
        // One conditional UPDATE: the lent-out count (total - available) is read and kept atomically.
        let sql = self.sql(
            "UPDATE bookshelf_book SET title = ?, author = ?, isbn = ?, publication_year = ?, \
             copies_available = copies_available + (? - copies_total), copies_total = ? \
             WHERE id = ? AND copies_total - copies_available <= ?",
        );
        let done = on_db!(self, p => {
            sqlx::query(&sql)
                .bind(f.title.trim())
                .bind(f.author.trim())
                .bind(&f.isbn)
                .bind(f.publication_year)
                .bind(f.copies_total)
                .bind(f.copies_total)
                .bind(id)
                .bind(f.copies_total)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        });
        match done {
            Ok(n) => Ok(n == 1),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Sets a book's fields and its copies on the shelf (the admin's form, which edits both). One
    /// conditional UPDATE: refused ([`Saved::Refused`]) when the book is gone or when the copies
    /// not on the shelf (`copies_total - copies_available`) would be fewer than the copies members
    /// have borrowed and not returned; the table's CHECK keeps `0 <= copies_available <= copies_total`.
    pub async fn set_book(
        &self,
        id: i64,
        f: &BookFields,
        copies_available: i64,
    ) -> Result<Saved, sqlx::Error> {
        let sql = self.sql(
            "UPDATE bookshelf_book SET title = ?, author = ?, isbn = ?, publication_year = ?, \
             copies_total = ?, copies_available = ? \
             WHERE id = ? AND ? >= 0 AND ? <= ? AND ? - ? >= \
             (SELECT COUNT(*) FROM bookshelf_borrow WHERE book_id = ? AND returned_at IS NULL)",
        );
        let done = on_db!(self, p => {
            sqlx::query(&sql)
                .bind(f.title.trim())
                .bind(f.author.trim())
                .bind(&f.isbn)
                .bind(f.publication_year)
                .bind(f.copies_total)
                .bind(copies_available)
                .bind(id)
                .bind(copies_available)
                .bind(copies_available)
                .bind(f.copies_total)
                .bind(f.copies_total)
                .bind(copies_available)
                .bind(id)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        });
        match done {
            Ok(1) => Ok(Saved::Done),
            Ok(_) => Ok(Saved::Refused),
            Err(e) if is_unique_violation(&e) => Ok(Saved::IsbnTaken),
            Err(e) => Err(e),
        }
    }

    /// Sets a book's stock; the copies on the shelf move by the same amount. One conditional
    /// UPDATE, so a borrow or return running at the same time is never lost: refused (`Ok(false)`)
    /// when the book is gone or the new stock is below the copies lent out.
    pub async fn set_stock(&self, id: i64, copies_total: i64) -> Result<bool, sqlx::Error> {
        let sql = self.sql(
            "UPDATE bookshelf_book SET copies_available = copies_available + (? - copies_total), \
             copies_total = ? WHERE id = ? AND copies_total - copies_available <= ?",
        );
        let n = on_db!(self, p => sqlx::query(&sql)
            .bind(copies_total)
            .bind(copies_total)
            .bind(id)
            .bind(copies_total)
            .execute(p)
            .await?
            .rows_affected());
        Ok(n == 1)
    }

    /// How many copies of the book are borrowed and not returned, by anyone.
    pub async fn lent_out(&self, book_id: i64) -> Result<i64, sqlx::Error> {
        let sql = self.sql(
            "SELECT COUNT(*) AS n FROM bookshelf_borrow WHERE book_id = ? AND returned_at IS NULL",
        );
        Ok(on_db!(self, p => {
            let row = sqlx::query(&sql).bind(book_id).fetch_one(p).await?;
            row.int("n")?
        }))
    }

    /// Deletes a book (and its borrow records). Whether it existed.
    pub async fn delete_book(&self, id: i64) -> Result<bool, sqlx::Error> {
        let borrows = self.sql("DELETE FROM bookshelf_borrow WHERE book_id = ?");
        let book = self.sql("DELETE FROM bookshelf_book WHERE id = ?");
        Ok(on_db!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(&borrows).bind(id).execute(&mut *tx).await?;
            let n = sqlx::query(&book).bind(id).execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            n == 1
        }))
    }

    /// Flips one flag; returns the new value (`None`: no such book).
    pub async fn toggle_book(&self, id: i64, flag: Flag) -> Result<Option<bool>, sqlx::Error> {
        let col = flag.column();
        let update = self.sql(&format!(
            "UPDATE bookshelf_book SET {col} = NOT {col} WHERE id = ?"
        ));
        let select = self.sql(&format!("SELECT {col} FROM bookshelf_book WHERE id = ?"));
        Ok(on_db!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query(&update)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let value = if n == 1 {
                let row = sqlx::query(&select).bind(id).fetch_one(&mut *tx).await?;
                Some(row.flag(col)?)
            } else {
                None
            };
            tx.commit().await?;
            value
        }))
    }

    /// Lends one copy to `user_id`: one conditional UPDATE (never below 0, whatever runs
    /// concurrently) and the borrow record, in one transaction.
    pub async fn borrow_book(&self, book_id: i64, user_id: i64) -> Result<Lending, sqlx::Error> {
        let take = self.sql(
            "UPDATE bookshelf_book SET copies_available = copies_available - 1 \
             WHERE id = ? AND copies_available > 0",
        );
        let record = self.sql(
            "INSERT INTO bookshelf_borrow (book_id, user_id, borrowed_at, returned_at) VALUES (?, ?, ?, NULL)",
        );
        let taken = on_db!(self, p => {
            // The write comes first: on SQLite the transaction takes the write lock at once.
            let mut tx = p.begin().await?;
            let n = sqlx::query(&take).bind(book_id).execute(&mut *tx).await?.rows_affected();
            if n == 1 {
                sqlx::query(&record)
                    .bind(book_id)
                    .bind(user_id)
                    .bind(now_text())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            n == 1
        });
        if taken {
            return Ok(Lending::Done);
        }
        Ok(match self.book(book_id).await? {
            Some(_) => Lending::Refused,
            None => Lending::NoBook,
        })
    }

    /// Takes back one copy from `user_id`: closes the user's oldest open borrow of the book and puts
    /// the copy back (never above the stock), in one transaction; nothing changes otherwise.
    pub async fn return_book(&self, book_id: i64, user_id: i64) -> Result<Lending, sqlx::Error> {
        // The derived table lets MariaDB read the table it updates; each engine re-checks
        // `returned_at IS NULL` on the locked row, so two concurrent returns close one borrow once.
        let close = self.sql(
            "UPDATE bookshelf_borrow SET returned_at = ? WHERE returned_at IS NULL AND id = \
             (SELECT id FROM (SELECT MIN(id) AS id FROM bookshelf_borrow \
              WHERE book_id = ? AND user_id = ? AND returned_at IS NULL) AS oldest)",
        );
        let put_back = self.sql(
            "UPDATE bookshelf_book SET copies_available = copies_available + 1 \
             WHERE id = ? AND copies_available < copies_total",
        );
        let outcome = on_db!(self, p => {
            let mut tx = p.begin().await?;
            let closed = sqlx::query(&close)
                .bind(now_text())
                .bind(book_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if closed != 1 {
                tx.rollback().await?;
                None
            } else {
                let n = sqlx::query(&put_back).bind(book_id).execute(&mut *tx).await?.rows_affected();
                if n == 1 {
                    tx.commit().await?;
                    Some(Lending::Done)
                } else {
                    tx.rollback().await?;
                    Some(Lending::Refused)
                }
            }
        });
        if let Some(outcome) = outcome {
            return Ok(outcome);
        }
        Ok(match self.book(book_id).await? {
            Some(_) => Lending::NotBorrowed,
            None => Lending::NoBook,
        })
    }

    /// How many copies of the book `user_id` has borrowed and not returned.
    pub async fn open_borrows(&self, book_id: i64, user_id: i64) -> Result<i64, sqlx::Error> {
        let sql = self.sql(
            "SELECT COUNT(*) AS n FROM bookshelf_borrow WHERE book_id = ? AND user_id = ? AND returned_at IS NULL",
        );
        Ok(on_db!(self, p => {
            let row = sqlx::query(&sql).bind(book_id).bind(user_id).fetch_one(p).await?;
            row.int("n")?
        }))
    }

    /// Every borrow record, newest first (for the inventory page).
    pub async fn borrows(&self) -> Result<Vec<Borrow>, sqlx::Error> {
        let sql = "SELECT b.id, b.book_id, k.title, u.username, b.borrowed_at, b.returned_at \
                   FROM bookshelf_borrow b JOIN bookshelf_book k ON k.id = b.book_id \
                   JOIN auth_user u ON u.id = b.user_id ORDER BY b.id DESC";
        Ok(on_db!(self, p => {
            let rows = sqlx::query(sql).fetch_all(p).await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push(Borrow {
                    id: r.int("id")?,
                    book_id: r.int("book_id")?,
                    title: r.text("title")?,
                    username: r.text("username")?,
                    borrowed_at: r.text("borrowed_at")?,
                    returned_at: r.opt_text("returned_at")?,
                });
            }
            out
        }))
    }
}

/// Whether a database error is a unique-constraint violation.
fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}
