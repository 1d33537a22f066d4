//! Look-alike names: a new username or group name that reads the same as another existing one
//! (NFKC + Unicode case folding) is refused with a clear input error naming the existing one, on
//! every database kind; existing data is left as it is.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests panic on failed set-up.

use castellan_conformance::{store_conformance, TestDb};
use castellan_store::{Error, NewUser, Store};

async fn group_names(store: &Store) -> Vec<String> {
    store
        .groups()
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect()
}

async fn usernames(store: &Store) -> Vec<String> {
    store
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect()
}

/// Asserts a refusal that names the existing look-alike.
fn assert_refused(result: Result<impl std::fmt::Debug, Error>, existing: &str) {
    match result {
        Err(e @ Error::AlreadyExists { .. }) => {
            assert!(e.is_input(), "{e}");
            let message = e.to_string();
            assert!(
                message.contains("looks the same as the existing"),
                "{message}"
            );
            assert!(message.contains(&format!("{existing:?}")), "{message}");
        }
        other => panic!("expected a look-alike refusal naming {existing:?}, got {other:?}"),
    }
}

async fn new_groups_that_look_alike_are_refused(_db: &TestDb, store: &Store) {
    store.create_group("Editors").await.unwrap();
    store.create_group("ǅungla").await.unwrap();
    for name in [
        "editors",
        "EDITORS",
        "ＥＤＩＴＯＲＳ",
        "Ｅditors",
        "ｅｄｉｔｏｒｓ",
    ] {
        assert_refused(store.create_group(name).await, "Editors");
    }
    // ǅ (U+01C5), ǆ (U+01C6), Ǆ (U+01C4) and "dž" (two letters) are one name.
    for name in ["ǆungla", "ǄUNGLA", "džungla", "DŽUNGLA"] {
        assert_refused(store.create_group(name).await, "ǅungla");
    }
    assert_eq!(group_names(store).await, ["Editors", "ǅungla"]);
    // Different names are still fine.
    store.create_group("Editor").await.unwrap();
    store.create_group("Editors 2").await.unwrap();
}

async fn new_usernames_that_look_alike_are_refused(_db: &TestDb, store: &Store) {
    store.create_user(NewUser::new("straße")).await.unwrap();
    store.create_user(NewUser::new("Alice")).await.unwrap();
    for name in ["STRASSE", "strasse", "Straße", "ＳＴＲＡＳＳＥ"] {
        assert_refused(store.create_user(NewUser::new(name)).await, "straße");
    }
    for name in ["alice", "ALICE", "ａｌｉｃｅ"] {
        assert_refused(store.create_user(NewUser::new(name)).await, "Alice");
    }
    assert_eq!(usernames(store).await, ["Alice", "straße"]);
    store.create_user(NewUser::new("alice2")).await.unwrap();
}

async fn renames_to_a_lookalike_are_refused(_db: &TestDb, store: &Store) {
    store.create_group("Editors").await.unwrap();
    store.create_group("Viewers").await.unwrap();
    // The escalation of issue 11, by look-alike: Viewers → "ＥＤＩＴＯＲＳ" beside Editors.
    for name in ["EDITORS", "ＥＤＩＴＯＲＳ", "editors"] {
        assert_refused(store.rename_group("Viewers", name).await, "Editors");
    }
    assert_eq!(group_names(store).await, ["Editors", "Viewers"]);
    // A group may change the case of its own name.
    store.rename_group("Editors", "EDITORS").await.unwrap();
    store.rename_group("EDITORS", "Editors").await.unwrap();
    assert_eq!(group_names(store).await, ["Editors", "Viewers"]);
}

async fn existing_lookalikes_are_left_alone(_db: &TestDb, store: &Store) {
    store.create_group("Staff").await.unwrap();
    // Django (or SQL) may have stored a look-alike already; MariaDB's case-insensitive unique
    // index may refuse it, in which case there is only one.
    let second = store
        .execute_raw("INSERT INTO auth_group (name) VALUES ('ＳＴＡＦＦ')")
        .await
        .is_ok();
    let mut expected = vec!["Staff".to_owned()];
    if second {
        expected.push("ＳＴＡＦＦ".to_owned());
    }
    assert_eq!(group_names(store).await, expected);
    // Both still work; a third look-alike is refused.
    store
        .grant_group("Staff", &["auth.view_user".into()])
        .await
        .unwrap();
    match store.create_group("staff").await {
        Err(Error::AlreadyExists { message, .. }) => {
            assert!(message.contains("looks the same"), "{message}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    if second {
        store
            .grant_group("ＳＴＡＦＦ", &["auth.view_group".into()])
            .await
            .unwrap();
        // Renaming one of an existing pair to another look-alike is refused (the other exists).
        assert_refused(store.rename_group("ＳＴＡＦＦ", "STAFF").await, "Staff");
        // Renaming it away is fine.
        store
            .rename_group("ＳＴＡＦＦ", "Staff (fullwidth)")
            .await
            .unwrap();
    }
}

async fn concurrent_lookalikes_end_with_one(_db: &TestDb, store: &Store) {
    let names = [
        "Editors",
        "editors",
        "EDITORS",
        "ＥＤＩＴＯＲＳ",
        "Ｅditors",
        "eDitors",
    ];
    let mut tasks = Vec::new();
    for name in names {
        let store = store.clone();
        tasks.push(tokio::spawn(async move { store.create_group(name).await }));
    }
    let mut created = 0;
    for t in tasks {
        if t.await.unwrap().is_ok() {
            created += 1;
        }
    }
    // However the writers interleave, at most one of them wins, and one does.
    assert_eq!(created, 1);
    assert_eq!(group_names(store).await.len(), 1);
}

store_conformance!(
    new_groups_that_look_alike_are_refused,
    new_usernames_that_look_alike_are_refused,
    renames_to_a_lookalike_are_refused,
    existing_lookalikes_are_left_alone,
    concurrent_lookalikes_end_with_one,
);
