//! Guards — Django's `login_required`, `permission_required`, `user_passes_test` and the access
//! mixins — as route layers ([`RequireLayer`], from [`AuthLayer::require`](crate::AuthLayer::require))
//! and as extractors ([`LoggedIn`], [`Authorized`]).
//!
//! Outcomes follow Django's `AccessMixin.handle_no_permission` for every guard: an anonymous user
//! is redirected to the login page with `?next=`; an authenticated user without the permission
//! gets 403; `raise_exception` gives 403 to anonymous users too. (Django's *decorators* redirect
//! logged-in users to login as well, which loops; the mixins' behaviour is the one kept here.)

use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use castellan_core::{Principal, User};
use http::request::Parts;
use http::Request;
use tower_layer::Layer;
use tower_service::Service;

use crate::error::Error;
use crate::next::{login_redirect_url, next_for_request};
use crate::pages::Denial;
use crate::rejection::{Denied, MissingAuthLayer};
use crate::session::AuthSession;

/// A test over the request's user (Django's `user_passes_test` function).
pub type TestFn = Arc<dyn Fn(&AuthSession) -> bool + Send + Sync>;
/// A custom `handle_no_permission` for authenticated users (or all, with `raise_exception`).
pub type NoPermissionFn = Arc<dyn Fn(&Denial) -> Response + Send + Sync>;

#[derive(Clone)]
enum Rule {
    Login,
    AllPerms(Vec<String>),
    AnyPerm(Vec<String>),
    AnyGroup(Vec<String>),
    Test(TestFn),
}

/// What a guard requires, and how it answers when the requirement is not met.
///
#[doc = include_str!("docs/guards.md")]
#[derive(Clone)]
pub struct Require {
    rule: Rule,
    raise_exception: bool,
    login_url: Option<String>,
    redirect_field_name: Option<String>,
    no_permission: Option<NoPermissionFn>,
    message: String,
}

impl std::fmt::Debug for Require {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rule = match &self.rule {
            Rule::Login => "login".to_owned(),
            Rule::AllPerms(p) => format!("all of {p:?}"),
            Rule::AnyPerm(p) => format!("any of {p:?}"),
            Rule::AnyGroup(g) => format!("any group of {g:?}"),
            Rule::Test(_) => "test function".to_owned(),
        };
        f.debug_struct("Require")
            .field("rule", &rule)
            .field("raise_exception", &self.raise_exception)
            .finish_non_exhaustive()
    }
}

impl Require {
    fn new(rule: Rule) -> Self {
        Self {
            rule,
            raise_exception: false,
            login_url: None,
            redirect_field_name: Some("next".into()),
            no_permission: None,
            message: String::new(),
        }
    }

    /// A logged-in user (`login_required` / `LoginRequiredMixin`).
    pub fn login() -> Self {
        Self::new(Rule::Login)
    }

    /// One permission, `"app_label.codename"` (`permission_required("app.perm")`).
    pub fn perm(perm: impl Into<String>) -> Self {
        Self::new(Rule::AllPerms(vec![perm.into()]))
    }

    /// Every one of these permissions (`has_perms`; an empty list passes, as in Django).
    pub fn all_perms<I, S>(perms: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new(Rule::AllPerms(perms.into_iter().map(Into::into).collect()))
    }

    /// At least one of these permissions (an empty list fails).
    pub fn any_perm<I, S>(perms: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new(Rule::AnyPerm(perms.into_iter().map(Into::into).collect()))
    }

    /// Membership of at least one of the named groups (exact names); an active superuser passes,
    /// an inactive user never does.
    pub fn any_group<I, S>(groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new(Rule::AnyGroup(groups.into_iter().map(Into::into).collect()))
    }

    /// A test function over the request's user (`user_passes_test` / `UserPassesTestMixin`).
    pub fn test(f: impl Fn(&AuthSession) -> bool + Send + Sync + 'static) -> Self {
        Self::new(Rule::Test(Arc::new(f)))
    }

