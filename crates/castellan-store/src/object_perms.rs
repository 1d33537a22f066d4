//! Per-object grants in django-guardian 3.5's two tables: creating them, reading one object's
//! grants, granting and revoking, and listing the objects a user may act on. The rules that turn
//! rows into answers live in [`castellan_core::object_perms`]; this module reads and writes rows.
//!
//! Object keys are text, as guardian stores them (`object_pk`), and compare as text: `"05"` is not
//! object `5`. Names compare exactly on every database (MariaDB's collations ignore case, so rows
//! are matched again in Rust).

use std::collections::{BTreeMap, BTreeSet};

use castellan_core::object_perms::{self, ObjectGrants, ObjectRef, ObjectsPlan, ObjectsQuery};
use castellan_core::{Principal, UserId};
use serde_json::json;

use crate::error::{Error, Result};
use crate::lookup::{group_id, user_id};
use crate::sql::{Arg, Dialect, Row, Sql, Tx};
use crate::Store;

/// Guardian's tables: a user's grants and a group's.
pub(crate) const GUARDIAN_TABLES: [&str; 2] = [
    "guardian_userobjectpermission",
    "guardian_groupobjectpermission",
];

/// Guardian's migrations, recorded when Castellan creates its tables (so that a Django project
/// that installs guardian later finds them applied).
const GUARDIAN_MIGRATIONS: [&str; 3] = [
    "0001_initial",
    "0002_generic_permissions_index",
    "0003_remove_groupobjectpermission_guardian_gr_content_ae6aec_idx_and_more",
];

/// Who receives or loses an object grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectHolder<'a> {
    /// A user, by username.
    User(&'a str),
    /// A group, by name.
    Group(&'a str),
}

impl ObjectHolder<'_> {
    fn name(self) -> &'static str {
        match self {
            Self::User(_) => "user",
            Self::Group(_) => "group",
        }
    }
}

/// One object's grants for one user: their own rows, then their groups' (`via` 0 and 1), with the
/// names compared again in Rust.
const OBJECT_GRANTS: Sql = crate::sql!(
    "SELECT p.codename AS codename, 0 AS via, ct.app_label AS app_label, ct.model AS model, g.object_pk AS object_pk \
     FROM guardian_userobjectpermission g \
     JOIN auth_permission p ON p.id = g.permission_id \
     JOIN django_content_type ct ON ct.id = g.content_type_id AND ct.id = p.content_type_id \
     WHERE g.user_id = $1 AND ct.app_label = $2 AND ct.model = $3 AND g.object_pk = $4 \
     UNION ALL \
     SELECT p.codename AS codename, 1 AS via, ct.app_label AS app_label, ct.model AS model, g.object_pk AS object_pk \
     FROM guardian_groupobjectpermission g \
     JOIN auth_user_groups ug ON ug.group_id = g.group_id \
     JOIN auth_permission p ON p.id = g.permission_id \
     JOIN django_content_type ct ON ct.id = g.content_type_id AND ct.id = p.content_type_id \
     WHERE ug.guardian_member_id = $5 AND ct.app_label = $6 AND ct.model = $7 AND g.object_pk = $8"
);

/// A user's rows (and, through groups, their groups' rows) whose permission belongs to a model:
/// guardian's `get_objects_for_user` filters on the permission's content type alone.
const MODEL_GRANTS: Sql = crate::sql!(
    "SELECT p.codename AS codename, 0 AS via, ct.app_label AS app_label, ct.model AS model, g.object_pk AS object_pk \
     FROM guardian_userobjectpermission g \
     JOIN auth_permission p ON p.id = g.permission_id \
     JOIN django_content_type ct ON ct.id = p.content_type_id \
     WHERE g.user_id = $1 AND ct.app_label = $2 AND ct.model = $3 \
     UNION ALL \
     SELECT p.codename AS codename, 1 AS via, ct.app_label AS app_label, ct.model AS model, g.object_pk AS object_pk \
     FROM guardian_groupobjectpermission g \
     JOIN auth_user_groups ug ON ug.group_id = g.group_id \
     JOIN auth_permission p ON p.id = g.permission_id \
     JOIN django_content_type ct ON ct.id = p.content_type_id \
     WHERE ug.guardian_member_id = $4 AND ct.app_label = $5 AND ct.model = $6"
);

