//! Who holds a permission on one object (guardian's `get_users_with_perms`) and why one user does
//! or does not (`explain --object`).

use std::collections::BTreeSet;

use castellan_core::object_explain::{ObjectExplanation, ObjectProvenance};
use castellan_core::ObjectRef;

use crate::error::{Error, Result};
use crate::sql::{Row, Sql};
use crate::Store;

/// Users with a row of their own, or in a group with a row, granting `codename` on the object;
/// the names are compared again in Rust.
const HOLDERS: Sql = crate::sql!(
    "SELECT u.username AS name, u.is_active AS is_active, ct.app_label AS app_label, ct.model AS model, \
     g.object_pk AS object_pk, p.codename AS codename \
     FROM guardian_userobjectpermission g \
     JOIN auth_user u ON u.id = g.user_id \
     JOIN auth_permission p ON p.id = g.permission_id \
     JOIN django_content_type ct ON ct.id = g.content_type_id AND ct.id = p.content_type_id \
     WHERE ct.app_label = $1 AND ct.model = $2 AND g.object_pk = $3 AND p.codename = $4 \
     UNION ALL \
     SELECT u.username AS name, u.is_active AS is_active, ct.app_label AS app_label, ct.model AS model, \
     g.object_pk AS object_pk, p.codename AS codename \
     FROM guardian_groupobjectpermission g \
     JOIN auth_user_groups ug ON ug.group_id = g.group_id \
     JOIN auth_user u ON u.id = ug.guardian_member_id \
     JOIN auth_permission p ON p.id = g.permission_id \
     JOIN django_content_type ct ON ct.id = g.content_type_id AND ct.id = p.content_type_id \
     WHERE ct.app_label = $5 AND ct.model = $6 AND g.object_pk = $7 AND p.codename = $8"
);

const SUPERUSERS: Sql = crate::sql!(
    "SELECT username AS name, is_active AS is_active FROM auth_user WHERE is_superuser = TRUE"
);

/// The groups with a row granting `codename` on the object, and whether user `$1` is a member.
const GRANTING_GROUPS: Sql = crate::sql!(
    "SELECT gr.name AS name, \
     CASE WHEN EXISTS (SELECT 1 FROM auth_user_groups ug WHERE ug.group_id = gr.id AND ug.guardian_member_id = $1) THEN 1 ELSE 0 END AS member, \
     ct.app_label AS app_label, ct.model AS model, g.object_pk AS object_pk, p.codename AS codename \
     FROM guardian_groupobjectpermission g \
     JOIN auth_group gr ON gr.id = g.group_id \
     JOIN auth_permission p ON p.id = g.permission_id \
     JOIN django_content_type ct ON ct.id = g.content_type_id AND ct.id = p.content_type_id \
     WHERE ct.app_label = $2 AND ct.model = $3 AND g.object_pk = $4 AND p.codename = $5"
);

/// Every grant row on one object: `kind` 0 for a user's (`name`: the username), 1 for a group's.
const GRANTS_ON: Sql = crate::sql!(
    "SELECT 0 AS kind, u.username AS name, ct.app_label AS app_label, ct.model AS model, \
     g.object_pk AS object_pk, p.codename AS codename \
     FROM guardian_userobjectpermission g \
     JOIN auth_user u ON u.id = g.user_id \
     JOIN auth_permission p ON p.id = g.permission_id \
     JOIN django_content_type ct ON ct.id = g.content_type_id AND ct.id = p.content_type_id \
     WHERE ct.app_label = $1 AND ct.model = $2 AND g.object_pk = $3 \
     UNION ALL \
     SELECT 1 AS kind, gr.name AS name, ct.app_label AS app_label, ct.model AS model, \
     g.object_pk AS object_pk, p.codename AS codename \
     FROM guardian_groupobjectpermission g \
     JOIN auth_group gr ON gr.id = g.group_id \
     JOIN auth_permission p ON p.id = g.permission_id \
     JOIN django_content_type ct ON ct.id = g.content_type_id AND ct.id = p.content_type_id \
     WHERE ct.app_label = $4 AND ct.model = $5 AND g.object_pk = $6"
);

