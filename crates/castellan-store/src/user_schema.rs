//! The user model's tables as the database holds them: found when the store opens, not assumed.
//!
//! For Django's `auth.User` nothing is read: Castellan knows the table (and creates it on an empty
//! database). For any other model ([`UserModel`]), the store reads the user table's columns and
//! checks that the two many-to-many tables exist with their user column, then rewrites its own
//! statements to the model's names (see [`sql::rename`](crate::sql::rename)). Castellan never
//! creates a custom user table: Django's migrations own it.

use std::sync::Arc;

use castellan_core::{UserId, UserModel, UserPk};

use crate::error::{Error, Result};
use crate::sql::rename::{Renames, OPTIONAL_COLUMNS};
use crate::sql::{Arg, Db, Dialect, Sql};

/// The columns every user model must have (besides its username field and `id`).
const REQUIRED_COLUMNS: [&str; 3] = ["password", "last_login", "is_superuser"];

/// The columns Castellan reads or writes itself; any other column of the user table is the
/// model's own.
pub(crate) const KNOWN_COLUMNS: [&str; 11] = [
    "id",
    "password",
    "last_login",
    "is_superuser",
    "username",
    "first_name",
    "last_name",
    "email",
    "is_staff",
    "is_active",
    "date_joined",
];

const COLUMNS: Sql = Sql::per_dialect(
    "SELECT name AS name, lower(type) AS type, \
     CASE WHEN \"notnull\" = 0 THEN 1 ELSE 0 END AS nullable, \
     CASE WHEN dflt_value IS NULL AND pk = 0 THEN 0 ELSE 1 END AS has_default, \
     NULL AS max_length \
     FROM pragma_table_info(?) ORDER BY cid",
    "SELECT CAST(column_name AS text) AS name, CAST(data_type AS text) AS type, \
     CASE WHEN is_nullable = 'YES' THEN 1 ELSE 0 END AS nullable, \
     CASE WHEN column_default IS NOT NULL OR is_identity = 'YES' THEN 1 ELSE 0 END AS has_default, \
     CAST(character_maximum_length AS bigint) AS max_length \
     FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 \
     ORDER BY ordinal_position",
    "SELECT CAST(COLUMN_NAME AS CHAR) AS name, CAST(LOWER(DATA_TYPE) AS CHAR) AS type, \
     CASE WHEN IS_NULLABLE = 'YES' THEN 1 ELSE 0 END AS nullable, \
     CASE WHEN COLUMN_DEFAULT IS NOT NULL OR EXTRA LIKE '%auto_increment%' THEN 1 ELSE 0 END AS has_default, \
     CAST(CHARACTER_MAXIMUM_LENGTH AS SIGNED) AS max_length \
     FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? \
     ORDER BY ORDINAL_POSITION",
);

/// The statements of this module.
#[cfg(test)]
pub(crate) const STATEMENTS: &[Sql] = &[COLUMNS];

/// What kind of values a column holds, as far as Castellan needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ColumnKind {
    /// Integers (also MariaDB's `tinyint(1)` booleans).
    Integer,
    /// Booleans.
    Boolean,
    /// Text.
    Text,
    /// A UUID (`uuid`, or Django's `char(32)` on SQLite and MySQL).
    Uuid,
    /// Dates and times.
    Timestamp,
    /// Anything else.
    Other,
}

impl ColumnKind {
    /// The kind of a column of `data_type` holding at most `max_length` characters: a UUID is
    /// `uuid`, or Django's `char(32)` on SQLite (whose type says the length) and MySQL (whose
    /// `DATA_TYPE` says `char`, the length coming apart).
    fn of(data_type: &str, max_length: Option<u64>, dialect: Dialect) -> Self {
        let t = data_type.to_ascii_lowercase();
        let char32 = t.starts_with("char(32)") || (t == "char" && max_length == Some(32));
        if t == "uuid" || (dialect != Dialect::Postgres && char32) {
            Self::Uuid
        } else if t.starts_with("bool") {
            Self::Boolean
        } else if t.contains("int") {
            Self::Integer
        } else if t.contains("char") || t.contains("text") || t.contains("clob") {
            Self::Text
        } else if t.contains("date") || t.contains("time") {
            Self::Timestamp
        } else {
            Self::Other
        }
    }
}

