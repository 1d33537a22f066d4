//! The embedded templates (minijinja, HTML auto-escaping on).

use minijinja::{Environment, Value};

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

    pub(crate) fn render(&self, name: &str, ctx: Value) -> Result<String, AdminError> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(|e| AdminError::Template(format!("{name}: {e:#}")))
    }
}
