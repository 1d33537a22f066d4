//! Permissions and content types: listing, creating (Django's `create_permissions`), deleting, and
//! resolving `app_label.codename` names to rows.

use castellan_core::index::closest;
use castellan_core::perm::{validate_identifier, validate_new_codename};
use castellan_core::validators::validate_permission_name;
use castellan_core::{PermName, Permission, PermissionRow, Registry};

use crate::audit::json;
use crate::error::{Error, Result};
use crate::lookup::permission_rows;
use crate::sql::{Db, Sql, Tx};
use crate::Store;

const INSERT_CONTENT_TYPE: Sql =
    crate::sql!("INSERT INTO django_content_type (app_label, model) VALUES ($1, $2)");
const CONTENT_TYPE_BY_NAME: Sql =
    crate::sql!("SELECT id, model FROM django_content_type WHERE app_label = $1 AND model = $2");
const CONTENT_TYPES: Sql = crate::sql!("SELECT id, app_label, model FROM django_content_type");
const PERMISSION_KEYS: Sql = crate::sql!("SELECT content_type_id, codename FROM auth_permission");
const INSERT_PERMISSION: Sql = crate::sql!(
    "INSERT INTO auth_permission (name, content_type_id, codename) VALUES ($1, $2, $3)"
);
const PERMISSION_ID: Sql =
    crate::sql!("SELECT id FROM auth_permission WHERE content_type_id = $1 AND codename = $2");
const PERMISSIONS: Sql = crate::sql!(
    "SELECT p.id AS id, p.name AS name, ct.app_label AS app_label, ct.model AS model, p.codename AS codename \
     FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id"
);
const DELETE_USER_GRANTS_OF: Sql =
    crate::sql!("DELETE FROM auth_user_user_permissions WHERE permission_id = $1");
const DELETE_GROUP_GRANTS_OF: Sql =
    crate::sql!("DELETE FROM auth_group_permissions WHERE permission_id = $1");
const DELETE_PERMISSION: Sql = crate::sql!("DELETE FROM auth_permission WHERE id = $1");

/// The statements of this module.
#[cfg(test)]
pub(crate) const STATEMENTS: &[Sql] = &[
    INSERT_CONTENT_TYPE,
    CONTENT_TYPE_BY_NAME,
    CONTENT_TYPES,
    PERMISSION_KEYS,
    INSERT_PERMISSION,
    PERMISSION_ID,
    PERMISSIONS,
    DELETE_USER_GRANTS_OF,
    DELETE_GROUP_GRANTS_OF,
    DELETE_PERMISSION,
];

/// The id of the content type `(app, model)` (compared exactly), if it exists.
async fn content_type_id(tx: &mut Tx, app: &str, model: &str) -> Result<Option<i64>> {
    let mut id = None;
    for r in tx
        .fetch_all(&CONTENT_TYPE_BY_NAME, &[app.into(), model.into()])
        .await?
    {
        if r.text("model")? == model {
            id = Some(r.int("id")?);
        }
    }
    Ok(id)
}

/// Inserts a content type and returns its id.
async fn insert_content_type(tx: &mut Tx, app: &str, model: &str) -> Result<i64> {
    tx.execute(&INSERT_CONTENT_TYPE, &[app.into(), model.into()])
        .await?;
    content_type_id(tx, app, model)
        .await?
        .ok_or_else(|| Error::Schema("a content type just inserted cannot be read back".into()))
}

/// Resolves permission names to the `auth_permission` rows that carry them (one name can come from
/// several content types of one app). All names are checked before anything is returned: a malformed or
/// unknown name is an error that says what is wrong and, for a likely typo, the closest real name.
pub(crate) fn resolve(rows: &[PermissionRow], names: &[String]) -> Result<Vec<Vec<i64>>> {
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let ids: Vec<i64> = rows
            .iter()
            .filter(|r| {
                name.len() == r.app_label.len() + 1 + r.codename.len()
                    && name.starts_with(r.app_label.as_str())
                    && name[r.app_label.len()..].starts_with('.')
                    && name.ends_with(r.codename.as_str())
            })
            .map(|r| r.id)
            .collect();
        if ids.is_empty() {
            PermName::parse(name)?;
            let known: Vec<String> = rows
                .iter()
                .map(|r| format!("{}.{}", r.app_label, r.codename))
                .collect();
            let suggestion = closest(name, known.iter().map(String::as_str)).map(str::to_owned);
            return Err(castellan_core::Error::UnknownPermission {
                name: name.clone(),
                suggestion,
            }
            .into());
        }
        out.push(ids);
    }
    Ok(out)
}

