//! Django's admin flows on the built-in pages: the message after every save and delete, the
//! three save buttons, breadcrumbs, "Recent actions" on the index, per-object History pages, the
//! header's change-password link and the audit trail's filters and pages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use http::StatusCode;

fn version_of(html: &str) -> String {
    field(html, "version").unwrap()
}

async fn users_saved_with_messages_and_buttons(db: TestDb) {
    let env = env(db).await;
    let mut root = Client::as_user(&env, "root").await;
    // Adding a user goes on to its page (Django's UserAdmin), with the message.
    let r = root
        .post_form(
            "/admin/auth/user/add/",
            &[
                ("username", "nina"),
                ("unusable_password", "on"),
                ("_save", "1"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/admin/auth/user/nina/change/");
    let (_, html) = root.page("/admin/auth/user/nina/change/").await;
    assert!(
        html.contains("The user “nina” was added successfully. You may edit it again below."),
        "{html}"
    );
    // "Save and add another" from the add form.
    let r = root
        .post_form(
            "/admin/auth/user/add/",
            &[
                ("username", "olga"),
                ("unusable_password", "on"),
                ("_addanother", "1"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/admin/auth/user/add/");
    let (_, html) = root.page("/admin/auth/user/add/").await;
    assert!(html.contains("You may add another user below."), "{html}");
    // Change: "Save" goes to the list, "continue" back to the user.
    let (_, html) = root.page("/admin/auth/user/nina/change/").await;
    let r = root
        .post_form(
            "/admin/auth/user/nina/change/",
            &[
                ("version", &version_of(&html)),
                ("first_name", "Nina"),
                ("_save", "1"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/admin/auth/user/");
    let (_, html) = root.page("/admin/auth/user/").await;
    assert!(
        html.contains("The user “nina” was changed successfully."),
        "{html}"
    );
    let (_, html) = root.page("/admin/auth/user/nina/change/").await;
    let r = root
        .post_form(
            "/admin/auth/user/nina/change/",
            &[
                ("version", &version_of(&html)),
                ("last_name", "N."),
                ("_continue", "1"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/admin/auth/user/nina/change/");
    // The page: breadcrumbs, History link, human join date with the exact time on hover.
    let (_, html) = root.page("/admin/auth/user/nina/change/").await;
    assert!(html.contains("You may edit it again below."));
    assert!(
        html.contains(r#"<a href="/admin/">Home</a>"#)
            && html.contains(r#"<a href="/admin/#app-auth">Authentication and Authorization</a>"#)
            && html.contains(r#"<a href="/admin/auth/user/">Users</a>"#)
            && html.contains(r#"<span aria-current="page">nina</span>"#),
        "{html}"
    );
    assert!(html.contains(r#"href="/admin/auth/user/nina/history/""#));
    assert!(
        html.contains("Joined <time datetime=\"") && html.contains("just now</time>"),
        "{html}"
    );
    assert!(html.contains("never logged in"), "{html}");
    // Password set: Django's message.
    let r = root
        .post_form(
            "/admin/auth/user/nina/password/",
            &[
                ("password1", "another-pass-1"),
                ("password2", "another-pass-1"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/admin/auth/user/nina/change/");
    let (_, html) = root.page("/admin/auth/user/nina/change/").await;
    assert!(html.contains("Password changed successfully."));
    // Delete: the message on the list.
    let r = root.post_form("/admin/auth/user/olga/delete/", &[]).await;
    assert_eq!(location(&r), "/admin/auth/user/");
    let (_, html) = root.page("/admin/auth/user/").await;
    assert!(html.contains("The user “olga” was deleted successfully."));
    // An unknown button-like field is still refused.
    let (_, html) = root.page("/admin/auth/user/nina/change/").await;
    let r = root
        .post_form(
            "/admin/auth/user/nina/change/",
            &[("version", &version_of(&html)), ("_saveasnew", "1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

async fn groups_saved_with_messages(db: TestDb) {
    let env = env(db).await;
    let mut root = Client::as_user(&env, "root").await;
    let r = root
        .post_form("/admin/auth/group/add/", &[("name", "Editors")])
        .await;
    assert_eq!(location(&r), "/admin/auth/group/Editors/change/");
    let (_, html) = root.page("/admin/auth/group/Editors/change/").await;
    assert!(
        html.contains("The group “Editors” was added successfully. You may edit it again below.")
    );
    // The review step's "Save" goes to the list; "continue" back to the group.
    let save = |button: &'static str, version: String| {
        vec![
            ("step", "save".to_owned()),
            ("version", version),
            ("add", "auth.view_user".to_owned()),
            (button, "1".to_owned()),
        ]
    };
    let pairs = save("_continue", version_of(&html));
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = root
        .post_form("/admin/auth/group/Editors/change/", &pairs)
        .await;
    assert_eq!(location(&r), "/admin/auth/group/Editors/change/");
    let (_, html) = root.page("/admin/auth/group/Editors/change/").await;
    assert!(
        html.contains("The group “Editors” was changed successfully. You may edit it again below.")
    );
    let pairs = save("_save", version_of(&html));
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = root
        .post_form("/admin/auth/group/Editors/change/", &pairs)
        .await;
    assert_eq!(location(&r), "/admin/auth/group/");
    // Rename and delete say so.
    let (_, html) = root.page("/admin/auth/group/Editors/change/").await;
    let r = root
        .post_form(
            "/admin/auth/group/Editors/rename/",
            &[("new_name", "Writers"), ("version", &version_of(&html))],
        )
        .await;
    assert_eq!(location(&r), "/admin/auth/group/Writers/change/");
    let (_, html) = root.page("/admin/auth/group/Writers/change/").await;
    assert!(html.contains("The group “Editors” was renamed to “Writers”."));
    let r = root
        .post_form(
            "/admin/auth/group/Writers/delete/",
            &[("version", &version_of(&html))],
        )
        .await;
    assert_eq!(location(&r), "/admin/auth/group/");
    let (_, html) = root.page("/admin/auth/group/").await;
    assert!(html.contains("The group “Writers” was deleted successfully."));
}

async fn recent_actions_and_history(db: TestDb) {
    let env = env(db).await;
    let mut root = Client::as_user(&env, "root").await;
    let (_, html) = root.page("/admin/").await;
    assert!(
        html.contains(r#"data-testid="recent-none""#),
        "nothing done yet: {html}"
    );
    assert!(html.contains(r#"href="/accounts/password_change/" data-testid="nav-change-password""#));
    root.post_form("/admin/auth/group/add/", &[("name", "Editors")])
        .await;
    let (_, html) = root.page("/admin/auth/user/tom/change/").await;
    root.post_form(
        "/admin/auth/user/tom/change/",
        &[
            ("version", &version_of(&html)),
            ("group", "Viewers"),
            ("shown_group", "Viewers"),
        ],
    )
    .await;
    root.post_form("/admin/auth/user/sid/delete/", &[]).await;
    // Root's own actions, newest first, linked unless deleted.
    let (_, html) = root.page("/admin/").await;
    let recent = html
        .split(r#"data-testid="recent-actions""#)
        .nth(1)
        .unwrap();
    let (sid, tom, editors) = (
        recent.find("deleted</span>\nsid").unwrap(),
        recent
            .find(r#"<a href="/admin/auth/user/tom/change/">tom</a>"#)
            .unwrap(),
        recent
            .find(r#"<a href="/admin/auth/group/Editors/change/">Editors</a>"#)
            .unwrap(),
    );
    assert!(sid < tom && tom < editors, "{recent}");
    assert!(
        !recent.contains("/admin/auth/user/sid/change/"),
        "deleted: no link"
    );
    // Helen sees only her own actions: none.
    let mut helen = Client::as_user(&env, "helen").await;
    let (_, html) = helen.page("/admin/").await;
    assert!(html.contains(r#"data-testid="recent-none""#), "{html}");
    // Tom's history: the seed's entries and root's group change, readable.
    let (s, html) = helen.page("/admin/auth/user/tom/history/").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains(r#"<strong>group</strong>: <ins class="new">Viewers</ins>"#),
        "{html}"
    );
    assert!(html.contains("<td>root</td>"), "{html}");
    let (s, html) = helen.page("/admin/auth/group/Editors/history/").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("group.create"), "{html}");
    // Without view permission on users or groups: 403; unknown objects: 404.
    let mut bob = Client::as_user(&env, "bob").await;
    for path in [
        "/admin/auth/user/tom/history/",
        "/admin/auth/group/Editors/history/",
    ] {
        assert_eq!(
            bob.get(path).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    assert_eq!(
        root.get("/admin/auth/user/nobody/history/").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        root.get("/admin/auth/user/tom/history/?before=x")
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
}

async fn audit_filters_and_pages(db: TestDb) {
    let env = env(db).await;
    let mut root = Client::as_user(&env, "root").await;
    for i in 0..55 {
        root.post_form("/admin/auth/group/add/", &[("name", &format!("G{i:02}"))])
            .await;
    }
    let (s, html) = root
        .page("/admin/audit/?actor=root&action=group.create")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        html.matches("<tr data-testid=\"audit-").count(),
        50,
        "a page of 50"
    );
    assert!(
        html.contains(">G54<") && !html.contains(">G04<"),
        "newest first"
    );
    let next = next_link(&html);
    assert!(
        next.contains("actor=root") && next.contains("before="),
        "{next}"
    );
    let (_, html) = root.page(&format!("/admin/audit/{next}")).await;
    assert_eq!(html.matches("<tr data-testid=\"audit-").count(), 5);
    assert!(html.contains(">G04<") && html.contains(">G00<") && !html.contains(">G05<"));
    assert!(!html.contains("rel=\"next\""));
    // One object; the seed's changes were made by no admin user.
    let (_, html) = root
        .page("/admin/audit/?object_type=group&object=G07")
        .await;
    assert_eq!(
        html.matches("<tr data-testid=\"audit-").count(),
        1,
        "{html}"
    );
    let (_, html) = root.page("/admin/audit/?actor=helen").await;
    assert!(html.contains("No entries."));
    assert_eq!(
        root.get("/admin/audit/?before=soon").await.status(),
        StatusCode::BAD_REQUEST
    );
    let mut helen = Client::as_user(&env, "helen").await;
    assert_eq!(
        helen.get("/admin/audit/").await.status(),
        StatusCode::FORBIDDEN
    );
}

async fn user_list_sorts_and_runs_actions(db: TestDb) {
    let env = env(db).await;
    let mut root = Client::as_user(&env, "root").await;
    // Sorting: by a column either way, shown with aria-sort; an unknown column is a 400.
    let (_, html) = root.page("/admin/auth/user/?o=-username").await;
    let (tom, bob) = (
        html.find("user-row-tom").unwrap(),
        html.find("user-row-bob").unwrap(),
    );
    assert!(tom < bob, "descending");
    assert!(html.contains(r#"aria-sort="descending""#));
    assert!(
        html.contains(r#"href="?o=username" data-testid="sort-username""#),
        "{html}"
    );
    let (_, html) = root.page("/admin/auth/user/?o=-is_superuser").await;
    assert!(html.find("user-row-root").unwrap() < html.find("user-row-bob").unwrap());
    assert_eq!(
        root.get("/admin/auth/user/?o=password").await.status(),
        StatusCode::BAD_REQUEST
    );
    // No selection: Django's warning, nothing changed.
    let r = root
        .post_form("/admin/auth/user/", &[("action", "deactivate")])
        .await;
    assert_eq!(location(&r), "/admin/auth/user/");
    let (_, html) = root.page("/admin/auth/user/").await;
    assert!(html.contains("Items must be selected in order to perform actions on them."));
    // Deactivate, then activate, two users.
    let both = |action: &'static str| {
        vec![
            ("action", action),
            ("_selected_action", "tom"),
            ("_selected_action", "sid"),
        ]
    };
    let r = root
        .post_form("/admin/auth/user/", &both("deactivate"))
        .await;
    assert_eq!(location(&r), "/admin/auth/user/");
    let (_, html) = root.page("/admin/auth/user/").await;
    assert!(html.contains("Successfully deactivated 2 users."), "{html}");
    for u in ["tom", "sid"] {
        assert!(!env.store.user(u).await.unwrap().unwrap().is_active);
    }
    root.post_form("/admin/auth/user/", &both("activate")).await;
    assert!(env.store.user("tom").await.unwrap().unwrap().is_active);
    // Group membership.
    let mut fields = both("add_to_group");
    fields.push(("group", "Viewers"));
    root.post_form("/admin/auth/user/", &fields).await;
    assert_eq!(
        env.store.user_groups("sid").await.unwrap(),
        ["Admins", "Viewers"]
    );
    let mut fields = both("remove_from_group");
    fields.push(("group", "Viewers"));
    root.post_form("/admin/auth/user/", &fields).await;
    assert_eq!(env.store.user_groups("sid").await.unwrap(), ["Admins"]);
    let (_, html) = root.page("/admin/auth/user/").await;
    assert!(html.contains("Successfully removed from the group “Viewers”: 2 users."));
    // Delete: a confirmation page first, then the delete.
    let r = root
        .post_form("/admin/auth/user/", &both("delete_selected"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = body(r).await;
    assert!(page.contains("Are you sure?"));
    assert!(env.store.user("tom").await.unwrap().is_some());
    let versions: Vec<&str> = page
        .split(r#"name="_version" value=""#)
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    let r = root
        .post_form(
            "/admin/auth/user/",
            &[
                ("action", "delete_selected"),
                ("post", "yes"),
                ("_selected_action", "tom"),
                ("_version", versions[0]),
                ("_selected_action", "sid"),
                ("_version", versions[1]),
            ],
        )
        .await;
    assert_eq!(location(&r), "/admin/auth/user/");
    assert!(env.store.user("tom").await.unwrap().is_none());
    assert!(env.store.user("sid").await.unwrap().is_none());
    let (_, html) = root.page("/admin/auth/user/").await;
    assert!(html.contains("Successfully deleted 2 users."));
}

admin_tests!(
    user_list_sorts_and_runs_actions,
    users_saved_with_messages_and_buttons,
    groups_saved_with_messages,
    recent_actions_and_history,
    audit_filters_and_pages,
);
