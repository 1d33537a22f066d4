//! Bulk actions on the user list (Django's changelist actions): delete the selected users (after
//! a confirmation page listing what goes), activate or deactivate them, add them to a group or
//! remove them from one. Every selected user is judged by the same rules as the single-user
//! pages; if any user is refused, nothing is written and the page says why for each. The change is
//! written in one transaction, only if every user (and the group) is still as judged, with one
//! audit entry per user and change.

use axum::response::Response;
use axum::Form;
use castellan_axum::messages;
use castellan_store::{UserEdit, UserState, VersionedEdit};
use http::StatusCode;
use minijinja::context;

use crate::access::Staff;
use crate::crumbs::Crumbs;
use crate::error::AdminError;
use crate::forms::FormData;
use crate::links;
use crate::respond::{page, redirect};

/// The most users one action takes (a page of the list holds 100).
const MAX_SELECTED: usize = 500;

/// What an action does to each selected user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Delete,
    Activate,
    Deactivate,
    AddToGroup,
    RemoveFromGroup,
}

impl Action {
    fn parse(name: &str) -> Result<Self, AdminError> {
        Ok(match name {
            "delete_selected" => Self::Delete,
            "activate" => Self::Activate,
            "deactivate" => Self::Deactivate,
            "add_to_group" => Self::AddToGroup,
            "remove_from_group" => Self::RemoveFromGroup,
            "" => {
                return Err(AdminError::BadRequest(
                    "Choose an action for the selected users; nothing was changed.".into(),
                ))
            }
            other => {
                return Err(AdminError::BadRequest(format!(
                    "There is no action {other:?}; nothing was changed."
                )))
            }
        })
    }
}

/// Users by name, loaded with their versions, in the order given; an unknown name is a 400.
async fn load_all(staff: &Staff, names: &[String]) -> Result<Vec<UserState>, AdminError> {
    let mut states = Vec::with_capacity(names.len());
    for name in names {
        let state = staff.site.store.user_state(name).await?.ok_or_else(|| {
            AdminError::BadRequest(format!(
                "There is no user named {name:?} (deleted meanwhile?); nothing was changed."
            ))
        })?;
        states.push(state);
    }
    Ok(states)
}

/// The refusal naming every problem, with nothing written.
fn refused(problems: Vec<String>) -> AdminError {
    let mut problems = problems;
    problems.dedup();
    AdminError::Forbidden(format!(
        "Nothing was changed: the action is refused for some of the selected users. {}",
        problems.join(" ")
    ))
}

