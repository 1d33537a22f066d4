//! The store as the web layer's [`AuthnBackend`] and [`SessionStore`]: Django's `ModelBackend` and
//! database session engine on Django's own tables.

use std::sync::Arc;

use castellan_core::{
    AuthnBackend, BackendError, BackendErrorKind, BackendResult, PermIndex, Principal,
    SessionStore, SessionWithUser, User, UserId,
};
use chrono::{DateTime, Utc};

use crate::error::Error;
use crate::Store;

impl From<Error> for BackendError {
    fn from(e: Error) -> Self {
        let kind = if e.is_unavailable() {
            BackendErrorKind::Unavailable
        } else if e.is_busy() {
            BackendErrorKind::Busy
        } else {
            BackendErrorKind::Other
        };
        BackendError::new(kind, e)
    }
}

impl AuthnBackend for Store {
    async fn authenticate(&self, username: &str, password: &str) -> BackendResult<Option<User>> {
        Ok(Store::authenticate(self, username, password).await?)
    }

    async fn user_by_session_id(&self, id: &str) -> BackendResult<Option<User>> {
        // Django stores the primary key as a string (`str(pk)`); anything that is not a key of
        // the user model is nobody.
        let Some(id) = castellan_core::UserId::parse(self.user_schema().pk(), id) else {
            return Ok(None);
        };
        Ok(self.user_by_id(id).await?)
    }

    async fn principal(&self, user: &User) -> BackendResult<Principal> {
        Ok(self.principal_for_user(user).await?)
    }

    async fn permission_index(&self) -> BackendResult<Arc<PermIndex>> {
        Ok(Store::permission_index(self).await?)
    }

    async fn user_groups(&self, user: &User) -> BackendResult<Vec<String>> {
        Ok(self.group_names_of(user.id).await?)
    }

    async fn set_password(&self, user: &User, raw: &str) -> BackendResult<Option<User>> {
        Ok(self.set_password_by_id(user.id, Some(raw)).await?)
    }

    async fn touch_last_login(&self, user: &User) -> BackendResult<()> {
        Ok(Store::touch_last_login(self, user.id).await?)
    }

    async fn users_by_email(&self, email: &str) -> BackendResult<Vec<User>> {
        Ok(Store::users_by_email(self, email).await?)
    }
}

impl SessionStore for Store {
    async fn prepare(&self) -> BackendResult<()> {
        // An adopted Django database without django.contrib.sessions gets its table now.
        self.ensure_sessions().await?;
        Ok(())
    }

    async fn load(&self, key: &str) -> BackendResult<Option<String>> {
        Ok(self.session_data(key).await?)
    }

    async fn load_with_user(
        &self,
        key: &str,
        user: UserId,
    ) -> BackendResult<Option<SessionWithUser>> {
        Ok(self
            .session_with_user(key, user)
            .await?
            .map(|(data, user)| SessionWithUser { data, user }))
    }

    async fn save(&self, key: &str, data: &str, expire: DateTime<Utc>) -> BackendResult<()> {
        Ok(self.save_session(key, data, expire).await?)
    }

    async fn delete(&self, key: &str) -> BackendResult<()> {
        Ok(self.delete_session(key).await?)
    }
}
