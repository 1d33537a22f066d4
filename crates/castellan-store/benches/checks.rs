//! Castellan's permission-check benchmarks (DESIGN.md "Performance design", spec/performance.md G1–G5).
//!
//! Run with `cargo bench -p castellan-store --bench checks`. Set `CASTELLAN_BENCH_POSTGRES` (e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`) to add the PostgreSQL benches; the bench creates and
//! drops a database named `castellan_bench` through that server.
//!
//! Groups (every figure is a median; each group carries its own in-run baseline):
//!
//! * `warm_has_perm/*`: a warm check on a loaded [`Principal`], per lookup (batches of 64 names, half
//!   held, half not held, fixed seed), for a user holding 10 / 100 / 1000 of 1024 permissions:
//!   `by_name` ([`Principal::has_perm`]), `by_id` ([`Principal::has_perm_id`]) and the baselines
//!   `std_hashset` (a `std::collections::HashSet<String>` of the held names, SipHash — the
//!   "Python `in set`" analogue) and `foldhash_hashset` (the same set with foldhash).
//! * `{sqlite,postgres}_principal/*`: `Store::principal(username)` plus one `has_perm`:
//!   `cold/gG_pP` (the user's permissions not cached, the permission index cached: the user row
//!   with the generations, then the permission-load query, as a lookup by name does while the
//!   generations have not moved) for a user in G groups whose union is P permissions;
//!   `cold_by_id/gG_pP` (the same through `Store::principal_by_id`, as a logged-in request loads
//!   its user: one statement reads the row, the generations and the permissions);
//!   `cold_after_write/g10_p100` (the generation just moved, so the index is reloaded too); `warm`
//!   (cache hit: one query); and the baseline `select_1` (`execute_raw("SELECT 1")` on the same
//!   pool, i.e. one bare round trip).
//! * Memory per cached user is not a timing: before each database's timings, every user of each
//!   shape is loaded and `Store::cached_permission_bytes() / cached_users()` printed on stderr.

// Benches may panic on setup failure: there is nobody to report an error to but the person running them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::future::Future;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use castellan_core::{
    Identity, PermId, PermIndex, PermissionRow, Principal, Registry, UserFlags, UserId, UserPerms,
};
use castellan_store::Store;
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode};
use tokio::runtime::Runtime;

/// Permissions in the universe: 256 models × add/change/delete/view of app `bench`.
const MODELS: usize = 256;
const OPS: [&str; 4] = ["add", "change", "delete", "view"];
/// Names checked per timed batch in the warm benches (half held, half not).
const LOOKUPS: u32 = 64;
/// Permissions held by the user in the warm benches.
const WARM_SIZES: [usize; 3] = [10, 100, 1000];
/// Cold-check shapes: (groups the user is in, distinct permissions those groups grant).
const COLD_SHAPES: [(usize, usize); 9] = [
    (1, 10),
    (1, 100),
    (1, 1000),
    (10, 10),
    (10, 100),
    (10, 1000),
    (100, 10),
    (100, 100),
    (100, 1000),
];
/// The shape used for the warm-principal and cold-after-write benches.
const REFERENCE_SHAPE: (usize, usize) = (10, 100);
const BENCH_DATABASE: &str = "castellan_bench";

/// A tiny deterministic generator (fixed seed: runs are comparable).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    /// A seeded permutation of `0..n`.
    fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut v: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
        v
    }
}

/// `bench.<op>_model<NNN>`, ordered as `i` = model × 4 + op.
fn perm_name(i: usize) -> String {
    format!("bench.{}_model{:03}", OPS[i % 4], i / 4)
}

fn universe() -> usize {
    MODELS * OPS.len()
}

