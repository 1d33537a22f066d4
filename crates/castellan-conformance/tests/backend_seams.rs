//! The seams' contract: [`AuthnBackend`] and [`SessionStore`] answer alike whether users live in
//! memory ([`castellan_core::MemoryBackend`]) or in Django's tables on SQLite, PostgreSQL or
//! MariaDB ([`castellan_store::Store`]). Every test runs four times (see `castellan_testkit::per_db!`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests panic on failed set-up.

use castellan_conformance::backend_suite::Fixture;
use castellan_testkit::per_db;
use chrono::{Duration, Utc};

async fn authenticate_follows_django<B: Fixture>(b: &B) {
    let alice = b.user("alice", Some("correct horse")).await;
    b.user("nopass", None).await;
    let ok = b.authenticate("alice", "correct horse").await.unwrap();
    assert_eq!(ok.map(|u| u.id), Some(alice.id));
    assert!(b.authenticate("alice", "wrong").await.unwrap().is_none());
    assert!(b
        .authenticate("nobody", "correct horse")
        .await
        .unwrap()
        .is_none());
    assert!(b.authenticate("nopass", "").await.unwrap().is_none());
    b.set_active("alice", false).await;
    assert!(
        b.authenticate("alice", "correct horse")
            .await
            .unwrap()
            .is_none(),
        "an inactive user cannot authenticate"
    );
}

async fn session_ids_find_users<B: Fixture>(b: &B) {
    let alice = b.user("alice", Some("pw")).await;
    let found = b.user_by_session_id(&alice.id.to_string()).await.unwrap();
    assert_eq!(found.map(|u| u.username), Some("alice".to_owned()));
    for bad in ["", "abc", "1.5", " 1", "99999999"] {
        assert!(
            b.user_by_session_id(bad).await.unwrap().is_none(),
            "{bad:?} names nobody"
        );
    }
    // Inactive users are returned: the web layer decides what to do with them.
    b.set_active("alice", false).await;
    let found = b.user_by_session_id(&alice.id.to_string()).await.unwrap();
    assert_eq!(found.map(|u| u.is_active), Some(false));
    b.delete_user("alice").await;
    assert!(b
        .user_by_session_id(&alice.id.to_string())
        .await
        .unwrap()
        .is_none());
}

async fn principals_combine_direct_and_group_permissions<B: Fixture>(b: &B) {
    let alice = b.user("alice", Some("pw")).await;
    b.group("Editors").await;
    b.join("alice", "Editors").await;
    b.user_perm("alice", "auth.view_user", true).await;
    b.group_perm("Editors", "auth.change_group", true).await;
    let p = b.principal(&alice).await.unwrap();
    assert!(p.has_perm("auth.view_user"));
    assert!(p.has_perm("auth.change_group"));
    assert!(!p.has_perm("auth.change_user"));
    assert_eq!(p.get_user_permissions(), ["auth.view_user"]);
    assert_eq!(p.get_group_permissions(), ["auth.change_group"]);
    assert_eq!(b.user_groups(&alice).await.unwrap(), ["Editors"]);
}

async fn revocations_show_on_the_next_principal<B: Fixture>(b: &B) {
    let alice = b.user("alice", Some("pw")).await;
    b.group("Editors").await;
    b.join("alice", "Editors").await;
    b.group_perm("Editors", "auth.change_user", true).await;
    assert!(b
        .principal(&alice)
        .await
        .unwrap()
        .has_perm("auth.change_user"));
    b.group_perm("Editors", "auth.change_user", false).await;
    assert!(!b
        .principal(&alice)
        .await
        .unwrap()
        .has_perm("auth.change_user"));
    b.user_perm("alice", "auth.view_group", true).await;
    assert!(b
        .principal(&alice)
        .await
        .unwrap()
        .has_perm("auth.view_group"));
    b.user_perm("alice", "auth.view_group", false).await;
    assert!(!b
        .principal(&alice)
        .await
        .unwrap()
        .has_perm("auth.view_group"));
}

async fn flags_come_from_the_row_given<B: Fixture>(b: &B) {
    let root = b.user("root", Some("pw")).await;
    let id = root.id.to_string();
    b.set_superuser("root", true).await;
    let root = b.user_by_session_id(&id).await.unwrap().unwrap();
    let p = b.principal(&root).await.unwrap();
    assert!(p.has_perm("auth.change_user") && p.has_perm("anything.at_all"));
    b.set_active("root", false).await;
    let root = b.user_by_session_id(&id).await.unwrap().unwrap();
    assert!(!b
        .principal(&root)
        .await
        .unwrap()
        .has_perm("auth.change_user"));
}

async fn the_index_holds_every_permission<B: Fixture>(b: &B) {
    let index = b.permission_index().await.unwrap();
    for perm in castellan_conformance::backend_suite::SUITE_PERMISSIONS {
        assert!(index.resolve(perm).is_some(), "{perm} is in the index");
    }
    assert!(index.resolve("auth.change_usr").is_none());
    assert_eq!(index.closest("auth.change_usr"), Some("auth.change_user"));
}

