//! Input limits on every request through the layer: field count, body size, NUL characters,
//! invalid UTF-8, and control characters in `next`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use common::*;
use http::{header, Request, StatusCode};

fn form(uri: &str, token: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-csrftoken", token)
        .body(body.into())
        .unwrap()
}

fn padded_login(fields: usize) -> String {
    let mut body = format!("username=alice&password={}", enc(PASSWORD));
    for i in 2..fields {
        body.push_str(&format!("&f{i}=x"));
    }
    body
}

/// Nothing about alice changed and nobody is logged in.
async fn nothing_written(env: &Env, c: &Client) {
    assert!(c.jar.get("sessionid").is_none(), "no session was created");
    let alice = env.store.user("alice").await.unwrap().unwrap();
    assert!(alice.last_login.is_none(), "last_login untouched");
    assert_eq!(env.counter.hash_calls(), 0, "no password was checked");
}

#[tokio::test]
async fn too_many_fields_is_400_on_login_and_guarded_routes() {
    let env = env().await;
    let mut c = client(&env);
    let token = c.csrf().await;
    env.counter.reset();
    let r = c
        .send(form("/accounts/login/", &token, padded_login(1001)))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        body(r).await.contains("1000"),
        "the message names the limit"
    );
    nothing_written(&env, &c).await;
    // 1,000 fields pass (Django's DATA_UPLOAD_MAX_NUMBER_FIELDS).
    let r = c
        .send(form("/accounts/login/", &token, padded_login(1000)))
        .await;
    assert_eq!(r.status(), StatusCode::FOUND);
    // A guarded route, logged in.
    let mut d = client(&env);
    d.login("dora", PASSWORD).await;
    let token = d.jar.get("csrftoken").unwrap().to_owned();
    let many: String = (0..1001).map(|i| format!("f{i}=x&")).collect();
    let r = d.send(form("/perm", &token, many.clone())).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // In the query string too.
    let r = d.get(&format!("/perm?{many}")).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = d.send(form("/perm", &token, "a=1&b=2")).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn too_large_body_is_413() {
    let env = env().await;
    let mut c = client(&env);
    let token = c.csrf().await;
    env.counter.reset();
    let limit = 2_621_440;
    let mut body = padded_login(2);
    body.push_str("&pad=");
    let at_limit = limit - body.len();
    let exact = format!("{body}{}", "x".repeat(at_limit));
    assert_eq!(exact.len(), limit);
    let over = format!("{exact}x");
    let r = c.send(form("/accounts/login/", &token, over.clone())).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    nothing_written(&env, &c).await;
    let mut d = client(&env);
    d.login("dora", PASSWORD).await;
    let token = d.jar.get("csrftoken").unwrap().to_owned();
    let r = d.send(form("/perm", &token, over)).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Exactly at the limit is accepted.
    let r = c.send(form("/accounts/login/", &token_of(&c), exact)).await;
    assert_eq!(r.status(), StatusCode::FOUND);
}

fn token_of(c: &Client) -> String {
    c.jar.get("csrftoken").unwrap().to_owned()
}

#[tokio::test]
async fn nul_and_invalid_utf8_are_400() {
    let env = env().await;
    let mut c = client(&env);
    let token = c.csrf().await;
    env.counter.reset();
    for bad in [
        format!("username=alice%00&password={}", enc(PASSWORD)),
        format!("username=alice&password={}%00", enc(PASSWORD)),
        format!("username=alice&password={}&x%00=1", enc(PASSWORD)),
        format!("username=alice%ff&password={}", enc(PASSWORD)),
        format!("username=alice&password={}&%c3%28=1", enc(PASSWORD)),
    ] {
        let r = c.send(form("/accounts/login/", &token, bad.clone())).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        let text = body(r).await;
        assert!(
            text.contains("Null characters are not allowed") || text.contains("UTF-8"),
            "{bad}: {text}"
        );
    }
    // Raw (not percent-encoded) invalid UTF-8 too.
    let mut raw = b"username=alice\xff&password=".to_vec();
    raw.extend_from_slice(enc(PASSWORD).as_bytes());
    let r = c.send(form("/accounts/login/", &token, raw)).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    nothing_written(&env, &c).await;
    let mut d = client(&env);
    d.login("dora", PASSWORD).await;
    let token = token_of(&d);
    for bad in ["name=a%00b", "name=%ff"] {
        let r = d.send(form("/perm", &token, bad)).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        let r = d.get(&format!("/perm?{bad}")).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "?{bad}");
    }
}