/// The permissions of the models of an app: `(model, codename, permission id, content type id)`.
const APP_PERMISSIONS: Sql = crate::sql!(
    "SELECT ct.id AS ct_id, ct.model AS model, ct.app_label AS app_label, p.id AS id, p.codename AS codename \
     FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id \
     WHERE ct.app_label = $1"
);

const CONTENT_TYPE: Sql = crate::sql!(
    "SELECT app_label, model FROM django_content_type WHERE app_label = $1 AND model = $2"
);

const USER_ROWS: Sql = crate::sql!(
    "SELECT id, permission_id, object_pk FROM guardian_userobjectpermission \
     WHERE user_id = $1 AND content_type_id = $2"
);
const GROUP_ROWS: Sql = crate::sql!(
    "SELECT id, permission_id, object_pk FROM guardian_groupobjectpermission \
     WHERE group_id = $1 AND content_type_id = $2"
);
/// Inserts a grant unless a concurrent one made it first (guardian's `get_or_create`): the unique
/// index decides, and nothing is counted then.
const USER_INSERT: Sql = Sql::per_dialect(
    "INSERT INTO guardian_userobjectpermission (object_pk, content_type_id, permission_id, user_id) \
     VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
    "INSERT INTO guardian_userobjectpermission (object_pk, content_type_id, permission_id, user_id) \
     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    "INSERT IGNORE INTO guardian_userobjectpermission (object_pk, content_type_id, permission_id, user_id) \
     VALUES (?, ?, ?, ?)",
);
const GROUP_INSERT: Sql = Sql::per_dialect(
    "INSERT INTO guardian_groupobjectpermission (object_pk, content_type_id, permission_id, group_id) \
     VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
    "INSERT INTO guardian_groupobjectpermission (object_pk, content_type_id, permission_id, group_id) \
     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    "INSERT IGNORE INTO guardian_groupobjectpermission (object_pk, content_type_id, permission_id, group_id) \
     VALUES (?, ?, ?, ?)",
);
const USER_DELETE: Sql = crate::sql!("DELETE FROM guardian_userobjectpermission WHERE id = $1");
const GROUP_DELETE: Sql = crate::sql!("DELETE FROM guardian_groupobjectpermission WHERE id = $1");
const APPLIED: Sql = crate::sql!("SELECT name FROM django_migrations WHERE app = 'guardian'");
const RECORD_MIGRATION: Sql =
    crate::sql!("INSERT INTO django_migrations (app, name, applied) VALUES ('guardian', $1, $2)");

const DELETE_USER_ROWS: Sql =
    crate::sql!("DELETE FROM guardian_userobjectpermission WHERE user_id = $1");
const DELETE_GROUP_ROWS: Sql =
    crate::sql!("DELETE FROM guardian_groupobjectpermission WHERE group_id = $1");
const DELETE_USER_ROWS_OF_PERMISSION: Sql =
    crate::sql!("DELETE FROM guardian_userobjectpermission WHERE permission_id = $1");
const DELETE_GROUP_ROWS_OF_PERMISSION: Sql =
    crate::sql!("DELETE FROM guardian_groupobjectpermission WHERE permission_id = $1");

/// Whose object grants go with a deleted row (Django's `CASCADE` on guardian's foreign keys).
#[derive(Debug, Clone, Copy)]
pub(crate) enum GrantsOf {
    /// A user's.
    User(UserId),
    /// A group's.
    Group(i64),
    /// A permission's, to users and groups.
    Permission(i64),
}

