//! Group names that carry rights of their own.
//!
//! Django's permissions are rows, but an application also trusts group **names**: a group guard
//! (`Require::any_group(["Editors"])`), a `has_group('Editors')` in a template, or a policy file whose
//! `[groups.Admins]` table `sync` binds to the group of that name. Whoever can rename a group into
//! such a name, create one, delete it or join it gains (or takes away) what the name grants, so the
//! admin's escalation rules treat a trusted name as a capability:
//!
//! * for a name that grants access by itself (a group guard, `has_group`), a **name right**
//!   `group:NAME`, held by the active members of the group currently called `NAME` (and by active
//!   superusers), and
//! * for a policy group, the **permissions the policy binds to the name** (its patterns, matched
//!   against the permissions that exist): the name itself grants nothing else.
//!
//! [`TrustedGroups`] is the registry of those names. Build it once at start-up (the web layer's
//! configuration carries it), from the guards' names, the names templates test, and the policy:
//!
//! ```
//! use castellan_core::TrustedGroups;
//!
//! let trusted = TrustedGroups::new()
//!     .with_group("Editors", "guard /editor/")
//!     .with_group("Reviewers", "template has_group");
//! assert!(trusted.is_trusted("Editors"));
//! assert!(!trusted.is_trusted("editors")); // exact names, as Django compares them
//! let caps = trusted.capabilities("Editors", ["bookshelf.add_book"]);
//! assert_eq!(caps, vec!["group:Editors".to_owned()]);
//! ```

use std::collections::{BTreeMap, BTreeSet};

use crate::policy::{Pattern, Policy};

/// The prefix of a name right in a capability list (`group:Editors`).
pub const NAME_RIGHT_PREFIX: &str = "group:";

/// Why a name is trusted, and what a policy binds to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Trust {
    /// Who trusts the name ("guard /editor/", "policy bookshelf.toml", …), for messages.
    sources: BTreeSet<String>,
    /// Membership of the group so named grants access by itself (a guard or a template tests it).
    name_is_right: bool,
    /// The permission patterns policies bind to the name.
    patterns: Vec<Pattern>,
}

/// The group names an application trusts (see the [module docs](self)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedGroups {
    names: BTreeMap<String, Trust>,
}

impl TrustedGroups {
    /// No trusted names.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts `name` as a right by itself (a group guard or a `has_group` test grants its members
    /// access); `source` says who trusts it (shown in the admin's refusals).
    pub fn trust(&mut self, name: impl Into<String>, source: impl Into<String>) -> &mut Self {
        let trust = self.names.entry(name.into()).or_default();
        trust.sources.insert(source.into());
        trust.name_is_right = true;
        self
    }

    /// [`trust`](Self::trust), by value.
    pub fn with_group(mut self, name: impl Into<String>, source: impl Into<String>) -> Self {
        self.trust(name, source);
        self
    }

    /// Trusts every group `policy` declares, with the permission patterns it binds to each;
    /// `source` names the policy (e.g. its file name).
    pub fn add_policy(&mut self, policy: &Policy, source: &str) -> &mut Self {
        for group in policy.groups() {
            let trust = self.names.entry(group.name.clone()).or_default();
            trust.sources.insert(format!("policy {source}"));
            trust.patterns.extend(group.permissions.iter().cloned());
        }
        self
    }

    /// [`add_policy`](Self::add_policy), by value.
    pub fn with_policy(mut self, policy: &Policy, source: &str) -> Self {
        self.add_policy(policy, source);
        self
    }

    /// Adds every name of `other`.
    pub fn extend(&mut self, other: &TrustedGroups) -> &mut Self {
        for (name, trust) in &other.names {
            let mine = self.names.entry(name.clone()).or_default();
            mine.sources.extend(trust.sources.iter().cloned());
            mine.name_is_right |= trust.name_is_right;
            mine.patterns.extend(trust.patterns.iter().cloned());
        }
        self
    }

