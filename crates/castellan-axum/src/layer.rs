//! [`AuthLayer`]: loads the session and the user once per request, enforces CSRF on unsafe
//! methods, puts an [`AuthSession`] in the request extensions, and writes the session (row and
//! cookies) when the response goes out.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use castellan_core::{PermIndex, Principal};
use castellan_store::Store;
use http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use serde_json::Value;
use tower_layer::Layer;
use tower_service::Service;

use crate::config::{AuthConfig, MODEL_BACKEND};
use crate::csrf::{self, CsrfFailure};
use crate::error::{Error, Result};
use crate::require::{Require, RequireLayer};
use crate::session::{self, AuthSession, State};
use crate::signing;
use crate::throttle::Throttle;

/// Largest form body read for the CSRF token (larger forms must send `X-CSRFToken`).
const MAX_FORM_BYTES: usize = 1024 * 1024;

/// What every request of one application shares.
pub(crate) struct Shared {
    pub(crate) config: AuthConfig,
    pub(crate) store: Store,
    pub(crate) index: Arc<PermIndex>,
    pub(crate) throttle: Throttle,
    /// The configured trusted group names plus every group guard's names (see [`AuthLayer::check`]).
    pub(crate) trusted: std::sync::RwLock<castellan_core::TrustedGroups>,
}

/// The tower layer that authenticates requests from Django sessions. Build it once at start-up with
/// [`AuthLayer::new`], add it with `Router::layer`, and make guards with [`AuthLayer::require`].
#[derive(Clone)]
pub struct AuthLayer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for AuthLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthLayer")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl AuthLayer {
    /// Checks the configuration and loads the database's permission index, against which every
    /// guard's permission names are validated when the router is built.
    pub async fn new(store: Store, config: AuthConfig) -> Result<Self> {
        if config.secret_key.is_empty() {
            return Err(Error::Config(
                "the secret key is empty: pass Django's SECRET_KEY to AuthConfig::new".into(),
            ));
        }
        // An adopted Django database without django.contrib.sessions gets its table now.
        store
            .ensure_sessions()
            .await
            .map_err(|e| Error::store(e, config.retry_after))?;
        let index = store
            .permission_index()
            .await
            .map_err(|e| Error::store(e, config.retry_after))?;
        let throttle = Throttle::new(config.throttle.clone());
        let trusted = std::sync::RwLock::new(config.trusted_groups.clone());
        Ok(Self {
            shared: Arc::new(Shared {
                config,
                store,
                index,
                throttle,
                trusted,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &AuthConfig {
        &self.shared.config
    }

    /// The trusted group names: the configured ones and every checked group guard's.
    pub fn trusted_groups(&self) -> castellan_core::TrustedGroups {
        self.shared.trusted_groups()
    }

    /// Trusts more group names after start-up (e.g. a policy applied later).
    pub fn trust_groups(&self, more: &castellan_core::TrustedGroups) {
        self.shared
            .trusted
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend(more);
    }

    /// A route layer enforcing `require` on `route` (use with `Router::route_layer`, so that an
    /// unmatched path stays a 404). Every permission it names must exist in the database: an
    /// unknown one is an [`Error::Config`] naming the route and the closest real permission.
    pub fn require(&self, route: &str, require: Require) -> Result<RequireLayer> {
        self.check(route, &require)?;
        Ok(RequireLayer::new(require))
    }

    /// Validates a guard's permission names without building a layer (for [`Authorized`](crate::Authorized)
    /// extractors: call it once per guard type at start-up). A group guard's names become trusted
    /// group names ([`AuthLayer::trusted_groups`]): a group guard whose names were never checked
    /// here nor configured with [`AuthConfig::with_trusted_groups`](crate::AuthConfig::with_trusted_groups)
    /// refuses every request with a configuration error, since the admin could not protect them.
    pub fn check(&self, route: &str, require: &Require) -> Result<()> {
        if !require.groups().is_empty() {
            let mut trusted = self
                .shared
                .trusted
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for group in require.groups() {
                trusted.trust(group.clone(), format!("guard {route}"));
            }
        }
        for perm in require.permissions() {
            if self.shared.index.resolve(perm).is_none() {
                let hint = self
                    .shared
                    .index
                    .closest(perm)
                    .map(|c| format!("; did you mean {c:?}?"))
                    .unwrap_or_default();
                return Err(Error::Config(format!(
                    "route {route:?}: unknown permission {perm:?}{hint}"
                )));
            }
        }
        Ok(())
    }
}

impl Shared {
    /// A copy of the trusted group names.
    pub(crate) fn trusted_groups(&self) -> castellan_core::TrustedGroups {
        self.trusted
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Whether `name` is a trusted group name.
    pub(crate) fn is_trusted_group(&self, name: &str) -> bool {
        self.trusted
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_trusted(name)
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The service [`AuthLayer`] wraps around the application.
#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> std::fmt::Debug for AuthService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService").finish_non_exhaustive()
    }
}

impl<S> Service<Request<Body>> for AuthService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = Arc::clone(&self.shared);
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            let config = &shared.config;
            if !config.allowed_hosts.is_empty()
                && !crate::config::host_allowed(&host(&parts), &config.allowed_hosts)
            {
                tracing::warn!(host = %host(&parts), "invalid Host header");
                return Ok((
                    StatusCode::BAD_REQUEST,
                    "Bad Request (400): invalid Host header.",
                )
                    .into_response());
            }
            let session_cookie = cookie(&parts.headers, &config.session_cookie_name);
            let csrf_cookie = cookie(&parts.headers, &config.csrf_cookie_name);
            let state = match load(&shared, session_cookie.as_deref(), csrf_cookie.as_deref()).await
            {
                Ok(state) => state,
                Err(e) => return Ok(e.into_response()),
            };
            let auth = AuthSession {
                shared: Arc::clone(&shared),
                state: Arc::new(Mutex::new(state)),
            };
            let exempt = config
                .csrf_exempt
                .iter()
                .any(|p| parts.uri.path().starts_with(p.as_str()));
            let mut body = body;
            let mut response = None;
            if !csrf::is_safe_method(&parts.method) && !exempt {
                match check_csrf(&shared, &auth, &parts.headers, host(&parts), body).await {
                    Ok(b) => body = b,
                    Err(failure) => {
                        tracing::warn!(path = %parts.uri.path(), reason = %failure, "CSRF check failed");
                        response = Some(
                            (
                                StatusCode::FORBIDDEN,
                                format!("CSRF verification failed. Request aborted. {failure}"),
                            )
                                .into_response(),
                        );
                        body = Body::empty();
                    }
                }
            }
            let response = match response {
                Some(r) => r,
                None => {
                    parts.extensions.insert(auth.clone());
                    inner.call(Request::from_parts(parts, body)).await?
                }
            };
            Ok(finish(&shared, &auth, session_cookie.is_some(), response).await)
        })
    }
}

/// The request's host (`Host` header, else the URI authority).
pub(crate) fn host(parts: &http::request::Parts) -> String {
    parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts.uri.authority().map(|a| a.as_str().to_owned()))
        .unwrap_or_default()
}

