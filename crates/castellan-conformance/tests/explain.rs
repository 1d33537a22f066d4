//! `explain`, paginated `who-has` and the permission matrix, on every store.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests panic on failed set-up.
//!
//! Each `async fn` below runs on a fresh, migrated SQLite, PostgreSQL and MariaDB database.

use castellan_conformance::{store_conformance, TestDb};
use castellan_core::explain::Reason;
use castellan_core::WithPerm;
use castellan_store::{NewUser, Store, UserChanges};

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| (*x).to_owned()).collect()
}

/// alice: direct add_group + Editors (change_user); bob: Editors + Staff (both grant change_user);
/// carol: nothing; root: superuser; ghost: inactive with change_user; phantom: inactive superuser.
async fn library(store: &Store) {
    for g in ["Editors", "Staff", "Publishers"] {
        store.create_group(g).await.unwrap();
    }
    store
        .grant_group("Editors", &s(&["auth.change_user", "auth.view_user"]))
        .await
        .unwrap();
    store
        .grant_group("Staff", &s(&["auth.change_user"]))
        .await
        .unwrap();
    store
        .grant_group("Publishers", &s(&["auth.delete_user"]))
        .await
        .unwrap();
    for u in ["alice", "bob", "carol", "ghost"] {
        store.create_user(NewUser::new(u)).await.unwrap();
    }
    let mut root = NewUser::new("root");
    root.is_superuser = true;
    store.create_user(root).await.unwrap();
    let mut phantom = NewUser::new("phantom");
    phantom.is_superuser = true;
    phantom.is_active = false;
    store.create_user(phantom).await.unwrap();
    store
        .grant_user("alice", &s(&["auth.add_group", "auth.change_user"]))
        .await
        .unwrap();
    store
        .add_user_to_groups("alice", &s(&["Editors"]))
        .await
        .unwrap();
    store
        .add_user_to_groups("bob", &s(&["Editors", "Staff"]))
        .await
        .unwrap();
    store
        .grant_user("ghost", &s(&["auth.change_user"]))
        .await
        .unwrap();
    store
        .add_user_to_groups("ghost", &s(&["Staff"]))
        .await
        .unwrap();
    store
        .update_user(
            "ghost",
            UserChanges {
                is_active: Some(false),
                ..UserChanges::default()
            },
        )
        .await
        .unwrap();
}

async fn explain_every_reason(_db: &TestDb, store: &Store) {
    library(store).await;
    let why = |u: &'static str, p: &'static str| async move {
        store.explain(u, p).await.unwrap().unwrap()
    };
    // Direct only.
    let e = why("alice", "auth.add_group").await;
    assert_eq!(
        (e.allowed, e.reason, e.direct),
        (true, Reason::Granted, true)
    );
    assert!(e.groups.is_empty());
    // Direct and a group.
    let e = why("alice", "auth.change_user").await;
    assert_eq!((e.allowed, e.direct), (true, true));
    assert_eq!(e.groups, ["Editors"]);
    // One group.
    let e = why("alice", "auth.view_user").await;
    assert_eq!((e.allowed, e.direct), (true, false));
    assert_eq!(e.groups, ["Editors"]);
    // Several groups.
    let e = why("bob", "auth.change_user").await;
    assert_eq!(e.groups, ["Editors", "Staff"]);
    assert!(e.message.contains("through groups"), "{}", e.message);
    // Denied, with the groups that would grant it.
    let e = why("carol", "auth.change_user").await;
    assert_eq!((e.allowed, e.reason), (false, Reason::NotGranted));
    assert_eq!(e.would_grant, ["Editors", "Staff"]);
    let e = why("bob", "auth.view_user").await;
    assert!(e.allowed);
    let e = why("alice", "auth.delete_user").await;
    assert_eq!(e.would_grant, ["Publishers"]);
    // Superusers.
    let e = why("root", "auth.delete_user").await;
    assert_eq!((e.allowed, e.reason), (true, Reason::Superuser));
    let e = why("phantom", "auth.delete_user").await;
    assert_eq!((e.allowed, e.reason), (false, Reason::Inactive));
    assert_eq!(e.would_have, Some(true));
    // Inactive, with what it would have had.
    let e = why("ghost", "auth.change_user").await;
    assert_eq!((e.allowed, e.reason), (false, Reason::Inactive));
    assert_eq!((e.direct, e.would_have), (true, Some(true)));
    assert_eq!(e.groups, ["Staff"]);
    // Unknown and malformed names.
    let e = why("alice", "auth.chnage_user").await;
    assert_eq!((e.allowed, e.reason), (false, Reason::UnknownPermission));
    assert_eq!(
        e.suggestions.first().map(String::as_str),
        Some("auth.change_user")
    );
    assert!(e.suggestions.len() <= 3);
    let e = why("alice", "change_user").await;
    assert_eq!(e.reason, Reason::MalformedPermission);
    // Anonymous.
    let e = store.explain_anonymous("auth.view_user").await.unwrap();
    assert_eq!((e.allowed, e.reason), (false, Reason::Anonymous));
    // No such user.
    assert!(store
        .explain("nobody", "auth.view_user")
        .await
        .unwrap()
        .is_none());
    // The decision always agrees with has_perm.
    for u in ["alice", "bob", "carol", "root", "ghost", "phantom"] {
        let p = store.principal(u).await.unwrap().unwrap();
        for perm in [
            "auth.change_user",
            "auth.view_user",
            "auth.add_group",
            "x.y",
        ] {
            assert_eq!(why(u, perm).await.allowed, p.has_perm(perm), "{u} {perm}");
        }
    }
}

