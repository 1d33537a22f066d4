//! Responses of the admin's views: a page rendered for the signed-in staff member, and the
//! redirect after a successful POST.

use axum::response::{Html, IntoResponse, Response};
use http::StatusCode;
use minijinja::{context, Value};

use crate::access::Staff;
use crate::error::AdminError;

/// Renders `name` for `staff` with the page context `ctx` (plus `base`, `site_title`, `username`,
/// `csrf_token`, `is_superuser`, `logout_url`, `password_change_url`, `site_url`, and the pending
/// `messages`, which are taken: shown once) and the status code.
pub(crate) fn page(
    staff: &Staff,
    name: &str,
    status: StatusCode,
    ctx: Value,
) -> Result<Response, AdminError> {
    let full = context! {
        base => &staff.base,
        site_title => &staff.site.title,
        logout_url => &staff.site.logout_url,
        password_change_url => &staff.site.password_change_url,
        messages => castellan_templates::messages_value(&castellan_axum::messages::take(&staff.auth)),
        site_url => &staff.site.site_url,
        username => &staff.user.username,
        is_superuser => staff.is_superuser(),
        csrf_token => staff.csrf(),
        ..ctx
    };
    let html = staff.site.renderer.render_raw(name, full).map_err(|e| {
        AdminError::Template(format!("{}{name}: {e:#}", crate::render::ADMIN_PREFIX))
    })?;
    let mut response = Html(html).into_response();
    *response.status_mut() = status;
    Ok(response)
}

/// A `303 See Other` to `url` (after a successful POST).
pub(crate) fn redirect(url: &str) -> Response {
    match http::HeaderValue::from_str(url) {
        Ok(v) => (StatusCode::SEE_OTHER, [(http::header::LOCATION, v)]).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
