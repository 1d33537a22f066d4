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
//! Cookies as a browser sends them: the logged-in pages send `csrftoken=…; sessionid=…` (the
//! CSRF cookie the login left), the anonymous page `csrftoken=…` (from one GET before the runs).
//! `LOAD_NO_CSRF_COOKIE=1` sends the session cookie alone (the earlier passes' load), so every
//! rendered page makes the server mint and set a CSRF secret.
//!
//! `LOAD_DJANGO=1` then runs the same three pages, with the same load and cookies, on the Django
//! 6.1 reference project (`interop/django_reference/`) under gunicorn, and prints Bookshelf ÷
//! Django per page. It needs the venv of `scripts/django-venv.sh` (Django and gunicorn):
//! `CASTELLAN_DJANGO_PYTHON`, else `<repo>/.venv-django/bin/python`; without one it says so and
//! skips. The project is copied to the temporary directory, migrated and seeded there
//! (`setup_reference.py`: `editor` in `Editors` with `bookshelf.add_book`, the demo books), and
//! gunicorn listens on a free 127.0.0.1 port as a child process, stopped at the end (panics too).
//! Workers: `LOAD_DJANGO_WORKERS` (default 2, one per core), threads per worker
//! `LOAD_DJANGO_THREADS` (default 4: gthread workers, which keep connections alive; 1 runs sync
//! workers, which close every connection).
//!
//! ```sh
//! cargo run --release -p bookshelf --example bookshelf_load -- [SECONDS_PER_ROUND] [CONNECTIONS] [ROUNDS]
//! ```
//! Only loopback traffic; every loop is bounded in time.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark tool: panics on failed set-up.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

    // LOAD_NO_CSRF_COOKIE=1: the session cookie alone (no CSRF cookie sent back).
    let send_csrf = std::env::var_os("LOAD_NO_CSRF_COOKIE").is_none_or(|v| v != "1");
    println!(
        "csrftoken cookie sent back: {}",
        if send_csrf {
            "yes (as a browser)"
        } else {
            "no"
        }
    );
    let rps = measure(addr, send_csrf, args).await;
    println!(
        "logged-in books list: {:.0} % of the anonymous page; logged-in guarded add: {:.0} %",
        rps[1] / rps[0] * 100.0,
        rps[2] / rps[0] * 100.0
    );
    if std::env::var_os("LOAD_DJANGO").is_some_and(|v| v == "1") {
        django_reference(&dir, send_csrf, args, &rps).await;
    }
    app.store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The three pages: login, then every endpoint in turn; requests per second of each.
async fn measure(addr: SocketAddr, send_csrf: bool, args: load::Args) -> Vec<f64> {
    let editor = load::login_cookies(addr, "/accounts/login/", "editor", PASSWORD).await;
    let anonymous_csrf = if send_csrf {
        Some(load::csrf_cookie(addr, "/accounts/login/").await)
    } else {
        None
    };
    let editor_csrf = send_csrf.then_some(editor.csrf.as_str());
    let session = Some(editor.session.as_str());
    let endpoints = [
        Endpoint::get("anonymous login page", "/accounts/login/", None)
            .with_csrf(anonymous_csrf.as_deref()),
        Endpoint::get("logged-in books list", "/books/", session).with_csrf(editor_csrf),
        Endpoint::get("logged-in guarded add", "/books/add/", session).with_csrf(editor_csrf),
    ];
    load::run(addr, &endpoints, args).await
}