/// One column of the user table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserColumn {
    /// The column's name.
    pub name: String,
    /// The database's type name, as the database reports it.
    pub data_type: String,
    /// What it holds.
    pub kind: ColumnKind,
    /// Whether it takes NULL.
    pub nullable: bool,
    /// Whether the database fills it when an insert leaves it out (a default, an identity).
    pub has_default: bool,
    /// The most characters it holds (`varchar(N)`, `char(N)`), when the type says.
    pub max_length: Option<u64>,
}

impl UserColumn {
    /// Refuses a text longer than the column holds, as Django's `MaxLengthValidator` words it
    /// (SQLite would store it; PostgreSQL and MariaDB would refuse it, or cut it).
    pub fn check_length(&self, value: &str) -> Result<()> {
        let n = value.chars().count() as u64;
        match self.max_length {
            Some(max) if n > max => Err(Error::UserModel(format!(
                "the user field {}: Ensure this value has at most {max} characters (it has {n}).",
                self.name
            ))),
            _ => Ok(()),
        }
    }

    /// Whether an insert must give it a value (NOT NULL and no default).
    pub fn required(&self) -> bool {
        !self.nullable && !self.has_default
    }

    /// `value` (as typed on a command line or in a form) as an argument for this column, or why
    /// it cannot be one.
    pub fn arg<'a>(&self, value: &'a str) -> Result<Arg<'a>> {
        let bad = |expected: &str| {
            Error::UserModel(format!(
                "{value:?} is not a valid value for the user field {}: expected {expected}",
                self.name
            ))
        };
        match self.kind {
            ColumnKind::Text => {
                self.check_length(value)?;
                Ok(Arg::from(value))
            }
            ColumnKind::Integer => match value {
                "true" | "True" => Ok(Arg::from(1i64)),
                "false" | "False" => Ok(Arg::from(0i64)),
                _ => value.parse::<i64>().map(Arg::from).map_err(|_| bad("an integer")),
            },
            ColumnKind::Boolean => match value {
                "true" | "True" | "1" => Ok(Arg::from(true)),
                "false" | "False" | "0" => Ok(Arg::from(false)),
                _ => Err(bad("true or false")),
            },
            _ => Err(Error::UserModel(format!(
                "the user field {} is of type {}, which Castellan cannot fill; give it a database default or fill it from Django",
                self.name, self.data_type
            ))),
        }
    }
}

/// The user model as this database holds it.
#[derive(Debug, Clone)]
pub struct UserSchema {
    model: UserModel,
    table: String,
    groups_table: String,
    permissions_table: String,
    /// The user table's columns (empty for `auth.User`, whose columns Castellan knows).
    columns: Vec<UserColumn>,
    /// The optional columns the model does not have.
    absent: Vec<&'static str>,
    /// The kind of primary key.
    pk: UserPk,
    /// The SQL type of a column referencing the key (see [`UserSchema::foreign_key_type`]).
    fk_type: &'static str,
    renames: Arc<Renames>,
    /// The renames for statements on django-guardian's tables, whose own user column is
    /// `user_id` whatever the model: the user tables and `username` as for the store's other
    /// statements, and the many-to-many column written `guardian_member_id`.
    guardian_renames: Arc<Renames>,
}

impl UserSchema {
    /// Django's `auth.User`, as Castellan creates it.
    pub(crate) fn django() -> Self {
        let model = UserModel::django();
        Self {
            table: model.table(),
            groups_table: model.groups_table(None),
            permissions_table: model.permissions_table(None),
            renames: Arc::new(Renames::new(&model.to_string(), [], &[])),
            guardian_renames: Arc::new(Renames::new(
                &model.to_string(),
                [("guardian_member_id", "user_id".to_owned())],
                &[],
            )),
            model,
            columns: Vec::new(),
            absent: Vec::new(),
            pk: UserPk::Integer,
            fk_type: "integer",
        }
    }

