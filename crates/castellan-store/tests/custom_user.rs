//! A Django project with its own user model (`AUTH_USER_MODEL`), on every database: the schema
//! Django 6.1 migrated for `staff.Person` (`AbstractBaseUser` + `PermissionsMixin`, `email` as
//! the username field, a required `display_name`, no `is_staff`, names or `date_joined`), and a
//! user model that does not fit, each refused with a clear error that changes nothing; and
//! `accounts.Member`, whose primary key is a UUID (`uuid` on PostgreSQL and MariaDB, `char(32)`
//! hex on SQLite, as Django stores it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use castellan_core::{Registry, UserId, UserModel, UserPk, WithPerm};
use castellan_store::{Error, NewUser, Store, StoreOptions, UserChanges};
use castellan_testkit::custom_user::CustomUser;
use castellan_testkit::{per_db, Kind, TestDb};

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| (*x).to_owned()).collect()
}

async fn person_store(kind: Kind) -> Option<(TestDb, Store)> {
    CustomUser::Person.migrated(kind).await
}

fn person(email: &str) -> NewUser {
    let mut u = NewUser::new(email);
    u.fields = vec![("display_name".into(), format!("The {email}"))];
    u
}

async fn counts(store: &Store) -> (usize, usize) {
    (
        store.users().await.unwrap().len(),
        store.audit_log(&Default::default()).await.unwrap().len(),
    )
}

