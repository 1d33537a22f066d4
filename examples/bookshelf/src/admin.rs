//! Bookshelf's models in castellan-admin (`/admin/bookshelf/book/`, `/admin/bookshelf/article/`).
//!
//! Each [`ModelAdmin`] reads and writes through the application's own [`Db`] functions and
//! validates with the application's own rules ([`BookFields::validate`],
//! [`ArticleFields::validate`]), so the admin cannot store what the application's forms would
//! refuse: a duplicate ISBN, copies on the shelf outside `0..=stock`, or fewer copies off the shelf
//! than members have borrowed. The permission hooks are Django's defaults (`view_*` or `change_*`
//! to see, `add_*`, `change_*`, `delete_*` to write; the app shows with any `bookshelf.*`
//! permission).
//!
//! The lists are paged in SQL (`LIMIT`/`OFFSET`, one count) and searched with a case-insensitive
//! `LIKE` on title, author and ISBN (books) or title and author (articles). An article added
//! without an author gets the admin user who adds it (`AdminRequest::user`); only a superuser
//! names another author, and changing an article that is not a draft sends it back to review
//! ([`crate::articles`]). Every write is
//! recorded in Castellan's audit trail by the admin (`admin.add` / `admin.change` /
//! `admin.delete`).
//!
//! The workflow flags (published, archived, featured, premium; an article's status and approval)
//! are shown in the lists but are not form fields: they move only through the application's
//! guarded actions, which check the custom permissions (`can_publish_book`,
//! `can_approve_article`, …) and the article workflow's rules in one place.

use castellan_admin::{
    AdminRequest, BoxFuture, Field, FieldKind, ListFilter, ListPage, ListQuery, ModelAdmin,
    ModelError, Object, SqlList, Values,
};
use castellan_core::UserId;
use castellan_store::Store;

use crate::articles::{article_from_row, Article, ArticleFields, Edited, Status};
use crate::books::{book_columns, book_from_row, Book, BookFields, Saved};
use crate::db::Db;
use crate::web::parse_id;

/// The columns a book search matches (one `LIKE` each).
const BOOK_SEARCH_COLUMNS: [&str; 3] = ["title", "author", "isbn"];

fn failed(e: impl std::error::Error + Send + Sync + 'static) -> ModelError {
    ModelError::Failed(Box::new(e))
}

/// A field with an explicit label.
fn field(name: &str, label: &str, kind: FieldKind, required: bool) -> Field {
    let mut f = Field::new(name, kind);
    f.label = label.to_owned();
    f.required = required;
    f
}

fn value<'a>(values: &'a Values, name: &str) -> &'a str {
    values.get(name).map_or("", String::as_str)
}

/// An integer form value that the admin has already checked to be a whole number (or empty).
fn int(values: &Values, name: &str, label: &str) -> Result<Option<i64>, String> {
    let v = value(values, name);
    if v.is_empty() {
        return Ok(None);
    }
    v.parse::<i64>()
        .map(Some)
        .map_err(|_| format!("{label}: enter a whole number."))
}

/// Django's `list_per_page`.
const PER_PAGE: u64 = 100;

/// `Book` in the admin.
#[derive(Debug, Clone)]
pub struct BookAdmin {
    db: Db,
    per_page: u64,
}

impl BookAdmin {
    /// Books stored in `db`, 100 to a list page.
    pub fn new(db: Db) -> Self {
        Self {
            db,
            per_page: PER_PAGE,
        }
    }

    /// Sets the books per list page.
    pub fn with_per_page(mut self, per_page: u64) -> Self {
        self.per_page = per_page;
        self
    }