/// Creates the content types and permissions of every registry model that are missing, as Django's
/// `post_migrate` does: content types per app in model-name order, then permissions in declaration
/// order. Existing rows are never changed. Returns (content types, permissions) created.
pub(crate) async fn ensure_registry(db: &Db, registry: &Registry) -> Result<(usize, usize)> {
    let mut tx = db.begin().await?;
    let mut cts: Vec<(i64, String, String)> = tx
        .fetch_all(&CONTENT_TYPES, &[])
        .await?
        .iter()
        .map(|r| Ok((r.int("id")?, r.text("app_label")?, r.text("model")?)))
        .collect::<Result<_>>()?;
    let mut created_cts = 0;
    for app in registry.apps() {
        let mut models: Vec<&str> = app.models.iter().map(|m| m.model_name()).collect();
        models.sort_unstable();
        for model in models {
            if cts.iter().any(|(_, a, m)| a == &app.label && m == model) {
                continue;
            }
            let id = insert_content_type(&mut tx, &app.label, model).await?;
            cts.push((id, app.label.clone(), model.to_owned()));
            created_cts += 1;
        }
    }
    let mut have: std::collections::HashSet<(i64, String)> = tx
        .fetch_all(&PERMISSION_KEYS, &[])
        .await?
        .iter()
        .map(|r| Ok((r.int("content_type_id")?, r.text("codename")?)))
        .collect::<Result<_>>()?;
    let mut created = 0;
    for model in registry.models() {
        let Some(ct) = cts
            .iter()
            .find(|(_, a, m)| a == model.app_label() && m == model.model_name())
            .map(|(id, _, _)| *id)
        else {
            continue;
        };
        for perm in model.permissions() {
            if have.contains(&(ct, perm.codename.clone())) {
                continue;
            }
            tx.execute(
                &INSERT_PERMISSION,
                &[
                    perm.name.as_str().into(),
                    ct.into(),
                    perm.codename.as_str().into(),
                ],
            )
            .await?;
            have.insert((ct, perm.codename));
            created += 1;
        }
    }
    tx.commit().await?;
    Ok((created_cts, created))
}

