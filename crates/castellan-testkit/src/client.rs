//! The in-process HTTP client: a browser with a cookie jar, driving an `axum::Router` with
//! `tower::ServiceExt::oneshot`.

use axum::body::Body;
use axum::response::Response;
use axum::Router;
use http::{header, Request, StatusCode};
use tower::ServiceExt;

use crate::jar::Jar;
use crate::{body, field, location, Page, CSRF_COOKIE, CSRF_FIELD, HOST, LOGIN_URL};

/// The most redirects [`Client::follow_redirects`] follows before giving up.
pub const MAX_REDIRECTS: usize = 10;

/// One browser: an app, a cookie jar, and where to find a CSRF token.
///
/// Every request gets `Host: testserver` unless it carries a `Host` of its own, and the jar's
/// cookies as a `Cookie` header unless it carries one of its own (or the jar is empty). Every
/// `Set-Cookie` of the answer goes into the jar.
///
/// CSRF is handled in one place, [`Client::csrf_token`]: the masked `csrfmiddlewaretoken` of the
/// first [CSRF page](Client::with_csrf_pages) that shows one (by default the login page), else the
/// `csrftoken` cookie (the unmasked secret, which Django accepts too).
#[derive(Clone)]
pub struct Client {
    /// The app under test.
    pub app: Router,
    /// The cookies this browser holds.
    pub jar: Jar,
    csrf_pages: Vec<String>,
    login_url: String,
}

impl Client {
    /// A browser with an empty jar, taking CSRF tokens from the login page.
    pub fn new(app: Router) -> Self {
        Self {
            app,
            jar: Jar::default(),
            csrf_pages: vec![LOGIN_URL.to_owned()],
            login_url: LOGIN_URL.to_owned(),
        }
    }

    /// A browser logged in as `username` (a `302` from the login form, or the test fails).
    pub async fn logged_in(app: Router, username: &str, password: &str) -> Self {
        let mut c = Self::new(app);
        let r = c.login(username, password).await;
        let status = r.status();
        assert_eq!(
            status,
            StatusCode::FOUND,
            "login as {username} failed: {}",
            body(r).await
        );
        c
    }

    /// The pages whose form gives the CSRF token, tried in order (first `200` with a
    /// `csrfmiddlewaretoken` input wins); with none, the `csrftoken` cookie is the token.
    #[must_use]
    pub fn with_csrf_pages<S: Into<String>>(mut self, pages: impl IntoIterator<Item = S>) -> Self {
        self.csrf_pages = pages.into_iter().map(Into::into).collect();
        self
    }

    /// Starts with a `csrftoken` cookie of our own (a 32-character secret: Django accepts the
    /// unmasked secret as the token, so no page needs to be fetched).
    #[must_use]
    pub fn with_csrf_cookie(mut self, secret: &str) -> Self {
        self.jar.insert(CSRF_COOKIE, secret);
        self
    }

    /// Where [`Client::login`] posts (default `/accounts/login/`).
    #[must_use]
    pub fn with_login_url(mut self, url: &str) -> Self {
        self.login_url = url.to_owned();
        self
    }

    /// Sends `req` as built by the caller, adding `Host` and `Cookie` when it has none, and keeps
    /// the cookies the answer sets.
    ///
    /// # Panics
    ///
    /// When the jar's cookies do not make a valid header, or the app fails (it is infallible).
    pub async fn send(&mut self, mut req: Request<Body>) -> Response {
        if !self.jar.is_empty() && !req.headers().contains_key(header::COOKIE) {
            let cookies = self.jar.header();
            let value = cookies
                .parse()
                .unwrap_or_else(|e| panic!("invalid Cookie header {cookies:?}: {e}"));
            req.headers_mut().insert(header::COOKIE, value);
        }
        if !req.headers().contains_key(header::HOST) {
            req.headers_mut()
                .insert(header::HOST, header::HeaderValue::from_static(HOST));
        }
        let response = match self.app.clone().oneshot(req).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
        self.jar.update(&response);
        response
    }

    /// Sends `req` and reads the answer whole.
    pub async fn request(&mut self, req: Request<Body>) -> Page {
        Page::read(self.send(req).await).await
    }

    /// `GET uri`.
    pub async fn get(&mut self, uri: &str) -> Response {
        self.send(build(Request::get(uri), Body::empty())).await
    }

    /// `GET uri`, read whole: `(status, body)`.
    pub async fn page(&mut self, uri: &str) -> (StatusCode, String) {
        let r = self.get(uri).await;
        let status = r.status();
        (status, body(r).await)
    }

