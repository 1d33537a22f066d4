//! Bulk writes (a large `sync`, a large `import`): on SQLite they replace the per-row generation
//! triggers by one bump in the same transaction. Whatever the database, a bulk write must move the
//! generations, leave every trigger in place (recreated, and working), and a failed one must leave
//! nothing behind — no rows, no missing trigger, no generation change.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests panic on failed set-up.

use castellan_conformance::{Kind, TestDb};
use castellan_core::policy::Policy;
use castellan_store::{
    Export, ExportedGroup, ExportedPermission, ExportedUser, NewUser, Store, EXPORT_FORMAT,
};
use castellan_testkit::per_db;

/// Runs `sql` on a connection of its own and returns the integers it selects (one column).
async fn ints(db: &TestDb, sql: &str) -> Vec<i64> {
    macro_rules! run {
        ($pool:ty) => {{
            let p = <$pool>::connect(&db.url).await.unwrap();
            let v = sqlx::query_scalar::<_, i64>(sql)
                .fetch_all(&p)
                .await
                .unwrap();
            p.close().await;
            v
        }};
    }
    match db.kind() {
        Kind::Sqlite => run!(sqlx::SqlitePool),
        Kind::Postgres => run!(sqlx::PgPool),
        Kind::MySql => run!(sqlx::MySqlPool),
    }
}

async fn generation(db: &TestDb) -> Vec<i64> {
    ints(db, "SELECT value FROM castellan_generation ORDER BY id").await
}

/// The number of Castellan's generation triggers.
async fn triggers(db: &TestDb, store: &Store) -> i64 {
    let sql = match db.kind() {
        Kind::Sqlite => {
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'castellan_bump_%'"
        }
        Kind::Postgres => {
            "SELECT count(*) FROM pg_trigger WHERE tgname = 'castellan_bump' AND NOT tgisinternal"
        }
        Kind::MySql => {
            "SELECT count(*) FROM information_schema.triggers WHERE trigger_schema = DATABASE() AND trigger_name LIKE 'castellan_bump_%'"
        }
    };
    let n = ints(db, sql).await[0];
    assert!(n > 0, "Castellan's triggers are installed");
    // The store agrees: its cache is on only while every trigger is in place.
    assert!(store.caching());
    n
}

/// App `bulk` with `models` models (5 permissions each) numbered from `first`, and a group
/// `Viewers` with `bulk.view_*`.
fn policy(first: usize, models: usize) -> Policy {
    let mut s = String::from("[apps.bulk]\n");
    for i in first..first + models {
        s.push_str(&format!(
            "[[apps.bulk.models]]\nname = \"Model{i}\"\npermissions = [{{ codename = \"publish_model{i}\", name = \"Can publish model {i}\" }}]\n"
        ));
    }
    s.push_str("[groups.Viewers]\npermissions = [\"bulk.view_*\"]\n");
    Policy::parse(&s).unwrap()
}

async fn large_sync_bumps_and_restores_triggers(db: &TestDb, store: &Store) {
    let installed = triggers(db, store).await;
    store.create_user(NewUser::new("ann")).await.unwrap();
    store.create_group("Viewers").await.unwrap();
    store
        .add_user_to_groups("ann", &["Viewers".to_owned()])
        .await
        .unwrap();
    let ann = store.principal("ann").await.unwrap().unwrap();
    assert!(!ann.has_perm("bulk.view_model0"));
    let before = generation(db).await;

    let plan = store.sync(&policy(0, 150), false).await.unwrap();
    assert!(
        plan.change_count() >= 750,
        "a bulk write: {}",
        plan.change_count()
    );
    let after = generation(db).await;
    assert!(
        after[0] > before[0] && after[1] > before[1],
        "{before:?} -> {after:?}"
    );
    assert_eq!(triggers(db, store).await, installed);
    // Another store (its own cache) and this one both see the new grants.
    let other = db.store().await;
    assert!(other
        .principal("ann")
        .await
        .unwrap()
        .unwrap()
        .has_perm("bulk.view_model149"));
    assert!(store
        .principal("ann")
        .await
        .unwrap()
        .unwrap()
        .has_perm("bulk.view_model0"));
    // Exactly the view permissions, each on its own model's content type, with its own name
    // (rows are inserted in index order, not in the plan's order: the ids must still match).
    let want: std::collections::BTreeSet<String> =
        (0..150).map(|i| format!("bulk.view_model{i}")).collect();
    let got: std::collections::BTreeSet<String> = store
        .principal("ann")
        .await
        .unwrap()
        .unwrap()
        .get_group_permissions()
        .into_iter()
        .collect();
    assert_eq!(got, want);
    let perms = store.permissions(Some("bulk")).await.unwrap();
    assert_eq!(perms.len(), 750);
    for p in &perms {
        let n = p.model.trim_start_matches("model");
        let (action, _) = p.codename.split_once('_').unwrap();
        let want_name = if action == "publish" {
            format!("Can publish model {n}")
        } else {
            format!("Can {action} model{n}")
        };
        assert!(
            p.codename.ends_with(&format!("_model{n}")) && p.name == want_name,
            "permission on the wrong model or with the wrong name: {p:?}"
        );
    }

    // The recreated triggers fire: a raw write by someone else moves the generation, and this
    // store's cached permissions follow it.
    let g = generation(db).await;
    other
        .execute_raw("DELETE FROM auth_user_groups")
        .await
        .unwrap();
    other.close().await;
    assert!(generation(db).await[0] > g[0]);
    assert!(!store
        .principal("ann")
        .await
        .unwrap()
        .unwrap()
        .has_perm("bulk.view_model0"));
}

