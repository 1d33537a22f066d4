//! "Who has X" over a large user table (DESIGN.md: "who has X" over 1M users ≤ 50 ms; spec G8: ≤ 100 ms
//! on PostgreSQL).
//!
//! Run with `cargo bench -p castellan-store --bench who_has`; set `CASTELLAN_BENCH_POSTGRES` (e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`) to add the PostgreSQL benches (the bench creates and
//! drops a database `castellan_bench_who_has`). The bench builds a database with 1,000,000 users
//! (bulk-loaded with one `INSERT … SELECT`), 100,000 of whom hold `auth.view_user`: 50,000 through the
//! group `Viewers`, 50,000 directly. Ten users are superusers, and every 1000th user is inactive.
//!
//! Groups `who_has_1m` (SQLite) and `who_has_1m_postgres` (medians; the first bench is the in-run
//! baseline):
//!
//! * `baseline_count_auth_user`: `SELECT count(*) FROM auth_user`.
//! * `stream_all/{django_defaults,no_superusers}`: [`Store::with_perm_each`] over every matching
//!   username, in byte order (`include_superusers` true/false, `is_active = true`).
//! * `stream_ids/…`: [`Store::with_perm_ids`], every matching user id, ascending.
//! * `count/…`: [`Store::with_perm_count`].
//! * `first_page_100/…`: [`Store::with_perm_page`] with `limit = 100`.
//!
//! Set `CASTELLAN_BENCH_WHO_HAS_USERS` to change the user count (the matching share stays 10 %).

// Benches may panic on setup failure: there is nobody to report an error to but the person running them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use castellan_core::{Registry, WithPerm};
use castellan_store::{Dialect, Store};
use criterion::{BenchmarkId, Criterion, SamplingMode};
use tokio::runtime::Runtime;

const BENCH_DATABASE: &str = "castellan_bench_who_has";

async fn populate(store: &Store, users: u64) {
    store.migrate(&Registry::django()).await.unwrap();
    store.create_group("Viewers").await.unwrap();
    store
        .grant_group("Viewers", &["auth.view_user".to_owned()])
        .await
        .unwrap();
    let started = Instant::now();
    let superuser_every = (users / 10).max(1);
    let sql = match store.dialect() {
        Dialect::Postgres => format!(
            "INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, \
             email, is_staff, is_active, date_joined) \
             SELECT '!', NULL, i % {superuser_every} = 7, format('user%s', lpad(i::text, 7, '0')), '', '', '', \
             false, i % 1000 <> 3, now() FROM generate_series(1, {users}) AS i"
        ),
        _ => format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {users}) \
             INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, \
             email, is_staff, is_active, date_joined) \
             SELECT '!', NULL, i % {superuser_every} = 7, printf('user%07d', i), '', '', '', 0, i % 1000 != 3, \
             '2026-01-01 00:00:00' FROM n"
        ),
    };
    store.execute_raw(&sql).await.unwrap();
    // 5 % through the group, 5 % directly (ids are 1..=users in insertion order).
    store
        .execute_raw(
            "INSERT INTO auth_user_groups (user_id, group_id) \
             SELECT u.id, (SELECT id FROM auth_group WHERE name = 'Viewers') FROM auth_user u WHERE u.id % 20 = 0",
        )
        .await
        .unwrap();
    store
        .execute_raw(
            "INSERT INTO auth_user_user_permissions (user_id, permission_id) \
             SELECT u.id, (SELECT p.id FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id \
             WHERE ct.app_label = 'auth' AND p.codename = 'view_user') FROM auth_user u WHERE u.id % 20 = 10",
        )
        .await
        .unwrap();
    store.execute_raw("ANALYZE").await.unwrap();
    eprintln!(
        "who_has ({:?}): loaded {users} users in {:.1} s",
        store.dialect(),
        started.elapsed().as_secs_f64()
    );
}

fn benches(c: &mut Criterion, rt: &Runtime, group_name: &str, store: &Store) {
    let defaults = WithPerm::new("auth.view_user").unwrap();
    let no_su = WithPerm::new("auth.view_user")
        .unwrap()
        .include_superusers(false);
    let shapes = [("django_defaults", &defaults), ("no_superusers", &no_su)];
    rt.block_on(async {
        for (name, args) in shapes {
            let n = store.with_perm_count(args).await.unwrap();
            eprintln!("{group_name}: {name}: {n} matching users");
        }
    });

    let mut group = c.benchmark_group(group_name);
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("baseline_count_auth_user", |b| {
        b.to_async(rt).iter(|| async {
            black_box(
                store
                    .execute_raw("SELECT count(*) FROM auth_user")
                    .await
                    .unwrap(),
            )
        })
    });
    for (name, args) in shapes {
        group.bench_function(BenchmarkId::new("stream_all", name), |b| {
            b.to_async(rt).iter(|| async {
                let mut bytes = 0usize;
                let n = store
                    .with_perm_each(args, None, |u| {
                        bytes += u.len();
                        Ok(())
                    })
                    .await
                    .unwrap();
                black_box((n, bytes))
            })
        });
        group.bench_function(BenchmarkId::new("stream_ids", name), |b| {
            b.to_async(rt)
                .iter(|| async { black_box(store.with_perm_ids(args).await.unwrap().len()) })
        });
        group.bench_function(BenchmarkId::new("count", name), |b| {
            b.to_async(rt)
                .iter(|| async { black_box(store.with_perm_count(args).await.unwrap()) })
        });
        group.bench_function(BenchmarkId::new("first_page_100", name), |b| {
            b.to_async(rt)
                .iter(|| async { black_box(store.with_perm_page(args, None, 100).await.unwrap()) })
        });
    }
    group.finish();
}

fn main() {
    let quick = std::env::args().any(|a| a == "--test");
    let users: u64 = std::env::var("CASTELLAN_BENCH_WHO_HAS_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 10_000 } else { 1_000_000 });
    let rt: Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut c = Criterion::default().configure_from_args();

    let sqlite = rt.block_on(common::SqliteBenchDb::create("who-has"));
    rt.block_on(populate(&sqlite.store, users));
    benches(&mut c, &rt, "who_has_1m", &sqlite.store);
    rt.block_on(sqlite.drop());

    if let Some(pg) = rt.block_on(common::PgBenchDb::create(BENCH_DATABASE)) {
        rt.block_on(populate(&pg.store, users));
        benches(&mut c, &rt, "who_has_1m_postgres", &pg.store);
        rt.block_on(pg.drop());
    }
    c.final_summary();
}
