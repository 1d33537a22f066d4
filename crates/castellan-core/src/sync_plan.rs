//! The pure half of `castellan sync`: given a [`Policy`] and a [`Snapshot`] of the database, [`plan`]
//! computes the [`SyncPlan`] (content types, permissions and groups to create, permission names to
//! correct, group permissions to grant and, with `prune`, what to remove) and the ids applying it
//! needs. `castellan-store` reads the snapshot and applies the plan in one transaction; everything
//! decided in between is here, with no I/O, so it is tested by tables of cases.
//!
//! What `prune` removes, conservatively:
//! * from each group the file declares: the permissions the file does not give it;
//! * the groups the file does not declare;
//! * in the apps the file declares — never Django's own `auth` and `contenttypes` — the permissions
//!   and content types the file no longer declares.
//!
//! Without `prune` nothing is ever deleted. A permission whose name differs from the file's is
//! renamed (never deleted). [`rebound`] finds the policy groups whose name now belongs to another
//! group than the one the policy was last applied to.

use std::collections::BTreeSet;
use std::fmt;

use foldhash::{HashMap, HashSet, HashSetExt};
use serde::Serialize;

use crate::policy::{Policy, Problems};

/// A permission the plan creates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedPermission {
    /// `app_label.codename`.
    pub permission: String,
    /// The model (content type) it belongs to.
    pub model: String,
    /// Its human-readable name.
    pub name: String,
}

/// A permission whose human-readable name the plan corrects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenamedPermission {
    /// `app_label.codename`.
    pub permission: String,
    /// The model it belongs to.
    pub model: String,
    /// The name in the database.
    pub old_name: String,
    /// The name the file declares.
    pub new_name: String,
}

/// Permissions granted to or revoked from one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupChange {
    /// The group.
    pub group: String,
    /// Sorted `app_label.codename` names.
    pub permissions: Vec<String>,
}

/// What a sync does (or did). Every list is sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncPlan {
    /// Content types to create, `app_label.model`.
    pub content_types: Vec<String>,
    /// Permissions to create.
    pub permissions: Vec<PlannedPermission>,
    /// Permissions whose name changes.
    pub renamed_permissions: Vec<RenamedPermission>,
    /// Groups to create.
    pub groups: Vec<String>,
    /// Permissions to grant, per group.
    pub grants: Vec<GroupChange>,
    /// Permissions to revoke, per group (prune only).
    pub revokes: Vec<GroupChange>,
    /// Groups to delete (prune only).
    pub deleted_groups: Vec<String>,
    /// Permissions to delete, `app_label.codename` (prune only).
    pub deleted_permissions: Vec<String>,
    /// Content types to delete, `app_label.model` (prune only).
    pub deleted_content_types: Vec<String>,
    /// Policy groups whose name now belongs to another group than the one the policy was last
    /// applied to (renamed or re-created since): a sync without `force` refuses them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rebound: Vec<ReboundGroup>,
}

/// A policy group whose name moved to another group since the policy was last applied: someone
/// renamed or deleted the group the policy bound, and another group now carries the name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReboundGroup {
    /// The policy's group name.
    pub group: String,
    /// The id of the group the policy was last applied to.
    pub bound_id: i64,
    /// That group's name now (`None`: it was deleted).
    pub bound_now_named: Option<String>,
    /// The id of the group that carries the name now.
    pub current_id: i64,
}

impl fmt::Display for ReboundGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "group {:?} (id {}) is not the group this policy was applied to (id {}, ",
            self.group, self.current_id, self.bound_id
        )?;
        match &self.bound_now_named {
            Some(name) => write!(f, "now named {name:?})"),
            None => write!(f, "since deleted)"),
        }
    }
}

impl SyncPlan {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.change_count() == 0
    }

    /// The number of changes: rows created, renamed or deleted, grants and revocations.
    pub fn change_count(&self) -> usize {
        self.content_types.len()
            + self.permissions.len()
            + self.renamed_permissions.len()
            + self.groups.len()
            + self
                .grants
                .iter()
                .map(|g| g.permissions.len())
                .sum::<usize>()
            + self
                .revokes
                .iter()
                .map(|g| g.permissions.len())
                .sum::<usize>()
            + self.deleted_groups.len()
            + self.deleted_permissions.len()
            + self.deleted_content_types.len()
    }
}

