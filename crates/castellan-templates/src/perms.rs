//! `perms`: Django's `PermWrapper` and `PermLookupDict` as minijinja objects.
//!
//! Every lookup asks the [`Principal`] at render time: building the wrapper checks nothing.

use std::fmt;
use std::sync::Arc;

use castellan_core::Principal;
use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind};

/// The `perms` template variable (Django's `PermWrapper`).
///
/// | Template                          | Means                                          |
/// |-----------------------------------|------------------------------------------------|
/// | `{% if perms.app %}`              | `has_module_perms("app")`                      |
/// | `{{ perms.app.codename }}`        | `has_perm("app.codename")`, renders `True`/`False` |
/// | `{% if 'app' in perms %}`         | `has_module_perms("app")`                      |
/// | `{% if 'app.codename' in perms %}`| `has_perm("app.codename")` (split on the first dot) |
/// | `{% if 'codename' in perms.app %}`| `has_perm("app.codename")` — see the crate's *Differences from Django* |
/// | `{% for p in perms %}`            | error: `PermWrapper is not iterable.`          |
/// | `{{ perms }}`                     | `PermWrapper(<username>)`                      |
///
/// Subscripts follow `in`: `perms['app']` is undefined unless `'app' in perms` (so
/// `perms['app']['codename']` on an app the user has nothing in is an undefined-value error in
/// minijinja's default mode); use the attribute form `perms.app.codename`, which always works.
#[derive(Clone)]
pub struct PermWrapper {
    principal: Principal,
}

impl PermWrapper {
    /// Wraps the principal whose (already loaded) permissions the template asks about.
    pub fn new(principal: Principal) -> Self {
        Self { principal }
    }

    /// The wrapped principal.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// `'x' in perms`: a module check without a dot, otherwise a permission check on the whole
    /// string (Django splits on the first dot and joins the parts again: the same string).
    pub fn contains(&self, key: &str) -> bool {
        if key.contains('.') {
            self.principal.has_perm(key)
        } else {
            self.principal.has_module_perms(key)
        }
    }

    /// `perms.app`: the lookup object for one app label.
    pub fn app(&self, app_label: &str) -> PermLookupDict {
        PermLookupDict {
            principal: self.principal.clone(),
            app_label: app_label.into(),
        }
    }
}

impl fmt::Debug for PermWrapper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PermWrapper({})", self.principal.identity())
    }
}

/// An error value: iterating yields it, and the engine raises it (Django's `TypeError`).
fn not_iterable(what: &str) -> Enumerator {
    Enumerator::Values(vec![Value::from(Error::new(
        ErrorKind::InvalidOperation,
        format!("{what} is not iterable."),
    ))])
}

impl Object for PermWrapper {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    /// `perms.app` (attribute access): always the lookup object, so `perms.app.codename` works
    /// whether or not the user has module permissions.
    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        Some(Value::from_object(self.app(key)))
    }

    /// `perms['…']` and the `in` operator (which asks "is there a value for this key"): present
    /// only when the check passes, so that `'app' in perms` and `'app.codename' in perms` are
    /// Django's checks.
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        if !self.contains(key) {
            return None;
        }
        if key.contains('.') {
            Some(Value::from(true))
        } else {
            Some(Value::from_object(self.app(key)))
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        not_iterable("PermWrapper")
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        None
    }

    fn is_true(self: &Arc<Self>) -> bool {
        true
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// `perms.app` (Django's `PermLookupDict`): truthy iff the user has any permission in `app`;
/// `perms.app.codename` is `has_perm("app.codename")`; renders as the user's permission set.
#[derive(Clone)]
pub struct PermLookupDict {
    principal: Principal,
    app_label: Box<str>,
}

impl PermLookupDict {
    /// The app label this object looks permissions up in.
    pub fn app_label(&self) -> &str {
        &self.app_label
    }

    /// `perms.app.codename`: `has_perm("app.codename")`.
    pub fn has(&self, codename: &str) -> bool {
        self.principal
            .has_perm(&format!("{}.{codename}", self.app_label))
    }

    /// Truthiness: `has_module_perms(app)`.
    pub fn has_module_perms(&self) -> bool {
        self.principal.has_module_perms(&self.app_label)
    }
}

impl fmt::Debug for PermLookupDict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PermLookupDict({}, {:?})",
            self.principal.identity(),
            self.app_label
        )
    }
}

impl Object for PermLookupDict {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    /// `perms.app.codename`: always a boolean, so it renders `True` or `False`.
    fn get_value_by_str(self: &Arc<Self>, codename: &str) -> Option<Value> {
        Some(Value::from(self.has(codename)))
    }

    /// `perms.app['codename']` and `'codename' in perms.app`: present only when held.
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let codename = key.as_str()?;
        self.has(codename).then(|| Value::from(true))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        not_iterable("PermLookupDict")
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        None
    }

    fn is_true(self: &Arc<Self>) -> bool {
        self.has_module_perms()
    }

    /// Django's `str(user.get_all_permissions())`, as a Python set literal (sorted here).
    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let all = self.principal.get_all_permissions();
        if all.is_empty() {
            return f.write_str("set()");
        }
        f.write_str("{")?;
        for (i, p) in all.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "'{p}'")?;
        }
        f.write_str("}")
    }
}