async fn who_has_pages_concatenate(_db: &TestDb, store: &Store) {
    store.create_group("G").await.unwrap();
    store
        .grant_group("G", &s(&["auth.view_user"]))
        .await
        .unwrap();
    // Unicode and case (MariaDB's usernames are case-insensitive, so no two differ by case only):
    // byte order puts "Zoë" < "a…" < "z" < "é…" < "ž…" < "日本".
    let names = [
        "日本", "zed", "Zoë", "alice", "Carl", "bob", "émile", "éa", "ža", "a.b", "a-b", "a_b",
        "a+b", "a@b", "a", "aa", "ab", "b0", "b1", "b10", "b2",
    ];
    for (i, n) in names.iter().enumerate() {
        store.create_user(NewUser::new(*n)).await.unwrap();
        if i % 3 == 0 {
            store.grant_user(n, &s(&["auth.view_user"])).await.unwrap();
        } else if i % 3 == 1 {
            store.add_user_to_groups(n, &s(&["G"])).await.unwrap();
        }
    }
    store.create_user(NewUser::new("other")).await.unwrap();
    let mut root = NewUser::new("Ω-root");
    root.is_superuser = true;
    store.create_user(root).await.unwrap();
    for args in [
        WithPerm::new("auth.view_user").unwrap(),
        WithPerm::new("auth.view_user")
            .unwrap()
            .include_superusers(false),
        WithPerm::new("auth.view_user").unwrap().is_active(None),
    ] {
        let all = store.with_perm(&args).await.unwrap();
        let mut sorted = all.clone();
        sorted.sort();
        assert_eq!(all, sorted);
        assert_eq!(
            store.with_perm_count(&args).await.unwrap(),
            all.len() as u64
        );
        for limit in [1, 2, 3, 5, 100] {
            let mut got = Vec::new();
            let mut after: Option<String> = None;
            let mut pages = 0;
            loop {
                let page = store
                    .with_perm_page(&args, after.as_deref(), limit)
                    .await
                    .unwrap();
                pages += 1;
                assert!(page.usernames.len() <= limit);
                got.extend(page.usernames.iter().cloned());
                match page.next {
                    Some(n) => {
                        assert_eq!(Some(&n), page.usernames.last());
                        after = Some(n);
                    }
                    None => break,
                }
                assert!(pages < 100, "pagination does not end");
            }
            assert_eq!(got, all, "limit {limit}");
        }
        let mut streamed = Vec::new();
        let n = store
            .with_perm_each(&args, None, |u| {
                streamed.push(u.to_owned());
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(streamed, all);
        assert_eq!(n, all.len() as u64);
        // A cursor in the middle, including one that is not itself a username.
        for cursor in ["a", "Zz", "é", "日"] {
            let mut rest = Vec::new();
            store
                .with_perm_each(&args, Some(cursor), |u| {
                    rest.push(u.to_owned());
                    Ok(())
                })
                .await
                .unwrap();
            let want: Vec<String> = all
                .iter()
                .filter(|u| u.as_str() > cursor)
                .cloned()
                .collect();
            assert_eq!(rest, want, "after {cursor:?}");
        }
    }
    let all = store
        .with_perm(&WithPerm::new("auth.view_user").unwrap())
        .await
        .unwrap();
    assert!(all.contains(&"Ω-root".to_owned()));
    assert!(!all.contains(&"other".to_owned()));
    assert!(all.contains(&"日本".to_owned()));
}

store_conformance!(explain_every_reason, who_has_pages_concatenate);
