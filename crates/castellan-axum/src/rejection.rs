//! Rejections: what an extractor or guard answers instead of running the handler.

use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};

use crate::error::Error;

/// The request did not pass through [`AuthLayer`](crate::AuthLayer): a 500 that names the fix.
#[derive(Debug, Clone, Copy, Default)]
pub struct MissingAuthLayer;

impl std::fmt::Display for MissingAuthLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "no authentication state in the request. Is `AuthLayer` installed? \
             Add `.layer(auth_layer)` to the router (outside every route that uses `CurrentUser`, \
             `AuthSession` or a guard).",
        )
    }
}

impl std::error::Error for MissingAuthLayer {}

impl IntoResponse for MissingAuthLayer {
    fn into_response(self) -> Response {
        tracing::error!("{self}");
        (StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
    }
}

/// A guard's refusal, Django-style: a redirect to the login page (anonymous users), a 403
/// (authenticated users, or `raise_exception`), or a 503 when the check could not be completed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Denied {
    /// 302 to this login URL (with `next` already in it).
    Login(String),
    /// 403 with the guard's handler or the configured 403 page.
    Forbidden(Response),
    /// 404: the object a route names does not exist (an object guard; the configured 404 page).
    NotFound(Response),
    /// The check could not run (database unavailable: 503; fail closed).
    Error(Error),
    /// No [`AuthLayer`](crate::AuthLayer) before the guard.
    MissingLayer(MissingAuthLayer),
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        match self {
            Self::Login(url) => found(&url),
            Self::Forbidden(r) | Self::NotFound(r) => r,
            Self::Error(e) => e.into_response(),
            Self::MissingLayer(m) => m.into_response(),
        }
    }
}

/// A `302 Found` to `url` (Django's `HttpResponseRedirect`); a URL that cannot be a header value
/// (it cannot come from this crate's own encoding) answers 500.
pub(crate) fn found(url: &str) -> Response {
    match HeaderValue::from_str(url) {
        Ok(v) => (StatusCode::FOUND, [(header::LOCATION, v)]).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