    fn object(book: &Book) -> Object {
        let mut status = Vec::new();
        if book.is_archived {
            status.push("archived");
        } else if book.is_published {
            status.push("published");
        } else {
            status.push("draft");
        }
        if book.is_featured {
            status.push("featured");
        }
        if book.is_premium {
            status.push("premium");
        }
        let values = Values::from([
            ("title".to_owned(), book.title.clone()),
            ("author".to_owned(), book.author.clone()),
            ("isbn".to_owned(), book.isbn.clone()),
            (
                "publication_year".to_owned(),
                book.publication_year
                    .map_or_else(String::new, |y| y.to_string()),
            ),
            ("copies_total".to_owned(), book.copies_total.to_string()),
            (
                "copies_available".to_owned(),
                book.copies_available.to_string(),
            ),
            ("status".to_owned(), status.join(", ")),
        ]);
        Object {
            id: book.id.to_string(),
            label: book.title.clone(),
            values,
        }
    }

    /// The submitted values as the application's fields, with every problem (field label first).
    fn parse(values: &Values) -> Result<(BookFields, i64), ModelError> {
        let mut errors = Vec::new();
        let year = int(values, "publication_year", "Publication year").unwrap_or_else(|e| {
            errors.push(e);
            None
        });
        let mut number = |name: &str, label: &str| match int(values, name, label) {
            Ok(Some(n)) => n,
            Ok(None) => {
                errors.push(format!("{label}: this field is required."));
                0
            }
            Err(e) => {
                errors.push(e);
                0
            }
        };
        let copies_total = number("copies_total", "Copies owned");
        let copies_available = number("copies_available", "Copies on the shelf");
        let fields = BookFields {
            title: value(values, "title").trim().to_owned(),
            author: value(values, "author").trim().to_owned(),
            isbn: value(values, "isbn").trim().replace('-', ""),
            publication_year: year,
            copies_total,
        };
        for (name, message) in fields.validate() {
            errors.push(format!("{}: {message}", Self::label(name)));
        }
        if !(0..=copies_total).contains(&copies_available) {
            errors.push(format!(
                "Copies on the shelf: enter a number between 0 and the copies owned ({copies_total})."
            ));
        }
        if errors.is_empty() {
            Ok((fields, copies_available))
        } else {
            Err(ModelError::Invalid(errors))
        }
    }

    fn label(name: &str) -> &'static str {
        match name {
            "title" => "Title",
            "author" => "Author",
            "isbn" => "ISBN",
            "publication_year" => "Publication year",
            "copies_total" => "Copies owned",
            _ => "Copies on the shelf",
        }
    }

    async fn fetch(&self, id: i64) -> Result<Object, ModelError> {
        match self.db.book(id).await.map_err(failed)? {
            Some(b) => Ok(Self::object(&b)),
            None => Err(ModelError::NotFound),
        }
    }

    fn duplicate_isbn() -> ModelError {
        ModelError::Invalid(vec!["ISBN: Book with this ISBN already exists.".to_owned()])
    }
}

