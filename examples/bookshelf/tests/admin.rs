//! The admin UI mounted in Bookshelf at `/admin/`: who gets in, what each staff user sees, the
//! Book and Article model admins writing through the application's rules, a group permission
//! change reaching the member's next request, and the 403 page's way out.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bookshelf::books::Book;
use castellan_store::UserChanges;
use common::{env, env_on, per_db, Client, Env, Page, TestDb};
use http::StatusCode;

async fn books(env: &Env) -> Vec<Book> {
    env.app.db.books(true).await.unwrap()
}

async fn book_by_isbn(env: &Env, isbn: &str) -> Option<Book> {
    books(env).await.into_iter().find(|b| b.isbn == isbn)
}

/// The values of the hidden inputs named `name` (HTML-unescaped).
fn hidden(body: &str, name: &str) -> Vec<String> {
    let needle = format!("name=\"{name}\" value=\"");
    body.match_indices(&needle)
        .filter_map(|(i, _)| {
            let rest = &body[i + needle.len()..];
            rest.find('"').map(|end| {
                rest[..end]
                    .replace("&quot;", "\"")
                    .replace("&#x27;", "'")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&#x2f;", "/")
                    .replace("&amp;", "&")
            })
        })
        .collect()
}

fn assert_status(p: &Page, status: StatusCode, what: &str) {
    assert_eq!(p.status, status, "{what}: {:?} {}", p.location, p.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_superuser_sees_every_model_and_staff_see_the_nav_link() {
    let env = env().await;
    let mut root = Client::logged_in(&env.router, "root").await;
    let index = root.get("/admin/").await;
    assert_status(&index, StatusCode::OK, "root /admin/");
    for testid in [
        "model-auth-users",
        "model-auth-groups",
        "model-bookshelf-books",
        "model-bookshelf-articles",
    ] {
        assert!(
            index.body.contains(&format!("data-testid=\"{testid}\"")),
            "root's index lacks {testid}"
        );
    }
    assert!(index
        .body
        .contains("data-testid=\"app-name-bookshelf\">Bookshelf<"));
    assert!(index
        .body
        .contains("data-testid=\"app-name-auth\">Authentication and Authorization<"));
    assert!(index
        .body
        .contains("<a href=\"/books/\" data-testid=\"view-site\">View site</a>"));
    let list = root.get("/admin/bookshelf/book/").await;
    assert_status(&list, StatusCode::OK, "root book list");
    assert!(list.body.contains("Dune") && list.body.contains("9780441172719"));
    assert!(
        list.body.contains("Draft: A Memoir in Progress"),
        "drafts too"
    );
    let list = root.get("/admin/bookshelf/article/").await;
    assert_status(&list, StatusCode::OK, "root article list");
    assert!(list.body.contains("Reading group notes (draft)"));
    assert_status(
        &root.get("/admin/auth/user/").await,
        StatusCode::OK,
        "root users",
    );

    // The "Admin" link: staff only.
    for (user, shown) in [("root", true), ("admin", true), ("editor", false)] {
        let mut c = Client::logged_in(&env.router, user).await;
        let page = c.get("/books/").await;
        assert_eq!(
            page.body.contains("data-testid=\"nav-admin\""),
            shown,
            "{user}'s nav"
        );
    }
    let anonymous = Client::new(&env.router).get("/books/").await;
    assert!(!anonymous.body.contains("data-testid=\"nav-admin\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_staff_admin_manages_books_but_not_auth() {
    let env = env().await;
    let mut admin = Client::logged_in(&env.router, "admin").await;
    let index = admin.get("/admin/").await;
    assert_status(&index, StatusCode::OK, "admin /admin/");
    assert!(index.body.contains("data-testid=\"model-bookshelf-books\""));
    assert!(index
        .body
        .contains("data-testid=\"model-bookshelf-articles\""));
    assert!(
        !index.body.contains("data-testid=\"app-auth\""),
        "no auth permission, no auth app"
    );
    for path in [
        "/admin/auth/user/",
        "/admin/auth/user/add/",
        "/admin/auth/group/",
        "/admin/auth/group/Viewers/change/",
        "/admin/auth/permission/",
    ] {
        assert_status(&admin.get(path).await, StatusCode::FORBIDDEN, path);
    }
    assert_status(
        &admin
            .post("/admin/auth/user/add/", &[("username", "mallory")])
            .await,
        StatusCode::FORBIDDEN,
        "admin adds a user",
    );
    assert!(env.app.store.user("mallory").await.unwrap().is_none());

    // Add.
    let before = books(&env).await.len();
    let created = admin
        .post(
            "/admin/bookshelf/book/add/",
            &[
                ("title", "  Solaris "),
                ("author", "Stanisław Lem"),
                ("isbn", "978-0-15-602760-1"),
                ("publication_year", "1961"),
                ("copies_total", "4"),
                ("copies_available", "3"),
            ],
        )
        .await;
    assert_status(&created, StatusCode::SEE_OTHER, "admin adds a book");
    assert_eq!(books(&env).await.len(), before + 1);
    let solaris = book_by_isbn(&env, "9780156027601").await.unwrap();
    assert_eq!(solaris.title, "Solaris");
    assert_eq!((solaris.copies_total, solaris.copies_available), (4, 3));
    assert!(
        !solaris.is_published,
        "a new book is a draft, as in the app"
    );
    assert_eq!(
        created.location.as_deref(),
        Some("/admin/bookshelf/book/"),
        "Save goes back to the list, as in Django"
    );
    // The app shows it to the admin (who may change books).
    let detail = admin.get(&format!("/books/{}/", solaris.id)).await;
    assert_status(&detail, StatusCode::OK, "the app's detail page");
    assert!(detail.body.contains("Solaris"));

    // Change.
    let form = admin
        .get(&format!("/admin/bookshelf/book/{}/change/", solaris.id))
        .await;
    assert_status(&form, StatusCode::OK, "change form");
    assert!(form.body.contains("data-testid=\"save\""));
    assert!(form.body.contains("data-testid=\"delete-object\""));
    let changed = admin
        .post(
            &format!("/admin/bookshelf/book/{}/change/", solaris.id),
            &[
                ("title", "Solaris (Kilmartin/Cox)"),
                ("author", "Stanisław Lem"),
                ("isbn", "9780156027601"),
                ("publication_year", ""),
                ("copies_total", "5"),
                ("copies_available", "5"),
            ],
        )
        .await;
    assert_status(&changed, StatusCode::SEE_OTHER, "admin changes the book");
    let solaris = env.app.db.book(solaris.id).await.unwrap().unwrap();
    assert_eq!(solaris.title, "Solaris (Kilmartin/Cox)");
    assert_eq!(solaris.publication_year, None);
    assert_eq!((solaris.copies_total, solaris.copies_available), (5, 5));

    // Delete.
    let confirm = admin
        .get(&format!("/admin/bookshelf/book/{}/delete/", solaris.id))
        .await;
    assert_status(&confirm, StatusCode::OK, "delete confirmation");
    let deleted = admin
        .post(
            &format!("/admin/bookshelf/book/{}/delete/", solaris.id),
            &[],
        )
        .await;
    assert_status(&deleted, StatusCode::SEE_OTHER, "admin deletes the book");
    assert!(env.app.db.book(solaris.id).await.unwrap().is_none());
    assert_eq!(books(&env).await.len(), before);

    // Articles: add (the author is a username: only a superuser names someone else), change,
    // delete.
    let added = admin
        .post(
            "/admin/bookshelf/article/add/",
            &[
                ("title", "Opening hours"),
                ("content", "Open every day but Sunday."),
                ("author", "admin"),
            ],
        )
        .await;
    assert_status(&added, StatusCode::SEE_OTHER, "admin adds an article");
    let articles = env.app.db.articles(true).await.unwrap();
    let article = articles
        .iter()
        .find(|a| a.title == "Opening hours")
        .unwrap();
    assert_eq!(article.author, "admin");
    assert_eq!(
        article.status,
        bookshelf::articles::Status::Draft,
        "the workflow starts at draft"
    );
    let unknown = admin
        .post(
            &format!("/admin/bookshelf/article/{}/change/", article.id),
            &[
                ("title", "Hijacked"),
                ("content", "x"),
                ("author", "nobody"),
            ],
        )
        .await;
    assert_status(&unknown, StatusCode::BAD_REQUEST, "another author");
    assert!(unknown.body.contains("only a superuser can set"));
    let mut root = Client::logged_in(&env.router, "root").await;
    let unknown = root
        .post(
            &format!("/admin/bookshelf/article/{}/change/", article.id),
            &[
                ("title", "Hijacked"),
                ("content", "x"),
                ("author", "nobody"),
            ],
        )
        .await;
    assert_status(&unknown, StatusCode::BAD_REQUEST, "unknown author");
    assert!(unknown.body.contains("no user named"));
    let status_field = admin
        .post(
            &format!("/admin/bookshelf/article/{}/change/", article.id),
            &[
                ("title", "Opening hours"),
                ("content", "x"),
                ("author", "admin"),
                ("status", "published"),
            ],
        )
        .await;
    assert_status(
        &status_field,
        StatusCode::BAD_REQUEST,
        "the status is not a form field",
    );
    let a = env.app.db.article(article.id).await.unwrap().unwrap();
    assert_eq!(
        (a.title.as_str(), a.status),
        ("Opening hours", bookshelf::articles::Status::Draft)
    );
    let deleted = admin
        .post(
            &format!("/admin/bookshelf/article/{}/delete/", article.id),
            &[],
        )
        .await;
    assert_status(&deleted, StatusCode::SEE_OTHER, "admin deletes the article");
    assert!(env.app.db.article(article.id).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_staff_get_403_and_anonymous_users_the_login_page() {
    let env = env().await;
    let before = books(&env).await;
    let mut editor = Client::logged_in(&env.router, "editor").await;
    for path in ["/admin/", "/admin/bookshelf/book/", "/admin/auth/user/"] {
        let page = editor.get(path).await;
        assert_status(&page, StatusCode::FORBIDDEN, path);
        // The application's 403 page, completed with the session: groups and the logout form.
        assert!(page.body.contains("data-testid=\"forbidden\""), "{path}");
        assert!(page.body.contains("data-testid=\"logout\""), "{path}");
        assert!(page.body.contains("(Editors)"), "{path}");
    }
    let refused = editor
        .post(
            "/admin/bookshelf/book/add/",
            &[
                ("title", "X"),
                ("author", "Y"),
                ("isbn", "9780000000019"),
                ("copies_total", "1"),
                ("copies_available", "1"),
            ],
        )
        .await;
    assert_status(&refused, StatusCode::FORBIDDEN, "editor POSTs to the admin");

    let mut anonymous = Client::new(&env.router);
    let page = anonymous.get("/admin/").await;
    assert!(page.is_login_redirect(), "{page:?}");
    assert_eq!(
        page.location.as_deref(),
        Some("/accounts/login/?next=/admin/")
    );
    let page = anonymous
        .post(
            "/admin/bookshelf/book/add/",
            &[
                ("title", "X"),
                ("author", "Y"),
                ("isbn", "9780000000019"),
                ("copies_total", "1"),
                ("copies_available", "1"),
            ],
        )
        .await;
    assert!(page.is_login_redirect(), "{page:?}");
    assert_eq!(books(&env).await, before, "nothing was written");

    // Logging in from the redirect lands on the admin index (staff).
    let mut root = Client::new(&env.router);
    let page = root.login("root", common::PASSWORD, Some("/admin/")).await;
    assert_eq!(page.location.as_deref(), Some("/admin/"));
    assert_status(
        &root.get("/admin/").await,
        StatusCode::OK,
        "root after login",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_only_staff_user_reads_but_cannot_write() {
    let env = env().await;
    // viewer (Viewers: view_book) made staff: Django's view rule (view or change) lets it read.
    env.app
        .store
        .update_user(
            "viewer",
            UserChanges {
                is_staff: Some(true),
                ..UserChanges::default()
            },
        )
        .await
        .unwrap();
    let dune = book_by_isbn(&env, "9780441172719").await.unwrap();
    let mut viewer = Client::logged_in(&env.router, "viewer").await;
    let index = viewer.get("/admin/").await;
    assert_status(&index, StatusCode::OK, "viewer index");
    assert!(index.body.contains("data-testid=\"model-bookshelf-books\""));
    assert!(
        !index
            .body
            .contains("data-testid=\"model-bookshelf-articles\""),
        "no article permission"
    );
    assert_status(
        &viewer.get("/admin/bookshelf/article/").await,
        StatusCode::FORBIDDEN,
        "articles",
    );
    let list = viewer.get("/admin/bookshelf/book/").await;
    assert_status(&list, StatusCode::OK, "viewer book list");
    assert!(!list.body.contains("data-testid=\"add-bookshelf-book\""));
    let form = viewer
        .get(&format!("/admin/bookshelf/book/{}/change/", dune.id))
        .await;
    assert_status(&form, StatusCode::OK, "read-only change page");
    assert!(!form.body.contains("data-testid=\"save\""));
    assert!(!form.body.contains("data-testid=\"delete-object\""));
    let change = viewer
        .post(
            &format!("/admin/bookshelf/book/{}/change/", dune.id),
            &[
                ("title", "Dune Messiah"),
                ("author", "Frank Herbert"),
                ("isbn", "9780441172719"),
                ("copies_total", "3"),
                ("copies_available", "3"),
            ],
        )
        .await;
    assert_status(&change, StatusCode::FORBIDDEN, "viewer changes a book");
    for (method, path) in [
        ("GET", "/admin/bookshelf/book/add/".to_owned()),
        ("POST", format!("/admin/bookshelf/book/{}/delete/", dune.id)),
        ("GET", format!("/admin/bookshelf/book/{}/delete/", dune.id)),
    ] {
        let page = match method {
            "GET" => viewer.get(&path).await,
            _ => viewer.post(&path, &[]).await,
        };
        assert_status(&page, StatusCode::FORBIDDEN, &path);
    }
    assert_eq!(env.app.db.book(dune.id).await.unwrap().unwrap(), dune);
}

/// On every database.
async fn admin_edits_that_break_an_invariant_change_nothing(db: TestDb) {
    let env = env_on(db).await;
    let dune = book_by_isbn(&env, "9780441172719").await.unwrap();
    let other = book_by_isbn(&env, "9780441569595").await.unwrap();
    assert_eq!((dune.copies_total, dune.copies_available), (3, 3));
    let mut admin = Client::logged_in(&env.router, "admin").await;
    let change = format!("/admin/bookshelf/book/{}/change/", dune.id);
    let edit = |isbn: &'static str, total: &'static str, on_shelf: &'static str| {
        vec![
            ("title", "Dune (edited)"),
            ("author", "Frank Herbert"),
            ("isbn", isbn),
            ("publication_year", "1965"),
            ("copies_total", total),
            ("copies_available", on_shelf),
        ]
    };
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: &[Case] = &[
        (
            "duplicate ISBN",
            edit("9780441569595", "3", "3"),
            "already exists",
        ),
        (
            "copies > stock",
            edit("9780441172719", "3", "4"),
            "between 0",
        ),
        (
            "negative copies",
            edit("9780441172719", "3", "-1"),
            "between 0",
        ),
        ("bad ISBN", edit("97804411727", "3", "3"), "10 or 13 digits"),
        (
            "stock out of range",
            edit("9780441172719", "10001", "3"),
            "between 0 and 10000",
        ),
        (
            "not a number",
            edit("9780441172719", "three", "3"),
            "whole number",
        ),
    ];
    for (what, form, message) in cases {
        let page = admin.post(&change, form).await;
        assert_status(&page, StatusCode::BAD_REQUEST, what);
        assert!(page.body.contains(message), "{what}: {}", page.body);
        assert_eq!(
            env.app.db.book(dune.id).await.unwrap().unwrap(),
            dune,
            "{what} changed the book"
        );
    }
    assert_eq!(env.app.db.book(other.id).await.unwrap().unwrap(), other);

    // A duplicate ISBN on add: refused, nothing created.
    let count = books(&env).await.len();
    let page = admin
        .post(
            "/admin/bookshelf/book/add/",
            &[
                ("title", "Dune again"),
                ("author", "Frank Herbert"),
                ("isbn", "9780441172719"),
                ("copies_total", "1"),
                ("copies_available", "1"),
            ],
        )
        .await;
    assert_status(&page, StatusCode::BAD_REQUEST, "duplicate ISBN on add");
    assert!(page.body.contains("already exists"));
    let page = admin
        .post(
            "/admin/bookshelf/book/add/",
            &[
                ("title", "Too many"),
                ("author", "A"),
                ("isbn", "9780000000019"),
                ("copies_total", "1"),
                ("copies_available", "2"),
            ],
        )
        .await;
    assert_status(&page, StatusCode::BAD_REQUEST, "copies > stock on add");
    assert_eq!(books(&env).await.len(), count);

    // A member borrows a copy: the admin cannot put it back on the shelf by hand, nor drop the
    // stock below what is lent out; a consistent edit passes.
    let mut member = Client::logged_in(&env.router, "member").await;
    let borrowed = member
        .post(&format!("/books/{}/borrow/", dune.id), &[])
        .await;
    assert_status(&borrowed, StatusCode::FOUND, "member borrows");
    let lent = env.app.db.book(dune.id).await.unwrap().unwrap();
    assert_eq!((lent.copies_total, lent.copies_available), (3, 2));
    for (what, form) in [
        ("shelf covers a lent copy", edit("9780441172719", "3", "3")),
        ("stock below lent out", edit("9780441172719", "0", "0")),
    ] {
        let page = admin.post(&change, &form).await;
        assert_status(&page, StatusCode::BAD_REQUEST, what);
        assert!(page.body.contains("lent out"), "{what}: {}", page.body);
        assert_eq!(
            env.app.db.book(dune.id).await.unwrap().unwrap(),
            lent,
            "{what}"
        );
    }
    let page = admin.post(&change, &edit("9780441172719", "4", "3")).await;
    assert_status(&page, StatusCode::SEE_OTHER, "a consistent edit");
    let now = env.app.db.book(dune.id).await.unwrap().unwrap();
    assert_eq!(
        (now.title.as_str(), now.copies_total, now.copies_available),
        ("Dune (edited)", 4, 3)
    );
    // The member can still return the copy.
    let returned = member
        .post(&format!("/books/{}/return/", dune.id), &[])
        .await;
    assert_status(&returned, StatusCode::FOUND, "member returns");
    let now = env.app.db.book(dune.id).await.unwrap().unwrap();
    assert_eq!((now.copies_total, now.copies_available), (4, 4));
}

/// root changes the Viewers group through the group page's review and save steps.
async fn edit_viewers(root: &mut Client, checked: &[&str], shown: &[&str]) -> Page {
    let path = "/admin/auth/group/Viewers/change/";
    let form = root.get(path).await;
    assert_status(&form, StatusCode::OK, "group page");
    let version = hidden(&form.body, "version");
    // The permission form and the members form both quote the group's version.
    assert!(!version.is_empty(), "a version field");
    assert!(version.iter().all(|v| v == &version[0]), "one version");
    let mut review: Vec<(&str, &str)> = vec![("step", "review"), ("version", &version[0])];
    review.extend(shown.iter().map(|p| ("shown_perm", *p)));
    review.extend(checked.iter().map(|p| ("perm", *p)));
    let reviewed = root.post(path, &review).await;
    assert_status(&reviewed, StatusCode::OK, "review step");
    assert!(
        reviewed.body.contains("data-testid=\"save\""),
        "{}",
        reviewed.body
    );
    let version = hidden(&reviewed.body, "version");
    let add = hidden(&reviewed.body, "add");
    let remove = hidden(&reviewed.body, "remove");
    let mut save: Vec<(&str, &str)> = vec![("step", "save"), ("version", &version[0])];
    save.extend(add.iter().map(|p| ("add", p.as_str())));
    save.extend(remove.iter().map(|p| ("remove", p.as_str())));
    root.post(path, &save).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_change_in_the_admin_reaches_the_members_next_request() {
    let env = env().await;
    let mut viewer = Client::logged_in(&env.router, "viewer").await;
    assert_status(
        &viewer.get("/books/add/").await,
        StatusCode::FORBIDDEN,
        "before",
    );
    let mut root = Client::logged_in(&env.router, "root").await;
    let shown = ["bookshelf.view_book", "bookshelf.add_book"];
    let saved = edit_viewers(&mut root, &shown, &shown).await;
    assert_status(&saved, StatusCode::SEE_OTHER, "grant saved");
    assert!(env
        .app
        .store
        .principal("viewer")
        .await
        .unwrap()
        .unwrap()
        .has_perm("bookshelf.add_book"));
    // The viewer's very next request, on the session it already had.
    let page = viewer.get("/books/add/").await;
    assert_status(&page, StatusCode::OK, "after the grant");
    assert!(page.body.contains("data-testid=\"book-form\""));

    let saved = edit_viewers(&mut root, &["bookshelf.view_book"], &shown).await;
    assert_status(&saved, StatusCode::SEE_OTHER, "revocation saved");
    let page = viewer.get("/books/add/").await;
    assert_status(&page, StatusCode::FORBIDDEN, "after the revocation");
    assert!(page.body.contains("bookshelf.add_book"));
    // The group still has its view permission.
    let group = env.app.store.group_state("Viewers").await.unwrap().unwrap();
    assert_eq!(group.permissions, vec!["bookshelf.view_book".to_owned()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_403_page_offers_a_way_out() {
    let env = env().await;
    let mut editor = Client::logged_in(&env.router, "editor").await;
    let page = editor.get("/books/1/delete/").await;
    assert_status(&page, StatusCode::FORBIDDEN, "editor deletes");
    assert!(page.body.contains("data-testid=\"forbidden\""));
    assert!(page
        .body
        .contains("<code data-testid=\"missing-permission\">bookshelf.delete_book</code>"));
    assert!(page.body.contains("data-testid=\"username\">editor<"));
    assert!(page.body.contains("data-testid=\"logout\""));
    assert!(page.body.contains("data-testid=\"forbidden-switch-user\""));
    // The logout form on the 403 page carries a token the logout view accepts.
    let tokens = hidden(&page.body, "csrfmiddlewaretoken");
    assert_eq!(tokens.len(), 1);
    let out = editor
        .post_with_token("/accounts/logout/", &tokens[0], &[])
        .await;
    assert_status(&out, StatusCode::FOUND, "logout from the 403 page");
    assert!(editor.get("/books/add/").await.is_login_redirect());
    // An anonymous visitor is told to log in, not about "your account".
    let page = editor.get("/books/1/delete/").await;
    assert_status(&page, StatusCode::FORBIDDEN, "anonymous deletes");
    assert!(
        page.body.contains("data-testid=\"forbidden-login\""),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("log in with an account that has it"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("your account"), "{}", page.body);

    // Anonymous users on a raise_exception route: the login link, no logout form.
    let page = Client::new(&env.router).get("/books/1/delete/").await;
    assert_status(&page, StatusCode::FORBIDDEN, "anonymous deletes");
    assert!(page.body.contains("data-testid=\"login-link\""));
    assert!(!page.body.contains("data-testid=\"logout\""));
}

async fn the_inventory_sets_the_stock_within_the_copies_lent_out(db: TestDb) {
    let env = env_on(db).await;
    let dune = book_by_isbn(&env, "9780441172719").await.unwrap();
    let stock = format!("/inventory/{}/stock/", dune.id);
    let mut librarian = Client::logged_in(&env.router, "librarian").await;
    let page = librarian.get("/inventory/").await;
    assert_status(&page, StatusCode::OK, "inventory");
    assert!(page
        .body
        .contains(&format!("data-testid=\"stock-form-{}\"", dune.id)));

    // Two copies lent out (3 owned).
    let mut member = Client::logged_in(&env.router, "member").await;
    for _ in 0..2 {
        let p = member
            .post(&format!("/books/{}/borrow/", dune.id), &[])
            .await;
        assert_status(&p, StatusCode::FOUND, "borrow");
    }
    let lent = env.app.db.book(dune.id).await.unwrap().unwrap();
    assert_eq!((lent.copies_total, lent.copies_available), (3, 1));

    // Below the copies lent out, out of range, or not a number: refused, nothing changes.
    for (value, status, message) in [
        ("1", StatusCode::CONFLICT, "2 copies are lent out"),
        ("-1", StatusCode::BAD_REQUEST, "between 0 and 10000"),
        ("10001", StatusCode::BAD_REQUEST, "between 0 and 10000"),
        ("many", StatusCode::BAD_REQUEST, "whole number"),
        ("", StatusCode::BAD_REQUEST, "whole number"),
    ] {
        let p = librarian.post(&stock, &[("copies_total", value)]).await;
        assert_status(&p, status, value);
        assert!(
            p.body
                .contains(&format!("data-testid=\"stock-error-{}\"", dune.id))
                && p.body.contains(message),
            "{value}: {}",
            p.body
        );
        assert_eq!(
            env.app.db.book(dune.id).await.unwrap().unwrap(),
            lent,
            "{value}"
        );
    }

    // Exactly the copies lent out: none on the shelf; then more copies arrive.
    let p = librarian.post(&stock, &[("copies_total", "2")]).await;
    assert_status(&p, StatusCode::FOUND, "stock = lent out");
    let now = env.app.db.book(dune.id).await.unwrap().unwrap();
    assert_eq!((now.copies_total, now.copies_available), (2, 0));
    let p = librarian.post(&stock, &[("copies_total", "6")]).await;
    assert_status(&p, StatusCode::FOUND, "more copies");
    assert_eq!(p.location.as_deref(), Some("/inventory/"));
    let now = env.app.db.book(dune.id).await.unwrap().unwrap();
    assert_eq!((now.copies_total, now.copies_available), (6, 4));
    let page = librarian.get("/inventory/").await;
    assert!(page.body.contains("Stock of “Dune” set to 6"));

    // Returns still fit under the stock.
    for _ in 0..2 {
        let p = member
            .post(&format!("/books/{}/return/", dune.id), &[])
            .await;
        assert_status(&p, StatusCode::FOUND, "return");
    }
    let now = env.app.db.book(dune.id).await.unwrap().unwrap();
    assert_eq!((now.copies_total, now.copies_available), (6, 6));

    // Without can_manage_inventory: 403 (editor), login redirect (anonymous); unknown book: 404.
    let mut editor = Client::logged_in(&env.router, "editor").await;
    let p = editor.post(&stock, &[("copies_total", "1")]).await;
    assert_status(&p, StatusCode::FORBIDDEN, "editor");
    assert!(p.body.contains("bookshelf.can_manage_inventory"));
    let p = Client::new(&env.router)
        .post(&stock, &[("copies_total", "1")])
        .await;
    assert!(p.is_login_redirect(), "{p:?}");
    let p = librarian
        .post("/inventory/999/stock/", &[("copies_total", "1")])
        .await;
    assert_status(&p, StatusCode::NOT_FOUND, "no such book");
    assert_eq!(
        env.app
            .db
            .book(dune.id)
            .await
            .unwrap()
            .unwrap()
            .copies_total,
        6
    );
}

/// The audit entries of admin model edits, oldest first, as "actor action type object".
async fn model_audit(env: &Env) -> Vec<castellan_store::AuditEntry> {
    let mut v: Vec<_> = env
        .app
        .store
        .audit_log(&castellan_store::AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action.starts_with("admin."))
        .collect();
    v.reverse();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_edits_know_the_user_and_are_audited() {
    let env = env().await;
    let mut root = Client::logged_in(&env.router, "root").await;
    // An article added without an author is root's; with one, that user's.
    let p = root
        .post(
            "/admin/bookshelf/article/add/",
            &[
                ("title", "Admin notes"),
                ("content", "Written in the admin."),
            ],
        )
        .await;
    assert_status(&p, StatusCode::SEE_OTHER, "add article");
    let articles = env.app.db.articles(true).await.unwrap();
    let mine = articles.iter().find(|a| a.title == "Admin notes").unwrap();
    assert_eq!(mine.author, "root");
    // On change, an empty author keeps the author.
    let change = format!("/admin/bookshelf/article/{}/change/", mine.id);
    let p = root
        .post(
            &change,
            &[
                ("title", "Admin notes, revised"),
                ("content", "Written in the admin."),
                ("author", ""),
            ],
        )
        .await;
    assert_status(&p, StatusCode::SEE_OTHER, "change article");
    let now = env.app.db.article(mine.id).await.unwrap().unwrap();
    assert_eq!(
        (now.title.as_str(), now.author.as_str()),
        ("Admin notes, revised", "root")
    );
    // A book edit by the staff admin, then a delete by root.
    let dune = book_by_isbn(&env, "9780441172719").await.unwrap();
    let mut admin = Client::logged_in(&env.router, "admin").await;
    let p = admin
        .post(
            &format!("/admin/bookshelf/book/{}/change/", dune.id),
            &[
                ("title", "Dune (audited)"),
                ("author", "Frank Herbert"),
                ("isbn", "978-0441172719"),
                ("publication_year", "1965"),
                ("copies_total", "3"),
                ("copies_available", "3"),
            ],
        )
        .await;
    assert_status(&p, StatusCode::SEE_OTHER, "change book");
    let p = root
        .post(
            &format!("/admin/bookshelf/article/{}/delete/", mine.id),
            &[],
        )
        .await;
    assert_status(&p, StatusCode::SEE_OTHER, "delete article");
    let entries = model_audit(&env).await;
    let summary: Vec<String> = entries
        .iter()
        .map(|e| format!("{} {} {} {}", e.actor, e.action, e.object_type, e.object))
        .collect();
    let (a, b) = (mine.id, dune.id);
    assert_eq!(
        summary,
        [
            format!("user:root admin.add bookshelf.article {a}"),
            format!("user:root admin.change bookshelf.article {a}"),
            format!("user:admin admin.change bookshelf.book {b}"),
            format!("user:root admin.delete bookshelf.article {a}"),
        ]
    );
    // The book's entry names only what changed (the ISBN's dash is not a change once stored).
    let after: serde_json::Value =
        serde_json::from_str(entries[2].after.as_deref().unwrap()).unwrap();
    assert_eq!(after["changed"], serde_json::json!(["title"]));
    assert_eq!(after["values"]["title"], "Dune (audited)");
    let before: serde_json::Value =
        serde_json::from_str(entries[2].before.as_deref().unwrap()).unwrap();
    assert_eq!(before["values"]["title"], "Dune");
}

async fn model_lists_page_and_search_in_sql(db: TestDb) {
    use castellan_admin::{ListQuery, ModelAdmin};
    let env = env_on(db).await;
    let books_admin = bookshelf::admin::BookAdmin::new(env.app.db.clone());
    let all: Vec<String> = books(&env).await.iter().map(|b| b.id.to_string()).collect();
    assert!(all.len() >= 3, "the demo has books");
    // Pages of two cover every book once, in the list's order.
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let page = books_admin.list(&ListQuery::new(offset, 2)).await.unwrap();
        assert!(page.objects.len() <= 2);
        assert_eq!(page.total, Some(all.len() as u64));
        seen.extend(page.objects.iter().map(|o| o.id.clone()));
        if !page.more {
            break;
        }
        offset += 2;
    }
    assert_eq!(seen, all);
    // Search: case-insensitive on title, author and ISBN; LIKE wildcards are literal.
    let found = |q: &str| {
        let admin = books_admin.clone();
        let q = q.to_owned();
        async move {
            let page = admin
                .list(&ListQuery::new(0, 100).with_search(q))
                .await
                .unwrap();
            page.objects
                .into_iter()
                .map(|o| o.label)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(found("dUNE").await, ["Dune"]);
    assert_eq!(found("herbert").await, ["Dune"]);
    assert_eq!(found("0441172719").await, ["Dune"]);
    assert!(found("%").await.is_empty());
    assert!(found("_").await.is_empty());
    // Articles by author username, through the admin page.
    let mut root = Client::logged_in(&env.router, "root").await;
    let p = root.get("/admin/bookshelf/book/?q=dune").await;
    assert_status(&p, StatusCode::OK, "book search");
    assert!(p.body.contains(">Dune<"));
    assert!(
        p.body.contains("data-testid=\"object-count\">1 found"),
        "{}",
        p.body
    );
    let articles = env.app.db.articles(true).await.unwrap();
    let author = &articles[0].author;
    let p = root
        .get(&format!("/admin/bookshelf/article/?q={author}"))
        .await;
    assert_status(&p, StatusCode::OK, "article search");
    let expected = articles
        .iter()
        .filter(|a| {
            a.author.contains(author.as_str())
                || a.title.to_lowercase().contains(&author.to_lowercase())
        })
        .count();
    assert!(
        p.body
            .contains(&format!("data-testid=\"object-count\">{expected} found")),
        "{}",
        p.body
    );
}

/// The books list orders and filters in SQL on every database; "Delete selected" deletes books in
/// one transaction and articles one by one, an id spelled twice (`5`, `05`) once, with one audit
/// entry per object.
async fn model_lists_sort_filter_and_delete_selected_in_sql(db: TestDb) {
    let env = env_on(db).await;
    let mut root = Client::logged_in(&env.router, "root").await;
    // Each row's object link text, in page order.
    let titles = |body: &str| -> Vec<String> {
        body.split("<tr data-testid=\"object-")
            .skip(1)
            .filter_map(|row| {
                let link = row.split("<td><a href=\"").nth(1)?;
                let text = link.split("\">").nth(1)?.split("</a>").next()?;
                Some(text.to_owned())
            })
            .collect()
    };
    let p = root.get("/admin/bookshelf/book/?o=-title").await;
    assert_status(&p, StatusCode::OK, "sorted");
    let shown = titles(&p.body);
    let mut expected = shown.clone();
    expected.sort_by_key(|t| std::cmp::Reverse(t.to_lowercase()));
    assert!(
        shown.len() >= 3 && shown.iter().all(|t| !t.is_empty()),
        "{}",
        p.body
    );
    assert_eq!(shown, expected);
    let published: Vec<String> = books(&env)
        .await
        .into_iter()
        .filter(|b| b.is_published)
        .map(|b| b.title)
        .collect();
    let p = root
        .get("/admin/bookshelf/book/?is_published=true&o=title")
        .await;
    let mut shown = titles(&p.body);
    shown.sort();
    let mut want = published.clone();
    want.sort();
    assert_eq!(shown, want, "the filter keeps the published books");
    assert_status(
        &root.get("/admin/bookshelf/book/?is_published=maybe").await,
        StatusCode::BAD_REQUEST,
        "unknown filter value",
    );
    // Articles: one id spelled twice is one object, deleted and audited once.
    let article = env.app.db.articles(true).await.unwrap()[0].id.to_string();
    let padded = format!("0{article}");
    let before = model_audit(&env).await.len();
    let p = root
        .post(
            "/admin/bookshelf/article/",
            &[
                ("action", "delete_selected"),
                ("post", "yes"),
                ("_selected_action", &article),
                ("_selected_action", &padded),
            ],
        )
        .await;
    assert_status(&p, StatusCode::SEE_OTHER, "deleted");
    let after = model_audit(&env).await;
    assert_eq!(after.len(), before + 1, "one entry for one article");
    assert_eq!(after[after.len() - 1].object, article);
    // Books: two at once, in one transaction.
    let ids: Vec<String> = books(&env)
        .await
        .iter()
        .take(2)
        .map(|b| b.id.to_string())
        .collect();
    let count = books(&env).await.len();
    let p = root
        .post(
            "/admin/bookshelf/book/",
            &[
                ("action", "delete_selected"),
                ("post", "yes"),
                ("_selected_action", &ids[0]),
                ("_selected_action", &ids[1]),
            ],
        )
        .await;
    assert_status(&p, StatusCode::SEE_OTHER, "books deleted");
    assert_eq!(books(&env).await.len(), count - 2);
}

per_db!(
    model_lists_sort_filter_and_delete_selected_in_sql,
    admin_edits_that_break_an_invariant_change_nothing,
    the_inventory_sets_the_stock_within_the_copies_lent_out,
    model_lists_page_and_search_in_sql,
);

/// The admin's object-permissions page of a book (django-guardian's admin): a staff member with
/// `change_book` grants it on one book to a co-editor, who then edits that book on the site; the
/// escalation rules hold on one object: only what the staff member holds on it, never their own,
/// never a superuser's, and a refusal writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_permissions_page_grants_only_what_you_hold_on_the_object() {
    let env = env().await;
    let store = &env.app.store;
    // desk: staff with change_book and view_book, but not delete_book.
    let mut desk = castellan_store::NewUser::new("desk");
    desk.password = Some(common::PASSWORD.into());
    desk.is_staff = true;
    store.create_user(desk).await.unwrap();
    store
        .grant_user(
            "desk",
            &["bookshelf.change_book".into(), "bookshelf.view_book".into()],
        )
        .await
        .unwrap();
    let book2 = castellan_core::ObjectRef::parse("bookshelf.book:2").unwrap();
    let mut staff = Client::logged_in(&env.router, "desk").await;
    let change = staff.get("/admin/bookshelf/book/2/change/").await;
    assert!(
        change.body.contains("data-testid=\"object-permissions\""),
        "the change page links the page"
    );
    let page = staff.get("/admin/bookshelf/book/2/permissions/").await;
    assert_status(&page, StatusCode::OK, "desk's object permissions page");
    assert!(page.body.contains("data-testid=\"object-users-empty\""));
    assert!(
        page.body.contains("value=\"delete_book\" disabled"),
        "what desk does not hold is locked"
    );
    let grant = |who: &'static str, perm: &'static str, action: &'static str| {
        vec![
            ("kind", "user"),
            ("name", who),
            ("perm", perm),
            ("action", action),
        ]
    };
    let before = store.object_grant_list(&book2).await.unwrap();
    for (form, status, why) in [
        (
            grant("viewer", "delete_book", "grant"),
            StatusCode::FORBIDDEN,
            "not held",
        ),
        (
            grant("desk", "change_book", "grant"),
            StatusCode::FORBIDDEN,
            "own",
        ),
        (
            grant("root", "change_book", "grant"),
            StatusCode::FORBIDDEN,
            "a superuser's",
        ),
        // The librarian holds can_manage_inventory, which desk lacks: a stronger user.
        (
            grant("librarian", "change_book", "grant"),
            StatusCode::FORBIDDEN,
            "a stronger user's",
        ),
        (
            grant("viewer", "change_article", "grant"),
            StatusCode::BAD_REQUEST,
            "another model's",
        ),
        (
            grant("nobody", "change_book", "grant"),
            StatusCode::BAD_REQUEST,
            "no such user",
        ),
        (
            grant("viewer", "change_book", "steal"),
            StatusCode::BAD_REQUEST,
            "no such action",
        ),
    ] {
        let p = staff
            .post("/admin/bookshelf/book/2/permissions/", &form)
            .await;
        assert_status(&p, status, why);
        assert_eq!(
            store.object_grant_list(&book2).await.unwrap(),
            before,
            "{why}: nothing written"
        );
    }
    // Granted: the co-editor edits book 2 on the site, and no other.
    let p = staff
        .post(
            "/admin/bookshelf/book/2/permissions/",
            &grant("viewer", "change_book", "grant"),
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let page = staff.get("/admin/bookshelf/book/2/permissions/").await;
    assert!(
        page.body.contains("data-testid=\"object-user-viewer\""),
        "{}",
        page.body
    );
    let mut viewer = Client::logged_in(&env.router, "viewer").await;
    assert_eq!(viewer.get("/books/2/edit/").await.status, StatusCode::OK);
    assert_eq!(
        viewer.get("/books/1/edit/").await.status,
        StatusCode::FORBIDDEN
    );
    // A group, then revoked.
    let group = [
        ("kind", "group"),
        ("name", "Viewers"),
        ("perm", "change_book"),
        ("action", "grant"),
    ];
    assert_eq!(
        staff
            .post("/admin/bookshelf/book/2/permissions/", &group)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let list = store.object_grant_list(&book2).await.unwrap();
    assert_eq!(
        list.groups,
        [("Viewers".to_owned(), vec!["change_book".to_owned()])]
    );
    let p = staff
        .post(
            "/admin/bookshelf/book/2/permissions/",
            &grant("viewer", "change_book", "revoke"),
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let audit = store.audit_log(&Default::default()).await.unwrap();
    assert!(audit
        .iter()
        .any(|e| e.action == "user.object_grant" && e.actor.to_string().contains("desk")));
    // Without change_book, no page at all.
    let mut member = Client::logged_in(&env.router, "viewer").await;
    assert_eq!(
        member
            .get("/admin/bookshelf/book/2/permissions/")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}
