//! Permissions and content types: listing, creating (Django's `create_permissions`), deleting, and
//! resolving `app_label.codename` names to rows.

use castellan_core::index::closest;
use castellan_core::perm::{validate_identifier, validate_new_codename};
use castellan_core::validators::validate_permission_name;
use castellan_core::{PermName, Permission, PermissionRow, Registry};

use crate::audit::{audit, json};
use crate::error::{Error, Result};
use crate::on_pool;
use crate::pool::{Pool, RowExt};
use crate::sqlm::{exec, permission_rows};
use crate::Store;

/// Inserts a content type and returns its id.
macro_rules! insert_content_type {
    ($conn:expr, $d:expr, $app:expr, $model:expr) => {{
        exec!(
            $conn,
            $d,
            "INSERT INTO django_content_type (app_label, model) VALUES (?, ?)",
            $app,
            $model
        );
        let rows = sqlx::query(
            &$d.sql("SELECT id, model FROM django_content_type WHERE app_label = ? AND model = ?"),
        )
        .bind($app)
        .bind($model)
        .fetch_all($conn)
        .await?;
        let mut id = None;
        for r in &rows {
            if r.text("model")? == AsRef::<str>::as_ref($model) {
                id = Some(r.int("id")?);
            }
        }
        id.ok_or_else(|| Error::Schema("a content type just inserted cannot be read back".into()))?
    }};
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
pub(crate) async fn ensure_registry(pool: &Pool, registry: &Registry) -> Result<(usize, usize)> {
    let d = pool.dialect();
    on_pool!(pool, p => {
        let mut tx = p.begin().await?;
        let existing = sqlx::query("SELECT id, app_label, model FROM django_content_type")
            .fetch_all(&mut *tx)
            .await?;
        let mut cts: Vec<(i64, String, String)> = existing
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
                let id = insert_content_type!(&mut *tx, d, &app.label, model);
                cts.push((id, app.label.clone(), model.to_owned()));
                created_cts += 1;
            }
        }
        let existing = sqlx::query("SELECT content_type_id, codename FROM auth_permission")
            .fetch_all(&mut *tx)
            .await?;
        let mut have: std::collections::HashSet<(i64, String)> = existing
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
                exec!(
                    &mut *tx,
                    d,
                    "INSERT INTO auth_permission (name, content_type_id, codename) VALUES (?, ?, ?)",
                    &perm.name,
                    ct,
                    &perm.codename
                );
                have.insert((ct, perm.codename));
                created += 1;
            }
        }
        tx.commit().await?;
        Ok((created_cts, created))
    })
}

impl Store {
    /// Every permission (optionally of one app), sorted by app label, model and codename like Django.
    pub async fn permissions(&self, app_label: Option<&str>) -> Result<Vec<Permission>> {
        let mut perms: Vec<Permission> = on_pool!(&self.pool, p => {
            let rows = sqlx::query(
                "SELECT p.id AS id, p.name AS name, ct.app_label AS app_label, ct.model AS model, p.codename AS codename \
                 FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id",
            )
            .fetch_all(p)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(Permission {
                        id: r.int("id")?,
                        name: r.text("name")?,
                        app_label: r.text("app_label")?,
                        model: r.text("model")?,
                        codename: r.text("codename")?,
                    })
                })
                .collect::<Result<Vec<_>>>()?
        });
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
        let d = self.dialect();
        let id = on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            let rows = sqlx::query(&d.sql("SELECT id, model FROM django_content_type WHERE app_label = ? AND model = ?"))
                .bind(&app)
                .bind(&model)
                .fetch_all(&mut *tx)
                .await?;
            let mut ct = None;
            for r in &rows {
                if r.text("model")? == model {
                    ct = Some(r.int("id")?);
                }
            }
            let ct = match ct {
                Some(ct) => ct,
                None => insert_content_type!(&mut *tx, d, &app, &model),
            };
            let existing = permission_rows!(&mut *tx);
            if existing.iter().any(|r| r.app_label == app && r.codename == codename) {
                return Err(Error::AlreadyExists {
                    what: "permission",
                    message: format!("permission {perm:?} already exists"),
                });
            }
            exec!(
                &mut *tx,
                d,
                "INSERT INTO auth_permission (name, content_type_id, codename) VALUES (?, ?, ?)",
                name,
                ct,
                &codename
            );
            let id = sqlx::query(&d.sql("SELECT id FROM auth_permission WHERE content_type_id = ? AND codename = ?"))
                .bind(ct)
                .bind(&codename)
                .fetch_one(&mut *tx)
                .await?
                .int("id")?;
            audit!(&mut *tx, self, "permission.create", "permission", perm, None,
                json(&serde_json::json!({ "model": &model, "name": name })));
            tx.commit().await?;
            id
        });
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
        let d = self.dialect();
        let names = [perm.to_owned()];
        let n = on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            let rows = permission_rows!(&mut *tx);
            let ids = resolve(&rows, &names)?.concat();
            audit!(&mut *tx, self, "permission.delete", "permission", perm, json(&serde_json::json!({ "rows": ids.len() })), None);
            for id in &ids {
                exec!(&mut *tx, d, "DELETE FROM auth_user_user_permissions WHERE permission_id = ?", *id);
                exec!(&mut *tx, d, "DELETE FROM auth_group_permissions WHERE permission_id = ?", *id);
                exec!(&mut *tx, d, "DELETE FROM auth_permission WHERE id = ?", *id);
            }
            tx.commit().await?;
            ids.len()
        });
        self.after_write();
        Ok(n)
    }

    /// Creates the missing content types and permissions of the registry's models (Django's
    /// `create_contenttypes` + `create_permissions`). Returns (content types, permissions) created.
    pub async fn ensure_models(&self, registry: &Registry) -> Result<(usize, usize)> {
        let created = ensure_registry(&self.pool, registry).await?;
        self.after_write();
        Ok(created)
    }

    /// Checks that every name is an existing permission, with the closest real name for a typo.
    pub async fn resolve_permissions(&self, names: &[String]) -> Result<()> {
        let rows = on_pool!(&self.pool, p => permission_rows!(p));
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