/// The statements of this module that need guardian's tables.
#[cfg(test)]
pub(crate) const STATEMENTS: &[Sql] = &[
    OBJECT_GRANTS,
    MODEL_GRANTS,
    APP_PERMISSIONS,
    CONTENT_TYPE,
    USER_ROWS,
    GROUP_ROWS,
    USER_INSERT,
    GROUP_INSERT,
    USER_DELETE,
    GROUP_DELETE,
    DELETE_USER_ROWS,
    DELETE_GROUP_ROWS,
    DELETE_USER_ROWS_OF_PERMISSION,
    DELETE_GROUP_ROWS_OF_PERMISSION,
    APPLIED,
    RECORD_MIGRATION,
];

/// A permission row of an app: its model, id and content type.
#[derive(Debug, Clone)]
struct AppPermission {
    ct_id: i64,
    model: String,
    id: i64,
    codename: String,
}

/// Rows of a grants query, split into the user's own codenames and their groups', per object key.
#[derive(Default)]
struct GrantRows {
    by_object: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>,
}

impl GrantRows {
    /// Collects rows whose names match exactly (MariaDB compares without case).
    fn collect(rows: &[Row], app_label: &str, model: &str, pk: Option<&str>) -> Result<Self> {
        let mut out = Self::default();
        for r in rows {
            let object_pk = r.text("object_pk")?;
            if r.text("app_label")? != app_label
                || r.text("model")? != model
                || pk.is_some_and(|pk| pk != object_pk)
            {
                continue;
            }
            let entry = out.by_object.entry(object_pk).or_default();
            let codename = r.text("codename")?;
            if r.int("via")? == 0 {
                entry.0.insert(codename);
            } else {
                entry.1.insert(codename);
            }
        }
        Ok(out)
    }
}