    /// `raise_exception`: answer 403 to anonymous users too, instead of redirecting them.
    pub fn with_raise_exception(mut self, raise: bool) -> Self {
        self.raise_exception = raise;
        self
    }

    /// A login URL for this guard (default: the configured `LOGIN_URL`).
    pub fn with_login_url(mut self, url: impl Into<String>) -> Self {
        self.login_url = Some(url.into());
        self
    }

    /// The query field carrying the return URL (default `next`; `None` adds no field).
    pub fn with_redirect_field_name(mut self, name: Option<&str>) -> Self {
        self.redirect_field_name = name.map(str::to_owned);
        self
    }

    /// A custom response instead of the configured 403 page ([`Pages::forbidden`](crate::Pages::forbidden);
    /// Django's `handle_no_permission`), given who was refused and why.
    pub fn with_no_permission(
        mut self,
        handler: impl Fn(&Denial) -> Response + Send + Sync + 'static,
    ) -> Self {
        self.no_permission = Some(Arc::new(handler));
        self
    }

    /// The denial message shown on the 403 page (`permission_denied_message`).
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// The permission names this guard checks (validated when the router is built).
    pub fn permissions(&self) -> &[String] {
        match &self.rule {
            Rule::AllPerms(p) | Rule::AnyPerm(p) => p,
            _ => &[],
        }
    }

    /// The group names this guard checks (they become trusted names when the router is built).
    pub fn groups(&self) -> &[String] {
        match &self.rule {
            Rule::AnyGroup(g) => g,
            _ => &[],
        }
    }

    async fn passes(&self, auth: &AuthSession) -> Result<bool, Error> {
        if let Some(untrusted) = self
            .groups()
            .iter()
            .find(|g| !auth.shared.is_trusted_group(g))
        {
            // Fail closed: the admin could let anyone rename a group into this name.
            return Err(Error::Config(format!(
                "a group guard names {untrusted:?}, which is not a trusted group name: build the \
                 guard with AuthLayer::require or AuthLayer::check, or add the name with \
                 AuthConfig::with_trusted_groups"
            )));
        }
        let principal = auth.principal();
        Ok(match &self.rule {
            Rule::Login => principal.identity().is_authenticated(),
            Rule::AllPerms(p) => principal.has_perms(p),
            Rule::AnyPerm(p) => p.iter().any(|x| principal.has_perm(x)),
            Rule::AnyGroup(names) => match auth.user() {
                Some(u) if u.is_active && u.is_superuser => true,
                Some(u) if u.is_active => {
                    let shared = &auth.shared;
                    let groups = shared
                        .users
                        .user_groups(&u)
                        .await
                        .map_err(|e| Error::backend(e, shared.config.retry_after))?;
                    groups.iter().any(|g| names.contains(g))
                }
                _ => false,
            },
            Rule::Test(f) => f(auth),
        })
    }

