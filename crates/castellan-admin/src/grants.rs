//! The escalation rules every user and group change passes, applied to the **submitted** change
//! (not to what the form showed). Superusers pass every rule; the store still refuses to leave no
//! active superuser.
//!
//! The rules work on **capabilities**: a permission (`app_label.codename`), or a group name that
//! something trusts ([`TrustedGroups`]: a group guard, a policy, a name registered for templates).
//! A group's capabilities are its permissions plus what its *name* grants: the name right
//! `group:NAME` and, for a policy group, the permissions the policy binds to that name. The editor
//! holds a permission when `has_perm` says so, and a name right when he is a member of the group
//! currently called so. A user's capabilities are his direct permissions and those of all his
//! groups, whether or not he is active.
//!
//! For a non-superuser editor:
//! 1. `is_staff` and `is_superuser` cannot be changed (nor set on a new user);
//! 2. his own flags, groups and permissions cannot be changed;
//! 3. a superuser (active or not), or a user with a capability the editor lacks, cannot be changed
//!    at all (flags, groups, permissions, password, deletion): setting his password would take it;
//! 4. a permission can be granted to, or **removed** from, a user or a group only if the editor
//!    holds it (removing is changing: otherwise he could strip a stronger user down to his own
//!    level, then take the account over);
//! 5. a user can be added to, or removed from, a group only if the editor holds every capability
//!    of the group;
//! 6. a group can be created under a name, renamed, or deleted only if the editor holds every
//!    capability of the group under its old name and under its new one.
//!
//! Together: no sequence of these actions ends with the editor, or an account he controls, holding
//! a capability he did not hold at the start.
//!
//! A django-guardian grant on one object is a capability too, `app_label.codename@app.model:pk`:
//! the editor holds it when he holds the permission on the whole model, or holds that grant
//! himself (directly or through a group). So a user or a group whose power is a grant on one
//! object is not weaker than an editor without it (rules 3, 5 and 6).

use castellan_core::trusted::name_of_right;
use castellan_core::{Principal, TrustedGroups};
use castellan_store::{UserEdit, UserState};

/// Every group with its permissions (`Store::groups_with_permissions`).
pub(crate) type GroupPerms = [(String, Vec<String>)];

/// What the editor holds, and what names mean: everything the rules need, loaded once per request.
pub(crate) struct Rights {
    /// An active superuser: every rule passes.
    pub(crate) superuser: bool,
    pub(crate) user_id: castellan_core::UserId,
    pub(crate) principal: Principal,
    /// The editor's groups (he is active: the admin is for active staff only).
    pub(crate) member_of: Vec<String>,
    pub(crate) trusted: TrustedGroups,
    /// Every permission that exists, as `app_label.codename` (for policy patterns).
    pub(crate) catalog: Vec<String>,
    /// Every user's and group's object grants, as capabilities.
    pub(crate) object_caps: castellan_store::ObjectCapabilities,
}

impl Rights {
    /// Whether the editor holds `capability` (a permission or a name right).
    pub(crate) fn holds(&self, capability: &str) -> bool {
        if self.superuser {
            return true;
        }
        if let Some((perm, _object)) = capability.split_once('@') {
            return self.principal.has_perm(perm) || self.holds_object_grant(capability);
        }
        match name_of_right(capability) {
            Some(name) => self.member_of.iter().any(|g| g == name),
            None => self.principal.has_perm(capability),
        }
    }

    /// Whether the editor holds this object grant himself, directly or through a group.
    fn holds_object_grant(&self, capability: &str) -> bool {
        let own = self
            .object_caps
            .users
            .get(self.principal.identity().username());
        let held =
            |caps: Option<&Vec<String>>| caps.is_some_and(|c| c.iter().any(|x| x == capability));
        held(own)
            || self
                .member_of
                .iter()
                .any(|g| held(self.object_caps.groups.get(g)))
    }

