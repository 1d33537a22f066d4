//! Why a user has — or lacks — a permission: the decision record behind `castellan explain`.
//!
//! [`Explanation::new`] applies the model backend's rules (the same ones as
//! [`Principal::has_perm`]) to a [`Principal`] plus the provenance the store loads — which groups the
//! user belongs to and which groups grant the permission — and says, in one serialisable record, what
//! was decided and why. No I/O: the store gathers [`Provenance`], this module only reasons.
//!
//! ```
//! use std::sync::Arc;
//! use castellan_core::explain::{Explanation, Provenance, Reason};
//! use castellan_core::{Identity, PermIndex, PermissionRow, Principal, UserFlags, UserPerms};
//!
//! let index = Arc::new(PermIndex::new([PermissionRow {
//!     id: 1, app_label: "bookshelf".into(), codename: "add_book".into(),
//! }]));
//! let perms = UserPerms::new(index.set_from_rows([]), index.set_from_rows([1]));
//! let alice = Identity::User(UserFlags {
//!     id: castellan_core::UserId::Int(7), username: "alice".into(), is_active: true, is_superuser: false, is_staff: false,
//! });
//! let alice = Principal::new(alice, Arc::new(perms), Arc::clone(&index));
//! let provenance = Provenance {
//!     member_of: vec!["Editors".into()],
//!     granting_groups: vec!["Editors".into(), "Publishers".into()],
//! };
//! let why = Explanation::new(&alice, "bookshelf.add_book", &provenance);
//! assert!(why.allowed);
//! assert_eq!(why.reason, Reason::Granted);
//! assert_eq!(why.groups, ["Editors"]);
//! ```

use serde::Serialize;

use crate::backend::Principal;
use crate::perm::PermName;

/// How many similar names an unknown permission is answered with.
pub const SUGGESTIONS: usize = 3;

/// What the store loads besides the [`Principal`] to explain one permission for one user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    /// The names of every group the user belongs to (empty for the anonymous user).
    pub member_of: Vec<String>,
    /// The names of every group that grants the permission (whether the user is a member or not).
    pub granting_groups: Vec<String>,
}

/// The main reason for the decision (`reason` in JSON, snake_case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Allowed: the permission is granted directly and/or through groups (see `direct`, `groups`).
    Granted,
    /// Allowed: the user is an active superuser (who has every permission).
    Superuser,
    /// Denied: the user is inactive, so has no permission at all (`would_have` says what being
    /// active would change).
    Inactive,
    /// Denied: the user is active but holds the permission neither directly nor through a group
    /// (`would_grant` lists the groups that would grant it).
    NotGranted,
    /// Denied: no permission of that name exists (`suggestions` lists the closest names).
    UnknownPermission,
    /// Denied: the name is not of the form `app_label.codename` (`message` says why).
    MalformedPermission,
    /// Denied: the anonymous user has no model permission (only a custom backend can grant one).
    Anonymous,
}

/// Why a user has or lacks a permission (`castellan explain --json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// The username; `null` for the anonymous user.
    pub username: Option<String>,
    /// The permission asked about, as given.
    pub permission: String,
    /// The decision, as [`Principal::has_perm`] makes it.
    pub allowed: bool,
    /// The main reason.
    pub reason: Reason,
    /// `is_active` (false for the anonymous user).
    pub is_active: bool,
    /// `is_superuser` (false for the anonymous user).
    pub is_superuser: bool,
    /// Whether the permission is granted to the user directly (even when inactive).
    pub direct: bool,
    /// The user's groups that grant the permission, sorted (even when inactive).
    pub groups: Vec<String>,
    /// For an inactive user: whether the user would be allowed if active. `null` otherwise.
    pub would_have: Option<bool>,
    /// For a denial of an existing permission: the groups, sorted, that would grant it to this user
    /// (the granting groups the user is not a member of). Empty when allowed.
    pub would_grant: Vec<String>,
    /// For an unknown permission: up to [`SUGGESTIONS`] existing names, closest first.
    pub suggestions: Vec<String>,
    /// One human sentence saying all of the above.
    pub message: String,
}

