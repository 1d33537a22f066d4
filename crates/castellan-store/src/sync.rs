//! The declarative sync engine behind `castellan sync POLICY.toml`.
//!
//! [`Store::sync_plan`] reads the database (one query per table) and computes a [`SyncPlan`]: the content
//! types, permissions and groups to create, the permission names to correct, the group permissions to
//! grant and — only with `prune` — what to remove. [`Store::sync`] computes the same plan **again inside
//! its transaction, under a lock** and applies it there, with multi-row statements, recording every change
//! in the audit trail in the same transaction: either all of it is applied or none of it.
//!
//! The lock serialises concurrent syncs: PostgreSQL `pg_advisory_xact_lock`, MariaDB `SELECT … FOR UPDATE`
//! on Castellan's generation row, SQLite a write (`UPDATE castellan_generation SET value = value`) as the
//! first statement, which takes the database's write lock before anything is read.
//!
//! On SQLite, a plan of at least `BULK_ROWS` changes is applied with Castellan's per-row generation
//! triggers suspended and one generation bump instead (see `SuspendedTriggers` in `migrate.rs`), and
//! tables are read as one JSON row each (sqlx's per-row hand-off costs more than SQLite's work).
//!
//! What `prune` removes, conservatively:
//! * from each group the file declares: the permissions the file does not give it;
//! * the groups the file does not declare (with their memberships and grants);
//! * in the apps the file declares — never Django's own `auth` and `contenttypes` — the permissions and
//!   content types the file no longer declares (with their grants, as Django's cascade does). A content
//!   type another table still refers to (an admin log entry, an object permission) makes the whole sync
//!   fail and nothing is applied.
//!
//! Without `prune` nothing is ever deleted. A permission whose name differs from the file's is renamed
//! (never deleted).

use std::collections::{BTreeMap, BTreeSet};

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::fmt;

use castellan_core::policy::{Policy, Problems};
use serde::Serialize;

use crate::audit::{audit, json};
use crate::error::{Error, Result};
use crate::migrate::{restore_row_triggers, suspend_row_triggers, BULK_ROWS, WATCHED_TABLES};
use crate::on_pool;
use crate::pool::{Dialect, RowExt};
use crate::principal::{read_gen, Gen, GENERATIONS};
use crate::Store;

/// Rows per multi-row statement (3 binds a row at most: far below every database's bind limit).
const CHUNK: usize = 1000;

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

/// Why a sync did not happen.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The policy file has problems (each with its line); nothing was applied.
    #[error("the policy file has {n} problem(s); nothing was applied:\n{list}", n = .0 .0.len(), list = .0)]
    Invalid(Problems),
    /// A policy group's name now belongs to another group than the one the policy was last applied
    /// to (a rename or a re-creation moved it); nothing was applied. Check the groups, then sync with
    /// `force` to bind the policy to the groups that carry the names now.
    #[error("{}; nothing was applied. Name bindings are rights: check who renamed or re-created the group (`castellan audit`), then run `castellan sync --force` to give the policy's permissions to the group that carries the name now", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Rebound(Vec<ReboundGroup>),
    /// The database failed; nothing was applied.
    #[error(transparent)]
    Store(#[from] Error),
}

/// How [`Store::sync_with`] applies a policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncOptions {
    /// Remove what the policy no longer declares (see the module docs).
    pub prune: bool,
    /// Apply even when a policy group's name moved to another group ([`SyncError::Rebound`]),
    /// binding the policy to the groups that carry the names now.
    pub force: bool,
}

impl From<sqlx::Error> for SyncError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

#[derive(Debug, Clone)]
struct PermRow {
    id: i64,
    ct: i64,
    codename: String,
    name: String,
}

/// The database's content types, permissions, groups and group grants.
#[derive(Debug, Default)]
struct State {
    cts: Vec<(i64, String, String)>,
    perms: Vec<PermRow>,
    groups: Vec<(i64, String)>,
    grants: Vec<(i64, i64)>,
    /// `castellan_policy_group`: policy group name → the group id it was last applied to.
    bindings: Vec<(String, i64)>,
}

