//! Helpers of the Django interop tests: running the Python harness, the JSON format, comparing and
//! reporting, a seeded PRNG and raw snapshots of Django's tables.

pub(crate) mod format;
pub(crate) mod prng;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::process::Command;

use castellan_conformance::{Kind, TestDb};
use castellan_core::hashers::{
    is_password_usable, Argon2Hasher, BcryptHasher, Hashers, Md5Hasher, Pbkdf2Hasher, ScryptHasher,
};
use sqlx::Row;

/// Made-up permission strings probed besides every real one (interop_common.EXTRA_PROBES).
pub(crate) const EXTRA_PROBES: [&str; 13] = [
    "bookshelf.nonexistent",
    "add_book",
    "Bookshelf.add_book",
    "",
    "a.b.c",
    "auth.add_user ",
    " auth.add_user",
    "auth.ADD_USER",
    "auth.",
    ".add_user",
    "auth..add_user",
    "reports",
    "reports.export",
];
/// Made-up app labels probed besides every real one (interop_common.EXTRA_APPS).
pub(crate) const EXTRA_APPS: [&str; 5] = ["Auth", "nonexistent", "", "auth.", "reports.export"];
/// A permission that exists nowhere (interop_common.NONEXISTENT_PERM).
pub(crate) const NONEXISTENT_PERM: &str = "auth.nonexistent_perm";
/// is_active × include_superusers, in the harness's order.
pub(crate) const WITH_PERM_COMBOS: [(Option<bool>, bool); 6] = [
    (Some(true), true),
    (Some(true), false),
    (Some(false), true),
    (Some(false), false),
    (None, true),
    (None, false),
];

/// The Python of the Django venv, from `CASTELLAN_DJANGO_PYTHON`; `None` (skip) when unset, unless
/// `CASTELLAN_REQUIRE_DJANGO=1`, which makes the test fail.
pub(crate) fn django_python() -> Option<PathBuf> {
    match std::env::var("CASTELLAN_DJANGO_PYTHON") {
        Ok(p) if !p.is_empty() => {
            let path = PathBuf::from(&p);
            // A relative path is relative to where the tests were started; the scripts run elsewhere.
            // (Not canonicalised: that would resolve a venv's python symlink to the bare interpreter.)
            if path.is_relative() && path.components().count() > 1 {
                Some(std::env::current_dir().unwrap().join(path))
            } else {
                Some(path)
            }
        }
        _ if std::env::var("CASTELLAN_REQUIRE_DJANGO").is_ok_and(|v| v == "1") => panic!(
            "CASTELLAN_DJANGO_PYTHON is not set but CASTELLAN_REQUIRE_DJANGO=1: set it to the python of \
             `scripts/django-venv.sh` (PY=$(scripts/django-venv.sh | tail -n1))"
        ),
        _ => {
            eprintln!(
                "skipping Django interop test: set CASTELLAN_DJANGO_PYTHON to the python printed by scripts/django-venv.sh"
            );
            None
        }
    }
}

/// `interop/django` of this repository.
pub(crate) fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop/django")
}

