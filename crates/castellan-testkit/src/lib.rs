//! # castellan-testkit
//!
//! Castellan's shared test support (`publish = false`): the integration tests of the web, admin,
//! store and example crates use it instead of keeping copies of their own.
//!
//! It sits on `castellan-core` and `castellan-store` and knows nothing of `castellan-axum`: the HTTP
//! client drives any `axum::Router` in-process with `tower::ServiceExt::oneshot`, no server.
//!
//! * [`Client`]: a browser with a cookie [`Jar`] (built on the `cookie` crate), GET and url-encoded
//!   form POST helpers, CSRF handled in one place ([`Client::csrf_token`], [`Client::post_form`]),
//!   redirects followed or inspected ([`Client::follow`], [`location`]), bodies read as text
//!   ([`body`], [`Page`]).
//! * [`TestDb`]: a throw-away database of a [`Kind`] (a fresh SQLite file, or a fresh database on the
//!   server the environment names), dropped afterwards.
//! * [`per_db!`]: one test body run on SQLite, PostgreSQL and MariaDB, each on a fresh database.
//! * Fixtures: a migrated [`store`] with a cheap hasher ([`cheap_options`]), [`user`], [`perms`],
//!   [`audit`].
//!
//! | variable | meaning |
//! |---|---|
//! | `CASTELLAN_TEST_POSTGRES` | admin URL of a PostgreSQL server, e.g. `postgres://postgres@127.0.0.1:5432/test` |
//! | `CASTELLAN_TEST_MYSQL` | admin URL of a MariaDB/MySQL server, e.g. `mysql://root@127.0.0.1:3306/test` |
//! | `CASTELLAN_REQUIRE_SERVERS` | `1` in CI: a server test whose variable is unset **fails** instead of skipping |
//!
//! ```
//! use axum::routing::get;
//! use axum::Router;
//! use castellan_testkit::{body, Client};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let app = Router::new().route(
//!     "/",
//!     get(|| async { ([("set-cookie", "seen=1; Path=/")], "hello") }),
//! );
//! let mut client = Client::new(app);
//! let r = client.get("/").await;
//! assert_eq!(body(r).await, "hello");
//! assert_eq!(client.jar.get("seen"), Some("1"));
//! # }
//! ```

mod client;
pub mod custom_user;
mod db;
mod jar;
pub mod load;
mod process;
mod testdb;

use axum::response::Response;
use http::{header, HeaderMap, StatusCode};
use http_body_util::BodyExt;

pub use client::{form_request, Client, MAX_REDIRECTS};
pub use db::{audit, cheap_hashers, cheap_options, perms, store, store_at, user};
pub use jar::Jar;
pub use process::Server;
pub use testdb::{Kind, TestDb};

/// The `Host` every request gets unless it names one (Django's test client's).
pub const HOST: &str = "testserver";
/// The password of the users made by [`user`].
pub const PASSWORD: &str = "correct horse battery staple";
/// Django's login page, where tokens are taken from and [`Client::login`] posts.
pub const LOGIN_URL: &str = "/accounts/login/";
/// The form field of the CSRF token.
pub const CSRF_FIELD: &str = "csrfmiddlewaretoken";
/// The cookie of the CSRF secret.
pub const CSRF_COOKIE: &str = "csrftoken";

/// A response, read whole.
#[derive(Debug)]
pub struct Page {
    /// The status.
    pub status: StatusCode,
    /// The `Location` header, if any.
    pub location: Option<String>,
    /// All the headers.
    pub headers: HeaderMap,
    /// The body, as text (invalid UTF-8 replaced).
    pub body: String,
}

impl Page {
    /// Reads `response` whole.
    pub async fn read(response: Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let location = headers
            .get(header::LOCATION)
            .map(|l| String::from_utf8_lossy(l.as_bytes()).into_owned());
        let bytes = read_bytes(response).await;
        Self {
            status,
            location,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// A `302` to the login page (Django's answer to an anonymous user).
    pub fn is_login_redirect(&self) -> bool {
        self.status == StatusCode::FOUND
            && self
                .location
                .as_deref()
                .is_some_and(|l| l.starts_with(LOGIN_URL))
    }
}

async fn read_bytes(response: Response) -> Vec<u8> {
    match response.into_body().collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(e) => panic!("cannot read the body: {e}"),
    }
}

/// The body of `response` as text.
///
/// # Panics
///
/// When it cannot be read or is not UTF-8.
pub async fn body(response: Response) -> String {
    String::from_utf8(read_bytes(response).await)
        .unwrap_or_else(|e| panic!("the body is not UTF-8: {e}"))
}

/// The `Location` header of `response`, or `""` when it has none.
pub fn location(response: &Response) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .map_or_else(String::new, |v| {
            String::from_utf8_lossy(v.as_bytes()).into_owned()
        })
}

/// The value of the first `name="…" value="…"` input in `html`, HTML entities decoded.
pub fn field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    html.split(&marker)
        .nth(1)
        .and_then(|s| s.split('"').next())
        .map(|s| {
            s.replace("&#x2f;", "/")
                .replace("&#x27;", "'")
                .replace("&quot;", "\"")
                .replace("&amp;", "&")
        })
}