impl State {
    /// `app_label.codename` of each permission id.
    fn perm_names(&self) -> HashMap<i64, String> {
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

/// Reads `SELECT $cols $rest` (binding `$bind`, if any) as a `Vec<$ty>` of tuples. sqlx hands SQLite
/// rows from its worker thread one at a time (1–2 µs each, more than SQLite takes to produce them), so
/// on SQLite the rows come back as **one** row holding a JSON array of arrays (`json_group_array`),
/// parsed here; other databases return the rows as they are, decoded by `$row`.
macro_rules! read_tuples {
    ($conn:expr, $d:expr, $ty:ty, $cols:expr, $rest:expr $(, $bind:expr)?; |$r:ident| $row:expr) => {{
        if $d == Dialect::Sqlite {
            let sql = format!("SELECT json_group_array(json_array({})) AS j {}", $cols, $rest);
            let text = sqlx::query(&sql)$(.bind($bind))?.fetch_one(&mut *$conn).await?.opt_text("j")?;
            serde_json::from_str::<Vec<$ty>>(text.as_deref().unwrap_or("[]")).map_err(|e| {
                Error::Schema(format!("SQLite returned rows that are not a JSON array: {e}"))
            })?
        } else {
            let sql = $d.sql(&format!("SELECT {} {}", $cols, $rest)).into_owned();
            sqlx::query(&sql)$(.bind($bind))?
                .fetch_all(&mut *$conn)
                .await?
                .iter()
                .map(|$r| $row)
                .collect::<Result<Vec<$ty>>>()?
        }
    }};
}

macro_rules! read_cts {
    ($conn:expr, $d:expr) => {
        read_tuples!($conn, $d, (i64, String, String), "id, app_label, model", "FROM django_content_type";
            |r| Ok((r.int("id")?, r.text("app_label")?, r.text("model")?)))
    };
}

/// Permission rows (`$rest` filters them, binding `$bind`).
macro_rules! read_perms {
    ($conn:expr, $d:expr, $rest:expr $(, $bind:expr)?) => {
        read_tuples!($conn, $d, (i64, i64, String, String), "id, content_type_id, codename, name", $rest $(, $bind)?;
            |r| Ok((r.int("id")?, r.int("content_type_id")?, r.text("codename")?, r.text("name")?)))
        .into_iter()
        .map(|(id, ct, codename, name)| PermRow { id, ct, codename, name })
        .collect::<Vec<_>>()
    };
}

/// Permission rows without their names (`$rest` filters them, binding `$bind`): what matching
/// grants to ids needs.
macro_rules! read_perm_keys {
    ($conn:expr, $d:expr, $rest:expr $(, $bind:expr)?) => {
        read_tuples!($conn, $d, (i64, i64, String), "id, content_type_id, codename", $rest $(, $bind)?;
            |r| Ok((r.int("id")?, r.int("content_type_id")?, r.text("codename")?)))
        .into_iter()
        .map(|(id, ct, codename)| PermRow { id, ct, codename, name: String::new() })
        .collect::<Vec<_>>()
    };
}

macro_rules! read_groups {
    ($conn:expr, $d:expr) => {
        read_tuples!($conn, $d, (i64, String), "id, name", "FROM auth_group";
            |r| Ok((r.int("id")?, r.text("name")?)))
    };
}

macro_rules! read_state {
    ($conn:expr, $d:expr, $has_bindings:expr) => {{
        let cts = read_cts!($conn, $d);
        let perms = read_perms!($conn, $d, "FROM auth_permission");
        let groups = read_groups!($conn, $d);
        let grants = read_tuples!($conn, $d, (i64, i64), "group_id, permission_id", "FROM auth_group_permissions";
            |r| Ok((r.int("group_id")?, r.int("permission_id")?)));
        let bindings = if $has_bindings {
            read_tuples!($conn, $d, (String, i64), "name, group_id", "FROM castellan_policy_group";
                |r| Ok((r.text("name")?, r.int("group_id")?)))
        } else {
            Vec::new()
        };
        State {
            cts,
            perms,
            groups,
            grants,
            bindings,
        }
    }};
}

/// The policy groups whose name is carried by another group than the one recorded in
/// `castellan_policy_group` (a group the policy never bound, or one whose binding is gone, is
/// adopted as it is).
fn rebound(policy: &Policy, state: &State) -> Vec<ReboundGroup> {
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
fn bindings_stale(policy: &Policy, state: &State) -> bool {
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

/// `INSERT INTO <head> VALUES (…), (…)` in chunks: `$tuple` is one row's placeholders, `$bind` binds
/// one row (`$q` the query, `$row` the row).
macro_rules! insert_rows {
    ($conn:expr, $d:expr, $head:expr, $tuple:expr, $rows:expr, |$q:ident, $row:ident| $bind:expr) => {
        // Every full chunk has the same text: prepared once and reused (the statement cache keeps it);
        // only a shorter last chunk is prepared for one use.
        let mut full: Option<String> = None;
        for chunk in $rows.chunks(CHUNK) {
            let text = |n: usize| {
                let mut sql = String::with_capacity($head.len() + n * ($tuple.len() + 2));
                sql.push_str($head);
                sql.push_str(" VALUES ");
                for i in 0..n {
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str($tuple);
                }
                $d.sql(&sql).into_owned()
            };
            let is_full = chunk.len() == CHUNK;
            let once;
            let sql: &str = if is_full {
                full.get_or_insert_with(|| text(CHUNK))
            } else {
                once = text(chunk.len());
                &once
            };
            let mut $q = sqlx::query(sql).persistent(is_full);
            for $row in chunk {
                $q = $bind;
            }
            $q.execute(&mut *$conn).await?;
        }
    };
}

/// `DELETE FROM … WHERE <col> IN (…)` (with an optional leading `? AND`-bound prefix) in chunks.
macro_rules! delete_in {
    ($conn:expr, $d:expr, $table:expr, $col:expr, $ids:expr) => {
        for chunk in $ids.chunks(CHUNK) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let sql = format!("DELETE FROM {} WHERE {} IN ({marks})", $table, $col);
            let sql = $d.sql(&sql);
            let mut q = sqlx::query(&sql).persistent(false);
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&mut *$conn).await?;
        }
    };
}

/// The `after` of a `sync.create_permissions` audit entry: serialised straight from the plan (keys
/// in the sorted order `serde_json::json!` gives them), without building a `serde_json::Value` per
/// permission.
#[derive(Default, Serialize)]
struct CreatedInApp<'a> {
    content_types: Vec<&'a str>,
    permissions: Vec<CreatedPermission<'a>>,
}

#[derive(Serialize)]
struct CreatedPermission<'a> {
    model: &'a str,
    name: &'a str,
    permission: &'a str,
}

