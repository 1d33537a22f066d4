//! Shared test support: a fresh database (SQLite, and PostgreSQL / MariaDB when configured, see
//! `castellan-conformance`) with a cheap hasher, a few users and groups, the admin mounted at
//! /admin behind a real AuthLayer. The client (cookies, CSRF) and [`admin_tests!`], which runs
//! each test once per database kind, are `castellan-testkit`'s.
#![allow(
    dead_code,
    unused_imports,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used
)]

use axum::Router;
use castellan_admin::Admin;
use castellan_axum::{AuthConfig, AuthLayer};
use castellan_store::{NewUser, Store};
use castellan_testkit::perms;
pub use castellan_testkit::{
    audit, body, enc, field, location, per_db as admin_tests, store_at, Client, TestDb, PASSWORD,
};
use http::StatusCode;

pub const SECRET: &str = "django-insecure-admin-test-secret";

/// The test kit's user, with an address at example.org.
pub async fn user(store: &Store, name: &str, f: impl FnOnce(&mut NewUser)) {
    castellan_testkit::user(store, name, |u| {
        u.email = format!("{name}@example.org");
        f(u);
    })
    .await;
}

/// Users: root (superuser, staff); helen (staff, group Helpdesk: view/add/change user, view/change
/// group); bob (staff, no permission); carl (not staff, with Helpdesk); tom (plain user); sid
/// (plain, in Admins: delete_user, delete_group). Groups: Helpdesk, Admins, Viewers (view_user).
pub async fn seed(store: &Store) {
    user(store, "root", |u| {
        u.is_superuser = true;
        u.is_staff = true;
    })
    .await;
    user(store, "helen", |u| u.is_staff = true).await;
    user(store, "bob", |u| u.is_staff = true).await;
    user(store, "carl", |_| {}).await;
    user(store, "tom", |_| {}).await;
    user(store, "sid", |_| {}).await;
    store.create_group("Helpdesk").await.unwrap();
    store
        .grant_group(
            "Helpdesk",
            &perms(&[
                "auth.view_user",
                "auth.add_user",
                "auth.change_user",
                "auth.view_group",
                "auth.change_group",
            ]),
        )
        .await
        .unwrap();
    store.create_group("Admins").await.unwrap();
    store
        .grant_group("Admins", &perms(&["auth.delete_user", "auth.delete_group"]))
        .await
        .unwrap();
    store.create_group("Viewers").await.unwrap();
    store
        .grant_group("Viewers", &perms(&["auth.view_user"]))
        .await
        .unwrap();
    for u in ["helen", "carl"] {
        store
            .add_user_to_groups(u, &perms(&["Helpdesk"]))
            .await
            .unwrap();
    }
    store
        .add_user_to_groups("sid", &perms(&["Admins"]))
        .await
        .unwrap();
}

pub struct Env {
    pub store: Store,
    pub app: Router,
    /// Keeps the database alive; dropped (and the database removed) after the test.
    pub db: Option<std::sync::Arc<TestDb>>,
}

/// The store of a fresh test database, migrated, with a cheap hasher.
pub async fn store_for(db: &TestDb) -> Store {
    store_at(&db.url).await
}

pub async fn env(db: TestDb) -> Env {
    env_with(db, |a| a).await
}

pub async fn env_with(db: TestDb, f: impl FnOnce(Admin) -> Admin) -> Env {
    let store = store_for(&db).await;
    seed(&store).await;
    env_on(db, store, f).await
}

pub async fn env_on(db: TestDb, store: Store, f: impl FnOnce(Admin) -> Admin) -> Env {
    env_on_config(db, store, AuthConfig::new(SECRET), f).await
}

/// The seeded admin with `trusted` group names configured on the auth layer.
pub async fn env_trusting(db: TestDb, trusted: castellan_core::TrustedGroups) -> Env {
    let store = store_for(&db).await;
    seed(&store).await;
    let config = AuthConfig::new(SECRET).with_trusted_groups(trusted);
    env_on_config(db, store, config, |a| a).await
}

pub async fn env_on_config(
    db: TestDb,
    store: Store,
    config: AuthConfig,
    f: impl FnOnce(Admin) -> Admin,
) -> Env {
    let auth = AuthLayer::new(store.clone(), config).await.unwrap();
    let app = Router::new()
        .merge(f(Admin::new(store.clone())).router_at("/admin"))
        .nest("/accounts", castellan_axum::router())
        .layer(auth);
    Env {
        store,
        app,
        db: Some(std::sync::Arc::new(db)),
    }
}

/// A second app over the same database (kept alive by the shared handle).
pub async fn env_on_shared(
    db: Option<std::sync::Arc<TestDb>>,
    store: Store,
    f: impl FnOnce(Admin) -> Admin,
) -> Env {
    let auth = AuthLayer::new(store.clone(), AuthConfig::new(SECRET))
        .await
        .unwrap();
    let app = Router::new()
        .merge(f(Admin::new(store.clone())).router_at("/admin"))
        .nest("/accounts", castellan_axum::router())
        .layer(auth);
    Env { store, app, db }
}

/// A browser on the admin: CSRF tokens from the admin index, else the login page.
pub fn client(env: &Env) -> Client {
    Client::new(env.app.clone()).with_csrf_pages(["/admin/", "/accounts/login/"])
}

/// `Client::as_user(&env, name)`: a browser logged in as `name`.
#[allow(async_fn_in_trait)]
pub trait AsUser: Sized {
    async fn as_user(env: &Env, name: &str) -> Self;
}

impl AsUser for Client {
    async fn as_user(env: &Env, name: &str) -> Self {
        let mut c = client(env);
        let token = c.token_from("/accounts/login/").await;
        let r = c
            .post_with_token(
                "/accounts/login/",
                &token,
                &[("username", name), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FOUND, "login {name}");
        c
    }
}

/// Everything the escalation rules protect: each group's permissions, and each user's flags,
/// password hash, groups and direct permissions. Two snapshots equal: nothing changed.
pub async fn snapshot(store: &Store) -> String {
    let mut out = format!("{:?}\n", store.groups_with_permissions().await.unwrap());
    for u in store.users().await.unwrap() {
        let s = store.user_state(&u.username).await.unwrap().unwrap();
        out.push_str(&format!(
            "{} active={} staff={} super={} pw={} groups={:?} perms={:?}\n",
            s.user.username,
            s.user.is_active,
            s.user.is_staff,
            s.user.is_superuser,
            s.user.password,
            s.groups,
            s.permissions
        ));
    }
    out
}

/// The href of a page's `rel="next"` link, unescaped (`?…`).
pub fn next_link(html: &str) -> String {
    let before = html.split("rel=\"next\"").next().unwrap_or_default();
    before
        .rsplit("href=\"")
        .next()
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .replace("&amp;", "&")
}
