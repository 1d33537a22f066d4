//! Load test of Bookshelf as a user meets it (issue #14's benchmark): the real application with
//! its demo users on a fresh SQLite file, served on 127.0.0.1 (an ephemeral port), and three pages
//! driven in turn with keep-alive HTTP/1.1 connections, all in one run:
//!
//! * `anonymous login page`: `GET /accounts/login/` without a session (a rendered page);
//! * `logged-in books list`: `GET /books/` as `editor` (rendered, no guard);
//! * `logged-in guarded add`: `GET /books/add/` as `editor` (behind `bookshelf.add_book`).
//!
//! The figure to watch is the guarded page's share of the anonymous page's throughput.
//! `BOOKSHELF_LOAD_LOG=1` adds the request log the `bookshelf` binary writes (to a file in the
//! temporary directory, through the same background writer), to measure what logging costs.
//! `LOAD_DB=postgres` (or `mysql`) runs it on a fresh database of `CASTELLAN_TEST_POSTGRES` (or
//! `CASTELLAN_TEST_MYSQL`); `LOAD_STRICT=1` turns SQLite's reuse of unchanged reads off;
//! `LOAD_NOTIFIED_MS=N` turns PostgreSQL's reuse of notified reads on (`N` ms at most).
//!
//! ```sh
//! cargo run --release -p bookshelf --example bookshelf_load -- [SECONDS_PER_ROUND] [CONNECTIONS] [ROUNDS]
//! ```
//! Only loopback traffic; every loop is bounded in time.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark tool: panics on failed set-up.

use std::net::SocketAddr;

use bookshelf::Bookshelf;
use castellan_store::StoreOptions;
use castellan_testkit::load::{self, Endpoint};
use castellan_testkit::{Kind, TestDb};

const PASSWORD: &str = "bookshelf load password";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = load::Args::from_env();

    let dir = std::env::temp_dir().join(format!("bookshelf-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // LOAD_DB=postgres / mysql: a fresh database on CASTELLAN_TEST_POSTGRES / CASTELLAN_TEST_MYSQL.
    let server = match std::env::var("LOAD_DB").as_deref() {
        Ok("postgres") => Some(Kind::Postgres),
        Ok("mysql") => Some(Kind::MySql),
        _ => None,
    };
    let test_db = match server {
        Some(kind) => Some(
            TestDb::create(kind)
                .await
                .expect("set CASTELLAN_TEST_POSTGRES / CASTELLAN_TEST_MYSQL"),
        ),
        None => None,
    };
    let url = test_db.as_ref().map_or_else(
        || format!("sqlite://{}", dir.join("bookshelf.sqlite3").display()),
        |db| db.url.clone(),
    );
    // LOAD_STRICT=1: one statement per logged-in request (the baseline of the data-version path).
    // LOAD_NOTIFIED_MS=N (PostgreSQL): reuse notified reads for at most N ms.
    let options = StoreOptions {
        reuse_unchanged_reads: std::env::var_os("LOAD_STRICT").is_none(),
        reuse_notified_reads: std::env::var("LOAD_NOTIFIED_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map(std::time::Duration::from_millis),
        ..StoreOptions::default()
    };
    println!(
        "database: {}",
        server.map_or("SQLite file".into(), |k| format!("{k:?}"))
    );
    let app = Bookshelf::connect(&url, options).await.unwrap();
    app.setup().await.unwrap();
    app.seed_demo(Some(PASSWORD)).await.unwrap();
    println!(
        "logged-in reads reused: {}",
        app.store
            .reusing_reads(std::time::Duration::from_secs(5))
            .await
    );
    let mut router = app
        .router(b"bookshelf-load-secret-key-bookshelf-load".to_vec())
        .await
        .unwrap();
    let logging = std::env::var("BOOKSHELF_LOAD_LOG").is_ok_and(|v| v == "1");
    let _logs = logging.then(|| {
        let file = std::fs::File::create(dir.join("requests.log")).unwrap();
        router = castellan_axum::with_request_log(router.clone());
        bookshelf::logging::init(file, false)
    });
    println!("request log: {}", if logging { "on" } else { "off" });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap()
    });

    let editor = load::login(addr, "/accounts/login/", "editor", PASSWORD).await;
    let endpoints = [
        Endpoint::get("anonymous login page", "/accounts/login/", None),
        Endpoint::get("logged-in books list", "/books/", Some(editor.as_str())),
        Endpoint::get(
            "logged-in guarded add",
            "/books/add/",
            Some(editor.as_str()),
        ),
    ];
    let rps = load::run(addr, &endpoints, args).await;
    println!(
        "logged-in books list: {:.0} % of the anonymous page; logged-in guarded add: {:.0} %",
        rps[1] / rps[0] * 100.0,
        rps[2] / rps[0] * 100.0
    );
    app.store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
