//! `migrate.rs`: creating Django's schema on an empty database, adopting it on the next run, and
//! adding the permissions of newly registered models, on every database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use castellan_core::{ModelSpec, Registry};
use castellan_store::Store;
use castellan_testkit::{cheap_options, per_db, user, TestDb};

async fn creates_then_adopts(db: TestDb) {
    let store = Store::connect_with(&db.url, cheap_options()).await.unwrap();
    assert!(!store.is_migrated().await.unwrap(), "an empty database");
    assert!(store.users().await.is_err(), "no auth_user yet");
    let django = Registry::django();
    let report = store.migrate(&django).await.unwrap();
    assert!(report.created_schema);
    assert!(!report.adopted);
    assert!(report.castellan_objects);
    assert_eq!(report.content_types_created, django.models().count());
    assert_eq!(report.permissions_created, django.permission_names().len());
    assert!(store.is_migrated().await.unwrap());
    assert_eq!(
        store.permissions(None).await.unwrap().len(),
        django.permission_names().len()
    );
    assert!(
        !store.ensure_sessions().await.unwrap(),
        "sessions come with it"
    );
    assert!(store
        .audit_log(&Default::default())
        .await
        .unwrap()
        .is_empty());

    // The next run adopts what is there: data is kept, newly registered models are added.
    user(&store, "alice", |_| {}).await;
    let registry = Registry::django()
        .with_model(ModelSpec::new("library", "Loan").with_permission("can_renew", "Can renew"))
        .unwrap();
    let report = store.migrate(&registry).await.unwrap();
    assert!(report.adopted);
    assert!(!report.created_schema);
    assert_eq!(report.content_types_created, 1);
    assert_eq!(
        report.permissions_created, 5,
        "add/change/delete/view and can_renew"
    );
    let mut library: Vec<String> = store
        .permissions(Some("library"))
        .await
        .unwrap()
        .iter()
        .map(|p| p.user_perm_str())
        .collect();
    library.sort();
    assert_eq!(
        library,
        [
            "library.add_loan",
            "library.can_renew",
            "library.change_loan",
            "library.delete_loan",
            "library.view_loan"
        ]
    );
    assert!(store.user("alice").await.unwrap().is_some());
    let report = store.migrate(&registry).await.unwrap();
    assert_eq!(
        (report.content_types_created, report.permissions_created),
        (0, 0)
    );
    store.close().await;
}

per_db!(creates_then_adopts);
