//! Logins and password-reset links shared with real Django on a project whose user model has a
//! UUID primary key (`accounts.Member`: `AbstractBaseUser` + `PermissionsMixin`, e-mail as the
//! username field, `display_name` required; `interop/custom_user/accounts`), on SQLite and
//! PostgreSQL. The database is the schema Django 6.1 migrated (the test kit's fixture); Django runs
//! `interop/custom_user/shared_login.py` on it:
//!
//! * a user Castellan creates logs in through Castellan; Django's `get_user()` finds her on that
//!   session;
//! * a user Django creates (Django picks the UUID) logs in through Django's `login()`; Castellan's
//!   layer finds him on that session;
//! * a reset link Django makes opens Castellan's reset form, and one Castellan makes passes
//!   Django's `PasswordResetTokenGenerator`;
//! * Castellan's `uidb64` is Django's (`str(pk)` of the UUID, hyphenated);
//! * after a key rotation (the old key in `SECRET_KEY_FALLBACKS` on both sides) sessions and reset
//!   links made under the old key by either side are still accepted, and new ones use the new key.
//!
//! Skipped without `CASTELLAN_DJANGO_PYTHON` unless `CASTELLAN_REQUIRE_DJANGO=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command;

use axum::routing::get;
use axum::Router;
use castellan_axum::{AuthConfig, AuthLayer, CurrentUser};
use castellan_core::tokens::{uidb64, TokenUser};
use castellan_core::{Registry, UserId, UserPk};
use castellan_store::{NewUser, Store, StoreOptions};
use castellan_testkit::custom_user::CustomUser;
use castellan_testkit::{cheap_hashers, location, Client, Kind, TestDb, PASSWORD};
use common::{Whoami, SECRET};
use http::StatusCode;

fn python() -> Option<String> {
    match std::env::var("CASTELLAN_DJANGO_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            assert!(
                std::env::var("CASTELLAN_REQUIRE_DJANGO").map_or(true, |v| v != "1"),
                "CASTELLAN_REQUIRE_DJANGO=1 but CASTELLAN_DJANGO_PYTHON is not set"
            );
            eprintln!("skipped: CASTELLAN_DJANGO_PYTHON is not set");
            None
        }
    }
}

/// Runs `shared_login.py COMMAND ARGS…` on `db` and returns its one line of output.
fn django(py: &str, db: &TestDb, args: &[&str]) -> String {
    django_keyed(py, db, SECRET, &[], args)
}

