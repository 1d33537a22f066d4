//! The admin's defaults, as Django's: the header's title and where login and logout live.

/// The header's title unless [`Admin::with_title`] sets one.
pub(crate) const DEFAULT_TITLE: &str = "Castellan administration";

/// Django's `LOGIN_URL` default (`django.contrib.auth.urls` mounted at `accounts/`).
pub const DEFAULT_LOGIN_URL: &str = "/accounts/login/";
/// Django's logout URL under the same mount.
pub const DEFAULT_LOGOUT_URL: &str = "/accounts/logout/";
/// Django's password-change URL under the same mount (the header's "Change password" link).
pub const DEFAULT_PASSWORD_CHANGE_URL: &str = "/accounts/password_change/";
