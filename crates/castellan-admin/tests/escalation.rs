//! Crafted POSTs for every escalation path: each is refused and changes nothing; the same change
//! by a superuser works (so the tests can fail).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use http::StatusCode;

async fn version(env: &Env, user: &str) -> String {
    env.store.user_state(user).await.unwrap().unwrap().version
}

async fn edit(c: &mut Client, env: &Env, user: &str, extra: &[(&str, &str)]) -> http::StatusCode {
    let v = version(env, user).await;
    let mut fields = vec![("version", v.as_str())];
    fields.extend_from_slice(extra);
    c.post(&format!("/admin/auth/user/{user}/change/"), &fields)
        .await
        .status()
}

async fn helen_cannot_grant_a_permission_she_does_not_hold(db: TestDb) {
    let env = env(db).await;
    let mut helen = Client::as_user(&env, "helen").await;
    let s = edit(&mut helen, &env, "tom", &[("perm", "auth.delete_user")]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(env
        .store
        .user_state("tom")
        .await
        .unwrap()
        .unwrap()
        .permissions
        .is_empty());
    // One she holds works.
    let s = edit(&mut helen, &env, "tom", &[("perm", "auth.view_user")]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(
        env.store
            .user_state("tom")
            .await
            .unwrap()
            .unwrap()
            .permissions,
        ["auth.view_user"]
    );
    assert!(audit(&env.store)
        .await
        .contains(&"user:helen user.grant tom".to_owned()));
}

async fn helen_cannot_add_a_user_to_a_stronger_group(db: TestDb) {
    let env = env(db).await;
    let mut helen = Client::as_user(&env, "helen").await;
    let s = edit(
        &mut helen,
        &env,
        "tom",
        &[("group", "Admins"), ("shown_group", "Admins")],
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(env.store.user_groups("tom").await.unwrap().is_empty());
    let s = edit(
        &mut helen,
        &env,
        "tom",
        &[("group", "Viewers"), ("shown_group", "Viewers")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(env.store.user_groups("tom").await.unwrap(), ["Viewers"]);
}

async fn helen_cannot_set_staff_or_superuser(db: TestDb) {
    let env = env(db).await;
    let mut helen = Client::as_user(&env, "helen").await;
    for flag in ["is_superuser", "is_staff"] {
        let s = edit(
            &mut helen,
            &env,
            "tom",
            &[("shown_flag", flag), (flag, "on")],
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{flag}");
    }
    let tom = env.store.user("tom").await.unwrap().unwrap();
    assert!(!tom.is_superuser && !tom.is_staff);
    // Nor create a staff user or superuser.
    for flag in ["is_superuser", "is_staff"] {
        let r = helen
            .post(
                "/admin/auth/user/add/",
                &[
                    ("username", "evil"),
                    ("unusable_password", "on"),
                    (flag, "on"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    assert!(env.store.user("evil").await.unwrap().is_none());
    // A superuser can.
    let mut root = Client::as_user(&env, "root").await;
    let s = edit(
        &mut root,
        &env,
        "tom",
        &[("shown_flag", "is_staff"), ("is_staff", "on")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(env.store.user("tom").await.unwrap().unwrap().is_staff);
}

async fn helen_cannot_edit_herself(db: TestDb) {
    let env = env(db).await;
    let mut helen = Client::as_user(&env, "helen").await;
    let s = edit(&mut helen, &env, "helen", &[("perm", "auth.view_user")]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let s = edit(&mut helen, &env, "helen", &[("shown_group", "Helpdesk")]).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "leaving her own group");
    let s = edit(&mut helen, &env, "helen", &[("group", "Viewers")]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(env.store.user_groups("helen").await.unwrap(), ["Helpdesk"]);
    assert!(env
        .store
        .user_state("helen")
        .await
        .unwrap()
        .unwrap()
        .permissions
        .is_empty());
}

async fn helen_cannot_touch_a_stronger_user_or_a_superuser(db: TestDb) {
    let env = env(db).await;
    let mut helen = Client::as_user(&env, "helen").await;
    for target in ["sid", "root"] {
        let s = edit(&mut helen, &env, target, &[("shown_flag", "is_active")]).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "deactivate {target}");
        let r = helen
            .post(
                &format!("/admin/auth/user/{target}/password/"),
                &[
                    ("password1", "pwned-pwned-1"),
                    ("password2", "pwned-pwned-1"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "password of {target}");
        assert_eq!(
            helen
                .get(&format!("/admin/auth/user/{target}/password/"))
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        assert!(
            env.store
                .authenticate(target, PASSWORD)
                .await
                .unwrap()
                .is_some(),
            "{target}'s password unchanged"
        );
        assert!(env.store.user(target).await.unwrap().unwrap().is_active);
    }
}

async fn an_unknown_field_is_a_400_and_writes_nothing(db: TestDb) {
    let env = env(db).await;
    let mut root = Client::as_user(&env, "root").await;
    let s = edit(
        &mut root,
        &env,
        "tom",
        &[("perm", "auth.view_user"), ("is_admin", "1")],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(env
        .store
        .user_state("tom")
        .await
        .unwrap()
        .unwrap()
        .permissions
        .is_empty());
    let s = edit(&mut root, &env, "tom", &[("shown_flag", "password")]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

async fn the_last_active_superuser_remains(db: TestDb) {
    let env = env(db).await;
    let mut root = Client::as_user(&env, "root").await;
    // Un-superuser herself: 409, nothing changed.
    let s = edit(
        &mut root,
        &env,
        "root",
        &[
            ("shown_flag", "is_superuser"),
            ("shown_flag", "is_active"),
            ("is_active", "on"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    // Deactivate herself.
    let s = edit(
        &mut root,
        &env,
        "root",
        &[
            ("shown_flag", "is_superuser"),
            ("is_superuser", "on"),
            ("shown_flag", "is_active"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    // Delete herself.
    let r = root.post("/admin/auth/user/root/delete/", &[]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let u = env.store.user("root").await.unwrap().unwrap();
    assert!(u.is_superuser && u.is_active);
    // With a second superuser, the first can step down.
    let s = edit(
        &mut root,
        &env,
        "tom",
        &[
            ("shown_flag", "is_superuser"),
            ("is_superuser", "on"),
            ("shown_flag", "is_active"),
            ("is_active", "on"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let r = root.post("/admin/auth/user/tom/delete/", &[]).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "deleting one of two superusers works"
    );
    assert!(env.store.user("tom").await.unwrap().is_none());
}

async fn a_stale_user_version_is_refused_with_the_current_state(db: TestDb) {
    let env = env(db).await;
    let mut root = Client::as_user(&env, "root").await;
    let old = version(&env, "tom").await;
    env.store
        .grant_user("tom", &["auth.view_group".into()])
        .await
        .unwrap();
    let r = root
        .post(
            "/admin/auth/user/tom/change/",
            &[("version", &old), ("perm", "auth.view_user")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = body(r).await;
    assert!(html.contains("changed by someone else"), "{html}");
    assert!(
        html.contains("data-testid=\"effective-auth.view_group\""),
        "shows the current state"
    );
    assert_eq!(
        env.store
            .user_state("tom")
            .await
            .unwrap()
            .unwrap()
            .permissions,
        ["auth.view_group"]
    );
}

async fn helen_cannot_grant_a_group_a_permission_she_lacks(db: TestDb) {
    let env = env(db).await;
    let mut helen = Client::as_user(&env, "helen").await;
    let v = env
        .store
        .group_state("Viewers")
        .await
        .unwrap()
        .unwrap()
        .version;
    let r = helen
        .post(
            "/admin/auth/group/Viewers/change/",
            &[
                ("step", "save"),
                ("version", &v),
                ("add", "auth.delete_user"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = helen
        .post(
            "/admin/auth/group/Viewers/change/",
            &[
                ("step", "review"),
                ("version", &v),
                ("perm", "auth.delete_user"),
                ("perm", "auth.view_user"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(!body(r).await.contains("data-testid=\"save\""));
    assert_eq!(
        env.store
            .group_state("Viewers")
            .await
            .unwrap()
            .unwrap()
            .permissions,
        ["auth.view_user"]
    );
    let r = helen
        .post(
            "/admin/auth/group/Viewers/change/",
            &[
                ("step", "save"),
                ("version", &v),
                ("add", "auth.change_user"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(audit(&env.store)
        .await
        .contains(&"user:helen group.grant Viewers".to_owned()));
}

async fn a_view_only_user_cannot_post_changes(db: TestDb) {
    let env = env(db).await;
    env.store
        .add_user_to_groups("bob", &["Viewers".into()])
        .await
        .unwrap();
    let mut bob = Client::as_user(&env, "bob").await;
    assert_eq!(
        bob.get("/admin/auth/user/tom/change/").await.status(),
        StatusCode::OK
    );
    let s = edit(&mut bob, &env, "tom", &[("email", "x@example.org")]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(
        env.store.user("tom").await.unwrap().unwrap().email,
        "tom@example.org"
    );
}

/// Two admins each demote a different one of the two superusers at the same moment: the row locks
/// (and, on MariaDB, the read-committed re-read) make the second see the first's change, so one
/// superuser always remains.
async fn concurrent_demotions_leave_an_active_superuser(db: TestDb) {
    let env = env(db).await;
    let promote = castellan_store::UserEdit {
        is_superuser: Some(true),
        ..Default::default()
    };
    let demote = castellan_store::UserEdit {
        is_superuser: Some(false),
        ..Default::default()
    };
    for round in 0..4 {
        let vt = version(&env, "tom").await;
        env.store
            .apply_user_edit("tom", &vt, &promote)
            .await
            .unwrap();
        let (vr, vt) = (version(&env, "root").await, version(&env, "tom").await);
        let (a, b) = tokio::join!(
            env.store.apply_user_edit("root", &vr, &demote),
            env.store.apply_user_edit("tom", &vt, &demote)
        );
        let left: Vec<String> = [("root", &a), ("tom", &b)]
            .into_iter()
            .filter(|(_, r)| r.is_err())
            .map(|(u, _)| u.to_owned())
            .collect();
        assert_eq!(
            left.len(),
            1,
            "round {round}: exactly one demotion succeeds"
        );
        let su = env.store.user(&left[0]).await.unwrap().unwrap();
        assert!(su.is_superuser && su.is_active, "round {round}");
        if left[0] == "tom" {
            // Put root back as the superuser for the next round.
            let vr = version(&env, "root").await;
            env.store
                .apply_user_edit("root", &vr, &promote)
                .await
                .unwrap();
            let vt = version(&env, "tom").await;
            env.store
                .apply_user_edit("tom", &vt, &demote)
                .await
                .unwrap();
        }
    }
}

async fn group_version(env: &Env, group: &str) -> String {
    env.store.group_state(group).await.unwrap().unwrap().version
}

async fn members(env: &Env, group: &str) -> Vec<String> {
    env.store.group_state(group).await.unwrap().unwrap().members
}

/// Group page membership edits follow the user page's rules, on the submitted usernames.
async fn group_members_follow_the_user_page_rules(db: TestDb) {
    let env = env(db).await;
    let mut helen = Client::as_user(&env, "helen").await;
    let post = |c: &mut Client, group: &str, v: String, fields: Vec<(&'static str, String)>| {
        let mut c = c.clone();
        let uri = format!("/admin/auth/group/{group}/members/");
        async move {
            let mut all = vec![("version", v)];
            all.extend(fields);
            let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
            c.post(&uri, &refs).await.status()
        }
    };
    // A group granting what she lacks (Admins: delete_user, delete_group): refused.
    let v = group_version(&env, "Admins").await;
    let s = post(&mut helen, "Admins", v, vec![("add", "tom".into())]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(members(&env, "Admins").await, ["sid"]);
    // Removing sid (who holds what she lacks) from Admins: refused.
    let v = group_version(&env, "Admins").await;
    let s = post(&mut helen, "Admins", v, vec![("remove", "sid".into())]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Her own membership: refused, both ways.
    let v = group_version(&env, "Helpdesk").await;
    let s = post(&mut helen, "Helpdesk", v, vec![("remove", "helen".into())]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let v = group_version(&env, "Viewers").await;
    let s = post(
        &mut helen,
        "Viewers",
        v.clone(),
        vec![("add", "helen".into())],
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // A superuser cannot be touched by her, even into a weak group; one bad name refuses all.
    let s = post(
        &mut helen,
        "Viewers",
        v.clone(),
        vec![("add", "tom root".into())],
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(members(&env, "Viewers").await.is_empty());
    // Unknown user, unknown field: 400, nothing written.
    let s = post(
        &mut helen,
        "Viewers",
        v.clone(),
        vec![("add", "tom nobody".into())],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let s = post(
        &mut helen,
        "Viewers",
        v.clone(),
        vec![("add", "tom".into()), ("is_superuser", "on".into())],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(members(&env, "Viewers").await.is_empty());
    // Without change_user (bob, staff with view_user through Viewers): 403.
    env.store
        .add_user_to_groups("bob", &["Viewers".into()])
        .await
        .unwrap();
    let mut bob = Client::as_user(&env, "bob").await;
    let v = group_version(&env, "Viewers").await;
    let s = post(&mut bob, "Viewers", v, vec![("add", "tom".into())]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Without a CSRF token: refused.
    let v = group_version(&env, "Viewers").await;
    let r = helen
        .post_raw(
            "/admin/auth/group/Viewers/members/",
            &[("version", &v), ("add", "tom")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(members(&env, "Viewers").await, ["bob"]);
    // Allowed: tom and carl into Viewers, bob out, audited under her name.
    let s = post(
        &mut helen,
        "Viewers",
        v.clone(),
        vec![("add", "tom, carl".into()), ("remove", "bob".into())],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(members(&env, "Viewers").await, ["carl", "tom"]);
    let log = audit(&env.store).await;
    for a in [
        "user:helen user.add_group tom",
        "user:helen user.add_group carl",
        "user:helen user.remove_group bob",
    ] {
        assert!(log.contains(&a.to_owned()), "{a} in {log:?}");
    }
    // The root can add anyone anywhere.
    let mut root = Client::as_user(&env, "root").await;
    let v = group_version(&env, "Admins").await;
    let s = post(&mut root, "Admins", v, vec![("add", "tom".into())]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(members(&env, "Admins").await, ["sid", "tom"]);
}

/// A member edit made on a stale group (its permissions changed) or a stale user is refused.
async fn group_member_edits_refuse_stale_state(db: TestDb) {
    let env = env(db).await;
    let mut helen = Client::as_user(&env, "helen").await;
    let v = group_version(&env, "Viewers").await;
    // Someone makes Viewers stronger after she opened the page.
    env.store
        .grant_group("Viewers", &["auth.delete_user".into()])
        .await
        .unwrap();
    let r = helen
        .post(
            "/admin/auth/group/Viewers/members/",
            &[("version", &v), ("add", "tom")],
        )
        .await;
    assert!(
        matches!(r.status(), StatusCode::FORBIDDEN | StatusCode::CONFLICT),
        "{}",
        r.status()
    );
    assert!(members(&env, "Viewers").await.is_empty());
    // The store refuses a stale user version on its own.
    let v = group_version(&env, "Viewers").await;
    let old = version(&env, "tom").await;
    env.store
        .grant_user("tom", &["auth.view_group".into()])
        .await
        .unwrap();
    let e = env
        .store
        .apply_group_members("Viewers", &v, &["tom".into()], &[], &[("tom".into(), old)])
        .await
        .unwrap_err();
    assert!(matches!(e, castellan_store::Error::Conflict(_)), "{e}");
    assert!(members(&env, "Viewers").await.is_empty());
    let fresh = version(&env, "tom").await;
    env.store
        .apply_group_members(
            "Viewers",
            &v,
            &["tom".into()],
            &[],
            &[("tom".into(), fresh)],
        )
        .await
        .unwrap();
    assert_eq!(members(&env, "Viewers").await, ["tom"]);
}

/// The `<input …>` tag of the checkbox `data-testid="perm-{perm}"`.
fn perm_box<'a>(html: &'a str, perm: &str) -> &'a str {
    let marker = format!("data-testid=\"perm-{perm}\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no box for {perm}"));
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    &html[start..end]
}

fn shown(html: &str) -> Vec<String> {
    html.split("name=\"shown_perm\" value=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// The pickers disable what the editor cannot grant, as the server refuses it; a group's
/// permission the editor lacks stays removable, as the server allows; Save/Review repeat below.
async fn pickers_disable_what_the_editor_cannot_grant(db: TestDb) {
    let env = env(db).await;
    let mut helen = Client::as_user(&env, "helen").await;
    // A user page: helen holds view_user, not delete_user.
    let (s, html) = helen.page("/admin/auth/user/tom/change/").await;
    assert_eq!(s, StatusCode::OK);
    assert!(!perm_box(&html, "auth.view_user").contains("disabled"));
    assert!(perm_box(&html, "auth.delete_user").contains("disabled"));
    assert!(html.contains("data-testid=\"perm-note-auth.delete_user\""));
    assert!(!html.contains("data-testid=\"perm-note-auth.view_user\""));
    assert!(html.contains("data-testid=\"picker-locked-note\""));
    let shown_perms = shown(&html);
    assert!(shown_perms.contains(&"auth.view_user".to_owned()));
    assert!(!shown_perms.contains(&"auth.delete_user".to_owned()));
    assert!(html.contains("data-testid=\"save-bottom\""));
    assert!(html.contains("form=\"picker_form\" id=\"save-bottom\""));
    // The group Admins grants delete_user and delete_group, which helen lacks: they stay
    // enabled (removable) with a note; add_group (neither held) is disabled and not shown.
    let (s, html) = helen.page("/admin/auth/group/Admins/change/").await;
    assert_eq!(s, StatusCode::OK);
    let delete_user = perm_box(&html, "auth.delete_user");
    assert!(delete_user.contains("checked") && !delete_user.contains("disabled"));
    assert!(html.contains("data-testid=\"perm-note-auth.delete_user\""));
    assert!(perm_box(&html, "auth.add_group").contains("disabled"));
    assert!(!perm_box(&html, "auth.change_group").contains("disabled"));
    let shown_perms = shown(&html);
    assert!(shown_perms.contains(&"auth.delete_user".to_owned()));
    assert!(!shown_perms.contains(&"auth.add_group".to_owned()));
    assert!(html.contains("data-testid=\"review-bottom\""));
    // The server agrees: removing delete_user is accepted, granting add_group is not.
    let v = env
        .store
        .group_state("Admins")
        .await
        .unwrap()
        .unwrap()
        .version;
    let r = helen
        .post(
            "/admin/auth/group/Admins/change/",
            &[
                ("step", "review"),
                ("version", &v),
                ("shown_perm", "auth.delete_user"),
                ("shown_perm", "auth.delete_group"),
                ("perm", "auth.delete_group"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let review = body(r).await;
    assert!(review.contains("data-testid=\"save\""), "{review}");
    let r = helen
        .post(
            "/admin/auth/group/Admins/change/",
            &[
                ("step", "save"),
                ("version", &v),
                ("remove", "auth.delete_user"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = helen.page("/admin/auth/group/Admins/change/").await;
    assert!(
        perm_box(&html, "auth.delete_user").contains("disabled"),
        "cannot grant it back"
    );
    let v = env
        .store
        .group_state("Admins")
        .await
        .unwrap()
        .unwrap()
        .version;
    let r = helen
        .post(
            "/admin/auth/group/Admins/change/",
            &[
                ("step", "save"),
                ("version", &v),
                ("add", "auth.delete_user"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A superuser's picker has nothing disabled and no notes.
    let mut root = Client::as_user(&env, "root").await;
    let (_, html) = root.page("/admin/auth/group/Admins/change/").await;
    assert!(!perm_box(&html, "auth.add_group").contains("disabled"));
    assert!(!html.contains("perm-note-"));
    assert!(!html.contains("picker-locked-note"));
}

admin_tests!(
    pickers_disable_what_the_editor_cannot_grant,
    group_members_follow_the_user_page_rules,
    group_member_edits_refuse_stale_state,
    concurrent_demotions_leave_an_active_superuser,
    helen_cannot_grant_a_permission_she_does_not_hold,
    helen_cannot_add_a_user_to_a_stronger_group,
    helen_cannot_set_staff_or_superuser,
    helen_cannot_edit_herself,
    helen_cannot_touch_a_stronger_user_or_a_superuser,
    an_unknown_field_is_a_400_and_writes_nothing,
    the_last_active_superuser_remains,
    a_stale_user_version_is_refused_with_the_current_state,
    helen_cannot_grant_a_group_a_permission_she_lacks,
    a_view_only_user_cannot_post_changes,
);
