//! Who reaches the admin: anonymous → login with next; non-staff → 403; every page re-checks its
//! permission on GET and POST; POSTs without a CSRF token are refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use http::StatusCode;

const PAGES: &[&str] = &[
    "/admin/",
    "/admin/auth/user/",
    "/admin/auth/user/add/",
    "/admin/auth/user/tom/change/",
    "/admin/auth/user/tom/password/",
    "/admin/auth/user/tom/delete/",
    "/admin/auth/group/",
    "/admin/auth/group/add/",
    "/admin/auth/group/Viewers/change/",
    "/admin/auth/group/Viewers/delete/",
    "/admin/auth/permission/",
    "/admin/auth/permission/add/",
    "/admin/matrix/",
    "/admin/audit/",
];

async fn anonymous_users_are_sent_to_login_with_next(db: TestDb) {
    let env = env(db).await;
    let mut c = client(&env);
    for page in PAGES {
        let r = c.get(page).await;
        assert_eq!(r.status(), StatusCode::FOUND, "{page}");
        assert_eq!(
            location(&r),
            format!("/accounts/login/?next={page}"),
            "{page}"
        );
    }
}

async fn logged_in_non_staff_get_403_even_with_permissions(db: TestDb) {
    let env = env(db).await;
    let mut c = Client::as_user(&env, "carl").await;
    for page in PAGES {
        assert_eq!(c.get(page).await.status(), StatusCode::FORBIDDEN, "{page}");
    }
    let r = c
        .post_form("/admin/auth/group/add/", &[("name", "X")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(env.store.group_state("X").await.unwrap().is_none());
}

async fn inactive_staff_are_logged_out_and_redirected(db: TestDb) {
    let env = env(db).await;
    let mut c = Client::as_user(&env, "bob").await;
    assert_eq!(c.get("/admin/").await.status(), StatusCode::OK);
    env.store
        .update_user(
            "bob",
            castellan_store::UserChanges {
                is_active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(c.get("/admin/").await.status(), StatusCode::FOUND);
}

async fn staff_without_permissions_see_an_empty_index_and_403_everywhere_else(db: TestDb) {
    let env = env(db).await;
    let mut c = Client::as_user(&env, "bob").await;
    let (s, html) = c.page("/admin/").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("data-testid=\"no-apps\""), "{html}");
    for page in &PAGES[1..] {
        assert_eq!(c.get(page).await.status(), StatusCode::FORBIDDEN, "{page}");
    }
    for (uri, fields) in [
        (
            "/admin/auth/user/add/",
            vec![("username", "x"), ("unusable_password", "on")],
        ),
        ("/admin/auth/group/add/", vec![("name", "G")]),
        ("/admin/auth/group/Viewers/delete/", vec![]),
        ("/admin/auth/user/tom/delete/", vec![]),
        (
            "/admin/auth/permission/add/",
            vec![
                ("app_label", "a"),
                ("model", "m"),
                ("codename", "c"),
                ("name", "n"),
            ],
        ),
    ] {
        assert_eq!(
            c.post_form(uri, &fields).await.status(),
            StatusCode::FORBIDDEN,
            "{uri}"
        );
    }
    assert!(env.store.user("x").await.unwrap().is_none());
    assert!(env.store.group_state("Viewers").await.unwrap().is_some());
    assert!(audit(&env.store)
        .await
        .iter()
        .all(|a| !a.starts_with("user:bob")));
}

async fn the_index_lists_only_what_the_user_may_view(db: TestDb) {
    let env = env(db).await;
    let mut helen = Client::as_user(&env, "helen").await;
    let (_, html) = helen.page("/admin/").await;
    assert!(html.contains("data-testid=\"model-auth-users\""));
    assert!(html.contains("data-testid=\"model-auth-groups\""));
    assert!(!html.contains("data-testid=\"model-auth-permissions\""));
    assert!(html.contains("data-testid=\"link-matrix\""));
    assert!(!html.contains("data-testid=\"link-audit\""));
    let mut root = Client::as_user(&env, "root").await;
    let (_, html) = root.page("/admin/").await;
    assert!(html.contains("data-testid=\"model-auth-permissions\""));
    assert!(html.contains("data-testid=\"link-audit\""));
}

async fn posts_without_csrf_token_are_refused(db: TestDb) {
    let env = env(db).await;
    let mut c = Client::as_user(&env, "root").await;
    let r = c
        .post_raw("/admin/auth/group/add/", &[("name", "NoCsrf")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(env.store.group_state("NoCsrf").await.unwrap().is_none());
}

async fn every_page_renders_for_a_superuser(db: TestDb) {
    let env = env(db).await;
    let mut c = Client::as_user(&env, "root").await;
    for page in PAGES {
        let (s, html) = c.page(page).await;
        assert_eq!(s, StatusCode::OK, "{page}: {html}");
        assert!(html.contains("csrfmiddlewaretoken"), "{page}");
    }
    assert_eq!(c.get("/admin/admin.css").await.status(), StatusCode::OK);
    assert_eq!(
        c.get("/admin/auth/user/nobody/change/").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.get("/admin/auth/group/Nope/change/").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.get("/admin/nope/thing/").await.status(),
        StatusCode::NOT_FOUND
    );
}

async fn mount_prefix_is_used_in_links(db: TestDb) {
    let env = env(db).await;
    let mut c = Client::as_user(&env, "root").await;
    let (_, html) = c.page("/admin/auth/group/").await;
    assert!(
        html.contains("href=\"/admin/auth/group/Viewers/change/\"")
            || html.contains("href=\"/admin/auth/group/Viewers/change/\""),
        "{html}"
    );
}

async fn the_router_also_works_nested(db: TestDb) {
    let env = env(db).await;
    let auth =
        castellan_axum::AuthLayer::new(env.store.clone(), castellan_axum::AuthConfig::new(SECRET))
            .await
            .unwrap();
    let app = axum::Router::new()
        .nest(
            "/backoffice",
            castellan_admin::Admin::new(env.store.clone()).router(),
        )
        .nest("/accounts", castellan_axum::router())
        .layer(auth);
    let env2 = Env {
        store: env.store.clone(),
        app,
        db: env.db.clone(),
    };
    let mut c = Client::as_user(&env2, "root").await;
    let (s, html) = c.page("/backoffice").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("/backoffice/auth/user/") || html.contains("/backoffice/auth/user/"),
        "{html}"
    );
    assert_eq!(
        c.get("/backoffice/auth/group/Viewers/change/")
            .await
            .status(),
        StatusCode::OK
    );
}

async fn the_bare_prefix_redirects_to_the_index(db: TestDb) {
    let env = env(db).await;
    let mut c = Client::as_user(&env, "root").await;
    let r = c.get("/admin").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/admin/");
}

async fn login_and_logout_urls_are_configurable(db: TestDb) {
    let env = env_with(db, |a| {
        a.with_login_url("/staff/login/")
            .with_logout_url("/staff/logout/")
    })
    .await;
    let r = client(&env).get("/admin/auth/user/").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(location(&r), "/staff/login/?next=/admin/auth/user/");
    let mut root = Client::as_user(&env, "root").await;
    let (_, html) = root.page("/admin/").await;
    let action = html
        .split("data-testid=\"nav-user\"")
        .nth(1)
        .and_then(|s| s.split("action=\"").nth(1))
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    assert_eq!(action, "/staff/logout/");
    // The default is Django's.
    let (_, html) = Client::as_user(&env_with_defaults(&env).await, "root")
        .await
        .page("/admin/")
        .await;
    assert!(html.contains("action=\"/accounts/logout/\""), "{html}");
}

/// The same store with a default `Admin`.
async fn env_with_defaults(env: &Env) -> Env {
    let auth =
        castellan_axum::AuthLayer::new(env.store.clone(), castellan_axum::AuthConfig::new(SECRET))
            .await
            .unwrap();
    let app = axum::Router::new()
        .merge(castellan_admin::Admin::new(env.store.clone()).router_at("/admin"))
        .nest("/accounts", castellan_axum::router())
        .layer(auth);
    Env {
        store: env.store.clone(),
        app,
        db: env.db.clone(),
    }
}

/// castellan-axum's pages rendered by `AdminPages`: the login form keeps Django's field names and
/// logs in; the staff guard's 403 and the admin's own 403 are in the admin's look and name what
/// is missing.
async fn admin_pages_give_login_and_403_the_admin_look(db: TestDb) {
    let env = env(db).await;
    let config = castellan_axum::AuthConfig::new(SECRET).with_pages(
        castellan_admin::AdminPages::new()
            .with_title("Test administration")
            .with_admin_url("/admin/"),
    );
    let auth = castellan_axum::AuthLayer::new(env.store.clone(), config)
        .await
        .unwrap();
    let app = axum::Router::new()
        .merge(
            castellan_admin::Admin::new(env.store.clone())
                .with_title("Test administration")
                .router_at("/admin"),
        )
        .nest("/accounts", castellan_axum::router())
        .layer(auth);
    let env = Env {
        store: env.store.clone(),
        app,
        db: env.db.clone(),
    };
    let mut anon = client(&env);
    let (s, html) = anon.page("/accounts/login/?next=/admin/auth/user/").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("<style>") && html.contains("--accent"),
        "the admin's CSS"
    );
    assert!(html.contains("Test administration"));
    assert!(html.contains("data-testid=\"login-form\""));
    for name in ["csrfmiddlewaretoken", "username", "password", "next"] {
        assert!(html.contains(&format!("name=\"{name}\"")), "{name}");
    }
    assert!(html.contains("value=\"/admin/auth/user/\""), "next kept");
    // A failed login shows the error in the same page.
    let token = field(&html, "csrfmiddlewaretoken").unwrap();
    let r = anon
        .post_raw(
            "/accounts/login/",
            &[
                ("csrfmiddlewaretoken", &token),
                ("username", "bob"),
                ("password", "wrong"),
            ],
        )
        .await;
    let html = body(r).await;
    assert!(
        html.contains("data-testid=\"errors\"") && html.contains("<style>"),
        "{html}"
    );
    // The real login goes through the same form.
    let mut bob = Client::as_user(&env, "bob").await;
    let (s, html) = bob.page("/admin/auth/user/").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(html.contains("<style>"), "the admin's own 403 in its look");
    assert!(html.contains("auth.view_user"), "{html}");
    // The staff guard's 403 (carl is not staff) goes through AdminPages.
    let mut carl = Client::as_user(&env, "carl").await;
    let (s, html) = carl.page("/admin/").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(html.contains("<style>") && html.contains("Test administration"));
    assert!(html.contains("active staff"), "{html}");
    assert!(html.contains("data-testid=\"forbidden-login\""));
    assert!(
        !html.contains("data-testid=\"forbidden-home\""),
        "no link to the admin for someone it refuses: {html}"
    );
}

admin_tests!(
    admin_pages_give_login_and_403_the_admin_look,
    login_and_logout_urls_are_configurable,
    anonymous_users_are_sent_to_login_with_next,
    logged_in_non_staff_get_403_even_with_permissions,
    inactive_staff_are_logged_out_and_redirected,
    staff_without_permissions_see_an_empty_index_and_403_everywhere_else,
    the_index_lists_only_what_the_user_may_view,
    posts_without_csrf_token_are_refused,
    every_page_renders_for_a_superuser,
    mount_prefix_is_used_in_links,
    the_router_also_works_nested,
    the_bare_prefix_redirects_to_the_index,
);
