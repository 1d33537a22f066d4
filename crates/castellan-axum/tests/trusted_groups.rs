//! Group names are rights (issue #11): every group guard's names become trusted names when the
//! router is built, the configured ones are added, and a group guard whose names nobody registered
//! fails closed instead of trusting a name the admin could let anyone take.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use castellan_axum::{AuthSession, Require};
use castellan_core::TrustedGroups;
use common::*;
use http::StatusCode;

/// A handler that runs a group guard itself, without `AuthLayer::require` / `check`.
async fn unregistered(auth: AuthSession, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    match Require::any_group(["Secret"]).check(&auth, &parts).await {
        Ok(()) => "in".into_response(),
        Err(denied) => denied.into_response(),
    }
}

#[tokio::test]
async fn guard_names_and_configured_names_are_trusted() {
    let env = env_with(|c| {
        c.with_trusted_groups(TrustedGroups::new().with_group("Reviewers", "template has_group"))
    })
    .await;
    // Building the common app checks its `/group` guard (Editors, Other).
    let _ = client(&env);
    let trusted = env.auth.trusted_groups();
    assert_eq!(
        trusted.names().collect::<Vec<_>>(),
        ["Editors", "Other", "Reviewers"]
    );
    assert_eq!(trusted.sources("Editors"), ["guard /group"]);
    assert_eq!(trusted.sources("Reviewers"), ["template has_group"]);
}

#[tokio::test]
async fn an_unregistered_group_guard_fails_closed() {
    let env = env().await;
    env.store.create_group("Secret").await.unwrap();
    env.store
        .add_user_to_groups("alice", &["Secret".into()])
        .await
        .unwrap();
    let mut c = client(&env);
    c.app = Router::new()
        .route("/secret", get(unregistered))
        .nest("/accounts", castellan_axum::router())
        .layer(env.auth.clone());
    let r = c.login("alice", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let r = c.get("/secret").await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    // Once the guard is checked at start-up, the member gets in.
    env.auth
        .check("/secret", &Require::any_group(["Secret"]))
        .unwrap();
    let r = c.get("/secret").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(body(r).await, "in");
}
