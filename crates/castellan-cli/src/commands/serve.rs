//! `castellan serve`: the admin UI at `/admin/` and the login/logout views at `/accounts/`, whose
//! login, password-change and 403 pages are the admin's ([`AdminPages`]).

use axum::Router;
use castellan_admin::{Admin, AdminPages};
use castellan_axum::{AuthConfig, AuthLayer};
use castellan_store::{Error, Store};

use crate::args::Serve;
use crate::Outcome;

/// The key `--insecure-dev-key` uses: public, so sessions signed with it can be forged.
const DEV_KEY: &str = "django-insecure-castellan-serve-development-key-do-not-use";

/// The secret key: `CASTELLAN_SECRET_KEY`, else the development key when allowed, else an error.
pub(crate) fn secret_key(env: Option<String>, insecure_dev_key: bool) -> Result<String, Error> {
    match env.filter(|k| !k.is_empty()) {
        Some(key) => Ok(key),
        None if insecure_dev_key => {
            eprintln!("warning: using the public development secret key (--insecure-dev-key); never do this in production");
            Ok(DEV_KEY.to_owned())
        }
        None => Err(Error::Refused(
            "no secret key: set CASTELLAN_SECRET_KEY (the Django project's SECRET_KEY to share its sessions), \
             or pass --insecure-dev-key for local development"
                .into(),
        )),
    }
}

/// Builds the application: `/admin/…` and `/accounts/…` behind the auth layer.
pub(crate) async fn app(store: &Store, key: String) -> Result<Router, Error> {
    let config = AuthConfig::new(key).with_pages(AdminPages::new().with_admin_url("/admin/"));
    let auth = AuthLayer::new(store.clone(), config)
        .await
        .map_err(|e| Error::Refused(format!("cannot start the web layer: {e}")))?;
    Ok(Router::new()
        .merge(Admin::new(store.clone()).router_at("/admin"))
        .nest("/accounts", castellan_axum::router())
        .layer(auth))
}

/// Runs the server until Ctrl-C.
pub(crate) async fn run(store: &Store, args: Serve) -> Result<Outcome, Error> {
    let key = secret_key(
        std::env::var("CASTELLAN_SECRET_KEY").ok(),
        args.insecure_dev_key,
    )?;
    let app = app(store, key).await?;
    let listener = tokio::net::TcpListener::bind(&args.bind)
        .await
        .map_err(|e| {
            Error::Refused(format!(
                "cannot listen on {}: {e}; choose another --bind address",
                args.bind
            ))
        })?;
    eprintln!(
        "castellan admin: http://{}/admin/ (Ctrl-C to stop)",
        args.bind
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| Error::Refused(format!("the server stopped: {e}")))?;
    Ok(Outcome::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_key_is_required_unless_insecure_dev_key() {
        assert!(secret_key(None, false).is_err());
        assert!(secret_key(Some(String::new()), false).is_err());
        assert_eq!(
            secret_key(Some("k".into()), false).ok().as_deref(),
            Some("k")
        );
        assert_eq!(secret_key(None, true).ok().as_deref(), Some(DEV_KEY));
    }
}
