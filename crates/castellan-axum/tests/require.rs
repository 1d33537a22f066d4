//! Guards × users: anonymous, inactive, active without the permission, via a group, direct, superuser.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use http::StatusCode;

/// Who → expected outcome per route: "ok", "login" (302 to login), "403".
async fn outcome(client: &mut Client, path: &str) -> String {
    let r = client.get(path).await;
    match r.status() {
        StatusCode::OK => "ok".into(),
        StatusCode::FOUND => {
            assert!(
                location(&r).starts_with("/accounts/login/?next="),
                "{}",
                location(&r)
            );
            "login".into()
        }
        StatusCode::FORBIDDEN => "403".into(),
        s => s.to_string(),
    }
}

async fn client_as(env: &Env, who: &str) -> Client {
    let mut c = client(env);
    match who {
        "anonymous" => {}
        "inactive" => {
            // Log in while active, then deactivate: the next request is anonymous.
            let r = c.login("ina", PASSWORD).await;
            assert_eq!(r.status(), StatusCode::FOUND);
            env.store
                .update_user(
                    "ina",
                    castellan_store::UserChanges {
                        is_active: Some(false),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
        }
        name => {
            let r = c.login(name, PASSWORD).await;
            assert_eq!(r.status(), StatusCode::FOUND, "login {name}");
        }
    }
    c
}

#[tokio::test]
async fn guard_matrix() {
    let env = env().await;
    // route → outcomes for [anonymous, inactive, alice (none), ginny (group), dora (direct), sam (superuser)]
    let table: &[(&str, [&str; 6])] = &[
        (
            "/login-required",
            ["login", "login", "ok", "ok", "ok", "ok"],
        ),
        ("/perm", ["login", "login", "403", "ok", "ok", "ok"]),
        ("/all", ["login", "login", "403", "ok", "ok", "ok"]),
        ("/any", ["login", "login", "403", "ok", "ok", "ok"]),
        ("/group", ["login", "login", "403", "ok", "403", "ok"]),
        // test: username of 4 characters (dora, ginny no, alice no, sam no)
        ("/test", ["login", "login", "403", "403", "ok", "403"]),
        ("/raise", ["403", "403", "403", "ok", "ok", "ok"]),
        ("/x/perm", ["login", "login", "403", "ok", "ok", "ok"]),
        ("/x/login", ["login", "login", "ok", "ok", "ok", "ok"]),
    ];
    let who = ["anonymous", "inactive", "alice", "ginny", "dora", "sam"];
    for (i, w) in who.iter().enumerate() {
        let mut c = client_as(&env, w).await;
        for (path, expected) in table {
            assert_eq!(outcome(&mut c, path).await, expected[i], "{w} on {path}");
        }
        if *w == "inactive" {
            env.store
                .update_user(
                    "ina",
                    castellan_store::UserChanges {
                        is_active: Some(true),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn redirect_to_login_urls() {
    let env = env().await;
    let mut c = client(&env);
    let r = c.get("/perm?a=1&b=%2F").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(
        location(&r),
        "/accounts/login/?next=/perm%3Fa%3D1%26b%3D%252F"
    );
    let r = c.get("/custom-login").await;
    assert_eq!(location(&r), "/login/?pretty=1&next=/custom-login");
    let r = c.get("/remote-login").await;
    assert_eq!(
        location(&r),
        "https://www.remote.example.com/login?next=http%3A//testserver/remote-login"
    );
    let r = c.get("/no-field").await;
    assert_eq!(location(&r), "/accounts/login/");
    let r = c.get("/field").await;
    assert_eq!(location(&r), "/accounts/login/?goto=/field");
}

#[tokio::test]
async fn denial_message_and_custom_handler() {
    let env = env().await;
    let mut c = client_as(&env, "alice").await;
    let r = c.get("/raise").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let html = body(r).await;
    assert!(html.contains("No &lt;entry&gt;"), "{html}");
    let r = c.get("/handler").await;
    assert_eq!(r.status(), StatusCode::IM_A_TEAPOT);
    // Anonymous users still get the login redirect from a guard with a custom handler.
    let mut anon = client(&env);
    assert_eq!(anon.get("/handler").await.status(), StatusCode::FOUND);
}

#[tokio::test]
async fn the_403_hook_learns_who_was_refused_and_what_is_missing() {
    let env = env().await;
    // dora holds auth.view_user and auth.change_user: two of the three required are missing, in
    // the guard's order.
    let mut dora = client_as(&env, "dora").await;
    let r = dora.get("/denial").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        body(r).await,
        "dora|auth.delete_user,auth.add_user|staff only"
    );
    let mut alice = client_as(&env, "alice").await;
    assert_eq!(
        body(alice.get("/denial").await).await,
        "alice|auth.view_user,auth.delete_user,auth.add_user|staff only"
    );
}

#[tokio::test]
async fn unmatched_paths_stay_404() {
    let env = env().await;
    let mut c = client(&env);
    assert_eq!(c.get("/no/such/page").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unknown_permissions_fail_start_up_with_a_suggestion() {
    let env = env().await;
    let err = env
        .auth
        .require("/books", castellan_axum::Require::perm("auth.chnage_user"))
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("/books")
            && msg.contains("auth.chnage_user")
            && msg.contains("auth.change_user"),
        "{msg}"
    );
    let err = env
        .auth
        .require(
            "/x",
            castellan_axum::Require::any_perm(["auth.view_user", "nope.nothing"]),
        )
        .unwrap_err();
    assert!(err.to_string().contains("nope.nothing"));
}

#[tokio::test]
async fn missing_layer_names_the_fix() {
    use axum::routing::get;
    use tower::ServiceExt;
    let app = axum::Router::new().route("/", get(|_u: castellan_axum::CurrentUser| async { "x" }));
    let r = app
        .oneshot(
            http::Request::get("/")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body(r).await.contains("Is `AuthLayer` installed?"));
}
