//! Grant only what you hold: the escalation rules every user and group change passes, applied to
//! the **submitted** change (not to what the form showed). Superusers pass every rule; the store
//! still refuses to leave no active superuser.
//!
//! For a non-superuser:
//! 1. `is_staff` and `is_superuser` cannot be changed (nor set on a new user);
//! 2. their own flags, groups and permissions cannot be changed;
//! 3. a user who is a superuser (active or not) or holds — directly or through groups, active or
//!    not — a permission the editor lacks cannot be changed at all (flags, groups, permissions,
//!    password, deletion): otherwise setting their password would take their power;
//! 4. a permission can be granted (to a user or a group) only if the editor holds it;
//! 5. a user can be added to a group only if the editor holds every permission of the group.

use castellan_store::{UserEdit, UserState};

/// The editor: whether they are an active superuser, and what they hold.
pub(crate) struct Granter<'a> {
    pub(crate) superuser: bool,
    pub(crate) user_id: i64,
    pub(crate) holds: &'a (dyn Fn(&str) -> bool + Sync),
}

/// Everything a user holds regardless of `is_active`: direct permissions and those of its groups.
pub(crate) fn user_grants(state: &UserState, groups: &[(String, Vec<String>)]) -> Vec<String> {
    let mut all = state.permissions.clone();
    for (g, perms) in groups {
        if state.groups.contains(g) {
            all.extend(perms.iter().cloned());
        }
    }
    all.sort();
    all.dedup();
    all
}

impl Granter<'_> {
    fn missing<'p>(&self, perms: impl IntoIterator<Item = &'p String>) -> Vec<&'p str> {
        perms
            .into_iter()
            .filter(|p| !(self.holds)(p))
            .map(String::as_str)
            .collect()
    }

    /// Rule 3: may this editor change `target` at all? Returns the problems (empty: yes).
    pub(crate) fn may_touch(
        &self,
        target: &UserState,
        groups: &[(String, Vec<String>)],
    ) -> Vec<String> {
        if self.superuser {
            return Vec::new();
        }
        let mut problems = Vec::new();
        if target.user.is_superuser {
            problems.push(format!(
                "Only a superuser can change the superuser {:?}.",
                target.user.username
            ));
        } else {
            let grants = user_grants(target, groups);
            let missing = self.missing(&grants);
            if !missing.is_empty() {
                problems.push(format!(
                    "You cannot change {:?}: they hold permissions you do not ({}).",
                    target.user.username,
                    missing.join(", ")
                ));
            }
        }
        problems
    }

    /// Every rule for a change to an existing user. Returns the problems (empty: allowed).
    pub(crate) fn check_user_edit(
        &self,
        target: &UserState,
        edit: &UserEdit,
        groups: &[(String, Vec<String>)],
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
        let missing = self.missing(&edit.grant);
        if !missing.is_empty() {
            problems.push(format!(
                "You cannot grant permissions you do not hold: {}.",
                missing.join(", ")
            ));
        }
        for g in &edit.add_groups {
            let perms = groups
                .iter()
                .find(|(name, _)| name == g)
                .map(|(_, p)| p.as_slice())
                .unwrap_or_default();
            let missing = self.missing(perms);
            if !missing.is_empty() {
                problems.push(format!(
                    "You cannot add users to the group {g:?}: it grants permissions you do not hold ({}).",
                    missing.join(", ")
                ));
            }
        }
        problems
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

    /// Rule 4 for a group.
    pub(crate) fn check_group_grant(&self, grant: &[String]) -> Vec<String> {
        if self.superuser {
            return Vec::new();
        }
        let missing = self.missing(grant);
        if missing.is_empty() {
            Vec::new()
        } else {
            vec![format!(
                "You cannot grant permissions you do not hold: {}.",
                missing.join(", ")
            )]
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use castellan_core::User;

    fn state(id: i64, superuser: bool, groups: &[&str], perms: &[&str]) -> UserState {
        UserState {
            user: User {
                id,
                password: String::new(),
                last_login: None,
                is_superuser: superuser,
                username: format!("u{id}"),
                first_name: String::new(),
                last_name: String::new(),
                email: String::new(),
                is_staff: true,
                is_active: true,
                date_joined: chrono::Utc::now(),
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
        ]
    }

    #[test]
    fn a_non_superuser_grants_only_what_they_hold() {
        let holds = |p: &str| p == "auth.view_user" || p == "auth.change_user";
        let g = Granter {
            superuser: false,
            user_id: 1,
            holds: &holds,
        };
        let target = state(2, false, &[], &[]);
        let ok = UserEdit {
            grant: vec!["auth.view_user".into()],
            add_groups: vec!["Weak".into()],
            ..Default::default()
        };
        assert!(g.check_user_edit(&target, &ok, &groups()).is_empty());
        let bad = UserEdit {
            grant: vec!["auth.delete_user".into()],
            ..Default::default()
        };
        assert_eq!(g.check_user_edit(&target, &bad, &groups()).len(), 1);
        let bad = UserEdit {
            add_groups: vec!["Strong".into()],
            ..Default::default()
        };
        assert_eq!(g.check_user_edit(&target, &bad, &groups()).len(), 1);
        let bad = UserEdit {
            is_superuser: Some(true),
            is_staff: Some(false),
            ..Default::default()
        };
        assert_eq!(g.check_user_edit(&target, &bad, &groups()).len(), 2);
        let own = state(1, false, &[], &[]);
        assert_eq!(g.check_user_edit(&own, &ok, &groups()).len(), 1);
        let stronger = state(3, false, &["Strong"], &[]);
        assert_eq!(g.may_touch(&stronger, &groups()).len(), 1);
        assert_eq!(g.may_touch(&state(4, true, &[], &[]), &groups()).len(), 1);
        let su = Granter {
            superuser: true,
            user_id: 1,
            holds: &|_| false,
        };
        assert!(su.check_user_edit(&stronger, &bad, &groups()).is_empty());
    }
}