/// Percent-encodes everything but ASCII letters and digits (a space is `%20`): one value for a
/// hand-made query string or form body.
pub fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// `fields` as an `application/x-www-form-urlencoded` body (`form_urlencoded`: a space is `+`).
pub fn form_body(fields: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// The one per-database test macro: runs each listed test once per database kind, as the tests
/// `sqlite::name`, `postgres::name` and `mysql::name`, each on a fresh database of its own
/// ([`TestDb::create`]: a new SQLite file, or a new database on the server, dropped afterwards).
/// What a test receives depends on the form:
///
/// | form | each test is | receives |
/// |---|---|---|
/// | `per_db!(a, b)` | `async fn a(db: TestDb)` | the empty database |
/// | `per_db!(migrated; a, b)` | `async fn a(db: &TestDb, store: &Store)` | a migrated store on it (closed afterwards) |
/// | `per_db!(migrated, custom_user; a, b)` | as `migrated` | also `account_sqlite::a`, … on a Django project whose user model is `people.Account` ([`custom_user::CustomUser::Account`]) |
/// | `per_db!(memory = EXPR; a, b)` | `async fn a<B>(backend: &B)` | also `memory::a` with the backend `EXPR` builds; on the databases, a migrated `&Store` |
///
/// `worker_threads = N;` in front of any form sets the tokio runtime's workers (default 2).
///
/// A server test whose variable (`CASTELLAN_TEST_POSTGRES`, `CASTELLAN_TEST_MYSQL`) is unset is
/// skipped, or fails when `CASTELLAN_REQUIRE_SERVERS=1`. The calling crate needs `tokio` (with
/// `macros` and `rt-multi-thread`) and `castellan-testkit`.
///
/// ```ignore
/// use castellan_testkit::{per_db, store, TestDb};
///
/// async fn creates_a_group(db: TestDb) {
///     let store = store(&db).await;
///     store.create_group("Editors").await.unwrap();
/// }
///
/// async fn lists_no_users(_db: &TestDb, store: &castellan_store::Store) {
///     assert!(store.list_users().await.unwrap().is_empty());
/// }
///
/// per_db!(creates_a_group);
/// mod migrated {
///     use super::*;
///     per_db!(migrated; lists_no_users);
/// }
/// ```
#[macro_export]
macro_rules! per_db {
    (worker_threads = $n:tt; migrated, custom_user; $($test:ident),* $(,)?) => {
        $crate::per_db!(worker_threads = $n; migrated; $($test),*);
        $crate::per_db!(@custom $n, account_sqlite, Sqlite, $($test),*);
        $crate::per_db!(@custom $n, account_postgres, Postgres, $($test),*);
        $crate::per_db!(@custom $n, account_mysql, MySql, $($test),*);
    };
    (worker_threads = $n:tt; migrated; $($test:ident),* $(,)?) => {
        $crate::per_db!(@migrated $n, sqlite, Sqlite, $($test),*);
        $crate::per_db!(@migrated $n, postgres, Postgres, $($test),*);
        $crate::per_db!(@migrated $n, mysql, MySql, $($test),*);
    };
    (worker_threads = $n:tt; memory = $memory:expr; $($test:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = $n)]
                async fn $test() {
                    let backend = $memory;
                    super::$test(&backend).await;
                }
            )*
        }
        $crate::per_db!(@store $n, sqlite, Sqlite, $($test),*);
        $crate::per_db!(@store $n, postgres, Postgres, $($test),*);
        $crate::per_db!(@store $n, mysql, MySql, $($test),*);
    };
    (worker_threads = $n:tt; $($test:ident),* $(,)?) => {
        $crate::per_db!(@kind $n, sqlite, Sqlite, $($test),*);
        $crate::per_db!(@kind $n, postgres, Postgres, $($test),*);
        $crate::per_db!(@kind $n, mysql, MySql, $($test),*);
    };
    (@kind $n:tt, $modname:ident, $kind:ident, $($test:ident),*) => {
        mod $modname {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = $n)]
                async fn $test() {
                    let Some(db) = $crate::TestDb::create($crate::Kind::$kind).await else {
                        return;
                    };
                    super::$test(db).await;
                }
            )*
        }
    };
    (@migrated $n:tt, $modname:ident, $kind:ident, $($test:ident),*) => {
        mod $modname {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = $n)]
                async fn $test() {
                    let Some((db, store)) = $crate::TestDb::migrated($crate::Kind::$kind).await else {
                        return;
                    };
                    super::$test(&db, &store).await;
                    store.close().await;
                }
            )*
        }
    };
    (@custom $n:tt, $modname:ident, $kind:ident, $($test:ident),*) => {
        mod $modname {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = $n)]
                async fn $test() {
                    let Some((db, store)) = $crate::custom_user::CustomUser::Account
                        .migrated($crate::Kind::$kind)
                        .await
                    else {
                        return;
                    };
                    super::$test(&db, &store).await;
                    store.close().await;
                }
            )*
        }
    };
    (@store $n:tt, $modname:ident, $kind:ident, $($test:ident),*) => {
        mod $modname {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = $n)]
                async fn $test() {
                    let Some((_db, store)) = $crate::TestDb::migrated($crate::Kind::$kind).await else {
                        return;
                    };
                    super::$test(&store).await;
                    store.close().await;
                }
            )*
        }
    };
    (migrated; $($test:ident),* $(,)?) => {
        $crate::per_db!(worker_threads = 2; migrated; $($test),*);
    };
    (migrated, custom_user; $($test:ident),* $(,)?) => {
        $crate::per_db!(worker_threads = 2; migrated, custom_user; $($test),*);
    };
    (memory = $memory:expr; $($test:ident),* $(,)?) => {
        $crate::per_db!(worker_threads = 2; memory = $memory; $($test),*);
    };
    ($($test:ident),* $(,)?) => {
        $crate::per_db!(worker_threads = 2; $($test),*);
    };
}