/// Which permissions (indices into the universe) a user of size `held` holds, and 64 names to check:
/// 32 held and 32 not held, interleaved in a seeded order.
fn warm_fixture(held: usize) -> (Vec<usize>, Vec<String>) {
    let mut rng = Lcg(0x00C0_FFEE ^ held as u64);
    let order = rng.permutation(universe());
    let (held_ids, not_held) = order.split_at(held);
    let half = LOOKUPS as usize / 2;
    let mut names = Vec::with_capacity(LOOKUPS as usize);
    for i in 0..half {
        names.push(perm_name(held_ids[i % held_ids.len()]));
        names.push(perm_name(not_held[i % not_held.len()]));
    }
    let shuffle = rng.permutation(names.len());
    let names = shuffle.into_iter().map(|i| names[i].clone()).collect();
    (held_ids.to_vec(), names)
}

fn in_memory_index() -> Arc<PermIndex> {
    Arc::new(PermIndex::new((0..universe()).map(|i| PermissionRow {
        id: i as i64,
        app_label: "bench".into(),
        codename: perm_name(i)["bench.".len()..].to_owned(),
    })))
}

fn active_user(id: i64) -> Identity {
    Identity::User(UserFlags {
        id: castellan_core::UserId::Int(id),
        username: format!("warm{id}"),
        is_active: true,
        is_superuser: false,
        is_staff: false,
    })
}

// ---------------------------------------------------------------------------------------------------
// 1. Warm checks.

fn warm_checks(c: &mut Criterion) {
    let index = in_memory_index();
    let mut group = c.benchmark_group("warm_has_perm");
    group
        .sample_size(50)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500));
    for held in WARM_SIZES {
        let (held_ids, names) = warm_fixture(held);
        let perms = UserPerms::new(
            index.set_from_rows([]),
            index.set_from_rows(held_ids.iter().map(|&i| i as i64)),
        );
        assert_eq!(perms.group().len(), held);
        let principal = Principal::new(active_user(1), Arc::new(perms), Arc::clone(&index));
        let ids: Vec<PermId> = names
            .iter()
            .map(|n| index.resolve(n).expect("every name is indexed"))
            .collect();
        let std_set: HashSet<String> = held_ids.iter().map(|&i| perm_name(i)).collect();
        let fold_set: HashSet<String, foldhash::fast::RandomState> =
            std_set.iter().cloned().collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        // Every implementation answers the same.
        let expected: Vec<bool> = names.iter().map(|n| std_set.contains(*n)).collect();
        assert_eq!(
            expected.iter().filter(|b| **b).count(),
            LOOKUPS as usize / 2
        );
        assert_eq!(
            names
                .iter()
                .map(|n| principal.has_perm(n))
                .collect::<Vec<_>>(),
            expected
        );
        assert_eq!(
            ids.iter()
                .map(|id| principal.has_perm_id(*id))
                .collect::<Vec<_>>(),
            expected
        );

        group.bench_with_input(BenchmarkId::new("by_name", held), &names, |b, names| {
            b.iter_custom(|iters| {
                per_lookup(iters, || {
                    names.iter().for_each(|n| {
                        black_box(principal.has_perm(black_box(n)));
                    })
                })
            })
        });
        group.bench_with_input(BenchmarkId::new("by_id", held), &ids, |b, ids| {
            b.iter_custom(|iters| {
                per_lookup(iters, || {
                    ids.iter().for_each(|id| {
                        black_box(principal.has_perm_id(black_box(*id)));
                    })
                })
            })
        });
        group.bench_with_input(BenchmarkId::new("std_hashset", held), &names, |b, names| {
            b.iter_custom(|iters| {
                per_lookup(iters, || {
                    names.iter().for_each(|n| {
                        black_box(std_set.contains(black_box(*n)));
                    })
                })
            })
        });
        group.bench_with_input(
            BenchmarkId::new("foldhash_hashset", held),
            &names,
            |b, names| {
                b.iter_custom(|iters| {
                    per_lookup(iters, || {
                        names.iter().for_each(|n| {
                            black_box(fold_set.contains(black_box(*n)));
                        })
                    })
                })
            },
        );
    }
    group.finish();
}

/// Runs `batch` (LOOKUPS checks) `iters` times and returns the time per single check.
fn per_lookup(iters: u64, mut batch: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        batch();
    }
    start.elapsed() / LOOKUPS
}

// ---------------------------------------------------------------------------------------------------
// 2. Cold and warm loads through the store.

