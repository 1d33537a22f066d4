//! Permission backends and the chain that asks them, with Django's exact rules.
//!
//! * [`Principal`] is the subject of a check: its [`Identity`] (flags read fresh) and its loaded model
//!   permissions. Its methods are the fast path, identical in outcome to the default chain
//!   (`[ModelBackend]`).
//! * [`PermissionBackend`] is Django's duck-typed backend protocol as a trait whose defaults do what
//!   Django's `BaseBackend` does; [`Backends`] walks a chain the way `PermissionsMixin` does: the active
//!   superuser shortcut first, then the first backend that grants wins, a [`Outcome::Deny`]
//!   (`PermissionDenied`) stops the walk.
//! * Object-level checks take an optional [`PermObject`]. The model backend never answers for objects;
//!   object backends (guardian-style rows, rules) do.

use std::any::Any;
use std::collections::BTreeSet;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::index::{PermId, PermIndex, PermissionSet};
use crate::user::Identity;

/// The model (global) permissions loaded for one user: its direct ones, those of its groups, and
/// their union (what checks look at).
///
/// The sets are reference-counted so that users holding equal sets hold one copy: a cache hands
/// [`UserPerms::shared`] the copies it keeps (the members of the same groups share their group
/// set, and, when they hold nothing directly, their union, which is then that same set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserPerms {
    user: Arc<PermissionSet>,
    group: Arc<PermissionSet>,
    all: Arc<PermissionSet>,
}

impl UserPerms {
    /// The permissions from `auth_user_user_permissions` and from the user's groups.
    pub fn new(user: PermissionSet, group: PermissionSet) -> Self {
        Self::shared(Arc::new(user), Arc::new(group), Arc::new)
    }

    /// Over sets that may be shared with other users; `intern` gives the union its copy when
    /// neither set is empty (otherwise the union is the other set, shared as well).
    pub fn shared(
        user: Arc<PermissionSet>,
        group: Arc<PermissionSet>,
        intern: impl FnOnce(PermissionSet) -> Arc<PermissionSet>,
    ) -> Self {
        let all = if user.is_empty() {
            Arc::clone(&group)
        } else if group.is_empty() {
            Arc::clone(&user)
        } else {
            intern(user.union(&group))
        };
        Self { user, group, all }
    }

    /// No permissions (the anonymous user, or a user with none).
    pub fn empty() -> Self {
        Self::default()
    }

    /// Direct permissions.
    pub fn user(&self) -> &PermissionSet {
        &self.user
    }

    /// Permissions through groups.
    pub fn group(&self) -> &PermissionSet {
        &self.group
    }

    /// Direct ∪ group.
    pub fn all(&self) -> &PermissionSet {
        &self.all
    }

    /// Whether either source holds `id`.
    #[inline]
    pub fn contains(&self, id: PermId) -> bool {
        self.all.contains(id)
    }

    /// The three sets as held (the same allocation may come more than once: compare with
    /// [`Arc::ptr_eq`] to count memory).
    pub fn sets(&self) -> [&Arc<PermissionSet>; 3] {
        [&self.user, &self.group, &self.all]
    }
}

/// An object for object-level checks (Django's `obj` argument).
pub trait PermObject: Any + Send + Sync {
    /// The object's content type app label, e.g. `bookshelf`.
    fn app_label(&self) -> &str;
    /// The object's model name, e.g. `book`.
    fn model_name(&self) -> &str;
    /// The primary key as text (guardian's `object_pk`).
    fn object_pk(&self) -> String;
    /// For backends that need the concrete type.
    fn as_any(&self) -> &dyn Any;
}

/// The subject of permission checks: who, and the model permissions loaded for them.
#[derive(Debug, Clone)]
pub struct Principal {
    identity: Identity,
    perms: Arc<UserPerms>,
    index: Arc<PermIndex>,
}

impl Principal {
    /// A user (or anonymous) with its loaded permissions and the index the ids come from.
    pub fn new(identity: Identity, perms: Arc<UserPerms>, index: Arc<PermIndex>) -> Self {
        Self {
            identity,
            perms,
            index,
        }
    }

