//! Django interoperability: Castellan and real Django 6.1.3 sharing one database.
//!
//! * `django_made_database_*`: `interop/django/scenario.py` builds a random scenario with Django (users,
//!   groups, grants, passwords of every hasher) and writes Django's answers. Castellan opens the same
//!   database, first exactly as Django left it, then after adopting it with `Store::migrate`, and must
//!   give every answer Django gave; adopting must not change a single row or column of Django's.
//! * `castellan_made_database_*`: Castellan creates and fills a database through its API only and writes
//!   its own answers; `interop/django/check_castellan_db.py` must accept the database (migrations,
//!   system checks, writes) and agree with every answer.
//! * `usernames_are_validated_like_django`: Castellan's username normalisation and validation against
//!   Django's `User.normalize_username` + `clean_fields`.
//!
//! The Python is named by `CASTELLAN_DJANGO_PYTHON` (see `scripts/django-venv.sh`). Unset: the tests
//! are skipped, unless `CASTELLAN_REQUIRE_DJANGO=1` (CI), which makes them fail. PostgreSQL tests also
//! need `CASTELLAN_TEST_POSTGRES` (see `castellan-conformance`). The format of the answers is described
//! in `interop/README.md`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod interop;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use castellan_conformance::{Kind, TestDb};
use castellan_core::hashers::{Hashers, Md5Hasher};
use castellan_core::{Backends, ModelSpec, Principal, Registry, WithPerm};
use castellan_store::{NewUser, Store, StoreOptions, UserChanges};

use interop::format::{Expected, GroupAnswers, PasswordAnswers, UserAnswers, WithPermAnswer};
use interop::prng::Prng;
use interop::{
    django_db_url, django_python, interop_hashers, run_script, snapshot, snapshot_diff, temp_path,
    verify_password, Report, EXTRA_APPS, EXTRA_PROBES, NONEXISTENT_PERM, WITH_PERM_COMBOS,
};

// ------------------------------------------------------------------------------------------------
// Django made the database: Castellan must give Django's answers.
// ------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn django_made_database_sqlite() {
    django_made(Kind::Sqlite, &[1, 2, 3], None, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn django_made_database_postgres() {
    django_made(Kind::Postgres, &[11, 12], None, false).await;
}

/// `DEFAULT_AUTO_FIELD = AutoField`: the ids of Django's through tables are `integer` on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn django_made_database_postgres_auto_field() {
    django_made(Kind::Postgres, &[21], Some("AutoField"), true).await;
}

/// Runs every seed (concurrently: most of the time is spent in Python, on one core each) and fails
/// with every mismatch of every seed. With `django_checks_adoption`, Django's own check also runs on
/// the first seed's database after Castellan adopted it.
async fn django_made(
    kind: Kind,
    seeds: &[u64],
    auto_field: Option<&'static str>,
    django_checks_adoption: bool,
) {
    let Some(python) = django_python() else {
        return;
    };
    let tasks: Vec<_> = seeds
        .iter()
        .enumerate()
        .map(|(n, &seed)| {
            let check = django_checks_adoption && n == 0;
            tokio::spawn(django_made_seed(
                kind,
                seed,
                auto_field,
                python.clone(),
                check,
            ))
        })
        .collect();
    let mut all_mismatches = Vec::new();
    for task in tasks {
        match task.await {
            Ok(mismatches) => all_mismatches.extend(mismatches),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("{e}"),
        }
    }
    assert!(
        all_mismatches.is_empty(),
        "Castellan disagrees with Django in {} place(s):\n{}",
        all_mismatches.len(),
        all_mismatches.join("\n")
    );
}

