//! Django's password-reset views: `PasswordResetView` (the e-mail form, which sends a one-use
//! link), `PasswordResetDoneView`, `PasswordResetConfirmView` (the link, then the new-password
//! form) and `PasswordResetCompleteView`.
//!
//! * `password_reset/` — `GET` the form, `POST` an `email`: every active user with a usable
//!   password and that address (Django's `get_users`) is sent a link; the answer is the same
//!   redirect to `password_reset/done/` whether or not anyone has it, and the e-mails go out in
//!   the background so the answer takes the same time either way. Throttled per client and
//!   e-mail address (see the [guide](crate::guide::password_reset)).
//! * `reset/<uidb64>/<token>/` — a valid token is moved into the session (under
//!   `_password_reset_token`) and the browser redirected to `reset/<uidb64>/set-password/`, so
//!   the token does not leak through the `Referer` of the next page; there the new-password form
//!   (checked by the configured password validators) sets the password. An invalid link shows a
//!   page saying so.
//! * `reset/done/` — the end, with a link to the login page.
//!
//! The e-mail's link is built from the form's own path (its sibling `reset/…`), the host (the
//! configured [`AuthConfig::with_password_reset_domain`](crate::AuthConfig::with_password_reset_domain),
//! else the request's validated `Host`) and the scheme (`https` when the configuration says so).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, OriginalUri, Path};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use castellan_core::tokens::{self, TokenUser};
use castellan_core::{User, UserAttributes};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde::Deserialize;
use serde_json::Value;

use crate::client::client_ip;
use crate::error::Error;
use crate::pages::{PasswordResetConfirmPage, PasswordResetEmail, PasswordResetPage};
use crate::rejection::found;
use crate::session::AuthSession;
use crate::throttle::Verdict;
use crate::views::password_change::MISMATCH;

/// The session key the confirmation view keeps a checked token under (Django's
/// `INTERNAL_RESET_SESSION_TOKEN`).
pub const INTERNAL_RESET_SESSION_TOKEN: &str = "_password_reset_token";
/// The path segment that replaces the token once it is in the session (Django's
/// `reset_url_token`).
pub const RESET_URL_TOKEN: &str = "set-password";
/// The refusal while throttled.
pub const RESET_THROTTLED: &str = "Too many password reset requests. Please try again later.";
/// Django's `EmailField` error.
pub const INVALID_EMAIL: &str = "Enter a valid email address.";
/// Django's `EmailField` limit.
const MAX_EMAIL_CHARS: usize = 254;
/// New passwords longer than this are refused before any hashing (bounded work; Django 4096).
const MAX_PASSWORD_BYTES: usize = 4096;

/// The password-reset form's field (Django's name).
#[derive(Debug, Default, Deserialize)]
pub struct PasswordResetForm {
    /// `email`.
    pub email: Option<String>,
}

/// The new-password form's fields (Django's `SetPasswordForm`).
#[derive(Debug, Default, Deserialize)]
pub struct SetPasswordForm {
    /// `new_password1`.
    pub new_password1: Option<String>,
    /// `new_password2`.
    pub new_password2: Option<String>,
}

fn form_page(
    auth: &AuthSession,
    status: StatusCode,
    email: String,
    errors: Vec<String>,
) -> Response {
    let page = PasswordResetPage {
        csrf_token: auth.csrf_token(),
        email,
        errors,
    };
    (status, auth.shared.config.pages.password_reset(&page)).into_response()
}

/// `GET password_reset/`: the form.
pub async fn password_reset_form(auth: AuthSession) -> Response {
    form_page(&auth, StatusCode::OK, String::new(), Vec::new())
}

/// Django's `EmailField.clean`: the trimmed address, or the form's error.
fn clean_email(raw: Option<String>) -> Result<String, (String, String)> {
    let email = raw.unwrap_or_default().trim().to_owned();
    if email.is_empty() {
        return Err((email, "This field is required.".into()));
    }
    let chars = email.chars().count();
    if chars > MAX_EMAIL_CHARS {
        let error =
            format!("Ensure this value has at most {MAX_EMAIL_CHARS} characters (it has {chars}).");
        return Err((String::new(), error));
    }
    if castellan_core::validators::validate_email(&email).is_err() {
        return Err((email, INVALID_EMAIL.into()));
    }
    Ok(email)
}

