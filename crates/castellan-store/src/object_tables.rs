//! Where a model's objects live: the table and key column behind a content type, which object
//! checks read to tell an existing object from a stale grant (guardian's rows outlive their
//! objects), and the DDL of guardian's own tables.

use crate::error::{Error, Result};
use crate::object_perms::cast_text;
use crate::sql::{Arg, Db, Dialect, Sql, SqlText};
use crate::Store;

/// Keys looked up per statement.
const CHUNK: usize = 500;

/// The table holding a model's objects and its primary-key column. By default Django's naming:
/// `<app_label>_<model>` keyed by `id` (Django's own models and the user model are known); a model
/// with `Meta.db_table` or another key is named with [`StoreOptions::object_tables`]
/// (`castellan --object-table APP.MODEL=TABLE[:PK]`).
///
/// [`StoreOptions::object_tables`]: crate::StoreOptions::object_tables
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectTable {
    table: String,
    pk: String,
}

impl ObjectTable {
    /// `table` keyed by `pk`. Both are plain SQL names: letters, digits and underscores.
    pub fn new(table: impl Into<String>, pk: impl Into<String>) -> Result<Self> {
        let (table, pk) = (table.into(), pk.into());
        for (what, name) in [("table", &table), ("key column", &pk)] {
            let plain = !name.is_empty()
                && name.len() <= 64
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !plain {
                return Err(Error::Input(castellan_core::Error::InvalidName {
                    what,
                    value: name.clone(),
                    reason: "use letters, digits and underscores (at most 64)".into(),
                }));
            }
        }
        Ok(Self { table, pk })
    }

    /// Parses `APP.MODEL=TABLE[:PK]` (the key defaults to `id`), as the CLI's `--object-table`.
    pub fn parse_mapping(text: &str) -> Result<((String, String), Self)> {
        let bad = || {
            Error::Input(castellan_core::Error::InvalidName {
                what: "object table",
                value: text.to_owned(),
                reason: "write APP_LABEL.MODEL=TABLE or APP_LABEL.MODEL=TABLE:PK".into(),
            })
        };
        let (model, table) = text.split_once('=').ok_or_else(bad)?;
        let model = castellan_core::ObjectRef::parse_model(model)?;
        let (table, pk) = table.split_once(':').unwrap_or((table, "id"));
        Ok((model, Self::new(table, pk)?))
    }

    /// The table.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The key column.
    pub fn pk(&self) -> &str {
        &self.pk
    }

    /// How the key column compares with text keys.
    pub(crate) async fn key_kind(&self, db: &Db) -> Result<KeyKind> {
        let row = db
            .fetch_optional(
                &KEY_TYPE,
                &[self.table.as_str().into(), self.pk.as_str().into()],
            )
            .await?;
        let Some(row) = row else {
            return Err(Error::Schema(format!(
                "there is no table {:?} with a key column {:?}: name the model's table with --object-table APP.MODEL=TABLE[:PK] \
                 (StoreOptions::object_tables)",
                self.table, self.pk
            )));
        };
        let t = row.text("t")?.to_ascii_lowercase();
        Ok(if t.contains("int") {
            KeyKind::Integer
        } else if t.contains("char") || t.contains("text") || t.contains("clob") {
            KeyKind::Text
        } else {
            KeyKind::Other
        })
    }

    /// Every object's key as text, in key order.
    pub(crate) async fn every(&self, db: &Db) -> Result<Vec<String>> {
        let kind = self.key_kind(db).await?;
        let d = db.dialect();
        let mut q = SqlText::new(d);
        q.once().push(&format!(
            "SELECT {} AS pk FROM {}",
            cast_text(d, &d.quote(&self.pk)),
            d.quote(&self.table)
        ));
        let mut keys = Vec::new();
        for r in db.fetch_all(&q, &[]).await? {
            keys.push(r.text("pk")?);
        }
        kind.sort(&mut keys);
        Ok(keys)
    }

    /// Those of `keys` (text, as guardian stores them) that name an existing object, compared as
    /// text, in key order.
    pub(crate) async fn existing(&self, db: &Db, keys: &[String]) -> Result<Vec<String>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let kind = self.key_kind(db).await?;
        let d = db.dialect();
        let (table, pk) = (d.quote(&self.table), d.quote(&self.pk));
        let ints: Vec<i64>;
        let args: Vec<Arg<'_>> = match kind {
            // A key that is not an integer's canonical text names no object of an integer table.
            KeyKind::Integer => {
                ints = keys
                    .iter()
                    .filter_map(|k| k.parse::<i64>().ok().filter(|n| n.to_string() == *k))
                    .collect();
                ints.iter().map(|n| Arg::Int(*n)).collect()
            }
            KeyKind::Text | KeyKind::Other => keys.iter().map(|k| Arg::Text(k)).collect(),
        };
        let column = match kind {
            KeyKind::Integer | KeyKind::Text => pk.clone(),
            KeyKind::Other => cast_text(d, &pk),
        };
        let mut found = Vec::new();
        for chunk in args.chunks(CHUNK) {
            let mut q = SqlText::new(d);
            q.once()
                .push(&format!(
                    "SELECT {} AS pk FROM {table} WHERE {column} IN (",
                    cast_text(d, &pk)
                ))
                .params(chunk.len())
                .push(")");
            for r in db.fetch_all(&q, chunk).await? {
                let key = r.text("pk")?;
                // Text compares exactly here whatever the collation (MariaDB ignores case and
                // trailing spaces).
                if keys.contains(&key) {
                    found.push(key);
                }
            }
        }
        kind.sort(&mut found);
        found.dedup();
        Ok(found)
    }
}

