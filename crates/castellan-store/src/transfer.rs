//! Export and import: users (with their password hashes as they are), groups, permissions, memberships
//! and grants, as one JSON document.
//!
//! Import is idempotent and runs in one transaction: missing content types, permissions, groups and
//! users are created; existing users take the exported field values; memberships and grants are added
//! when missing (import never removes anything). Password hashes are copied, never recomputed, and rows
//! are written with multi-row `INSERT`s; on SQLite a large import replaces the per-row generation
//! triggers by one bump in the same transaction (see `SuspendedTriggers` in `migrate.rs`) and reads
//! ids back as one JSON row, so 100 000 users with their memberships import in about 0.4–0.5 s.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use castellan_core::validators::{validate_group_name, validate_username};
use castellan_core::{UserId, UserPk};
use serde::{Deserialize, Serialize};

use crate::audit::json;
use crate::bulk::{insert_rows, tuples, tuples_sql};
use crate::error::{Error, Result};
use crate::migrate::{restore_row_triggers, suspend_row_triggers, BULK_ROWS, CATALOG_TABLES};
use crate::sql::{ts_from_text, ts_to_text, Arg, Dialect, Sql, SqlText, Tx};
use crate::user_schema::{UserSchema, KNOWN_COLUMNS};
use crate::users::{user_columns, user_from_row};
use crate::Store;

const PERMISSIONS: Sql = crate::sql!(
    "SELECT p.id AS id, ct.app_label AS app_label, ct.model AS model, p.codename AS codename, p.name AS name \
     FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id"
);
const GROUPS: Sql = crate::sql!("SELECT id, name FROM auth_group");
const USERS: Sql = crate::sql!(concat!("SELECT ", user_columns!(), " FROM auth_user u"));
const GROUP_GRANTS: Sql = tuples_sql!("group_id, permission_id", "FROM auth_group_permissions");
const MEMBERSHIPS: Sql = tuples_sql!(
    "user_id, group_id",
    "user_id AS user_id, group_id AS group_id",
    "FROM auth_user_groups"
);
const USER_GRANTS: Sql = tuples_sql!(
    "user_id, permission_id",
    "user_id AS user_id, permission_id AS permission_id",
    "FROM auth_user_user_permissions"
);
const CONTENT_TYPES: Sql = crate::sql!("SELECT id, app_label, model FROM django_content_type");
const INSERT_CONTENT_TYPE: Sql =
    crate::sql!("INSERT INTO django_content_type (app_label, model) VALUES ($1, $2)");
const CONTENT_TYPE_ID: Sql =
    crate::sql!("SELECT id FROM django_content_type WHERE app_label = $1 AND model = $2");
const PERMISSION_KEYS: Sql = crate::sql!("SELECT content_type_id, codename FROM auth_permission");
const PERMISSION_IDS: Sql = crate::sql!(
    "SELECT p.id AS id, ct.app_label AS app_label, p.codename AS codename FROM auth_permission p \
     JOIN django_content_type ct ON ct.id = p.content_type_id ORDER BY p.id"
);
const INSERT_GROUP: Sql = crate::sql!("INSERT INTO auth_group (name) VALUES ($1)");
const MAX_USER_ID: Sql = crate::sql!("SELECT COALESCE(MAX(id), 0) AS m FROM auth_user");
const USERS_AFTER: Sql = Sql::per_dialect(
    "SELECT json_group_array(json_array(id, username)) AS j FROM auth_user WHERE id > ?",
    "SELECT id, username AS username FROM auth_user WHERE id > $1",
    "SELECT id, username AS username FROM auth_user WHERE id > ?",
);
const USER_IDS: Sql = crate::sql!("SELECT id, username AS username FROM auth_user");

/// The statements of this module.
#[cfg(test)]
pub(crate) const STATEMENTS: &[Sql] = &[
    PERMISSIONS,
    GROUPS,
    USERS,
    GROUP_GRANTS,
    MEMBERSHIPS,
    USER_GRANTS,
    CONTENT_TYPES,
    INSERT_CONTENT_TYPE,
    CONTENT_TYPE_ID,
    PERMISSION_KEYS,
    PERMISSION_IDS,
    INSERT_GROUP,
    MAX_USER_ID,
    USERS_AFTER,
    USER_IDS,
];

