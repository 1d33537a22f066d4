//! The user page's "send password reset" action: Django's reset e-mail, under the same rules as
//! setting a password — and no way to mail oneself a link to a stronger account, in one step or
//! by first changing its address.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use castellan_axum::{AuthConfig, MemoryEmailSender};
use common::{
    admin_tests, audit, env_on_config, seed, store_for, AsUser, Client, Env, TestDb, SECRET,
};
use http::StatusCode;

async fn env_with_outbox(db: TestDb) -> (Env, MemoryEmailSender) {
    let store = store_for(&db).await;
    seed(&store).await;
    let outbox = MemoryEmailSender::new();
    let config = AuthConfig::new(SECRET)
        .with_email_sender(outbox.clone())
        .with_password_reset_domain("shop.example.com");
    (env_on_config(db, store, config, |a| a).await, outbox)
}

async fn staff_with_change_permission_send_a_link(db: TestDb) {
    let (env, outbox) = env_with_outbox(db).await;
    let mut helen = Client::as_user(&env, "helen").await;
    let (status, html) = helen.page("/admin/auth/user/tom/change/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("data-testid=\"send-password-reset\""),
        "{html}"
    );
    let r = helen
        .post_form("/admin/auth/user/tom/password-reset/", &[])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let sent = outbox.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, ["tom@example.org"]);
    assert!(
        sent[0]
            .body
            .contains("http://shop.example.com/accounts/reset/"),
        "{}",
        sent[0].body
    );
    assert!(audit(&env.store)
        .await
        .iter()
        .any(|a| a.ends_with("user.password_reset_sent tom")));
}

async fn no_link_to_a_stronger_account(db: TestDb) {
    let (env, outbox) = env_with_outbox(db).await;
    let before = audit(&env.store).await;
    let mut helen = Client::as_user(&env, "helen").await;
    // root is a superuser: helen may not touch it, so she may not mail it a link.
    let r = helen
        .post_form("/admin/auth/user/root/password-reset/", &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Nor redirect its address to herself first, then ask.
    let r = helen
        .post_form(
            "/admin/auth/user/root/change/",
            &[("email", "helen@example.org")],
        )
        .await;
    assert!(r.status().is_client_error(), "{:?}", r.status());
    let root = env.store.user("root").await.unwrap().unwrap();
    assert_eq!(root.email, "root@example.org");
    // bob is staff without permissions.
    let mut bob = Client::as_user(&env, "bob").await;
    let r = bob
        .post_form("/admin/auth/user/tom/password-reset/", &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Without the CSRF token, nothing is sent either.
    let r = helen
        .post_raw("/admin/auth/user/tom/password-reset/", &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(outbox.take().is_empty());
    assert_eq!(audit(&env.store).await, before);
}

async fn users_who_could_not_use_a_link_get_none(db: TestDb) {
    let (env, outbox) = env_with_outbox(db).await;
    env.store.set_password("tom", None).await.unwrap();
    let mut root = Client::as_user(&env, "root").await;
    let r = root
        .post_form("/admin/auth/user/tom/password-reset/", &[])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(outbox.take().is_empty());
}

admin_tests!(
    staff_with_change_permission_send_a_link,
    no_link_to_a_stronger_account,
    users_who_could_not_use_a_link_get_none
);