    /// The anonymous user.
    pub fn anonymous(index: Arc<PermIndex>) -> Self {
        Self::new(Identity::Anonymous, Arc::new(UserPerms::empty()), index)
    }

    /// Who this is.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The permission index.
    pub fn index(&self) -> &Arc<PermIndex> {
        &self.index
    }

    /// The loaded model permissions (what the model backend sees when the user is active).
    pub fn loaded(&self) -> &Arc<UserPerms> {
        &self.perms
    }

    /// Whether the model backend considers the permissions at all: active and not anonymous.
    fn model_perms_apply(&self) -> bool {
        self.identity.is_active()
    }

    /// `user.has_perm(perm)` with the default backend chain: an active superuser has every permission
    /// (any string); an inactive or anonymous user none; otherwise direct ∪ group permissions, by exact
    /// string. An unknown name is `false`.
    #[inline]
    pub fn has_perm(&self, perm: &str) -> bool {
        if self.identity.is_active_superuser() {
            return true;
        }
        if !self.model_perms_apply() {
            return false;
        }
        match self.index.resolve(perm) {
            Some(id) => self.perms.contains(id),
            None => {
                unknown_permission(perm);
                false
            }
        }
    }

    /// [`Principal::has_perm`] for a pre-resolved id (from [`PermIndex::resolve`] on the same index).
    #[inline]
    pub fn has_perm_id(&self, id: PermId) -> bool {
        self.identity.is_active_superuser() || (self.model_perms_apply() && self.perms.contains(id))
    }

    /// `user.has_perms(list)`: every one of them (an empty list is true).
    pub fn has_perms<S: AsRef<str>>(&self, perms: &[S]) -> bool {
        perms.iter().all(|p| self.has_perm(p.as_ref()))
    }

    /// `user.has_module_perms(app_label)`: any held permission whose text before the first dot equals
    /// `app_label` exactly (an active superuser: any label).
    pub fn has_module_perms(&self, app_label: &str) -> bool {
        if self.identity.is_active_superuser() {
            return true;
        }
        if !self.model_perms_apply() {
            return false;
        }
        let range = self.index.app_range(app_label);
        self.perms.all.intersects_range(range)
    }

    /// `get_user_permissions()` (sorted): a superuser's is every permission, as in Django.
    pub fn get_user_permissions(&self) -> Vec<String> {
        self.source_names(|p| &p.user)
    }

    /// `get_group_permissions()` (sorted): a superuser's is every permission, as in Django.
    pub fn get_group_permissions(&self) -> Vec<String> {
        self.source_names(|p| &p.group)
    }

    /// `get_all_permissions()` (sorted): direct ∪ group; a superuser's is every permission.
    pub fn get_all_permissions(&self) -> Vec<String> {
        self.all_set().names(&self.index)
    }

    /// The effective set as ids (every id for an active superuser, nothing when inactive).
    pub fn all_set(&self) -> PermissionSet {
        if !self.model_perms_apply() {
            PermissionSet::empty()
        } else if self.identity.is_superuser() {
            self.index.all()
        } else {
            PermissionSet::clone(&self.perms.all)
        }
    }

    fn source_names(&self, pick: impl Fn(&UserPerms) -> &PermissionSet) -> Vec<String> {
        if !self.model_perms_apply() {
            Vec::new()
        } else if self.identity.is_superuser() {
            self.index.all().names(&self.index)
        } else {
            pick(&self.perms).names(&self.index)
        }
    }
}

/// An unknown name in a run-time check is `false`, as in Django, but it is a bug worth seeing.
#[cold]
fn unknown_permission(perm: &str) {
    tracing::warn!(
        permission = perm,
        "has_perm asked about a permission that does not exist; answering false"
    );
}

/// A backend's answer to `has_perm` / `has_module_perms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Truthy: grant, and stop asking.
    Grant,
    /// Falsy: ask the next backend.
    Abstain,
    /// Raised `PermissionDenied`: deny, and stop asking.
    Deny,
}

