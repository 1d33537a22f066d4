//! [`router`]: the auth views at Django's paths, to nest under e.g. `/accounts`.

use axum::extract::OriginalUri;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::pages::NotFound;
use crate::session::AuthSession;
use crate::views::{login, logout, password_change, password_reset};

/// Django's `django.contrib.auth.urls`: `login/` (GET form, POST login), `logout/` (POST),
/// `password_change/` (GET form, POST change), `password_reset/` (GET form, POST send a link),
/// `password_reset/done/`, `reset/{uidb64}/{token}/` (the link; GET, and POST for the
/// new-password form at `reset/{uidb64}/set-password/`) and `reset/done/` (see
/// [`views::password_reset`](crate::views::password_reset)). Install
/// [`AuthLayer`](crate::AuthLayer) around the router that nests this one.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/login/", get(login::login_form).post(login::login))
        .route("/logout/", axum::routing::post(logout::logout))
        .route(
            "/password_change/",
            get(password_change::password_change_form).post(password_change::password_change),
        )
        .route(
            "/password_reset/",
            get(password_reset::password_reset_form).post(password_reset::password_reset),
        )
        .route(
            "/password_reset/done/",
            get(password_reset::password_reset_done),
        )
        .route(
            "/reset/{uidb64}/{token}/",
            get(password_reset::password_reset_confirm)
                .post(password_reset::password_reset_confirm_post),
        )
        .route("/reset/done/", get(password_reset::password_reset_complete))
}

/// The 404 page for a request no route matched, rendered by [`Pages::not_found`](crate::Pages::not_found)
/// (`castellan/404.html`): give it to `Router::fallback`, inside the [`AuthLayer`](crate::AuthLayer)
/// so the page knows the user.
///
/// ```no_run
/// # async fn demo(auth: castellan_axum::AuthLayer) {
/// let app: axum::Router = axum::Router::new()
///     .nest("/accounts", castellan_axum::router())
///     .fallback(castellan_axum::not_found)
///     .layer(auth);
/// # }
/// ```
pub async fn not_found(auth: AuthSession, uri: OriginalUri) -> Response {
    let request = NotFound {
        session: auth.clone(),
        path: uri.0.path().to_owned(),
    };
    auth.shared.config.pages.not_found(request).await
}
