//! History pages: every audit entry about one user, group or model object, newest first, with
//! each change as `field: old → new` (Django's "History" link on a change page).

use axum::extract::{Path, Query};
use axum::response::Response;
use castellan_store::AuditFilter;
use http::StatusCode;
use minijinja::value::Serde;
use minijinja::{context, Value};
use serde::Deserialize;

use crate::access::Staff;
use crate::crumbs::Crumbs;
use crate::error::AdminError;
use crate::history::EntryView;
use crate::links;
use crate::respond::page;

/// Entries per page.
const PER_PAGE: usize = 50;

/// `?before=ID`: the next page starts below that entry.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct HistoryQuery {
    #[serde(default)]
    before: String,
}

/// What a history page is about.
struct Subject {
    object_type: String,
    object: String,
    /// "user", "group", a model's name.
    kind: String,
    label: String,
    change_url: String,
    crumbs: Crumbs,
}

async fn render(staff: &Staff, subject: Subject, q: &HistoryQuery) -> Result<Response, AdminError> {
    let before_id = crate::history::before_id(&q.before)?;
    let mut entries = staff
        .site
        .store
        .audit_log(&AuditFilter {
            object_type: Some(subject.object_type.clone()),
            object: Some(subject.object.clone()),
            before_id,
            limit: Some(PER_PAGE + 1),
            ..AuditFilter::default()
        })
        .await?;
    let more = entries.len() > PER_PAGE;
    entries.truncate(PER_PAGE);
    let now = chrono::Utc::now();
    let next_url = more
        .then(|| entries.last().map(|e| format!("?before={}", e.id)))
        .flatten();
    let views: Vec<EntryView> = entries.iter().map(|e| EntryView::of(e, now)).collect();
    page(
        staff,
        "history.html",
        StatusCode::OK,
        context! {
            crumbs => subject.crumbs.here("History").value(),
            kind => subject.kind, label => subject.label, change_url => subject.change_url,
            entries => Value::from(Serde(&views)), next_url,
            first_url => before_id.map(|_| "?".to_owned()),
        },
    )
}

/// `GET /auth/user/{username}/history/`: needs view or change on users.
pub(crate) async fn user(
    staff: Staff,
    Path(username): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<Response, AdminError> {
    staff.require_view_users()?;
    if staff.site.store.user(&username).await?.is_none() {
        return Err(AdminError::NotFound(format!("No user named {username:?}.")));
    }
    let change_url = links::user(&staff, &username, "change");
    let crumbs = Crumbs::app(&staff, "auth")
        .link("Users", staff.url("/auth/user/"))
        .link(username.clone(), change_url.clone());
    let subject = Subject {
        object_type: "user".into(),
        object: username.clone(),
        kind: "user".into(),
        label: username,
        change_url,
        crumbs,
    };
    render(&staff, subject, &q).await
}

/// `GET /auth/group/{name}/history/`: needs view or change on groups.
pub(crate) async fn group(
    staff: Staff,
    Path(name): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<Response, AdminError> {
    staff.require_any(&["auth.view_group", "auth.change_group"])?;
    if staff.site.store.group_state(&name).await?.is_none() {
        return Err(AdminError::NotFound(format!("No group named {name:?}.")));
    }
    let change_url = links::group(&staff, &name, "change");
    let crumbs = Crumbs::app(&staff, "auth")
        .link("Groups", staff.url("/auth/group/"))
        .link(name.clone(), change_url.clone());
    let subject = Subject {
        object_type: "group".into(),
        object: name.clone(),
        kind: "group".into(),
        label: name,
        change_url,
        crumbs,
    };
    render(&staff, subject, &q).await
}

/// `GET /{app}/{model}/{id}/history/`: needs the model's view permission on the object.
pub(crate) async fn model_object(
    staff: Staff,
    Path((app, name, id)): Path<(String, String, String)>,
    Query(q): Query<HistoryQuery>,
) -> Result<Response, AdminError> {
    let m = crate::views::models::model(&staff, &app, &name)?;
    let o = crate::views::models::object(m.as_ref(), &id).await?;
    if !m.has_view_permission(&staff.principal, Some(&o)) {
        return Err(crate::views::models::forbidden("view", m.as_ref()));
    }
    let change_url = links::model_object(&staff, m.as_ref(), &o.id, "change");
    let crumbs = Crumbs::app(&staff, &app)
        .link(
            m.verbose_name_plural(),
            links::model_list(&staff, m.as_ref()),
        )
        .link(o.label.clone(), change_url.clone());
    let subject = Subject {
        object_type: format!("{app}.{name}"),
        object: o.id.clone(),
        kind: m.verbose_name(),
        label: o.label,
        change_url,
        crumbs,
    };
    render(&staff, subject, &q).await
}
