//! Interoperability with real Django: session data signed by Django decodes here and vice versa,
//! and the session auth hash is Django's. Runs when a Python with Django is available
//! (`CASTELLAN_DJANGO_PYTHON`, else `/tmp/djvenv/bin/python`); skipped (with a note) otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

/// Skips with a note, unless CI asked for Django (`CASTELLAN_REQUIRE_DJANGO=1`): then the test fails.
fn skip(why: &str) {
    assert!(
        std::env::var("CASTELLAN_REQUIRE_DJANGO").map_or(true, |v| v != "1"),
        "CASTELLAN_REQUIRE_DJANGO=1 but {why}"
    );
    eprintln!("skipped: {why}");
}

const SECRET: &str = "django-insecure-shared-secret-é";

fn python() -> Option<String> {
    let p = std::env::var("CASTELLAN_DJANGO_PYTHON")
        .unwrap_or_else(|_| "/tmp/djvenv/bin/python".into());
    let ok = Command::new(&p)
        .args(["-c", "import django"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Some(p)
    } else {
        skip(&format!("no Python with Django at {p}"));
        None
    }
}

fn django(py: &str, code: &str, arg: &str) -> String {
    let prelude = format!(
        "import sys, json\nfrom django.conf import settings\nsettings.configure(SECRET_KEY={SECRET:?})\nfrom django.core import signing\nfrom django.utils.crypto import salted_hmac\n"
    );
    let out = Command::new(py)
        .args(["-c", &format!("{prelude}{code}"), arg])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn sample() -> serde_json::Map<String, serde_json::Value> {
    let v = serde_json::json!({
        "_auth_user_id": "42",
        "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
        "_auth_user_hash": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "note": "héllo ✓ 😀",
        "n": 3
    });
    v.as_object().unwrap().clone()
}

#[test]
fn django_reads_castellan_sessions() {
    let Some(py) = python() else { return };
    let encoded = castellan_axum::django::encode_session(&sample(), SECRET.as_bytes());
    let decoded = django(
        &py,
        "print(json.dumps(signing.loads(sys.argv[1], salt='django.contrib.sessions.SessionStore')))",
        &encoded,
    );
    let decoded: serde_json::Value = serde_json::from_str(&decoded).unwrap();
    assert_eq!(decoded, serde_json::Value::Object(sample()));
}

#[test]
fn castellan_reads_django_sessions() {
    let Some(py) = python() else { return };
    let json = serde_json::Value::Object(sample()).to_string();
    let signed = django(
        &py,
        "print(signing.dumps(json.loads(sys.argv[1]), salt='django.contrib.sessions.SessionStore', compress=True))",
        &json,
    );
    assert!(signed.starts_with('.'), "compressed: {signed}");
    assert_eq!(
        castellan_axum::django::decode_session(&signed, SECRET.as_bytes()),
        sample()
    );
    // Django's SessionStore encoding (what a Django login writes into django_session).
    let store_encoded = django(
        &py,
        "from django.contrib.sessions.backends.db import SessionStore\nprint(SessionStore().encode(json.loads(sys.argv[1])))",
        &json,
    );
    assert_eq!(
        castellan_axum::django::decode_session(&store_encoded, SECRET.as_bytes()),
        sample()
    );
}

#[test]
fn session_auth_hash_is_djangos() {
    let Some(py) = python() else { return };
    let password = "pbkdf2_sha256$1200000$abcdefgh$c2lnbmF0dXJl";
    let expected = django(
        &py,
        "print(salted_hmac('django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash', sys.argv[1], algorithm='sha256').hexdigest())",
        password,
    );
    assert_eq!(
        castellan_axum::django::session_auth_hash(password, SECRET.as_bytes()),
        expected
    );
}

mod common;
use common::Whoami;

fn django_db(py: &str, db: &str, code: &str, arg: &str) -> String {
    let prelude = format!(
        "import sys, django\nfrom django.conf import settings\nsettings.configure(SECRET_KEY={:?}, USE_TZ=True, \
         DATABASES={{'default': {{'ENGINE': 'django.db.backends.sqlite3', 'NAME': {db:?}}}}}, \
         INSTALLED_APPS=['django.contrib.contenttypes', 'django.contrib.auth', 'django.contrib.sessions'])\n\
         django.setup()\nfrom django.contrib.sessions.backends.db import SessionStore\n\
         from django.contrib.auth import get_user\nfrom django.http import HttpRequest\n",
        common::SECRET
    );
    let out = Command::new(py)
        .args(["-c", &format!("{prelude}{code}"), arg])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn logins_are_shared_with_django_through_django_session() {
    let Some(py) = python() else { return };
    let dir = std::env::temp_dir().join(format!("castellan-axum-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("shared.sqlite3");
    let _ = std::fs::remove_file(&db);
    let db = db.to_str().unwrap().to_owned();
    let env = common::env_at(&format!("sqlite://{db}"), |c| c).await;

    // Castellan logs alice in; Django sees alice on that session.
    let mut c = common::client(&env);
    c.login("alice", common::PASSWORD).await;
    let key = c.jar.get("sessionid").unwrap().to_owned();
    let who = django_db(
        &py,
        &db,
        "r = HttpRequest(); r.session = SessionStore(session_key=sys.argv[1]); print(get_user(r).username)",
        &key,
    );
    assert_eq!(who, "alice");
    // `manage.py migrate` has nothing to do for sessions (table and migration row are Django's).
    let plan = django_db(
        &py,
        &db,
        "from django.db.migrations.executor import MigrationExecutor\nfrom django.db import connection\n\
         e = MigrationExecutor(connection)\nprint([m.app_label + '.' + m.name for m, _ in e.migration_plan(e.loader.graph.leaf_nodes()) if m.app_label == 'sessions'])",
        "",
    );
    assert_eq!(plan, "[]");

    // Django logs dora in (as `login()` stores it); Castellan sees dora on that session.
    let key = django_db(
        &py,
        &db,
        "from django.contrib.auth.models import User\nu = User.objects.get(username=sys.argv[1])\n\
         s = SessionStore()\ns['_auth_user_id'] = str(u.pk)\ns['_auth_user_backend'] = 'django.contrib.auth.backends.ModelBackend'\n\
         s['_auth_user_hash'] = u.get_session_auth_hash()\ns.create()\nprint(s.session_key)",
        "dora",
    );
    let mut d = common::client(&env);
    d.jar.insert("sessionid", &key);
    assert_eq!(d.whoami().await, "dora");
    env.store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
