//! `StoreOptions::reuse_notified_reads` on PostgreSQL: a logged-in request's session, user and
//! permissions served from memory while no notification of Castellan's triggers says they
//! changed. Every kind of outside write (through another store, as another process would make
//! it, or plain SQL) reaches the cache; a write that sends no notification (triggers disabled
//! for its transaction) is what proves a read was served from memory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use castellan_core::{Principal, User, UserId};
use castellan_store::{NewUser, Store, StoreOptions, UserChanges};
use castellan_testkit::{Kind, TestDb};
use chrono::Utc;

type Read = Option<(String, Option<(User, Principal)>)>;

async fn notified(db: &TestDb, max_age: Duration) -> Store {
    let store = Store::connect_with(
        &db.url,
        StoreOptions {
            reuse_notified_reads: Some(max_age),
            ..castellan_testkit::cheap_options()
        },
    )
    .await
    .unwrap();
    assert!(
        store.reusing_reads(Duration::from_secs(10)).await,
        "the listener connects and the triggers are installed"
    );
    store
}

/// Runs `sql` in a transaction whose triggers do not fire: no notification is sent, so the
/// cache cannot know (what only a read from memory still shows).
async fn silently(store: &Store, sql: &str) {
    let mut tx = store.db().begin().await.unwrap();
    tx.execute_once("SET LOCAL session_replication_role = replica")
        .await
        .unwrap();
    tx.execute_once(sql).await.unwrap();
    tx.commit().await.unwrap();
}

