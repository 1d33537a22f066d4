//! Groups: list, create, rename, delete, permissions edited through the picker with a review
//! step that shows what will be added and removed before anything is saved, and members added and
//! removed under the user page's rules.

use axum::extract::{Path, Query};
use axum::response::Response;
use axum::Form;
use castellan_store::{GroupState, UserEdit};
use http::StatusCode;
use minijinja::value::Serde;
use minijinja::{context, Value};

use castellan_axum::messages;

use crate::access::{segment, Staff};
use crate::crumbs::Crumbs;
use crate::error::AdminError;
use crate::forms::FormData;
use crate::links::group as group_url;
use crate::respond::{page, redirect};
use crate::saving::{deleted_message, SaveButton, BUTTONS};
use crate::views::picker::{picker, submitted_change, PickerFilter};

/// Home › Authentication and Authorization › Groups.
fn crumbs(staff: &Staff) -> Crumbs {
    Crumbs::app(staff, "auth").link("Groups", staff.url("/auth/group/"))
}

/// Home › … › Groups › `name`.
fn group_crumbs(staff: &Staff, name: &str) -> Crumbs {
    crumbs(staff).link(name.to_owned(), group_url(staff, name, "change"))
}

/// `GET /auth/group/`.
pub(crate) async fn list(staff: Staff) -> Result<Response, AdminError> {
    staff.require_any(&["auth.view_group", "auth.change_group"])?;
    let groups: Vec<_> = staff
        .site
        .store
        .groups_with_permissions()
        .await?
        .into_iter()
        .map(|(name, perms)| {
            context! { url => group_url(&staff, &name, "change"), count => perms.len(), name }
        })
        .collect();
    page(
        &staff,
        "group_list.html",
        StatusCode::OK,
        context! {
            groups, can_add => staff.has("auth.add_group"),
            crumbs => Crumbs::app(&staff, "auth").here("Groups").value(),
        },
    )
}

fn add_page(
    staff: &Staff,
    status: StatusCode,
    errors: Vec<String>,
    name: &str,
) -> Result<Response, AdminError> {
    page(
        staff,
        "group_add.html",
        status,
        context! { errors, name, crumbs => crumbs(staff).here("Add group").value() },
    )
}

/// `GET /auth/group/add/`.
pub(crate) async fn add_form(staff: Staff) -> Result<Response, AdminError> {
    staff.require("auth.add_group")?;
    add_page(&staff, StatusCode::OK, Vec::new(), "")
}

/// `POST /auth/group/add/`.
pub(crate) async fn add(
    staff: Staff,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AdminError> {
    staff.require("auth.add_group")?;
    let mut allowed = vec!["name"];
    allowed.extend(BUTTONS);
    let form = FormData(form).only(&allowed)?;
    let name = form.text("name");
    let problems = staff.rights().await?.check_group_create(&name);
    if !problems.is_empty() {
        return Err(AdminError::Forbidden(format!(
            "Nothing was saved. {}",
            problems.join(" ")
        )));
    }
    match staff.store().create_group(&name).await {
        Ok(g) => {
            // A new group has no permissions yet: "Save" goes on to its page, as "continue".
            let button = SaveButton::of(&form).after_add_to_its_page();
            messages::success(&staff.auth, button.message("group", &g.name, true));
            let change = group_url(&staff, &g.name, "change");
            Ok(redirect(button.next(
                &change,
                &change,
                &staff.url("/auth/group/add/"),
            )))
        }
        Err(e) if e.is_input() => {
            add_page(&staff, StatusCode::BAD_REQUEST, vec![e.to_string()], &name)
        }
        Err(e) => Err(e.into()),
    }
}

async fn load(staff: &Staff, name: &str) -> Result<GroupState, AdminError> {
    staff
        .site
        .store
        .group_state(name)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("No group named {name:?}.")))
}

async fn change_page(
    staff: &Staff,
    state: &GroupState,
    filter: PickerFilter,
    status: StatusCode,
    errors: Vec<String>,
) -> Result<Response, AdminError> {
    let all = staff.site.store.permissions(None).await?;
    let rights = staff.rights().await?;
    let trusted_by: Vec<String> = rights
        .trusted
        .sources(&state.name)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let members: Vec<_> = state
        .members
        .iter()
        .map(|m| context! { name => m, url => staff.url(&format!("/auth/user/{}/change/", segment(m))) })
        .collect();
    page(
        staff,
        "group_change.html",
        status,
        context! {
            name => &state.name, version => &state.version, permissions => &state.permissions,
            members, errors,
            crumbs => crumbs(staff).here(state.name.clone()).value(),
            history_url => group_url(staff, &state.name, "history"),
            picker => Value::from(Serde(picker(&all, &state.permissions, filter, &|p| rights.may_change_perm(p)))),
            trusted_by,
            can_change => staff.has("auth.change_group"),
            can_delete => staff.has("auth.delete_group"),
            can_view_users => staff.can_view("auth", "user"),
            can_change_members => staff.has(&staff.user_perm("change")),
            members_action => group_url(staff, &state.name, "members"),
            action => group_url(staff, &state.name, "change"),
            rename_url => group_url(staff, &state.name, "rename"),
            delete_url => group_url(staff, &state.name, "delete"),
        },
    )
}