    fn missing<'p>(&self, caps: impl IntoIterator<Item = &'p String>) -> Vec<&'p str> {
        let mut missing: Vec<&str> = caps
            .into_iter()
            .filter(|c| !self.holds(c))
            .map(String::as_str)
            .collect();
        missing.sort_unstable();
        missing.dedup();
        missing
    }

    /// What the name `name` grants by itself (empty for an untrusted name).
    pub(crate) fn name_capabilities(&self, name: &str) -> Vec<String> {
        self.trusted
            .capabilities(name, self.catalog.iter().map(String::as_str))
    }

    /// A group's capabilities: its permissions and what its name grants.
    pub(crate) fn group_capabilities(&self, name: &str, perms: &[String]) -> Vec<String> {
        let mut caps = perms.to_vec();
        caps.extend(self.name_capabilities(name));
        caps.extend(
            self.object_caps
                .groups
                .get(name)
                .into_iter()
                .flatten()
                .cloned(),
        );
        caps.sort();
        caps.dedup();
        caps
    }

    pub(crate) fn group_perms<'g>(groups: &'g GroupPerms, name: &str) -> &'g [String] {
        groups
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.as_slice())
            .unwrap_or_default()
    }

    /// Everything `target` holds regardless of `is_active`: direct permissions and the
    /// capabilities of his groups.
    pub(crate) fn user_capabilities(&self, target: &UserState, groups: &GroupPerms) -> Vec<String> {
        let mut all = target.permissions.clone();
        all.extend(
            self.object_caps
                .users
                .get(&target.user.username)
                .into_iter()
                .flatten()
                .cloned(),
        );
        for g in &target.groups {
            all.extend(self.group_capabilities(g, Self::group_perms(groups, g)));
        }
        all.sort();
        all.dedup();
        all
    }

    /// Rule 3: may this editor change `target` at all? Returns the problems (empty: yes).
    pub(crate) fn may_touch(&self, target: &UserState, groups: &GroupPerms) -> Vec<String> {
        if self.superuser {
            return Vec::new();
        }
        if target.user.is_superuser {
            return vec![format!(
                "Only a superuser can change the superuser {:?}.",
                target.user.username
            )];
        }
        let caps = self.user_capabilities(target, groups);
        let missing = self.missing(&caps);
        if missing.is_empty() {
            Vec::new()
        } else {
            vec![format!(
                "You cannot change {:?}: they hold rights you do not ({}).",
                target.user.username,
                missing.join(", ")
            )]
        }
    }

    /// Every rule for a change to an existing user. Returns the problems (empty: allowed).
    pub(crate) fn check_user_edit(
        &self,
        target: &UserState,
        edit: &UserEdit,
        groups: &GroupPerms,
    ) -> Vec<String> {
        if self.superuser {
            return Vec::new();
        }
        let mut problems = self.may_touch(target, groups);
        let u = &target.user;
        let flag_change = |v: Option<bool>, old: bool| v.is_some_and(|v| v != old);
        if flag_change(edit.is_staff, u.is_staff) {
            problems.push("Only a superuser can change staff status.".into());
        }
        if flag_change(edit.is_superuser, u.is_superuser) {
            problems.push("Only a superuser can change superuser status.".into());
        }
        let grants_change = !edit.add_groups.is_empty()
            || !edit.remove_groups.is_empty()
            || !edit.grant.is_empty()
            || !edit.revoke.is_empty();
        if u.id == self.user_id && (grants_change || flag_change(edit.is_active, u.is_active)) {
            problems.push(
                "You cannot change your own active status, groups or permissions; ask another administrator."
                    .into(),
            );
        }
        problems.extend(self.check_perm_change(&edit.grant, &edit.revoke));
        for (list, verb) in [
            (&edit.add_groups, "add users to"),
            (&edit.remove_groups, "remove users from"),
        ] {
            for g in list {
                problems.extend(self.check_group_caps(g, Self::group_perms(groups, g), verb));
            }
        }
        problems
    }

    /// Rule 5 (and 6): refuses unless the editor holds every capability of group `name`.
    pub(crate) fn check_group_caps(&self, name: &str, perms: &[String], verb: &str) -> Vec<String> {
        if self.superuser {
            return Vec::new();
        }
        let caps = self.group_capabilities(name, perms);
        let missing = self.missing(&caps);
        if missing.is_empty() {
            return Vec::new();
        }
        let trusted = if self.trusted.is_trusted(name) {
            format!(
                " Its name is trusted by {}.",
                self.trusted.sources(name).join(", ")
            )
        } else {
            String::new()
        };
        vec![format!(
            "You cannot {verb} the group {name:?}: it grants rights you do not hold ({}).{trusted}",
            missing.join(", ")
        )]
    }

    /// Rule 1 for a new user.
    pub(crate) fn check_new_user(&self, is_staff: bool, is_superuser: bool) -> Vec<String> {
        let mut problems = Vec::new();
        if !self.superuser && is_staff {
            problems.push("Only a superuser can create staff users.".into());
        }
        if !self.superuser && is_superuser {
            problems.push("Only a superuser can create superusers.".into());
        }
        problems
    }

    /// Rule 4: granting `grant` and removing `revoke` (a user's or a group's permissions).
    pub(crate) fn check_perm_change(&self, grant: &[String], revoke: &[String]) -> Vec<String> {
        if self.superuser {
            return Vec::new();
        }
        let mut problems = Vec::new();
        let missing = self.missing(grant);
        if !missing.is_empty() {
            problems.push(format!(
                "You cannot grant permissions you do not hold: {}.",
                missing.join(", ")
            ));
        }
        let missing = self.missing(revoke);
        if !missing.is_empty() {
            problems.push(format!(
                "You cannot remove permissions you do not hold: {}.",
                missing.join(", ")
            ));
        }
        problems
    }

    /// Rule 6 for a new group called `name`.
    pub(crate) fn check_group_create(&self, name: &str) -> Vec<String> {
        self.name_problems(name, "create a group called")
    }

    /// Rule 6 for renaming the group `old` (with `perms`) to `new`.
    pub(crate) fn check_group_rename(&self, old: &str, perms: &[String], new: &str) -> Vec<String> {
        let mut problems = self.check_group_caps(old, perms, "rename");
        problems.extend(self.name_problems(new, "rename a group to"));
        problems
    }

    fn name_problems(&self, name: &str, verb: &str) -> Vec<String> {
        let caps = self.name_capabilities(name);
        let missing = self.missing(&caps);
        if missing.is_empty() {
            return Vec::new();
        }
        vec![format!(
            "You cannot {verb} {name:?}: the name is trusted by {} and grants rights you do not hold ({}).",
            self.trusted.sources(name).join(", "),
            missing.join(", ")
        )]
    }

    /// Whether the editor may grant and remove `perm` (the picker's lock).
    pub(crate) fn may_change_perm(&self, perm: &str) -> bool {
        self.holds(perm)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::sync::Arc;

    use super::*;
    use castellan_core::{Identity, PermIndex, PermissionRow, User, UserFlags, UserPerms};

    const CATALOG: [&str; 3] = ["auth.view_user", "auth.change_user", "auth.delete_user"];

    fn principal(holds: &[&str]) -> Principal {
        let index = Arc::new(PermIndex::new(CATALOG.iter().enumerate().map(|(i, p)| {
            let (app, code) = p.split_once('.').unwrap();
            PermissionRow {
                id: i as i64 + 1,
                app_label: app.into(),
                codename: code.into(),
            }
        })));
        let ids = CATALOG
            .iter()
            .enumerate()
            .filter(|(_, p)| holds.contains(p))
            .map(|(i, _)| i as i64 + 1);
        let perms = UserPerms::new(index.set_from_rows(ids), index.set_from_rows([]));
        let who = Identity::User(UserFlags {
            id: castellan_core::UserId::Int(1),
            username: "editor".into(),
            is_active: true,
            is_superuser: false,
            is_staff: true,
        });
        Principal::new(who, Arc::new(perms), index)
    }

    fn rights(holds: &[&str], member_of: &[&str], superuser: bool) -> Rights {
        Rights {
            superuser,
            user_id: castellan_core::UserId::Int(1),
            principal: principal(holds),
            member_of: member_of.iter().map(|s| s.to_string()).collect(),
            trusted: TrustedGroups::new().with_group("Editors", "guard /editor/"),
            catalog: CATALOG.iter().map(|s| s.to_string()).collect(),
            object_caps: Default::default(),
        }
    }

    fn state(id: i64, superuser: bool, groups: &[&str], perms: &[&str]) -> UserState {
        UserState {
            user: User {
                id: castellan_core::UserId::Int(id),
                password: String::new(),
                last_login: None,
                is_superuser: superuser,
                username: format!("u{id}"),
                first_name: String::new(),
                last_name: String::new(),
                email: String::new(),
                is_staff: true,
                is_active: true,
                date_joined: Some(chrono::Utc::now()),
            },
            groups: groups.iter().map(|s| s.to_string()).collect(),
            permissions: perms.iter().map(|s| s.to_string()).collect(),
            version: String::new(),
        }
    }

    fn groups() -> Vec<(String, Vec<String>)> {
        vec![
            ("Weak".into(), vec!["auth.view_user".into()]),
            ("Strong".into(), vec!["auth.delete_user".into()]),
            ("Editors".into(), vec![]),
        ]
    }

    #[test]
    fn a_non_superuser_grants_and_removes_only_what_they_hold() {
        let g = rights(&["auth.view_user", "auth.change_user"], &[], false);
        let target = state(2, false, &[], &[]);
        let ok = UserEdit {
            grant: vec!["auth.view_user".into()],
            add_groups: vec!["Weak".into()],
            ..Default::default()
        };
        assert!(g.check_user_edit(&target, &ok, &groups()).is_empty());
        for bad in [
            UserEdit {
                grant: vec!["auth.delete_user".into()],
                ..Default::default()
            },
            UserEdit {
                add_groups: vec!["Strong".into()],
                ..Default::default()
            },
            UserEdit {
                add_groups: vec!["Editors".into()],
                ..Default::default()
            },
        ] {
            assert_eq!(g.check_user_edit(&target, &bad, &groups()).len(), 1);
        }
        let bad = UserEdit {
            is_superuser: Some(true),
            is_staff: Some(false),
            ..Default::default()
        };
        assert_eq!(g.check_user_edit(&target, &bad, &groups()).len(), 2);
        let own = state(1, false, &[], &[]);
        assert_eq!(g.check_user_edit(&own, &ok, &groups()).len(), 1);
        assert_eq!(
            g.check_perm_change(&[], &["auth.delete_user".into()]).len(),
            1
        );
        assert!(g
            .check_perm_change(&[], &["auth.view_user".into()])
            .is_empty());
    }

    #[test]
    fn stronger_users_include_name_rights() {
        let g = rights(&["auth.view_user", "auth.change_user"], &[], false);
        assert_eq!(
            g.may_touch(&state(3, false, &["Strong"], &[]), &groups())
                .len(),
            1
        );
        assert_eq!(g.may_touch(&state(4, true, &[], &[]), &groups()).len(), 1);
        // A member of a trusted, permission-less group is stronger than a non-member.
        assert_eq!(
            g.may_touch(&state(5, false, &["Editors"], &[]), &groups())
                .len(),
            1
        );
        let member = rights(&["auth.view_user", "auth.change_user"], &["Editors"], false);
        assert!(member
            .may_touch(&state(5, false, &["Editors"], &[]), &groups())
            .is_empty());
    }

    #[test]
    fn trusted_names_guard_create_rename_and_delete() {
        let g = rights(&["auth.view_user"], &["Weak"], false);
        assert_eq!(g.check_group_create("Editors").len(), 1);
        assert!(g.check_group_create("Anything").is_empty());
        // Renaming into a trusted name, and out of one.
        assert_eq!(
            g.check_group_rename("Weak", &["auth.view_user".into()], "Editors")
                .len(),
            1
        );
        assert_eq!(g.check_group_rename("Editors", &[], "Old").len(), 1);
        assert!(g
            .check_group_rename("Weak", &["auth.view_user".into()], "Weaker")
            .is_empty());
        assert_eq!(g.check_group_caps("Editors", &[], "delete").len(), 1);
        let member = rights(&["auth.view_user"], &["Editors"], false);
        assert!(member
            .check_group_rename("Editors", &[], "Editors2")
            .is_empty());
        let su = rights(&[], &[], true);
        assert!(su.check_group_create("Editors").is_empty());
        assert!(su
            .check_user_edit(
                &state(3, false, &["Strong"], &[]),
                &UserEdit {
                    add_groups: vec!["Editors".into()],
                    ..Default::default()
                },
                &groups()
            )
            .is_empty());
    }
    /// A grant on one object is a right: a user or group holding one the editor lacks cannot be
    /// touched (password, groups) nor joined; holding the permission on the model, or the same
    /// grant, is enough.
    #[test]
    fn object_grants_are_rights() {
        let cap = "auth.change_user@auth.group:7".to_owned();
        let mut target = state(2, false, &["Book7"], &[]);
        target.user.username = "t".into();
        let with_caps = |mut r: Rights| {
            r.object_caps.users.insert("t".into(), vec![cap.clone()]);
            r.object_caps
                .groups
                .insert("Book7".into(), vec![cap.clone()]);
            r
        };
        let weak = with_caps(rights(&["auth.view_user"], &[], false));
        assert!(
            !weak.may_touch(&target, &[]).is_empty(),
            "a stronger user by an object grant"
        );
        assert!(!weak
            .check_group_caps("Book7", &[], "add users to")
            .is_empty());
        let global = with_caps(rights(&["auth.change_user"], &[], false));
        assert!(
            global.may_touch(&target, &[]).is_empty(),
            "the permission on the model covers it"
        );
        let mut same = with_caps(rights(&[], &["Book7"], false));
        assert!(same.holds(&cap), "through his group's grant");
        same.object_caps.groups.clear();
        assert!(!same.holds(&cap));
        let editor_name = same.principal.identity().username().to_owned();
        same.object_caps
            .users
            .insert(editor_name, vec![cap.clone()]);
        assert!(same.holds(&cap), "his own grant");
        assert!(
            !same.holds("auth.change_user@auth.group:8"),
            "on that object only"
        );
    }
}
