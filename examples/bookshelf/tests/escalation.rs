//! Red-team tests against Bookshelf as an insider would try them (issue #11): each attack is
//! refused and leaves the database as it was; the legitimate path still works, so the tests can
//! fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use castellan_store::{NewUser, Store, SyncError, SyncOptions};
use common::*;
use http::StatusCode;

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Every group's permissions and members: what the attacks must not change.
async fn groups(store: &Store) -> Vec<(String, Vec<String>, Vec<String>)> {
    let mut out = Vec::new();
    for (name, perms) in store.groups_with_permissions().await.unwrap() {
        let members = store.group_detail(&name).await.unwrap().members;
        out.push((name, perms, members));
    }
    out
}

/// Mallory: staff, only in Viewers, and may view and change users and groups.
async fn mallory(store: &Store) {
    let mut u = NewUser::new("mallory");
    u.password = Some(PASSWORD.into());
    u.is_staff = true;
    store.create_user(u).await.unwrap();
    store
        .add_user_to_groups("mallory", &strings(&["Viewers"]))
        .await
        .unwrap();
    store
        .grant_user(
            "mallory",
            &strings(&[
                "auth.view_user",
                "auth.change_user",
                "auth.view_group",
                "auth.change_group",
            ]),
        )
        .await
        .unwrap();
}