/// `GET /auth/group/{name}/change/` (the picker filters by `app`, `model`, `q`).
pub(crate) async fn change_form(
    staff: Staff,
    Path(name): Path<String>,
    Query(filter): Query<PickerFilter>,
) -> Result<Response, AdminError> {
    staff.require_any(&["auth.view_group", "auth.change_group"])?;
    let state = load(&staff, &name).await?;
    change_page(&staff, &state, filter, StatusCode::OK, Vec::new()).await
}

/// The end of a versioned save: Django's message, then the list ("Save") or back to the group
/// (`button` "Save and continue editing"), or the 409 [`conflict`] page when the group changed
/// since the form was opened.
async fn after_save<T>(
    staff: &Staff,
    name: &str,
    button: SaveButton,
    saved: Result<T, castellan_store::Error>,
) -> Result<Response, AdminError> {
    match saved {
        Ok(_) => {
            let button = if button == SaveButton::Save {
                SaveButton::Save
            } else {
                SaveButton::Continue
            };
            messages::success(&staff.auth, button.message("group", name, false));
            let change = group_url(staff, name, "change");
            let list = staff.url("/auth/group/");
            Ok(redirect(button.next(&list, &change, &change)))
        }
        Err(castellan_store::Error::Conflict(msg)) => conflict(staff, name, msg).await,
        Err(e) => Err(e.into()),
    }
}

/// A stale version: 409 with the current state and what to do.
async fn conflict(staff: &Staff, name: &str, message: String) -> Result<Response, AdminError> {
    let current = load(staff, name).await?;
    change_page(
        staff,
        &current,
        PickerFilter::default(),
        StatusCode::CONFLICT,
        vec![message],
    )
    .await
}

