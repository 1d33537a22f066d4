//! Templates (embedded at build time) and page rendering: every page is rendered by
//! castellan-axum's [`render_page`], which gives it Django's `user`, `perms`, `csrf_token` and
//! `messages`. Bookshelf's `castellan/…` templates replace castellan-axum's login form and 403 and
//! 404 pages, rendered by [`TemplatePages`].

use std::sync::Arc;

use castellan_axum::{render_page, AuthSession, TemplatePages};
use http::StatusCode;
use minijinja::{context, Value};

pub use castellan_templates::Templates;

use crate::web::error::AppResult;

/// The application's templates: (name, source).
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    (
        "books/list.html",
        include_str!("../../templates/books/list.html"),
    ),
    (
        "books/detail.html",
        include_str!("../../templates/books/detail.html"),
    ),
    (
        "books/form.html",
        include_str!("../../templates/books/form.html"),
    ),
    (
        "books/confirm_delete.html",
        include_str!("../../templates/books/confirm_delete.html"),
    ),
    (
        "books/not_available.html",
        include_str!("../../templates/books/not_available.html"),
    ),
    (
        "books/inventory.html",
        include_str!("../../templates/books/inventory.html"),
    ),
    (
        "books/editor.html",
        include_str!("../../templates/books/editor.html"),
    ),
    (
        "articles/list.html",
        include_str!("../../templates/articles/list.html"),
    ),
    (
        "articles/detail.html",
        include_str!("../../templates/articles/detail.html"),
    ),
    (
        "articles/form.html",
        include_str!("../../templates/articles/form.html"),
    ),
    (
        "castellan/registration/login.html",
        include_str!("../../templates/registration/login.html"),
    ),
    (
        "castellan/403.html",
        include_str!("../../templates/403.html"),
    ),
    (
        "castellan/404.html",
        include_str!("../../templates/404.html"),
    ),
];

/// The stylesheet served at `/static/style.css`.
pub const STYLE_CSS: &str = include_str!("../../static/style.css");

/// The application's templates in front of castellan-templates' defaults (a syntax error fails
/// start-up, naming the template).
pub fn templates() -> Result<Templates, minijinja::Error> {
    let mut templates = Templates::new();
    for (name, src) in TEMPLATES {
        templates.add_template(*name, *src)?;
    }
    Ok(templates)
}

/// castellan-axum's pages (login form, 403, 404) from Bookshelf's templates; the 403 page says
/// which permissions are missing.
pub fn pages(templates: Arc<Templates>) -> TemplatePages {
    TemplatePages::new(templates).reveal_missing()
}

/// Renders a page for this request with status `status`.
pub async fn page(
    templates: &Templates,
    auth: &AuthSession,
    status: StatusCode,
    name: &str,
    ctx: Value,
) -> AppResult {
    Ok(render_page(templates, auth, status, name, ctx).await)
}

/// A serializable value for a template context.
pub fn s<T: serde::Serialize>(value: &T) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// Renders a page with 200 OK.
pub async fn ok(templates: &Templates, auth: &AuthSession, name: &str, ctx: Value) -> AppResult {
    page(templates, auth, StatusCode::OK, name, ctx).await
}

/// The 404 page.
pub async fn not_found(templates: &Templates, auth: &AuthSession) -> AppResult {
    page(
        templates,
        auth,
        StatusCode::NOT_FOUND,
        "castellan/404.html",
        context! {},
    )
    .await
}
