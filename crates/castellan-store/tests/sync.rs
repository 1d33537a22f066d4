//! `sync.rs`: a declarative policy applied through `Store::sync`: a sync that fails in the
//! database is rolled back whole, with its audit entries; the next sync then applies, on every
//! database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use castellan_core::policy::Policy;
use castellan_store::SyncError;
use castellan_testkit::{audit, per_db, store, TestDb};

const POLICY: &str = r#"[apps.library]
[[apps.library.models]]
name = "Loan"
permissions = [{ codename = "can_renew", name = "Can renew" }]

[groups.Librarians]
permissions = ["library.can_renew", "library.view_loan", "auth.view_user"]
"#;

async fn a_sync_that_fails_in_the_database_applies_nothing(db: TestDb) {
    let store = store(&db).await;
    let policy = Policy::parse(POLICY).unwrap();
    let plan = store.sync_plan(&policy, false).await.unwrap();
    assert_eq!(plan.groups, ["Librarians"]);
    assert!(plan.change_count() > 0);
    // Take the grants' table away: the sync cannot complete.
    store
        .execute_raw("ALTER TABLE auth_group_permissions RENAME TO moved_away")
        .await
        .unwrap();
    let err = store.sync(&policy, false).await.unwrap_err();
    assert!(matches!(err, SyncError::Store(_)), "{err:?}");
    assert!(store.groups().await.unwrap().is_empty(), "no group created");
    assert!(
        store.permissions(Some("library")).await.unwrap().is_empty(),
        "no permission created"
    );
    assert!(
        audit(&store).await.is_empty(),
        "no entry for a rolled-back sync"
    );
    store
        .execute_raw("ALTER TABLE moved_away RENAME TO auth_group_permissions")
        .await
        .unwrap();
    // The same plan applies now, and a second run has nothing to do.
    assert_eq!(store.sync_plan(&policy, false).await.unwrap(), plan);
    store.sync(&policy, false).await.unwrap();
    assert_eq!(
        store.group_detail("Librarians").await.unwrap().permissions,
        ["auth.view_user", "library.can_renew", "library.view_loan"]
    );
    assert!(store.sync_plan(&policy, false).await.unwrap().is_empty());
    let log = audit(&store).await;
    assert!(
        log.contains(&"system sync.create_group Librarians".to_owned()),
        "{log:?}"
    );
    store.close().await;
}

per_db!(a_sync_that_fails_in_the_database_applies_nothing);
