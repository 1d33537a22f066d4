//! `Store::sync`: the declarative policy file applied to every database kind.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests panic on failed set-up.

use castellan_conformance::{Kind, TestDb};
use castellan_core::policy::Policy;
use castellan_store::{AuditFilter, Store, SyncError};
use castellan_testkit::per_db;

const CONTENT: &str = include_str!("../../../examples/policies/content.toml");
const LIBRARY: &str = include_str!("../../../examples/policies/library.toml");

/// Castellan's generation counters, read on a connection of their own.
async fn generation(db: &TestDb) -> Vec<i64> {
    let sql = "SELECT value FROM castellan_generation ORDER BY id";
    match db.kind() {
        Kind::Sqlite => {
            let p = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            let v = sqlx::query_scalar::<_, i64>(sql)
                .fetch_all(&p)
                .await
                .unwrap();
            p.close().await;
            v
        }
        Kind::Postgres => {
            let p = sqlx::PgPool::connect(&db.url).await.unwrap();
            let v = sqlx::query_scalar::<_, i64>(sql)
                .fetch_all(&p)
                .await
                .unwrap();
            p.close().await;
            v
        }
        Kind::MySql => {
            let p = sqlx::MySqlPool::connect(&db.url).await.unwrap();
            let v = sqlx::query_scalar::<_, i64>(sql)
                .fetch_all(&p)
                .await
                .unwrap();
            p.close().await;
            v
        }
    }
}

async fn group_perms(store: &Store, name: &str) -> Vec<String> {
    store.group_detail(name).await.unwrap().permissions
}

async fn plan_dry_run_apply_idempotent(db: &TestDb, store: &Store) {
    let policy = Policy::parse(CONTENT).unwrap();
    let before = generation(db).await;
    let perms_before = store.permissions(None).await.unwrap().len();
    let plan = store.sync_plan(&policy, false).await.unwrap();
    assert_eq!(plan.content_types, ["bookshelf.article", "bookshelf.book"]);
    assert_eq!(plan.permissions.len(), 4 + 7 + 4 + 3);
    assert_eq!(plan.groups.len(), 7);
    assert!(plan.deleted_groups.is_empty() && plan.revokes.is_empty());
    // A dry run writes nothing.
    assert_eq!(generation(db).await, before);
    assert_eq!(store.permissions(None).await.unwrap().len(), perms_before);
    assert!(store.groups().await.unwrap().is_empty());

    let applied = store.sync(&policy, false).await.unwrap();
    assert_eq!(applied, plan);
    assert_ne!(generation(db).await, before);
    assert_eq!(
        store.permissions(None).await.unwrap().len(),
        perms_before + 18
    );
    assert_eq!(
        group_perms(store, "Publishers").await,
        [
            "bookshelf.add_book",
            "bookshelf.can_publish_book",
            "bookshelf.change_book",
            "bookshelf.view_book"
        ]
    );
    assert_eq!(group_perms(store, "Viewers").await, ["bookshelf.view_book"]);
    assert_eq!(group_perms(store, "Admins").await.len(), 18);
    assert_eq!(group_perms(store, "Chief Editors").await.len(), 7);
    let names = store.permissions(Some("bookshelf")).await.unwrap();
    let publish = names
        .iter()
        .find(|p| p.codename == "can_publish_book")
        .unwrap();
    assert_eq!(publish.name, "Can publish book");
    assert_eq!(publish.model, "book");

    // Idempotent: the second plan is empty and a second sync changes nothing.
    let after = generation(db).await;
    assert!(store.sync_plan(&policy, false).await.unwrap().is_empty());
    assert!(store.sync(&policy, false).await.unwrap().is_empty());
    assert_eq!(generation(db).await, after);

    // Every change is in the audit trail.
    if store.auditing() {
        let log = store.audit_log(&AuditFilter::default()).await.unwrap();
        let count = |action: &str| log.iter().filter(|e| e.action == action).count();
        assert_eq!(count("sync.create_group"), 7);
        assert_eq!(count("sync.grant"), 7);
        assert_eq!(count("sync.create_permissions"), 1);
        let grant = log
            .iter()
            .find(|e| e.action == "sync.grant" && e.object == "Viewers")
            .unwrap();
        assert_eq!(grant.object_type, "group");
        assert!(grant
            .after
            .as_deref()
            .unwrap()
            .contains("bookshelf.view_book"));
    }
}

async fn second_file_adds_and_prune_removes(db: &TestDb, store: &Store) {
    let content = Policy::parse(CONTENT).unwrap();
    let library = Policy::parse(LIBRARY).unwrap();
    store.sync(&content, false).await.unwrap();
    store.create_group("Manual").await.unwrap();
    store
        .grant_group("Editors", &["auth.view_user".into()])
        .await
        .unwrap();
    // Without --prune nothing is deleted.
    let plan = store.sync(&library, false).await.unwrap();
    assert_eq!(plan.groups.len(), 3);
    assert!(plan.deleted_groups.is_empty());
    assert_eq!(store.groups().await.unwrap().len(), 11);
    // With --prune: the other groups go, and so do the Article permissions (not in library.toml).
    let gen = generation(db).await;
    let plan = store.sync_plan(&library, true).await.unwrap();
    assert_eq!(generation(db).await, gen);
    assert_eq!(plan.deleted_groups.len(), 8);
    assert!(plan.deleted_groups.contains(&"Manual".to_owned()));
    assert_eq!(plan.deleted_permissions.len(), 7);
    assert_eq!(plan.deleted_content_types, ["bookshelf.article"]);
    assert_eq!(plan.revokes.len(), 1);
    assert_eq!(plan.revokes[0].group, "Library Admins");
    let applied = store.sync(&library, true).await.unwrap();
    assert_eq!(applied, plan);
    let groups: Vec<String> = store
        .groups()
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert_eq!(groups, ["Librarians", "Library Admins", "Library Members"]);
    assert_eq!(
        store.permissions(Some("bookshelf")).await.unwrap().len(),
        11
    );
    // Django's own permissions are never pruned.
    assert_eq!(store.permissions(Some("auth")).await.unwrap().len(), 12);
    assert_eq!(group_perms(store, "Library Admins").await.len(), 11);
    assert!(store.sync_plan(&library, true).await.unwrap().is_empty());
}