/// One cold-check shape loaded into a database: the users to cycle through and a held permission.
struct Shape {
    groups: usize,
    perms: usize,
    users: Vec<String>,
    /// The users' keys, in the same order.
    ids: Vec<UserId>,
    probe: String,
}

impl Shape {
    fn label(&self) -> String {
        format!("g{}_p{}", self.groups, self.perms)
    }
}

fn user_name(groups: usize, perms: usize, i: usize) -> String {
    format!("cold-g{groups}-p{perms}-u{i:04}")
}

fn group_name(groups: usize, perms: usize, i: usize) -> String {
    format!("g{groups}-p{perms}-{i:03}")
}

/// Runs `rows` as multi-row INSERTs of at most 500 rows each.
async fn insert_rows(store: &Store, head: &str, rows: &[String]) {
    for chunk in rows.chunks(500) {
        store
            .execute_raw(&format!("{head} VALUES {}", chunk.join(", ")))
            .await
            .expect("bulk insert");
    }
}

/// Migrates `store` and loads the benchmark data with a handful of set-based statements.
async fn populate(store: &Store, users_per_shape: usize) -> Vec<Shape> {
    store.migrate(&Registry::django()).await.expect("migrate");
    // 256 content types × 4 = 1024 permissions (plus Django's own auth/contenttypes ones).
    let cts: Vec<String> = (0..MODELS)
        .map(|m| format!("('bench', 'model{m:03}')"))
        .collect();
    insert_rows(
        store,
        "INSERT INTO django_content_type (app_label, model)",
        &cts,
    )
    .await;
    store
        .execute_raw(
            "INSERT INTO auth_permission (content_type_id, codename, name) \
             SELECT ct.id, o.op || '_' || ct.model, 'Can ' || o.op || ' ' || ct.model \
             FROM django_content_type ct CROSS JOIN (SELECT 'add' AS op UNION ALL SELECT 'change' \
             UNION ALL SELECT 'delete' UNION ALL SELECT 'view') o WHERE ct.app_label = 'bench'",
        )
        .await
        .expect("permissions");
    let mut bench_perms = store
        .permissions(Some("bench"))
        .await
        .expect("list permissions");
    bench_perms.sort_by_key(|p| p.id);
    assert_eq!(bench_perms.len(), universe());

    let mut shapes = Vec::new();
    let mut rng = Lcg(0x0005_EED5);
    for (groups, perms) in COLD_SHAPES {
        let names: Vec<String> = (0..groups)
            .map(|i| format!("('{}')", group_name(groups, perms, i)))
            .collect();
        insert_rows(store, "INSERT INTO auth_group (name)", &names).await;
        let group_ids: Vec<i64> = {
            let all = store.groups().await.expect("list groups");
            (0..groups)
                .map(|i| {
                    let name = group_name(groups, perms, i);
                    all.iter()
                        .find(|g| g.name == name)
                        .expect("group just created")
                        .id
                })
                .collect()
        };
        // `perms` permissions spread over the universe; group i grants those j with j % groups == i
        // (or, with fewer permissions than groups, permission i % perms): their union is exactly `perms`.
        let chosen: Vec<i64> = rng.permutation(universe())[..perms]
            .iter()
            .map(|&i| bench_perms[i].id)
            .collect();
        let grants: Vec<String> = (0..groups.max(perms))
            .map(|k| {
                let (g, p) = if perms >= groups {
                    (k % groups, k)
                } else {
                    (k, k % perms)
                };
                format!("({}, {})", group_ids[g], chosen[p])
            })
            .collect();
        insert_rows(
            store,
            "INSERT INTO auth_group_permissions (group_id, permission_id)",
            &grants,
        )
        .await;
        let users: Vec<String> = (0..users_per_shape)
            .map(|i| user_name(groups, perms, i))
            .collect();
        let rows: Vec<String> = users
            .iter()
            .map(|u| {
                format!(
                    "('!bench', NULL, FALSE, '{u}', '', '', FALSE, TRUE, '2026-01-01 00:00:00', '')"
                )
            })
            .collect();
        insert_rows(
            store,
            "INSERT INTO auth_user (password, last_login, is_superuser, username, last_name, email, is_staff, is_active, date_joined, first_name)",
            &rows,
        )
        .await;
        store
            .execute_raw(&format!(
                "INSERT INTO auth_user_groups (user_id, group_id) SELECT u.id, g.id FROM auth_user u CROSS JOIN auth_group g \
                 WHERE u.username LIKE 'cold-g{groups}-p{perms}-u%' AND g.name LIKE 'g{groups}-p{perms}-%'"
            ))
            .await
            .expect("memberships");
        let probe = bench_perms
            .iter()
            .find(|p| p.id == chosen[perms / 2])
            .expect("chosen permission")
            .user_perm_str();
        let mut ids = Vec::with_capacity(users.len());
        for u in &users {
            ids.push(store.user(u).await.expect("user").expect("user exists").id);
        }
        shapes.push(Shape {
            groups,
            perms,
            users,
            ids,
            probe,
        });
    }
    store.execute_raw("ANALYZE").await.expect("analyze");

    // Sanity: the data is what the shapes say, and a reset really empties the user cache.
    reset_cache(store).await;
    for shape in &shapes {
        let p = store
            .principal(&shape.users[0])
            .await
            .expect("load")
            .expect("user exists");
        assert_eq!(
            p.loaded().group().len(),
            shape.perms,
            "shape {}",
            shape.label()
        );
        assert!(p.has_perm(&shape.probe));
    }
    assert_eq!(
        store.cached_users(),
        shapes.len(),
        "permission caching must be on"
    );
    reset_cache(store).await;
    assert_eq!(store.cached_users(), 0);
    shapes
}

