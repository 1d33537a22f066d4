//! Object permissions in django-guardian's tables, on every database: creating the tables,
//! granting and revoking, checks with guardian's rules, object lists that hold only existing
//! objects compared as text, clear errors that change nothing, and a revocation through another
//! store seen by the next check. (The differential test against real django-guardian is
//! `castellan-conformance`'s `guardian_interop`.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use castellan_core::{ModelSpec, ObjectRef, ObjectsQuery, Registry};
use castellan_store::{Error, ObjectHolder, ObjectTable, Store, StoreOptions};
use castellan_testkit::{audit, cheap_options, per_db, perms as s, user, TestDb};

/// A store over a database with two models: `shop.item` (integer keys, Django's naming) and
/// `shop.label` (text keys in `shop_labels.code`, named through `object_tables`), objects in both,
/// guardian's tables, users ann (in group Staff), bob (inactive) and root (superuser).
async fn shop(db: &TestDb) -> Store {
    let options = StoreOptions {
        object_tables: vec![(
            ("shop".into(), "label".into()),
            ObjectTable::new("shop_labels", "code").unwrap(),
        )],
        ..cheap_options()
    };
    let store = Store::connect_with(&db.url, options).await.unwrap();
    let registry = Registry::django()
        .with_app("shop", "Shop")
        .unwrap()
        .with_model(
            ModelSpec::new("shop", "Item").with_permission("can_sell_item", "Can sell item"),
        )
        .unwrap()
        .with_model(ModelSpec::new("shop", "Label"))
        .unwrap();
    store.migrate(&registry).await.unwrap();
    assert!(store.install_object_permissions().await.unwrap());
    store
        .execute_raw(
            "CREATE TABLE shop_item (id integer NOT NULL PRIMARY KEY, name varchar(20) NOT NULL)",
        )
        .await
        .unwrap();
    store
        .execute_raw("INSERT INTO shop_item (id, name) VALUES (1, 'one'), (2, 'two'), (5, 'five'), (10, 'ten')")
        .await
        .unwrap();
    store
        .execute_raw("CREATE TABLE shop_labels (code varchar(20) NOT NULL PRIMARY KEY)")
        .await
        .unwrap();
    store
        .execute_raw("INSERT INTO shop_labels (code) VALUES ('abc'), ('ABD'), ('x y')")
        .await
        .unwrap();
    user(&store, "ann", |_| {}).await;
    user(&store, "bob", |u| u.is_active = false).await;
    user(&store, "root", |u| u.is_superuser = true).await;
    store.create_group("Staff").await.unwrap();
    store
        .add_user_to_groups("ann", &s(&["Staff"]))
        .await
        .unwrap();
    store
}

fn item(pk: &str) -> ObjectRef {
    ObjectRef::new("shop", "item", pk).unwrap()
}

async fn check(store: &Store, who: &str, perms: &[&str], obj: &ObjectRef) -> bool {
    store
        .check_object_perms(who, &s(perms), obj, false)
        .await
        .unwrap()
}

async fn tables_are_created_once_and_grants_follow_guardian(db: TestDb) {
    let store = shop(&db).await;
    assert!(
        !store.install_object_permissions().await.unwrap(),
        "adopted, not re-created"
    );
    assert!(store.has_object_permissions().await.unwrap());
    let one = item("1");
    assert_eq!(
        store
            .grant_object_perms(
                ObjectHolder::User("ann"),
                &s(&["shop.change_item", "view_item"]),
                &one
            )
            .await
            .unwrap(),
        2
    );
    // Idempotent, as assign_perm's get_or_create.
    assert_eq!(
        store
            .grant_object_perms(ObjectHolder::User("ann"), &s(&["change_item"]), &one)
            .await
            .unwrap(),
        0
    );
    store
        .grant_object_perms(
            ObjectHolder::Group("Staff"),
            &s(&["shop.can_sell_item"]),
            &one,
        )
        .await
        .unwrap();
    store
        .grant_object_perms(ObjectHolder::User("bob"), &s(&["shop.change_item"]), &one)
        .await
        .unwrap();
    assert!(
        check(
            &store,
            "ann",
            &["shop.change_item", "shop.can_sell_item"],
            &one
        )
        .await
    );
    assert!(
        check(&store, "ann", &["change_item"], &one).await,
        "a bare codename"
    );
    assert!(!check(&store, "ann", &["shop.delete_item"], &one).await);
    assert!(!check(&store, "ann", &["shop.change_item"], &item("2")).await);
    assert!(
        !check(&store, "bob", &["shop.change_item"], &one).await,
        "inactive"
    );
    assert!(check(&store, "root", &["shop.delete_item"], &item("2")).await);
    // A global permission never grants an object.
    store
        .grant_user("ann", &s(&["shop.delete_item"]))
        .await
        .unwrap();
    assert!(!check(&store, "ann", &["shop.delete_item"], &one).await);
    assert_eq!(
        store.object_perms("ann", &one).await.unwrap(),
        ["can_sell_item", "change_item", "view_item"]
    );
    assert!(store.object_perms("bob", &one).await.unwrap().is_empty());
    assert_eq!(
        store.object_perms("root", &one).await.unwrap(),
        [
            "add_item",
            "can_sell_item",
            "change_item",
            "delete_item",
            "view_item"
        ]
    );
    let log = audit(&store).await;
    assert!(
        log.iter().any(|l| l.ends_with("user.object_grant ann")),
        "{log:?}"
    );
    assert!(
        log.iter().any(|l| l.ends_with("group.object_grant Staff")),
        "{log:?}"
    );
    assert_eq!(
        store
            .revoke_object_perms(ObjectHolder::User("ann"), &s(&["shop.change_item"]), &one)
            .await
            .unwrap(),
        1
    );
    assert!(!check(&store, "ann", &["shop.change_item"], &one).await);
    assert!(audit(&store)
        .await
        .iter()
        .any(|l| l.ends_with("user.object_revoke ann")));
}

