//! The live role × permission matrix and the audit trail.

use axum::extract::Query;
use axum::response::Response;
use castellan_store::AuditFilter;
use chrono::{DateTime, NaiveDate, Utc};
use http::StatusCode;
use minijinja::context;
use serde::Deserialize;

use crate::access::Staff;
use crate::error::AdminError;
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
        context! { matrix => matrix_value(&m), app => &q.app, users => &q.users },
    )
}

/// The audit page's query parameters.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AuditQuery {
    #[serde(default)]
    user: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    since: String,
}

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

/// `GET /audit/`: superusers only (filters `user`, `action` prefix, `since`); the newest 500 entries.
pub(crate) async fn audit(
    staff: Staff,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AdminError> {
    if !staff.is_superuser() {
        return Err(AdminError::Forbidden(
            "Only superusers can read the audit trail.".into(),
        ));
    }
    let filter = AuditFilter {
        since: parse_since(&q.since, Utc::now())?,
        user: Some(q.user.trim().to_owned()).filter(|s| !s.is_empty()),
        limit: if q.action.is_empty() { Some(500) } else { None },
    };
    let action = q.action.trim();
    let entries: Vec<_> = staff
        .site
        .store
        .audit_log(&filter)
        .await?
        .into_iter()
        .filter(|e| action.is_empty() || e.action.starts_with(action))
        .take(500)
        .map(|e| {
            context! {
                id => e.id, at => e.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(), actor => e.actor,
                action => e.action, object_type => e.object_type, object => e.object,
                before => e.before, after => e.after,
            }
        })
        .collect();
    page(
        &staff,
        "audit.html",
        StatusCode::OK,
        context! { entries, user => &q.user, action => &q.action, since => &q.since },
    )
}
