//! Permissions created after start-up, by another process (`castellan sync`, Django's `migrate`):
//! guards made afterwards accept them, typos are still refused with the closest name, and the
//! templates' `perms` answer for them — without restarting the application.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests panic on failed set-up.

use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use castellan_axum::{render_page, AuthConfig, AuthLayer, AuthSession, Require};
use castellan_store::Store;
use castellan_templates::Templates;
use castellan_testkit::{per_db, perms, user, Client, TestDb, PASSWORD};
use http::StatusCode;
use minijinja::context;

const SECRET: &str = "django-insecure-test-secret-key";

fn page(auth: &AuthLayer) -> Router {
    let mut templates = Templates::new();
    templates
        .add_template(
            "orders.html",
            "{{ perms.shop.refund_order }}|{{ perms.shop.void_order }}",
        )
        .unwrap();
    let templates = Arc::new(templates);
    Router::new()
        .route(
            "/orders/",
            get(move |session: AuthSession| {
                let templates = Arc::clone(&templates);
                async move {
                    render_page(
                        &templates,
                        &session,
                        StatusCode::OK,
                        "orders.html",
                        context! {},
                    )
                    .await
                }
            }),
        )
        .nest("/accounts", castellan_axum::router())
        .layer(auth.clone())
}

async fn new_permissions_need_no_restart(db: &TestDb, store: &Store) {
    user(store, "dora", |_| {}).await;
    user(store, "alice", |_| {}).await;
    let auth = AuthLayer::new(store.clone(), AuthConfig::new(SECRET))
        .await
        .unwrap();

    // Another process creates a permission and grants it to dora.
    let other = castellan_testkit::store(db).await;
    other
        .create_permission("shop.refund_order", "order", "Can refund orders")
        .await
        .unwrap();
    other
        .grant_user("dora", &perms(&["shop.refund_order"]))
        .await
        .unwrap();

    // The layer still holds the start-up index; a guard made now reloads it before refusing.
    let refund = Require::perm("shop.refund_order");
    assert!(auth.check("/refunds/", &refund).is_err());
    auth.check_fresh("/refunds/", &refund).await.unwrap();
    let typo = auth
        .check_fresh("/refunds/", &Require::perm("shop.refund_ordr"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        typo.contains("shop.refund_ordr") && typo.contains("did you mean \"shop.refund_order\""),
        "{typo}"
    );

    let guarded = Router::new()
        .route("/refunds/", get(|| async { "refunds" }))
        .route_layer(auth.require_fresh("/refunds/", refund).await.unwrap())
        .layer(auth.clone());
    let app = page(&auth).merge(guarded);
    let mut dora = Client::logged_in(app.clone(), "dora", PASSWORD).await;
    let mut alice = Client::logged_in(app.clone(), "alice", PASSWORD).await;
    assert_eq!(
        dora.page("/refunds/").await,
        (StatusCode::OK, "refunds".into())
    );
    assert_eq!(alice.get("/refunds/").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(dora.page("/orders/").await.1, "True|False");

    // A second permission: the next logged-in request brings the new index to the layer, so even
    // the synchronous check (an `Authorized` guard validated late) accepts it.
    other
        .create_permission("shop.void_order", "order", "Can void orders")
        .await
        .unwrap();
    let void = Require::perm("shop.void_order");
    assert!(auth.check("/void/", &void).is_err());
    assert_eq!(dora.page("/orders/").await.1, "True|False");
    auth.check("/void/", &void).unwrap();
    assert!(auth.permission_index().resolve("shop.void_order").is_some());
    other
        .grant_user("dora", &perms(&["shop.void_order"]))
        .await
        .unwrap();
    assert_eq!(dora.page("/orders/").await.1, "True|True");
    assert_eq!(alice.page("/orders/").await.1, "False|False");

    // A permission deleted after start-up: the guard made earlier now refuses, as Django does for
    // a name no row carries.
    other.delete_permission("shop.refund_order").await.unwrap();
    assert_eq!(dora.get("/refunds/").await.status(), StatusCode::FORBIDDEN);
    other.close().await;
}

per_db!(migrated; new_permissions_need_no_restart);
