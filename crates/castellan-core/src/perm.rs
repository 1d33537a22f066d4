//! Permission names: `"app_label.codename"`, parsed and validated.
//!
//! Django never parses a permission string: `has_perm` is an exact set-membership test, so a typo is
//! silently `false`. Castellan keeps that run-time rule (an unknown name is `false`) but gives every
//! place that *names* a permission — guards, the CLI, the policy file — a parser that says what is wrong.

use std::fmt;

use crate::error::{Error, Result};
use crate::validators::{MAX_APP_LABEL, MAX_CODENAME};

/// A borrowed, well-formed permission name: `app_label.codename`.
///
/// The split is at the **first** dot, as Django's `has_module_perms` does; the codename may therefore
/// contain further dots (Django allows it in the database), but [`PermName::parse`] refuses that form for
/// new names because Django's `with_perm` cannot query it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PermName<'a> {
    app_label: &'a str,
    codename: &'a str,
}

impl<'a> PermName<'a> {
    /// Parses `app_label.codename` with Django's `with_perm` rule: exactly two non-empty parts.
    ///
    /// Returns [`Error::MalformedPermission`] naming what is wrong.
    pub fn parse(name: &'a str) -> Result<Self> {
        let malformed = |reason: &str| Error::MalformedPermission {
            name: name.to_owned(),
            reason: reason.to_owned(),
        };
        let Some((app_label, codename)) = name.split_once('.') else {
            return Err(malformed(
                "expected \"app_label.codename\" (for example \"bookshelf.add_book\"); there is no app label",
            ));
        };
        if codename.contains('.') {
            return Err(malformed(
                "Permission name should be in the form app_label.permission_codename (it has more than one dot)",
            ));
        }
        if app_label.is_empty() {
            return Err(malformed("the app label before the dot is empty"));
        }
        if codename.is_empty() {
            return Err(malformed("the codename after the dot is empty"));
        }
        if let Some(c) = name.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(malformed(&format!(
                "it contains the character {c:?}; permission names have no spaces"
            )));
        }
        if app_label.chars().count() > MAX_APP_LABEL {
            return Err(malformed(&format!(
                "the app label is longer than {MAX_APP_LABEL} characters"
            )));
        }
        if codename.chars().count() > MAX_CODENAME {
            return Err(malformed(&format!(
                "the codename is longer than {MAX_CODENAME} characters"
            )));
        }
        Ok(Self {
            app_label,
            codename,
        })
    }

    /// Builds a name from its two parts without validation (used for names read from the database).
    pub const fn from_parts(app_label: &'a str, codename: &'a str) -> Self {
        Self {
            app_label,
            codename,
        }
    }

    /// The content type's app label, e.g. `bookshelf`.
    pub fn app_label(&self) -> &'a str {
        self.app_label
    }

    /// The codename, e.g. `add_book`.
    pub fn codename(&self) -> &'a str {
        self.codename
    }
}

impl fmt::Display for PermName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.app_label, self.codename)
    }
}

/// Validates a codename for a permission Castellan is asked to *create*: 1–100 characters of
/// `[A-Za-z0-9_]`. (Django accepts anything, which is how dotted and space-containing codenames end up
/// unusable with `with_perm`; existing rows with such codenames are still read and checked as they are.)
pub fn validate_new_codename(codename: &str) -> Result<()> {
    let bad = |reason: String| Error::InvalidName {
        what: "codename",
        value: codename.to_owned(),
        reason,
    };
    if codename.is_empty() {
        return Err(bad("it is empty".into()));
    }
    if codename.chars().count() > MAX_CODENAME {
        return Err(bad(format!(
            "it has {} characters; the most Django's auth_permission.codename holds is {MAX_CODENAME}",
            codename.chars().count()
        )));
    }
    if let Some(c) = codename
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(bad(format!(
            "it contains {c:?}; use letters, digits and underscores (for example \"can_publish_book\")"
        )));
    }
    Ok(())
}

/// Validates an app label or model name for a content type Castellan is asked to create: 1–100
/// characters, an identifier (`[A-Za-z_][A-Za-z0-9_]*`), as Django's app labels and model names are.
pub fn validate_identifier(what: &'static str, value: &str) -> Result<()> {
    let bad = |reason: String| Error::InvalidName {
        what,
        value: value.to_owned(),
        reason,
    };
    let mut chars = value.chars();
    match chars.next() {
        None => return Err(bad("it is empty".into())),
        Some(c) if !(c.is_ascii_alphabetic() || c == '_') => {
            return Err(bad(format!(
                "it starts with {c:?}; it must start with a letter or underscore"
            )))
        }
        _ => {}
    }
    if let Some(c) = chars.find(|c| !(c.is_ascii_alphanumeric() || *c == '_')) {
        return Err(bad(format!(
            "it contains {c:?}; use letters, digits and underscores"
        )));
    }
    if value.chars().count() > MAX_APP_LABEL {
        return Err(bad(format!("it is longer than {MAX_APP_LABEL} characters")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_two_parts() {
        let p = PermName::parse("bookshelf.add_book").unwrap();
        assert_eq!(p.app_label(), "bookshelf");
        assert_eq!(p.codename(), "add_book");
        assert_eq!(p.to_string(), "bookshelf.add_book");
    }

    #[test]
    fn rejects_django_with_perm_bad_names() {
        for bad in [
            "nodots",
            "too.many.dots",
            "...",
            "",
            ".x",
            "x.",
            "a b.c",
            "auth.add_user ",
        ] {
            assert!(
                matches!(PermName::parse(bad), Err(Error::MalformedPermission { .. })),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn rejects_over_long_parts() {
        let long = format!("app.{}", "x".repeat(101));
        assert!(PermName::parse(&long).is_err());
        assert!(PermName::parse(&format!("app.{}", "x".repeat(100))).is_ok());
    }

    #[test]
    fn new_codenames_are_identifiers() {
        assert!(validate_new_codename("can_publish_book").is_ok());
        assert!(validate_new_codename("do.thing").is_err());
        assert!(validate_new_codename("").is_err());
        assert!(validate_new_codename(&"a".repeat(101)).is_err());
        assert!(validate_identifier("app label", "bookshelf").is_ok());
        assert!(validate_identifier("app label", "9lives").is_err());
    }
}
