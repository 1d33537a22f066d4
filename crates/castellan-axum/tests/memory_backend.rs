//! The web layer in front of users kept in memory ([`MemoryBackend`]): login, guards, revocation on
//! the next request, a password changed elsewhere, logout and the login throttle work with any
//! `AuthnBackend` + `SessionStore`, not only with `castellan-store`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests panic on failed set-up.

use axum::routing::get;
use axum::Router;
use castellan_axum::{AuthConfig, AuthLayer, CurrentUser, Require};
use castellan_core::{AuthnBackend, MemoryBackend, User};
use castellan_testkit::{cheap_hashers, location, Client};
use http::StatusCode;

fn backend() -> (MemoryBackend, User) {
    let backend = MemoryBackend::with_hashers(cheap_hashers());
    backend.add_permission("library", "view_book").unwrap();
    backend.add_permission("library", "change_book").unwrap();
    let alice = backend.create_user("alice", Some("alice-pw")).unwrap();
    backend.grant_user(alice.id, "library.view_book").unwrap();
    let editors = backend.create_group("Editors").unwrap();
    backend.grant_group(editors, "library.change_book").unwrap();
    (backend, alice)
}

async fn app(backend: &MemoryBackend) -> Router {
    let auth = AuthLayer::new(backend.clone(), AuthConfig::new("a test secret"))
        .await
        .unwrap();
    let hello = |u: CurrentUser| async move { format!("hello {}", u.principal.identity()) };
    // One router per guard: a route layer covers the routes added before it.
    let guarded = |path: &str, require: Require| {
        Router::new()
            .route(path, get(hello))
            .route_layer(auth.require(path, require).unwrap())
    };
    Router::new()
        .merge(guarded("/books/", Require::perm("library.view_book")))
        .merge(guarded("/edit/", Require::perm("library.change_book")))
        .merge(guarded("/editors/", Require::any_group(["Editors"])))
        .nest("/accounts", castellan_axum::router())
        .layer(auth)
}

#[tokio::test]
async fn guards_run_in_front_of_the_memory_backend() {
    let (backend, alice) = backend();
    let mut c = Client::new(app(&backend).await);
    let r = c.get("/books/").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(location(&r), "/accounts/login/?next=/books/");

    assert_eq!(c.login("alice", "wrong").await.status(), StatusCode::OK);
    assert_eq!(backend.session_count(), 0, "a failed login stores nothing");
    assert_eq!(
        c.login("alice", "alice-pw").await.status(),
        StatusCode::FOUND
    );
    assert_eq!(backend.session_count(), 1);
    assert!(backend.user("alice").unwrap().last_login.is_some());
    assert_eq!(
        c.page("/books/").await,
        (StatusCode::OK, "hello alice".into())
    );
    assert_eq!(c.get("/edit/").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(c.get("/editors/").await.status(), StatusCode::FORBIDDEN);

    // Joining a group, and a revocation, count on the very next request.
    backend
        .add_to_group(alice.id, backend.group_id("Editors").unwrap())
        .unwrap();
    assert_eq!(c.get("/edit/").await.status(), StatusCode::OK);
    assert_eq!(c.get("/editors/").await.status(), StatusCode::OK);
    backend.revoke_user(alice.id, "library.view_book").unwrap();
    assert_eq!(c.get("/books/").await.status(), StatusCode::FORBIDDEN);

    // Deactivated elsewhere: logged out on the next request.
    backend
        .update_user(alice.id, |u| u.is_active = false)
        .unwrap();
    let r = c.get("/edit/").await;
    assert_eq!(
        r.status(),
        StatusCode::FOUND,
        "an inactive user is anonymous"
    );
    assert_eq!(backend.session_count(), 0, "the session row is flushed");
}

#[tokio::test]
async fn a_password_changed_elsewhere_ends_the_session() {
    let (backend, alice) = backend();
    let mut c = Client::logged_in(app(&backend).await, "alice", "alice-pw").await;
    assert_eq!(c.get("/books/").await.status(), StatusCode::OK);
    AuthnBackend::set_password(&backend, &alice, "new-pw")
        .await
        .unwrap();
    assert_eq!(c.get("/books/").await.status(), StatusCode::FOUND);
    // The new password logs in; the old one does not.
    let mut c = Client::new(app(&backend).await);
    assert_eq!(c.login("alice", "alice-pw").await.status(), StatusCode::OK);
    assert_eq!(c.login("alice", "new-pw").await.status(), StatusCode::FOUND);
}

#[tokio::test]
async fn password_change_and_logout_go_through_the_backend() {
    let (backend, _) = backend();
    let mut c = Client::logged_in(app(&backend).await, "alice", "alice-pw").await;
    let r = c
        .post_form(
            "/accounts/password_change/",
            &[
                ("old_password", "alice-pw"),
                ("new_password1", "a much better pass phrase"),
                ("new_password2", "a much better pass phrase"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // This session survives its own password change; the hash in the backend is new.
    assert_eq!(c.get("/books/").await.status(), StatusCode::OK);
    let stored = backend.user("alice").unwrap().password;
    assert!(stored.starts_with("pbkdf2_sha256$"), "{stored}");
    let r = c.post_form("/accounts/logout/", &[]).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(backend.session_count(), 0);
    assert_eq!(c.get("/books/").await.status(), StatusCode::FOUND);
}

#[tokio::test]
async fn unknown_permissions_fail_start_up() {
    let (backend, _) = backend();
    let auth = AuthLayer::new(backend, AuthConfig::new("a test secret"))
        .await
        .unwrap();
    let err = auth
        .require("/x/", Require::perm("library.view_bok"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("library.view_book"), "{err}");
}
