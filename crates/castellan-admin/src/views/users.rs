//! Users: the searchable, filterable, paginated list; create; change (flags, groups, direct
//! permissions, with effective permissions and their provenance); set password; delete.

use axum::extract::{Path, Query};
use axum::response::Response;
use axum::Form;
use castellan_core::UserAttributes;
use castellan_store::{NewUser, UserEdit, UserQuery, UserSort, UserState};
use http::StatusCode;
use minijinja::value::Serde;
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};

use castellan_axum::views::password_reset::{send_reset_email, ResetLinks};

use castellan_axum::messages;

use crate::access::{segment, Staff};
use crate::crumbs::Crumbs;
use crate::error::AdminError;
use crate::forms::FormData;
use crate::respond::{page, redirect};
use crate::saving::{deleted_message, SaveButton, BUTTONS};
use crate::times;
use crate::views::picker::{picker, submitted_change, PickerFilter};

/// The list's query parameters.
#[derive(Debug, Default, Deserialize, Serialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    active: String,
    #[serde(default)]
    staff: String,
    #[serde(default)]
    superuser: String,
    #[serde(default)]
    after: String,
    /// The order: a column name, `-` in front for descending (`-date_joined`).
    #[serde(default)]
    o: String,
}

/// The list's columns: (sort key, heading).
const COLUMNS: [(UserSort, &str); 6] = [
    (UserSort::Username, "Username"),
    (UserSort::Email, "E-mail"),
    (UserSort::FirstName, "Name"),
    (UserSort::IsActive, "Active"),
    (UserSort::IsStaff, "Staff"),
    (UserSort::IsSuperuser, "Superuser"),
];

/// The order asked for by `o`.
fn order(o: &str) -> Result<(UserSort, bool), AdminError> {
    let (descending, name) = match o.trim().strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, o.trim()),
    };
    if name.is_empty() {
        return Ok((UserSort::Username, descending));
    }
    UserSort::from_column(name)
        .map(|s| (s, descending))
        .ok_or_else(|| {
            AdminError::BadRequest(format!(
                "The list cannot be ordered by {name:?}; use one of its columns."
            ))
        })
}

fn tri(v: &str) -> Result<Option<bool>, AdminError> {
    match v {
        "" => Ok(None),
        "1" | "true" | "yes" => Ok(Some(true)),
        "0" | "false" | "no" => Ok(Some(false)),
        other => Err(AdminError::BadRequest(format!(
            "A filter takes 1 or 0, not {other:?}."
        ))),
    }
}

fn query_string(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", segment(v)))
        .collect::<Vec<_>>()
        .join("&")
}

use crate::links::user as user_url;

/// The user model's name in messages and headings ("user", or a custom model's name).
fn kind(staff: &Staff) -> String {
    staff.site.store.user_schema().model().model_name()
}

/// Home › Authentication and Authorization › Users (the index lists users under `auth`).
fn crumbs(staff: &Staff) -> Crumbs {
    Crumbs::app(staff, "auth").link("Users", staff.url("/auth/user/"))
}

