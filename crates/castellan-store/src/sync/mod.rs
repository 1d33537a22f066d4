//! The declarative sync engine behind `castellan sync POLICY.toml`.
//!
//! [`Store::sync_plan`] reads the database (one query per table) and computes a [`SyncPlan`]: the content
//! types, permissions and groups to create, the permission names to correct, the group permissions to
//! grant and — only with `prune` — what to remove. [`Store::sync`] computes the same plan **again inside
//! its transaction, under a lock** and applies it there, with multi-row statements, recording every change
//! in the audit trail in the same transaction: either all of it is applied or none of it. This module
//! does the I/O (the snapshot, the lock, the statements, the audit); the decisions are made, without
//! I/O, by [`castellan_core::sync_plan::plan`].
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

use std::collections::BTreeMap;

use foldhash::{HashMap, HashMapExt};

use castellan_core::policy::{Policy, Problems};
use castellan_core::sync_plan::{
    self, bindings_stale, rebound, Planned, ReboundGroup, Snapshot, SyncPlan,
};
use serde::Serialize;

use crate::audit::json;
use crate::error::{Error, Result};
use crate::migrate::{restore_row_triggers, suspend_row_triggers, BULK_ROWS, WATCHED_TABLES};
use crate::principal::{generations, read_gen, Gen, GENERATIONS};
use crate::sql::{Arg, Sql, Tx};
use crate::Store;

mod snapshot;

use crate::bulk::{delete_in, insert_rows};

/// Rows per multi-row insert.
const CHUNK: usize = 1000;
#[cfg(test)]
pub(crate) use snapshot::STATEMENTS as SNAPSHOT_STATEMENTS;

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

/// The statement that serialises syncs, run first in the transaction, when Castellan's generation
/// table exists: SQLite takes the write lock with a write that changes nothing, PostgreSQL an
/// advisory lock ("castellan" in ASCII, as a 64-bit key), MariaDB a row lock.
const LOCK: Sql = Sql::per_dialect(
    "UPDATE castellan_generation SET value = value WHERE id = 1",
    "SELECT pg_advisory_xact_lock(111542170481006)",
    "SELECT value FROM castellan_generation WHERE id = 1 FOR UPDATE",
);
/// [`LOCK`] without Castellan's generation table.
const LOCK_WITHOUT_GENERATIONS: Sql = Sql::per_dialect(
    "DELETE FROM auth_group WHERE 1 = 0",
    "SELECT pg_advisory_xact_lock(111542170481006)",
    "SELECT count(*) AS n FROM auth_group FOR UPDATE",
);
const SYNCED_STATE: Sql = crate::sql!(concat!(
    "SELECT policy_hash, grants_generation AS g, catalog_generation AS c, ",
    generations!(),
    " FROM castellan_sync_state WHERE id = 1"
));
const FORGET_SYNCED_STATE: Sql = crate::sql!("DELETE FROM castellan_sync_state");
const RECORD_SYNCED_STATE: Sql = crate::sql!(
    "INSERT INTO castellan_sync_state (id, policy_hash, grants_generation, catalog_generation) \
     VALUES (1, $1, $2, $3)"
);
const UNBIND_POLICY_GROUP: Sql = crate::sql!("DELETE FROM castellan_policy_group WHERE name = $1");
const BIND_POLICY_GROUP: Sql = crate::sql!(
    "INSERT INTO castellan_policy_group (name, group_id) SELECT name, id FROM auth_group WHERE name = $1"
);
const MAX_PERMISSION_ID: Sql = crate::sql!("SELECT COALESCE(MAX(id), 0) AS m FROM auth_permission");
const RENAME_PERMISSION: Sql = crate::sql!("UPDATE auth_permission SET name = $1 WHERE id = $2");

/// The statements of this module that need Castellan's tables.
#[cfg(test)]
pub(crate) const STATEMENTS: &[Sql] = &[
    LOCK,
    SYNCED_STATE,
    FORGET_SYNCED_STATE,
    RECORD_SYNCED_STATE,
    UNBIND_POLICY_GROUP,
    BIND_POLICY_GROUP,
    MAX_PERMISSION_ID,
    RENAME_PERMISSION,
];
/// The statements of this module that need only Django's tables.
#[cfg(test)]
pub(crate) const DJANGO_STATEMENTS: &[Sql] = &[LOCK_WITHOUT_GENERATIONS];

