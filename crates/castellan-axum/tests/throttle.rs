//! Login throttling and the fail-closed 503.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ConnectInfo;
use common::*;
use http::StatusCode;

fn fast() -> castellan_axum::ThrottleConfig {
    castellan_axum::ThrottleConfig {
        slow_after: 2,
        delay: Duration::from_millis(20),
        lock_after: 4,
        lockout: Duration::from_secs(60),
    }
}

#[tokio::test]
async fn repeated_failures_per_username_are_refused() {
    let env = env_with(|c| c.with_throttle(fast())).await;
    let mut c = Client::new(&env);
    for _ in 0..4 {
        assert_eq!(c.login("alice", "wrong").await.status(), StatusCode::OK);
    }
    let started = std::time::Instant::now();
    env.counter.reset();
    let r = c.login("alice", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key(http::header::RETRY_AFTER));
    assert_eq!(env.counter.hash_calls(), 0, "refused before hashing");
    assert!(started.elapsed() < Duration::from_secs(1));
    // Other users are not affected.
    let mut d = Client::new(&env);
    assert_eq!(d.login("dora", PASSWORD).await.status(), StatusCode::FOUND);
}

#[tokio::test]
async fn failures_are_slowed_before_refusal() {
    let env = env_with(|c| {
        c.with_throttle(castellan_axum::ThrottleConfig {
            delay: Duration::from_millis(300),
            ..fast()
        })
    })
    .await;
    let mut c = Client::new(&env);
    c.login("alice", "wrong").await;
    c.login("alice", "wrong").await;
    c.csrf().await;
    let started = std::time::Instant::now();
    let r = c.login("alice", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::FOUND, "still allowed, only slowed");
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn per_ip_counting_across_usernames() {
    let env = env_with(|c| c.with_throttle(fast())).await;
    let mut c = Client::new(&env);
    let ip: SocketAddr = "203.0.113.9:5555".parse().unwrap();
    for name in ["u1", "u2", "u3", "u4"] {
        let token = c.csrf().await;
        let mut req = http::Request::post("/accounts/login/")
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header("x-csrftoken", token)
            .body(axum::body::Body::from(format!(
                "username={name}&password=wrong"
            )))
            .unwrap();
        req.extensions_mut().insert(ConnectInfo(ip));
        assert_eq!(c.send(req).await.status(), StatusCode::OK);
    }
    let token = c.csrf().await;
    let mut req = http::Request::post("/accounts/login/")
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header("x-csrftoken", token)
        .body(axum::body::Body::from(format!(
            "username=alice&password={}",
            enc(PASSWORD)
        )))
        .unwrap();
    req.extensions_mut().insert(ConnectInfo(ip));
    assert_eq!(c.send(req).await.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn database_unavailable_is_503_and_not_counted() {
    let env = env_with(|c| c.with_throttle(fast())).await;
    let mut c = Client::new(&env);
    c.login("alice", PASSWORD).await;
    assert_eq!(c.whoami().await, "alice");
    let mut anon = Client::new(&env);
    anon.csrf().await;
    env.store.close().await;
    // A logged-in request: the session cannot be read → 503, cookie kept.
    let r = c.get("/perm").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().contains_key(http::header::RETRY_AFTER));
    assert!(r.headers().get(http::header::SET_COOKIE).is_none());
    assert!(c.jar.get("sessionid").is_some());
    // Logins while down: 503, never "invalid credentials", and not counted as failures.
    for _ in 0..6 {
        let r = anon.login("dora", "wrong").await;
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
