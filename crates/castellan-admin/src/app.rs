//! [`Admin`]: the configured admin site and the router it builds.

use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use castellan_store::Store;

use crate::model_admin::ModelAdmin;
use crate::render::Renderer;
use crate::views;

/// The admin site: a store, the application models registered with it, and its templates.
///
/// Build it once, register models, then call [`Admin::router`] and nest the router where the admin
/// lives (e.g. `/admin`), inside the application's `AuthLayer`.
pub struct Admin {
    store: Store,
    models: Vec<Arc<dyn ModelAdmin>>,
    title: String,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin")
            .field("title", &self.title)
            .field("models", &self.models.len())
            .finish_non_exhaustive()
    }
}

/// What every handler shares.
pub(crate) struct Site {
    pub(crate) store: Store,
    pub(crate) models: Vec<Arc<dyn ModelAdmin>>,
    pub(crate) title: String,
    pub(crate) renderer: Renderer,
}

impl Site {
    /// The registered model admin for `app`/`model`.
    pub(crate) fn model(&self, app: &str, model: &str) -> Option<&Arc<dyn ModelAdmin>> {
        self.models
            .iter()
            .find(|m| m.app_label() == app && m.model_name() == model)
    }
}

impl Admin {
    /// An admin site over `store` with no application models.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            models: Vec::new(),
            title: "Castellan administration".to_owned(),
        }
    }

    /// Sets the title shown in the header.
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Registers an application model: it gets list, add, change and delete pages at
    /// `/{app_label}/{model_name}/`. A model registered twice replaces the earlier one; the `auth`
    /// app label is reserved for the built-in pages and is ignored (with a warning).
    pub fn register(mut self, model: impl ModelAdmin) -> Self {
        if model.app_label() == "auth" {
            tracing::warn!(
                "castellan-admin: a ModelAdmin for auth.{} was ignored: the auth app is managed by the built-in pages",
                model.model_name()
            );
            return self;
        }
        self.models.retain(|m| {
            !(m.app_label() == model.app_label() && m.model_name() == model.model_name())
        });
        self.models.push(Arc::new(model));
        self
    }

    /// The admin router. Nest it (e.g. `.nest("/admin", admin.router())`) inside an `AuthLayer`.
    pub fn router<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        let site = Arc::new(Site {
            store: self.store,
            models: self.models,
            title: self.title,
            renderer: Renderer::new(),
        });
        Router::new()
            .route("/", get(views::index::index))
            .route("/admin.css", get(views::index::stylesheet))
            .route("/auth/user/", get(views::users::list))
            .route(
                "/auth/user/add/",
                get(views::users::add_form).post(views::users::add),
            )
            .route(
                "/auth/user/{username}/change/",
                get(views::users::change_form).post(views::users::change),
            )
            .route(
                "/auth/user/{username}/password/",
                get(views::users::password_form).post(views::users::password),
            )
            .route(
                "/auth/user/{username}/delete/",
                get(views::users::delete_form).post(views::users::delete),
            )
            .route("/auth/group/", get(views::groups::list))
            .route(
                "/auth/group/add/",
                get(views::groups::add_form).post(views::groups::add),
            )
            .route(
                "/auth/group/{name}/change/",
                get(views::groups::change_form).post(views::groups::change),
            )
            .route(
                "/auth/group/{name}/rename/",
                axum::routing::post(views::groups::rename),
            )
            .route(
                "/auth/group/{name}/delete/",
                get(views::groups::delete_form).post(views::groups::delete),
            )
            .route("/auth/permission/", get(views::permissions::list))
            .route(
                "/auth/permission/add/",
                get(views::permissions::add_form).post(views::permissions::add),
            )
            .route("/matrix/", get(views::reports::matrix))
            .route("/audit/", get(views::reports::audit))
            .route("/{app}/{model}/", get(views::models::list))
            .route(
                "/{app}/{model}/add/",
                get(views::models::add_form).post(views::models::add),
            )
            .route(
                "/{app}/{model}/{id}/change/",
                get(views::models::change_form).post(views::models::change),
            )
            .route(
                "/{app}/{model}/{id}/delete/",
                get(views::models::delete_form).post(views::models::delete),
            )
            .with_state(site)
    }
}