/// `POST password_reset/`: sends a link to every user [`tokens::reset_recipients`] finds for
/// the address, then redirects to `done/`, the same way whether or not anyone was found.
pub async fn password_reset(
    auth: AuthSession,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    Form(form): Form<PasswordResetForm>,
) -> Response {
    let email = match clean_email(form.email) {
        Ok(email) => email,
        Err((typed, error)) => return form_page(&auth, StatusCode::OK, typed, vec![error]),
    };
    let shared = std::sync::Arc::clone(&auth.shared);
    let config = &shared.config;
    let Some(links) = ResetLinks::for_request(&auth, &headers, &uri, uri.path()) else {
        return Error::Config(
            "the password-reset view needs a trusted host for its links: set \
             AuthConfig::with_password_reset_domain, or AuthConfig::with_allowed_hosts so that \
             the request's Host is validated"
                .into(),
        )
        .into_response();
    };
    let peer = peer.map(|Extension(ConnectInfo(addr))| addr);
    if peer.is_none() {
        shared.throttle.warn_no_peer_address();
    }
    let ip = client_ip(peer, &headers, &config.trusted_proxies);
    let (verdict, may_send) = shared.throttle.password_reset(&email, ip);
    let reservation = match verdict {
        Verdict::Refuse(wait) => {
            tracing::warn!(ip = ?ip, "password reset throttled");
            let mut r = form_page(
                &auth,
                StatusCode::TOO_MANY_REQUESTS,
                email,
                vec![RESET_THROTTLED.to_owned()],
            );
            r.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(wait.as_secs().max(1)),
            );
            return r;
        }
        Verdict::Proceed(_, reservation) => reservation,
    };
    let users = match shared.users.users_by_email(&email).await {
        Ok(users) => users,
        Err(e) => {
            reservation.not_attempted();
            return Error::backend(e, config.retry_after).into_response();
        }
    };
    // Every request counts, found or not (an attempt to flood an inbox is one either way).
    drop(reservation);
    let recipients = tokens::reset_recipients(&email, users);
    if !may_send && !recipients.is_empty() {
        tracing::warn!("password-reset e-mail not sent: too many requests for this address lately");
    } else {
        for user in recipients {
            let message = match reset_email(&auth, &user, &links) {
                Ok(message) => message,
                Err(e) => {
                    tracing::error!(user = %user.id, error = %format!("{e:#}"), "the password-reset e-mail failed to render; nothing sent");
                    continue;
                }
            };
            let sender = std::sync::Arc::clone(&config.reset.sender);
            let pk = user.id.to_string();
            // In the background: the answer must not take longer when an account was found.
            tokio::spawn(async move {
                if let Err(e) = sender.send(&message).await {
                    tracing::error!(user = %pk, error = %e, "failed to send the password-reset e-mail");
                }
            });
        }
    }
    found(&format!("{}done/", with_slash(uri.path())))
}

/// Where password-reset links point: `{protocol}://{domain}{accounts_path}reset/<uid>/<token>/`.
#[derive(Debug, Clone)]
pub struct ResetLinks {
    /// `https` or `http`.
    pub protocol: String,
    /// The host (and port) of the links.
    pub domain: String,
    /// The path the auth views are mounted at, ending with `/` (`/accounts/`).
    pub accounts_path: String,
}

impl ResetLinks {
    /// The links of a request to a page of the application: the configured domain, else the
    /// request's validated `Host` (see [`AuthConfig::with_password_reset_domain`](crate::AuthConfig::with_password_reset_domain));
    /// `None` when neither is trustworthy. `sibling` is the path of one of the views
    /// [`router`](crate::router) serves (the login page `/accounts/login/`, the reset form): the
    /// links go to `reset/…` beside it.
    pub fn for_request(
        auth: &AuthSession,
        headers: &HeaderMap,
        uri: &http::Uri,
        sibling: &str,
    ) -> Option<Self> {
        let domain = link_domain(auth, headers, uri)?;
        Some(Self {
            protocol: if auth.shared.config.https {
                "https"
            } else {
                "http"
            }
            .to_owned(),
            domain,
            accounts_path: parent_path(sibling),
        })
    }
}

/// The password-reset e-mail for `user` (a fresh token, the link under `links`), rendered with
/// the configured pages. The admin's "send password reset" action and the reset form both use it.
pub fn reset_email(
    auth: &AuthSession,
    user: &User,
    links: &ResetLinks,
) -> Result<crate::EmailMessage, Error> {
    let config = &auth.shared.config;
    let pk = user.id.to_string();
    let uid = tokens::uidb64(&pk);
    let token = config
        .password_reset_tokens()
        .make_token(&TokenUser::of_user(user, &pk), chrono::Utc::now());
    let context = PasswordResetEmail {
        email: user.email.clone(),
        username: user.username.clone(),
        reset_url: format!(
            "{}://{}{}reset/{uid}/{token}/",
            links.protocol, links.domain, links.accounts_path
        ),
        domain: links.domain.clone(),
        site_name: config
            .reset
            .site_name
            .clone()
            .unwrap_or_else(|| links.domain.clone()),
        protocol: links.protocol.clone(),
        uid,
        token,
        from_email: config.reset.from_email.clone(),
    };
    config
        .pages
        .password_reset_email(&context)
        .map_err(|e| Error::Render {
            template: "castellan/registration/password_reset_email.html".into(),
            message: format!("{e:#}"),
        })
}

