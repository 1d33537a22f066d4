//! `audit.rs`: the audit trail: entries written by changes and by `record_audit`, who made them,
//! what they hold, and the filters of `audit_log`, on every database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use castellan_store::{Actor, AuditFilter};
use castellan_testkit::{audit, per_db, perms as s, store, user, TestDb};

async fn record_audit_clips_and_attributes(db: TestDb) {
    let store = store(&db).await;
    let boss = store.with_actor(Actor::User {
        id: castellan_core::user_id::UserId::Int(7),
        username: "boss".into(),
    });
    assert_eq!(boss.actor().label(), "user:boss");
    boss.record_audit(
        &"a".repeat(80),
        &"t".repeat(40),
        &"o".repeat(300),
        Some("{\"x\":1}".into()),
        None,
    )
    .await
    .unwrap();
    store
        .record_audit(
            "admin.change",
            "book",
            "Dune",
            None,
            Some("{\"y\":2}".into()),
        )
        .await
        .unwrap();
    let log = store.audit_log(&AuditFilter::default()).await.unwrap();
    assert_eq!(log.len(), 2);
    let (newest, oldest) = (&log[0], &log[1]);
    assert_eq!(
        (
            newest.actor.as_str(),
            newest.action.as_str(),
            newest.object.as_str()
        ),
        ("system", "admin.change", "Dune")
    );
    assert_eq!(newest.object_type, "book");
    assert_eq!(newest.after.as_deref(), Some("{\"y\":2}"));
    assert_eq!(newest.before, None);
    assert_eq!(oldest.actor, "user:boss");
    assert_eq!(oldest.action, "a".repeat(64));
    assert_eq!(oldest.object_type, "t".repeat(32));
    assert_eq!(oldest.object, "o".repeat(255));
    assert_eq!(oldest.before.as_deref(), Some("{\"x\":1}"));
    assert!(newest.id > oldest.id);
    assert!(newest.at >= oldest.at);
    store.close().await;
}

async fn filters_by_user_limit_and_time(db: TestDb) {
    let store = store(&db).await;
    let boss = store.with_actor(Actor::User {
        id: castellan_core::user_id::UserId::Int(1),
        username: "boss".into(),
    });
    let ops = store.with_actor(Actor::Cli {
        os_user: "ops".into(),
    });
    ops.create_group("G").await.unwrap();
    boss.create_group("H").await.unwrap();
    user(&ops, "carol", |_| {}).await;
    boss.add_user_to_groups("carol", &s(&["G"])).await.unwrap();
    assert_eq!(
        audit(&store).await,
        [
            "cli:ops group.create G",
            "user:boss group.create H",
            "cli:ops user.create carol",
            "user:boss user.add_group carol",
        ]
    );
    // `user` matches the object (carol) or the actor (boss).
    let by_boss = store
        .audit_log(&AuditFilter {
            user: Some("boss".into()),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    let objects: Vec<&str> = by_boss.iter().map(|e| e.object.as_str()).collect();
    assert_eq!(objects, ["carol", "H"], "newest first");
    let last_two = store
        .audit_log(&AuditFilter {
            limit: Some(2),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = last_two.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["user.add_group", "user.create"]);
    let since = store
        .audit_log(&AuditFilter {
            since: Some(chrono::Utc::now() - chrono::Duration::hours(1)),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(since.len(), 4);
    store.close().await;
}

/// The admin's filters: actor, action prefix (wildcards literal), object, and keyset pages.
async fn filters_by_actor_action_object_and_pages(db: TestDb) {
    let store = store(&db).await;
    let boss = store.with_actor(Actor::User {
        id: castellan_core::user_id::UserId::Int(1),
        username: "boss".into(),
    });
    boss.create_group("G").await.unwrap();
    boss.create_group("G_x").await.unwrap();
    store.create_group("H").await.unwrap();
    boss.grant_group("G", &s(&["auth.view_user"]))
        .await
        .unwrap();
    let objects = |log: Vec<castellan_store::AuditEntry>| -> Vec<String> {
        log.into_iter()
            .map(|e| format!("{} {}", e.action, e.object))
            .collect()
    };
    let f = |f: AuditFilter| {
        let store = store.clone();
        async move { objects(store.audit_log(&f).await.unwrap()) }
    };
    assert_eq!(
        f(AuditFilter {
            actor: Some("user:boss".into()),
            ..AuditFilter::default()
        })
        .await,
        ["group.grant G", "group.create G_x", "group.create G"]
    );
    assert_eq!(
        f(AuditFilter {
            action_prefix: Some("group.g".into()),
            ..AuditFilter::default()
        })
        .await,
        ["group.grant G"]
    );
    // `_` and `%` in a prefix are literal.
    assert!(f(AuditFilter {
        action_prefix: Some("group_".into()),
        ..AuditFilter::default()
    })
    .await
    .is_empty());
    assert_eq!(
        f(AuditFilter {
            object_type: Some("group".into()),
            object: Some("G".into()),
            ..AuditFilter::default()
        })
        .await,
        ["group.grant G", "group.create G"]
    );
    let all = store.audit_log(&AuditFilter::default()).await.unwrap();
    let after_first = f(AuditFilter {
        before_id: Some(all[1].id),
        limit: Some(1),
        ..AuditFilter::default()
    })
    .await;
    assert_eq!(
        after_first,
        [format!("{} {}", all[2].action, all[2].object)]
    );
    store.close().await;
}

async fn deletes_keep_what_was_there_but_no_secrets(db: TestDb) {
    let store = store(&db).await;
    user(&store, "dora", |u| {
        u.email = "dora@example.org".into();
        u.is_staff = true;
    })
    .await;
    store.create_group("G").await.unwrap();
    store
        .grant_group("G", &s(&["auth.view_user"]))
        .await
        .unwrap();
    store.add_user_to_groups("dora", &s(&["G"])).await.unwrap();
    store
        .set_password("dora", Some("an0ther-secret"))
        .await
        .unwrap();
    store.delete_group("G").await.unwrap();
    store.delete_user("dora").await.unwrap();
    let log = store.audit_log(&AuditFilter::default()).await.unwrap();
    let user_delete = log.iter().find(|e| e.action == "user.delete").unwrap();
    let before: serde_json::Value =
        serde_json::from_str(user_delete.before.as_deref().unwrap()).unwrap();
    assert_eq!(before["email"], "dora@example.org");
    assert_eq!(before["is_staff"], true);
    assert_eq!(user_delete.after, None);
    let group_delete = log.iter().find(|e| e.action == "group.delete").unwrap();
    let before = group_delete.before.as_deref().unwrap();
    assert!(
        before.contains("auth.view_user") && before.contains("dora"),
        "{before}"
    );
    let set_password = log
        .iter()
        .find(|e| e.action == "user.set_password")
        .unwrap();
    assert_eq!(
        set_password.after.as_deref(),
        Some("{\"has_usable_password\":true}")
    );
    for e in &log {
        for text in [&e.before, &e.after].into_iter().flatten() {
            assert!(
                !text.contains("pbkdf2") && !text.contains("an0ther-secret"),
                "no secrets in the trail: {text}"
            );
        }
    }
    store.close().await;
}

per_db!(
    record_audit_clips_and_attributes,
    filters_by_user_limit_and_time,
    filters_by_actor_action_object_and_pages,
    deletes_keep_what_was_there_but_no_secrets,
);