/// How a key column compares with guardian's text keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// An integer column: only canonical integer text can match, and it is compared as a number.
    Integer,
    /// A text column: compared as text.
    Text,
    /// Anything else (a UUID, say): the column is cast to text.
    Other,
}

impl KeyKind {
    fn sort(self, keys: &mut [String]) {
        match self {
            Self::Integer => keys.sort_by_key(|k| k.parse::<i64>().unwrap_or(i64::MAX)),
            Self::Text | Self::Other => keys.sort(),
        }
    }
}

/// The declared type of a table's column.
const KEY_TYPE: Sql = Sql::per_dialect(
    "SELECT type AS t FROM pragma_table_info(?) WHERE name = ?",
    "SELECT data_type AS t FROM information_schema.columns \
     WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2",
    "SELECT CAST(data_type AS CHAR) AS t FROM information_schema.columns \
     WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?",
);

/// The statements of this module.
#[cfg(test)]
pub(crate) const STATEMENTS: &[Sql] = &[KEY_TYPE];

impl Store {
    /// The table and key of `app_label.model`'s objects: the mapping given in
    /// [`StoreOptions::object_tables`](crate::StoreOptions::object_tables), Django's own tables for
    /// its models and the user model, else `<app_label>_<model>` keyed by `id`.
    pub fn object_table(&self, app_label: &str, model: &str) -> ObjectTable {
        if let Some(t) = self
            .object_tables
            .iter()
            .find(|((a, m), _)| a == app_label && m == model)
        {
            return t.1.clone();
        }
        let users = self.users.model();
        let known = if app_label == users.app_label() && model == users.model_name() {
            Some(self.users.table())
        } else {
            match (app_label, model) {
                ("auth", "group") => Some("auth_group"),
                ("auth", "permission") => Some("auth_permission"),
                ("contenttypes", "contenttype") => Some("django_content_type"),
                _ => None,
            }
        };
        ObjectTable {
            table: known.map_or_else(|| format!("{app_label}_{model}"), str::to_owned),
            pk: "id".into(),
        }
    }
}