async fn groups_come_sorted<B: Fixture>(b: &B) {
    let alice = b.user("alice", Some("pw")).await;
    for g in ["Zeta", "alpha", "Beta"] {
        b.group(g).await;
        b.join("alice", g).await;
    }
    let mut expected = vec!["Zeta", "alpha", "Beta"];
    expected.sort();
    assert_eq!(b.user_groups(&alice).await.unwrap(), expected);
    let bob = b.user("bob", Some("pw")).await;
    assert!(b.user_groups(&bob).await.unwrap().is_empty());
}

async fn set_password_replaces_the_hash<B: Fixture>(b: &B) {
    let alice = b.user("alice", Some("old password")).await;
    let updated = b
        .set_password(&alice, "new password")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.id, alice.id);
    assert_ne!(updated.password, alice.password);
    assert!(
        updated.password.starts_with("pbkdf2_sha256$"),
        "{}",
        updated.password
    );
    assert!(b
        .authenticate("alice", "old password")
        .await
        .unwrap()
        .is_none());
    assert!(b
        .authenticate("alice", "new password")
        .await
        .unwrap()
        .is_some());
    b.delete_user("alice").await;
    assert!(b.set_password(&alice, "again").await.unwrap().is_none());
}

async fn logins_are_recorded<B: Fixture>(b: &B) {
    let alice = b.user("alice", Some("pw")).await;
    assert!(alice.last_login.is_none());
    let before = Utc::now() - Duration::seconds(2);
    b.touch_last_login(&alice).await.unwrap();
    let alice = b
        .user_by_session_id(&alice.id.to_string())
        .await
        .unwrap()
        .unwrap();
    let at = alice.last_login.expect("last_login is set");
    assert!(
        at >= before && at <= Utc::now() + Duration::seconds(2),
        "{at}"
    );
}

async fn sessions_save_load_and_delete<B: Fixture>(b: &B) {
    let later = Utc::now() + Duration::hours(1);
    assert!(b.load("k1").await.unwrap().is_none());
    b.save("k1", "data one", later).await.unwrap();
    assert_eq!(b.load("k1").await.unwrap().as_deref(), Some("data one"));
    b.save("k1", "data two", later).await.unwrap();
    assert_eq!(b.load("k1").await.unwrap().as_deref(), Some("data two"));
    b.save("k2", "other", later).await.unwrap();
    b.delete("k1").await.unwrap();
    assert!(b.load("k1").await.unwrap().is_none());
    assert_eq!(b.load("k2").await.unwrap().as_deref(), Some("other"));
    b.delete("never-existed").await.unwrap();
}

async fn expired_sessions_are_gone<B: Fixture>(b: &B) {
    b.save("old", "data", Utc::now() - Duration::seconds(5))
        .await
        .unwrap();
    assert!(b.load("old").await.unwrap().is_none());
}

async fn cycling_moves_a_session<B: Fixture>(b: &B) {
    let later = Utc::now() + Duration::hours(1);
    b.save("before", "data", later).await.unwrap();
    b.cycle("before", "after", "data+", later).await.unwrap();
    assert!(b.load("before").await.unwrap().is_none());
    assert_eq!(b.load("after").await.unwrap().as_deref(), Some("data+"));
    b.prepare().await.unwrap();
    assert_eq!(
        b.load("after").await.unwrap().as_deref(),
        Some("data+"),
        "prepare keeps what is stored"
    );
}

async fn users_are_found_by_email_ignoring_case<B: Fixture>(b: &B) {
    for name in ["ann", "amy", "off", "bob", "blank"] {
        b.user(name, Some("pw")).await;
    }
    b.set_email("ann", "ann@example.com").await;
    b.set_email("amy", "ANN@example.com").await;
    b.set_email("off", "ann@example.com").await;
    b.set_active("off", false).await;
    b.set_email("bob", "bob@example.com").await;
    let mut found: Vec<String> = b
        .users_by_email("Ann@Example.com")
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    found.sort();
    assert_eq!(found, ["amy", "ann"], "active users only, any case");
    assert!(b.users_by_email("").await.unwrap().is_empty());
    assert!(b
        .users_by_email("nobody@example.com")
        .await
        .unwrap()
        .is_empty());
    assert!(b
        .users_by_email("_nn@example.com")
        .await
        .unwrap()
        .is_empty());
}

per_db!(
    memory = castellan_conformance::backend_suite::memory_backend();
    authenticate_follows_django,
    session_ids_find_users,
    principals_combine_direct_and_group_permissions,
    revocations_show_on_the_next_principal,
    flags_come_from_the_row_given,
    the_index_holds_every_permission,
    groups_come_sorted,
    set_password_replaces_the_hash,
    logins_are_recorded,
    sessions_save_load_and_delete,
    expired_sessions_are_gone,
    cycling_moves_a_session,
    users_are_found_by_email_ignoring_case,
);
