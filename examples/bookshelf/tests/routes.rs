//! The HTTP contract: the role × route table (every cell, allowed and refused), the guide's
//! permission matrix, the article workflow, login/logout with `next`, messages, 403 and 404 pages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{env, Client, Page, PASSWORD};
use http::StatusCode;

/// The demo roles, and the bookshelf permissions each one's group grants (written out by hand
/// from the guide, independently of `bookshelf.toml`). `None`: the anonymous user.
const BOOK_PERMS: &[&str] = &[
    "add_book",
    "change_book",
    "delete_book",
    "view_book",
    "can_publish_book",
    "can_archive_book",
    "can_feature_book",
    "can_set_premium",
    "can_borrow_book",
    "can_return_book",
    "can_manage_inventory",
];
const ARTICLE_PERMS: &[&str] = &[
    "add_article",
    "change_article",
    "delete_article",
    "view_article",
    "can_publish_article",
    "can_approve_article",
    "can_feature_article",
];

fn role_perms(role: Option<&str>) -> Vec<&'static str> {
    let everything: Vec<&str> = BOOK_PERMS.iter().chain(ARTICLE_PERMS).copied().collect();
    match role {
        None => vec![],
        Some("viewer") => vec!["view_book"],
        Some("editor") => vec!["view_book", "add_book", "change_book"],
        Some("publisher") => vec!["view_book", "add_book", "change_book", "can_publish_book"],
        Some("admin") | Some("root") => everything,
        Some("member") => vec!["view_book", "can_borrow_book", "can_return_book"],
        Some("librarian") => vec![
            "view_book",
            "add_book",
            "change_book",
            "can_borrow_book",
            "can_return_book",
            "can_manage_inventory",
        ],
        // change_article only through the rule on their own drafts (see `Need::PermsOrRule`).
        Some("author") => vec!["view_article", "add_article"],
        Some("reviewer") => vec!["view_article", "can_approve_article"],
        Some("chief") => ARTICLE_PERMS.to_vec(),
        Some(other) => panic!("unknown role {other}"),
    }
}

/// `author` comes first: the rule lets them submit article 3 only while it is their draft, and
/// the roles after them submit it too.
const ROLES: &[Option<&str>] = &[
    None,
    Some("author"),
    Some("viewer"),
    Some("editor"),
    Some("publisher"),
    Some("admin"),
    Some("member"),
    Some("librarian"),
    Some("reviewer"),
    Some("chief"),
    Some("root"),
];

#[derive(Clone, Copy)]
enum Need {
    Nobody,
    Perms(&'static [&'static str]),
    /// Permissions with `raise_exception`: 403 for anonymous users too.
    PermsRaise(&'static [&'static str]),
    /// Membership of Editors (or an active superuser), 403 for everybody else.
    EditorsGroup,
    /// The permissions, or a rule that gives them to these roles on this object (the demo's
    /// articles are all by `author`; article 3 is a draft).
    PermsOrRule(&'static [&'static str], &'static [&'static str]),
}

/// (method, path, need). POSTs act on book 3 / article 1 so that the GETs of book 1 stay stable.
const ROUTES: &[(&str, &str, Need)] = &[
    ("GET", "/books/", Need::Nobody),
    ("GET", "/books/1/", Need::Nobody),
    ("GET", "/books/add/", Need::Perms(&["add_book"])),
    ("GET", "/books/1/edit/", Need::Perms(&["change_book"])),
    (
        "GET",
        "/books/1/delete/",
        Need::PermsRaise(&["delete_book"]),
    ),
    (
        "POST",
        "/books/3/publish/",
        Need::Perms(&["change_book", "can_publish_book"]),
    ),
    (
        "POST",
        "/books/3/feature/",
        Need::Perms(&["can_feature_book"]),
    ),
    (
        "POST",
        "/books/3/archive/",
        Need::Perms(&["can_archive_book"]),
    ),
    (
        "POST",
        "/books/3/premium/",
        Need::Perms(&["can_set_premium"]),
    ),
    (
        "POST",
        "/books/3/borrow/",
        Need::Perms(&["can_borrow_book"]),
    ),
    (
        "POST",
        "/books/3/return/",
        Need::Perms(&["can_return_book"]),
    ),
    ("GET", "/inventory/", Need::Perms(&["can_manage_inventory"])),
    (
        "POST",
        "/inventory/3/stock/",
        Need::Perms(&["can_manage_inventory"]),
    ),
    ("GET", "/editor/", Need::EditorsGroup),
    ("GET", "/articles/", Need::Nobody),
    ("GET", "/articles/add/", Need::Perms(&["add_article"])),
    ("GET", "/articles/1/edit/", Need::Perms(&["change_article"])),
    (
        "POST",
        "/articles/3/submit/",
        Need::PermsOrRule(&["change_article"], &["author"]),
    ),
    (
        "POST",
        "/articles/2/approve/",
        Need::Perms(&["can_approve_article"]),
    ),
    (
        "POST",
        "/articles/2/publish/",
        Need::Perms(&["can_publish_article"]),
    ),
    (
        "POST",
        "/articles/1/feature/",
        Need::Perms(&["can_feature_article"]),
    ),
];