/// A file in the tests' temporary directory.
pub(crate) fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join("castellan-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// The database as `INTEROP_DB` names it.
pub(crate) fn django_db_url(db: &TestDb) -> String {
    match db.kind() {
        Kind::Sqlite => format!("sqlite:{}", db.name),
        _ => db.url.clone(),
    }
}

/// Runs `python <script> <args…>` in `interop/django` with `env` (and none of the caller's `INTEROP_*`
/// variables). Returns stdout; panics with stdout and stderr when the script fails.
pub(crate) async fn run_script(
    python: &Path,
    script: &str,
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
) -> String {
    let (python, script_name) = (python.to_owned(), script.to_owned());
    let shown = format!(
        "{} {script} {}",
        python.display(),
        if script == "-c" { "<code> …" } else { "" }
    );
    let described = format!(
        "{shown} {:?} with {env:?}",
        if script == "-c" {
            &args[1..]
        } else {
            &args[..]
        }
    );
    let output = tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(&python);
        cmd.current_dir(interop_dir()).arg(&script_name).args(&args);
        for var in [
            "INTEROP_DB",
            "INTEROP_APPS",
            "INTEROP_AUTO_FIELD",
            "DJANGO_SETTINGS_MODULE",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONIOENCODING", "utf-8");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output()
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("cannot run {described}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        panic!(
            "{described} failed ({}):\n----- stdout -----\n{stdout}\n----- stderr -----\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    stdout
}

/// interop_settings.PASSWORD_HASHERS: Django 6.1's default list in its order, then md5.
pub(crate) fn interop_hashers() -> Hashers {
    Hashers::new(vec![
        Box::new(Pbkdf2Hasher::sha256()),
        Box::new(Pbkdf2Hasher::sha1()),
        Box::new(Argon2Hasher::new()),
        Box::new(BcryptHasher::sha256()),
        Box::new(ScryptHasher::new()),
        Box::new(Md5Hasher),
    ])
    .unwrap()
}

/// `Hashers::check_password(password, encoded, rng).valid`, without the RNG (this crate cannot name
/// `rand_core`): the same decision, minus the timing-equalising dummy hash of the invalid paths.
pub(crate) fn verify_password(hashers: &Hashers, password: Option<&str>, encoded: &str) -> bool {
    match password {
        Some(pw) if is_password_usable(encoded) => hashers
            .identify(encoded)
            .is_ok_and(|h| h.verify(pw.as_bytes(), encoded)),
        _ => false,
    }
}

/// Every disagreement, collected so that all of them are reported at once.
pub(crate) struct Report {
    context: String,
    phase: String,
    pub(crate) mismatches: Vec<String>,
    pub(crate) compared: usize,
}

impl Report {
    pub(crate) fn new(context: &str) -> Self {
        Self {
            context: context.to_owned(),
            phase: String::new(),
            mismatches: Vec::new(),
            compared: 0,
        }
    }

    pub(crate) fn phase(&mut self, phase: &str) {
        phase.clone_into(&mut self.phase);
    }

    pub(crate) fn cmp<T: PartialEq + Debug + ?Sized>(
        &mut self,
        who: &str,
        field: &str,
        django: &T,
        castellan: &T,
    ) {
        self.compared += 1;
        if django != castellan {
            self.mismatches.push(format!(
                "MISMATCH {} [{}] | {who} | {field} | django={django:?} | castellan={castellan:?}",
                self.context, self.phase
            ));
        }
    }
}

/// Every non-Castellan table's rows and the schema of the database (columns, constraints, indexes,
/// sequences), as sorted text lines per key: what Castellan's `migrate` must leave untouched. Objects
/// named `castellan*` are Castellan's own and left out, including those it puts on Django's tables
/// (generation triggers, the `auth_user` flag indexes).
pub(crate) async fn snapshot(db: &TestDb) -> BTreeMap<String, Vec<String>> {
    let mut snap = BTreeMap::new();
    match db.kind() {
        Kind::Sqlite => {
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect(&db.url)
                .await
                .unwrap();
            let objects = sqlx::query(
                "SELECT type AS t, name AS n, coalesce(sql, '') AS s FROM sqlite_master \
                 WHERE type <> 'trigger' AND name NOT LIKE 'castellan%' AND tbl_name NOT LIKE 'castellan%'",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            let mut schema = Vec::new();
            let mut tables = Vec::new();
            for r in &objects {
                let (t, n, s): (String, String, String) = (r.get("t"), r.get("n"), r.get("s"));
                if t == "table" {
                    tables.push(n.clone());
                }
                schema.push(format!("{t} {n}: {s}"));
            }
            schema.sort();
            snap.insert("schema".to_owned(), schema);
            for table in tables {
                let cols: Vec<String> =
                    sqlx::query("SELECT name FROM pragma_table_info(?) ORDER BY cid")
                        .bind(&table)
                        .fetch_all(&pool)
                        .await
                        .unwrap()
                        .iter()
                        .map(|r| r.get("name"))
                        .collect();
                let expr = cols
                    .iter()
                    .map(|c| format!("quote(\"{c}\")"))
                    .collect::<Vec<_>>()
                    .join(" || '|' || ");
                let rows = sqlx::query(&format!("SELECT {expr} AS r FROM \"{table}\""))
                    .fetch_all(&pool)
                    .await
                    .unwrap();
                let mut rows: Vec<String> = rows.iter().map(|r| r.get("r")).collect();
                rows.sort();
                snap.insert(format!("rows of {table}"), rows);
            }
            pool.close().await;
        }
        Kind::Postgres => {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(&db.url)
                .await
                .unwrap();
            let lines = |sql: &'static str| {
                let pool = pool.clone();
                async move {
                    let rows = sqlx::query(sql)
                        .fetch_all(&pool)
                        .await
                        .unwrap_or_else(|e| panic!("{sql}: {e}"));
                    let mut v: Vec<String> = rows.iter().map(|r| r.get::<String, _>("l")).collect();
                    v.sort();
                    v
                }
            };
            snap.insert(
                "columns".to_owned(),
                lines(
                    "SELECT concat_ws(' ', table_name::text, column_name::text, data_type::text, is_nullable::text, \
                     coalesce(column_default::text, '-'), is_identity::text, coalesce(identity_generation::text, '-'), \
                     coalesce(character_maximum_length::text, '-'))::text AS l \
                     FROM information_schema.columns WHERE table_schema = current_schema() AND table_name NOT LIKE 'castellan%'",
                )
                .await,
            );
            snap.insert(
                "constraints".to_owned(),
                lines(
                    "SELECT (c.conrelid::regclass::text || ' ' || c.conname || ' ' || pg_get_constraintdef(c.oid))::text AS l \
                     FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
                     WHERE n.nspname = current_schema() AND c.conrelid::regclass::text NOT LIKE 'castellan%'",
                )
                .await,
            );
            snap.insert(
                "indexes".to_owned(),
                lines(
                    "SELECT indexdef::text AS l FROM pg_indexes WHERE schemaname = current_schema() \
                     AND tablename NOT LIKE 'castellan%' AND indexname NOT LIKE 'castellan%'",
                )
                .await,
            );
            snap.insert(
                "sequences".to_owned(),
                lines(
                    "SELECT (sequencename || ' ' || data_type::text || ' last=' || coalesce(last_value::text, 'null'))::text AS l \
                     FROM pg_sequences WHERE schemaname = current_schema() AND sequencename NOT LIKE 'castellan%'",
                )
                .await,
            );
            let tables = lines(
                "SELECT table_name::text AS l FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'castellan%'",
            )
            .await;
            for table in tables {
                let rows = sqlx::query(&format!("SELECT (t.*)::text AS l FROM \"{table}\" t"))
                    .fetch_all(&pool)
                    .await
                    .unwrap();
                let mut rows: Vec<String> = rows.iter().map(|r| r.get("l")).collect();
                rows.sort();
                snap.insert(format!("rows of {table}"), rows);
            }
            pool.close().await;
        }
        Kind::MySql => panic!("the Django interop tests do not cover MariaDB/MySQL"),
    }
    snap
}

/// The keys whose lines differ, each with a short description of the difference.
pub(crate) fn snapshot_diff(
    before: &BTreeMap<String, Vec<String>>,
    after: &BTreeMap<String, Vec<String>>,
) -> Vec<(String, String)> {
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let empty = Vec::new();
    let mut out = Vec::new();
    for key in keys {
        let (b, a) = (
            before.get(key).unwrap_or(&empty),
            after.get(key).unwrap_or(&empty),
        );
        if b == a {
            continue;
        }
        let bs: BTreeSet<&String> = b.iter().collect();
        let as_: BTreeSet<&String> = a.iter().collect();
        let gone: Vec<&&String> = bs.difference(&as_).take(5).collect();
        let new: Vec<&&String> = as_.difference(&bs).take(5).collect();
        out.push((
            key.clone(),
            format!(
                "{} line(s) before, {} after; gone (first 5): {gone:?}; new (first 5): {new:?}",
                b.len(),
                a.len()
            ),
        ));
    }
    out
}
