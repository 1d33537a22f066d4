//! `LogoutView`: `POST` only; deletes the session row, clears the cookie, redirects.

use axum::extract::Query;
use axum::response::Response;
use axum::Form;
use http::HeaderMap;

use crate::rejection::found;
use crate::session::AuthSession;
use crate::views::login::NextQuery;
use crate::views::safe_next;

/// `POST`: log out and redirect to the safe `next`, else the configured logout redirect URL.
pub async fn logout(
    auth: AuthSession,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
    Form(form): Form<NextQuery>,
) -> Response {
    auth.logout();
    let next = safe_next(&auth, &headers, &[form.next.as_deref(), q.next.as_deref()]);
    found(
        next.as_deref()
            .unwrap_or(&auth.shared.config.logout_redirect_url),
    )
}
