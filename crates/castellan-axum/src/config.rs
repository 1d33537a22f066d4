//! [`AuthConfig`]: Django's auth, session and CSRF settings as a builder.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use castellan_core::signing::SecretKeys;
use castellan_core::tokens::PasswordResetTokenGenerator;
use castellan_core::{PasswordValidators, TrustedGroups};

use crate::email::{ConsoleEmailSender, EmailSender};
use crate::form::FormLimits;
use crate::pages::{DefaultPages, Pages};
use crate::throttle::ThrottleConfig;

/// Django's `ModelBackend` path, stored in the session's `_auth_user_backend`.
pub const MODEL_BACKEND: &str = "django.contrib.auth.backends.ModelBackend";

/// Settings for [`AuthLayer`](crate::AuthLayer). Defaults are Django's (`LOGIN_URL`,
/// `SESSION_COOKIE_AGE`, cookie names…); only the secret key is required.
#[derive(Clone)]
pub struct AuthConfig {
    pub(crate) keys: SecretKeys,
    pub(crate) login_url: String,
    pub(crate) login_redirect_url: String,
    pub(crate) logout_redirect_url: String,
    pub(crate) session_cookie_name: String,
    pub(crate) csrf_cookie_name: String,
    pub(crate) cookie_secure: Option<bool>,
    pub(crate) session_cookie_httponly: bool,
    pub(crate) same_site: String,
    pub(crate) session_age: Duration,
    pub(crate) https: bool,
    pub(crate) allowed_hosts: Vec<String>,
    pub(crate) redirect_allowed_hosts: Vec<String>,
    pub(crate) trusted_origins: Vec<String>,
    pub(crate) csrf_exempt: Vec<String>,
    pub(crate) throttle: ThrottleConfig,
    pub(crate) trusted_proxies: Vec<IpAddr>,
    pub(crate) hsts_seconds: u64,
    pub(crate) hsts_include_subdomains: bool,
    pub(crate) form_limits: FormLimits,
    pub(crate) retry_after: Duration,
    pub(crate) pages: Arc<dyn Pages>,
    pub(crate) trusted_groups: TrustedGroups,
    pub(crate) password_validators: Arc<PasswordValidators>,
    pub(crate) reset: PasswordResetConfig,
}

/// The password-reset settings of an [`AuthConfig`].
#[derive(Clone)]
pub(crate) struct PasswordResetConfig {
    pub(crate) timeout: Duration,
    pub(crate) from_email: String,
    pub(crate) domain: Option<String>,
    pub(crate) site_name: Option<String>,
    pub(crate) sender: Arc<dyn EmailSender>,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("keys", &self.keys)
            .field("login_url", &self.login_url)
            .field("login_redirect_url", &self.login_redirect_url)
            .field("session_cookie_name", &self.session_cookie_name)
            .field("https", &self.https)
            .field("allowed_hosts", &self.allowed_hosts)
            .finish_non_exhaustive()
    }
}

impl AuthConfig {
    /// A configuration with Django's defaults and `secret_key` (Django's `SECRET_KEY`; share it with
    /// a Django project to honour each other's sessions). An empty key is refused by
    /// [`AuthLayer::new`](crate::AuthLayer::new).
    pub fn new(secret_key: impl Into<Vec<u8>>) -> Self {
        Self {
            keys: SecretKeys::new(secret_key),
            login_url: "/accounts/login/".into(),
            login_redirect_url: "/accounts/profile/".into(),
            logout_redirect_url: "/".into(),
            session_cookie_name: "sessionid".into(),
            csrf_cookie_name: "csrftoken".into(),
            cookie_secure: None,
            session_cookie_httponly: true,
            same_site: "Lax".into(),
            session_age: Duration::from_secs(1_209_600),
            https: false,
            allowed_hosts: Vec::new(),
            redirect_allowed_hosts: Vec::new(),
            trusted_origins: Vec::new(),
            csrf_exempt: Vec::new(),
            throttle: ThrottleConfig::default(),
            trusted_proxies: Vec::new(),
            hsts_seconds: 0,
            hsts_include_subdomains: false,
            form_limits: FormLimits::default(),
            retry_after: Duration::from_secs(5),
            pages: Arc::new(DefaultPages),
            trusted_groups: TrustedGroups::new(),
            password_validators: Arc::new(PasswordValidators::default()),
            reset: PasswordResetConfig {
                timeout: castellan_core::tokens::PASSWORD_RESET_TIMEOUT,
                from_email: "webmaster@localhost".into(),
                domain: None,
                site_name: None,
                sender: Arc::new(ConsoleEmailSender),
            },
        }
    }

