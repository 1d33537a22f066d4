//! # castellan-axum
//!
//! Django's web-side auth for axum, on Django's own tables: sessions in `django_session` (signed
//! with Django's format and `SECRET_KEY`, so a Django project sharing the database and the key
//! honours Castellan's logins and vice versa), login/logout/password-change views, the current-user
//! extractors, guards (login, permissions, groups, test functions) as route layers and extractors,
//! CSRF with Django's token scheme, `next` validated with Django's exact algorithm, login
//! throttling, Django's security headers, allowed hosts and input limits, and a fail-closed 503
//! when the database is down.
//!
//! It sits on `castellan-core` only: users and sessions come from any
//! [`AuthnBackend`](castellan_core::AuthnBackend) and [`SessionStore`](castellan_core::SessionStore).
//! With the default `sqlx` feature, [`Store`] (from `castellan-store`) is the one on Django's
//! tables — on SQLite; the `postgres` and `mysql` features add the store's other drivers —
//! and [`MemoryBackend`](castellan_core::MemoryBackend) keeps everything in memory. Its pages
//! (login, password change, 403, 404) are `castellan-templates` templates rendered through
//! [`Pages`]: [`TemplatePages`] renders an application's own `castellan/…` templates, and a
//! refused request reaches [`Pages::forbidden`] with a [`Denial`]: the session, and the
//! permissions that are missing. [`render_page`] renders any page of the application with the
//! request's `user`, `perms`, `csrf_token` and [`messages`].
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use castellan_axum::{AuthConfig, AuthLayer, CurrentUser, Require};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let store = castellan_axum::Store::connect("sqlite://castellan.sqlite3").await?;
//! let auth = AuthLayer::new(store, AuthConfig::new("django-insecure-…")).await?;
//!
//! async fn books(user: CurrentUser) -> String {
//!     format!("hello {}", user.principal.identity())
//! }
//!
//! let app: Router = Router::new()
//!     .route("/books/", get(books))
//!     // Checked now: an unknown permission fails start-up with the closest real name.
//!     .route_layer(auth.require("/books/", Require::perm("auth.view_user"))?)
//!     .nest("/accounts", castellan_axum::router())
//!     .layer(auth);
//! # let _ = app; Ok(()) }
//! ```
//!
//! The same guards in front of users kept in memory:
//!
//! ```
//! use castellan_axum::{AuthConfig, AuthLayer, Require};
//! use castellan_core::MemoryBackend;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let users = MemoryBackend::new();
//! users.add_permission("library", "view_book")?;
//! let auth = AuthLayer::new(users.clone(), AuthConfig::new("a long random secret")).await?;
//! assert!(auth.require("/books/", Require::perm("library.view_book")).is_ok());
//! assert!(auth.require("/books/", Require::perm("library.view_bok")).is_err()); // a typo fails start-up
//! # Ok(()) }
//! ```
//!
//! ## Behaviour worth knowing
//!
//! * Every request with a session cookie re-reads the user row: a deleted or deactivated user, or
//!   one whose password hash changed, is logged out (session flushed) on the next request.
//! * Guard outcomes follow Django's access mixins: anonymous → 302 to `LOGIN_URL?next=…`;
//!   authenticated without the permission → 403; `raise_exception` → 403 for everyone.
//! * Guard permission names are validated against the database's permission index, loaded by
//!   [`AuthLayer::new`]; permissions created later need a restart to be usable in guards.
//! * CSRF applies to every unsafe method on routes behind the layer (except the configured exempt
//!   prefixes). The token is read from `X-CSRFToken` or from an urlencoded form's
//!   `csrfmiddlewaretoken` (multipart forms must use the header).
//! * A database failure while loading the session answers 503 with `Retry-After`; requests without
//!   a session cookie touch no database in the layer.
//!
//! ## Key rotation and password reset
//!
//! [`AuthConfig::with_secret_key_fallbacks`] is Django's `SECRET_KEY_FALLBACKS`: sessions, session
//! auth hashes and password-reset links signed with an earlier key stay valid, new ones use the
//! current key, and a session whose auth hash only a fallback verifies is moved to the current key
//! (new session key, new hash) as Django's `get_user` does. [`router`] serves Django's
//! password-reset views (`password_reset/`, `reset/<uidb64>/<token>/`, …) with links compatible with
//! Django's, sent through an [`EmailSender`] (the console by default; SMTP with the `smtp`
//! feature). See the [guide](guide::password_reset).
//!
//! | feature | default | what |
//! |---|---|---|
//! | `sqlx` | yes | [`Store`] on Django's tables (SQLite) |
//! | `postgres`, `mysql` | no | the store's other drivers |
//! | `smtp` | no | `SmtpEmailSender` (lettre, rustls) |
//!
//! ## Login throttling
//!
//! Every password check is *reserved* before it runs: under one lock the attempt is checked against
//! the limits and counted at once, so a burst of concurrent POSTs cannot get more checks than the
//! budget; a success gives its reservation back, and an unavailable database counts nothing.
//!
//! * per (username, client address): refused (429, `Retry-After`) after
//!   [`ThrottleConfig::lock_after`] failures (default 10);
//! * per client address, across usernames: refused after [`ThrottleConfig::ip_lock_after`]
//!   (default 100);
//! * per username, from everywhere: only *delayed* after [`ThrottleConfig::slow_after`] failures
//!   (250 ms doubling, at most 2 s), never refused.
//!
//! Why: a username-wide lockout is a free denial of service (anyone can lock the owner out by
//! failing on purpose); the per-address limits bound guessing, and the username-wide delay slows a
//! distributed attack without stopping the owner, whose right password from a fresh address still
//! logs in. The password-change form's old-password check is refused per user after
//! `lock_after` failures. The client address is the socket peer (`ConnectInfo<SocketAddr>`; serve
//! with `into_make_service_with_connect_info`), or behind
//! [`AuthConfig::with_trusted_proxies`] the right-most `X-Forwarded-For` address that is not a
//! trusted proxy. Counters are in memory and per process, forgotten
//! [`ThrottleConfig::lockout`] (15 min) after their last failure.
//!
//! ## The boundary
//!
//! Before anything else the layer refuses a `Host` outside [`AuthConfig::with_allowed_hosts`]
//! (400; a request without `Host` is served as host-less, so only relative `next` URLs are
//! same-origin for it), then checks the query string and any urlencoded body against
//! [`FormLimits`] (400 for more than 1,000 fields, a NUL or invalid UTF-8 after percent-decoding;
//! 413 for a body over 2.5 MiB, of which no more is read) with [`parse_urlencoded`]. Every response
//! leaving the layer carries Django's `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff`,
//! `Referrer-Policy: same-origin` and `Cross-Origin-Opener-Policy: same-origin` (unless the
//! handler set them), HSTS in HTTPS mode with [`AuthConfig::with_hsts_seconds`], and for a
//! logged-in user `Cache-Control: private` (unless set) and `Vary: Cookie`. A `next` containing a
//! control character (CR/LF…) is never used: the default redirect is.