impl Store {
    /// Every permission (optionally of one app), sorted by app label, model and codename like Django.
    pub async fn permissions(&self, app_label: Option<&str>) -> Result<Vec<Permission>> {
        let mut perms: Vec<Permission> = self
            .db
            .fetch_all(&PERMISSIONS, &[])
            .await?
            .iter()
            .map(|r| {
                Ok(Permission {
                    id: r.int("id")?,
                    name: r.text("name")?,
                    app_label: r.text("app_label")?,
                    model: r.text("model")?,
                    codename: r.text("codename")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if let Some(app) = app_label {
            perms.retain(|p| p.app_label == app);
        }
        perms.sort_by(|a, b| {
            (&a.app_label, &a.model, &a.codename).cmp(&(&b.app_label, &b.model, &b.codename))
        });
        Ok(perms)
    }

    /// Creates a custom permission at run time (Django's `Permission.objects.create`), on the content type
    /// `(app_label, model)`, which is created if it does not exist yet.
    pub async fn create_permission(
        &self,
        perm: &str,
        model: &str,
        name: &str,
    ) -> Result<Permission> {
        let parsed = PermName::parse(perm)?;
        validate_identifier("app label", parsed.app_label())?;
        validate_new_codename(parsed.codename())?;
        validate_identifier("model name", model)?;
        validate_permission_name(name)?;
        let (app, codename) = (parsed.app_label().to_owned(), parsed.codename().to_owned());
        let model = model.to_lowercase();
        let mut tx = self.db.begin().await?;
        let ct = match content_type_id(&mut tx, &app, &model).await? {
            Some(ct) => ct,
            None => insert_content_type(&mut tx, &app, &model).await?,
        };
        let existing = permission_rows(&mut tx).await?;
        if existing
            .iter()
            .any(|r| r.app_label == app && r.codename == codename)
        {
            return Err(Error::AlreadyExists {
                what: "permission",
                message: format!("permission {perm:?} already exists"),
            });
        }
        tx.execute(
            &INSERT_PERMISSION,
            &[name.into(), ct.into(), codename.as_str().into()],
        )
        .await?;
        let id = tx
            .fetch_one(&PERMISSION_ID, &[ct.into(), codename.as_str().into()])
            .await?
            .int("id")?;
        let after = json(&serde_json::json!({ "model": &model, "name": name }));
        self.audit(
            &mut tx,
            "permission.create",
            "permission",
            perm,
            None,
            after,
        )
        .await?;
        tx.commit().await?;
        self.after_write();
        Ok(Permission {
            id,
            name: name.to_owned(),
            app_label: app,
            model,
            codename,
        })
    }

    /// Deletes every permission row named `perm` and, as Django's cascade does, its grants to users and
    /// groups. Returns the number of permission rows deleted.
    pub async fn delete_permission(&self, perm: &str) -> Result<usize> {
        let names = [perm.to_owned()];
        let mut tx = self.db.begin().await?;
        let rows = permission_rows(&mut tx).await?;
        let ids = resolve(&rows, &names)?.concat();
        let before = json(&serde_json::json!({ "rows": ids.len() }));
        self.audit(
            &mut tx,
            "permission.delete",
            "permission",
            perm,
            before,
            None,
        )
        .await?;
        for id in &ids {
            self.delete_object_grants(&mut tx, crate::object_perms::GrantsOf::Permission(*id))
                .await?;
            tx.execute(&DELETE_USER_GRANTS_OF, &[(*id).into()]).await?;
            tx.execute(&DELETE_GROUP_GRANTS_OF, &[(*id).into()]).await?;
            tx.execute(&DELETE_PERMISSION, &[(*id).into()]).await?;
        }
        tx.commit().await?;
        self.after_write();
        Ok(ids.len())
    }

    /// Creates the missing content types and permissions of the registry's models (Django's
    /// `create_contenttypes` + `create_permissions`). Returns (content types, permissions) created.
    pub async fn ensure_models(&self, registry: &Registry) -> Result<(usize, usize)> {
        let created = ensure_registry(&self.db, registry).await?;
        self.after_write();
        Ok(created)
    }

    /// Checks that every name is an existing permission, with the closest real name for a typo.
    pub async fn resolve_permissions(&self, names: &[String]) -> Result<()> {
        let rows = permission_rows(&mut &self.db).await?;
        resolve(&rows, names).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<PermissionRow> {
        vec![
            PermissionRow {
                id: 1,
                app_label: "bookshelf".into(),
                codename: "add_book".into(),
            },
            PermissionRow {
                id: 2,
                app_label: "bookshelf".into(),
                codename: "add_book".into(),
            },
            PermissionRow {
                id: 3,
                app_label: "auth".into(),
                codename: "do.thing".into(),
            },
        ]
    }

    #[test]
    fn resolves_every_row_of_a_name() {
        let got = resolve(
            &rows(),
            &["bookshelf.add_book".into(), "auth.do.thing".into()],
        )
        .unwrap();
        assert_eq!(got, vec![vec![1, 2], vec![3]]);
    }

    #[test]
    fn unknown_names_suggest_the_closest() {
        match resolve(&rows(), &["bookshelf.add_bok".into()]) {
            Err(Error::Input(castellan_core::Error::UnknownPermission { suggestion, .. })) => {
                assert_eq!(suggestion.as_deref(), Some("bookshelf.add_book"))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            resolve(&rows(), &["add_book".into()]),
            Err(Error::Input(
                castellan_core::Error::MalformedPermission { .. }
            ))
        ));
    }
}
