//! # castellan-axum
//!
//! Django's web-side auth for axum, on Django's own tables: sessions in `django_session` (signed
//! with Django's format and `SECRET_KEY`, so a Django project sharing the database and the key
//! honours Castellan's logins and vice versa), login/logout/password-change views, the current-user
//! extractors, guards (login, permissions, groups, test functions) as route layers and extractors,
//! CSRF with Django's token scheme, `next` validated with Django's exact algorithm, login
//! throttling, and a fail-closed 503 when the database is down.
//!
//! It sits on `castellan-core` (principals, permission checks) and `castellan-store` (the
//! database), below the admin UI. It renders only minimal HTML, through the overridable [`Pages`].
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use castellan_axum::{AuthConfig, AuthLayer, CurrentUser, Require};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let store = castellan_store::Store::connect("sqlite://castellan.sqlite3").await?;
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
//! * Throttling is in memory and per process (see [`ThrottleConfig`]).
//! * A database failure while loading the session answers 503 with `Retry-After`; requests without
//!   a session cookie touch no database in the layer.

mod config;
mod csrf;
mod error;
mod extract;
mod layer;
mod next;
mod rejection;
mod require;
mod routes;
mod session;
mod signing;
mod throttle;
pub mod views;

pub use config::{
    escape, AuthConfig, DefaultPages, LoginPage, Pages, PasswordChangePage, MODEL_BACKEND,
};
pub use csrf::CsrfFailure;
pub use error::{Error, Result};
pub use extract::CurrentUser;
pub use layer::{AuthLayer, AuthService};
pub use next::{login_redirect_url, next_for_request, url_has_allowed_host_and_scheme};
pub use rejection::{Denied, MissingAuthLayer};
pub use require::{
    Authorized, Guard, LoggedIn, NoPermissionFn, Require, RequireLayer, RequireService, TestFn,
};
pub use routes::router;
pub use session::AuthSession;
pub use throttle::ThrottleConfig;

/// Django-compatible session data and signing, for interoperability tests and tools.
pub mod django {
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
        crate::session::decode_session(text, secret_key)
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
