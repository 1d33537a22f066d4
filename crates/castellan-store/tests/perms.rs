//! `perms.rs`: the permission catalogue: listing, creating and deleting permissions, and checking
//! names; unknown and malformed names are clear errors, on every database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use castellan_store::Error;
use castellan_testkit::{audit, per_db, perms as s, store, TestDb};

async fn lists_by_app_label(db: TestDb) {
    let store = store(&db).await;
    let all = store.permissions(None).await.unwrap();
    let auth = store.permissions(Some("auth")).await.unwrap();
    assert!(
        auth.len() >= 12,
        "add/change/delete/view of user, group, permission"
    );
    assert!(auth.iter().all(|p| p.app_label == "auth"));
    assert!(auth.len() < all.len(), "contenttypes has its own");
    let change_user = auth.iter().find(|p| p.codename == "change_user").unwrap();
    assert_eq!(change_user.model, "user");
    assert_eq!(change_user.name, "Can change user");
    assert_eq!(change_user.user_perm_str(), "auth.change_user");
    assert!(store
        .permissions(Some("nosuchapp"))
        .await
        .unwrap()
        .is_empty());
    store.close().await;
}

async fn create_permission_makes_its_content_type_once(db: TestDb) {
    let store = store(&db).await;
    let created = store
        .create_permission("library.can_lend", "Loan", "Can lend")
        .await
        .unwrap();
    assert_eq!(created.model, "loan", "model names are lower-cased");
    assert_eq!(created.app_label, "library");
    let second = store
        .create_permission("library.can_renew", "loan", "Can renew")
        .await
        .unwrap();
    let library = store.permissions(Some("library")).await.unwrap();
    let mut codenames: Vec<&str> = library.iter().map(|p| p.codename.as_str()).collect();
    codenames.sort_unstable();
    assert_eq!(codenames, ["can_lend", "can_renew"]);
    assert!(library.iter().all(|p| p.model == "loan"));
    assert_ne!(created.id, second.id);
    let err = store
        .create_permission("library.can_lend", "loan", "Can lend again")
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::AlreadyExists {
                what: "permission",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "permission \"library.can_lend\" already exists"
    );
    assert_eq!(store.permissions(Some("library")).await.unwrap().len(), 2);
    let log = audit(&store).await;
    assert_eq!(
        log,
        [
            "system permission.create library.can_lend",
            "system permission.create library.can_renew"
        ]
    );
    store.close().await;
}

async fn malformed_permissions_are_refused(db: TestDb) {
    let store = store(&db).await;
    for (perm, model, name) in [
        ("nodot", "thing", "x"),
        ("app.", "thing", "x"),
        (".codename", "thing", "x"),
        ("app.code name", "thing", "x"),
        ("app.code", "two words", "x"),
    ] {
        let err = store
            .create_permission(perm, model, name)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Input(_)), "{perm} {model}: {err:?}");
    }
    let err = store
        .create_permission("app.code", "thing", &"n".repeat(256))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Input(_)), "{err:?}");
    assert!(store.permissions(Some("app")).await.unwrap().is_empty());
    assert!(audit(&store).await.is_empty());
    store.close().await;
}

async fn unknown_names_are_explained(db: TestDb) {
    let store = store(&db).await;
    store
        .resolve_permissions(&s(&["auth.add_user", "contenttypes.view_contenttype"]))
        .await
        .unwrap();
    store.resolve_permissions(&[]).await.unwrap();
    let err = store
        .resolve_permissions(&s(&["auth.add_user", "auth.chnage_user"]))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Input(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("did you mean \"auth.change_user\""),
        "{err}"
    );
    let err = store
        .resolve_permissions(&s(&["add_user"]))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Input(_)), "{err:?}");
    let before = store.permissions(None).await.unwrap().len();
    let err = store
        .delete_permission("auth.no_such_thing")
        .await
        .unwrap_err();
    assert!(err.is_input(), "{err:?}");
    assert_eq!(store.permissions(None).await.unwrap().len(), before);
    assert!(
        audit(&store).await.is_empty(),
        "no entry for a refused delete"
    );
    store.close().await;
}

per_db!(
    lists_by_app_label,
    create_permission_makes_its_content_type_once,
    malformed_permissions_are_refused,
    unknown_names_are_explained,
);
