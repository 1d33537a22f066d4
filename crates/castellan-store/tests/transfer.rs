//! `transfer.rs`: export and import: invalid documents are refused whole with a message naming the
//! problem, and an import updates existing users without removing anything, on every database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use castellan_store::{Error, Export, ExportedGroup, EXPORT_FORMAT};
use castellan_testkit::{per_db, perms as s, store, user, TestDb};

fn noop(_: &str, _: u64, _: u64) {}

async fn seeded(db: &TestDb) -> castellan_store::Store {
    let store = store(db).await;
    store.create_group("Editors").await.unwrap();
    store
        .grant_group("Editors", &s(&["auth.change_user"]))
        .await
        .unwrap();
    user(&store, "alice", |u| u.email = "alice@example.org".into()).await;
    store
        .add_user_to_groups("alice", &s(&["Editors"]))
        .await
        .unwrap();
    store
}

async fn an_empty_database_exports_its_catalogue_only(db: TestDb) {
    let store = store(&db).await;
    let export = store.export().await.unwrap();
    assert_eq!(export.format, EXPORT_FORMAT);
    assert_eq!(export.version, 1);
    assert!(export.users.is_empty() && export.groups.is_empty());
    assert_eq!(
        export.permissions.len(),
        store.permissions(None).await.unwrap().len()
    );
    let report = store.import(&export, &noop).await.unwrap();
    assert!(report.is_noop(), "{report:?}");
    store.close().await;
}

async fn invalid_documents_are_refused_whole(db: TestDb) {
    let store = seeded(&db).await;
    let good = store.export().await.unwrap();
    let mut cases: Vec<(&str, Export)> = Vec::new();
    let mut d = good.clone();
    d.format = "something-else".into();
    cases.push(("is not \"castellan-export\" version 1", d));
    let mut d = good.clone();
    d.version = 2;
    cases.push(("version 2", d));
    let mut d = good.clone();
    d.groups.push(d.groups[0].clone());
    cases.push(("group \"Editors\" appears twice", d));
    let mut d = good.clone();
    d.users.push(d.users[0].clone());
    cases.push(("user \"alice\" appears twice", d));
    let mut d = good.clone();
    d.groups.push(ExportedGroup {
        name: "New".into(),
        permissions: vec!["auth.undeclared".into()],
    });
    cases.push(("which is not in \"permissions\"", d));
    let mut d = good.clone();
    d.users[0].date_joined = Some("yesterday".into());
    cases.push(("\"yesterday\" is not a timestamp", d));
    let mut d = good.clone();
    d.users[0].groups.push("Ghosts".into());
    cases.push(("is in group \"Ghosts\", which is not in \"groups\"", d));
    for (message, mut doc) in cases {
        // Each document also carries a valid new user and a changed e-mail: neither may land.
        let mut extra = doc.users[0].clone();
        extra.username = "newcomer".into();
        extra.groups.clear();
        doc.users.push(extra);
        doc.users[0].email = "changed@example.org".into();
        let err = store.import(&doc, &noop).await.unwrap_err();
        assert!(matches!(err, Error::Refused(_)), "{message}: {err:?}");
        assert!(
            err.to_string().starts_with("invalid export: ") && err.to_string().contains(message),
            "{message}: {err}"
        );
        assert_eq!(
            store.export().await.unwrap(),
            good,
            "{message}: nothing changed"
        );
    }
    store.close().await;
}

async fn import_updates_users_and_never_removes(db: TestDb) {
    let store = seeded(&db).await;
    let mut doc = store.export().await.unwrap();
    // The document: alice has a new e-mail and no groups; bob is new.
    doc.users[0].email = "alice@new.example".into();
    doc.users[0].groups.clear();
    let mut bob = doc.users[0].clone();
    bob.username = "bob".into();
    bob.groups = vec!["Editors".into()];
    doc.users.push(bob);
    let calls = std::sync::Mutex::new(Vec::new());
    let progress = |stage: &str, done: u64, total: u64| {
        calls.lock().unwrap().push((stage.to_owned(), done, total));
    };
    let report = store.import(&doc, &progress).await.unwrap();
    assert_eq!(report.users_created, 1);
    assert_eq!(report.users_updated, 1);
    assert_eq!(report.memberships_added, 1);
    assert_eq!(report.groups_created, 0);
    let calls = calls.into_inner().unwrap();
    assert_eq!(calls.last(), Some(&("users".to_owned(), 2, 2)), "{calls:?}");
    assert_eq!(
        store.user("alice").await.unwrap().unwrap().email,
        "alice@new.example"
    );
    assert_eq!(
        store.user_groups("alice").await.unwrap(),
        ["Editors"],
        "an import never removes a membership"
    );
    let bob = store.principal("bob").await.unwrap().unwrap();
    assert!(bob.has_perm("auth.change_user"));
    store.close().await;
}

per_db!(
    an_empty_database_exports_its_catalogue_only,
    invalid_documents_are_refused_whole,
    import_updates_users_and_never_removes,
);