/// Every grant row, of users (`kind` 0) and groups (1), with the object's model.
const ALL_GRANTS: Sql = crate::sql!(
    "SELECT 0 AS kind, u.username AS name, ct.app_label AS app_label, ct.model AS model, \
     g.object_pk AS object_pk, p.codename AS codename \
     FROM guardian_userobjectpermission g \
     JOIN auth_user u ON u.id = g.user_id \
     JOIN auth_permission p ON p.id = g.permission_id \
     JOIN django_content_type ct ON ct.id = p.content_type_id \
     UNION ALL \
     SELECT 1 AS kind, gr.name AS name, ct.app_label AS app_label, ct.model AS model, \
     g.object_pk AS object_pk, p.codename AS codename \
     FROM guardian_groupobjectpermission g \
     JOIN auth_group gr ON gr.id = g.group_id \
     JOIN auth_permission p ON p.id = g.permission_id \
     JOIN django_content_type ct ON ct.id = p.content_type_id"
);

/// The statements of this module.
#[cfg(test)]
pub(crate) const STATEMENTS: &[Sql] =
    &[HOLDERS, SUPERUSERS, GRANTING_GROUPS, GRANTS_ON, ALL_GRANTS];

/// Every object grant as a capability `app_label.codename@app_label.model:pk`, per username and
/// per group name: what the admin's escalation rules count besides model permissions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectCapabilities {
    /// By username.
    pub users: std::collections::BTreeMap<String, Vec<String>>,
    /// By group name.
    pub groups: std::collections::BTreeMap<String, Vec<String>>,
}

impl ObjectCapabilities {
    /// The capability string of one grant.
    pub fn capability(perm: &str, obj: &ObjectRef) -> String {
        format!("{perm}@{obj}")
    }
}

/// The grants on one object, by holder (guardian's admin page).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectGrantList {
    /// `(username, codenames)`, by username; codenames sorted.
    pub users: Vec<(String, Vec<String>)>,
    /// `(group name, codenames)`, by name; codenames sorted.
    pub groups: Vec<(String, Vec<String>)>,
}

/// Whether a row is about exactly this object and codename (MariaDB compares without case).
fn same(r: &Row, obj: &ObjectRef, codename: &str) -> Result<bool> {
    Ok(r.text("app_label")? == obj.app_label()
        && r.text("model")? == obj.model()
        && r.text("object_pk")? == obj.pk()
        && r.text("codename")? == codename)
}

/// The codename of `perm` on `obj` (`app.codename` of the object's app, or a bare codename).
fn codename_on<'p>(perm: &'p str, obj: &ObjectRef) -> Result<&'p str> {
    match perm.split_once('.') {
        Some((app, codename)) if app == obj.app_label() => Ok(codename),
        Some((app, _)) => Err(castellan_core::Error::WrongApp {
            perm: perm.to_owned(),
            perm_app: app.to_owned(),
            object: obj.to_string(),
            object_app: obj.app_label().to_owned(),
        }
        .into()),
        None => Ok(perm),
    }
}