    /// Reads the tables of `model` (nothing for `auth.User`), or says what does not fit.
    pub(crate) async fn discover(db: &Db, model: &UserModel) -> Result<Self> {
        if model.is_django_default() {
            return Ok(Self::django());
        }
        let dialect = db.dialect();
        let max = match dialect {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some(63),
            Dialect::MySql => Some(64),
        };
        let table = model.table();
        let groups_table = model.groups_table(max);
        let permissions_table = model.permissions_table(max);
        let user_column = model.user_column();
        let columns = columns(db, &table).await?;
        if columns.is_empty() {
            return Err(Error::UserModel(format!(
                "the user model {model} has no table {table} in this database. Run the Django project's `manage.py migrate` first \
                 (Castellan never creates a custom user table), check --user-model, or give --user-table when the model sets Meta.db_table"
            )));
        }
        let has = |name: &str| columns.iter().any(|c| c.name == name);
        let mut missing: Vec<&str> = REQUIRED_COLUMNS.into_iter().filter(|c| !has(c)).collect();
        if !has(model.username_field()) {
            return Err(Error::UserModel(format!(
                "the user table {table} of {model} has no column {:?} for the username field; give its USERNAME_FIELD with --username-field",
                model.username_field()
            )));
        }
        if !has("id") {
            missing.push("id");
        }
        if !missing.is_empty() {
            return Err(Error::UserModel(format!(
                "the user table {table} of {model} lacks the column(s) {} that AbstractBaseUser and PermissionsMixin give every user model \
                 (a primary key named id, password, last_login, is_superuser)",
                missing.join(", ")
            )));
        }
        let id = columns.iter().find(|c| c.name == "id");
        let pk = match id {
            Some(c) if c.kind == ColumnKind::Uuid => UserPk::Uuid,
            Some(c) if c.kind != ColumnKind::Integer => {
                return Err(Error::UserModel(format!(
                    "the primary key of {model} ({table}.id) is of type {}; Castellan serves integer and UUID primary keys",
                    c.data_type
                )));
            }
            _ => UserPk::Integer,
        };
        let id_type = id
            .map_or("integer", |c| c.data_type.as_str())
            .to_ascii_lowercase();
        let fk_type = match (pk, dialect) {
            (UserPk::Integer, _) if id_type.contains("big") => "bigint",
            (UserPk::Integer, _) => "integer",
            (UserPk::Uuid, Dialect::Postgres) => "uuid",
            (UserPk::Uuid, Dialect::MySql) if id_type == "uuid" => "uuid",
            (UserPk::Uuid, _) => "char(32)",
        };
        for m2m in [&groups_table, &permissions_table] {
            let cols = self::columns(db, m2m).await?;
            if !cols.iter().any(|c| c.name == user_column) {
                return Err(Error::UserModel(format!(
                    "the user model {model} needs the table {m2m} with a column {user_column} (PermissionsMixin's many-to-many table); \
                     the model must use PermissionsMixin, and the Django project must be migrated"
                )));
            }
        }
        let absent: Vec<&'static str> = OPTIONAL_COLUMNS
            .iter()
            .map(|(c, _)| *c)
            .filter(|c| !has(c) && *c != model.username_field())
            .collect();
        let guardian_renames = Renames::new(
            &model.to_string(),
            [
                ("auth_user", table.clone()),
                ("auth_user_groups", groups_table.clone()),
                ("guardian_member_id", user_column.clone()),
                ("username", model.username_field().to_owned()),
            ],
            &absent,
        );
        let renames = Renames::new(
            &model.to_string(),
            [
                ("auth_user", table.clone()),
                ("auth_user_groups", groups_table.clone()),
                ("auth_user_user_permissions", permissions_table.clone()),
                ("user_id", user_column),
                ("username", model.username_field().to_owned()),
            ],
            &absent,
        );
        Ok(Self {
            model: model.clone(),
            table,
            groups_table,
            permissions_table,
            columns,
            absent,
            pk,
            fk_type,
            renames: Arc::new(renames),
            guardian_renames: Arc::new(guardian_renames),
        })
    }