async fn every_problem_is_reported_and_nothing_applied(db: &TestDb, store: &Store) {
    let src = r#"[apps.bookshelf]
[[apps.bookshelf.models]]
name = "Book"
permissions = [{ codename = "can_publish_book", name = "Can publish book" }]

[groups.Editors]
permissions = [
  "bookshelf.add_bok",
  "bookshelf.nothing_*",
  "auth.view_user",
  "no_dot",
]
[groups.Viewers]
permissions = ["bookshelf.view_book"]
"#;
    let before = generation(db).await;
    let policy = Policy::parse(src).unwrap();
    for result in [
        store.sync_plan(&policy, false).await,
        store.sync(&policy, false).await,
    ] {
        match result {
            Err(SyncError::Invalid(problems)) => {
                let lines: Vec<usize> = problems.0.iter().map(|p| p.line).collect();
                assert_eq!(lines, [8, 9, 11], "{problems}");
                let text = problems.render("p.toml");
                assert!(text.contains("p.toml:8: "), "{text}");
                assert!(
                    text.contains("did you mean \"bookshelf.add_book\""),
                    "{text}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(generation(db).await, before);
    assert!(store.groups().await.unwrap().is_empty());
    assert!(store
        .permissions(Some("bookshelf"))
        .await
        .unwrap()
        .is_empty());
}

async fn existing_permissions_and_renames(_db: &TestDb, store: &Store) {
    store
        .create_permission("shop.old_name", "item", "An old name")
        .await
        .unwrap();
    let policy = Policy::parse(
        r#"[apps.shop]
[[apps.shop.models]]
name = "Item"
default_permissions = []
permissions = [{ codename = "old_name", name = "A new name" }]
[groups.Staff]
permissions = ["shop.old_name", "*.view_user"]
"#,
    )
    .unwrap();
    let plan = store.sync(&policy, false).await.unwrap();
    assert!(plan.content_types.is_empty() && plan.permissions.is_empty());
    assert_eq!(plan.renamed_permissions.len(), 1);
    assert_eq!(plan.renamed_permissions[0].old_name, "An old name");
    assert_eq!(
        group_perms(store, "Staff").await,
        ["auth.view_user", "shop.old_name"]
    );
    let perm = store.permissions(Some("shop")).await.unwrap();
    assert_eq!(perm[0].name, "A new name");
    assert!(store.sync_plan(&policy, true).await.unwrap().is_empty());
}

async fn concurrent_syncs_end_in_one_state(db: &TestDb, store: &Store) {
    let policy = Policy::parse(CONTENT).unwrap();
    let expected = store.sync_plan(&policy, false).await.unwrap();
    let a = db.store().await;
    let b = db.store().await;
    let (ra, rb) = tokio::join!(a.sync(&policy, false), b.sync(&policy, false));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    // One applied everything, the other found nothing left to do.
    assert_eq!(
        ra.change_count() + rb.change_count(),
        expected.change_count(),
        "{ra}\n---\n{rb}"
    );
    assert!(ra.is_empty() || rb.is_empty());
    assert!(store.sync_plan(&policy, false).await.unwrap().is_empty());
    assert_eq!(store.groups().await.unwrap().len(), 7);
    assert_eq!(
        store.permissions(Some("bookshelf")).await.unwrap().len(),
        18
    );
    a.close().await;
    b.close().await;
}

// The fast no-op: a re-run of an applied policy answers from `castellan_sync_state` while nothing has
// changed, and falls back to the full plan as soon as anyone (here: plain SQL) changed the tables.
async fn fast_noop_only_while_nothing_changed(_db: &TestDb, store: &Store) {
    let policy = Policy::parse(CONTENT).unwrap();
    assert!(!store.sync(&policy, false).await.unwrap().is_empty());
    assert!(
        store.sync(&policy, false).await.unwrap().is_empty(),
        "full no-op plan, remembered"
    );
    assert!(
        store.sync(&policy, false).await.unwrap().is_empty(),
        "fast no-op"
    );
    let editors = group_perms(store, "Editors").await;
    assert!(!editors.is_empty());
    // Someone revokes a grant behind Castellan's back: the next sync must see it and restore it.
    store
        .execute_raw("DELETE FROM auth_group_permissions WHERE group_id IN (SELECT id FROM auth_group WHERE name = 'Editors')")
        .await
        .unwrap();
    assert!(group_perms(store, "Editors").await.is_empty());
    let plan = store.sync(&policy, false).await.unwrap();
    assert!(!plan.is_empty(), "not skipped after an outside change");
    assert_eq!(group_perms(store, "Editors").await, editors);
    assert!(store.sync(&policy, false).await.unwrap().is_empty());
}

per_db!(
    migrated;
    fast_noop_only_while_nothing_changed,
    plan_dry_run_apply_idempotent,
    second_file_adds_and_prune_removes,
    every_problem_is_reported_and_nothing_applied,
    existing_permissions_and_renames,
    concurrent_syncs_end_in_one_state,
);
