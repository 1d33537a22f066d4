//! The smallest Castellan application, to read first: Django's login views, one page that shows
//! what the logged-in user may do through the template's `perms`, and one route guarded by a
//! permission. Users, groups and sessions are Django's own tables in an SQLite file (point
//! `DATABASE_URL` at a Django project's database instead, with its `SECRET_KEY`).

use std::sync::Arc;

use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use castellan_axum::{AuthConfig, AuthLayer, AuthSession, Require, Store};
use castellan_core::Registry;
use castellan_store::NewUser;
use minijinja::Environment;

/// The home page: `user`, `perms` and `csrf_token` come from Castellan's template context.
const HOME: &str = r#"<!doctype html>
<title>Castellan, minimal</title>
{% if user.is_authenticated %}
  <p>Hello {{ user }}.</p>
  <form method="post" action="/accounts/logout/">{{ csrf_token }}<button>Log out</button></form>
{% else %}
  <p><a href="/accounts/login/?next=/">Log in</a> as alice, password "correct horse battery staple".</p>
{% endif %}
{% if perms.auth.view_user %}<p><a href="/users/">See who has an account</a></p>
{% else %}<p>You may not view users.</p>{% endif %}
"#;

/// Creates Django's tables (if missing) and the demo user `alice`, who may view users.
pub async fn setup(store: &Store) -> anyhow::Result<()> {
    store.migrate(&Registry::django()).await?;
    if store.user("alice").await?.is_none() {
        let mut alice = NewUser::new("alice");
        alice.password = Some("correct horse battery staple".into());
        store.create_user(alice).await?;
        store
            .grant_user("alice", &["auth.view_user".into()])
            .await?;
    }
    Ok(())
}

/// The application: `/` for everyone, `/users/` for holders of `auth.view_user`, Django's login
/// and logout under `/accounts/`, all behind Castellan's [`AuthLayer`].
pub async fn app(store: Store, secret_key: &[u8]) -> anyhow::Result<Router> {
    let config = AuthConfig::new(secret_key).with_login_redirect_url("/");
    let auth = AuthLayer::new(store.clone(), config).await?;
    let mut templates = Environment::new();
    castellan_templates::install(&mut templates);
    templates.add_template("home.html", HOME)?;
    let users = Router::new()
        .route("/users/", get(users))
        // Checked now: a misspelt permission stops start-up, naming the closest real one.
        .route_layer(auth.require("/users/", Require::perm("auth.view_user"))?);
    Ok(Router::new()
        .route("/", get(home))
        .merge(users)
        .nest("/accounts", castellan_axum::router())
        .with_state((store, Arc::new(templates)))
        .layer(auth))
}

type AppState = (Store, Arc<Environment<'static>>);

async fn home(State((_, templates)): State<AppState>, auth: AuthSession) -> Response {
    let groups = match auth.user() {
        Some(u) => match auth.users().user_groups(&u).await {
            Ok(groups) => groups,
            Err(e) => return auth.backend_error(e).into_response(),
        },
        None => Vec::new(),
    };
    let ctx = castellan_templates::auth_context(&auth.principal(), groups, Some(auth.csrf_token()));
    match templates
        .get_template("home.html")
        .and_then(|t| t.render(ctx))
    {
        Ok(html) => Html(html).into_response(),
        Err(e) => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn users(State((store, _)): State<AppState>, auth: AuthSession) -> Response {
    match store.users().await {
        Ok(users) => {
            let names: Vec<String> = users.into_iter().map(|u| u.username).collect();
            names.join("\n").into_response()
        }
        Err(e) => auth.backend_error(e.into()).into_response(),
    }
}