    /// Django's `SECRET_KEY_FALLBACKS`: earlier secret keys, still accepted for what they signed —
    /// session data, the session auth hash of a logged-in user, password-reset tokens — while
    /// everything new is signed with the current key. A session whose auth hash verifies only
    /// with a fallback is moved to a new session key with the hash made again under the current
    /// key (as Django's `get_user` does), so it survives the fallback's removal. Rotate a key by
    /// moving the old one here and setting a new one in [`AuthConfig::new`]; drop it once its
    /// sessions and links have expired. Empty keys are ignored.
    pub fn with_secret_key_fallbacks<I, K>(mut self, fallbacks: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: Into<Vec<u8>>,
    {
        self.keys = self.keys.with_fallbacks(fallbacks);
        self
    }

    /// The secret key and its fallbacks.
    pub fn secret_keys(&self) -> &SecretKeys {
        &self.keys
    }

    /// Django's `PASSWORD_RESET_TIMEOUT`: how long a password-reset link stays valid (default
    /// three days).
    pub fn with_password_reset_timeout(mut self, timeout: Duration) -> Self {
        self.reset.timeout = timeout;
        self
    }

    /// Django's `DEFAULT_FROM_EMAIL`: the sender of the password-reset e-mail (default
    /// `webmaster@localhost`).
    pub fn with_from_email(mut self, from: impl Into<String>) -> Self {
        self.reset.from_email = from.into();
        self
    }

    /// Where e-mails go (default [`ConsoleEmailSender`], Django's console backend: the message is
    /// logged and written to stderr, nothing is sent). With the `smtp` feature,
    /// `SmtpEmailSender` (feature `smtp`) sends through a mail server.
    pub fn with_email_sender(mut self, sender: impl EmailSender) -> Self {
        self.reset.sender = Arc::new(sender);
        self
    }

    /// The host name put in password-reset links, and the site name their e-mail shows (Django's
    /// `domain_override`). Without it the request's `Host` is used — which an attacker chooses,
    /// so the reset view then refuses to send unless [`AuthConfig::with_allowed_hosts`] validates
    /// it (with patterns other than `*`).
    pub fn with_password_reset_domain(mut self, domain: impl Into<String>) -> Self {
        self.reset.domain = Some(domain.into());
        self
    }

    /// The site name the password-reset e-mail shows (default: the domain, as Django's
    /// `RequestSite`).
    pub fn with_site_name(mut self, name: impl Into<String>) -> Self {
        self.reset.site_name = Some(name.into());
        self
    }

    /// The password-reset token generator of this configuration: Django's
    /// `default_token_generator` over the secret key, its fallbacks and the reset timeout. An
    /// application (or a command) makes and checks the same links as the built-in views with it.
    pub fn password_reset_tokens(&self) -> PasswordResetTokenGenerator {
        PasswordResetTokenGenerator::new(self.keys.clone()).with_timeout(self.reset.timeout)
    }

    /// Group names the application trusts beyond its group guards (names tested with `has_group`
    /// in templates, the groups of a policy file `sync` applies): the admin treats each as a right
    /// of its own (see [`TrustedGroups`]). The names of every group guard validated by
    /// [`AuthLayer::require`](crate::AuthLayer::require) or [`AuthLayer::check`](crate::AuthLayer::check)
    /// are added to these automatically.
    pub fn with_trusted_groups(mut self, trusted: TrustedGroups) -> Self {
        self.trusted_groups.extend(&trusted);
        self
    }

    /// `AUTH_PASSWORD_VALIDATORS`: the rules a new password must pass in the password-change view
    /// and in the admin (default: Django's four, see [`PasswordValidators`]).
    pub fn with_password_validators(mut self, validators: PasswordValidators) -> Self {
        self.password_validators = Arc::new(validators);
        self
    }

    /// `LOGIN_URL` (default `/accounts/login/`); may carry a query string or be absolute.
    pub fn with_login_url(mut self, url: impl Into<String>) -> Self {
        self.login_url = url.into();
        self
    }

    /// `LOGIN_REDIRECT_URL` (default `/accounts/profile/`).
    pub fn with_login_redirect_url(mut self, url: impl Into<String>) -> Self {
        self.login_redirect_url = url.into();
        self
    }

    /// Where logout redirects when no safe `next` is given (default `/`).
    pub fn with_logout_redirect_url(mut self, url: impl Into<String>) -> Self {
        self.logout_redirect_url = url.into();
        self
    }

    /// `SESSION_COOKIE_NAME` (default `sessionid`).
    pub fn with_session_cookie_name(mut self, name: impl Into<String>) -> Self {
        self.session_cookie_name = name.into();
        self
    }

    /// `CSRF_COOKIE_NAME` (default `csrftoken`).
    pub fn with_csrf_cookie_name(mut self, name: impl Into<String>) -> Self {
        self.csrf_cookie_name = name.into();
        self
    }

    /// The `Secure` flag on both cookies (default: on when [`AuthConfig::with_https`] is on).
    pub fn with_secure_cookies(mut self, secure: bool) -> Self {
        self.cookie_secure = Some(secure);
        self
    }

    /// `HttpOnly` on the session cookie (default on; the CSRF cookie is never HttpOnly, as Django's).
    pub fn with_session_cookie_httponly(mut self, http_only: bool) -> Self {
        self.session_cookie_httponly = http_only;
        self
    }

    /// The `SameSite` attribute of both cookies (default `Lax`).
    pub fn with_same_site(mut self, same_site: impl Into<String>) -> Self {
        self.same_site = same_site.into();
        self
    }

    /// `SESSION_COOKIE_AGE` (default two weeks).
    pub fn with_session_age(mut self, age: Duration) -> Self {
        self.session_age = age;
        self
    }

    /// The application is served over HTTPS (directly or behind a TLS proxy): requests count as
    /// secure (strict Referer check, `next` must be https), and cookies get `Secure`.
    pub fn with_https(mut self, https: bool) -> Self {
        self.https = https;
        self
    }

    /// Django's `SECURE_HSTS_SECONDS`: with [`AuthConfig::with_https`] on and `seconds` above
    /// zero, every response carries `Strict-Transport-Security: max-age=<seconds>` (default 0:
    /// none). Browsers then refuse plain HTTP for the host for that long — start small.
    pub fn with_hsts_seconds(mut self, seconds: u64) -> Self {
        self.hsts_seconds = seconds;
        self
    }

    /// Django's `SECURE_HSTS_INCLUDE_SUBDOMAINS`: adds `includeSubDomains` to the HSTS header.
    pub fn with_hsts_include_subdomains(mut self, include: bool) -> Self {
        self.hsts_include_subdomains = include;
        self
    }

    /// Django's `ALLOWED_HOSTS`: a request whose `Host` matches none of these patterns is answered
    /// 400 before anything else (`example.com` exact, `.example.com` the domain and its subdomains,
    /// `*` anything; case-insensitive; a pattern without a port matches any port, one with a port
    /// only that port — [`default_allowed_hosts`](crate::default_allowed_hosts) builds the list for
    /// a bind address). A request with no `Host` at all (HTTP/1.0) is served as having no host:
    /// only relative `next` URLs are then same-origin, and an `Origin` never matches.
    ///
    /// Empty (the default) validates nothing — then validate `Host` in front of the application,
    /// since the Origin check and the safe-`next` check trust it.
    pub fn with_allowed_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_hosts = hosts.into_iter().map(Into::into).collect();
        self
    }