/// `(a, b)` integer pairs of a [`tuples_sql!`] statement.
async fn pairs(tx: &mut Tx, sql: &Sql, a: &str, b: &str) -> Result<Vec<(i64, i64)>> {
    tuples(tx, sql, &[], |r| Ok((r.int(a)?, r.int(b)?))).await
}

/// `(user id, b)` pairs of a [`tuples_sql!`] statement whose first column is `user_id`.
async fn user_pairs(tx: &mut Tx, sql: &Sql, b: &str) -> Result<Vec<(UserId, i64)>> {
    tuples(tx, sql, &[], |r| Ok((r.user_id("user_id")?, r.int(b)?))).await
}

/// A timestamp of a validated export.
fn ts(text: &str) -> Result<chrono::DateTime<chrono::Utc>> {
    ts_from_text(text)
        .ok_or_else(|| Error::Refused(format!("invalid export: {text:?} is not a timestamp")))
}

/// The document's `format` field.
pub const EXPORT_FORMAT: &str = "castellan-export";

/// An exported database.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    /// Always [`EXPORT_FORMAT`].
    pub format: String,
    /// Format version (1).
    pub version: u32,
    /// Every permission with its content type, sorted.
    pub permissions: Vec<ExportedPermission>,
    /// Every group with its permissions, sorted by name.
    pub groups: Vec<ExportedGroup>,
    /// Every user with groups and direct permissions, sorted by username.
    pub users: Vec<ExportedUser>,
}

/// A permission row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ExportedPermission {
    /// Content type app label.
    pub app_label: String,
    /// Content type model.
    pub model: String,
    /// Codename.
    pub codename: String,
    /// Human-readable name.
    pub name: String,
}

/// A group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedGroup {
    /// Name.
    pub name: String,
    /// `app_label.codename`, sorted.
    pub permissions: Vec<String>,
}

/// A user, with the password hash exactly as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedUser {
    /// Username.
    pub username: String,
    /// The encoded password (`algorithm$…`, `!…` unusable, or `""`).
    pub password: String,
    /// E-mail.
    pub email: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// `is_active`.
    pub is_active: bool,
    /// `is_staff`.
    pub is_staff: bool,
    /// `is_superuser`.
    pub is_superuser: bool,
    /// `date_joined`, `YYYY-MM-DD HH:MM:SS.ffffff` UTC; absent for a user model without it (an
    /// import then gives new users the time of the import, Django's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_joined: Option<String>,
    /// `last_login`, same format, or null.
    pub last_login: Option<String>,
    /// Group names, sorted.
    pub groups: Vec<String>,
    /// Direct permissions (`app_label.codename`), sorted.
    pub permissions: Vec<String>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Content types created.
    pub content_types_created: usize,
    /// Permissions created.
    pub permissions_created: usize,
    /// Groups created.
    pub groups_created: usize,
    /// Users created.
    pub users_created: usize,
    /// Existing users whose fields changed.
    pub users_updated: usize,
    /// Group memberships added.
    pub memberships_added: usize,
    /// Group and user permission grants added.
    pub grants_added: usize,
}

impl ImportReport {
    /// Whether the import changed nothing.
    pub fn is_noop(&self) -> bool {
        *self == Self::default()
    }
}

/// Progress reporting for long imports and exports: `(stage, done, total)`.
pub type Progress<'a> = &'a (dyn Fn(&str, u64, u64) + Send + Sync);

/// Bound parameters per multi-row `INSERT` (under SQLite's 32 766 and PostgreSQL's/MariaDB's 65 535).
const MAX_PARAMS: usize = 30_000;

/// Rows per multi-row `INSERT` for rows of `columns` parameters.
const fn chunk(columns: usize) -> usize {
    MAX_PARAMS / columns
}