async fn failed_large_sync_leaves_nothing(db: &TestDb, store: &Store) {
    store.sync(&policy(0, 150), false).await.unwrap();
    // A table of someone else's that refers to a content type the pruning sync below deletes.
    let ddl = match db.kind() {
        Kind::MySql => {
            "CREATE TABLE bulk_ref (id integer NOT NULL PRIMARY KEY, ct_id integer NOT NULL, \
             FOREIGN KEY (ct_id) REFERENCES django_content_type (id))"
        }
        _ => {
            "CREATE TABLE bulk_ref (id integer NOT NULL PRIMARY KEY, ct_id integer NOT NULL \
             REFERENCES django_content_type (id) DEFERRABLE INITIALLY DEFERRED)"
        }
    };
    store.execute_raw(ddl).await.unwrap();
    store
        .execute_raw(
            "INSERT INTO bulk_ref (id, ct_id) SELECT 1, id FROM django_content_type \
             WHERE app_label = 'bulk' AND model = 'model0'",
        )
        .await
        .unwrap();
    let installed = triggers(db, store).await;
    let before = generation(db).await;
    let perms = store.permissions(Some("bulk")).await.unwrap().len();
    assert_eq!(perms, 750);

    // Prune 100 models (600 deletions, one of them referenced): the whole sync fails.
    let err = store.sync(&policy(100, 50), true).await;
    assert!(err.is_err(), "{err:?}");
    assert_eq!(store.permissions(Some("bulk")).await.unwrap().len(), perms);
    assert_eq!(triggers(db, store).await, installed);
    assert_eq!(generation(db).await, before);
    // And the triggers still work.
    store
        .execute_raw("DELETE FROM auth_group_permissions")
        .await
        .unwrap();
    assert!(generation(db).await[0] > before[0]);
}

fn export(users: usize) -> Export {
    Export {
        format: EXPORT_FORMAT.into(),
        version: 1,
        permissions: vec![ExportedPermission {
            app_label: "auth".into(),
            model: "user".into(),
            codename: "view_user".into(),
            name: "Can view user".into(),
        }],
        groups: vec![ExportedGroup {
            name: "Readers".into(),
            permissions: vec!["auth.view_user".into()],
        }],
        users: (0..users)
            .map(|i| ExportedUser {
                username: format!("user{i:04}"),
                password: "!unusable".into(),
                email: String::new(),
                first_name: String::new(),
                last_name: String::new(),
                is_active: true,
                is_staff: false,
                is_superuser: false,
                date_joined: Some("2026-11-25 12:00:00.000000".into()),
                last_login: None,
                groups: vec!["Readers".into()],
                permissions: if i % 2 == 0 {
                    vec!["auth.view_user".into()]
                } else {
                    Vec::new()
                },
            })
            .collect(),
    }
}

async fn large_import_bumps_and_restores_triggers(db: &TestDb, store: &Store) {
    let installed = triggers(db, store).await;
    store.create_user(NewUser::new("user0000")).await.unwrap();
    let cached = store.principal("user0000").await.unwrap().unwrap();
    assert!(!cached.has_perm("auth.view_user"));
    let before = generation(db).await;
    let noop = |_: &str, _: u64, _: u64| {};
    let report = store.import(&export(600), &noop).await.unwrap();
    assert_eq!(report.users_created, 599);
    assert_eq!(report.memberships_added, 600);
    assert!(generation(db).await[0] > before[0]);
    assert_eq!(triggers(db, store).await, installed);
    assert!(store
        .principal("user0000")
        .await
        .unwrap()
        .unwrap()
        .has_perm("auth.view_user"));
    assert_eq!(
        store
            .with_perm_count(&castellan_core::WithPerm::new("auth.view_user").unwrap())
            .await
            .unwrap(),
        600
    );
    // Importing again changes nothing, and the triggers are still there and working.
    let again = store.import(&export(600), &noop).await.unwrap();
    assert!(again.is_noop(), "{again:?}");
    assert_eq!(triggers(db, store).await, installed);
    let g = generation(db).await;
    store
        .execute_raw("DELETE FROM auth_user_user_permissions")
        .await
        .unwrap();
    assert!(generation(db).await[0] > g[0]);
}

per_db!(
    migrated;
    large_sync_bumps_and_restores_triggers,
    failed_large_sync_leaves_nothing,
    large_import_bumps_and_restores_triggers,
);

/// What the SQLite bulk path relies on: a trigger dropped inside a write transaction is invisible to
/// other connections, and no other connection can write until that transaction ends.
#[tokio::test]
async fn sqlite_dropped_trigger_is_invisible_and_excludes_writers() {
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::{ConnectOptions, Connection};
    use std::str::FromStr;
    use std::time::Duration;

    let Some((db, store)) = TestDb::migrated(Kind::Sqlite).await else {
        return;
    };
    let installed = triggers(&db, &store).await;
    let opts = SqliteConnectOptions::from_str(&db.url)
        .unwrap()
        .busy_timeout(Duration::ZERO);
    let mut bulk = opts.connect().await.unwrap();
    let mut other = opts.connect().await.unwrap();
    let mut tx = bulk.begin().await.unwrap();
    sqlx::query("DROP TRIGGER castellan_bump_auth_user_groups_insert")
        .execute(&mut *tx)
        .await
        .unwrap();
    let seen: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'castellan_bump_%'",
    )
    .fetch_one(&mut other)
    .await
    .unwrap();
    assert_eq!(seen, installed, "the drop is not visible before commit");
    let write = sqlx::query("INSERT INTO auth_group (name) VALUES ('intruder')")
        .execute(&mut other)
        .await;
    assert!(write.is_err(), "another connection cannot write meanwhile");
    tx.rollback().await.unwrap();
    assert_eq!(triggers(&db, &store).await, installed);
    other.close().await.unwrap();
    bulk.close().await.unwrap();
    store.close().await;
}
