//! `users.rs`: creating, changing, deleting users, their passwords, groups and direct permissions;
//! unknown names and bad input are clear errors that change nothing, on every database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use castellan_store::{Error, NewUser, UserChanges};
use castellan_testkit::{audit, per_db, perms as s, store, user, TestDb, PASSWORD};

fn not_found(e: &Error, kind: &str, name: &str) -> bool {
    matches!(e, Error::NotFound { what, name: n } if *what == kind && n == name)
}

async fn a_second_user_with_the_same_name_is_refused(db: TestDb) {
    let store = store(&db).await;
    user(&store, "alice", |u| u.email = "alice@example.org".into()).await;
    let mut again = NewUser::new("alice");
    again.email = "other@example.org".into();
    let err = store.create_user(again).await.unwrap_err();
    assert!(
        matches!(&err, Error::AlreadyExists { what: "user", .. }),
        "{err:?}"
    );
    assert!(err.is_input());
    assert!(
        err.to_string()
            .starts_with("A user with that username already exists"),
        "{err}"
    );
    let users = store.users().await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].email, "alice@example.org", "the first one is kept");
    assert_eq!(audit(&store).await, ["system user.create alice"]);
    store.close().await;
}

async fn update_user_changes_only_what_is_given(db: TestDb) {
    let store = store(&db).await;
    user(&store, "bob", |u| {
        u.first_name = "Bob".into();
        u.email = "bob@example.org".into();
    })
    .await;
    let updated = store
        .update_user(
            "bob",
            UserChanges {
                last_name: Some("Builder".into()),
                is_staff: Some(true),
                email: Some("Bob@EXAMPLE.ORG".into()),
                ..UserChanges::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.first_name, "Bob", "untouched");
    assert_eq!(updated.last_name, "Builder");
    assert_eq!(
        updated.email, "Bob@example.org",
        "the domain is lower-cased"
    );
    assert!(updated.is_staff && updated.is_active && !updated.is_superuser);
    assert_eq!(store.user("bob").await.unwrap().unwrap(), updated);
    let log = audit(&store).await;
    assert_eq!(log.last().unwrap(), "system user.update bob");
    store.close().await;
}

async fn update_user_errors_change_nothing(db: TestDb) {
    let store = store(&db).await;
    user(&store, "bob", |u| u.email = "bob@example.org".into()).await;
    let before = store.user("bob").await.unwrap().unwrap();
    let err = store
        .update_user(
            "nobody",
            UserChanges {
                is_superuser: Some(true),
                ..UserChanges::default()
            },
        )
        .await
        .unwrap_err();
    assert!(not_found(&err, "user", "nobody"), "{err:?}");
    assert_eq!(err.to_string(), "user \"nobody\" does not exist");
    let err = store
        .update_user(
            "bob",
            UserChanges {
                email: Some("not an address".into()),
                is_superuser: Some(true),
                ..UserChanges::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Input(_)), "{err:?}");
    assert_eq!(store.user("bob").await.unwrap().unwrap(), before);
    assert!(store.user("nobody").await.unwrap().is_none());
    assert_eq!(
        audit(&store).await,
        ["system user.create bob"],
        "no entry for a refused change"
    );
    store.close().await;
}

async fn passwords_set_unusable_and_unknown_users(db: TestDb) {
    let store = store(&db).await;
    user(&store, "carol", |_| {}).await;
    assert!(store
        .authenticate("carol", PASSWORD)
        .await
        .unwrap()
        .is_some());
    store
        .set_password("carol", Some("n3w-pass-word"))
        .await
        .unwrap();
    assert!(store
        .authenticate("carol", PASSWORD)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .authenticate("carol", "n3w-pass-word")
        .await
        .unwrap()
        .is_some());
    store.set_password("carol", None).await.unwrap();
    let carol = store.user("carol").await.unwrap().unwrap();
    assert!(
        carol.password.starts_with('!'),
        "Django's unusable password: {}",
        carol.password
    );
    assert!(store
        .authenticate("carol", "n3w-pass-word")
        .await
        .unwrap()
        .is_none());
    assert!(store.authenticate("carol", "").await.unwrap().is_none());
    // A user created without a password cannot log in either.
    store.create_user(NewUser::new("dave")).await.unwrap();
    assert!(store
        .user("dave")
        .await
        .unwrap()
        .unwrap()
        .password
        .starts_with('!'));
    assert!(store.authenticate("dave", "").await.unwrap().is_none());
    // Unknown users: an error for a write, "no" for a login.
    let err = store
        .set_password("nobody", Some("x-y-z-1-2-3"))
        .await
        .unwrap_err();
    assert!(not_found(&err, "user", "nobody"), "{err:?}");
    assert!(store
        .authenticate("nobody", PASSWORD)
        .await
        .unwrap()
        .is_none());
    store.close().await;
}

async fn memberships_and_direct_permissions_count_changes(db: TestDb) {
    let store = store(&db).await;
    user(&store, "erin", |_| {}).await;
    store.create_group("A").await.unwrap();
    store.create_group("B").await.unwrap();
    assert_eq!(
        store
            .add_user_to_groups("erin", &s(&["A", "B"]))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store.add_user_to_groups("erin", &s(&["A"])).await.unwrap(),
        0,
        "already"
    );
    assert_eq!(store.user_groups("erin").await.unwrap(), ["A", "B"]);
    assert_eq!(
        store
            .remove_user_from_groups("erin", &s(&["B"]))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .remove_user_from_groups("erin", &s(&["B"]))
            .await
            .unwrap(),
        0
    );
    let err = store
        .remove_user_from_groups("erin", &s(&["A", "Missing"]))
        .await
        .unwrap_err();
    assert!(not_found(&err, "group", "Missing"), "{err:?}");
    assert_eq!(store.user_groups("erin").await.unwrap(), ["A"], "A is kept");
    let err = store.user_groups("nobody").await.unwrap_err();
    assert!(not_found(&err, "user", "nobody"), "{err:?}");

    let both = s(&["auth.add_user", "auth.view_user"]);
    assert_eq!(store.grant_user("erin", &both).await.unwrap(), 2);
    assert_eq!(store.grant_user("erin", &both).await.unwrap(), 0);
    assert_eq!(
        store
            .revoke_user("erin", &s(&["auth.add_user"]))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .revoke_user("erin", &s(&["auth.add_user"]))
            .await
            .unwrap(),
        0
    );
    let err = store
        .revoke_user("erin", &s(&["auth.view_user", "auth.no_such"]))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Input(_)), "{err:?}");
    let erin = store.principal("erin").await.unwrap().unwrap();
    assert!(
        erin.has_perm("auth.view_user"),
        "kept: the revoke was refused whole"
    );
    assert!(!erin.has_perm("auth.add_user"));
    store.close().await;
}

