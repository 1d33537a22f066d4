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
        ..castellan_axum::ThrottleConfig::default()
    }
}

#[tokio::test]
async fn repeated_failures_per_username_are_refused() {
    let env = env_with(|c| c.with_throttle(fast())).await;
    let mut c = client(&env);
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
    let mut d = client(&env);
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
    let mut c = client(&env);
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
    let env = env_with(|c| {
        c.with_throttle(castellan_axum::ThrottleConfig {
            ip_lock_after: 4,
            ..fast()
        })
    })
    .await;
    let mut c = client(&env);
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
    let r = c.send(req).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key(http::header::RETRY_AFTER));
}

#[tokio::test]
async fn database_unavailable_is_503_and_not_counted() {
    let env = env_with(|c| c.with_throttle(fast())).await;
    let mut c = client(&env);
    c.login("alice", PASSWORD).await;
    assert_eq!(c.whoami().await, "alice");
    let mut anon = client(&env);
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

/// 60 simultaneous wrong-password POSTs for one username from one client: the attempts are
/// reserved before the hash runs, so no more than the budget reach the password check.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_burst_cannot_exceed_the_budget() {
    let env = env_with(|c| {
        c.with_throttle(castellan_axum::ThrottleConfig {
            slow_after: 100,
            ..fast()
        })
    })
    .await;
    let mut c = client(&env);
    let token = c.csrf().await;
    let cookie = c.jar.header();
    let app = c.app.clone();
    env.counter.reset();
    let ip: SocketAddr = "198.51.100.7:4000".parse().unwrap();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(60));
    let mut tasks = Vec::new();
    for i in 0..60 {
        let app = app.clone();
        let (token, cookie, barrier) = (token.clone(), cookie.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            use tower::ServiceExt;
            let mut req = http::Request::post("/accounts/login/")
                .header(http::header::HOST, HOST)
                .header(http::header::COOKIE, cookie)
                .header(
                    http::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .header("x-csrftoken", token)
                .body(axum::body::Body::from(format!(
                    "username=alice&password=wrong{i}"
                )))
                .unwrap();
            req.extensions_mut().insert(ConnectInfo(ip));
            barrier.wait().await;
            app.oneshot(req).await.unwrap().status()
        }));
    }
    let mut answered = 0;
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::OK => answered += 1,
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    let budget = fast().lock_after;
    assert!(
        env.counter.hash_calls() <= budget as usize,
        "{} password checks for a budget of {budget}",
        env.counter.hash_calls()
    );
    assert!(
        answered <= budget,
        "{answered} failures accepted past the budget"
    );
    assert_eq!(answered + refused, 60);
    // The whole budget is usable: exactly that many were checked and answered.
    assert_eq!(answered, budget);
    assert_eq!(refused, 60 - budget);
}

fn post_login(token: &str, ip: &str, body: String) -> http::Request<axum::body::Body> {
    let mut req = http::Request::post("/accounts/login/")
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header("x-csrftoken", token)
        .body(axum::body::Body::from(body))
        .unwrap();
    let addr: SocketAddr = ip.parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    req
}

/// An attacker who exhausted (alice, his address) cannot lock alice out: her right password from
/// another address logs in, only delayed by the username-wide slowdown.
#[tokio::test]
async fn the_right_password_from_a_fresh_address_still_logs_in() {
    let env = env_with(|c| {
        c.with_throttle(castellan_axum::ThrottleConfig {
            delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(100),
            ..fast()
        })
    })
    .await;
    let mut attacker = client(&env);
    let token = attacker.csrf().await;
    for _ in 0..4 {
        let r = attacker
            .send(post_login(
                &token,
                "203.0.113.66:1",
                "username=alice&password=x".into(),
            ))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = attacker
        .send(post_login(
            &token,
            "203.0.113.66:2",
            format!("username=alice&password={}", enc(PASSWORD)),
        ))
        .await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "(alice, attacker) is refused"
    );
    assert!(r.headers().contains_key(http::header::RETRY_AFTER));
    let mut alice = client(&env);
    let token = alice.csrf().await;
    let started = std::time::Instant::now();
    let r = alice
        .send(post_login(
            &token,
            "198.51.100.20:3",
            format!("username=alice&password={}", enc(PASSWORD)),
        ))
        .await;
    assert_eq!(
        r.status(),
        StatusCode::FOUND,
        "alice logs in from her own address"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(100),
        "but slowed down"
    );
    assert_eq!(alice.whoami().await, "alice");
}

#[tokio::test]
async fn forwarded_for_counts_only_behind_a_trusted_proxy() {
    let proxy: std::net::IpAddr = "10.0.0.1".parse().unwrap();
    let env = env_with(|c| c.with_throttle(fast()).with_trusted_proxies([proxy])).await;
    let mut c = client(&env);
    let token = c.csrf().await;
    let via_proxy = |client: &str, password: &str| {
        let mut r = post_login(
            &token,
            "10.0.0.1:4444",
            format!("username=alice&password={password}"),
        );
        r.headers_mut().insert(
            "x-forwarded-for",
            format!("6.6.6.6, {client}").parse().unwrap(),
        );
        r
    };
    for _ in 0..4 {
        assert_eq!(
            c.send(via_proxy("203.0.113.1", "x")).await.status(),
            StatusCode::OK
        );
    }
    // The same client through the proxy is refused, whatever it puts on the left…
    assert_eq!(
        c.send(via_proxy("203.0.113.1", "x")).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // …another client through the same proxy is not.
    assert_eq!(
        c.send(via_proxy("203.0.113.2", &enc(PASSWORD)))
            .await
            .status(),
        StatusCode::FOUND
    );
    // An untrusted peer cannot choose its bucket with the header.
    let env = env_with(|c| c.with_throttle(fast())).await;
    let mut c = client(&env);
    let token = c.csrf().await;
    for i in 0..5 {
        let mut r = post_login(&token, "203.0.113.50:1", "username=alice&password=x".into());
        r.headers_mut()
            .insert("x-forwarded-for", format!("192.0.2.{i}").parse().unwrap());
        let expected = if i < 4 {
            StatusCode::OK
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(c.send(r).await.status(), expected, "attempt {i}");
    }
}

#[tokio::test]
async fn password_change_old_password_is_throttled() {
    let env = env_with(|c| c.with_throttle(fast())).await;
    let mut c = client(&env);
    assert_eq!(c.login("alice", PASSWORD).await.status(), StatusCode::FOUND);
    env.counter.reset();
    for _ in 0..4 {
        let r = c
            .post_form(
                "/accounts/password_change/",
                &[
                    ("old_password", "guess"),
                    ("new_password1", "n3w-Passw0rd!"),
                    ("new_password2", "n3w-Passw0rd!"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let checks = env.counter.hash_calls();
    let r = c
        .post_form(
            "/accounts/password_change/",
            &[
                ("old_password", PASSWORD),
                ("new_password1", "n3w-Passw0rd!"),
                ("new_password2", "n3w-Passw0rd!"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key(http::header::RETRY_AFTER));
    assert_eq!(env.counter.hash_calls(), checks, "refused before hashing");
    // The password is unchanged.
    assert!(env
        .store
        .authenticate("alice", PASSWORD)
        .await
        .unwrap()
        .is_some());
}