impl Store {
    /// Exports every user, group, permission, membership and grant.
    pub async fn export(&self) -> Result<Export> {
        let mut tx = self.db.begin().await?;
        let perms = tx
            .fetch_all(&PERMISSIONS, &[])
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.int("id")?,
                    ExportedPermission {
                        app_label: r.text("app_label")?,
                        model: r.text("model")?,
                        codename: r.text("codename")?,
                        name: r.text("name")?,
                    },
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let groups = tx
            .fetch_all(&GROUPS, &[])
            .await?
            .iter()
            .map(|r| Ok((r.int("id")?, r.text("name")?)))
            .collect::<Result<Vec<_>>>()?;
        let group_perms = pairs(&mut tx, &GROUP_GRANTS, "group_id", "permission_id").await?;
        let users = tx
            .fetch_all(&USERS, &[])
            .await?
            .iter()
            .map(|r| user_from_row(r).map(|u| (u.id, exported(u))))
            .collect::<Result<Vec<_>>>()?;
        let memberships = user_pairs(&mut tx, &MEMBERSHIPS, "group_id").await?;
        let user_perms = user_pairs(&mut tx, &USER_GRANTS, "permission_id").await?;
        tx.commit().await?;
        let perm_name: HashMap<i64, String> = perms
            .iter()
            .map(|(id, p)| (*id, format!("{}.{}", p.app_label, p.codename)))
            .collect();
        let group_name: HashMap<i64, &str> =
            groups.iter().map(|(id, n)| (*id, n.as_str())).collect();
        let mut group_out: HashMap<i64, ExportedGroup> = groups
            .iter()
            .map(|(id, name)| {
                (
                    *id,
                    ExportedGroup {
                        name: name.clone(),
                        permissions: Vec::new(),
                    },
                )
            })
            .collect();
        for (g, p) in &group_perms {
            if let (Some(group), Some(name)) = (group_out.get_mut(g), perm_name.get(p)) {
                group.permissions.push(name.clone());
            }
        }
        let mut user_out: HashMap<UserId, ExportedUser> = users.into_iter().collect();
        for (u, g) in &memberships {
            if let (Some(user), Some(name)) = (user_out.get_mut(u), group_name.get(g)) {
                user.groups.push((*name).to_owned());
            }
        }
        for (u, p) in &user_perms {
            if let (Some(user), Some(name)) = (user_out.get_mut(u), perm_name.get(p)) {
                user.permissions.push(name.clone());
            }
        }
        let mut permissions: Vec<ExportedPermission> = perms.into_iter().map(|(_, p)| p).collect();
        permissions.sort();
        let mut groups: Vec<ExportedGroup> = group_out.into_values().collect();
        for g in &mut groups {
            g.permissions.sort();
            g.permissions.dedup();
        }
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        let mut users: Vec<ExportedUser> = user_out.into_values().collect();
        for u in &mut users {
            u.groups.sort();
            u.permissions.sort();
            u.permissions.dedup();
        }
        users.sort_by(|a, b| a.username.cmp(&b.username));
        Ok(Export {
            format: EXPORT_FORMAT.to_owned(),
            version: 1,
            permissions,
            groups,
            users,
        })
    }

    /// Imports an export, idempotently, in one transaction (see the module documentation).
    /// Everything is validated before the first write; bad input changes nothing.
    pub async fn import(&self, data: &Export, progress: Progress<'_>) -> Result<ImportReport> {
        validate(data)?;
        let mut report = ImportReport::default();
        // A large import replaces SQLite's per-row generation triggers by one bump (see
        // `SuspendedTriggers`): the suspension is the transaction's first statement, so it holds the
        // write lock from the start.
        let links: usize = data
            .users
            .iter()
            .map(|u| u.groups.len() + u.permissions.len())
            .sum::<usize>()
            + data
                .groups
                .iter()
                .map(|g| g.permissions.len())
                .sum::<usize>();
        let mut tables = vec![
            "auth_group",
            "auth_group_permissions",
            "auth_user_groups",
            "auth_user_user_permissions",
        ];
        if data.permissions.len() >= BULK_ROWS {
            tables.extend(CATALOG_TABLES);
        }
        let bulk = links >= BULK_ROWS;
        let mut tx = self.db.begin().await?;
        let suspended = if bulk {
            Some(suspend_row_triggers(&mut tx, &tables).await?)
        } else {
            None
        };
        let perm_ids = import_permissions(&mut tx, data, &mut report).await?;
        let perm_id = |name: &str| -> Result<i64> {
            perm_ids.get(name).copied().ok_or_else(|| Error::NotFound {
                what: "permission",
                name: name.to_owned(),
            })
        };
        let group_ids = import_groups(&mut tx, data, &perm_id, &mut report).await?;
        let user_ids = import_users(&mut tx, &self.users, data, progress, &mut report).await?;
        import_links(&mut tx, data, &user_ids, &group_ids, &perm_id, &mut report).await?;
        if !report.is_noop() {
            self.audit(&mut tx, "import", "database", "import", None, json(&report))
                .await?;
        }
        if let Some(suspended) = suspended {
            restore_row_triggers(&mut tx, suspended).await?;
        }
        tx.commit().await?;
        if !report.is_noop() {
            self.after_write();
        }
        Ok(report)
    }
}

