//! [`Templates`]: a minijinja environment set up for Castellan — the filters, the embedded
//! `castellan/…` defaults behind the application's own templates, HTML auto-escaping — shared by
//! every page a web layer renders.

use minijinja::{Environment, Error, TemplateSource, Value};

/// The template environment of an application: what it renders its own pages with, and what
/// castellan-axum and castellan-admin render theirs with, so one override changes them all.
///
/// A template is looked up in this order: one added with [`Templates::add_template`], then the
/// application's loader ([`Templates::with_loader`]), then the embedded `castellan/…` defaults.
///
/// ```
/// let mut templates = castellan_templates::Templates::new();
/// templates.add_template("castellan/404.html", "Nothing at {{ request_path }}.")?;
/// let html = templates.render("castellan/404.html", minijinja::context! { request_path => "/x" })?;
/// assert_eq!(html, "Nothing at /x.");
/// # Ok::<(), minijinja::Error>(())
/// ```
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

impl Templates {
    /// The embedded defaults only.
    pub fn new() -> Self {
        Self::with_loader(|_| Ok(None::<String>))
    }

    /// The application's templates from `loader` (e.g. `minijinja::path_loader("templates")`),
    /// in front of the embedded defaults.
    pub fn with_loader<F, R>(loader: F) -> Self
    where
        F: Fn(&str) -> Result<Option<R>, Error> + Send + Sync + 'static,
        R: Into<TemplateSource>,
    {
        let mut env = Environment::new();
        crate::install_with_loader(&mut env, loader);
        Self { env }
    }

    /// Adds (or replaces) a template; found before any loader. A syntax error is returned, naming
    /// the line.
    pub fn add_template(
        &mut self,
        name: impl Into<String>,
        source: impl Into<String>,
    ) -> Result<(), Error> {
        self.env.add_template_owned(name.into(), source.into())
    }

    /// Renders `name` with `ctx`.
    pub fn render(&self, name: &str, ctx: Value) -> Result<String, Error> {
        self.env.get_template(name)?.render(ctx)
    }

    /// The environment, to read.
    pub fn env(&self) -> &Environment<'static> {
        &self.env
    }

    /// The environment, to add filters, functions or globals of the application's own. Setting
    /// another loader here drops the defaults; use [`Templates::with_loader`] instead.
    pub fn env_mut(&mut self) -> &mut Environment<'static> {
        &mut self.env
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    #[test]
    fn added_template_beats_the_loader_which_beats_the_default() {
        let mut t = Templates::with_loader(|name| {
            Ok(
                (name == "castellan/403.html" || name == "castellan/404.html")
                    .then(|| format!("app {name}")),
            )
        });
        t.add_template("castellan/404.html", "added").unwrap();
        assert_eq!(
            t.render("castellan/404.html", context! {}).unwrap(),
            "added"
        );
        assert_eq!(
            t.render("castellan/403.html", context! {}).unwrap(),
            "app castellan/403.html"
        );
        let login = t
            .render("castellan/registration/login.html", context! {})
            .unwrap();
        assert!(login.contains("<h1>Log in</h1>"), "{login}");
    }

    #[test]
    fn a_syntax_error_is_reported() {
        let mut t = Templates::new();
        assert!(t.add_template("x.html", "{% if %}").is_err());
        assert!(t.render("missing.html", context! {}).is_err());
    }
}