    /// `GET` the `Location` of `response` (which must be a redirect).
    ///
    /// # Panics
    ///
    /// When `response` has no `Location`.
    pub async fn follow(&mut self, response: &Response) -> Response {
        let to = location(response);
        assert!(
            !to.is_empty(),
            "not a redirect: {} without Location",
            response.status()
        );
        self.get(&to).await
    }

    /// Follows redirects from `response` until an answer that is not one; returns it with the
    /// URLs visited, in order.
    ///
    /// # Panics
    ///
    /// After [`MAX_REDIRECTS`] redirects (a loop).
    pub async fn follow_redirects(&mut self, mut response: Response) -> (Response, Vec<String>) {
        let mut visited = Vec::new();
        while response.status().is_redirection() {
            assert!(
                visited.len() < MAX_REDIRECTS,
                "too many redirects: {visited:?}"
            );
            let to = location(&response);
            response = self.get(&to).await;
            visited.push(to);
        }
        (response, visited)
    }

    /// POSTs `fields` url-encoded, exactly as given (no CSRF token added).
    pub async fn post_raw(&mut self, uri: &str, fields: &[(&str, &str)]) -> Response {
        self.send(form_request(uri, crate::form_body(fields))).await
    }

    /// POSTs `fields` with `token` as the first field, `csrfmiddlewaretoken`.
    pub async fn post_with_token(
        &mut self,
        uri: &str,
        token: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        let mut all = vec![(CSRF_FIELD, token)];
        all.extend_from_slice(fields);
        self.post_raw(uri, &all).await
    }

    /// POSTs `fields` with a valid CSRF token (see [`Client::csrf_token`]).
    pub async fn post_form(&mut self, uri: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf_token().await;
        self.post_with_token(uri, &token, fields).await
    }

    /// Logs in through the login form: a CSRF-protected POST of `username` and `password`.
    pub async fn login(&mut self, username: &str, password: &str) -> Response {
        let url = self.login_url.clone();
        self.post_form(&url, &[("username", username), ("password", password)])
            .await
    }

    /// A CSRF token for the next POST: the masked `csrfmiddlewaretoken` of the first CSRF page
    /// that shows one, else the `csrftoken` cookie.
    ///
    /// # Panics
    ///
    /// When neither gives a token.
    pub async fn csrf_token(&mut self) -> String {
        for page in self.csrf_pages.clone() {
            if let (StatusCode::OK, html) = self.page(&page).await {
                if let Some(token) = field(&html, CSRF_FIELD) {
                    return token;
                }
            }
        }
        self.jar.get(CSRF_COOKIE).map_or_else(
            || {
                panic!(
                    "no CSRF token: none of {:?} shows a {CSRF_FIELD} and there is no {CSRF_COOKIE} cookie",
                    self.csrf_pages
                )
            },
            str::to_owned,
        )
    }

    /// The `csrftoken` cookie, fetched first (from the first CSRF page) when the jar has none.
    ///
    /// # Panics
    ///
    /// When that page does not answer `200` or sets no cookie.
    pub async fn csrf(&mut self) -> String {
        if !self.jar.contains(CSRF_COOKIE) {
            let page = self
                .csrf_pages
                .first()
                .cloned()
                .unwrap_or_else(|| self.login_url.clone());
            let (status, html) = self.page(&page).await;
            assert_eq!(status, StatusCode::OK, "{page}: {html}");
        }
        self.jar
            .get(CSRF_COOKIE)
            .unwrap_or_else(|| panic!("no {CSRF_COOKIE} cookie was set"))
            .to_owned()
    }

    /// The `csrfmiddlewaretoken` of the form on `uri`.
    ///
    /// # Panics
    ///
    /// When `uri` does not answer `200` or shows no token.
    pub async fn token_from(&mut self, uri: &str) -> String {
        let (status, html) = self.page(uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {html}");
        field(&html, CSRF_FIELD).unwrap_or_else(|| panic!("no {CSRF_FIELD} in {uri}: {html}"))
    }
}

/// An url-encoded form POST request with `body`.
pub fn form_request(uri: &str, body: impl Into<Body>) -> Request<Body> {
    build(
        Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
        body.into(),
    )
}

fn build(builder: http::request::Builder, body: Body) -> Request<Body> {
    builder
        .body(body)
        .unwrap_or_else(|e| panic!("invalid request: {e}"))
}