/// Import step 1: the missing content types and permissions. Returns every permission's id by
/// `app_label.codename` (the smallest id of a name).
async fn import_permissions(
    tx: &mut Tx,
    data: &Export,
    report: &mut ImportReport,
) -> Result<HashMap<String, i64>> {
    let mut cts: HashMap<(String, String), i64> = HashMap::new();
    for r in tx.fetch_all(&CONTENT_TYPES, &[]).await? {
        cts.insert((r.text("app_label")?, r.text("model")?), r.int("id")?);
    }
    for perm in &data.permissions {
        let key = (perm.app_label.clone(), perm.model.clone());
        if let std::collections::hash_map::Entry::Vacant(slot) = cts.entry(key) {
            let args = [perm.app_label.as_str().into(), perm.model.as_str().into()];
            tx.execute(&INSERT_CONTENT_TYPE, &args).await?;
            let id = tx.fetch_one(&CONTENT_TYPE_ID, &args).await?.int("id")?;
            slot.insert(id);
            report.content_types_created += 1;
        }
    }
    let mut have_perms: HashSet<(i64, String)> = HashSet::new();
    for r in tx.fetch_all(&PERMISSION_KEYS, &[]).await? {
        have_perms.insert((r.int("content_type_id")?, r.text("codename")?));
    }
    let missing: Vec<(i64, &ExportedPermission)> = data
        .permissions
        .iter()
        .filter_map(|p| {
            cts.get(&(p.app_label.clone(), p.model.clone()))
                .map(|ct| (*ct, p))
        })
        .filter(|(ct, p)| !have_perms.contains(&(*ct, p.codename.clone())))
        .collect();
    let args: Vec<Arg<'_>> = missing
        .iter()
        .flat_map(|(ct, p)| {
            [
                p.name.as_str().into(),
                (*ct).into(),
                p.codename.as_str().into(),
            ]
        })
        .collect();
    insert_rows(
        tx,
        "INSERT INTO auth_permission (name, content_type_id, codename)",
        3,
        chunk(3),
        &args,
    )
    .await?;
    report.permissions_created = missing.len();
    let mut perm_ids: HashMap<String, i64> = HashMap::new();
    for r in tx.fetch_all(&PERMISSION_IDS, &[]).await? {
        perm_ids
            .entry(format!("{}.{}", r.text("app_label")?, r.text("codename")?))
            .or_insert(r.int("id")?);
    }
    Ok(perm_ids)
}

/// Import step 2: the missing groups and group grants. Returns every group's id by name.
async fn import_groups(
    tx: &mut Tx,
    data: &Export,
    perm_id: &impl Fn(&str) -> Result<i64>,
    report: &mut ImportReport,
) -> Result<HashMap<String, i64>> {
    let mut group_ids: HashMap<String, i64> = HashMap::new();
    for r in tx.fetch_all(&GROUPS, &[]).await? {
        group_ids.insert(r.text("name")?, r.int("id")?);
    }
    for g in &data.groups {
        if !group_ids.contains_key(&g.name) {
            tx.execute(&INSERT_GROUP, &[g.name.as_str().into()]).await?;
            report.groups_created += 1;
        }
    }
    if report.groups_created > 0 {
        for r in tx.fetch_all(&GROUPS, &[]).await? {
            group_ids.insert(r.text("name")?, r.int("id")?);
        }
    }
    let existing: HashSet<(i64, i64)> = pairs(tx, &GROUP_GRANTS, "group_id", "permission_id")
        .await?
        .into_iter()
        .collect();
    let mut new_gp = Vec::new();
    for g in &data.groups {
        let gid = group_ids
            .get(&g.name)
            .copied()
            .ok_or_else(|| Error::Schema(format!("group {:?} vanished during import", g.name)))?;
        for perm in &g.permissions {
            let pid = perm_id(perm)?;
            if !existing.contains(&(gid, pid)) && !new_gp.contains(&(gid, pid)) {
                new_gp.push((gid, pid));
            }
        }
    }
    let args: Vec<Arg<'_>> = new_gp
        .iter()
        .flat_map(|&(g, p)| [g.into(), p.into()])
        .collect();
    insert_rows(
        tx,
        "INSERT INTO auth_group_permissions (group_id, permission_id)",
        2,
        chunk(2),
        &args,
    )
    .await?;
    report.grants_added += new_gp.len();
    Ok(group_ids)
}

