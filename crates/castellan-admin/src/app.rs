//! [`Admin`]: the configured admin site and the router it builds.

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use castellan_store::Store;

use crate::defaults::{
    DEFAULT_LOGIN_URL, DEFAULT_LOGOUT_URL, DEFAULT_PASSWORD_CHANGE_URL, DEFAULT_TITLE,
};
use crate::model_admin::ModelAdmin;
use crate::render::Renderer;
use crate::site::Site;
use crate::views;

/// The admin site: a store, the application models registered with it, and its templates.
///
/// Build it once, register models, then call [`Admin::router`] and nest the router where the admin
/// lives (e.g. `/admin`), inside the application's `AuthLayer`.
pub struct Admin {
    store: Store,
    models: Vec<Arc<dyn ModelAdmin>>,
    title: String,
    login_url: String,
    logout_url: String,
    password_change_url: Option<String>,
    site_url: Option<String>,
    app_names: Vec<(String, String)>,
    renderer: Renderer,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin")
            .field("title", &self.title)
            .field("login_url", &self.login_url)
            .field("logout_url", &self.logout_url)
            .field("site_url", &self.site_url)
            .field("models", &self.models.len())
            .finish_non_exhaustive()
    }
}

impl Admin {
    /// An admin site over `store` with no application models.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            models: Vec::new(),
            title: DEFAULT_TITLE.to_owned(),
            login_url: DEFAULT_LOGIN_URL.to_owned(),
            logout_url: DEFAULT_LOGOUT_URL.to_owned(),
            password_change_url: Some(DEFAULT_PASSWORD_CHANGE_URL.to_owned()),
            site_url: None,
            app_names: Vec::new(),
            renderer: Renderer::defaults().clone(),
        }
    }

    /// Takes templates from `loader` before the embedded `castellan/admin/…` ones: an
    /// application replaces one of the admin's pages by serving a template of the same name
    /// (e.g. `castellan/admin/index.html`, or `castellan/admin/base.html` for every page), the way
    /// a Django project overrides `admin/…` templates. A replacement gets the same variables as
    /// the embedded template (read it for the names).
    ///
    /// ```no_run
    /// # async fn demo(store: castellan_store::Store) {
    /// let admin = castellan_admin::Admin::new(store)
    ///     .with_template_loader(minijinja::path_loader("templates"));
    /// # let _ = admin; }
    /// ```
    pub fn with_template_loader<F, R>(mut self, loader: F) -> Self
    where
        F: Fn(&str) -> Result<Option<R>, minijinja::Error> + Send + Sync + 'static,
        R: Into<minijinja::TemplateSource>,
    {
        self.renderer = Renderer::with_loader(loader);
        self
    }

    /// Adds a "View site" link to the header (Django's `AdminSite.site_url`; default none).
    pub fn with_site_url(mut self, url: impl Into<String>) -> Self {
        self.site_url = Some(url.into());
        self
    }

    /// Sets the heading of an app's section on the index (Django's `AppConfig.verbose_name`), e.g.
    /// `.with_app_name("bookshelf", "Bookshelf")`. Without it an app is headed by its label with
    /// its words capitalised, and `auth` by "Authentication and Authorization".
    pub fn with_app_name(mut self, label: impl Into<String>, name: impl Into<String>) -> Self {
        let label = label.into();
        self.app_names.retain(|(l, _)| *l != label);
        self.app_names.push((label, name.into()));
        self
    }

    /// Sets the login page anonymous visitors are redirected to, with `?next=` (default Django's
    /// `/accounts/login/`; may be absolute or carry a query string, as `LOGIN_URL`).
    pub fn with_login_url(mut self, url: impl Into<String>) -> Self {
        self.login_url = url.into();
        self
    }

    /// Sets where the header's "Log out" form posts (default Django's `/accounts/logout/`).
    pub fn with_logout_url(mut self, url: impl Into<String>) -> Self {
        self.logout_url = url.into();
        self
    }

    /// Sets the header's "Change password" link (default Django's `/accounts/password_change/`,
    /// castellan-axum's password-change page under `.nest("/accounts", castellan_axum::router())`);
    /// `None` hides it (an application without that page).
    pub fn with_password_change_url(mut self, url: Option<String>) -> Self {
        self.password_change_url = url;
        self
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

    /// The admin router for nesting: `.nest("/admin", admin.router())` (the index is then at
    /// `/admin`; axum 0.8 does not route `/admin/` into a nested router). Install `AuthLayer`
    /// around the outer router.
    pub fn router<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        self.router_at("")
    }

    /// The admin router with its routes under `prefix` (e.g. `/admin`), to `.merge` into the
    /// application: Django's URLs, with the index at `/admin/` (and `/admin` redirecting to it).
    pub fn router_at<S: Clone + Send + Sync + 'static>(self, prefix: &str) -> Router<S> {
        let prefix = prefix.trim_end_matches('/').to_owned();
        let site = Arc::new(Site {
            store: self.store,
            models: self.models,
            title: self.title,
            login_url: self.login_url,
            logout_url: self.logout_url,
            password_change_url: self.password_change_url,
            site_url: self.site_url,
            app_names: self.app_names,
            renderer: self.renderer,
            prefix: prefix.clone(),
        });
        let p = |path: &str| format!("{prefix}{path}");
        let mut router = Router::new().route(&p("/"), get(views::index::index));
        if !prefix.is_empty() {
            let to = p("/");
            router = router.route(
                &prefix,
                get(move || async move { crate::respond::redirect(&to) }),
            );
        }
        router
            .route(&p("/admin.css"), get(views::index::stylesheet))
            .route(
                &p("/auth/user/"),
                get(views::users::list).post(views::user_actions::run),
            )
            .route(
                &p("/auth/user/add/"),
                get(views::users::add_form).post(views::users::add),
            )
            .route(
                &p("/auth/user/{username}/change/"),
                get(views::users::change_form).post(views::users::change),
            )
            .route(
                &p("/auth/user/{username}/password/"),
                get(views::users::password_form).post(views::users::password),
            )
            .route(
                &p("/auth/user/{username}/history/"),
                get(views::history::user),
            )
            .route(
                &p("/auth/user/{username}/password-reset/"),
                post(views::users::send_password_reset),
            )
            .route(
                &p("/auth/user/{username}/delete/"),
                get(views::users::delete_form).post(views::users::delete),
            )
            .route(&p("/auth/group/"), get(views::groups::list))
            .route(
                &p("/auth/group/add/"),
                get(views::groups::add_form).post(views::groups::add),
            )
            .route(
                &p("/auth/group/{name}/change/"),
                get(views::groups::change_form).post(views::groups::change),
            )
            .route(
                &p("/auth/group/{name}/rename/"),
                axum::routing::post(views::groups::rename),
            )
            .route(
                &p("/auth/group/{name}/members/"),
                axum::routing::post(views::groups::members),
            )
            .route(
                &p("/auth/group/{name}/history/"),
                get(views::history::group),
            )
            .route(
                &p("/auth/group/{name}/delete/"),
                get(views::groups::delete_form).post(views::groups::delete),
            )
            .route(&p("/auth/permission/"), get(views::permissions::list))
            .route(
                &p("/auth/permission/add/"),
                get(views::permissions::add_form).post(views::permissions::add),
            )
            .route(&p("/matrix/"), get(views::reports::matrix))
            .route(&p("/audit/"), get(views::reports::audit))
            .route(
                &p("/{app}/{model}/"),
                get(views::models::list).post(views::models::action),
            )
            .route(
                &p("/{app}/{model}/add/"),
                get(views::models::add_form).post(views::models::add),
            )
            .route(
                &p("/{app}/{model}/{id}/change/"),
                get(views::models::change_form).post(views::models::change),
            )
            .route(
                &p("/{app}/{model}/{id}/history/"),
                get(views::history::model_object),
            )
            .route(
                &p("/{app}/{model}/{id}/permissions/"),
                get(views::object_perms::form).post(views::object_perms::change),
            )
            .route(
                &p("/{app}/{model}/{id}/delete/"),
                get(views::models::delete_form).post(views::models::delete),
            )
            .with_state(site)
    }
}
