//! Interoperability with real Django: session data signed by Django decodes here and vice versa,
//! and the session auth hash is Django's. Runs when a Python with Django is available
//! (`CASTELLAN_DJANGO_PYTHON`, else `/tmp/djvenv/bin/python`); skipped (with a note) otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

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
        eprintln!("skipped: no Python with Django at {p}");
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
