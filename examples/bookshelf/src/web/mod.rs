//! The HTTP side: routes, their guards, and the handlers.
//!
//! Every guarded route gets its own castellan-axum [`Require`] as a route layer, so the answers are
//! Django's: anonymous → 302 to `/accounts/login/?next=…`, logged in without the permission → 403
//! (a page naming the missing permission). `raise_exception` routes answer 403 to everybody.

pub mod articles;
pub mod books;
pub mod error;
pub use castellan_axum::messages;
pub mod render;

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use castellan_axum::{AuthLayer, Require};
use castellan_store::Store;
use http::{header, HeaderValue, StatusCode};

use crate::db::Db;
use render::Templates;

/// What every handler shares: cloned for each request (one reference count), read through
/// [`AppParts`].
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

/// The parts of [`AppState`].
pub struct AppParts {
    /// The application's tables.
    pub db: Db,
    /// Castellan's store (users, groups, permissions, sessions).
    pub store: Store,
    /// The templates.
    pub templates: Arc<Templates>,
}

impl AppState {
    /// The state of an application on `store` (and `db`, its database) rendering `templates`.
    pub fn new(db: Db, store: Store, templates: Arc<Templates>) -> Self {
        Self(Arc::new(AppParts {
            db,
            store,
            templates,
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

/// A 302 (Django's `redirect`).
pub(crate) fn redirect(to: &str) -> Response {
    match HeaderValue::from_str(to) {
        Ok(v) => (StatusCode::FOUND, [(header::LOCATION, v)]).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// `perms` all required on `route` (`permission_required([...])`); `raise`: 403 for anonymous
/// users too; `message`: the 403 page's sentence (may be empty).
fn perms(perms: &[&str], raise: bool, message: &str) -> Require {
    Require::all_perms(perms.iter().copied())
        .with_raise_exception(raise)
        .with_message(message)
}

/// Membership of `group` (or an active superuser): the guide's `GroupRequiredMixin`, which
/// raises `PermissionDenied` (403) for everybody.
fn group(group: &str) -> Require {
    Require::any_group([group])
        .with_raise_exception(true)
        .with_message(format!("You must be in the {group} group."))
}

/// The application's routes (without the auth layer; see [`crate::Bookshelf::router`]).
pub fn routes(state: AppState, auth: &AuthLayer) -> Result<Router, castellan_axum::Error> {
    let router = Router::new()
        .route("/", get(|| async { redirect("/books/") }))
        .route("/static/style.css", get(style))
        .route("/books/", get(books::list))
        .route(
            "/books/add/",
            auth.guard(
                "/books/add/",
                perms(&["bookshelf.add_book"], false, ""),
                get(books::add_form).post(books::add),
            )?,
        )
        .route("/books/{id}/", get(books::detail))
        // change_book held globally, or granted on this book (checked in the handler).
        .route(
            "/books/{id}/edit/",
            auth.guard(
                "/books/{id}/edit/",
                Require::login(),
                get(books::edit_form).post(books::edit),
            )?,
        )
        .route(
            "/books/{id}/delete/",
            auth.guard(
                "/books/{id}/delete/",
                perms(
                    &["bookshelf.delete_book"],
                    true,
                    "You do not have permission to delete books.",
                ),
                get(books::delete_form).post(books::delete),
            )?,
        )
        .route(
            "/books/{id}/publish/",
            auth.guard(
                "/books/{id}/publish/",
                perms(
                    &["bookshelf.change_book", "bookshelf.can_publish_book"],
                    false,
                    "",
                ),
                post(books::publish),
            )?,
        )
        .route(
            "/books/{id}/feature/",
            auth.guard(
                "/books/{id}/feature/",
                perms(&["bookshelf.can_feature_book"], false, ""),
                post(books::feature),
            )?,
        )
        .route(
            "/books/{id}/archive/",
            auth.guard(
                "/books/{id}/archive/",
                perms(&["bookshelf.can_archive_book"], false, ""),
                post(books::archive),
            )?,
        )
        .route(
            "/books/{id}/premium/",
            auth.guard(
                "/books/{id}/premium/",
                perms(&["bookshelf.can_set_premium"], false, ""),
                post(books::premium),
            )?,
        )
        .route(
            "/books/{id}/borrow/",
            auth.guard(
                "/books/{id}/borrow/",
                perms(&["bookshelf.can_borrow_book"], false, ""),
                post(books::borrow),
            )?,
        )
        .route(
            "/books/{id}/return/",
            auth.guard(
                "/books/{id}/return/",
                perms(&["bookshelf.can_return_book"], false, ""),
                post(books::give_back),
            )?,
        )
        .route(
            "/inventory/",
            auth.guard(
                "/inventory/",
                perms(&["bookshelf.can_manage_inventory"], false, ""),
                get(books::inventory),
            )?,
        )
        .route(
            "/inventory/{id}/stock/",
            auth.guard(
                "/inventory/{id}/stock/",
                perms(&["bookshelf.can_manage_inventory"], false, ""),
                post(books::set_stock),
            )?,
        )
        .route(
            "/editor/",
            auth.guard("/editor/", group("Editors"), get(books::editor))?,
        )
        .route("/articles/", get(articles::list))
        .route(
            "/articles/add/",
            auth.guard(
                "/articles/add/",
                perms(&["bookshelf.add_article"], false, ""),
                get(articles::add_form).post(articles::add),
            )?,
        )
        .route("/articles/{id}/", get(articles::detail))
        // change_article on this article: the rules of `access` (checked in the handlers).
        .route(
            "/articles/{id}/edit/",
            auth.guard(
                "/articles/{id}/edit/",
                Require::login(),
                get(articles::edit_form).post(articles::edit),
            )?,
        )
        .route(
            "/articles/{id}/submit/",
            auth.guard(
                "/articles/{id}/submit/",
                Require::login(),
                post(articles::submit),
            )?,
        )
        .route(
            "/articles/{id}/approve/",
            auth.guard(
                "/articles/{id}/approve/",
                perms(&["bookshelf.can_approve_article"], false, ""),
                post(articles::approve),
            )?,
        )
        .route(
            "/articles/{id}/publish/",
            auth.guard(
                "/articles/{id}/publish/",
                perms(&["bookshelf.can_publish_article"], false, ""),
                post(articles::publish),
            )?,
        )
        .route(
            "/articles/{id}/feature/",
            auth.guard(
                "/articles/{id}/feature/",
                perms(&["bookshelf.can_feature_article"], false, ""),
                post(articles::feature),
            )?,
        )
        .nest("/accounts", castellan_axum::router())
        .fallback(castellan_axum::not_found)
        .with_state(state);
    Ok(router)
}

async fn style() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        render::STYLE_CSS,
    )
        .into_response()
}

/// Parses a path id; anything but a positive integer is "not found".
pub(crate) fn parse_id(raw: &str) -> Option<i64> {
    raw.parse::<i64>().ok().filter(|id| *id > 0)
}
