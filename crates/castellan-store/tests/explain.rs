//! `explain.rs`: the explanation of a decision follows changes made by another connection at once
//! (the generation drops the cached principal), and agrees with `has_perm`, on every database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use castellan_core::explain::Reason;
use castellan_testkit::{per_db, perms as s, store, user, TestDb};

async fn explanations_follow_another_connections_writes(db: TestDb) {
    let reader = store(&db).await;
    let writer = store(&db).await;
    user(&writer, "ann", |_| {}).await;
    let why = || async {
        let e = reader
            .explain("ann", "auth.view_user")
            .await
            .unwrap()
            .unwrap();
        let has = reader
            .principal("ann")
            .await
            .unwrap()
            .unwrap()
            .has_perm("auth.view_user");
        assert_eq!(e.allowed, has, "the explanation agrees with has_perm");
        e
    };
    let e = why().await;
    assert_eq!((e.allowed, e.reason), (false, Reason::NotGranted));
    assert!(e.groups.is_empty() && e.would_grant.is_empty());

    writer.create_group("Readers").await.unwrap();
    writer
        .grant_group("Readers", &s(&["auth.view_user"]))
        .await
        .unwrap();
    let e = why().await;
    assert_eq!(e.would_grant, ["Readers"], "a group that would grant it");
    assert!(!e.allowed);

    writer
        .add_user_to_groups("ann", &s(&["Readers"]))
        .await
        .unwrap();
    let e = why().await;
    assert_eq!((e.allowed, e.reason), (true, Reason::Granted));
    assert_eq!(e.groups, ["Readers"]);
    assert!(!e.direct);

    writer
        .update_user(
            "ann",
            castellan_store::UserChanges {
                is_active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let e = why().await;
    assert_eq!((e.allowed, e.reason), (false, Reason::Inactive));
    assert_eq!(e.would_have, Some(true));

    writer.delete_group("Readers").await.unwrap();
    let e = why().await;
    assert_eq!((e.allowed, e.reason), (false, Reason::Inactive));
    assert_eq!(e.would_have, Some(false));
    assert!(e.groups.is_empty() && e.would_grant.is_empty());

    writer.delete_user("ann").await.unwrap();
    assert!(reader
        .explain("ann", "auth.view_user")
        .await
        .unwrap()
        .is_none());
    reader.close().await;
    writer.close().await;
}

per_db!(explanations_follow_another_connections_writes);