/// As [`django`], with Django's `SECRET_KEY` and `SECRET_KEY_FALLBACKS` given.
fn django_keyed(py: &str, db: &TestDb, secret: &str, fallbacks: &[&str], args: &[&str]) -> String {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop/custom_user/shared_login.py");
    let url = match db.kind() {
        Kind::Sqlite => format!("sqlite:{}", db.name),
        _ => db.url.clone(),
    };
    let out = Command::new(py)
        .arg(&script)
        .args(args)
        .env("CUSTOM_USER_APP", "accounts")
        .env("INTEROP_DB", url)
        .env("INTEROP_SECRET_KEY", secret)
        .env("INTEROP_SECRET_KEY_FALLBACKS", fallbacks.join(","))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "shared_login.py {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The model's own app has no `auth.change_user` for the common test app's guards: a plain app
/// with `/` (who am I) and the accounts views, behind `auth`.
fn whoami_app(auth: &AuthLayer) -> Router {
    Router::new()
        .route(
            "/",
            get(|user: CurrentUser| async move {
                user.user
                    .map_or_else(|| "anonymous".to_owned(), |u| u.username)
            }),
        )
        .nest("/accounts", castellan_axum::router())
        .layer(auth.clone())
}

async fn logins_and_reset_links_are_shared(kind: Kind) {
    let Some(py) = python() else { return };
    let Some(db) = CustomUser::Member.database(kind).await else {
        return;
    };
    let model = CustomUser::Member.model();
    let store = Store::connect_with(
        &db.url,
        StoreOptions {
            hashers: cheap_hashers(),
            user_model: model.clone(),
            ..StoreOptions::default()
        },
    )
    .await
    .unwrap();
    store.migrate(&Registry::django_for(&model)).await.unwrap();
    assert_eq!(store.user_schema().pk(), UserPk::Uuid);
    let mut ann = NewUser::new("ann@example.com");
    ann.password = Some(PASSWORD.into());
    ann.fields = vec![
        ("display_name".into(), "Ann".into()),
        ("favourite_colour".into(), "green".into()),
    ];
    store.create_user(ann).await.unwrap();
    let auth = AuthLayer::new(store.clone(), AuthConfig::new(SECRET))
        .await
        .unwrap();
    let app = whoami_app(&auth);
    let client = || Client::new(app.clone());

    // Castellan logs ann in; Django finds her on that session.
    let mut c = client();
    let response = c.login("ann@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(c.whoami().await, "ann@example.com");
    let key_ann = c.jar.get("sessionid").unwrap().to_owned();
    assert_eq!(django(&py, &db, &["whoami", &key_ann]), "ann@example.com");

    // Django creates bob (and his UUID) and logs him in; Castellan finds him on that session.
    let bob_pk = django(&py, &db, &["create", "bob@example.com", PASSWORD]);
    let bob = store.user("bob@example.com").await.unwrap().unwrap();
    assert_eq!(bob.id.to_string(), bob_pk, "Castellan reads Django's UUID");
    assert!(matches!(bob.id, UserId::Uuid(_)));
    let key = django(&py, &db, &["login", "bob@example.com"]);
    let mut d = client();
    d.jar.insert("sessionid", &key);
    assert_eq!(d.whoami().await, "bob@example.com");
    // And bob's password, hashed by Django, logs him in here.
    let mut e = client();
    assert_eq!(
        e.login("bob@example.com", PASSWORD).await.status(),
        StatusCode::FOUND
    );
    assert_eq!(e.whoami().await, "bob@example.com");

    // A reset link Django made opens Castellan's form.
    let made = django(&py, &db, &["make-reset", "bob@example.com"]);
    let (uid, token) = made.split_once(' ').unwrap();
    let bob = store.user("bob@example.com").await.unwrap().unwrap();
    assert_eq!(uid, uidb64(&bob.id.to_string()), "the same uidb64");
    let mut r = client();
    let response = r.get(&format!("/accounts/reset/{uid}/{token}/")).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(
        location(&response),
        format!("/accounts/reset/{uid}/set-password/")
    );
    let (status, html) = r
        .page(&format!("/accounts/reset/{uid}/set-password/"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("new_password1"), "{html}");

    // A reset link Castellan made passes Django's check; a tampered one does not.
    let ann = store.user("ann@example.com").await.unwrap().unwrap();
    let pk = ann.id.to_string();
    let token = auth
        .config()
        .password_reset_tokens()
        .make_token(&TokenUser::of_user(&ann, &pk), chrono::Utc::now());
    let uid = uidb64(&pk);
    assert_eq!(django(&py, &db, &["check-reset", &uid, &token]), "True");
    let other = uidb64(&bob.id.to_string());
    assert_eq!(django(&py, &db, &["check-reset", &other, &token]), "False");

    // Key rotation: the old key moves to the fallbacks on both sides.
    const NEW: &str = "django-insecure-rotated-key-for-members";
    let rotated = AuthLayer::new(
        store.clone(),
        AuthConfig::new(NEW).with_secret_key_fallbacks([SECRET]),
    )
    .await
    .unwrap();
    let rotated_app = whoami_app(&rotated);
    // Ann's session, made by Castellan under the old key, still works here and in Django.
    let mut old_session = Client::new(rotated_app.clone());
    old_session.jar.insert("sessionid", &key_ann);
    assert_eq!(old_session.whoami().await, "ann@example.com");
    // (Castellan moved it to a new key signed with the new key; Django reads that one too.)
    let moved = old_session.jar.get("sessionid").unwrap().to_owned();
    assert_eq!(
        django_keyed(&py, &db, NEW, &[SECRET], &["whoami", &moved]),
        "ann@example.com"
    );
    assert_eq!(
        django_keyed(&py, &db, NEW, &[], &["whoami", &moved]),
        "ann@example.com",
        "rotated to the new key: Django needs no fallback for it"
    );
    // Bob's session, made by Django under the old key, works here after the rotation.
    let bob_old = django(&py, &db, &["login", "bob@example.com"]);
    let mut b = Client::new(rotated_app.clone());
    b.jar.insert("sessionid", &bob_old);
    assert_eq!(b.whoami().await, "bob@example.com");
    // A reset link Django made with the old key opens Castellan's form after the rotation; one
    // Castellan makes now passes Django's check only with the new key.
    let made = django(&py, &db, &["make-reset", "bob@example.com"]);
    let (uid, token) = made.split_once(' ').unwrap();
    let mut r = Client::new(rotated_app);
    let response = r.get(&format!("/accounts/reset/{uid}/{token}/")).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(
        location(&response),
        format!("/accounts/reset/{uid}/set-password/")
    );
    let ann = store.user("ann@example.com").await.unwrap().unwrap();
    let pk = ann.id.to_string();
    let token = rotated
        .config()
        .password_reset_tokens()
        .make_token(&TokenUser::of_user(&ann, &pk), chrono::Utc::now());
    let uid = uidb64(&pk);
    assert_eq!(
        django_keyed(&py, &db, NEW, &[], &["check-reset", &uid, &token]),
        "True"
    );
    assert_eq!(
        django_keyed(&py, &db, SECRET, &[], &["check-reset", &uid, &token]),
        "False"
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uuid_member_on_sqlite() {
    logins_and_reset_links_are_shared(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uuid_member_on_postgres() {
    logins_and_reset_links_are_shared(Kind::Postgres).await;
}
