//! The declarative sync at scale (DESIGN.md: "sync of 10k models ≤ 150 ms on SQLite, no-op re-run
//! ≤ 20 ms").
//!
//! Run with `cargo bench -p castellan-store --bench sync`.
//!
//! The policy declares 10,000 models of app `bench`, each with the 4 default permissions and 1 custom
//! one (50,000 permissions), and a group `Viewers` with `bench.view_*` (10,000 grants). On a fresh,
//! migrated SQLite file (Castellan's triggers and audit table installed):
//!
//! * `sqlite_sync/from_scratch`: `Store::sync` creating all 10,000 content types, 50,000 permissions,
//!   the group and its 10,000 grants in one transaction (the set-up of each iteration — a new database
//!   file — is not timed);
//! * `sqlite_sync/noop`: `Store::sync` when the database already matches (lock, 4 reads, empty plan);
//! * `sqlite_sync/parse`: `Policy::parse` of the 1.3 MB file (not part of the two above);
//! * baseline `sqlite_sync/bulk_insert_baseline`: the same 10,000 + 50,000 rows inserted by hand with
//!   multi-row INSERTs in one transaction on the same kind of database (no validation, no plan, no
//!   group, no audit) — the floor a sync cannot go below;
//! * baseline `sqlite_sync/bulk_insert_baseline_no_triggers`: the same with Castellan's per-row
//!   generation triggers dropped first (not timed) — the floor once a large sync suspends them, as
//!   `Store::sync` does (one generation bump instead of one per row).

// Benches may panic on setup failure: there is nobody to report an error to but the person running them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use castellan_core::policy::Policy;
use castellan_core::Registry;
use castellan_store::Store;
use criterion::Criterion;
use tokio::runtime::Runtime;

const MODELS: usize = 10_000;

fn policy_text() -> String {
    let mut s = String::with_capacity(MODELS * 140);
    s.push_str("[apps.bench]\nverbose_name = \"Bench\"\n");
    for i in 0..MODELS {
        s.push_str(&format!(
            "[[apps.bench.models]]\nname = \"Model{i}\"\npermissions = [{{ codename = \"can_publish_model{i}\", name = \"Can publish model {i}\" }}]\n"
        ));
    }
    s.push_str("[groups.Viewers]\npermissions = [\"bench.view_*\"]\n");
    s
}

static N: AtomicUsize = AtomicUsize::new(0);

fn fresh_path() -> PathBuf {
    let dir = std::env::temp_dir().join("castellan-bench-sync");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!(
        "db-{}-{}.sqlite3",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_file(&path);
    path
}

async fn fresh_store() -> (Store, PathBuf) {
    let path = fresh_path();
    let store = Store::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    store.migrate(&Registry::django()).await.unwrap();
    (store, path)
}

async fn baseline_insert(path: &std::path::Path, triggers: bool) -> Duration {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    if !triggers {
        // Not timed: the floor for these rows once the per-row generation triggers are out of the way
        // (what `Store::sync` does for a large change, in its own transaction).
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'castellan_bump_%'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        for name in names {
            sqlx::query(&format!("DROP TRIGGER {name}"))
                .execute(&pool)
                .await
                .unwrap();
        }
    }
    let start = Instant::now();
    let mut tx = pool.begin().await.unwrap();
    for chunk in (0..MODELS).collect::<Vec<_>>().chunks(1000) {
        let sql = format!(
            "INSERT INTO django_content_type (app_label, model) VALUES {}",
            vec!["(?, ?)"; chunk.len()].join(", ")
        );
        let names: Vec<String> = chunk.iter().map(|i| format!("model{i}")).collect();
        let mut q = sqlx::query(&sql).persistent(false);
        for n in &names {
            q = q.bind("bench").bind(n.as_str());
        }
        q.execute(&mut *tx).await.unwrap();
    }
    let cts: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, model FROM django_content_type WHERE app_label = 'bench'")
            .fetch_all(&mut *tx)
            .await
            .unwrap();
    let mut rows = Vec::with_capacity(MODELS * 5);
    for (id, model) in &cts {
        for a in ["add", "change", "delete", "view"] {
            rows.push((format!("Can {a} {model}"), *id, format!("{a}_{model}")));
        }
        rows.push((
            format!("Can publish {model}"),
            *id,
            format!("can_publish_{model}"),
        ));
    }
    for chunk in rows.chunks(1000) {
        let sql = format!(
            "INSERT INTO auth_permission (name, content_type_id, codename) VALUES {}",
            vec!["(?, ?, ?)"; chunk.len()].join(", ")
        );
        let mut q = sqlx::query(&sql).persistent(false);
        for (name, ct, code) in chunk {
            q = q.bind(name.as_str()).bind(*ct).bind(code.as_str());
        }
        q.execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    let elapsed = start.elapsed();
    pool.close().await;
    elapsed
}

fn bench(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let text = policy_text();
    let policy = Policy::parse(&text).unwrap();
    let mut g = c.benchmark_group("sqlite_sync");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .warm_up_time(Duration::from_secs(1));
    g.bench_function("parse", |b| b.iter(|| Policy::parse(&text).unwrap()));
    g.bench_function("from_scratch", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (store, path) = rt.block_on(fresh_store());
                let start = Instant::now();
                let plan = rt.block_on(store.sync(&policy, false)).unwrap();
                total += start.elapsed();
                assert_eq!(plan.permissions.len(), MODELS * 5);
                rt.block_on(store.close());
                let _ = std::fs::remove_file(&path);
            }
            total
        })
    });
    for (name, triggers) in [
        ("bulk_insert_baseline", true),
        ("bulk_insert_baseline_no_triggers", false),
    ] {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (store, path) = rt.block_on(fresh_store());
                    rt.block_on(store.close());
                    total += rt.block_on(baseline_insert(&path, triggers));
                    let _ = std::fs::remove_file(&path);
                }
                total
            })
        });
    }
    let (store, path) = rt.block_on(fresh_store());
    rt.block_on(store.sync(&policy, false)).unwrap();
    g.bench_function("noop", |b| {
        b.iter(|| {
            let plan = rt.block_on(store.sync(&policy, false)).unwrap();
            assert!(plan.is_empty());
        })
    });
    g.finish();
    rt.block_on(store.close());
    let _ = std::fs::remove_file(&path);
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
