//! Test support: a fresh Bookshelf (demo users and content, cheap password hashing) on a fresh
//! database, and a tiny browser-like client with a cookie jar that drives the router in-process.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use axum::body::Body;
use axum::Router;
use bookshelf::Bookshelf;
use castellan_conformance::{Kind, TestDb};
use castellan_core::hashers::{Hashers, Pbkdf2Hasher};
use castellan_store::StoreOptions;
use http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

pub const SECRET: &str = "bookshelf-test-secret-key";
pub const PASSWORD: &str = "demo password 123";
pub const HOST: &str = "testserver";

pub struct Env {
    pub app: Bookshelf,
    pub router: Router,
    pub db: TestDb,
}

/// Fast hashing: 1000 PBKDF2 rounds instead of Django's 1.5 million.
pub fn cheap_options() -> StoreOptions {
    StoreOptions {
        hashers: Hashers::new(vec![Box::new(
            Pbkdf2Hasher::sha256().with_iterations(1000).unwrap(),
        )])
        .unwrap(),
        max_connections: 24,
    }
}

/// A fresh, set-up and seeded Bookshelf on `kind`, or `None` when that server is not configured
/// (and not required).
pub async fn env_on(kind: Kind) -> Option<Env> {
    let db = TestDb::create(kind).await?;
    let app = Bookshelf::connect(&db.url, cheap_options()).await.unwrap();
    app.setup().await.unwrap();
    app.seed_demo(Some(PASSWORD)).await.unwrap();
    let router = app.router(SECRET.as_bytes().to_vec()).await.unwrap();
    Some(Env { app, router, db })
}

pub async fn env() -> Env {
    env_on(Kind::Sqlite).await.unwrap()
}

/// A response, read whole.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

impl Page {
    /// A 302 to the login page (Django's redirect for anonymous users).
    pub fn is_login_redirect(&self) -> bool {
        self.status == StatusCode::FOUND
            && self
                .location
                .as_deref()
                .is_some_and(|l| l.starts_with("/accounts/login/"))
    }
}

/// One browser: a cookie jar, the CSRF token taken from its cookie.
#[derive(Clone)]
pub struct Client {
    router: Router,
    pub cookies: HashMap<String, String>,
}

impl Client {
    pub fn new(router: &Router) -> Self {
        let mut cookies = HashMap::new();
        // A CSRF secret of our own: Django accepts the unmasked secret as the token too.
        cookies.insert("csrftoken".to_owned(), "a".repeat(32));
        Self {
            router: router.clone(),
            cookies,
        }
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

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Sends a request as built by the caller (with this client's cookies added when it has none).
    pub async fn request(&mut self, mut req: Request<Body>) -> Page {
        if !req.headers().contains_key(header::COOKIE) {
            let cookies = self.cookie_header();
            req.headers_mut()
                .insert(header::COOKIE, cookies.parse().unwrap());
        }
        self.send(req).await
    }

    async fn send(&mut self, req: Request<Body>) -> Page {
        let response = self.router.clone().oneshot(req).await.unwrap();
        for value in response.headers().get_all(header::SET_COOKIE) {
            let value = value.to_str().unwrap();
            let first = value.split(';').next().unwrap();
            let (name, v) = first.split_once('=').unwrap();
            if v == "\"\"" || value.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), v.to_owned());
            }
        }
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|l| l.to_str().unwrap().to_owned());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Page {
            status,
            location,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = Request::get(path)
            .header(header::HOST, HOST)
            .header(header::COOKIE, self.cookie_header())
            .body(Body::empty())
            .unwrap();
        self.send(req).await
    }

    /// A form POST carrying the CSRF token.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let token = self.cookies.get("csrftoken").cloned().unwrap_or_default();
        self.post_with_token(path, &token, form).await
    }

    /// A form POST carrying `token` as `csrfmiddlewaretoken` (e.g. one taken from a page).
    pub async fn post_with_token(
        &mut self,
        path: &str,
        token: &str,
        form: &[(&str, &str)],
    ) -> Page {
        let mut body = format!("csrfmiddlewaretoken={}", encode(token));
        for (k, v) in form {
            body.push('&');
            body.push_str(k);
            body.push('=');
            body.push_str(&encode(v));
        }
        let req = Request::post(path)
            .header(header::HOST, HOST)
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }
}

/// `application/x-www-form-urlencoded` encoding of one value.
pub fn encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
