//! # castellan-conformance
//!
//! Castellan's behavioural suites: store tests run once per database kind with
//! `castellan_testkit::per_db!(migrated; …)`, and the seam tests of [`backend_suite`] for the
//! in-memory backend and the store on every database kind with
//! `per_db!(memory = backend_suite::memory_backend(); …)`.
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
