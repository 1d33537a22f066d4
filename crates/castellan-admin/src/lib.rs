//! # castellan-admin
//!
//! Django's admin for users, groups and permissions — rebuilt so that it **cannot be used to
//! escalate privileges** — as an axum [`Router`](axum::Router) any application mounts behind
//! `castellan-axum`'s [`AuthLayer`](castellan_axum::AuthLayer). It sits on top of the chain:
//! `castellan-core` ← `castellan-store` ← `castellan-axum` ← `castellan-admin`.
//!
//! ```no_run
//! use axum::Router;
//! use castellan_axum::{AuthConfig, AuthLayer};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let store = castellan_store::Store::connect("sqlite://castellan.sqlite3").await?;
//! let auth = AuthLayer::new(store.clone(), AuthConfig::new("a long random secret")).await?;
//! let app: Router = Router::new()
//!     // Django's URLs: the index at /admin/ (or `.nest("/admin", admin.router())`: index at /admin).
//!     .merge(castellan_admin::Admin::new(store).router_at("/admin"))
//!     .nest("/accounts", castellan_axum::router())
//!     .layer(auth);
//! # let _ = app; Ok(()) }
//! ```
//!
//! ## Pages
//!
//! | path (under the mount point) | needs |
//! |---|---|
//! | `/` | active staff; lists only the apps in which the user has some permission |
//! | `/auth/user/` (search, filters, sorting, keyset pages; POST: bulk actions), `/auth/user/add/`, `/auth/user/{name}/change/`, `…/password/`, `…/delete/` | `view_user` or `change_user`; `add_user` + `change_user`; `change_user`; `delete_user` |
//! | `/auth/group/`, `/auth/group/add/`, `/auth/group/{name}/change/` (picker + confirm step), `…/rename/`, `…/delete/` | the `*_group` permissions, as above |
//! | `/auth/group/{name}/members/` (POST: add / remove members) | `change_user`, and the user page's rules for every member touched |
//! | `/auth/permission/`, `/auth/permission/add/` | `view_permission` or `change_permission`; `add_permission` |
//! | `/matrix/` | `view_group` or `change_group` |
//! | `/audit/` (filters, pages) | active superuser |
//! | `/auth/user/{name}/history/`, `/auth/group/{name}/history/`, `/{app}/{model}/{id}/history/` | what the object's change page needs to be seen |
//! | `/{app}/{model}/` (pages `?p=`, search `?q=` over [`ModelAdmin::search_fields`]), `…/add/`, `…/{id}/change/`, `…/{id}/delete/` | a registered [`ModelAdmin`]'s `has_*_permission` hooks |
//!
//! ## Rules beyond Django (see `/work/shared/spec/security.md` §3)
//!
//! * Only active staff reach any page; every page and every POST re-checks its permission.
//! * A non-superuser can grant only permissions they hold, can add a user only to groups whose
//!   permissions they hold, cannot change `is_staff` / `is_superuser`, cannot change their own
//!   flags, groups or permissions, and cannot change (or set the password of, or delete) a user
//!   who is a superuser or holds a permission they do not. The checks run on the submitted data;
//!   an unknown form field is a 400 and nothing is written.
//! * At least one active superuser always remains (checked inside the writing transaction).
//! * Edits quote the version of the state they were made on; a stale version is refused (409) with
//!   the current state.
//! * Every change is written to the audit trail with the admin user as actor — application models
//!   too (`admin.add` / `admin.change` / `admin.delete`, object type `app.model`, the object id,
//!   its label and values: all on add and delete, the changed ones on change, as Django's
//!   `LogEntry`). A model's own storage is outside the store's transaction, so that entry is
//!   written just after the model's write; a failure to write it is logged, not shown.
//! * A [`ModelAdmin`]'s writes get the acting user ([`AdminRequest`]), for the application's own
//!   custom-permission checks and fields such as an author.
//! * Permission checkboxes a non-superuser cannot grant are disabled with a note; a group's
//!   permission they lack stays removable, as the server allows.
//! * Anonymous visitors go to [`Admin::with_login_url`] (default Django's `/accounts/login/`)
//!   with `next`; the header's logout form posts to [`Admin::with_logout_url`] (default
//!   `/accounts/logout/`).
//!
//! ## Look
//!
//! [`Admin::with_title`] names the site, [`Admin::with_app_name`] heads an app's section
//! ("Authentication and Authorization" for `auth`), [`Admin::with_site_url`] adds a "View site"
//! link. [`AdminPages`] gives castellan-axum's login, password-change, 403 and 404 pages the
//! admin's look (`AuthConfig::with_pages`); `castellan serve` uses it.
//!
//! Every page is a template named `castellan/admin/…` (HTML auto-escaped), embedded at build time:
//! [`Admin::with_template_loader`] and [`AdminPages::with_template_loader`] put an application's
//! own templates in front, so serving `castellan/admin/base.html` (say) restyles every page, as
//! overriding `admin/base_site.html` does in Django. [`matrix_document`] renders the permission
//! matrix as a standalone page with the table the admin's matrix page shows (`castellan matrix
//! --format html` prints it).

mod access;
mod app;
mod crumbs;
mod defaults;
mod error;
mod forms;
mod grants;
mod history;
mod links;
mod matrix;
mod model_admin;
mod pages;
mod render;
mod respond;
mod saving;
mod site;
mod sql_list;
mod style;
mod times;
mod views;

pub use app::Admin;
pub use defaults::{DEFAULT_LOGIN_URL, DEFAULT_LOGOUT_URL, DEFAULT_PASSWORD_CHANGE_URL};
pub use error::AdminError;
pub use matrix::matrix_document;
pub use model_admin::{
    AdminRequest, BoxFuture, Field, FieldKind, ListFilter, ListPage, ListQuery, ModelAdmin,
    ModelError, Object, Values,
};
pub use pages::AdminPages;
pub use render::{admin_template, ADMIN_PREFIX};
pub use sql_list::SqlList;

/// Guides: longer walk-throughs than the API documentation.
pub mod guide {
    #[doc = include_str!("docs/admin.md")]
    pub mod admin {}
}