mod backend;
mod client;
mod config;
mod csrf;
mod decoded_sessions;
mod email;
mod error;
mod extract;
pub mod form;
mod headers;
mod hosts;
mod input;
mod layer;
mod log_writer;
pub mod messages;
mod next;
mod object_guard;
mod pages;
mod rejection;
mod render;
mod request_log;
mod require;
mod routes;
mod session;
mod session_users;
mod shared;
mod signing;
mod throttle;
pub mod views;

pub use backend::Users;
#[cfg(feature = "sqlx")]
pub use castellan_store::Store;
pub use config::{AuthConfig, MODEL_BACKEND};
pub use csrf::CsrfFailure;
#[cfg(feature = "smtp")]
pub use email::SmtpEmailSender;
pub use email::{ConsoleEmailSender, EmailFuture, EmailMessage, EmailSender, MemoryEmailSender};
pub use error::{Error, Result};
pub use extract::CurrentUser;
pub use form::{parse_urlencoded, FormError, FormLimits};
pub use hosts::default_allowed_hosts;
pub use layer::{AuthLayer, AuthService};
pub use log_writer::{LogFlusher, LogWriter};
pub use next::{login_redirect_url, next_for_request, url_has_allowed_host_and_scheme};
pub use object_guard::{GuardedObject, ObjectAuthorized, ObjectGuard};
pub use pages::{
    DefaultPages, Denial, LoginPage, NotFound, PageFuture, Pages, PasswordChangePage,
    PasswordResetConfirmPage, PasswordResetEmail, PasswordResetPage, TemplatePages,
};
pub use rejection::{Denied, MissingAuthLayer};
pub use render::{page_context, render_page, try_render_page};
pub use request_log::with_request_log;
pub use require::{
    Authorized, Guard, LoggedIn, NoPermissionFn, Require, RequireLayer, RequireService, TestFn,
};
pub use routes::{not_found, router};
pub use session::AuthSession;
pub use throttle::ThrottleConfig;