/// The plan, plus what applying it needs beyond names.
struct Computed {
    plan: SyncPlan,
    /// (permission id, new name).
    renames: Vec<(i64, String)>,
    /// (group id, permission ids) to revoke.
    revoke_ids: Vec<(i64, Vec<i64>)>,
    deleted_group_ids: Vec<i64>,
    deleted_perm_ids: Vec<i64>,
    deleted_ct_ids: Vec<i64>,
}

fn compute(policy: &Policy, state: &State, prune: bool) -> Result<Computed, Problems> {
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
    let perm_by_key: HashMap<(i64, &str), &PermRow> = state
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
    let perm_by_id: HashMap<i64, &PermRow> = state.perms.iter().map(|p| (p.id, p)).collect();
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
    Ok(Computed {
        plan,
        renames,
        revoke_ids,
        deleted_group_ids,
        deleted_perm_ids,
        deleted_ct_ids,
    })
}

/// The statement that serialises syncs, run first in the transaction.
fn lock_sql(d: Dialect, has_generation: bool) -> &'static str {
    match (d, has_generation) {
        (Dialect::Sqlite, true) => "UPDATE castellan_generation SET value = value WHERE id = 1",
        (Dialect::Sqlite, false) => "DELETE FROM auth_group WHERE 1 = 0",
        // "castellan" in ASCII, as a 64-bit key.
        (Dialect::Postgres, _) => "SELECT pg_advisory_xact_lock(111542170481006)",
        (Dialect::MySql, true) => "SELECT value FROM castellan_generation WHERE id = 1 FOR UPDATE",
        (Dialect::MySql, false) => "SELECT count(*) AS n FROM auth_group FOR UPDATE",
    }
}

