//! The conformance suite: Django's behaviour (spec §9) pinned against every store.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests panic on failed set-up.
//!
//! Each `async fn` below runs on a fresh, migrated SQLite, PostgreSQL and MariaDB database
//! (see `castellan_conformance` for the environment variables).

use castellan_conformance::TestDb;
use castellan_core::hashers::{CountingHasher, Hashers, Md5Hasher, PasswordHasher, Pbkdf2Hasher};
use castellan_core::{Backends, ModelSpec, PermObject, Registry, WithPerm};
use castellan_store::{Error, NewUser, Store, StoreOptions, UserChanges};
use castellan_testkit::per_db;

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| (*x).to_owned()).collect()
}

async fn user(store: &Store, name: &str) -> castellan_core::User {
    store.create_user(NewUser::new(name)).await.unwrap()
}

/// A permission on the group content type, as Django's tests create them.
async fn custom_perm(store: &Store, codename: &str) {
    store
        .create_permission(&format!("auth.{codename}"), "group", codename)
        .await
        .unwrap();
}

/// Options opening another store on the same database with the same user model.
fn same_model(store: &Store) -> StoreOptions {
    StoreOptions {
        user_model: store.user_schema().model().clone(),
        ..Default::default()
    }
}

/// Raw SQL written against `auth.User`'s tables, with the store's user tables instead.
fn user_sql(store: &Store, text: &str) -> String {
    let schema = store.user_schema();
    text.replace("auth_user_user_permissions", "\u{1}")
        .replace("auth_user_groups", "\u{2}")
        .replace("auth_user", schema.table())
        .replace('\u{1}', schema.permissions_table())
        .replace('\u{2}', schema.groups_table())
}