impl Explanation {
    /// Explains `perm` for `who`, given the groups loaded by the store.
    pub fn new(who: &Principal, perm: &str, provenance: &Provenance) -> Self {
        let identity = who.identity();
        let username = identity
            .is_authenticated()
            .then(|| identity.username().to_owned());
        let shown = username.as_deref().unwrap_or("AnonymousUser").to_owned();
        let mut out = Self {
            username,
            permission: perm.to_owned(),
            allowed: who.has_perm(perm),
            reason: Reason::NotGranted,
            is_active: identity.is_active(),
            is_superuser: identity.is_superuser(),
            direct: false,
            groups: Vec::new(),
            would_have: None,
            would_grant: Vec::new(),
            suggestions: Vec::new(),
            message: String::new(),
        };
        let index = who.index();
        let id = index.resolve(perm);
        if id.is_none() {
            if let Err(e) = PermName::parse(perm) {
                out.reason = Reason::MalformedPermission;
                out.message = format!(
                    "{perm:?} is not a permission name: {e}; permission names are app_label.codename"
                );
            } else {
                out.reason = Reason::UnknownPermission;
                out.suggestions = index
                    .closest_n(perm, SUGGESTIONS)
                    .into_iter()
                    .map(str::to_owned)
                    .collect();
                out.message = format!("no permission {perm:?} exists");
                if !out.suggestions.is_empty() {
                    out.message
                        .push_str(&format!("; did you mean {}?", out.suggestions.join(", ")));
                }
            }
            if out.allowed {
                // An active superuser passes `has_perm` for any string, as in Django.
                out.reason = Reason::Superuser;
                out.message = format!(
                    "{shown} is allowed {perm}: an active superuser has every permission (but {})",
                    out.message
                );
            } else {
                out.message = format!("{shown} is denied {perm}: {}", out.message);
            }
            return out;
        }
        if identity.is_anonymous() {
            out.reason = Reason::Anonymous;
            out.message = format!(
                "AnonymousUser is denied {perm}: the anonymous user has no model permissions (log in, or grant it through a custom backend)"
            );
            return out;
        }
        let loaded = who.loaded();
        out.direct = id.is_some_and(|id| loaded.user().contains(id));
        let mut groups: Vec<String> = provenance
            .granting_groups
            .iter()
            .filter(|g| provenance.member_of.contains(g))
            .cloned()
            .collect();
        groups.sort();
        groups.dedup();
        out.groups = groups;
        let mut would_grant: Vec<String> = provenance
            .granting_groups
            .iter()
            .filter(|g| !provenance.member_of.contains(g))
            .cloned()
            .collect();
        would_grant.sort();
        would_grant.dedup();
        let holds = out.direct || !out.groups.is_empty();
        let via = sources(out.direct, &out.groups);
        if !identity.is_active() {
            out.reason = Reason::Inactive;
            let would = identity.is_superuser() || holds;
            out.would_have = Some(would);
            out.message = if identity.is_superuser() {
                format!("{shown} is denied {perm}: the user is inactive (as an active superuser it would have every permission)")
            } else if holds {
                format!("{shown} is denied {perm}: the user is inactive (if active, it would have it {via})")
            } else {
                format!("{shown} is denied {perm}: the user is inactive (and holds it neither directly nor through a group)")
            };
            if !would {
                out.would_grant = would_grant;
            }
            return out;
        }
        if identity.is_superuser() {
            out.reason = Reason::Superuser;
            out.message = format!(
                "{shown} is allowed {perm}: an active superuser has every permission{}",
                if holds {
                    format!(" (it is also granted {via})")
                } else {
                    String::new()
                }
            );
            return out;
        }
        if holds {
            out.reason = Reason::Granted;
            out.message = format!("{shown} is allowed {perm}: granted {via}");
        } else {
            out.reason = Reason::NotGranted;
            out.message = if would_grant.is_empty() {
                format!("{shown} is denied {perm}: not granted directly, and no group grants it")
            } else {
                format!(
                    "{shown} is denied {perm}: not granted directly nor through the user's groups; it would be granted by joining {}",
                    quote_list(&would_grant)
                )
            };
            out.would_grant = would_grant;
        }
        out
    }
}

/// "directly", "through group \"A\"", "directly and through groups \"A\", \"B\"".
fn sources(direct: bool, groups: &[String]) -> String {
    let via_groups = match groups.len() {
        0 => String::new(),
        1 => format!("through group {}", quote_list(groups)),
        _ => format!("through groups {}", quote_list(groups)),
    };
    match (direct, via_groups.is_empty()) {
        (true, true) => "directly".to_owned(),
        (true, false) => format!("directly and {via_groups}"),
        (false, _) => via_groups,
    }
}