    /// The kind of primary key: an integer the database numbers, or a UUID Castellan makes for
    /// a new user (Django's `default=uuid.uuid4`).
    pub fn pk(&self) -> UserPk {
        self.pk
    }

    /// The SQL type an application's column referencing a user takes on this database — what
    /// Django declares for a `ForeignKey(settings.AUTH_USER_MODEL)`: `integer` or `bigint` for an
    /// integer key (as the key's own column), `uuid` for a UUID key on PostgreSQL and MariaDB,
    /// `char(32)` on SQLite and MySQL.
    pub fn foreign_key_type(&self) -> &'static str {
        self.fk_type
    }

    /// The key a new user gets from Castellan: a fresh UUID for a UUID key (Django's
    /// `default=uuid.uuid4`), `None` for an integer key (the database numbers the row).
    pub(crate) fn new_id(&self) -> Result<Option<UserId>> {
        match self.pk {
            UserPk::Integer => Ok(None),
            UserPk::Uuid => UserId::new_uuid().map(Some).map_err(|e| {
                Error::Task(format!(
                    "cannot make a UUID for a new user: the system's random source failed: {e}"
                ))
            }),
        }
    }

    /// The model.
    pub fn model(&self) -> &UserModel {
        &self.model
    }

    /// The user table.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The group memberships' table.
    pub fn groups_table(&self) -> &str {
        &self.groups_table
    }

    /// The direct permissions' table.
    pub fn permissions_table(&self) -> &str {
        &self.permissions_table
    }

    /// Whether the model has the column `name` (for `auth.User`, one of its own).
    pub fn has_column(&self, name: &str) -> bool {
        if self.columns.is_empty() {
            KNOWN_COLUMNS.contains(&name)
        } else {
            self.columns.iter().any(|c| c.name == name)
        }
    }

    /// The first column of `values` — each a column and whether a value other than Django's
    /// default is given for it — that the model does not have: a value it cannot hold.
    pub(crate) fn unheld<'c>(&self, values: &[(&'c str, bool)]) -> Option<&'c str> {
        values
            .iter()
            .find(|(column, given)| *given && !self.has_column(column))
            .map(|(column, _)| *column)
    }

    /// Whether the model has `is_staff`. Without it nobody is staff, as Django's admin sees
    /// such a model, so nobody can use the admin.
    pub fn has_staff_flag(&self) -> bool {
        !self.absent.contains(&"is_staff")
    }

    /// Whether the model has `is_active`. Without it every user is active (`AbstractBaseUser`).
    pub fn has_active_flag(&self) -> bool {
        !self.absent.contains(&"is_active")
    }

    /// How Django's forms label a user field: `email` is "Email address", any other its name
    /// with spaces, capitalised (`display_name` → "Display name").
    pub fn field_label(field: &str) -> String {
        if field == "email" {
            return "Email address".into();
        }
        let spaced = field.replace('_', " ");
        let mut chars = spaced.chars();
        chars.next().map_or_else(String::new, |c| {
            c.to_uppercase().chain(chars).collect::<String>()
        })
    }

    /// The permission `action` (`add`, `change`, `delete`, `view`) on the user model, as Django
    /// names it: `auth.change_user`, or `staff.change_person` for a project's own model.
    pub fn permission(&self, action: &str) -> String {
        format!(
            "{}.{action}_{}",
            self.model.app_label(),
            self.model.model_name()
        )
    }

    /// The model's own columns (those Castellan does not manage), in table order.
    pub fn extra_columns(&self) -> impl Iterator<Item = &UserColumn> {
        self.columns.iter().filter(|c| {
            !KNOWN_COLUMNS.contains(&c.name.as_str()) && c.name != self.model.username_field()
        })
    }

    /// The model's own columns a new user must be given a value for (NOT NULL, no default):
    /// what Django's `REQUIRED_FIELDS` usually lists.
    pub fn required_fields(&self) -> impl Iterator<Item = &UserColumn> {
        self.extra_columns().filter(|c| c.required())
    }

    /// A column of the user table, by name (`None` for `auth.User`, whose columns Castellan
    /// knows without reading them).
    pub fn column(&self, name: &str) -> Option<&UserColumn> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// One of the model's own columns, by name.
    pub fn extra_column(&self, name: &str) -> Option<&UserColumn> {
        self.extra_columns().find(|c| c.name == name)
    }

    pub(crate) fn renames(&self) -> Arc<Renames> {
        self.renames.clone()
    }

    /// The renames of statements on django-guardian's tables (see the field).
    pub(crate) fn guardian_renames(&self) -> Arc<Renames> {
        self.guardian_renames.clone()
    }
}

