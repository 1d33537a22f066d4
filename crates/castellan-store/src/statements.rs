//! Every statement the store runs is prepared on each database after `migrate`: a typo, a
//! placeholder the database does not take or a column that does not exist fails here, on the
//! database that refuses it, instead of in the code path that happens to run it.

use castellan_core::WithPerm;
use castellan_testkit::custom_user::CustomUser;
use castellan_testkit::{Kind, TestDb};

use crate::sql::{Dialect, Sql};
use crate::{Store, StoreOptions};

/// The static statements that run on every database once it is migrated.
fn everywhere() -> Vec<(&'static str, &'static [Sql])> {
    vec![
        ("audit", crate::audit::STATEMENTS),
        ("catalog", crate::sql::CATALOG_STATEMENTS),
        ("authn", crate::authn::STATEMENTS),
        ("grants", crate::grants::STATEMENTS),
        ("group_edits", crate::group_edits::STATEMENTS),
        ("groups", crate::groups::STATEMENTS),
        ("lookalike", crate::lookalike::STATEMENTS),
        ("lookup", crate::lookup::STATEMENTS),
        ("matrix", crate::matrix::STATEMENTS),
        ("migrate", crate::migrate::STATEMENTS),
        (
            "migrate (no schema)",
            crate::migrate::SCHEMA_FREE_STATEMENTS,
        ),
        ("object_tables", crate::object_tables::STATEMENTS),
        ("perms", crate::perms::STATEMENTS),
        ("principal", crate::principal::STATEMENTS),
        (
            "principal (generations)",
            crate::principal::GENERATION_STATEMENTS,
        ),
        ("sessions", crate::sessions::STATEMENTS),
        ("sync", crate::sync::STATEMENTS),
        ("sync (Django only)", crate::sync::DJANGO_STATEMENTS),
        ("sync snapshot", crate::sync::SNAPSHOT_STATEMENTS),
        ("transfer", crate::transfer::STATEMENTS),
        ("user_edits", crate::user_edits::STATEMENTS),
        ("users", crate::users::STATEMENTS),
        ("user_schema", crate::user_schema::STATEMENTS),
        ("reset", crate::reset::STATEMENTS),
        ("versions", crate::versions::STATEMENTS),
    ]
}

/// Prepares every statement on a fresh database of `kind`: Castellan's own schema, or a Django
/// project's with its own user model (then through the store's renames). A statement that
/// writes a column the model does not have must be refused by the rename, never reach the
/// database.
async fn prepares_every_statement(kind: Kind, custom: Option<CustomUser>) {
    let (db, options) = match custom {
        None => (TestDb::create(kind).await, StoreOptions::default()),
        Some(c) => (
            c.database(kind).await,
            StoreOptions {
                user_model: c.model(),
                ..StoreOptions::default()
            },
        ),
    };
    let Some(db) = db else {
        return;
    };
    let store = Store::connect_with(&db.url, options)
        .await
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", db.url));
    store
        .migrate(&castellan_core::Registry::django())
        .await
        .unwrap_or_else(|e| panic!("migrate failed: {e}"));
    store
        .install_object_permissions()
        .await
        .unwrap_or_else(|e| panic!("creating guardian's tables failed: {e}"));
    let d = store.dialect();
    let mut lists = everywhere();
    match d {
        Dialect::Sqlite => lists.push(("migrate (SQLite)", crate::migrate::SQLITE_STATEMENTS)),
        Dialect::Postgres => {
            lists.push((
                "lookalike (PostgreSQL)",
                crate::lookalike::POSTGRES_STATEMENTS,
            ));
            #[cfg(feature = "postgres")]
            lists.push(("migrate (PostgreSQL)", crate::migrate::POSTGRES_STATEMENTS));
        }
        Dialect::MySql => {}
    }
    let mut failures = Vec::new();
    let mut n = 0;
    for (module, list) in lists {
        for sql in list {
            n += 1;
            match store.db.prepare(sql).await {
                Ok(()) => {}
                Err(crate::Error::UserModel(_)) if custom == Some(CustomUser::Person) => {}
                Err(e) => failures.push(format!("{module}: {}\n    {e}", sql.text(d))),
            }
        }
    }
    // The statements assembled at run time, in each of their shapes.
    // Statements on django-guardian's tables run with their own renames (their user_id stays).
    for (module, list) in [
        ("object_holders", crate::object_holders::STATEMENTS),
        ("object_perms", crate::object_perms::STATEMENTS),
    ] {
        for sql in list {
            n += 1;
            match store.guardian_db.prepare(sql).await {
                Ok(()) => {}
                Err(crate::Error::UserModel(_)) if custom == Some(CustomUser::Person) => {}
                Err(e) => failures.push(format!("{module}: {}\n    {e}", sql.text(d))),
            }
        }
    }
    for include_superusers in [false, true] {
        for is_active in [None, Some(true)] {
            let args = WithPerm {
                app_label: "auth".into(),
                codename: "view_user".into(),
                is_active,
                include_superusers,
            };
            for (after, limit) in [
                (None, None),
                (Some("m"), None),
                (None, Some(10)),
                (Some("m"), Some(10)),
            ] {
                let (sql, _) = crate::who_has::with_perm_sql(d, &args, after, limit);
                n += 1;
                if let Err(e) = store.db.prepare(&sql).await {
                    failures.push(format!("explain: {}\n    {e}", sql.as_str()));
                }
            }
            if d != Dialect::MySql {
                let sql = crate::who_has::holder_ids_aggregate_sql(d, &args);
                n += 1;
                if let Err(e) = store.db.prepare(&sql).await {
                    failures.push(format!("explain: {}\n    {e}", sql.as_str()));
                }
            }
        }
    }
    assert!(
        n > 120,
        "only {n} statements were prepared: is a module's list missing?"
    );
    assert!(
        failures.is_empty(),
        "{} of {n} statements fail to prepare on {d:?}:\n{}",
        failures.len(),
        failures.join("\n")
    );
    store.close().await;
}

#[tokio::test]
async fn every_statement_prepares_on_sqlite() {
    prepares_every_statement(Kind::Sqlite, None).await;
}

#[tokio::test]
async fn every_statement_prepares_on_postgres() {
    prepares_every_statement(Kind::Postgres, None).await;
}

#[tokio::test]
async fn every_statement_prepares_on_mysql() {
    prepares_every_statement(Kind::MySql, None).await;
}

#[tokio::test]
async fn every_statement_prepares_for_custom_user_models() {
    for kind in [Kind::Sqlite, Kind::Postgres, Kind::MySql] {
        for custom in [CustomUser::Account, CustomUser::Person] {
            prepares_every_statement(kind, Some(custom)).await;
        }
    }
}
