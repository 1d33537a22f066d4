//! Shared test support: a fresh in-memory SQLite store with Django's schema, a few users, and an
//! app with every kind of guard. The client, cookie jar and CSRF handling are `castellan-testkit`'s.
#![allow(
    dead_code,
    unused_imports,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use castellan_axum::{AuthConfig, AuthLayer, Authorized, CurrentUser, Guard, LoggedIn, Require};
use castellan_core::hashers::{CountingHasher, HashCounter, Hashers, Pbkdf2Hasher};
use castellan_store::{Store, StoreOptions};
use castellan_testkit::user;
pub use castellan_testkit::{body, enc, location, Client, Jar, HOST, PASSWORD};
use http::StatusCode;

pub const SECRET: &str = "django-insecure-test-secret-key";

pub struct Env {
    pub store: Store,
    pub auth: AuthLayer,
    pub counter: Arc<HashCounter>,
}

pub async fn store() -> (Store, Arc<HashCounter>) {
    store_at("sqlite::memory:").await
}

pub async fn store_at(url: &str) -> (Store, Arc<HashCounter>) {
    let hasher = CountingHasher::new(Pbkdf2Hasher::sha256().with_iterations(1000).unwrap());
    let counter = hasher.counter();
    let hashers = Hashers::new(vec![Box::new(hasher)]).unwrap();
    let options = StoreOptions {
        hashers,
        ..StoreOptions::default()
    };
    let store = Store::connect_with(url, options).await.unwrap();
    store
        .migrate(&castellan_core::Registry::django())
        .await
        .unwrap();
    (store, counter)
}

/// Users: alice (no permission), ginny (via group Editors), dora (direct), sam (superuser),
/// ina (inactive, with the permission directly).
pub async fn env_with(config: impl FnOnce(AuthConfig) -> AuthConfig) -> Env {
    env_at("sqlite::memory:", config).await
}

pub async fn env_at(url: &str, config: impl FnOnce(AuthConfig) -> AuthConfig) -> Env {
    let (store, counter) = store_at(url).await;
    user(&store, "alice", |_| {}).await;
    user(&store, "ginny", |_| {}).await;
    user(&store, "dora", |_| {}).await;
    user(&store, "sam", |u| u.is_superuser = true).await;
    user(&store, "ina", |_| {}).await;
    store.create_group("Editors").await.unwrap();
    store
        .grant_group(
            "Editors",
            &["auth.change_user".into(), "auth.view_user".into()],
        )
        .await
        .unwrap();
    store
        .add_user_to_groups("ginny", &["Editors".into()])
        .await
        .unwrap();
    store
        .grant_user(
            "dora",
            &["auth.change_user".into(), "auth.view_user".into()],
        )
        .await
        .unwrap();
    store
        .grant_user("ina", &["auth.change_user".into(), "auth.view_user".into()])
        .await
        .unwrap();
    let auth = AuthLayer::new(store.clone(), config(AuthConfig::new(SECRET)))
        .await
        .unwrap();
    counter.reset();
    Env {
        store,
        auth,
        counter,
    }
}

pub async fn env() -> Env {
    env_with(|c| c).await
}

pub struct CanChangeUsers;
impl Guard for CanChangeUsers {
    fn require() -> Require {
        Require::perm("auth.change_user")
    }
}

async fn whoami(user: CurrentUser) -> String {
    match user.user {
        Some(u) => u.username,
        None => "anonymous".into(),
    }
}

/// The app: one route per guard kind, extractor routes, a POST route, and the auth views.
pub fn app(env: &Env) -> Router {
    let a = &env.auth;
    let route = |path: &str, require: Require| {
        Router::new()
            .route(path, get(whoami).post(whoami))
            .route_layer(a.require(path, require).unwrap())
    };
    a.check("/x/perm", &CanChangeUsers::require()).unwrap();
    Router::new()
        .route("/", get(whoami).post(whoami))
        .merge(route("/login-required", Require::login()))
        .merge(route("/perm", Require::perm("auth.change_user")))
        .merge(route(
            "/all",
            Require::all_perms(["auth.change_user", "auth.view_user"]),
        ))
        .merge(route(
            "/any",
            Require::any_perm(["auth.delete_user", "auth.change_user"]),
        ))
        .merge(route("/group", Require::any_group(["Editors", "Other"])))
        .merge(route(
            "/test",
            Require::test(|s| s.user().is_some_and(|u| u.username.len() == 4)),
        ))
        .merge(route(
            "/raise",
            Require::perm("auth.change_user")
                .with_raise_exception(true)
                .with_message("No <entry>"),
        ))
        .merge(route(
            "/custom-login",
            Require::login().with_login_url("/login/?pretty=1"),
        ))
        .merge(route(
            "/remote-login",
            Require::login().with_login_url("https://www.remote.example.com/login"),
        ))
        .merge(route(
            "/no-field",
            Require::login().with_redirect_field_name(None),
        ))
        .merge(route(
            "/field",
            Require::login().with_redirect_field_name(Some("goto")),
        ))
        .merge(route(
            "/handler",
            Require::perm("auth.change_user").with_no_permission(|_| {
                use axum::response::IntoResponse;
                (StatusCode::IM_A_TEAPOT, "custom").into_response()
            }),
        ))
        .merge(route(
            "/denial",
            Require::all_perms(["auth.view_user", "auth.delete_user", "auth.add_user"])
                .with_message("staff only")
                .with_no_permission(|d| {
                    use axum::response::IntoResponse;
                    let who = d.session.user().map(|u| u.username).unwrap_or_default();
                    let text = format!("{who}|{}|{}", d.missing.join(","), d.message);
                    (StatusCode::FORBIDDEN, text).into_response()
                }),
        ))
        .route(
            "/x/perm",
            get(
                |a: Authorized<CanChangeUsers>| async move { a.0.identity().username().to_owned() },
            ),
        )
        .route(
            "/x/login",
            get(|LoggedIn(u): LoggedIn| async move { u.username }),
        )
        .route("/submit", post(whoami))
        .route("/api/hook", post(|| async { "hooked" }))
        .nest("/accounts", castellan_axum::router())
        .layer(env.auth.clone())
}

/// The test kit's client on [`app`]`(env)`.
pub fn client(env: &Env) -> Client {
    Client::new(app(env))
}

/// What `/` answers: the current user's name, or "anonymous".
#[allow(async_fn_in_trait)]
pub trait Whoami {
    async fn whoami(&mut self) -> String;
}

impl Whoami for Client {
    async fn whoami(&mut self) -> String {
        body(self.get("/").await).await
    }
}