/// Import step 3: new users inserted, existing users' fields updated. Returns every user's id by
/// username.
async fn import_users(
    tx: &mut Tx,
    schema: &UserSchema,
    data: &Export,
    progress: Progress<'_>,
    report: &mut ImportReport,
) -> Result<HashMap<String, UserId>> {
    let total = data.users.len() as u64;
    let mut existing: HashMap<String, (UserId, ExportedUser)> = HashMap::new();
    for r in tx.fetch_all(&USERS, &[]).await? {
        let u = exported(user_from_row(&r)?);
        existing.insert(u.username.clone(), (r.user_id("id")?, u));
    }
    let new_users: Vec<&ExportedUser> = data
        .users
        .iter()
        .filter(|u| !existing.contains_key(&u.username))
        .collect();
    // A UUID key is made here (Django's default=uuid.uuid4): the new users' ids are known.
    let uuid_pk = schema.pk() == UserPk::Uuid;
    let max_user_id = if uuid_pk {
        0
    } else {
        tx.fetch_one(&MAX_USER_ID, &[]).await?.int("m")?
    };
    let mut new_ids: Vec<(String, UserId)> = Vec::new();
    let columns = UserColumns::of(schema);
    if !new_users.is_empty() {
        let missing: Vec<&str> = schema.required_fields().map(|c| c.name.as_str()).collect();
        if !missing.is_empty() {
            return Err(Error::UserModel(format!(
                "the import would create users of {}, whose field(s) {} need a value an export does not carry; \
                 create those users first (castellan user create --field NAME=VALUE), then import",
                schema.model(),
                missing.join(", ")
            )));
        }
    }
    let now = chrono::Utc::now();
    let mut done = 0u64;
    let width = columns.kept.len() + usize::from(uuid_pk);
    let head = if uuid_pk {
        format!("INSERT INTO auth_user (id, {})", columns.kept.join(", "))
    } else {
        format!("INSERT INTO auth_user ({})", columns.kept.join(", "))
    };
    for chunk_users in new_users.chunks(chunk(width)) {
        let mut args: Vec<Arg<'_>> = Vec::with_capacity(chunk_users.len() * width);
        for u in chunk_users {
            if let Some(id) = schema.new_id()? {
                new_ids.push((u.username.clone(), id));
                args.push(id.into());
            }
            args.extend(columns.values(schema, u, now)?);
        }
        insert_rows(tx, &head, width, chunk(width), &args).await?;
        done += chunk_users.len() as u64;
        progress("users", done, total);
    }
    report.users_created = new_users.len();
    let mut update = SqlText::new(tx.dialect());
    update.push("UPDATE auth_user SET ");
    for (i, column) in columns.kept.iter().enumerate() {
        if i > 0 {
            update.push(", ");
        }
        update.push(column).push(" = ").param();
    }
    update.push(" WHERE id = ").param();
    for u in &data.users {
        let Some((id, old)) = existing.get(&u.username) else {
            continue;
        };
        let same = old.password == u.password
            && old.email == u.email
            && old.first_name == u.first_name
            && old.last_name == u.last_name
            && old.is_active == u.is_active
            && old.is_staff == u.is_staff
            && old.is_superuser == u.is_superuser
            && (u.date_joined.is_none() || old.date_joined == u.date_joined)
            && old.last_login == u.last_login;
        if !same {
            let mut args = columns.values(schema, u, now)?;
            if u.date_joined.is_none() {
                // Keep the stored date: an export without one says nothing about it.
                if let Some(at) = columns.kept.iter().position(|c| *c == "date_joined") {
                    args[at] = old.date_joined.as_deref().map(ts).transpose()?.into();
                }
            }
            args.push((*id).into());
            tx.execute(&update, &args).await?;
            report.users_updated += 1;
        }
        done += 1;
        if done.is_multiple_of(1000) {
            progress("users", done, total);
        }
    }
    progress("users", total, total);
    let mut user_ids: HashMap<String, UserId> = existing
        .into_iter()
        .map(|(name, (id, _))| (name, id))
        .collect();
    if uuid_pk {
        user_ids.extend(new_ids);
    } else if !new_users.is_empty() {
        if tx.dialect() == Dialect::Sqlite {
            // Only the rows just inserted (AUTOINCREMENT ids grow), as one JSON row.
            let rows: Vec<(UserId, String)> =
                tuples(tx, &USERS_AFTER, &[max_user_id.into()], |r| {
                    Ok((r.user_id("id")?, r.text("username")?))
                })
                .await?;
            for (id, name) in rows {
                user_ids.insert(name, id);
            }
        } else {
            // Every row: a sequence may hand out ids below an explicitly inserted maximum.
            for r in tx.fetch_all(&USER_IDS, &[]).await? {
                user_ids.insert(r.text("username")?, r.user_id("id")?);
            }
        }
    }
    Ok(user_ids)
}

