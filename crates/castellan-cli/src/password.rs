//! Password validation for the commands that set a password (`createsuperuser`, `changepassword`,
//! `user create`): Django's four default validators (`castellan_core::password_validation`).

use castellan_core::password_validation::{PasswordValidators, UserAttributes};
use castellan_store::Error;

use crate::output::{confirm, input_error};

/// Django's question when an interactive `createsuperuser` gets a password that fails validation.
pub(crate) const BYPASS: &str = "Bypass password validation and create user anyway? [y/N]: ";

/// The validators the commands apply (Django's `AUTH_PASSWORD_VALIDATORS` defaults).
fn validators() -> PasswordValidators {
    PasswordValidators::default()
}

/// The messages for a password that fails validation (empty when it passes).
pub(crate) fn problems(password: &str, user: &UserAttributes) -> Vec<String> {
    validators()
        .validate(password, user)
        .err()
        .unwrap_or_default()
}

/// Without a terminal: a password that fails validation is an input error (exit 2, nothing
/// written) listing every message, unless `--skip-validation` was given.
pub(crate) fn require_valid(
    password: &str,
    user: &UserAttributes,
    skip_validation: bool,
) -> Result<(), Error> {
    if skip_validation {
        return Ok(());
    }
    let messages = problems(password, user);
    if messages.is_empty() {
        return Ok(());
    }
    Err(input_error(format!(
        "{}\nNothing was changed. Choose another password, or pass --skip-validation to use this one anyway.",
        messages.join("\n")
    )))
}

/// On a terminal: prints the messages of a password that fails validation and asks Django's
/// bypass question. `true` when the password is to be used.
pub(crate) fn accept_interactively(
    password: &str,
    user: &UserAttributes,
    skip_validation: bool,
) -> Result<bool, Error> {
    if skip_validation {
        return Ok(true);
    }
    let messages = problems(password, user);
    if messages.is_empty() {
        return Ok(true);
    }
    eprintln!("{}", messages.join("\n"));
    confirm(BYPASS)
}
