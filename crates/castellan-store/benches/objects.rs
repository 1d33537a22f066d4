//! Object permissions: a warm object check with the object's grants loaded (target ≤ 100 ns), and
//! a rule compiled to SQL against the same condition written by hand over 1,000,000 articles
//! (target: within 2× of the hand-written query), on SQLite and PostgreSQL.
//!
//! Run with `cargo bench -p castellan-store --bench objects`; set `CASTELLAN_BENCH_POSTGRES` (e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`) to add PostgreSQL (the bench creates and drops a
//! database `castellan_bench_objects`). `CASTELLAN_BENCH_OBJECTS_ROWS` changes the row count.
//!
//! Groups (medians; the first bench of each is the in-run baseline):
//!
//! * `object_check`: `model_has_perm` ([`Principal::has_perm`], Django's model check) against
//!   `object_has_perm` ([`object_perms::has_perm`] over loaded [`ObjectGrants`]), granted and not.
//! * `object_list_1m` / `object_list_1m_postgres`: the ids of "the articles user 7 may change"
//!   (their own drafts; 1,000 authors, a twentieth of the rows are drafts, an index on
//!   `(author_id, status)`): `hand_written` SQL, the `compiled_rule` ([`RuleFilter::compile`] of the
//!   rule folded for the user), and `object_filter` ([`Store::object_filter`]: the rule OR a
//!   django-guardian grant of the user or their groups).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use castellan_core::object_perms::{self, ObjectGrants, ObjectRef};
use castellan_core::rules::{ObjectRules, Rule, RuleSubject, Value};
use castellan_core::{
    Identity, ModelSpec, PermIndex, PermissionRow, PermissionSet, Principal, Registry, UserFlags,
    UserId, UserPerms,
};
use castellan_store::sql::SqlText;
use castellan_store::{Dialect, ObjectHolder, RuleFilter, Store};
use criterion::{Criterion, SamplingMode};
use tokio::runtime::Runtime;

const BENCH_DATABASE: &str = "castellan_bench_objects";
const PERM: &str = "shop.change_article";

fn principal(id: i64) -> Principal {
    let rows: Vec<PermissionRow> = ["view_article", "change_article", "delete_article"]
        .iter()
        .zip(1..)
        .map(|(c, id)| PermissionRow {
            id,
            app_label: "shop".into(),
            codename: (*c).into(),
        })
        .collect();
    let index = Arc::new(PermIndex::new(rows));
    let held = PermissionSet::from_ids(index.resolve("shop.view_article"));
    Principal::new(
        Identity::User(UserFlags {
            id: UserId::Int(id),
            username: "ann".into(),
            is_active: true,
            is_superuser: false,
            is_staff: false,
        }),
        Arc::new(UserPerms::new(held, PermissionSet::empty())),
        index,
    )
}

fn check_benches(c: &mut Criterion) {
    let who = principal(7);
    let obj = ObjectRef::parse("shop.article:42").unwrap();
    let grants = ObjectGrants::new(["view_article", "change_article"], ["can_approve_article"]);
    let mut group = c.benchmark_group("object_check");
    group.bench_function("model_has_perm", |b| {
        b.iter(|| black_box(&who).has_perm(black_box("shop.view_article")))
    });
    group.bench_function("object_has_perm/granted", |b| {
        b.iter(|| object_perms::has_perm(&who, &grants, black_box(PERM), &obj))
    });
    group.bench_function("object_has_perm/not_granted", |b| {
        b.iter(|| object_perms::has_perm(&who, &grants, black_box("shop.delete_article"), &obj))
    });
    group.finish();
}

