//! HTTPS mode (Secure cookies, HSTS) and allowed hosts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use common::*;
use http::{header, Request, StatusCode};
use tower::ServiceExt;

fn set_cookies(r: &axum::response::Response) -> Vec<String> {
    r.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn https_mode_marks_cookies_secure_and_sends_hsts() {
    let env = env_with(|c| c.with_https(true).with_hsts_seconds(31_536_000)).await;
    let mut c = client(&env);
    let r = c.get("/accounts/login/").await;
    assert_eq!(
        r.headers().get(header::STRICT_TRANSPORT_SECURITY).unwrap(),
        "max-age=31536000"
    );
    let cookies = set_cookies(&r);
    assert!(cookies.iter().any(|c| c.starts_with("csrftoken=")));
    assert!(
        cookies.iter().all(|c| c.contains("; Secure")),
        "{cookies:?}"
    );
    let token = token(&c);
    let r = c
        .send(
            Request::post("/accounts/login/")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::REFERER, "https://testserver/accounts/login/")
                .header("x-csrftoken", token)
                .body(Body::from(format!(
                    "username=alice&password={}",
                    enc(PASSWORD)
                )))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let cookies = set_cookies(&r);
    assert!(cookies.iter().any(|c| c.starts_with("sessionid=")));
    assert!(
        cookies.iter().all(|c| c.contains("; Secure")),
        "{cookies:?}"
    );
    // HSTS with subdomains.
    let env = env_with(|c| {
        c.with_https(true)
            .with_hsts_seconds(60)
            .with_hsts_include_subdomains(true)
    })
    .await;
    let r = client(&env).get("/").await;
    assert_eq!(
        r.headers().get(header::STRICT_TRANSPORT_SECURITY).unwrap(),
        "max-age=60; includeSubDomains"
    );
}

#[tokio::test]
async fn no_hsts_or_secure_cookies_without_https() {
    // HSTS over plain HTTP means nothing (browsers ignore it), as in Django.
    let env = env_with(|c| c.with_hsts_seconds(3600)).await;
    let mut c = client(&env);
    let r = c.get("/accounts/login/").await;
    assert!(r.headers().get(header::STRICT_TRANSPORT_SECURITY).is_none());
    assert!(set_cookies(&r).iter().all(|c| !c.contains("Secure")));
    // https without HSTS seconds: no header.
    let env = env_with(|c| c.with_https(true)).await;
    let r = client(&env).get("/").await;
    assert!(r.headers().get(header::STRICT_TRANSPORT_SECURITY).is_none());
}

fn token(c: &Client) -> String {
    c.jar.get("csrftoken").unwrap().to_owned()
}

/// A spoofed `Host` cannot make an absolute `next` look same-origin: the request is refused
/// before the login runs.
#[tokio::test]
async fn spoofed_host_is_refused_before_login() {
    let env = env_with(|c| c.with_allowed_hosts(["testserver"])).await;
    let mut c = client(&env);
    let token = c.csrf().await;
    env.counter.reset();
    let r = c
        .send(
            Request::post("/accounts/login/?next=http://evil.com/steal")
                .header(header::HOST, "evil.com")
                .header(header::ORIGIN, "http://evil.com")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header("x-csrftoken", token)
                .body(Body::from(format!(
                    "username=alice&password={}",
                    enc(PASSWORD)
                )))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers().get(header::LOCATION).is_none());
    assert!(c.jar.get("sessionid").is_none());
    assert_eq!(env.counter.hash_calls(), 0);
    let text = String::from_utf8(
        http_body_util::BodyExt::collect(r.into_body())
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(text.contains("allowed hosts"), "{text}");
}

/// A request without any `Host` (HTTP/1.0) is served, but as having no host: only relative `next`
/// URLs are same-origin.
#[tokio::test]
async fn a_request_without_host_is_hostless() {
    let env = env_with(|c| c.with_allowed_hosts(["testserver"])).await;
    let app = app(&env);
    let r = app
        .clone()
        .oneshot(
            Request::get("/accounts/login/?next=http://testserver/x")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = body(r).await;
    assert!(html.contains("name=\"next\" value=\"\""), "{html}");
    let r = app
        .oneshot(
            Request::get("/accounts/login/?next=/x")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert!(body(r).await.contains("name=\"next\" value=\"/x\""));
}

#[test]
fn default_allowed_hosts_follow_the_bind_address() {
    use castellan_axum::default_allowed_hosts;
    let hosts = default_allowed_hosts("127.0.0.1:8000");
    for h in [
        "127.0.0.1",
        "127.0.0.1:8000",
        "localhost:8000",
        "[::1]:8000",
    ] {
        assert!(hosts.iter().any(|x| x == h), "{h} in {hosts:?}");
    }
    let hosts = default_allowed_hosts("books.example.com:443");
    assert!(hosts.iter().any(|x| x == "books.example.com"));
    assert!(hosts.iter().any(|x| x == "books.example.com:443"));
    assert!(hosts.iter().any(|x| x == "localhost:443"));
    let hosts = default_allowed_hosts("[::]:8080");
    assert!(hosts.iter().any(|x| x == "localhost:8080"));
}
