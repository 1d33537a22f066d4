//! Databases of Django projects with their own user model (`AUTH_USER_MODEL`): the schema Django
//! 6.1 migrates for each of the test projects in `interop/custom_user/`, loaded into a fresh
//! [`TestDb`], and a [`Store`] opened on it with that model.
//!
//! The fixtures are the statements a real `manage.py migrate` runs (see
//! `interop/custom_user/README.md`, which also says how to regenerate them).

use castellan_core::{Registry, UserModel};
use castellan_store::{Store, StoreOptions};

use crate::{Kind, TestDb};

/// One of the test projects' user models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomUser {
    /// `people.Account(AbstractUser)` plus a nullable `bio`: Django's columns under other names.
    Account,
    /// `staff.Person`: `AbstractBaseUser` + `PermissionsMixin`, `email` as the username field, a
    /// required `display_name`, no `is_staff`, names or `date_joined`.
    Person,
    /// `accounts.Member`: `AbstractBaseUser` + `PermissionsMixin` with a UUID primary key
    /// (`uuid` on PostgreSQL and MariaDB, `char(32)` on SQLite), `email` as the username field, a
    /// required `display_name`, `is_staff`, names, `date_joined` and a `favourite_colour` whose
    /// default lives in Python only (NOT NULL without a database default).
    Member,
    /// `accounts.Member` with its UUID key in `char(32)` on MySQL and MariaDB, as Django stores a
    /// `UUIDField` on Oracle MySQL and stored it on MariaDB before Django 5.0 (the same as
    /// [`CustomUser::Member`] on SQLite and PostgreSQL).
    MemberChar32,
}

impl CustomUser {
    /// The model as Castellan is told about it (`--user-model`, `--username-field`).
    pub fn model(self) -> UserModel {
        let (label, field) = match self {
            Self::Account => ("people.Account", "username"),
            Self::Person => ("staff.Person", "email"),
            Self::Member | Self::MemberChar32 => ("accounts.Member", "email"),
        };
        UserModel::parse(label)
            .and_then(|m| m.with_username_field(field))
            .unwrap_or_else(|e| panic!("{label}: {e}"))
    }

    fn fixture(self, kind: Kind) -> std::borrow::Cow<'static, str> {
        if let (Self::MemberChar32, Kind::MySql) = (self, kind) {
            return Self::Member
                .fixture(kind)
                .replace("`id` uuid NOT NULL", "`id` char(32) NOT NULL")
                .replace("`member_id` uuid NOT NULL", "`member_id` char(32) NOT NULL")
                .into();
        }
        let text = match (self, kind) {
            (Self::Account, Kind::Sqlite) => {
                include_str!("../fixtures/custom_user/people/sqlite.sql")
            }
            (Self::Account, Kind::Postgres) => {
                include_str!("../fixtures/custom_user/people/postgres.sql")
            }
            (Self::Account, Kind::MySql) => {
                include_str!("../fixtures/custom_user/people/mysql.sql")
            }
            (Self::Person, Kind::Sqlite) => {
                include_str!("../fixtures/custom_user/staff/sqlite.sql")
            }
            (Self::Person, Kind::Postgres) => {
                include_str!("../fixtures/custom_user/staff/postgres.sql")
            }
            (Self::Person, Kind::MySql) => include_str!("../fixtures/custom_user/staff/mysql.sql"),
            (Self::Member | Self::MemberChar32, Kind::Sqlite) => {
                include_str!("../fixtures/custom_user/accounts/sqlite.sql")
            }
            (Self::Member | Self::MemberChar32, Kind::Postgres) => {
                include_str!("../fixtures/custom_user/accounts/postgres.sql")
            }
            (Self::Member | Self::MemberChar32, Kind::MySql) => {
                include_str!("../fixtures/custom_user/accounts/mysql.sql")
            }
        };
        text.into()
    }

    /// A fresh database of `kind` holding the project's schema as Django migrated it (no content
    /// types or permissions yet), or `None` when that server is not configured.
    pub async fn database(self, kind: Kind) -> Option<TestDb> {
        let db = TestDb::create(kind).await?;
        let plain = db.store().await;
        // One batch on one connection: SQLite's table rebuilds (create new__x, copy, drop x,
        // rename) must not be spread over the pool's connections.
        let batch = statements(&self.fixture(kind)).join(";\n");
        plain
            .execute_raw(&batch)
            .await
            .unwrap_or_else(|e| panic!("the {self:?} fixture for {kind:?} failed to load: {e}"));
        plain.close().await;
        Some(db)
    }

    /// A store on `db` with this user model.
    pub async fn store(self, db: &TestDb) -> Store {
        let options = StoreOptions {
            user_model: self.model(),
            ..StoreOptions::default()
        };
        Store::connect_with(&db.url, options)
            .await
            .unwrap_or_else(|e| panic!("cannot open {} as {}: {e}", db.url, self.model()))
    }

    /// The project's database after Castellan's `migrate` (which adopts it), with a store. So
    /// that suites written for `auth.User` run unchanged, the database also gets a content type
    /// `auth | user` with the four default permissions, as plain rows (Django and Castellan
    /// create none for a swapped `auth.User`; here they are just four more permissions).
    pub async fn migrated(self, kind: Kind) -> Option<(TestDb, Store)> {
        let db = self.database(kind).await?;
        let store = self.store(&db).await;
        store
            .migrate(&Registry::django())
            .await
            .unwrap_or_else(|e| panic!("migrate failed on {}: {e}", self.model()));
        store
            .execute_raw(
                "INSERT INTO django_content_type (app_label, model) VALUES ('auth', 'user')",
            )
            .await
            .unwrap_or_else(|e| panic!("cannot add the auth | user content type: {e}"));
        for action in ["add", "change", "delete", "view"] {
            store
                .execute_raw(&format!(
                    "INSERT INTO auth_permission (name, content_type_id, codename) \
                     SELECT 'Can {action} user', id, '{action}_user' FROM django_content_type \
                     WHERE app_label = 'auth' AND model = 'user'"
                ))
                .await
                .unwrap_or_else(|e| panic!("cannot add auth.{action}_user: {e}"));
        }
        Some((db, store))
    }
}

/// The fixture's statements (split on `;` at a line's end, comment lines dropped).
fn statements(fixture: &str) -> Vec<String> {
    fixture
        .split(";\n")
        .map(|s| {
            s.lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|s| !s.trim().is_empty())
        .collect()
}
