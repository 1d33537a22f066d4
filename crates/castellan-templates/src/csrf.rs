//! `csrf_token`: the hidden form field Django's `{% csrf_token %}` tag writes.

use minijinja::value::Value;

use crate::escape::escape_html;

/// The name of the form field that carries the token (Django's `csrfmiddlewaretoken`).
pub const CSRF_FIELD_NAME: &str = "csrfmiddlewaretoken";

/// The hidden input for `token`, HTML-escaped, as a safe string: `{{ csrf_token }}` writes
/// `<input type="hidden" name="csrfmiddlewaretoken" value="…">`.
pub fn csrf_input(token: &str) -> Value {
    Value::from_safe_string(format!(
        r#"<input type="hidden" name="{CSRF_FIELD_NAME}" value="{}">"#,
        escape_html(token)
    ))
}
