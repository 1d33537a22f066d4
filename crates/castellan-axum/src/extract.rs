//! The extractors [`AuthSession`] and [`CurrentUser`] (anonymous allowed). Both need
//! [`AuthLayer`](crate::AuthLayer); without it they reject with [`MissingAuthLayer`].

use axum::extract::FromRequestParts;
use castellan_core::{Principal, User};
use http::request::Parts;

use crate::rejection::MissingAuthLayer;
use crate::session::AuthSession;

impl<S: Send + Sync> FromRequestParts<S> for AuthSession {
    type Rejection = MissingAuthLayer;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<AuthSession>()
            .cloned()
            .ok_or(MissingAuthLayer)
    }
}

/// The request's user: `user` is `None` for an anonymous request; `principal` answers permission
/// checks either way (`request.user` in Django).
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The subject of permission checks.
    pub principal: Principal,
    /// The user row, when logged in.
    pub user: Option<User>,
}

impl CurrentUser {
    /// `user.has_perm(perm)`.
    pub fn has_perm(&self, perm: &str) -> bool {
        self.principal.has_perm(perm)
    }

    /// `user.is_authenticated`.
    pub fn is_authenticated(&self) -> bool {
        self.user.is_some()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = MissingAuthLayer;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let auth = parts
            .extensions
            .get::<AuthSession>()
            .ok_or(MissingAuthLayer)?;
        Ok(Self {
            principal: auth.principal(),
            user: auth.user(),
        })
    }
}