async fn bad_input_is_refused_and_changes_nothing(db: TestDb) {
    let store = shop(&db).await;
    let one = item("1");
    let before = audit(&store).await;
    let cases: Vec<(Vec<&str>, ObjectRef, &str)> = vec![
        (vec!["shop.nope"], one.clone(), "unknown"),
        (vec!["auth.change_user"], one.clone(), "other app"),
        (vec!["shop.change_label"], one.clone(), "other model"),
        (vec!["shop.change_item"], item("3"), "no such object"),
        (vec!["shop.change_item"], item("01"), "not the object's key"),
        (
            vec!["shop.change_item"],
            ObjectRef::new("shop", "ghost", "1").unwrap(),
            "no such model",
        ),
    ];
    for (perms, obj, why) in &cases {
        for holder in [ObjectHolder::User("ann"), ObjectHolder::Group("Staff")] {
            let err = store
                .grant_object_perms(holder, &s(perms), obj)
                .await
                .expect_err(why);
            assert!(err.is_input(), "{why}: {err:?}");
        }
    }
    // One bad name among good ones: nothing is granted.
    store
        .grant_object_perms(
            ObjectHolder::User("ann"),
            &s(&["shop.change_item", "shop.nope"]),
            &one,
        )
        .await
        .unwrap_err();
    assert!(store.object_perms("ann", &one).await.unwrap().is_empty());
    assert_eq!(
        audit(&store).await,
        before,
        "refused changes are not audited"
    );
    let err = store
        .grant_object_perms(
            ObjectHolder::User("nobody"),
            &s(&["shop.change_item"]),
            &one,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::NotFound { what: "user", .. }),
        "{err:?}"
    );
    // Checks: an unknown name is an error (no silent typo), another app is guardian's WrongAppError.
    let err = store
        .check_object_perms("ann", &s(&["shop.chnage_item"]), &one, false)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("shop.change_item"),
        "suggests the right name: {err}"
    );
    let err = store
        .check_object_perms("ann", &s(&["auth.view_user"]), &one, false)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Input(castellan_core::Error::WrongApp { .. })),
        "{err:?}"
    );
    let err = store
        .check_object_perms("ann", &s(&["shop.view_item"]), &item("4"), false)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::NotFound { what: "object", .. }),
        "{err:?}"
    );
}

