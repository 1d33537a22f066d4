//! Load test: what a permission guard costs on a real HTTP server (issue #4's benchmark).
//!
//! Starts an axum server on 127.0.0.1 (ephemeral port) over a fresh SQLite database (or PostgreSQL, MariaDB: `LOAD_DB`), logs a user in
//! through the real login view, then drives three endpoints with the same handler, in one run, with
//! keep-alive HTTP/1.1 connections for a bounded time each, alternating rounds to spread the noise:
//!
//! * `plain-anonymous`: no session cookie (the auth layer touches no database);
//! * `plain-session`: logged-in session, no guard (session + user row loaded, CSRF, …);
//! * `guarded-session`: the same request behind `Require::perm("auth.view_user")`.
//!
//! The guard's cost is `guarded-session` against `plain-session` (target: ≤ 10 %).
//!
//! ```sh
//! cargo run --release -p castellan-axum --example guard_load -- [SECONDS_PER_ROUND] [CONNECTIONS] [ROUNDS]
//! LOAD_DB=postgres CASTELLAN_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test \
//!   cargo run --release -p castellan-axum --example guard_load
//! ```
//! Only loopback traffic; every loop is bounded in time.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark tool: panics on failed set-up.

use axum::routing::get;
use axum::Router;
use castellan_axum::{AuthConfig, AuthLayer, Require};
use castellan_store::{NewUser, Store};
use castellan_testkit::load::{self, Endpoint};
use castellan_testkit::{Kind, TestDb};

const PASSWORD: &str = "load-test password";

async fn handler() -> &'static str {
    "ok"
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = load::Args::from_env();

    // A fresh database of the kind `LOAD_DB` names (sqlite, postgres, mysql; the servers come
    // from CASTELLAN_TEST_POSTGRES / CASTELLAN_TEST_MYSQL), dropped at the end.
    let kind = match std::env::var("LOAD_DB").as_deref() {
        Ok("postgres") => Kind::Postgres,
        Ok("mysql") => Kind::MySql,
        _ => Kind::Sqlite,
    };
    let db = TestDb::create(kind)
        .await
        .expect("LOAD_DB names a server whose CASTELLAN_TEST_* variable is not set");
    println!("database: {kind:?}");
    // LOAD_STRICT=1: one statement per logged-in request even on SQLite (the baseline of the
    // data-version path).
    let options = castellan_store::StoreOptions {
        reuse_unchanged_reads: std::env::var_os("LOAD_STRICT").is_none(),
        ..castellan_store::StoreOptions::default()
    };
    println!("reuse unchanged reads: {}", options.reuse_unchanged_reads);
    let store = Store::connect_with(&db.url, options).await.unwrap();
    store
        .migrate(&castellan_core::Registry::django())
        .await
        .unwrap();
    let mut user = NewUser::new("bench");
    user.password = Some(PASSWORD.into());
    store.create_user(user).await.unwrap();
    store.create_group("Viewers").await.unwrap();
    store
        .grant_group("Viewers", &["auth.view_user".into()])
        .await
        .unwrap();
    store
        .add_user_to_groups("bench", &["Viewers".into()])
        .await
        .unwrap();

    let auth = AuthLayer::new(
        store.clone(),
        AuthConfig::new("load-test-secret-key-load-test-secret"),
    )
    .await
    .unwrap();
    let app = Router::new()
        .route("/plain", get(handler))
        .merge(
            Router::new().route("/guarded", get(handler)).route_layer(
                auth.require("/guarded", Require::perm("auth.view_user"))
                    .unwrap(),
            ),
        )
        .nest("/accounts", castellan_axum::router())
        .layer(auth);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let session = load::login(addr, "/accounts/login/", "bench", PASSWORD).await;
    let endpoints = [
        Endpoint::get("plain-anonymous", "/plain", None),
        Endpoint::get("plain-session", "/plain", Some(session.as_str())),
        Endpoint::get("guarded-session", "/guarded", Some(session.as_str())),
    ];
    let rps = load::run(addr, &endpoints, args).await;
    println!(
        "guard cost: guarded-session is {:.1} % slower than plain-session (req/s); the session layer costs {:.1} % against plain-anonymous",
        (1.0 - rps[2] / rps[1]) * 100.0,
        (1.0 - rps[1] / rps[0]) * 100.0
    );
    store.close().await;
    drop(db);
}