impl Store {
    /// Whether the database holds guardian's two tables (made by Django with django-guardian, or
    /// by [`Store::install_object_permissions`]).
    pub async fn has_object_permissions(&self) -> Result<bool> {
        for t in GUARDIAN_TABLES {
            if !self.db.table_exists(t).await? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Creates django-guardian 3.5's tables with the DDL its migrations give on this database
    /// (user column typed for the user model), and records those migrations, so that Django with
    /// guardian installed finds nothing to do. Tables already there are adopted as they are.
    /// Returns whether the tables were created.
    pub async fn install_object_permissions(&self) -> Result<bool> {
        let user_fk = self.users.foreign_key_type();
        let present = [
            self.db.table_exists(GUARDIAN_TABLES[0]).await?,
            self.db.table_exists(GUARDIAN_TABLES[1]).await?,
        ];
        if present == [true, true] {
            return Ok(false);
        }
        if present != [false, false] {
            return Err(Error::Schema(
                "only one of guardian's two tables exists: the database is half-migrated; run the Django project's \
                 `manage.py migrate guardian`, or drop the table that is there"
                    .into(),
            ));
        }
        let mut tx = self.guardian_db.begin().await?;
        for stmt in crate::object_tables::guardian_ddl(self.dialect(), user_fk, self.users.table())
        {
            tx.execute_once(&stmt).await?;
        }
        let applied: Vec<String> = tx
            .fetch_all(&APPLIED, &[])
            .await?
            .iter()
            .map(|r| r.text("name"))
            .collect::<Result<_>>()?;
        let now = chrono::Utc::now();
        for name in GUARDIAN_MIGRATIONS {
            if !applied.iter().any(|a| a == name) {
                tx.execute(&RECORD_MIGRATION, &[name.into(), now.into()])
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    pub(crate) async fn require_guardian_tables(&self) -> Result<()> {
        if self.has_object_permissions().await? {
            Ok(())
        } else {
            Err(Error::Schema(
                "this database has no object permissions (django-guardian's tables): run `castellan migrate --object-permissions`, \
                 or install django-guardian in the Django project and migrate"
                    .into(),
            ))
        }
    }

    /// The permissions of `app_label`'s models.
    async fn app_permissions(&self, app_label: &str) -> Result<Vec<AppPermission>> {
        let rows = self
            .db
            .fetch_all(&APP_PERMISSIONS, &[app_label.into()])
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            if r.text("app_label")? != app_label {
                continue;
            }
            out.push(AppPermission {
                ct_id: r.int("ct_id")?,
                model: r.text("model")?,
                id: r.int("id")?,
                codename: r.text("codename")?,
            });
        }
        Ok(out)
    }

    /// The codenames of one model's permissions, in Django's order of creation (by id).
    pub async fn model_codenames(&self, app_label: &str, model: &str) -> Result<Vec<String>> {
        let mut perms: Vec<AppPermission> = self
            .app_permissions(app_label)
            .await?
            .into_iter()
            .filter(|p| p.model == model)
            .collect();
        perms.sort_by_key(|p| p.id);
        Ok(perms.into_iter().map(|p| p.codename).collect())
    }

    /// The grants `user` holds on `obj` through guardian's rows (their own and their groups'), in
    /// one statement. Nothing is cached: a grant or revocation by anyone is seen by the next call.
    pub async fn object_grants(&self, user: UserId, obj: &ObjectRef) -> Result<ObjectGrants> {
        self.require_guardian_tables().await?;
        let (app, model, pk) = (obj.app_label(), obj.model(), obj.pk());
        let args: [Arg<'_>; 8] = [
            user.into(),
            app.into(),
            model.into(),
            pk.into(),
            user.into(),
            app.into(),
            model.into(),
            pk.into(),
        ];
        let rows = self.guardian_db.fetch_all(&OBJECT_GRANTS, &args).await?;
        let mut found = GrantRows::collect(&rows, app, model, Some(pk))?;
        let (user_codes, group_codes) = found.by_object.remove(pk).unwrap_or_default();
        Ok(ObjectGrants::new(user_codes, group_codes))
    }

    /// Whether `obj` exists in its model's table (see [`ObjectTable`](crate::ObjectTable)). A model without content
    /// type is [`Error::NotFound`]; a content type whose table cannot be found is
    /// [`Error::Schema`], naming the option that maps it.
    pub async fn object_exists(&self, obj: &ObjectRef) -> Result<bool> {
        self.require_model(obj.app_label(), obj.model()).await?;
        let table = self.object_table(obj.app_label(), obj.model());
        let found = table.existing(&self.app_db, &[obj.pk().to_owned()]).await?;
        Ok(!found.is_empty())
    }

    /// Fails with [`Error::NotFound`] unless `app_label.model` has a content type.
    async fn require_model(&self, app_label: &str, model: &str) -> Result<()> {
        let known = self
            .app_permissions(app_label)
            .await?
            .iter()
            .any(|p| p.model == model)
            || self
                .guardian_db
                .fetch_all(&CONTENT_TYPE, &[app_label.into(), model.into()])
                .await?
                .iter()
                .any(|r| {
                    r.text("app_label").is_ok_and(|a| a == app_label)
                        && r.text("model").is_ok_and(|m| m == model)
                });
        if known {
            Ok(())
        } else {
            Err(Error::NotFound {
                what: "model",
                name: format!("{app_label}.{model}"),
            })
        }
    }

    /// The user for checks, or [`Error::NotFound`].
    async fn require_principal(&self, username: &str) -> Result<Principal> {
        self.principal(username)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "user",
                name: username.to_owned(),
            })
    }

    /// Inside `tx` (which runs the store's other statements): deletes the object grants that go
    /// with a user, group or permission about to be deleted, as Django's `CASCADE` does; nothing
    /// when the database has no guardian tables.
    pub(crate) async fn delete_object_grants(&self, tx: &mut Tx, of: GrantsOf) -> Result<()> {
        // Asked on the transaction's own connection (an in-memory database has only that one).
        for t in GUARDIAN_TABLES {
            if !tx.table_exists(t).await? {
                return Ok(());
            }
        }
        let saved = tx.swap_renames(Some(self.users.guardian_renames()));
        let deleted = match of {
            GrantsOf::User(id) => tx.execute(&DELETE_USER_ROWS, &[id.into()]).await,
            GrantsOf::Group(id) => tx.execute(&DELETE_GROUP_ROWS, &[id.into()]).await,
            GrantsOf::Permission(id) => {
                match tx
                    .execute(&DELETE_USER_ROWS_OF_PERMISSION, &[id.into()])
                    .await
                {
                    Ok(_) => {
                        tx.execute(&DELETE_GROUP_ROWS_OF_PERMISSION, &[id.into()])
                            .await
                    }
                    Err(e) => Err(e),
                }
            }
        };
        tx.swap_renames(saved);
        deleted.map(|_| ())
    }

    /// Fails with [`Error::NotFound`] unless `obj` exists.
    pub(crate) async fn require_object(&self, obj: &ObjectRef) -> Result<()> {
        if self.object_exists(obj).await? {
            Ok(())
        } else {
            Err(Error::NotFound {
                what: "object",
                name: obj.to_string(),
            })
        }
    }

    /// A user for object checks, and their grants on `obj` (which must exist).
    pub async fn object_principal(
        &self,
        username: &str,
        obj: &ObjectRef,
    ) -> Result<(Principal, ObjectGrants)> {
        let who = self.require_principal(username).await?;
        self.require_object(obj).await?;
        let id = who.identity().id().ok_or_else(|| Error::NotFound {
            what: "user",
            name: username.to_owned(),
        })?;
        let grants = self.object_grants(id, obj).await?;
        Ok((who, grants))
    }

    /// Every name in `perms` must be a permission of the object's app (`app.codename`, or a bare
    /// codename taken in the object's app): Castellan's rule against silent typos. A name of
    /// another app is left for the check to refuse as guardian does.
    async fn require_known(&self, obj: &ObjectRef, perms: &[String]) -> Result<()> {
        let mut names = Vec::new();
        for p in perms {
            match p.split_once('.') {
                Some(_) => names.push(p.clone()),
                None => names.push(format!("{}.{p}", obj.app_label())),
            }
        }
        self.resolve_permissions(&names).await
    }

    /// `user.has_perms(perms, obj)` with `ModelBackend` and guardian's backend (`any`: any one of
    /// them). Every name must exist; the object must exist.
    pub async fn check_object_perms(
        &self,
        username: &str,
        perms: &[String],
        obj: &ObjectRef,
        any: bool,
    ) -> Result<bool> {
        self.require_known(obj, perms).await?;
        let (who, grants) = self.object_principal(username, obj).await?;
        Ok(object_perms::has_perms(&who, &grants, perms, obj, any)?)
    }

    /// Guardian's `get_perms(user, obj)`: codenames, sorted.
    pub async fn object_perms(&self, username: &str, obj: &ObjectRef) -> Result<Vec<String>> {
        let (who, grants) = self.object_principal(username, obj).await?;
        let all = self.model_codenames(obj.app_label(), obj.model()).await?;
        Ok(object_perms::get_perms(&who, &grants, &all))
    }

    /// Guardian's `assign_perm(perm, user_or_group, obj)` for each permission: idempotent, one
    /// transaction, one audit entry when something was granted. A permission is `app.codename` of
    /// the object's app or a bare codename, and must belong to the object's model. Returns the rows
    /// written.
    pub async fn grant_object_perms(
        &self,
        holder: ObjectHolder<'_>,
        perms: &[String],
        obj: &ObjectRef,
    ) -> Result<u64> {
        self.change_object_perms(holder, perms, obj, true).await
    }

    /// Guardian's `remove_perm(perm, user_or_group, obj)` for each permission (no error when not
    /// held). Returns the rows removed.
    pub async fn revoke_object_perms(
        &self,
        holder: ObjectHolder<'_>,
        perms: &[String],
        obj: &ObjectRef,
    ) -> Result<u64> {
        self.change_object_perms(holder, perms, obj, false).await
    }

    async fn change_object_perms(
        &self,
        holder: ObjectHolder<'_>,
        perms: &[String],
        obj: &ObjectRef,
        grant: bool,
    ) -> Result<u64> {
        self.require_guardian_tables().await?;
        self.require_object(obj).await?;
        let model_perms: Vec<AppPermission> = self
            .app_permissions(obj.app_label())
            .await?
            .into_iter()
            .filter(|p| p.model == obj.model())
            .collect();
        let mut wanted: Vec<&AppPermission> = Vec::new();
        for p in perms {
            let codename = match p.split_once('.') {
                Some((app, codename)) if app == obj.app_label() => codename,
                Some(_) => {
                    return Err(castellan_core::Error::WrongApp {
                        perm: p.clone(),
                        perm_app: p.split('.').next().unwrap_or_default().to_owned(),
                        object: obj.to_string(),
                        object_app: obj.app_label().to_owned(),
                    }
                    .into())
                }
                None => p.as_str(),
            };
            let found = model_perms
                .iter()
                .find(|m| m.codename == codename)
                .ok_or_else(|| castellan_core::Error::UnknownPermission {
                    name: format!("{}.{codename}", obj.app_label()),
                    suggestion: castellan_core::index::closest(
                        codename,
                        model_perms.iter().map(|m| m.codename.as_str()),
                    )
                    .map(|c| format!("{}.{c}", obj.app_label())),
                })?;
            if !wanted.iter().any(|w| w.id == found.id) {
                wanted.push(found);
            }
        }
        let Some(ct_id) = model_perms.first().map(|p| p.ct_id) else {
            return Err(castellan_core::Error::UnknownPermission {
                name: perms.first().cloned().unwrap_or_default(),
                suggestion: None,
            }
            .into());
        };
        crate::retry::retry_busy(|| async {
            let mut tx = self.guardian_db.begin_write().await?;
            let n = self
                .change_object_rows(&mut tx, holder, ct_id, &wanted, obj, grant)
                .await?;
            tx.commit().await?;
            Ok(n)
        })
        .await
    }

    async fn change_object_rows(
        &self,
        tx: &mut Tx,
        holder: ObjectHolder<'_>,
        ct_id: i64,
        wanted: &[&AppPermission],
        obj: &ObjectRef,
        grant: bool,
    ) -> Result<u64> {
        let (id, name, rows_sql, insert, delete): (Arg<'_>, &str, _, _, _) = match holder {
            ObjectHolder::User(name) => (
                user_id(tx, name).await?.into(),
                name,
                &USER_ROWS,
                &USER_INSERT,
                &USER_DELETE,
            ),
            ObjectHolder::Group(name) => (
                group_id(tx, name).await?.into(),
                name,
                &GROUP_ROWS,
                &GROUP_INSERT,
                &GROUP_DELETE,
            ),
        };
        let held: Vec<(i64, i64, String)> = tx
            .fetch_all(rows_sql, &[id, ct_id.into()])
            .await?
            .iter()
            .map(|r| Ok((r.int("id")?, r.int("permission_id")?, r.text("object_pk")?)))
            .collect::<Result<_>>()?;
        let on_object = |pid: i64| {
            held.iter()
                .filter(move |(_, p, pk)| *p == pid && pk == obj.pk())
                .map(|(row, _, _)| *row)
        };
        let mut n = 0;
        let mut changed: Vec<String> = Vec::new();
        for p in wanted {
            let rows: Vec<i64> = on_object(p.id).collect();
            if grant && rows.is_empty() {
                let inserted = tx
                    .execute(insert, &[obj.pk().into(), ct_id.into(), p.id.into(), id])
                    .await?;
                if inserted > 0 {
                    n += 1;
                    changed.push(format!("{}.{}", obj.app_label(), p.codename));
                }
            } else if !grant && !rows.is_empty() {
                for row in rows {
                    n += tx.execute(delete, &[row.into()]).await?;
                }
                changed.push(format!("{}.{}", obj.app_label(), p.codename));
            }
        }
        if !changed.is_empty() {
            let change = crate::audit::json(&json!({
                "object": obj.to_string(),
                "permissions": changed,
            }));
            let (action, before, after) = match (holder.name(), grant) {
                ("user", true) => ("user.object_grant", None, change),
                ("user", false) => ("user.object_revoke", change, None),
                (_, true) => ("group.object_grant", None, change),
                (_, false) => ("group.object_revoke", change, None),
            };
            self.audit(tx, action, holder.name(), name, before, after)
                .await?;
        }
        Ok(n)
    }

    /// Guardian's `get_objects_for_user(user, perms, klass=app_label.model, **query)`: the keys of
    /// the existing objects, in the table's key order. Errors as guardian raises them
    /// ([`castellan_core::Error::MixedContentType`], an unknown permission); an unknown model is
    /// [`Error::NotFound`].
    pub async fn objects_for_user(
        &self,
        username: &str,
        perms: &[String],
        (app_label, model): (&str, &str),
        query: ObjectsQuery,
    ) -> Result<Vec<String>> {
        self.require_guardian_tables().await?;
        self.require_model(app_label, model).await?;
        let who = self.require_principal(username).await?;
        let mut catalog: BTreeMap<String, Vec<AppPermission>> = BTreeMap::new();
        for p in perms {
            if let Some((app, _)) = p.split_once('.') {
                if !catalog.contains_key(app) {
                    catalog.insert(app.to_owned(), self.app_permissions(app).await?);
                }
            }
        }
        let content_types_of = |app: &str, codename: &str| -> Vec<String> {
            let mut models: Vec<String> = catalog
                .get(app)
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p.codename == codename)
                        .map(|p| p.model.clone())
                        .collect()
                })
                .unwrap_or_default();
            models.sort_unstable();
            models.dedup();
            models
        };
        let plan =
            object_perms::plan_objects(&who, perms, (app_label, model), content_types_of, query)?;
        let table = self.object_table(app_label, model);
        if plan == ObjectsPlan::Every {
            return table.every(&self.app_db).await;
        }
        let id = who.identity().id().ok_or_else(|| Error::NotFound {
            what: "user",
            name: username.to_owned(),
        })?;
        let args: [Arg<'_>; 6] = [
            id.into(),
            app_label.into(),
            model.into(),
            id.into(),
            app_label.into(),
            model.into(),
        ];
        let rows = self.guardian_db.fetch_all(&MODEL_GRANTS, &args).await?;
        let found = GrantRows::collect(&rows, app_label, model, None)?;
        let candidates: Vec<String> = found
            .by_object
            .into_iter()
            .filter(|(_, (user, group))| {
                plan.admits(
                    user.iter().map(String::as_str),
                    group.iter().map(String::as_str),
                )
            })
            .map(|(pk, _)| pk)
            .collect();
        table.existing(&self.app_db, &candidates).await
    }
}

/// `CAST(expr AS <text>)` in the database's spelling.
pub(crate) fn cast_text(d: Dialect, expr: &str) -> String {
    match d {
        Dialect::MySql => format!("CAST({expr} AS CHAR)"),
        Dialect::Sqlite | Dialect::Postgres => format!("CAST({expr} AS TEXT)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_are_spelled_per_database() {
        assert_eq!(cast_text(Dialect::MySql, "t.id"), "CAST(t.id AS CHAR)");
        assert_eq!(cast_text(Dialect::Postgres, "id"), "CAST(id AS TEXT)");
    }
}
