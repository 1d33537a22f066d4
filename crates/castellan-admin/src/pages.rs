//! [`AdminPages`]: castellan-axum's login, password-change, 403 and 404 pages in the admin's look
//! (templates `castellan/admin/login.html`, `password_change.html`, `password_change_done.html`,
//! `403.html`, `404.html`), for an application whose only pages are the admin's
//! (`castellan serve`).

use axum::response::{Html, IntoResponse, Response};
use castellan_axum::{Denial, LoginPage, NotFound, PageFuture, Pages, PasswordChangePage};
use castellan_templates::{csrf_input, Templates};
use http::StatusCode;
use minijinja::{context, Error, TemplateSource, Value};

use crate::defaults::{DEFAULT_LOGIN_URL, DEFAULT_TITLE};
use crate::render::Renderer;

/// The login form, password-change form, 403 and 404 pages of castellan-axum, styled as the admin
/// (Django's `admin/login.html`). Django's field names stay (`username`, `password`, `next`,
/// `csrfmiddlewaretoken`; `old_password`, `new_password1`, `new_password2`).
///
/// ```
/// use castellan_axum::AuthConfig;
/// use castellan_admin::AdminPages;
///
/// let config = AuthConfig::new("a long random secret")
///     .with_pages(AdminPages::new().with_title("Bookshelf administration"));
/// # let _ = config;
/// ```
#[derive(Debug, Clone)]
pub struct AdminPages {
    title: String,
    admin_url: String,
    login_url: String,
    renderer: Renderer,
    username_label: String,
    no_staff: bool,
}

impl Default for AdminPages {
    fn default() -> Self {
        Self::new()
    }
}

impl AdminPages {
    /// The pages with the admin's default title, the admin at `/admin/` and the login page at
    /// Django's `/accounts/login/`.
    pub fn new() -> Self {
        Self {
            title: DEFAULT_TITLE.to_owned(),
            admin_url: "/admin/".to_owned(),
            login_url: DEFAULT_LOGIN_URL.to_owned(),
            renderer: Renderer::defaults().clone(),
            username_label: "Username".to_owned(),
            no_staff: false,
        }
    }

    /// Fits the login page to the user model: its username field's label ("Email address" for
    /// `email`), and, for a model without `is_staff`, a notice that nobody can use the admin
    /// (nobody is staff, as Django's admin sees such a model).
    pub fn for_user_model(mut self, schema: &castellan_store::UserSchema) -> Self {
        self.username_label =
            castellan_store::UserSchema::field_label(schema.model().username_field());
        self.no_staff = !schema.has_staff_flag();
        self
    }

    /// Sets the site title shown in the header (as [`Admin::with_title`](crate::Admin::with_title)).
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Sets the admin index the header links to (default `/admin/`).
    pub fn with_admin_url(mut self, url: impl Into<String>) -> Self {
        self.admin_url = url.into();
        self
    }

    /// Sets the login page the 403 page offers, to log in as someone else (default
    /// `/accounts/login/`).
    pub fn with_login_url(mut self, url: impl Into<String>) -> Self {
        self.login_url = url.into();
        self
    }

    /// Takes templates from `loader` before the embedded ones: serve
    /// `castellan/admin/login.html` (say) to replace that page.
    pub fn with_template_loader<F, R>(mut self, loader: F) -> Self
    where
        F: Fn(&str) -> Result<Option<R>, Error> + Send + Sync + 'static,
        R: Into<TemplateSource>,
    {
        self.renderer = Renderer::with_loader(loader);
        self
    }

    /// The variables every one of these pages gets, with `heading` and the page's own.
    fn context(&self, heading: &str, ctx: Value) -> Value {
        context! {
            site_title => &self.title,
            home => &self.admin_url,
            login_url => &self.login_url,
            heading,
            ..ctx
        }
    }

    fn html(&self, short: &str, heading: &str, ctx: Value) -> Html<String> {
        match self.renderer.render_raw(short, self.context(heading, ctx)) {
            Ok(html) => Html(html),
            Err(e) => {
                tracing::error!(template = short, error = %format!("{e:#}"), "castellan-admin: a page failed to render");
                Html("<!doctype html>\n<title>Server error</title>\n<p>This page failed to render.</p>\n".to_owned())
            }
        }
    }

    fn response(&self, status: StatusCode, short: &str, heading: &str, ctx: Value) -> Response {
        let mut response = self.html(short, heading, ctx).into_response();
        *response.status_mut() = status;
        response
    }
}

impl Pages for AdminPages {
    fn templates(&self) -> &Templates {
        self.renderer.templates()
    }

    fn login(&self, page: &LoginPage) -> Html<String> {
        let ctx = context! {
            csrf_token => csrf_input(&page.csrf_token),
            username => page.username.clone(),
            next => page.next.clone(),
            errors => page.error.iter().cloned().collect::<Vec<_>>(),
            username_label => self.username_label.clone(),
            no_staff => self.no_staff,
        };
        self.html("login.html", "Log in", ctx)
    }

    fn password_change(&self, page: &PasswordChangePage) -> Html<String> {
        let ctx = context! {
            csrf_token => csrf_input(&page.csrf_token),
            errors => page.errors.clone(),
        };
        self.html("password_change.html", "Password change", ctx)
    }

    fn password_change_done(&self) -> Html<String> {
        self.html(
            "password_change_done.html",
            "Password change successful",
            context! {},
        )
    }

    fn forbidden(&self, denial: Denial) -> PageFuture<'_> {
        Box::pin(async move {
            // "Admin home" only for someone the admin lets in: for anyone else it is this page again.
            let admin_user = denial
                .session
                .user()
                .is_some_and(|u| u.is_active && u.is_staff);
            let ctx = context! { message => denial.message, admin_user };
            self.response(StatusCode::FORBIDDEN, "403.html", "403 Forbidden", ctx)
        })
    }

    fn not_found(&self, request: NotFound) -> PageFuture<'_> {
        Box::pin(async move {
            let ctx = context! { request_path => request.path };
            self.response(StatusCode::NOT_FOUND, "404.html", "Page not found", ctx)
        })
    }
}