struct Obj;
impl PermObject for Obj {
    fn app_label(&self) -> &str {
        "auth"
    }
    fn model_name(&self) -> &str {
        "group"
    }
    fn object_pk(&self) -> String {
        "1".into()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// Django's `BaseBackend`: no `with_perm`.
struct Base;
impl castellan_core::PermissionBackend for Base {
    fn name(&self) -> &str {
        "base"
    }
}

// T5, T6: is_staff grants nothing; an active superuser has everything; an inactive one nothing.
async fn flags_truth_table(_db: &TestDb, store: &Store) {
    user(store, "test").await;
    let p = store.principal("test").await.unwrap().unwrap();
    assert!(!p.has_perm("auth.test"));
    store
        .update_user(
            "test",
            UserChanges {
                is_staff: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!store
        .principal("test")
        .await
        .unwrap()
        .unwrap()
        .has_perm("auth.test"));
    store
        .update_user(
            "test",
            UserChanges {
                is_superuser: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let p = store.principal("test").await.unwrap().unwrap();
    assert!(p.has_perm("auth.test"), "active superuser: any string");
    assert!(p.has_module_perms("anything"));
    store
        .update_user(
            "test",
            UserChanges {
                is_active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let p = store.principal("test").await.unwrap().unwrap();
    assert!(!p.has_perm("auth.test"));
    assert!(!p.has_perm("auth.add_user"));
    assert!(p.get_all_permissions().is_empty());
}

// T7–T9: direct and group permissions, module perms, missing app label.
async fn user_and_group_permissions(_db: &TestDb, store: &Store) {
    user(store, "test").await;
    custom_perm(store, "test").await;
    store.grant_user("test", &s(&["auth.test"])).await.unwrap();
    let p = store.principal("test").await.unwrap().unwrap();
    assert_eq!(p.get_all_permissions(), s(&["auth.test"]));
    assert_eq!(p.get_user_permissions(), s(&["auth.test"]));
    assert!(p.get_group_permissions().is_empty());
    assert!(!p.has_module_perms("Group"));
    assert!(p.has_module_perms("auth"));
    assert!(!p.has_module_perms("Auth"));

    custom_perm(store, "test2").await;
    custom_perm(store, "test3").await;
    store
        .grant_user("test", &s(&["auth.test2", "auth.test3"]))
        .await
        .unwrap();
    let p = store.principal("test").await.unwrap().unwrap();
    assert_eq!(
        p.get_all_permissions(),
        s(&["auth.test", "auth.test2", "auth.test3"])
    );
    assert!(!p.has_perm("test"));
    assert!(p.has_perm("auth.test"));
    assert!(p.has_perms(&["auth.test2", "auth.test3"]));
    assert!(p.has_perms::<&str>(&[]));

    custom_perm(store, "test_group").await;
    store.create_group("test_group").await.unwrap();
    store
        .grant_group("test_group", &s(&["auth.test_group"]))
        .await
        .unwrap();
    store
        .add_user_to_groups("test", &s(&["test_group"]))
        .await
        .unwrap();
    let p = store.principal("test").await.unwrap().unwrap();
    assert_eq!(p.get_group_permissions(), s(&["auth.test_group"]));
    assert_eq!(
        p.get_all_permissions(),
        s(&["auth.test", "auth.test2", "auth.test3", "auth.test_group"])
    );
    assert!(p.has_perms(&["auth.test3", "auth.test_group"]));
}

// T10, T12, T50: the anonymous user has nothing.
async fn anonymous_has_nothing(_db: &TestDb, store: &Store) {
    let anon = store.anonymous().await.unwrap();
    assert!(!anon.has_perm("test"));
    assert!(!anon.has_perms(&["auth.test2", "auth.test3"]));
    assert!(anon.get_all_permissions().is_empty());
    assert!(anon.identity().is_anonymous());
    let chain = Backends::default();
    assert!(chain.get_group_permissions(&anon, None).unwrap().is_empty());
}

// T11: model permissions never answer for objects.
async fn no_object_permissions_from_the_model_backend(_db: &TestDb, store: &Store) {
    user(store, "test").await;
    custom_perm(store, "test").await;
    store.grant_user("test", &s(&["auth.test"])).await.unwrap();
    let p = store.principal("test").await.unwrap().unwrap();
    let chain = Backends::default();
    assert!(!chain.has_perm(&p, "auth.test", Some(&Obj)).unwrap());
    assert!(chain
        .get_all_permissions(&p, Some(&Obj))
        .unwrap()
        .is_empty());
    assert!(chain.has_perm(&p, "auth.test", None).unwrap());
    assert_eq!(chain.get_all_permissions(&p, None).unwrap().len(), 1);
}

// T13: an inactive user's permissions are empty.
async fn inactive_user_has_nothing(_db: &TestDb, store: &Store) {
    user(store, "test").await;
    custom_perm(store, "test").await;
    store.grant_user("test", &s(&["auth.test"])).await.unwrap();
    store.create_group("g").await.unwrap();
    store
        .grant_group("g", &s(&["auth.add_user"]))
        .await
        .unwrap();
    store.add_user_to_groups("test", &s(&["g"])).await.unwrap();
    store
        .update_user(
            "test",
            UserChanges {
                is_active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let p = store.principal("test").await.unwrap().unwrap();
    assert!(p.get_all_permissions().is_empty());
    assert!(p.get_user_permissions().is_empty());
    assert!(p.get_group_permissions().is_empty());
    assert!(!p.has_module_perms("auth"));
}

// T14: a superuser's permissions are every row.
async fn superuser_has_every_row(_db: &TestDb, store: &Store) {
    let mut su = NewUser::new("root");
    su.is_superuser = true;
    store.create_user(su).await.unwrap();
    let p = store.principal("root").await.unwrap().unwrap();
    let total = store.permissions(None).await.unwrap().len();
    assert_eq!(total, 16);
    assert_eq!(p.get_all_permissions().len(), total);
    assert_eq!(p.get_user_permissions().len(), total);
    assert_eq!(p.get_group_permissions().len(), total);
}

// T15, T17 and security rule 3: the hasher runs exactly once on every failed-login path.
async fn hasher_runs_once_per_failed_login(db: &TestDb, store: &Store) {
    let counting = CountingHasher::new(Md5Hasher::new());
    let counter = counting.counter();
    let hashers = Hashers::new(vec![Box::new(counting)]).unwrap();
    let store = Store::connect_with(
        &db.url,
        StoreOptions {
            hashers,
            ..same_model(store)
        },
    )
    .await
    .unwrap();
    let mut u = NewUser::new("joe");
    u.password = Some("right".into());
    store.create_user(u).await.unwrap();
    let mut inactive = NewUser::new("sleepy");
    inactive.password = Some("right".into());
    inactive.is_active = false;
    store.create_user(inactive).await.unwrap();
    store.create_user(NewUser::new("nopass")).await.unwrap();
    let cases = [
        ("joe", "right", true),
        ("joe", "wrong", false),
        ("no_such_user", "right", false),
        ("sleepy", "right", false),
        ("sleepy", "wrong", false),
        ("nopass", "anything", false),
    ];
    for (name, password, ok) in cases {
        counter.reset();
        let got = store.authenticate(name, password).await.unwrap();
        assert_eq!(got.is_some(), ok, "{name}/{password}");
        assert_eq!(counter.hash_calls(), 1, "{name}/{password}: hasher calls");
    }
    store.close().await;
}

// Hash upgrade on a successful login, before the is_active test (spec §2.10).
async fn outdated_hash_is_upgraded_on_login(db: &TestDb, store: &Store) {
    let md5 = Md5Hasher::new()
        .encode(b"secret", "seasaltseasaltseasalt1")
        .unwrap();
    user(store, "old").await;
    store
        .execute_raw(&user_sql(
            store,
            &format!("UPDATE auth_user SET password = '{md5}' WHERE username = 'old'"),
        ))
        .await
        .unwrap();
    let preferred: Box<dyn PasswordHasher> =
        Box::new(Pbkdf2Hasher::sha256().with_iterations(1000).unwrap());
    let hashers = Hashers::new(vec![preferred, Box::new(Md5Hasher::new())]).unwrap();
    let fast = Store::connect_with(
        &db.url,
        StoreOptions {
            hashers,
            ..same_model(store)
        },
    )
    .await
    .unwrap();
    assert!(fast.authenticate("old", "wrong").await.unwrap().is_none());
    assert_eq!(
        fast.user("old").await.unwrap().unwrap().password,
        md5,
        "no upgrade on a wrong password"
    );
    assert!(fast.authenticate("old", "secret").await.unwrap().is_some());
    let upgraded = fast.user("old").await.unwrap().unwrap().password;
    assert!(upgraded.starts_with("pbkdf2_sha256$1000$"), "{upgraded}");
    assert!(fast.authenticate("old", "secret").await.unwrap().is_some());
    fast.close().await;
}

// T36–T38, T41: creating users.
async fn create_user_rules(_db: &TestDb, store: &Store) {
    let u = store
        .create_user(NewUser {
            email: "normal@DOMAIN.COM".into(),
            ..NewUser::new("user")
        })
        .await
        .unwrap();
    assert!(!u.has_usable_password());
    assert_eq!(u.email, "normal@domain.com");
    let ohm = store.create_user(NewUser::new("\u{2126}")).await.unwrap();
    assert_eq!(ohm.username, "\u{03a9}");
    assert!(matches!(
        store.create_user(NewUser::new("")).await,
        Err(Error::Input(_))
    ));
    assert!(matches!(
        store.create_user(NewUser::new("🤠")).await,
        Err(Error::Input(_))
    ));
    assert!(matches!(
        store.create_user(NewUser::new("a".repeat(151))).await,
        Err(Error::Input(_))
    ));
    assert!(matches!(
        store.create_user(NewUser::new("user")).await,
        Err(Error::AlreadyExists { .. })
    ));
    assert_eq!(store.users().await.unwrap().len(), 2);
    // Usernames are case-sensitive on every backend.
    assert!(store.user("USER").await.unwrap().is_none());
}

// T44–T48: with_perm.
async fn with_perm_semantics(_db: &TestDb, store: &Store) {
    for bad in ["nodots", "too.many.dots", "...", ""] {
        assert!(WithPerm::new(bad).is_err(), "{bad:?}");
    }
    custom_perm(store, "test").await;
    user(store, "user1").await;
    store.grant_user("user1", &s(&["auth.test"])).await.unwrap();
    user(store, "user2").await;
    for g in ["g1", "g2"] {
        store.create_group(g).await.unwrap();
        store.grant_group(g, &s(&["auth.test"])).await.unwrap();
        store.add_user_to_groups("user2", &s(&[g])).await.unwrap();
    }
    let mut su = NewUser::new("superuser");
    su.is_superuser = true;
    store.create_user(su).await.unwrap();
    let mut inactive = NewUser::new("inactive");
    inactive.is_active = false;
    store.create_user(inactive).await.unwrap();
    store
        .grant_user("inactive", &s(&["auth.test"]))
        .await
        .unwrap();
    user(store, "nobody").await;
    user(store, "nobody2").await;
    let q = |active: Option<bool>, su: bool| {
        WithPerm::new("auth.test")
            .unwrap()
            .is_active(active)
            .include_superusers(su)
    };
    let cases = [
        (q(Some(true), true), s(&["superuser", "user1", "user2"])),
        (q(Some(false), true), s(&["inactive"])),
        (
            q(None, true),
            s(&["inactive", "superuser", "user1", "user2"]),
        ),
        (q(Some(true), false), s(&["user1", "user2"])),
        (q(Some(false), false), s(&["inactive"])),
        (q(None, false), s(&["inactive", "user1", "user2"])),
    ];
    for (query, expected) in cases {
        assert_eq!(
            store.with_perm(&query).await.unwrap(),
            expected,
            "{query:?}"
        );
    }
    // The backend and obj arguments (T46 obj, T47, T49).
    let model = Backends::default();
    let all = q(Some(true), true);
    assert_eq!(
        store.with_perm_in(&model, None, &all, None).await.unwrap(),
        s(&["superuser", "user1", "user2"])
    );
    assert!(store
        .with_perm_in(&model, None, &all, Some(&Obj))
        .await
        .unwrap()
        .is_empty());
    let base_only = Backends::new(vec![std::sync::Arc::new(Base)]);
    assert!(store
        .with_perm_in(&base_only, None, &all, None)
        .await
        .unwrap()
        .is_empty());
    let two = Backends::new(vec![
        std::sync::Arc::new(castellan_core::ModelBackend),
        std::sync::Arc::new(Base),
    ]);
    assert!(store.with_perm_in(&two, None, &all, None).await.is_err());
    assert_eq!(
        store
            .with_perm_in(&two, Some(castellan_core::ModelBackend::NAME), &all, None)
            .await
            .unwrap()
            .len(),
        3
    );
    let missing = WithPerm::new("auth.perm").unwrap();
    assert_eq!(store.with_perm(&missing).await.unwrap(), s(&["superuser"]));
    // Case-sensitive, also where the collation is not.
    let upper = WithPerm::new("AUTH.TEST").unwrap();
    assert_eq!(store.with_perm(&upper).await.unwrap(), s(&["superuser"]));
}

// T91: default and custom permissions of registered models.
async fn registry_creates_default_and_custom_permissions(_db: &TestDb, store: &Store) {
    let mut registry = Registry::django();
    registry
        .register(
            ModelSpec::new("bookshelf", "Book")
                .with_permission("can_publish_book", "Can publish book"),
        )
        .unwrap();
    registry
        .register(
            ModelSpec::new("bookshelf", "AuditEntry")
                .with_default_permissions(Vec::<String>::new())
                .with_permission("can_audit", "Can audit"),
        )
        .unwrap();
    registry
        .register(ModelSpec::new("bookshelf", "BookAuthor"))
        .unwrap();
    assert_eq!(store.ensure_models(&registry).await.unwrap(), (3, 10));
    assert_eq!(
        store.ensure_models(&registry).await.unwrap(),
        (0, 0),
        "idempotent"
    );
    let perms = store.permissions(Some("bookshelf")).await.unwrap();
    let names: Vec<(String, String)> = perms
        .iter()
        .map(|p| (p.user_perm_str(), p.name.clone()))
        .collect();
    assert!(names.contains(&("bookshelf.add_book".into(), "Can add book".into())));
    assert!(names.contains(&(
        "bookshelf.can_publish_book".into(),
        "Can publish book".into()
    )));
    assert!(names.contains(&(
        "bookshelf.add_bookauthor".into(),
        "Can add book author".into()
    )));
    assert!(names.contains(&("bookshelf.can_audit".into(), "Can audit".into())));
    assert!(!names.iter().any(|(n, _)| n == "bookshelf.add_auditentry"));
}

// A proxy model has its own content type: its permissions are its own (T93's end state).
async fn one_name_from_two_content_types(_db: &TestDb, store: &Store) {
    store
        .create_permission("bookshelf.can_publish", "book", "Can publish")
        .await
        .unwrap();
    store
        .create_permission("bookshelf.can_publish", "article", "Can publish")
        .await
        .unwrap_err();
    // Django allows the same codename on two content types of one app; it is one string.
    store
        .execute_raw(
            "INSERT INTO django_content_type (app_label, model) VALUES ('bookshelf', 'article')",
        )
        .await
        .unwrap();
    store
        .execute_raw(
            "INSERT INTO auth_permission (name, content_type_id, codename) \
             SELECT 'Can publish', id, 'can_publish' FROM django_content_type WHERE app_label = 'bookshelf' AND model = 'article'",
        )
        .await
        .unwrap();
    assert_eq!(store.permissions(Some("bookshelf")).await.unwrap().len(), 2);
    user(store, "u").await;
    store
        .grant_user("u", &s(&["bookshelf.can_publish"]))
        .await
        .unwrap();
    let p = store.principal("u").await.unwrap().unwrap();
    assert!(p.has_perm("bookshelf.can_publish"));
    assert_eq!(p.get_all_permissions(), s(&["bookshelf.can_publish"]));
    // Revoking the name removes whichever row was granted.
    store
        .revoke_user("u", &s(&["bookshelf.can_publish"]))
        .await
        .unwrap();
    assert!(!store
        .principal("u")
        .await
        .unwrap()
        .unwrap()
        .has_perm("bookshelf.can_publish"));
}

// Beyond Django (T123): a revocation by another connection — plain SQL, as Django would write it —
// is visible on the very next check of a process that had the permission cached.
async fn revocation_by_another_connection_is_seen_next_check(db: &TestDb, store: &Store) {
    assert!(store.caching(), "migrated stores cache");
    user(store, "alice").await;
    store.create_group("Editors").await.unwrap();
    store
        .grant_group("Editors", &s(&["auth.change_user"]))
        .await
        .unwrap();
    store
        .add_user_to_groups("alice", &s(&["Editors"]))
        .await
        .unwrap();
    store
        .grant_user("alice", &s(&["auth.view_user"]))
        .await
        .unwrap();
    let p = store.principal("alice").await.unwrap().unwrap();
    assert!(p.has_perm("auth.change_user"));
    let p = store.principal("alice").await.unwrap().unwrap(); // warm: served from the cache
    assert!(p.has_perm("auth.view_user"));
    assert!(store.cached_users() >= 1);

    let other = Store::connect_with(&db.url, same_model(store))
        .await
        .unwrap();
    other
        .execute_raw(
            "DELETE FROM auth_group_permissions WHERE permission_id IN \
             (SELECT p.id FROM auth_permission p WHERE p.codename = 'change_user')",
        )
        .await
        .unwrap();
    assert!(!store
        .principal("alice")
        .await
        .unwrap()
        .unwrap()
        .has_perm("auth.change_user"));

    other
        .execute_raw(&user_sql(store, "DELETE FROM auth_user_user_permissions"))
        .await
        .unwrap();
    assert!(!store
        .principal("alice")
        .await
        .unwrap()
        .unwrap()
        .has_perm("auth.view_user"));

    // Re-granting through a membership change is seen too.
    store
        .grant_group("Editors", &s(&["auth.delete_user"]))
        .await
        .unwrap();
    assert!(store
        .principal("alice")
        .await
        .unwrap()
        .unwrap()
        .has_perm("auth.delete_user"));
    other
        .execute_raw(&user_sql(store, "DELETE FROM auth_user_groups"))
        .await
        .unwrap();
    assert!(!store
        .principal("alice")
        .await
        .unwrap()
        .unwrap()
        .has_perm("auth.delete_user"));

    // Deactivation is never cached.
    store
        .grant_user("alice", &s(&["auth.add_user"]))
        .await
        .unwrap();
    assert!(store
        .principal("alice")
        .await
        .unwrap()
        .unwrap()
        .has_perm("auth.add_user"));
    other
        .execute_raw(&user_sql(
            store,
            "UPDATE auth_user SET is_active = FALSE WHERE username = 'alice'",
        ))
        .await
        .unwrap();
    assert!(!store
        .principal("alice")
        .await
        .unwrap()
        .unwrap()
        .has_perm("auth.add_user"));
    other.close().await;
}

// Bad input changes nothing and says what was wrong.
async fn bad_input_changes_nothing(_db: &TestDb, store: &Store) {
    user(store, "bob").await;
    store.create_group("G").await.unwrap();
    let before = store.generation().await.unwrap();
    for perms in [
        s(&["auth.add_user", "auth.nonexistent"]),
        s(&["auth.add_user", "add_user"]),
        s(&["auth.add_user", "too.many.dots"]),
    ] {
        assert!(
            matches!(store.grant_group("G", &perms).await, Err(Error::Input(_))),
            "{perms:?}"
        );
        assert!(
            matches!(store.grant_user("bob", &perms).await, Err(Error::Input(_))),
            "{perms:?}"
        );
    }
    assert!(store
        .group_detail("G")
        .await
        .unwrap()
        .permissions
        .is_empty());
    assert!(store
        .principal("bob")
        .await
        .unwrap()
        .unwrap()
        .get_all_permissions()
        .is_empty());
    assert!(matches!(
        store.add_user_to_groups("bob", &s(&["G", "missing"])).await,
        Err(Error::NotFound { what: "group", .. })
    ));
    assert!(store.user_groups("bob").await.unwrap().is_empty());
    assert!(matches!(
        store.grant_user("nobody", &s(&["auth.add_user"])).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store.create_group("G").await,
        Err(Error::AlreadyExists { .. })
    ));
    assert!(matches!(
        store.create_group(&"g".repeat(151)).await,
        Err(Error::Input(_))
    ));
    assert!(matches!(
        store.rename_group("G", "").await,
        Err(Error::Input(_))
    ));
    assert!(matches!(
        store.create_permission("auth.do.thing", "user", "x").await,
        Err(Error::Input(_))
    ));
    assert!(matches!(
        store
            .create_permission(&format!("auth.{}", "x".repeat(101)), "user", "x")
            .await,
        Err(Error::Input(_))
    ));
    assert_eq!(
        store.generation().await.unwrap(),
        before,
        "nothing was written"
    );
    match store.grant_user("bob", &s(&["auth.add_usr"])).await {
        Err(e) => assert!(
            e.to_string().contains("did you mean \"auth.add_user\""),
            "{e}"
        ),
        Ok(_) => panic!("granted a typo"),
    }
}

// Deleting cascades like Django's ORM; links go, the permission check follows.
async fn deletes_cascade(_db: &TestDb, store: &Store) {
    user(store, "u").await;
    store.create_group("G").await.unwrap();
    store
        .grant_group("G", &s(&["auth.add_user"]))
        .await
        .unwrap();
    store.add_user_to_groups("u", &s(&["G"])).await.unwrap();
    assert!(store
        .principal("u")
        .await
        .unwrap()
        .unwrap()
        .has_perm("auth.add_user"));
    store.delete_group("G").await.unwrap();
    assert!(!store
        .principal("u")
        .await
        .unwrap()
        .unwrap()
        .has_perm("auth.add_user"));
    custom_perm(store, "temp").await;
    store.grant_user("u", &s(&["auth.temp"])).await.unwrap();
    assert_eq!(store.delete_permission("auth.temp").await.unwrap(), 1);
    assert!(!store
        .principal("u")
        .await
        .unwrap()
        .unwrap()
        .has_perm("auth.temp"));
    store.delete_user("u").await.unwrap();
    assert!(store.principal("u").await.unwrap().is_none());
}

// Every change through Castellan is in the audit trail, written with the change (and only then).
async fn changes_are_audited(_db: &TestDb, store: &Store) {
    use castellan_store::{Actor, AuditFilter};
    let ops = store.with_actor(Actor::Cli {
        os_user: "ops".into(),
    });
    ops.create_group("G").await.unwrap();
    ops.grant_group("G", &s(&["auth.add_user"])).await.unwrap();
    ops.grant_group("G", &s(&["auth.add_user"])).await.unwrap(); // no change: no entry
    assert!(ops
        .grant_group("G", &s(&["auth.view_user", "auth.nope"]))
        .await
        .is_err());
    let mut u = NewUser::new("carol");
    u.password = Some("secret-pass".into());
    let admin = store.with_actor(Actor::User {
        id: castellan_core::UserId::Int(1),
        username: "boss".into(),
    });
    admin.create_user(u).await.unwrap();
    admin.add_user_to_groups("carol", &s(&["G"])).await.unwrap();
    admin
        .set_password("carol", Some("another-pass"))
        .await
        .unwrap();
    let log = store.audit_log(&AuditFilter::default()).await.unwrap();
    let actions: Vec<(&str, &str, &str)> = log
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str(), e.object.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("user:boss", "user.set_password", "carol"),
            ("user:boss", "user.add_group", "carol"),
            ("user:boss", "user.create", "carol"),
            ("cli:ops", "group.grant", "G"),
            ("cli:ops", "group.create", "G"),
        ]
    );
    assert!(log[3].after.as_deref().unwrap().contains("auth.add_user"));
    for e in &log {
        for text in [&e.before, &e.after].into_iter().flatten() {
            assert!(
                !text.contains("pbkdf2") && !text.contains("secret-pass"),
                "no secrets in the trail: {text}"
            );
        }
    }
    let carol = store
        .audit_log(&AuditFilter {
            user: Some("carol".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(carol.len(), 3);
    let recent = store
        .audit_log(&AuditFilter {
            since: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(recent.is_empty());
}

// Export → import into a fresh database → export again gives the same document; a second import is a
// no-op; a bad document changes nothing.
async fn export_import_round_trip(db: &TestDb, store: &Store) {
    store
        .create_permission("bookshelf.can_publish_book", "book", "Can publish book")
        .await
        .unwrap();
    store.create_group("Editors").await.unwrap();
    store.create_group("Ünïcode group").await.unwrap();
    store
        .grant_group(
            "Editors",
            &s(&["auth.change_user", "bookshelf.can_publish_book"]),
        )
        .await
        .unwrap();
    let mut alice = NewUser::new("alice");
    alice.email = "alice@example.org".into();
    alice.is_staff = true;
    store.create_user(alice).await.unwrap();
    store.create_user(NewUser::new("Zoë")).await.unwrap();
    let md5 = Md5Hasher::new()
        .encode(b"pw", "seasaltseasaltseasalt1")
        .unwrap();
    store
        .execute_raw(&user_sql(
            store,
            &format!("UPDATE auth_user SET password = '{md5}' WHERE username = 'alice'"),
        ))
        .await
        .unwrap();
    store
        .add_user_to_groups("alice", &s(&["Editors", "Ünïcode group"]))
        .await
        .unwrap();
    store
        .grant_user("Zoë", &s(&["auth.view_user"]))
        .await
        .unwrap();
    store
        .touch_last_login(store.user("alice").await.unwrap().unwrap().id)
        .await
        .unwrap();
    let original = store.export().await.unwrap();
    assert_eq!(original.users.len(), 2);

    let target_db = TestDb::create(db.kind()).await.unwrap();
    let target = target_db.store().await;
    target.migrate(&Registry::django()).await.unwrap();
    let noop = |_: &str, _: u64, _: u64| {};
    let report = target.import(&original, &noop).await.unwrap();
    assert_eq!(report.users_created, 2);
    assert_eq!(report.permissions_created, 1);
    let copy = target.export().await.unwrap();
    assert_eq!(copy, original, "round trip");
    assert!(
        target.import(&original, &noop).await.unwrap().is_noop(),
        "idempotent"
    );
    // The copied hash still verifies: hashes are copied, never recomputed.
    let md5_store = Store::connect_with(
        &target_db.url,
        StoreOptions {
            hashers: Hashers::new(vec![Box::new(Md5Hasher::new())]).unwrap(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(md5_store
        .authenticate("alice", "pw")
        .await
        .unwrap()
        .is_some());
    md5_store.close().await;
    assert!(target
        .principal("alice")
        .await
        .unwrap()
        .unwrap()
        .has_perm("bookshelf.can_publish_book"));

    // Bad input: nothing changes.
    let mut bad = original.clone();
    bad.users[0].groups.push("Nope".into());
    bad.users.push(castellan_store::ExportedUser {
        username: "new".into(),
        ..bad.users[1].clone()
    });
    assert!(target.import(&bad, &noop).await.is_err());
    assert_eq!(target.export().await.unwrap(), original);
    target.close().await;
}

// Migrate is idempotent and adopts its own database.
async fn migrate_twice_adopts(_db: &TestDb, store: &Store) {
    let report = store.migrate(&Registry::django()).await.unwrap();
    assert!(report.adopted);
    assert_eq!(
        (report.content_types_created, report.permissions_created),
        (0, 0)
    );
    assert!(store.caching());
}

per_db!(
    migrated, custom_user;
    flags_truth_table,
    user_and_group_permissions,
    anonymous_has_nothing,
    no_object_permissions_from_the_model_backend,
    inactive_user_has_nothing,
    superuser_has_every_row,
    hasher_runs_once_per_failed_login,
    outdated_hash_is_upgraded_on_login,
    create_user_rules,
    with_perm_semantics,
    registry_creates_default_and_custom_permissions,
    one_name_from_two_content_types,
    revocation_by_another_connection_is_seen_next_check,
    bad_input_changes_nothing,
    deletes_cascade,
    migrate_twice_adopts,
    changes_are_audited,
    export_import_round_trip,
);
