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
    self, bindings_stale, rebound, ReboundGroup, Snapshot, SnapshotPermission, SyncPlan,
};
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
        .map(|(id, ct, codename, name)| SnapshotPermission { id, ct, codename, name })
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
        .map(|(id, ct, codename)| SnapshotPermission { id, ct, codename, name: String::new() })
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
        Snapshot {
            cts,
            perms,
            groups,
            grants,
            bindings,
        }
    }};
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
            let mut c = match sync_plan::plan(policy, &state, prune) {
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
}
