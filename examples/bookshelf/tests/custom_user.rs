//! Bookshelf pointed at a Django project whose user model is its own, on every database:
//! `accounts.Member` (a UUID primary key, e-mail as the username field; the test kit's schema as
//! Django 6.1 migrated it). Set-up adopts the project's tables and creates Bookshelf's with foreign
//! keys of the key's type; articles and borrows point at members and show their e-mail; the
//! admin's article search matches it; deleting a member takes their articles with them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bookshelf::books::{BookFields, Flag};
use bookshelf::Bookshelf;
use castellan_core::UserId;
use castellan_store::{NewUser, StoreOptions};
use castellan_testkit::custom_user::CustomUser;
use common::{per_db, Client, TestDb, PASSWORD, SECRET};
use http::StatusCode;

async fn member(app: &Bookshelf, email: &str, groups: &[&str], staff: bool) -> UserId {
    let mut new = NewUser::new(email);
    new.password = Some(PASSWORD.into());
    new.is_staff = staff;
    new.fields = vec![
        ("display_name".into(), email.into()),
        ("favourite_colour".into(), "green".into()),
    ];
    let user = app.store.create_user(new).await.unwrap();
    let groups: Vec<String> = groups.iter().map(|g| (*g).to_owned()).collect();
    app.store.add_user_to_groups(email, &groups).await.unwrap();
    user.id
}

async fn bookshelf_serves_a_uuid_user_model(db: TestDb) {
    let kind = db.kind();
    drop(db);
    let Some(project) = CustomUser::Member.database(kind).await else {
        return;
    };
    let options = StoreOptions {
        user_model: CustomUser::Member.model(),
        ..common::cheap_options()
    };
    let app = Bookshelf::connect(&project.url, options).await.unwrap();
    app.setup().await.unwrap();
    app.setup().await.unwrap();
    let ann = member(&app, "ann@example.com", &["Authors"], false).await;
    assert!(matches!(ann, UserId::Uuid(_)));
    member(
        &app,
        "lib@example.com",
        &["Librarians", "Library Members"],
        false,
    )
    .await;
    member(&app, "chief@example.com", &["Chief Editors"], true).await;
    let router = app.router(SECRET.as_bytes().to_vec()).await.unwrap();

    // Ann writes an article: its author is her key, shown by her e-mail.
    let mut ann_client = Client::logged_in(&router, "ann@example.com").await;
    let page = ann_client
        .post(
            "/articles/add/",
            &[("title", "Keys of every kind"), ("content", "UUIDs too.")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    let articles = app.db.articles(true).await.unwrap();
    assert_eq!(articles.len(), 1);
    assert_eq!(articles[0].author_id, ann);
    assert_eq!(articles[0].author, "ann@example.com");
    let page = ann_client
        .get(&format!("/articles/{}/", articles[0].id))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("ann@example.com"), "{}", page.body);

    // The admin's article list searches the author's e-mail.
    let mut chief = Client::logged_in(&router, "chief@example.com").await;
    let list = chief.get("/admin/bookshelf/article/?q=ann%40example").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains("Keys of every kind"), "{}", list.body);
    let list = chief.get("/admin/bookshelf/article/?q=nobody").await;
    assert!(!list.body.contains("Keys of every kind"), "{}", list.body);

    // A member borrows a book; the inventory names the borrower.
    let book = app
        .db
        .create_book(&BookFields {
            title: "Two Scoops".into(),
            author: "Greenfeld".into(),
            isbn: "9780692915721".into(),
            publication_year: Some(2017),
            copies_total: 2,
        })
        .await
        .unwrap()
        .unwrap();
    app.db.toggle_book(book, Flag::Published).await.unwrap();
    let mut lib = Client::logged_in(&router, "lib@example.com").await;
    let page = lib.post(&format!("/books/{book}/borrow/"), &[]).await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    let borrows = app.db.borrows().await.unwrap();
    assert_eq!(borrows.len(), 1);
    assert_eq!(borrows[0].username, "lib@example.com");
    let inventory = lib.get("/inventory/").await;
    assert_eq!(inventory.status, StatusCode::OK);
    assert!(
        inventory.body.contains("lib@example.com"),
        "{}",
        inventory.body
    );

    // The foreign key is real: deleting Ann deletes her article.
    app.store.delete_user("ann@example.com").await.unwrap();
    assert!(app.db.articles(true).await.unwrap().is_empty());
    app.store.close().await;
}

per_db!(bookshelf_serves_a_uuid_user_model);
