//! The client against a tiny app: cookies kept, sent and deleted; CSRF tokens from a page, from a
//! later page, or from the cookie; form bodies; redirects followed and inspected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use castellan_testkit::{body, enc, field, form_body, location, Client, Page, HOST};

/// `/set`: a cookie and the CSRF cookie; `/clear`: Django's deletion; `/echo`: the request's
/// Cookie and Host headers; `/form`: a page with a masked token; `/submit`: the form body;
/// `/a` → `/b` → `/c`: redirects.
fn app() -> Router {
    Router::new()
        .route(
            "/set",
            get(|| async {
                (
                    AppendHeaders([
                        (header::SET_COOKIE, "sessionid=abc; Max-Age=1209600; Path=/; HttpOnly"),
                        (header::SET_COOKIE, "csrftoken=SECRET; Max-Age=31449600; Path=/"),
                    ]),
                    "set",
                )
            }),
        )
        .route(
            "/clear",
            get(|| async {
                (
                    [(
                        header::SET_COOKIE,
                        "sessionid=\"\"; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/",
                    )],
                    "cleared",
                )
            }),
        )
        .route(
            "/echo",
            get(|headers: HeaderMap| async move {
                let h = |n: header::HeaderName| {
                    headers
                        .get(n)
                        .map_or("-", |v| v.to_str().unwrap())
                        .to_owned()
                };
                format!("cookie={} host={}", h(header::COOKIE), h(header::HOST))
            }),
        )
        .route(
            "/form",
            get(|| async {
                "<form><input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"MASKED&amp;1\"></form>"
            }),
        )
        .route("/no-form", get(|| async { "nothing here" }))
        .route("/submit", post(|b: String| async move { b }))
        .route("/a", get(|| async { Redirect::to("/b") }))
        .route("/b", get(|| async { Redirect::to("/c") }))
        .route("/c", get(|| async { "the end" }))
        .route("/loop", get(|| async { Redirect::to("/loop") }))
        .route(
            "/status",
            get(|| async { StatusCode::IM_A_TEAPOT.into_response() }),
        )
}

#[tokio::test]
async fn cookies_are_kept_sent_and_deleted() {
    let mut c = Client::new(app());
    assert_eq!(
        body(c.get("/echo").await).await,
        format!("cookie=- host={HOST}")
    );
    c.get("/set").await;
    assert_eq!(c.jar.get("sessionid"), Some("abc"));
    assert!(c.jar.cookie("sessionid").unwrap().http_only().unwrap());
    assert_eq!(
        body(c.get("/echo").await).await,
        "cookie=csrftoken=SECRET; sessionid=abc host=testserver"
    );
    c.get("/clear").await;
    assert!(!c.jar.contains("sessionid"));
    assert_eq!(c.jar.get("csrftoken"), Some("SECRET"));
    // A request that brings its own Cookie and Host keeps them.
    let req = axum::http::Request::get("/echo")
        .header(header::COOKIE, "mine=1")
        .header(header::HOST, "example.com")
        .body(axum::body::Body::empty())
        .unwrap();
    let page: Page = c.request(req).await;
    assert_eq!(page.body, "cookie=mine=1 host=example.com");
    assert_eq!(page.status, StatusCode::OK);
}

#[tokio::test]
async fn csrf_tokens_come_from_the_first_page_that_shows_one() {
    let mut c = Client::new(app()).with_csrf_pages(["/no-form", "/form"]);
    assert_eq!(c.csrf_token().await, "MASKED&1", "entities decoded");
    let r = c.post_form("/submit", &[("name", "a b&c")]).await;
    assert_eq!(body(r).await, "csrfmiddlewaretoken=MASKED%261&name=a+b%26c");
    assert_eq!(c.token_from("/form").await, "MASKED&1");
    // No page shows one: the cookie's secret.
    let mut c = Client::new(app()).with_csrf_pages(["/no-form"]);
    c.get("/set").await;
    assert_eq!(c.csrf_token().await, "SECRET");
    let mut c = Client::new(app())
        .with_csrf_pages(Vec::<String>::new())
        .with_csrf_cookie("OWN");
    assert_eq!(c.csrf_token().await, "OWN");
    assert_eq!(c.csrf().await, "OWN");
    let r = c.post_with_token("/submit", "T", &[]).await;
    assert_eq!(body(r).await, "csrfmiddlewaretoken=T");
}

#[tokio::test]
#[should_panic(expected = "no CSRF token")]
async fn no_token_anywhere_fails_the_test() {
    let mut c = Client::new(app()).with_csrf_pages(["/no-form"]);
    c.csrf_token().await;
}

#[tokio::test]
async fn redirects_are_followed_or_inspected() {
    let mut c = Client::new(app());
    let r = c.get("/a").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/b");
    let next: Response = c.follow(&r).await;
    assert_eq!(location(&next), "/c");
    let r = c.get("/a").await;
    let (end, visited) = c.follow_redirects(r).await;
    assert_eq!(visited, ["/b", "/c"]);
    assert_eq!(body(end).await, "the end");
    assert_eq!(location(&c.get("/c").await), "");
    assert_eq!(c.page("/status").await.0, StatusCode::IM_A_TEAPOT);
    let page = Page::read(c.get("/a").await).await;
    assert_eq!(page.location.as_deref(), Some("/b"));
    assert!(!page.is_login_redirect());
}

#[tokio::test]
#[should_panic(expected = "too many redirects")]
async fn a_redirect_loop_fails_the_test() {
    let mut c = Client::new(app());
    let r = c.get("/loop").await;
    c.follow_redirects(r).await;
}

#[test]
fn encodings() {
    assert_eq!(enc("a b/c"), "a%20b%2Fc");
    assert_eq!(form_body(&[("a", "x y"), ("b", "é")]), "a=x+y&b=%C3%A9");
    assert_eq!(
        field("<input name=\"next\" value=\"/x\">", "next").as_deref(),
        Some("/x")
    );
    assert_eq!(field("<p>", "next"), None);
}
