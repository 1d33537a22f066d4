//! `LoginView`: the form (`GET`) and the login (`POST` with `username`, `password`,
//! `csrfmiddlewaretoken`, `next`), with throttling: each attempt is reserved before the password
//! is checked (see the crate docs' "Login throttling").

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde::Deserialize;

use crate::client::client_ip;
use crate::error::Error;
use crate::pages::LoginPage;
use crate::rejection::found;
use crate::session::AuthSession;
use crate::throttle::Verdict;
use crate::views::safe_next;

/// Django's `AuthenticationForm` error.
pub const INVALID_LOGIN: &str =
    "Please enter a correct username and password. Note that both fields may be case-sensitive.";
/// The refusal while throttled.
pub const THROTTLED: &str = "Too many failed login attempts. Please try again later.";
/// Passwords longer than this are refused before any hashing (bounded work; Django 4096).
const MAX_PASSWORD_BYTES: usize = 4096;
/// Usernames longer than this cannot exist (Django: 150 characters) and are refused unhashed.
const MAX_USERNAME_BYTES: usize = 1024;

/// The `next` query parameter.
#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    /// Where to go after the action.
    pub next: Option<String>,
}

/// The login form fields (Django's names).
#[derive(Debug, Default, Deserialize)]
pub struct LoginForm {
    /// `username`.
    pub username: Option<String>,
    /// `password`.
    pub password: Option<String>,
    /// `next`.
    pub next: Option<String>,
}

fn page(
    auth: &AuthSession,
    status: StatusCode,
    next: Option<String>,
    username: String,
    error: Option<&str>,
) -> Response {
    let page = LoginPage {
        csrf_token: auth.csrf_token(),
        next: next.unwrap_or_default(),
        username,
        error: error.map(str::to_owned),
    };
    (status, auth.shared.config.pages.login(&page)).into_response()
}

/// `GET`: the login form.
pub async fn login_form(
    auth: AuthSession,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Response {
    let next = safe_next(&auth, &headers, &[q.next.as_deref()]);
    page(&auth, StatusCode::OK, next, String::new(), None)
}

/// `POST`: authenticate, log in, redirect to the safe `next` or `LOGIN_REDIRECT_URL`.
pub async fn login(
    auth: AuthSession,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(&auth, &headers, &[form.next.as_deref(), q.next.as_deref()]);
    let username = form.username.unwrap_or_default();
    let password = form.password.unwrap_or_default();
    if username.is_empty() || password.is_empty() {
        return page(
            &auth,
            StatusCode::OK,
            next,
            username,
            Some("This field is required."),
        );
    }
    // Refused before any hashing, and before the throttle so that no huge key is remembered.
    if password.len() > MAX_PASSWORD_BYTES || username.len() > MAX_USERNAME_BYTES {
        return page(
            &auth,
            StatusCode::OK,
            next,
            String::new(),
            Some(INVALID_LOGIN),
        );
    }
    let shared = std::sync::Arc::clone(&auth.shared);
    let peer = peer.map(|Extension(ConnectInfo(addr))| addr);
    if peer.is_none() {
        shared.throttle.warn_no_peer_address();
    }
    let ip = client_ip(peer, &headers, &shared.config.trusted_proxies);
    // Reserved (counted) before the password is checked: concurrent attempts cannot exceed the
    // budget. A success or an outage gives the reservation back.
    let reservation = match shared.throttle.login(&username, ip) {
        Verdict::Refuse(wait) => {
            tracing::warn!(username = %username, ip = ?ip, "login throttled");
            let mut r = page(
                &auth,
                StatusCode::TOO_MANY_REQUESTS,
                next,
                username,
                Some(THROTTLED),
            );
            r.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(wait.as_secs().max(1)),
            );
            return r;
        }
        Verdict::Proceed(delay, reservation) => {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            reservation
        }
    };
    let retry = shared.config.retry_after;
    let user = match shared.users.authenticate(&username, &password).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            drop(reservation);
            return page(&auth, StatusCode::OK, next, username, Some(INVALID_LOGIN));
        }
        // Not a failed attempt: nothing is counted, and the answer is 503, not "invalid credentials".
        Err(e) => {
            reservation.not_attempted();
            return Error::backend(e, retry).into_response();
        }
    };
    reservation.succeeded();
    if let Err(e) = shared.users.touch_last_login(&user).await {
        return Error::backend(e, retry).into_response();
    }
    if let Err(e) = auth.login(&user).await {
        return e.into_response();
    }
    found(next.as_deref().unwrap_or(&shared.config.login_redirect_url))
}