async fn persons_are_users(db: TestDb) {
    let kind = db.kind();
    drop(db);
    let Some((_db, store)) = person_store(kind).await else {
        return;
    };
    let schema = store.user_schema();
    assert_eq!(schema.table(), "staff_person");
    assert_eq!(schema.groups_table(), "staff_person_groups");
    assert!(!schema.has_staff_flag());
    assert!(schema.has_active_flag());
    let required: Vec<&str> = schema.required_fields().map(|c| c.name.as_str()).collect();
    assert_eq!(required, ["display_name"]);

    let mut ada = person("Ada@Example.COM");
    ada.password = Some("correct horse".into());
    let created = store.create_user(ada).await.unwrap();
    assert_eq!(
        created.username, "Ada@example.com",
        "the domain is lower-cased"
    );
    assert_eq!(created.email, created.username);
    assert!(created.date_joined.is_none());
    store.create_user(person("bob@example.com")).await.unwrap();

    store.create_group("Editors").await.unwrap();
    store
        .grant_group("Editors", &s(&["auth.change_group"]))
        .await
        .unwrap();
    store
        .add_user_to_groups("Ada@example.com", &s(&["Editors"]))
        .await
        .unwrap();
    store
        .grant_user("bob@example.com", &s(&["auth.view_group"]))
        .await
        .unwrap();
    let ada = store.principal("Ada@example.com").await.unwrap().unwrap();
    assert!(ada.has_perm("auth.change_group"));
    assert!(!ada.has_perm("auth.view_group"));
    assert!(store
        .principal("bob@example.com")
        .await
        .unwrap()
        .unwrap()
        .has_perm("auth.view_group"));
    let holders = store
        .with_perm(&WithPerm {
            app_label: "auth".into(),
            codename: "change_group".into(),
            is_active: Some(true),
            include_superusers: true,
        })
        .await
        .unwrap();
    assert_eq!(holders, ["Ada@example.com"]);
    assert!(store
        .authenticate("Ada@example.com", "correct horse")
        .await
        .unwrap()
        .is_some());

    // Deactivation (the model has is_active) takes every permission away.
    store
        .update_user(
            "Ada@example.com",
            UserChanges {
                is_active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!store
        .principal("Ada@example.com")
        .await
        .unwrap()
        .unwrap()
        .has_perm("auth.change_group"));

    // An export of the project's users imports into another database of the same project.
    let export = store.export().await.unwrap();
    assert_eq!(export.users.len(), 2);
    assert!(export.users.iter().all(|u| u.date_joined.is_none()));
    store.delete_user("bob@example.com").await.unwrap();
    // Re-creating bob would need his display_name, which an export does not carry.
    let err = store.import(&export, &|_, _, _| {}).await.unwrap_err();
    assert!(
        matches!(&err, Error::UserModel(m) if m.contains("display_name")),
        "{err}"
    );
    assert_eq!(store.users().await.unwrap().len(), 1, "nothing imported");
    store.close().await;
}

async fn what_the_model_cannot_hold_is_refused(db: TestDb) {
    let kind = db.kind();
    drop(db);
    let Some((_db, store)) = person_store(kind).await else {
        return;
    };
    store.create_user(person("ada@example.com")).await.unwrap();
    let before = counts(&store).await;

    let cases: Vec<(NewUser, &str)> = vec![
        (NewUser::new("carl@example.com"), "display_name"),
        (
            {
                let mut u = person("carl@example.com");
                u.is_staff = true;
                u
            },
            "no is_staff column",
        ),
        (
            {
                let mut u = person("carl@example.com");
                u.first_name = "Carl".into();
                u
            },
            "no first_name column",
        ),
        (
            {
                let mut u = person("carl@example.com");
                u.fields.push(("shoe_size".into(), "44".into()));
                u
            },
            "no field \"shoe_size\"",
        ),
    ];
    for (new, expected) in cases {
        let err = store.create_user(new).await.unwrap_err();
        assert!(err.is_input(), "{err:?}");
        assert!(err.to_string().contains(expected), "{err}");
    }
    let err = store
        .create_user(person("not an address"))
        .await
        .unwrap_err();
    assert!(err.is_input(), "{err:?}");
    let err = store
        .update_user(
            "ada@example.com",
            UserChanges {
                is_staff: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::UserModel(m) if m.contains("is_staff")),
        "{err}"
    );
    assert_eq!(counts(&store).await, before, "nothing was written");
    let ada = store.user("ada@example.com").await.unwrap().unwrap();
    assert!(!ada.is_staff);
    store.close().await;
}

async fn a_model_that_does_not_fit_is_refused(db: TestDb) {
    let kind = db.kind();
    drop(db);
    let open = |url: String, model: UserModel| async move {
        Store::connect_with(
            &url,
            StoreOptions {
                user_model: model,
                ..StoreOptions::default()
            },
        )
        .await
    };
    // An empty database: Castellan never creates a custom user table.
    let Some(empty) = TestDb::create(kind).await else {
        return;
    };
    let model = UserModel::parse("accounts.Member").unwrap();
    let err = open(empty.url.clone(), model).await.unwrap_err();
    assert!(err.is_input());
    assert!(
        err.to_string().contains("accounts.Member") && err.to_string().contains("accounts_member"),
        "{err}"
    );
    let plain = Store::connect(&empty.url).await.unwrap();
    assert!(!plain.is_migrated().await.unwrap(), "nothing was created");
    plain.close().await;

    let Some(project) = CustomUser::Person.database(kind).await else {
        return;
    };
    // A username field the table does not have.
    let wrong_field = UserModel::parse("staff.Person")
        .unwrap()
        .with_username_field("handle")
        .unwrap();
    let err = open(project.url.clone(), wrong_field).await.unwrap_err();
    assert!(
        matches!(&err, Error::UserModel(m) if m.contains("\"handle\"")),
        "{err}"
    );
    // A model whose table lacks a required column: auth_group has no password.
    let not_users = UserModel::parse("auth.Group")
        .unwrap()
        .with_username_field("name")
        .unwrap();
    let err = open(project.url.clone(), not_users).await.unwrap_err();
    assert!(
        matches!(&err, Error::UserModel(m) if m.contains("password")),
        "{err}"
    );
    // Django's default model on a project that swapped it: there is no auth_user.
    let plain = Store::connect(&project.url).await.unwrap();
    let err = plain.migrate(&Registry::django()).await.unwrap_err();
    assert!(
        matches!(&err, Error::UserModel(m) if m.contains("--user-model")),
        "{err}"
    );
    plain.close().await;
}

fn member(email: &str) -> NewUser {
    let mut u = NewUser::new(email);
    u.fields = vec![
        ("display_name".into(), format!("The {email}")),
        ("favourite_colour".into(), "green".into()),
    ];
    u
}

async fn members_with_uuid_keys_are_users(db: TestDb) {
    members_are_users(CustomUser::Member, db).await;
}

/// MySQL's `char(32)` UUID keys (Oracle MySQL; MariaDB before Django 5.0).
async fn members_with_char32_keys_are_users(db: TestDb) {
    members_are_users(CustomUser::MemberChar32, db).await;
}

async fn members_are_users(custom: CustomUser, db: TestDb) {
    let kind = db.kind();
    drop(db);
    let Some((_db, store)) = custom.migrated(kind).await else {
        return;
    };
    let schema = store.user_schema();
    assert_eq!(schema.table(), "accounts_member");
    assert_eq!(schema.pk(), UserPk::Uuid);
    assert!(schema.has_staff_flag());

    // favourite_colour's default lives in Python: a create without it is refused before a write.
    let mut no_colour = NewUser::new("ann@example.com");
    no_colour.fields = vec![("display_name".into(), "Ann".into())];
    let before = counts(&store).await;
    let err = store.create_user(no_colour).await.unwrap_err();
    assert!(err.to_string().contains("favourite_colour"), "{err}");
    assert_eq!(counts(&store).await, before, "nothing written");

    // A value longer than its column is refused before a write, as Django's forms refuse it
    // (SQLite would store it; PostgreSQL and MariaDB would not).
    let mut long = member("ann@example.com");
    long.fields[0].1 = "x".repeat(101);
    let err = store.create_user(long).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("at most 100 characters (it has 101)"),
        "{err}"
    );
    let long = member(&format!("{}@example.com", "a".repeat(250)));
    let err = store.create_user(long).await.unwrap_err();
    assert!(err.to_string().contains("at most 254 characters"), "{err}");
    assert_eq!(counts(&store).await, before, "nothing written");

    let mut ann = member("ann@example.com");
    ann.password = Some("correct horse".into());
    let created = store.create_user(ann).await.unwrap();
    let UserId::Uuid(_) = created.id else {
        panic!("a UUID key, not {:?}", created.id)
    };
    let bob = store.create_user(member("bob@example.com")).await.unwrap();
    assert_ne!(created.id, bob.id, "each user gets a fresh UUID");
    let found = store.user("ann@example.com").await.unwrap().unwrap();
    assert_eq!(found.id, created.id, "the key reads back as written");
    assert_eq!(
        store
            .user_by_id(created.id)
            .await
            .unwrap()
            .unwrap()
            .username,
        "ann@example.com"
    );
    assert_eq!(
        UserId::parse(UserPk::Uuid, &created.id.to_string()),
        Some(created.id),
        "str(pk) parses back"
    );

    store.create_group("Editors").await.unwrap();
    store
        .grant_group("Editors", &s(&["auth.change_group"]))
        .await
        .unwrap();
    store
        .add_user_to_groups("ann@example.com", &s(&["Editors"]))
        .await
        .unwrap();
    store
        .grant_user("bob@example.com", &s(&["auth.view_group"]))
        .await
        .unwrap();
    let p = store.principal("ann@example.com").await.unwrap().unwrap();
    assert!(p.has_perm("auth.change_group"));
    assert!(!p.has_perm("auth.view_group"));
    assert_eq!(
        store.user_groups("ann@example.com").await.unwrap(),
        ["Editors"]
    );
    let change_group = WithPerm {
        app_label: "auth".into(),
        codename: "change_group".into(),
        is_active: Some(true),
        include_superusers: true,
    };
    assert_eq!(
        store.with_perm(&change_group).await.unwrap(),
        ["ann@example.com"]
    );
    assert_eq!(
        store.with_perm_ids(&change_group).await.unwrap(),
        [created.id]
    );
    assert_eq!(store.with_perm_count(&change_group).await.unwrap(), 1);
    assert!(store
        .authenticate("ann@example.com", "correct horse")
        .await
        .unwrap()
        .is_some());
    let trail = store.audit_log(&Default::default()).await.unwrap();
    assert!(
        trail.iter().any(|e| e.object == "ann@example.com"),
        "audited by username"
    );

    // The export imports into another database of the same project: new users get new UUIDs,
    // and a second import changes nothing.
    let export = store.export().await.unwrap();
    let Some((_other_db, other)) = custom.migrated(kind).await else {
        return;
    };
    for name in ["ann@example.com", "bob@example.com"] {
        other.create_user(member(name)).await.unwrap();
    }
    other.import(&export, &|_, _, _| {}).await.unwrap();
    assert_eq!(
        other.user_groups("ann@example.com").await.unwrap(),
        ["Editors"]
    );
    assert!(other
        .principal("bob@example.com")
        .await
        .unwrap()
        .unwrap()
        .has_perm("auth.view_group"));
    assert!(other
        .import(&export, &|_, _, _| {})
        .await
        .unwrap()
        .is_noop());
    other.close().await;

    // Deleting a member removes its memberships and grants with it.
    store.delete_user("ann@example.com").await.unwrap();
    assert!(store.with_perm(&change_group).await.unwrap().is_empty());
    assert_eq!(
        store.group_detail("Editors").await.unwrap().members,
        Vec::<String>::new()
    );
    store.close().await;
}

per_db!(
    members_with_uuid_keys_are_users,
    members_with_char32_keys_are_users,
    persons_are_users,
    what_the_model_cannot_hold_is_refused,
    a_model_that_does_not_fit_is_refused
);
