//! Django interoperability with a custom user model (`AUTH_USER_MODEL`).
//!
//! `interop/custom_user/scenario.py` migrates a fresh database with the project of
//! `interop/custom_user` (app `people`: `people.Account(AbstractUser)`, or app `staff`:
//! `staff.Person`, logging in by e-mail, without `is_staff`, or app `accounts`: `accounts.Member`
//! with a UUID primary key), builds a random scenario with
//! `get_user_model()` and writes Django's answers. Castellan opens the same database with the
//! matching [`UserModel`], first exactly as Django left it, then after adopting it with
//! `Store::migrate(&Registry::django_for(model))`, and must give every answer Django gave (permissions, groups, `has_perm`,
//! `has_perms`, `has_module_perms`, `ModelBackend().with_perm`, `authenticate`). Last, Castellan
//! creates a user with a password, a group grant and a direct grant, and
//! `interop/custom_user/check_castellan_user.py` must log it in and agree with its permissions.
//!
//! Skipped without `CASTELLAN_DJANGO_PYTHON` unless `CASTELLAN_REQUIRE_DJANGO=1`; the PostgreSQL
//! test needs `CASTELLAN_TEST_POSTGRES`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
mod interop;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use castellan_conformance::{Kind, TestDb};
use castellan_core::{Registry, UserModel, WithPerm};
use castellan_store::{NewUser, Store, StoreOptions};
use serde::Deserialize;

use interop::format::{GroupAnswers, WithPermAnswer};
use interop::{
    django_db_url, django_python, interop_hashers, run_script, snapshot, snapshot_diff, temp_path,
    Report,
};

/// scenario.py's output.
#[derive(Debug, Deserialize)]
struct Expected {
    user_model: String,
    username_field: String,
    permissions: Vec<String>,
    probe_permissions: Vec<String>,
    apps: Vec<String>,
    groups: Vec<GroupAnswers>,
    users: Vec<UserAnswers>,
    unknown_user_authenticates: bool,
    with_perm: Vec<WithPermAnswer>,
}

#[derive(Debug, Deserialize)]
struct UserAnswers {
    username: String,
    is_active: bool,
    is_superuser: bool,
    is_staff: bool,
    groups: Vec<String>,
    direct_grants: Vec<String>,
    user_permissions: Vec<String>,
    group_permissions: Vec<String>,
    all_permissions: Vec<String>,
    encoded: String,
    has_perm: BTreeMap<String, bool>,
    has_perms_pairs: Vec<(Vec<String>, bool)>,
    has_module_perms: BTreeMap<String, bool>,
    password: Option<String>,
    wrong_password: String,
    authenticate_right: bool,
    authenticate_wrong: bool,
}

/// check_castellan_user.py's output.
#[derive(Debug, Deserialize)]
struct DjangoView {
    authenticate_right: bool,
    authenticate_wrong: bool,
    full_clean: Option<String>,
    groups: Vec<String>,
    all_permissions: Vec<String>,
    has_perm: BTreeMap<String, bool>,
    has_module_perms: BTreeMap<String, bool>,
}

#[derive(Clone, Copy, Debug)]
enum App {
    People,
    Staff,
    Accounts,
}

impl App {
    fn name(self) -> &'static str {
        match self {
            App::People => "people",
            App::Staff => "staff",
            App::Accounts => "accounts",
        }
    }

    fn user_model(self) -> UserModel {
        match self {
            App::People => UserModel::parse("people.Account")
                .unwrap()
                .with_username_field("username")
                .unwrap(),
            App::Staff => UserModel::parse("staff.Person")
                .unwrap()
                .with_username_field("email")
                .unwrap(),
            App::Accounts => UserModel::parse("accounts.Member")
                .unwrap()
                .with_username_field("email")
                .unwrap(),
        }
    }
}

