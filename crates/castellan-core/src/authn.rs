//! The seam between the web layer and wherever users live: [`AuthnBackend`] answers Django's
//! `authenticate` and `get_user`, loads a user's [`Principal`], and records logins and password
//! changes. `castellan-store` implements it on Django's tables; [`MemoryBackend`](crate::MemoryBackend)
//! implements it in memory (tests, prototypes). The guards of `castellan-axum` run in front of any
//! implementation.
//!
//! ## Implementing a backend
//!
//! Users kept elsewhere (a directory service, another schema) plug in by implementing the seven
//! required methods (and [`AuthnBackend::users_by_email`] for the password-reset views); "wrong password" and "no such user" are `Ok(None)`, a failure of the service is an
//! [`BackendError`] whose kind tells the web layer what to answer.
//!
//! ```
//! use std::sync::Arc;
//! use castellan_core::{
//!     AuthnBackend, BackendResult, Identity, PermIndex, PermissionRow, Principal, User,
//!     UserFlags, UserPerms,
//! };
//!
//! /// One administrator, whose password is checked elsewhere (here: a fixed one).
//! struct OneAdmin { user: User, index: Arc<PermIndex> }
//!
//! impl AuthnBackend for OneAdmin {
//!     async fn authenticate(&self, username: &str, password: &str) -> BackendResult<Option<User>> {
//!         Ok((username == self.user.username && password == "let me in").then(|| self.user.clone()))
//!     }
//!     async fn user_by_session_id(&self, id: &str) -> BackendResult<Option<User>> {
//!         Ok((id == self.user.id.to_string()).then(|| self.user.clone()))
//!     }
//!     async fn principal(&self, user: &User) -> BackendResult<Principal> {
//!         let all = self.index.all();
//!         let perms = Arc::new(UserPerms::new(all, self.index.set_from_rows([])));
//!         Ok(Principal::new(Identity::User(UserFlags::from(user)), perms, Arc::clone(&self.index)))
//!     }
//!     async fn permission_index(&self) -> BackendResult<Arc<PermIndex>> {
//!         Ok(Arc::clone(&self.index))
//!     }
//!     async fn user_groups(&self, _user: &User) -> BackendResult<Vec<String>> {
//!         Ok(Vec::new())
//!     }
//!     async fn set_password(&self, _user: &User, _raw: &str) -> BackendResult<Option<User>> {
//!         Err(castellan_core::BackendError::other("passwords are managed elsewhere"))
//!     }
//!     async fn touch_last_login(&self, _user: &User) -> BackendResult<()> {
//!         Ok(())
//!     }
//! }
//! # let _ = OneAdmin {
//! #     user: User {
//! #         id: castellan_core::UserId::Int(1), password: String::new(), last_login: None, is_superuser: false,
//! #         username: "admin".into(), first_name: String::new(), last_name: String::new(),
//! #         email: String::new(), is_staff: true, is_active: true, date_joined: Some(chrono::Utc::now()),
//! #     },
//! #     index: Arc::new(PermIndex::new([PermissionRow {
//! #         id: 1, app_label: "auth".into(), codename: "change_user".into(),
//! #     }])),
//! # };
//! ```

use std::future::Future;
use std::sync::Arc;

use crate::{PermIndex, Principal, User};

/// What kind of failure a backend reports: the web layer answers each differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendErrorKind {
    /// The backing service cannot be reached: answered with 503 and `Retry-After`.
    Unavailable,
    /// The change collided with concurrent ones; trying again may succeed (409 in the admin).
    Busy,
    /// Anything else: 500, details in the log only.
    Other,
}

/// A failure of an [`AuthnBackend`] or [`SessionStore`](crate::SessionStore): its kind, and the
/// implementation's own error as the source.
#[derive(Debug, thiserror::Error)]
#[error("{source}")]
pub struct BackendError {
    kind: BackendErrorKind,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl BackendError {
    /// Wraps an implementation's error.
    pub fn new(
        kind: BackendErrorKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            kind,
            source: source.into(),
        }
    }

    /// The backing service is unreachable.
    pub fn unavailable(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::new(BackendErrorKind::Unavailable, source)
    }

    /// Any other failure.
    pub fn other(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::new(BackendErrorKind::Other, source)
    }

    /// The kind of failure.
    pub fn kind(&self) -> BackendErrorKind {
        self.kind
    }

    /// Whether the backing service is unreachable (answer 503, cache nothing).
    pub fn is_unavailable(&self) -> bool {
        self.kind == BackendErrorKind::Unavailable
    }

    /// The implementation's error, for callers that know which backend they run.
    pub fn source_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.source
    }
}

/// `Result` of a backend call.
pub type BackendResult<T> = std::result::Result<T, BackendError>;

/// Users, their credentials and their permissions, as the web layer needs them (Django's
/// authentication backend plus `get_user`).
///
/// Every method is called on the request path; none may cache anything that would survive a
/// revocation, deactivation or password change made elsewhere (the next request must see it).
pub trait AuthnBackend: Send + Sync + 'static {
    /// Django's `authenticate(username=…, password=…)`: `Ok(Some(user))` for an active user whose
    /// password matches, `Ok(None)` for an unknown user, a wrong password or an inactive user.
    /// Implementations spend the same hashing work whether or not the user exists, and may upgrade
    /// an out-of-date hash of a correct password.
    fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> impl Future<Output = BackendResult<Option<User>>> + Send;

    /// Django's `backend.get_user(user_id)`: the user whose primary key is `id`, as the session
    /// stores it (`_auth_user_id`, a string), or `None` when there is none or `id` is malformed.
    /// Inactive users are returned; the caller decides.
    fn user_by_session_id(
        &self,
        id: &str,
    ) -> impl Future<Output = BackendResult<Option<User>>> + Send;

    /// The subject for permission checks of `user` (flags taken from `user` as given).
    fn principal(&self, user: &User) -> impl Future<Output = BackendResult<Principal>> + Send;

    /// Every permission that exists, interned: guards validate their permission names against it.
    fn permission_index(&self) -> impl Future<Output = BackendResult<Arc<PermIndex>>> + Send;

    /// The names of the groups `user` belongs to, sorted.
    fn user_groups(&self, user: &User) -> impl Future<Output = BackendResult<Vec<String>>> + Send;

    /// Sets `user`'s password (hashed with the preferred hasher) and returns the updated row, or
    /// `None` if the user no longer exists.
    fn set_password(
        &self,
        user: &User,
        raw: &str,
    ) -> impl Future<Output = BackendResult<Option<User>>> + Send;

    /// Records a successful login (Django's `update_last_login`).
    fn touch_last_login(&self, user: &User) -> impl Future<Output = BackendResult<()>> + Send;

    /// The active users whose e-mail equals `email` ignoring case — the query of Django's
    /// `PasswordResetForm.get_users` (`email__iexact`, `is_active=True`), for the password-reset
    /// view. The caller keeps those with a usable password whose address also matches under
    /// Unicode case folding ([`tokens::reset_recipients`](crate::tokens::reset_recipients)), so
    /// a backend may return more than that, never fewer. A blank `email` matches nobody.
    ///
    /// The default refuses with an error naming the method: a backend that cannot search by
    /// e-mail cannot serve the password-reset form.
    fn users_by_email(&self, email: &str) -> impl Future<Output = BackendResult<Vec<User>>> + Send {
        let _ = email;
        async {
            Err(BackendError::other(
                "this AuthnBackend does not implement users_by_email, which the password-reset \
                 view needs: implement it to look users up by e-mail",
            ))
        }
    }
}
