//! The article workflow's business rules, on SQLite, PostgreSQL and MariaDB: an edit of an
//! approved or published article sends it back to review; nobody approves or publishes their own
//! article (superusers included); only a superuser names someone else as an article's author, in
//! the web form and in the admin. Every refused attempt leaves the articles table unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bookshelf::articles::{Article, Status};
use common::{env_on, per_db, Client, Env, Page, TestDb};
use http::StatusCode;

async fn articles(env: &Env) -> Vec<Article> {
    env.app.db.articles(true).await.unwrap()
}

async fn article(env: &Env, id: i64) -> Article {
    env.app.db.article(id).await.unwrap().unwrap()
}

/// The id in a `/articles/{id}/` redirect.
fn id_of(p: &Page) -> i64 {
    assert_eq!(p.status, StatusCode::FOUND, "{}", p.body);
    p.location
        .as_deref()
        .unwrap()
        .trim_matches('/')
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// A new article by `c`'s user, submitted for review (`submit`) or left a draft.
async fn write(c: &mut Client, title: &str, submit: bool) -> i64 {
    let id = id_of(
        &c.post(
            "/articles/add/",
            &[("title", title), ("content", "First version.")],
        )
        .await,
    );
    if submit {
        let p = c.post(&format!("/articles/{id}/submit/"), &[]).await;
        assert_eq!(p.status, StatusCode::FOUND);
    }
    id
}

async fn act(c: &mut Client, id: i64, step: &str) -> StatusCode {
    c.post(&format!("/articles/{id}/{step}/"), &[]).await.status
}

async fn edit(c: &mut Client, id: i64, fields: &[(&str, &str)]) -> Page {
    c.post(&format!("/articles/{id}/edit/"), fields).await
}

async fn an_edit_sends_an_approved_or_published_article_back_to_review(db: TestDb) {
    let env = &env_on(db).await;
    let mut author = Client::logged_in(&env.router, "author").await;
    let mut reviewer = Client::logged_in(&env.router, "reviewer").await;
    let mut chief = Client::logged_in(&env.router, "chief").await;
    let mut anon = Client::new(&env.router);

    // Approved (in review): the author may no longer change it (authors change their drafts);
    // a chief editor changes the text after the approval.
    let id = write(&mut author, "Spring reads", true).await;
    assert_eq!(act(&mut reviewer, id, "approve").await, StatusCode::FOUND);
    assert_eq!(
        article(env, id).await.approved_by.as_deref(),
        Some("reviewer")
    );
    let refused = edit(
        &mut author,
        id,
        &[("title", "Spring reads"), ("content", "Sneaked in.")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        article(env, id).await.approved_by.as_deref(),
        Some("reviewer"),
        "a refused edit changes nothing"
    );
    let p = edit(
        &mut chief,
        id,
        &[
            ("title", "Spring reads"),
            ("content", "Changed after approval."),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::FOUND);
    let a = article(env, id).await;
    assert_eq!(
        (a.status, a.approved_by.as_deref(), a.content.as_str()),
        (Status::Review, None, "Changed after approval."),
        "the approval was for the old text"
    );
    assert!(chief
        .get(&format!("/articles/{id}/"))
        .await
        .body
        .contains("sent back to review"));
    let form = chief.get(&format!("/articles/{id}/edit/")).await;
    assert!(form.body.contains(r#"data-testid="back-to-review""#));
    // So it cannot be published on the old approval.
    act(&mut chief, id, "publish").await;
    assert_eq!(article(env, id).await.status, Status::Review);

    // Published: an edit takes it off the public site until approved and published again.
    assert_eq!(act(&mut reviewer, id, "approve").await, StatusCode::FOUND);
    assert_eq!(act(&mut chief, id, "publish").await, StatusCode::FOUND);
    assert_eq!(article(env, id).await.status, Status::Published);
    assert_eq!(
        anon.get(&format!("/articles/{id}/")).await.status,
        StatusCode::OK
    );
    // Saving the same text changes nothing (and writes nothing).
    let before = articles(env).await;
    let p = edit(
        &mut chief,
        id,
        &[
            ("title", "Spring reads"),
            ("content", "Changed after approval."),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::FOUND);
    assert_eq!(articles(env).await, before);
    // A title change is a change.
    let p = edit(
        &mut chief,
        id,
        &[
            ("title", "Spring reading"),
            ("content", "Changed after approval."),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::FOUND);
    let a = article(env, id).await;
    assert_eq!(
        (a.status, a.approved_by.as_deref(), a.title.as_str()),
        (Status::Review, None, "Spring reading")
    );
    assert_eq!(
        anon.get(&format!("/articles/{id}/")).await.status,
        StatusCode::NOT_FOUND
    );

    // A draft stays a draft.
    let draft = write(&mut author, "Notes", false).await;
    edit(
        &mut author,
        draft,
        &[("title", "Notes"), ("content", "More.")],
    )
    .await;
    let a = article(env, draft).await;
    assert_eq!((a.status, a.content.as_str()), (Status::Draft, "More."));

    // The admin's change form follows the same rule.
    assert_eq!(act(&mut reviewer, id, "approve").await, StatusCode::FOUND);
    assert_eq!(act(&mut chief, id, "publish").await, StatusCode::FOUND);
    let mut admin = Client::logged_in(&env.router, "admin").await;
    let p = admin
        .post(
            &format!("/admin/bookshelf/article/{id}/change/"),
            &[
                ("title", "Spring reading"),
                ("content", "Edited in the admin."),
                ("author", "author"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let a = article(env, id).await;
    assert_eq!(
        (a.status, a.approved_by.as_deref(), a.content.as_str()),
        (Status::Review, None, "Edited in the admin.")
    );
    env.close().await;
}

async fn nobody_approves_or_publishes_their_own_article(db: TestDb) {
    let env = &env_on(db).await;
    let mut chief = Client::logged_in(&env.router, "chief").await;
    let mut reviewer = Client::logged_in(&env.router, "reviewer").await;
    let mut root = Client::logged_in(&env.router, "root").await;

    // The chief editor holds can_approve_article and can_publish_article, but wrote this one.
    let id = write(&mut chief, "Editor's letter", true).await;
    let before = articles(env).await;
    let p = chief.post(&format!("/articles/{id}/approve/"), &[]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);
    assert!(p.body.contains("someone else must approve"));
    assert_eq!(articles(env).await, before, "nothing written");
    let page = chief.get(&format!("/articles/{id}/")).await;
    assert!(!page.body.contains(r#"data-action="approve""#));
    assert!(page.body.contains(r#"data-testid="own-article""#));

    // Approved by someone else, the author still may not publish it.
    assert_eq!(act(&mut reviewer, id, "approve").await, StatusCode::FOUND);
    let before = articles(env).await;
    assert_eq!(act(&mut chief, id, "publish").await, StatusCode::FORBIDDEN);
    assert_eq!(articles(env).await, before, "nothing written");
    // Anyone else who may publish does.
    assert_eq!(act(&mut root, id, "publish").await, StatusCode::FOUND);
    assert_eq!(article(env, id).await.status, Status::Published);

    // A superuser is no exception: it is a four-eyes rule, not a permission.
    let own = write(&mut root, "Root's notice", true).await;
    let before = articles(env).await;
    assert_eq!(act(&mut root, own, "approve").await, StatusCode::FORBIDDEN);
    assert_eq!(articles(env).await, before, "nothing written");
    assert_eq!(act(&mut chief, own, "approve").await, StatusCode::FOUND);
    let before = articles(env).await;
    assert_eq!(act(&mut root, own, "publish").await, StatusCode::FORBIDDEN);
    assert_eq!(articles(env).await, before, "nothing written");

    // Made its author by a superuser, the approver cannot then publish what he approved.
    let p = edit(
        &mut root,
        id,
        &[
            ("title", "Editor's letter"),
            ("content", "First version."),
            ("author", "reviewer"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::FOUND);
    let a = article(env, id).await;
    assert_eq!(
        (a.author.as_str(), a.status, a.approved_by.as_deref()),
        ("reviewer", Status::Review, None),
        "a new author means a new review"
    );
    assert_eq!(
        act(&mut reviewer, id, "approve").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(article(env, id).await.approved_by, None);
    env.close().await;
}

async fn only_a_superuser_names_another_author(db: TestDb) {
    let env = &env_on(db).await;
    let mut author = Client::logged_in(&env.router, "author").await;
    let mut chief = Client::logged_in(&env.router, "chief").await;
    let mut root = Client::logged_in(&env.router, "root").await;
    let mut admin = Client::logged_in(&env.router, "admin").await;

    // Web form, add: naming someone else is refused, nothing written.
    assert!(!author
        .get("/articles/add/")
        .await
        .body
        .contains(r#"name="author""#));
    let before = articles(env).await;
    let p = author
        .post(
            "/articles/add/",
            &[
                ("title", "Ghost-written"),
                ("content", "By someone else."),
                ("author", "reviewer"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);
    assert!(p.body.contains("Only a superuser can set an article"));
    assert_eq!(articles(env).await, before, "nothing written");
    // Naming oneself is no change.
    let id = id_of(
        &author
            .post(
                "/articles/add/",
                &[
                    ("title", "Mine"),
                    ("content", "By me."),
                    ("author", "author"),
                ],
            )
            .await,
    );
    assert_eq!(article(env, id).await.author, "author");

    // Web form, edit: a non-superuser may keep the author, not change it (not even to himself).
    let before = articles(env).await;
    for who in ["chief", "reviewer"] {
        let p = edit(
            &mut chief,
            id,
            &[
                ("title", "Mine"),
                ("content", "Taken over."),
                ("author", who),
            ],
        )
        .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "author={who}: {}", p.body);
    }
    assert_eq!(articles(env).await, before, "nothing written");
    let p = edit(
        &mut chief,
        id,
        &[
            ("title", "Mine"),
            ("content", "Copy-edited."),
            ("author", "author"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::FOUND);
    assert_eq!(article(env, id).await.author, "author");

    // A superuser may, on add and on edit; an unknown username is a form error.
    assert!(root
        .get("/articles/add/")
        .await
        .body
        .contains(r#"name="author""#));
    let theirs = id_of(
        &root
            .post(
                "/articles/add/",
                &[
                    ("title", "For chief"),
                    ("content", "x"),
                    ("author", "chief"),
                ],
            )
            .await,
    );
    assert_eq!(article(env, theirs).await.author, "chief");
    let p = edit(
        &mut root,
        id,
        &[
            ("title", "Mine"),
            ("content", "Copy-edited."),
            ("author", "reviewer"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::FOUND);
    assert_eq!(article(env, id).await.author, "reviewer");
    let before = articles(env).await;
    let p = edit(
        &mut root,
        id,
        &[("title", "Mine"), ("content", "x"), ("author", "nobody")],
    )
    .await;
    assert!(p.body.contains("There is no user named"), "{}", p.body);
    assert_eq!(articles(env).await, before, "nothing written");

    // The admin's form: the staff user `admin` (all bookshelf permissions, not a superuser).
    let before = articles(env).await;
    let p = admin
        .post(
            "/admin/bookshelf/article/add/",
            &[
                ("title", "Admin ghost"),
                ("content", "x"),
                ("author", "author"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST, "{}", p.body);
    assert!(p.body.contains("only a superuser can set"));
    let p = admin
        .post(
            &format!("/admin/bookshelf/article/{id}/change/"),
            &[("title", "Mine"), ("content", "x"), ("author", "admin")],
        )
        .await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST, "{}", p.body);
    assert_eq!(articles(env).await, before, "nothing written");
    // Keeping the author (the form shows it filled in) or leaving it empty works.
    let p = admin
        .post(
            &format!("/admin/bookshelf/article/{id}/change/"),
            &[("title", "Mine"), ("content", "y"), ("author", "reviewer")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let p = admin
        .post(
            "/admin/bookshelf/article/add/",
            &[("title", "Admin's own"), ("content", "x"), ("author", "")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let own = articles(env).await;
    assert_eq!(
        own.iter()
            .find(|a| a.title == "Admin's own")
            .unwrap()
            .author,
        "admin"
    );
    // A superuser in the admin may name anyone.
    let p = root
        .post(
            &format!("/admin/bookshelf/article/{id}/change/"),
            &[("title", "Mine"), ("content", "y"), ("author", "chief")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(article(env, id).await.author, "chief");
    env.close().await;
}

per_db!(
    an_edit_sends_an_approved_or_published_article_back_to_review,
    nobody_approves_or_publishes_their_own_article,
    only_a_superuser_names_another_author,
);
