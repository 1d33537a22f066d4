//! The default templates, embedded at build time under the `castellan/` prefix, and a loader that
//! lets an application's own templates override them.

use minijinja::{Error, TemplateSource};

/// The prefix every default template's name starts with.
pub const PREFIX: &str = "castellan/";

/// The embedded default templates: (name, source).
pub const DEFAULT_TEMPLATES: &[(&str, &str)] = &[
    (
        "castellan/base.html",
        include_str!("../templates/castellan/base.html"),
    ),
    (
        "castellan/registration/login.html",
        include_str!("../templates/castellan/registration/login.html"),
    ),
    (
        "castellan/registration/password_change_form.html",
        include_str!("../templates/castellan/registration/password_change_form.html"),
    ),
    (
        "castellan/registration/password_change_done.html",
        include_str!("../templates/castellan/registration/password_change_done.html"),
    ),
    (
        "castellan/registration/password_reset_form.html",
        include_str!("../templates/castellan/registration/password_reset_form.html"),
    ),
    (
        "castellan/registration/password_reset_done.html",
        include_str!("../templates/castellan/registration/password_reset_done.html"),
    ),
    (
        "castellan/registration/password_reset_confirm.html",
        include_str!("../templates/castellan/registration/password_reset_confirm.html"),
    ),
    (
        "castellan/registration/password_reset_complete.html",
        include_str!("../templates/castellan/registration/password_reset_complete.html"),
    ),
    (
        "castellan/registration/password_reset_email.html",
        include_str!("../templates/castellan/registration/password_reset_email.html"),
    ),
    (
        "castellan/registration/password_reset_subject.txt",
        include_str!("../templates/castellan/registration/password_reset_subject.txt"),
    ),
    (
        "castellan/403.html",
        include_str!("../templates/castellan/403.html"),
    ),
    (
        "castellan/404.html",
        include_str!("../templates/castellan/404.html"),
    ),
];

/// The source of the embedded default template `name` (e.g. `castellan/403.html`), if there is one.
pub fn default_template(name: &str) -> Option<&'static str> {
    DEFAULT_TEMPLATES
        .iter()
        .find_map(|(n, src)| (*n == name).then_some(*src))
}

/// A loader that asks `app` first and falls back to the embedded defaults, so an application
/// overrides `castellan/403.html` by having its own loader return a template of that name.
///
/// ```
/// # use minijinja::Environment;
/// let mut env = Environment::new();
/// env.set_loader(castellan_templates::loader_with_defaults(|name| {
///     Ok((name == "castellan/403.html").then(|| "No entry.".to_owned()))
/// }));
/// assert_eq!(env.get_template("castellan/403.html")?.render(())?, "No entry.");
/// # Ok::<(), minijinja::Error>(())
/// ```
pub fn loader_with_defaults<F, R>(
    app: F,
) -> impl Fn(&str) -> Result<Option<TemplateSource>, Error> + Send + Sync + 'static
where
    F: Fn(&str) -> Result<Option<R>, Error> + Send + Sync + 'static,
    R: Into<TemplateSource>,
{
    move |name| match app(name)? {
        Some(source) => Ok(Some(source.into())),
        None => Ok(default_template(name).map(TemplateSource::from)),
    }
}

/// The loader for the embedded defaults alone.
pub fn default_loader(name: &str) -> Result<Option<TemplateSource>, Error> {
    Ok(default_template(name).map(TemplateSource::from))
}