impl From<bool> for Outcome {
    fn from(b: bool) -> Self {
        if b {
            Self::Grant
        } else {
            Self::Abstain
        }
    }
}

/// A permission backend. Every method has Django's `BaseBackend` default, so a backend implements only
/// what it knows. All calls are synchronous over data loaded beforehand (the store loads a
/// [`Principal`] in one query; an object backend loads its rows or evaluates predicates).
pub trait PermissionBackend: Send + Sync {
    /// A stable name, used to pick a backend for `with_perm` (Django's dotted path).
    fn name(&self) -> &str;

    /// Direct permissions for `obj` (or model-level when `None`).
    fn get_user_permissions(
        &self,
        _who: &Principal,
        _obj: Option<&dyn PermObject>,
    ) -> BTreeSet<String> {
        BTreeSet::new()
    }

    /// Group-derived permissions.
    fn get_group_permissions(
        &self,
        _who: &Principal,
        _obj: Option<&dyn PermObject>,
    ) -> BTreeSet<String> {
        BTreeSet::new()
    }

    /// Direct ∪ group.
    fn get_all_permissions(
        &self,
        who: &Principal,
        obj: Option<&dyn PermObject>,
    ) -> BTreeSet<String> {
        let mut all = self.get_user_permissions(who, obj);
        all.extend(self.get_group_permissions(who, obj));
        all
    }

    /// Membership in [`PermissionBackend::get_all_permissions`].
    fn has_perm(&self, who: &Principal, perm: &str, obj: Option<&dyn PermObject>) -> Outcome {
        self.get_all_permissions(who, obj).contains(perm).into()
    }

    /// `BaseBackend` has no `has_module_perms`: abstaining is the same as not having it.
    fn has_module_perms(&self, _who: &Principal, _app_label: &str) -> Outcome {
        Outcome::Abstain
    }

    /// Whether this backend answers `with_perm` (Django: has a `with_perm` method). The store runs the
    /// model backend's query for it; other backends keep the default (no `with_perm`: no users).
    fn supports_with_perm(&self) -> bool {
        false
    }
}

/// Django's `ModelBackend`: the `auth_*` tables, loaded into the [`Principal`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ModelBackend;

impl ModelBackend {
    /// Django's dotted path, used as this backend's name.
    pub const NAME: &'static str = "django.contrib.auth.backends.ModelBackend";
}

impl PermissionBackend for ModelBackend {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn get_user_permissions(
        &self,
        who: &Principal,
        obj: Option<&dyn PermObject>,
    ) -> BTreeSet<String> {
        if obj.is_some() {
            return BTreeSet::new();
        }
        who.get_user_permissions().into_iter().collect()
    }

    fn get_group_permissions(
        &self,
        who: &Principal,
        obj: Option<&dyn PermObject>,
    ) -> BTreeSet<String> {
        if obj.is_some() {
            return BTreeSet::new();
        }
        who.get_group_permissions().into_iter().collect()
    }

    fn get_all_permissions(
        &self,
        who: &Principal,
        obj: Option<&dyn PermObject>,
    ) -> BTreeSet<String> {
        if obj.is_some() {
            return BTreeSet::new();
        }
        who.get_all_permissions().into_iter().collect()
    }

    fn has_perm(&self, who: &Principal, perm: &str, obj: Option<&dyn PermObject>) -> Outcome {
        if obj.is_some() || !who.identity().is_active() {
            return Outcome::Abstain;
        }
        let granted = if who.identity().is_superuser() {
            // Superuser (not through the shortcut, e.g. via the chain): every existing row.
            who.index().resolve(perm).is_some()
        } else {
            who.index()
                .resolve(perm)
                .is_some_and(|id| who.loaded().contains(id))
        };
        granted.into()
    }

    fn has_module_perms(&self, who: &Principal, app_label: &str) -> Outcome {
        if !who.identity().is_active() {
            return Outcome::Abstain;
        }
        if who.identity().is_superuser() {
            let (start, end) = who.index().app_range(app_label);
            return (start < end).into();
        }
        who.has_module_perms(app_label).into()
    }