/// `LOAD_DJANGO=1`: the same pages on the Django reference under gunicorn, then the ratios.
async fn django_reference(dir: &Path, send_csrf: bool, args: load::Args, bookshelf: &[f64]) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = std::env::var_os("CASTELLAN_DJANGO_PYTHON")
        .map_or_else(|| repo.join(".venv-django/bin/python"), PathBuf::from);
    if !python.exists() {
        println!(
            "LOAD_DJANGO=1: no Python at {} (run scripts/django-venv.sh or set CASTELLAN_DJANGO_PYTHON); Django skipped",
            python.display()
        );
        return;
    }
    let env_num = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(default)
    };
    let workers = env_num("LOAD_DJANGO_WORKERS", 2);
    let threads = env_num("LOAD_DJANGO_THREADS", 4);

    let project = dir.join("django_reference");
    copy_project(&repo.join("interop/django_reference"), &project);
    let db = dir.join("reference.sqlite3");
    let setup = Command::new(&python)
        .arg("setup_reference.py")
        .current_dir(&project)
        .env("REFERENCE_DB", &db)
        .env("REFERENCE_PASSWORD", PASSWORD)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let status = wait_bounded(setup, Duration::from_secs(120), "setup_reference.py");
    assert!(status.success(), "setup_reference.py failed: {status}");

    // A free port: bound, read and released (gunicorn binds it a moment later).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let log = dir.join("gunicorn.log");
    let log_file = std::fs::File::create(&log).unwrap();
    let class = if threads > 1 { "gthread" } else { "sync" };
    let mut command = Command::new(&python);
    command
        .args(["-m", "gunicorn", "reference.wsgi"])
        .arg("--bind")
        .arg(addr.to_string())
        .args(["--workers", &workers.to_string()])
        .args(["--worker-class", class, "--threads", &threads.to_string()])
        .args(["--graceful-timeout", "5", "--no-control-socket"])
        .current_dir(&project)
        .env("REFERENCE_DB", &db)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::from(log_file.try_clone().unwrap()))
        .stderr(Stdio::from(log_file));
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start gunicorn: {e}"));
    let mut gunicorn = Gunicorn { child, log };
    gunicorn.wait_ready(addr, Duration::from_secs(30)).await;
    println!(
        "Django reference (interop/django_reference) under gunicorn on {addr}: {workers} {class} worker(s) × {threads} thread(s)"
    );
    let django = measure(addr, send_csrf, args).await;
    drop(gunicorn);
    println!("Bookshelf ÷ Django, same pages, same load:");
    let names = [
        "anonymous login page",
        "logged-in books list",
        "logged-in guarded add",
    ];
    for ((name, b), d) in names.iter().zip(bookshelf).zip(&django) {
        println!(
            "  {name:<24} Bookshelf {b:>8.0} r/s   Django {d:>6.0} r/s   × {:.1}",
            b / d
        );
    }
}

/// Copies the reference project (its sources only) to `to`.
fn copy_project(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in
        std::fs::read_dir(from).unwrap_or_else(|e| panic!("cannot read {}: {e}", from.display()))
    {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let name_str = name.to_string_lossy();
        if name_str == "__pycache__" || name_str.contains(".sqlite3") {
            continue;
        }
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            copy_project(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

/// Waits for `child` at most `limit`, killing it past that.
fn wait_bounded(mut child: Child, limit: Duration, what: &str) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} took more than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The gunicorn master, stopped when dropped (a panic too): SIGTERM (its workers stop with it
/// within `--graceful-timeout`), SIGKILL after 10 s.
struct Gunicorn {
    child: Child,
    log: PathBuf,
}

impl Gunicorn {
    /// Waits until the login page answers 200, at most `limit`.
    async fn wait_ready(&mut self, addr: SocketAddr, limit: Duration) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("gunicorn exited ({status}):\n{}", self.log_text());
            }
            if let Ok(Ok(mut conn)) =
                tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(addr))
                    .await
            {
                let get = format!("GET /accounts/login/ HTTP/1.1\r\nHost: {addr}\r\n\r\n");
                let answer = tokio::time::timeout(
                    Duration::from_secs(5),
                    load::request(&mut conn, &mut Vec::new(), get.as_bytes()),
                )
                .await;
                match answer {
                    Ok(a) if a.status == 200 => return,
                    Ok(a) => panic!("Django answered {}:\n{}", a.head, self.log_text()),
                    Err(_) => {}
                }
            }
            assert!(
                start.elapsed() < limit,
                "gunicorn did not answer within {limit:?}:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Gunicorn {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
