//! Object-level permissions with django-guardian 3.5's semantics, over rows loaded beforehand.
//!
//! Guardian keeps per-object grants in two tables (a user's, a group's), each row naming a
//! permission, a content type and the object's primary key as text. This module holds the rules
//! that turn those rows into answers, without I/O:
//!
//! * [`ObjectRef`] names an object (`app_label.model:pk`, the pk as text as guardian stores it);
//! * [`ObjectGrants`] are the codenames one user holds on one object (their own rows and their
//!   groups'); [`has_perm`], [`has_perms`] and [`get_perms`] answer `user.has_perm(perm, obj)`,
//!   `has_perms` and guardian's `get_perms` from them and the user's [`Principal`];
//! * [`plan_objects`] decides what `get_objects_for_user` needs: every object, or the objects whose
//!   rows cover some codenames ([`ObjectsPlan`]); the store turns the plan into SQL.
//!
//! The facts these follow (superusers, inactive users, global permissions, app labels) are listed in
//! the project's `spec/guardian-semantics.md`; each function says which it implements.

use std::any::Any;
use std::collections::BTreeSet;
use std::fmt;

use crate::backend::{PermObject, Principal};
use crate::error::{Error, Result};
use crate::perm::validate_identifier;

/// The longest object key guardian stores (`object_pk varchar(255)`).
pub const MAX_OBJECT_PK: usize = 255;

/// An object named by its content type and primary key: `bookshelf.book:42`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    app_label: String,
    model: String,
    pk: String,
}

impl ObjectRef {
    /// An object of model `app_label.model` whose primary key, as text, is `pk` (guardian's
    /// `str(obj.pk)`). The model is lower case, as content types store it.
    pub fn new(
        app_label: impl Into<String>,
        model: impl Into<String>,
        pk: impl Into<String>,
    ) -> Result<Self> {
        let (app_label, model, pk) = (app_label.into(), model.into(), pk.into());
        validate_identifier("app label", &app_label)?;
        validate_identifier("model name", &model)?;
        if model.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(Error::InvalidName {
                what: "model name",
                value: model.clone(),
                reason: format!(
                    "content types name models in lower case: write {:?}",
                    model.to_ascii_lowercase()
                ),
            });
        }
        if pk.is_empty() {
            return Err(Error::Blank {
                field: "Object primary key",
            });
        }
        let len = pk.chars().count();
        if len > MAX_OBJECT_PK {
            return Err(Error::TooLong {
                field: "object primary key",
                max: MAX_OBJECT_PK,
                actual: len,
            });
        }
        Ok(Self {
            app_label,
            model,
            pk,
        })
    }

    /// Parses `APP_LABEL.MODEL:PK` (everything after the first `:` is the key, colons included).
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |reason: &str| Error::InvalidName {
            what: "object",
            value: text.to_owned(),
            reason: format!("{reason}; write APP_LABEL.MODEL:PK, e.g. bookshelf.book:42"),
        };
        let (model, pk) = text.split_once(':').ok_or_else(|| bad("it has no ':'"))?;
        let (app_label, model) = model
            .split_once('.')
            .ok_or_else(|| bad("its model has no '.'"))?;
        Self::new(app_label, model, pk)
    }

    /// Parses the model part alone, `APP_LABEL.MODEL`, as `(app_label, model)`.
    pub fn parse_model(text: &str) -> Result<(String, String)> {
        let (app_label, model) = text.split_once('.').ok_or_else(|| Error::InvalidName {
            what: "model",
            value: text.to_owned(),
            reason: "write APP_LABEL.MODEL, e.g. bookshelf.book".into(),
        })?;
        // The same checks as an object's, with a placeholder key.
        let checked = Self::new(app_label, model, "0")?;
        Ok((checked.app_label, checked.model))
    }

    /// The content type's app label.
    pub fn app_label(&self) -> &str {
        &self.app_label
    }

    /// The content type's model name.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The primary key as text.
    pub fn pk(&self) -> &str {
        &self.pk
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}:{}", self.app_label, self.model, self.pk)
    }
}

impl PermObject for ObjectRef {
    fn app_label(&self) -> &str {
        &self.app_label
    }

    fn model_name(&self) -> &str {
        &self.model
    }

