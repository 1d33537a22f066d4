//! [`router`]: the auth views at Django's paths, to nest under e.g. `/accounts`.

use axum::routing::get;
use axum::Router;

use crate::views::{login, logout, password_change};

/// `login/` (GET form, POST login), `logout/` (POST), `password_change/` (GET form, POST change).
/// Install [`AuthLayer`](crate::AuthLayer) around the router that nests this one.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/login/", get(login::login_form).post(login::login))
        .route("/logout/", axum::routing::post(logout::logout))
        .route(
            "/password_change/",
            get(password_change::password_change_form).post(password_change::password_change),
        )
}