    /// Reverse proxies whose `X-Forwarded-For` is believed when throttling logins (default none:
    /// the socket address is the client). When the peer is one of these, the client is the
    /// right-most `X-Forwarded-For` address that is not; entries further left were written by the
    /// client and are ignored. Needs the server to provide `ConnectInfo<SocketAddr>` (axum's
    /// `into_make_service_with_connect_info`).
    pub fn with_trusted_proxies<I>(mut self, proxies: I) -> Self
    where
        I: IntoIterator<Item = IpAddr>,
    {
        self.trusted_proxies = proxies
            .into_iter()
            .map(|ip| match ip {
                IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
                v4 => v4,
            })
            .collect();
        self
    }

    /// Limits on query strings and urlencoded bodies (default Django's: 1,000 fields, 2.5 MiB).
    pub fn with_form_limits(mut self, limits: FormLimits) -> Self {
        self.form_limits = limits;
        self
    }

    /// Extra hosts a `next` URL may point to (the request's own host is always allowed); Django's
    /// `success_url_allowed_hosts`.
    pub fn with_redirect_allowed_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.redirect_allowed_hosts = hosts.into_iter().map(Into::into).collect();
        self
    }

    /// `CSRF_TRUSTED_ORIGINS`: other origins (`https://app.example.com`) whose unsafe requests pass
    /// the Origin/Referer check.
    pub fn with_trusted_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.trusted_origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// Path prefixes exempt from CSRF (e.g. `/api/` when those routes authenticate by token, not
    /// cookie).
    pub fn with_csrf_exempt<I, S>(mut self, prefixes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.csrf_exempt = prefixes.into_iter().map(Into::into).collect();
        self
    }

    /// Login throttling limits.
    pub fn with_throttle(mut self, throttle: ThrottleConfig) -> Self {
        self.throttle = throttle;
        self
    }

    /// The `Retry-After` sent with a 503 when the database is unavailable (default 5 s).
    pub fn with_retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// Replaces the pages this crate renders (login, password change and reset, 403, 404): a
    /// [`TemplatePages`](crate::TemplatePages) over the application's templates, or a [`Pages`] of
    /// its own.
    pub fn with_pages(mut self, pages: impl Pages) -> Self {
        self.pages = Arc::new(pages);
        self
    }

    pub(crate) fn secure_cookies(&self) -> bool {
        self.cookie_secure.unwrap_or(self.https)
    }
}