    fn supports_with_perm(&self) -> bool {
        true
    }
}

/// An ordered chain of backends (Django's `AUTHENTICATION_BACKENDS`).
#[derive(Clone)]
pub struct Backends {
    chain: Vec<Arc<dyn PermissionBackend>>,
}

impl std::fmt::Debug for Backends {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.chain.iter().map(|b| b.name()))
            .finish()
    }
}

impl Default for Backends {
    /// `[ModelBackend]`, Django's default.
    fn default() -> Self {
        Self::new(vec![Arc::new(ModelBackend)])
    }
}

impl Backends {
    /// A chain in the given order (may be empty; every check then fails with [`Error::NoBackends`]).
    pub fn new(chain: Vec<Arc<dyn PermissionBackend>>) -> Self {
        Self { chain }
    }

    /// The backends, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn PermissionBackend>> {
        self.chain.iter()
    }

    fn non_empty(&self) -> Result<&[Arc<dyn PermissionBackend>]> {
        if self.chain.is_empty() {
            Err(Error::NoBackends)
        } else {
            Ok(&self.chain)
        }
    }

    /// `user.has_perm(perm, obj)`: an active superuser is granted anything at once; otherwise the
    /// first backend that grants wins, and one that denies stops the walk with `false`.
    pub fn has_perm(
        &self,
        who: &Principal,
        perm: &str,
        obj: Option<&dyn PermObject>,
    ) -> Result<bool> {
        let chain = self.non_empty()?;
        if who.identity().is_active_superuser() {
            return Ok(true);
        }
        Ok(walk(chain, |b| b.has_perm(who, perm, obj)))
    }

    /// `user.has_perms(list, obj)`: all of them; stops at the first `false`; empty → true.
    pub fn has_perms<S: AsRef<str>>(
        &self,
        who: &Principal,
        perms: &[S],
        obj: Option<&dyn PermObject>,
    ) -> Result<bool> {
        for p in perms {
            if !self.has_perm(who, p.as_ref(), obj)? {
                return Ok(false);
            }
        }
        self.non_empty()?;
        Ok(true)
    }

    /// `user.has_module_perms(app_label)`.
    pub fn has_module_perms(&self, who: &Principal, app_label: &str) -> Result<bool> {
        let chain = self.non_empty()?;
        if who.identity().is_active_superuser() {
            return Ok(true);
        }
        Ok(walk(chain, |b| b.has_module_perms(who, app_label)))
    }

    /// `user.get_user_permissions(obj)`: the union over every backend (no superuser shortcut).
    pub fn get_user_permissions(
        &self,
        who: &Principal,
        obj: Option<&dyn PermObject>,
    ) -> Result<BTreeSet<String>> {
        self.union(|b| b.get_user_permissions(who, obj))
    }

    /// `user.get_group_permissions(obj)`: the union over every backend; empty for the anonymous user
    /// without asking anyone, as in Django.
    pub fn get_group_permissions(
        &self,
        who: &Principal,
        obj: Option<&dyn PermObject>,
    ) -> Result<BTreeSet<String>> {
        if who.identity().is_anonymous() {
            self.non_empty()?;
            return Ok(BTreeSet::new());
        }
        self.union(|b| b.get_group_permissions(who, obj))
    }

    /// `user.get_all_permissions(obj)`: the union over every backend.
    pub fn get_all_permissions(
        &self,
        who: &Principal,
        obj: Option<&dyn PermObject>,
    ) -> Result<BTreeSet<String>> {
        self.union(|b| b.get_all_permissions(who, obj))
    }

    fn union(
        &self,
        f: impl Fn(&dyn PermissionBackend) -> BTreeSet<String>,
    ) -> Result<BTreeSet<String>> {
        let mut out = BTreeSet::new();
        for b in self.non_empty()? {
            out.extend(f(b.as_ref()));
        }
        Ok(out)
    }

    /// The backend that answers `with_perm`: the named one, or the only one. `Ok(None)` means the
    /// chosen backend has no `with_perm` (Django returns an empty queryset).
    pub fn with_perm_backend(&self, name: Option<&str>) -> Result<Option<&dyn PermissionBackend>> {
        let chain = self.non_empty()?;
        let backend = match name {
            Some(name) => chain
                .iter()
                .find(|b| b.name() == name)
                .ok_or_else(|| Error::InvalidName {
                    what: "backend",
                    value: name.to_owned(),
                    reason: "no backend with that name is in the chain".to_owned(),
                })?,
            None if chain.len() == 1 => &chain[0],
            None => {
                return Err(Error::InvalidName {
                    what: "backend",
                    value: String::new(),
                    reason: "You have multiple authentication backends configured and therefore must provide the `backend` argument.".to_owned(),
                })
            }
        };
        Ok(backend.supports_with_perm().then_some(backend.as_ref()))
    }
}