/// The first cookie called `name` (a duplicate later in the header is ignored).
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim_matches('"').to_owned())
}

async fn load(
    shared: &Shared,
    session_key: Option<&str>,
    csrf_cookie: Option<&str>,
) -> Result<State> {
    let retry = shared.config.retry_after;
    let mut state = State {
        key: None,
        data: serde_json::Map::new(),
        modified: false,
        delete: Vec::new(),
        user: None,
        principal: Principal::anonymous(Arc::clone(&shared.index)),
        csrf_secret: csrf_cookie.and_then(csrf::secret_from_cookie),
        csrf_cookie_update: false,
    };
    let Some(key) = session_key.filter(|k| session::valid_session_key(k)) else {
        return Ok(state);
    };
    let store = &shared.store;
    let Some(text) = store
        .session_data(key)
        .await
        .map_err(|e| Error::store(e, retry))?
    else {
        return Ok(state);
    };
    state.key = Some(key.to_owned());
    state.data = session::decode_session(&text, &shared.config.secret_key);
    let Some(id) = state.data.get(session::SESSION_KEY) else {
        return Ok(state);
    };
    let id = match id {
        Value::String(s) => s.parse::<i64>().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    };
    let backend_ok = state
        .data
        .get(session::BACKEND_SESSION_KEY)
        .and_then(Value::as_str)
        == Some(MODEL_BACKEND);
    let user = match id {
        Some(id) if backend_ok => store
            .user_by_id(id)
            .await
            .map_err(|e| Error::store(e, retry))?,
        _ => None,
    };
    let valid = user.filter(|u| {
        u.is_active
            && state
                .data
                .get(session::HASH_SESSION_KEY)
                .and_then(Value::as_str)
                .is_some_and(|h| {
                    signing::constant_time_eq(
                        h,
                        &signing::session_auth_hash(&u.password, &shared.config.secret_key),
                    )
                })
    });
    match valid {
        Some(user) => {
            state.principal = store
                .principal_for_user(&user)
                .await
                .map_err(|e| Error::store(e, retry))?;
            state.user = Some(user);
        }
        None => {
            // Deleted, deactivated, password changed, or a backend we do not run: log out.
            state.data.clear();
            if let Some(old) = state.key.take() {
                state.delete.push(old);
            }
            state.modified = true;
        }
    }
    Ok(state)
}