async fn a_deleted_name_comes_back_clean(db: TestDb) {
    let store = store(&db).await;
    user(&store, "frank", |u| u.is_staff = true).await;
    store.create_group("G").await.unwrap();
    store.add_user_to_groups("frank", &s(&["G"])).await.unwrap();
    store
        .grant_user("frank", &s(&["auth.add_user"]))
        .await
        .unwrap();
    store.delete_user("frank").await.unwrap();
    let err = store.delete_user("frank").await.unwrap_err();
    assert!(not_found(&err, "user", "frank"), "{err:?}");
    assert!(store.group_detail("G").await.unwrap().members.is_empty());
    user(&store, "frank", |_| {}).await;
    assert!(store.user_groups("frank").await.unwrap().is_empty());
    let frank = store.principal("frank").await.unwrap().unwrap();
    assert!(frank.get_all_permissions().is_empty(), "nothing inherited");
    assert!(!store.user("frank").await.unwrap().unwrap().is_staff);
    store.close().await;
}

/// A write that fails half-way (a table it cascades to is gone) is rolled back whole: the user,
/// its memberships and the audit entry written in the same transaction are all still as before.
async fn a_delete_that_fails_half_way_leaves_everything(db: TestDb) {
    let store = store(&db).await;
    user(&store, "gina", |_| {}).await;
    store.create_group("G").await.unwrap();
    store.add_user_to_groups("gina", &s(&["G"])).await.unwrap();
    let log = audit(&store).await;
    // delete_user deletes memberships, then direct permissions: make the second step fail.
    store
        .execute_raw("DROP TABLE auth_user_user_permissions")
        .await
        .unwrap();
    let err = store.delete_user("gina").await.unwrap_err();
    assert!(!err.is_input(), "a database error: {err:?}");
    assert!(store.user("gina").await.unwrap().is_some());
    assert_eq!(store.user_groups("gina").await.unwrap(), ["G"]);
    assert_eq!(
        audit(&store).await,
        log,
        "no entry for the rolled-back delete"
    );
    store.close().await;
}

/// Several users' edits, or deletes, in one transaction: a stale version or the last superuser
/// anywhere in the batch and nothing is written (no change, no audit entry).
async fn batches_are_all_or_nothing(db: TestDb) {
    use castellan_store::{UserEdit, VersionedEdit};
    let store = store(&db).await;
    for name in ["ann", "ben", "cal"] {
        user(&store, name, |_| {}).await;
    }
    user(&store, "root", |u| u.is_superuser = true).await;
    let version = |u: &'static str| {
        let store = store.clone();
        async move { store.user_state(u).await.unwrap().unwrap().version }
    };
    let off = UserEdit {
        is_active: Some(false),
        ..UserEdit::default()
    };
    let (va, vb) = (version("ann").await, version("ben").await);
    let log = audit(&store).await;
    // ben's version is stale: ann is not deactivated either.
    let err = store
        .apply_user_edits(&[
            VersionedEdit {
                username: "ann",
                version: &va,
                edit: &off,
            },
            VersionedEdit {
                username: "ben",
                version: "stale",
                edit: &off,
            },
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert!(store.user("ann").await.unwrap().unwrap().is_active);
    assert_eq!(audit(&store).await, log);
    // Both current: both deactivated, one entry each.
    store
        .apply_user_edits(&[
            VersionedEdit {
                username: "ben",
                version: &vb,
                edit: &off,
            },
            VersionedEdit {
                username: "ann",
                version: &va,
                edit: &off,
            },
        ])
        .await
        .unwrap();
    for u in ["ann", "ben"] {
        assert!(!store.user(u).await.unwrap().unwrap().is_active);
    }
    assert_eq!(audit(&store).await.len(), log.len() + 2);
    // Deleting the last superuser in a batch: nobody is deleted.
    let (vc, vr) = (version("cal").await, version("root").await);
    let err = store
        .delete_users_at_versions(&[("cal", &vc), ("root", &vr)])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Refused(_)), "{err:?}");
    assert!(store.user("cal").await.unwrap().is_some());
    let err = store
        .delete_users_at_versions(&[("cal", "stale")])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    store
        .delete_users_at_versions(&[("cal", &vc)])
        .await
        .unwrap();
    assert!(store.user("cal").await.unwrap().is_none());
    store.close().await;
}

per_db!(
    batches_are_all_or_nothing,
    a_second_user_with_the_same_name_is_refused,
    update_user_changes_only_what_is_given,
    update_user_errors_change_nothing,
    passwords_set_unusable_and_unknown_users,
    memberships_and_direct_permissions_count_changes,
    a_deleted_name_comes_back_clean,
    a_delete_that_fails_half_way_leaves_everything,
);
