//! The pages a permitted staff user works with: users, groups, permissions, matrix, audit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use http::StatusCode;

async fn user_list_searches_filters_and_pages(db: TestDb) {
    let env = env(db).await;
    for i in 0..130 {
        user(&env.store, &format!("bulk{i:03}"), |u| {
            u.first_name = "Bulk".into()
        })
        .await;
    }
    let mut c = Client::as_user(&env, "helen").await;
    let (s, html) = c.page("/admin/auth/user/?q=BULK").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("130 users match"), "{html}");
    assert!(html.contains("user-row-bulk099") && !html.contains("user-row-bulk100"));
    let next = next_link(&html);
    let (_, html2) = c.page(&format!("/admin/auth/user/{next}")).await;
    assert!(
        html2.contains("user-row-bulk100")
            && html2.contains("user-row-bulk129")
            && !html2.contains("user-row-bulk099"),
        "{next}"
    );
    assert!(!html2.contains("rel=\"next\""));
    let (_, html) = c.page("/admin/auth/user/?group=Helpdesk").await;
    assert!(
        html.contains("user-row-helen")
            && html.contains("user-row-carl")
            && !html.contains("user-row-tom")
    );
    // Group names are exact, also on MariaDB's case-insensitive collation.
    let (_, html) = c.page("/admin/auth/user/?group=helpdesk").await;
    assert!(html.contains("0 users match"), "{html}");
    let (_, html) = c.page("/admin/auth/user/?staff=1&superuser=0").await;
    assert!(
        html.contains("user-row-helen")
            && html.contains("user-row-bob")
            && !html.contains("user-row-root")
    );
    let (_, html) = c.page("/admin/auth/user/?q=100%25").await;
    assert!(html.contains("0 users match"), "% is literal");
    assert_eq!(
        c.get("/admin/auth/user/?active=maybe").await.status(),
        StatusCode::BAD_REQUEST
    );
}

