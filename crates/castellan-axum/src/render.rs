//! Rendering a page for a request: the session's `user`, `perms`, `csrf_token` and `messages`
//! merged into the view's own context (Django's `auth`, `csrf` and `messages` context processors).

use axum::response::{Html, IntoResponse, Response};
use castellan_templates::{auth_context, messages_value, Templates};
use http::StatusCode;
use minijinja::{context, Value};

use crate::error::Error;
use crate::session::AuthSession;

/// The template variables of this request: `user` (with the user's group names), `perms`,
/// `csrf_token` (the hidden input), `csrf_token_value` and `messages` — the pending
/// [`messages`](crate::messages), which are taken: they are shown once.
///
/// Loading the group names reads the backend; an unavailable database is [`Error::Unavailable`].
pub async fn page_context(auth: &AuthSession) -> Result<Value, Error> {
    let principal = auth.principal();
    let groups = match auth.user() {
        Some(user) => auth
            .users()
            .user_groups(&user)
            .await
            .map_err(|e| auth.backend_error(e))?,
        None => Vec::new(),
    };
    let auth_ctx = auth_context(&principal, groups, Some(auth.csrf_token()));
    let messages = messages_value(&crate::messages::take(auth));
    Ok(context! { messages => messages, ..auth_ctx })
}

/// Renders template `name` for this request with `status`: the view's `ctx` merged with
/// [`page_context`] (the view's keys win).
///
/// ```no_run
/// use std::sync::Arc;
/// use axum::{extract::State, response::Response};
/// use castellan_axum::{render_page, AuthSession};
/// use castellan_templates::Templates;
///
/// async fn books(State(templates): State<Arc<Templates>>, auth: AuthSession) -> Response {
///     let ctx = minijinja::context! { books => vec!["Dune"] };
///     render_page(&templates, &auth, http::StatusCode::OK, "books/list.html", ctx).await
/// }
/// ```
pub async fn render_page(
    templates: &Templates,
    auth: &AuthSession,
    status: StatusCode,
    name: &str,
    ctx: Value,
) -> Response {
    try_render_page(templates, auth, status, name, ctx)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// [`render_page`], with the failure as an [`Error`] (a 503 or 500 when turned into a response)
/// for views that handle it themselves.
pub async fn try_render_page(
    templates: &Templates,
    auth: &AuthSession,
    status: StatusCode,
    name: &str,
    ctx: Value,
) -> Result<Response, Error> {
    let page = page_context(auth).await?;
    let full = minijinja::value::merge_maps([ctx, page]);
    let html = templates.render(name, full).map_err(|e| Error::Render {
        template: name.to_owned(),
        message: format!("{e:#}"),
    })?;
    Ok((status, Html(html)).into_response())
}
