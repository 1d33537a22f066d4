//! `explain`, paginated `who-has` and the permission matrix, on every store.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests panic on failed set-up.
//!
//! Each `async fn` below runs on a fresh, migrated SQLite, PostgreSQL and MariaDB database.

use castellan_conformance::TestDb;
use castellan_core::explain::Reason;
use castellan_core::WithPerm;
use castellan_store::{NewUser, Store, UserChanges};
use castellan_testkit::per_db;

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

/// Every combination of `with_perm`'s arguments over users who hold the permission in every way
/// (directly, through one or two groups, both), inactive or not, superuser or not: the count, the
/// ids, the stream and the pages all equal the plain `with_perm` — also once Castellan's `auth_user`
/// flag indexes are gone (they only speed the answer up), and `migrate` puts them back.
async fn who_has_every_argument_combination(db: &TestDb, store: &Store) {
    for g in ["G1", "G2", "Other"] {
        store.create_group(g).await.unwrap();
    }
    for g in ["G1", "G2"] {
        store.grant_group(g, &s(&["auth.view_user"])).await.unwrap();
    }
    store
        .grant_group("Other", &s(&["auth.add_user"]))
        .await
        .unwrap();
    // (name, direct grant, groups, superuser, active)
    let people: [(&str, bool, &[&str], bool, bool); 12] = [
        ("direct", true, &[], false, true),
        ("group1", false, &["G1"], false, true),
        ("two_groups", false, &["G1", "G2"], false, true),
        ("both_ways", true, &["G2"], false, true),
        ("other_group", false, &["Other"], false, true),
        ("nothing", false, &[], false, true),
        ("off_direct", true, &[], false, false),
        ("off_group", false, &["G1"], false, false),
        ("off_nothing", false, &[], false, false),
        ("root", false, &[], true, true),
        ("root_holder", true, &["G1"], true, true),
        ("off_root", false, &[], true, false),
    ];
    for (name, direct, groups, superuser, active) in people {
        let mut u = NewUser::new(name);
        u.is_superuser = superuser;
        u.is_active = active;
        store.create_user(u).await.unwrap();
        if direct {
            store
                .grant_user(name, &s(&["auth.view_user"]))
                .await
                .unwrap();
        }
        if !groups.is_empty() {
            store.add_user_to_groups(name, &s(groups)).await.unwrap();
        }
    }
    let id_of = |users: &[castellan_core::User], name: &str| {
        users
            .iter()
            .find(|u| u.username == name)
            .map(|u| u.id)
            .unwrap()
    };
    let check = |label: &'static str| async move {
        let users = store.users().await.unwrap();
        let mut combos = 0;
        for include_superusers in [true, false] {
            for is_active in [Some(true), Some(false), None] {
                let args = WithPerm::new("auth.view_user")
                    .unwrap()
                    .include_superusers(include_superusers)
                    .is_active(is_active);
                // The rule, spelled out from the table above.
                let mut want: Vec<String> = people
                    .iter()
                    .filter(|(_, direct, groups, superuser, active)| {
                        let holds = *direct || groups.iter().any(|g| *g == "G1" || *g == "G2");
                        (holds || (include_superusers && *superuser))
                            && is_active.is_none_or(|a| a == *active)
                    })
                    .map(|(n, ..)| (*n).to_owned())
                    .collect();
                want.sort();
                let ctx = format!(
                    "{label}: include_superusers={include_superusers} is_active={is_active:?}"
                );
                assert_eq!(store.with_perm(&args).await.unwrap(), want, "{ctx}");
                assert_eq!(
                    store.with_perm_count(&args).await.unwrap(),
                    want.len() as u64,
                    "{ctx}"
                );
                let mut want_ids: Vec<castellan_core::UserId> =
                    want.iter().map(|n| id_of(&users, n)).collect();
                want_ids.sort();
                assert_eq!(store.with_perm_ids(&args).await.unwrap(), want_ids, "{ctx}");
                let mut streamed = Vec::new();
                store
                    .with_perm_each(&args, None, |u| {
                        streamed.push(u.to_owned());
                        Ok(())
                    })
                    .await
                    .unwrap();
                assert_eq!(streamed, want, "{ctx}");
                let mut paged = Vec::new();
                let mut after: Option<String> = None;
                loop {
                    let page = store
                        .with_perm_page(&args, after.as_deref(), 2)
                        .await
                        .unwrap();
                    paged.extend(page.usernames);
                    match page.next {
                        Some(next) => after = Some(next),
                        None => break,
                    }
                }
                assert_eq!(paged, want, "{ctx}");
                combos += 1;
            }
        }
        assert_eq!(combos, 6);
    };
    // Drops Castellan's two `auth_user` indexes; an error when one is missing.
    let drop_flag_indexes = || async move {
        for index in [
            "castellan_auth_user_superuser",
            "castellan_auth_user_inactive",
        ] {
            let drop = match db.kind() {
                castellan_conformance::Kind::MySql => format!("DROP INDEX {index} ON auth_user"),
                _ => format!("DROP INDEX {index}"),
            };
            store
                .execute_raw(&drop)
                .await
                .map_err(|e| format!("{index}: {e}"))?;
        }
        Ok::<(), String>(())
    };
    check("with the flag indexes").await;
    drop_flag_indexes().await.unwrap();
    check("without them").await;
    store
        .migrate(&castellan_core::Registry::django())
        .await
        .unwrap();
    // Dropping them again succeeds only if `migrate` recreated them.
    drop_flag_indexes()
        .await
        .unwrap_or_else(|e| panic!("not recreated by migrate: {e}"));
}

per_db!(
    migrated;
    explain_every_reason,
    who_has_pages_concatenate,
    who_has_every_argument_combination
);
