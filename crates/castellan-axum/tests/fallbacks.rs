//! `SECRET_KEY_FALLBACKS`: a session signed (data and auth hash) with a key that became a
//! fallback still logs its user in, and is moved to the current key (new session key, hash made
//! again, data signed again) as Django's `get_user` does; new sessions use the current key only;
//! a password-reset link made with a fallback key still works.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests panic on failed set-up.

mod common;

use castellan_axum::{AuthConfig, AuthLayer, MemoryEmailSender};
use castellan_core::signing::SecretKeys;
use castellan_core::tokens::{uidb64, PasswordResetTokenGenerator, TokenUser};
use common::{Env, Whoami, PASSWORD, SECRET};
use http::StatusCode;

const NEW: &str = "the new secret key, after rotation";

/// The same store (users, sessions) behind a layer configured by `config`.
async fn rotated(env: &Env, config: AuthConfig) -> Env {
    Env {
        store: env.store.clone(),
        auth: AuthLayer::new(env.store.clone(), config).await.unwrap(),
        counter: env.counter.clone(),
    }
}

fn decodes_with(data: &str, key: &str) -> bool {
    !castellan_axum::django::decode_session(data, key.as_bytes()).is_empty()
}

#[tokio::test]
async fn a_session_of_the_old_key_survives_rotation_and_moves_to_the_new_key() {
    let old = common::env().await;
    let mut c = common::client(&old);
    assert_eq!(c.login("alice", PASSWORD).await.status(), StatusCode::FOUND);
    let old_key = c.jar.get("sessionid").unwrap().to_owned();
    let data = old.store.session_data(&old_key).await.unwrap().unwrap();
    assert!(decodes_with(&data, SECRET));

    // Without the old key as a fallback, the session is nobody's (its data reads as empty).
    let strict = rotated(&old, AuthConfig::new(NEW)).await;
    let mut s = common::client(&strict);
    s.jar.insert("sessionid", &old_key);
    assert_eq!(s.whoami().await, "anonymous");

    // Again, with the fallback: alice stays logged in.
    let mut c = common::client(&old);
    assert_eq!(c.login("alice", PASSWORD).await.status(), StatusCode::FOUND);
    let old_key = c.jar.get("sessionid").unwrap().to_owned();
    let env = rotated(
        &old,
        AuthConfig::new(NEW).with_secret_key_fallbacks([SECRET]),
    )
    .await;
    let mut c = common::client(&env);
    c.jar.insert("sessionid", &old_key);
    assert_eq!(c.whoami().await, "alice");
    // Django's cycle_key and new hash: another session key, data under the new key only.
    let new_key = c.jar.get("sessionid").unwrap().to_owned();
    assert_ne!(new_key, old_key);
    assert!(env.store.session_data(&old_key).await.unwrap().is_none());
    let data = env.store.session_data(&new_key).await.unwrap().unwrap();
    assert!(decodes_with(&data, NEW));
    assert!(!decodes_with(&data, SECRET));
    let alice = env.store.user("alice").await.unwrap().unwrap();
    let stored = castellan_axum::django::decode_session(&data, NEW.as_bytes());
    assert_eq!(
        stored["_auth_user_hash"],
        castellan_axum::django::session_auth_hash(&alice.password, NEW.as_bytes())
    );
    // The next request changes nothing more, and once the fallback is gone it still works.
    assert_eq!(c.whoami().await, "alice");
    assert_eq!(c.jar.get("sessionid"), Some(new_key.as_str()));
    let done = rotated(&old, AuthConfig::new(NEW)).await;
    let mut d = common::client(&done);
    d.jar.insert("sessionid", &new_key);
    assert_eq!(d.whoami().await, "alice");
}

