//! The guide's custom filters, `has_group` and `has_any_group`.
//!
//! They check **group membership only**, exactly as the guide's Python does
//! (`user.groups.filter(name=…).exists()`): a superuser who is not a member does not pass, an
//! inactive member does, and the anonymous user (no groups) never does. Use `perms` for
//! permission questions.

use minijinja::value::{Rest, Value};
use minijinja::{Error, ErrorKind};

use crate::user::TemplateUser;

fn user_of(value: &Value, filter: &str) -> Result<std::sync::Arc<TemplateUser>, Error> {
    value.downcast_object::<TemplateUser>().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "`{filter}` applies to the `user` variable built by castellan_templates::auth_context, \
                 got {}",
                value.kind()
            ),
        )
    })
}

/// `{{ user|has_group("Editors") }}`: whether the user is a member of the group of that exact name.
///
/// # Errors
///
/// When applied to anything but the `user` object.
pub fn has_group(user: Value, name: &str) -> Result<bool, Error> {
    Ok(user_of(&user, "has_group")?.in_group(name))
}

/// `{{ user|has_any_group("Editors,Admins") }}`: whether the user is a member of any of the groups.
///
/// Each string argument is split on commas and each part stripped of surrounding whitespace, as
/// in the guide; list arguments contribute their items (as exact names). So
/// `has_any_group("Editors,Admins")`, `has_any_group("Editors", "Admins")` and
/// `has_any_group(["Editors", "Admins"])` are the same question.
///
/// # Errors
///
/// When applied to anything but the `user` object, or given an argument that is neither a string
/// nor a list of strings.
pub fn has_any_group(user: Value, names: Rest<Value>) -> Result<bool, Error> {
    let user = user_of(&user, "has_any_group")?;
    for arg in &names.0 {
        if let Some(s) = arg.as_str() {
            if s.split(',').any(|part| user.in_group(part.trim())) {
                return Ok(true);
            }
            continue;
        }
        let items = arg.try_iter().map_err(|_| bad_arg(arg))?;
        for item in items {
            let name = item.as_str().ok_or_else(|| bad_arg(&item))?;
            if user.in_group(name) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

fn bad_arg(arg: &Value) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!(
            "has_any_group takes group names (strings, comma-separated strings or lists of strings), got {}",
            arg.kind()
        ),
    )
}
