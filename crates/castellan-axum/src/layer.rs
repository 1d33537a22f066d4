//! [`AuthLayer`]: loads the session and the user once per request, enforces CSRF on unsafe
//! methods, puts an [`AuthSession`] in the request extensions, and writes the session (row and
//! cookies) when the response goes out.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Response};
use castellan_core::{AuthnBackend, PermIndex, Principal, SessionStore, UserId};
use http::{HeaderMap, Request, StatusCode};
use serde_json::Value;
use tower_layer::Layer;
use tower_service::Service;

use crate::backend::Users;
use crate::config::{AuthConfig, MODEL_BACKEND};
use crate::csrf::{self, CsrfFailure};
use crate::error::{Error, Result};
use crate::form;
use crate::headers::{cookie, cookie_attrs, security_headers, set_cookie, vary_on_cookie};
use crate::hosts::{host, host_allowed, request_host};
use crate::input::check_input;
use crate::require::{Require, RequireLayer};
use crate::session::{self, AuthSession, State};
use crate::shared::Shared;
use crate::signing::{self, HashCheck};
use crate::throttle::Throttle;

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
    /// Checks the configuration and loads the backend's permission index, against which every
    /// guard's permission names are validated when the router is built. `backend` keeps both the
    /// users and the sessions: a `castellan_store::Store` (Django's tables) or a
    /// [`MemoryBackend`](castellan_core::MemoryBackend).
    pub async fn new<B>(backend: B, config: AuthConfig) -> Result<Self>
    where
        B: AuthnBackend + SessionStore + Clone,
    {
        Self::build(backend.clone(), backend, config, true).await
    }

    /// Like [`AuthLayer::new`], with users and sessions kept in different places.
    pub async fn with_session_store(
        users: impl AuthnBackend,
        sessions: impl SessionStore,
        config: AuthConfig,
    ) -> Result<Self> {
        Self::build(users, sessions, config, false).await
    }

    /// `one_backend`: `users` and `sessions` are the same backend, which may read a session and
    /// its user in one step ([`SessionStore::load_with_user`]).
    async fn build(
        users: impl AuthnBackend,
        sessions: impl SessionStore,
        config: AuthConfig,
        one_backend: bool,
    ) -> Result<Self> {
        if config.keys.current().is_empty() {
            return Err(Error::Config(
                "the secret key is empty: pass Django's SECRET_KEY to AuthConfig::new".into(),
            ));
        }
        let retry = config.retry_after;
        sessions
            .prepare()
            .await
            .map_err(|e| Error::backend(e, retry))?;
        let index = users
            .permission_index()
            .await
            .map_err(|e| Error::backend(e, retry))?;
        let throttle = Throttle::new(config.throttle.clone());
        Ok(Self {
            shared: Arc::new(Shared::new(
                config,
                Users::new(users),
                Arc::new(sessions),
                index,
                throttle,
                one_backend,
            )),
        })
    }

    /// The users behind this layer (its [`AuthnBackend`], type-erased).
    pub fn users(&self) -> Users {
        self.shared.users.clone()
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

    /// `handler` (the methods of one route) behind `require`: [`AuthLayer::require`] applied with
    /// `MethodRouter::route_layer`, so guarding a route reads as one step.
    ///
    /// ```no_run
    /// # async fn demo(auth: castellan_axum::AuthLayer) -> castellan_axum::Result<()> {
    /// use axum::routing::get;
    /// use castellan_axum::Require;
    ///
    /// let app: axum::Router = axum::Router::new().route(
    ///     "/books/add/",
    ///     auth.guard("/books/add/", Require::perm("library.add_book"), get(|| async { "form" }))?,
    /// );
    /// # let _ = app; Ok(()) }
    /// ```
    pub fn guard<S>(
        &self,
        route: &str,
        require: Require,
        handler: axum::routing::MethodRouter<S>,
    ) -> Result<axum::routing::MethodRouter<S>>
    where
        S: Clone + Send + Sync + 'static,
    {
        Ok(handler.route_layer(self.require(route, require)?))
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
        unknown_permission(&self.shared.index(), route, require)
    }

    /// [`AuthLayer::check`] for a guard made after start-up: a permission the layer does not know
    /// yet makes it reload the permissions first ([`AuthLayer::refresh_permissions`]), so a
    /// permission created since (by `castellan sync`, Django's `migrate`, the admin) is accepted
    /// and a typo is still refused with the closest real name.
    pub async fn check_fresh(&self, route: &str, require: &Require) -> Result<()> {
        if self.check(route, require).is_ok() {
            return Ok(());
        }
        let index = self.refresh_permissions().await?;
        unknown_permission(&index, route, require)
    }

    /// [`AuthLayer::require`] with [`AuthLayer::check_fresh`]'s validation.
    pub async fn require_fresh(&self, route: &str, require: Require) -> Result<RequireLayer> {
        self.check_fresh(route, &require).await?;
        Ok(RequireLayer::new(require))
    }

    /// Reloads the permission index from the backend now, for [`AuthLayer::check`] and the
    /// anonymous user. The layer also takes a newer index on its own from the next logged-in
    /// request after the catalog changed; call this where a guard must see a permission that
    /// was just created and no request has come since.
    pub async fn refresh_permissions(&self) -> Result<Arc<PermIndex>> {
        let index = self
            .shared
            .users
            .permission_index()
            .await
            .map_err(|e| Error::backend(e, self.shared.config.retry_after))?;
        self.shared.observe_index(&index);
        Ok(index)
    }

    /// The permission index the layer validates guards against (see [`AuthLayer::refresh_permissions`]).
    pub fn permission_index(&self) -> Arc<PermIndex> {
        self.shared.index()
    }
}