async fn call(c: &mut Client, method: &str, path: &str) -> Page {
    match method {
        "GET" => c.get(path).await,
        _ => c.post(path, &[]).await,
    }
}

fn allowed(p: &Page) -> bool {
    !p.is_login_redirect() && p.status != StatusCode::FORBIDDEN
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_on_every_route() {
    let env = env().await;
    let mut cells = 0;
    for role in ROLES {
        let held = role_perms(*role);
        let mut client = match role {
            None => Client::new(&env.router),
            Some(name) => Client::logged_in(&env.router, name).await,
        };
        for (method, path, need) in ROUTES {
            let page = call(&mut client, method, path).await;
            let who = role.unwrap_or("anonymous");
            let expect_allowed = match need {
                Need::Nobody => true,
                Need::Perms(p) | Need::PermsRaise(p) => p.iter().all(|x| held.contains(x)),
                Need::EditorsGroup => matches!(role, Some("editor") | Some("root")),
                Need::PermsOrRule(p, roles) => {
                    p.iter().all(|x| held.contains(x)) || role.is_some_and(|r| roles.contains(&r))
                }
            };
            cells += 1;
            if expect_allowed {
                assert!(
                    allowed(&page) && page.status.as_u16() < 500,
                    "{who} {method} {path}: expected allowed, got {} {:?}",
                    page.status,
                    page.location
                );
                continue;
            }
            match (role, need) {
                (None, Need::Perms(_) | Need::PermsOrRule(..)) => {
                    assert!(
                        page.is_login_redirect(),
                        "{who} {method} {path}: expected the login redirect, got {}",
                        page.status
                    );
                    let next = page.location.as_deref().unwrap();
                    assert!(
                        next.ends_with(&format!("?next={path}")),
                        "{who} {path}: {next}"
                    );
                }
                // An object the role may not even see does not exist for it.
                (_, Need::PermsOrRule(..)) if page.status == StatusCode::NOT_FOUND => {}
                (_, Need::Perms(p) | Need::PermsRaise(p) | Need::PermsOrRule(p, _)) => {
                    assert_eq!(page.status, StatusCode::FORBIDDEN, "{who} {method} {path}");
                    // The 403 page names each missing permission.
                    for perm in p.iter().filter(|x| !held.contains(x)) {
                        assert!(
                            page.body.contains(&format!("bookshelf.{perm}")),
                            "{who} {method} {path}: the 403 page does not name bookshelf.{perm}"
                        );
                    }
                }
                (_, Need::EditorsGroup) => {
                    assert_eq!(page.status, StatusCode::FORBIDDEN, "{who} {method} {path}");
                    assert!(page.body.contains("Editors group"), "{who} {path}");
                }
                (_, Need::Nobody) => unreachable!(),
            }
        }
    }
    assert_eq!(cells, ROLES.len() * ROUTES.len());
}

/// The guide's matrix: view / add / edit / delete / publish for anonymous and the four content
/// roles, and the buttons the detail page shows to each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guides_permission_matrix() {
    let env = env().await;
    //  role, view, add, edit, delete, publish
    let matrix: &[(Option<&str>, [bool; 5])] = &[
        (None, [true, false, false, false, false]),
        (Some("viewer"), [true, false, false, false, false]),
        (Some("editor"), [true, true, true, false, false]),
        (Some("publisher"), [true, true, true, false, true]),
        (Some("admin"), [true, true, true, true, true]),
    ];
    for (role, row) in matrix {
        let who = role.unwrap_or("anonymous");
        let mut c = match role {
            None => Client::new(&env.router),
            Some(name) => Client::logged_in(&env.router, name).await,
        };
        let detail = c.get("/books/1/").await;
        assert_eq!(detail.status, StatusCode::OK, "{who}");
        let got = [
            detail.status == StatusCode::OK,
            c.get("/books/add/").await.status == StatusCode::OK,
            c.get("/books/1/edit/").await.status == StatusCode::OK,
            c.get("/books/1/delete/").await.status == StatusCode::OK,
            allowed(&c.post("/books/2/publish/", &[]).await),
        ];
        assert_eq!(&got, row, "{who}: view/add/edit/delete/publish");
        // The buttons shown are exactly the permitted actions.
        let buttons = [
            detail.body.contains(r#"data-action="edit""#),
            detail.body.contains(r#"data-action="delete""#),
            detail.body.contains(r#"data-action="publish""#),
        ];
        assert_eq!(
            buttons,
            [row[2], row[3], row[4]],
            "{who}: edit/delete/publish buttons"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_and_logout_honour_next_safely() {
    let env = env().await;
    let mut c = Client::new(&env.router);
    let p = c.get("/books/add/").await;
    assert_eq!(
        p.location.as_deref(),
        Some("/accounts/login/?next=/books/add/")
    );
    let form = c.get("/accounts/login/?next=/books/add/").await;
    assert_eq!(form.status, StatusCode::OK);
    // Django's escaping leaves `/` alone.
    assert!(
        form.body.contains(r#"name="next" value="/books/add/""#),
        "{}",
        form.body
    );
    // A wrong password: the form again, with Django's error, not logged in.
    let bad = c.login("editor", "wrong", Some("/books/add/")).await;
    assert_eq!(bad.status, StatusCode::OK);
    assert!(bad
        .body
        .contains("Please enter a correct username and password"));
    assert!(c.get("/books/add/").await.is_login_redirect());
    // The right one: back to `next`.
    let ok = c.login("editor", PASSWORD, Some("/books/add/")).await;
    assert_eq!(ok.status, StatusCode::FOUND);
    assert_eq!(ok.location.as_deref(), Some("/books/add/"));
    let page = c.get("/books/add/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"data-testid="username">editor<"#));
    // Logout, then the guarded page redirects again.
    let out = c.post("/accounts/logout/", &[]).await;
    assert_eq!(out.status, StatusCode::FOUND);
    assert_eq!(out.location.as_deref(), Some("/books/"));
    assert!(c.get("/books/add/").await.is_login_redirect());
    // An off-site `next` is ignored: LOGIN_REDIRECT_URL instead.
    let mut c = Client::new(&env.router);
    let p = c
        .login("viewer", PASSWORD, Some("https://evil.example/"))
        .await;
    assert_eq!(p.location.as_deref(), Some("/books/"));
    // Without the CSRF token a POST is refused and changes nothing.
    let mut c = Client::logged_in(&env.router, "admin").await;
    c.jar.remove("csrftoken");
    let refused = c.post_with_token("/books/1/feature/", "", &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!env.app.db.book(1).await.unwrap().unwrap().is_featured);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_show_once_and_refusals_explain_themselves() {
    let env = env().await;
    let mut admin = Client::logged_in(&env.router, "admin").await;
    let p = admin.post("/books/4/delete/", &[]).await;
    assert_eq!(p.location.as_deref(), Some("/books/"));
    let list = admin.get("/books/").await;
    assert!(list.body.contains("Book deleted"), "{}", list.body);
    assert!(!list.body.contains("The Dispossessed"));
    assert!(!admin.get("/books/").await.body.contains("Book deleted"));
    assert!(env.app.db.book(4).await.unwrap().is_none());

    let mut viewer = Client::logged_in(&env.router, "viewer").await;
    let refused = viewer.post("/books/1/delete/", &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused
        .body
        .contains("You do not have permission to delete books"));
    assert!(refused.body.contains("bookshelf.delete_book"));
    assert!(env.app.db.book(1).await.unwrap().is_some());
    // raise_exception: anonymous users get the 403 too, not the login page.
    let anon = Client::new(&env.router).post("/books/1/delete/", &[]).await;
    assert_eq!(anon.status, StatusCode::FORBIDDEN);
    assert!(env.app.db.book(1).await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_pages_and_drafts() {
    let env = env().await;
    let mut anon = Client::new(&env.router);
    for path in [
        "/books/9999/",
        "/books/abc/",
        "/books/-1/",
        "/nowhere",
        "/articles/9999/",
    ] {
        let p = anon.get(path).await;
        assert_eq!(p.status, StatusCode::NOT_FOUND, "{path}");
        assert!(p.body.contains("404"), "{path}");
    }
    // Book 5 is the demo's unpublished draft: hidden from the public, listed for editors.
    assert_eq!(anon.get("/books/5/").await.status, StatusCode::NOT_FOUND);
    assert!(!anon.get("/books/").await.body.contains("Draft: A Memoir"));
    let mut editor = Client::logged_in(&env.router, "editor").await;
    assert_eq!(editor.get("/books/5/").await.status, StatusCode::OK);
    assert!(editor.get("/books/").await.body.contains("Draft: A Memoir"));
    // An object route (change_book held or granted on the book): the object first, so a
    // missing book is 404 for every logged-in user (as Django's and guardian's views), then 403.
    let mut viewer = Client::logged_in(&env.router, "viewer").await;
    assert_eq!(
        viewer.get("/books/9999/edit/").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        viewer.get("/books/1/edit/").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        editor.get("/books/9999/edit/").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(editor.get("/static/style.css").await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_and_edit_books_validate_input() {
    let env = env().await;
    let mut editor = Client::logged_in(&env.router, "editor").await;
    let form = [
        ("title", "Solaris"),
        ("author", "Stanisław Lem"),
        ("isbn", "978-0156027601"),
        ("publication_year", "1961"),
        ("copies_total", "2"),
    ];
    let p = editor.post("/books/add/", &form).await;
    assert_eq!(p.status, StatusCode::FOUND, "{}", p.body);
    let id: i64 = p
        .location
        .unwrap()
        .trim_matches('/')
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let book = env.app.db.book(id).await.unwrap().unwrap();
    assert_eq!(
        (book.isbn.as_str(), book.copies_available, book.is_published),
        ("9780156027601", 2, false)
    );
    // The same ISBN again, and nonsense: the form again with errors, nothing created.
    let before = env.app.db.books(true).await.unwrap().len();
    let dup = editor.post("/books/add/", &form).await;
    assert_eq!(dup.status, StatusCode::OK);
    assert!(dup.body.contains("already exists"));
    let bad = editor
        .post(
            "/books/add/",
            &[("title", ""), ("isbn", "12"), ("copies_total", "x")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::OK);
    assert!(bad.body.contains(r#"data-testid="error-title""#));
    assert!(bad.body.contains(r#"data-testid="error-isbn""#));
    assert!(bad.body.contains(r#"data-testid="error-copies_total""#));
    assert_eq!(env.app.db.books(true).await.unwrap().len(), before);
    // Edit: the stock cannot drop below the copies lent out.
    let mut member = Client::logged_in(&env.router, "member").await;
    member.post(&format!("/books/{id}/borrow/"), &[]).await;
    member.post(&format!("/books/{id}/borrow/"), &[]).await;
    let mut edit = form.to_vec();
    edit[4] = ("copies_total", "1");
    let p = editor.post(&format!("/books/{id}/edit/"), &edit).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("lent out"));
    edit[4] = ("copies_total", "5");
    let p = editor.post(&format!("/books/{id}/edit/"), &edit).await;
    assert_eq!(p.status, StatusCode::FOUND);
    let book = env.app.db.book(id).await.unwrap().unwrap();
    assert_eq!((book.copies_total, book.copies_available), (5, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn borrow_and_return_keep_the_stock_bounded() {
    let env = env().await;
    let mut member = Client::logged_in(&env.router, "member").await;
    let mut librarian = Client::logged_in(&env.router, "librarian").await;
    // Book 3 has one copy.
    let detail = member.get("/books/3/").await;
    assert!(detail.body.contains(r#"data-action="borrow""#));
    assert!(!detail.body.contains(r#"data-action="return""#));
    // Returning what one never borrowed changes nothing.
    let p = member.post("/books/3/return/", &[]).await;
    assert_eq!(p.status, StatusCode::FOUND);
    assert!(member
        .get("/books/3/")
        .await
        .body
        .contains("You have not borrowed this book"));
    assert_eq!(
        env.app.db.book(3).await.unwrap().unwrap().copies_available,
        1
    );
    assert_eq!(
        member.post("/books/3/borrow/", &[]).await.status,
        StatusCode::FOUND
    );
    let detail = member.get("/books/3/").await;
    assert!(detail.body.contains("Book borrowed"));
    assert!(detail.body.contains(r#"data-action="return""#));
    let none_left = librarian.post("/books/3/borrow/", &[]).await;
    assert_eq!(none_left.status, StatusCode::CONFLICT);
    assert!(none_left.body.contains("lent out"));
    assert_eq!(
        env.app.db.book(3).await.unwrap().unwrap().copies_available,
        0
    );
    // The librarian cannot return the member's copy.
    librarian.post("/books/3/return/", &[]).await;
    assert_eq!(
        env.app.db.book(3).await.unwrap().unwrap().copies_available,
        0
    );
    member.post("/books/3/return/", &[]).await;
    member.post("/books/3/return/", &[]).await;
    assert_eq!(
        env.app.db.book(3).await.unwrap().unwrap().copies_available,
        1
    );
    let inventory = librarian.get("/inventory/").await;
    assert!(inventory.body.contains("member"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn articles_move_draft_review_published_only_through_permitted_actions() {
    let env = env().await;
    let db = &env.app.db;
    let mut author = Client::logged_in(&env.router, "author").await;
    let mut reviewer = Client::logged_in(&env.router, "reviewer").await;
    let mut chief = Client::logged_in(&env.router, "chief").await;
    let mut anon = Client::new(&env.router);
    let status = |id| async move { db.article(id).await.unwrap().unwrap().status.as_str() };

    let p = author
        .post(
            "/articles/add/",
            &[("title", "Winter reads"), ("content", "Five books.")],
        )
        .await;
    assert_eq!(p.status, StatusCode::FOUND);
    let id: i64 = p
        .location
        .unwrap()
        .trim_matches('/')
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(status(id).await, "draft");
    assert_eq!(
        anon.get(&format!("/articles/{id}/")).await.status,
        StatusCode::NOT_FOUND
    );
    // The author may neither approve nor publish.
    assert_eq!(
        author
            .post(&format!("/articles/{id}/approve/"), &[])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        author
            .post(&format!("/articles/{id}/publish/"), &[])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // A draft cannot be approved or published, even by those who may: a reviewer does not see
    // drafts (404); a chief editor is refused with a message.
    assert_eq!(
        reviewer
            .post(&format!("/articles/{id}/approve/"), &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    chief.post(&format!("/articles/{id}/approve/"), &[]).await;
    chief.post(&format!("/articles/{id}/publish/"), &[]).await;
    assert_eq!(status(id).await, "draft");
    assert!(chief
        .get(&format!("/articles/{id}/"))
        .await
        .body
        .contains("Only an article in review"));
    // Submit, then publishing before approval is refused.
    author.post(&format!("/articles/{id}/submit/"), &[]).await;
    assert_eq!(status(id).await, "review");
    chief.post(&format!("/articles/{id}/publish/"), &[]).await;
    assert_eq!(status(id).await, "review");
    // The reviewer approves but may not publish.
    let page = reviewer.get(&format!("/articles/{id}/")).await;
    assert!(page.body.contains(r#"data-action="approve""#));
    assert!(!page.body.contains(r#"data-action="publish-article""#));
    reviewer
        .post(&format!("/articles/{id}/approve/"), &[])
        .await;
    assert_eq!(
        db.article(id)
            .await
            .unwrap()
            .unwrap()
            .approved_by
            .as_deref(),
        Some("reviewer")
    );
    assert_eq!(
        reviewer
            .post(&format!("/articles/{id}/publish/"), &[])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(status(id).await, "review");
    // The chief editor publishes; now everyone sees it.
    let page = chief.get(&format!("/articles/{id}/")).await;
    assert!(page.body.contains(r#"data-action="publish-article""#));
    chief.post(&format!("/articles/{id}/publish/"), &[]).await;
    assert_eq!(status(id).await, "published");
    assert_eq!(
        anon.get(&format!("/articles/{id}/")).await.status,
        StatusCode::OK
    );
    assert!(anon.get("/articles/").await.body.contains("Winter reads"));
    // Submitting a published article does not send it back.
    author.post(&format!("/articles/{id}/submit/"), &[]).await;
    assert_eq!(status(id).await, "published");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_seeding_is_idempotent() {
    let env = env().await;
    let users = env.app.store.users().await.unwrap().len();
    let books = env.app.db.books(true).await.unwrap().len();
    let articles = env.app.db.articles(true).await.unwrap().len();
    let report = env.app.seed_demo(None).await.unwrap();
    assert!(report
        .iter()
        .all(|(_, o)| *o == bookshelf::demo::DemoPassword::Unchanged));
    env.app.setup().await.unwrap();
    assert_eq!(env.app.store.users().await.unwrap().len(), users);
    assert_eq!(env.app.db.books(true).await.unwrap().len(), books);
    assert_eq!(env.app.db.articles(true).await.unwrap().len(), articles);
    assert_eq!(
        env.app.store.user_groups("librarian").await.unwrap(),
        vec!["Librarians".to_owned()]
    );
}

/// The guide's CMS on object rules: an Authors member changes only their own drafts; Reviewers
/// see articles in review (to approve them) but change nothing; Chief Editors change any article;
/// Editors (a books role) see only what is published; `/articles/` lists exactly what each may
/// see. A book given to one co-editor by an object grant is editable by them, and no other book.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn article_rules_and_book_grants() {
    let env = env().await;
    let store = &env.app.store;
    // A second author with a draft of their own (article 4).
    let mut writer = castellan_store::NewUser::new("writer");
    writer.password = Some(PASSWORD.into());
    store.create_user(writer).await.unwrap();
    store
        .add_user_to_groups("writer", &["Authors".into()])
        .await
        .unwrap();
    let writer_id = store.user("writer").await.unwrap().unwrap().id;
    let fields = bookshelf::articles::ArticleFields {
        title: "Writer's secret draft".into(),
        content: "Not for the other author.".into(),
    };
    let draft = env.app.db.create_article(&fields, writer_id).await.unwrap();
    assert_eq!(draft, 4);
    let titles = |body: &str| {
        [
            "Welcome to the Bookshelf",
            "New arrivals this month",
            "Reading group notes (draft)",
            "Writer&#x27;s secret draft",
        ]
        .iter()
        .map(|t| body.contains(t))
        .collect::<Vec<bool>>()
    };
    for (who, sees) in [
        ("author", [true, true, true, false]),
        ("writer", [true, false, false, true]),
        ("reviewer", [true, true, false, false]),
        ("chief", [true, true, true, true]),
        ("editor", [true, false, false, false]),
    ] {
        let mut c = Client::logged_in(&env.router, who).await;
        let list = c.get("/articles/").await;
        assert_eq!(titles(&list.body).as_slice(), sees, "{who} /articles/");
        for (n, visible) in sees.iter().enumerate() {
            let detail = c.get(&format!("/articles/{}/", n + 1)).await.status;
            let want = if *visible {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            };
            assert_eq!(detail, want, "{who} /articles/{}/", n + 1);
        }
    }
    let mut anon = Client::new(&env.router);
    assert_eq!(
        titles(&anon.get("/articles/").await.body),
        [true, false, false, false]
    );
    // Changing: the author their own draft only; the chief any; the reviewer none.
    for (who, path, want) in [
        // A draft they may not see is 404 (not 403: its existence is not told).
        ("author", "/articles/3/edit/", StatusCode::OK),
        ("author", "/articles/4/edit/", StatusCode::NOT_FOUND),
        ("author", "/articles/2/edit/", StatusCode::FORBIDDEN), // theirs, but in review
        ("writer", "/articles/4/edit/", StatusCode::OK),
        ("writer", "/articles/3/edit/", StatusCode::NOT_FOUND),
        ("reviewer", "/articles/3/edit/", StatusCode::NOT_FOUND),
        ("reviewer", "/articles/2/edit/", StatusCode::FORBIDDEN), // sees it, may not change it
        ("chief", "/articles/4/edit/", StatusCode::OK),
        ("editor", "/articles/3/edit/", StatusCode::NOT_FOUND),
        ("editor", "/articles/1/edit/", StatusCode::FORBIDDEN),
    ] {
        let mut c = Client::logged_in(&env.router, who).await;
        assert_eq!(c.get(path).await.status, want, "{who} {path}");
    }
    let mut author = Client::logged_in(&env.router, "author").await;
    assert_eq!(
        author.post("/articles/4/submit/", &[]).await.status,
        StatusCode::NOT_FOUND
    );
    let refused = author
        .post("/articles/2/edit/", &[("title", "x"), ("content", "y")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("bookshelf.change_article"));
    let draft = env.app.db.article(4).await.unwrap().unwrap();
    assert_eq!(
        draft.status,
        bookshelf::articles::Status::Draft,
        "nothing changed"
    );
    // An edit of what was a draft when read, saved after it was submitted: nothing is written.
    let stale = env.app.db.article(3).await.unwrap().unwrap();
    assert_eq!(
        author.post("/articles/3/submit/", &[]).await.status,
        StatusCode::FOUND
    );
    let late = bookshelf::articles::ArticleFields {
        title: "Sneaked in after submitting".into(),
        content: stale.content.clone(),
    };
    assert_eq!(
        env.app
            .db
            .edit_article(&stale, &late, stale.author_id)
            .await
            .unwrap(),
        bookshelf::articles::Edited::Changed
    );
    assert_eq!(
        env.app.db.article(3).await.unwrap().unwrap().title,
        stale.title
    );
    // The edit button follows the same rule: article 3 is in review now.
    assert!(!author
        .get("/articles/3/")
        .await
        .body
        .contains("data-testid=\"edit-article\""));
    let mut writer = Client::logged_in(&env.router, "writer").await;
    assert!(writer
        .get("/articles/4/")
        .await
        .body
        .contains("data-testid=\"edit-article\""));
    assert!(!author
        .get("/articles/2/")
        .await
        .body
        .contains("data-testid=\"edit-article\""));

    // Books: a co-editor granted change_book on book 2 edits book 2 and no other.
    let mut viewer = Client::logged_in(&env.router, "viewer").await;
    assert_eq!(
        viewer.get("/books/2/edit/").await.status,
        StatusCode::FORBIDDEN
    );
    let book2 = castellan_core::ObjectRef::parse("bookshelf.book:2").unwrap();
    store
        .grant_object_perms(
            castellan_store::ObjectHolder::User("viewer"),
            &["bookshelf.change_book".into()],
            &book2,
        )
        .await
        .unwrap();
    assert_eq!(viewer.get("/books/2/edit/").await.status, StatusCode::OK);
    assert!(viewer
        .get("/books/2/")
        .await
        .body
        .contains("data-testid=\"edit\""));
    assert_eq!(
        viewer.get("/books/1/edit/").await.status,
        StatusCode::FORBIDDEN
    );
    assert!(!viewer
        .get("/books/1/")
        .await
        .body
        .contains("data-testid=\"edit\""));
    // Revoked: refused on the next request.
    store
        .revoke_object_perms(
            castellan_store::ObjectHolder::User("viewer"),
            &["bookshelf.change_book".into()],
            &book2,
        )
        .await
        .unwrap();
    assert_eq!(
        viewer.get("/books/2/edit/").await.status,
        StatusCode::FORBIDDEN
    );
}
