//! The HTTP side: routes, their guards, and the handlers.
//!
//! Every guarded route gets its own castellan-axum [`Require`] as a route layer, so the answers are
//! Django's: anonymous → 302 to `/accounts/login/?next=…`, logged in without the permission → 403
//! (a page naming the missing permission). `raise_exception` routes answer 403 to everybody.

pub mod articles;
pub mod books;
pub mod error;
pub mod messages;
pub mod render;

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use castellan_axum::{AuthLayer, AuthSession, Require};
use castellan_store::Store;
use http::{header, HeaderValue, StatusCode};

use crate::db::Db;
use render::Templates;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The application's tables.
    pub db: Db,
    /// Castellan's store (users, groups, permissions, sessions).
    pub store: Store,
    /// The templates.
    pub templates: Arc<Templates>,
}

/// A 302 (Django's `redirect`).
pub(crate) fn redirect(to: &str) -> Response {
    match HeaderValue::from_str(to) {
        Ok(v) => (StatusCode::FOUND, [(header::LOCATION, v)]).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Builds guards for one router, checking every permission name against the database. Refusals
/// render through [`render::BookshelfPages`], which is told who was refused and what is missing.
struct Guards<'a> {
    auth: &'a AuthLayer,
}

impl Guards<'_> {
    /// All of `perms` (`permission_required([...])`); `raise`: 403 for anonymous users too.
    fn perms(
        &self,
        route: &str,
        perms: &[&str],
        raise: bool,
        handler: MethodRouter<AppState>,
    ) -> Result<MethodRouter<AppState>, castellan_axum::Error> {
        self.perms_with_message(route, perms, raise, "", handler)
    }

    /// As [`Guards::perms`], with a sentence for the 403 page.
    fn perms_with_message(
        &self,
        route: &str,
        perms: &[&str],
        raise: bool,
        message: &str,
        handler: MethodRouter<AppState>,
    ) -> Result<MethodRouter<AppState>, castellan_axum::Error> {
        let require = Require::all_perms(perms.iter().copied())
            .with_raise_exception(raise)
            .with_message(message);
        Ok(handler.route_layer(self.auth.require(route, require)?))
    }

    /// Membership of `group` (or an active superuser): the guide's `GroupRequiredMixin`, which
    /// raises `PermissionDenied` (403) for everybody.
    fn group(
        &self,
        route: &str,
        group: &str,
        handler: MethodRouter<AppState>,
    ) -> Result<MethodRouter<AppState>, castellan_axum::Error> {
        let require = Require::any_group([group])
            .with_raise_exception(true)
            .with_message(format!("You must be in the {group} group."));
        Ok(handler.route_layer(self.auth.require(route, require)?))
    }
}

/// The application's routes (without the auth layer; see [`crate::Bookshelf::router`]).
pub fn routes(state: AppState, auth: &AuthLayer) -> Result<Router, castellan_axum::Error> {
    let g = Guards { auth };
    let router = Router::new()
        .route("/", get(|| async { redirect("/books/") }))
        .route("/static/style.css", get(style))
        .route("/books/", get(books::list))
        .route(
            "/books/add/",
            g.perms(
                "/books/add/",
                &["bookshelf.add_book"],
                false,
                get(books::add_form).post(books::add),
            )?,
        )
        .route("/books/{id}/", get(books::detail))
        .route(
            "/books/{id}/edit/",
            g.perms(
                "/books/{id}/edit/",
                &["bookshelf.change_book"],
                false,
                get(books::edit_form).post(books::edit),
            )?,
        )
        .route(
            "/books/{id}/delete/",
            g.perms_with_message(
                "/books/{id}/delete/",
                &["bookshelf.delete_book"],
                true,
                "You do not have permission to delete books.",
                get(books::delete_form).post(books::delete),
            )?,
        )
        .route(
            "/books/{id}/publish/",
            g.perms(
                "/books/{id}/publish/",
                &["bookshelf.change_book", "bookshelf.can_publish_book"],
                false,
                post(books::publish),
            )?,
        )
        .route(
            "/books/{id}/feature/",
            g.perms(
                "/books/{id}/feature/",
                &["bookshelf.can_feature_book"],
                false,
                post(books::feature),
            )?,
        )
        .route(
            "/books/{id}/archive/",
            g.perms(
                "/books/{id}/archive/",
                &["bookshelf.can_archive_book"],
                false,
                post(books::archive),
            )?,
        )
        .route(
            "/books/{id}/premium/",
            g.perms(
                "/books/{id}/premium/",
                &["bookshelf.can_set_premium"],
                false,
                post(books::premium),
            )?,
        )
        .route(
            "/books/{id}/borrow/",
            g.perms(
                "/books/{id}/borrow/",
                &["bookshelf.can_borrow_book"],
                false,
                post(books::borrow),
            )?,
        )
        .route(
            "/books/{id}/return/",
            g.perms(
                "/books/{id}/return/",
                &["bookshelf.can_return_book"],
                false,
                post(books::give_back),
            )?,
        )
        .route(
            "/inventory/",
            g.perms(
                "/inventory/",
                &["bookshelf.can_manage_inventory"],
                false,
                get(books::inventory),
            )?,
        )
        .route(
            "/inventory/{id}/stock/",
            g.perms(
                "/inventory/{id}/stock/",
                &["bookshelf.can_manage_inventory"],
                false,
                post(books::set_stock),
            )?,
        )
        .route(
            "/editor/",
            g.group("/editor/", "Editors", get(books::editor))?,
        )
        .route("/articles/", get(articles::list))
        .route(
            "/articles/add/",
            g.perms(
                "/articles/add/",
                &["bookshelf.add_article"],
                false,
                get(articles::add_form).post(articles::add),
            )?,
        )
        .route("/articles/{id}/", get(articles::detail))
        .route(
            "/articles/{id}/edit/",
            g.perms(
                "/articles/{id}/edit/",
                &["bookshelf.change_article"],
                false,
                get(articles::edit_form).post(articles::edit),
            )?,
        )
        .route(
            "/articles/{id}/submit/",
            g.perms(
                "/articles/{id}/submit/",
                &["bookshelf.change_article"],
                false,
                post(articles::submit),
            )?,
        )
        .route(
            "/articles/{id}/approve/",
            g.perms(
                "/articles/{id}/approve/",
                &["bookshelf.can_approve_article"],
                false,
                post(articles::approve),
            )?,
        )
        .route(
            "/articles/{id}/publish/",
            g.perms(
                "/articles/{id}/publish/",
                &["bookshelf.can_publish_article"],
                false,
                post(articles::publish),
            )?,
        )
        .route(
            "/articles/{id}/feature/",
            g.perms(
                "/articles/{id}/feature/",
                &["bookshelf.can_feature_article"],
                false,
                post(articles::feature),
            )?,
        )
        .nest("/accounts", castellan_axum::router())
        .fallback(fallback)
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

async fn fallback(
    axum::extract::State(state): axum::extract::State<AppState>,
    auth: AuthSession,
) -> error::AppResult {
    render::not_found(&state.templates, &auth).await
}

/// Parses a path id; anything but a positive integer is "not found".
pub(crate) fn parse_id(raw: &str) -> Option<i64> {
    raw.parse::<i64>().ok().filter(|id| *id > 0)
}
