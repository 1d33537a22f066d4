//! The password-change view runs the configured password validators (Django's four by default)
//! on the new password; a refused password changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use castellan_core::password_validation::MinimumLengthValidator;
use castellan_core::PasswordValidators;
use common::*;
use http::StatusCode;

async fn change(c: &mut Client, new: &str) -> String {
    let r = c
        .post_form(
            "/accounts/password_change/",
            &[
                ("old_password", PASSWORD),
                ("new_password1", new),
                ("new_password2", new),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    body(r).await
}

#[tokio::test]
async fn the_new_password_must_pass_the_validators() {
    let env = env().await;
    let mut a = client(&env);
    a.login("alice", PASSWORD).await;
    for (new, message) in [
        (
            "abc",
            "This password is too short. It must contain at least 8 characters.",
        ),
        ("password", "This password is too common."),
        ("12345678901", "This password is entirely numeric."),
        ("alice1234", "The password is too similar to the username."),
    ] {
        let html = change(&mut a, new).await;
        assert!(html.contains(message), "{new}: {html}");
        assert!(
            env.store
                .authenticate("alice", PASSWORD)
                .await
                .unwrap()
                .is_some(),
            "{new}: the password did not change"
        );
    }
    let html = change(&mut a, "n3w-Passw0rd!").await;
    assert!(html.contains("Your password was changed."), "{html}");
}

#[tokio::test]
async fn the_validators_are_configurable() {
    let env = env_with(|c| {
        c.with_password_validators(PasswordValidators::new().with(MinimumLengthValidator::new(4)))
    })
    .await;
    let mut a = client(&env);
    a.login("alice", PASSWORD).await;
    let html = change(&mut a, "abc").await;
    assert!(html.contains("at least 4 characters"), "{html}");
    let html = change(&mut a, "1234").await;
    assert!(html.contains("Your password was changed."), "{html}");
    assert!(env
        .store
        .authenticate("alice", "1234")
        .await
        .unwrap()
        .is_some());
}
