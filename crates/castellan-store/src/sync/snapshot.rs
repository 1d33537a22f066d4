//! Reading what the sync planner needs ([`Snapshot`]), one query per table (one row each on
//! SQLite: see [`crate::bulk`]).

use castellan_core::sync_plan::{Snapshot, SnapshotPermission};

use crate::bulk::{tuples, tuples_sql};
use crate::error::Result;
use crate::sql::{Sql, Tx};

const CONTENT_TYPES: Sql = tuples_sql!("id, app_label, model", "FROM django_content_type");
const PERMISSIONS: Sql = tuples_sql!(
    "id, content_type_id, codename, name",
    "FROM auth_permission"
);
const GROUPS: Sql = tuples_sql!("id, name", "FROM auth_group");
const GRANTS: Sql = tuples_sql!("group_id, permission_id", "FROM auth_group_permissions");
const BINDINGS: Sql = tuples_sql!("name, group_id", "FROM castellan_policy_group");
const PERMISSION_KEYS_AFTER: Sql = Sql::per_dialect(
    "SELECT json_group_array(json_array(id, content_type_id, codename)) AS j FROM auth_permission WHERE id > ?",
    "SELECT id, content_type_id, codename FROM auth_permission WHERE id > $1",
    "SELECT id, content_type_id, codename FROM auth_permission WHERE id > ?",
);

/// The statements of this module.
#[cfg(test)]
pub(crate) const STATEMENTS: &[Sql] = &[
    CONTENT_TYPES,
    PERMISSIONS,
    GROUPS,
    GRANTS,
    BINDINGS,
    PERMISSION_KEYS_AFTER,
];

/// `django_content_type`: (id, app label, model).
pub(super) async fn content_types(tx: &mut Tx) -> Result<Vec<(i64, String, String)>> {
    tuples(tx, &CONTENT_TYPES, &[], |r| {
        Ok((r.int("id")?, r.text("app_label")?, r.text("model")?))
    })
    .await
}

/// `auth_group`: (id, name).
pub(super) async fn groups(tx: &mut Tx) -> Result<Vec<(i64, String)>> {
    tuples(tx, &GROUPS, &[], |r| Ok((r.int("id")?, r.text("name")?))).await
}

/// The permissions with an id above `after`, without their names: what matching grants to ids
/// needs.
pub(super) async fn permission_keys_after(
    tx: &mut Tx,
    after: i64,
) -> Result<Vec<SnapshotPermission>> {
    let rows: Vec<(i64, i64, String)> = tuples(tx, &PERMISSION_KEYS_AFTER, &[after.into()], |r| {
        Ok((r.int("id")?, r.int("content_type_id")?, r.text("codename")?))
    })
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, ct, codename)| SnapshotPermission {
            id,
            ct,
            codename,
            name: String::new(),
        })
        .collect())
}

/// The whole [`Snapshot`] (the policy bindings only when their table exists).
pub(super) async fn snapshot(tx: &mut Tx, has_bindings: bool) -> Result<Snapshot> {
    let cts = content_types(tx).await?;
    let perms: Vec<(i64, i64, String, String)> = tuples(tx, &PERMISSIONS, &[], |r| {
        Ok((
            r.int("id")?,
            r.int("content_type_id")?,
            r.text("codename")?,
            r.text("name")?,
        ))
    })
    .await?;
    let perms = perms
        .into_iter()
        .map(|(id, ct, codename, name)| SnapshotPermission {
            id,
            ct,
            codename,
            name,
        })
        .collect();
    let groups = groups(tx).await?;
    let grants = tuples(tx, &GRANTS, &[], |r| {
        Ok((r.int("group_id")?, r.int("permission_id")?))
    })
    .await?;
    let bindings = if has_bindings {
        tuples(tx, &BINDINGS, &[], |r| {
            Ok((r.text("name")?, r.int("group_id")?))
        })
        .await?
    } else {
        Vec::new()
    };
    Ok(Snapshot {
        cts,
        perms,
        groups,
        grants,
        bindings,
    })
}