    /// Whether anything trusts the group name `name` (exact match).
    pub fn is_trusted(&self, name: &str) -> bool {
        self.names.contains_key(name)
    }

    /// Whether no name is trusted.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The trusted names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.keys().map(String::as_str)
    }

    /// Who trusts `name`, sorted ("guard /editor/", "policy bookshelf.toml").
    pub fn sources(&self, name: &str) -> Vec<&str> {
        self.names
            .get(name)
            .map(|t| t.sources.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// What the name `name` grants by itself: nothing for an untrusted name; otherwise its name
    /// right ([`name_right`]) if a guard or template trusts it, and the permissions of `catalog`
    /// (`app_label.codename` names) that a policy binds to it. Sorted, without duplicates.
    pub fn capabilities<'a, I>(&self, name: &str, catalog: I) -> Vec<String>
    where
        I: IntoIterator<Item = &'a str>,
    {
        let Some(trust) = self.names.get(name) else {
            return Vec::new();
        };
        let mut caps = BTreeSet::new();
        if trust.name_is_right {
            caps.insert(name_right(name));
        }
        if !trust.patterns.is_empty() {
            for perm in catalog {
                if let Some((app, code)) = perm.split_once('.') {
                    if trust.patterns.iter().any(|p| p.matches(app, code)) {
                        caps.insert(perm.to_owned());
                    }
                }
            }
        }
        caps.into_iter().collect()
    }
}

/// The capability "member of the group called `name`" (`group:NAME`).
pub fn name_right(name: &str) -> String {
    format!("{NAME_RIGHT_PREFIX}{name}")
}

/// The group name of a name right (`group:Editors` → `Editors`), or `None` for a permission.
pub fn name_of_right(capability: &str) -> Option<&str> {
    capability.strip_prefix(NAME_RIGHT_PREFIX)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const POLICY: &str = r#"
[groups.Admins]
permissions = ["bookshelf.*"]

[groups.Viewers]
permissions = ["bookshelf.view_*"]
"#;

    #[test]
    fn untrusted_names_grant_nothing() {
        let t = TrustedGroups::new().with_group("Editors", "guard");
        assert!(t
            .capabilities("Viewers", ["bookshelf.view_book"])
            .is_empty());
        assert_eq!(t.sources("Editors"), vec!["guard"]);
        assert!(t.sources("Viewers").is_empty());
    }

    #[test]
    fn a_policy_binds_its_patterns_to_the_name() {
        let policy = Policy::parse(POLICY).unwrap();
        let t = TrustedGroups::new()
            .with_policy(&policy, "bookshelf.toml")
            .with_group("Admins", "guard /admin-tools/");
        let catalog = [
            "bookshelf.view_book",
            "bookshelf.delete_book",
            "auth.view_user",
        ];
        assert_eq!(
            t.capabilities("Admins", catalog),
            vec![
                "bookshelf.delete_book",
                "bookshelf.view_book",
                "group:Admins"
            ]
        );
        // A policy-only name grants the policy's permissions, not a right of its own.
        assert_eq!(
            t.capabilities("Viewers", catalog),
            vec!["bookshelf.view_book"]
        );
        assert_eq!(
            t.sources("Admins"),
            vec!["guard /admin-tools/", "policy bookshelf.toml"]
        );
    }

    #[test]
    fn name_rights_round_trip() {
        assert_eq!(name_of_right(&name_right("A:b")), Some("A:b"));
        assert_eq!(name_of_right("auth.view_user"), None);
    }

    #[test]
    fn extend_merges_sources() {
        let mut a = TrustedGroups::new().with_group("X", "one");
        a.extend(
            &TrustedGroups::new()
                .with_group("X", "two")
                .with_group("Y", "t"),
        );
        assert_eq!(a.sources("X"), vec!["one", "two"]);
        assert_eq!(a.names().collect::<Vec<_>>(), vec!["X", "Y"]);
    }
}