impl Store {
    /// The codename of `perm` on `obj`, which must name an existing permission of the object's
    /// app (another app's is guardian's `WrongAppError`).
    async fn known_codename<'p>(&self, perm: &'p str, obj: &ObjectRef) -> Result<&'p str> {
        let codename = codename_on(perm, obj)?;
        self.resolve_permissions(&[format!("{}.{codename}", obj.app_label())])
            .await?;
        Ok(codename)
    }

    /// Guardian's `get_users_with_perms(obj, only_with_perms_in=[perm], with_superusers=...)`:
    /// the usernames, sorted, of the users with a grant of `perm` on `obj` of their own or through
    /// a group, plus every superuser when `include_superusers`; guardian does not look at
    /// `is_active`, `active` filters when given. The permission and the object must exist.
    pub async fn object_holders(
        &self,
        perm: &str,
        obj: &ObjectRef,
        include_superusers: bool,
        active: Option<bool>,
    ) -> Result<Vec<String>> {
        let codename = self.known_codename(perm, obj).await?;
        self.require_object(obj).await?;
        self.require_guardian_tables().await?;
        let (app, model, pk) = (obj.app_label(), obj.model(), obj.pk());
        let args = [
            app.into(),
            model.into(),
            pk.into(),
            codename.into(),
            app.into(),
            model.into(),
            pk.into(),
            codename.into(),
        ];
        let mut names = BTreeSet::new();
        for r in self.guardian_db.fetch_all(&HOLDERS, &args).await? {
            if same(&r, obj, codename)?
                && active.is_none_or(|a| r.flag("is_active").is_ok_and(|f| f == a))
            {
                names.insert(r.text("name")?);
            }
        }
        if include_superusers {
            for r in self.guardian_db.fetch_all(&SUPERUSERS, &[]).await? {
                if active.is_none_or(|a| r.flag("is_active").is_ok_and(|f| f == a)) {
                    names.insert(r.text("name")?);
                }
            }
        }
        Ok(names.into_iter().collect())
    }

    /// Every object grant of every user and group, as capabilities (empty without guardian's
    /// tables). One statement.
    pub async fn object_capabilities(&self) -> Result<ObjectCapabilities> {
        let mut out = ObjectCapabilities::default();
        if !self.has_object_permissions().await? {
            return Ok(out);
        }
        for r in self.guardian_db.fetch_all(&ALL_GRANTS, &[]).await? {
            let app = r.text("app_label")?;
            let Ok(obj) = ObjectRef::new(app.clone(), r.text("model")?, r.text("object_pk")?)
            else {
                continue;
            };
            let cap =
                ObjectCapabilities::capability(&format!("{app}.{}", r.text("codename")?), &obj);
            let into = if r.int("kind")? == 0 {
                &mut out.users
            } else {
                &mut out.groups
            };
            into.entry(r.text("name")?).or_default().push(cap);
        }
        for caps in out.users.values_mut().chain(out.groups.values_mut()) {
            caps.sort();
            caps.dedup();
        }
        Ok(out)
    }

    /// Every grant on `obj`, by user and by group (codenames of the object's model).
    pub async fn object_grant_list(&self, obj: &ObjectRef) -> Result<ObjectGrantList> {
        self.require_guardian_tables().await?;
        let (app, model, pk) = (obj.app_label(), obj.model(), obj.pk());
        let args = [
            app.into(),
            model.into(),
            pk.into(),
            app.into(),
            model.into(),
            pk.into(),
        ];
        let mut users: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
        let mut groups: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
        for r in self.guardian_db.fetch_all(&GRANTS_ON, &args).await? {
            let codename = r.text("codename")?;
            if !same(&r, obj, &codename)? {
                continue;
            }
            let into = if r.int("kind")? == 0 {
                &mut users
            } else {
                &mut groups
            };
            into.entry(r.text("name")?).or_default().insert(codename);
        }
        let list = |m: std::collections::BTreeMap<String, BTreeSet<String>>| {
            m.into_iter()
                .map(|(k, v)| (k, v.into_iter().collect()))
                .collect()
        };
        Ok(ObjectGrantList {
            users: list(users),
            groups: list(groups),
        })
    }

    /// Why `username` has or lacks `perm` on `obj`. The permission must exist and be of the
    /// object's app; the object must exist.
    pub async fn explain_object(
        &self,
        username: &str,
        perm: &str,
        obj: &ObjectRef,
    ) -> Result<ObjectExplanation> {
        let codename = self.known_codename(perm, obj).await?;
        let (who, grants) = self.object_principal(username, obj).await?;
        let id = who.identity().id().ok_or_else(|| Error::NotFound {
            what: "user",
            name: username.to_owned(),
        })?;
        let args = [
            id.into(),
            obj.app_label().into(),
            obj.model().into(),
            obj.pk().into(),
            codename.into(),
        ];
        let mut granting_groups = Vec::new();
        for r in self.guardian_db.fetch_all(&GRANTING_GROUPS, &args).await? {
            if same(&r, obj, codename)? {
                granting_groups.push((r.text("name")?, r.int("member")? == 1));
            }
        }
        granting_groups.sort();
        let provenance = ObjectProvenance {
            direct: grants.user().any(|c| c == codename),
            granting_groups,
        };
        Ok(ObjectExplanation::new(
            &who,
            &grants,
            perm,
            obj,
            &provenance,
        ))
    }
}