/// Import step 4: the missing memberships and direct grants.
async fn import_links(
    tx: &mut Tx,
    data: &Export,
    user_ids: &HashMap<String, UserId>,
    group_ids: &HashMap<String, i64>,
    perm_id: &impl Fn(&str) -> Result<i64>,
    report: &mut ImportReport,
) -> Result<()> {
    let existing_ug: HashSet<(UserId, i64)> = user_pairs(tx, &MEMBERSHIPS, "group_id")
        .await?
        .into_iter()
        .collect();
    let existing_up: HashSet<(UserId, i64)> = user_pairs(tx, &USER_GRANTS, "permission_id")
        .await?
        .into_iter()
        .collect();
    let mut new_ug = Vec::new();
    let mut new_up = Vec::new();
    for u in &data.users {
        let id = user_ids.get(&u.username).copied().ok_or_else(|| {
            Error::Schema(format!("user {:?} vanished during import", u.username))
        })?;
        for g in &u.groups {
            let gid = group_ids.get(g).copied().ok_or_else(|| Error::NotFound {
                what: "group",
                name: g.clone(),
            })?;
            if !existing_ug.contains(&(id, gid)) {
                new_ug.push((id, gid));
            }
        }
        for perm in &u.permissions {
            let pid = perm_id(perm)?;
            if !existing_up.contains(&(id, pid)) {
                new_up.push((id, pid));
            }
        }
    }
    new_ug.sort_unstable();
    new_ug.dedup();
    new_up.sort_unstable();
    new_up.dedup();
    for (head, rows) in [
        ("INSERT INTO auth_user_groups (user_id, group_id)", &new_ug),
        (
            "INSERT INTO auth_user_user_permissions (user_id, permission_id)",
            &new_up,
        ),
    ] {
        let args: Vec<Arg<'_>> = rows
            .iter()
            .flat_map(|&(a, b)| [a.into(), b.into()])
            .collect();
        insert_rows(tx, head, 2, chunk(2), &args).await?;
    }
    report.memberships_added = new_ug.len();
    report.grants_added += new_up.len();
    Ok(())
}

/// A user row in the export's shape (no groups or permissions yet).
/// The user columns an import writes: those the user model has.
struct UserColumns {
    kept: Vec<&'static str>,
}

impl UserColumns {
    fn of(schema: &UserSchema) -> Self {
        let always = ["password", "last_login", "is_superuser", "username"];
        Self {
            kept: KNOWN_COLUMNS
                .into_iter()
                .filter(|c| *c != "id")
                .filter(|c| {
                    always.contains(c)
                        || (schema.has_column(c) && *c != schema.model().username_field())
                })
                .collect(),
        }
    }