    fn object_pk(&self) -> String {
        self.pk.clone()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The codenames one user holds on one object through guardian's rows: their own and their
/// groups'. Small sorted lists: a check is a few comparisons, no allocation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectGrants {
    user: Vec<Box<str>>,
    group: Vec<Box<str>>,
}

impl ObjectGrants {
    /// From the codenames of the user's rows and of their groups' rows (duplicates collapse).
    pub fn new<U, G>(user: U, group: G) -> Self
    where
        U: IntoIterator,
        U::Item: Into<Box<str>>,
        G: IntoIterator,
        G::Item: Into<Box<str>>,
    {
        fn sorted(mut v: Vec<Box<str>>) -> Vec<Box<str>> {
            v.sort_unstable();
            v.dedup();
            v
        }
        Self {
            user: sorted(user.into_iter().map(Into::into).collect()),
            group: sorted(group.into_iter().map(Into::into).collect()),
        }
    }

    /// No rows.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether a row of the user or of one of their groups grants `codename`.
    #[inline]
    pub fn contains(&self, codename: &str) -> bool {
        self.user.iter().any(|c| &**c == codename) || self.group.iter().any(|c| &**c == codename)
    }

    /// The codenames of the user's own rows, sorted.
    pub fn user(&self) -> impl Iterator<Item = &str> {
        self.user.iter().map(|c| &**c)
    }

    /// The codenames of their groups' rows, sorted.
    pub fn group(&self) -> impl Iterator<Item = &str> {
        self.group.iter().map(|c| &**c)
    }

    /// Both, sorted and without duplicates.
    pub fn all(&self) -> BTreeSet<&str> {
        self.user().chain(self.group()).collect()
    }
}

/// `user.has_perm(perm, obj)` with Django's `ModelBackend` and guardian's `ObjectPermissionBackend`:
///
/// 1. an active superuser: `true`, for any string;
/// 2. a permission whose app label (before the first `.`) differs from the object's:
///    [`Error::WrongApp`], also for inactive users;
/// 3. an inactive or anonymous user: `false`;
/// 4. otherwise: whether a row grants the codename (after the first `.`, or the whole string).
///
/// Global permissions never grant an object.
pub fn has_perm(
    who: &Principal,
    grants: &ObjectGrants,
    perm: &str,
    obj: &dyn PermObject,
) -> Result<bool> {
    if who.identity().is_active_superuser() {
        return Ok(true);
    }
    let codename = match perm.split_once('.') {
        Some((app, codename)) => {
            if app != obj.app_label() {
                return Err(Error::WrongApp {
                    perm: perm.to_owned(),
                    perm_app: app.to_owned(),
                    object: format!(
                        "{}.{}:{}",
                        obj.app_label(),
                        obj.model_name(),
                        obj.object_pk()
                    ),
                    object_app: obj.app_label().to_owned(),
                });
            }
            codename
        }
        None => perm,
    };
    if !who.identity().is_active() {
        return Ok(false);
    }
    Ok(grants.contains(codename))
}

/// `user.has_perms(perms, obj)` (`any == false`: all of them, stopping at the first `false`; an
/// empty list is `true`) or guardian's "any of them" (stopping at the first `true`). An error is
/// raised only when its permission is reached, as in Python.
pub fn has_perms<S: AsRef<str>>(
    who: &Principal,
    grants: &ObjectGrants,
    perms: &[S],
    obj: &dyn PermObject,
    any: bool,
) -> Result<bool> {
    for p in perms {
        let held = has_perm(who, grants, p.as_ref(), obj)?;
        if held == any {
            return Ok(any);
        }
    }
    Ok(!any)
}

/// Guardian's `get_perms(user, obj)`: the codenames the user holds on the object, sorted. An
/// inactive user holds none (superuser or not); an active superuser every permission of the
/// object's content type (`model_codenames`); anyone else the union of their rows and their
/// groups'.
pub fn get_perms(
    who: &Principal,
    grants: &ObjectGrants,
    model_codenames: &[String],
) -> Vec<String> {
    if !who.identity().is_active() {
        return Vec::new();
    }
    if who.identity().is_superuser() {
        let mut all: Vec<String> = model_codenames.to_vec();
        all.sort_unstable();
        all.dedup();
        return all;
    }
    grants.all().into_iter().map(str::to_owned).collect()
}

/// The flags of guardian's `get_objects_for_user`, with its defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectsQuery {
    /// Any one of the permissions is enough (default: all of them).
    pub any_perm: bool,
    /// Count the rows of the user's groups (default: yes).
    pub use_groups: bool,
    /// A superuser gets every object (default: yes; off also turns `accept_global_perms` off).
    pub with_superuser: bool,
    /// A permission held globally counts as held on every object (default: yes).
    pub accept_global_perms: bool,
}

