//! The admin's user list ([`Store::user_page`]) over 100,000 users, on SQLite and PostgreSQL.
//!
//! Run with `cargo bench -p castellan-store --bench admin_user_list`; set
//! `CASTELLAN_BENCH_POSTGRES` (e.g. `postgres://postgres@127.0.0.1:5432/postgres`) to add the
//! PostgreSQL benches (the bench creates and drops a database `castellan_bench_admin`).
//!
//! Data, bulk-loaded with one `INSERT … SELECT`: users `user0000001` … with first names from a
//! set of ten, `@example.org` e-mails; every 10th is staff, every 100th a superuser, every 50th
//! inactive; every 20th is in the group `Editors`. Group `admin_user_list_{sqlite,postgres}`
//! (medians; the first bench is the in-run baseline):
//!
//! * `baseline_user_lookup`: [`Store::user`] by username (one indexed row).
//! * `first_page`: no filter, 100 users, plus the count (capped at 10,000).
//! * `filtered_page`: active staff only.
//! * `group_page`: members of `Editors`.
//! * `search`: substring `user00999` (11 matches, the whole table is scanned).
//! * `search_common`: substring `ada` (a first name: 10 % match).
//! * `deep_page`: the page after `user0090000`.
//! * `bounded_count`: the count query alone, as `user_page` sends it (unfiltered: capped scan).
//!
//! Set `CASTELLAN_BENCH_ADMIN_USERS` to change the user count.

// Benches may panic on setup failure: there is nobody to report an error to but the person running them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use castellan_core::Registry;
use castellan_store::{Dialect, Store, UserQuery};
use criterion::{Criterion, SamplingMode};
use tokio::runtime::Runtime;

const BENCH_DATABASE: &str = "castellan_bench_admin";

const FIRST_NAMES: &str = "'Ada','Bob','Cleo','Dan','Eve','Finn','Gus','Hana','Ivo','Jun'";

async fn populate(store: &Store, users: u64) {
    store.migrate(&Registry::django()).await.unwrap();
    store.create_group("Editors").await.unwrap();
    store
        .grant_group("Editors", &["auth.change_user".to_owned()])
        .await
        .unwrap();
    let started = Instant::now();
    let sql = match store.dialect() {
        Dialect::Postgres => format!(
            "INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, \
             email, is_staff, is_active, date_joined) \
             SELECT '!', NULL, i % 100 = 7, format('user%s', lpad(i::text, 7, '0')), \
             (ARRAY[{FIRST_NAMES}])[i % 10 + 1], 'Doe', format('user%s@example.org', i), \
             i % 10 = 3, i % 50 <> 9, now() FROM generate_series(1, {users}) AS i"
        ),
        _ => format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {users}) \
             INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, \
             email, is_staff, is_active, date_joined) \
             SELECT '!', NULL, i % 100 = 7, printf('user%07d', i), \
             json_extract(json_array({FIRST_NAMES}), '$[' || (i % 10) || ']'), 'Doe', \
             printf('user%d@example.org', i), i % 10 = 3, i % 50 != 9, '2026-01-01 00:00:00' FROM n"
        ),
    };
    store.execute_raw(&sql).await.unwrap();
    store
        .execute_raw(
            "INSERT INTO auth_user_groups (user_id, group_id) \
             SELECT u.id, (SELECT id FROM auth_group WHERE name = 'Editors') FROM auth_user u WHERE u.id % 20 = 0",
        )
        .await
        .unwrap();
    store.execute_raw("ANALYZE").await.unwrap();
    eprintln!(
        "admin_user_list ({:?}): loaded {users} users in {:.1} s",
        store.dialect(),
        started.elapsed().as_secs_f64()
    );
}

fn benches(c: &mut Criterion, rt: &Runtime, name: &str, store: &Store) {
    let q = |f: &dyn Fn(&mut UserQuery)| {
        let mut q = UserQuery {
            limit: 100,
            ..Default::default()
        };
        f(&mut q);
        q
    };
    let shapes = [
        ("first_page", q(&|_| {})),
        (
            "filtered_page",
            q(&|q| {
                q.is_staff = Some(true);
                q.is_active = Some(true);
            }),
        ),
        ("group_page", q(&|q| q.group = Some("Editors".into()))),
        ("search", q(&|q| q.search = Some("user00999".into()))),
        ("search_common", q(&|q| q.search = Some("ada".into()))),
        ("deep_page", q(&|q| q.after = Some("user0090000".into()))),
    ];
    rt.block_on(async {
        for (shape, query) in &shapes {
            let page = store.user_page(query).await.unwrap();
            eprintln!(
                "admin_user_list {name}/{shape}: {} users on the page, total {}{}",
                page.users.len(),
                page.total,
                if page.more_than_total { "+" } else { "" }
            );
        }
    });
    let count_sql = format!(
        "SELECT count(*) AS n FROM (SELECT 1 AS one FROM auth_user u WHERE 1 = 1 LIMIT {}) t",
        castellan_store::USER_COUNT_CAP + 1
    );
    let mut group = c.benchmark_group(format!("admin_user_list_{name}"));
    group
        .sample_size(20)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    group.bench_function("baseline_user_lookup", |b| {
        b.to_async(rt)
            .iter(|| async { black_box(store.user("user0050000").await.unwrap()) })
    });
    for (shape, query) in &shapes {
        group.bench_function(*shape, |b| {
            b.to_async(rt)
                .iter(|| async { black_box(store.user_page(query).await.unwrap()) })
        });
    }
    group.bench_function("bounded_count", |b| {
        b.to_async(rt)
            .iter(|| async { black_box(store.execute_raw(&count_sql).await.unwrap()) })
    });
    group.finish();
}

fn main() {
    let quick = std::env::args().any(|a| a == "--test");
    let users: u64 = std::env::var("CASTELLAN_BENCH_ADMIN_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 2_000 } else { 100_000 });
    let rt: Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut c = Criterion::default().configure_from_args();

    let sqlite = rt.block_on(common::SqliteBenchDb::create("admin"));
    rt.block_on(populate(&sqlite.store, users));
    benches(&mut c, &rt, "sqlite", &sqlite.store);
    rt.block_on(sqlite.drop());

    if let Some(pg) = rt.block_on(common::PgBenchDb::create(BENCH_DATABASE)) {
        rt.block_on(populate(&pg.store, users));
        benches(&mut c, &rt, "postgres", &pg.store);
        rt.block_on(pg.drop());
    }
    c.final_summary();
}
