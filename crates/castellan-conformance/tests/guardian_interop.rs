//! Object permissions against real django-guardian 3.5.2 on Django 6.1.3, sharing one database.
//!
//! `interop/django/guardian_scenario.py` builds a random scenario with guardian (users active or
//! not, superusers, groups, global grants, books, articles and groups as objects, object grants
//! to users and groups, grants on objects that do not exist and on `"05"` for object 5) and writes
//! guardian's answers to `has_perms(perms, obj)` / any, `get_perms`, `get_users_with_perms` and
//! `get_objects_for_user` over
//! all sixteen flag combinations, errors included. Castellan opens the database as Django left
//! it and must give every answer. SQLite, PostgreSQL and MariaDB (Django through PyMySQL).
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

/// Django on MariaDB through PyMySQL (the venv's stand-in for mysqlclient).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guardian_made_database_mysql() {
    guardian_made(Kind::MySql, &[21]).await;
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

// ------------------------------------------------------------------------------------------------
// Castellan made the tables and the grants: Django with django-guardian installed must accept them.
// ------------------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct CheckedByGuardian {
    pending: Vec<String>,
    get_perms: Vec<PermsAnswer>,
    has_perm: Vec<HasPermAnswer>,
    objects: Vec<GroupObjectsAnswer>,
    assigned: HasPermAnswer,
}

#[derive(Deserialize)]
struct HasPermAnswer {
    user: String,
    object: String,
    perm: String,
    #[serde(default)]
    result: bool,
}

#[derive(Deserialize)]
struct GroupObjectsAnswer {
    user: String,
    perm: String,
    result: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn castellan_made_guardian_tables_sqlite() {
    castellan_made(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn castellan_made_guardian_tables_postgres() {
    castellan_made(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn castellan_made_guardian_tables_mysql() {
    castellan_made(Kind::MySql).await;
}

/// Castellan creates Django's schema and guardian's tables, users, groups and grants through its
/// API only; `interop/django/guardian_check.py` migrates (guardian's migrations must be recorded
/// already), asks guardian, and writes one grant through `assign_perm`, which Castellan then sees.
async fn castellan_made(kind: Kind) {
    let Some(python) = django_python() else {
        return;
    };
    let Some(db) = TestDb::create(kind).await else {
        return;
    };
    let store = Store::connect(&db.url).await.unwrap();
    store
        .migrate(&castellan_core::Registry::django())
        .await
        .unwrap();
    assert!(store.install_object_permissions().await.unwrap());
    for (name, active, superuser) in [
        ("ann", true, false),
        ("bob", true, false),
        ("cy", false, false),
        ("root", true, true),
    ] {
        let mut u = castellan_store::NewUser::new(name);
        u.is_active = active;
        u.is_superuser = superuser;
        store.create_user(u).await.unwrap();
    }
    for g in ["Desk", "Night", "Copy"] {
        store.create_group(g).await.unwrap();
    }
    let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    store
        .add_user_to_groups("bob", &s(&["Night"]))
        .await
        .unwrap();
    store
        .add_user_to_groups("cy", &s(&["Night"]))
        .await
        .unwrap();
    store
        .grant_user("bob", &s(&["auth.view_group"]))
        .await
        .unwrap();
    let group = |id: u32| ObjectRef::parse(&format!("auth.group:{id}")).unwrap();
    use castellan_store::ObjectHolder::{Group, User};
    store
        .grant_object_perms(
            User("ann"),
            &s(&["auth.change_group", "view_group"]),
            &group(1),
        )
        .await
        .unwrap();
    store
        .grant_object_perms(Group("Night"), &s(&["auth.change_group"]), &group(2))
        .await
        .unwrap();
    store
        .grant_object_perms(User("bob"), &s(&["auth.delete_group"]), &group(3))
        .await
        .unwrap();

    let path = temp_path(&format!("guardian-castellan-made-{kind:?}.json"));
    let env = vec![
        ("INTEROP_DB", django_db_url(&db)),
        ("INTEROP_APPS", "guardian".to_owned()),
    ];
    let out = run_script(
        &python,
        "guardian_check.py",
        vec!["--out".to_owned(), path.display().to_string()],
        env,
    )
    .await;
    eprintln!("{}", out.trim_end());
    let checked: CheckedByGuardian =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(
        checked.pending.iter().all(|m| !m.starts_with("guardian.")),
        "Django found guardian's migrations unapplied: {:?}",
        checked.pending
    );
    let mut report = Report::new(&format!("{kind:?} Castellan-made"));
    report.phase("get_perms");
    for p in &checked.get_perms {
        let obj = ObjectRef::parse(&p.object).unwrap();
        let got: Vec<String> = store
            .object_perms(&p.user, &obj)
            .await
            .unwrap()
            .into_iter()
            .map(|c| format!("auth.{c}"))
            .collect();
        report.cmp(&p.user, &p.object, &p.result, &got);
    }
    report.phase("has_perm(perm, obj)");
    for h in &checked.has_perm {
        let obj = ObjectRef::parse(&h.object).unwrap();
        let got = store
            .check_object_perms(&h.user, std::slice::from_ref(&h.perm), &obj, false)
            .await
            .unwrap();
        report.cmp(
            &h.user,
            &format!("{} {}", h.object, h.perm),
            &h.result,
            &got,
        );
    }
    report.phase("get_objects_for_user");
    for o in &checked.objects {
        let got = store
            .objects_for_user(
                &o.user,
                std::slice::from_ref(&o.perm),
                ("auth", "group"),
                ObjectsQuery::default(),
            )
            .await
            .unwrap();
        report.cmp(&o.user, &o.perm, &o.result, &got);
    }
    assert!(report.compared > 50, "too few answers compared");
    assert!(
        report.mismatches.is_empty(),
        "django-guardian disagrees with Castellan on the database Castellan made:\n{}",
        report.mismatches.join("\n")
    );
    // The grant guardian wrote is Castellan's next answer.
    let a = &checked.assigned;
    let obj = ObjectRef::parse(&a.object).unwrap();
    assert!(store
        .check_object_perms(&a.user, std::slice::from_ref(&a.perm), &obj, false)
        .await
        .unwrap());
}
