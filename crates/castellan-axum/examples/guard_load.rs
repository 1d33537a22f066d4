//! Load test: what a permission guard costs on a real HTTP server (issue #4's benchmark).
//!
//! Starts an axum server on 127.0.0.1 (ephemeral port) over a fresh SQLite database, logs a user in
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
//! ```
//! Only loopback traffic; every loop is bounded in time.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark tool: panics on failed set-up.

use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use castellan_axum::{AuthConfig, AuthLayer, Require};
use castellan_store::{NewUser, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PASSWORD: &str = "load-test password";

async fn handler() -> &'static str {
    "ok"
}

/// One HTTP/1.1 request on a keep-alive connection; returns (status, headers, body).
async fn request(conn: &mut TcpStream, buf: &mut Vec<u8>, raw: &[u8]) -> (u16, String, Vec<u8>) {
    conn.write_all(raw).await.unwrap();
    buf.clear();
    let mut chunk = [0u8; 8192];
    loop {
        let n = conn.read(&mut chunk).await.unwrap();
        assert!(n > 0, "server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let len = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = conn.read(&mut chunk).await.unwrap();
                assert!(n > 0, "server closed the connection");
                buf.extend_from_slice(&chunk[..n]);
            }
            let status = head
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let body = buf[end + 4..end + 4 + len].to_vec();
            return (status, head, body);
        }
    }
}

fn cookie(head: &str, name: &str) -> Option<String> {
    head.lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .find_map(|l| {
            let value = l.split_once(':')?.1.trim();
            let (k, v) = value.split(';').next()?.split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
}

async fn login(addr: std::net::SocketAddr) -> String {
    let mut conn = TcpStream::connect(addr).await.unwrap();
    let mut buf = Vec::new();
    let get = format!("GET /accounts/login/ HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let (status, head, _) = request(&mut conn, &mut buf, get.as_bytes()).await;
    assert_eq!(status, 200, "login page: {head}");
    let csrf = cookie(&head, "csrftoken").expect("csrftoken cookie");
    let body = format!("username=bench&password={}", PASSWORD.replace(' ', "+"));
    let post = format!(
        "POST /accounts/login/ HTTP/1.1\r\nHost: {addr}\r\nCookie: csrftoken={csrf}\r\nX-CSRFToken: {csrf}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (status, head, _) = request(&mut conn, &mut buf, post.as_bytes()).await;
    assert_eq!(status, 302, "login: {head}");
    cookie(&head, "sessionid").expect("sessionid cookie")
}

struct Stats {
    requests: u64,
    latencies: Vec<Duration>,
    elapsed: Duration,
}

async fn drive(
    addr: std::net::SocketAddr,
    path: &str,
    session: Option<&str>,
    connections: usize,
    time: Duration,
) -> Stats {
    let cookie = session
        .map(|s| format!("Cookie: sessionid={s}\r\n"))
        .unwrap_or_default();
    let raw = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{cookie}\r\n");
    let start = Instant::now();
    let deadline = start + time;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let raw = raw.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = TcpStream::connect(addr).await.unwrap();
            conn.set_nodelay(true).unwrap();
            let mut buf = Vec::with_capacity(1024);
            let mut lat = Vec::with_capacity(100_000);
            while Instant::now() < deadline {
                let t = Instant::now();
                let (status, head, body) = request(&mut conn, &mut buf, raw.as_bytes()).await;
                assert!(status == 200 && body == b"ok", "unexpected answer: {head}");
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    Stats {
        requests: latencies.len() as u64,
        latencies,
        elapsed: start.elapsed(),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seconds: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(3);
    let connections: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(16);
    let rounds: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3);

    let dir = std::env::temp_dir().join(format!("castellan-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("load.sqlite3").display());
    let store = Store::connect(&url).await.unwrap();
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

    let session = login(addr).await;
    let cases: [(&str, &str, Option<&str>); 3] = [
        ("plain-anonymous", "/plain", None),
        ("plain-session", "/plain", Some(&session)),
        ("guarded-session", "/guarded", Some(&session)),
    ];
    // Warm-up.
    for (_, path, s) in &cases {
        drive(addr, path, *s, connections, Duration::from_millis(500)).await;
    }
    let mut totals: Vec<(u64, Duration, Vec<Duration>)> =
        vec![(0, Duration::ZERO, Vec::new()); cases.len()];
    for _ in 0..rounds {
        for (i, (_, path, s)) in cases.iter().enumerate() {
            let stats = drive(addr, path, *s, connections, Duration::from_secs(seconds)).await;
            totals[i].0 += stats.requests;
            totals[i].1 += stats.elapsed;
            totals[i].2.extend(stats.latencies);
        }
    }
    println!("{connections} connections, {rounds} rounds × {seconds} s per endpoint, server and client on the same 2 cores");
    println!(
        "{:<18} {:>10} {:>10} {:>10}",
        "endpoint", "req/s", "p50", "p99"
    );
    let mut rps = Vec::new();
    for (i, (name, _, _)) in cases.iter().enumerate() {
        let (n, elapsed, lat) = &mut totals[i];
        lat.sort_unstable();
        let r = *n as f64 / elapsed.as_secs_f64();
        rps.push(r);
        println!(
            "{name:<18} {r:>10.0} {:>8.0}µs {:>8.0}µs",
            percentile(lat, 0.5).as_secs_f64() * 1e6,
            percentile(lat, 0.99).as_secs_f64() * 1e6
        );
    }
    println!(
        "guard cost: guarded-session is {:.1} % slower than plain-session (req/s); the session layer costs {:.1} % against plain-anonymous",
        (1.0 - rps[2] / rps[1]) * 100.0,
        (1.0 - rps[1] / rps[0]) * 100.0
    );
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
