//! The object-permissions page of a registered model's object (django-guardian's admin): who holds
//! which of the model's permissions on this one object, and a form to grant or revoke them for a
//! user or a group.
//!
//! The admin's escalation rules hold on one object too. The page needs the change permission on
//! the object (as its change page). A staff member grants or revokes only permissions they hold
//! **on that object** (a superuser, a global holder, or a django-guardian grant of their own or of
//! one of their groups); never their own object permissions; never those of a superuser or of a
//! user holding rights they lack (the admin's rule 3, object grants included).
//! Every name is checked before anything is written; one refusal writes nothing.

use axum::extract::Path;
use axum::response::Response;
use axum::Form;
use castellan_core::object_perms::{self, ObjectRef};
use castellan_store::ObjectHolder;
use http::StatusCode;
use minijinja::context;

use crate::access::Staff;
use crate::crumbs::Crumbs;
use crate::error::AdminError;
use crate::links;
use crate::model_admin::ModelAdmin;
use crate::respond::{page, redirect};
use crate::views::models::{forbidden, model, object};

/// The object of a registered model, as guardian names it.
fn object_ref(m: &dyn ModelAdmin, id: &str) -> Result<ObjectRef, AdminError> {
    ObjectRef::new(m.app_label(), m.model_name(), id)
        .map_err(|e| AdminError::NotFound(format!("No such object: {e}")))
}

/// The page's object, if the staff member may change it (as its change page requires).
async fn target(
    staff: &Staff,
    app: &str,
    name: &str,
    id: &str,
) -> Result<
    (
        std::sync::Arc<dyn ModelAdmin>,
        crate::model_admin::Object,
        ObjectRef,
    ),
    AdminError,
> {
    let m = model(staff, app, name)?;
    let o = object(m.as_ref(), id).await?;
    if !m.has_change_permission(&staff.principal, Some(&o)) {
        return Err(forbidden("change", m.as_ref()));
    }
    let obj = object_ref(m.as_ref(), &o.id)?;
    Ok((m, o, obj))
}

/// Whether the staff member holds `codename` of the object's model on that object.
async fn holds(staff: &Staff, obj: &ObjectRef, codename: &str) -> Result<bool, AdminError> {
    let perm = format!("{}.{codename}", obj.app_label());
    if staff.is_superuser() || staff.has(&perm) {
        return Ok(true);
    }
    let grants = staff.site.store.object_grants(staff.user.id, obj).await?;
    Ok(object_perms::has_perm(&staff.principal, &grants, &perm, obj).unwrap_or(false))
}

/// `GET /{app}/{model}/{id}/permissions/`.
pub(crate) async fn form(
    staff: Staff,
    Path((app, name, id)): Path<(String, String, String)>,
) -> Result<Response, AdminError> {
    let (m, o, obj) = target(&staff, &app, &name, &id).await?;
    if !staff.site.store.has_object_permissions().await? {
        return Err(AdminError::NotFound(
            "This database has no object permissions (django-guardian's tables): run `castellan migrate --object-permissions`.".into(),
        ));
    }
    let grants = staff.site.store.object_grant_list(&obj).await?;
    let codenames = staff
        .site
        .store
        .model_codenames(obj.app_label(), obj.model())
        .await?;
    let mut choices = Vec::new();
    for c in &codenames {
        let held = holds(&staff, &obj, c).await?;
        choices.push(context! { codename => c, perm => format!("{app}.{c}"), held });
    }
    let change_url = links::model_object(&staff, m.as_ref(), &o.id, "change");
    let crumbs = Crumbs::app(&staff, &app)
        .link(
            m.verbose_name_plural(),
            links::model_list(&staff, m.as_ref()),
        )
        .link(o.label.clone(), change_url.clone())
        .here("Object permissions");
    page(
        &staff,
        "object_permissions.html",
        StatusCode::OK,
        context! {
            crumbs => crumbs.value(),
            label => o.label, change_url, object => obj.to_string(),
            users => grants.users, groups => grants.groups, choices,
        },
    )
}

/// `POST /{app}/{model}/{id}/permissions/`: `kind` (`user` or `group`), `name`, `perm`
/// (codenames, repeatable), `action` (`grant` or `revoke`).
pub(crate) async fn change(
    staff: Staff,
    Path((app, name, id)): Path<(String, String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AdminError> {
    let (m, o, obj) = target(&staff, &app, &name, &id).await?;
    let field = |key: &str| {
        form.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let (kind, target, action) = (field("kind"), field("name"), field("action"));
    let perms: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "perm")
        .map(|(_, v)| v.clone())
        .collect();
    if perms.is_empty() {
        return Err(AdminError::BadRequest(
            "Choose at least one permission.".into(),
        ));
    }
    let grant = match action.as_str() {
        "grant" => true,
        "revoke" => false,
        _ => {
            return Err(AdminError::BadRequest(
                "The action must be grant or revoke.".into(),
            ))
        }
    };
    let codenames = staff
        .site
        .store
        .model_codenames(obj.app_label(), obj.model())
        .await?;
    for p in &perms {
        if !codenames.contains(p) {
            return Err(AdminError::BadRequest(format!(
                "{p:?} is not a permission of {app}.{name}."
            )));
        }
        if !holds(&staff, &obj, p).await? {
            return Err(AdminError::Forbidden(format!(
                "You may grant or revoke only what you hold on this object, and you do not hold {app}.{p} on it."
            )));
        }
    }
    let holder = match kind.as_str() {
        "user" => {
            if target == staff.user.username {
                return Err(AdminError::Forbidden(
                    "You cannot change your own object permissions; ask another administrator."
                        .into(),
                ));
            }
            let Some(state) = staff.site.store.user_state(&target).await? else {
                return Err(AdminError::BadRequest(format!(
                    "There is no user named {target:?}."
                )));
            };
            // Rule 3: never a superuser's, nor a user's who holds rights the editor lacks
            // (object grants included).
            let groups = staff.site.store.groups_with_permissions().await?;
            let problems = staff.rights().await?.may_touch(&state, &groups);
            if !problems.is_empty() {
                return Err(AdminError::Forbidden(problems.join(" ")));
            }
            ObjectHolder::User(&target)
        }
        "group" => {
            if staff.site.store.group_state(&target).await?.is_none() {
                return Err(AdminError::BadRequest(format!(
                    "There is no group named {target:?}."
                )));
            }
            ObjectHolder::Group(&target)
        }
        _ => return Err(AdminError::BadRequest("Choose a user or a group.".into())),
    };
    let qualified: Vec<String> = perms.iter().map(|c| format!("{app}.{c}")).collect();
    let store = staff.store();
    let n = if grant {
        store.grant_object_perms(holder, &qualified, &obj).await?
    } else {
        store.revoke_object_perms(holder, &qualified, &obj).await?
    };
    let who = match holder {
        ObjectHolder::User(u) => format!("user “{u}”"),
        ObjectHolder::Group(g) => format!("group “{g}”"),
    };
    let done = if grant { "granted to" } else { "revoked from" };
    castellan_axum::messages::success(
        &staff.auth,
        format!("{n} permission(s) on “{}” {done} {who}.", o.label),
    );
    Ok(redirect(&links::model_object(
        &staff,
        m.as_ref(),
        &o.id,
        "permissions",
    )))
}
