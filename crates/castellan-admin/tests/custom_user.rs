//! The admin on a Django project with its own user model, on every database: the user pages ask
//! for the model's own permissions (`people.change_account`, not `auth.change_user`), search its
//! username field, and a model without `is_staff` says on the login page that nobody can use the
//! admin.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use castellan_admin::{Admin, AdminPages};
use castellan_axum::AuthConfig;
use castellan_core::{ModelSpec, Registry};
use castellan_store::{Store, StoreOptions};
use castellan_testkit::custom_user::CustomUser;
use castellan_testkit::{cheap_hashers, perms};
use common::{admin_tests, env_on_config, user, AsUser, Client, TestDb, SECRET};
use http::StatusCode;

/// The project's store with a cheap hasher, migrated as `castellan migrate` does, plus the
/// model's own permissions (Django's `migrate` makes them: "Can change user" on `people.account`).
async fn project_store(custom: CustomUser, db: &TestDb) -> Store {
    let model = custom.model();
    let store = Store::connect_with(
        &db.url,
        StoreOptions {
            hashers: cheap_hashers(),
            user_model: model.clone(),
            ..StoreOptions::default()
        },
    )
    .await
    .unwrap();
    let own = ModelSpec::new(model.app_label(), model.model()).with_verbose_name("user");
    store
        .migrate(&Registry::django_for(&model).with_model(own).unwrap())
        .await
        .unwrap();
    store
}

async fn user_pages_use_the_models_permissions(db: TestDb) {
    let Some(project) = CustomUser::Account.database(db.kind()).await else {
        return;
    };
    drop(db);
    let store = project_store(CustomUser::Account, &project).await;
    let auth = store.permissions(Some("auth")).await.unwrap();
    assert!(
        !auth.iter().any(|p| p.codename == "change_user"),
        "auth.User is swapped out"
    );
    user(&store, "root", |u| {
        u.is_superuser = true;
        u.is_staff = true;
    })
    .await;
    user(&store, "helen", |u| u.is_staff = true).await;
    user(&store, "bob", |u| u.is_staff = true).await;
    store.create_group("Helpdesk").await.unwrap();
    store
        .grant_group(
            "Helpdesk",
            &perms(&["people.view_account", "people.change_account"]),
        )
        .await
        .unwrap();
    store
        .add_user_to_groups("helen", &perms(&["Helpdesk"]))
        .await
        .unwrap();
    let env = env_on_config(project, store, AuthConfig::new(SECRET), |a: Admin| a).await;

    let mut helen = Client::as_user(&env, "helen").await;
    let (status, html) = helen.page("/admin/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-testid=\"model-auth-users\""), "{html}");
    let (status, html) = helen.page("/admin/auth/user/?q=hel").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("data-testid=\"user-row-helen\""), "{html}");
    assert!(!html.contains("data-testid=\"user-row-bob\""), "{html}");
    let (status, _) = helen.page("/admin/auth/user/bob/change/").await;
    assert_eq!(status, StatusCode::OK);

    // Staff without the model's permissions see no user page.
    let mut bob = Client::as_user(&env, "bob").await;
    let (status, _) = bob.page("/admin/auth/user/").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let mut root = Client::as_user(&env, "root").await;
    let (status, html) = root.page("/admin/auth/user/root/change/").await;
    assert_eq!(status, StatusCode::OK, "{html}");
}

async fn a_model_without_is_staff_says_nobody_can_log_in(db: TestDb) {
    let Some(project) = CustomUser::Person.database(db.kind()).await else {
        return;
    };
    drop(db);
    let store = project_store(CustomUser::Person, &project).await;
    let pages = AdminPages::new().for_user_model(store.user_schema());
    let env = env_on_config(
        project,
        store,
        AuthConfig::new(SECRET).with_pages(pages),
        |a: Admin| a,
    )
    .await;
    let mut c = common::client(&env);
    let (status, html) = c.page("/accounts/login/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Email address"), "{html}");
    assert!(html.contains("nobody can log into the admin"), "{html}");
}

admin_tests!(
    user_pages_use_the_models_permissions,
    a_model_without_is_staff_says_nobody_can_log_in
);
