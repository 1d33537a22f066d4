//! `perms` for one object: the permissions a user holds on one object, as a minijinja object that
//! answers like [`PermWrapper`](crate::PermWrapper) does for the whole model.
//!
//! | Template                              | Means                                          |
//! |---------------------------------------|------------------------------------------------|
//! | `{{ obj_perms.app.codename }}`        | `user.has_perm("app.codename", obj)`, `True`/`False` |
//! | `{% if 'app.codename' in obj_perms %}`| the same                                        |
//! | `{% if 'codename' in obj_perms.app %}`| the same                                        |
//!
//! The application builds it with what it loaded for the object: the user's django-guardian grants
//! on it and the permissions its rules allow (`castellan_core::rules`). Rendering asks nothing of
//! the database. A permission of another app than the object's is `False` here (guardian raises
//! `WrongAppError`; a template cannot catch it).

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use castellan_core::object_perms::{self, ObjectGrants, ObjectRef};
use castellan_core::Principal;
use minijinja::value::{Enumerator, Object, ObjectRepr, Value};

/// The permissions a user holds on one object, for templates.
#[derive(Clone)]
pub struct ObjectPermWrapper {
    principal: Principal,
    grants: Arc<ObjectGrants>,
    object: Arc<ObjectRef>,
    by_rules: Arc<BTreeSet<String>>,
}

impl ObjectPermWrapper {
    /// `principal`'s permissions on `object`: its guardian `grants` (their own and their
    /// groups'), and `by_rules`, the `app.codename` names the application's rules allow on it.
    pub fn new(
        principal: Principal,
        grants: ObjectGrants,
        object: ObjectRef,
        by_rules: impl IntoIterator<Item = String>,
    ) -> Self {
        Self {
            principal,
            grants: Arc::new(grants),
            object: Arc::new(object),
            by_rules: Arc::new(by_rules.into_iter().collect()),
        }
    }

    /// Whether the user holds `perm` (`app.codename`) on the object: an active superuser always;
    /// else a rule or a grant (never a global permission: Django's rule for objects).
    pub fn has(&self, perm: &str) -> bool {
        if !self.principal.identity().is_active() {
            return false;
        }
        self.by_rules.contains(perm)
            || object_perms::has_perm(&self.principal, &self.grants, perm, &*self.object)
                .unwrap_or(false)
    }
}

impl fmt::Debug for ObjectPermWrapper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ObjectPermWrapper({}, {})",
            self.principal.identity(),
            self.object
        )
    }
}

impl Object for ObjectPermWrapper {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    /// `obj_perms.app`: the lookup for one app label.
    fn get_value_by_str(self: &Arc<Self>, app: &str) -> Option<Value> {
        Some(Value::from_object(ObjectPermLookup {
            wrapper: (**self).clone(),
            app_label: app.into(),
        }))
    }

    /// `'app.codename' in obj_perms`: present only when held.
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        key.contains('.').then_some(())?;
        self.has(key).then(|| Value::from(true))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::NonEnumerable
    }

    fn is_true(self: &Arc<Self>) -> bool {
        true
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// `obj_perms.app`.
#[derive(Clone)]
struct ObjectPermLookup {
    wrapper: ObjectPermWrapper,
    app_label: Box<str>,
}

impl fmt::Debug for ObjectPermLookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectPermLookup({:?})", self.app_label)
    }
}

impl Object for ObjectPermLookup {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value_by_str(self: &Arc<Self>, codename: &str) -> Option<Value> {
        Some(Value::from(
            self.wrapper.has(&format!("{}.{codename}", self.app_label)),
        ))
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let codename = key.as_str()?;
        self.wrapper
            .has(&format!("{}.{codename}", self.app_label))
            .then(|| Value::from(true))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::NonEnumerable
    }

    fn is_true(self: &Arc<Self>) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use castellan_core::{
        Identity, PermIndex, PermissionRow, PermissionSet, UserFlags, UserId, UserPerms,
    };
    use minijinja::{context, Environment};

    use super::*;

    fn principal(active: bool, superuser: bool) -> Principal {
        let index = Arc::new(PermIndex::new([PermissionRow {
            id: 1,
            app_label: "bookshelf".into(),
            codename: "delete_book".into(),
        }]));
        let global = PermissionSet::from_ids(index.resolve("bookshelf.delete_book"));
        Principal::new(
            Identity::User(UserFlags {
                id: UserId::Int(1),
                username: "ann".into(),
                is_active: active,
                is_superuser: superuser,
                is_staff: false,
            }),
            Arc::new(UserPerms::new(global, PermissionSet::empty())),
            index,
        )
    }

    fn render(wrapper: ObjectPermWrapper, src: &str) -> String {
        let mut env = Environment::new();
        env.add_template("t", src).unwrap();
        env.get_template("t")
            .unwrap()
            .render(context! { obj_perms => Value::from_object(wrapper) })
            .unwrap()
    }

    #[test]
    fn templates_ask_about_the_object() {
        let obj = ObjectRef::parse("bookshelf.book:2").unwrap();
        let grants = ObjectGrants::new(["change_book"], Vec::<String>::new());
        let w = ObjectPermWrapper::new(
            principal(true, false),
            grants.clone(),
            obj.clone(),
            ["bookshelf.view_book".to_owned()],
        );
        let src = "{{ obj_perms.bookshelf.change_book }} {{ obj_perms.bookshelf.view_book }} \
                   {{ obj_perms.bookshelf.delete_book }} {{ 'bookshelf.change_book' in obj_perms }} \
                   {{ 'delete_book' in obj_perms.bookshelf }} {{ obj_perms.auth.change_book }}";
        // A global permission (delete_book) does not count on an object; another app is false.
        assert_eq!(render(w, src), "True True False True False False");
        let inactive =
            ObjectPermWrapper::new(principal(false, true), grants.clone(), obj.clone(), []);
        assert_eq!(
            render(inactive, "{{ obj_perms.bookshelf.change_book }}"),
            "False"
        );
        let root = ObjectPermWrapper::new(principal(true, true), ObjectGrants::none(), obj, []);
        assert_eq!(
            render(root, "{{ obj_perms.bookshelf.delete_book }}"),
            "True"
        );
    }
}