async fn populate(store: &Store, rows: u64) {
    let registry = Registry::django()
        .with_app("shop", "Shop")
        .unwrap()
        .with_model(ModelSpec::new("shop", "Article"))
        .unwrap();
    store.migrate(&registry).await.unwrap();
    store.install_object_permissions().await.unwrap();
    let started = Instant::now();
    store
        .execute_raw(
            "CREATE TABLE shop_article (id integer NOT NULL PRIMARY KEY, author_id integer NOT NULL, \
             status varchar(20) NOT NULL)",
        )
        .await
        .unwrap();
    // Each author's articles are one in 1000; a twentieth of each author's are drafts.
    let status = "CASE WHEN (i / 1000) % 20 = 0 THEN 'draft' WHEN (i / 1000) % 20 = 1 THEN 'review' ELSE 'published' END";
    let sql = match store.dialect() {
        Dialect::Postgres => format!(
            "INSERT INTO shop_article (id, author_id, status) \
             SELECT i, i % 1000 + 1, {status} FROM generate_series(1, {rows}) AS i"
        ),
        _ => format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
             INSERT INTO shop_article (id, author_id, status) SELECT i, i % 1000 + 1, {status} FROM n"
        ),
    };
    store.execute_raw(&sql).await.unwrap();
    store
        .execute_raw("CREATE INDEX shop_article_author_status ON shop_article (author_id, status)")
        .await
        .unwrap();
    // User 7 (the 7th created) and a few object grants, as an application would have.
    for n in 1..=7 {
        let mut u = castellan_store::NewUser::new(format!("user{n}"));
        u.password = None;
        store.create_user(u).await.unwrap();
    }
    store.create_group("Authors").await.unwrap();
    store
        .add_user_to_groups("user7", &["Authors".into()])
        .await
        .unwrap();
    for pk in [3, 500, 1_006, 999_999] {
        let obj = ObjectRef::new("shop", "article", pk.to_string()).unwrap();
        let holder = if pk == 500 {
            ObjectHolder::Group("Authors")
        } else {
            ObjectHolder::User("user7")
        };
        store
            .grant_object_perms(holder, &[PERM.to_owned()], &obj)
            .await
            .unwrap();
    }
    store.execute_raw("ANALYZE").await.unwrap();
    eprintln!(
        "objects ({:?}): loaded {rows} articles in {:.1} s",
        store.dialect(),
        started.elapsed().as_secs_f64()
    );
}

async fn ids(store: &Store, q: &SqlText, args: &[castellan_store::sql::Arg<'_>]) -> usize {
    store.db().fetch_all(q, args).await.unwrap().len()
}

fn list_benches(c: &mut Criterion, rt: &Runtime, group_name: &str, store: &Store) {
    let d = store.dialect();
    let who = rt.block_on(store.principal("user7")).unwrap().unwrap();
    let groups = vec!["Authors".to_owned()];
    let subject = RuleSubject {
        who: &who,
        groups: &groups,
    };
    let user_id = who.identity().id().unwrap().as_int().unwrap();
    let rules = ObjectRules::new()
        .with(
            PERM,
            Rule::all([
                Rule::in_group("Authors"),
                Rule::is_user("author_id"),
                Rule::eq("status", Value::text("draft")),
            ]),
        )
        .unwrap();
    let compiled = RuleFilter::compile(d, &rules.condition(&subject, PERM), "a");
    let with_grants = rt
        .block_on(store.object_filter(&rules, &subject, PERM, ("shop", "article"), ("a", "id")))
        .unwrap();
    let query = |filter: &RuleFilter| {
        let mut q = SqlText::new(d);
        q.push("SELECT a.id AS id FROM shop_article a WHERE ");
        filter.append_to(&mut q);
        q
    };
    let (compiled_q, grants_q) = (query(&compiled), query(&with_grants));
    let mut hand = SqlText::new(d);
    hand.push("SELECT a.id AS id FROM shop_article a WHERE a.author_id = ")
        .param()
        .push(" AND a.status = 'draft'");
    rt.block_on(async {
        let n_hand = ids(store, &hand, &[user_id.into()]).await;
        let n_rule = ids(store, &compiled_q, &compiled.args()).await;
        let n_all = ids(store, &grants_q, &with_grants.args()).await;
        eprintln!(
            "{group_name}: hand-written {n_hand} rows, compiled rule {n_rule}, with grants {n_all}"
        );
        assert_eq!(
            n_hand, n_rule,
            "the compiled rule selects what the hand-written SQL does"
        );
    });
    let mut group = c.benchmark_group(group_name);
    group
        .sample_size(20)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("hand_written", |b| {
        b.to_async(rt)
            .iter(|| async { black_box(ids(store, &hand, &[user_id.into()]).await) })
    });
    group.bench_function("compiled_rule", |b| {
        b.to_async(rt)
            .iter(|| async { black_box(ids(store, &compiled_q, &compiled.args()).await) })
    });
    group.bench_function("object_filter", |b| {
        b.to_async(rt)
            .iter(|| async { black_box(ids(store, &grants_q, &with_grants.args()).await) })
    });
    group.finish();
}

fn main() {
    let quick = std::env::args().any(|a| a == "--test");
    let rows: u64 = std::env::var("CASTELLAN_BENCH_OBJECTS_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 10_000 } else { 1_000_000 });
    let rt: Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut c = Criterion::default().configure_from_args();
    check_benches(&mut c);

    let sqlite = rt.block_on(common::SqliteBenchDb::create("objects"));
    rt.block_on(populate(&sqlite.store, rows));
    list_benches(&mut c, &rt, "object_list_1m", &sqlite.store);
    rt.block_on(sqlite.drop());

    if let Some(pg) = rt.block_on(common::PgBenchDb::create(BENCH_DATABASE)) {
        rt.block_on(populate(&pg.store, rows));
        list_benches(&mut c, &rt, "object_list_1m_postgres", &pg.store);
        rt.block_on(pg.drop());
    }
    c.final_summary();
}
