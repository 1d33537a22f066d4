//! Shared test support: a fresh in-memory SQLite store with Django's schema, a few users, an app
//! with every kind of guard, and a tiny cookie jar.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use castellan_axum::{AuthConfig, AuthLayer, Authorized, CurrentUser, Guard, LoggedIn, Require};
use castellan_core::hashers::{CountingHasher, HashCounter, Hashers, Pbkdf2Hasher};
use castellan_store::{NewUser, Store, StoreOptions};
use http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

pub const SECRET: &str = "django-insecure-test-secret-key";
pub const PASSWORD: &str = "correct horse battery staple";
pub const HOST: &str = "testserver";

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

async fn user(store: &Store, name: &str, f: impl FnOnce(&mut NewUser)) {
    let mut u = NewUser::new(name);
    u.password = Some(PASSWORD.into());
    f(&mut u);
    store.create_user(u).await.unwrap();
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

/// A cookie jar that follows Set-Cookie.
#[derive(Debug, Default, Clone)]
pub struct Jar(pub HashMap<String, String>);

impl Jar {
    pub fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
    pub fn update(&mut self, r: &Response) {
        for v in r.headers().get_all(header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.0.remove(name);
            } else {
                self.0.insert(name.to_owned(), value.to_owned());
            }
        }
    }
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

pub struct Client {
    pub app: Router,
    pub jar: Jar,
}

impl Client {
    pub fn new(env: &Env) -> Self {
        Self {
            app: app(env),
            jar: Jar::default(),
        }
    }

    pub async fn send(&mut self, mut req: Request<Body>) -> Response {
        if !self.jar.0.is_empty() {
            req.headers_mut()
                .insert(header::COOKIE, self.jar.header().parse().unwrap());
        }
        if !req.headers().contains_key(header::HOST) {
            req.headers_mut()
                .insert(header::HOST, HOST.parse().unwrap());
        }
        let r = self.app.clone().oneshot(req).await.unwrap();
        self.jar.update(&r);
        r
    }

    pub async fn get(&mut self, uri: &str) -> Response {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    /// Makes sure a CSRF cookie exists (GET the login form).
    pub async fn csrf(&mut self) -> String {
        if self.jar.get("csrftoken").is_none() {
            let r = self.get("/accounts/login/").await;
            assert_eq!(r.status(), StatusCode::OK);
        }
        self.jar.get("csrftoken").unwrap().to_owned()
    }

    /// POSTs an urlencoded form with the masked token from the login form in `csrfmiddlewaretoken`.
    pub async fn post_form(&mut self, uri: &str, fields: &[(&str, &str)]) -> Response {
        let r = self.get("/accounts/login/").await;
        let html = body(r).await;
        let token = html
            .split("name=\"csrfmiddlewaretoken\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        let mut all: Vec<(&str, &str)> = vec![("csrfmiddlewaretoken", &token)];
        all.extend_from_slice(fields);
        self.post_raw(uri, &all).await
    }

    pub async fn post_raw(&mut self, uri: &str, fields: &[(&str, &str)]) -> Response {
        let body: String = fields
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let req = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    pub async fn login(&mut self, username: &str, password: &str) -> Response {
        self.post_form(
            "/accounts/login/",
            &[("username", username), ("password", password)],
        )
        .await
    }

    pub async fn whoami(&mut self) -> String {
        body(self.get("/").await).await
    }
}

pub fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

pub async fn body(r: Response) -> String {
    String::from_utf8(r.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

pub fn location(r: &Response) -> &str {
    r.headers()
        .get(header::LOCATION)
        .map_or("", |v| v.to_str().unwrap())
}
