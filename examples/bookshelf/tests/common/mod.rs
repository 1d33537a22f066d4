//! Test support: a fresh Bookshelf (demo users and content, cheap password hashing) on a fresh
//! database, and a browser that answers with whole pages. The client (cookies, CSRF) and the
//! per-database instantiation ([`per_db!`]) are `castellan-testkit`'s.
#![allow(
    dead_code,
    unused_imports,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::ops::{Deref, DerefMut};

use axum::body::Body;
use axum::Router;
use bookshelf::Bookshelf;
use castellan_store::StoreOptions;
pub use castellan_testkit::{per_db, Kind, Page, TestDb, HOST};
use http::{Request, StatusCode};

pub const SECRET: &str = "bookshelf-test-secret-key";
pub const PASSWORD: &str = "demo password 123";

pub struct Env {
    pub app: Bookshelf,
    pub router: Router,
    pub db: TestDb,
}

/// Fast hashing (the test kit's cheap hasher), and a pool large enough for the race tests.
pub fn cheap_options() -> StoreOptions {
    StoreOptions {
        max_connections: 24,
        ..castellan_testkit::cheap_options()
    }
}

impl Env {
    /// Closes the application's pool (shared by the store and the Bookshelf tables) before the
    /// database is dropped.
    pub async fn close(&self) {
        self.app.store.close().await;
    }
}

/// A fresh, set-up and seeded Bookshelf on `db`.
pub async fn env_on(db: TestDb) -> Env {
    let app = Bookshelf::connect(&db.url, cheap_options()).await.unwrap();
    app.setup().await.unwrap();
    app.seed_demo(Some(PASSWORD)).await.unwrap();
    let router = app.router(SECRET.as_bytes().to_vec()).await.unwrap();
    Env { app, router, db }
}

/// A fresh Bookshelf on SQLite.
pub async fn env() -> Env {
    env_on(TestDb::create(Kind::Sqlite).await.unwrap()).await
}

/// One browser: the test kit's client with a CSRF secret of its own in the `csrftoken` cookie
/// (Django accepts the unmasked secret as the token), answering with whole [`Page`]s.
#[derive(Clone)]
pub struct Client(pub castellan_testkit::Client);

impl Deref for Client {
    type Target = castellan_testkit::Client;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Client {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Client {
    pub fn new(router: &Router) -> Self {
        Self(
            castellan_testkit::Client::new(router.clone())
                .with_csrf_pages(Vec::<String>::new())
                .with_csrf_cookie(&"a".repeat(32)),
        )
    }

    /// A client logged in as `username` (the demo password).
    pub async fn logged_in(router: &Router, username: &str) -> Self {
        let mut c = Self::new(router);
        let p = c.login(username, PASSWORD, None).await;
        assert_eq!(
            p.status,
            StatusCode::FOUND,
            "login as {username} failed: {}",
            p.body
        );
        c
    }

    pub async fn login(&mut self, username: &str, password: &str, next: Option<&str>) -> Page {
        let mut form = vec![("username", username), ("password", password)];
        if let Some(n) = next {
            form.push(("next", n));
        }
        self.post("/accounts/login/", &form).await
    }

    /// Sends a request as built by the caller (with this client's cookies added when it has none).
    pub async fn request(&mut self, req: Request<Body>) -> Page {
        self.0.request(req).await
    }

    pub async fn get(&mut self, path: &str) -> Page {
        Page::read(self.0.get(path).await).await
    }

    /// A form POST carrying the CSRF token.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        Page::read(self.0.post_form(path, form).await).await
    }

    /// A form POST carrying `token` as `csrfmiddlewaretoken` (e.g. one taken from a page).
    pub async fn post_with_token(
        &mut self,
        path: &str,
        token: &str,
        form: &[(&str, &str)],
    ) -> Page {
        Page::read(self.0.post_with_token(path, token, form).await).await
    }
}