/// One seed: scenario.py, then Castellan on the pure Django database, adoption, and again; returns
/// the mismatches.
async fn django_made_seed(
    kind: Kind,
    seed: u64,
    auto_field: Option<&'static str>,
    python: std::path::PathBuf,
    django_checks_adoption: bool,
) -> Vec<String> {
    let Some(db) = TestDb::create(kind).await else {
        return Vec::new();
    };
    let started = Instant::now();
    let expected_path = temp_path(&format!("{}-django-seed{seed}.json", db_stem(&db)));
    let mut env = vec![
        ("INTEROP_DB", django_db_url(&db)),
        ("INTEROP_APPS", "full".to_owned()),
    ];
    if let Some(auto) = auto_field {
        env.push(("INTEROP_AUTO_FIELD", auto.to_owned()));
    }
    let args = vec![
        "--seed".to_owned(),
        seed.to_string(),
        "--out".to_owned(),
        expected_path.display().to_string(),
    ];
    let out = run_script(&python, "scenario.py", args, env.clone()).await;
    eprintln!("{}", out.trim_end());
    let expected: Expected =
        serde_json::from_str(&std::fs::read_to_string(&expected_path).unwrap()).unwrap();
    assert_eq!(
        expected.users.len(),
        40,
        "scenario.py wrote an unexpected number of users"
    );
    let t_scenario = started.elapsed();

    let context = format!(
        "{kind:?}{} seed {seed}",
        auto_field.map(|a| format!(" ({a})")).unwrap_or_default()
    );
    let mut report = Report::new(&context);
    let untouched = snapshot(&db).await;
    // Same PASSWORD_HASHERS as interop_settings.py: Django's default list, then md5.
    let store = Store::connect_with(
        &db.url,
        StoreOptions {
            hashers: interop_hashers(),
            ..Default::default()
        },
    )
    .await
    .unwrap_or_else(|e| panic!("cannot open the Django-made database {}: {e}", db.url));
    assert!(
        !store.caching(),
        "a pure Django database has no Castellan objects, so no caching"
    );

    // 1. The database exactly as Django left it (Castellan's migrate NOT run).
    report.phase("pure Django database");
    compare_everything(&store, &expected, &mut report).await;
    compare_passwords(&store, &expected, &mut report).await;
    let before = snapshot(&db).await;
    for (what, diff) in snapshot_diff(&untouched, &before) {
        let field = format!("Django's {what} unchanged by reading");
        report.cmp("<read>", &field, &"unchanged".to_owned(), &diff);
    }

    // 2. Adopt it. Django's tables must not change at all.
    let migrated = store
        .migrate(&Registry::django())
        .await
        .unwrap_or_else(|e| panic!("{context}: adopting the Django database failed: {e}"));
    let after = snapshot(&db).await;
    report.phase("adopting with migrate");
    report.cmp("<migrate>", "report.adopted", &true, &migrated.adopted);
    report.cmp(
        "<migrate>",
        "report.created_schema",
        &false,
        &migrated.created_schema,
    );
    report.cmp(
        "<migrate>",
        "report.content_types_created",
        &0,
        &migrated.content_types_created,
    );
    report.cmp(
        "<migrate>",
        "report.permissions_created",
        &0,
        &migrated.permissions_created,
    );
    for (what, diff) in snapshot_diff(&before, &after) {
        report.cmp(
            "<migrate>",
            &format!("Django's {what} unchanged"),
            &"unchanged".to_owned(),
            &diff,
        );
    }
    report.cmp(
        "<migrate>",
        "caching on after migrate",
        &true,
        &store.caching(),
    );

    // 3. Every answer again, with the cache cold and then warm.
    report.phase("after migrate, cold cache");
    compare_everything(&store, &expected, &mut report).await;
    report.cmp(
        "<cache>",
        "users cached after a pass",
        &true,
        &(store.cached_users() > 0),
    );
    report.phase("after migrate, warm cache");
    compare_everything(&store, &expected, &mut report).await;

    // 4. Django still works on the adopted database (with Castellan's triggers on its tables: the
    //    write probe) and still agrees with its own answers.
    if django_checks_adoption {
        let args = vec!["--expected".to_owned(), expected_path.display().to_string()];
        let out = run_script(&python, "check_castellan_db.py", args, env.clone()).await;
        eprintln!(
            "{context}: Django on the adopted database: {}",
            out.lines().last().unwrap_or("")
        );
        report.phase("after Django's check of the adopted database");
        compare_everything(&store, &expected, &mut report).await;
    }

    // 5. Last, because it writes: authenticate (a correct password on an outdated hash is re-hashed).
    report.phase("authenticate");
    compare_authenticate(&store, &expected, &mut report).await;

    store.close().await;
    eprintln!(
        "{context}: {} comparisons, {} mismatch(es) (scenario.py {:.1}s, total {:.1}s)",
        report.compared,
        report.mismatches.len(),
        t_scenario.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    if report.mismatches.is_empty() {
        let _ = std::fs::remove_file(&expected_path);
    } else {
        eprintln!(
            "{context}: Django's answers are kept in {}",
            expected_path.display()
        );
    }
    report.mismatches
}

fn db_stem(db: &TestDb) -> String {
    std::path::Path::new(&db.name)
        .file_stem()
        .map_or_else(|| db.name.clone(), |s| s.to_string_lossy().into_owned())
}

/// Everything but passwords: the global lists, groups, every user's answers, `with_perm`.
async fn compare_everything(store: &Store, exp: &Expected, rep: &mut Report) {
    let perms = permission_strings(store).await;
    rep.cmp("<global>", "permissions", &exp.permissions, &perms);

    let names: Vec<String> = store
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    let mut expected_names: Vec<String> = exp.users.iter().map(|u| u.username.clone()).collect();
    expected_names.sort();
    rep.cmp("<global>", "usernames", &expected_names, &names);

    if let Some(groups) = &exp.groups {
        let have = group_answers(store).await;
        let names: Vec<&String> = have.iter().map(|g| &g.name).collect();
        let want: Vec<&String> = groups.iter().map(|g| &g.name).collect();
        rep.cmp("<global>", "group names", &want, &names);
        for g in groups {
            if let Some(h) = have.iter().find(|h| h.name == g.name) {
                rep.cmp(
                    &format!("group {:?}", g.name),
                    "permissions",
                    &g.permissions,
                    &h.permissions,
                );
                rep.cmp(
                    &format!("group {:?}", g.name),
                    "members",
                    &g.members,
                    &h.members,
                );
            }
        }
    }

    let chain = Backends::default();
    for eu in &exp.users {
        let who = eu.username.as_str();
        let Some(user) = store.user(who).await.unwrap() else {
            rep.cmp(who, "exists", &true, &false);
            continue;
        };
        rep.cmp(who, "is_active", &eu.is_active, &user.is_active);
        rep.cmp(who, "is_superuser", &eu.is_superuser, &user.is_superuser);
        rep.cmp(who, "is_staff", &eu.is_staff, &user.is_staff);
        rep.cmp(
            who,
            "encoded (auth_user.password)",
            &eu.encoded,
            &user.password,
        );
        if let Some(groups) = &eu.groups {
            rep.cmp(
                who,
                "groups",
                groups,
                &store.user_groups(who).await.unwrap(),
            );
        }
        let Some(p) = store.principal(who).await.unwrap() else {
            rep.cmp(who, "principal exists", &true, &false);
            continue;
        };
        if let Some(direct) = &eu.direct_grants {
            rep.cmp(
                who,
                "direct_grants",
                direct,
                &p.loaded().user().names(p.index()),
            );
        }
        rep.cmp(
            who,
            "user_permissions",
            &eu.user_permissions,
            &p.get_user_permissions(),
        );
        rep.cmp(
            who,
            "group_permissions",
            &eu.group_permissions,
            &p.get_group_permissions(),
        );
        rep.cmp(
            who,
            "all_permissions",
            &eu.all_permissions,
            &p.get_all_permissions(),
        );
        let set = |s: std::collections::BTreeSet<String>| s.into_iter().collect::<Vec<_>>();
        rep.cmp(
            who,
            "chain.get_user_permissions",
            &eu.user_permissions,
            &set(chain.get_user_permissions(&p, None).unwrap()),
        );
        rep.cmp(
            who,
            "chain.get_group_permissions",
            &eu.group_permissions,
            &set(chain.get_group_permissions(&p, None).unwrap()),
        );
        rep.cmp(
            who,
            "chain.get_all_permissions",
            &eu.all_permissions,
            &set(chain.get_all_permissions(&p, None).unwrap()),
        );
        for probe in &exp.probe_permissions {
            let Some(&want) = eu.has_perm.get(probe) else {
                rep.cmp(
                    who,
                    &format!("has_perm[{probe:?}] in expected.json"),
                    &true,
                    &false,
                );
                continue;
            };
            rep.cmp(
                who,
                &format!("has_perm[{probe:?}]"),
                &want,
                &p.has_perm(probe),
            );
            rep.cmp(
                who,
                &format!("chain.has_perm[{probe:?}]"),
                &want,
                &chain.has_perm(&p, probe, None).unwrap(),
            );
        }
        for (list, want) in &eu.has_perms_pairs {
            rep.cmp(
                who,
                &format!("has_perms({list:?})"),
                want,
                &p.has_perms(list),
            );
            rep.cmp(
                who,
                &format!("chain.has_perms({list:?})"),
                want,
                &chain.has_perms(&p, list, None).unwrap(),
            );
        }
        for app in &exp.apps {
            let Some(&want) = eu.has_module_perms.get(app) else {
                rep.cmp(
                    who,
                    &format!("has_module_perms[{app:?}] in expected.json"),
                    &true,
                    &false,
                );
                continue;
            };
            rep.cmp(
                who,
                &format!("has_module_perms[{app:?}]"),
                &want,
                &p.has_module_perms(app),
            );
            rep.cmp(
                who,
                &format!("chain.has_module_perms[{app:?}]"),
                &want,
                &chain.has_module_perms(&p, app).unwrap(),
            );
        }
    }

    for e in &exp.with_perm {
        let who = format!(
            "with_perm({:?}, is_active={:?}, include_superusers={})",
            e.perm, e.is_active, e.include_superusers
        );
        let got = castellan_with_perm(store, &e.perm, e.is_active, e.include_superusers).await;
        rep.cmp(
            &who,
            "usernames/error",
            &(e.usernames.clone(), e.error.clone()),
            &(got.usernames, got.error),
        );
    }
}

/// `check_password` for the right and the wrong password, on the exact string Django stored.
async fn compare_passwords(store: &Store, exp: &Expected, rep: &mut Report) {
    let hashers = store.hashers().clone();
    let jobs: Vec<(String, Option<String>, String, String)> = exp
        .users
        .iter()
        .map(|u| {
            (
                u.username.clone(),
                u.password.clone(),
                u.wrong_password.clone(),
                u.encoded.clone(),
            )
        })
        .collect();
    // The default-cost hashes are slow: verify on the blocking pool.
    let results = tokio::task::spawn_blocking(move || {
        jobs.into_iter()
            .map(|(name, right, wrong, encoded)| {
                let r = verify_password(&hashers, right.as_deref(), &encoded);
                let w = verify_password(&hashers, Some(&wrong), &encoded);
                (name, r, w)
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for ((name, right, wrong), eu) in results.into_iter().zip(&exp.users) {
        rep.cmp(
            &name,
            &format!("check_password(right) on {}", short(&eu.encoded)),
            &eu.check_password.right,
            &right,
        );
        rep.cmp(
            &name,
            &format!("check_password(wrong) on {}", short(&eu.encoded)),
            &eu.check_password.wrong,
            &wrong,
        );
    }
}

fn short(encoded: &str) -> String {
    let algorithm = if encoded.starts_with('!') {
        "!<unusable>"
    } else if encoded.is_empty() {
        "<empty>"
    } else {
        encoded.split('$').next().unwrap_or("")
    };
    format!("{algorithm}…")
}

/// `authenticate(username, password)` for a bounded subset of users: the first user of every stored
/// hash kind, and the first active and inactive users whose password is right. Also checks that the
/// hash was upgraded exactly when Django would have upgraded it.
async fn compare_authenticate(store: &Store, exp: &Expected, rep: &mut Report) {
    let mut picked: Vec<&UserAnswers> = Vec::new();
    let mut kinds = BTreeSet::new();
    for u in &exp.users {
        if kinds.insert(short(&u.encoded)) {
            picked.push(u);
        }
    }
    for active in [true, false] {
        if let Some(u) = exp
            .users
            .iter()
            .find(|u| u.is_active == active && u.check_password.right)
        {
            if !picked.iter().any(|p| p.username == u.username) {
                picked.push(u);
            }
        }
    }
    for u in picked {
        // A user with an unusable password has no right password: any password must fail.
        let password = u.password.as_deref().unwrap_or(&u.wrong_password);
        let got = store.authenticate(&u.username, password).await.unwrap();
        rep.cmp(
            &u.username,
            &format!("authenticate on {}", short(&u.encoded)),
            &u.authenticate,
            &got.is_some(),
        );
        let now = store
            .user(&u.username)
            .await
            .unwrap()
            .map(|u| u.password)
            .unwrap_or_default();
        // Django re-hashes a correct password unless it already is pbkdf2_sha256 at the current cost.
        let django_upgrades =
            u.check_password.right && !u.encoded.starts_with("pbkdf2_sha256$1500000$");
        rep.cmp(
            &u.username,
            &format!("hash upgraded by authenticate on {}", short(&u.encoded)),
            &django_upgrades,
            &(now != u.encoded),
        );
        if now != u.encoded {
            rep.cmp(
                &u.username,
                "upgraded hash is pbkdf2_sha256$1500000$…",
                &true,
                &now.starts_with("pbkdf2_sha256$1500000$"),
            );
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Castellan made the database: Django must accept it and give Castellan's answers.
// ------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn castellan_made_database_sqlite() {
    castellan_made(Kind::Sqlite, 101).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn castellan_made_database_postgres() {
    castellan_made(Kind::Postgres, 202).await;
}

async fn castellan_made(kind: Kind, seed: u64) {
    let Some(python) = django_python() else {
        return;
    };
    let Some(db) = TestDb::create(kind).await else {
        return;
    };
    let started = Instant::now();
    // Django's default hashers (pbkdf2_sha256 preferred) plus md5, as interop_settings.py has them.
    let store = Store::connect_with(
        &db.url,
        StoreOptions {
            hashers: interop_hashers(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // A second store on the same database whose preferred hasher is md5: most users get cheap hashes,
    // because Django's check verifies every password (and hashes at default cost for unusable ones).
    let cheap = Store::connect_with(
        &db.url,
        StoreOptions {
            hashers: Hashers::new(vec![Box::new(Md5Hasher)]).unwrap(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let migrated = store.migrate(&Registry::django()).await.unwrap();
    assert!(migrated.created_schema, "{migrated:?}");
    let mut rng = Prng::new(seed);
    let passwords = build_scenario(&store, &cheap, &mut rng).await;
    cheap.close().await;
    let t_build = started.elapsed();
    let expected = castellan_answers(&store, &passwords, &mut rng, kind, seed).await;
    assert_eq!(expected.users.len(), passwords.len());
    let t_answers = started.elapsed();

    let path = temp_path(&format!("{}-castellan-seed{seed}.json", db_stem(&db)));
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&expected).unwrap() + "\n",
    )
    .unwrap();
    let env = vec![
        ("INTEROP_DB", django_db_url(&db)),
        ("INTEROP_APPS", "core".to_owned()),
    ];
    let out = run_script(
        &python,
        "check_castellan_db.py",
        vec!["--expected".into(), path.display().to_string()],
        env,
    )
    .await;
    eprintln!("{}", out.trim_end());
    eprintln!(
        "{kind:?} seed {seed}: Castellan-made database: {} users, {} permissions, {} with_perm entries accepted by Django \
         (build {:.1}s, answers {:.1}s, total {:.1}s)",
        expected.users.len(),
        expected.permissions.len(),
        expected.with_perm.len(),
        t_build.as_secs_f64(),
        (t_answers - t_build).as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_file(&path);
    store.close().await;
}

/// Usernames for the Castellan-made scenario (valid under Django's `UnicodeUsernameValidator` after
/// NFKC), including compatibility characters that NFKC changes.
const NAME_STEMS: &[&str] = &[
    "alice",
    "bob",
    "carol",
    "Eve",
    "zoë",
    "jürgen",
    "łukasz",
    "мария",
    "Иван",
    "李雷",
    "ørsted",
    "straße",
    "ñandú",
    "Ωmega",
    "ÆØÅ",
    "θεά",
    "Ναυσικά",
    "hélène",
    "user@example.com",
    "first.last",
    "plus+tag",
    "dash-name",
    "under_score",
    "x.y@z+w-v_u",
    "ǆungla",
    "سارة",
    "नमन",
    "日本",
    "Łódź",
    "ﬁle",
    "ｆｕｌｌ",
    "Ⅻ",
];
const GROUP_NAMES: &[&str] = &[
    "Editors",
    "Night shift",
    "Rédaction",
    "Библиотекари",
    "图书管理员",
    " leading space",
    "trailing space ",
    "a.b",
    "with/slash",
    "emoji 📚 club",
    "Staff",
    "staff",
    "Mañana crew",
    "Ärzte & Ärztinnen",
    "groupe-α",
];
const PASSWORD_CHARS: &str =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#%&*()-_=+[]{};:,.<>/? \
                              äöüßéèçñøåłżźœæ€£¥§°µΩπσжщюяあいう漢字🔑";

fn random_password(rng: &mut Prng) -> String {
    let chars: Vec<char> = PASSWORD_CHARS.chars().collect();
    (0..rng.range(1, 24)).map(|_| *rng.pick(&chars)).collect()
}

fn wrong_for(rng: &mut Prng, pw: &str) -> String {
    let swapped: String = pw
        .chars()
        .map(|c| {
            if c.is_uppercase() {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                c.to_uppercase().next().unwrap_or(c)
            }
        })
        .collect();
    let candidates: Vec<String> = [
        format!("{pw}x"),
        format!(" {pw}"),
        format!("{pw} "),
        swapped,
        random_password(rng),
    ]
    .into_iter()
    .filter(|c| c != pw)
    .collect();
    rng.pick(&candidates).clone()
}

struct Built {
    /// By username, as stored.
    users: BTreeMap<String, BuiltUser>,
}

#[derive(Clone)]
struct BuiltUser {
    /// The right password; `None` when unusable.
    password: Option<String>,
    wrong: String,
    /// "default" (pbkdf2_sha256 at Django's cost), "md5" or "unusable".
    kind: &'static str,
}

impl Built {
    fn len(&self) -> usize {
        self.users.len()
    }
}

/// A random scenario made through the Store API only.
async fn build_scenario(store: &Store, cheap: &Store, rng: &mut Prng) -> Built {
    // A model of an app Django does not have installed (its rows must not disturb Django), then
    // permissions created at run time, one of them on a content type created for it.
    let registry = Registry::django()
        .with_model(
            ModelSpec::new("library", "LoanRecord")
                .with_permission("can_renew_loan", "Can renew loan"),
        )
        .unwrap();
    store.ensure_models(&registry).await.unwrap();
    for (perm, model, name) in [
        ("auth.can_impersonate", "user", "Can impersonate user"),
        (
            "contenttypes.can_inspect_contenttype",
            "contenttype",
            "Can inspect content type",
        ),
        (
            "reports.view_salesreport",
            "SalesReport",
            "Can view sales report",
        ),
        (
            "reports.export_salesreport",
            "salesreport",
            "Can export sales report",
        ),
    ] {
        store.create_permission(perm, model, name).await.unwrap();
    }
    let perms = permission_strings(store).await;

    // Groups, one of them deleted again later (with its grants and memberships).
    let mut group_names: Vec<String> = GROUP_NAMES.iter().map(|s| (*s).to_owned()).collect();
    group_names.push("x".repeat(150));
    rng.shuffle(&mut group_names);
    group_names.truncate(8);
    for g in &group_names {
        match store.create_group(g).await {
            Ok(_) => {}
            // Castellan refuses a look-alike of an existing group (`staff` beside `Staff`); Django
            // does not, so the database gets it as Django (or SQL) would write it.
            Err(castellan_store::Error::AlreadyExists { message, .. })
                if message.contains("looks the same") =>
            {
                let sql = format!(
                    "INSERT INTO auth_group (name) VALUES ('{}')",
                    g.replace('\'', "''")
                );
                store.execute_raw(&sql).await.unwrap();
            }
            Err(e) => panic!("create_group({g:?}): {e}"),
        }
    }
    let doomed_group = "doomed group ✗";
    store.create_group(doomed_group).await.unwrap();
    store
        .grant_group(doomed_group, &rng.sample(&perms, 5))
        .await
        .unwrap();

    // Users: random flags; four with default-cost pbkdf2_sha256 passwords, three unusable, the rest
    // md5 (made by the store whose preferred hasher is md5).
    let n_users = 24;
    let mut stems: Vec<String> = NAME_STEMS.iter().map(|s| (*s).to_owned()).collect();
    stems.push("ü".repeat(150));
    rng.shuffle(&mut stems);
    let mut kinds: Vec<&str> = [["default"; 4].as_slice(), &["unusable"; 3]].concat();
    kinds.resize(n_users, "md5");
    rng.shuffle(&mut kinds);
    let mut built = Built {
        users: BTreeMap::new(),
    };
    let mut names = Vec::new();
    let mut folded = BTreeSet::new();
    let mut i = 0;
    while names.len() < n_users {
        let stem = &stems[i % stems.len()];
        let raw = if i < stems.len() {
            stem.clone()
        } else {
            format!("{stem}{}{i}", rng.pick(&["", ".", "_", "-", "+", "@"]))
        };
        i += 1;
        let normalized = castellan_core::validators::normalize_username(&raw);
        if normalized.chars().count() > 150 || !folded.insert(normalized.to_lowercase()) {
            continue;
        }
        let k = names.len();
        let password = (kinds[k] != "unusable").then(|| random_password(rng));
        let wrong = match &password {
            Some(pw) => wrong_for(rng, pw),
            None => random_password(rng),
        };
        let maker = if kinds[k] == "md5" { cheap } else { store };
        let user = maker
            .create_user(NewUser {
                username: raw.clone(),
                email: if rng.chance(0.5) {
                    format!("u{k}@Example.COM")
                } else {
                    String::new()
                },
                password: password.clone(),
                first_name: (*rng.pick(&["", "Ada", "Zoë"])).to_owned(),
                last_name: String::new(),
                is_staff: rng.chance(0.3),
                is_superuser: rng.chance(0.15),
                is_active: rng.chance(0.8),
                fields: Vec::new(),
            })
            .await
            .unwrap_or_else(|e| panic!("create_user({raw:?}): {e}"));
        assert_eq!(user.username, normalized);
        let kind = kinds[k];
        built.users.insert(
            user.username.clone(),
            BuiltUser {
                password,
                wrong,
                kind,
            },
        );
        names.push(user.username);
    }

    // Fixed corner cases: active superuser, inactive superuser, inactive user with grants, an active
    // user with grants of every odd kind, an active user with nothing at all.
    for (k, active, superuser) in [
        (0, true, true),
        (1, false, true),
        (2, false, false),
        (3, true, false),
        (4, true, false),
    ] {
        let changes = UserChanges {
            is_active: Some(active),
            is_superuser: Some(superuser),
            ..Default::default()
        };
        store.update_user(&names[k], changes).await.unwrap();
    }

    for g in &group_names {
        let k = rng.range(0, 8);
        if k > 0 {
            store.grant_group(g, &rng.sample(&perms, k)).await.unwrap();
        }
    }
    store
        .grant_group(&group_names[0], &["reports.view_salesreport".to_owned()])
        .await
        .unwrap();
    for name in &names[5..] {
        if rng.chance(0.6) {
            let k = rng.range(1, 6);
            store
                .grant_user(name, &rng.sample(&perms, k))
                .await
                .unwrap();
        }
        if rng.chance(0.7) {
            let k = rng.range(1, 4);
            store
                .add_user_to_groups(name, &rng.sample(&group_names, k))
                .await
                .unwrap();
        }
        if rng.chance(0.25) {
            store
                .add_user_to_groups(name, &[doomed_group.to_owned()])
                .await
                .unwrap();
        }
    }
    let strs = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    store
        .grant_user(
            &names[2],
            &strs(&["auth.can_impersonate", "reports.view_salesreport"]),
        )
        .await
        .unwrap();
    store
        .add_user_to_groups(
            &names[2],
            &[group_names[0].clone(), doomed_group.to_owned()],
        )
        .await
        .unwrap();
    store
        .grant_user(
            &names[3],
            &strs(&[
                "library.can_renew_loan",
                "contenttypes.can_inspect_contenttype",
                "reports.export_salesreport",
            ]),
        )
        .await
        .unwrap();
    store
        .add_user_to_groups(&names[3], &[group_names[0].clone()])
        .await
        .unwrap();

    // Take some of it back: revocations, a removed membership, a deleted group and a deleted user.
    store
        .revoke_user(&names[3], &strs(&["reports.export_salesreport"]))
        .await
        .unwrap();
    store
        .grant_user(&names[6], &strs(&["auth.add_user", "auth.view_user"]))
        .await
        .unwrap();
    store
        .revoke_user(&names[6], &strs(&["auth.add_user"]))
        .await
        .unwrap();
    store
        .add_user_to_groups(&names[7], &[group_names[1].clone()])
        .await
        .unwrap();
    store
        .remove_user_from_groups(&names[7], &[group_names[1].clone()])
        .await
        .unwrap();
    store
        .grant_group(
            &group_names[2],
            &strs(&["auth.change_group", "auth.delete_group"]),
        )
        .await
        .unwrap();
    store
        .revoke_group(&group_names[2], &strs(&["auth.delete_group"]))
        .await
        .unwrap();
    store.delete_group(doomed_group).await.unwrap();
    store
        .create_user(NewUser::new("doomed.user"))
        .await
        .unwrap();
    store
        .grant_user("doomed.user", &strs(&["auth.add_group"]))
        .await
        .unwrap();
    store
        .add_user_to_groups("doomed.user", &[group_names[0].clone()])
        .await
        .unwrap();
    store.delete_user("doomed.user").await.unwrap();

    // Password changes: an md5 password replaced, a usable password made unusable.
    let changed = built
        .users
        .iter()
        .find(|(_, u)| u.kind == "md5")
        .map(|(n, _)| n.clone())
        .unwrap();
    let new_pw = random_password(rng);
    cheap.set_password(&changed, Some(&new_pw)).await.unwrap();
    let user = built.users.get_mut(&changed).unwrap();
    user.wrong = wrong_for(rng, &new_pw);
    user.password = Some(new_pw);
    let disabled = built
        .users
        .iter()
        .rev()
        .find(|(_, u)| u.kind == "md5")
        .map(|(n, _)| n.clone())
        .unwrap();
    store.set_password(&disabled, None).await.unwrap();
    let user = built.users.get_mut(&disabled).unwrap();
    user.password = None;
    user.kind = "unusable";
    built
}

/// Castellan's answers, in the harness's expected.json format.
async fn castellan_answers(
    store: &Store,
    built: &Built,
    rng: &mut Prng,
    kind: Kind,
    seed: u64,
) -> Expected {
    let perms = permission_strings(store).await;
    let mut probes: BTreeSet<String> = perms.iter().cloned().collect();
    probes.extend(EXTRA_PROBES.iter().map(|s| (*s).to_owned()));
    let probes: Vec<String> = probes.into_iter().collect();
    let mut apps: BTreeSet<String> = store
        .permissions(None)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.app_label)
        .collect();
    apps.extend(EXTRA_APPS.iter().map(|s| (*s).to_owned()));
    let apps: Vec<String> = apps.into_iter().collect();

    // authenticate first (it re-hashes md5 passwords, and `encoded` must be what is stored afterwards):
    // every default-cost password, two md5 ones and one unusable.
    let mut authenticated = BTreeMap::new();
    let mut asked: BTreeMap<&str, usize> = BTreeMap::new();
    for (name, u) in &built.users {
        let n = asked.entry(u.kind).or_default();
        *n += 1;
        if (u.kind == "md5" && *n > 2) || (u.kind == "unusable" && *n > 1) {
            continue;
        }
        let attempt = u.password.as_deref().unwrap_or(&u.wrong);
        authenticated.insert(
            name.clone(),
            store.authenticate(name, attempt).await.unwrap().is_some(),
        );
    }

    let mut users = Vec::new();
    for user in store.users().await.unwrap() {
        let name = user.username.clone();
        let BuiltUser {
            password: right,
            wrong,
            ..
        } = built
            .users
            .get(&name)
            .cloned()
            .unwrap_or_else(|| panic!("unknown user {name:?} in the database"));
        let p: Principal = store.principal(&name).await.unwrap().unwrap();
        let all = p.get_all_permissions();
        let mine: Vec<String> = if user.is_active {
            all.clone()
        } else {
            Vec::new()
        };
        let lists: Vec<Vec<String>> = vec![
            Vec::new(),
            {
                let k = rng.range(1, 3);
                rng.sample(&probes, k)
            },
            if mine.is_empty() {
                rng.sample(&perms, 2)
            } else {
                mine.iter().take(4).cloned().collect()
            },
            mine.iter()
                .take(2)
                .cloned()
                .chain(["bookshelf.nonexistent".to_owned()])
                .collect(),
            rng.sample(&perms, 2),
        ];
        let encoded = user.password.clone();
        let (r, w) = {
            let (hashers, right, wrong, encoded) = (
                store.hashers().clone(),
                right.clone(),
                wrong.clone(),
                encoded.clone(),
            );
            tokio::task::spawn_blocking(move || {
                (
                    verify_password(&hashers, right.as_deref(), &encoded),
                    verify_password(&hashers, Some(&wrong), &encoded),
                )
            })
            .await
            .unwrap()
        };
        let authenticate = match authenticated.get(&name) {
            Some(&a) => a,
            // Not asked (an unusable password, like the ones asked): what authenticate answers by definition.
            None => r && user.is_active,
        };
        users.push(UserAnswers {
            username: name.clone(),
            is_active: user.is_active,
            is_superuser: user.is_superuser,
            is_staff: user.is_staff,
            groups: Some(store.user_groups(&name).await.unwrap()),
            direct_grants: Some(p.loaded().user().names(p.index())),
            user_permissions: p.get_user_permissions(),
            group_permissions: p.get_group_permissions(),
            all_permissions: all,
            has_perm: probes.iter().map(|q| (q.clone(), p.has_perm(q))).collect(),
            has_perms_pairs: lists
                .into_iter()
                .map(|l| {
                    let ok = p.has_perms(&l);
                    (l, ok)
                })
                .collect(),
            has_module_perms: apps
                .iter()
                .map(|a| (a.clone(), p.has_module_perms(a)))
                .collect(),
            password: right,
            wrong_password: wrong,
            encoded,
            check_password: PasswordAnswers { right: r, wrong: w },
            authenticate,
        });
    }

    let mut with_perm = Vec::new();
    for perm in perms.iter().map(String::as_str).chain([NONEXISTENT_PERM]) {
        for (is_active, include_superusers) in WITH_PERM_COMBOS {
            with_perm.push(castellan_with_perm(store, perm, is_active, include_superusers).await);
        }
    }
    Expected {
        django_version: None,
        seed: Some(seed),
        interop_apps: Some("core".to_owned()),
        database_vendor: Some(match kind {
            Kind::Sqlite => "sqlite".to_owned(),
            Kind::Postgres => "postgresql".to_owned(),
            Kind::MySql => "mysql".to_owned(),
        }),
        permissions: perms,
        probe_permissions: probes,
        apps,
        groups: Some(group_answers(store).await),
        users,
        with_perm,
    }
}

// ------------------------------------------------------------------------------------------------
// Usernames.
// ------------------------------------------------------------------------------------------------

/// Castellan's `normalize_username` + `validate_username` against Django's `normalize_username` +
/// `clean_fields` (blank, max_length 150, `UnicodeUsernameValidator`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usernames_are_validated_like_django() {
    let Some(python) = django_python() else {
        return;
    };
    let mut candidates: Vec<String> = NAME_STEMS.iter().map(|s| (*s).to_owned()).collect();
    candidates.extend(
        [
            "",
            " ",
            "a b",
            "tab\there",
            "a/b",
            "a'b",
            "a,b",
            "a:b",
            "email@",
            "@",
            ".",
            "..",
            "+",
            "-",
            "_",
            "²",
            "٣",
            "〇",
            "ª",
            "ǅ",
            "한국어",
            "ไทย",
            "กิน",
            "हिन्दी",
            "का",
            "কাজ",
            "தமிழ்",
            "e\u{301}",
            "a\u{300}\u{301}",
            "\u{301}",
            "x\u{200d}y",
            "x\u{200b}y",
            "zero\u{0}byte",
            "Ⅷ",
            "½",
            "①",
            "ℌ",
            "µ",
            "İstanbul",
            "ß",
            "ﬀ",
            "ǈ",
            "🙂",
            "a🙂",
            "ａｂｃ１２３",
            "Ａ＠Ｂ",
        ]
        .iter()
        .map(|s| (*s).to_owned()),
    );
    candidates.push("x".repeat(150));
    candidates.push("x".repeat(151));
    candidates.push("ü".repeat(150));
    candidates.push("ﬁ".repeat(75)); // 75 characters, 150 after NFKC
    candidates.push("ﬁ".repeat(76)); // 152 after NFKC
    let input = temp_path(&format!("usernames-{}.json", std::process::id()));
    std::fs::write(&input, serde_json::to_string(&candidates).unwrap()).unwrap();
    let code = r#"
import json, sys
import interop_common
interop_common.setup_django()
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
User = get_user_model()
others = [f.name for f in User._meta.fields if f.name != "username"]
out = []
for raw in json.load(open(sys.argv[1], encoding="utf-8")):
    name = User.normalize_username(raw)
    try:
        User(username=name).clean_fields(exclude=others)
        ok = True
    except ValidationError:
        ok = False
    out.append([name, ok])
print(json.dumps(out, ensure_ascii=True))
"#;
    let env = vec![(
        "INTEROP_DB",
        format!("sqlite:{}", temp_path("usernames-unused.sqlite3").display()),
    )];
    let out = run_script(
        &python,
        "-c",
        vec![code.to_owned(), input.display().to_string()],
        env,
    )
    .await;
    let _ = std::fs::remove_file(&input);
    let django: Vec<(String, bool)> = serde_json::from_str(out.trim()).unwrap();
    let mut rep = Report::new("usernames");
    rep.phase("normalize + validate");
    for (raw, (d_name, d_ok)) in candidates.iter().zip(django) {
        let name = castellan_core::validators::normalize_username(raw);
        let ok = castellan_core::validators::validate_username(&name).is_ok();
        rep.cmp(&format!("{raw:?}"), "normalized", &d_name, &name);
        rep.cmp(&format!("{raw:?}"), "valid", &d_ok, &ok);
    }
    assert!(
        rep.mismatches.is_empty(),
        "Castellan validates usernames differently from Django in {} place(s):\n{}",
        rep.mismatches.len(),
        rep.mismatches.join("\n")
    );
}

// ------------------------------------------------------------------------------------------------
// Shared pieces.
// ------------------------------------------------------------------------------------------------

/// Sorted distinct `app_label.codename` strings of every permission row.
async fn permission_strings(store: &Store) -> Vec<String> {
    let set: BTreeSet<String> = store
        .permissions(None)
        .await
        .unwrap()
        .into_iter()
        .map(|p| format!("{}.{}", p.app_label, p.codename))
        .collect();
    set.into_iter().collect()
}

async fn group_answers(store: &Store) -> Vec<GroupAnswers> {
    let mut out = Vec::new();
    for g in store.groups().await.unwrap() {
        let d = store.group_detail(&g.name).await.unwrap();
        out.push(GroupAnswers {
            name: d.name,
            permissions: d.permissions,
            members: d.members,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

async fn castellan_with_perm(
    store: &Store,
    perm: &str,
    is_active: Option<bool>,
    include_superusers: bool,
) -> WithPermAnswer {
    let (usernames, error) = match WithPerm::new(perm) {
        Ok(w) => (
            Some(
                store
                    .with_perm(
                        &w.is_active(is_active)
                            .include_superusers(include_superusers),
                    )
                    .await
                    .unwrap(),
            ),
            None,
        ),
        Err(_) => (None, Some("ValueError".to_owned())),
    };
    WithPermAnswer {
        perm: perm.to_owned(),
        is_active,
        include_superusers,
        usernames,
        error,
    }
}