/// Reads until `done` says the change arrived, for at most two seconds; panics naming `what`.
async fn until(store: &Store, key: &str, user: UserId, what: &str, done: impl Fn(&Read) -> bool) {
    let start = Instant::now();
    loop {
        let read = store.session_with_user(key, user).await.unwrap();
        if done(&read) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{what}: not seen within 2 s"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn data(read: &Read) -> Option<&str> {
    read.as_ref().map(|r| r.0.as_str())
}

fn perm(read: &Read, name: &str) -> bool {
    read.as_ref()
        .and_then(|r| r.1.as_ref())
        .is_some_and(|(_, p)| p.has_perm(name))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_outside_write_reaches_a_notified_cache() {
    let Some(db) = TestDb::create(Kind::Postgres).await else {
        return;
    };
    let other = castellan_testkit::store(&db).await;
    let store = notified(&db, Duration::from_secs(60)).await;
    let ann = other.create_user(NewUser::new("ann")).await.unwrap();
    let bob = other.create_user(NewUser::new("bob")).await.unwrap();
    other.create_group("G").await.unwrap();
    other
        .grant_group("G", &["auth.view_user".into()])
        .await
        .unwrap();
    other
        .add_user_to_groups("ann", &["G".into()])
        .await
        .unwrap();
    let later = Utc::now() + chrono::Duration::hours(1);
    let (ka, kb) = ("a".repeat(32), "b".repeat(32));
    other.save_session(&ka, "ann-1", later).await.unwrap();
    other.save_session(&kb, "bob-1", later).await.unwrap();
    let read = |key: &str, user| {
        let (s, key) = (store.clone(), key.to_owned());
        async move { s.session_with_user(&key, user).await.unwrap() }
    };
    assert!(perm(&read(&ka, ann.id).await, "auth.view_user"));
    assert_eq!(data(&read(&kb, bob.id).await), Some("bob-1"));

    // Served from memory: a change nobody notifies is not seen.
    rewrite_silently(&other, &ka, "ann-silent").await;
    rewrite_silently(&other, &kb, "bob-silent").await;
    assert_eq!(data(&read(&ka, ann.id).await), Some("ann-1"), "from memory");
    assert_eq!(data(&read(&kb, bob.id).await), Some("bob-1"), "from memory");

    // One session rewritten elsewhere: that session is read again, the other one stays.
    other.save_session(&ka, "ann-2", later).await.unwrap();
    until(&store, &ka, ann.id, "session rewritten", |r| {
        data(r) == Some("ann-2")
    })
    .await;
    assert_eq!(
        data(&read(&kb, bob.id).await),
        Some("bob-1"),
        "bob's session stays cached"
    );

    // A user row changed elsewhere: their sessions are read again, not another user's.
    let old_password = read(&ka, ann.id).await.unwrap().1.unwrap().0.password;
    other
        .set_password("ann", Some("a-new-password"))
        .await
        .unwrap();
    until(&store, &ka, ann.id, "password change", |r| {
        r.as_ref()
            .and_then(|r| r.1.as_ref())
            .is_some_and(|(u, _)| u.password != old_password)
    })
    .await;
    assert_eq!(
        data(&read(&kb, bob.id).await),
        Some("bob-1"),
        "bob's session stays cached"
    );

    // A revocation (a grant table: everything is read again).
    other
        .revoke_group("G", &["auth.view_user".into()])
        .await
        .unwrap();
    until(&store, &ka, ann.id, "revocation", |r| {
        !perm(r, "auth.view_user")
    })
    .await;
    assert_eq!(
        data(&read(&kb, bob.id).await),
        Some("bob-silent"),
        "everything read again"
    );

    // Deactivation by plain SQL, as Django's admin or a shell would do it.
    let mut tx = other.db().begin().await.unwrap();
    tx.execute_once(&format!(
        "UPDATE auth_user SET is_active = false WHERE id = {}",
        ann.id
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    until(&store, &ka, ann.id, "deactivation", |r| {
        r.as_ref()
            .and_then(|r| r.1.as_ref())
            .is_some_and(|(u, _)| !u.is_active)
    })
    .await;
    other
        .update_user(
            "ann",
            UserChanges {
                is_active: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    until(&store, &ka, ann.id, "reactivation", |r| {
        r.as_ref()
            .and_then(|r| r.1.as_ref())
            .is_some_and(|(u, _)| u.is_active)
    })
    .await;

    // Logout elsewhere (the row deleted), and a user deleted.
    other.delete_session(&ka).await.unwrap();
    until(&store, &ka, ann.id, "logout", Option::is_none).await;
    other.delete_user("bob").await.unwrap();
    until(&store, &kb, bob.id, "user deleted", |r| {
        r.as_ref().is_some_and(|r| r.1.is_none())
    })
    .await;

    // A truncated session table.
    other.save_session(&ka, "ann-3", later).await.unwrap();
    until(&store, &ka, ann.id, "new session", |r| {
        data(r) == Some("ann-3")
    })
    .await;
    let mut tx = other.db().begin().await.unwrap();
    tx.execute_once("TRUNCATE django_session").await.unwrap();
    tx.commit().await.unwrap();
    until(&store, &ka, ann.id, "truncation", Option::is_none).await;

    // Many rows in one statement: one "everything" notification.
    let keys: Vec<String> = (0..150).map(|i| format!("{i:0>32}")).collect();
    for k in &keys {
        other.save_session(k, "many", later).await.unwrap();
    }
    other.save_session(&ka, "ann-4", later).await.unwrap();
    until(&store, &ka, ann.id, "session back", |r| {
        data(r) == Some("ann-4")
    })
    .await;
    rewrite_silently(&other, &ka, "ann-5").await;
    assert_eq!(data(&read(&ka, ann.id).await), Some("ann-4"), "from memory");
    let mut tx = other.db().begin().await.unwrap();
    tx.execute_once(
        "UPDATE django_session SET expire_date = expire_date WHERE session_data = 'many'",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    until(&store, &ka, ann.id, "bulk update", |r| {
        data(r) == Some("ann-5")
    })
    .await;

    other.close().await;
    store.close().await;
}

/// A fresh PostgreSQL database with a plain store (`other`, "another process"), a notified store
/// reusing reads for at most `max_age`, the user ann and her session `a…a` holding "one", read
/// once (so kept). `None` when PostgreSQL is not configured.
async fn one_session(max_age: Duration) -> Option<(TestDb, Store, Store, UserId, String)> {
    let db = TestDb::create(Kind::Postgres).await?;
    let other = castellan_testkit::store(&db).await;
    let store = notified(&db, max_age).await;
    let ann = other.create_user(NewUser::new("ann")).await.unwrap();
    let key = "a".repeat(32);
    other
        .save_session(&key, "one", Utc::now() + chrono::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(
        data(&store.session_with_user(&key, ann.id).await.unwrap()),
        Some("one")
    );
    Some((db, other, store, ann.id, key))
}

/// Rewrites the session `key`'s data to `to` without notifying ([`silently`]).
async fn rewrite_silently(other: &Store, key: &str, to: &str) {
    silently(
        other,
        &format!("UPDATE django_session SET session_data = '{to}' WHERE session_key = '{key}'"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_listener_drops_everything_read_before_it_is_back() {
    let Some((_db, other, store, ann, key)) = one_session(Duration::from_secs(60)).await else {
        return;
    };
    // The listening connection is killed; a change made meanwhile is notified to nobody.
    let mut tx = other.db().begin().await.unwrap();
    tx.execute_once(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    rewrite_silently(&other, &key, "two").await;
    // Once the listener is back, the read made before is not reused.
    let start = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if store.reusing_reads(Duration::from_secs(5)).await {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the listener reconnects"
        );
    }
    until(&store, &key, ann, "change while disconnected", |r| {
        data(r) == Some("two")
    })
    .await;
    other.close().await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_is_reused_no_longer_than_the_bound() {
    let Some((_db, other, store, ann, key)) = one_session(Duration::from_millis(300)).await else {
        return;
    };
    rewrite_silently(&other, &key, "two").await;
    let read = || async { store.session_with_user(&key, ann).await.unwrap() };
    assert_eq!(data(&read().await), Some("one"), "from memory");
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(data(&read().await), Some("two"), "past the bound");
    other.close().await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_triggers_nothing_is_reused_until_migrate() {
    let Some(db) = TestDb::create(Kind::Postgres).await else {
        return;
    };
    let other = castellan_testkit::store(&db).await;
    let mut tx = other.db().begin().await.unwrap();
    tx.execute_once("DROP TRIGGER castellan_notify_delete ON django_session")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let store = Store::connect_with(
        &db.url,
        StoreOptions {
            reuse_notified_reads: Some(Duration::from_secs(60)),
            ..castellan_testkit::cheap_options()
        },
    )
    .await
    .unwrap();
    assert!(
        !store.reusing_reads(Duration::from_secs(2)).await,
        "a trigger is missing"
    );
    store
        .migrate(&castellan_core::Registry::django())
        .await
        .unwrap();
    assert!(
        store.reusing_reads(Duration::from_secs(10)).await,
        "migrate repaired it"
    );
    // The default on PostgreSQL: one statement per read.
    assert!(!other.reusing_reads(Duration::from_millis(10)).await);
    other.close().await;
    store.close().await;
}
