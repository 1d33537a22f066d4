//! Import of 100 000 users with pre-computed password hashes, on SQLite (issue #3 target: ≤ 1 s).
//!
//! Baseline in the same run: the same number of `auth_user` rows written by one
//! `INSERT … SELECT` over a recursive CTE — the floor of what SQLite can do for these rows.
//!
//! The import writes 100 000 memberships too; it suspends SQLite's per-row generation triggers for
//! them and bumps the generation once (see `Store::import`).
//!
//! `cargo bench -p castellan-store --bench import`

#![allow(clippy::unwrap_used, clippy::expect_used)] // Benchmarks panic on failed set-up.

use std::time::{Duration, Instant};

use castellan_core::Registry;
use castellan_store::{
    Export, ExportedGroup, ExportedPermission, ExportedUser, Store, EXPORT_FORMAT,
};
use criterion::Criterion;

const USERS: usize = 100_000;
const GROUPS: usize = 10;

fn document() -> Export {
    // One real-looking Django hash, copied to every user: import never re-hashes.
    let hash = "pbkdf2_sha256$1500000$seasalt$P4UiMPVduVWIL/oS1GzH+IofsccjJNM5hUTikBvi5to=";
    let groups = (0..GROUPS)
        .map(|g| ExportedGroup {
            name: format!("group {g}"),
            permissions: vec!["auth.view_user".into()],
        })
        .collect();
    let users = (0..USERS)
        .map(|i| ExportedUser {
            username: format!("user{i:06}"),
            password: hash.into(),
            email: format!("user{i}@example.org"),
            first_name: String::new(),
            last_name: String::new(),
            is_active: true,
            is_staff: false,
            is_superuser: false,
            date_joined: Some("2026-11-25 12:00:00.000000".into()),
            last_login: None,
            groups: vec![format!("group {}", i % GROUPS)],
            permissions: Vec::new(),
        })
        .collect();
    Export {
        format: EXPORT_FORMAT.into(),
        version: 1,
        permissions: vec![ExportedPermission {
            app_label: "auth".into(),
            model: "user".into(),
            codename: "view_user".into(),
            name: "Can view user".into(),
        }],
        groups,
        users,
    }
}

async fn fresh_store(dir: &std::path::Path, n: usize) -> Store {
    let path = dir.join(format!("import-{n}.sqlite3"));
    let _ = std::fs::remove_file(&path);
    let store = Store::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    store.migrate(&Registry::django()).await.unwrap();
    store
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("castellan-bench-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = document();
    let noop = |_: &str, _: u64, _: u64| {};
    let mut group = c.benchmark_group("import_100k_users_sqlite");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    let mut n = 0;
    group.bench_function("castellan_import", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                n += 1;
                let store = rt.block_on(fresh_store(&dir, n));
                let start = Instant::now();
                let report = rt
                    .block_on(store.import(&data, &noop))
                    .unwrap_or_else(|e| panic!("import failed: {e}"));
                total += start.elapsed();
                assert_eq!(report.users_created, USERS);
                rt.block_on(store.close());
            }
            total
        })
    });
    group.bench_function("baseline_insert_select", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                n += 1;
                let store = rt.block_on(fresh_store(&dir, n));
                let sql = format!(
                    "WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < {USERS}) \
                     INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined) \
                     SELECT 'pbkdf2_sha256$1500000$seasalt$P4UiMPVduVWIL/oS1GzH+IofsccjJNM5hUTikBvi5to=', NULL, 0, 'user' || i, '', '', 'user' || i || '@example.org', 0, 1, '2026-11-25 12:00:00.000000' FROM seq"
                );
                let start = Instant::now();
                rt.block_on(store.execute_raw(&sql)).unwrap();
                total += start.elapsed();
                rt.block_on(store.close());
            }
            total
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
