//! Why a user has — or lacks — a permission on one object: the decision record behind
//! `castellan explain --object`. [`ObjectExplanation::new`] applies the rules of
//! [`object_perms::has_perm`] to what the store loaded: the user's
//! object grants, the groups with a grant on the object, and whether the user holds the permission
//! globally (which never grants an object, and is said so).

use serde::Serialize;

use crate::backend::{PermObject, Principal};
use crate::object_perms::{self, ObjectGrants, ObjectRef};

/// What the store loads besides the user's [`ObjectGrants`] to explain one object permission.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectProvenance {
    /// The user's own grant rows on the object include the permission.
    pub direct: bool,
    /// The groups, sorted, whose rows grant the permission on the object, and whether the user
    /// is a member of each.
    pub granting_groups: Vec<(String, bool)>,
}

/// The main reason (`reason` in JSON, snake_case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectReason {
    /// Allowed: a grant on the object, the user's own and/or a group's.
    Granted,
    /// Allowed: an active superuser has every permission on every object.
    Superuser,
    /// Denied: the user is inactive.
    Inactive,
    /// Denied: no grant on the object (a global permission does not count).
    NotGranted,
}

/// Why a user has or lacks a permission on an object (`castellan explain --object --json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectExplanation {
    /// The username.
    pub username: String,
    /// The permission asked about, as given.
    pub permission: String,
    /// The object, `app_label.model:pk`.
    pub object: String,
    /// The decision.
    pub allowed: bool,
    /// The main reason.
    pub reason: ObjectReason,
    /// `is_active`.
    pub is_active: bool,
    /// `is_superuser`.
    pub is_superuser: bool,
    /// The user's own grant on the object.
    pub direct: bool,
    /// The user's groups with a grant on the object, sorted.
    pub groups: Vec<String>,
    /// Whether the user holds the permission globally (which grants no object).
    pub global: bool,
    /// For a denial: groups with a grant on the object the user is not a member of.
    pub would_grant: Vec<String>,
    /// One human sentence saying all of the above.
    pub message: String,
}

impl ObjectExplanation {
    /// Explains `perm` (already checked to exist and to be of the object's app) on `obj`.
    pub fn new(
        who: &Principal,
        grants: &ObjectGrants,
        perm: &str,
        obj: &ObjectRef,
        provenance: &ObjectProvenance,
    ) -> Self {
        let identity = who.identity();
        let codename = perm.split_once('.').map_or(perm, |(_, c)| c);
        let full = format!("{}.{codename}", obj.app_label());
        let allowed = object_perms::has_perm(who, grants, perm, obj).unwrap_or(false);
        let groups: Vec<String> = provenance
            .granting_groups
            .iter()
            .filter(|(_, member)| *member)
            .map(|(g, _)| g.clone())
            .collect();
        let would_grant: Vec<String> = if allowed {
            Vec::new()
        } else {
            provenance
                .granting_groups
                .iter()
                .filter(|(_, member)| !*member)
                .map(|(g, _)| g.clone())
                .collect()
        };
        let global = identity.is_active() && who.has_perm(&full);
        let name = identity.username();
        let (reason, mut message) = if identity.is_active_superuser() {
            (
                ObjectReason::Superuser,
                format!("{name} is an active superuser: every permission on every object"),
            )
        } else if !identity.is_active() {
            let would = provenance.direct || !groups.is_empty();
            (
                ObjectReason::Inactive,
                format!(
                    "{name} is inactive, so holds nothing on any object (if active: {})",
                    if would { "allowed" } else { "denied" }
                ),
            )
        } else if allowed {
            let mut via = Vec::new();
            if provenance.direct {
                via.push("a grant to the user".to_owned());
            }
            via.extend(groups.iter().map(|g| format!("group {g:?}")));
            (
                ObjectReason::Granted,
                format!("{name} may {full} on {obj} through {}", via.join(" and ")),
            )
        } else {
            (
                ObjectReason::NotGranted,
                format!("{name} has no grant of {full} on {obj}"),
            )
        };
        if !allowed && global {
            message.push_str(&format!(
                "; {name} holds {full} globally, which does not grant it on any one object"
            ));
        }
        if !would_grant.is_empty() {
            message.push_str(&format!(
                "; membership of {} would grant it",
                would_grant
                    .iter()
                    .map(|g| format!("{g:?}"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ));
        }
        Self {
            username: name.to_owned(),
            permission: perm.to_owned(),
            object: format!(
                "{}.{}:{}",
                obj.app_label(),
                obj.model_name(),
                obj.object_pk()
            ),
            allowed,
            reason,
            is_active: identity.is_active(),
            is_superuser: identity.is_superuser(),
            direct: provenance.direct,
            groups,
            global,
            would_grant,
            message,
        }
    }
}
