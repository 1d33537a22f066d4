//! Object guards: an extractor that loads the object a route names by a path parameter and checks
//! a permission **on that object**, as django-guardian's `PermissionRequiredMixin` does for a
//! detail view: the object is loaded first (404 when there is none), then an anonymous user is sent
//! to log in and an authenticated one without the permission gets 403.
//!
//! The application says how to load its objects and how to decide ([`GuardedObject`]) — with
//! guardian's grants (`Store::check_object_perms`), rules (`castellan_core::rules`), or both —
//! and which permissions a route needs ([`ObjectGuard`]):
//!
//! ```no_run
//! use castellan_axum::{AuthSession, Error, GuardedObject, ObjectAuthorized, ObjectGuard};
//!
//! #[derive(Clone)]
//! struct AppState;
//! struct Book { id: i64, title: String }
//!
//! impl GuardedObject<AppState> for Book {
//!     const PATH_PARAM: &'static str = "id";
//!     async fn load(_state: &AppState, key: &str) -> Result<Option<Self>, Error> {
//!         Ok(key.parse().ok().map(|id| Book { id, title: "…".into() }))
//!     }
//!     async fn allows(&self, _state: &AppState, auth: &AuthSession, perm: &str) -> Result<bool, Error> {
//!         Ok(auth.principal().identity().is_active_superuser())
//!     }
//! }
//!
//! struct EditBook;
//! impl ObjectGuard for EditBook {
//!     type Object = Book;
//!     const PERMS: &'static [&'static str] = &["bookshelf.change_book"];
//! }
//!
//! async fn edit(guarded: ObjectAuthorized<EditBook, AppState>) -> String {
//!     guarded.object.title
//! }
//! ```

use std::marker::PhantomData;

use axum::extract::{FromRequestParts, OriginalUri, RawPathParams};
use castellan_core::Principal;
use http::request::Parts;

use crate::error::Error;
use crate::pages::NotFound;
use crate::rejection::{Denied, MissingAuthLayer};
use crate::require::Require;
use crate::session::AuthSession;

/// An application object that object guards load and check.
pub trait GuardedObject<S>: Sized + Send + Sync + 'static {
    /// The route's path parameter holding the object's key (`"id"` for `/books/{id}/edit/`).
    const PATH_PARAM: &'static str;

    /// The object with this key, or `None` (the guard answers 404).
    fn load(
        state: &S,
        key: &str,
    ) -> impl std::future::Future<Output = Result<Option<Self>, Error>> + Send;

    /// Whether the request's user holds `perm` on this object.
    fn allows(
        &self,
        state: &S,
        auth: &AuthSession,
        perm: &str,
    ) -> impl std::future::Future<Output = Result<bool, Error>> + Send;
}

/// What a route needs on its object.
pub trait ObjectGuard: Send + Sync + 'static {
    /// The object the route names.
    type Object;
    /// The permissions (all of them, or any one with [`ObjectGuard::ANY`]).
    const PERMS: &'static [&'static str];
    /// Any one of [`ObjectGuard::PERMS`] is enough.
    const ANY: bool = false;
}

/// Extractor: the route's object, loaded and checked with `G`.
pub struct ObjectAuthorized<G: ObjectGuard, S> {
    /// The object.
    pub object: G::Object,
    /// Who asked.
    pub principal: Principal,
    guard: PhantomData<fn() -> (G, S)>,
}

impl<G: ObjectGuard, S> std::fmt::Debug for ObjectAuthorized<G, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectAuthorized")
            .field("principal", &self.principal)
            .finish_non_exhaustive()
    }
}

impl<G, S> FromRequestParts<S> for ObjectAuthorized<G, S>
where
    G: ObjectGuard,
    G::Object: GuardedObject<S>,
    S: Send + Sync,
{
    type Rejection = Denied;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = parts
            .extensions
            .get::<AuthSession>()
            .cloned()
            .ok_or(Denied::MissingLayer(MissingAuthLayer))?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| Denied::Error(Error::Config(format!("object guard: {e}"))))?;
        let key = params
            .iter()
            .find(|(name, _)| *name == <G::Object as GuardedObject<S>>::PATH_PARAM)
            .map(|(_, value)| value.to_owned());
        let object = match key {
            Some(key) => <G::Object as GuardedObject<S>>::load(state, &key)
                .await
                .map_err(Denied::Error)?,
            None => {
                return Err(Denied::Error(Error::Config(format!(
                    "object guard: the route has no path parameter {:?}",
                    <G::Object as GuardedObject<S>>::PATH_PARAM
                ))))
            }
        };
        let Some(object) = object else {
            let path = parts
                .extensions
                .get::<OriginalUri>()
                .map_or_else(|| parts.uri.path().to_owned(), |u| u.0.path().to_owned());
            let page = auth
                .shared
                .config
                .pages
                .not_found(NotFound {
                    session: auth.clone(),
                    path,
                })
                .await;
            return Err(Denied::NotFound(page));
        };
        // Django's PermissionRequiredMixin refuses an empty permission list (ImproperlyConfigured)
        // rather than letting everyone in.
        if G::PERMS.is_empty() {
            return Err(Denied::Error(Error::Config(
                "object guard: the guard names no permission".into(),
            )));
        }
        let mut allowed = !G::ANY;
        for perm in G::PERMS {
            let holds = object
                .allows(state, &auth, perm)
                .await
                .map_err(Denied::Error)?;
            if holds == G::ANY {
                allowed = G::ANY;
                break;
            }
        }
        if !allowed {
            let require = Require::test(|_| false)
                .with_message("You do not have permission to do that with this object.");
            return Err(require.refuse(&auth, parts).await);
        }
        Ok(Self {
            object,
            principal: auth.principal(),
            guard: PhantomData,
        })
    }
}
