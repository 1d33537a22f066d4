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
use serde::{Deserialize, Serialize};

use crate::audit::{audit, json};
use crate::error::{Error, Result};
use crate::migrate::{restore_row_triggers, suspend_row_triggers, BULK_ROWS, CATALOG_TABLES};
use crate::on_pool;
use crate::pool::{ts_from_text, ts_to_text, Dialect, RowExt};
use crate::sqlm::exec;
use crate::users::{user_columns, user_from_row};
use crate::Store;

/// Reads `(a, b)` integer pairs from `SELECT x AS a, y AS b FROM …` (`$cols` is `x, y`, `$from` the
/// rest). On SQLite as one row holding a JSON array (sqlx hands SQLite rows over one at a time, at
/// 1–2 µs each, which dominates reads of 100 000 rows); elsewhere row by row.
macro_rules! pairs {
    ($conn:expr, $d:expr, $cols:expr, $from:expr) => {
        if $d == Dialect::Sqlite {
            let sql = format!(
                "SELECT json_group_array(json_array({})) AS j {}",
                $cols, $from
            );
            let text = sqlx::query(&sql).fetch_one($conn).await?.opt_text("j")?;
            from_json::<Vec<(i64, i64)>>(text)?
        } else {
            let (a, b) = $cols.split_once(", ").unwrap_or(($cols, $cols));
            sqlx::query(&format!("SELECT {a} AS a, {b} AS b {}", $from))
                .fetch_all($conn)
                .await?
                .iter()
                .map(|r| Ok((r.int("a")?, r.int("b")?)))
                .collect::<Result<Vec<(i64, i64)>>>()?
        }
    };
}