async fn object_lists_hold_existing_objects_compared_as_text(db: TestDb) {
    let store = shop(&db).await;
    for pk in ["1", "10"] {
        store
            .grant_object_perms(
                ObjectHolder::User("ann"),
                &s(&["shop.view_item"]),
                &item(pk),
            )
            .await
            .unwrap();
    }
    store
        .grant_object_perms(
            ObjectHolder::Group("Staff"),
            &s(&["shop.change_item"]),
            &item("1"),
        )
        .await
        .unwrap();
    // Rows only raw SQL (or a deleted object) leaves: a missing object, and "05" for object 5.
    let ann = store.principal("ann").await.unwrap().unwrap();
    let ann_id = ann.identity().id().unwrap().as_int().unwrap();
    for pk in ["999", "05"] {
        store
            .execute_raw(&format!(
                "INSERT INTO guardian_userobjectpermission (object_pk, content_type_id, permission_id, user_id) \
                 SELECT '{pk}', p.content_type_id, p.id, {ann_id} FROM auth_permission p \
                 JOIN django_content_type ct ON ct.id = p.content_type_id \
                 WHERE ct.app_label = 'shop' AND p.codename = 'view_item'"
            ))
            .await
            .unwrap();
    }
    let q = ObjectsQuery::default();
    let objects = |perms: &'static [&'static str], q: ObjectsQuery| {
        let store = store.clone();
        async move {
            store
                .objects_for_user("ann", &s(perms), ("shop", "item"), q)
                .await
                .unwrap()
        }
    };
    assert_eq!(objects(&["shop.view_item"], q).await, ["1", "10"]);
    assert_eq!(
        objects(&["shop.view_item", "shop.change_item"], q).await,
        ["1"]
    );
    let own_only = ObjectsQuery {
        use_groups: false,
        ..q
    };
    assert!(objects(&["shop.view_item", "shop.change_item"], own_only)
        .await
        .is_empty());
    let any = ObjectsQuery {
        any_perm: true,
        ..q
    };
    assert_eq!(
        objects(&["shop.view_item", "shop.change_item"], any).await,
        ["1", "10"]
    );
    assert_eq!(objects(&[], q).await, ["1", "10"], "no codename: any grant");
    // A global permission counts for every object.
    store
        .grant_user("ann", &s(&["shop.change_item"]))
        .await
        .unwrap();
    assert_eq!(
        objects(&["shop.change_item"], q).await,
        ["1", "2", "5", "10"]
    );
    assert_eq!(
        objects(&["shop.view_item", "shop.change_item"], q).await,
        ["1", "10"]
    );
    let root = store
        .objects_for_user("root", &s(&["shop.view_item"]), ("shop", "item"), q)
        .await
        .unwrap();
    assert_eq!(root, ["1", "2", "5", "10"]);
    let err = store
        .objects_for_user(
            "ann",
            &s(&["shop.view_item", "shop.view_label"]),
            ("shop", "item"),
            q,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Input(castellan_core::Error::MixedContentType(_))
        ),
        "{err:?}"
    );

    // Text keys compare exactly, whatever the database's collation: "abc" is not "ABC".
    let label = |pk: &str| ObjectRef::new("shop", "label", pk).unwrap();
    store
        .grant_object_perms(
            ObjectHolder::User("ann"),
            &s(&["shop.view_label"]),
            &label("abc"),
        )
        .await
        .unwrap();
    assert!(check(&store, "ann", &["shop.view_label"], &label("abc")).await);
    let err = store
        .check_object_perms("ann", &s(&["shop.view_label"]), &label("ABC"), false)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::NotFound { what: "object", .. }),
        "{err:?}"
    );
    assert!(!check(&store, "ann", &["shop.view_label"], &label("ABD")).await);
    store
        .grant_object_perms(
            ObjectHolder::User("ann"),
            &s(&["shop.view_label"]),
            &label("x y"),
        )
        .await
        .unwrap();
    let labels = store
        .objects_for_user("ann", &s(&["shop.view_label"]), ("shop", "label"), q)
        .await
        .unwrap();
    assert_eq!(labels, ["abc", "x y"]);
    // A model whose table is missing is a clear error naming the option.
    store
        .execute_raw("INSERT INTO django_content_type (app_label, model) VALUES ('shop', 'ghost')")
        .await
        .unwrap();
    let err = store
        .objects_for_user("root", &s(&[]), ("shop", "ghost"), q)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("--object-table"), "{err}");
}

async fn a_revocation_by_another_process_is_seen_by_the_next_check(db: TestDb) {
    let store = shop(&db).await;
    let other = Store::connect_with(&db.url, cheap_options()).await.unwrap();
    let one = item("1");
    store
        .grant_object_perms(
            ObjectHolder::Group("Staff"),
            &s(&["shop.change_item"]),
            &one,
        )
        .await
        .unwrap();
    assert!(check(&store, "ann", &["shop.change_item"], &one).await);
    other
        .revoke_object_perms(
            ObjectHolder::Group("Staff"),
            &s(&["shop.change_item"]),
            &one,
        )
        .await
        .unwrap();
    assert!(!check(&store, "ann", &["shop.change_item"], &one).await);
    other
        .grant_object_perms(
            ObjectHolder::Group("Staff"),
            &s(&["shop.change_item"]),
            &one,
        )
        .await
        .unwrap();
    assert!(check(&store, "ann", &["shop.change_item"], &one).await);
    other
        .remove_user_from_groups("ann", &s(&["Staff"]))
        .await
        .unwrap();
    assert!(!check(&store, "ann", &["shop.change_item"], &one).await);
}

