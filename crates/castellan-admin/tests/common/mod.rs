//! Shared test support: a fresh database (SQLite, and PostgreSQL / MariaDB when configured, see
//! `castellan-conformance`) with a cheap hasher, a few users and groups, the admin mounted at
//! /admin behind a real AuthLayer, and a cookie-keeping client. [`admin_tests!`] runs each test
//! once per database kind.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use axum::body::Body;
use axum::response::Response;
use axum::Router;
use castellan_admin::Admin;
use castellan_axum::{AuthConfig, AuthLayer};
pub use castellan_conformance::TestDb;
use castellan_core::hashers::{Hashers, Pbkdf2Hasher};
use castellan_store::{NewUser, Store, StoreOptions};
use http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

pub const SECRET: &str = "django-insecure-admin-test-secret";
pub const PASSWORD: &str = "correct horse battery staple";

pub async fn store_at(url: &str) -> Store {
    let hasher = Pbkdf2Hasher::sha256().with_iterations(1000).unwrap();
    let options = StoreOptions {
        hashers: Hashers::new(vec![Box::new(hasher)]).unwrap(),
        ..StoreOptions::default()
    };
    let store = Store::connect_with(url, options).await.unwrap();
    store
        .migrate(&castellan_core::Registry::django())
        .await
        .unwrap();
    store
}

pub async fn user(store: &Store, name: &str, f: impl FnOnce(&mut NewUser)) {
    let mut u = NewUser::new(name);
    u.password = Some(PASSWORD.into());
    u.email = format!("{name}@example.org");
    f(&mut u);
    store.create_user(u).await.unwrap();
}

fn perms(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
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

/// Instantiates each listed `async fn name(db: TestDb)` once per database kind, as
/// `sqlite::name`, `postgres::name` and `mysql::name` (skipped when the server is not configured,
/// failing when `CASTELLAN_REQUIRE_SERVERS=1` and it is missing).
macro_rules! admin_tests {
    ($($test:ident),* $(,)?) => {
        admin_tests!(@kind sqlite, Sqlite, $($test),*);
        admin_tests!(@kind postgres, Postgres, $($test),*);
        admin_tests!(@kind mysql, MySql, $($test),*);
    };
    (@kind $modname:ident, $kind:ident, $($test:ident),*) => {
        mod $modname {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let kind = castellan_conformance::Kind::$kind;
                    let Some(db) = castellan_conformance::TestDb::create(kind).await else {
                        return;
                    };
                    super::$test(db).await;
                }
            )*
        }
    };
}
pub(crate) use admin_tests;

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

#[derive(Clone)]
pub struct Client {
    pub app: Router,
    pub jar: HashMap<String, String>,
}

impl Client {
    pub fn new(env: &Env) -> Self {
        Self {
            app: env.app.clone(),
            jar: HashMap::new(),
        }
    }

    pub async fn as_user(env: &Env, name: &str) -> Self {
        let mut c = Self::new(env);
        let token = c.token_from("/accounts/login/").await;
        let r = c
            .post_raw(
                "/accounts/login/",
                &[
                    ("csrfmiddlewaretoken", &token),
                    ("username", name),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FOUND, "login {name}");
        c
    }

    pub async fn send(&mut self, mut req: Request<Body>) -> Response {
        if !self.jar.is_empty() {
            let cookie = self
                .jar
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            req.headers_mut()
                .insert(header::COOKIE, cookie.parse().unwrap());
        }
        req.headers_mut()
            .insert(header::HOST, "testserver".parse().unwrap());
        let r = self.app.clone().oneshot(req).await.unwrap();
        for v in r.headers().get_all(header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_owned(), value.to_owned());
            }
        }
        r
    }

    pub async fn get(&mut self, uri: &str) -> Response {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    /// GET a page and return (status, body).
    pub async fn page(&mut self, uri: &str) -> (StatusCode, String) {
        let r = self.get(uri).await;
        let s = r.status();
        (s, body(r).await)
    }

    /// The CSRF token of the first form on `uri`.
    pub async fn token_from(&mut self, uri: &str) -> String {
        let (s, html) = self.page(uri).await;
        assert_eq!(s, StatusCode::OK, "{uri}: {html}");
        field(&html, "csrfmiddlewaretoken").expect("a csrf token in the page")
    }

    /// POSTs `fields` with a valid CSRF token (taken from the admin index, or the login page).
    pub async fn post(&mut self, uri: &str, fields: &[(&str, &str)]) -> Response {
        let token = match self.page("/admin/").await {
            (StatusCode::OK, html) => field(&html, "csrfmiddlewaretoken").unwrap(),
            _ => self.token_from("/accounts/login/").await,
        };
        let mut all = vec![("csrfmiddlewaretoken", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(uri, &all).await
    }

    pub async fn post_raw(&mut self, uri: &str, fields: &[(&str, &str)]) -> Response {
        let body = fields
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
}

/// The value of the first `name="…" value="…"` input in `html`.
pub fn field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    html.split(&marker)
        .nth(1)
        .and_then(|s| s.split('"').next())
        .map(|s| {
            s.replace("&#x2f;", "/")
                .replace("&#x27;", "'")
                .replace("&quot;", "\"")
                .replace("&amp;", "&")
        })
}

pub fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

pub async fn body(r: Response) -> String {
    String::from_utf8(r.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

pub fn location(r: &Response) -> String {
    r.headers()
        .get(header::LOCATION)
        .map_or(String::new(), |v| v.to_str().unwrap().to_owned())
}

/// The audit actions recorded so far, oldest first, as "actor action object".
pub async fn audit(store: &Store) -> Vec<String> {
    let mut v: Vec<String> = store
        .audit_log(&castellan_store::AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|e| format!("{} {} {}", e.actor, e.action, e.object))
        .collect();
    v.reverse();
    v
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