/// `POST /auth/user/`: `action` on the users listed in `_selected_action`.
pub(crate) async fn run(
    staff: Staff,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AdminError> {
    staff.require_view_users()?;
    let form = FormData(form).only(&["action", "_selected_action", "group", "post", "_version"])?;
    let action = Action::parse(form.get("action").unwrap_or("").trim())?;
    let mut selected: Vec<String> = form
        .0
        .iter()
        .filter(|(k, _)| k == "_selected_action")
        .map(|(_, v)| v.clone())
        .collect();
    if selected.is_empty() {
        // Django's words, as a warning on the list.
        messages::warning(
            &staff.auth,
            "Items must be selected in order to perform actions on them. No items have been changed.",
        );
        return Ok(redirect(&staff.url("/auth/user/")));
    }
    if selected.len() > MAX_SELECTED {
        return Err(AdminError::BadRequest(format!(
            "At most {MAX_SELECTED} users can be changed at once; nothing was changed."
        )));
    }
    let versions: Vec<String> = form
        .0
        .iter()
        .filter(|(k, _)| k == "_version")
        .map(|(_, v)| v.clone())
        .collect();
    let confirmed = form.get("post") == Some("yes");
    // The confirmation page pairs each user with the version it showed.
    let shown: Option<Vec<(String, String)>> = if confirmed {
        if versions.len() != selected.len() {
            return Err(AdminError::BadRequest(
                "The confirmation form lost its versions; nothing was deleted. Select the users again.".into(),
            ));
        }
        Some(selected.iter().cloned().zip(versions).collect())
    } else {
        None
    };
    let mut seen = std::collections::HashSet::new();
    selected.retain(|u| seen.insert(u.clone()));
    let states = load_all(&staff, &selected).await?;
    let groups = staff.site.store.groups_with_permissions().await?;
    let rights = staff.rights().await?;
    let store = staff.store();
    let count = states.len();
    let noun = if count == 1 { "user" } else { "users" };
    match action {
        Action::Delete => {
            staff.require(&staff.user_perm("delete"))?;
            let problems: Vec<String> = states
                .iter()
                .flat_map(|s| rights.may_touch(s, &groups))
                .collect();
            if !problems.is_empty() {
                return Err(refused(problems));
            }
            let Some(shown) = shown else {
                return confirm_delete(&staff, &states);
            };
            // Delete exactly what the confirmation page showed, and only if each user is still
            // as shown and as judged just now: the posted version must be the loaded state's,
            // and the write quotes the loaded state's own (never a version the client chose).
            for (username, version) in &shown {
                let current = states.iter().find(|s| s.user.username == *username);
                if current.is_none_or(|s| s.version != *version) {
                    return Err(AdminError::Store(castellan_store::Error::Conflict(format!(
                        "User {username:?} was changed by someone else since the confirmation page was shown; nothing was deleted. Select the users again."
                    ))));
                }
            }
            let pairs: Vec<(&str, &str)> = states
                .iter()
                .map(|s| (s.user.username.as_str(), s.version.as_str()))
                .collect();
            outcome(
                &staff,
                store.delete_users_at_versions(&pairs).await,
                format!("Successfully deleted {count} {noun}."),
            )
        }
        Action::Activate | Action::Deactivate => {
            staff.require(&staff.user_perm("change"))?;
            let active = action == Action::Activate;
            let edit = UserEdit {
                is_active: Some(active),
                ..UserEdit::default()
            };
            let verb = if active { "activated" } else { "deactivated" };
            apply(
                &staff,
                &states,
                &edit,
                &rights,
                &groups,
                format!("Successfully {verb} {count} {noun}."),
            )
            .await
        }
        Action::AddToGroup | Action::RemoveFromGroup => {
            staff.require(&staff.user_perm("change"))?;
            let group = form.text("group");
            if !groups.iter().any(|(g, _)| *g == group) {
                return Err(AdminError::BadRequest(if group.is_empty() {
                    "Choose the group for this action; nothing was changed.".to_owned()
                } else {
                    format!("There is no group {group:?}; nothing was changed.")
                }));
            }
            let adding = action == Action::AddToGroup;
            let edit = UserEdit {
                add_groups: if adding {
                    vec![group.clone()]
                } else {
                    Vec::new()
                },
                remove_groups: if adding {
                    Vec::new()
                } else {
                    vec![group.clone()]
                },
                ..UserEdit::default()
            };
            let problems: Vec<String> = states
                .iter()
                .flat_map(|s| rights.check_user_edit(s, &edit, &groups))
                .collect();
            if !problems.is_empty() {
                return Err(refused(problems));
            }
            // The group too must still be as judged: its permissions decide who may fill it.
            let Some(group_state) = staff.site.store.group_state(&group).await? else {
                return Err(AdminError::BadRequest(format!(
                    "There is no group {group:?}; nothing was changed."
                )));
            };
            if group_state.permissions != crate::grants::Rights::group_perms(&groups, &group) {
                return Err(AdminError::Store(castellan_store::Error::Conflict(format!(
                    "The group {group:?} was changed while the action was checked; nothing was changed. Try again."
                ))));
            }
            let names: Vec<String> = states.iter().map(|s| s.user.username.clone()).collect();
            let versions: Vec<(String, String)> = states
                .iter()
                .map(|s| (s.user.username.clone(), s.version.clone()))
                .collect();
            let (add, remove) = if adding {
                (names, Vec::new())
            } else {
                (Vec::new(), names)
            };
            let result = store
                .apply_group_members(&group, &group_state.version, &add, &remove, &versions)
                .await;
            let verb = if adding { "added to" } else { "removed from" };
            outcome(
                &staff,
                result.map(|_| ()),
                format!("Successfully {verb} the group “{group}”: {count} {noun}."),
            )
        }
    }
}

/// Checks `edit` on every user, then applies it to all in one transaction.
async fn apply(
    staff: &Staff,
    states: &[UserState],
    edit: &UserEdit,
    rights: &crate::grants::Rights,
    groups: &crate::grants::GroupPerms,
    done: String,
) -> Result<Response, AdminError> {
    let problems: Vec<String> = states
        .iter()
        .flat_map(|s| rights.check_user_edit(s, edit, groups))
        .collect();
    if !problems.is_empty() {
        return Err(refused(problems));
    }
    let edits: Vec<VersionedEdit<'_>> = states
        .iter()
        .map(|s| VersionedEdit {
            username: &s.user.username,
            version: &s.version,
            edit,
        })
        .collect();
    outcome(staff, staff.store().apply_user_edits(&edits).await, done)
}

/// The list with `done` as a success message, or the store's refusal (409 for a user changed
/// meanwhile or the last active superuser), nothing written.
fn outcome(
    staff: &Staff,
    result: Result<(), castellan_store::Error>,
    done: String,
) -> Result<Response, AdminError> {
    result?;
    messages::success(&staff.auth, done);
    Ok(redirect(&staff.url("/auth/user/")))
}

/// Django's "Are you sure?" page: every user that goes, with what goes with them.
fn confirm_delete(staff: &Staff, states: &[UserState]) -> Result<Response, AdminError> {
    let users: Vec<_> = states
        .iter()
        .map(|s| {
            context! {
                username => &s.user.username, version => &s.version,
                url => links::user(staff, &s.user.username, "change"),
                groups => &s.groups, permissions => s.permissions.len(),
                is_staff => s.user.is_staff, is_superuser => s.user.is_superuser,
            }
        })
        .collect();
    page(
        staff,
        "user_delete_selected.html",
        StatusCode::OK,
        context! {
            users,
            crumbs => Crumbs::app(staff, "auth")
                .link("Users", staff.url("/auth/user/"))
                .here("Delete multiple users")
                .value(),
        },
    )
}