/// Deleting a user, a group or a permission takes its object grants with it (Django's CASCADE on
/// guardian's foreign keys), in the same transaction: the delete succeeds and no row is left.
async fn deletes_take_their_object_grants_along(db: TestDb) {
    let store = shop(&db).await;
    let one = item("1");
    store
        .grant_object_perms(
            ObjectHolder::User("bob"),
            &s(&["shop.change_item", "shop.can_sell_item"]),
            &one,
        )
        .await
        .unwrap();
    store
        .grant_object_perms(
            ObjectHolder::Group("Staff"),
            &s(&["shop.change_item"]),
            &one,
        )
        .await
        .unwrap();
    store
        .grant_object_perms(ObjectHolder::User("ann"), &s(&["shop.can_sell_item"]), &one)
        .await
        .unwrap();
    store.delete_user("bob").await.unwrap();
    store.delete_group("Staff").await.unwrap();
    let list = store.object_grant_list(&one).await.unwrap();
    assert_eq!(
        list.users,
        [("ann".to_owned(), vec!["can_sell_item".to_owned()])]
    );
    assert!(list.groups.is_empty());
    store.delete_permission("shop.can_sell_item").await.unwrap();
    assert_eq!(
        store.object_grant_list(&one).await.unwrap(),
        Default::default()
    );
}

per_db!(
    deletes_take_their_object_grants_along,
    tables_are_created_once_and_grants_follow_guardian,
    bad_input_is_refused_and_changes_nothing,
    object_lists_hold_existing_objects_compared_as_text,
    a_revocation_by_another_process_is_seen_by_the_next_check,
    custom_user_models_hold_object_grants,
);

/// A project with its own user model (`people.Account`, integer keys under other names, and
/// `accounts.Member`, UUID keys): guardian's tables reference it and every object operation works.
async fn custom_user_models_hold_object_grants(db: TestDb) {
    use castellan_testkit::custom_user::CustomUser;
    let kind = db.kind();
    drop(db);
    for custom in [CustomUser::Account, CustomUser::Member] {
        let Some((_db, store)) = custom.migrated(kind).await else {
            return;
        };
        assert!(
            store.install_object_permissions().await.unwrap(),
            "{custom:?}"
        );
        let mut u = castellan_store::NewUser::new("ann@example.com");
        u.fields = match custom {
            CustomUser::Member => vec![
                ("display_name".into(), "Ann".into()),
                ("favourite_colour".into(), "blue".into()),
            ],
            _ => Vec::new(),
        };
        store.create_user(u).await.unwrap();
        store.create_group("Desk").await.unwrap();
        store.create_group("Other").await.unwrap();
        let desk = ObjectRef::parse("auth.group:1").unwrap();
        let other = ObjectRef::parse("auth.group:2").unwrap();
        let ann = "ann@example.com";
        store
            .grant_object_perms(ObjectHolder::User(ann), &s(&["auth.change_group"]), &desk)
            .await
            .unwrap();
        store
            .grant_object_perms(
                ObjectHolder::Group("Desk"),
                &s(&["auth.view_group"]),
                &other,
            )
            .await
            .unwrap();
        store.add_user_to_groups(ann, &s(&["Desk"])).await.unwrap();
        assert!(
            check(&store, ann, &["auth.change_group"], &desk).await,
            "{custom:?}"
        );
        assert!(
            check(&store, ann, &["auth.view_group"], &other).await,
            "{custom:?}"
        );
        assert!(!check(&store, ann, &["auth.change_group"], &other).await);
        let q = ObjectsQuery::default();
        let objects = store
            .objects_for_user(ann, &s(&["auth.view_group"]), ("auth", "group"), q)
            .await
            .unwrap();
        assert_eq!(objects, ["2"], "{custom:?}");
        assert_eq!(
            store
                .object_holders("auth.view_group", &other, false, None)
                .await
                .unwrap(),
            [ann]
        );
        let why = store
            .explain_object(ann, "auth.view_group", &other)
            .await
            .unwrap();
        assert_eq!(why.groups, ["Desk"]);
        // The list filter binds the user's key as the model stores it (a UUID on PostgreSQL).
        let who = store.principal(ann).await.unwrap().unwrap();
        let groups = store
            .group_names_of(who.identity().id().unwrap())
            .await
            .unwrap();
        let subject = castellan_core::rules::RuleSubject {
            who: &who,
            groups: &groups,
        };
        let filter = store
            .object_filter(
                &castellan_core::rules::ObjectRules::new(),
                &subject,
                "auth.view_group",
                ("auth", "group"),
                ("t", "id"),
            )
            .await
            .unwrap();
        let mut q = castellan_store::sql::SqlText::new(store.dialect());
        q.push("SELECT t.id AS id FROM auth_group t WHERE ");
        filter.append_to(&mut q);
        let ids: Vec<i64> = store
            .db()
            .fetch_all(&q, &filter.args())
            .await
            .unwrap_or_else(|e| panic!("{custom:?}: {e}"))
            .iter()
            .map(|r| r.int("id").unwrap())
            .collect();
        assert_eq!(ids, [2], "{custom:?}");
        store
            .revoke_object_perms(ObjectHolder::User(ann), &s(&["auth.change_group"]), &desk)
            .await
            .unwrap();
        assert!(!check(&store, ann, &["auth.change_group"], &desk).await);
    }
}
