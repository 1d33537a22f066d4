//! [`Pages`]: the pages this crate renders — the login, password-change and password-reset forms,
//! the password-reset e-mail, the 403 and 404 pages — as `castellan-templates` templates an
//! application overrides, and what each page is given ([`LoginPage`], [`PasswordChangePage`],
//! [`PasswordResetPage`], [`PasswordResetConfirmPage`], [`PasswordResetEmail`], [`Denial`],
//! [`NotFound`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use axum::response::{Html, Response};
use castellan_templates::{csrf_input, Templates};
use http::StatusCode;
use minijinja::{context, Value};

use crate::email::EmailMessage;
use crate::render::render_page;
use crate::session::AuthSession;

/// A future a [`Pages`] method returns.
pub type PageFuture<'a> = Pin<Box<dyn Future<Output = Response> + Send + 'a>>;

/// What the login form shows.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoginPage {
    /// A masked CSRF token for the `csrfmiddlewaretoken` hidden field.
    pub csrf_token: String,
    /// The *sanitised* `next` (empty when it was unsafe).
    pub next: String,
    /// The username typed, to fill the field again.
    pub username: String,
    /// Django's form error, when the attempt failed.
    pub error: Option<String>,
}

/// What the password-change form shows.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PasswordChangePage {
    /// A masked CSRF token for the `csrfmiddlewaretoken` hidden field.
    pub csrf_token: String,
    /// Errors to show (empty on first display).
    pub errors: Vec<String>,
}

/// What the password-reset form (the e-mail address to send a link to) shows.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PasswordResetPage {
    /// A masked CSRF token for the `csrfmiddlewaretoken` hidden field.
    pub csrf_token: String,
    /// The address typed, to fill the field again.
    pub email: String,
    /// Errors to show (empty on first display).
    pub errors: Vec<String>,
}

/// What the password-reset confirmation page (a link from the e-mail) shows: the new-password
/// form when the link is valid, else a page saying it is not.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PasswordResetConfirmPage {
    /// A masked CSRF token for the `csrfmiddlewaretoken` hidden field.
    pub csrf_token: String,
    /// Whether the link is valid (Django's `validlink`): show the form, else say so.
    pub validlink: bool,
    /// Errors to show (empty on first display).
    pub errors: Vec<String>,
    /// The help texts of the configured password validators.
    pub help_texts: Vec<String>,
}

/// What the password-reset e-mail is made from (Django's e-mail context).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PasswordResetEmail {
    /// The recipient's address (the user's e-mail field).
    pub email: String,
    /// The user's username.
    pub username: String,
    /// The host the link points to.
    pub domain: String,
    /// The site's name.
    pub site_name: String,
    /// `http` or `https`.
    pub protocol: String,
    /// The link's `uidb64`.
    pub uid: String,
    /// The link's token.
    pub token: String,
    /// The whole link: `{protocol}://{domain}{path}`, where the path is the confirmation view's.
    pub reset_url: String,
    /// The sender's address.
    pub from_email: String,
}

/// Why a guard refused a request, for [`Pages::forbidden`] and [`Require::with_no_permission`](crate::Require::with_no_permission).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Denial {
    /// The request's session: the user, the principal, the CSRF token, the backend.
    pub session: AuthSession,
    /// The permissions the guard requires that the user does not hold, in the guard's order
    /// (for an any-of guard: all of them; empty for login, group and test guards).
    pub missing: Vec<String>,
    /// The groups a group guard asks for (membership of one is enough); empty otherwise.
    pub groups: Vec<String>,
    /// The guard's message (Django's `permission_denied_message`), possibly empty.
    pub message: String,
}

impl Denial {
    /// A denial of `session` with nothing missing and no message (a refusal that is not a guard's,
    /// such as the [`LoggedIn`](crate::LoggedIn) extractor's).
    pub fn new(session: AuthSession) -> Self {
        Self {
            session,
            missing: Vec::new(),
            groups: Vec::new(),
            message: String::new(),
        }
    }
}

/// A request for which no route matched, for [`Pages::not_found`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NotFound {
    /// The request's session.
    pub session: AuthSession,
    /// The path asked for (Django's `request_path`).
    pub path: String,
}

