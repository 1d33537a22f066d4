//! The auth context processor: the template variables for one request.

use castellan_core::Principal;
use minijinja::value::Value;

use crate::csrf::csrf_input;
use crate::perms::PermWrapper;
use crate::user::TemplateUser;

/// The template variables Django's `auth` context processor (and the CSRF one) provide.
///
/// Building it is cheap: the [`Principal`] is cloned (reference-counted permissions and index) and
/// no permission is checked until a template reads `perms`. Convert it with [`AuthContext::into_value`]
/// (or `Value::from`) and merge it into your own context with `minijinja::context! { .., ..ctx }`.
#[derive(Debug, Clone)]
pub struct AuthContext {
    user: TemplateUser,
    perms: PermWrapper,
    csrf_token: Option<String>,
}

impl AuthContext {
    /// The context for `principal`, whose group names the caller has loaded.
    pub fn new(principal: &Principal, groups: Vec<String>) -> Self {
        Self {
            user: TemplateUser::new(principal.clone(), groups),
            perms: PermWrapper::new(principal.clone()),
            csrf_token: None,
        }
    }

    /// Sets the CSRF token the web layer issued for this request.
    pub fn with_csrf_token(mut self, token: impl Into<String>) -> Self {
        self.csrf_token = Some(token.into());
        self
    }

    /// The `user` object.
    pub fn user(&self) -> &TemplateUser {
        &self.user
    }

    /// The `perms` object.
    pub fn perms(&self) -> &PermWrapper {
        &self.perms
    }

    /// The raw CSRF token, if one was set.
    pub fn csrf_token(&self) -> Option<&str> {
        self.csrf_token.as_deref()
    }

    /// The variables as a map value: `user`, `perms`, and when a token was set `csrf_token` (the
    /// hidden input) and `csrf_token_value` (the raw token, for headers and `<meta>` tags).
    pub fn into_value(self) -> Value {
        let mut pairs = vec![
            ("user", Value::from_object(self.user)),
            ("perms", Value::from_object(self.perms)),
        ];
        if let Some(token) = self.csrf_token {
            pairs.push(("csrf_token", csrf_input(&token)));
            pairs.push(("csrf_token_value", Value::from(token)));
        }
        Value::from_pairs(pairs)
    }
}

impl From<AuthContext> for Value {
    fn from(ctx: AuthContext) -> Self {
        ctx.into_value()
    }
}

/// `user`, `perms` and (when given) `csrf_token` for one request, as a map value to merge into a
/// template context. Shorthand for [`AuthContext`].
pub fn auth_context(
    principal: &Principal,
    groups: Vec<String>,
    csrf_token: Option<String>,
) -> Value {
    let ctx = AuthContext::new(principal, groups);
    match csrf_token {
        Some(token) => ctx.with_csrf_token(token),
        None => ctx,
    }
    .into_value()
}
