//! The seam for session rows: [`SessionStore`] keeps Django's `django_session` data (the encoded,
//! signed string Django writes) under a session key until it expires. `castellan-store`
//! implements it on `django_session`, shared with a Django project; [`MemoryBackend`](crate::MemoryBackend)
//! keeps sessions in memory.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::authn::BackendResult;
use crate::{Principal, User, UserId};

/// A session row read together with the user it was expected to name (see
/// [`SessionStore::load_with_user`]).
#[derive(Debug, Clone)]
pub struct SessionWithUser {
    /// The session data, as [`SessionStore::load`] returns it.
    pub data: String,
    /// The user whose key was given and their permissions, read in the same step; `None` when
    /// the store does not keep users, or there is no such user.
    pub user: Option<(User, Principal)>,
}

/// Where sessions live (Django's `SessionStore` backends).
pub trait SessionStore: Send + Sync + 'static {
    /// Called once when the web layer starts: create what the store needs (for example the
    /// `django_session` table of an adopted database that lacks it). The default does nothing.
    fn prepare(&self) -> impl Future<Output = BackendResult<()>> + Send {
        async { Ok(()) }
    }

    /// The session data stored under `key`, or `None` when there is none or it has expired.
    fn load(&self, key: &str) -> impl Future<Output = BackendResult<Option<String>>> + Send;

    /// The session stored under `key`, as [`load`](Self::load), and — when this store also keeps
    /// the users — the user whose key is `user` with their permissions, read in the same step
    /// (one round trip for a database holding both). `user` is a guess: the web layer passes
    /// the user this session named on an earlier request and uses the result only when the
    /// session's data still names that user. The default reads the session alone.
    fn load_with_user(
        &self,
        key: &str,
        user: UserId,
    ) -> impl Future<Output = BackendResult<Option<SessionWithUser>>> + Send {
        let _ = user;
        async move {
            Ok(self
                .load(key)
                .await?
                .map(|data| SessionWithUser { data, user: None }))
        }
    }

    /// Stores `data` under `key` until `expire`, replacing what was there.
    fn save(
        &self,
        key: &str,
        data: &str,
        expire: DateTime<Utc>,
    ) -> impl Future<Output = BackendResult<()>> + Send;

    /// Deletes the session stored under `key` (nothing happens when there is none).
    fn delete(&self, key: &str) -> impl Future<Output = BackendResult<()>> + Send;

    /// Moves a session to a new key (Django's `cycle_key`): stores `data` under `new_key`, then
    /// deletes `old_key`. Stores that can do both at once override it.
    fn cycle(
        &self,
        old_key: &str,
        new_key: &str,
        data: &str,
        expire: DateTime<Utc>,
    ) -> impl Future<Output = BackendResult<()>> + Send {
        async move {
            self.save(new_key, data, expire).await?;
            self.delete(old_key).await
        }
    }
}