/// Moves the generation (so every cached user is dropped) and reloads the permission index, so that the
/// next `principal` call is cold for the user only.
async fn reset_cache(store: &Store) {
    bump_generation(store).await;
    store.permission_index().await.expect("index");
}

async fn bump_generation(store: &Store) {
    store
        .execute_raw("UPDATE castellan_generation SET value = value + 1 WHERE id = 1")
        .await
        .expect("bump generation");
}

async fn check_by_id(store: &Store, id: UserId, perm: &str) -> bool {
    let p = store
        .principal_by_id(id)
        .await
        .expect("load")
        .expect("user exists");
    p.has_perm(perm)
}

/// Memory per cached user, as the store counts it, with every user of each shape cached
/// (printed, not timed).
fn memory_per_user(rt: &Runtime, name: &str, store: &Store, shapes: &[Shape]) {
    eprintln!();
    eprintln!("{name}: memory per cached user (Store::cached_permission_bytes / cached_users)");
    for shape in shapes {
        let per_user = rt.block_on(async {
            reset_cache(store).await;
            for &id in &shape.ids {
                assert!(check_by_id(store, id, &shape.probe).await);
            }
            assert_eq!(store.cached_users(), shape.ids.len());
            store.cached_permission_bytes() as f64 / shape.ids.len() as f64
        });
        eprintln!(
            "  {:>10}: {per_user:>7.1} B per user ({} users in the same groups)",
            shape.label(),
            shape.ids.len()
        );
    }
    eprintln!();
}

async fn check(store: &Store, username: &str, perm: &str) -> bool {
    let p = store
        .principal(username)
        .await
        .expect("load")
        .expect("user exists");
    p.has_perm(perm)
}

/// `name/shape`: `load(i)` for the shape's users in turn; after each full cycle, a reset
/// (untimed), so every timed call finds the index cached and the user not.
fn cold_bench<F, Fut>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    store: &Store,
    name: &str,
    shape: &Shape,
    load: F,
) where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = bool>,
{
    let cursor = AtomicUsize::new(0);
    group.bench_function(BenchmarkId::new(name, shape.label()), |b| {
        b.to_async(rt).iter_custom(|iters| {
            let (cursor, load) = (&cursor, &load);
            async move {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    let i = cursor.fetch_add(1, Ordering::Relaxed) % shape.users.len();
                    if i == 0 {
                        reset_cache(store).await;
                    }
                    let start = Instant::now();
                    let granted = load(i).await;
                    timed += start.elapsed();
                    assert!(granted);
                }
                timed
            }
        })
    });
}

