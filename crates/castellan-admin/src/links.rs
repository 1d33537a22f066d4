//! The admin's URLs for an object: a user's, a group's, or a registered model object's pages.

use crate::access::{segment, Staff};
use crate::model_admin::ModelAdmin;

/// `/auth/user/{username}/{action}/`.
pub(crate) fn user(staff: &Staff, username: &str, action: &str) -> String {
    staff.url(&format!("/auth/user/{}/{action}/", segment(username)))
}

/// `/auth/group/{name}/{action}/`.
pub(crate) fn group(staff: &Staff, name: &str, action: &str) -> String {
    staff.url(&format!("/auth/group/{}/{action}/", segment(name)))
}

/// A registered model's list: `/{app}/{model}/`.
pub(crate) fn model_list(staff: &Staff, m: &dyn ModelAdmin) -> String {
    staff.url(&format!("/{}/{}/", m.app_label(), m.model_name()))
}

/// `/{app}/{model}/{id}/{action}/`.
pub(crate) fn model_object(staff: &Staff, m: &dyn ModelAdmin, id: &str, action: &str) -> String {
    format!("{}{}/{action}/", model_list(staff, m), segment(id))
}

/// The change page of an audit entry's object (`user`, `group`, or a registered `app.model`),
/// if it has one.
pub(crate) fn audited_object(staff: &Staff, object_type: &str, object: &str) -> Option<String> {
    match object_type {
        "user" => Some(user(staff, object, "change")),
        "group" => Some(group(staff, object, "change")),
        other => {
            let (app, model) = other.split_once('.')?;
            let m = staff.site.model(app, model)?;
            Some(model_object(staff, m.as_ref(), object, "change"))
        }
    }
}
