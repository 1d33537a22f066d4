//! [`AppError`]: what a handler can fail with, answered as a 503 (database unreachable), a 409
//! (a Castellan store call collided with concurrent changes and still did after its retries;
//! nothing was changed) or a 500 whose details go to the log only.

use axum::response::{Html, IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};

/// A request that could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A Castellan store call, or one of the application's own queries, failed.
    #[error("store error: {0}")]
    Store(#[from] castellan_store::Error),
    /// The web layer's user backend failed.
    #[error("backend error: {0}")]
    Backend(#[from] castellan_core::BackendError),
    /// A template failed to render.
    #[error("template error: {0:#}")]
    Render(#[from] minijinja::Error),
}

impl AppError {
    fn unavailable(&self) -> bool {
        match self {
            Self::Store(e) => e.is_unavailable(),
            Self::Backend(e) => e.is_unavailable(),
            Self::Render(_) => false,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let busy = match &self {
            Self::Store(e) => e.is_busy(),
            Self::Backend(e) => e.kind() == castellan_core::BackendErrorKind::Busy,
            _ => false,
        };
        if busy {
            tracing::warn!(error = %self, "concurrent changes collided; answering 409");
            return (
                StatusCode::CONFLICT,
                Html("<!doctype html><title>409</title><h1>Conflict</h1><p>The database was busy with other changes made at the same moment, so nothing was saved. Please try again.</p>"),
            )
                .into_response();
        }
        if self.unavailable() {
            tracing::warn!(error = %self, "database unavailable; answering 503");
            let mut r = (
                StatusCode::SERVICE_UNAVAILABLE,
                Html("<!doctype html><title>503</title><h1>Service unavailable</h1><p>The database cannot be reached; please retry shortly.</p>"),
            )
                .into_response();
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            return r;
        }
        tracing::error!(error = %self, "request failed");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Html("<!doctype html><title>500</title><h1>Server error</h1><p>Something went wrong; the details are in the server log.</p>"),
        )
            .into_response()
    }
}

/// A handler's result.
pub type AppResult = Result<Response, AppError>;
