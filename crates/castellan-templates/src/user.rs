//! `user`: the current user (or `AnonymousUser`) as a minijinja object.

use std::fmt;
use std::sync::Arc;

use castellan_core::{Identity, Principal};
use minijinja::value::{Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};

/// The `user` template variable (what Django's auth context processor puts in `user`).
///
/// Attributes: `is_authenticated`, `is_anonymous`, `is_active`, `is_staff`, `is_superuser`,
/// `username` (`""` for the anonymous user), `pk` and `id` (none for the anonymous user) and `groups`
/// (the group names, sorted, as given to [`TemplateUser::new`]). Methods: `get_username()`,
/// `has_perm('app.codename')`, `has_module_perms('app')`. `{{ user }}` renders the username, or
/// `AnonymousUser`. The object is always truthy, like a Python object.
#[derive(Clone)]
pub struct TemplateUser {
    principal: Principal,
    groups: Arc<[String]>,
}

impl TemplateUser {
    /// The principal and the names of its groups (loaded by the caller: loading them is I/O).
    /// The anonymous user has no groups; any names given for it are ignored.
    pub fn new(principal: Principal, mut groups: Vec<String>) -> Self {
        if principal.identity().is_anonymous() {
            groups.clear();
        }
        groups.sort_unstable();
        groups.dedup();
        Self {
            principal,
            groups: groups.into(),
        }
    }

    /// Who this is.
    pub fn identity(&self) -> &Identity {
        self.principal.identity()
    }

    /// The principal the permission checks go to.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The group names, sorted.
    pub fn groups(&self) -> &[String] {
        &self.groups
    }

    /// Whether the user belongs to the group named `name` (exact, case-sensitive; membership only).
    pub fn in_group(&self, name: &str) -> bool {
        self.groups
            .binary_search_by(|g| g.as_str().cmp(name))
            .is_ok()
    }
}

impl PartialEq<Identity> for TemplateUser {
    fn eq(&self, other: &Identity) -> bool {
        self.identity() == other
    }
}

impl PartialEq<TemplateUser> for Identity {
    fn eq(&self, other: &TemplateUser) -> bool {
        self == other.identity()
    }
}

impl fmt::Debug for TemplateUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TemplateUser")
            .field("identity", self.identity())
            .field("groups", &self.groups)
            .finish()
    }
}

impl Object for TemplateUser {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        let id = self.identity();
        Some(match key {
            "is_authenticated" => Value::from(id.is_authenticated()),
            "is_anonymous" => Value::from(id.is_anonymous()),
            "is_active" => Value::from(id.is_active()),
            "is_staff" => Value::from(id.is_staff()),
            "is_superuser" => Value::from(id.is_superuser()),
            "username" => Value::from(id.username()),
            // An integer key renders as a number, a UUID as its hyphenated text (Django's `str`).
            "pk" | "id" => match id.id() {
                None => Value::from(()),
                Some(castellan_core::UserId::Int(i)) => Value::from(i),
                Some(uuid) => Value::from(uuid.to_string()),
            },
            "groups" => Value::from(self.groups.to_vec()),
            _ => return None,
        })
    }

    fn is_true(self: &Arc<Self>) -> bool {
        true
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let one_str = || -> Result<&str, Error> {
            match args {
                [arg] => arg.as_str().ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidOperation,
                        format!("user.{method}() takes a string"),
                    )
                }),
                _ => Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!("user.{method}() takes exactly one argument"),
                )),
            }
        };
        match method {
            "get_username" if args.is_empty() => Ok(Value::from(self.identity().username())),
            "has_perm" => Ok(Value::from(self.principal.has_perm(one_str()?))),
            "has_module_perms" => Ok(Value::from(self.principal.has_module_perms(one_str()?))),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    /// `{{ user }}`: the username, or `AnonymousUser` (Django's `str(user)`). HTML-escaped by the
    /// engine like any other value.
    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.identity(), f)
    }
}
