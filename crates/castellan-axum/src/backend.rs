//! The layer's view of its [`AuthnBackend`] and [`SessionStore`], type-erased once at start-up so
//! that [`AuthSession`](crate::AuthSession), the guards and the extractors stay free of type
//! parameters (as `tower-sessions` erases its session store). Each call costs one boxed future next
//! to a database round trip.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use castellan_core::{
    AuthnBackend, BackendResult, PermIndex, Principal, SessionStore, SessionWithUser, User, UserId,
};
use chrono::{DateTime, Utc};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = BackendResult<T>> + Send + 'a>>;

/// [`AuthnBackend`] with boxed futures, so it can live behind `dyn`.
trait DynAuth: Send + Sync {
    fn authenticate<'a>(
        &'a self,
        username: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Option<User>>;
    fn user_by_session_id<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Option<User>>;
    fn principal<'a>(&'a self, user: &'a User) -> BoxFuture<'a, Principal>;
    fn permission_index(&self) -> BoxFuture<'_, Arc<PermIndex>>;
    fn user_groups<'a>(&'a self, user: &'a User) -> BoxFuture<'a, Vec<String>>;
    fn set_password<'a>(&'a self, user: &'a User, raw: &'a str) -> BoxFuture<'a, Option<User>>;
    fn touch_last_login<'a>(&'a self, user: &'a User) -> BoxFuture<'a, ()>;
    fn users_by_email<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Vec<User>>;
}

impl<B: AuthnBackend> DynAuth for B {
    fn authenticate<'a>(
        &'a self,
        username: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Option<User>> {
        Box::pin(AuthnBackend::authenticate(self, username, password))
    }
    fn user_by_session_id<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Option<User>> {
        Box::pin(AuthnBackend::user_by_session_id(self, id))
    }
    fn principal<'a>(&'a self, user: &'a User) -> BoxFuture<'a, Principal> {
        Box::pin(AuthnBackend::principal(self, user))
    }
    fn permission_index(&self) -> BoxFuture<'_, Arc<PermIndex>> {
        Box::pin(AuthnBackend::permission_index(self))
    }
    fn user_groups<'a>(&'a self, user: &'a User) -> BoxFuture<'a, Vec<String>> {
        Box::pin(AuthnBackend::user_groups(self, user))
    }
    fn set_password<'a>(&'a self, user: &'a User, raw: &'a str) -> BoxFuture<'a, Option<User>> {
        Box::pin(AuthnBackend::set_password(self, user, raw))
    }
    fn touch_last_login<'a>(&'a self, user: &'a User) -> BoxFuture<'a, ()> {
        Box::pin(AuthnBackend::touch_last_login(self, user))
    }
    fn users_by_email<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Vec<User>> {
        Box::pin(AuthnBackend::users_by_email(self, email))
    }
}

/// The users behind an [`AuthLayer`](crate::AuthLayer): a cheap, cloneable handle on its
/// [`AuthnBackend`], for handlers that authenticate or change passwords themselves.
#[derive(Clone)]
pub struct Users(Arc<dyn DynAuth>);

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Users").finish_non_exhaustive()
    }
}

impl Users {
    pub(crate) fn new(backend: impl AuthnBackend) -> Self {
        Self(Arc::new(backend))
    }

    /// [`AuthnBackend::authenticate`]: the active user with this username and password, if any.
    /// Throttling is the caller's job (the built-in login view throttles).
    pub async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> BackendResult<Option<User>> {
        self.0.authenticate(username, password).await
    }

    /// [`AuthnBackend::user_by_session_id`].
    pub async fn user_by_session_id(&self, id: &str) -> BackendResult<Option<User>> {
        self.0.user_by_session_id(id).await
    }

    /// [`AuthnBackend::principal`].
    pub async fn principal(&self, user: &User) -> BackendResult<Principal> {
        self.0.principal(user).await
    }

    /// [`AuthnBackend::permission_index`].
    pub async fn permission_index(&self) -> BackendResult<Arc<PermIndex>> {
        self.0.permission_index().await
    }

    /// [`AuthnBackend::user_groups`]: the user's group names, sorted.
    pub async fn user_groups(&self, user: &User) -> BackendResult<Vec<String>> {
        self.0.user_groups(user).await
    }

    /// [`AuthnBackend::set_password`]: the updated row, `None` if the user is gone. Call
    /// [`AuthSession::update_session_auth_hash`](crate::AuthSession::update_session_auth_hash)
    /// afterwards to keep the current session.
    pub async fn set_password(&self, user: &User, raw: &str) -> BackendResult<Option<User>> {
        self.0.set_password(user, raw).await
    }

    /// [`AuthnBackend::touch_last_login`].
    pub async fn touch_last_login(&self, user: &User) -> BackendResult<()> {
        self.0.touch_last_login(user).await
    }

    /// [`AuthnBackend::users_by_email`]: the active users whose e-mail matches `email` ignoring
    /// case (filter them with [`castellan_core::tokens::reset_recipients`]).
    pub async fn users_by_email(&self, email: &str) -> BackendResult<Vec<User>> {
        self.0.users_by_email(email).await
    }
}

/// [`SessionStore`] with boxed futures.
pub(crate) trait DynSessions: Send + Sync {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Option<String>>;
    fn load_with_user<'a>(
        &'a self,
        key: &'a str,
        user: UserId,
    ) -> BoxFuture<'a, Option<SessionWithUser>>;
    fn save<'a>(&'a self, key: &'a str, data: &'a str, expire: DateTime<Utc>) -> BoxFuture<'a, ()>;
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, ()>;
    fn cycle<'a>(
        &'a self,
        old_key: &'a str,
        new_key: &'a str,
        data: &'a str,
        expire: DateTime<Utc>,
    ) -> BoxFuture<'a, ()>;
}

impl<S: SessionStore> DynSessions for S {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Option<String>> {
        Box::pin(SessionStore::load(self, key))
    }
    fn load_with_user<'a>(
        &'a self,
        key: &'a str,
        user: UserId,
    ) -> BoxFuture<'a, Option<SessionWithUser>> {
        Box::pin(SessionStore::load_with_user(self, key, user))
    }
    fn save<'a>(&'a self, key: &'a str, data: &'a str, expire: DateTime<Utc>) -> BoxFuture<'a, ()> {
        Box::pin(SessionStore::save(self, key, data, expire))
    }
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(SessionStore::delete(self, key))
    }
    fn cycle<'a>(
        &'a self,
        old_key: &'a str,
        new_key: &'a str,
        data: &'a str,
        expire: DateTime<Utc>,
    ) -> BoxFuture<'a, ()> {
        Box::pin(SessionStore::cycle(self, old_key, new_key, data, expire))
    }
}

/// The sessions behind an [`AuthLayer`](crate::AuthLayer).
pub(crate) type Sessions = Arc<dyn DynSessions>;