/// `GET /auth/user/`.
pub(crate) async fn list(staff: Staff, Query(q): Query<ListQuery>) -> Result<Response, AdminError> {
    staff.require_view_users()?;
    let (sort, descending) = order(&q.o)?;
    let query = UserQuery {
        sort,
        descending,
        search: Some(q.q.clone()).filter(|s| !s.trim().is_empty()),
        group: Some(q.group.clone()).filter(|s| !s.is_empty()),
        is_active: tri(&q.active)?,
        is_staff: tri(&q.staff)?,
        is_superuser: tri(&q.superuser)?,
        after: Some(q.after.clone()).filter(|s| !s.is_empty()),
        limit: 100,
    };
    let store = staff.store();
    let page_data = store.user_page(&query).await?;
    let groups: Vec<String> = store.groups().await?.into_iter().map(|g| g.name).collect();
    let filters = [
        ("q", q.q.as_str()),
        ("group", q.group.as_str()),
        ("active", q.active.as_str()),
        ("staff", q.staff.as_str()),
        ("superuser", q.superuser.as_str()),
        ("o", q.o.as_str()),
    ];
    // Each heading orders by its column; the current one flips the direction.
    let columns: Vec<_> = COLUMNS
        .iter()
        .map(|(key, label)| {
            let sorted = *key == sort && (sort != UserSort::Username || !q.o.is_empty());
            let next = if sorted && !descending {
                format!("-{}", key.column())
            } else {
                key.column().to_owned()
            };
            let mut pairs: Vec<(&str, &str)> =
                filters.iter().filter(|(k, _)| *k != "o").copied().collect();
            pairs.push(("o", &next));
            context! {
                key => key.column(), label => *label, sorted, descending => sorted && descending,
                url => format!("?{}", query_string(&pairs)),
            }
        })
        .collect();
    let next_url = page_data.next.as_ref().map(|n| {
        let mut pairs = filters.to_vec();
        pairs.push(("after", n.as_str()));
        format!("?{}", query_string(&pairs))
    });
    let first_url = (!q.after.is_empty()).then(|| format!("?{}", query_string(&filters)));
    let users: Vec<_> = page_data
        .users
        .iter()
        .map(|u| {
            context! {
                username => &u.username, email => &u.email, first_name => &u.first_name,
                last_name => &u.last_name, is_active => u.is_active, is_staff => u.is_staff,
                is_superuser => u.is_superuser, url => user_url(&staff, &u.username, "change"),
            }
        })
        .collect();
    page(
        &staff,
        "user_list.html",
        StatusCode::OK,
        context! {
            crumbs => Crumbs::app(&staff, "auth").here("Users").value(),
            users, groups, q => Value::from(Serde(&q)), next_url, first_url, columns,
            total => page_data.total, more_than_total => page_data.more_than_total,
            can_add => staff.can_add_users(),
            can_change => staff.has(&staff.user_perm("change")),
            can_delete => staff.has(&staff.user_perm("delete")),
        },
    )
}

fn require_add(staff: &Staff) -> Result<(), AdminError> {
    staff.require(&staff.user_perm("add"))?;
    staff.require(&staff.user_perm("change"))
}

fn add_page(
    staff: &Staff,
    status: StatusCode,
    errors: Vec<String>,
    form: &FormData,
) -> Result<Response, AdminError> {
    let store = staff.store();
    let schema = store.user_schema();
    let username_field = schema.model().username_field();
    let own_fields: Vec<minijinja::Value> = schema
        .required_fields()
        .map(|c| {
            context! {
                name => format!("field.{}", c.name),
                label => castellan_store::UserSchema::field_label(&c.name),
                value => form.text(&format!("field.{}", c.name)),
            }
        })
        .collect();
    page(
        staff,
        "user_add.html",
        status,
        context! {
            errors, crumbs => crumbs(staff).here(format!("Add {}", kind(staff))).value(),
            new_username => form.text("username"), email => form.text("email"),
            first_name => form.text("first_name"), last_name => form.text("last_name"),
            username_label => castellan_store::UserSchema::field_label(username_field),
            username_is_email => username_field == "email",
            has_email => schema.has_column("email") && username_field != "email",
            has_names => schema.has_column("first_name") && schema.has_column("last_name"),
            has_staff => schema.has_staff_flag(),
            own_fields,
        },
    )
}

/// `GET /auth/user/add/`.
pub(crate) async fn add_form(staff: Staff) -> Result<Response, AdminError> {
    require_add(&staff)?;
    add_page(&staff, StatusCode::OK, Vec::new(), &FormData::default())
}

