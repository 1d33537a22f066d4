//! Object permissions against real django-guardian 3.5.2 on Django 6.1.3, sharing one database.
//!
//! `interop/django/guardian_scenario.py` builds a random scenario with guardian (users active or
//! not, superusers, groups, global grants, books, articles and groups as objects, object grants
//! to users and groups, grants on objects that do not exist and on `"05"` for object 5) and writes
//! guardian's answers to `has_perms(perms, obj)` / any, `get_perms`, `get_users_with_perms` and
//! `get_objects_for_user` over
//! all sixteen flag combinations, errors included. Castellan opens the database as Django left
//! it and must give every answer.
//!
//! Needs `CASTELLAN_DJANGO_PYTHON` (the venv of `scripts/django-venv.sh`, which installs
//! django-guardian); skipped without it unless `CASTELLAN_REQUIRE_DJANGO=1`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
mod interop;

use castellan_conformance::{Kind, TestDb};
use castellan_core::{ObjectRef, ObjectsQuery};
use castellan_store::{Error, Store};
use serde::Deserialize;
use serde_json::Value;

use interop::{django_db_url, django_python, run_script, temp_path, Report};

#[derive(Deserialize)]
struct Answers {
    checks: Vec<CheckAnswer>,
    get_perms: Vec<PermsAnswer>,
    objects: Vec<ObjectsAnswer>,
    users_with_perms: Vec<HoldersAnswer>,
}

#[derive(Deserialize)]
struct HoldersAnswer {
    object: String,
    perm: String,
    with_superusers: bool,
    result: Vec<String>,
}

#[derive(Deserialize)]
struct CheckAnswer {
    user: String,
    object: String,
    perms: Vec<String>,
    any: bool,
    result: Value,
}

#[derive(Deserialize)]
struct PermsAnswer {
    user: String,
    object: String,
    result: Vec<String>,
}

#[derive(Deserialize)]
struct ObjectsAnswer {
    user: String,
    model: String,
    perms: Vec<String>,
    use_groups: bool,
    any_perm: bool,
    with_superuser: bool,
    accept_global_perms: bool,
    result: Value,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guardian_made_database_sqlite() {
    guardian_made(Kind::Sqlite, &[1, 2, 3]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guardian_made_database_postgres() {
    guardian_made(Kind::Postgres, &[11, 12]).await;
}

async fn guardian_made(kind: Kind, seeds: &[u64]) {
    let Some(python) = django_python() else {
        return;
    };
    let mut mismatches = Vec::new();
    for &seed in seeds {
        mismatches.extend(guardian_seed(kind, seed, &python).await);
    }
    assert!(
        mismatches.is_empty(),
        "Castellan disagrees with django-guardian in {} place(s):\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// guardian's error class for one of Castellan's errors.
fn error_class(e: &Error) -> String {
    let class = match e {
        Error::Input(castellan_core::Error::WrongApp { .. }) => "WrongAppError",
        Error::Input(castellan_core::Error::MixedContentType(_)) => "MixedContentTypeError",
        Error::Input(castellan_core::Error::UnknownPermission { .. }) => "DoesNotExist",
        other => return format!("error:unexpected {other}"),
    };
    format!("error:{class}")
}

fn answer<T: Into<Value>>(r: Result<T, Error>) -> Value {
    match r {
        Ok(v) => v.into(),
        Err(e) => Value::String(error_class(&e)),
    }
}

async fn guardian_seed(kind: Kind, seed: u64, python: &std::path::Path) -> Vec<String> {
    let Some(db) = TestDb::create(kind).await else {
        return Vec::new();
    };
    let path = temp_path(&format!("guardian-{kind:?}-seed{seed}.json"));
    let env = vec![
        ("INTEROP_DB", django_db_url(&db)),
        ("INTEROP_APPS", "guardian".to_owned()),
    ];
    let args = vec![
        "--seed".to_owned(),
        seed.to_string(),
        "--out".to_owned(),
        path.display().to_string(),
    ];
    let out = run_script(python, "guardian_scenario.py", args, env).await;
    eprintln!("{}", out.trim_end());
    let expected: Answers = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(
        expected.checks.len() > 100 && expected.objects.len() > 100,
        "guardian_scenario.py asked too little"
    );
    let store = Store::connect(&db.url)
        .await
        .unwrap_or_else(|e| panic!("cannot open the guardian database {}: {e}", db.url));
    assert!(store.has_object_permissions().await.unwrap());
    let mut report = Report::new(&format!("{kind:?} seed {seed}"));

    report.phase("has_perms(perms, obj)");
    for c in &expected.checks {
        let obj = ObjectRef::parse(&c.object).unwrap();
        let got = answer(
            store
                .check_object_perms(&c.user, &c.perms, &obj, c.any)
                .await,
        );
        let field = format!("{} {:?} any={}", c.object, c.perms, c.any);
        report.cmp(&c.user, &field, &c.result, &got);
    }

    report.phase("get_perms");
    for p in &expected.get_perms {
        let obj = ObjectRef::parse(&p.object).unwrap();
        let got: Vec<String> = store
            .object_perms(&p.user, &obj)
            .await
            .unwrap()
            .into_iter()
            .map(|c| format!("{}.{c}", obj.app_label()))
            .collect();
        let mut want = p.result.clone();
        want.sort();
        report.cmp(&p.user, &p.object, &want, &got);
    }

    report.phase("get_users_with_perms");
    for h in &expected.users_with_perms {
        let obj = ObjectRef::parse(&h.object).unwrap();
        let got = store
            .object_holders(&h.perm, &obj, h.with_superusers, None)
            .await
            .unwrap();
        let field = format!("{} with_superusers={}", h.perm, h.with_superusers);
        report.cmp(&h.object, &field, &h.result, &got);
    }

    report.phase("get_objects_for_user");
    for o in &expected.objects {
        let (app, model) = ObjectRef::parse_model(&o.model).unwrap();
        let query = ObjectsQuery {
            any_perm: o.any_perm,
            use_groups: o.use_groups,
            with_superuser: o.with_superuser,
            accept_global_perms: o.accept_global_perms,
        };
        let got = answer(
            store
                .objects_for_user(&o.user, &o.perms, (&app, &model), query)
                .await
                .map(|mut pks| {
                    pks.sort_by(|a, b| (a.len(), a).cmp(&(b.len(), b)));
                    pks
                }),
        );
        let field = format!(
            "{} {:?} use_groups={} any_perm={} with_superuser={} accept_global_perms={}",
            o.model, o.perms, o.use_groups, o.any_perm, o.with_superuser, o.accept_global_perms
        );
        report.cmp(&o.user, &field, &o.result, &got);
    }
    eprintln!("{kind:?} seed {seed}: {} answers compared", report.compared);
    report.mismatches
}