/// Django-compatible session data and signing, for interoperability tests and tools.
pub mod django {
    use castellan_core::signing::SecretKeys;

    /// Encodes a session dict as Django's database backend stores it (`signing.dumps(…,
    /// salt="django.contrib.sessions.SessionStore", compress=True)`).
    pub fn encode_session(
        data: &serde_json::Map<String, serde_json::Value>,
        secret_key: &[u8],
    ) -> String {
        crate::session::encode_session(data, secret_key)
    }

    /// Decodes Django session data (an invalid signature gives an empty map, as in Django).
    pub fn decode_session(
        text: &str,
        secret_key: &[u8],
    ) -> serde_json::Map<String, serde_json::Value> {
        crate::session::decode_session(text, &SecretKeys::new(secret_key))
    }

    /// Decodes Django session data signed with the secret key or any of its fallbacks
    /// (`SECRET_KEY_FALLBACKS`); anything else gives an empty map, as in Django.
    pub fn decode_session_with_fallbacks(
        text: &str,
        keys: &SecretKeys,
    ) -> serde_json::Map<String, serde_json::Value> {
        crate::session::decode_session(text, keys)
    }

    /// `AbstractBaseUser.get_session_auth_hash()` for a stored password hash.
    pub fn session_auth_hash(password_hash: &str, secret_key: &[u8]) -> String {
        crate::signing::session_auth_hash(password_hash, secret_key)
    }
}

/// Internals the fuzz targets (`fuzz/`) and property tests call. Not a stable API.
#[doc(hidden)]
pub mod __fuzz {
    /// Masks a CSRF secret with a fresh random mask.
    pub fn csrf_mask(secret: &str) -> String {
        crate::csrf::mask(secret)
    }

    /// Whether a submitted CSRF token (32 or 64 characters) matches the secret.
    pub fn csrf_token_matches(token: &str, secret: &str) -> bool {
        crate::csrf::token_matches(token, secret)
    }

    /// The secret a CSRF cookie value holds, or `None` when malformed.
    pub fn csrf_secret_from_cookie(value: &str) -> Option<String> {
        crate::csrf::secret_from_cookie(value)
    }

    /// A new CSRF secret.
    pub fn csrf_new_secret() -> String {
        crate::csrf::new_secret()
    }
}

/// Guides: longer walk-throughs than the API documentation. The guards guide is on [`Require`].
pub mod guide {
    #[doc = include_str!("docs/getting_started.md")]
    pub mod getting_started {}

    #[doc = include_str!("docs/templates.md")]
    pub mod templates {}

    #[doc = include_str!("docs/password_reset.md")]
    pub mod password_reset {}
}