/// A fingerprint of what a sync would make the database hold: SHA-256 of the policy's full
/// representation and the prune flag.
fn fingerprint(policy: &Policy, prune: bool) -> String {
    use sha2::{Digest, Sha256};
    // `bindings-v1`: a database last synced before name bindings existed is synced (and bound) again.
    let digest = Sha256::digest(format!("{policy:?}|prune={prune}|bindings-v1").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl Store {
    /// Whether `fingerprint` was last found fully applied at the current generations.
    async fn synced_state_matches(&self, fingerprint: &str) -> Result<bool> {
        if !self.db.table_exists("castellan_sync_state").await? {
            return Ok(false);
        }
        let Some(r) = self.db.fetch_optional(&SYNCED_STATE, &[]).await? else {
            return Ok(false);
        };
        let recorded = Gen {
            grants: r.int("g")?,
            catalog: r.int("c")?,
        };
        Ok(r.text("policy_hash")? == fingerprint && recorded == read_gen(&r)?)
    }

    /// The changes a sync of `policy` would make now (nothing is written). An invalid policy is
    /// [`SyncError::Invalid`] with every problem and its line.
    pub async fn sync_plan(&self, policy: &Policy, prune: bool) -> Result<SyncPlan, SyncError> {
        let has_bindings = self.db.table_exists("castellan_policy_group").await?;
        let mut tx = self.db.begin().await?;
        let state = snapshot::snapshot(&mut tx, has_bindings).await?;
        drop(tx);
        let mut plan = sync_plan::plan(policy, &state, prune)
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
        let has_bindings = self.db.table_exists("castellan_policy_group").await?;
        let has_generation = self.db.table_exists("castellan_generation").await?;
        // Fast no-op: the same policy was found already applied, and nothing that could change the
        // outcome has been committed since (the generations have not moved).
        let fingerprint = fingerprint(policy, prune);
        let remember = self.caching();
        if remember && self.synced_state_matches(&fingerprint).await? {
            return Ok(SyncPlan::default());
        }
        let mut tx = self.db.begin().await?;
        let lock = if has_generation {
            &LOCK
        } else {
            &LOCK_WITHOUT_GENERATIONS
        };
        tx.execute(lock, &[]).await?;
        // Read before the state: a change committed in between moves the generations past these.
        let before = if remember {
            Some(read_gen(&tx.fetch_one(&GENERATIONS, &[]).await?)?)
        } else {
            None
        };
        let mut state = snapshot::snapshot(&mut tx, has_bindings).await?;
        let mut c = sync_plan::plan(policy, &state, prune).map_err(SyncError::Invalid)?;
        c.plan.rebound = rebound(policy, &state);
        if !c.plan.rebound.is_empty() && !force {
            return Err(SyncError::Rebound(c.plan.rebound));
        }
        let rebind = has_bindings && bindings_stale(policy, &state);
        if c.plan.is_empty() && !rebind {
            if let Some(Gen { grants, catalog }) = before {
                tx.execute(&FORGET_SYNCED_STATE, &[]).await?;
                tx.execute(
                    &RECORD_SYNCED_STATE,
                    &[fingerprint.as_str().into(), grants.into(), catalog.into()],
                )
                .await?;
                tx.commit().await?;
            }
            return Ok(c.plan);
        }
        if remember {
            // What this sync writes is only known to match after a later sync re-reads it.
            tx.execute(&FORGET_SYNCED_STATE, &[]).await?;
        }
        if !c.plan.is_empty() {
            // A large change replaces SQLite's per-row generation triggers by one bump (the lock
            // above already holds the write lock; see `SuspendedTriggers`).
            let suspended = if c.plan.change_count() >= BULK_ROWS {
                Some(suspend_row_triggers(&mut tx, &WATCHED_TABLES).await?)
            } else {
                None
            };
            self.apply_removals(&mut tx, &c, &state).await?;
            self.apply_additions(&mut tx, &c, &mut state).await?;
            if let Some(suspended) = suspended {
                restore_row_triggers(&mut tx, suspended).await?;
            }
        }
        if has_bindings {
            self.bind_policy_groups(&mut tx, policy, &c.plan.rebound)
                .await?;
        }
        tx.commit().await?;
        self.after_write();
        Ok(c.plan)
    }

    /// Records, for each of `policy`'s groups, the id of the group that carries its name now
    /// (`castellan_policy_group`), auditing each forced re-binding (`rebound`) as `sync.rebind`.
    async fn bind_policy_groups(
        &self,
        tx: &mut Tx,
        policy: &Policy,
        rebound: &[ReboundGroup],
    ) -> Result<()> {
        for g in policy.groups() {
            tx.execute(&UNBIND_POLICY_GROUP, &[g.name.as_str().into()])
                .await?;
            tx.execute(&BIND_POLICY_GROUP, &[g.name.as_str().into()])
                .await?;
        }
        for r in rebound {
            let before = json(
                &serde_json::json!({ "group_id": r.bound_id, "now_named": r.bound_now_named }),
            );
            let after = json(&serde_json::json!({ "group_id": r.current_id }));
            self.audit(tx, "sync.rebind", "group", &r.group, before, after)
                .await?;
        }
        Ok(())
    }

    /// The removals of a plan (only with prune): revocations, deleted groups, deleted permissions
    /// and content types, each audited.
    async fn apply_removals(&self, tx: &mut Tx, c: &Planned, state: &Snapshot) -> Result<()> {
        let plan = &c.plan;
        // django-guardian's rows go with what they reference (Django's CASCADE).
        let guardian = tx
            .table_exists(crate::object_perms::GUARDIAN_TABLES[0])
            .await?
            && tx
                .table_exists(crate::object_perms::GUARDIAN_TABLES[1])
                .await?;
        for ((g, ids), change) in c.revoke_ids.iter().zip(&plan.revokes) {
            delete_in(
                tx,
                "auth_group_permissions",
                Some(("group_id", *g)),
                "permission_id",
                ids,
            )
            .await?;
            let before = json(&serde_json::json!({ "permissions": change.permissions }));
            self.audit(tx, "sync.revoke", "group", &change.group, before, None)
                .await?;
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
                let before = json(&serde_json::json!({ "permissions": perms }));
                self.audit(tx, "sync.delete_group", "group", name, before, None)
                    .await?;
            }
            let ids = &c.deleted_group_ids;
            if guardian {
                delete_in(tx, "guardian_groupobjectpermission", None, "group_id", ids).await?;
            }
            delete_in(tx, "auth_group_permissions", None, "group_id", ids).await?;
            delete_in(tx, "auth_user_groups", None, "group_id", ids).await?;
            delete_in(tx, "auth_group", None, "id", ids).await?;
        }
        if !c.deleted_perm_ids.is_empty() || !c.deleted_ct_ids.is_empty() {
            let ids = &c.deleted_perm_ids;
            if guardian {
                for table in crate::object_perms::GUARDIAN_TABLES {
                    delete_in(tx, table, None, "permission_id", ids).await?;
                    delete_in(tx, table, None, "content_type_id", &c.deleted_ct_ids).await?;
                }
            }
            delete_in(tx, "auth_user_user_permissions", None, "permission_id", ids).await?;
            delete_in(tx, "auth_group_permissions", None, "permission_id", ids).await?;
            delete_in(tx, "auth_permission", None, "id", ids).await?;
            delete_in(tx, "django_content_type", None, "id", &c.deleted_ct_ids).await?;
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
                let before =
                    json(&serde_json::json!({ "permissions": perms, "content_types": cts }));
                self.audit(tx, "sync.delete_permissions", "app", app, before, None)
                    .await?;
            }
        }
        Ok(())
    }

    /// The additions of a plan: content types, permissions, renames, groups and grants, each
    /// audited. `state` is brought up to date with the rows created.
    async fn apply_additions(&self, tx: &mut Tx, c: &Planned, state: &mut Snapshot) -> Result<()> {
        let plan = &c.plan;
        if !plan.content_types.is_empty() {
            let args: Vec<Arg<'_>> = plan
                .content_types
                .iter()
                .filter_map(|k| k.split_once('.'))
                .flat_map(|(app, model)| [app.into(), model.into()])
                .collect();
            insert_rows(
                tx,
                "INSERT INTO django_content_type (app_label, model)",
                2,
                CHUNK,
                &args,
            )
            .await?;
            state.cts = snapshot::content_types(tx).await?;
        }
        // Only the rows inserted below are read back (ids grow).
        let max_perm_id = tx.fetch_one(&MAX_PERMISSION_ID, &[]).await?.int("m")?;
        if !plan.permissions.is_empty() {
            let ct_ids: HashMap<(&str, &str), i64> = state
                .cts
                .iter()
                .map(|(id, app, model)| ((app.as_str(), model.as_str()), *id))
                .collect();
            let mut rows = Vec::with_capacity(plan.permissions.len());
            for p in &plan.permissions {
                let (app, codename) = p.permission.split_once('.').unwrap_or(("", &p.permission));
                let ct = ct_ids
                    .get(&(app, p.model.as_str()))
                    .copied()
                    .ok_or_else(|| {
                        Error::Schema(format!(
                            "the content type {app}.{} just created cannot be read back",
                            p.model
                        ))
                    })?;
                rows.push((p.name.as_str(), ct, codename));
            }
            // In the order of the unique (content_type_id, codename) index: every insert into it
            // is then an append, not a page split in the middle (a quarter of the insert time).
            rows.sort_unstable_by(|a, b| (a.1, a.2).cmp(&(b.1, b.2)));
            let args: Vec<Arg<'_>> = rows
                .iter()
                .flat_map(|&(name, ct, codename)| [name.into(), ct.into(), codename.into()])
                .collect();
            insert_rows(
                tx,
                "INSERT INTO auth_permission (name, content_type_id, codename)",
                3,
                CHUNK,
                &args,
            )
            .await?;
        }
        for (id, name) in &c.renames {
            tx.execute(&RENAME_PERMISSION, &[name.as_str().into(), (*id).into()])
                .await?;
        }
        for r in &plan.renamed_permissions {
            let before = json(&serde_json::json!({ "name": r.old_name }));
            let after = json(&serde_json::json!({ "name": r.new_name }));
            self.audit(
                tx,
                "sync.rename_permission",
                "permission",
                &r.permission,
                before,
                after,
            )
            .await?;
        }
        if !plan.content_types.is_empty() || !plan.permissions.is_empty() {
            let mut by_app: BTreeMap<&str, CreatedInApp<'_>> = BTreeMap::new();
            for ct in &plan.content_types {
                let app = ct.split_once('.').map_or(ct.as_str(), |(a, _)| a);
                by_app.entry(app).or_default().content_types.push(ct);
            }
            for p in &plan.permissions {
                let app = p
                    .permission
                    .split_once('.')
                    .map_or(p.permission.as_str(), |(a, _)| a);
                by_app
                    .entry(app)
                    .or_default()
                    .permissions
                    .push(CreatedPermission {
                        model: &p.model,
                        name: &p.name,
                        permission: &p.permission,
                    });
            }
            for (app, created) in by_app {
                self.audit(
                    tx,
                    "sync.create_permissions",
                    "app",
                    app,
                    None,
                    json(&created),
                )
                .await?;
            }
        }
        if !plan.groups.is_empty() {
            let args: Vec<Arg<'_>> = plan.groups.iter().map(|g| g.as_str().into()).collect();
            insert_rows(tx, "INSERT INTO auth_group (name)", 1, CHUNK, &args).await?;
            for g in &plan.groups {
                self.audit(tx, "sync.create_group", "group", g, None, None)
                    .await?;
            }
            state.groups = snapshot::groups(tx).await?;
        }
        if !plan.grants.is_empty() {
            if !plan.permissions.is_empty() {
                let new = snapshot::permission_keys_after(tx, max_perm_id).await?;
                state.perms.extend(new);
            }
            let rows = grant_rows(plan, state)?;
            let args: Vec<Arg<'_>> = rows
                .iter()
                .flat_map(|&(g, p)| [g.into(), p.into()])
                .collect();
            insert_rows(
                tx,
                "INSERT INTO auth_group_permissions (group_id, permission_id)",
                2,
                CHUNK,
                &args,
            )
            .await?;
            for change in &plan.grants {
                let after = json(&serde_json::json!({ "permissions": change.permissions }));
                self.audit(tx, "sync.grant", "group", &change.group, None, after)
                    .await?;
            }
        }
        Ok(())
    }
}

/// The (group id, permission id) rows of the plan's grants, in the order of the unique
/// (group_id, permission_id) index. A permission name takes the smallest id that carries it
/// (Django's `has_perm` matches the name, whichever model holds it).
fn grant_rows(plan: &SyncPlan, state: &Snapshot) -> Result<Vec<(i64, i64)>> {
    let ct_app: HashMap<i64, &str> = state
        .cts
        .iter()
        .map(|(id, app, _)| (*id, app.as_str()))
        .collect();
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
        let g = group_ids
            .get(change.group.as_str())
            .copied()
            .ok_or_else(|| {
                Error::Schema(format!(
                    "the group {:?} just created cannot be read back",
                    change.group
                ))
            })?;
        for perm in &change.permissions {
            let id = perm
                .split_once('.')
                .and_then(|key| first_id.get(&key).copied())
                .ok_or_else(|| {
                    Error::Schema(format!(
                        "the permission {perm} just created cannot be read back"
                    ))
                })?;
            rows.push((g, id));
        }
    }
    rows.sort_unstable();
    Ok(rows)
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
}