impl fmt::Display for SyncPlan {
    /// One line per change, `+` for additions, `~` for changes, `-` for removals, like a migration plan.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for ct in &self.content_types {
            writeln!(f, "  + content type {ct}")?;
        }
        for p in &self.permissions {
            writeln!(f, "  + permission {} ({:?})", p.permission, p.name)?;
        }
        for p in &self.renamed_permissions {
            writeln!(
                f,
                "  ~ permission {}: name {:?} -> {:?}",
                p.permission, p.old_name, p.new_name
            )?;
        }
        for g in &self.groups {
            writeln!(f, "  + group {g:?}")?;
        }
        for g in &self.grants {
            writeln!(f, "  + grant {:?}: {}", g.group, g.permissions.join(", "))?;
        }
        for g in &self.revokes {
            writeln!(f, "  - revoke {:?}: {}", g.group, g.permissions.join(", "))?;
        }
        for g in &self.deleted_groups {
            writeln!(f, "  - delete group {g:?}")?;
        }
        for p in &self.deleted_permissions {
            writeln!(f, "  - delete permission {p}")?;
        }
        for ct in &self.deleted_content_types {
            writeln!(f, "  - delete content type {ct}")?;
        }
        for r in &self.rebound {
            writeln!(f, "  ! {r}")?;
        }
        Ok(())
    }
}

/// A row of `auth_permission` as the planner reads it.
#[derive(Debug, Clone)]
pub struct SnapshotPermission {
    /// Primary key.
    pub id: i64,
    /// Its content type's id.
    pub ct: i64,
    /// The codename.
    pub codename: String,
    /// The human-readable name.
    pub name: String,
}

/// What the planner needs of the database: its content types, permissions, groups, group grants and
/// policy-group bindings, read by the store in one snapshot.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// `django_content_type`: (id, app label, model).
    pub cts: Vec<(i64, String, String)>,
    /// `auth_permission`.
    pub perms: Vec<SnapshotPermission>,
    /// `auth_group`: (id, name).
    pub groups: Vec<(i64, String)>,
    /// `auth_group_permissions`: (group id, permission id).
    pub grants: Vec<(i64, i64)>,
    /// `castellan_policy_group`: policy group name → the group id it was last applied to.
    pub bindings: Vec<(String, i64)>,
}

impl Snapshot {
    /// `app_label.codename` of each permission id.
    pub fn perm_names(&self) -> HashMap<i64, String> {
        let apps: HashMap<i64, &str> = self
            .cts
            .iter()
            .map(|(id, app, _)| (*id, app.as_str()))
            .collect();
        self.perms
            .iter()
            .filter_map(|p| {
                apps.get(&p.ct)
                    .map(|app| (p.id, format!("{app}.{}", p.codename)))
            })
            .collect()
    }
}

/// The policy groups whose name is carried by another group than the one recorded in
/// `castellan_policy_group` (a group the policy never bound, or one whose binding is gone, is
/// adopted as it is).
pub fn rebound(policy: &Policy, state: &Snapshot) -> Vec<ReboundGroup> {
    let mut out = Vec::new();
    for g in policy.groups() {
        let Some(bound_id) = state
            .bindings
            .iter()
            .find(|(n, _)| *n == g.name)
            .map(|(_, id)| *id)
        else {
            continue;
        };
        let Some(current_id) = state
            .groups
            .iter()
            .find(|(_, n)| *n == g.name)
            .map(|(id, _)| *id)
        else {
            continue;
        };
        if current_id != bound_id {
            out.push(ReboundGroup {
                group: g.name.clone(),
                bound_id,
                bound_now_named: state
                    .groups
                    .iter()
                    .find(|(id, _)| *id == bound_id)
                    .map(|(_, n)| n.clone()),
                current_id,
            });
        }
    }
    out
}

/// Whether `castellan_policy_group` lacks or contradicts a binding of one of `policy`'s groups
/// (computed before a sync creates groups: a group to be created has no binding yet).
pub fn bindings_stale(policy: &Policy, state: &Snapshot) -> bool {
    policy.groups().iter().any(|g| {
        let current = state
            .groups
            .iter()
            .find(|(_, n)| *n == g.name)
            .map(|(id, _)| *id);
        let bound = state
            .bindings
            .iter()
            .find(|(n, _)| *n == g.name)
            .map(|(_, id)| *id);
        current.is_none() || current != bound
    })
}