/// Sends `user` the password-reset e-mail now, through the configured sender; an error when it
/// cannot be rendered or sent.
pub async fn send_reset_email(
    auth: &AuthSession,
    user: &User,
    links: &ResetLinks,
) -> Result<(), Error> {
    let message = reset_email(auth, user, links)?;
    auth.shared
        .config
        .reset
        .sender
        .send(&message)
        .await
        .map_err(|e| Error::Config(format!("the password-reset e-mail could not be sent: {e}")))
}

/// The host of the links: the configured domain, else the request's `Host` when the allowed
/// hosts validated it (`None` otherwise: an unvalidated `Host` is the attacker's choice, and so is
/// one that the pattern `*` lets through).
fn link_domain(auth: &AuthSession, headers: &HeaderMap, uri: &http::Uri) -> Option<String> {
    let config = &auth.shared.config;
    if let Some(domain) = &config.reset.domain {
        return Some(domain.clone());
    }
    if config.allowed_hosts.is_empty() || config.allowed_hosts.iter().any(|h| h == "*") {
        return None;
    }
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| uri.authority().map(|a| a.as_str().to_owned()))
        .filter(|h| !h.is_empty())
}

/// `path` ending with `/`.
fn with_slash(path: &str) -> String {
    if path.ends_with('/') {
        path.to_owned()
    } else {
        format!("{path}/")
    }
}

/// The directory above `path`'s last segment, ending with `/`: `/accounts/password_reset/` →
/// `/accounts/`.
fn parent_path(path: &str) -> String {
    match path.trim_end_matches('/').rsplit_once('/') {
        Some((parent, _)) => format!("{parent}/"),
        None => "/".to_owned(),
    }
}

/// `GET password_reset/done/`.
pub async fn password_reset_done(auth: AuthSession) -> Response {
    auth.shared
        .config
        .pages
        .password_reset_done()
        .into_response()
}

/// What a confirmation link leads to.
enum Link {
    /// A valid token in the URL: moved into the session, redirect here.
    Redirect(String),
    /// `set-password` with a valid token in the session: the form for this user.
    Valid(User),
    /// Anything else: the invalid-link page.
    Invalid,
}

/// Django's `PasswordResetConfirmView.dispatch`: the user the link names and whether its token
/// (in the URL or, for `set-password`, in the session) is valid for them.
async fn check_link(
    auth: &AuthSession,
    path: &str,
    uidb64: &str,
    token: &str,
) -> Result<Link, Error> {
    let Some(pk) = tokens::pk_from_uidb64(uidb64) else {
        tracing::debug!("password-reset link refused: its uidb64 is not base 64 of UTF-8");
        return Ok(Link::Invalid);
    };
    let user = auth
        .shared
        .users
        .user_by_session_id(&pk)
        .await
        .map_err(|e| auth.backend_error(e))?;
    let Some(user) = user else {
        tracing::debug!(user = %pk, "password-reset link refused: no such user");
        return Ok(Link::Invalid);
    };
    let generator = auth.shared.config.password_reset_tokens();
    let now = chrono::Utc::now();
    let pk = user.id.to_string();
    let token_user = TokenUser::of_user(&user, &pk);
    if token == RESET_URL_TOKEN {
        let stored = auth.get(INTERNAL_RESET_SESSION_TOKEN);
        let stored = stored.as_ref().and_then(Value::as_str).unwrap_or_default();
        return Ok(match generator.verify(&token_user, stored, now) {
            Ok(()) => Link::Valid(user),
            Err(e) => {
                tracing::debug!(user = %pk, reason = %e, "password-reset form refused");
                Link::Invalid
            }
        });
    }
    if let Err(e) = generator.verify(&token_user, token, now) {
        tracing::debug!(user = %pk, reason = %e, "password-reset link refused");
        return Ok(Link::Invalid);
    }
    auth.insert(
        INTERNAL_RESET_SESSION_TOKEN,
        Value::String(token.to_owned()),
    );
    // The same path with the token replaced: its last segment.
    let redirect = match path.trim_end_matches('/').rsplit_once('/') {
        Some((parent, last)) if last == token => format!("{parent}/{RESET_URL_TOKEN}/"),
        _ => path.replace(token, RESET_URL_TOKEN),
    };
    Ok(Link::Redirect(redirect))
}

