//! The minimal example end to end: anonymous home page, login, the guarded route, logout.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests panic on failed set-up.

use castellan_testkit::{location, Client};
use http::StatusCode;

#[tokio::test]
async fn login_guard_and_template_perms() {
    let dir = std::env::temp_dir().join(format!("castellan-minimal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("minimal.sqlite3").display());
    let store = castellan_axum::Store::connect(&url).await.unwrap();
    minimal::setup(&store).await.unwrap();
    minimal::setup(&store).await.unwrap(); // idempotent
    let mut c = Client::new(minimal::app(store.clone(), b"test secret").await.unwrap());

    let (status, home) = c.page("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("You may not view users."), "{home}");
    let r = c.get("/users/").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(location(&r), "/accounts/login/?next=/users/");

    let r = c.login("alice", "correct horse battery staple").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let (_, home) = c.page("/").await;
    assert!(home.contains("Hello alice."), "{home}");
    assert!(home.contains("href=\"/users/\""), "{home}");
    assert_eq!(c.page("/users/").await, (StatusCode::OK, "alice".into()));

    // Revoked in the database: refused on the very next request, and the page says so.
    store
        .revoke_user("alice", &["auth.view_user".into()])
        .await
        .unwrap();
    assert_eq!(c.get("/users/").await.status(), StatusCode::FORBIDDEN);
    let (_, home) = c.page("/").await;
    assert!(home.contains("You may not view users."), "{home}");

    let r = c.post_form("/accounts/logout/", &[]).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let (_, home) = c.page("/").await;
    assert!(home.contains("Log in"), "{home}");
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
