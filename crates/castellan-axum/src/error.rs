//! The crate's error type: configuration errors found at start-up, and request-time failures that
//! become responses through one [`Error::status_code`] mapping (internals are logged, never shown).

use std::time::Duration;

use axum::response::{IntoResponse, Response};
use castellan_core::BackendError;
use http::{header, HeaderValue, StatusCode};

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The backend's database or service could not be reached: 503 with `Retry-After`; nothing is
    /// cached from it.
    #[error("the database is unavailable")]
    Unavailable {
        /// How long clients should wait.
        retry_after: Duration,
        /// The backend's error.
        #[source]
        source: BackendError,
    },
    /// Any other backend failure: 500 (the details go to the log only).
    #[error("backend error: {0}")]
    Backend(#[source] BackendError),
    /// A configuration mistake found when the router is built (unknown permission, empty secret key).
    #[error("{0}")]
    Config(String),
    /// A template failed to render: 500 (the details go to the log only).
    #[error("template {template} failed to render: {message}")]
    Render {
        /// The template's name.
        template: String,
        /// minijinja's error, with its chain.
        message: String,
    },
}

impl Error {
    /// Wraps a backend error (unavailable → [`Error::Unavailable`]).
    pub(crate) fn backend(e: BackendError, retry_after: Duration) -> Self {
        if e.is_unavailable() {
            Self::Unavailable {
                retry_after,
                source: e,
            }
        } else {
            Self::Backend(e)
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Backend(_) | Self::Config(_) | Self::Render { .. } => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status_code();
        match &self {
            Self::Unavailable { source, .. } => {
                tracing::warn!(error = %source, "database unavailable; answering 503")
            }
            _ => tracing::error!(error = %self, "request failed"),
        }
        let body = match status {
            StatusCode::SERVICE_UNAVAILABLE => {
                "Service temporarily unavailable; please retry shortly."
            }
            _ => "Internal server error.",
        };
        let mut response = (status, body).into_response();
        if let Self::Unavailable { retry_after, .. } = self {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after.as_secs().max(1)),
            );
        }
        response
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
