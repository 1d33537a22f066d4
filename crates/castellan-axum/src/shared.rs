//! [`Shared`]: what every request of one application shares (configuration, backend, sessions,
//! permission index, login throttle, trusted group names), held by the layer and by each request's
//! [`AuthSession`](crate::AuthSession).

use std::sync::Arc;

use castellan_core::PermIndex;

use crate::backend::{Sessions, Users};
use crate::config::AuthConfig;
use crate::decoded_sessions::DecodedSessions;
use crate::session_users::SessionUsers;
use crate::throttle::Throttle;

/// What every request of one application shares.
pub(crate) struct Shared {
    pub(crate) config: AuthConfig,
    pub(crate) users: Users,
    pub(crate) sessions: Sessions,
    /// Whom each recent session named, when `users` and `sessions` are one backend (so that a
    /// session and its user are read in one step); `None` when they are kept apart.
    pub(crate) session_users: Option<SessionUsers>,
    /// What recent session rows decoded to, and their auth-hash checks.
    pub(crate) decoded: DecodedSessions,
    /// The newest permission index the layer has seen: loaded at start-up, replaced by
    /// [`AuthLayer::refresh_permissions`](crate::AuthLayer::refresh_permissions) and by every
    /// logged-in request whose principal was loaded with a different one (the backend reloads it
    /// when the catalog generation moves). Guards are validated against it.
    index: std::sync::RwLock<Arc<PermIndex>>,
    pub(crate) throttle: Throttle,
    /// The configured trusted group names plus every group guard's names (see [`AuthLayer::check`]).
    pub(crate) trusted: std::sync::RwLock<castellan_core::TrustedGroups>,
}

impl Shared {
    pub(crate) fn new(
        config: AuthConfig,
        users: Users,
        sessions: Sessions,
        index: Arc<PermIndex>,
        throttle: Throttle,
        one_backend: bool,
    ) -> Self {
        let trusted = std::sync::RwLock::new(config.trusted_groups.clone());
        Self {
            config,
            users,
            sessions,
            session_users: one_backend.then(SessionUsers::default),
            decoded: DecodedSessions::default(),
            index: std::sync::RwLock::new(index),
            throttle,
            trusted,
        }
    }

    /// The newest permission index seen.
    pub(crate) fn index(&self) -> Arc<PermIndex> {
        Arc::clone(
            &self
                .index
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Keeps `seen` (an index a request's principal was loaded with, or a reloaded one) when it
    /// is newer than the current one ([`PermIndex::is_newer_than`]: a later catalog generation,
    /// so that a slow request holding an older index never puts it back). The same index (the
    /// backend's cache hands out one per catalog generation) costs a pointer comparison under a
    /// read lock.
    pub(crate) fn observe_index(&self, seen: &Arc<PermIndex>) {
        let current = self.index();
        if Arc::ptr_eq(&current, seen) || !seen.is_newer_than(&current) {
            return;
        }
        let mut slot = self
            .index
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Another request may have stored a newer one meanwhile.
        if seen.is_newer_than(&slot) {
            *slot = Arc::clone(seen);
        }
    }

    /// A copy of the trusted group names.
    pub(crate) fn trusted_groups(&self) -> castellan_core::TrustedGroups {
        self.trusted
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Whether `name` is a trusted group name.
    pub(crate) fn is_trusted_group(&self, name: &str) -> bool {
        self.trusted
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_trusted(name)
    }
}
