//! # castellan-conformance
//!
//! Castellan's behavioural suites: [`store_conformance!`] instantiates one suite of store tests per
//! database kind, and [`backend_suite!`](macro@crate::backend_suite) one suite of seam tests for the
//! in-memory backend and the store on every database kind.
//!
//! Which servers are used is decided by environment variables:
//!
//! | variable | meaning |
//! |---|---|
//! | `CASTELLAN_TEST_POSTGRES` | admin URL of a PostgreSQL server, e.g. `postgres://postgres@127.0.0.1:5432/test` |
//! | `CASTELLAN_TEST_MYSQL` | admin URL of a MariaDB/MySQL server, e.g. `mysql://root@127.0.0.1:3306/test` |
//! | `CASTELLAN_REQUIRE_SERVERS` | `1` in CI: a server test whose variable is unset **fails** instead of skipping |
//!
//! SQLite always runs (a fresh file per test).
//!
//! The throw-away databases ([`TestDb`], [`Kind`]) live in `castellan-testkit` and are re-exported
//! here.

pub mod backend_suite;

pub use castellan_testkit::{Kind, TestDb};

/// Instantiates a behavioural suite once per database kind.
///
/// `$suite` is a path to a module-level macro-free set of `async fn name(store: &Store)` tests given as
/// a list; each becomes `#[tokio::test]`s named `sqlite::name`, `postgres::name`, `mysql::name`.
#[macro_export]
macro_rules! store_conformance {
    ($($test:ident),* $(,)?) => {
        $crate::store_conformance!(@kind sqlite, $crate::Kind::Sqlite, $($test),*);
        $crate::store_conformance!(@kind postgres, $crate::Kind::Postgres, $($test),*);
        $crate::store_conformance!(@kind mysql, $crate::Kind::MySql, $($test),*);
    };
    (@kind $modname:ident, $kind:expr, $($test:ident),*) => {
        mod $modname {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let Some((db, store)) = $crate::TestDb::migrated($kind).await else { return };
                    super::$test(&db, &store).await;
                    store.close().await;
                }
            )*
        }
    };
}
