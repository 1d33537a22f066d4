//! CSRF: token in the form field or the header, Origin and Referer checks, exempt paths.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use common::*;
use http::{header, Request, StatusCode};

fn post(uri: &str) -> http::request::Builder {
    Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
}

#[tokio::test]
async fn accepts_masked_form_token_and_header_token() {
    let env = env().await;
    let mut c = client(&env);
    let r = c.post_form("/submit", &[("x", "1")]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let secret = c.csrf().await;
    let r = c
        .send(
            post("/submit")
                .header("x-csrftoken", &secret)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .send(
            post("/submit")
                .header(header::ORIGIN, "http://testserver")
                .header("x-csrftoken", &secret)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn rejects_missing_wrong_and_foreign_tokens() {
    let env = env().await;
    let mut c = client(&env);
    let secret = c.csrf().await;
    // No token.
    let r = c.post_raw("/submit", &[("x", "1")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Malformed / wrong tokens.
    for bad in ["abc", &"a".repeat(64), &format!("{}!", &secret[..31])] {
        let r = c.post_raw("/submit", &[("csrfmiddlewaretoken", bad)]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{bad}");
    }
    // Token from another client's secret.
    let mut other = client(&env);
    let other_secret = other.csrf().await;
    let r = c
        .send(
            post("/submit")
                .header("x-csrftoken", &other_secret)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // No cookie at all.
    let mut fresh = client(&env);
    let r = fresh
        .send(
            post("/submit")
                .header("x-csrftoken", &secret)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(body(r).await.contains("CSRF cookie not set"));
    // JSON without a header token.
    let r = c
        .send(
            Request::post("/submit")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn origin_must_match() {
    let env = env().await;
    let mut c = client(&env);
    let secret = c.csrf().await;
    for origin in ["https://evil.com", "null", "https://testserver"] {
        let r = c
            .send(
                post("/submit")
                    .header(header::ORIGIN, origin)
                    .header("x-csrftoken", &secret)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{origin}");
        assert!(body(r).await.contains("Origin checking failed"));
    }
}

#[tokio::test]
async fn trusted_origins_and_exempt_paths() {
    let env = env_with(|c| {
        c.with_trusted_origins(["https://app.example.com"])
            .with_csrf_exempt(["/api/"])
    })
    .await;
    let mut c = client(&env);
    let secret = c.csrf().await;
    let r = c
        .send(
            post("/submit")
                .header(header::ORIGIN, "https://app.example.com")
                .header("x-csrftoken", &secret)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let mut anon = client(&env);
    let r = anon
        .send(Request::post("/api/hook").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn https_requires_a_same_site_https_referer_without_origin() {
    let env = env_with(|c| c.with_https(true)).await;
    let mut c = client(&env);
    let secret = c.csrf().await;
    let cases: [(Option<&str>, StatusCode); 4] = [
        (None, StatusCode::FORBIDDEN),
        (Some("http://testserver/form"), StatusCode::FORBIDDEN),
        (Some("https://evil.com/form"), StatusCode::FORBIDDEN),
        (Some("https://testserver/form"), StatusCode::OK),
    ];
    for (referer, expected) in cases {
        let mut b = post("/submit").header("x-csrftoken", &secret);
        if let Some(r) = referer {
            b = b.header(header::REFERER, r);
        }
        let r = c.send(b.body(Body::empty()).unwrap()).await;
        assert_eq!(r.status(), expected, "{referer:?}");
    }
}

#[tokio::test]
async fn pre_login_token_is_rejected_after_login() {
    let env = env().await;
    let mut c = client(&env);
    let before = c.csrf().await;
    c.login("alice", PASSWORD).await;
    let r = c
        .send(
            post("/submit")
                .header("x-csrftoken", &before)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn csrf_failure_changes_nothing() {
    let env = env().await;
    let mut c = client(&env);
    c.csrf().await;
    let r = c
        .post_raw(
            "/accounts/login/",
            &[("username", "alice"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(c.jar.get("sessionid").is_none());
    assert!(env
        .store
        .user("alice")
        .await
        .unwrap()
        .unwrap()
        .last_login
        .is_none());
}

#[tokio::test]
async fn allowed_hosts_reject_foreign_host_headers() {
    let env = env_with(|c| c.with_allowed_hosts(["testserver", ".example.com"])).await;
    let mut c = client(&env);
    for (host, expected) in [
        ("testserver", StatusCode::OK),
        ("TESTSERVER:8000", StatusCode::OK),
        ("example.com", StatusCode::OK),
        ("www.example.com", StatusCode::OK),
        ("evil.com", StatusCode::BAD_REQUEST),
        ("example.com.evil.com", StatusCode::BAD_REQUEST),
        ("testserver@evil.com", StatusCode::BAD_REQUEST),
        ("", StatusCode::BAD_REQUEST),
    ] {
        let r = c
            .send(
                Request::get("/")
                    .header(header::HOST, host)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status(), expected, "{host:?}");
    }
}
