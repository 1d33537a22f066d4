//! The live role × permission matrix and the audit trail.

use axum::extract::Query;
use axum::response::Response;
use castellan_store::AuditFilter;
use chrono::{DateTime, NaiveDate, Utc};
use http::StatusCode;
use minijinja::context;
use serde::Deserialize;

use minijinja::value::Serde;
use minijinja::Value;

use crate::access::Staff;
use crate::crumbs::Crumbs;
use crate::error::AdminError;
use crate::history::LinkedEntry;
use crate::matrix::matrix_value;
use crate::respond::page;

/// The matrix's query parameters.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct MatrixQuery {
    #[serde(default)]
    app: String,
    /// Comma-separated usernames to add as rows (needs view_user or change_user).
    #[serde(default)]
    users: String,
}

/// `GET /matrix/`: needs `view_group` or `change_group`.
pub(crate) async fn matrix(
    staff: Staff,
    Query(q): Query<MatrixQuery>,
) -> Result<Response, AdminError> {
    staff.require_any(&["auth.view_group", "auth.change_group"])?;
    let users: Vec<String> = q
        .users
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if !users.is_empty() {
        staff.require_view_users()?;
    }
    let app = Some(q.app.as_str()).filter(|s| !s.is_empty());
    let m = staff.site.store.matrix(&users, app).await?;
    page(
        &staff,
        "matrix.html",
        StatusCode::OK,
        context! {
            matrix => matrix_value(&m), app => &q.app, users => &q.users,
            crumbs => Crumbs::home(&staff).here("Permission matrix").value(),
        },
    )
}

/// The audit page's query parameters.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AuditQuery {
    /// A username: entries about that user or made by them.
    #[serde(default)]
    user: String,
    /// Who made the change: a username, or an actor label such as `cli:ops` or `system`.
    #[serde(default)]
    actor: String,
    /// The start of the action name (`group.`, `user.set_password`).
    #[serde(default)]
    action: String,
    /// `user`, `group`, `permission`, or a registered model (`bookshelf.book`).
    #[serde(default)]
    object_type: String,
    /// The object's name (a username, a group name, a model object's id).
    #[serde(default)]
    object: String,
    #[serde(default)]
    since: String,
    /// The page below this entry number.
    #[serde(default)]
    before: String,
}

impl AuditQuery {
    /// The query string of these filters (without `before`), for the page links.
    fn filters(&self) -> String {
        [
            ("user", &self.user),
            ("actor", &self.actor),
            ("action", &self.action),
            ("object_type", &self.object_type),
            ("object", &self.object),
            ("since", &self.since),
        ]
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", crate::access::segment(v.trim())))
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// Entries per audit page.
const AUDIT_PAGE: usize = 50;

/// `2026-11-25`, RFC 3339, or `12h` / `7d` ago.
fn parse_since(s: &str, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, AdminError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()));
    }
    let (n, unit) = s.split_at(s.len().saturating_sub(1));
    let hours = match (n.parse::<i64>(), unit) {
        (Ok(n), "h") if (0..=24 * 3650).contains(&n) => n,
        (Ok(n), "d") if (0..=3650).contains(&n) => n * 24,
        _ => {
            return Err(AdminError::BadRequest(format!(
            "since={s:?} is not a date (2026-11-25), an RFC 3339 time or an age such as 12h or 7d."
        )))
        }
    };
    Ok(Some(now - chrono::Duration::hours(hours)))
}

/// `GET /audit/`: superusers only. Filters by user (object or actor), actor, action prefix,
/// object and time; 50 entries a page, newest first, each change as `field: old → new`.
pub(crate) async fn audit(
    staff: Staff,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AdminError> {
    if !staff.is_superuser() {
        return Err(AdminError::Forbidden(
            "Only superusers can read the audit trail.".into(),
        ));
    }
    let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let before_id = crate::history::before_id(&q.before)?;
    let actor = text(&q.actor).map(|a| {
        if a.contains(':') || a == "system" {
            a
        } else {
            format!("user:{a}")
        }
    });
    let filter = AuditFilter {
        since: parse_since(&q.since, Utc::now())?,
        user: text(&q.user),
        limit: Some(AUDIT_PAGE + 1),
        actor,
        action_prefix: text(&q.action),
        object_type: text(&q.object_type),
        object: text(&q.object),
        before_id,
    };
    let mut found = staff.site.store.audit_log(&filter).await?;
    let more = found.len() > AUDIT_PAGE;
    found.truncate(AUDIT_PAGE);
    let now = Utc::now();
    let entries: Vec<LinkedEntry> = found
        .iter()
        .map(|e| LinkedEntry::of(&staff, e, now))
        .collect();
    let filters = q.filters();
    let join = |extra: String| {
        let parts: Vec<&str> = [filters.as_str(), extra.as_str()]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect();
        format!("?{}", parts.join("&"))
    };
    let next_url = more
        .then(|| found.last().map(|e| join(format!("before={}", e.id))))
        .flatten();
    let first_url = before_id.map(|_| join(String::new()));
    let mut types: Vec<String> = ["user", "group", "permission"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    types.extend(
        staff
            .site
            .models
            .iter()
            .map(|m| format!("{}.{}", m.app_label(), m.model_name())),
    );
    page(
        &staff,
        "audit.html",
        StatusCode::OK,
        context! {
            entries => Value::from(Serde(&entries)), next_url, first_url, types,
            user => &q.user, actor => &q.actor, action => &q.action,
            object_type => &q.object_type, object => &q.object, since => &q.since,
            crumbs => Crumbs::home(&staff).here("Audit trail").value(),
        },
    )
}