impl ModelAdmin for BookAdmin {
    fn app_label(&self) -> &str {
        "bookshelf"
    }
    fn model_name(&self) -> &str {
        "book"
    }
    fn verbose_name(&self) -> String {
        "book".to_owned()
    }
    fn verbose_name_plural(&self) -> String {
        "Books".to_owned()
    }
    fn view_on_site(&self, obj: &Object) -> Option<String> {
        Some(format!("/books/{}/", obj.id))
    }
    fn fields(&self) -> Vec<Field> {
        vec![
            field("title", "Title", FieldKind::Text, true),
            field("author", "Author", FieldKind::Text, true),
            field("isbn", "ISBN", FieldKind::Text, true),
            field(
                "publication_year",
                "Publication year",
                FieldKind::Integer,
                false,
            ),
            field("copies_total", "Copies owned", FieldKind::Integer, true),
            field(
                "copies_available",
                "Copies on the shelf",
                FieldKind::Integer,
                true,
            ),
        ]
    }
    fn list_display(&self) -> Vec<String> {
        [
            "title",
            "author",
            "isbn",
            "copies_available",
            "copies_total",
            "status",
        ]
        .map(str::to_owned)
        .to_vec()
    }
    fn search_fields(&self) -> Vec<String> {
        BOOK_SEARCH_COLUMNS.map(str::to_owned).to_vec()
    }
    fn sortable_fields(&self) -> Vec<String> {
        [
            "title",
            "author",
            "isbn",
            "copies_available",
            "copies_total",
        ]
        .map(str::to_owned)
        .to_vec()
    }
    fn list_filters(&self) -> Vec<ListFilter> {
        vec![
            ListFilter::new(
                "is_published",
                "Status",
                [
                    ("true".to_owned(), "Published".to_owned()),
                    ("false".to_owned(), "Draft".to_owned()),
                ],
            ),
            ListFilter::yes_no("is_featured", "Featured"),
        ]
    }
    fn list_per_page(&self) -> u64 {
        self.per_page
    }
    fn list<'a>(&'a self, query: &'a ListQuery) -> BoxFuture<'a, Result<ListPage, ModelError>> {
        Box::pin(async move {
            SqlList {
                count: "SELECT COUNT(*) AS n FROM bookshelf_book",
                select: concat!("SELECT ", book_columns!(), " FROM bookshelf_book"),
                search: &BOOK_SEARCH_COLUMNS,
                order: "title, id",
                columns: &[
                    ("title", "title"),
                    ("author", "author"),
                    ("isbn", "isbn"),
                    ("copies_available", "copies_available"),
                    ("copies_total", "copies_total"),
                    ("is_published", "is_published"),
                    ("is_featured", "is_featured"),
                ],
            }
            .page(self.db.sql(), query, |r| {
                Ok(Self::object(&book_from_row(r)?))
            })
            .await
        })
    }
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Object>, ModelError>> {
        Box::pin(async move {
            let Some(id) = parse_id(id) else {
                return Ok(None);
            };
            Ok(self
                .db
                .book(id)
                .await
                .map_err(failed)?
                .map(|b| Self::object(&b)))
        })
    }
    fn create<'a>(
        &'a self,
        _request: AdminRequest<'a>,
        values: &'a Values,
    ) -> BoxFuture<'a, Result<Object, ModelError>> {
        Box::pin(async move {
            let (fields, on_shelf) = Self::parse(values)?;
            if self
                .db
                .isbn_taken(&fields.isbn, None)
                .await
                .map_err(failed)?
            {
                return Err(Self::duplicate_isbn());
            }
            match self
                .db
                .insert_book(&fields, on_shelf)
                .await
                .map_err(failed)?
            {
                Some(id) => self.fetch(id).await,
                None => Err(Self::duplicate_isbn()),
            }
        })
    }
    fn update<'a>(
        &'a self,
        _request: AdminRequest<'a>,
        id: &'a str,
        values: &'a Values,
    ) -> BoxFuture<'a, Result<Object, ModelError>> {
        Box::pin(async move {
            let id = parse_id(id).ok_or(ModelError::NotFound)?;
            let (fields, on_shelf) = Self::parse(values)?;
            if self
                .db
                .isbn_taken(&fields.isbn, Some(id))
                .await
                .map_err(failed)?
            {
                return Err(Self::duplicate_isbn());
            }
            match self
                .db
                .set_book(id, &fields, on_shelf)
                .await
                .map_err(failed)?
            {
                Saved::Done => self.fetch(id).await,
                Saved::IsbnTaken => Err(Self::duplicate_isbn()),
                Saved::Refused => {
                    // Gone, or the borrows are not covered: say which.
                    self.fetch(id).await?;
                    let lent = self.db.lent_out(id).await.map_err(failed)?;
                    Err(ModelError::Invalid(vec![format!(
                        "Copies on the shelf: {lent} copies are lent out, so at most {} of the {} copies owned can be on the shelf.",
                        (fields.copies_total - lent).max(0),
                        fields.copies_total
                    )]))
                }
            }
        })
    }
    fn delete<'a>(
        &'a self,
        _request: AdminRequest<'a>,
        id: &'a str,
    ) -> BoxFuture<'a, Result<(), ModelError>> {
        Box::pin(async move {
            let id = parse_id(id).ok_or(ModelError::NotFound)?;
            if self.db.delete_book(id).await.map_err(failed)? {
                Ok(())
            } else {
                Err(ModelError::NotFound)
            }
        })
    }
    /// "Delete selected": every book in one transaction.
    fn delete_many<'a>(
        &'a self,
        _request: AdminRequest<'a>,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<(), ModelError>> {
        Box::pin(async move {
            let ids: Vec<i64> = ids
                .iter()
                .map(|id| parse_id(id).ok_or(ModelError::NotFound))
                .collect::<Result<_, _>>()?;
            if self.db.delete_books(&ids).await.map_err(failed)? {
                Ok(())
            } else {
                Err(ModelError::NotFound)
            }
        })
    }
}