/// The first permission `require` names that `index` does not hold, as the configuration error
/// naming the route and the closest real permission.
fn unknown_permission(index: &PermIndex, route: &str, require: &Require) -> Result<()> {
    for perm in require.permissions() {
        if index.resolve(perm).is_none() {
            let hint = index
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
        let inner = std::mem::replace(&mut self.inner, clone);
        let shared = Arc::clone(&self.shared);
        Box::pin(async move {
            let (mut response, logged_in) = handle(&shared, inner, req).await?;
            security_headers(&shared.config, &mut response, logged_in);
            Ok(response)
        })
    }
}

/// One request through the layer: the Host check, the input limits, the session, CSRF, the
/// application, and the session write. Also says whether a user was logged in (before or after).
async fn handle<S>(
    shared: &Arc<Shared>,
    inner: S,
    req: Request<Body>,
) -> std::result::Result<(Response, bool), Infallible>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
    let (mut parts, body) = req.into_parts();
    let config = &shared.config;
    if let Some(host) = request_host(&parts) {
        if !config.allowed_hosts.is_empty() && !host_allowed(&host, &config.allowed_hosts) {
            tracing::warn!(host = %host, "invalid Host header; add it to the allowed hosts");
            let message = format!(
                "Bad Request (400): the Host header {host:?} is not one of the allowed hosts. \
                 Add it to AuthConfig::with_allowed_hosts (castellan serve, bookshelf: --allowed-host)."
            );
            return Ok(((StatusCode::BAD_REQUEST, message).into_response(), false));
        }
    }
    let (body, form) = match check_input(config, &parts, body).await {
        Ok(checked) => checked,
        Err(e) => {
            tracing::warn!(path = %parts.uri.path(), reason = %e, "request data refused");
            let message = format!(
                "{} ({}): {e}",
                e.status_code().canonical_reason().unwrap_or("Bad Request"),
                e.status_code().as_u16()
            );
            return Ok(((e.status_code(), message).into_response(), false));
        }
    };
    let session_cookie = cookie(&parts.headers, &config.session_cookie_name);
    let csrf_cookie = cookie(&parts.headers, &config.csrf_cookie_name);
    let state = match load(shared, session_cookie.as_deref(), csrf_cookie.as_deref()).await {
        Ok(state) => state,
        Err(e) => return Ok((e.into_response(), false)),
    };
    let had_user = state.user.is_some();
    let auth = AuthSession {
        shared: Arc::clone(shared),
        state: Arc::new(Mutex::new(state)),
    };
    let exempt = config
        .csrf_exempt
        .iter()
        .any(|p| parts.uri.path().starts_with(p.as_str()));
    let mut response = None;
    if !csrf::is_safe_method(&parts.method) && !exempt {
        if let Err(failure) =
            check_csrf(shared, &auth, &parts.headers, host(&parts), form.as_deref())
        {
            tracing::warn!(path = %parts.uri.path(), reason = %failure, "CSRF check failed");
            response = Some(
                (
                    StatusCode::FORBIDDEN,
                    format!("CSRF verification failed. Request aborted. {failure}"),
                )
                    .into_response(),
            );
        }
    }
    let response = match response {
        Some(r) => r,
        None => {
            parts.extensions.insert(auth.clone());
            let req = Request::from_parts(parts, body);
            if form.is_some() {
                // The body is read and within the configured limit: axum's own default (2 MB)
                // must not refuse it again.
                let limit = match config.form_limits.max_body_bytes {
                    Some(n) => DefaultBodyLimit::max(n),
                    None => DefaultBodyLimit::disable(),
                };
                limit.layer(inner).call(req).await?
            } else {
                let mut inner = inner;
                inner.call(req).await?
            }
        }
    };
    let response = finish(shared, &auth, session_cookie.is_some(), response).await;
    let logged_in = had_user || auth.lock().user.is_some();
    Ok((response, logged_in))
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
        principal: Principal::anonymous(shared.index()),
        csrf_secret: csrf_cookie.and_then(csrf::secret_from_cookie),
        csrf_cookie_update: false,
    };
    let Some(key) = session_key.filter(|k| session::valid_session_key(k)) else {
        return Ok(state);
    };
    // The user this session named last time: a backend keeping both reads the session and that
    // user (with their permissions) in one step.
    let guess = shared.session_users.as_ref().and_then(|m| m.get(key));
    let loaded = match guess {
        Some(user) => shared.sessions.load_with_user(key, user).await,
        None => shared
            .sessions
            .load(key)
            .await
            .map(|data| data.map(|data| castellan_core::SessionWithUser { data, user: None })),
    };
    let Some(loaded) = loaded.map_err(|e| Error::backend(e, retry))? else {
        if let Some(m) = &shared.session_users {
            m.forget(key);
        }
        shared.decoded.forget(key);
        return Ok(state);
    };
    state.key = Some(key.to_owned());
    // An unchanged row is not verified and parsed again (the same answer, remembered).
    state.data = shared
        .decoded
        .decode(key, &loaded.data, &shared.config.keys);
    let Some(id) = state.data.get(session::SESSION_KEY) else {
        return Ok(state);
    };
    // Django stores the key as a string; borrowed, so the warm path allocates nothing here.
    let id = match id {
        Value::String(s) => Some(std::borrow::Cow::Borrowed(s.as_str())),
        Value::Number(n) => Some(std::borrow::Cow::Owned(n.to_string())),
        _ => None,
    };
    let backend_ok = state
        .data
        .get(session::BACKEND_SESSION_KEY)
        .and_then(Value::as_str)
        == Some(MODEL_BACKEND);
    // The user read with the session counts only when the session still names them.
    let (user, principal) = match (id, loaded.user) {
        (Some(id), Some((u, p))) if backend_ok && UserId::parse(u.id.kind(), &id) == Some(u.id) => {
            (Some(u), Some(p))
        }
        (Some(id), _) if backend_ok => (
            shared
                .users
                .user_by_session_id(&id)
                .await
                .map_err(|e| Error::backend(e, retry))?,
            None,
        ),
        _ => (None, None),
    };
    let keys = &shared.config.keys;
    let stored_hash = state
        .data
        .get(session::HASH_SESSION_KEY)
        .and_then(Value::as_str);
    let (valid, rotate) = match user {
        Some(u) if u.is_active => {
            match shared
                .decoded
                .check_hash(key, &loaded.data, stored_hash, &u.password, keys)
            {
                HashCheck::Current => (Some(u), false),
                HashCheck::Fallback => (Some(u), true),
                HashCheck::Invalid => (None, false),
            }
        }
        _ => (None, false),
    };
    if let (true, Some(u)) = (rotate, &valid) {
        // Django's get_user: a hash made with a fallback key is valid; the session moves to a
        // new key and gets the hash made with the current key.
        let hash = signing::session_auth_hash(&u.password, keys.current());
        state
            .data
            .insert(session::HASH_SESSION_KEY.into(), Value::String(hash));
        if let Some(old) = state.key.take() {
            state.delete.push(old);
        }
        state.modified = true;
    }
    match valid {
        Some(user) => {
            state.principal = match principal {
                Some(p) => p,
                None => shared
                    .users
                    .principal(&user)
                    .await
                    .map_err(|e| Error::backend(e, retry))?,
            };
            shared.observe_index(state.principal.index());
            if let (Some(m), Some(key)) = (&shared.session_users, &state.key) {
                m.remember(key, user.id);
            }
            state.user = Some(user);
        }
        None => {
            if let Some(m) = &shared.session_users {
                m.forget(key);
            }
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

fn check_csrf(
    shared: &Shared,
    auth: &AuthSession,
    headers: &HeaderMap,
    host: String,
    form: Option<&[(String, String)]>,
) -> std::result::Result<(), CsrfFailure> {
    let config = &shared.config;
    csrf::check_origin(headers, &host, config.https, &config.trusted_origins)?;
    let secret = auth
        .lock()
        .csrf_secret
        .clone()
        .ok_or(CsrfFailure::NoCookie)?;
    let token = match headers.get("x-csrftoken") {
        Some(token) => token.to_str().map_err(|_| CsrfFailure::BadToken)?,
        None => form
            .and_then(|fields| form::last_value(fields, "csrfmiddlewaretoken"))
            .ok_or(CsrfFailure::NoToken)?,
    };
    if csrf::token_matches(token, &secret) {
        Ok(())
    } else {
        Err(CsrfFailure::BadToken)
    }
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
                    session::encode_session(&state.data, config.keys.current()),
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
    let sessions = &shared.sessions;
    let expire = chrono::Utc::now()
        + chrono::Duration::from_std(config.session_age).unwrap_or(chrono::Duration::days(14));
    let written = match (&delete[..], &save) {
        // The common case after login or a password change: one old key replaced by a new one.
        ([old], Some((key, data))) => sessions.cycle(old, key, data, expire).await,
        _ => {
            async {
                for key in &delete {
                    sessions.delete(key).await?;
                }
                if let Some((key, data)) = &save {
                    sessions.save(key, data, expire).await?;
                }
                Ok(())
            }
            .await
        }
    };
    if let Err(e) = written {
        return Error::backend(e, config.retry_after).into_response();
    }
    if let Some((key, _)) = save {
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
    vary_on_cookie(response.headers_mut());
    response
}
