//! The role × permission matrix ("document your permission system"): which groups, the anonymous
//! user, a superuser and chosen users hold which permissions, read from the live database.
//!
//! The store only assembles the data ([`Matrix`]); rendering it (Markdown, CSV, JSON, HTML) is the
//! caller's business.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::sql::Sql;
use crate::Store;

/// Every group's grants, by group name.
const GROUP_GRANTS: Sql = crate::sql!(
    "SELECT g.name AS name, gp.permission_id AS permission_id FROM auth_group g \
     JOIN auth_group_permissions gp ON gp.group_id = g.id"
);

/// The statements of this module.
#[cfg(test)]
pub(crate) const STATEMENTS: &[Sql] = &[GROUP_GRANTS];

/// One permission column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatrixColumn {
    /// `app_label.codename`.
    pub permission: String,
    /// The content type's app label (the first header level).
    pub app_label: String,
    /// The content type's model (the second header level).
    pub model: String,
    /// The codename.
    pub codename: String,
    /// The human-readable name, e.g. `Can add book`.
    pub name: String,
}

/// What a row stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowKind {
    /// The anonymous user (the model backend grants it nothing).
    Anonymous,
    /// A group: the permissions granted to it.
    Group,
    /// Any active superuser: every permission.
    Superuser,
    /// A named user: the effective permissions (direct ∪ groups; none when inactive).
    User,
}

/// One row of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatrixRow {
    /// What the row stands for.
    pub kind: RowKind,
    /// The group name or username (`Anonymous` and `Superuser` for those rows).
    pub name: String,
    /// One flag per column of [`Matrix::columns`], in order.
    pub granted: Vec<bool>,
}

/// The role × permission matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Matrix {
    /// The permission columns, sorted by app label, model and codename.
    pub columns: Vec<MatrixColumn>,
    /// Anonymous, then every group by name, then Superuser, then the named users in the order given.
    pub rows: Vec<MatrixRow>,
}

impl RowKind {
    /// The kind's name, as it is serialized: `anonymous`, `group`, `superuser` or `user`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anonymous => "anonymous",
            Self::Group => "group",
            Self::Superuser => "superuser",
            Self::User => "user",
        }
    }
}

impl Matrix {
    /// The consecutive runs of columns that share `key` (the spans of a grouped header, e.g. by
    /// app label, then by app label and model): `(key, first column index, number of columns)`.
    pub fn column_runs<'a, K: PartialEq>(
        &'a self,
        key: impl Fn(&'a MatrixColumn) -> K,
    ) -> Vec<(K, usize, usize)> {
        let mut out: Vec<(K, usize, usize)> = Vec::new();
        for (i, c) in self.columns.iter().enumerate() {
            let k = key(c);
            match out.last_mut() {
                Some((last, _, len)) if *last == k => *len += 1,
                _ => out.push((k, i, 1)),
            }
        }
        out
    }
}

impl Store {
    /// Builds the matrix for every permission (of `app_label` only, when given), every group, and
    /// the named `users` (an unknown username is [`Error::NotFound`]).
    pub async fn matrix(&self, users: &[String], app_label: Option<&str>) -> Result<Matrix> {
        let perms = self.permissions(app_label).await?;
        let mut groups: Vec<String> = self.groups().await?.into_iter().map(|g| g.name).collect();
        groups.sort();
        let grants: Vec<(String, i64)> = self
            .db
            .fetch_all(&GROUP_GRANTS, &[])
            .await?
            .iter()
            .map(|r| Ok((r.text("name")?, r.int("permission_id")?)))
            .collect::<Result<Vec<_>>>()?;
        let mut by_group: HashMap<String, HashSet<i64>> = HashMap::new();
        for (group, perm) in grants {
            by_group.entry(group).or_default().insert(perm);
        }

        let columns: Vec<MatrixColumn> = perms
            .iter()
            .map(|p| MatrixColumn {
                permission: p.user_perm_str(),
                app_label: p.app_label.clone(),
                model: p.model.clone(),
                codename: p.codename.clone(),
                name: p.name.clone(),
            })
            .collect();
        let n = columns.len();
        let mut rows = vec![MatrixRow {
            kind: RowKind::Anonymous,
            name: "Anonymous".to_owned(),
            granted: vec![false; n],
        }];
        for g in groups {
            let set = by_group.get(&g);
            rows.push(MatrixRow {
                kind: RowKind::Group,
                granted: perms
                    .iter()
                    .map(|p| set.is_some_and(|s| s.contains(&p.id)))
                    .collect(),
                name: g,
            });
        }
        rows.push(MatrixRow {
            kind: RowKind::Superuser,
            name: "Superuser".to_owned(),
            granted: vec![true; n],
        });
        for u in users {
            let who = self.principal(u).await?.ok_or_else(|| Error::NotFound {
                what: "user",
                name: u.clone(),
            })?;
            rows.push(MatrixRow {
                kind: RowKind::User,
                name: u.clone(),
                granted: columns
                    .iter()
                    .map(|c| who.has_perm(&c.permission))
                    .collect(),
            });
        }
        Ok(Matrix { columns, rows })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(app: &str, model: &str, codename: &str) -> MatrixColumn {
        MatrixColumn {
            permission: format!("{app}.{codename}"),
            app_label: app.into(),
            model: model.into(),
            codename: codename.into(),
            name: codename.into(),
        }
    }

    #[test]
    fn column_runs_group_consecutive_columns_by_key() {
        let m = Matrix {
            columns: vec![
                column("auth", "group", "add_group"),
                column("auth", "group", "view_group"),
                column("auth", "user", "add_user"),
                column("shop", "order", "add_order"),
            ],
            rows: Vec::new(),
        };
        assert_eq!(
            m.column_runs(|c| c.app_label.as_str()),
            vec![("auth", 0, 3), ("shop", 3, 1)]
        );
        assert_eq!(
            m.column_runs(|c| (c.app_label.as_str(), c.model.as_str())),
            vec![
                (("auth", "group"), 0, 2),
                (("auth", "user"), 2, 1),
                (("shop", "order"), 3, 1)
            ]
        );
        assert_eq!(RowKind::Superuser.as_str(), "superuser");
        assert_eq!(
            serde_json::to_value(RowKind::Anonymous).unwrap(),
            RowKind::Anonymous.as_str()
        );
    }
}