async fn check_csrf(
    shared: &Shared,
    auth: &AuthSession,
    headers: &HeaderMap,
    host: String,
    body: Body,
) -> std::result::Result<Body, CsrfFailure> {
    let config = &shared.config;
    csrf::check_origin(headers, &host, config.https, &config.trusted_origins)?;
    let secret = auth
        .lock()
        .csrf_secret
        .clone()
        .ok_or(CsrfFailure::NoCookie)?;
    if let Some(token) = headers.get("x-csrftoken") {
        let token = token.to_str().map_err(|_| CsrfFailure::BadToken)?;
        return if csrf::token_matches(token, &secret) {
            Ok(body)
        } else {
            Err(CsrfFailure::BadToken)
        };
    }
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(CsrfFailure::NoToken);
    }
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| CsrfFailure::NoToken)?;
    let token = form_value(&bytes, "csrfmiddlewaretoken").ok_or(CsrfFailure::NoToken)?;
    if csrf::token_matches(&token, &secret) {
        Ok(Body::from(bytes))
    } else {
        Err(CsrfFailure::BadToken)
    }
}

/// The last value of `name` in a urlencoded body (Django's `QueryDict.get`).
pub(crate) fn form_value(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    text.split('&').rev().find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k) == name).then(|| decode(v))
    })
}

fn set_cookie(response: &mut Response, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn cookie_attrs(config: &AuthConfig, max_age: u64, http_only: bool) -> String {
    let expires = chrono::Utc::now()
        + chrono::Duration::seconds(
            i64::try_from(max_age)
                .unwrap_or(i64::MAX / 2)
                .min(400 * 86400),
        );
    let mut s = format!(
        "; expires={}; Max-Age={max_age}; Path=/; SameSite={}",
        expires.format("%a, %d %b %Y %H:%M:%S GMT"),
        config.same_site
    );
    if http_only {
        s.push_str("; HttpOnly");
    }
    if config.secure_cookies() {
        s.push_str("; Secure");
    }
    s
}

/// Writes the session: deletes replaced rows, saves modified data under its (possibly new) key,
/// sets or clears the cookies. A database failure here turns the response into a 503.
async fn finish(
    shared: &Shared,
    auth: &AuthSession,
    had_cookie: bool,
    mut response: Response,
) -> Response {
    let config = &shared.config;
    let (delete, save, clear, csrf_cookie) = {
        let mut state = auth.lock();
        let delete = std::mem::take(&mut state.delete);
        let mut save = None;
        let mut clear = false;
        if state.modified {
            if state.data.is_empty() {
                clear = had_cookie;
            } else {
                let key = state
                    .key
                    .get_or_insert_with(session::new_session_key)
                    .clone();
                save = Some((
                    key,
                    session::encode_session(&state.data, &config.secret_key),
                ));
            }
            state.modified = false;
        }
        let csrf_cookie = state
            .csrf_cookie_update
            .then(|| state.csrf_secret.clone())
            .flatten();
        (delete, save, clear, csrf_cookie)
    };
    let store = &shared.store;
    for key in delete {
        if let Err(e) = store.delete_session(&key).await {
            return Error::store(e, config.retry_after).into_response();
        }
    }
    if let Some((key, data)) = save {
        let expire = chrono::Utc::now()
            + chrono::Duration::from_std(config.session_age).unwrap_or(chrono::Duration::days(14));
        if let Err(e) = store.save_session(&key, &data, expire).await {
            return Error::store(e, config.retry_after).into_response();
        }
        let attrs = cookie_attrs(
            config,
            config.session_age.as_secs(),
            config.session_cookie_httponly,
        );
        set_cookie(
            &mut response,
            format!("{}={key}{attrs}", config.session_cookie_name),
        );
    } else if clear {
        let mut attrs = format!(
            "; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite={}",
            config.same_site
        );
        if config.secure_cookies() {
            attrs.push_str("; Secure");
        }
        set_cookie(
            &mut response,
            format!("{}=\"\"{attrs}", config.session_cookie_name),
        );
    }
    if let Some(secret) = csrf_cookie {
        // Django's CSRF_COOKIE_AGE: one year; never HttpOnly (JavaScript reads it for X-CSRFToken).
        let attrs = cookie_attrs(config, 31_449_600, false);
        set_cookie(
            &mut response,
            format!("{}={secret}{attrs}", config.csrf_cookie_name),
        );
    }
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("Cookie"));
    response
}