fn script(name: &str) -> String {
    let p: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../interop/custom_user")
        .join(name);
    p.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_user_people_sqlite() {
    custom_user(App::People, Kind::Sqlite, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_user_people_postgres() {
    custom_user(App::People, Kind::Postgres, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_user_staff_sqlite() {
    custom_user(App::Staff, Kind::Sqlite, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_user_accounts_uuid_sqlite() {
    custom_user(App::Accounts, Kind::Sqlite, 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_user_accounts_uuid_postgres() {
    custom_user(App::Accounts, Kind::Postgres, 5).await;
}

async fn custom_user(app: App, kind: Kind, seed: u64) {
    let Some(python) = django_python() else {
        return;
    };
    let Some(db) = TestDb::create(kind).await else {
        return;
    };
    let started = Instant::now();
    let context = format!("{} on {kind:?} seed {seed}", app.name());
    let expected_path = temp_path(&format!(
        "custom-user-{}-{kind:?}-{}-seed{seed}.json",
        app.name(),
        std::process::id()
    ));
    let env = vec![
        ("CUSTOM_USER_APP", app.name().to_owned()),
        ("INTEROP_DB", django_db_url(&db)),
    ];
    let args = vec![
        "--seed".to_owned(),
        seed.to_string(),
        "--out".to_owned(),
        expected_path.display().to_string(),
    ];
    let out = run_script(&python, &script("scenario.py"), args, env.clone()).await;
    eprintln!("{}", out.trim_end());
    let exp: Expected =
        serde_json::from_str(&std::fs::read_to_string(&expected_path).unwrap()).unwrap();
    let model = app.user_model();
    assert_eq!(exp.user_model, model.to_string());
    assert_eq!(exp.username_field, model.username_field());
    assert_eq!(
        exp.users.len(),
        16,
        "scenario.py wrote an unexpected number of users"
    );

    let mut rep = Report::new(&context);
    let untouched = snapshot(&db).await;
    let store = Store::connect_with(
        &db.url,
        StoreOptions {
            hashers: interop_hashers(),
            user_model: model,
            ..Default::default()
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{context}: cannot open the Django-made database: {e}"));

    // 1. The database exactly as Django left it.
    rep.phase("pure Django database");
    compare_everything(&store, &exp, &mut rep).await;
    let before = snapshot(&db).await;
    for (what, diff) in snapshot_diff(&untouched, &before) {
        rep.cmp(
            "<read>",
            &format!("Django's {what} unchanged by reading"),
            &"unchanged".to_owned(),
            &diff,
        );
    }

    // 2. Adopt it: Django's tables and rows must not change.
    // `Registry::django_for`: with a swapped user model, Django has no `auth.User` content type nor
    // permissions. (`Registry::django()` would create `auth|user` and its four permissions.)
    match store
        .migrate(&Registry::django_for(&app.user_model()))
        .await
    {
        Ok(report) => {
            rep.phase("adopting with migrate");
            rep.cmp("<migrate>", "report.adopted", &true, &report.adopted);
            rep.cmp(
                "<migrate>",
                "report.created_schema",
                &false,
                &report.created_schema,
            );
            rep.cmp(
                "<migrate>",
                "report.content_types_created",
                &0,
                &report.content_types_created,
            );
            rep.cmp(
                "<migrate>",
                "report.permissions_created",
                &0,
                &report.permissions_created,
            );
            let after = snapshot(&db).await;
            for (what, diff) in snapshot_diff(&before, &after) {
                rep.cmp(
                    "<migrate>",
                    &format!("Django's {what} unchanged"),
                    &"unchanged".to_owned(),
                    &diff,
                );
            }
            rep.phase("after migrate, cold cache");
            compare_everything(&store, &exp, &mut rep).await;
            rep.phase("after migrate, warm cache");
            compare_everything(&store, &exp, &mut rep).await;
        }
        Err(e) => rep.cmp(
            "<migrate>",
            "migrate succeeds",
            &"Ok".to_owned(),
            &format!("Err({e})"),
        ),
    }

    // 3. authenticate (writes: a right password on an md5 hash is upgraded).
    rep.phase("authenticate");
    for u in &exp.users {
        let right = u.password.as_deref().unwrap_or(&u.wrong_password);
        let got = store
            .authenticate(&u.username, right)
            .await
            .unwrap()
            .is_some();
        rep.cmp(
            &u.username,
            "authenticate(right password)",
            &u.authenticate_right,
            &got,
        );
        let got = store
            .authenticate(&u.username, &u.wrong_password)
            .await
            .unwrap()
            .is_some();
        rep.cmp(
            &u.username,
            "authenticate(wrong password)",
            &u.authenticate_wrong,
            &got,
        );
    }
    let got = store
        .authenticate("no-such-user@example.com", "whatever")
        .await
        .unwrap()
        .is_some();
    rep.cmp(
        "<unknown user>",
        "authenticate",
        &exp.unknown_user_authenticates,
        &got,
    );

    // 4. A user made by Castellan, checked by Django.
    rep.phase("Castellan-made user");
    castellan_made_user(app, &store, &python, &env, &exp, &mut rep).await;

    store.close().await;
    eprintln!(
        "{context}: {} comparisons, {} mismatch(es), {:.1}s",
        rep.compared,
        rep.mismatches.len(),
        started.elapsed().as_secs_f64()
    );
    if rep.mismatches.is_empty() {
        let _ = std::fs::remove_file(&expected_path);
    } else {
        eprintln!(
            "{context}: Django's answers are kept in {}",
            expected_path.display()
        );
    }
    assert!(
        rep.mismatches.is_empty(),
        "Castellan disagrees with Django in {} place(s):\n{}",
        rep.mismatches.len(),
        rep.mismatches.join("\n")
    );
}

async fn compare_everything(store: &Store, exp: &Expected, rep: &mut Report) {
    let mut perms: Vec<String> = store
        .permissions(None)
        .await
        .unwrap()
        .into_iter()
        .map(|p| format!("{}.{}", p.app_label, p.codename))
        .collect();
    perms.sort();
    perms.dedup();
    rep.cmp("<global>", "permissions", &exp.permissions, &perms);

    let names: Vec<String> = store
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    let mut want: Vec<String> = exp.users.iter().map(|u| u.username.clone()).collect();
    want.sort();
    let mut names_sorted = names.clone();
    names_sorted.sort();
    rep.cmp("<global>", "usernames", &want, &names_sorted);

    let mut groups = Vec::new();
    for g in store.groups().await.unwrap() {
        let d = store.group_detail(&g.name).await.unwrap();
        groups.push(GroupAnswers {
            name: d.name,
            permissions: d.permissions,
            members: d.members,
        });
    }
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    rep.cmp("<global>", "groups", &exp.groups, &groups);

    for eu in &exp.users {
        let who = eu.username.as_str();
        let Some(user) = store.user(who).await.unwrap() else {
            rep.cmp(who, "user exists", &true, &false);
            continue;
        };
        rep.cmp(who, "is_active", &eu.is_active, &user.is_active);
        rep.cmp(who, "is_superuser", &eu.is_superuser, &user.is_superuser);
        rep.cmp(who, "is_staff", &eu.is_staff, &user.is_staff);
        rep.cmp(who, "password column", &eu.encoded, &user.password);
        rep.cmp(
            who,
            "groups",
            &eu.groups,
            &store.user_groups(who).await.unwrap(),
        );
        let Some(p) = store.principal(who).await.unwrap() else {
            rep.cmp(who, "principal exists", &true, &false);
            continue;
        };
        rep.cmp(
            who,
            "direct_grants",
            &eu.direct_grants,
            &p.loaded().user().names(p.index()),
        );
        rep.cmp(
            who,
            "get_user_permissions",
            &eu.user_permissions,
            &p.get_user_permissions(),
        );
        rep.cmp(
            who,
            "get_group_permissions",
            &eu.group_permissions,
            &p.get_group_permissions(),
        );
        rep.cmp(
            who,
            "get_all_permissions",
            &eu.all_permissions,
            &p.get_all_permissions(),
        );
        for probe in &exp.probe_permissions {
            let want = eu.has_perm.get(probe).copied();
            rep.cmp(
                who,
                &format!("has_perm({probe:?})"),
                &want,
                &Some(p.has_perm(probe)),
            );
        }
        for (list, want) in &eu.has_perms_pairs {
            rep.cmp(
                who,
                &format!("has_perms({list:?})"),
                want,
                &p.has_perms(list),
            );
        }
        for app in &exp.apps {
            let want = eu.has_module_perms.get(app).copied();
            rep.cmp(
                who,
                &format!("has_module_perms({app:?})"),
                &want,
                &Some(p.has_module_perms(app)),
            );
        }
    }

    for e in &exp.with_perm {
        let who = format!(
            "with_perm({:?}, is_active={:?}, include_superusers={})",
            e.perm, e.is_active, e.include_superusers
        );
        let got = match WithPerm::new(&e.perm) {
            Ok(w) => {
                let w = w
                    .is_active(e.is_active)
                    .include_superusers(e.include_superusers);
                let mut names = store.with_perm(&w).await.unwrap();
                names.sort();
                (Some(names), None)
            }
            Err(_) => (None, Some("ValueError".to_owned())),
        };
        rep.cmp(
            &who,
            "usernames/error",
            &(e.usernames.clone(), e.error.clone()),
            &got,
        );
    }
}

async fn castellan_made_user(
    app: App,
    store: &Store,
    python: &Path,
    env: &[(&'static str, String)],
    exp: &Expected,
    rep: &mut Report,
) {
    let password = "Castellän made 🔑 pw".to_owned();
    let wrong = "castellän made 🔑 pw".to_owned();
    let (username, view_perm, new) = match app {
        App::People => {
            let name = "castellan_made";
            let new = NewUser {
                email: "Made@Example.COM".into(),
                password: Some(password.clone()),
                first_name: "Made".into(),
                is_staff: true,
                ..NewUser::new(name)
            };
            (name.to_owned(), "people.view_account", new)
        }
        App::Staff => {
            let name = "made.by.castellan@example.com";
            let new = NewUser {
                password: Some(password.clone()),
                fields: vec![("display_name".to_owned(), "Made by Castellan".to_owned())],
                ..NewUser::new(name)
            };
            (name.to_owned(), "staff.view_person", new)
        }
        App::Accounts => {
            let name = "made.by.castellan@example.com";
            let new = NewUser {
                password: Some(password.clone()),
                is_staff: true,
                fields: vec![
                    ("display_name".to_owned(), "Made by Castellan".to_owned()),
                    ("favourite_colour".to_owned(), "teal".to_owned()),
                ],
                ..NewUser::new(name)
            };
            (name.to_owned(), "accounts.view_member", new)
        }
    };
    if let Err(e) = store.create_user(new).await {
        rep.cmp(
            &username,
            "create_user succeeds",
            &"Ok".to_owned(),
            &format!("Err({e})"),
        );
        return;
    }
    let group = "Castellan crew".to_owned();
    store.create_group(&group).await.unwrap();
    store
        .grant_group(&group, &[view_perm.to_owned()])
        .await
        .unwrap();
    store
        .add_user_to_groups(&username, std::slice::from_ref(&group))
        .await
        .unwrap();
    store
        .grant_user(&username, &["reports.view_salesreport".to_owned()])
        .await
        .unwrap();

    let p = store.principal(&username).await.unwrap().unwrap();
    let probes: Vec<String> = exp.probe_permissions.clone();
    let args = vec![
        "--username".to_owned(),
        username.clone(),
        "--password".to_owned(),
        password.clone(),
        "--wrong".to_owned(),
        wrong,
        "--probes".to_owned(),
        serde_json::to_string(&probes).unwrap(),
    ];
    let out = run_script(
        python,
        &script("check_castellan_user.py"),
        args,
        env.to_vec(),
    )
    .await;
    let view: DjangoView = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("check_castellan_user.py printed {out:?}: {e}"));
    let who = username.as_str();
    rep.cmp(
        who,
        "Django authenticate(right password)",
        &true,
        &view.authenticate_right,
    );
    rep.cmp(
        who,
        "Django authenticate(wrong password)",
        &false,
        &view.authenticate_wrong,
    );
    rep.cmp(who, "Django full_clean() errors", &None, &view.full_clean);
    rep.cmp(who, "groups", &vec![group.clone()], &view.groups);
    rep.cmp(
        who,
        "get_all_permissions",
        &view.all_permissions,
        &p.get_all_permissions(),
    );
    for (perm, want) in &view.has_perm {
        rep.cmp(who, &format!("has_perm({perm:?})"), want, &p.has_perm(perm));
    }
    for (app_label, want) in &view.has_module_perms {
        rep.cmp(
            who,
            &format!("has_module_perms({app_label:?})"),
            want,
            &p.has_module_perms(app_label),
        );
    }
    let castellan_auth = store
        .authenticate(&username, &password)
        .await
        .unwrap()
        .is_some();
    rep.cmp(
        who,
        "Castellan authenticate(right password)",
        &true,
        &castellan_auth,
    );
}
