//! Several Bookshelf processes on one database, as behind a load balancer: sessions live in the
//! database, so any instance serves any user, and a revocation or a logout made through one
//! instance is enforced by the others — on the very next request in the default mode, and once
//! the notification arrives with `--reuse-notified-reads` on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use castellan_testkit::load::{self, Answer};
use castellan_testkit::{Kind, Server, TestDb};
use tokio::net::TcpStream;

const PASSWORD: &str = "scale-out demo password";
const SECRET: &str = "scale-out-secret-key-shared-by-every-instance";
/// A CSRF secret of Django's form, sent as cookie and header (Django accepts the unmasked secret).
const CSRF: &str = "abcdefghijklmnopqrstuvwxyzABCDEF";

/// Starts `bookshelf` on `url` (with `extra` arguments) and waits until it answers.
async fn start(url: &str, extra: &[&str]) -> Server {
    let mut args = vec!["--database-url", url];
    args.extend_from_slice(extra);
    let envs = [
        ("BOOKSHELF_SECRET_KEY", SECRET),
        ("BOOKSHELF_DEMO_PASSWORD", PASSWORD),
        ("RUST_LOG", "warn"),
    ];
    Server::start(env!("CARGO_BIN_EXE_bookshelf").as_ref(), &args, &envs).await
}

/// One request on a new connection.
async fn send(addr: SocketAddr, raw: &str) -> Answer {
    let mut conn = TcpStream::connect(addr).await.unwrap();
    load::request(&mut conn, &mut Vec::new(), raw.as_bytes()).await
}

async fn get(addr: SocketAddr, path: &str, session: &str) -> u16 {
    let raw = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: sessionid={session}\r\n\r\n");
    send(addr, &raw).await.status
}

async fn post(addr: SocketAddr, path: &str, session: &str, fields: &[(&str, &str)]) -> Answer {
    let body = castellan_testkit::form_body(fields);
    let raw = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: sessionid={session}; csrftoken={CSRF}\r\n\
         X-CSRFToken: {CSRF}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    send(addr, &raw).await
}

/// Asks `addr` for `path` until it answers `status`, for at most two seconds; returns how long
/// that took.
async fn until(addr: SocketAddr, path: &str, session: &str, status: u16) -> Duration {
    let start = Instant::now();
    loop {
        if get(addr, path, session).await == status {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{addr}{path}: not {status} within 2 s"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Three instances on one database: `a` and `b` in the default mode, `c` reusing notified reads
/// on PostgreSQL. The editor logs in on one and is served by all; the superuser removes her from
/// Editors through `a`'s admin; `b` refuses her next request, `c` once notified; her logout
/// through `b` ends her session everywhere.
async fn a_revocation_through_one_instance_is_enforced_by_the_others(db: TestDb) {
    let a = start(&db.url, &["--demo"]).await;
    let b = start(&db.url, &[]).await;
    let notified: &[&str] = if db.kind() == Kind::Postgres {
        &["--reuse-notified-reads", "60000"]
    } else {
        &[]
    };
    let c = start(&db.url, notified).await;
    let editor = load::login(a.addr, "/accounts/login/", "editor", PASSWORD).await;
    for i in [&a, &b, &c] {
        assert_eq!(get(i.addr, "/books/add/", &editor).await, 200, "{}", i.addr);
        // Warm: the next request may be served from memory.
        assert_eq!(get(i.addr, "/books/add/", &editor).await, 200, "{}", i.addr);
    }
    let root = load::login(c.addr, "/accounts/login/", "root", PASSWORD).await;
    let page = send(
        a.addr,
        &format!(
            "GET /admin/auth/group/Editors/change/ HTTP/1.1\r\nHost: {}\r\nCookie: sessionid={root}\r\n\r\n",
            a.addr
        ),
    )
    .await;
    let html = String::from_utf8_lossy(&page.body);
    let version = castellan_testkit::field(&html, "version").expect("the form's version");
    let removed = post(
        a.addr,
        "/admin/auth/group/Editors/members/",
        &root,
        &[("version", &version), ("remove", "editor")],
    )
    .await;
    assert!(
        [302, 303].contains(&removed.status),
        "{}\n{}",
        removed.head,
        String::from_utf8_lossy(&removed.body)
    );
    assert_eq!(
        get(b.addr, "/books/add/", &editor).await,
        403,
        "b: the very next request"
    );
    assert_eq!(
        get(a.addr, "/books/add/", &editor).await,
        403,
        "a: the very next request"
    );
    let waited = until(c.addr, "/books/add/", &editor, 403).await;
    eprintln!("the notified instance refused after {waited:?}");
    // Still logged in everywhere (the books list needs no permission).
    for i in [&a, &b, &c] {
        assert_eq!(get(i.addr, "/books/", &editor).await, 200, "{}", i.addr);
    }
    let out = post(b.addr, "/accounts/logout/", &editor, &[]).await;
    assert!([200, 302].contains(&out.status), "{}", out.head);
    assert_eq!(
        get(a.addr, "/books/add/", &editor).await,
        302,
        "a: logged out"
    );
    until(c.addr, "/books/add/", &editor, 302).await;

    // Writes by yet another process (this one, through its own store, as Django or a script
    // would make them): a password change, then a deactivation, each ends the sessions.
    let store = castellan_testkit::store_at(&db.url).await;
    for change in ["password", "deactivation"] {
        let session = load::login(b.addr, "/accounts/login/", "viewer", PASSWORD).await;
        for i in [&a, &b, &c] {
            assert_eq!(get(i.addr, "/books/", &session).await, 200);
            assert_eq!(
                get(i.addr, "/books/add/", &session).await,
                403,
                "{change}: logged in"
            );
        }
        if change == "password" {
            store
                .set_password("viewer", Some("another password"))
                .await
                .unwrap();
            store.set_password("viewer", Some(PASSWORD)).await.unwrap();
        } else {
            store
                .update_user(
                    "viewer",
                    castellan_store::UserChanges {
                        is_active: Some(false),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
        }
        // A guarded page now sends the (anonymous) visitor to the login page.
        assert_eq!(
            get(a.addr, "/books/add/", &session).await,
            302,
            "a: {change}"
        );
        assert_eq!(
            get(b.addr, "/books/add/", &session).await,
            302,
            "b: {change}"
        );
        until(c.addr, "/books/add/", &session, 302).await;
    }
    store.close().await;
}

castellan_testkit::per_db!(a_revocation_through_one_instance_is_enforced_by_the_others);