impl Default for ObjectsQuery {
    fn default() -> Self {
        Self {
            any_perm: false,
            use_groups: true,
            with_superuser: true,
            accept_global_perms: true,
        }
    }
}

/// What `get_objects_for_user` has to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectsPlan {
    /// Every existing object of the model.
    Every,
    /// The existing objects that rows of the model's content type grant.
    Granted {
        /// The codenames rows must grant; empty: any row of the content type.
        codenames: BTreeSet<String>,
        /// Every codename must be granted on the object (by the user's rows and, with
        /// `use_groups`, their groups' together); otherwise one is enough.
        require_all: bool,
        /// Whether the rows of the user's groups count.
        use_groups: bool,
    },
}

/// Guardian's `get_objects_for_user(user, perms, klass=model, ...)`, up to reading rows.
///
/// `content_types_of(app_label, codename)` lists the models of `app_label` that have a permission
/// `codename` (guardian's `ContentType.objects.get(app_label=, permission__codename=)`).
///
/// 1. Validation first, for everyone: dotted permissions must share one app label; each dotted one
///    must name exactly one content type, the same for all, and that must be `model`'s
///    ([`Error::MixedContentType`], [`Error::UnknownPermission`]). Bare codenames count for
///    `model`; a bare codename after a dotted one is looked up in that app.
/// 2. `with_superuser` and a superuser (active or not): every object.
/// 3. With `accept_global_perms` and `with_superuser`: codenames the user holds globally are
///    dropped; if some were and none remain (or `any_perm`): every object.
/// 4. Otherwise the remaining codenames must be granted per object.
pub fn plan_objects<S: AsRef<str>>(
    who: &Principal,
    perms: &[S],
    model: (&str, &str),
    content_types_of: impl Fn(&str, &str) -> Vec<String>,
    query: ObjectsQuery,
) -> Result<ObjectsPlan> {
    let (model_app, model_name) = model;
    let mut app_label: Option<String> = None;
    let mut ctype: Option<String> = None;
    let mut codenames = BTreeSet::new();
    for perm in perms {
        let perm = perm.as_ref();
        let codename = match perm.split_once('.') {
            Some((app, codename)) => {
                if let Some(seen) = &app_label {
                    if seen != app {
                        return Err(Error::MixedContentType(format!(
                            "Given perms must have same app label ({seen} != {app})"
                        )));
                    }
                }
                app_label = Some(app.to_owned());
                codename
            }
            None => perm,
        };
        codenames.insert(codename.to_owned());
        if let Some(app) = &app_label {
            let found = content_types_of(app, codename);
            let found = match found.as_slice() {
                [one] => one.clone(),
                [] => {
                    return Err(Error::UnknownPermission {
                        name: format!("{app}.{codename}"),
                        suggestion: None,
                    })
                }
                several => {
                    return Err(Error::MixedContentType(format!(
                        "the permission {app}.{codename} belongs to several models ({}): name the model's own permission",
                        several.join(", ")
                    )))
                }
            };
            if let Some(seen) = &ctype {
                if *seen != found {
                    return Err(Error::MixedContentType(format!(
                        "ContentType was once computed to be {app}.{seen} and another one {app}.{found}"
                    )));
                }
            }
            ctype = Some(found);
        }
    }
    if let (Some(app), Some(found)) = (&app_label, &ctype) {
        if app != model_app || found != model_name {
            return Err(Error::MixedContentType(format!(
                "Content type for given perms ({app}.{found}) and the model ({model_app}.{model_name}) differs"
            )));
        }
    }
    if query.with_superuser && who.identity().is_superuser() {
        return Ok(ObjectsPlan::Every);
    }
    if query.accept_global_perms && query.with_superuser {
        let global: Vec<String> = codenames
            .iter()
            .filter(|c| who.has_perm(&format!("{model_app}.{c}")))
            .cloned()
            .collect();
        for c in &global {
            codenames.remove(c);
        }
        if !global.is_empty() && (codenames.is_empty() || query.any_perm) {
            return Ok(ObjectsPlan::Every);
        }
    }
    Ok(ObjectsPlan::Granted {
        require_all: !query.any_perm && codenames.len() > 1,
        codenames,
        use_groups: query.use_groups,
    })
}

