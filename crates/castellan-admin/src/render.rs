//! The admin's templates: embedded at build time as `castellan/admin/…`, behind the application's
//! own (an application overrides one by serving a template of the same name from its loader,
//! [`Admin::with_template_loader`](crate::Admin::with_template_loader)), in front of
//! castellan-templates' defaults. HTML auto-escaping is on for every template.

use std::sync::{Arc, OnceLock};

use castellan_templates::Templates;
use minijinja::{Error, TemplateSource, Value};

/// The prefix of the admin's template names.
pub const ADMIN_PREFIX: &str = "castellan/admin/";

/// The admin's templates, embedded at build time: (name without the prefix, source).
const TEMPLATES: &[(&str, &str)] = &[
    (
        "base.html",
        include_str!("../templates/castellan/admin/base.html"),
    ),
    (
        "picker.html",
        include_str!("../templates/castellan/admin/picker.html"),
    ),
    (
        "index.html",
        include_str!("../templates/castellan/admin/index.html"),
    ),
    (
        "user_list.html",
        include_str!("../templates/castellan/admin/user_list.html"),
    ),
    (
        "user_add.html",
        include_str!("../templates/castellan/admin/user_add.html"),
    ),
    (
        "user_change.html",
        include_str!("../templates/castellan/admin/user_change.html"),
    ),
    (
        "user_password.html",
        include_str!("../templates/castellan/admin/user_password.html"),
    ),
    (
        "user_reset_sent.html",
        include_str!("../templates/castellan/admin/user_reset_sent.html"),
    ),
    (
        "select_all.html",
        include_str!("../templates/castellan/admin/select_all.html"),
    ),
    (
        "user_delete_selected.html",
        include_str!("../templates/castellan/admin/user_delete_selected.html"),
    ),
    (
        "model_delete_selected.html",
        include_str!("../templates/castellan/admin/model_delete_selected.html"),
    ),
    (
        "confirm_delete.html",
        include_str!("../templates/castellan/admin/confirm_delete.html"),
    ),
    (
        "group_list.html",
        include_str!("../templates/castellan/admin/group_list.html"),
    ),
    (
        "group_add.html",
        include_str!("../templates/castellan/admin/group_add.html"),
    ),
    (
        "group_change.html",
        include_str!("../templates/castellan/admin/group_change.html"),
    ),
    (
        "group_review.html",
        include_str!("../templates/castellan/admin/group_review.html"),
    ),
    (
        "permission_list.html",
        include_str!("../templates/castellan/admin/permission_list.html"),
    ),
    (
        "permission_add.html",
        include_str!("../templates/castellan/admin/permission_add.html"),
    ),
    (
        "matrix.html",
        include_str!("../templates/castellan/admin/matrix.html"),
    ),
    (
        "matrix.css",
        include_str!("../templates/castellan/admin/matrix.css"),
    ),
    (
        "matrix.js",
        include_str!("../templates/castellan/admin/matrix.js"),
    ),
    (
        "selector.js",
        include_str!("../templates/castellan/admin/selector.js"),
    ),
    (
        "matrix_toolbar.html",
        include_str!("../templates/castellan/admin/matrix_toolbar.html"),
    ),
    (
        "matrix_table.html",
        include_str!("../templates/castellan/admin/matrix_table.html"),
    ),
    (
        "matrix_document.html",
        include_str!("../templates/castellan/admin/matrix_document.html"),
    ),
    (
        "history.html",
        include_str!("../templates/castellan/admin/history.html"),
    ),
    (
        "object_permissions.html",
        include_str!("../templates/castellan/admin/object_permissions.html"),
    ),
    (
        "changes.html",
        include_str!("../templates/castellan/admin/changes.html"),
    ),
    (
        "audit.html",
        include_str!("../templates/castellan/admin/audit.html"),
    ),
    (
        "model_list.html",
        include_str!("../templates/castellan/admin/model_list.html"),
    ),
    (
        "model_form.html",
        include_str!("../templates/castellan/admin/model_form.html"),
    ),
    (
        "standalone.html",
        include_str!("../templates/castellan/admin/standalone.html"),
    ),
    (
        "login.html",
        include_str!("../templates/castellan/admin/login.html"),
    ),
    (
        "password_change.html",
        include_str!("../templates/castellan/admin/password_change.html"),
    ),
    (
        "password_change_done.html",
        include_str!("../templates/castellan/admin/password_change_done.html"),
    ),
    (
        "403.html",
        include_str!("../templates/castellan/admin/403.html"),
    ),
    (
        "404.html",
        include_str!("../templates/castellan/admin/404.html"),
    ),
    (
        "error.html",
        include_str!("../templates/castellan/admin/error.html"),
    ),
    ("admin.css", crate::style::CSS),
];

/// The embedded admin template `name` (a full name, `castellan/admin/…`), if there is one.
pub fn admin_template(name: &str) -> Option<&'static str> {
    let short = name.strip_prefix(ADMIN_PREFIX)?;
    TEMPLATES
        .iter()
        .find_map(|(n, src)| (*n == short).then_some(*src))
}

/// The admin's template environment.
#[derive(Clone)]
pub(crate) struct Renderer {
    templates: Arc<Templates>,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Renderer")
    }
}

impl Renderer {
    /// The application's templates from `app` first, then the admin's, then castellan-templates'.
    pub(crate) fn with_loader<F, R>(app: F) -> Self
    where
        F: Fn(&str) -> Result<Option<R>, Error> + Send + Sync + 'static,
        R: Into<TemplateSource>,
    {
        let mut templates = Templates::with_loader(move |name: &str| match app(name)? {
            Some(source) => Ok(Some(source.into())),
            None => Ok(admin_template(name).map(TemplateSource::from)),
        });
        let env = templates.env_mut();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        Self {
            templates: Arc::new(templates),
        }
    }

    /// The embedded templates only, built once.
    pub(crate) fn defaults() -> &'static Renderer {
        static DEFAULTS: OnceLock<Renderer> = OnceLock::new();
        DEFAULTS.get_or_init(|| Renderer::with_loader(|_| Ok(None::<String>)))
    }

    /// The environment with castellan-templates' names too (for [`Pages`](castellan_axum::Pages)).
    pub(crate) fn templates(&self) -> &Templates {
        &self.templates
    }

    /// Renders the admin template `short` (a name without the `castellan/admin/` prefix).
    pub(crate) fn render_raw(&self, short: &str, ctx: Value) -> Result<String, Error> {
        self.templates
            .render(&format!("{ADMIN_PREFIX}{short}"), ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_template_compiles() {
        let r = Renderer::defaults();
        for (name, _) in TEMPLATES {
            let full = format!("{ADMIN_PREFIX}{name}");
            if let Err(e) = r.templates().env().get_template(&full) {
                panic!("{full}: {e:#}");
            }
        }
    }

    #[test]
    fn the_application_overrides_an_admin_template() {
        let r = Renderer::with_loader(|name| {
            Ok((name == "castellan/admin/404.html").then(|| "gone: {{ path }}".to_owned()))
        });
        let html = r
            .render_raw("404.html", minijinja::context! { path => "<x>" })
            .unwrap();
        assert_eq!(html, "gone: &lt;x&gt;");
        assert!(Renderer::defaults()
            .render_raw("404.html", minijinja::context! {})
            .unwrap()
            .contains("Page not found"));
    }
}
