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

/// Runs `code` in Django configured with `secret` and `fallbacks` (`SECRET_KEY_FALLBACKS`), UTC,
/// the auth apps and, when `db` is given, that SQLite database.
fn django_keys(
    py: &str,
    db: Option<&str>,
    secret: &str,
    fallbacks: &[&str],
    code: &str,
    arg: &str,
) -> String {
    let name = db.unwrap_or(":memory:");
    let prelude = format!(
        "import sys, json, django\nfrom django.conf import settings\n\
         settings.configure(SECRET_KEY={secret:?}, SECRET_KEY_FALLBACKS={fallbacks:?}, USE_TZ=True, TIME_ZONE='UTC', \
         DATABASES={{'default': {{'ENGINE': 'django.db.backends.sqlite3', 'NAME': {name:?}}}}}, \
         INSTALLED_APPS=['django.contrib.contenttypes', 'django.contrib.auth', 'django.contrib.sessions'])\n\
         django.setup()\nfrom django.contrib.sessions.backends.db import SessionStore\n\
         from django.contrib.auth import get_user\nfrom django.http import HttpRequest\n\
         from django.contrib.auth.models import User\nfrom django.contrib.auth.tokens import default_token_generator\n\
         from django.utils.http import urlsafe_base64_encode\nfrom datetime import datetime, timezone\n\
         def user_from(a):\n    d = json.loads(a)\n    \
         ll = None if d['last_login'] is None else datetime.fromisoformat(d['last_login'])\n    \
         return User(pk=d['pk'], password=d['password'], last_login=ll, email=d['email'])\n"
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

mod tokens_interop {
    use castellan_core::signing::SecretKeys;
    use castellan_core::tokens::{uidb64, PasswordResetTokenGenerator, TokenUser};
    use chrono::TimeZone;

    const OLD: &str = "django-insecure-old-key-é";
    const NEW: &str = "django-insecure-new-key";

    fn user_json(u: &TokenUser<'_>) -> String {
        serde_json::json!({
            "pk": u.pk.parse::<i64>().unwrap(),
            "password": u.password,
            "last_login": u.last_login.map(|t| t.to_rfc3339()),
            "email": u.email,
        })
        .to_string()
    }

    #[test]
    fn reset_tokens_validate_both_ways_and_through_fallbacks() {
        let Some(py) = super::python() else { return };
        let login = chrono::Utc
            .with_ymd_and_hms(2024, 2, 29, 23, 59, 58)
            .unwrap()
            + chrono::Duration::microseconds(654_321);
        let users = [
            TokenUser::new(
                "42",
                "pbkdf2_sha256$1200000$salt$hash=",
                Some(login),
                "Ann@Example.com",
            ),
            TokenUser::new("7", "!unusable", None, ""),
        ];
        let now = chrono::Utc::now();
        for user in users {
            let json = user_json(&user);
            // Django makes a token with the old key; Castellan, after rotation, accepts it.
            let by_django = super::django_keys(
                &py,
                None,
                OLD,
                &[],
                "print(default_token_generator.make_token(user_from(sys.argv[1])))",
                &json,
            );
            let rotated =
                PasswordResetTokenGenerator::new(SecretKeys::new(NEW).with_fallbacks([OLD]));
            assert!(rotated.check_token(&user, &by_django, now), "{by_django}");
            let old = PasswordResetTokenGenerator::new(SecretKeys::new(OLD));
            assert!(old.check_token(&user, &by_django, now));
            assert!(!PasswordResetTokenGenerator::new(SecretKeys::new(NEW))
                .check_token(&user, &by_django, now));

            // Castellan makes tokens; Django checks them, with and without the fallback.
            let ours_old = old.make_token(&user, now);
            let ours_new = rotated.make_token(&user, now);
            let check = |secret: &str, fallbacks: &[&str], token: &str| {
                super::django_keys(
                    &py,
                    None,
                    secret,
                    fallbacks,
                    &format!(
                        "print(default_token_generator.check_token(user_from(sys.argv[1]), {token:?}))"
                    ),
                    &json,
                )
            };
            assert_eq!(check(OLD, &[], &ours_old), "True");
            assert_eq!(check(NEW, &[OLD], &ours_old), "True");
            assert_eq!(check(NEW, &[], &ours_old), "False");
            assert_eq!(check(NEW, &[], &ours_new), "True");
            assert_eq!(check(OLD, &[], &ours_new), "False");

            let uid = super::django_keys(
                &py,
                None,
                NEW,
                &[],
                "print(urlsafe_base64_encode(str(user_from(sys.argv[1]).pk).encode()))",
                &json,
            );
            assert_eq!(uid, uidb64(user.pk));
        }
    }
}

/// A session made by Django under the old key, the key then moved to `SECRET_KEY_FALLBACKS`, is
/// accepted by Castellan (and rotated to the new key, which Django then reads without the
/// fallback); a session Castellan made under the old key is accepted by Django after rotation.
#[tokio::test]
async fn sessions_survive_key_rotation_in_both_directions() {
    let Some(py) = python() else { return };
    const NEW: &str = "django-insecure-new-key-after-rotation";
    let dir = std::env::temp_dir().join(format!("castellan-axum-rotation-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("shared.sqlite3");
    let _ = std::fs::remove_file(&db);
    let db = db.to_str().unwrap().to_owned();
    let old_env = common::env_at(&format!("sqlite://{db}"), |c| c).await;
    let rotated = common::Env {
        store: old_env.store.clone(),
        auth: castellan_axum::AuthLayer::new(
            old_env.store.clone(),
            castellan_axum::AuthConfig::new(NEW).with_secret_key_fallbacks([common::SECRET]),
        )
        .await
        .unwrap(),
        counter: old_env.counter.clone(),
    };

    // Django logs dora in under the old key.
    let key = django_keys(
        &py,
        Some(&db),
        common::SECRET,
        &[],
        "u = User.objects.get(username=sys.argv[1])\n\
         s = SessionStore()\ns['_auth_user_id'] = str(u.pk)\ns['_auth_user_backend'] = 'django.contrib.auth.backends.ModelBackend'\n\
         s['_auth_user_hash'] = u.get_session_auth_hash()\ns.create()\nprint(s.session_key)",
        "dora",
    );
    // Castellan, with the old key as a fallback, sees dora and moves the session to the new key.
    let mut c = common::client(&rotated);
    c.jar.insert("sessionid", &key);
    assert_eq!(c.whoami().await, "dora");
    let moved = c.jar.get("sessionid").unwrap().to_owned();
    assert_ne!(moved, key);
    // Django with only the new key reads the moved session as dora's.
    let who = django_keys(
        &py,
        Some(&db),
        NEW,
        &[],
        "r = HttpRequest(); r.session = SessionStore(session_key=sys.argv[1]); print(get_user(r).username)",
        &moved,
    );
    assert_eq!(who, "dora");

    // Castellan logs alice in under the old key; Django after rotation accepts the session and
    // rotates it in turn; Castellan with only the new key then reads Django's new session.
    let mut a = common::client(&old_env);
    assert_eq!(
        a.login("alice", common::PASSWORD).await.status(),
        http::StatusCode::FOUND
    );
    let key = a.jar.get("sessionid").unwrap().to_owned();
    let out = django_keys(
        &py,
        Some(&db),
        NEW,
        &[common::SECRET],
        "r = HttpRequest(); r.session = SessionStore(session_key=sys.argv[1])\n\
         name = get_user(r).username\nr.session.save()\nprint(name, r.session.session_key)",
        &key,
    );
    let (name, django_key) = out.split_once(' ').unwrap();
    assert_eq!(name, "alice");
    assert_ne!(django_key, key, "Django cycled the key");
    let strict = common::Env {
        store: old_env.store.clone(),
        auth: castellan_axum::AuthLayer::new(
            old_env.store.clone(),
            castellan_axum::AuthConfig::new(NEW),
        )
        .await
        .unwrap(),
        counter: old_env.counter.clone(),
    };
    let mut s = common::client(&strict);
    s.jar.insert("sessionid", django_key);
    assert_eq!(s.whoami().await, "alice");
    // Without the fallback, the session Castellan made under the old key is nobody's in Django.
    let mut b = common::client(&old_env);
    b.login("ginny", common::PASSWORD).await;
    let key = b.jar.get("sessionid").unwrap().to_owned();
    let who = django_keys(
        &py,
        Some(&db),
        NEW,
        &[],
        "r = HttpRequest(); r.session = SessionStore(session_key=sys.argv[1]); print(get_user(r).is_anonymous)",
        &key,
    );
    assert_eq!(who, "True");
    old_env.store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