fn walk(
    chain: &[Arc<dyn PermissionBackend>],
    ask: impl Fn(&dyn PermissionBackend) -> Outcome,
) -> bool {
    for backend in chain {
        match ask(backend.as_ref()) {
            Outcome::Grant => return true,
            Outcome::Deny => return false,
            Outcome::Abstain => {}
        }
    }
    false
}

/// The arguments of `User.objects.with_perm` ("which users have permission X").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithPerm {
    /// The app label of the permission.
    pub app_label: String,
    /// The codename of the permission.
    pub codename: String,
    /// `Some(flag)` filters on `is_active`; `None` does not filter. Django's default: `Some(true)`.
    pub is_active: Option<bool>,
    /// Whether superusers are included whatever they hold. Django's default: true.
    pub include_superusers: bool,
}

impl WithPerm {
    /// Parses the permission with Django's `with_perm` rule: split on `.` into exactly two parts,
    /// else "Permission name should be in the form app_label.permission_codename.".
    pub fn new(perm: &str) -> Result<Self> {
        let mut parts = perm.split('.');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(app_label), Some(codename), None) => Ok(Self {
                app_label: app_label.to_owned(),
                codename: codename.to_owned(),
                is_active: Some(true),
                include_superusers: true,
            }),
            _ => Err(Error::MalformedPermission {
                name: perm.to_owned(),
                reason: "Permission name should be in the form app_label.permission_codename."
                    .to_owned(),
            }),
        }
    }

    /// Sets the `is_active` filter.
    pub fn is_active(mut self, is_active: Option<bool>) -> Self {
        self.is_active = is_active;
        self
    }

    /// Sets `include_superusers`.
    pub fn include_superusers(mut self, include: bool) -> Self {
        self.include_superusers = include;
        self
    }

    /// The permission string.
    pub fn perm(&self) -> String {
        format!("{}.{}", self.app_label, self.codename)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[u32]) -> Arc<PermissionSet> {
        Arc::new(PermissionSet::from_ids(ids.iter().map(|&i| PermId(i))))
    }

    #[test]
    fn the_union_is_a_shared_set_when_one_side_is_empty() {
        let group = set(&[1, 2, 3]);
        let none = set(&[]);
        let only_groups = UserPerms::shared(Arc::clone(&none), Arc::clone(&group), Arc::new);
        assert!(Arc::ptr_eq(only_groups.sets()[2], &group));
        let only_direct = UserPerms::shared(Arc::clone(&group), Arc::clone(&none), Arc::new);
        assert!(Arc::ptr_eq(only_direct.sets()[2], &group));
        let mut interned = 0;
        let both = UserPerms::shared(set(&[7]), Arc::clone(&group), |all| {
            interned += 1;
            Arc::new(all)
        });
        assert_eq!(interned, 1);
        assert!(both.contains(PermId(7)) && both.contains(PermId(2)));
        assert!(!both.contains(PermId(4)));
        assert_eq!(
            both,
            UserPerms::new(PermissionSet::from_ids([PermId(7)]), (*group).clone())
        );
    }
}