fn quote_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::sync::Arc;

    use super::*;
    use crate::{Identity, PermIndex, PermissionRow, UserFlags, UserPerms};

    fn index() -> Arc<PermIndex> {
        Arc::new(PermIndex::new(
            ["add_book", "change_book", "delete_book", "view_book"]
                .iter()
                .enumerate()
                .map(|(i, c)| PermissionRow {
                    id: i as i64 + 1,
                    app_label: "bookshelf".into(),
                    codename: (*c).into(),
                }),
        ))
    }

    fn who(active: bool, superuser: bool, direct: &[i64], group: &[i64]) -> Principal {
        let index = index();
        let perms = UserPerms::new(
            index.set_from_rows(direct.iter().copied()),
            index.set_from_rows(group.iter().copied()),
        );
        let flags = UserFlags {
            id: crate::UserId::Int(1),
            username: "alice".into(),
            is_active: active,
            is_superuser: superuser,
            is_staff: false,
        };
        Principal::new(Identity::User(flags), Arc::new(perms), index)
    }

    fn prov(member_of: &[&str], granting: &[&str]) -> Provenance {
        Provenance {
            member_of: member_of.iter().map(|s| (*s).to_owned()).collect(),
            granting_groups: granting.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn direct_grant() {
        let e = Explanation::new(
            &who(true, false, &[1], &[]),
            "bookshelf.add_book",
            &prov(&[], &[]),
        );
        assert!(e.allowed);
        assert_eq!((e.reason, e.direct), (Reason::Granted, true));
        assert!(e.groups.is_empty() && e.would_grant.is_empty());
        assert!(e.message.contains("granted directly"), "{}", e.message);
    }

    #[test]
    fn one_and_several_groups() {
        let e = Explanation::new(
            &who(true, false, &[], &[1]),
            "bookshelf.add_book",
            &prov(&["Editors", "Staff"], &["Publishers", "Editors"]),
        );
        assert!(e.allowed);
        assert_eq!(e.groups, ["Editors"]);
        assert!(!e.direct);
        assert!(e.message.contains("through group \"Editors\""));
        let e = Explanation::new(
            &who(true, false, &[1], &[1]),
            "bookshelf.add_book",
            &prov(&["Z", "Editors"], &["Z", "Editors"]),
        );
        assert_eq!(e.groups, ["Editors", "Z"]);
        assert!(e.direct);
        assert!(
            e.message
                .contains("directly and through groups \"Editors\", \"Z\""),
            "{}",
            e.message
        );
    }

    #[test]
    fn superusers_active_and_inactive() {
        let e = Explanation::new(
            &who(true, true, &[], &[]),
            "bookshelf.add_book",
            &prov(&[], &[]),
        );
        assert_eq!((e.allowed, e.reason), (true, Reason::Superuser));
        let e = Explanation::new(
            &who(false, true, &[], &[]),
            "bookshelf.add_book",
            &prov(&[], &[]),
        );
        assert_eq!((e.allowed, e.reason), (false, Reason::Inactive));
        assert_eq!(e.would_have, Some(true));
        assert!(e.message.contains("active superuser"));
    }

    #[test]
    fn inactive_says_what_it_would_have_had() {
        let e = Explanation::new(
            &who(false, false, &[1], &[1]),
            "bookshelf.add_book",
            &prov(&["Editors"], &["Editors"]),
        );
        assert_eq!((e.allowed, e.reason), (false, Reason::Inactive));
        assert_eq!(e.would_have, Some(true));
        assert!(e.direct);
        assert_eq!(e.groups, ["Editors"]);
        let e = Explanation::new(
            &who(false, false, &[], &[]),
            "bookshelf.add_book",
            &prov(&[], &["Editors"]),
        );
        assert_eq!(e.would_have, Some(false));
        assert_eq!(e.would_grant, ["Editors"]);
    }

    #[test]
    fn denial_lists_the_groups_that_would_grant() {
        let e = Explanation::new(
            &who(true, false, &[2], &[]),
            "bookshelf.add_book",
            &prov(&["Readers"], &["Publishers", "Editors"]),
        );
        assert_eq!((e.allowed, e.reason), (false, Reason::NotGranted));
        assert_eq!(e.would_grant, ["Editors", "Publishers"]);
        assert!(e.message.contains("joining \"Editors\", \"Publishers\""));
        let e = Explanation::new(
            &who(true, false, &[], &[]),
            "bookshelf.add_book",
            &prov(&[], &[]),
        );
        assert!(e.message.contains("no group grants it"));
    }

    #[test]
    fn unknown_and_malformed_names() {
        let e = Explanation::new(
            &who(true, false, &[1], &[]),
            "bookshelf.add_bok",
            &prov(&[], &[]),
        );
        assert_eq!((e.allowed, e.reason), (false, Reason::UnknownPermission));
        assert_eq!(e.suggestions[0], "bookshelf.add_book");
        assert!(e.suggestions.len() <= SUGGESTIONS);
        assert!(e.message.contains("did you mean bookshelf.add_book"));
        let e = Explanation::new(&who(true, false, &[], &[]), "add_book", &prov(&[], &[]));
        assert_eq!((e.allowed, e.reason), (false, Reason::MalformedPermission));
        assert!(e.suggestions.is_empty());
        // Django's shortcut: an active superuser passes any string; the record still says it is unknown.
        let e = Explanation::new(
            &who(true, true, &[], &[]),
            "bookshelf.nope",
            &prov(&[], &[]),
        );
        assert_eq!((e.allowed, e.reason), (true, Reason::Superuser));
        assert!(e.message.contains("no permission"));
    }

    #[test]
    fn anonymous_is_denied() {
        let anon = Principal::anonymous(index());
        let e = Explanation::new(&anon, "bookshelf.view_book", &prov(&[], &["Readers"]));
        assert_eq!((e.allowed, e.reason), (false, Reason::Anonymous));
        assert_eq!(e.username, None);
        assert!(e.would_grant.is_empty());
    }

    #[test]
    fn json_shape_is_flat_and_snake_case() {
        let e = Explanation::new(
            &who(true, false, &[], &[]),
            "bookshelf.add_book",
            &prov(&[], &["Editors"]),
        );
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["reason"], "not_granted");
        assert_eq!(v["would_grant"], serde_json::json!(["Editors"]));
        assert_eq!(v["would_have"], serde_json::Value::Null);
        assert_eq!(v["username"], "alice");
    }
}