/// A fingerprint of what a sync would make the database hold: SHA-256 of the policy's full
/// representation and the prune flag.
fn fingerprint(policy: &Policy, prune: bool) -> String {
    use sha2::{Digest, Sha256};
    // `bindings-v1`: a database last synced before name bindings existed is synced (and bound) again.
    let digest = Sha256::digest(format!("{policy:?}|prune={prune}|bindings-v1").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Records, for each of `$policy`'s groups, the id of the group that carries its name now
/// (`castellan_policy_group`), auditing each forced re-binding (`$rebound`) as `sync.rebind`.
macro_rules! bind_policy_groups {
    ($tx:expr, $d:expr, $store:expr, $policy:expr, $rebound:expr) => {
        for g in $policy.groups() {
            sqlx::query(&$d.sql("DELETE FROM castellan_policy_group WHERE name = ?"))
                .bind(g.name.as_str())
                .execute(&mut *$tx)
                .await?;
            sqlx::query(&$d.sql(
                "INSERT INTO castellan_policy_group (name, group_id) SELECT name, id FROM auth_group WHERE name = ?",
            ))
            .bind(g.name.as_str())
            .execute(&mut *$tx)
            .await?;
        }
        for r in $rebound {
            audit!(&mut *$tx, $store, "sync.rebind", "group", &r.group,
                json(&serde_json::json!({ "group_id": r.bound_id, "now_named": r.bound_now_named })),
                json(&serde_json::json!({ "group_id": r.current_id })));
        }
    };
}

impl Store {
    /// Whether `fingerprint` was last found fully applied at the current generations.
    async fn synced_state_matches(&self, fingerprint: &str) -> Result<bool> {
        if !crate::migrate::table_exists(&self.pool, "castellan_sync_state").await? {
            return Ok(false);
        }
        let d = self.dialect();
        let sql = format!(
            "SELECT policy_hash, grants_generation AS g, catalog_generation AS c, {GENERATIONS} FROM castellan_sync_state WHERE id = 1"
        );
        let row = on_pool!(&self.pool, p => {
            match sqlx::query(&d.sql(&sql)).fetch_optional(p).await? {
                Some(r) => Some((
                    r.text("policy_hash")?,
                    Gen { grants: r.int("g")?, catalog: r.int("c")? },
                    read_gen(&r)?,
                )),
                None => None,
            }
        });
        Ok(row.is_some_and(|(hash, recorded, now)| hash == fingerprint && recorded == now))
    }

    /// The changes a sync of `policy` would make now (nothing is written). An invalid policy is
    /// [`SyncError::Invalid`] with every problem and its line.
    pub async fn sync_plan(&self, policy: &Policy, prune: bool) -> Result<SyncPlan, SyncError> {
        let d = self.dialect();
        let has_bindings =
            crate::migrate::table_exists(&self.pool, "castellan_policy_group").await?;
        let state = on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            let state = read_state!(tx, d, has_bindings);
            tx.rollback().await?;
            state
        });
        let mut plan = compute(policy, &state, prune)
            .map(|c| c.plan)
            .map_err(SyncError::Invalid)?;
        plan.rebound = rebound(policy, &state);
        Ok(plan)
    }

    /// Applies `policy` in one transaction, serialised against concurrent syncs, and returns what was
    /// done (an empty plan when the database already matched). An invalid policy applies nothing.
    ///
    /// A policy binds its groups **by name**, so the name is a right: the first sync records which
    /// group (by id) each policy group is, and a later sync that finds the name carried by another
    /// group (the bound one renamed or deleted, another renamed into the name or created with it)
    /// refuses with [`SyncError::Rebound`] and applies nothing. [`Store::sync_with`] with `force`
    /// binds the policy to the groups that carry the names now.
    pub async fn sync(&self, policy: &Policy, prune: bool) -> Result<SyncPlan, SyncError> {
        self.sync_with(
            policy,
            SyncOptions {
                prune,
                force: false,
            },
        )
        .await
    }

    /// [`Store::sync`] with [`SyncOptions`].
    pub async fn sync_with(
        &self,
        policy: &Policy,
        options: SyncOptions,
    ) -> Result<SyncPlan, SyncError> {
        let SyncOptions { prune, force } = options;
        let d = self.dialect();
        let has_bindings =
            crate::migrate::table_exists(&self.pool, "castellan_policy_group").await?;
        let has_generation =
            crate::migrate::table_exists(&self.pool, "castellan_generation").await?;
        // Fast no-op: the same policy was found already applied, and nothing that could change the
        // outcome has been committed since (the generations have not moved).
        let fingerprint = fingerprint(policy, prune);
        let remember = self.caching();
        if remember && self.synced_state_matches(&fingerprint).await? {
            return Ok(SyncPlan::default());
        }
        let plan = on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            sqlx::query(lock_sql(d, has_generation)).execute(&mut *tx).await?;
            // Read before the state: a change committed in between moves the generations past these.
            let before = if remember {
                let row = sqlx::query(&format!("SELECT {GENERATIONS}")).fetch_one(&mut *tx).await?;
                Some(read_gen(&row)?)
            } else {
                None
            };
            let mut state = read_state!(tx, d, has_bindings);
            let mut c = match compute(policy, &state, prune) {
                Ok(c) => c,
                Err(problems) => {
                    tx.rollback().await?;
                    return Err(SyncError::Invalid(problems));
                }
            };
            c.plan.rebound = rebound(policy, &state);
            if !c.plan.rebound.is_empty() && !force {
                tx.rollback().await?;
                return Err(SyncError::Rebound(c.plan.rebound));
            }
            let rebind = has_bindings && bindings_stale(policy, &state);
            if c.plan.is_empty() && !rebind {
                match before {
                    Some(Gen { grants, catalog }) => {
                        sqlx::query("DELETE FROM castellan_sync_state").execute(&mut *tx).await?;
                        sqlx::query(&d.sql(
                            "INSERT INTO castellan_sync_state (id, policy_hash, grants_generation, catalog_generation) VALUES (1, ?, ?, ?)",
                        ))
                        .bind(&fingerprint)
                        .bind(grants)
                        .bind(catalog)
                        .execute(&mut *tx)
                        .await?;
                        tx.commit().await?;
                    }
                    None => tx.rollback().await?,
                }
                return Ok(c.plan);
            }
            if remember {
                // What this sync writes is only known to match after a later sync re-reads it.
                sqlx::query("DELETE FROM castellan_sync_state").execute(&mut *tx).await?;
            }
            if c.plan.is_empty() {
                // Only the bindings to record.
                bind_policy_groups!(tx, d, self, policy, &c.plan.rebound);
                tx.commit().await?;
                return Ok(c.plan);
            }
            let plan = &c.plan;
            // A large change replaces SQLite's per-row generation triggers by one bump (the lock above
            // already holds the write lock; see `SuspendedTriggers`).
            let suspended = if plan.change_count() >= BULK_ROWS {
                Some(suspend_row_triggers!(tx, d, WATCHED_TABLES))
            } else {
                None
            };

            // Removals first (prune only), then additions.
            for ((g, ids), change) in c.revoke_ids.iter().zip(&plan.revokes) {
                for chunk in ids.chunks(CHUNK) {
                    let marks = vec!["?"; chunk.len()].join(", ");
                    let sql = format!("DELETE FROM auth_group_permissions WHERE group_id = ? AND permission_id IN ({marks})");
                    let sql = d.sql(&sql);
                    let mut q = sqlx::query(&sql).persistent(false).bind(*g);
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    q.execute(&mut *tx).await?;
                }
                audit!(&mut *tx, self, "sync.revoke", "group", &change.group,
                    json(&serde_json::json!({ "permissions": change.permissions })), None);
            }
            if !c.deleted_group_ids.is_empty() {
                let names = state.perm_names();
                let mut held: BTreeMap<i64, Vec<&str>> = BTreeMap::new();
                for (g, p) in &state.grants {
                    if let Some(n) = names.get(p) {
                        held.entry(*g).or_default().push(n.as_str());
                    }
                }
                for (id, name) in c.deleted_group_ids.iter().zip(&plan.deleted_groups) {
                    let mut perms = held.remove(id).unwrap_or_default();
                    perms.sort_unstable();
                    audit!(&mut *tx, self, "sync.delete_group", "group", name,
                        json(&serde_json::json!({ "permissions": perms })), None);
                }
                delete_in!(tx, d, "auth_group_permissions", "group_id", c.deleted_group_ids);
                delete_in!(tx, d, "auth_user_groups", "group_id", c.deleted_group_ids);
                delete_in!(tx, d, "auth_group", "id", c.deleted_group_ids);
            }
            if !c.deleted_perm_ids.is_empty() || !c.deleted_ct_ids.is_empty() {
                delete_in!(tx, d, "auth_user_user_permissions", "permission_id", c.deleted_perm_ids);
                delete_in!(tx, d, "auth_group_permissions", "permission_id", c.deleted_perm_ids);
                delete_in!(tx, d, "auth_permission", "id", c.deleted_perm_ids);
                delete_in!(tx, d, "django_content_type", "id", c.deleted_ct_ids);
                let mut by_app: BTreeMap<&str, (Vec<&str>, Vec<&str>)> = BTreeMap::new();
                for p in &plan.deleted_permissions {
                    let app = p.split_once('.').map_or(p.as_str(), |(a, _)| a);
                    by_app.entry(app).or_default().0.push(p);
                }
                for ct in &plan.deleted_content_types {
                    let app = ct.split_once('.').map_or(ct.as_str(), |(a, _)| a);
                    by_app.entry(app).or_default().1.push(ct);
                }
                for (app, (perms, cts)) in by_app {
                    audit!(&mut *tx, self, "sync.delete_permissions", "app", app,
                        json(&serde_json::json!({ "permissions": perms, "content_types": cts })), None);
                }
            }

            if !plan.content_types.is_empty() {
                let rows: Vec<(&str, &str)> = plan
                    .content_types
                    .iter()
                    .filter_map(|k| k.split_once('.'))
                    .collect();
                insert_rows!(tx, d, "INSERT INTO django_content_type (app_label, model)", "(?, ?)", rows,
                    |q, row| q.bind(row.0).bind(row.1));
                state.cts = read_cts!(tx, d);
            }
            // Only the rows inserted below are read back (ids grow).
            let max_perm_id = sqlx::query("SELECT COALESCE(MAX(id), 0) AS m FROM auth_permission")
                .fetch_one(&mut *tx)
                .await?
                .int("m")?;
            if !plan.permissions.is_empty() {
                let ct_ids: HashMap<(&str, &str), i64> = state
                    .cts
                    .iter()
                    .map(|(id, app, model)| ((app.as_str(), model.as_str()), *id))
                    .collect();
                let mut rows = Vec::with_capacity(plan.permissions.len());
                for p in &plan.permissions {
                    let (app, codename) = p.permission.split_once('.').unwrap_or(("", &p.permission));
                    let ct = ct_ids.get(&(app, p.model.as_str())).copied().ok_or_else(|| {
                        Error::Schema(format!("the content type {app}.{} just created cannot be read back", p.model))
                    })?;
                    rows.push((p.name.as_str(), ct, codename));
                }
                // In the order of the unique (content_type_id, codename) index: every insert into it
                // is then an append, not a page split in the middle (a quarter of the insert time).
                rows.sort_unstable_by(|a, b| (a.1, a.2).cmp(&(b.1, b.2)));
                insert_rows!(tx, d, "INSERT INTO auth_permission (name, content_type_id, codename)", "(?, ?, ?)", rows,
                    |q, row| q.bind(row.0).bind(row.1).bind(row.2));
            }
            for (id, name) in &c.renames {
                sqlx::query(&d.sql("UPDATE auth_permission SET name = ? WHERE id = ?"))
                    .bind(name.as_str())
                    .bind(*id)
                    .execute(&mut *tx)
                    .await?;
            }
            for r in &plan.renamed_permissions {
                audit!(&mut *tx, self, "sync.rename_permission", "permission", &r.permission,
                    json(&serde_json::json!({ "name": r.old_name })),
                    json(&serde_json::json!({ "name": r.new_name })));
            }
            if !plan.content_types.is_empty() || !plan.permissions.is_empty() {
                let mut by_app: BTreeMap<&str, CreatedInApp<'_>> = BTreeMap::new();
                for ct in &plan.content_types {
                    let app = ct.split_once('.').map_or(ct.as_str(), |(a, _)| a);
                    by_app.entry(app).or_default().content_types.push(ct);
                }
                for p in &plan.permissions {
                    let app = p.permission.split_once('.').map_or(p.permission.as_str(), |(a, _)| a);
                    by_app.entry(app).or_default().permissions.push(CreatedPermission {
                        model: &p.model, name: &p.name, permission: &p.permission });
                }
                for (app, created) in by_app {
                    audit!(&mut *tx, self, "sync.create_permissions", "app", app, None, json(&created));
                }
            }
            if !plan.groups.is_empty() {
                insert_rows!(tx, d, "INSERT INTO auth_group (name)", "(?)", plan.groups,
                    |q, row| q.bind(row.as_str()));
                for g in &plan.groups {
                    audit!(&mut *tx, self, "sync.create_group", "group", g, None, None);
                }
                state.groups = read_groups!(tx, d);
            }
            if !plan.grants.is_empty() {
                if !plan.permissions.is_empty() {
                    let new = read_perm_keys!(tx, d, "FROM auth_permission WHERE id > ?", max_perm_id);
                    state.perms.extend(new);
                }
                // The smallest id of each `app_label.codename` (Django's `has_perm` matches the name,
                // whichever model holds it).
                let ct_app: HashMap<i64, &str> = state.cts.iter().map(|(id, app, _)| (*id, app.as_str())).collect();
                let mut first_id: HashMap<(&str, &str), i64> = HashMap::with_capacity(state.perms.len());
                for p in &state.perms {
                    if let Some(app) = ct_app.get(&p.ct) {
                        let e = first_id.entry((app, p.codename.as_str())).or_insert(p.id);
                        *e = (*e).min(p.id);
                    }
                }
                let group_ids: HashMap<&str, i64> = state
                    .groups
                    .iter()
                    .map(|(id, name)| (name.as_str(), *id))
                    .collect();
                let mut rows = Vec::new();
                for change in &plan.grants {
                    let g = group_ids.get(change.group.as_str()).copied().ok_or_else(|| {
                        Error::Schema(format!("the group {:?} just created cannot be read back", change.group))
                    })?;
                    for perm in &change.permissions {
                        let id = perm
                            .split_once('.')
                            .and_then(|key| first_id.get(&key).copied())
                            .ok_or_else(|| {
                                Error::Schema(format!("the permission {perm} just created cannot be read back"))
                            })?;
                        rows.push((g, id));
                    }
                }
                // In the order of the unique (group_id, permission_id) index, as above.
                rows.sort_unstable();
                insert_rows!(tx, d, "INSERT INTO auth_group_permissions (group_id, permission_id)", "(?, ?)", rows,
                    |q, row| q.bind(row.0).bind(row.1));
                for change in &plan.grants {
                    audit!(&mut *tx, self, "sync.grant", "group", &change.group, None,
                        json(&serde_json::json!({ "permissions": change.permissions })));
                }
            }
            if has_bindings {
                bind_policy_groups!(tx, d, self, policy, &plan.rebound);
            }
            if let Some(suspended) = suspended {
                restore_row_triggers!(tx, suspended);
            }
            tx.commit().await?;
            c.plan
        });
        self.after_write();
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_permissions_audit_is_what_json_macro_made() {
        let created = CreatedInApp {
            content_types: vec!["shop.item"],
            permissions: vec![CreatedPermission {
                model: "item",
                name: "Can add \"item\"",
                permission: "shop.add_item",
            }],
        };
        let by_macro = serde_json::json!({ "content_types": ["shop.item"], "permissions": [serde_json::json!({
            "permission": "shop.add_item", "model": "item", "name": "Can add \"item\"" })] });
        assert_eq!(json(&created), json(&by_macro));
    }

    #[test]
    fn plan_from_an_empty_database_then_nothing() {
        let policy = Policy::parse(
            "[apps.shop]\n[[apps.shop.models]]\nname = \"Item\"\n[groups.Staff]\npermissions = [\"shop.view_*\"]\n",
        )
        .unwrap();
        let c = compute(&policy, &State::default(), false).unwrap();
        assert_eq!(c.plan.content_types, ["shop.item"]);
        assert_eq!(c.plan.permissions.len(), 4);
        assert_eq!(c.plan.groups, ["Staff"]);
        assert_eq!(c.plan.grants[0].permissions, ["shop.view_item"]);
        let state = State {
            cts: vec![(1, "shop".into(), "item".into())],
            perms: ["add", "change", "delete", "view"]
                .iter()
                .enumerate()
                .map(|(i, a)| PermRow {
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
        let c = compute(&policy, &state, false).unwrap();
        assert!(c.plan.is_empty(), "{}", c.plan);
        let c = compute(&policy, &state, true).unwrap();
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
        let mut state = State {
            groups: vec![(1, "Admins".into()), (2, "Viewers".into())],
            ..State::default()
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
