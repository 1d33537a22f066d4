//! # Bookshelf
//!
//! The guide's library and content-management application, end to end on Castellan: books that
//! are published, featured, archived, made premium, borrowed and returned; articles that move from
//! draft through review to published; every action guarded by Django-style permissions held
//! through the guide's groups (the layout in `bookshelf.toml`, applied at start-up with `sync`).
//!
//! It uses only Castellan's public API: `castellan-store` (schema, sync, users), `castellan-axum`
//! (sessions, login/logout, guards, CSRF) and `castellan-templates` (`user`, `perms`,
//! `csrf_token`, `has_group` in minijinja templates) and `castellan-admin` (the admin UI at `/admin/`,
//! with `Book` and `Article` registered as model admins, see [`admin`]). Its own tables (`bookshelf_book`,
//! `bookshelf_article`, `bookshelf_borrow`) live in the same database as the auth tables.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let app = bookshelf::Bookshelf::connect("sqlite://bookshelf.sqlite3", Default::default()).await?;
//! app.setup().await?;
//! let router = app.router(b"a long random secret key".to_vec()).await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//! axum::serve(listener, router).await?;
//! # Ok(()) }
//! ```

pub mod access;
pub mod admin;
pub mod articles;
pub mod books;
pub mod cli;
pub mod db;
pub mod demo;
pub mod logging;
pub mod setup;
mod user_sql;
pub mod web;

use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use castellan_axum::{AuthConfig, AuthLayer};
use castellan_store::{Store, StoreOptions};

use crate::db::Db;
use crate::web::render::{self, Templates};
use crate::web::AppState;

/// The application: Castellan's store and the application's own tables, on one database and one pool.
#[derive(Debug, Clone)]
pub struct Bookshelf {
    /// Castellan's store (auth tables, sessions).
    pub store: Store,
    /// The Bookshelf tables.
    pub db: Db,
}

impl Bookshelf {
    /// Opens the database at `url`: one pool, shared by the store and the Bookshelf tables.
    pub async fn connect(url: &str, options: StoreOptions) -> anyhow::Result<Self> {
        let store = Store::connect_with(url, options)
            .await
            .with_context(|| format!("cannot open the database {url}"))?;
        let db = Db::new(store.db().clone(), store.user_schema());
        Ok(Self { store, db })
    }

    /// Migrates the auth schema, applies the permission layout and creates the Bookshelf tables.
    pub async fn setup(&self) -> anyhow::Result<()> {
        setup::setup(&self.store, &self.db).await
    }

    /// Creates the demo users and content (see [`demo::seed`]).
    pub async fn seed_demo(
        &self,
        password: Option<&str>,
    ) -> anyhow::Result<Vec<(String, demo::DemoPassword)>> {
        demo::seed(&self.store, &self.db, password).await
    }

    /// The auth settings the application uses: Django's defaults, with both redirects to the book list.
    pub fn auth_config(secret_key: Vec<u8>, templates: Arc<Templates>) -> AuthConfig {
        AuthConfig::new(secret_key)
            .with_login_redirect_url("/books/")
            .with_logout_redirect_url("/books/")
            .with_pages(render::pages(templates))
    }

    /// The complete router: the application's routes behind Castellan's [`AuthLayer`]. Call after
    /// [`Bookshelf::setup`]: every guard's permission is checked against the database now.
    pub async fn router(&self, secret_key: Vec<u8>) -> anyhow::Result<Router> {
        let templates = Arc::new(render::templates().context("a built-in template is invalid")?);
        let config = Self::auth_config(secret_key, Arc::clone(&templates));
        self.router_with(config, templates).await
    }

    /// As [`Bookshelf::router`] with a custom [`AuthConfig`] (e.g. `with_https(true)` behind TLS).
    pub async fn router_with(
        &self,
        config: AuthConfig,
        templates: Arc<Templates>,
    ) -> anyhow::Result<Router> {
        let auth = AuthLayer::new(self.store.clone(), config)
            .await
            .context("starting the auth layer failed")?;
        // Group names are rights: the policy's groups (sync binds permissions to them by name) and
        // the names templates test. The `/editor/` guard's "Editors" is trusted when it is built.
        auth.trust_groups(&setup::trusted_groups()?);
        let state = AppState::new(self.db.clone(), self.store.clone(), Arc::clone(&templates));
        let routes = web::routes(state, &auth).context("a route guard is invalid")?;
        let admin = castellan_admin::Admin::new(self.store.clone())
            .with_title("Bookshelf administration")
            .with_app_name("bookshelf", "Bookshelf")
            .with_site_url("/books/")
            .register(admin::BookAdmin::new(self.db.clone()))
            .register(admin::ArticleAdmin::new(
                self.db.clone(),
                self.store.clone(),
            ))
            .router_at("/admin");
        Ok(routes.merge(admin).layer(auth))
    }
}
