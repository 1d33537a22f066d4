//! Security headers on every response through the layer (Django's SecurityMiddleware and
//! XFrameOptionsMiddleware), and `Cache-Control: private` / `Vary: Cookie` for logged-in users.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use common::*;
use http::{header, HeaderMap, Request, StatusCode};
use tower::ServiceExt;

const FIXED: [(&str, &str); 4] = [
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("cross-origin-opener-policy", "same-origin"),
];

fn assert_security_headers(h: &HeaderMap, what: &str) {
    for (name, value) in FIXED {
        assert_eq!(
            h.get(name).map(|v| v.to_str().unwrap()),
            Some(value),
            "{what}: {name}"
        );
    }
}

fn vary_has_cookie(h: &HeaderMap) -> bool {
    h.get_all(header::VARY)
        .iter()
        .flat_map(|v| v.to_str().unwrap().split(','))
        .any(|v| v.trim().eq_ignore_ascii_case("cookie"))
}

#[tokio::test]
async fn every_response_gets_the_security_headers() {
    let env = env_with(|c| c.with_allowed_hosts(["testserver"])).await;
    let mut c = client(&env);
    let r = c.get("/").await;
    assert_security_headers(r.headers(), "anonymous page");
    assert!(r.headers().get(header::CACHE_CONTROL).is_none());
    let r = c.get("/perm").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_security_headers(r.headers(), "guard redirect");
    let r = c.get("/nowhere").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_security_headers(r.headers(), "404");
    // Answers the layer gives itself: CSRF failure, disallowed host.
    let r = c
        .send(Request::post("/submit").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_security_headers(r.headers(), "CSRF failure");
    let r = c
        .send(
            Request::get("/")
                .header(header::HOST, "evil.com")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_security_headers(r.headers(), "bad host");
}

#[tokio::test]
async fn logged_in_pages_are_private_and_vary_on_cookie() {
    let env = env().await;
    let mut c = client(&env);
    assert_eq!(c.login("dora", PASSWORD).await.status(), StatusCode::FOUND);
    for path in ["/", "/perm", "/accounts/password_change/"] {
        let r = c.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(
            r.headers().get(header::CACHE_CONTROL).unwrap(),
            "private",
            "{path}"
        );
        assert!(vary_has_cookie(r.headers()), "{path}");
        assert_security_headers(r.headers(), path);
    }
}

#[tokio::test]
async fn headers_the_handler_set_are_kept() {
    let env = env().await;
    let app = Router::new()
        .route(
            "/framed",
            get(|| async {
                (
                    [
                        (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
                        (header::CACHE_CONTROL, "no-store"),
                        (header::VARY, "Accept-Encoding"),
                    ],
                    "ok",
                )
            }),
        )
        .route("/", get(|| async { "root" }))
        .nest("/accounts", castellan_axum::router())
        .layer(env.auth.clone());
    let mut c = client(&env);
    c.app = app;
    c.login("dora", PASSWORD).await;
    let r = c.get("/framed").await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers();
    assert_eq!(h.get(header::X_FRAME_OPTIONS).unwrap(), "SAMEORIGIN");
    assert_eq!(h.get_all(header::X_FRAME_OPTIONS).iter().count(), 1);
    assert_eq!(h.get(header::CACHE_CONTROL).unwrap(), "no-store");
    assert_eq!(h.get_all(header::CACHE_CONTROL).iter().count(), 1);
    assert!(vary_has_cookie(h));
    assert!(h
        .get_all(header::VARY)
        .iter()
        .any(|v| v.to_str().unwrap().contains("Accept-Encoding")));
    assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
    // Once per response, however many times the app is called.
    let r = c
        .app
        .clone()
        .oneshot(
            Request::get("/")
                .header(header::HOST, HOST)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.headers().get_all("referrer-policy").iter().count(), 1);
}
