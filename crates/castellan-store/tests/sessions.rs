//! `sessions.rs`: Django's `django_session` rows, saved, read, replaced, deleted and expired, on
//! every database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use castellan_store::NewUser;
use castellan_testkit::{per_db, store, TestDb};
use chrono::{Duration, Utc};

async fn save_load_replace_delete(db: TestDb) {
    let store = store(&db).await;
    assert!(!store.ensure_sessions().await.unwrap(), "migrate made it");
    let key = "k".repeat(32);
    assert_eq!(store.session_data(&key).await.unwrap(), None);
    let later = Utc::now() + Duration::hours(1);
    store.save_session(&key, "first", later).await.unwrap();
    assert_eq!(
        store.session_data(&key).await.unwrap().as_deref(),
        Some("first")
    );
    // Saving again replaces the row (data and expiry), it does not add one.
    store.save_session(&key, "second", later).await.unwrap();
    assert_eq!(
        store.session_data(&key).await.unwrap().as_deref(),
        Some("second")
    );
    let other = "o".repeat(40);
    store.save_session(&other, "other", later).await.unwrap();
    store.delete_session(&key).await.unwrap();
    assert_eq!(store.session_data(&key).await.unwrap(), None);
    assert_eq!(
        store.session_data(&other).await.unwrap().as_deref(),
        Some("other")
    );
    // Deleting a key that is not there is no error.
    store.delete_session(&key).await.unwrap();
    store.delete_session("never-saved").await.unwrap();
    assert_eq!(
        store.session_data(&other).await.unwrap().as_deref(),
        Some("other")
    );
    store.close().await;
}