fn store_benches(c: &mut Criterion, rt: &Runtime, name: &str, store: &Store, shapes: &[Shape]) {
    let mut group = c.benchmark_group(format!("{name}_principal"));
    group
        .sample_size(30)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));

    group.bench_function("select_1", |b| {
        b.to_async(rt)
            .iter(|| async { black_box(store.execute_raw("SELECT 1").await.expect("SELECT 1")) })
    });

    let reference = shapes
        .iter()
        .find(|s| (s.groups, s.perms) == REFERENCE_SHAPE)
        .expect("reference shape");
    group.bench_function(BenchmarkId::new("warm", reference.label()), |b| {
        let user = &reference.users[0];
        rt.block_on(async { assert!(check(store, user, &reference.probe).await) });
        b.to_async(rt)
            .iter(|| async { black_box(check(store, user, &reference.probe).await) })
    });

    for shape in shapes {
        cold_bench(&mut group, rt, store, "cold", shape, |i| {
            check(store, &shape.users[i], &shape.probe)
        });
    }
    for shape in shapes {
        // The same by key, as a logged-in request loads its user: one statement.
        cold_bench(&mut group, rt, store, "cold_by_id", shape, |i| {
            check_by_id(store, shape.ids[i], &shape.probe)
        });
    }

    group.bench_function(
        BenchmarkId::new("cold_after_write", reference.label()),
        |b| {
            b.to_async(rt).iter_custom(|iters| async move {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    bump_generation(store).await;
                    let start = Instant::now();
                    let granted = check(store, &reference.users[0], &reference.probe).await;
                    timed += start.elapsed();
                    assert!(granted);
                }
                timed
            })
        },
    );
    group.finish();
}

fn sqlite_benches(c: &mut Criterion, rt: &Runtime, users_per_shape: usize) {
    let dir: PathBuf = std::env::temp_dir().join(format!("castellan-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite://{}", dir.join("bench.sqlite3").display());
    let started = Instant::now();
    let (store, shapes) = rt.block_on(async {
        let store = Store::connect(&url).await.expect("open SQLite");
        let shapes = populate(&store, users_per_shape).await;
        (store, shapes)
    });
    eprintln!("SQLite ({url}): data loaded in {:.1?}", started.elapsed());
    memory_per_user(rt, "SQLite", &store, &shapes);
    store_benches(c, rt, "sqlite", &store, &shapes);
    rt.block_on(store.close());
    if keep_data() {
        eprintln!("CASTELLAN_BENCH_KEEP is set: {} kept", dir.display());
    } else {
        // Best effort: a leftover file in the temp dir harms nobody.
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn postgres_benches(c: &mut Criterion, rt: &Runtime, users_per_shape: usize) {
    let Some(pg) = rt.block_on(common::PgBenchDb::create(BENCH_DATABASE)) else {
        return;
    };
    let started = Instant::now();
    let shapes = rt.block_on(populate(&pg.store, users_per_shape));
    eprintln!(
        "PostgreSQL ({BENCH_DATABASE}): data loaded in {:.1?}",
        started.elapsed()
    );
    memory_per_user(rt, "PostgreSQL", &pg.store, &shapes);
    store_benches(c, rt, "postgres", &pg.store, &shapes);
    rt.block_on(pg.drop());
}

/// `CASTELLAN_BENCH_KEEP=1` keeps the SQLite file and the PostgreSQL database for inspection.
fn keep_data() -> bool {
    std::env::var_os("CASTELLAN_BENCH_KEEP").is_some()
}

fn main() {
    // `cargo test --benches` runs every bench once: keep its setup small.
    let quick = std::env::args().any(|a| a == "--test");
    let users_per_shape = if quick { 4 } else { 500 };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut c = Criterion::default().configure_from_args();

    warm_checks(&mut c);
    sqlite_benches(&mut c, &rt, users_per_shape);
    postgres_benches(&mut c, &rt, users_per_shape);
    c.final_summary();
}