/// The statements that create guardian's two tables in the state its migrations 0001–0003 leave
/// them on this database, the user column typed `user_fk` and referencing `user_table`.
pub(crate) fn guardian_ddl(d: Dialect, user_fk: &str, user_table: &str) -> Vec<String> {
    let mut out = Vec::new();
    // (table, holder column, holder type, holder table, hash of the unique constraint, holder fk
    // index hash, content type index hash, permission index hash, 0003 index names)
    let specs = [
        (
            "guardian_userobjectpermission",
            "user_id",
            user_fk,
            user_table,
            ["b0b3d2fc", "d5c1e964", "2e892405", "71807bfc"],
            [
                "guardian_us_permiss_e5749c_idx",
                "guardian_us_user_id_8eae14_idx",
            ],
        ),
        (
            "guardian_groupobjectpermission",
            "group_id",
            "integer",
            "auth_group",
            ["3f189f7c", "4bbbfb62", "7ade36b8", "36572738"],
            [
                "guardian_gr_permiss_83545c_idx",
                "guardian_gr_group_i_9e7d12_idx",
            ],
        ),
    ];
    for (
        table,
        holder,
        holder_type,
        holder_table,
        [uniq, holder_ix, ct_ix, perm_ix],
        [perm_all, holder_all],
    ) in specs
    {
        match d {
            Dialect::Sqlite => {
                out.push(format!(
                    "CREATE TABLE \"{table}\" (\"id\" integer NOT NULL PRIMARY KEY AUTOINCREMENT, \"object_pk\" varchar(255) NOT NULL, \
                     \"content_type_id\" integer NOT NULL REFERENCES \"django_content_type\" (\"id\") DEFERRABLE INITIALLY DEFERRED, \
                     \"permission_id\" integer NOT NULL REFERENCES \"auth_permission\" (\"id\") DEFERRABLE INITIALLY DEFERRED, \
                     \"{holder}\" {holder_type} NOT NULL REFERENCES \"{holder_table}\" (\"id\") DEFERRABLE INITIALLY DEFERRED)"
                ));
                out.push(format!(
                    "CREATE UNIQUE INDEX \"{table}_{holder}_permission_id_object_pk_{uniq}_uniq\" ON \"{table}\" (\"{holder}\", \"permission_id\", \"object_pk\")"
                ));
                out.push(format!("CREATE INDEX \"{table}_content_type_id_{ct_ix}\" ON \"{table}\" (\"content_type_id\")"));
                out.push(format!(
                    "CREATE INDEX \"{table}_{holder}_{holder_ix}\" ON \"{table}\" (\"{holder}\")"
                ));
                out.push(format!("CREATE INDEX \"{table}_permission_id_{perm_ix}\" ON \"{table}\" (\"permission_id\")"));
            }
            Dialect::Postgres => {
                out.push(format!(
                    "CREATE TABLE \"{table}\" (\"id\" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, \"object_pk\" varchar(255) NOT NULL, \
                     \"content_type_id\" integer NOT NULL, \"permission_id\" integer NOT NULL, \"{holder}\" {holder_type} NOT NULL)"
                ));
                out.push(format!(
                    "ALTER TABLE \"{table}\" ADD CONSTRAINT \"{}_uniq\" UNIQUE (\"{holder}\", \"permission_id\", \"object_pk\")",
                    short(&format!("{table}_{holder}_permission_id_object_pk"), uniq)
                ));
                for (column, target, hash) in [
                    ("content_type_id", "django_content_type", ct_ix),
                    ("permission_id", "auth_permission", perm_ix),
                    (holder, holder_table, holder_ix),
                ] {
                    out.push(format!(
                        "ALTER TABLE \"{table}\" ADD CONSTRAINT \"{table}_{column}_{hash}_fk\" FOREIGN KEY (\"{column}\") REFERENCES \"{target}\" (\"id\") DEFERRABLE INITIALLY DEFERRED"
                    ));
                    out.push(format!(
                        "CREATE INDEX \"{table}_{column}_{hash}\" ON \"{table}\" (\"{column}\")"
                    ));
                }
            }
            Dialect::MySql => {
                out.push(format!(
                    "CREATE TABLE `{table}` (`id` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, `object_pk` varchar(255) NOT NULL, \
                     `content_type_id` integer NOT NULL, `permission_id` integer NOT NULL, `{holder}` {holder_type} NOT NULL, \
                     UNIQUE KEY `{}_uniq` (`{holder}`, `permission_id`, `object_pk`), \
                     CONSTRAINT `{table}_ct_{ct_ix}_fk` FOREIGN KEY (`content_type_id`) REFERENCES `django_content_type` (`id`), \
                     CONSTRAINT `{table}_perm_{perm_ix}_fk` FOREIGN KEY (`permission_id`) REFERENCES `auth_permission` (`id`), \
                     CONSTRAINT `{table}_{holder}_{holder_ix}_fk` FOREIGN KEY (`{holder}`) REFERENCES `{holder_table}` (`id`)) ENGINE=InnoDB",
                    short(&format!("{table}_{holder}_permission_id"), uniq)
                ));
            }
        }
        let q = |name: &str| d.quote(name);
        out.push(format!(
            "CREATE INDEX {} ON {} ({}, {}, {}, {})",
            q(perm_all),
            q(table),
            q("permission_id"),
            q(holder),
            q("content_type_id"),
            q("object_pk")
        ));
        out.push(format!(
            "CREATE INDEX {} ON {} ({}, {}, {})",
            q(holder_all),
            q(table),
            q(holder),
            q("content_type_id"),
            q("object_pk")
        ));
    }
    out
}

/// A constraint name within 63 characters (PostgreSQL's limit), ending with its hash.
fn short(base: &str, hash: &str) -> String {
    let keep = 63 - "_uniq".len() - hash.len() - 1;
    let base: String = base.chars().take(keep).collect();
    format!("{base}_{hash}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings_parse_and_refuse_sql() {
        let ((app, model), t) = ObjectTable::parse_mapping("shop.item=shop_items:code").unwrap();
        assert_eq!((app.as_str(), model.as_str()), ("shop", "item"));
        assert_eq!((t.table(), t.pk()), ("shop_items", "code"));
        let (_, t) = ObjectTable::parse_mapping("shop.item=items").unwrap();
        assert_eq!(t.pk(), "id");
        for bad in [
            "shop.item",
            "shop.item=a;drop",
            "shop=x",
            "shop.item=x:\"y\"",
            "shop.item=",
        ] {
            assert!(ObjectTable::parse_mapping(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn constraint_names_fit_postgres() {
        let n = short(
            "guardian_groupobjectpermission_group_id_permission_id_object_pk",
            "3f189f7c",
        );
        assert!(n.len() + "_uniq".len() <= 63);
        assert!(n.ends_with("_3f189f7c"));
    }
}