async fn expired_sessions_are_not_read_and_are_cleared(db: TestDb) {
    let store = store(&db).await;
    let now = Utc::now();
    store
        .save_session("expired", "old", now - Duration::seconds(5))
        .await
        .unwrap();
    store
        .save_session("long-expired", "older", now - Duration::days(30))
        .await
        .unwrap();
    store
        .save_session("live", "new", now + Duration::days(14))
        .await
        .unwrap();
    assert_eq!(store.session_data("expired").await.unwrap(), None);
    assert_eq!(store.session_data("long-expired").await.unwrap(), None);
    assert_eq!(
        store.session_data("live").await.unwrap().as_deref(),
        Some("new")
    );
    assert_eq!(store.clear_expired_sessions().await.unwrap(), 2);
    assert_eq!(store.clear_expired_sessions().await.unwrap(), 0);
    assert_eq!(
        store.session_data("live").await.unwrap().as_deref(),
        Some("new")
    );
    // An expired session saved again with a new expiry comes back to life.
    store
        .save_session("expired", "renewed", now + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(
        store.session_data("expired").await.unwrap().as_deref(),
        Some("renewed")
    );
    store.close().await;
}

async fn long_session_data_round_trips(db: TestDb) {
    let store = store(&db).await;
    // Django's signed, compressed session data can be long; the column is text.
    let data: String = (0..20_000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let later = Utc::now() + Duration::hours(1);
    store.save_session("big", &data, later).await.unwrap();
    assert_eq!(store.session_data("big").await.unwrap(), Some(data));
    store.close().await;
}

async fn user_by_id_reads_the_row_the_session_names(db: TestDb) {
    let store = store(&db).await;
    let mut u = NewUser::new("alice");
    u.email = "alice@example.org".into();
    u.password = Some("pw-alice-123".into());
    let alice = store.create_user(u).await.unwrap();
    let read = store.user_by_id(alice.id).await.unwrap().unwrap();
    assert_eq!(read.username, "alice");
    assert_eq!(read.email, "alice@example.org");
    assert_eq!(
        read.password, alice.password,
        "the hash, for the session auth hash"
    );
    assert!(
        read.password.starts_with("pbkdf2_sha256$1000$"),
        "{}",
        read.password
    );
    assert!(store
        .user_by_id(castellan_core::UserId::Int(
            alice.id.as_int().unwrap() + 1000
        ))
        .await
        .unwrap()
        .is_none());
    store.delete_user("alice").await.unwrap();
    assert!(store.user_by_id(alice.id).await.unwrap().is_none());
    store.close().await;
}

/// A logged-in request's read (`session_with_user`): every write by another connection — another
/// store on the same database, as another process would be — is seen on the next read; on SQLite
/// a read with nothing committed since runs no statement at all (it still answers with the pool
/// closed), and an expired session is never served from memory.
async fn session_reads_see_every_outside_write(db: TestDb) {
    let store = store(&db).await;
    let other = castellan_testkit::store_at(&db.url).await;
    let mut ann = NewUser::new("ann");
    ann.password = Some("an-old-password".into());
    let ann = store.create_user(ann).await.unwrap();
    store.create_group("G").await.unwrap();
    store
        .grant_group("G", &["auth.view_user".into()])
        .await
        .unwrap();
    store
        .add_user_to_groups("ann", &["G".into()])
        .await
        .unwrap();
    let key = "s".repeat(32);
    let later = Utc::now() + Duration::hours(1);
    store.save_session(&key, "data-1", later).await.unwrap();
    let read = |s: &castellan_store::Store| {
        let s = s.clone();
        let key = key.clone();
        async move { s.session_with_user(&key, ann.id).await.unwrap() }
    };
    let first = read(&store).await.unwrap();
    assert_eq!(first.0, "data-1");
    let (user, principal) = first.1.unwrap();
    assert!(user.is_active && principal.has_perm("auth.view_user"));
    // Each outside write is seen by the next read.
    other
        .revoke_group("G", &["auth.view_user".into()])
        .await
        .unwrap();
    let (_, p) = read(&store).await.unwrap().1.unwrap();
    assert!(!p.has_perm("auth.view_user"), "revocation");
    other
        .update_user(
            "ann",
            castellan_store::UserChanges {
                is_active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (u, _) = read(&store).await.unwrap().1.unwrap();
    assert!(!u.is_active, "deactivation");
    other
        .set_password("ann", Some("a-new-password"))
        .await
        .unwrap();
    let (u, _) = read(&store).await.unwrap().1.unwrap();
    assert_ne!(u.password, user.password, "password change");
    other.save_session(&key, "data-2", later).await.unwrap();
    assert_eq!(read(&store).await.unwrap().0, "data-2", "session rewritten");
    other.delete_session(&key).await.unwrap();
    assert!(read(&store).await.is_none(), "session deleted (logout)");
    // A session about to expire is not served once expired, changed or not.
    store
        .save_session(&key, "short", Utc::now() + Duration::milliseconds(1500))
        .await
        .unwrap();
    assert!(read(&store).await.is_some());
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    assert!(read(&store).await.is_none(), "expired");
    // Nothing changed since the last read: on SQLite no statement runs (the closed pool is
    // never asked).
    store.save_session(&key, "data-3", later).await.unwrap();
    assert_eq!(read(&store).await.unwrap().0, "data-3");
    other.close().await;
    // With `reuse_unchanged_reads` off, every read runs its statement.
    let strict = castellan_store::Store::connect_with(
        &db.url,
        castellan_store::StoreOptions {
            reuse_unchanged_reads: false,
            ..castellan_testkit::cheap_options()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        strict
            .session_with_user(&key, ann.id)
            .await
            .unwrap()
            .unwrap()
            .0,
        "data-3"
    );
    strict.close().await;
    assert!(
        strict.session_with_user(&key, ann.id).await.is_err(),
        "strict: the closed pool is asked"
    );
    if store.dialect() == castellan_store::Dialect::Sqlite {
        store.close().await;
        assert_eq!(
            read(&store).await.unwrap().0,
            "data-3",
            "served from memory"
        );
    } else {
        store.close().await;
    }
}

per_db!(
    session_reads_see_every_outside_write,
    save_load_replace_delete,
    expired_sessions_are_not_read_and_are_cleared,
    long_session_data_round_trips,
    user_by_id_reads_the_row_the_session_names,
);