/// Parses the JSON array a `json_group_array` query returned (`NULL`: no rows).
fn from_json<T: serde::de::DeserializeOwned + Default>(text: Option<String>) -> Result<T> {
    match text {
        Some(text) => serde_json::from_str(&text).map_err(|e| {
            Error::Schema(format!(
                "SQLite returned rows that are not a JSON array: {e}"
            ))
        }),
        None => Ok(T::default()),
    }
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
    /// `date_joined`, `YYYY-MM-DD HH:MM:SS.ffffff` UTC.
    pub date_joined: String,
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

fn placeholders(rows: usize, row: &str) -> String {
    vec![row; rows].join(", ")
}

impl Store {
    /// Exports every user, group, permission, membership and grant.
    pub async fn export(&self) -> Result<Export> {
        let d = self.dialect();
        let user_sql = format!("SELECT {} FROM auth_user u", user_columns(d));
        let (perms, groups, group_perms, users, memberships, user_perms) = on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            let perms = sqlx::query(
                "SELECT p.id AS id, ct.app_label AS app_label, ct.model AS model, p.codename AS codename, p.name AS name \
                 FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id",
            )
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| Ok((r.int("id")?, ExportedPermission {
                app_label: r.text("app_label")?,
                model: r.text("model")?,
                codename: r.text("codename")?,
                name: r.text("name")?,
            })))
            .collect::<Result<Vec<_>>>()?;
            let groups = sqlx::query("SELECT id, name FROM auth_group")
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| Ok((r.int("id")?, r.text("name")?)))
                .collect::<Result<Vec<_>>>()?;
            let group_perms = pairs!(&mut *tx, d, "group_id, permission_id", "FROM auth_group_permissions");
            let users = sqlx::query(&user_sql)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| user_from_row(r).map(|u| (u.id, exported(u))))
                .collect::<Result<Vec<_>>>()?;
            let memberships = pairs!(&mut *tx, d, "user_id, group_id", "FROM auth_user_groups");
            let user_perms = pairs!(&mut *tx, d, "user_id, permission_id", "FROM auth_user_user_permissions");
            tx.commit().await?;
            (perms, groups, group_perms, users, memberships, user_perms)
        });
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
        let mut user_out: HashMap<i64, ExportedUser> = users.into_iter().collect();
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
        let d = self.dialect();
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
        on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            let suspended = if bulk { Some(suspend_row_triggers!(tx, d, tables)) } else { None };
            // Content types and permissions.
            let mut cts: HashMap<(String, String), i64> = HashMap::new();
            for r in sqlx::query("SELECT id, app_label, model FROM django_content_type").fetch_all(&mut *tx).await? {
                cts.insert((r.text("app_label")?, r.text("model")?), r.int("id")?);
            }
            for perm in &data.permissions {
                let key = (perm.app_label.clone(), perm.model.clone());
                if let std::collections::hash_map::Entry::Vacant(slot) = cts.entry(key) {
                    exec!(&mut *tx, d, "INSERT INTO django_content_type (app_label, model) VALUES (?, ?)", &perm.app_label, &perm.model);
                    let id = sqlx::query(&d.sql("SELECT id FROM django_content_type WHERE app_label = ? AND model = ?"))
                        .bind(&perm.app_label)
                        .bind(&perm.model)
                        .fetch_one(&mut *tx)
                        .await?
                        .int("id")?;
                    slot.insert(id);
                    report.content_types_created += 1;
                }
            }
            let mut have_perms: HashSet<(i64, String)> = HashSet::new();
            for r in sqlx::query("SELECT content_type_id, codename FROM auth_permission").fetch_all(&mut *tx).await? {
                have_perms.insert((r.int("content_type_id")?, r.text("codename")?));
            }
            let missing: Vec<(i64, &ExportedPermission)> = data
                .permissions
                .iter()
                .filter_map(|p| cts.get(&(p.app_label.clone(), p.model.clone())).map(|ct| (*ct, p)))
                .filter(|(ct, p)| !have_perms.contains(&(*ct, p.codename.clone())))
                .collect();
            for chunk in missing.chunks(chunk(3)) {
                let sql = format!("INSERT INTO auth_permission (name, content_type_id, codename) VALUES {}", placeholders(chunk.len(), "(?, ?, ?)"));
                let sql = d.sql(&sql);
                let mut q = sqlx::query(&sql);
                for (ct, p) in chunk {
                    q = q.bind(&p.name).bind(*ct).bind(&p.codename);
                }
                q.execute(&mut *tx).await?;
            }
            report.permissions_created = missing.len();
            let mut perm_ids: HashMap<String, i64> = HashMap::new();
            for r in sqlx::query(
                "SELECT p.id AS id, ct.app_label AS app_label, p.codename AS codename FROM auth_permission p \
                 JOIN django_content_type ct ON ct.id = p.content_type_id ORDER BY p.id",
            )
            .fetch_all(&mut *tx)
            .await?
            {
                perm_ids.entry(format!("{}.{}", r.text("app_label")?, r.text("codename")?)).or_insert(r.int("id")?);
            }
            let perm_id = |name: &str| -> Result<i64> {
                perm_ids.get(name).copied().ok_or_else(|| Error::NotFound { what: "permission", name: name.to_owned() })
            };

            // Groups and their permissions.
            let mut group_ids: HashMap<String, i64> = HashMap::new();
            for r in sqlx::query("SELECT id, name FROM auth_group").fetch_all(&mut *tx).await? {
                group_ids.insert(r.text("name")?, r.int("id")?);
            }
            for g in &data.groups {
                if !group_ids.contains_key(&g.name) {
                    exec!(&mut *tx, d, "INSERT INTO auth_group (name) VALUES (?)", &g.name);
                    report.groups_created += 1;
                }
            }
            if report.groups_created > 0 {
                for r in sqlx::query("SELECT id, name FROM auth_group").fetch_all(&mut *tx).await? {
                    group_ids.insert(r.text("name")?, r.int("id")?);
                }
            }
            let existing_gp: HashSet<(i64, i64)> = pairs!(&mut *tx, d, "group_id, permission_id", "FROM auth_group_permissions").into_iter().collect();
            let mut new_gp = Vec::new();
            for g in &data.groups {
                let gid = group_ids.get(&g.name).copied().ok_or_else(|| Error::Schema(format!("group {:?} vanished during import", g.name)))?;
                for perm in &g.permissions {
                    let pid = perm_id(perm)?;
                    if !existing_gp.contains(&(gid, pid)) && !new_gp.contains(&(gid, pid)) {
                        new_gp.push((gid, pid));
                    }
                }
            }
            for chunk in new_gp.chunks(chunk(2)) {
                let sql = format!("INSERT INTO auth_group_permissions (group_id, permission_id) VALUES {}", placeholders(chunk.len(), "(?, ?)"));
                let sql = d.sql(&sql);
                let mut q = sqlx::query(&sql);
                for (g, p) in chunk {
                    q = q.bind(*g).bind(*p);
                }
                q.execute(&mut *tx).await?;
            }
            report.grants_added += new_gp.len();

            // Users.
            let total = data.users.len() as u64;
            let existing_sql = format!("SELECT {} FROM auth_user u", user_columns(d));
            let mut existing: HashMap<String, (i64, ExportedUser)> = HashMap::new();
            for r in sqlx::query(&existing_sql).fetch_all(&mut *tx).await? {
                let u = exported(user_from_row(&r)?);
                existing.insert(u.username.clone(), (r.int("id")?, u));
            }
            let new_users: Vec<&ExportedUser> = data.users.iter().filter(|u| !existing.contains_key(&u.username)).collect();
            let max_user_id = sqlx::query("SELECT COALESCE(MAX(id), 0) AS m FROM auth_user")
                .fetch_one(&mut *tx)
                .await?
                .int("m")?;
            let mut done = 0u64;
            for chunk in new_users.chunks(chunk(10)) {
                let sql = format!(
                    "INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined) VALUES {}",
                    placeholders(chunk.len(), "(?, ?ts, ?, ?, ?, ?, ?, ?, ?, ?ts)")
                );
                let sql = d.sql(&sql);
                let mut q = sqlx::query(&sql);
                for u in chunk {
                    q = q
                        .bind(&u.password)
                        .bind(u.last_login.as_deref())
                        .bind(u.is_superuser)
                        .bind(&u.username)
                        .bind(&u.first_name)
                        .bind(&u.last_name)
                        .bind(&u.email)
                        .bind(u.is_staff)
                        .bind(u.is_active)
                        .bind(&u.date_joined);
                }
                q.execute(&mut *tx).await?;
                done += chunk.len() as u64;
                progress("users", done, total);
            }
            report.users_created = new_users.len();
            for u in &data.users {
                let Some((id, old)) = existing.get(&u.username) else { continue };
                let same = old.password == u.password && old.email == u.email && old.first_name == u.first_name
                    && old.last_name == u.last_name && old.is_active == u.is_active && old.is_staff == u.is_staff
                    && old.is_superuser == u.is_superuser && old.date_joined == u.date_joined && old.last_login == u.last_login;
                if !same {
                    exec!(
                        &mut *tx, d,
                        "UPDATE auth_user SET password = ?, last_login = ?ts, is_superuser = ?, first_name = ?, last_name = ?, email = ?, \
                         is_staff = ?, is_active = ?, date_joined = ?ts WHERE id = ?",
                        &u.password, u.last_login.as_deref(), u.is_superuser, &u.first_name, &u.last_name, &u.email,
                        u.is_staff, u.is_active, &u.date_joined, *id
                    );
                    report.users_updated += 1;
                }
                done += 1;
                if done % 1000 == 0 {
                    progress("users", done, total);
                }
            }
            progress("users", total, total);
            let mut user_ids: HashMap<String, i64> = existing.into_iter().map(|(name, (id, _))| (name, id)).collect();
            if !new_users.is_empty() {
                // On SQLite only the rows just inserted (AUTOINCREMENT ids grow), as one JSON row (see
                // `pairs!`).
                if d == Dialect::Sqlite {
                    let text = sqlx::query("SELECT json_group_array(json_array(id, username)) AS j FROM auth_user WHERE id > ?")
                        .bind(max_user_id)
                        .fetch_one(&mut *tx)
                        .await?
                        .opt_text("j")?;
                    for (id, name) in from_json::<Vec<(i64, String)>>(text)? {
                        user_ids.insert(name, id);
                    }
                } else {
                    // Every row: a sequence may hand out ids below an explicitly inserted maximum.
                    for r in sqlx::query("SELECT id, username FROM auth_user").fetch_all(&mut *tx).await? {
                        user_ids.insert(r.text("username")?, r.int("id")?);
                    }
                }
            }
            let uid = |name: &str| -> Result<i64> {
                user_ids.get(name).copied().ok_or_else(|| Error::Schema(format!("user {name:?} vanished during import")))
            };

            // Memberships and direct grants.
            let existing_ug: HashSet<(i64, i64)> = pairs!(&mut *tx, d, "user_id, group_id", "FROM auth_user_groups").into_iter().collect();
            let existing_up: HashSet<(i64, i64)> = pairs!(&mut *tx, d, "user_id, permission_id", "FROM auth_user_user_permissions").into_iter().collect();
            let mut new_ug = Vec::new();
            let mut new_up = Vec::new();
            for u in &data.users {
                let id = uid(&u.username)?;
                for g in &u.groups {
                    let gid = group_ids.get(g).copied().ok_or_else(|| Error::NotFound { what: "group", name: g.clone() })?;
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
            for (table, cols, rows) in [
                ("auth_user_groups", "(user_id, group_id)", &new_ug),
                ("auth_user_user_permissions", "(user_id, permission_id)", &new_up),
            ] {
                for chunk in rows.chunks(chunk(2)) {
                    let sql = format!("INSERT INTO {table} {cols} VALUES {}", placeholders(chunk.len(), "(?, ?)"));
                    let sql = d.sql(&sql);
                    let mut q = sqlx::query(&sql);
                    for (a, b) in chunk {
                        q = q.bind(*a).bind(*b);
                    }
                    q.execute(&mut *tx).await?;
                }
            }
            report.memberships_added = new_ug.len();
            report.grants_added += new_up.len();
            if !report.is_noop() {
                audit!(&mut *tx, self, "import", "database", "import", None, json(&report));
            }
            if let Some(suspended) = suspended {
                restore_row_triggers!(tx, suspended);
            }
            tx.commit().await?;
            Ok::<(), Error>(())
        })?;
        if !report.is_noop() {
            self.after_write();
        }
        Ok(report)
    }
}

/// A user row in the export's shape (no groups or permissions yet).
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
        date_joined: ts_to_text(u.date_joined),
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
        for t in std::iter::once(&u.date_joined).chain(u.last_login.iter()) {
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
