//! Book pages: list, detail, add, edit, delete, the flag actions, borrow/return, the inventory and
//! the editors' page.

use axum::extract::{Path, State};
use axum::Form;
use castellan_axum::AuthSession;
use http::StatusCode;
use minijinja::context;
use serde::Deserialize;

use crate::access;
use crate::books::{Book, BookFields, Flag, Lending};
use crate::web::error::AppResult;
use crate::web::render::{not_found, ok, page, s};
use crate::web::{messages, parse_id, redirect, AppState};

/// The book form as posted (every field as text, so bad input is reported, not rejected).
#[derive(Debug, Default, Deserialize)]
pub struct BookForm {
    title: Option<String>,
    author: Option<String>,
    isbn: Option<String>,
    publication_year: Option<String>,
    copies_total: Option<String>,
}

impl BookForm {
    /// The fields and every problem found.
    fn parse(&self) -> (BookFields, Vec<(&'static str, String)>) {
        let text = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_owned();
        let mut errors = Vec::new();
        let year = text(&self.publication_year);
        let publication_year = if year.is_empty() {
            None
        } else {
            match year.parse::<i64>() {
                Ok(y) => Some(y),
                Err(_) => {
                    errors.push(("publication_year", "Enter a whole number.".to_owned()));
                    None
                }
            }
        };
        let copies = text(&self.copies_total);
        let copies_total = match copies.parse::<i64>() {
            Ok(n) => n,
            Err(_) => {
                errors.push(("copies_total", "Enter a whole number.".to_owned()));
                0
            }
        };
        let fields = BookFields {
            title: text(&self.title),
            author: text(&self.author),
            isbn: text(&self.isbn).replace('-', ""),
            publication_year,
            copies_total,
        };
        let mut all = fields.validate();
        all.retain(|(f, _)| !errors.iter().any(|(e, _)| e == f));
        errors.extend(all);
        (fields, errors)
    }
}

/// Whether the request's user may see unpublished and archived books.
fn sees_drafts(auth: &AuthSession) -> bool {
    auth.principal().has_perm("bookshelf.change_book")
}

/// The book, if it exists and this user may see it.
async fn visible(
    state: &AppState,
    auth: &AuthSession,
    raw: &str,
) -> Result<Option<Book>, castellan_store::Error> {
    let Some(id) = parse_id(raw) else {
        return Ok(None);
    };
    Ok(state
        .db
        .book(id)
        .await?
        .filter(|b| (b.is_published && !b.is_archived) || sees_drafts(auth)))
}

/// An existing book (for guarded actions: the guard already ran).
async fn existing(state: &AppState, raw: &str) -> Result<Option<Book>, castellan_store::Error> {
    match parse_id(raw) {
        Some(id) => state.db.book(id).await,
        None => Ok(None),
    }
}

/// `GET /books/`: published books for everyone; every book for holders of `change_book`.
pub async fn list(State(state): State<AppState>, auth: AuthSession) -> AppResult {
    let books = state.db.books(sees_drafts(&auth)).await?;
    ok(
        &state.templates,
        &auth,
        "books/list.html",
        context! { books => s(&books) },
    )
    .await
}

/// `GET /books/{id}/`: the book, with the buttons the user's permissions allow.
pub async fn detail(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(id): Path<String>,
) -> AppResult {
    let Some(book) = visible(&state, &auth, &id).await? else {
        return not_found(&state.templates, &auth).await;
    };
    let borrowed = match auth.user() {
        Some(u) => state.db.open_borrows(book.id, u.id).await?,
        None => 0,
    };
    let can_edit = access::may_edit_book(&state.store, &auth, book.id).await?;
    ok(
        &state.templates,
        &auth,
        "books/detail.html",
        context! { book => s(&book), borrowed, can_edit },
    )
    .await
}

async fn form_page(
    state: &AppState,
    auth: &AuthSession,
    status: StatusCode,
    book: Option<&Book>,
    fields: &BookFields,
    errors: &[(&'static str, String)],
) -> AppResult {
    let errors: std::collections::BTreeMap<String, String> = errors
        .iter()
        .map(|(f, m)| ((*f).to_owned(), m.clone()))
        .collect();
    page(
        &state.templates,
        auth,
        status,
        "books/form.html",
        context! { book => s(&book), fields => s(fields), errors },
    )
    .await
}

/// `GET /books/add/`.
pub async fn add_form(State(state): State<AppState>, auth: AuthSession) -> AppResult {
    let fields = BookFields {
        copies_total: 1,
        ..BookFields::default()
    };
    form_page(&state, &auth, StatusCode::OK, None, &fields, &[]).await
}

/// `POST /books/add/`: creates an unpublished book.
pub async fn add(
    State(state): State<AppState>,
    auth: AuthSession,
    Form(form): Form<BookForm>,
) -> AppResult {
    let (fields, mut errors) = form.parse();
    if errors.is_empty() {
        match state.db.create_book(&fields).await? {
            Some(id) => {
                messages::success(&auth, format!("Book “{}” added", fields.title));
                return Ok(redirect(&format!("/books/{id}/")));
            }
            None => errors.push(("isbn", "Book with this ISBN already exists.".to_owned())),
        }
    }
    form_page(&state, &auth, StatusCode::OK, None, &fields, &errors).await
}

/// `GET /books/{id}/edit/`.
pub async fn edit_form(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(id): Path<String>,
) -> AppResult {
    let Some(book) = existing(&state, &id).await? else {
        return not_found(&state.templates, &auth).await;
    };
    if !access::may_edit_book(&state.store, &auth, book.id).await? {
        return cannot_edit(&state, &auth, &book).await;
    }
    let fields = BookFields {
        title: book.title.clone(),
        author: book.author.clone(),
        isbn: book.isbn.clone(),
        publication_year: book.publication_year,
        copies_total: book.copies_total,
    };
    form_page(&state, &auth, StatusCode::OK, Some(&book), &fields, &[]).await
}

/// 403 for a user without `change_book`, globally or on this book (404 when they may not even
/// see it: an unpublished book does not exist for them).
async fn cannot_edit(state: &AppState, auth: &AuthSession, book: &Book) -> AppResult {
    if visible(state, auth, &book.id.to_string()).await?.is_none() {
        return not_found(&state.templates, auth).await;
    }
    let message =
        "You may not edit this book: it needs bookshelf.change_book, held or granted on this book.";
    crate::web::render::page(
        &state.templates,
        auth,
        StatusCode::FORBIDDEN,
        "castellan/403.html",
        context! { message },
    )
    .await
}

/// `POST /books/{id}/edit/`.
pub async fn edit(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(id): Path<String>,
    Form(form): Form<BookForm>,
) -> AppResult {
    let Some(book) = existing(&state, &id).await? else {
        return not_found(&state.templates, &auth).await;
    };
    if !access::may_edit_book(&state.store, &auth, book.id).await? {
        return cannot_edit(&state, &auth, &book).await;
    }
    let (fields, mut errors) = form.parse();
    if errors.is_empty() && state.db.isbn_taken(&fields.isbn, Some(book.id)).await? {
        errors.push(("isbn", "Book with this ISBN already exists.".to_owned()));
    }
    if errors.is_empty() {
        if state.db.update_book(book.id, &fields).await? {
            messages::success(&auth, "Book updated");
            return Ok(redirect(&format!("/books/{}/", book.id)));
        }
        errors.push((
            "copies_total",
            format!(
                "{} copies are lent out: the stock cannot be lower.",
                book.copies_total - book.copies_available
            ),
        ));
    }
    form_page(&state, &auth, StatusCode::OK, Some(&book), &fields, &errors).await
}

/// `GET /books/{id}/delete/`: the confirmation page.
pub async fn delete_form(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(id): Path<String>,
) -> AppResult {
    let Some(book) = existing(&state, &id).await? else {
        return not_found(&state.templates, &auth).await;
    };
    ok(
        &state.templates,
        &auth,
        "books/confirm_delete.html",
        context! { book => s(&book) },
    )
    .await
}

/// `POST /books/{id}/delete/`.
pub async fn delete(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(id): Path<String>,
) -> AppResult {
    let Some(book) = existing(&state, &id).await? else {
        return not_found(&state.templates, &auth).await;
    };
    if state.db.delete_book(book.id).await? {
        messages::success(&auth, "Book deleted");
    }
    Ok(redirect("/books/"))
}

async fn toggle(
    state: &AppState,
    auth: &AuthSession,
    raw: &str,
    flag: Flag,
    on: &str,
    off: &str,
) -> AppResult {
    let Some(book) = existing(state, raw).await? else {
        return not_found(&state.templates, auth).await;
    };
    match state.db.toggle_book(book.id, flag).await? {
        Some(true) => messages::success(auth, format!("“{}” {on}", book.title)),
        Some(false) => messages::success(auth, format!("“{}” {off}", book.title)),
        None => return not_found(&state.templates, auth).await,
    }
    Ok(redirect(&format!("/books/{}/", book.id)))
}

/// `POST /books/{id}/publish/`: publishes or unpublishes.
pub async fn publish(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(id): Path<String>,
) -> AppResult {
    toggle(
        &state,
        &auth,
        &id,
        Flag::Published,
        "published",
        "unpublished",
    )
    .await
}

/// `POST /books/{id}/feature/`.
pub async fn feature(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(id): Path<String>,
) -> AppResult {
    toggle(
        &state,
        &auth,
        &id,
        Flag::Featured,
        "featured",
        "no longer featured",
    )
    .await
}

/// `POST /books/{id}/archive/`.
pub async fn archive(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(id): Path<String>,
) -> AppResult {
    toggle(
        &state,
        &auth,
        &id,
        Flag::Archived,
        "archived",
        "restored from the archive",
    )
    .await
}

/// `POST /books/{id}/premium/`.
pub async fn premium(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(id): Path<String>,
) -> AppResult {
    toggle(
        &state,
        &auth,
        &id,
        Flag::Premium,
        "marked premium",
        "no longer premium",
    )
    .await
}

/// `POST /books/{id}/borrow/`: 302 back to the book when a copy was lent; 409 with the
/// "not available" page when none was left.
pub async fn borrow(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(id): Path<String>,
) -> AppResult {
    let (Some(user), Some(book_id)) = (auth.user(), parse_id(&id)) else {
        return not_found(&state.templates, &auth).await;
    };
    match state.db.borrow_book(book_id, user.id).await? {
        Lending::Done => {
            messages::success(&auth, "Book borrowed");
            Ok(redirect(&format!("/books/{book_id}/")))
        }
        Lending::NoBook => not_found(&state.templates, &auth).await,
        Lending::Refused | Lending::NotBorrowed => {
            let book = state.db.book(book_id).await?;
            page(
                &state.templates,
                &auth,
                StatusCode::CONFLICT,
                "books/not_available.html",
                context! { book => s(&book) },
            )
            .await
        }
    }
}

/// `POST /books/{id}/return/`: only a copy this user borrowed, never above the stock.
pub async fn give_back(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(id): Path<String>,
) -> AppResult {
    let (Some(user), Some(book_id)) = (auth.user(), parse_id(&id)) else {
        return not_found(&state.templates, &auth).await;
    };
    match state.db.return_book(book_id, user.id).await? {
        Lending::Done => messages::success(&auth, "Book returned"),
        Lending::NoBook => return not_found(&state.templates, &auth).await,
        Lending::NotBorrowed => messages::error(
            &auth,
            "You have not borrowed this book, so there is nothing to return.",
        ),
        Lending::Refused => messages::error(&auth, "Every copy is already on the shelf."),
    }
    Ok(redirect(&format!("/books/{book_id}/")))
}

/// `GET /inventory/`: stock and borrow records.
pub async fn inventory(State(state): State<AppState>, auth: AuthSession) -> AppResult {
    inventory_page(&state, &auth, StatusCode::OK, None).await
}

/// The inventory page, with `error` = (book id, message, submitted value) shown at that book's
/// stock form.
async fn inventory_page(
    state: &AppState,
    auth: &AuthSession,
    status: StatusCode,
    error: Option<(i64, String, String)>,
) -> AppResult {
    let books = state.db.books(true).await?;
    let borrows = state.db.borrows().await?;
    let (error_id, error, submitted) = match error {
        Some((id, message, value)) => (Some(id), Some(message), Some(value)),
        None => (None, None, None),
    };
    page(
        &state.templates,
        auth,
        status,
        "books/inventory.html",
        context! { books => s(&books), borrows => s(&borrows), error_id, error, submitted },
    )
    .await
}

/// The stock form as posted.
#[derive(Debug, Default, Deserialize)]
pub struct StockForm {
    copies_total: Option<String>,
}

/// `POST /inventory/{id}/stock/` (`can_manage_inventory`): sets the stock, moving the copies on
/// the shelf by the same amount. 302 back to the inventory when done; the page again with the
/// reason when the value is invalid (400) or below the copies lent out (409); nothing changes then.
pub async fn set_stock(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(id): Path<String>,
    Form(form): Form<StockForm>,
) -> AppResult {
    let Some(book) = existing(&state, &id).await? else {
        return not_found(&state.templates, &auth).await;
    };
    let raw = form.copies_total.as_deref().unwrap_or("").trim().to_owned();
    let total = match raw.parse::<i64>() {
        Ok(n) if (0..=10_000).contains(&n) => n,
        Ok(_) => {
            let msg = "Enter a number of copies between 0 and 10000.".to_owned();
            return inventory_page(
                &state,
                &auth,
                StatusCode::BAD_REQUEST,
                Some((book.id, msg, raw)),
            )
            .await;
        }
        Err(_) => {
            let msg = "Enter a whole number.".to_owned();
            return inventory_page(
                &state,
                &auth,
                StatusCode::BAD_REQUEST,
                Some((book.id, msg, raw)),
            )
            .await;
        }
    };
    if state.db.set_stock(book.id, total).await? {
        messages::success(&auth, format!("Stock of “{}” set to {total}", book.title));
        return Ok(redirect("/inventory/"));
    }
    let Some(now) = state.db.book(book.id).await? else {
        return not_found(&state.templates, &auth).await;
    };
    let msg = format!(
        "{} copies are lent out: the stock cannot be lower.",
        now.copies_total - now.copies_available
    );
    inventory_page(
        &state,
        &auth,
        StatusCode::CONFLICT,
        Some((book.id, msg, raw)),
    )
    .await
}

/// `GET /editor/`: the Editors group's page (every book, drafts first).
pub async fn editor(State(state): State<AppState>, auth: AuthSession) -> AppResult {
    let mut books = state.db.books(true).await?;
    books.sort_by_key(|b| b.is_published);
    ok(
        &state.templates,
        &auth,
        "books/editor.html",
        context! { books => s(&books) },
    )
    .await
}
