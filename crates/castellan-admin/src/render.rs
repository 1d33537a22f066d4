//! The embedded templates (minijinja, HTML auto-escaping on) and the page helper every view uses.

use axum::response::{Html, IntoResponse, Response};
use http::StatusCode;
use minijinja::{context, Environment, Value};

use crate::access::Staff;
use crate::error::AdminError;

/// The templates, embedded at build time.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("picker.html", include_str!("../templates/picker.html")),
    ("index.html", include_str!("../templates/index.html")),
    (
        "user_list.html",
        include_str!("../templates/user_list.html"),
    ),
    ("user_add.html", include_str!("../templates/user_add.html")),
    (
        "user_change.html",
        include_str!("../templates/user_change.html"),
    ),
    (
        "user_password.html",
        include_str!("../templates/user_password.html"),
    ),
    (
        "confirm_delete.html",
        include_str!("../templates/confirm_delete.html"),
    ),
    (
        "group_list.html",
        include_str!("../templates/group_list.html"),
    ),
    (
        "group_add.html",
        include_str!("../templates/group_add.html"),
    ),
    (
        "group_change.html",
        include_str!("../templates/group_change.html"),
    ),
    (
        "group_review.html",
        include_str!("../templates/group_review.html"),
    ),
    (
        "permission_list.html",
        include_str!("../templates/permission_list.html"),
    ),
    (
        "permission_add.html",
        include_str!("../templates/permission_add.html"),
    ),
    ("matrix.html", include_str!("../templates/matrix.html")),
    ("audit.html", include_str!("../templates/audit.html")),
    (
        "model_list.html",
        include_str!("../templates/model_list.html"),
    ),
    (
        "model_form.html",
        include_str!("../templates/model_form.html"),
    ),
];

/// The stylesheet served at `admin.css`.
pub(crate) const CSS: &str = include_str!("../static/admin.css");

/// The template environment.
pub(crate) struct Renderer {
    env: Environment<'static>,
}

impl Renderer {
    /// Loads the embedded templates (a broken template is a bug caught by the tests).
    pub(crate) fn new() -> Self {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        for (name, source) in TEMPLATES {
            if let Err(e) = env.add_template(name, source) {
                tracing::error!("castellan-admin: template {name} does not compile: {e}");
            }
        }
        Self { env }
    }

    fn render(&self, name: &str, ctx: Value) -> Result<String, AdminError> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(|e| AdminError::Template(format!("{name}: {e:#}")))
    }
}

/// Renders `name` for `staff` with the page context `ctx` (plus `base`, `site_title`, `username`,
/// `csrf_token`, `is_superuser`, `logout_url`, `site_url`) and the status code.
pub(crate) fn page(
    staff: &Staff,
    name: &str,
    status: StatusCode,
    ctx: Value,
) -> Result<Response, AdminError> {
    let full = context! {
        base => &staff.base,
        site_title => &staff.site.title,
        logout_url => &staff.site.logout_url,
        site_url => &staff.site.site_url,
        username => &staff.user.username,
        is_superuser => staff.is_superuser(),
        csrf_token => staff.csrf(),
        ..ctx
    };
    let html = staff.site.renderer.render(name, full)?;
    let mut response = Html(html).into_response();
    *response.status_mut() = status;
    Ok(response)
}

/// A `303 See Other` to `url` (after a successful POST).
pub(crate) fn redirect(url: &str) -> Response {
    match http::HeaderValue::from_str(url) {
        Ok(v) => (StatusCode::SEE_OTHER, [(http::header::LOCATION, v)]).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