/// The first path of issue #11: rename `Editors` away and `Viewers` into `Editors`, so that the
/// `/editor/` group guard lets every Viewer in. Both renames are refused; the desk stays closed.
async fn renames_cannot_open_the_editor_desk(db: TestDb) {
    let env = env_on(db).await;
    let store = &env.app.store;
    mallory(store).await;
    let before = groups(store).await;
    let mut m = Client::logged_in(&env.router, "mallory").await;
    assert_eq!(m.get("/editor/").await.status, StatusCode::FORBIDDEN);
    for (group, new_name) in [
        ("Editors", "Editors-retired"),
        ("Viewers", "Editors"),
        ("Admins", "Admins-retired"),
        ("Viewers", "Admins"),
    ] {
        let p = m
            .post(
                &format!("/admin/auth/group/{group}/rename/"),
                &[("new_name", new_name)],
            )
            .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{group} -> {new_name}");
    }
    // Nor can she fill the guarded group, or re-create a policy group's name.
    let p = m
        .post("/admin/auth/group/Editors/members/", &[("add", "viewer")])
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert_eq!(groups(store).await, before, "nothing changed");
    assert_eq!(m.get("/editor/").await.status, StatusCode::FORBIDDEN);
    // The page says why.
    let p = m.get("/admin/auth/group/Editors/change/").await;
    assert!(p.body.contains("trusted by guard"), "{}", p.body);
    // A superuser may rename it; the guard follows the name, not the group.
    let mut root = Client::logged_in(&env.router, "root").await;
    let p = root
        .post(
            "/admin/auth/group/Editors/rename/",
            &[("new_name", "Editors-retired")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let mut editor = Client::logged_in(&env.router, "editor").await;
    assert_eq!(editor.get("/editor/").await.status, StatusCode::FORBIDDEN);
}

/// The sync half of the first path: someone with the database (Django's admin, plain SQL) renames
/// `Admins` away and `Viewers` into `Admins`. Bookshelf's start-up sync refuses to give the
/// policy's `Admins` permissions to the group now called so, and says what happened; nothing is
/// applied. A forced sync binds the policy to the group that carries the name now.
async fn a_policy_group_renamed_into_is_not_given_its_permissions(db: TestDb) {
    let env = env_on(db).await;
    let store = &env.app.store;
    store
        .rename_group("Admins", "Admins-retired")
        .await
        .unwrap();
    store.rename_group("Viewers", "Admins").await.unwrap();
    let before = groups(store).await;
    let err = env.app.setup().await.unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.contains("\"Admins\"") && message.contains("now named \"Admins-retired\""),
        "{message}"
    );
    assert!(message.contains("--force"), "{message}");
    assert_eq!(groups(store).await, before, "nothing applied");
    let policy = castellan_core::policy::Policy::parse(bookshelf::setup::POLICY).unwrap();
    let plan = store.sync_plan(&policy, false).await.unwrap();
    assert_eq!(plan.rebound.len(), 1, "{plan}");
    match store.sync(&policy, false).await {
        Err(SyncError::Rebound(r)) => assert_eq!(r[0].group, "Admins"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Forced: the group now called Admins gets the policy's permissions, and later syncs agree.
    let applied = store
        .sync_with(
            &policy,
            SyncOptions {
                prune: false,
                force: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(applied.rebound.len(), 1);
    let admins = store.group_state("Admins").await.unwrap().unwrap();
    assert!(admins
        .permissions
        .contains(&"bookshelf.delete_book".to_owned()));
    env.app.setup().await.unwrap();
    let log = store
        .audit_log(&castellan_store::AuditFilter::default())
        .await
        .unwrap();
    assert!(log
        .iter()
        .any(|e| e.action == "sync.rebind" && e.object == "Admins"));
}

/// The second path of issue #11 on Bookshelf: strip Publishers of what she lacks so that
/// `publisher` is no longer stronger, then set his password. Refused; nothing changes.
async fn strip_then_take_over(db: TestDb) {
    let env = env_on(db).await;
    let store = &env.app.store;
    mallory(store).await;
    let before = groups(store).await;
    let publisher_before = store.user_state("publisher").await.unwrap().unwrap();
    let mut m = Client::logged_in(&env.router, "mallory").await;
    let publishers = store.group_state("Publishers").await.unwrap().unwrap();
    let mut fields = vec![("step", "save"), ("version", publishers.version.as_str())];
    for p in &publishers.permissions {
        fields.push(("remove", p.as_str()));
    }
    let p = m
        .post("/admin/auth/group/Publishers/change/", &fields)
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "strip Publishers");
    let p = m
        .post(
            "/admin/auth/user/publisher/password/",
            &[("password1", "taken-over-1"), ("password2", "taken-over-1")],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "take publisher over");
    assert_eq!(groups(store).await, before);
    assert_eq!(
        store
            .user_state("publisher")
            .await
            .unwrap()
            .unwrap()
            .version,
        publisher_before.version
    );
    let mut c = Client::new(&env.router);
    let p = c.login("publisher", "taken-over-1", None).await;
    assert_eq!(p.status, StatusCode::OK, "the login form again");
}

async fn book_count(env: &Env) -> usize {
    env.app.db.books(true).await.unwrap().len()
}

/// A valid book form (the ISBN varies so that a write, if it happened, would succeed).
fn book_form(isbn: &str) -> Vec<(&'static str, String)> {
    vec![
        ("title", "Forged".into()),
        ("author", "Mallory".into()),
        ("isbn", isbn.into()),
        ("publication_year", "2001".into()),
        ("copies_total", "1".into()),
    ]
}

fn form_body(token: Option<&str>, fields: &[(&str, String)]) -> String {
    let mut all: Vec<(&str, &str)> = token
        .map(|t| ("csrfmiddlewaretoken", t))
        .into_iter()
        .collect();
    all.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
    castellan_testkit::form_body(&all)
}

/// CSRF variants against a state-changing route (an editor adding a book): no token, a wrong
/// token, another session's token, a valid token with a foreign `Origin` or `Origin: null`, a
/// `text/plain` body, and the write through GET. Each is refused and adds nothing; the same POST
/// with the right token adds the book.
async fn csrf_variants_change_nothing(db: TestDb) {
    let env = env_on(db).await;
    let mut editor = Client::logged_in(&env.router, "editor").await;
    let before = book_count(&env).await;
    let secret = editor.jar.get("csrftoken").map(str::to_owned).unwrap();
    let post = |token: Option<&str>, origin: Option<&str>, content_type: &str| {
        let mut b = http::Request::post("/books/add/")
            .header(http::header::HOST, HOST)
            .header(http::header::CONTENT_TYPE, content_type);
        if let Some(o) = origin {
            b = b.header(http::header::ORIGIN, o);
        }
        b.body(axum::body::Body::from(form_body(
            token,
            &book_form("9780306406157"),
        )))
        .unwrap()
    };
    let other = "b".repeat(32);
    let form = "application/x-www-form-urlencoded";
    for (what, req) in [
        ("no token", post(None, None, form)),
        ("wrong token", post(Some("not-a-token"), None, form)),
        ("another session's token", post(Some(&other), None, form)),
        (
            "foreign Origin",
            post(Some(&secret), Some("https://evil.example"), form),
        ),
        ("Origin null", post(Some(&secret), Some("null"), form)),
        ("text/plain", post(Some(&secret), None, "text/plain")),
    ] {
        let p = editor.request(req).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{what}: {}", p.body);
    }
    let p = editor
        .get("/books/add/?title=Forged&isbn=9780306406157")
        .await;
    assert_eq!(p.status, StatusCode::OK, "GET only shows the form");
    assert_eq!(book_count(&env).await, before, "nothing added");
    let p = editor
        .request(post(Some(&secret), Some("http://testserver"), form))
        .await;
    assert_eq!(p.status, StatusCode::FOUND, "{}", p.body);
    assert_eq!(book_count(&env).await, before + 1);
}

/// Session fixation and replay: a session key planted before login does not survive it, and a
/// session cookie is worthless after logout.
async fn sessions_resist_fixation_and_replay(db: TestDb) {
    let env = env_on(db).await;
    let planted = "fixation0123456789abcdefghijklmn".to_owned();
    let mut victim = Client::new(&env.router);
    victim.jar.insert("sessionid", &planted);
    let p = victim.login("editor", PASSWORD, None).await;
    assert_eq!(p.status, StatusCode::FOUND);
    let key = victim.jar.get("sessionid").map(str::to_owned).unwrap();
    assert_ne!(key, planted, "the key changes at login");
    let mut attacker = Client::new(&env.router);
    attacker.jar.insert("sessionid", &planted);
    assert!(attacker.get("/books/add/").await.is_login_redirect());
    // Replay after logout.
    let mut thief = Client::new(&env.router);
    thief.jar.insert("sessionid", &key);
    assert_eq!(thief.get("/books/add/").await.status, StatusCode::OK);
    let p = victim.post("/accounts/logout/", &[]).await;
    assert_eq!(p.status, StatusCode::FOUND);
    assert!(
        thief.get("/books/add/").await.is_login_redirect(),
        "replayed key"
    );
    assert!(
        env.app.store.session_data(&key).await.unwrap().is_none(),
        "row deleted"
    );
}

/// Open redirects: every unsafe `next` (Django's vectors and header injection) falls back to
/// LOGIN_REDIRECT_URL; a safe one is followed.
async fn login_never_redirects_off_site(db: TestDb) {
    let env = env_on(db).await;
    for next in [
        "//evil.example/",
        "///evil.example/",
        "https://evil.example/",
        "http:///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "http:\\\\evil.example",
        "\u{8}//evil.example",
        "javascript:alert(1)",
        "\njavascript:alert(1)",
        "http://testserver\\@evil.example",
        "/books/\r\nSet-Cookie: pwned=1",
        "\r\nLocation: https://evil.example",
        "http://[::1",
    ] {
        let mut c = Client::new(&env.router);
        let p = c.login("viewer", PASSWORD, Some(next)).await;
        assert_eq!(p.status, StatusCode::FOUND, "{next:?}: {}", p.body);
        assert_eq!(p.location.as_deref(), Some("/books/"), "{next:?}");
        assert!(!c.jar.contains("pwned"));
    }
    let mut c = Client::new(&env.router);
    let p = c.login("viewer", PASSWORD, Some("/books/?q=x")).await;
    assert_eq!(p.location.as_deref(), Some("/books/?q=x"));
}

per_db!(
    renames_cannot_open_the_editor_desk,
    a_policy_group_renamed_into_is_not_given_its_permissions,
    strip_then_take_over,
    csrf_variants_change_nothing,
    sessions_resist_fixation_and_replay,
    login_never_redirects_off_site,
);