/// The plan, plus what applying it needs beyond names.
#[derive(Debug)]
pub struct Planned {
    /// What changes, by name (shown to the operator, audited).
    pub plan: SyncPlan,
    /// (permission id, new name).
    pub renames: Vec<(i64, String)>,
    /// (group id, permission ids) to revoke.
    pub revoke_ids: Vec<(i64, Vec<i64>)>,
    /// Groups to delete (prune).
    pub deleted_group_ids: Vec<i64>,
    /// Permissions to delete (prune).
    pub deleted_perm_ids: Vec<i64>,
    /// Content types to delete (prune).
    pub deleted_ct_ids: Vec<i64>,
}

/// Plans applying `policy` to a database in the state `state`: what to create, rename, grant and
/// (with `prune`) remove. Pure: no I/O, the same inputs give the same plan. A policy whose
/// permissions cannot all be resolved gives its problems.
pub fn plan(policy: &Policy, state: &Snapshot, prune: bool) -> Result<Planned, Problems> {
    let ct_by_key: HashMap<(&str, &str), i64> = state
        .cts
        .iter()
        .map(|(id, app, model)| ((app.as_str(), model.as_str()), *id))
        .collect();
    let ct_app: HashMap<i64, (&str, &str)> = state
        .cts
        .iter()
        .map(|(id, app, model)| (*id, (app.as_str(), model.as_str())))
        .collect();
    let perm_by_key: HashMap<(i64, &str), &SnapshotPermission> = state
        .perms
        .iter()
        .map(|p| ((p.ct, p.codename.as_str()), p))
        .collect();
    let existing: Vec<(&str, &str)> = state
        .perms
        .iter()
        .filter_map(|p| {
            ct_app
                .get(&p.ct)
                .map(|(app, _)| (*app, p.codename.as_str()))
        })
        .collect();
    let resolved = policy.resolve(existing.iter().copied(), prune)?;

    let mut plan = SyncPlan::default();
    let mut renames = Vec::new();
    let mut declared: HashSet<(&str, &str, String)> = HashSet::new();
    let mut declared_models: HashSet<(&str, &str)> = HashSet::new();
    for model in policy.registry().models() {
        let (app, name) = (model.app_label(), model.model_name());
        if prune {
            declared_models.insert((app, name));
        }
        let ct = ct_by_key.get(&(app, name)).copied();
        if ct.is_none() {
            plan.content_types.push(format!("{app}.{name}"));
        }
        for perm in model.permissions() {
            if prune {
                declared.insert((app, name, perm.codename.clone()));
            }
            let row = ct.and_then(|ct| perm_by_key.get(&(ct, perm.codename.as_str())));
            match row {
                Some(row) if row.name != perm.name => {
                    plan.renamed_permissions.push(RenamedPermission {
                        permission: format!("{app}.{}", perm.codename),
                        model: name.to_owned(),
                        old_name: row.name.clone(),
                        new_name: perm.name.clone(),
                    });
                    renames.push((row.id, perm.name));
                }
                Some(_) => {}
                None => {
                    plan.permissions.push(PlannedPermission {
                        permission: format!("{app}.{}", perm.codename),
                        model: name.to_owned(),
                        name: perm.name,
                    });
                }
            }
        }
    }

    // Names only of the permissions some group holds (and, to prune, of all of them).
    let perm_by_id: HashMap<i64, &SnapshotPermission> =
        state.perms.iter().map(|p| (p.id, p)).collect();
    let name_of = |id: i64| -> Option<String> {
        let p = perm_by_id.get(&id)?;
        let (app, _) = ct_app.get(&p.ct)?;
        Some(format!("{app}.{}", p.codename))
    };
    let mut ids_of: HashMap<String, Vec<i64>> = HashMap::default();
    if prune {
        for p in &state.perms {
            if let Some(name) = name_of(p.id) {
                ids_of.entry(name).or_default().push(p.id);
            }
        }
    }
    let mut held: HashMap<i64, BTreeSet<String>> = HashMap::default();
    for (g, p) in &state.grants {
        if let Some(name) = name_of(*p) {
            held.entry(*g).or_default().insert(name);
        }
    }
    let group_ids: HashMap<&str, i64> = state
        .groups
        .iter()
        .map(|(id, name)| (name.as_str(), *id))
        .collect();
    let mut revoke_ids = Vec::new();
    for (group, wanted) in &resolved.groups {
        let gid = group_ids.get(group.as_str()).copied();
        if gid.is_none() {
            plan.groups.push(group.clone());
        }
        let has = gid.and_then(|g| held.get(&g));
        let grant: Vec<String> = wanted
            .iter()
            .filter(|n| !has.is_some_and(|h| h.contains(n.as_str())))
            .cloned()
            .collect();
        if !grant.is_empty() {
            plan.grants.push(GroupChange {
                group: group.clone(),
                permissions: grant,
            });
        }
        if let (true, Some(g), Some(has)) = (prune, gid, has) {
            let revoke: Vec<String> = has
                .iter()
                .filter(|n| !wanted.contains(n.as_str()))
                .cloned()
                .collect();
            if !revoke.is_empty() {
                let mut ids: Vec<i64> = revoke
                    .iter()
                    .flat_map(|n| ids_of.get(n).cloned().unwrap_or_default())
                    .collect();
                ids.sort_unstable();
                revoke_ids.push((g, ids));
                plan.revokes.push(GroupChange {
                    group: group.clone(),
                    permissions: revoke,
                });
            }
        }
    }

    let mut deleted_group_ids = Vec::new();
    let mut deleted_perm_ids = Vec::new();
    let mut deleted_ct_ids = Vec::new();
    if prune {
        let mut groups: Vec<&(i64, String)> = state
            .groups
            .iter()
            .filter(|(_, name)| !resolved.groups.contains_key(name))
            .collect();
        groups.sort_by(|a, b| a.1.cmp(&b.1));
        for (id, name) in groups {
            deleted_group_ids.push(*id);
            plan.deleted_groups.push(name.clone());
        }
        let mut perms: Vec<(String, i64)> = state
            .perms
            .iter()
            .filter_map(|p| {
                let (app, model) = ct_app.get(&p.ct)?;
                (policy.owns_app(app) && !declared.contains(&(*app, *model, p.codename.clone())))
                    .then(|| (format!("{app}.{}", p.codename), p.id))
            })
            .collect();
        perms.sort();
        for (name, id) in perms {
            deleted_perm_ids.push(id);
            plan.deleted_permissions.push(name);
        }
        let mut cts: Vec<(String, i64)> = state
            .cts
            .iter()
            .filter(|(_, app, model)| {
                policy.owns_app(app) && !declared_models.contains(&(app.as_str(), model.as_str()))
            })
            .map(|(id, app, model)| (format!("{app}.{model}"), *id))
            .collect();
        cts.sort();
        for (name, id) in cts {
            deleted_ct_ids.push(id);
            plan.deleted_content_types.push(name);
        }
    }
    // (permission, model) pairs are unique (a model declares a codename once): unstable is enough.
    plan.content_types.sort_unstable();
    plan.permissions
        .sort_unstable_by(|a, b| (&a.permission, &a.model).cmp(&(&b.permission, &b.model)));
    plan.renamed_permissions
        .sort_by(|a, b| (&a.permission, &a.model).cmp(&(&b.permission, &b.model)));
    plan.groups.sort();
    Ok(Planned {
        plan,
        renames,
        revoke_ids,
        deleted_group_ids,
        deleted_perm_ids,
        deleted_ct_ids,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SHOP: &str = "[apps.shop]\n[[apps.shop.models]]\nname = \"Item\"\n";

    /// A database holding `shop.item` with its four default permissions (ids 1–4: add, change,
    /// delete, view), Django's `auth.user` with `auth.view_user` (id 10), and `groups`.
    fn shop_db(groups: &[(i64, &str)], grants: &[(i64, i64)]) -> Snapshot {
        let mut perms: Vec<SnapshotPermission> = ["add", "change", "delete", "view"]
            .iter()
            .zip(1..)
            .map(|(a, id)| SnapshotPermission {
                id,
                ct: 1,
                codename: format!("{a}_item"),
                name: format!("Can {a} item"),
            })
            .collect();
        perms.push(SnapshotPermission {
            id: 10,
            ct: 2,
            codename: "view_user".into(),
            name: "Can view user".into(),
        });
        Snapshot {
            cts: vec![
                (1, "shop".into(), "item".into()),
                (2, "auth".into(), "user".into()),
            ],
            perms,
            groups: groups
                .iter()
                .map(|(id, n)| (*id, (*n).to_owned()))
                .collect(),
            grants: grants.to_vec(),
            bindings: Vec::new(),
        }
    }

    /// One planner case: a policy, a database, `prune`, and what the plan must say.
    struct Case {
        name: &'static str,
        policy: String,
        db: Snapshot,
        prune: bool,
        check: fn(&Planned),
    }

    #[test]
    fn planner_cases() {
        let cases = [
            Case {
                name: "an empty database gets the content type, permissions, group and grants",
                policy: format!("{SHOP}[groups.Staff]\npermissions = [\"shop.view_*\"]\n"),
                db: Snapshot::default(),
                prune: false,
                check: |p| {
                    assert_eq!(p.plan.content_types, ["shop.item"]);
                    let names: Vec<&str> =
                        p.plan.permissions.iter().map(|x| x.permission.as_str()).collect();
                    assert_eq!(names, ["shop.add_item", "shop.change_item", "shop.delete_item", "shop.view_item"]);
                    assert_eq!(p.plan.groups, ["Staff"]);
                    assert_eq!(p.plan.grants, [GroupChange { group: "Staff".into(), permissions: vec!["shop.view_item".into()] }]);
                    assert_eq!(p.plan.change_count(), 7);
                },
            },
            Case {
                name: "a database that matches changes nothing, with or without prune",
                policy: format!("{SHOP}[groups.Staff]\npermissions = [\"shop.view_item\"]\n"),
                db: shop_db(&[(1, "Staff")], &[(1, 4)]),
                prune: true,
                check: |p| assert!(p.plan.is_empty(), "{}", p.plan),
            },
            Case {
                name: "a permission whose name differs is renamed, never deleted",
                policy: "[apps.shop]\n[[apps.shop.models]]\nname = \"Item\"\npermissions = [ { codename = \"add_item\", name = \"Can list an item\" } ]\ndefault_permissions = [\"change\", \"delete\", \"view\"]\n".into(),
                db: shop_db(&[], &[]),
                prune: true,
                check: |p| {
                    assert_eq!(p.plan.renamed_permissions.len(), 1, "{}", p.plan);
                    let r = &p.plan.renamed_permissions[0];
                    assert_eq!((r.old_name.as_str(), r.new_name.as_str()), ("Can add item", "Can list an item"));
                    assert_eq!(p.renames, [(1, "Can list an item".to_owned())]);
                    assert!(p.plan.deleted_permissions.is_empty());
                },
            },
            Case {
                name: "without prune, extra grants and undeclared groups stay",
                policy: format!("{SHOP}[groups.Staff]\npermissions = [\"shop.view_item\"]\n"),
                db: shop_db(&[(1, "Staff"), (2, "Other")], &[(1, 4), (1, 1), (2, 2)]),
                prune: false,
                check: |p| assert!(p.plan.is_empty(), "{}", p.plan),
            },
            Case {
                name: "prune revokes extra grants and deletes undeclared groups",
                policy: format!("{SHOP}[groups.Staff]\npermissions = [\"shop.view_item\"]\n"),
                db: shop_db(&[(1, "Staff"), (2, "Other")], &[(1, 4), (1, 1), (2, 2)]),
                prune: true,
                check: |p| {
                    assert_eq!(p.plan.revokes, [GroupChange { group: "Staff".into(), permissions: vec!["shop.add_item".into()] }]);
                    assert_eq!(p.revoke_ids, [(1, vec![1])]);
                    assert_eq!(p.plan.deleted_groups, ["Other"]);
                    assert_eq!(p.deleted_group_ids, [2]);
                    assert!(p.plan.deleted_permissions.is_empty());
                },
            },
            Case {
                name: "prune deletes a model the declared app no longer has, with its permissions",
                policy: "[apps.shop]\n[[apps.shop.models]]\nname = \"Order\"\n".into(),
                db: shop_db(&[], &[]),
                prune: true,
                check: |p| {
                    assert_eq!(p.plan.content_types, ["shop.order"]);
                    assert_eq!(p.plan.deleted_content_types, ["shop.item"]);
                    assert_eq!(p.deleted_ct_ids, [1]);
                    assert_eq!(p.plan.deleted_permissions.len(), 4);
                    let mut ids = p.deleted_perm_ids.clone();
                    ids.sort_unstable();
                    assert_eq!(ids, [1, 2, 3, 4]);
                },
            },
            Case {
                name: "prune never touches Django's auth app, and a group may be granted its permissions",
                policy: format!("{SHOP}[groups.Staff]\npermissions = [\"auth.view_user\"]\n"),
                db: shop_db(&[(1, "Staff")], &[]),
                prune: true,
                check: |p| {
                    assert_eq!(p.plan.grants, [GroupChange { group: "Staff".into(), permissions: vec!["auth.view_user".into()] }]);
                    assert!(p.plan.deleted_content_types.is_empty() && p.plan.deleted_permissions.is_empty(), "{}", p.plan);
                },
            },
        ];
        for case in cases {
            let policy = Policy::parse(&case.policy)
                .unwrap_or_else(|e| panic!("{}: the policy does not parse: {e}", case.name));
            let planned = plan(&policy, &case.db, case.prune)
                .unwrap_or_else(|e| panic!("{}: no plan: {e}", case.name));
            (case.check)(&planned);
        }
    }

    #[test]
    fn a_grant_of_an_unknown_permission_is_a_problem() {
        let policy = Policy::parse(&format!(
            "{SHOP}[groups.Staff]\npermissions = [\"shop.sell_item\"]\n"
        ));
        let outcome =
            policy.and_then(|policy| plan(&policy, &shop_db(&[], &[]), false).map(|_| ()));
        let problems = outcome.expect_err("an unknown permission cannot be granted");
        assert!(
            problems.to_string().contains("shop.sell_item"),
            "{problems}"
        );
    }

    #[test]
    fn plan_from_an_empty_database_then_nothing() {
        let policy = Policy::parse(
            "[apps.shop]\n[[apps.shop.models]]\nname = \"Item\"\n[groups.Staff]\npermissions = [\"shop.view_*\"]\n",
        )
        .unwrap();
        let c = plan(&policy, &Snapshot::default(), false).unwrap();
        assert_eq!(c.plan.content_types, ["shop.item"]);
        assert_eq!(c.plan.permissions.len(), 4);
        assert_eq!(c.plan.groups, ["Staff"]);
        assert_eq!(c.plan.grants[0].permissions, ["shop.view_item"]);
        let state = Snapshot {
            cts: vec![(1, "shop".into(), "item".into())],
            perms: ["add", "change", "delete", "view"]
                .iter()
                .enumerate()
                .map(|(i, a)| SnapshotPermission {
                    id: i as i64 + 1,
                    ct: 1,
                    codename: format!("{a}_item"),
                    name: format!("Can {a} item"),
                })
                .collect(),
            groups: vec![(1, "Staff".into()), (2, "Other".into())],
            grants: vec![(1, 4), (1, 1)],
            bindings: vec![],
        };
        let c = plan(&policy, &state, false).unwrap();
        assert!(c.plan.is_empty(), "{}", c.plan);
        let c = plan(&policy, &state, true).unwrap();
        assert_eq!(c.plan.revokes[0].permissions, ["shop.add_item"]);
        assert_eq!(c.plan.deleted_groups, ["Other"]);
        assert_eq!(c.plan.change_count(), 2);
        assert!(c.plan.to_string().contains("- delete group \"Other\""));
    }

    #[test]
    fn a_name_carried_by_another_group_is_rebound() {
        let policy = Policy::parse(
            "[groups.Admins]\npermissions = []\n[groups.Viewers]\npermissions = []\n",
        )
        .unwrap();
        let mut state = Snapshot {
            groups: vec![(1, "Admins".into()), (2, "Viewers".into())],
            ..Snapshot::default()
        };
        // Never bound: adopted as they are, and the bindings are to be recorded.
        assert!(rebound(&policy, &state).is_empty());
        assert!(bindings_stale(&policy, &state));
        state.bindings = vec![("Admins".into(), 1), ("Viewers".into(), 2)];
        assert!(rebound(&policy, &state).is_empty());
        assert!(!bindings_stale(&policy, &state));
        // Admins renamed away, Viewers renamed to Admins.
        state.groups = vec![(1, "Admins-retired".into()), (2, "Admins".into())];
        let r = rebound(&policy, &state);
        assert_eq!(
            r,
            vec![ReboundGroup {
                group: "Admins".into(),
                bound_id: 1,
                bound_now_named: Some("Admins-retired".into()),
                current_id: 2,
            }]
        );
        assert!(r[0].to_string().contains("now named \"Admins-retired\""));
        // Admins deleted and re-created.
        state.groups = vec![(3, "Admins".into()), (2, "Viewers".into())];
        assert_eq!(rebound(&policy, &state)[0].bound_now_named, None);
    }
}