/// `Article` in the admin. The author is a username (Django's admin shows a foreign-key select);
/// left empty, it is the admin user adding the article (or, on change, stays as it was). Only an
/// active superuser may name someone else (anyone else: a form error, nothing written). A change
/// to an article that is not a draft sends it back to review, as the application's edit does.
#[derive(Debug, Clone)]
pub struct ArticleAdmin {
    db: Db,
    store: Store,
    per_page: u64,
}

impl ArticleAdmin {
    /// Articles stored in `db`, authors looked up in `store`, 100 to a list page.
    pub fn new(db: Db, store: Store) -> Self {
        Self {
            db,
            store,
            per_page: PER_PAGE,
        }
    }

    /// Sets the articles per list page.
    pub fn with_per_page(mut self, per_page: u64) -> Self {
        self.per_page = per_page;
        self
    }

    fn object(a: &Article) -> Object {
        let status = match a.status {
            Status::Draft => "draft",
            Status::Review if a.approved_by.is_some() => "review (approved)",
            Status::Review => "review",
            Status::Published => "published",
        };
        let values = Values::from([
            ("title".to_owned(), a.title.clone()),
            ("content".to_owned(), a.content.clone()),
            ("author".to_owned(), a.author.clone()),
            ("status".to_owned(), status.to_owned()),
            (
                "featured".to_owned(),
                if a.is_featured { "yes" } else { "no" }.to_owned(),
            ),
        ]);
        Object {
            id: a.id.to_string(),
            label: a.title.clone(),
            values,
        }
    }

    /// The fields and the author's username (`None`: left empty), or every problem.
    fn parse(values: &Values) -> Result<(ArticleFields, Option<&str>), ModelError> {
        let fields = ArticleFields {
            title: value(values, "title").trim().to_owned(),
            content: value(values, "content").replace("\r\n", "\n"),
        };
        let errors: Vec<String> = fields
            .validate()
            .into_iter()
            .map(|(name, m)| {
                let label = if name == "title" { "Title" } else { "Content" };
                format!("{label}: {m}")
            })
            .collect();
        let username = Some(value(values, "author").trim()).filter(|u| !u.is_empty());
        if errors.is_empty() {
            Ok((fields, username))
        } else {
            Err(ModelError::Invalid(errors))
        }
    }

    /// The author's user id for `username` (`None`: `default`). Naming `default` is allowed to
    /// everyone; naming someone else only to an active superuser (anyone else is refused before
    /// the name is looked up, so nothing is learnt about other accounts).
    async fn author(
        &self,
        request: &AdminRequest<'_>,
        username: Option<&str>,
        (default_id, default_name): (UserId, &str),
    ) -> Result<UserId, ModelError> {
        let Some(username) = username.filter(|u| *u != default_name) else {
            return Ok(default_id);
        };
        if !(request.user.is_active && request.user.is_superuser) {
            return Err(ModelError::Invalid(vec![format!(
                "Author: only a superuser can set an article's author to someone else; leave the field empty or {default_name:?}. Nothing was saved."
            )]));
        }
        match self.store.user(username).await.map_err(failed)? {
            Some(u) => Ok(u.id),
            None => Err(ModelError::Invalid(vec![format!(
                "Author: there is no user named {username:?}."
            )])),
        }
    }

    async fn fetch(&self, id: i64) -> Result<Object, ModelError> {
        match self.db.article(id).await.map_err(failed)? {
            Some(a) => Ok(Self::object(&a)),
            None => Err(ModelError::NotFound),
        }
    }
}