/// Django's `never_cache`: the confirmation pages are never stored by a cache.
fn never_cache(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=0, no-cache, no-store, must-revalidate, private"),
    );
    response.headers_mut().insert(
        header::EXPIRES,
        HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"),
    );
    response
}

fn confirm_page(auth: &AuthSession, validlink: bool, errors: Vec<String>) -> Response {
    let config = &auth.shared.config;
    let page = PasswordResetConfirmPage {
        csrf_token: auth.csrf_token(),
        validlink,
        errors,
        help_texts: if validlink {
            config.password_validators.help_texts()
        } else {
            Vec::new()
        },
    };
    never_cache((StatusCode::OK, config.pages.password_reset_confirm(&page)).into_response())
}

/// `GET reset/<uidb64>/<token>/`: a valid token is moved into the session and the browser sent
/// to `reset/<uidb64>/set-password/`, which shows the new-password form; an invalid link shows
/// the page saying so.
pub async fn password_reset_confirm(
    auth: AuthSession,
    OriginalUri(uri): OriginalUri,
    Path((uidb64, token)): Path<(String, String)>,
) -> Response {
    match check_link(&auth, uri.path(), &uidb64, &token).await {
        Ok(Link::Redirect(to)) => never_cache(found(&to)),
        Ok(Link::Valid(_)) => confirm_page(&auth, true, Vec::new()),
        Ok(Link::Invalid) => confirm_page(&auth, false, Vec::new()),
        Err(e) => e.into_response(),
    }
}

/// `POST reset/<uidb64>/set-password/`: Django's `SetPasswordForm` — both fields required and
/// equal, the password validators pass — then the password is set, the token leaves the session
/// (the new password hash has invalidated it anyway) and the browser goes to `reset/done/`.
pub async fn password_reset_confirm_post(
    auth: AuthSession,
    OriginalUri(uri): OriginalUri,
    Path((uidb64, token)): Path<(String, String)>,
    Form(form): Form<SetPasswordForm>,
) -> Response {
    let user = match check_link(&auth, uri.path(), &uidb64, &token).await {
        Ok(Link::Redirect(to)) => return never_cache(found(&to)),
        Ok(Link::Valid(user)) => user,
        Ok(Link::Invalid) => return confirm_page(&auth, false, Vec::new()),
        Err(e) => return e.into_response(),
    };
    let new1 = form.new_password1.unwrap_or_default();
    let new2 = form.new_password2.unwrap_or_default();
    let config = &auth.shared.config;
    let mut errors = Vec::new();
    if new1.is_empty() || new2.is_empty() {
        errors.push("This field is required.".to_owned());
    } else if new1.len() > MAX_PASSWORD_BYTES {
        errors.push(format!(
            "This password is too long: at most {MAX_PASSWORD_BYTES} bytes are accepted."
        ));
    } else if new1 != new2 {
        errors.push(MISMATCH.to_owned());
    } else if let Err(problems) = config
        .password_validators
        .validate(&new2, &UserAttributes::of_user(&user))
    {
        errors.extend(problems);
    }
    if !errors.is_empty() {
        return confirm_page(&auth, true, errors);
    }
    match auth.users().set_password(&user, &new1).await {
        Ok(Some(_)) => {}
        Ok(None) => return confirm_page(&auth, false, Vec::new()),
        Err(e) => return auth.backend_error(e).into_response(),
    }
    auth.remove(INTERNAL_RESET_SESSION_TOKEN);
    let reset = parent_path(&parent_path(uri.path()));
    never_cache(found(&format!("{reset}done/")))
}

/// `GET reset/done/`: the password is set; a link to the login page.
pub async fn password_reset_complete(auth: AuthSession) -> Response {
    let config = &auth.shared.config;
    config
        .pages
        .password_reset_complete(&config.login_url)
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(parent_path("/accounts/password_reset/"), "/accounts/");
        assert_eq!(parent_path("/password_reset/"), "/");
        assert_eq!(parent_path("/password_reset"), "/");
        assert_eq!(
            parent_path(&parent_path("/accounts/reset/MQ/set-password/")),
            "/accounts/reset/"
        );
        assert_eq!(with_slash("/a"), "/a/");
        assert_eq!(with_slash("/a/"), "/a/");
    }

    #[test]
    fn emails_are_cleaned_as_django() {
        assert_eq!(clean_email(Some("  a@b.org ".into())), Ok("a@b.org".into()));
        assert_eq!(clean_email(None).unwrap_err().1, "This field is required.");
        assert_eq!(
            clean_email(Some("nope".into())).unwrap_err().1,
            INVALID_EMAIL
        );
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(clean_email(Some(long))
            .unwrap_err()
            .1
            .contains("at most 254"));
    }
}
