//! [`AdminPages`]: castellan-axum's login, password-change and 403 pages in the admin's look, for
//! an application whose only pages are the admin's (`castellan serve`), and the stand-alone page
//! shell the admin's own error pages use when no admin page context is at hand.

use axum::response::{Html, IntoResponse, Response};
use std::future::Future;
use std::pin::Pin;

use castellan_axum::{Denial, LoginPage, Pages, PasswordChangePage};
use http::StatusCode;

use crate::defaults::{DEFAULT_LOGIN_URL, DEFAULT_TITLE};
use crate::style::CSS;
use castellan_axum::escape;

/// The login form, password-change form and 403 page of castellan-axum, styled as the admin
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
        }
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

    fn page(&self, title: &str, content: &str) -> String {
        standalone(&self.title, Some(&self.admin_url), title, content)
    }
}

/// An HTML page in the admin's look (stylesheet inline, so it works at any URL): the header with
/// `site_title` (a link to `home` when given), a heading and `content` (already HTML).
pub(crate) fn standalone(
    site_title: &str,
    home: Option<&str>,
    heading: &str,
    content: &str,
) -> String {
    let brand = match home {
        Some(url) => format!(
            "<a class=\"brand\" href=\"{}\" data-testid=\"nav-home\">{}</a>",
            escape(url),
            escape(site_title)
        ),
        None => format!("<span class=\"brand\">{}</span>", escape(site_title)),
    };
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{heading} · {site}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n\
         <header>{brand}</header>\n<main id=\"content\">\n<h1>{heading}</h1>\n{content}</main>\n</body>\n</html>\n",
        heading = escape(heading),
        site = escape(site_title),
    )
}

/// The error note shown above a form.
fn errors(list: &[String]) -> String {
    if list.is_empty() {
        return String::new();
    }
    let items: String = list
        .iter()
        .map(|e| format!("<li>{}</li>", escape(e)))
        .collect();
    format!("<div class=\"errors\" role=\"alert\" data-testid=\"errors\"><ul>{items}</ul></div>\n")
}

impl Pages for AdminPages {
    fn login(&self, page: &LoginPage) -> Html<String> {
        let content = format!(
            "{errors}<form method=\"post\" id=\"login-form\" data-testid=\"login-form\">\n\
             <input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"{csrf}\">\n\
             <p><label for=\"id_username\">Username</label><input id=\"id_username\" name=\"username\" value=\"{username}\" autocomplete=\"username\" autocapitalize=\"none\" autofocus required></p>\n\
             <p><label for=\"id_password\">Password</label><input id=\"id_password\" type=\"password\" name=\"password\" autocomplete=\"current-password\" required></p>\n\
             <input type=\"hidden\" name=\"next\" value=\"{next}\">\n\
             <p><button type=\"submit\" id=\"login\" data-testid=\"login\">Log in</button></p>\n</form>\n",
            errors = errors(page.error.as_slice()),
            csrf = escape(&page.csrf_token),
            username = escape(&page.username),
            next = escape(&page.next),
        );
        Html(self.page("Log in", &content))
    }

    fn password_change(&self, page: &PasswordChangePage) -> Html<String> {
        let content = format!(
            "{errors}<form method=\"post\" id=\"password-change-form\" data-testid=\"password-change-form\">\n\
             <input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"{csrf}\">\n\
             <p><label for=\"id_old_password\">Old password</label><input id=\"id_old_password\" type=\"password\" name=\"old_password\" autocomplete=\"current-password\" autofocus required></p>\n\
             <p><label for=\"id_new_password1\">New password</label><input id=\"id_new_password1\" type=\"password\" name=\"new_password1\" autocomplete=\"new-password\" required></p>\n\
             <p><label for=\"id_new_password2\">New password confirmation</label><input id=\"id_new_password2\" type=\"password\" name=\"new_password2\" autocomplete=\"new-password\" required></p>\n\
             <p><button type=\"submit\" data-testid=\"change-password\">Change my password</button></p>\n</form>\n",
            errors = errors(&page.errors),
            csrf = escape(&page.csrf_token),
        );
        Html(self.page("Password change", &content))
    }

    fn forbidden(&self, denial: Denial) -> Pin<Box<dyn Future<Output = Response> + Send + '_>> {
        Box::pin(async move { self.forbidden_page(&denial.message) })
    }
}

impl AdminPages {
    /// The admin's 403 page with the guard's message (or Django's sentence).
    fn forbidden_page(&self, message: &str) -> Response {
        let message = if message.is_empty() {
            "You do not have permission to view this page."
        } else {
            message
        };
        let content = format!(
            "<p id=\"error-message\" data-testid=\"error-message\">{}</p>\n\
             <p><a href=\"{}\" data-testid=\"forbidden-login\">Log in as another user</a> · \
             <a href=\"{}\" data-testid=\"forbidden-home\">Admin home</a></p>\n",
            escape(message),
            escape(&self.login_url),
            escape(&self.admin_url),
        );
        let mut response = Html(self.page("403 Forbidden", &content)).into_response();
        *response.status_mut() = StatusCode::FORBIDDEN;
        response
    }
}