/// `POST /auth/user/add/`.
pub(crate) async fn add(
    staff: Staff,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AdminError> {
    require_add(&staff)?;
    let own: Vec<String> = staff
        .store()
        .user_schema()
        .required_fields()
        .map(|c| format!("field.{}", c.name))
        .collect();
    let mut allowed = vec![
        "username",
        "email",
        "first_name",
        "last_name",
        "password1",
        "password2",
        "unusable_password",
        "is_staff",
        "is_superuser",
    ];
    allowed.extend(BUTTONS);
    allowed.extend(own.iter().map(String::as_str));
    let form = FormData(form).only(&allowed)?;
    let rights = staff.rights().await?;
    let (is_staff, is_superuser) = (form.checked("is_staff"), form.checked("is_superuser"));
    let problems = rights.check_new_user(is_staff, is_superuser);
    if !problems.is_empty() {
        return Err(AdminError::Forbidden(problems.join(" ")));
    }
    let password = if form.checked("unusable_password") {
        None
    } else {
        let (p1, p2) = (
            form.get("password1").unwrap_or(""),
            form.get("password2").unwrap_or(""),
        );
        let mut errors = Vec::new();
        if p1.is_empty() {
            errors.push("Enter a password, or choose an unusable password.".to_owned());
        } else if p1 != p2 {
            errors.push("The two password fields didn’t match.".to_owned());
        } else {
            let user = UserAttributes::new()
                .with_username(form.text("username"))
                .with_first_name(form.text("first_name"))
                .with_last_name(form.text("last_name"))
                .with_email(form.text("email"));
            if let Err(problems) = staff.auth.password_validators().validate(p2, &user) {
                errors.extend(problems);
            }
        }
        if !errors.is_empty() {
            return add_page(&staff, StatusCode::BAD_REQUEST, errors, &form);
        }
        Some(p1.to_owned())
    };
    let new = NewUser {
        username: form.text("username"),
        email: form.text("email"),
        password,
        first_name: form.text("first_name"),
        last_name: form.text("last_name"),
        is_staff,
        is_superuser,
        is_active: true,
        fields: own
            .iter()
            .map(|name| {
                let column = name.trim_start_matches("field.").to_owned();
                (column, form.text(name))
            })
            .collect(),
    };
    match staff.store().create_user(new).await {
        Ok(user) => {
            // Django's UserAdmin goes on to the new user's page (to set groups and permissions)
            // unless "Save and add another" was pressed.
            let button = SaveButton::of(&form).after_add_to_its_page();
            messages::success(
                &staff.auth,
                button.message(&kind(&staff), &user.username, true),
            );
            let change = user_url(&staff, &user.username, "change");
            let add = staff.url("/auth/user/add/");
            Ok(redirect(button.next(&change, &change, &add)))
        }
        Err(e) if e.is_input() => {
            add_page(&staff, StatusCode::BAD_REQUEST, vec![e.to_string()], &form)
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /auth/user/{username}/password-reset/`: e-mails the user a password-reset link (Django's
/// reset e-mail, the link under the auth views next to the login page). Under the same rules as
/// setting the password: the change permission on users, and a user the editor may touch (so
/// nobody can mail themselves a link to a stronger account by first changing its address: that
/// change is refused by the same rule).
pub(crate) async fn send_password_reset(
    staff: Staff,
    Path(username): Path<String>,
    headers: http::HeaderMap,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AdminError> {
    FormData(form).only(&[])?;
    let state = load(&staff, &username).await?;
    require_touch(&staff, &state, &staff.user_perm("change")).await?;
    let user = &state.user;
    let refusal = if user.email.is_empty() {
        Some("This user has no e-mail address to send a password-reset link to.")
    } else if !user.is_active {
        Some("This user is inactive: a password-reset link would not let them log in.")
    } else if !user.has_usable_password() {
        Some("This user's password is unusable (password log-in is off for them): Django sends no reset link to such users.")
    } else {
        None
    };
    if let Some(message) = refusal {
        return Err(AdminError::BadRequest(message.to_owned()));
    }
    let links = ResetLinks::for_request(&staff.auth, &headers, &uri, &staff.site.login_url).ok_or_else(|| {
        AdminError::BadRequest(
            "Password-reset links need a trusted host: configure AuthConfig::with_password_reset_domain \
             or the allowed hosts."
                .into(),
        )
    })?;
    send_reset_email(&staff.auth, user, &links)
        .await
        .map_err(|e| AdminError::BadRequest(e.to_string()))?;
    staff
        .store()
        .record_audit(
            "user.password_reset_sent",
            "user",
            &username,
            None,
            Some(serde_json::json!({ "email": &user.email }).to_string()),
        )
        .await?;
    page(
        &staff,
        "user_reset_sent.html",
        StatusCode::OK,
        context! {
            target => &username,
            email => &user.email,
            back_url => user_url(&staff, &username, "change"),
        },
    )
}

/// Loads a user's state, or 404.
async fn load(staff: &Staff, username: &str) -> Result<UserState, AdminError> {
    staff
        .site
        .store
        .user_state(username)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("No user named {username:?}.")))
}

/// The user change page for `state`, with `message` (error) when given.
async fn change_page(
    staff: &Staff,
    state: &UserState,
    filter: PickerFilter,
    status: StatusCode,
    errors: Vec<String>,
) -> Result<Response, AdminError> {
    let store = &staff.site.store;
    let groups = store.groups_with_permissions().await?;
    let all = store.permissions(None).await?;
    let rights = staff.rights().await?;
    let mut notes = rights.may_touch(state, &groups);
    let can_change = staff.has(&staff.user_perm("change")) && notes.is_empty();
    let own = state.user.id == staff.user.id && !staff.is_superuser();
    if own {
        notes.push("You cannot change your own active status, groups or permissions.".into());
    }
    // Effective permissions with provenance: direct, via which groups, superuser.
    let mut held: Vec<String> = state.permissions.clone();
    for (g, perms) in &groups {
        if state.groups.contains(g) {
            held.extend(perms.iter().cloned());
        }
    }
    held.sort();
    held.dedup();
    let effective: Vec<_> = held
        .into_iter()
        .map(|perm| {
            let via: Vec<String> = groups
                .iter()
                .filter(|(g, p)| state.groups.contains(g) && p.contains(&perm))
                .map(|(g, _)| g.clone())
                .collect();
            context! { direct => state.permissions.contains(&perm), via, perm }
        })
        .collect();
    let group_rows: Vec<_> = groups
        .iter()
        .map(|(g, perms)| {
            let grantable = rights.check_group_caps(g, perms, "join").is_empty();
            context! {
                name => g, member => state.groups.contains(g),
                grantable, count => perms.len(), trusted => rights.trusted.is_trusted(g),
            }
        })
        .collect();
    let u = &state.user;
    let now = chrono::Utc::now();
    page(
        staff,
        "user_change.html",
        status,
        context! {
            crumbs => crumbs(staff).here(u.username.clone()).value(),
            history_url => user_url(staff, &u.username, "history"),
            can_add_another => staff.can_add_users(),
            user => context! {
                username => &u.username, email => &u.email, first_name => &u.first_name,
                last_name => &u.last_name, is_active => u.is_active, is_staff => u.is_staff,
                is_superuser => u.is_superuser, has_usable_password => u.has_usable_password(),
                last_login => u.last_login.map(|t| times::value(t, now)),
                date_joined => u.date_joined.map(|t| times::value(t, now)),
            },
            version => &state.version,
            picker => Value::from(Serde(picker(&all, &state.permissions, filter, &|p| rights.may_change_perm(p)))),
            groups => group_rows, effective, errors, notes, can_change, own,
            can_set_flags => staff.is_superuser(),
            can_delete => staff.has(&staff.user_perm("delete")) && can_change,
            action => user_url(staff, &u.username, "change"),
            password_url => user_url(staff, &u.username, "password"),
            reset_url => user_url(staff, &u.username, "password-reset"),
            delete_url => user_url(staff, &u.username, "delete"),
        },
    )
}

/// `GET /auth/user/{username}/change/`.
pub(crate) async fn change_form(
    staff: Staff,
    Path(username): Path<String>,
    Query(filter): Query<PickerFilter>,
) -> Result<Response, AdminError> {
    staff.require_view_users()?;
    let state = load(&staff, &username).await?;
    change_page(&staff, &state, filter, StatusCode::OK, Vec::new()).await
}

/// The flags a change form may carry, and whether each is shown (`shown_flag`).
const FLAGS: [&str; 3] = ["is_active", "is_staff", "is_superuser"];

/// `POST /auth/user/{username}/change/`.
pub(crate) async fn change(
    staff: Staff,
    Path(username): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AdminError> {
    staff.require(&staff.user_perm("change"))?;
    let form = FormData(form).only(&[
        "version",
        "email",
        "first_name",
        "last_name",
        "is_active",
        "is_staff",
        "is_superuser",
        "shown_flag",
        "group",
        "shown_group",
        "perm",
        "shown_perm",
        "_save",
        "_continue",
        "_addanother",
    ])?;
    let state = load(&staff, &username).await?;
    let shown_flags = form.all("shown_flag");
    if let Some(bad) = shown_flags.iter().find(|f| !FLAGS.contains(&f.as_str())) {
        return Err(AdminError::BadRequest(format!(
            "{bad:?} is not a user flag; nothing was saved."
        )));
    }
    let flag = |name: &str| {
        shown_flags
            .iter()
            .any(|f| f == name)
            .then(|| form.checked(name))
    };
    let shown_groups = form.all("shown_group");
    let checked_groups = form.all("group");
    let (grant, revoke) = submitted_change(&form, &state.permissions);
    let text = |name: &str| form.get(name).map(|v| v.trim().to_owned());
    let edit = UserEdit {
        email: text("email"),
        first_name: text("first_name"),
        last_name: text("last_name"),
        is_active: flag("is_active"),
        is_staff: flag("is_staff"),
        is_superuser: flag("is_superuser"),
        add_groups: checked_groups
            .iter()
            .filter(|g| !state.groups.contains(g))
            .cloned()
            .collect(),
        remove_groups: shown_groups
            .iter()
            .filter(|g| state.groups.contains(g) && !checked_groups.contains(g))
            .cloned()
            .collect(),
        grant,
        revoke,
    };
    let store = staff.site.store.clone();
    let groups = store.groups_with_permissions().await?;
    if let Some(g) = edit
        .add_groups
        .iter()
        .find(|g| !groups.iter().any(|(n, _)| n == *g))
    {
        return Err(AdminError::BadRequest(format!(
            "There is no group {g:?}; nothing was saved."
        )));
    }
    let problems = staff
        .rights()
        .await?
        .check_user_edit(&state, &edit, &groups);
    if !problems.is_empty() {
        return Err(AdminError::Forbidden(format!(
            "Nothing was saved. {}",
            problems.join(" ")
        )));
    }
    // The rules were judged on `state`: the edit is written only if the user is still so. The
    // form's version must be that state's (else someone changed the user since the form was
    // opened), and the write quotes the state's own — never a version the client chose.
    if form.get("version") != Some(state.version.as_str()) {
        let current = load(&staff, &username).await?;
        return change_page(
            &staff,
            &current,
            PickerFilter::default(),
            StatusCode::CONFLICT,
            vec![format!(
                "User {username:?} was changed by someone else since you opened it; nothing was saved. Review its current state and apply your change again."
            )],
        )
        .await;
    }
    match staff
        .store()
        .apply_user_edit(&username, &state.version, &edit)
        .await
    {
        Ok(_) => {
            let button = SaveButton::of(&form).unless_cannot_add(staff.can_add_users());
            messages::success(&staff.auth, button.message(&kind(&staff), &username, false));
            let change = user_url(&staff, &username, "change");
            Ok(redirect(button.next(
                &staff.url("/auth/user/"),
                &change,
                &staff.url("/auth/user/add/"),
            )))
        }
        Err(castellan_store::Error::Conflict(msg) | castellan_store::Error::Refused(msg)) => {
            let current = load(&staff, &username).await?;
            change_page(
                &staff,
                &current,
                PickerFilter::default(),
                StatusCode::CONFLICT,
                vec![msg],
            )
            .await
        }
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

/// Refuses unless `staff` may change `state` at all (rule 3), after `perm`.
async fn require_touch(staff: &Staff, state: &UserState, perm: &str) -> Result<(), AdminError> {
    staff.require(perm)?;
    let groups = staff.site.store.groups_with_permissions().await?;
    let problems = staff.rights().await?.may_touch(state, &groups);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AdminError::Forbidden(problems.join(" ")))
    }
}

fn password_page(
    staff: &Staff,
    username: &str,
    status: StatusCode,
    errors: Vec<String>,
) -> Result<Response, AdminError> {
    page(
        staff,
        "user_password.html",
        status,
        context! {
            errors, target => username,
            crumbs => crumbs(staff)
                .link(username.to_owned(), user_url(staff, username, "change"))
                .here("Change password")
                .value(),
            action => user_url(staff, username, "password"),
            back => user_url(staff, username, "change"),
        },
    )
}

/// `GET /auth/user/{username}/password/`.
pub(crate) async fn password_form(
    staff: Staff,
    Path(username): Path<String>,
) -> Result<Response, AdminError> {
    let state = load(&staff, &username).await?;
    require_touch(&staff, &state, &staff.user_perm("change")).await?;
    password_page(&staff, &username, StatusCode::OK, Vec::new())
}

/// `POST /auth/user/{username}/password/`: a new password (Django hash) or an unusable one.
pub(crate) async fn password(
    staff: Staff,
    Path(username): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AdminError> {
    let form = FormData(form).only(&["password1", "password2", "unusable_password"])?;
    let state = load(&staff, &username).await?;
    require_touch(&staff, &state, &staff.user_perm("change")).await?;
    let raw = if form.checked("unusable_password") {
        None
    } else {
        let (p1, p2) = (
            form.get("password1").unwrap_or(""),
            form.get("password2").unwrap_or(""),
        );
        if p1.is_empty() {
            return password_page(
                &staff,
                &username,
                StatusCode::BAD_REQUEST,
                vec!["Enter a password, or choose an unusable password.".into()],
            );
        }
        if p1 != p2 {
            return password_page(
                &staff,
                &username,
                StatusCode::BAD_REQUEST,
                vec!["The two password fields didn’t match.".into()],
            );
        }
        let attributes = UserAttributes::of_user(&state.user);
        if let Err(problems) = staff.auth.password_validators().validate(p2, &attributes) {
            return password_page(&staff, &username, StatusCode::BAD_REQUEST, problems);
        }
        Some(p1)
    };
    // The rules were judged on `state`: the password is set only if the user is still so.
    match staff
        .store()
        .set_password_at_version(&username, raw, &state.version)
        .await
    {
        Ok(()) => {}
        Err(castellan_store::Error::Conflict(msg)) => {
            return password_page(&staff, &username, StatusCode::CONFLICT, vec![msg]);
        }
        Err(e) => return Err(e.into()),
    }
    if state.user.id == staff.user.id {
        // Changing one's own password must not log oneself out (Django's update_session_auth_hash).
        if let Some(user) = staff.site.store.user(&username).await? {
            staff.auth.update_session_auth_hash(&user);
        }
    }
    messages::success(&staff.auth, "Password changed successfully.");
    Ok(redirect(&user_url(&staff, &username, "change")))
}

/// `GET /auth/user/{username}/delete/`.
pub(crate) async fn delete_form(
    staff: Staff,
    Path(username): Path<String>,
) -> Result<Response, AdminError> {
    let state = load(&staff, &username).await?;
    require_touch(&staff, &state, &staff.user_perm("delete")).await?;
    page(
        &staff,
        "confirm_delete.html",
        StatusCode::OK,
        context! {
            kind => kind(&staff), object => &username,
            crumbs => crumbs(&staff)
                .link(username.clone(), user_url(&staff, &username, "change"))
                .here("Delete")
                .value(),
            action => user_url(&staff, &username, "delete"),
            back => user_url(&staff, &username, "change"),
            errors => Vec::<String>::new(),
        },
    )
}

/// `POST /auth/user/{username}/delete/`.
pub(crate) async fn delete(
    staff: Staff,
    Path(username): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AdminError> {
    FormData(form).only(&[])?;
    let state = load(&staff, &username).await?;
    require_touch(&staff, &state, &staff.user_perm("delete")).await?;
    // The rules were judged on `state`: the user is deleted only if still so.
    staff
        .store()
        .delete_users_at_versions(&[(username.as_str(), state.version.as_str())])
        .await?;
    messages::success(&staff.auth, deleted_message(&kind(&staff), &username));
    Ok(redirect(&staff.url("/auth/user/")))
}