#[tokio::test]
async fn control_characters_in_next_redirect_safely() {
    let env = env().await;
    let mut c = client(&env);
    for next in [
        "%0d%0aSet-Cookie:x",
        "/books/%0d%0aSet-Cookie:x=1",
        "/books/%0aSet-Cookie:x=1",
        "/a%09b",
        "%0d%0a",
        "/x%7f",
    ] {
        // The form shows no `next`.
        let r = c.get(&format!("/accounts/login/?next={next}")).await;
        assert_eq!(r.status(), StatusCode::OK, "{next}");
        let token = token_of(&c);
        // Login: the default redirect.
        let r = c
            .send(form(
                &format!("/accounts/login/?next={next}"),
                &token,
                format!("username=alice&password={}", enc(PASSWORD)),
            ))
            .await;
        assert_eq!(r.status(), StatusCode::FOUND, "{next}");
        assert_eq!(location(&r), "/accounts/profile/", "{next}");
        assert!(r
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .all(|v| !v.to_str().unwrap().starts_with("x")));
        let token = token_of(&c);
        let r = c
            .send(form(
                "/accounts/login/",
                &token,
                format!("username=alice&password={}&next={next}", enc(PASSWORD)),
            ))
            .await;
        assert_eq!(location(&r), "/accounts/profile/", "{next}");
        // Logout, in the query and in the body.
        let token = token_of(&c);
        let r = c
            .send(form(&format!("/accounts/logout/?next={next}"), &token, ""))
            .await;
        assert_eq!(r.status(), StatusCode::FOUND, "{next}");
        assert_eq!(location(&r), "/", "{next}");
        let token = token_of(&c);
        let r = c
            .send(form("/accounts/logout/", &token, format!("next={next}")))
            .await;
        assert_eq!(r.status(), StatusCode::FOUND, "{next}");
        assert_eq!(location(&r), "/", "{next}");
    }
}

/// An endless body with no Content-Length: refused once the limit is passed, having read no more
/// than the limit plus one chunk. A declared Content-Length above the limit is refused unread.
#[tokio::test]
async fn oversized_bodies_are_not_read_past_the_limit() {
    use std::pin::Pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Context, Poll};

    const CHUNK: usize = 64 * 1024;
    struct Endless(Arc<AtomicUsize>);
    impl http_body::Body for Endless {
        type Data = axum::body::Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
            self.0.fetch_add(CHUNK, Ordering::SeqCst);
            Poll::Ready(Some(Ok(http_body::Frame::data(axum::body::Bytes::from(
                vec![b'a'; CHUNK],
            )))))
        }
    }
    let env = env().await;
    let mut c = client(&env);
    let token = c.csrf().await;
    let read = Arc::new(AtomicUsize::new(0));
    let r = c
        .send(form(
            "/accounts/login/",
            &token,
            Body::new(Endless(Arc::clone(&read))),
        ))
        .await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let limit = castellan_axum::FormLimits::default()
        .max_body_bytes
        .unwrap();
    assert!(read.load(Ordering::SeqCst) <= limit + CHUNK);
    let read = Arc::new(AtomicUsize::new(0));
    let mut req = form(
        "/accounts/login/",
        &token,
        Body::new(Endless(Arc::clone(&read))),
    );
    req.headers_mut()
        .insert(header::CONTENT_LENGTH, "10000000".parse().unwrap());
    let r = c.send(req).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(read.load(Ordering::SeqCst), 0, "not read at all");
}

/// The limits are configurable.
#[tokio::test]
async fn limits_are_configurable() {
    let env = env_with(|c| {
        c.with_form_limits(castellan_axum::FormLimits {
            max_fields: Some(3),
            max_body_bytes: Some(100),
        })
    })
    .await;
    let mut c = client(&env);
    let token = c.csrf().await;
    let r = c.send(form("/submit", &token, "a=1&b=2&c=3&d=4")).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = c.send(form("/submit", &token, "a=1&b=2&c=3")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .send(form("/submit", &token, format!("a={}", "x".repeat(100))))
        .await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
}