impl ModelAdmin for ArticleAdmin {
    fn app_label(&self) -> &str {
        "bookshelf"
    }
    fn model_name(&self) -> &str {
        "article"
    }
    fn verbose_name(&self) -> String {
        "article".to_owned()
    }
    fn verbose_name_plural(&self) -> String {
        "Articles".to_owned()
    }
    fn view_on_site(&self, obj: &Object) -> Option<String> {
        Some(format!("/articles/{}/", obj.id))
    }
    fn fields(&self) -> Vec<Field> {
        vec![
            field("title", "Title", FieldKind::Text, true),
            field("content", "Content", FieldKind::TextArea, true),
            field(
                "author",
                "Author (username; empty: you, on add; only a superuser names someone else)",
                FieldKind::Text,
                false,
            ),
        ]
    }
    fn list_display(&self) -> Vec<String> {
        ["title", "author", "status", "featured"]
            .map(str::to_owned)
            .to_vec()
    }
    fn search_fields(&self) -> Vec<String> {
        ["title", "author"].map(str::to_owned).to_vec()
    }
    fn list_per_page(&self) -> u64 {
        self.per_page
    }
    fn list<'a>(&'a self, query: &'a ListQuery) -> BoxFuture<'a, Result<ListPage, ModelError>> {
        Box::pin(async move {
            // The article title and the author's username (the user model's names).
            let statements = self.db.statements();
            let search = statements.article_search.each_ref().map(String::as_str);
            SqlList {
                count: &statements.article_count,
                select: &statements.article_select,
                search: &search,
                order: "a.id DESC",
                columns: &[],
            }
            .page(self.db.sql(), query, |r| {
                Ok(Self::object(&article_from_row(r)?))
            })
            .await
        })
    }
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Object>, ModelError>> {
        Box::pin(async move {
            let Some(id) = parse_id(id) else {
                return Ok(None);
            };
            Ok(self
                .db
                .article(id)
                .await
                .map_err(failed)?
                .map(|a| Self::object(&a)))
        })
    }
    fn create<'a>(
        &'a self,
        request: AdminRequest<'a>,
        values: &'a Values,
    ) -> BoxFuture<'a, Result<Object, ModelError>> {
        Box::pin(async move {
            let (fields, author) = Self::parse(values)?;
            let author = self
                .author(&request, author, (request.user.id, &request.user.username))
                .await?;
            let id = self
                .db
                .create_article(&fields, author)
                .await
                .map_err(failed)?;
            self.fetch(id).await
        })
    }
    fn update<'a>(
        &'a self,
        request: AdminRequest<'a>,
        id: &'a str,
        values: &'a Values,
    ) -> BoxFuture<'a, Result<Object, ModelError>> {
        Box::pin(async move {
            let id = parse_id(id).ok_or(ModelError::NotFound)?;
            let current = self
                .db
                .article(id)
                .await
                .map_err(failed)?
                .ok_or(ModelError::NotFound)?;
            let (fields, author) = Self::parse(values)?;
            let author = self
                .author(&request, author, (current.author_id, &current.author))
                .await?;
            match self
                .db
                .edit_article(&current, &fields, author)
                .await
                .map_err(failed)?
            {
                Edited::Missing => Err(ModelError::NotFound),
                Edited::Changed => Err(ModelError::Invalid(vec![
                    "The article changed while you were editing it (it was submitted, approved or published); nothing was saved."
                        .to_owned(),
                ])),
                Edited::Unchanged | Edited::Saved | Edited::BackToReview => self.fetch(id).await,
            }
        })
    }
    fn delete<'a>(
        &'a self,
        _request: AdminRequest<'a>,
        id: &'a str,
    ) -> BoxFuture<'a, Result<(), ModelError>> {
        Box::pin(async move {
            let id = parse_id(id).ok_or(ModelError::NotFound)?;
            if self.db.delete_article(id).await.map_err(failed)? {
                Ok(())
            } else {
                Err(ModelError::NotFound)
            }
        })
    }
}