#[tokio::test]
async fn new_sessions_are_signed_with_the_current_key() {
    let base = common::env().await;
    let env = rotated(
        &base,
        AuthConfig::new(NEW).with_secret_key_fallbacks([SECRET]),
    )
    .await;
    let mut c = common::client(&env);
    assert_eq!(c.login("dora", PASSWORD).await.status(), StatusCode::FOUND);
    let key = c.jar.get("sessionid").unwrap().to_owned();
    let data = env.store.session_data(&key).await.unwrap().unwrap();
    assert!(decodes_with(&data, NEW));
    assert!(!decodes_with(&data, SECRET));
    let dora = env.store.user("dora").await.unwrap().unwrap();
    let stored = castellan_axum::django::decode_session(&data, NEW.as_bytes());
    assert_eq!(
        stored["_auth_user_hash"],
        castellan_axum::django::session_auth_hash(&dora.password, NEW.as_bytes())
    );
    // The fallback-aware decoder reads both.
    let keys = SecretKeys::new(NEW).with_fallbacks([SECRET]);
    assert!(!castellan_axum::django::decode_session_with_fallbacks(&data, &keys).is_empty());
}

#[tokio::test]
async fn a_session_whose_data_only_the_fallback_signed_keeps_working() {
    // The data signed with the old key, the auth hash already made with the new one (Django
    // writes no new data when only the signature of the data is old).
    let base = common::env().await;
    let alice = base.store.user("alice").await.unwrap().unwrap();
    let mut data = serde_json::Map::new();
    data.insert("_auth_user_id".into(), alice.id.to_string().into());
    data.insert(
        "_auth_user_backend".into(),
        castellan_axum::MODEL_BACKEND.into(),
    );
    data.insert(
        "_auth_user_hash".into(),
        castellan_axum::django::session_auth_hash(&alice.password, NEW.as_bytes()).into(),
    );
    let encoded = castellan_axum::django::encode_session(&data, SECRET.as_bytes());
    let key = "fallbacksignedsession0000000001";
    let expire = chrono::Utc::now() + chrono::Duration::hours(1);
    base.store
        .save_session(key, &encoded, expire)
        .await
        .unwrap();
    let env = rotated(
        &base,
        AuthConfig::new(NEW).with_secret_key_fallbacks([SECRET]),
    )
    .await;
    let mut c = common::client(&env);
    c.jar.insert("sessionid", key);
    assert_eq!(c.whoami().await, "alice");
    assert_eq!(c.jar.get("sessionid"), Some(key), "nothing to rotate");
}

#[tokio::test]
async fn a_reset_link_made_with_a_fallback_key_works() {
    let base = common::env().await;
    let outbox = MemoryEmailSender::new();
    let env = rotated(
        &base,
        AuthConfig::new(NEW)
            .with_secret_key_fallbacks([SECRET])
            .with_allowed_hosts(["testserver"])
            .with_email_sender(outbox.clone()),
    )
    .await;
    let alice = env.store.user("alice").await.unwrap().unwrap();
    let pk = alice.id.to_string();
    let now = chrono::Utc::now();
    let by_old = PasswordResetTokenGenerator::new(SecretKeys::new(SECRET))
        .make_token(&TokenUser::of_user(&alice, &pk), now);
    let by_other = PasswordResetTokenGenerator::new(SecretKeys::new("unrelated"))
        .make_token(&TokenUser::of_user(&alice, &pk), now);
    let mut c = common::client(&env);
    let r = c
        .get(&format!("/accounts/reset/{}/{by_old}/", uidb64(&pk)))
        .await;
    assert_eq!(r.status(), StatusCode::FOUND, "the fallback key's link");
    let (status, html) = c
        .page(&format!("/accounts/reset/{}/{by_other}/", uidb64(&pk)))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Password reset unsuccessful"), "{html}");
    // New links are made with the current key.
    let tokens = env.auth.config().password_reset_tokens();
    let fresh = tokens.make_token(&TokenUser::of_user(&alice, &pk), now);
    let current_only = PasswordResetTokenGenerator::new(SecretKeys::new(NEW));
    assert!(current_only.check_token(&TokenUser::of_user(&alice, &pk), &fresh, now));
    assert!(
        !PasswordResetTokenGenerator::new(SecretKeys::new(SECRET)).check_token(
            &TokenUser::of_user(&alice, &pk),
            &fresh,
            now
        )
    );
}