/// Renders the pages this crate produces. Each method renders a template of
/// [`castellan-templates`](castellan_templates) — `castellan/registration/login.html`,
/// `castellan/registration/password_change_form.html`,
/// `castellan/registration/password_change_done.html`, the `password_reset_*` pages and e-mail
/// under `castellan/registration/`, `castellan/403.html`, `castellan/404.html` — from
/// [`Pages::templates`], the embedded defaults unless overridden.
/// [`TemplatePages`] renders them from an application's [`Templates`], so its own
/// `castellan/403.html` (say) is used; implement a method to render that page some other way.
pub trait Pages: Send + Sync + 'static {
    /// The templates the default methods render with (the embedded defaults unless overridden).
    fn templates(&self) -> &Templates {
        default_templates()
    }

    /// The login form (`GET`, or a failed `POST` with `page.error` set; the status is chosen by
    /// the caller). Its template gets `csrf_token` (the hidden input), `next`, `username` and
    /// `error`.
    fn login(&self, page: &LoginPage) -> Html<String> {
        let ctx = context! {
            csrf_token => csrf_input(&page.csrf_token),
            next => page.next.clone(),
            username => page.username.clone(),
            error => page.error.clone(),
        };
        html_or_error(self.templates(), "castellan/registration/login.html", ctx)
    }

    /// The password-change form; its template gets `csrf_token` and `errors`.
    fn password_change(&self, page: &PasswordChangePage) -> Html<String> {
        let ctx = context! {
            csrf_token => csrf_input(&page.csrf_token),
            errors => page.errors.clone(),
        };
        html_or_error(
            self.templates(),
            "castellan/registration/password_change_form.html",
            ctx,
        )
    }

    /// The page shown after a successful password change.
    fn password_change_done(&self) -> Html<String> {
        html_or_error(
            self.templates(),
            "castellan/registration/password_change_done.html",
            context! {},
        )
    }

    /// The password-reset form; its template gets `csrf_token`, `email` and `errors`.
    fn password_reset(&self, page: &PasswordResetPage) -> Html<String> {
        let ctx = context! {
            csrf_token => csrf_input(&page.csrf_token),
            email => page.email.clone(),
            errors => page.errors.clone(),
        };
        html_or_error(
            self.templates(),
            "castellan/registration/password_reset_form.html",
            ctx,
        )
    }

    /// The page shown after the password-reset form was sent (whether or not an account has that
    /// address).
    fn password_reset_done(&self) -> Html<String> {
        html_or_error(
            self.templates(),
            "castellan/registration/password_reset_done.html",
            context! {},
        )
    }

    /// The new-password form of a valid reset link, or the page of an invalid one; its template
    /// gets `csrf_token`, `validlink`, `errors` and `help_texts`.
    fn password_reset_confirm(&self, page: &PasswordResetConfirmPage) -> Html<String> {
        let ctx = context! {
            csrf_token => csrf_input(&page.csrf_token),
            validlink => page.validlink,
            errors => page.errors.clone(),
            help_texts => page.help_texts.clone(),
        };
        html_or_error(
            self.templates(),
            "castellan/registration/password_reset_confirm.html",
            ctx,
        )
    }

    /// The page shown after a password was reset; its template gets `login_url`.
    fn password_reset_complete(&self, login_url: &str) -> Html<String> {
        html_or_error(
            self.templates(),
            "castellan/registration/password_reset_complete.html",
            context! { login_url => login_url },
        )
    }

    /// The password-reset e-mail: its subject from
    /// `castellan/registration/password_reset_subject.txt` (line breaks removed) and its body
    /// from `castellan/registration/password_reset_email.html`, both given `email`, `user`
    /// (the username), `domain`, `site_name`, `protocol`, `uid`, `token` and `reset_url`. A
    /// template error is returned: no e-mail is sent then.
    fn password_reset_email(
        &self,
        email: &PasswordResetEmail,
    ) -> Result<EmailMessage, minijinja::Error> {
        let ctx = context! {
            email => email.email.clone(),
            user => email.username.clone(),
            domain => email.domain.clone(),
            site_name => email.site_name.clone(),
            protocol => email.protocol.clone(),
            uid => email.uid.clone(),
            token => email.token.clone(),
            reset_url => email.reset_url.clone(),
        };
        let templates = self.templates();
        let subject = templates.render(
            "castellan/registration/password_reset_subject.txt",
            ctx.clone(),
        )?;
        let body = templates.render("castellan/registration/password_reset_email.html", ctx)?;
        Ok(EmailMessage::new(
            subject,
            body,
            email.from_email.clone(),
            vec![email.email.clone()],
        ))
    }

    /// The 403 page for a refused request: `denial` says who was refused (the request's session,
    /// with the user, the principal, the CSRF token and the backend) and why (the missing
    /// permissions, the groups a group guard asks for, the guard's message). Asynchronous, so a
    /// page can load more before rendering. The default renders `castellan/403.html` with the
    /// request's `user`, `perms`, `csrf_token` and `messages` and the guard's `message` only:
    /// which permissions are missing is for the application to reveal or not (override this, or
    /// use [`TemplatePages::reveal_missing`]).
    fn forbidden(&self, denial: Denial) -> PageFuture<'_> {
        Box::pin(forbidden_page(self.templates(), denial, false))
    }

    /// The 404 page (see [`not_found`](crate::not_found), a router fallback): renders
    /// `castellan/404.html` with the request's context and `request_path`.
    fn not_found(&self, request: NotFound) -> PageFuture<'_> {
        Box::pin(async move {
            let ctx = context! { request_path => request.path };
            render_page(
                self.templates(),
                &request.session,
                StatusCode::NOT_FOUND,
                "castellan/404.html",
                ctx,
            )
            .await
        })
    }
}

