//! [`Shared`]: what every request of one application shares (configuration, backend, sessions,
//! permission index, login throttle, trusted group names), held by the layer and by each request's
//! [`AuthSession`](crate::AuthSession).

use std::sync::Arc;

use castellan_core::PermIndex;

use crate::backend::{Sessions, Users};
use crate::config::AuthConfig;
use crate::throttle::Throttle;

/// What every request of one application shares.
pub(crate) struct Shared {
    pub(crate) config: AuthConfig,
    pub(crate) users: Users,
    pub(crate) sessions: Sessions,
    pub(crate) index: Arc<PermIndex>,
    pub(crate) throttle: Throttle,
    /// The configured trusted group names plus every group guard's names (see [`AuthLayer::check`]).
    pub(crate) trusted: std::sync::RwLock<castellan_core::TrustedGroups>,
}

impl Shared {
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