    /// One user's values for the kept columns; a value the model cannot hold (a flag or a name
    /// it has no column for) is an error rather than dropped.
    fn values<'u>(
        &self,
        schema: &UserSchema,
        u: &'u ExportedUser,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<Arg<'u>>> {
        let lost = [
            ("first_name", !u.first_name.is_empty()),
            ("last_name", !u.last_name.is_empty()),
            (
                "email",
                !(u.email.is_empty()
                    || (schema.model().username_field() == "email" && u.email == u.username)),
            ),
            ("is_staff", u.is_staff),
            ("is_active", !u.is_active),
        ];
        if let Some(column) = schema.unheld(&lost) {
            return Err(Error::UserModel(format!(
                "user {:?} has a {column} value, and the user model {} has no {column} column; nothing was imported",
                u.username,
                schema.model()
            )));
        }
        let last_login = u.last_login.as_deref().map(ts).transpose()?;
        let date_joined = match &u.date_joined {
            Some(t) => ts(t)?,
            None => now,
        };
        self.kept
            .iter()
            .map(|c| {
                Ok(match *c {
                    "password" => u.password.as_str().into(),
                    "last_login" => last_login.into(),
                    "is_superuser" => u.is_superuser.into(),
                    "username" => u.username.as_str().into(),
                    "first_name" => u.first_name.as_str().into(),
                    "last_name" => u.last_name.as_str().into(),
                    "email" => u.email.as_str().into(),
                    "is_staff" => u.is_staff.into(),
                    "is_active" => u.is_active.into(),
                    _ => date_joined.into(),
                })
            })
            .collect()
    }
}

fn exported(u: castellan_core::User) -> ExportedUser {
    ExportedUser {
        username: u.username,
        password: u.password,
        email: u.email,
        first_name: u.first_name,
        last_name: u.last_name,
        is_active: u.is_active,
        is_staff: u.is_staff,
        is_superuser: u.is_superuser,
        date_joined: u.date_joined.map(ts_to_text),
        last_login: u.last_login.map(ts_to_text),
        groups: Vec::new(),
        permissions: Vec::new(),
    }
}

/// Checks the whole document before anything is written.
fn validate(data: &Export) -> Result<()> {
    let bad = |message: String| Error::Refused(format!("invalid export: {message}"));
    if data.format != EXPORT_FORMAT || data.version != 1 {
        return Err(bad(format!(
            "format {:?} version {} is not {EXPORT_FORMAT:?} version 1",
            data.format, data.version
        )));
    }
    let declared: HashSet<String> = data
        .permissions
        .iter()
        .map(|p| format!("{}.{}", p.app_label, p.codename))
        .collect();
    let mut names = HashSet::new();
    for g in &data.groups {
        validate_group_name(&g.name)?;
        if !names.insert(g.name.as_str()) {
            return Err(bad(format!("group {:?} appears twice", g.name)));
        }
        if let Some(p) = g.permissions.iter().find(|p| !declared.contains(*p)) {
            return Err(bad(format!(
                "group {:?} has permission {p:?}, which is not in \"permissions\"",
                g.name
            )));
        }
    }
    let mut usernames = HashSet::new();
    for u in &data.users {
        validate_username(&u.username)?;
        if !usernames.insert(u.username.as_str()) {
            return Err(bad(format!("user {:?} appears twice", u.username)));
        }
        for t in u.date_joined.iter().chain(u.last_login.iter()) {
            if ts_from_text(t).is_none() {
                return Err(bad(format!(
                    "user {:?}: {t:?} is not a timestamp",
                    u.username
                )));
            }
        }
        if let Some(g) = u.groups.iter().find(|g| !names.contains(g.as_str())) {
            return Err(bad(format!(
                "user {:?} is in group {g:?}, which is not in \"groups\"",
                u.username
            )));
        }
        if let Some(p) = u.permissions.iter().find(|p| !declared.contains(*p)) {
            return Err(bad(format!(
                "user {:?} has permission {p:?}, which is not in \"permissions\"",
                u.username
            )));
        }
    }
    Ok(())
}
