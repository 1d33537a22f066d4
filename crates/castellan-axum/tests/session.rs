//! Sessions: login rotates the key and the CSRF secret, logout deletes the row, password change and
//! deactivation log other sessions out, Django's session format, the hasher runs once per failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use http::StatusCode;

#[tokio::test]
async fn login_rotates_session_key_and_csrf_secret() {
    let env = env().await;
    let mut c = client(&env);
    // An anonymous session with data (planted key: fixation attempt).
    let csrf_before = c.csrf().await;
    let r = c.login("alice", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(location(&r), "/accounts/profile/");
    let key1 = c.jar.get("sessionid").unwrap().to_owned();
    assert_eq!(key1.len(), 32);
    assert!(key1
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    assert_ne!(
        c.jar.get("csrftoken").unwrap(),
        csrf_before,
        "CSRF secret rotated on login"
    );
    assert_eq!(c.whoami().await, "alice");
    assert!(env
        .store
        .user("alice")
        .await
        .unwrap()
        .unwrap()
        .last_login
        .is_some());

    // Logging in again (same user) cycles the key; the old key no longer authenticates.
    let r = c.login("alice", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let key2 = c.jar.get("sessionid").unwrap().to_owned();
    assert_ne!(key1, key2);
    assert!(env.store.session_data(&key1).await.unwrap().is_none());
    let mut replay = client(&env);
    replay.jar.insert("sessionid", &key1);
    assert_eq!(replay.whoami().await, "anonymous");

    // Another user logging in on this session gets a flushed session.
    let r = c.login("dora", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_ne!(c.jar.get("sessionid").unwrap(), key2);
    assert_eq!(c.whoami().await, "dora");
}

#[tokio::test]
async fn logout_deletes_the_row_and_clears_the_cookie() {
    let env = env().await;
    let mut c = client(&env);
    c.login("alice", PASSWORD).await;
    let key = c.jar.get("sessionid").unwrap().to_owned();
    let r = c.post_form("/accounts/logout/", &[]).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(location(&r), "/");
    assert!(c.jar.get("sessionid").is_none(), "cookie cleared");
    assert!(
        env.store.session_data(&key).await.unwrap().is_none(),
        "row deleted"
    );
    let mut replay = client(&env);
    replay.jar.insert("sessionid", &key);
    assert_eq!(replay.whoami().await, "anonymous");
    // GET is not allowed.
    assert_eq!(
        c.get("/accounts/logout/").await.status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn password_change_keeps_this_session_and_logs_out_the_others() {
    let env = env().await;
    let mut a = client(&env);
    let mut b = client(&env);
    a.login("alice", PASSWORD).await;
    b.login("alice", PASSWORD).await;
    let key_before = a.jar.get("sessionid").unwrap().to_owned();
    let r = a
        .post_form(
            "/accounts/password_change/",
            &[
                ("old_password", PASSWORD),
                ("new_password1", "n3w-Passw0rd!"),
                ("new_password2", "n3w-Passw0rd!"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_ne!(a.jar.get("sessionid").unwrap(), key_before, "key cycled");
    assert_eq!(a.whoami().await, "alice", "this session survives");
    assert_eq!(
        b.whoami().await,
        "anonymous",
        "the other session is logged out"
    );
    assert!(b.jar.get("sessionid").is_none(), "and its cookie cleared");

    // Wrong old password / mismatch are form errors, nothing changes.
    let r = a
        .post_form(
            "/accounts/password_change/",
            &[
                ("old_password", "wrong"),
                ("new_password1", "x1"),
                ("new_password2", "x2"),
            ],
        )
        .await;
    let html = body(r).await;
    assert!(
        html.contains("Your old password was entered incorrectly") && html.contains("didn’t match"),
        "{html}"
    );
    // Anonymous users are sent to login.
    let mut anon = client(&env);
    let r = anon.get("/accounts/password_change/").await;
    assert_eq!(
        location(&r),
        "/accounts/login/?next=/accounts/password_change/"
    );
}

#[tokio::test]
async fn password_set_elsewhere_or_deletion_logs_out() {
    let env = env().await;
    let mut c = client(&env);
    c.login("alice", PASSWORD).await;
    env.store
        .set_password("alice", Some("something-else-entirely"))
        .await
        .unwrap();
    assert_eq!(c.whoami().await, "anonymous");

    let mut d = client(&env);
    d.login("dora", PASSWORD).await;
    env.store.delete_user("dora").await.unwrap();
    assert_eq!(d.whoami().await, "anonymous");
}

#[tokio::test]
async fn bogus_session_cookies_are_anonymous_and_create_nothing() {
    let env = env().await;
    for bogus in [
        "",
        "short",
        "abcdefghijklmnopqrstuvwxyz012345",
        &"x".repeat(10_000),
        "ABCDEFGHIJKL",
    ] {
        let mut c = client(&env);
        c.jar.insert("sessionid", bogus);
        let r = c.get("/").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers().get(http::header::SET_COOKIE).is_none());
        assert_eq!(body(r).await, "anonymous");
    }
}

#[tokio::test]
async fn session_rows_are_in_djangos_format() {
    let env = env().await;
    let mut c = client(&env);
    c.login("alice", PASSWORD).await;
    let key = c.jar.get("sessionid").unwrap().to_owned();
    let data = env.store.session_data(&key).await.unwrap().unwrap();
    let map = castellan_axum::django::decode_session(&data, SECRET.as_bytes());
    let alice = env.store.user("alice").await.unwrap().unwrap();
    assert_eq!(map["_auth_user_id"], alice.id.to_string());
    assert_eq!(
        map["_auth_user_backend"],
        "django.contrib.auth.backends.ModelBackend"
    );
    assert_eq!(
        map["_auth_user_hash"],
        castellan_axum::django::session_auth_hash(&alice.password, SECRET.as_bytes())
    );
    // Another key cannot read it.
    assert!(castellan_axum::django::decode_session(&data, b"other").is_empty());
}

#[tokio::test]
async fn hasher_runs_once_on_every_failed_login_path() {
    let env = env().await;
    env.store.set_password("sam", None).await.unwrap(); // unusable password
    let cases = [
        ("nobody", PASSWORD), // unknown user
        ("alice", "wrong"),   // wrong password
        ("sam", PASSWORD),    // unusable password
    ];
    for (user, pw) in cases {
        let mut c = client(&env);
        c.csrf().await;
        env.counter.reset();
        let r = c.login(user, pw).await;
        assert_eq!(r.status(), StatusCode::OK, "{user}");
        assert!(body(r)
            .await
            .contains("Please enter a correct username and password"));
        assert_eq!(env.counter.hash_calls(), 1, "{user}/{pw}");
    }
    // Inactive user with the right password.
    env.store
        .update_user(
            "ina",
            castellan_store::UserChanges {
                is_active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut c = client(&env);
    c.csrf().await;
    env.counter.reset();
    let r = c.login("ina", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(env.counter.hash_calls(), 1, "inactive");
}

#[tokio::test]
async fn login_redirects_only_to_safe_next() {
    let env = env().await;
    for (next, expected) in [
        ("/books/?page=2", "/books/?page=2"),
        ("//evil.com", "/accounts/profile/"),
        ("https://evil.com/x", "/accounts/profile/"),
        ("http://testserver/ok", "http://testserver/ok"),
        ("/\\evil.com", "/accounts/profile/"),
    ] {
        let mut c = client(&env);
        let r = c
            .post_form(
                "/accounts/login/",
                &[
                    ("username", "alice"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FOUND);
        assert_eq!(location(&r), expected, "next={next}");
    }
}

#[tokio::test]
async fn https_login_rejects_http_next() {
    let env = env_with(|c| c.with_https(true)).await;
    let mut c = client(&env);
    let token = c.csrf().await;
    let req = http::Request::post("/accounts/login/?next=http://testserver/path")
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(http::header::ORIGIN, "https://testserver")
        .header("x-csrftoken", token)
        .body(axum::body::Body::from(format!(
            "username=alice&password={}",
            enc(PASSWORD)
        )))
        .unwrap();
    let r = c.send(req).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(location(&r), "/accounts/profile/");
    let cookie = r
        .headers()
        .get_all(http::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    assert!(
        cookie.iter().any(|c| c.starts_with("sessionid=")
            && c.contains("Secure")
            && c.contains("HttpOnly")
            && c.contains("SameSite=Lax")),
        "{cookie:?}"
    );
}

#[tokio::test]
async fn expired_sessions_are_anonymous_and_cleared_by_clear_expired_sessions() {
    let env = env_with(|c| c.with_session_age(std::time::Duration::from_secs(1))).await;
    let mut c = client(&env);
    assert_eq!(c.login("alice", PASSWORD).await.status(), StatusCode::FOUND);
    assert!(c.jar.get("sessionid").is_some());
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(c.whoami().await, "anonymous");
    assert_eq!(env.store.clear_expired_sessions().await.unwrap(), 1);
}

#[tokio::test]
async fn cookie_flags_are_djangos_defaults() {
    let env = env().await;
    let mut c = client(&env);
    let r = c.get("/accounts/login/").await;
    let csrf: Vec<_> = r
        .headers()
        .get_all(http::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(csrf.len(), 1);
    assert!(
        csrf[0].starts_with("csrftoken=")
            && csrf[0].contains("SameSite=Lax")
            && csrf[0].contains("Max-Age=31449600")
    );
    assert!(
        !csrf[0].contains("HttpOnly") && !csrf[0].contains("Secure"),
        "{}",
        csrf[0]
    );
    let r = c.login("alice", PASSWORD).await;
    let cookies: Vec<_> = r
        .headers()
        .get_all(http::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("sessionid="))
        .unwrap();
    assert!(
        session.contains("HttpOnly")
            && session.contains("SameSite=Lax")
            && session.contains("Max-Age=1209600")
            && session.contains("Path=/")
    );
    assert!(!session.contains("Secure"));
}

#[tokio::test]
async fn anonymous_requests_without_a_cookie_do_not_touch_the_database() {
    let env = env().await;
    let mut c = client(&env);
    env.store.close().await;
    let r = c.get("/").await;
    assert_eq!(r.status(), StatusCode::OK);
    // A guarded page still answers the login redirect (no query needed to know the user is anonymous).
    assert_eq!(c.get("/perm").await.status(), StatusCode::FOUND);
}