/// The length a type declares for text (`varchar(100)` → 100): SQLite reports only the type.
fn declared_length(data_type: &str) -> Option<u64> {
    let t = data_type.to_ascii_lowercase();
    if !t.contains("char") {
        return None;
    }
    let (_, rest) = t.split_once('(')?;
    rest.split_once(')')?.0.trim().parse().ok()
}

/// The columns of `table` (none when there is no such table).
async fn columns(db: &Db, table: &str) -> Result<Vec<UserColumn>> {
    let dialect = db.dialect();
    db.fetch_all(&COLUMNS, &[table.into()])
        .await?
        .iter()
        .map(|r| {
            let data_type = r.text("type")?;
            let max_length = match r.opt_int("max_length")? {
                Some(n) => u64::try_from(n).ok(),
                None => declared_length(&data_type),
            };
            Ok(UserColumn {
                max_length,
                name: r.text("name")?,
                kind: ColumnKind::of(&data_type, max_length, dialect),
                data_type,
                nullable: r.int("nullable")? != 0,
                has_default: r.int("has_default")? != 0,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_keys_are_recognised_on_every_database() {
        assert_eq!(
            ColumnKind::of("uuid", None, Dialect::Postgres),
            ColumnKind::Uuid
        );
        assert_eq!(
            ColumnKind::of("uuid", None, Dialect::MySql),
            ColumnKind::Uuid
        );
        assert_eq!(
            ColumnKind::of("char(32)", None, Dialect::Sqlite),
            ColumnKind::Uuid
        );
        assert_eq!(
            ColumnKind::of("char", Some(32), Dialect::MySql),
            ColumnKind::Uuid
        );
        assert_eq!(
            ColumnKind::of("char", Some(40), Dialect::MySql),
            ColumnKind::Text
        );
        assert_eq!(
            ColumnKind::of("character", Some(32), Dialect::Postgres),
            ColumnKind::Text
        );
    }

    #[test]
    fn lengths_come_from_the_declared_type() {
        assert_eq!(declared_length("varchar(100)"), Some(100));
        assert_eq!(declared_length("CHAR(32)"), Some(32));
        assert_eq!(declared_length("varchar"), None);
        assert_eq!(declared_length("text"), None);
        assert_eq!(declared_length("decimal(10, 2)"), None);
    }

    #[test]
    fn a_value_longer_than_the_column_is_refused() {
        let column = UserColumn {
            name: "display_name".into(),
            data_type: "varchar(5)".into(),
            kind: ColumnKind::Text,
            nullable: false,
            has_default: false,
            max_length: Some(5),
        };
        assert!(column.arg("héllo").is_ok(), "five characters, six bytes");
        let err = column.arg("hello!").unwrap_err().to_string();
        assert!(err.contains("at most 5 characters (it has 6)"), "{err}");
    }
}
