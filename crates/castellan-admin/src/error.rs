//! [`AdminError`]: every way an admin request can fail, with its status code.

use axum::response::{Html, IntoResponse, Response};
use http::StatusCode;

/// An admin page's refusal or failure. Internal errors are logged and masked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// 403: the user may not do this (the message says which permission or rule).
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such object or page.
    #[error("{0}")]
    NotFound(String),
    /// 400: the request is malformed (unknown field, bad value); nothing was written.
    #[error("{0}")]
    BadRequest(String),
    /// A store error (mapped: unavailable → 503; busy with concurrent changes, conflict, refused →
    /// 409; input → 400; other → 500).
    #[error(transparent)]
    Store(#[from] castellan_store::Error),
    /// 500: a template could not be rendered (a bug; logged).
    #[error("template error: {0}")]
    Template(String),
    /// 500: something the admin depends on failed (an application model's storage; logged).
    #[error("internal error: {0}")]
    Internal(String),
    /// A response decided elsewhere (the staff guard's login redirect or 403).
    #[error("refused")]
    Response(Box<Response>),
}

impl AdminError {
    /// The HTTP status of this error.
    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Store(e) if e.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            Self::Store(castellan_store::Error::NotFound { .. }) => StatusCode::NOT_FOUND,
            Self::Store(
                castellan_store::Error::Conflict(_) | castellan_store::Error::Refused(_),
            ) => StatusCode::CONFLICT,
            Self::Store(e) if e.is_busy() => StatusCode::CONFLICT,
            Self::Store(e) if e.is_input() => StatusCode::BAD_REQUEST,
            Self::Store(_) | Self::Template(_) | Self::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            Self::Response(r) => r.status(),
        }
    }

    /// The message shown to the user (internal details are masked).
    fn public_message(&self) -> String {
        match self {
            Self::Store(e) if e.is_unavailable() => {
                "The database is unavailable. Please try again in a moment.".to_owned()
            }
            Self::Store(e) if e.is_busy() => {
                "The database was busy with other changes made at the same moment, so nothing was saved. Reload the page and try again.".to_owned()
            }
            Self::Store(e) if e.is_input() => e.to_string(),
            Self::Store(_) | Self::Template(_) | Self::Internal(_) => {
                "Internal error; it has been logged.".to_owned()
            }
            other => other.to_string(),
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        if let Self::Response(r) = self {
            return *r;
        }
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!("castellan-admin: {self}");
        }
        let heading = format!(
            "{} {}",
            status.as_str(),
            status.canonical_reason().unwrap_or("Error")
        );
        let ctx = minijinja::context! {
            site_title => "Administration",
            heading => &heading,
            message => self.public_message(),
        };
        let html = crate::render::Renderer::defaults()
            .render_raw("error.html", ctx)
            .unwrap_or_else(|e| {
                tracing::error!("castellan-admin: the error page failed to render: {e:#}");
                format!("{heading}\n")
            });
        let mut response = Html(html).into_response();
        *response.status_mut() = status;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_static("5"),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::AdminError;
    use http::StatusCode;

    #[test]
    fn collisions_are_409_and_outages_503() {
        let busy = AdminError::Store(castellan_store::Error::Busy(sqlx::Error::PoolTimedOut));
        assert_eq!(busy.status_code(), StatusCode::CONFLICT);
        assert!(busy.public_message().contains("try again"));
        let down = AdminError::Store(castellan_store::Error::Unavailable(
            sqlx::Error::PoolTimedOut,
        ));
        assert_eq!(down.status_code(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