    /// Runs the guard for a request: `Ok` when it passes, else the Django-style refusal.
    pub async fn check(&self, auth: &AuthSession, parts: &Parts) -> Result<(), Denied> {
        match self.passes(auth).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(self.handle_no_permission(auth, parts).await),
            Err(e) => Err(Denied::Error(e)),
        }
    }

    /// The answer when the requirement is not met: login for an anonymous user, 403 otherwise
    /// (object guards decide elsewhere and answer through here).
    pub(crate) async fn refuse(&self, auth: &AuthSession, parts: &Parts) -> Denied {
        self.handle_no_permission(auth, parts).await
    }

    /// Why this guard refuses `auth`.
    fn denial(&self, auth: &AuthSession, principal: &Principal) -> Denial {
        let mut denial = Denial::new(auth.clone());
        denial.message.clone_from(&self.message);
        match &self.rule {
            Rule::AllPerms(perms) | Rule::AnyPerm(perms) => {
                denial.missing = perms
                    .iter()
                    .filter(|p| !principal.has_perm(p))
                    .cloned()
                    .collect();
            }
            Rule::AnyGroup(groups) => denial.groups.clone_from(groups),
            Rule::Login | Rule::Test(_) => {}
        }
        denial
    }

    async fn handle_no_permission(&self, auth: &AuthSession, parts: &Parts) -> Denied {
        let principal = auth.principal();
        let config = &auth.shared.config;
        if self.raise_exception || principal.identity().is_authenticated() {
            let denial = self.denial(auth, &principal);
            return Denied::Forbidden(match &self.no_permission {
                Some(handler) => handler(&denial),
                None => config.pages.forbidden(denial).await,
            });
        }
        let login_url = self.login_url.as_deref().unwrap_or(&config.login_url);
        let scheme = if config.https { "https" } else { "http" };
        let host = crate::hosts::host(parts);
        // The URI before `Router::nest` stripped its prefix.
        let uri = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or(&parts.uri, |o| &o.0);
        let path_and_query = uri
            .path_and_query()
            .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned());
        let next = next_for_request(login_url, scheme, &host, &path_and_query);
        Denied::Login(login_redirect_url(
            &next,
            login_url,
            self.redirect_field_name.as_deref(),
        ))
    }
}

/// The route layer made by [`AuthLayer::require`](crate::AuthLayer::require).
#[derive(Clone, Debug)]
pub struct RequireLayer {
    require: Arc<Require>,
}

impl RequireLayer {
    pub(crate) fn new(require: Require) -> Self {
        Self {
            require: Arc::new(require),
        }
    }
}

impl<S> Layer<S> for RequireLayer {
    type Service = RequireService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireService {
            inner,
            require: Arc::clone(&self.require),
        }
    }
}

/// The service of a [`RequireLayer`].
#[derive(Clone, Debug)]
pub struct RequireService<S> {
    inner: S,
    require: Arc<Require>,
}

impl<S> Service<Request<Body>> for RequireService<S>
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
        let require = Arc::clone(&self.require);
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let Some(auth) = parts.extensions.get::<AuthSession>().cloned() else {
                return Ok(MissingAuthLayer.into_response());
            };
            if let Err(denied) = require.check(&auth, &parts).await {
                return Ok(denied.into_response());
            }
            inner.call(Request::from_parts(parts, body)).await
        })
    }
}

/// A guard usable as an extractor type: `Authorized<CanEditBooks>`.
pub trait Guard: Send + Sync + 'static {
    /// The requirement.
    fn require() -> Require;
}

/// Extractor: the request passes `G`'s requirement; holds the principal. Validate `G`'s permission
/// names at start-up with [`AuthLayer::check`](crate::AuthLayer::check)`(route, &G::require())`.
pub struct Authorized<G: Guard>(pub Principal, PhantomData<G>);

impl<G: Guard> std::fmt::Debug for Authorized<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Authorized").field(&self.0).finish()
    }
}

impl<G: Guard, S: Send + Sync> FromRequestParts<S> for Authorized<G> {
    type Rejection = Denied;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let auth = parts
            .extensions
            .get::<AuthSession>()
            .cloned()
            .ok_or(Denied::MissingLayer(MissingAuthLayer))?;
        G::require().check(&auth, parts).await?;
        Ok(Self(auth.principal(), PhantomData))
    }
}

/// Extractor: a logged-in user (else the login redirect), as `login_required`.
#[derive(Debug, Clone)]
pub struct LoggedIn(pub User);

impl<S: Send + Sync> FromRequestParts<S> for LoggedIn {
    type Rejection = Denied;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let auth = parts
            .extensions
            .get::<AuthSession>()
            .cloned()
            .ok_or(Denied::MissingLayer(MissingAuthLayer))?;
        Require::login().check(&auth, parts).await?;
        match auth.user() {
            Some(user) => Ok(Self(user)),
            None => {
                let denial = Denial::new(auth.clone());
                Err(Denied::Forbidden(
                    auth.shared.config.pages.forbidden(denial).await,
                ))
            }
        }
    }
}
