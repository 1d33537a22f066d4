//! `groups.rs`: creating, renaming, deleting groups, their permissions and members; unknown names
//! and collisions are clear errors that change nothing, on every database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use castellan_store::{Error, RowKind};
use castellan_testkit::{audit, per_db, perms as s, store, user, TestDb};

fn not_found(e: &Error, kind: &str, name: &str) -> bool {
    matches!(e, Error::NotFound { what, name: n } if *what == kind && n == name)
}

async fn names(store: &castellan_store::Store) -> Vec<String> {
    let mut v: Vec<String> = store
        .groups()
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    v.sort();
    v
}

async fn renames_refuse_taken_and_unknown_names(db: TestDb) {
    let store = store(&db).await;
    store.create_group("Editors").await.unwrap();
    store.create_group("Authors").await.unwrap();
    store
        .grant_group("Editors", &s(&["auth.change_user"]))
        .await
        .unwrap();
    let log = audit(&store).await;
    let err = store.rename_group("Editors", "Authors").await.unwrap_err();
    assert!(
        matches!(&err, Error::AlreadyExists { what: "group", .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("\"Authors\""), "{err}");
    let err = store.rename_group("Nobody", "Somebody").await.unwrap_err();
    assert!(not_found(&err, "group", "Nobody"), "{err:?}");
    assert_eq!(err.to_string(), "group \"Nobody\" does not exist");
    let err = store
        .rename_group("Editors", &"x".repeat(151))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Input(_)), "{err:?}");
    assert_eq!(names(&store).await, ["Authors", "Editors"]);
    assert_eq!(audit(&store).await, log, "refused renames are not audited");
    // A rename keeps the permissions and members; changing only the case is allowed.
    user(&store, "ed", |_| {}).await;
    store
        .add_user_to_groups("ed", &s(&["Editors"]))
        .await
        .unwrap();
    store.rename_group("Editors", "editors").await.unwrap();
    store.rename_group("editors", "Desk").await.unwrap();
    let desk = store.group_detail("Desk").await.unwrap();
    assert_eq!(desk.permissions, ["auth.change_user"]);
    assert_eq!(desk.members, ["ed"]);
    assert!(not_found(
        &store.group_detail("Editors").await.unwrap_err(),
        "group",
        "Editors"
    ));
    assert!(store
        .principal("ed")
        .await
        .unwrap()
        .unwrap()
        .has_perm("auth.change_user"));
    let log = audit(&store).await;
    assert!(
        log.ends_with(&[
            "system group.rename editors".to_owned(),
            "system group.rename Desk".to_owned()
        ]),
        "{log:?}"
    );
    store.close().await;
}

async fn unknown_groups_and_members_are_errors(db: TestDb) {
    let store = store(&db).await;
    user(&store, "ann", |_| {}).await;
    user(&store, "ben", |_| {}).await;
    store.create_group("G").await.unwrap();
    let err = store.delete_group("Missing").await.unwrap_err();
    assert!(not_found(&err, "group", "Missing"), "{err:?}");
    assert!(err.is_input());
    let err = store.group_detail("Missing").await.unwrap_err();
    assert!(not_found(&err, "group", "Missing"), "{err:?}");
    let err = store
        .add_group_members("G", &s(&["ann", "nobody", "ben"]))
        .await
        .unwrap_err();
    assert!(not_found(&err, "user", "nobody"), "{err:?}");
    assert!(
        store.group_detail("G").await.unwrap().members.is_empty(),
        "nobody added"
    );
    let err = store
        .add_group_members("Missing", &s(&["ann"]))
        .await
        .unwrap_err();
    assert!(not_found(&err, "group", "Missing"), "{err:?}");
    assert!(store.user_groups("ann").await.unwrap().is_empty());
    assert_eq!(
        store
            .add_group_members("G", &s(&["ann", "ben"]))
            .await
            .unwrap(),
        2
    );
    assert_eq!(store.add_group_members("G", &s(&["ben"])).await.unwrap(), 0);
    assert_eq!(
        store.remove_group_members("G", &s(&["ben"])).await.unwrap(),
        1
    );
    assert_eq!(
        store.remove_group_members("G", &s(&["ben"])).await.unwrap(),
        0
    );
    assert_eq!(store.group_detail("G").await.unwrap().members, ["ann"]);
    let err = store
        .grant_group("Missing", &s(&["auth.add_user"]))
        .await
        .unwrap_err();
    assert!(not_found(&err, "group", "Missing"), "{err:?}");
    store.close().await;
}

async fn grants_and_revokes_count_changes(db: TestDb) {
    let store = store(&db).await;
    store.create_group("G").await.unwrap();
    let three = s(&["auth.add_user", "auth.view_user", "auth.view_group"]);
    assert_eq!(store.grant_group("G", &three).await.unwrap(), 3);
    assert_eq!(store.grant_group("G", &three).await.unwrap(), 0);
    assert_eq!(
        store
            .revoke_group("G", &s(&["auth.view_user"]))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .revoke_group("G", &s(&["auth.view_user"]))
            .await
            .unwrap(),
        0
    );
    let err = store
        .revoke_group("G", &s(&["auth.add_user", "auth.view_usr"]))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("did you mean \"auth.view_user\""),
        "{err}"
    );
    assert_eq!(
        store.group_detail("G").await.unwrap().permissions,
        ["auth.add_user", "auth.view_group"],
        "the refused revoke removed nothing"
    );
    store.close().await;
}

/// A delete that fails half-way (a table it cascades to is gone) is rolled back whole: the group
/// keeps its permissions, and the audit entry written in the transaction is gone with it.
async fn a_delete_that_fails_half_way_leaves_everything(db: TestDb) {
    let store = store(&db).await;
    store.create_group("G").await.unwrap();
    store
        .grant_group("G", &s(&["auth.add_user"]))
        .await
        .unwrap();
    let log = audit(&store).await;
    // delete_group deletes the grants, then the memberships: make the second step fail.
    store
        .execute_raw("DROP TABLE auth_user_groups")
        .await
        .unwrap();
    let err = store.delete_group("G").await.unwrap_err();
    assert!(!err.is_input(), "a database error: {err:?}");
    assert_eq!(names(&store).await, ["G"]);
    let matrix = store.matrix(&[], Some("auth")).await.unwrap();
    let add_user = matrix
        .columns
        .iter()
        .position(|c| c.permission == "auth.add_user")
        .unwrap();
    let g = matrix
        .rows
        .iter()
        .find(|r| r.kind == RowKind::Group)
        .unwrap();
    assert_eq!(g.name, "G");
    assert!(g.granted[add_user], "the grant deleted first is back");
    assert_eq!(g.granted.iter().filter(|x| **x).count(), 1);
    assert_eq!(
        audit(&store).await,
        log,
        "no entry for the rolled-back delete"
    );
    store.close().await;
}

per_db!(
    renames_refuse_taken_and_unknown_names,
    unknown_groups_and_members_are_errors,
    grants_and_revokes_count_changes,
    a_delete_that_fails_half_way_leaves_everything,
);
