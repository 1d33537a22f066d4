//! The backend chain (Django's `test_auth_backends.py`, spec §9 T1–T2, T20–T29), without a database.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests panic on failed set-up.

use std::collections::BTreeSet;
use std::sync::Arc;

use castellan_core::{
    Backends, Error, Identity, ModelBackend, Outcome, PermIndex, PermObject, PermissionBackend,
    PermissionRow, Principal, UserFlags, UserPerms,
};

fn index() -> Arc<PermIndex> {
    Arc::new(PermIndex::new([PermissionRow {
        id: 1,
        app_label: "auth".into(),
        codename: "test".into(),
    }]))
}

fn user(name: &str, active: bool, superuser: bool, grants: &[i64]) -> Principal {
    let idx = index();
    let perms = UserPerms::new(
        idx.set_from_rows(grants.iter().copied()),
        Default::default(),
    );
    Principal::new(
        Identity::User(UserFlags {
            id: castellan_core::UserId::Int(1),
            username: name.into(),
            is_active: active,
            is_superuser: superuser,
            is_staff: false,
        }),
        Arc::new(perms),
        idx,
    )
}

struct TestObj;
impl PermObject for TestObj {
    fn app_label(&self) -> &str {
        "app1"
    }
    fn model_name(&self) -> &str {
        "testobj"
    }
    fn object_pk(&self) -> String {
        "1".into()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// T1/T2: a backend that only lists permissions (BaseBackend defaults do the rest).
struct Simple;
impl PermissionBackend for Simple {
    fn name(&self) -> &str {
        "simple"
    }
    fn get_user_permissions(&self, _: &Principal, _: Option<&dyn PermObject>) -> BTreeSet<String> {
        set(&["user_perm"])
    }
    fn get_group_permissions(&self, _: &Principal, _: Option<&dyn PermObject>) -> BTreeSet<String> {
        set(&["group_perm"])
    }
}

#[test]
fn base_backend_defaults() {
    let chain = Backends::new(vec![Arc::new(Simple)]);
    let u = user("u", true, false, &[]);
    assert_eq!(
        chain.get_user_permissions(&u, None).unwrap(),
        set(&["user_perm"])
    );
    assert_eq!(
        chain.get_group_permissions(&u, None).unwrap(),
        set(&["group_perm"])
    );
    assert_eq!(
        chain.get_all_permissions(&u, None).unwrap(),
        set(&["user_perm", "group_perm"])
    );
    assert!(chain.has_perm(&u, "user_perm", None).unwrap());
    assert!(chain.has_perm(&u, "group_perm", None).unwrap());
    assert!(!chain.has_perm(&u, "other_perm", Some(&TestObj)).unwrap());
    // BaseBackend has no with_perm: Django returns an empty queryset (T47).
    assert!(chain.with_perm_backend(None).unwrap().is_none());
}

/// T20–T23, T25: a row-level backend granting per object.
struct RowLevel;
impl PermissionBackend for RowLevel {
    fn name(&self) -> &str {
        "rowlevel"
    }
    fn has_perm(&self, who: &Principal, perm: &str, obj: Option<&dyn PermObject>) -> Outcome {
        let Some(obj) = obj else {
            return Outcome::Abstain;
        };
        if obj.as_any().downcast_ref::<TestObj>().is_none() {
            return Outcome::Abstain;
        }
        let granted = match who.identity() {
            Identity::Anonymous => perm == "anon",
            Identity::User(u) if !u.is_active => perm == "inactive",
            Identity::User(u) => {
                u.username == "test2" || (u.username == "test1" && perm == "simple")
            }
        };
        granted.into()
    }
    fn has_module_perms(&self, who: &Principal, app_label: &str) -> Outcome {
        (who.identity().is_anonymous() && app_label == "app1").into()
    }
    fn get_all_permissions(
        &self,
        who: &Principal,
        obj: Option<&dyn PermObject>,
    ) -> BTreeSet<String> {
        if obj.is_none() {
            return BTreeSet::new();
        }
        match who.identity() {
            Identity::Anonymous => set(&["anon"]),
            Identity::User(u) if u.username == "test2" => set(&["simple", "advanced"]),
            _ => set(&["simple"]),
        }
    }
    fn get_group_permissions(
        &self,
        who: &Principal,
        obj: Option<&dyn PermObject>,
    ) -> BTreeSet<String> {
        if obj.is_some() && who.identity().username() == "test3" {
            set(&["group_perm"])
        } else {
            BTreeSet::new()
        }
    }
}

#[test]
fn row_level_backend_with_model_backend() {
    let chain = Backends::new(vec![Arc::new(ModelBackend), Arc::new(RowLevel)]);
    let user2 = user("test2", true, false, &[]);
    let user3 = user("test3", true, false, &[]);
    assert!(chain.has_perm(&user2, "perm", Some(&TestObj)).unwrap());
    assert!(!chain.has_perm(&user2, "perm", None).unwrap());
    assert!(chain
        .has_perms(&user2, &["simple", "advanced"], Some(&TestObj))
        .unwrap());
    assert!(!chain.has_perm(&user3, "perm", Some(&TestObj)).unwrap());
    assert!(!chain
        .has_perms(&user3, &["simple", "advanced"], Some(&TestObj))
        .unwrap());
    let user1 = user("test1", true, false, &[]);
    assert_eq!(
        chain.get_all_permissions(&user1, Some(&TestObj)).unwrap(),
        set(&["simple"])
    );
    assert_eq!(
        chain.get_all_permissions(&user2, Some(&TestObj)).unwrap(),
        set(&["simple", "advanced"])
    );
    assert!(chain.get_all_permissions(&user2, None).unwrap().is_empty());
    assert_eq!(
        chain.get_group_permissions(&user3, Some(&TestObj)).unwrap(),
        set(&["group_perm"])
    );
}

#[test]
fn custom_backends_may_grant_anonymous_and_inactive_users() {
    let chain = Backends::new(vec![Arc::new(RowLevel)]);
    let anon = Principal::anonymous(index());
    assert!(chain.has_perm(&anon, "anon", Some(&TestObj)).unwrap());
    assert!(!chain.has_perm(&anon, "perm", Some(&TestObj)).unwrap());
    assert!(chain.has_perms(&anon, &["anon"], Some(&TestObj)).unwrap());
    assert!(!chain
        .has_perms(&anon, &["anon", "perm"], Some(&TestObj))
        .unwrap());
    assert!(chain.has_module_perms(&anon, "app1").unwrap());
    assert!(!chain.has_module_perms(&anon, "app2").unwrap());
    assert_eq!(
        chain.get_all_permissions(&anon, Some(&TestObj)).unwrap(),
        set(&["anon"])
    );
    let inactive = user("sleepy", false, false, &[]);
    assert!(chain
        .has_perm(&inactive, "inactive", Some(&TestObj))
        .unwrap());
    assert!(!chain.has_perm(&inactive, "perm", Some(&TestObj)).unwrap());
    assert!(!chain.has_module_perms(&inactive, "app1").unwrap());
}

#[test]
fn empty_chain_is_an_error() {
    // T24.
    let chain = Backends::new(vec![]);
    let u = user("u", true, false, &[1]);
    assert!(matches!(
        chain.has_perm(&u, "auth.test", None),
        Err(Error::NoBackends)
    ));
    assert!(matches!(
        chain.get_all_permissions(&u, None),
        Err(Error::NoBackends)
    ));
}

/// T26–T29: a backend that raises PermissionDenied.
struct Denier;
impl PermissionBackend for Denier {
    fn name(&self) -> &str {
        "denier"
    }
    fn has_perm(&self, _: &Principal, _: &str, _: Option<&dyn PermObject>) -> Outcome {
        Outcome::Deny
    }
    fn has_module_perms(&self, _: &Principal, _: &str) -> Outcome {
        Outcome::Deny
    }
}

#[test]
fn permission_denied_stops_the_walk_only_when_reached() {
    let u = user("test", true, false, &[1]);
    let prepended = Backends::new(vec![Arc::new(Denier), Arc::new(ModelBackend)]);
    assert!(!prepended.has_perm(&u, "auth.test", None).unwrap());
    assert!(!prepended.has_module_perms(&u, "auth").unwrap());
    let appended = Backends::new(vec![Arc::new(ModelBackend), Arc::new(Denier)]);
    assert!(appended.has_perm(&u, "auth.test", None).unwrap());
    assert!(appended.has_module_perms(&u, "auth").unwrap());
    // The active superuser shortcut is taken before any backend (spec §11.9).
    let root = user("root", true, true, &[]);
    assert!(prepended.has_perm(&root, "made.up", None).unwrap());
}

#[test]
fn with_perm_backend_choice() {
    // T49: several backends and none named.
    let chain = Backends::new(vec![Arc::new(ModelBackend), Arc::new(Simple)]);
    assert!(chain.with_perm_backend(None).is_err());
    assert!(chain
        .with_perm_backend(Some(ModelBackend::NAME))
        .unwrap()
        .is_some());
    assert!(chain.with_perm_backend(Some("simple")).unwrap().is_none());
    assert!(chain.with_perm_backend(Some("invalid.backend.X")).is_err());
}

#[test]
fn fast_path_equals_the_default_chain() {
    let chain = Backends::default();
    for (active, superuser, grants) in [
        (true, false, &[1][..]),
        (false, false, &[1]),
        (true, true, &[]),
        (false, true, &[]),
    ] {
        let u = user("u", active, superuser, grants);
        for perm in ["auth.test", "auth.other", "made.up", "test"] {
            assert_eq!(
                u.has_perm(perm),
                chain.has_perm(&u, perm, None).unwrap(),
                "{perm} {active} {superuser}"
            );
        }
        for app in ["auth", "Auth", "nothing"] {
            assert_eq!(
                u.has_module_perms(app),
                chain.has_module_perms(&u, app).unwrap(),
                "{app}"
            );
        }
        assert_eq!(
            u.get_all_permissions().into_iter().collect::<BTreeSet<_>>(),
            chain.get_all_permissions(&u, None).unwrap()
        );
    }
}
