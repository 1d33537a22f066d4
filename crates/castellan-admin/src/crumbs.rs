//! Breadcrumbs, as Django's admin shows them: Home › app › model list › object › page.

use minijinja::{context, Value};

use crate::access::Staff;

/// The trail above a page, built from the home page down; the last crumb is the page itself.
#[derive(Debug, Clone, Default)]
pub(crate) struct Crumbs(Vec<(String, Option<String>)>);

impl Crumbs {
    /// Home, then the app's section of the index.
    pub(crate) fn app(staff: &Staff, label: &str) -> Self {
        Self(vec![
            ("Home".to_owned(), Some(format!("{}/", staff.base))),
            (
                staff.site.app_name(label),
                Some(format!("{}/#app-{label}", staff.base)),
            ),
        ])
    }

    /// Home only.
    pub(crate) fn home(staff: &Staff) -> Self {
        Self(vec![("Home".to_owned(), Some(format!("{}/", staff.base)))])
    }

    /// A crumb linking to `url`.
    pub(crate) fn link(mut self, label: impl Into<String>, url: impl Into<String>) -> Self {
        self.0.push((label.into(), Some(url.into())));
        self
    }

    /// The page itself (the last crumb, not a link).
    pub(crate) fn here(mut self, label: impl Into<String>) -> Self {
        self.0.push((label.into(), None));
        self
    }

    /// The template value: a list of `{label, url}` (`url` none for the page itself).
    pub(crate) fn value(&self) -> Value {
        Value::from(
            self.0
                .iter()
                .map(|(label, url)| context! { label, url })
                .collect::<Vec<_>>(),
        )
    }
}
