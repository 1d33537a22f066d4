//! `PasswordChangeView`: a logged-in user changes their password (`old_password`,
//! `new_password1`, `new_password2`); the new one must pass the configured password validators
//! (`AuthConfig::with_password_validators`, Django's four by default). This session stays valid,
//! every other session of the user is logged out on its next request.

use axum::response::{IntoResponse, Response};
use axum::Form;
use castellan_core::UserAttributes;
use http::{header, HeaderValue, StatusCode};
use serde::Deserialize;

use crate::error::Error;
use crate::pages::PasswordChangePage;
use crate::require::LoggedIn;
use crate::session::AuthSession;
use crate::throttle::Verdict;
use crate::views::login::THROTTLED;

/// The form fields (Django's names).
#[derive(Debug, Default, Deserialize)]
pub struct PasswordChangeForm {
    /// `old_password`.
    pub old_password: Option<String>,
    /// `new_password1`.
    pub new_password1: Option<String>,
    /// `new_password2`.
    pub new_password2: Option<String>,
}

/// Django's message for a wrong old password.
pub const WRONG_OLD: &str = "Your old password was entered incorrectly. Please enter it again.";
/// Django's message for differing new passwords.
pub const MISMATCH: &str = "The two password fields didn’t match.";

fn page(auth: &AuthSession, status: StatusCode, errors: Vec<String>) -> Response {
    let page = PasswordChangePage {
        csrf_token: auth.csrf_token(),
        errors,
    };
    (status, auth.shared.config.pages.password_change(&page)).into_response()
}

/// `GET`: the form (login required).
pub async fn password_change_form(_user: LoggedIn, auth: AuthSession) -> Response {
    page(&auth, StatusCode::OK, Vec::new())
}

/// `POST`: check the old password, set the new one, keep this session (`update_session_auth_hash`).
pub async fn password_change(
    LoggedIn(user): LoggedIn,
    auth: AuthSession,
    Form(form): Form<PasswordChangeForm>,
) -> Response {
    let old = form.old_password.unwrap_or_default();
    let new1 = form.new_password1.unwrap_or_default();
    let new2 = form.new_password2.unwrap_or_default();
    let users = auth.users();
    let retry = auth.shared.config.retry_after;
    let mut errors = Vec::new();
    if old.is_empty() || new1.is_empty() || new2.is_empty() {
        errors.push("This field is required.".to_owned());
    } else {
        // Throttled like a login, keyed on the user: reserved before the check.
        let reservation = match auth.shared.throttle.password_change(user.id) {
            Verdict::Refuse(wait) => {
                let mut r = page(
                    &auth,
                    StatusCode::TOO_MANY_REQUESTS,
                    vec![THROTTLED.to_owned()],
                );
                r.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(wait.as_secs().max(1)),
                );
                return r;
            }
            Verdict::Proceed(_, reservation) => reservation,
        };
        match users.authenticate(&user.username, &old).await {
            Ok(Some(_)) => reservation.succeeded(),
            Ok(None) => {
                drop(reservation);
                errors.push(WRONG_OLD.to_owned());
            }
            Err(e) => {
                reservation.not_attempted();
                return Error::backend(e, retry).into_response();
            }
        }
        if new1 != new2 {
            errors.push(MISMATCH.to_owned());
        } else if let Err(problems) = auth
            .shared
            .config
            .password_validators
            .validate(&new2, &UserAttributes::of_user(&user))
        {
            errors.extend(problems);
        }
    }
    if !errors.is_empty() {
        return page(&auth, StatusCode::OK, errors);
    }
    match users.set_password(&user, &new1).await {
        Ok(Some(updated)) => auth.update_session_auth_hash(&updated),
        Ok(None) => auth.logout(),
        Err(e) => return Error::backend(e, retry).into_response(),
    }
    auth.shared
        .config
        .pages
        .password_change_done()
        .into_response()
}
