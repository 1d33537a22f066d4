//! `principal.rs`: loading a user's permissions, cold and warm, by name, by key and with a
//! session: every permission arrives (hundreds of ids: more than MariaDB's default
//! `GROUP_CONCAT` length), the three paths agree, an outside write is seen by the next load on
//! each, and the members of the same groups share one copy of their permissions; on every
//! database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use castellan_core::{Principal, UserId};
use castellan_store::Store;
use castellan_testkit::{per_db, perms as s, store, store_at, user, TestDb};

/// Creates `n` permissions `library.perm_NNN` and returns their names.
async fn many_perms(store: &Store, n: usize) -> Vec<String> {
    let mut names = Vec::with_capacity(n);
    for i in 0..n {
        let name = format!("library.perm_{i:03}");
        store
            .create_permission(&name, "Thing", &format!("Can {i}"))
            .await
            .unwrap();
        names.push(name);
    }
    names
}

fn all(p: &Principal) -> Vec<String> {
    p.get_all_permissions()
}

/// The three ways a user is loaded, in this order: by name, by key, with a session.
async fn loads(store: &Store, name: &str, id: UserId, session: &str) -> [Vec<String>; 3] {
    let by_name = store.principal(name).await.unwrap().unwrap();
    let by_id = store.principal_by_id(id).await.unwrap().unwrap();
    let (_, with_user) = store.session_with_user(session, id).await.unwrap().unwrap();
    let (_, with_session) = with_user.unwrap();
    [all(&by_name), all(&by_id), all(&with_session)]
}

async fn every_path_loads_every_permission_and_sees_outside_writes(db: TestDb) {
    let store = store(&db).await;
    let names = many_perms(&store, 300).await;
    user(&store, "alice", |_| {}).await;
    let id = store.user("alice").await.unwrap().unwrap().id;
    // 180 direct, 180 through a group: 60 of them both ways.
    store.grant_user("alice", &names[..180]).await.unwrap();
    store.create_group("Readers").await.unwrap();
    store.grant_group("Readers", &names[120..]).await.unwrap();
    store
        .add_group_members("Readers", &s(&["alice"]))
        .await
        .unwrap();
    let expire = chrono::Utc::now() + chrono::Duration::hours(1);
    store.save_session("k1", "{}", expire).await.unwrap();

    let mut expected = names.clone();
    expected.sort();
    // Cold, then warm: each path in both states, and in either order.
    for round in 0..2 {
        for got in loads(&store, "alice", id, "k1").await {
            assert_eq!(got, expected, "round {round}");
        }
    }
    let fresh = store_at(&db.url).await;
    for got in loads(&fresh, "alice", id, "k1").await {
        assert_eq!(got, expected, "a store that has cached nothing");
    }

    // Another process revokes one direct grant and one group grant: every path's next load
    // misses both, cold or warm.
    let other = store_at(&db.url).await;
    other
        .revoke_user("alice", &s(&["library.perm_000"]))
        .await
        .unwrap();
    other
        .revoke_group("Readers", &s(&["library.perm_299"]))
        .await
        .unwrap();
    expected.retain(|n| n != "library.perm_000" && n != "library.perm_299");
    for round in 0..2 {
        for (i, got) in loads(&store, "alice", id, "k1")
            .await
            .into_iter()
            .enumerate()
        {
            assert_eq!(got, expected, "path {i}, round {round}");
        }
    }
    // A grant through a new membership arrives too.
    other.create_group("Lenders").await.unwrap();
    other
        .grant_group("Lenders", &s(&["library.perm_000"]))
        .await
        .unwrap();
    other
        .add_group_members("Lenders", &s(&["alice"]))
        .await
        .unwrap();
    expected.push("library.perm_000".into());
    expected.sort();
    for got in loads(&store, "alice", id, "k1").await {
        assert_eq!(got, expected);
    }
    other.close().await;
    fresh.close().await;
    store.close().await;
}

async fn members_of_the_same_groups_share_their_permissions(db: TestDb) {
    let store = store(&db).await;
    let names = many_perms(&store, 300).await;
    store.create_group("Everyone").await.unwrap();
    store.grant_group("Everyone", &names).await.unwrap();
    let mut members = Vec::new();
    for i in 0..40 {
        let name = format!("member{i:02}");
        user(&store, &name, |_| {}).await;
        members.push(name);
    }
    store.add_group_members("Everyone", &members).await.unwrap();
    let mut ids = Vec::new();
    for m in &members {
        ids.push(store.user(m).await.unwrap().unwrap().id);
    }
    for &id in &ids {
        let p = store.principal_by_id(id).await.unwrap().unwrap();
        assert_eq!(all(&p).len(), 300);
    }
    assert_eq!(store.cached_users(), 40);
    let per_user = store.cached_permission_bytes() / 40;
    // One copy of the 300-permission set for all 40: a copy each would cost more than this
    // per user on its own.
    assert!(
        per_user <= 128,
        "{per_user} B per cached user (the group set is not shared?)"
    );
    // A member with a direct permission has a set of their own, and checks see both.
    store
        .grant_user("member00", &s(&["auth.view_user"]))
        .await
        .unwrap();
    let p = store.principal_by_id(ids[0]).await.unwrap().unwrap();
    assert!(p.has_perm("auth.view_user") && p.has_perm("library.perm_150"));
    let q = store.principal_by_id(ids[1]).await.unwrap().unwrap();
    assert!(!q.has_perm("auth.view_user") && q.has_perm("library.perm_150"));
    store.close().await;
}

per_db!(
    every_path_loads_every_permission_and_sees_outside_writes,
    members_of_the_same_groups_share_their_permissions,
);
