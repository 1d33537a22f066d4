//! [`Staff`]: the extractor every admin page starts with. Anonymous users are redirected to the
//! login page (with `next`); logged-in users who are not active staff get 403. It also carries what
//! pages need: the principal for permission checks, the mount prefix, a CSRF token and a store that
//! audits under the admin user's name.

use std::sync::Arc;

use axum::extract::{FromRequestParts, OriginalUri};
use axum::response::IntoResponse;
use castellan_axum::{AuthSession, Require};
use castellan_core::{Principal, User};
use castellan_store::{Actor, Store};
use http::request::Parts;

use crate::error::AdminError;
use crate::grants::Rights;
use crate::site::Site;

/// The logged-in, active staff user of an admin request.
pub(crate) struct Staff {
    pub(crate) auth: AuthSession,
    pub(crate) principal: Principal,
    pub(crate) user: User,
    /// The path the admin router is mounted at (`/admin`), without a trailing slash.
    pub(crate) base: String,
    pub(crate) site: Arc<Site>,
}

impl FromRequestParts<Arc<Site>> for Staff {
    type Rejection = AdminError;

    async fn from_request_parts(
        parts: &mut Parts,
        site: &Arc<Site>,
    ) -> Result<Self, Self::Rejection> {
        let auth = parts
            .extensions
            .get::<AuthSession>()
            .cloned()
            .ok_or_else(|| {
                AdminError::Response(Box::new(castellan_axum::MissingAuthLayer.into_response()))
            })?;
        let guard = Require::test(|s| s.user().is_some_and(|u| u.is_active && u.is_staff))
            .with_message("This page is for active staff users only.")
            .with_login_url(site.login_url.clone());
        guard
            .check(&auth, parts)
            .await
            .map_err(|denied| AdminError::Response(Box::new(denied.into_response())))?;
        let user = auth
            .user()
            .ok_or_else(|| AdminError::Forbidden("Log in first.".into()))?;
        let principal = auth.principal();
        let original = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.path().to_owned(), |o| o.0.path().to_owned());
        // Where a nesting router mounted us, plus our own prefix (`router_at`).
        let inner = parts.uri.path();
        let nested = if inner == "/" {
            // The nested index: `/admin` arrives as `/`.
            original.as_str()
        } else {
            original.strip_suffix(inner).unwrap_or("")
        };
        let base = format!("{}{}", nested.trim_end_matches('/'), site.prefix);
        Ok(Self {
            auth,
            principal,
            user,
            base,
            site: Arc::clone(site),
        })
    }
}

impl Staff {
    /// Whether the user is an active superuser.
    pub(crate) fn is_superuser(&self) -> bool {
        self.user.is_active && self.user.is_superuser
    }

    /// `has_perm`.
    pub(crate) fn has(&self, perm: &str) -> bool {
        self.principal.has_perm(perm)
    }

    /// Refuses unless the user has `perm`.
    pub(crate) fn require(&self, perm: &str) -> Result<(), AdminError> {
        if self.has(perm) {
            Ok(())
        } else {
            Err(AdminError::Forbidden(format!(
                "You need the permission {perm} for this page; ask a superuser to grant it."
            )))
        }
    }

    /// Refuses unless the user has at least one of `perms` (Django's view rule: view or change).
    pub(crate) fn require_any(&self, perms: &[&str]) -> Result<(), AdminError> {
        if perms.iter().any(|p| self.has(p)) {
            Ok(())
        } else {
            Err(AdminError::Forbidden(format!(
                "You need one of the permissions {} for this page; ask a superuser to grant it.",
                perms.join(", ")
            )))
        }
    }

    /// Django's `has_view_permission` for a model: view or change.
    /// The permission `action` on the user model (`auth.change_user`, or the project's own
    /// model's, such as `staff.change_person`).
    pub(crate) fn user_perm(&self, action: &str) -> String {
        self.site.store.user_schema().permission(action)
    }

    /// Whether the user may see the user list (view or change permission on the user model).
    pub(crate) fn can_view_users(&self) -> bool {
        self.has(&self.user_perm("view")) || self.has(&self.user_perm("change"))
    }

    /// Whether the user may add users: Django's user add form needs both `add_user` and
    /// `change_user` (the new user is then edited on its change page).
    pub(crate) fn can_add_users(&self) -> bool {
        self.has(&self.user_perm("add")) && self.has(&self.user_perm("change"))
    }

    /// Refuses unless the user may see the user list.
    pub(crate) fn require_view_users(&self) -> Result<(), AdminError> {
        self.require_any(&[&self.user_perm("view"), &self.user_perm("change")])
    }

    pub(crate) fn can_view(&self, app: &str, model: &str) -> bool {
        self.has(&format!("{app}.view_{model}")) || self.has(&format!("{app}.change_{model}"))
    }

    /// What this editor holds and what group names mean, for the escalation rules.
    pub(crate) async fn rights(&self) -> Result<Rights, AdminError> {
        let superuser = self.is_superuser();
        let (member_of, catalog, object_caps) = if superuser {
            (Vec::new(), Vec::new(), Default::default())
        } else {
            let store = &self.site.store;
            let member_of = store.user_groups(&self.user.username).await?;
            let catalog = store
                .permissions(None)
                .await?
                .iter()
                .map(castellan_core::Permission::user_perm_str)
                .collect();
            (member_of, catalog, store.object_capabilities().await?)
        };
        Ok(Rights {
            superuser,
            user_id: self.user.id,
            principal: self.principal.clone(),
            member_of,
            trusted: self.auth.trusted_groups(),
            catalog,
            object_caps,
        })
    }

    /// The store, auditing as this admin user.
    pub(crate) fn store(&self) -> Store {
        self.site.store.with_actor(Actor::User {
            id: self.user.id,
            username: self.user.username.clone(),
        })
    }

    /// A masked CSRF token for a form.
    pub(crate) fn csrf(&self) -> String {
        self.auth.csrf_token()
    }

    /// `base` + `path` (path starts with `/`).
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Percent-encodes one path segment (usernames, group names).
pub(crate) fn segment(s: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'@')
        .remove(b'+');
    percent_encoding::utf8_percent_encode(s, SET).to_string()
}