/// `castellan/403.html` for `denial`: the request's context and the guard's `message`; with
/// `reveal`, also the missing `permissions` and a group guard's `groups`.
async fn forbidden_page(templates: &Templates, denial: Denial, reveal: bool) -> Response {
    let ctx = if reveal {
        context! { permissions => denial.missing, groups => denial.groups, message => denial.message }
    } else {
        context! { message => denial.message }
    };
    render_page(
        templates,
        &denial.session,
        StatusCode::FORBIDDEN,
        "castellan/403.html",
        ctx,
    )
    .await
}

/// The embedded default templates, built once.
fn default_templates() -> &'static Templates {
    static DEFAULTS: OnceLock<Templates> = OnceLock::new();
    DEFAULTS.get_or_init(Templates::new)
}

/// Renders a page that has no request context (the forms); a template error is logged and
/// answered with a short page saying so.
fn html_or_error(templates: &Templates, name: &str, ctx: Value) -> Html<String> {
    match templates.render(name, ctx) {
        Ok(html) => Html(html),
        Err(e) => {
            tracing::error!(template = name, error = %format!("{e:#}"), "a page failed to render");
            Html(RENDER_FAILED.to_owned())
        }
    }
}

/// The body served when a template fails to render (the details are in the log).
const RENDER_FAILED: &str =
    "<!doctype html>\n<title>Server error</title>\n<p>This page failed to render.</p>\n";

/// The built-in pages: the embedded default templates.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultPages;

impl Pages for DefaultPages {}

/// The pages rendered from an application's [`Templates`]: its `castellan/…` templates replace
/// the defaults, and they extend its own `castellan/base.html` if it has one.
#[derive(Debug, Clone)]
pub struct TemplatePages {
    templates: Arc<Templates>,
    reveal_missing: bool,
}

impl TemplatePages {
    /// Pages rendered with `templates`.
    pub fn new(templates: Arc<Templates>) -> Self {
        Self {
            templates,
            reveal_missing: false,
        }
    }

    /// Also gives `castellan/403.html` the missing permissions (`permissions`, in the guard's
    /// order) and a group guard's `groups`, so the page can say what to ask for.
    pub fn reveal_missing(mut self) -> Self {
        self.reveal_missing = true;
        self
    }
}

impl Pages for TemplatePages {
    fn templates(&self) -> &Templates {
        &self.templates
    }

    fn forbidden(&self, denial: Denial) -> PageFuture<'_> {
        Box::pin(forbidden_page(&self.templates, denial, self.reveal_missing))
    }
}
