//! Templates (embedded at build time) and page rendering: every page gets Django's `user`, `perms`
//! and `csrf_token` (from `castellan-templates`), the user's groups, and the pending messages.
//! [`BookshelfPages`] renders castellan-axum's login form and 403 page with the same look.

use std::sync::Arc;

use axum::response::{Html, IntoResponse, Response};
use std::future::Future;
use std::pin::Pin;

use castellan_axum::{AuthSession, Denial, LoginPage, Pages};
use http::StatusCode;
use minijinja::{context, Environment, Value};

use crate::web::error::AppResult;
use crate::web::messages;

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
        "registration/login.html",
        include_str!("../../templates/registration/login.html"),
    ),
    ("403.html", include_str!("../../templates/403.html")),
    ("404.html", include_str!("../../templates/404.html")),
];

/// The stylesheet served at `/static/style.css`.
pub const STYLE_CSS: &str = include_str!("../../static/style.css");

/// The template environment, shared by every request.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// Loads the embedded templates (a syntax error fails start-up, naming the template).
    pub fn new() -> Result<Self, minijinja::Error> {
        let mut env = Environment::new();
        castellan_templates::install(&mut env);
        for (name, src) in TEMPLATES {
            env.add_template(name, src)?;
        }
        Ok(Self { env })
    }

    /// Renders `name` with `ctx`.
    pub fn render(&self, name: &str, ctx: Value) -> Result<String, minijinja::Error> {
        self.env.get_template(name)?.render(ctx)
    }
}

/// Renders a page for this request with status `status`.
pub async fn page(
    templates: &Templates,
    auth: &AuthSession,
    status: StatusCode,
    name: &str,
    ctx: Value,
) -> AppResult {
    let principal = auth.principal();
    let groups = match auth.user() {
        Some(u) => auth.users().user_groups(&u).await?,
        None => Vec::new(),
    };
    let auth_ctx = castellan_templates::auth_context(&principal, groups, Some(auth.csrf_token()));
    let ctx = context! { messages => s(&messages::take(auth)), ..minijinja::value::merge_maps([ctx, auth_ctx]) };
    let html = templates.render(name, ctx)?;
    Ok((status, Html(html)).into_response())
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
        "404.html",
        context! {},
    )
    .await
}

/// castellan-axum's pages (login form, 403) in the Bookshelf look.
#[derive(Debug, Clone)]
pub struct BookshelfPages {
    templates: Arc<Templates>,
}

impl BookshelfPages {
    /// Pages rendered with `templates`.
    pub fn new(templates: Arc<Templates>) -> Self {
        Self { templates }
    }
}

impl Pages for BookshelfPages {
    fn login(&self, page: &LoginPage) -> Html<String> {
        let ctx = context! {
            csrf_token => castellan_templates::csrf_input(&page.csrf_token),
            next => page.next.clone(),
            username => page.username.clone(),
            error => page.error.clone(),
        };
        match self.templates.render("registration/login.html", ctx) {
            Ok(html) => Html(html),
            Err(e) => {
                tracing::error!(error = %e, "login template failed");
                Html(
                    "<!doctype html><title>Error</title><p>The login page failed to render.</p>"
                        .into(),
                )
            }
        }
    }

    /// The full 403 page for the refused request: the header shows the user's groups and the
    /// logout form, the body what is missing (the permissions, else the guard's sentence).
    fn forbidden(&self, denial: Denial) -> Pin<Box<dyn Future<Output = Response> + Send + '_>> {
        Box::pin(async move {
            let ctx = context! { permissions => denial.missing, message => denial.message };
            page(
                &self.templates,
                &denial.session,
                StatusCode::FORBIDDEN,
                "403.html",
                ctx,
            )
            .await
            .unwrap_or_else(IntoResponse::into_response)
        })
    }
}
