//! Database outages: 503 with Retry-After while the database is unreachable, nothing cached from
//! the failure, and recovery without a restart. Uses PostgreSQL behind a switchable TCP proxy
//! (`CASTELLAN_TEST_POSTGRES`; skipped when unset, failed when `CASTELLAN_REQUIRE_SERVERS=1`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use castellan_testkit::{Kind, TestDb};
use common::*;
use http::StatusCode;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// A TCP proxy that can cut every connection and refuse new ones.
struct Proxy {
    addr: String,
    up: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let up = Arc::new(AtomicBool::new(true));
        let conns: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (up2, conns2) = (Arc::clone(&up), Arc::clone(&conns));
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if !up2.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                conns2.lock().unwrap().push(task.abort_handle());
            }
        });
        Self { addr, up, conns }
    }

    fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// `scheme://user@host:port/db?q` → (host:port, url with `addr` instead).
fn via(url: &str, addr: &str) -> (String, String) {
    let after_scheme = url.find("://").unwrap() + 3;
    let rest = &url[after_scheme..];
    let host_start = after_scheme + rest.find('@').map_or(0, |i| i + 1);
    let host_end = host_start + url[host_start..].find('/').unwrap();
    let upstream = url[host_start..host_end].to_owned();
    (
        upstream,
        format!("{}{}{}", &url[..host_start], addr, &url[host_end..]),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_is_503_and_recovers_by_itself() {
    let Some(db) = TestDb::create(Kind::Postgres).await else {
        eprintln!("skipped: CASTELLAN_TEST_POSTGRES is not set");
        return;
    };
    let (upstream, _) = via(&db.url, "x");
    let proxy = Proxy::start(upstream).await;
    let (_, url) = via(&db.url, &proxy.addr);
    let env = env_at(&url, |c| c).await;

    let mut c = client(&env);
    assert_eq!(c.login("alice", PASSWORD).await.status(), StatusCode::FOUND);
    assert_eq!(c.whoami().await, "alice");
    let mut anon = client(&env);
    anon.csrf().await;

    proxy.down();
    let r = c.get("/perm").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().contains_key(http::header::RETRY_AFTER));
    assert!(
        r.headers().get(http::header::SET_COOKIE).is_none(),
        "session cookie kept"
    );
    let r = anon.login("dora", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);

    proxy.up();
    // Same process, same pool: the session is honoured again and the guard answers normally.
    assert_eq!(c.whoami().await, "alice");
    assert_eq!(c.get("/perm").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        anon.login("dora", PASSWORD).await.status(),
        StatusCode::FOUND
    );
    assert_eq!(anon.get("/perm").await.status(), StatusCode::OK);
    env.store.close().await;
}

/// Login, session reuse, logout and password change on a server database (`django_session` DDL,
/// timestamps and upserts per dialect).
async fn sessions_on(kind: Kind) {
    let Some(db) = TestDb::create(kind).await else {
        eprintln!("skipped: no {kind:?} server configured");
        return;
    };
    let env = env_at(&db.url, |c| c).await;
    let mut a = client(&env);
    let mut b = client(&env);
    assert_eq!(a.login("alice", PASSWORD).await.status(), StatusCode::FOUND);
    assert_eq!(b.login("alice", PASSWORD).await.status(), StatusCode::FOUND);
    assert_eq!(a.whoami().await, "alice");
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
    assert_eq!(a.whoami().await, "alice");
    assert_eq!(b.whoami().await, "anonymous");
    let key = a.jar.get("sessionid").unwrap().to_owned();
    assert_eq!(
        a.post_form("/accounts/logout/", &[]).await.status(),
        StatusCode::FOUND
    );
    assert!(env.store.session_data(&key).await.unwrap().is_none());
    assert_eq!(a.whoami().await, "anonymous");
    env.store.close().await;
}

#[tokio::test]
async fn sessions_on_postgres() {
    sessions_on(Kind::Postgres).await;
}

#[tokio::test]
async fn sessions_on_mysql() {
    sessions_on(Kind::MySql).await;
}