async fn create_user_set_password_and_see_provenance(db: TestDb) {
    let env = env(db).await;
    let mut root = Client::as_user(&env, "root").await;
    // The empty form is empty: not pre-filled with the editor's own username.
    let (status, html) = root.page("/admin/auth/user/add/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"name="username" required value="""#),
        "{html}"
    );
    assert!(html.contains(r#"data-testid="nav-user">root<"#), "{html}");
    let r = root
        .post_form(
            "/admin/auth/user/add/",
            &[
                ("username", "nina"),
                ("email", "nina@example.org"),
                ("password1", "s3cret-pass-word"),
                ("password2", "s3cret-pass-word"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/admin/auth/user/nina/change/");
    assert!(env
        .store
        .authenticate("nina", "s3cret-pass-word")
        .await
        .unwrap()
        .is_some());
    let r = root
        .post_form(
            "/admin/auth/user/add/",
            &[("username", "nina"), ("unusable_password", "on")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "duplicate username");
    let r = root
        .post_form(
            "/admin/auth/user/add/",
            &[("username", "pia"), ("password1", "a"), ("password2", "b")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "mismatch");
    assert!(env.store.user("pia").await.unwrap().is_none());
    let html = body(r).await;
    assert!(
        html.contains(r#"name="username" required value="pia""#),
        "a refused form keeps what was typed: {html}"
    );
    // Django's password validators, on the add form and on the set-password form.
    for (password, message) in [
        ("short", "This password is too short."),
        ("piapi", "The password is too similar to the username."),
        ("123456789", "This password is entirely numeric."),
    ] {
        let r = root
            .post_form(
                "/admin/auth/user/add/",
                &[
                    ("username", "pia"),
                    ("password1", password),
                    ("password2", password),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{password}");
        assert!(body(r).await.contains(message), "{password}");
        assert!(env.store.user("pia").await.unwrap().is_none());
        let r = root
            .post_form(
                "/admin/auth/user/nina/password/",
                &[("password1", password), ("password2", password)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{password}");
    }
    let r = root
        .post_form(
            "/admin/auth/user/nina/password/",
            &[("password1", "nina"), ("password2", "nina")],
        )
        .await;
    assert!(body(r).await.contains("too similar to the username"));
    assert!(env
        .store
        .authenticate("nina", "s3cret-pass-word")
        .await
        .unwrap()
        .is_some());
    // Groups and a direct permission, then provenance.
    let v = env.store.user_state("nina").await.unwrap().unwrap().version;
    let r = root
        .post_form(
            "/admin/auth/user/nina/change/",
            &[
                ("version", &v),
                ("group", "Viewers"),
                ("shown_group", "Viewers"),
                ("perm", "auth.view_user"),
                ("perm", "auth.add_group"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = root.page("/admin/auth/user/nina/change/").await;
    let row = html
        .split("data-testid=\"effective-auth.view_user\"")
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert!(
        row.contains("direct") && row.contains("via group Viewers"),
        "{row}"
    );
    let row = html
        .split("data-testid=\"effective-auth.add_group\"")
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert!(
        row.contains("direct") && !row.contains("via group"),
        "{row}"
    );
    // Set password, then make it unusable.
    let r = root
        .post_form(
            "/admin/auth/user/nina/password/",
            &[
                ("password1", "another-pass-1"),
                ("password2", "another-pass-1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(env
        .store
        .authenticate("nina", "another-pass-1")
        .await
        .unwrap()
        .is_some());
    let r = root
        .post_form(
            "/admin/auth/user/nina/password/",
            &[("unusable_password", "on")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(!env
        .store
        .user("nina")
        .await
        .unwrap()
        .unwrap()
        .has_usable_password());
    let log = audit(&env.store).await;
    for a in [
        "user:root user.create nina",
        "user:root user.add_group nina",
        "user:root user.grant nina",
        "user:root user.set_password nina",
    ] {
        assert!(log.contains(&a.to_owned()), "{a} in {log:?}");
    }
    let r = root.post_form("/admin/auth/user/nina/delete/", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(env.store.user("nina").await.unwrap().is_none());
}

async fn groups_create_review_save_rename_delete(db: TestDb) {
    let env = env(db).await;
    let mut root = Client::as_user(&env, "root").await;
    let r = root
        .post_form("/admin/auth/group/add/", &[("name", "Editors")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (s, html) = root
        .page("/admin/auth/group/Editors/change/?app=auth&model=group&q=view")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("data-testid=\"perm-auth.view_group\"")
            && !html.contains("data-testid=\"perm-auth.view_user\""),
        "filtered picker"
    );
    let v = field(&html, "version").unwrap();
    env.store
        .grant_group("Editors", &["auth.view_user".into()])
        .await
        .unwrap();
    // The picker showed only view_group: the review refuses the stale version...
    let r = root
        .post_form(
            "/admin/auth/group/Editors/change/",
            &[
                ("step", "review"),
                ("version", &v),
                ("shown_perm", "auth.view_group"),
                ("perm", "auth.view_group"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // ...and with the fresh one shows exactly the additions and removals.
    let v = env
        .store
        .group_state("Editors")
        .await
        .unwrap()
        .unwrap()
        .version;
    let r = root
        .post_form(
            "/admin/auth/group/Editors/change/",
            &[
                ("step", "review"),
                ("version", &v),
                ("shown_perm", "auth.view_group"),
                ("perm", "auth.view_group"),
                ("shown_perm", "auth.view_user"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = body(r).await;
    let added = html
        .split("data-testid=\"review-add\"")
        .nth(1)
        .unwrap()
        .split("</ul>")
        .next()
        .unwrap();
    let removed = html
        .split("data-testid=\"review-remove\"")
        .nth(1)
        .unwrap()
        .split("</ul>")
        .next()
        .unwrap();
    assert!(added.contains("auth.view_group") && !added.contains("auth.view_user"));
    assert!(removed.contains("auth.view_user"));
    assert_eq!(
        env.store
            .group_state("Editors")
            .await
            .unwrap()
            .unwrap()
            .permissions,
        ["auth.view_user"],
        "review writes nothing"
    );
    // Two admins: the first save wins, the second (same version) is refused.
    let save = [
        ("step", "save"),
        ("version", v.as_str()),
        ("add", "auth.view_group"),
        ("remove", "auth.view_user"),
    ];
    let r = root
        .post_form("/admin/auth/group/Editors/change/", &save)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mut helen = Client::as_user(&env, "helen").await;
    let r = helen
        .post_form(
            "/admin/auth/group/Editors/change/",
            &[("step", "save"), ("version", &v), ("add", "auth.view_user")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(body(r).await.contains("changed by someone else"));
    assert_eq!(
        env.store
            .group_state("Editors")
            .await
            .unwrap()
            .unwrap()
            .permissions,
        ["auth.view_group"]
    );
    // Rename and delete.
    let r = root
        .post_form(
            "/admin/auth/group/Editors/rename/",
            &[("new_name", "Writers")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(env.store.group_state("Writers").await.unwrap().is_some());
    let r = root
        .post_form(
            "/admin/auth/group/Writers/rename/",
            &[("new_name", "Viewers")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "name taken");
    let r = root
        .post_form("/admin/auth/group/Writers/delete/", &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(env.store.group_state("Writers").await.unwrap().is_none());
    let log = audit(&env.store).await;
    for a in [
        "user:root group.create Editors",
        "user:root group.grant Editors",
        "user:root group.revoke Editors",
        "user:root group.rename Writers",
        "user:root group.delete Writers",
    ] {
        assert!(log.contains(&a.to_owned()), "{a} in {log:?}");
    }
    let (s, html) = root.page("/admin/auth/group/Helpdesk/change/").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("helen") && html.contains("carl"),
        "members listed"
    );
}

async fn permissions_browse_and_create(db: TestDb) {
    let env = env(db).await;
    let mut root = Client::as_user(&env, "root").await;
    let r = root
        .post_form(
            "/admin/auth/permission/add/",
            &[
                ("app_label", "bookshelf"),
                ("model", "book"),
                ("codename", "publish_book"),
                ("name", "Can publish book"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = root.page("/admin/auth/permission/?app=bookshelf").await;
    assert!(
        html.contains("data-testid=\"permission-bookshelf.publish_book\"")
            && !html.contains("permission-auth.view_user")
    );
    let r = root
        .post_form(
            "/admin/auth/permission/add/",
            &[
                ("app_label", "bookshelf"),
                ("model", "book"),
                ("codename", "Bad Name!"),
                ("name", "x"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(audit(&env.store)
        .await
        .contains(&"user:root permission.create bookshelf.publish_book".to_owned()));
}

async fn matrix_and_audit_pages(db: TestDb) {
    let env = env(db).await;
    let mut helen = Client::as_user(&env, "helen").await;
    let (s, html) = helen.page("/admin/matrix/?app=auth").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("matrix-row-group-Helpdesk"));
    let (s, html) = helen.page("/admin/matrix/?users=tom").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("matrix-row-user-tom"));
    assert_eq!(
        helen.get("/admin/audit/").await.status(),
        StatusCode::FORBIDDEN
    );
    let mut root = Client::as_user(&env, "root").await;
    root.post_form("/admin/auth/group/add/", &[("name", "Audited")])
        .await;
    let (s, html) = root
        .page("/admin/audit/?action=group.create&since=1h")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("Audited") && html.contains("<td>root</td>"),
        "{html}"
    );
    let (_, html) = root.page("/admin/audit/?action=user.delete").await;
    assert!(!html.contains("Audited"));
    assert_eq!(
        root.get("/admin/audit/?since=yesterday").await.status(),
        StatusCode::BAD_REQUEST
    );
}

async fn names_are_escaped(db: TestDb) {
    let env = env(db).await;
    env.store
        .create_group("<script>alert(1)</script>")
        .await
        .unwrap();
    let mut root = Client::as_user(&env, "root").await;
    let (_, html) = root.page("/admin/auth/group/").await;
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains("&lt;script&gt;"));
}

/// Keyset pages over mixed-case names and LIKE wildcards: every user exactly once, in the
/// database's order, and the search is case-insensitive on every backend.
async fn keyset_pages_cover_every_user_once(db: TestDb) {
    let env = env(db).await;
    for name in ["Zed", "adam", "Bobby", "x_y", "xay", "Émile", "emma"] {
        user(&env.store, name, |u| {
            u.last_name = "Mixed".into();
            if name == "xay" {
                u.first_name = "100%".into();
            }
        })
        .await;
    }
    // Every order, both ways: the pages cover every user exactly once, in that order.
    for sort in castellan_store::UserSort::ALL {
        for descending in [false, true] {
            let mut seen = Vec::new();
            let mut after = None;
            loop {
                let page = env
                    .store
                    .user_page(&castellan_store::UserQuery {
                        after: after.clone(),
                        limit: 3,
                        sort,
                        descending,
                        ..Default::default()
                    })
                    .await
                    .unwrap();
                assert_eq!(page.total, 13);
                seen.extend(page.users);
                match page.next {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
            let mut names: Vec<&str> = seen.iter().map(|u| u.username.as_str()).collect();
            assert_eq!(names.len(), 13, "{sort:?} {descending}: {names:?}");
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), 13, "{sort:?} {descending}: no user twice");
            let flags: Vec<bool> = seen
                .iter()
                .map(|u| match sort {
                    castellan_store::UserSort::IsActive => u.is_active,
                    castellan_store::UserSort::IsStaff => u.is_staff,
                    castellan_store::UserSort::IsSuperuser => u.is_superuser,
                    _ => false,
                })
                .collect();
            let mut ordered = flags.clone();
            ordered.sort_unstable();
            if descending {
                ordered.reverse();
            }
            assert_eq!(flags, ordered, "{sort:?} {descending}");
        }
    }
    assert!(env
        .store
        .user_page(&castellan_store::UserQuery {
            after: Some("not a cursor".into()),
            sort: castellan_store::UserSort::Email,
            ..Default::default()
        })
        .await
        .unwrap_err()
        .is_input());
    let search = |s: &str| {
        let store = env.store.clone();
        let s = s.to_owned();
        async move {
            let mut v: Vec<String> = store
                .user_page(&castellan_store::UserQuery {
                    search: Some(s),
                    ..Default::default()
                })
                .await
                .unwrap()
                .users
                .into_iter()
                .map(|u| u.username)
                .collect();
            v.sort();
            v
        }
    };
    assert_eq!(search("x_y").await, ["x_y"]);
    assert_eq!(search("0%").await, ["xay"]);
    assert_eq!(search("ZED").await, ["Zed"]);
    assert_eq!(search("mixed").await.len(), 7);
}

admin_tests!(
    keyset_pages_cover_every_user_once,
    user_list_searches_filters_and_pages,
    create_user_set_password_and_see_provenance,
    groups_create_review_save_rename_delete,
    permissions_browse_and_create,
    matrix_and_audit_pages,
    names_are_escaped,
);