/// `POST /auth/group/{name}/change/`: `step=review` shows the additions and removals the picker
/// asks for; `step=save` applies the reviewed `add`/`remove` lists if the version still matches.
pub(crate) async fn change(
    staff: Staff,
    Path(name): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AdminError> {
    staff.require("auth.change_group")?;
    let form = FormData(form).only(&[
        "step",
        "version",
        "perm",
        "shown_perm",
        "add",
        "remove",
        "_save",
        "_continue",
    ])?;
    let state = load(&staff, &name).await?;
    let version = form.text("version");
    let rights = staff.rights().await?;
    match form.get("step") {
        Some("review") => {
            if version != state.version {
                return conflict(&staff, &name, stale(&name)).await;
            }
            let (add, remove) = submitted_change(&form, &state.permissions);
            let problems = rights.check_perm_change(&add, &remove);
            page(
                &staff,
                "group_review.html",
                if problems.is_empty() {
                    StatusCode::OK
                } else {
                    StatusCode::FORBIDDEN
                },
                context! {
                    name => &name, version, add, remove, problems,
                    crumbs => group_crumbs(&staff, &name).here("Review changes").value(),
                    action => group_url(&staff, &name, "change"),
                    back => group_url(&staff, &name, "change"),
                },
            )
        }
        Some("save") => {
            let (add, remove) = (form.all("add"), form.all("remove"));
            let problems = rights.check_perm_change(&add, &remove);
            if !problems.is_empty() {
                return Err(AdminError::Forbidden(format!(
                    "Nothing was saved. {}",
                    problems.join(" ")
                )));
            }
            let saved = staff
                .store()
                .apply_group_edit(&name, &version, &add, &remove)
                .await;
            after_save(&staff, &name, SaveButton::of(&form), saved).await
        }
        _ => Err(AdminError::BadRequest(
            "The form must say step=review or step=save; nothing was saved.".into(),
        )),
    }
}

fn stale(name: &str) -> String {
    format!(
        "Group {name:?} was changed by someone else since you opened it; nothing was saved. Review its current permissions and apply your change again."
    )
}

/// `POST /auth/group/{name}/rename/`.
pub(crate) async fn rename(
    staff: Staff,
    Path(name): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AdminError> {
    staff.require("auth.change_group")?;
    let form = FormData(form).only(&["new_name", "version"])?;
    let new = form.text("new_name");
    let state = load(&staff, &name).await?;
    let problems = staff
        .rights()
        .await?
        .check_group_rename(&name, &state.permissions, &new);
    if !problems.is_empty() {
        return Err(AdminError::Forbidden(format!(
            "Nothing was saved. {}",
            problems.join(" ")
        )));
    }
    // The rules were judged on `state`: the rename happens only if the group is still so (the
    // form's version must be that state's; the write quotes the state's own).
    if form.get("version").is_some_and(|v| v != state.version) {
        return conflict(&staff, &name, stale(&name)).await;
    }
    match staff
        .store()
        .rename_group_at_version(&name, &new, &state.version)
        .await
    {
        Ok(()) => {
            messages::success(
                &staff.auth,
                format!("The group “{name}” was renamed to “{new}”."),
            );
            Ok(redirect(&group_url(&staff, &new, "change")))
        }
        Err(castellan_store::Error::Conflict(msg)) => conflict(&staff, &name, msg).await,
        Err(e) if e.is_input() => {
            change_page(
                &staff,
                &state,
                PickerFilter::default(),
                StatusCode::BAD_REQUEST,
                vec![e.to_string()],
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /auth/group/{name}/delete/`.
pub(crate) async fn delete_form(
    staff: Staff,
    Path(name): Path<String>,
) -> Result<Response, AdminError> {
    staff.require("auth.delete_group")?;
    let state = load(&staff, &name).await?;
    let problems = staff
        .rights()
        .await?
        .check_group_caps(&name, &state.permissions, "delete");
    if !problems.is_empty() {
        return Err(AdminError::Forbidden(problems.join(" ")));
    }
    page(
        &staff,
        "confirm_delete.html",
        StatusCode::OK,
        context! {
            kind => "group", object => &state.name, version => &state.version,
            crumbs => group_crumbs(&staff, &name).here("Delete").value(),
            detail => format!("{} members lose the {} permissions it grants.", state.members.len(), state.permissions.len()),
            action => group_url(&staff, &name, "delete"),
            back => group_url(&staff, &name, "change"),
            errors => Vec::<String>::new(),
        },
    )
}

/// `POST /auth/group/{name}/delete/`.
pub(crate) async fn delete(
    staff: Staff,
    Path(name): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AdminError> {
    staff.require("auth.delete_group")?;
    let form = FormData(form).only(&["version"])?;
    let state = load(&staff, &name).await?;
    let problems = staff
        .rights()
        .await?
        .check_group_caps(&name, &state.permissions, "delete");
    if !problems.is_empty() {
        return Err(AdminError::Forbidden(format!(
            "Nothing was deleted. {}",
            problems.join(" ")
        )));
    }
    // Judged on `state`: deleted only if still so.
    if form.get("version").is_some_and(|v| v != state.version) {
        return conflict(&staff, &name, stale(&name)).await;
    }
    match staff
        .store()
        .delete_group_at_version(&name, &state.version)
        .await
    {
        Ok(()) => {
            messages::success(&staff.auth, deleted_message("group", &name));
            Ok(redirect(&staff.url("/auth/group/")))
        }
        Err(castellan_store::Error::Conflict(msg)) => conflict(&staff, &name, msg).await,
        Err(e) => Err(e.into()),
    }
}

/// `POST /auth/group/{name}/members/`: `add` (usernames, several per field separated by spaces or
/// commas) and `remove` (usernames) under the user page's rules — `auth.change_user`; a
/// non-superuser cannot change their own memberships, cannot touch a superuser or a user holding
/// a permission they lack, and can add users only to a group whose permissions they all hold.
/// The checks run on the states whose versions the store re-checks inside its transaction.
pub(crate) async fn members(
    staff: Staff,
    Path(name): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AdminError> {
    staff.require(&staff.user_perm("change"))?;
    let form = FormData(form).only(&["version", "add", "remove"])?;
    let state = load(&staff, &name).await?;
    let mut add: Vec<String> = form
        .all("add")
        .iter()
        .flat_map(|v| v.split([',', ' ', '\n', '\r', '\t']))
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect();
    add.sort();
    add.dedup();
    let remove = form.all("remove");
    if let Some(both) = add.iter().find(|u| remove.contains(u)) {
        return Err(AdminError::BadRequest(format!(
            "{both:?} is both added and removed; nothing was saved."
        )));
    }
    if add.is_empty() && remove.is_empty() {
        messages::info(&staff.auth, "No members were added or removed.");
        return Ok(redirect(&group_url(&staff, &name, "change")));
    }
    let store = &staff.site.store;
    let groups = store.groups_with_permissions().await?;
    let rights = staff.rights().await?;
    let mut problems = Vec::new();
    let mut versions = Vec::new();
    for (list, adding) in [(&add, true), (&remove, false)] {
        for username in list {
            let Some(target) = store.user_state(username).await? else {
                return Err(AdminError::BadRequest(format!(
                    "There is no user named {username:?}; nothing was saved."
                )));
            };
            let edit = UserEdit {
                add_groups: if adding {
                    vec![name.clone()]
                } else {
                    Vec::new()
                },
                remove_groups: if adding {
                    Vec::new()
                } else {
                    vec![name.clone()]
                },
                ..Default::default()
            };
            problems.extend(rights.check_user_edit(&target, &edit, &groups));
            versions.push((username.clone(), target.version));
        }
    }
    if !problems.is_empty() {
        problems.dedup();
        return Err(AdminError::Forbidden(format!(
            "Nothing was saved. {}",
            problems.join(" ")
        )));
    }
    // The rules read the group's permissions from `groups`: they must be `state`'s, whose version
    // the write quotes; and the form must have been made on that state.
    if form.get("version") != Some(state.version.as_str())
        || crate::grants::Rights::group_perms(&groups, &name) != state.permissions.as_slice()
    {
        return conflict(&staff, &name, stale(&name)).await;
    }
    let saved = staff
        .store()
        .apply_group_members(&name, &state.version, &add, &remove, &versions)
        .await;
    after_save(&staff, &name, SaveButton::Continue, saved).await
}
