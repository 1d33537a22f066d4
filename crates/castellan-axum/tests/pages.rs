//! One rendering path: the login, password-change, 403 and 404 pages are castellan-templates
//! templates an application overrides through [`TemplatePages`], application pages rendered with
//! [`render_page`] get `user`, `perms`, `csrf_token` and the session's `messages` (shown once).
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests panic on failed set-up.

use std::sync::Arc;

use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use castellan_axum::{
    messages, render_page, AuthConfig, AuthLayer, AuthSession, Require, TemplatePages,
};
use castellan_core::{MemoryBackend, User};
use castellan_templates::Templates;
use castellan_testkit::{cheap_hashers, Client};
use http::StatusCode;
use minijinja::context;

fn backend() -> (MemoryBackend, User) {
    let backend = MemoryBackend::with_hashers(cheap_hashers());
    backend.add_permission("library", "view_book").unwrap();
    backend.add_permission("library", "change_book").unwrap();
    let alice = backend.create_user("alice", Some("alice-pw")).unwrap();
    backend.grant_user(alice.id, "library.view_book").unwrap();
    let editors = backend.create_group("Editors").unwrap();
    backend.add_to_group(alice.id, editors).unwrap();
    (backend, alice)
}

fn templates() -> Arc<Templates> {
    let mut t = Templates::new();
    t.add_template("castellan/base.html", "[{{ user }}]{% for m in messages %}<m class=\"{{ m.tags }}\">{{ m }}</m>{% endfor %}{% block content %}{% endblock %}").unwrap();
    t.add_template("castellan/403.html", "{% extends \"castellan/base.html\" %}{% block content %}NO: {{ permissions | join(',') }}{% endblock %}").unwrap();
    t.add_template("castellan/404.html", "{% extends \"castellan/base.html\" %}{% block content %}LOST {{ request_path }}{% endblock %}").unwrap();
    t.add_template("books.html", "{% extends \"castellan/base.html\" %}{% block content %}{{ title }}|{{ perms.library.view_book }}|{{ perms.library.change_book }}|{{ user.groups | join(',') }}|{{ csrf_token }}{% endblock %}").unwrap();
    Arc::new(t)
}

async fn app(backend: &MemoryBackend, pages: Option<TemplatePages>) -> Router {
    let mut config = AuthConfig::new("a test secret");
    if let Some(pages) = pages {
        config = config.with_pages(pages);
    }
    let auth = AuthLayer::new(backend.clone(), config).await.unwrap();
    let t = templates();
    let books = move |auth: AuthSession| {
        let t = Arc::clone(&t);
        async move {
            render_page(
                &t,
                &auth,
                StatusCode::OK,
                "books.html",
                context! { title => "Books" },
            )
            .await
        }
    };
    let save = |auth: AuthSession| async move {
        messages::success(&auth, "The book “<Dune>” was saved.");
        messages::warning(&auth, "Check the cover.");
        Redirect::to("/books/")
    };
    Router::new()
        .route("/books/", get(books))
        .route("/save/", post(save))
        .merge(
            Router::new()
                .route("/edit/", get(|| async { "editing" }))
                .route_layer(
                    auth.require("/edit/", Require::perm("library.change_book"))
                        .unwrap(),
                ),
        )
        .nest("/accounts", castellan_axum::router())
        .fallback(castellan_axum::not_found)
        .layer(auth)
}

async fn body(r: Response) -> String {
    let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn application_templates_replace_the_403_and_404_pages() {
    let (backend, _) = backend();
    let pages = TemplatePages::new(templates()).reveal_missing();
    let mut c = Client::new(app(&backend, Some(pages)).await);
    let r = c.get("/nowhere/it's").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(body(r).await, "[AnonymousUser]LOST /nowhere/it&#x27;s");

    c.login("alice", "alice-pw").await;
    let r = c.get("/edit/").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(body(r).await, "[alice]NO: library.change_book");
}

#[tokio::test]
async fn the_default_pages_are_the_embedded_templates() {
    let (backend, _) = backend();
    let mut c = Client::new(app(&backend, None).await);
    let r = c.get("/nowhere/").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let html = body(r).await;
    assert!(html.contains("<h1>Page not found</h1>"), "{html}");
    assert!(html.contains("<code>/nowhere/</code>"), "{html}");

    let r = c.get("/accounts/login/?next=/books/").await;
    let html = body(r).await;
    assert!(html.contains("<h1>Log in</h1>"), "{html}");
    assert!(
        html.contains(r#"name="next" value="/books/""#),
        "Django's escaping keeps `/`: {html}"
    );

    c.login("alice", "alice-pw").await;
    let r = c.get("/edit/").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let html = body(r).await;
    assert!(html.contains("<h1>403 Forbidden</h1>"), "{html}");
    assert!(
        html.contains("Signed in as <strong>alice</strong>"),
        "{html}"
    );
    assert!(
        !html.contains("change_book"),
        "the default does not reveal what is missing"
    );

    let (status, html) = c.page("/accounts/password_change/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>Password change</h1>"), "{html}");
    assert!(html.contains("name=\"new_password2\""), "{html}");
}

#[tokio::test]
async fn a_page_gets_the_request_context_and_messages_are_shown_once() {
    let (backend, _) = backend();
    let mut c = Client::new(app(&backend, None).await);
    c.login("alice", "alice-pw").await;
    let r = c.post_form("/save/", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (status, html) = c.page("/books/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.starts_with("[alice]<m class=\"success\">The book “&lt;Dune&gt;” was saved.</m><m class=\"warning\">Check the cover.</m>Books|True|False|Editors|<input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\""),
        "{html}"
    );
    let (_, again) = c.page("/books/").await;
    assert!(!again.contains("<m "), "messages are shown once: {again}");
}