impl ObjectsPlan {
    /// Whether an object whose rows grant `user` (the user's own codenames) and `group` (their
    /// groups') qualifies under this plan. The store uses it on the rows it read.
    pub fn admits<'a>(
        &self,
        user: impl IntoIterator<Item = &'a str>,
        group: impl IntoIterator<Item = &'a str>,
    ) -> bool {
        match self {
            Self::Every => true,
            Self::Granted {
                codenames,
                require_all,
                use_groups,
            } => {
                let mut held: BTreeSet<&str> = user.into_iter().collect();
                if *use_groups {
                    held.extend(group);
                }
                let wanted = |c: &&str| codenames.is_empty() || codenames.contains(*c);
                if *require_all {
                    codenames.iter().all(|c| held.contains(c.as_str()))
                } else {
                    held.iter().any(wanted)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use super::*;
    use crate::backend::UserPerms;
    use crate::index::{PermIndex, PermissionRow, PermissionSet};
    use crate::user::{Identity, UserFlags};
    use crate::UserId;

    fn index() -> Arc<PermIndex> {
        let rows = ["change_book", "view_book", "delete_book", "change_article"]
            .iter()
            .enumerate()
            .map(|(i, c)| PermissionRow {
                id: i as i64 + 1,
                app_label: "bookshelf".into(),
                codename: (*c).into(),
            })
            .collect::<Vec<_>>();
        Arc::new(PermIndex::new(rows))
    }

    fn user(active: bool, superuser: bool, global: &[&str]) -> Principal {
        let index = index();
        let ids = global.iter().map(|p| index.resolve(p).unwrap());
        let perms = UserPerms::new(PermissionSet::from_ids(ids), PermissionSet::empty());
        Principal::new(
            Identity::User(UserFlags {
                id: UserId::Int(1),
                username: "ann".into(),
                is_active: active,
                is_superuser: superuser,
                is_staff: false,
            }),
            Arc::new(perms),
            index,
        )
    }

    fn book() -> ObjectRef {
        ObjectRef::parse("bookshelf.book:42").unwrap()
    }

    #[test]
    fn object_names_parse_and_refuse_what_guardian_could_not_store() {
        let o = ObjectRef::parse("bookshelf.book:a:b").unwrap();
        assert_eq!(
            (o.app_label(), o.model(), o.pk()),
            ("bookshelf", "book", "a:b")
        );
        assert_eq!(o.to_string(), "bookshelf.book:a:b");
        for bad in [
            "bookshelf.book",
            "book:1",
            "bookshelf.book:",
            "bookshelf.Book:1",
            ".book:1",
        ] {
            assert!(ObjectRef::parse(bad).is_err(), "{bad}");
        }
        assert!(ObjectRef::parse(&format!("a.b:{}", "x".repeat(256))).is_err());
        assert!(ObjectRef::parse(&format!("a.b:{}", "x".repeat(255))).is_ok());
    }

    #[test]
    fn has_perm_follows_guardian() {
        let grants = ObjectGrants::new(["view_book"], ["change_book"]);
        let ann = user(true, false, &["bookshelf.delete_book"]);
        assert!(has_perm(&ann, &grants, "bookshelf.view_book", &book()).unwrap());
        assert!(has_perm(&ann, &grants, "change_book", &book()).unwrap());
        // Global permissions never grant an object.
        assert!(!has_perm(&ann, &grants, "bookshelf.delete_book", &book()).unwrap());
        assert!(!has_perm(&ann, &grants, "bookshelf.nonexistent", &book()).unwrap());
        assert!(matches!(
            has_perm(&ann, &grants, "auth.view_book", &book()),
            Err(Error::WrongApp { .. })
        ));
        let inactive = user(false, true, &[]);
        assert!(!has_perm(&inactive, &grants, "bookshelf.view_book", &book()).unwrap());
        assert!(has_perm(&inactive, &grants, "auth.x", &book()).is_err());
        let root = user(true, true, &[]);
        assert!(has_perm(&root, &ObjectGrants::none(), "auth.anything", &book()).unwrap());
    }

    #[test]
    fn has_perms_short_circuits_like_python() {
        let grants = ObjectGrants::new(["view_book"], Vec::<String>::new());
        let ann = user(true, false, &[]);
        let o = book();
        assert!(!has_perms(
            &ann,
            &grants,
            &["bookshelf.change_book", "auth.x"],
            &o,
            false
        )
        .unwrap());
        assert!(has_perms(&ann, &grants, &["bookshelf.view_book", "auth.x"], &o, false).is_err());
        assert!(has_perms(&ann, &grants, &["bookshelf.view_book", "auth.x"], &o, true).unwrap());
        assert!(has_perms::<&str>(&ann, &grants, &[], &o, false).unwrap());
        assert!(!has_perms::<&str>(&ann, &grants, &[], &o, true).unwrap());
    }

    #[test]
    fn get_perms_follows_guardian() {
        let grants = ObjectGrants::new(["view_book", "change_book"], ["change_book"]);
        let all = vec!["view_book".to_owned(), "add_book".to_owned()];
        assert_eq!(
            get_perms(&user(true, false, &[]), &grants, &all),
            ["change_book", "view_book"]
        );
        assert_eq!(
            get_perms(&user(true, true, &[]), &grants, &all),
            ["add_book", "view_book"]
        );
        assert!(get_perms(&user(false, true, &[]), &grants, &all).is_empty());
    }

    fn cts(app: &str, codename: &str) -> Vec<String> {
        match (app, codename) {
            ("bookshelf", c) if c.ends_with("_book") => vec!["book".into()],
            ("bookshelf", "change_article") => vec!["article".into()],
            _ => Vec::new(),
        }
    }

    #[test]
    fn planning_validates_before_looking_at_the_user() {
        let root = user(true, true, &[]);
        let q = ObjectsQuery::default();
        let plan = |perms: &[&str]| plan_objects(&root, perms, ("bookshelf", "book"), cts, q);
        assert!(matches!(
            plan(&["bookshelf.change_book", "auth.view_book"]),
            Err(Error::MixedContentType(_))
        ));
        assert!(matches!(
            plan(&["bookshelf.change_book", "bookshelf.change_article"]),
            Err(Error::MixedContentType(_))
        ));
        assert!(matches!(
            plan(&["bookshelf.change_article"]),
            Err(Error::MixedContentType(_))
        ));
        assert!(matches!(
            plan(&["bookshelf.nope"]),
            Err(Error::UnknownPermission { .. })
        ));
        // A bare codename before any dotted one is not looked up.
        assert_eq!(plan(&["nope"]).unwrap(), ObjectsPlan::Every);
    }

    #[test]
    fn planning_carries_global_permissions_over() {
        let model = ("bookshelf", "book");
        let ann = user(true, false, &["bookshelf.view_book"]);
        let q = ObjectsQuery::default();
        let perms = ["bookshelf.view_book", "bookshelf.change_book"];
        assert_eq!(
            plan_objects(&ann, &perms, model, cts, q).unwrap(),
            ObjectsPlan::Granted {
                codenames: ["change_book".to_owned()].into(),
                require_all: false,
                use_groups: true
            }
        );
        let any = ObjectsQuery {
            any_perm: true,
            ..q
        };
        assert_eq!(
            plan_objects(&ann, &perms, model, cts, any).unwrap(),
            ObjectsPlan::Every
        );
        let no_global = ObjectsQuery {
            accept_global_perms: false,
            ..q
        };
        let plan = plan_objects(&ann, &perms, model, cts, no_global).unwrap();
        assert!(matches!(
            plan,
            ObjectsPlan::Granted {
                require_all: true,
                ..
            }
        ));
        // The union of the user's and the groups' rows covers both.
        assert!(plan.admits(["view_book"], ["change_book"]));
        assert!(!plan.admits(["view_book"], []));
        // An inactive superuser still gets every object, unless with_superuser is off.
        let inactive_root = user(false, true, &[]);
        assert_eq!(
            plan_objects(&inactive_root, &perms, model, cts, q).unwrap(),
            ObjectsPlan::Every
        );
        let no_su = ObjectsQuery {
            with_superuser: false,
            ..q
        };
        assert!(matches!(
            plan_objects(&inactive_root, &perms, model, cts, no_su).unwrap(),
            ObjectsPlan::Granted { .. }
        ));
        // No codename: any row of the model.
        let plan = plan_objects::<&str>(&ann, &[], model, cts, q).unwrap();
        assert!(plan.admits(["whatever"], []));
        assert!(!plan.admits([], []));
    }
}
